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
//!
//! What a SIGKILLed run leaves (its children die with it, its folders and
//! containers do not) carries the run's identity, [`run_mark`]: containers
//! and networks in a label, temporary folders in their name
//! ([`temp_dir`]). A later run removes those whose run is over
//! ([`run_is_over`]): [`sweep_stale_dirs`] here, the Docker sweep there.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::sync::OnceLock;

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

/// A child that leads its own process group (a forked agent): its whole
/// group SIGKILLed in a sweep.
pub fn process_group(pid: u32) -> Token {
    register(Stage::Stop, move || unsafe {
        libc::kill(-(pid as i32), libc::SIGKILL);
    })
}

/// A temporary folder (an agent's `HOME` with its wallet): deleted in a sweep.
pub fn dir(path: PathBuf) -> Token {
    register(Stage::Delete, move || {
        let _ = std::fs::remove_dir_all(path);
    })
}

/// Temporary folders of every run start with this; the run's mark and the
/// folder's kind follow: `acapy-harness.4242-917345.tenants-Xa81q`.
const DIR_PREFIX: &str = "acapy-harness.";

/// This run's identity: `PID-START`, the process id and its start time
/// (clock ticks since boot, from `/proc/self/stat`), so that a run whose
/// PID was reused by another process still counts as over.
pub fn run_mark() -> &'static str {
    static MARK: OnceLock<String> = OnceLock::new();
    MARK.get_or_init(|| {
        let pid = std::process::id();
        format!("{pid}-{}", start_time(pid).unwrap_or(0))
    })
}

/// When process `pid` started, in clock ticks since boot (field 22 of
/// `/proc/PID/stat`, read after the command name, which may hold spaces).
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    // Field 3 (state) is the first after the name; 22 is 19 further.
    after_name.split_whitespace().nth(19)?.parse().ok()
}

/// Whether the run marked `mark` (`PID-START`) is over: not this one, and
/// its process is gone or is another process with the same PID. A mark
/// that does not parse can only come from a broken run: over too.
pub fn run_is_over(mark: &str) -> bool {
    if mark == run_mark() {
        return false;
    }
    let Some((pid, start)) = mark.split_once('-') else {
        return true;
    };
    let (Ok(pid), Ok(start)) = (pid.parse::<u32>(), start.parse::<u64>()) else {
        return true;
    };
    start_time(pid) != Some(start)
}

/// A temporary folder of kind `kind` (`tenants`, `files`, a role) named
/// with this run's mark, registered for the sweep; a later run removes it
/// if this one is killed before it can.
pub fn temp_dir(kind: &str) -> std::io::Result<(tempfile::TempDir, Token)> {
    let folder = tempfile::Builder::new()
        .prefix(&format!("{DIR_PREFIX}{}.{kind}-", run_mark()))
        .tempdir()?;
    let token = dir(folder.path().to_path_buf());
    Ok((folder, token))
}

/// Removes, from the system's temporary folder, the folders of runs that
/// are over; says each one and returns how many.
pub fn sweep_stale_dirs(notices: &super::Notices) -> usize {
    sweep_stale_dirs_in(&std::env::temp_dir(), notices)
}

fn sweep_stale_dirs_in(folder: &Path, notices: &super::Notices) -> usize {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(mark) = name
            .to_str()
            .and_then(|n| n.strip_prefix(DIR_PREFIX))
            .and_then(|rest| rest.split_once('.'))
            .map(|(mark, _)| mark.to_owned())
        else {
            continue;
        };
        if run_is_over(&mark) && std::fs::remove_dir_all(entry.path()).is_ok() {
            notices.say(format!(
                "removed folder {} left by run {mark}",
                entry.path().display()
            ));
            removed += 1;
        }
    }
    removed
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

    #[test]
    fn a_run_is_over_when_its_process_is_gone_or_is_another_one() {
        let mine = run_mark();
        assert!(mine.starts_with(&format!("{}-", std::process::id())));
        assert!(!run_is_over(mine));
        // PID 1 lives, but did not start at tick 1: another run's PID reused.
        assert!(run_is_over("1-1"));
        let init = format!("1-{}", start_time(1).unwrap());
        assert!(!run_is_over(&init));
        assert!(run_is_over(&format!("{}-5", u32::MAX)));
        assert!(run_is_over("garbage"));
    }

    #[test]
    fn the_sweep_removes_folders_of_runs_that_are_over_and_keeps_the_rest() {
        let scratch = tempfile::tempdir().unwrap();
        let at = |name: &str| {
            let path = scratch.path().join(name);
            std::fs::create_dir(&path).unwrap();
            std::fs::write(path.join("wallet.db"), b"x").unwrap();
            path
        };
        let gone = at(&format!("{DIR_PREFIX}{}-7.tenants-abc", u32::MAX));
        let reused = at(&format!("{DIR_PREFIX}1-1.files-abc"));
        let live = at(&format!("{DIR_PREFIX}{}.issuer-abc", run_mark()));
        let not_ours = at("acapy-harness-tenants-old");
        let notices = super::super::Notices::silent();
        assert_eq!(sweep_stale_dirs_in(scratch.path(), &notices), 2);
        assert!(!gone.exists() && !reused.exists());
        assert!(live.exists() && not_ours.exists());
    }
}
