//! What providers have to say that is not an error: an install's progress,
//! a choice made for the user (`auto` picked Docker), a scenario that runs
//! on dedicated agents, what a sweep removed. Providers never print: they
//! hand a [`Notice`] to the [`Notices`] they were given, and whoever made
//! that (the session) decides where it goes: the console, the reports.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

/// One thing worth telling the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Said once per run: a later notice with the same key is dropped.
    pub once: Option<String>,
    pub text: String,
}

impl Notice {
    pub fn new(text: impl Into<String>) -> Notice {
        Notice {
            once: None,
            text: text.into(),
        }
    }

    /// A notice said at most once per run for `key`.
    pub fn once(key: impl Into<String>, text: impl Into<String>) -> Notice {
        Notice {
            once: Some(key.into()),
            text: text.into(),
        }
    }
}

type Sink = Arc<dyn Fn(Notice) + Send + Sync>;

/// Where notices go. Cloning shares the destination and the record of
/// what was already said once.
#[derive(Clone)]
pub struct Notices {
    sink: Sink,
    said: Arc<Mutex<BTreeSet<String>>>,
}

impl Notices {
    pub fn new(sink: impl Fn(Notice) + Send + Sync + 'static) -> Notices {
        Notices {
            sink: Arc::new(sink),
            said: Arc::default(),
        }
    }

    /// Notices dropped: for tests and commands that have nobody to tell.
    pub fn silent() -> Notices {
        Notices::new(|_| {})
    }

    pub fn tell(&self, notice: Notice) {
        if let Some(key) = &notice.once {
            let first = self
                .said
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(key.clone());
            if !first {
                return;
            }
        }
        (self.sink)(notice);
    }

    /// A plain notice.
    pub fn say(&self, text: impl Into<String>) {
        self.tell(Notice::new(text));
    }
}

/// Straight to stderr, each as `acapy-harness: TEXT`: for library users
/// who build providers themselves.
impl Default for Notices {
    fn default() -> Notices {
        Notices::new(|notice| eprintln!("acapy-harness: {}", notice.text))
    }
}

impl std::fmt::Debug for Notices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Notices")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_with_a_key_is_said_once_by_every_clone() {
        let heard = Arc::new(Mutex::new(Vec::new()));
        let notices = {
            let heard = heard.clone();
            Notices::new(move |n| heard.lock().unwrap().push(n.text))
        };
        let clone = notices.clone();
        notices.tell(Notice::once("dedicated:x", "x runs on dedicated agents"));
        clone.tell(Notice::once("dedicated:x", "x runs on dedicated agents"));
        clone.say("prepared");
        clone.say("prepared");
        assert_eq!(
            *heard.lock().unwrap(),
            ["x runs on dedicated agents", "prepared", "prepared"]
        );
    }
}
