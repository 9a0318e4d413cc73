//! Stopping a run from outside: a value handed to the session, cancelled by
//! whoever owns it (the signal handler on Ctrl-C, the console when its
//! output closes). The session stops taking cases and ends the running
//! ones; nothing else in the harness holds interrupt state.

use std::sync::Arc;

/// Why a run was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelReason {
    /// Ctrl-C or SIGTERM.
    Signal,
    /// Nobody reads the run's output any more (`run ... | head`).
    OutputClosed,
}

/// A run's cancellation: clones share it.
#[derive(Clone)]
pub struct Cancel(Arc<tokio::sync::watch::Sender<Option<CancelReason>>>);

impl Default for Cancel {
    fn default() -> Cancel {
        Cancel(Arc::new(tokio::sync::watch::channel(None).0))
    }
}

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Cancels the run; the first reason given stays.
    pub fn cancel(&self, reason: CancelReason) {
        self.0.send_if_modified(|current| {
            let first = current.is_none();
            if first {
                *current = Some(reason);
            }
            first
        });
    }

    pub fn reason(&self) -> Option<CancelReason> {
        *self.0.borrow()
    }

    pub fn is_cancelled(&self) -> bool {
        self.reason().is_some()
    }

    /// Resolves once the run is cancelled (at once if it already is).
    pub async fn cancelled(&self) {
        let mut receiver = self.0.subscribe();
        // The sender lives as long as `self`: this cannot fail.
        let _ = receiver.wait_for(Option::is_some).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_cancel_wakes_every_clone_and_keeps_its_first_reason() {
        let cancel = Cancel::new();
        let waiter = {
            let cancel = cancel.clone();
            tokio::spawn(async move { cancel.cancelled().await })
        };
        assert!(!cancel.is_cancelled());
        cancel.clone().cancel(CancelReason::OutputClosed);
        cancel.cancel(CancelReason::Signal);
        waiter.await.unwrap();
        assert_eq!(cancel.reason(), Some(CancelReason::OutputClosed));
    }
}
