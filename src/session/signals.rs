//! Ctrl-C and SIGTERM. A run that wants to finish its own work first
//! (`run` ends its cases and writes its reports) lets the first signal
//! cancel it ([`Interrupts::defer`]); a second signal, or the first one
//! when nothing deferred it, removes everything still registered for
//! clean-up ([`crate::agents::cleanup::sweep`]) and exits 130 at once.

use super::cancel::{Cancel, CancelReason};
use crate::agents::cleanup;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Once};

/// The process's signal handling, tied to one run's [`Cancel`].
#[derive(Clone)]
pub struct Interrupts {
    deferring: Arc<AtomicBool>,
    /// What the first signal does, said when it comes.
    deferred: Arc<std::sync::Mutex<&'static str>>,
}

impl Interrupts {
    /// Handles SIGINT and SIGTERM from now on (once per process: a second
    /// call returns a handler that never fires).
    pub fn install(cancel: Cancel) -> Interrupts {
        static ONCE: Once = Once::new();
        let interrupts = Interrupts {
            deferring: Arc::default(),
            deferred: Arc::new(std::sync::Mutex::new("")),
        };
        let handler = interrupts.clone();
        ONCE.call_once(move || {
            std::thread::Builder::new()
                .name("acapy-harness-signals".into())
                .spawn(move || handler.listen(cancel))
                .expect("the signal thread starts");
        });
        interrupts
    }

    /// From now on the first signal only cancels the run, which then
    /// does `what` (said on stderr).
    pub fn defer(&self, what: &'static str) {
        *self.deferred.lock().unwrap_or_else(|e| e.into_inner()) = what;
        self.deferring.store(true, Ordering::SeqCst);
    }

    fn listen(&self, cancel: Cancel) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("signal runtime");
        runtime.block_on(async {
            use tokio::signal::unix::{signal, SignalKind};
            let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
            let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
            let mut first = true;
            loop {
                tokio::select! {
                    _ = int.recv() => {},
                    _ = term.recv() => {},
                }
                if !(first && self.deferring.load(Ordering::SeqCst)) {
                    break;
                }
                first = false;
                cancel.cancel(CancelReason::Signal);
                let what = *self.deferred.lock().unwrap_or_else(|e| e.into_inner());
                eprintln!("\ninterrupted: {what} (interrupt again to stop at once)");
            }
        });
        cancel.cancel(CancelReason::Signal);
        eprintln!("\ninterrupted: stopping agents and removing their wallets");
        cleanup::sweep();
        std::process::exit(130);
    }
}
