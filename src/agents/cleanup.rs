//! Nothing leaks: every process, temporary wallet folder and container the
//! harness starts is registered here until it is stopped. A normal run stops
//! them itself; on Ctrl-C or SIGTERM the handler stops what is left and exits
//! 130. Children also get PDEATHSIG so even a SIGKILLed harness takes them down.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, Once};

/// The label put on every container and network, with the run id as value,
/// so a later run can find what a killed run left.
pub const RUN_LABEL: &str = "acapy-harness.run";

#[derive(Debug)]
enum Resource {
    Process(u32),
    Dir(PathBuf),
    Container(String),
    Network(String),
}

static NEXT: AtomicU64 = AtomicU64::new(1);
static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// Held for a whole sweep, so `main` returning cannot cut the signal
/// handler's sweep short.
static SWEEPING: Mutex<()> = Mutex::new(());
static LIVE: Mutex<Option<HashMap<u64, Resource>>> = Mutex::new(None);

/// A registered resource; dropping the token unregisters it (the owner has
/// cleaned it up by then).
#[derive(Debug)]
pub struct Token(u64);

impl Drop for Token {
    fn drop(&mut self) {
        if let Some(map) = LIVE.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            map.remove(&self.0);
        }
    }
}

fn register(resource: Resource) -> Token {
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    LIVE.lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_or_insert_with(HashMap::new)
        .insert(id, resource);
    Token(id)
}

pub fn process(pid: u32) -> Token {
    register(Resource::Process(pid))
}
pub fn dir(path: PathBuf) -> Token {
    register(Resource::Dir(path))
}
pub fn container(id: String) -> Token {
    register(Resource::Container(id))
}
pub fn network(id: String) -> Token {
    register(Resource::Network(id))
}

/// Kills and removes everything still registered. Blocking; for the signal
/// handler and for the end of `main`.
pub fn sweep() {
    let _sweeping = SWEEPING.lock().unwrap_or_else(|e| e.into_inner());
    let live = LIVE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
        .unwrap_or_default();
    let mut resources: Vec<Resource> = live.into_values().collect();
    // Processes and containers first, then what they were using.
    resources.sort_by_key(|r| match r {
        Resource::Process(_) | Resource::Container(_) => 0,
        Resource::Network(_) => 1,
        Resource::Dir(_) => 2,
    });
    for r in resources {
        match r {
            Resource::Process(pid) => unsafe {
                libc::kill(pid as i32, libc::SIGKILL);
            },
            Resource::Container(id) => {
                let _ = std::process::Command::new("docker")
                    .args(["rm", "-f", "-v", &id])
                    .output();
            }
            Resource::Network(id) => {
                let _ = std::process::Command::new("docker")
                    .args(["network", "rm", &id])
                    .output();
            }
            Resource::Dir(path) => {
                let _ = std::fs::remove_dir_all(path);
            }
        }
    }
}

/// Whether Ctrl-C or SIGTERM arrived: the exit code is then 130, whatever
/// the cases that were cut short reported.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
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
                    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
                    tokio::select! {
                        _ = tokio::signal::ctrl_c() => {},
                        _ = term.recv() => {},
                    }
                });
                INTERRUPTED.store(true, Ordering::SeqCst);
                eprintln!("\ninterrupted: stopping agents and removing their wallets");
                sweep();
                std::process::exit(130);
            })
            .expect("signal thread");
    });
}
