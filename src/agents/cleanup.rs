//! Nothing leaks: whatever a provider starts or creates (a process, a
//! temporary wallet folder, a container, a network) is registered here, as
//! the action that removes it, until its owner has removed it. A normal run
//! removes things itself; on Ctrl-C or SIGTERM the handler runs every action
//! still registered and exits 130. Children also get PDEATHSIG so even a
//! SIGKILLed harness takes them down ([`super::spawn`] forks them from a
//! thread that lives as long as the harness, so that is the only death
//! they follow).
//!
//! The signal handler ([`crate::session::signals`]) sweeps on Ctrl-C; the
//! end of `main` sweeps what a normal run left registered.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

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
