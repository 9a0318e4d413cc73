//! Nothing leaks: whatever a provider starts or creates (a process, a
//! temporary wallet folder, a container, a network) is registered here, as
//! the action that removes it, until its owner has removed it. A normal run
//! removes things itself; on Ctrl-C or SIGTERM the handler runs every action
//! still registered and exits 130. Children also get PDEATHSIG so even a
//! SIGKILLed harness takes them down ([`super::spawn`] forks them from a
//! thread that lives as long as the harness, so that is the only death
//! they follow).
//!
//! A command that wants to finish its own work first (`run` writes its
//! reports) calls [`defer_interrupts`]: the first signal then only sets the
//! flag its [`interrupt_requested`] waits on, and a second signal sweeps and
//! exits at once, as before.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, Once, OnceLock};

/// The label put on every container and network, with the run id as value,
/// so a later run can find what a killed run left.
pub const RUN_LABEL: &str = "acapy-harness.run";

/// When a removal runs in a sweep: what runs is stopped first, then what
/// connected it, then what it wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// Processes, containers.
    Stop,
    /// Networks.
    Disconnect,
    /// Folders.
    Delete,
}

/// A blocking removal, run outside any async runtime (on the signal thread
/// or at the end of `main`).
type Action = Box<dyn FnOnce() + Send>;

static NEXT: AtomicU64 = AtomicU64::new(1);
static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// Whether the first signal is left to the command ([`defer_interrupts`]).
static DEFERRED: AtomicBool = AtomicBool::new(false);
/// Whether the interruption came from stdout closing rather than a signal.
static OUTPUT_CLOSED: AtomicBool = AtomicBool::new(false);
/// Held for a whole sweep, so `main` returning cannot cut the signal
/// handler's sweep short.
static SWEEPING: Mutex<()> = Mutex::new(());
static LIVE: Mutex<Option<HashMap<u64, (Stage, Action)>>> = Mutex::new(None);

/// A registered removal; dropping the token unregisters it (the owner has
/// cleaned up by then). `std::mem::forget` keeps it registered for the sweep.
#[derive(Debug)]
pub struct Token(u64);

impl Drop for Token {
    fn drop(&mut self) {
        if let Some(map) = LIVE.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            map.remove(&self.0);
        }
    }
}

/// Registers `action` to run in a sweep unless the token is dropped first.
pub fn register(stage: Stage, action: impl FnOnce() + Send + 'static) -> Token {
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    LIVE.lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_or_insert_with(HashMap::new)
        .insert(id, (stage, Box::new(action)));
    Token(id)
}

/// A child process: SIGKILLed in a sweep.
pub fn process(pid: u32) -> Token {
    register(Stage::Stop, move || unsafe {
        libc::kill(pid as i32, libc::SIGKILL);
    })
}

/// A temporary folder (an agent's `HOME` with its wallet): deleted in a sweep.
pub fn dir(path: PathBuf) -> Token {
    register(Stage::Delete, move || {
        let _ = std::fs::remove_dir_all(path);
    })
}

/// Runs every removal still registered, stage by stage. Blocking; for the
/// signal handler and for the end of `main`.
pub fn sweep() {
    let _sweeping = SWEEPING.lock().unwrap_or_else(|e| e.into_inner());
    let live = LIVE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
        .unwrap_or_default();
    let mut actions: Vec<(Stage, Action)> = live.into_values().collect();
    actions.sort_by_key(|(stage, _)| *stage);
    for (_, action) in actions {
        action();
    }
}

/// Whether Ctrl-C or SIGTERM arrived: the exit code is then 130, whatever
/// the cases that were cut short reported.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Whether the run was cut short because its standard output closed (a
/// reader such as `head` went away) rather than by a signal.
pub fn output_closed() -> bool {
    OUTPUT_CLOSED.load(Ordering::SeqCst)
}

/// From now on the first Ctrl-C or SIGTERM only marks the run as
/// interrupted (see [`interrupt_requested`]); the command stops its cases,
/// writes what it must and returns, and `main` sweeps. A second signal still
/// sweeps and exits 130 at once.
pub fn defer_interrupts() {
    DEFERRED.store(true, Ordering::SeqCst);
}

/// Whether [`defer_interrupts`] was called.
pub fn deferring_interrupts() -> bool {
    DEFERRED.load(Ordering::SeqCst)
}

/// Asks the run to stop as a first signal would, without a message: its
/// standard output closed, so nobody reads it any more.
pub fn interrupt_output_closed() {
    OUTPUT_CLOSED.store(true, Ordering::SeqCst);
    mark_interrupted();
}

fn interrupt_channel() -> &'static tokio::sync::watch::Sender<bool> {
    static CHANNEL: OnceLock<tokio::sync::watch::Sender<bool>> = OnceLock::new();
    CHANNEL.get_or_init(|| tokio::sync::watch::channel(false).0)
}

fn mark_interrupted() {
    INTERRUPTED.store(true, Ordering::SeqCst);
    interrupt_channel().send_replace(true);
}

/// Resolves once the run was interrupted (at once if it already was).
pub async fn interrupt_requested() {
    let mut receiver = interrupt_channel().subscribe();
    // The sender lives in a static: it is never dropped, so this cannot fail.
    let _ = receiver.wait_for(|interrupted| *interrupted).await;
}

/// Installs the Ctrl-C / SIGTERM handler once per process.
pub fn install_signal_handler() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::thread::Builder::new()
            .name("acapy-harness-signals".into())
            .spawn(|| {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("signal runtime");
                rt.block_on(async {
                    use tokio::signal::unix::{signal, SignalKind};
                    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
                    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
                    let mut first = true;
                    loop {
                        tokio::select! {
                            _ = int.recv() => {},
                            _ = term.recv() => {},
                        }
                        if !(first && DEFERRED.load(Ordering::SeqCst)) {
                            break;
                        }
                        first = false;
                        mark_interrupted();
                        eprintln!(
                            "\ninterrupted: ending the running cases and writing the reports \
                             (interrupt again to stop at once)"
                        );
                    }
                });
                mark_interrupted();
                eprintln!("\ninterrupted: stopping agents and removing their wallets");
                sweep();
                std::process::exit(130);
            })
            .expect("signal thread");
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_sweep_runs_what_is_still_registered_stage_by_stage() {
        let order = Arc::new(Mutex::new(Vec::new()));
        let note = |what: &'static str| {
            let order = order.clone();
            move || order.lock().unwrap().push(what)
        };
        let _folder = register(Stage::Delete, note("folder"));
        let _network = register(Stage::Disconnect, note("network"));
        let _process = register(Stage::Stop, note("process"));
        let removed_already = register(Stage::Stop, note("removed by its owner"));
        drop(removed_already);
        sweep();
        let seen = order.lock().unwrap().clone();
        // Other tests in this binary may register too: look at ours only.
        let ours: Vec<&str> = seen
            .into_iter()
            .filter(|w| ["folder", "network", "process", "removed by its owner"].contains(w))
            .collect();
        assert_eq!(ours, ["process", "network", "folder"]);
    }
}
