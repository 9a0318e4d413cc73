//! Checking a `wait`: where it looks (events or polling), what it waits for,
//! and for how long.

use super::Checker;
use crate::diagnostic::Diagnostic;
use crate::scenario::model::*;
use crate::scenario::raw::*;
use crate::scenario::template::Template;
use serde_saphyr::Spanned;
use std::time::Duration;

const DEFAULT_WAIT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(20);

impl Checker {
    pub(super) fn wait(&mut self, raw: Spanned<RawWait>) -> (Wait, String) {
        let loc = self.loc(&raw.referenced);
        let raw = raw.value;
        let (source, name) = match (&raw.event, &raw.get) {
            (Some(topic), None) => (
                WaitSource::Event {
                    topic: topic.value.clone(),
                },
                format!("wait for a `{}` event", topic.value),
            ),
            (None, Some(path)) => (
                WaitSource::Poll {
                    path: self
                        .string_template(path)
                        .unwrap_or(Template::Literal(serde_json::Value::Null)),
                },
                format!("poll GET {}", path.value),
            ),
            (Some(_), Some(get)) => {
                let l = self.loc(&get.referenced);
                self.error(
                    Diagnostic::at(&l, "a wait has either `event` or `get`, not both")
                        .label("second source"),
                );
                (
                    WaitSource::Event {
                        topic: String::new(),
                    },
                    String::new(),
                )
            }
            (None, None) => {
                self.error(
                    Diagnostic::at(&loc, "a wait needs `event: TOPIC` or `get: PATH`")
                        .note("help: `event` listens on the agent's /ws stream; `get` polls an admin path"),
                );
                (
                    WaitSource::Event {
                        topic: String::new(),
                    },
                    String::new(),
                )
            }
        };
        let until = raw
            .until
            .map(|m| self.assertions(m, false).1)
            .unwrap_or_default();
        if until.is_empty() {
            self.error(
                Diagnostic::at(&loc, "a wait needs `until`: what must hold to stop waiting")
                    .note("help: e.g. `until: { $.state: done }`"),
            );
        }
        let wait = Wait {
            source,
            filter: raw
                .where_
                .map(|m| self.assertions(m, false).1)
                .unwrap_or_default(),
            until,
            fail_if: raw
                .fail_if
                .map(|m| self.assertions(m, false).1)
                .unwrap_or_default(),
            timeout: raw
                .timeout
                .and_then(|t| self.duration(&t))
                .unwrap_or(DEFAULT_WAIT_TIMEOUT),
            interval: raw
                .interval
                .and_then(|t| self.duration(&t))
                .unwrap_or(DEFAULT_POLL_INTERVAL),
        };
        (wait, name)
    }
}
