//! `--agent-start preloaded`: one Python interpreter per ACA-Py version that
//! has imported ACA-Py's start command and the modules a plain start loads,
//! and forks an agent per request ([`preload/preloader.py`], run by the
//! version's venv interpreter). Python's imports (1.3–1.5 s of a plain
//! start) are paid once per run instead of once per agent.
//!
//! Each fork gets what `aca-py start` would: the same argv and environment
//! (secrets in `ACAPY_*` variables, never argv), stdout and stderr to its
//! log, its own session and process group, no descriptor of the preloader,
//! a clean signal mask. Dying with the harness holds as for plain agents:
//! the preloader has PDEATHSIG from the harness's spawner thread
//! ([`super::spawn`]), and each agent PDEATHSIG from the preloader. The
//! preloader reaps its agents and reports their wait status, so the harness
//! says how an agent ended in the same words for both ways of starting.
//!
//! The protocol is one JSON object a line, requests on the preloader's
//! stdin, replies on its stdout; it is described in `preloader.py`.
//!
//! `acapy-harness preload serve` keeps preloaders beyond one run: each
//! listens on a Unix socket in its venv ([`socket_path`]), and a run that
//! finds one connects to it ([`Preloader::connect`]) instead of paying the
//! imports again. The agents it forks for a run are killed when that run's
//! connection closes, so a run that ends or is SIGKILLed leaves none.

use super::cleanup;
use super::version::Release;
use serde::Deserialize;
use std::collections::HashMap;
use std::io::{BufRead, Read, Write};
use std::os::unix::net::UnixStream;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{oneshot, watch};

/// The Python side, written to the preloader's folder and run from there
/// (not with `-c`: `ps` would show all of it, and `-c` puts the working
/// folder first on `sys.path`).
const PRELOADER: &str = include_str!("preload/preloader.py");

/// How agents of the process provider are started: `--agent-start`.
#[derive(
    clap::ValueEnum,
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum AgentStart {
    /// Forked from one interpreter per version that imported ACA-Py once
    /// (about 0.4 s an agent); plain `aca-py start` if it cannot start.
    #[default]
    Preloaded,
    /// `aca-py start`, a new interpreter for every agent.
    Plain,
}

impl AgentStart {
    pub fn parse(text: &str) -> Option<AgentStart> {
        <AgentStart as clap::ValueEnum>::from_str(text, true).ok()
    }

    pub fn name(self) -> &'static str {
        match self {
            AgentStart::Preloaded => "preloaded",
            AgentStart::Plain => "plain",
        }
    }
}

/// Environment variables ACA-Py reads when a module is imported, not when
/// it starts: an agent given one of them starts plain, since the
/// preloader imported its modules without it.
pub const READ_AT_IMPORT: &[&str] = &[
    "ACAPY_COMMAND_NAME",
    "MAX_ACTIVE_EVENT_BUS_TASKS",
    "EXCH_UNENCRYPTED_TAGS",
];

/// Why there is no preloader to fork from.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PreloadError {
    #[error("cannot start {python}: {message}")]
    Spawn { python: PathBuf, message: String },
    #[error("its imports failed: {0}")]
    Imports(String),
    #[error("it did not say it was ready within {0:?}")]
    Timeout(Duration),
    #[error("it ended before it was ready{0}")]
    Ended(String),
    #[error("the preloader served at {} {why}", socket.display())]
    Served { socket: PathBuf, why: String },
}

/// Why one fork did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ForkError {
    #[error("the preloader is gone")]
    Gone,
    #[error("the preloader did not fork: {0}")]
    Refused(String),
    #[error("cannot write to the preloader: {0}")]
    Write(#[from] std::io::Error),
}

/// How a forked agent ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// Its wait status, as the preloader reaped it.
    Exited(ExitStatus),
    /// The preloader ended first, and PDEATHSIG took the agent with it.
    PreloaderGone,
}

impl std::fmt::Display for Ended {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ended::Exited(status) => write!(f, "exited ({status})"),
            Ended::PreloaderGone => f.write_str("ended with its preloader"),
        }
    }
}

/// What the preloader says on its stdout.
#[derive(Deserialize)]
#[serde(untagged)]
enum Reply {
    Ready {
        ready: u32,
        seconds: f64,
        #[serde(default)]
        not_imported: Vec<String>,
        /// A served preloader's script (sha1) and interpreter.
        #[serde(default)]
        script: Option<String>,
        #[serde(default)]
        python: Option<PathBuf>,
    },
    Failed {
        failed: String,
    },
    Forked {
        forked: u64,
        #[serde(default)]
        pid: Option<u32>,
        #[serde(default)]
        error: Option<String>,
    },
    Exited {
        exited: u32,
        status: i32,
    },
}

/// What a preloader says when it is ready.
struct Greeting {
    pid: u32,
    seconds: f64,
    not_imported: Vec<String>,
    script: Option<String>,
    python: Option<PathBuf>,
}

type ReadyResult = Result<Greeting, PreloadError>;

#[derive(Default)]
struct Waiting {
    forks: HashMap<u64, oneshot::Sender<Result<u32, String>>>,
    exits: HashMap<u32, watch::Sender<Option<Ended>>>,
    /// Exits reported before their fork's reply was read.
    early_exits: HashMap<u32, Ended>,
}

/// One preloader process: forks agents of one ACA-Py version.
pub struct Preloader {
    requests: Mutex<Box<dyn Write + Send>>,
    waiting: Arc<Mutex<Waiting>>,
    alive: Arc<AtomicBool>,
    next_id: AtomicU64,
    pid: u32,
    /// How long its imports took.
    pub import_seconds: f64,
    /// Modules of the version's list that did not import (a start of
    /// another kind loads them).
    pub not_imported: Vec<String>,
    log_path: PathBuf,
    origin: Origin,
}

/// Whose preloader it is.
enum Origin {
    /// This run's own child, gone with it (when this is dropped).
    Own(#[allow(dead_code)] Box<OwnProcess>),
    /// A `preload serve` preloader this run is connected to.
    Served { socket: PathBuf },
}

/// What goes when this run's own preloader goes.
struct OwnProcess {
    _process: tokio::process::Child,
    _pid_token: cleanup::Token,
    _home: tempfile::TempDir,
    _home_token: cleanup::Token,
}

/// A forked agent: its pid, and how it ended once it has.
#[derive(Clone)]
pub struct Forked {
    pub pid: u32,
    ended: watch::Receiver<Option<Ended>>,
}

impl Forked {
    pub fn ended(&self) -> Option<Ended> {
        self.ended.borrow().clone()
    }

    /// Waits until it has ended.
    pub async fn wait(&mut self) -> Ended {
        let waited = self
            .ended
            .wait_for(Option::is_some)
            .await
            .map(|ended| ended.clone());
        match waited {
            Ok(ended) => ended.expect("waited for some"),
            // The reader thread is gone with the preloader.
            Err(_) => self.ended().unwrap_or(Ended::PreloaderGone),
        }
    }
}

/// The ACA-Py package of a release: renamed in 1.1.
pub fn package(release: &Release) -> &'static str {
    match release.version.line() {
        (0, _) | (1, 0) => "aries_cloudagent",
        _ => "acapy_agent",
    }
}

/// The modules a plain start of `release` loads (collected with
/// `cargo test --test preload -- --ignored collect_module_lists`), or only
/// the start command's when the version has no list.
pub fn module_list(release: &Release) -> Vec<&'static str> {
    let list = match release.to_string().as_str() {
        "0.12.8" => include_str!("preload/modules/0.12.8.txt"),
        "1.3.6" => include_str!("preload/modules/1.3.6.txt"),
        "1.7.0" => include_str!("preload/modules/1.7.0.txt"),
        _ => "",
    };
    list.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

impl Preloader {
    /// Starts the preloader of `release` with `python` (the venv's) and
    /// waits until it has imported ACA-Py.
    pub async fn start(
        release: &Release,
        python: &Path,
        modules: &[&str],
        timeout: Duration,
    ) -> Result<Preloader, PreloadError> {
        Preloader::spawn(release, python, modules, timeout, None).await
    }

    /// Starts the preloader of `release` to serve runs on `socket` too
    /// (`preload serve`); it ends with this process.
    pub async fn serve(
        release: &Release,
        python: &Path,
        modules: &[&str],
        timeout: Duration,
        socket: &Path,
    ) -> Result<Preloader, PreloadError> {
        Preloader::spawn(release, python, modules, timeout, Some(socket)).await
    }

    async fn spawn(
        release: &Release,
        python: &Path,
        modules: &[&str],
        timeout: Duration,
        listen: Option<&Path>,
    ) -> Result<Preloader, PreloadError> {
        let spawn_error = |e: std::io::Error| PreloadError::Spawn {
            python: python.to_path_buf(),
            message: e.to_string(),
        };
        let (home, home_token) = cleanup::temp_dir("preloader").map_err(spawn_error)?;
        // A served preloader's log is beside its socket, where runs read it.
        let log_path = match listen {
            Some(socket) => socket.with_extension("log"),
            None => home.path().join("preloader.log"),
        };
        let log = std::fs::File::create(&log_path).map_err(spawn_error)?;
        let script = home.path().join("preloader.py");
        std::fs::write(&script, PRELOADER).map_err(spawn_error)?;
        let (requests_read, mut requests) = std::io::pipe().map_err(spawn_error)?;
        let (replies, replies_write) = std::io::pipe().map_err(spawn_error)?;
        let mut command = tokio::process::Command::new(python);
        command
            .arg(&script)
            .arg(package(release))
            .args(
                listen
                    .map(|socket| [Path::new("--listen"), socket])
                    .into_iter()
                    .flatten(),
            )
            .stdin(Stdio::from(requests_read))
            .stdout(Stdio::from(replies_write))
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .process_group(0);
        // Spawned from the spawner thread: PDEATHSIG, as every agent.
        let process = super::spawn::spawn(command).map_err(spawn_error)?;
        let pid = process.id().unwrap_or(0);
        let pid_token = cleanup::process(pid);
        // The module list goes first, on the request pipe: not in argv.
        let list = serde_json::json!({ "preload": modules }).to_string() + "\n";
        requests.write_all(list.as_bytes()).map_err(spawn_error)?;

        let origin = Origin::Own(Box::new(OwnProcess {
            _process: process,
            _pid_token: pid_token,
            _home: home,
            _home_token: home_token,
        }));
        let (preloader, greeting) = Preloader::greeted(
            release,
            Box::new(requests),
            replies,
            log_path,
            origin,
            timeout,
        )
        .await
        .map_err(spawn_error)?;
        let greeting = greeting?;
        debug_assert_eq!(greeting.pid, pid);
        Ok(preloader)
    }

    /// The preloader `preload serve` keeps for `python` (a venv's), if one
    /// listens: `Ok(None)` when none does.
    pub async fn connect(
        release: &Release,
        python: &Path,
        timeout: Duration,
    ) -> Result<Option<Preloader>, PreloadError> {
        let socket = socket_path(python);
        let served = |why: String| PreloadError::Served {
            socket: socket.clone(),
            why,
        };
        let stream = match UnixStream::connect(&socket) {
            Ok(stream) => stream,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                // Its `serve` was SIGKILLed: nobody listens any more.
                let _ = std::fs::remove_file(&socket);
                return Ok(None);
            }
            Err(_) => return Ok(None),
        };
        let replies = stream.try_clone().map_err(|e| served(e.to_string()))?;
        let origin = Origin::Served {
            socket: socket.clone(),
        };
        let log_path = socket.with_extension("log");
        let (preloader, greeting) = Preloader::greeted(
            release,
            Box::new(stream),
            replies,
            log_path,
            origin,
            timeout,
        )
        .await
        .map_err(|e| served(e.to_string()))?;
        let greeting = greeting.map_err(|e| served(e.to_string()))?;
        if greeting.script.as_deref() != Some(script_sha1().as_str()) {
            return Err(served(
                "runs another version of preloader.py (another build of acapy-harness serves it)"
                    .into(),
            ));
        }
        if greeting.python.as_deref() != Some(python) {
            return Err(served(format!(
                "runs {} instead of {}",
                greeting.python.unwrap_or_default().display(),
                python.display()
            )));
        }
        Ok(Some(preloader))
    }

    /// Reads the replies of `replies` on a thread of their own and waits
    /// for the greeting.
    async fn greeted(
        release: &Release,
        requests: Box<dyn Write + Send>,
        replies: impl Read + Send + 'static,
        log_path: PathBuf,
        origin: Origin,
        timeout: Duration,
    ) -> std::io::Result<(Preloader, ReadyResult)> {
        let waiting = Arc::new(Mutex::new(Waiting::default()));
        let alive = Arc::new(AtomicBool::new(true));
        let (ready_tx, ready_rx) = oneshot::channel::<ReadyResult>();
        {
            let (waiting, alive) = (waiting.clone(), alive.clone());
            std::thread::Builder::new()
                .name(format!("preloader-{release}"))
                .spawn(move || read_replies(replies, ready_tx, &waiting, &alive))?;
        }
        let greeting = match tokio::time::timeout(timeout, ready_rx).await {
            Ok(Ok(ready)) => ready,
            Ok(Err(_)) => Err(PreloadError::Ended(log_tail(&log_path))),
            Err(_) => Err(PreloadError::Timeout(timeout)),
        };
        let (pid, import_seconds, not_imported) = match &greeting {
            Ok(g) => (g.pid, g.seconds, g.not_imported.clone()),
            Err(_) => (0, 0.0, Vec::new()),
        };
        let preloader = Preloader {
            requests: Mutex::new(requests),
            waiting,
            alive,
            next_id: AtomicU64::new(1),
            pid,
            import_seconds,
            not_imported,
            log_path,
            origin,
        };
        Ok((preloader, greeting))
    }

    /// The socket of the `preload serve` preloader this run forks from,
    /// if it does.
    pub fn served_at(&self) -> Option<&Path> {
        match &self.origin {
            Origin::Served { socket } => Some(socket),
            Origin::Own(_) => None,
        }
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    pub fn is_alive(&self) -> bool {
        self.alive.load(Ordering::SeqCst)
    }

    /// The end of the preloader's own log (its stderr), for a message.
    pub fn log_tail(&self) -> String {
        log_tail(&self.log_path)
    }

    /// Forks an agent: `argv` (starting with the `aca-py` path), the whole
    /// environment it runs with, its working folder and its log.
    pub async fn fork(
        &self,
        argv: &[String],
        env: &[(String, String)],
        cwd: &Path,
        log: &Path,
    ) -> Result<Forked, ForkError> {
        self.fork_with(argv, env, cwd, log, None).await
    }

    /// [`Self::fork`], and the agent writes the names of every module it
    /// loaded to `modules_out` when it exits (for the module lists).
    pub async fn fork_with(
        &self,
        argv: &[String],
        env: &[(String, String)],
        cwd: &Path,
        log: &Path,
        modules_out: Option<&Path>,
    ) -> Result<Forked, ForkError> {
        if !self.is_alive() {
            return Err(ForkError::Gone);
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (reply, answer) = oneshot::channel();
        self.waiting
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .forks
            .insert(id, reply);
        let env: serde_json::Map<String, serde_json::Value> = env
            .iter()
            .map(|(k, v)| (k.clone(), v.clone().into()))
            .collect();
        let mut request = serde_json::json!({
            "fork": id,
            "argv": argv,
            "env": env,
            "cwd": cwd,
            "log": log,
        });
        if let Some(out) = modules_out {
            request["modules_out"] = out.to_string_lossy().into_owned().into();
        }
        self.send(&request)?;
        let pid = match answer.await {
            Ok(Ok(pid)) => pid,
            Ok(Err(why)) => return Err(ForkError::Refused(why)),
            Err(_) => return Err(ForkError::Gone),
        };
        let (tx, rx) = watch::channel(None);
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(ended) = waiting.early_exits.remove(&pid) {
            tx.send_replace(Some(ended));
        } else if !self.is_alive() {
            tx.send_replace(Some(Ended::PreloaderGone));
        } else {
            waiting.exits.insert(pid, tx);
        }
        Ok(Forked { pid, ended: rx })
    }

    /// Sends `signal` to the process group of a forked agent that has not
    /// been reaped yet (the preloader checks: its pid cannot have been
    /// reused).
    pub fn signal(&self, agent: &Forked, signal: i32) {
        if agent.ended().is_none() {
            let _ = self.send(&serde_json::json!({ "signal": agent.pid, "number": signal }));
        }
    }

    fn send(&self, request: &serde_json::Value) -> Result<(), ForkError> {
        let line = request.to_string() + "\n";
        let mut requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        requests.write_all(line.as_bytes()).map_err(|e| {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                ForkError::Gone
            } else {
                ForkError::Write(e)
            }
        })
    }
}

/// The reader thread: replies to forks, exits, and the preloader's end.
fn read_replies(
    replies: impl Read,
    ready: oneshot::Sender<ReadyResult>,
    waiting: &Mutex<Waiting>,
    alive: &AtomicBool,
) {
    let mut ready = Some(ready);
    for line in std::io::BufReader::new(replies).lines() {
        let Ok(line) = line else { break };
        let Ok(reply) = serde_json::from_str::<Reply>(&line) else {
            continue;
        };
        let mut waiting = waiting.lock().unwrap_or_else(|e| e.into_inner());
        match reply {
            Reply::Ready {
                ready: pid,
                seconds,
                not_imported,
                script,
                python,
            } => {
                if let Some(ready) = ready.take() {
                    let _ = ready.send(Ok(Greeting {
                        pid,
                        seconds,
                        not_imported,
                        script,
                        python,
                    }));
                }
            }
            Reply::Failed { failed } => {
                if let Some(ready) = ready.take() {
                    let _ = ready.send(Err(PreloadError::Imports(failed)));
                }
            }
            Reply::Forked { forked, pid, error } => {
                if let Some(reply) = waiting.forks.remove(&forked) {
                    let _ = reply.send(pid.ok_or_else(|| error.unwrap_or_default()));
                }
            }
            Reply::Exited { exited, status } => {
                let ended = Ended::Exited(ExitStatus::from_raw(status));
                match waiting.exits.remove(&exited) {
                    Some(tx) => {
                        tx.send_replace(Some(ended));
                    }
                    None => {
                        waiting.early_exits.insert(exited, ended);
                    }
                }
            }
        }
    }
    // The preloader is gone, and with it (PDEATHSIG) every agent it forked.
    alive.store(false, Ordering::SeqCst);
    let mut waiting = waiting.lock().unwrap_or_else(|e| e.into_inner());
    waiting.forks.clear();
    for (_, tx) in waiting.exits.drain() {
        tx.send_replace(Some(Ended::PreloaderGone));
    }
}

/// Where `preload serve` listens for the runs of the venv of `python`: in
/// the venv, which is what a served preloader is one of.
pub fn socket_path(python: &Path) -> PathBuf {
    let venv = python
        .parent()
        .and_then(Path::parent)
        .unwrap_or(Path::new("."));
    venv.join("preloader.sock")
}

/// The sha1 of `preloader.py` as this build embeds it: a served preloader
/// must run the same.
fn script_sha1() -> String {
    use sha1::{Digest, Sha1};
    Sha1::digest(PRELOADER.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let tail = super::log::tail(&text, 15);
    if tail.trim().is_empty() {
        String::new()
    } else {
        format!(":\n{tail}")
    }
}

impl std::fmt::Debug for Preloader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Preloader").field("pid", &self.pid).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_package_was_renamed_in_1_1() {
        let package_of = |v: &str| package(&Release::parse(v).unwrap());
        assert_eq!(package_of("0.12.8"), "aries_cloudagent");
        assert_eq!(package_of("1.0.1"), "aries_cloudagent");
        assert_eq!(package_of("1.3.6"), "acapy_agent");
    }

    #[test]
    fn replies_are_read_by_their_shape() {
        let forked: Reply = serde_json::from_str(r#"{"forked": 3, "pid": 42}"#).unwrap();
        assert!(matches!(
            forked,
            Reply::Forked {
                forked: 3,
                pid: Some(42),
                ..
            }
        ));
        let exited: Reply = serde_json::from_str(r#"{"exited": 42, "status": 256}"#).unwrap();
        let Reply::Exited { status, .. } = exited else {
            panic!("not an exit")
        };
        assert_eq!(
            Ended::Exited(ExitStatus::from_raw(status)).to_string(),
            "exited (exit status: 1)"
        );
    }
}
