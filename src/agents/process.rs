//! ACA-Py as local processes, from a cached venv ([`super::venv`]), each on
//! free 127.0.0.1 ports with a temporary `HOME` for its wallet.

use super::cleanup;
use super::launch::{self, generate_api_key, raw_wallet_key, Launch};
use super::log::{self, tail};
use super::preload::{self, AgentStart, Forked, Preloader};
use super::venv::Venv;
use super::version::Release;
use super::{
    ready_timeout, Agent, AgentHandle, AgentMode, AgentSpec, Notice, Notices, Provider,
    ProviderError, Reach, Scope,
};
use crate::admin::{wait_ready, AdminAuth, AdminEndpoint};
use async_trait::async_trait;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use tokio::process::{Child, Command};

pub struct ProcessProvider {
    release: Release,
    venv: Venv,
    agent_start: AgentStart,
    /// Started when the provider is prepared, or on first use; `None`
    /// when it could not start.
    preloader: Arc<tokio::sync::OnceCell<Option<Arc<Preloader>>>>,
}

impl ProcessProvider {
    pub fn new(release: Release) -> ProcessProvider {
        ProcessProvider {
            venv: Venv::new(release.clone()),
            release,
            // A run asks for preloaded agents (`--agent-start`); a
            // provider made by hand starts `aca-py start`, whose command
            // line `ps` shows.
            agent_start: AgentStart::Plain,
            preloader: Arc::default(),
        }
    }

    /// Starts agents `how` (`--agent-start`).
    pub fn with_agent_start(mut self, how: AgentStart) -> ProcessProvider {
        self.agent_start = how;
        self
    }

    pub fn venv(&self) -> &Venv {
        &self.venv
    }

    /// The preloader to fork agents from, started on first use; `None`
    /// with `--agent-start plain`, or when it cannot start or has died:
    /// agents then start plain, which is said once.
    pub async fn preloader(&self, notices: &Notices) -> Option<Arc<Preloader>> {
        if self.agent_start != AgentStart::Preloaded {
            return None;
        }
        let release = &self.release;
        let python = self.venv.path().join("bin/python");
        let preloader = self
            .preloader
            .get_or_init(|| start_preloader(release.clone(), python, notices.clone()))
            .await
            .clone()?;
        if preloader.is_alive() {
            return Some(preloader);
        }
        notices.tell(Notice::once(
            format!("preloader-died:{release}"),
            format!(
                "ACA-Py {release}: the preloader ended{}; its agents start plain (`aca-py start`) from now on",
                preloader.log_tail()
            ),
        ));
        None
    }

    /// Starts the preloader in the background, so that its imports
    /// overlap whatever the run does before its first agent.
    fn warm_up(&self, notices: &Notices) {
        if self.agent_start != AgentStart::Preloaded || self.preloader.initialized() {
            return;
        }
        let (cell, release, notices) = (
            self.preloader.clone(),
            self.release.clone(),
            notices.clone(),
        );
        let python = self.venv.path().join("bin/python");
        tokio::spawn(async move {
            cell.get_or_init(|| start_preloader(release, python, notices))
                .await;
        });
    }

    async fn start_one(&self, spec: &AgentSpec, scope: &Scope) -> anyhow::Result<Agent> {
        let case = scope.case.name.as_str();
        let starter = Starter {
            preloader: self.preloader(scope.notices()).await,
            notices: scope.notices().clone(),
            release: self.release.to_string(),
        };
        let mut last_error = None;
        // A free port can be taken between choosing and binding it; retry
        // then, with new ports and the same keys (a wallet in a database
        // service outlives the try that made it).
        let keys = (generate_api_key(), raw_wallet_key());
        for _ in 0..3 {
            let ports = (free_port()?, free_port()?);
            match self
                .try_start(spec, case, &keys, ports, starter.clone())
                .await
            {
                Ok(agent) => return Ok(agent),
                Err(StartError::PortTaken(e)) => last_error = Some(e),
                Err(StartError::Other(e)) => return Err(e),
            }
        }
        Err(last_error.expect("three tries"))
    }

    async fn try_start(
        &self,
        spec: &AgentSpec,
        case: &str,
        (api_key, wallet_key): &(String, String),
        (didcomm_port, admin_port): (u16, u16),
        starter: Starter,
    ) -> Result<Agent, StartError> {
        let (home, dir_token) =
            cleanup::temp_dir(&spec.role).map_err(|e| StartError::Other(e.into()))?;
        let endpoint = format!("http://127.0.0.1:{didcomm_port}");
        let launch = Launch {
            label: &spec.label,
            inbound: ("127.0.0.1", didcomm_port),
            endpoint: &endpoint,
            admin: ("127.0.0.1", admin_port),
            wallet_name: &format!("{}-{}", spec.role, sanitize(case)),
            api_key,
            wallet_key,
            extra: &spec.all_args(),
            extra_env: &spec.env,
        }
        .command();
        let mut handle = ProcessHandle {
            role: spec.role.clone(),
            program: self.venv.aca_py(),
            launch,
            log_path: home.path().join("agent.log"),
            admin: AdminEndpoint::new(
                &format!("http://127.0.0.1:{admin_port}"),
                AdminAuth::ApiKey(api_key.clone()),
            ),
            child: Mutex::new(None),
            starter,
            pid_token: None,
            halted: None,
            home: Some(home),
            _dir_token: dir_token,
        };
        let ready = handle.spawn_and_wait().await;
        // ACA-Py answers /status/ready even when its DIDComm port was taken,
        // so the log is checked after a successful start too.
        let log = handle
            .log_tail(log::START_FAILURE_READ)
            .await
            .unwrap_or_default();
        let port_taken = says_port_taken(&log);
        match ready {
            Ok(version) if !port_taken => Ok(Agent {
                role: spec.role.clone(),
                admin: handle.admin.clone(),
                version,
                mode: AgentMode::Dedicated,
                handle: Box::new(handle),
            }),
            Ok(_) => {
                handle.stop().await;
                Err(StartError::PortTaken(anyhow::anyhow!(
                    "agent `{}` did not start: {}",
                    spec.role,
                    log::start_failure("a port was taken", &log)
                )))
            }
            Err(e) => {
                handle.stop().await;
                let error = anyhow::anyhow!(
                    "agent `{}` did not start: {}",
                    spec.role,
                    log::start_failure(e, &log)
                );
                Err(if port_taken {
                    StartError::PortTaken(error)
                } else {
                    StartError::Other(error)
                })
            }
        }
    }
}

/// The preloader of `release`, or `None` (said once) when it cannot start.
async fn start_preloader(
    release: Release,
    python: PathBuf,
    notices: Notices,
) -> Option<Arc<Preloader>> {
    match Preloader::connect(&release, &python, ready_timeout()).await {
        Ok(Some(served)) => {
            notices.tell(Notice::once(
                format!("preloader-served:{release}"),
                format!(
                    "ACA-Py {release}: agents forked from the preloader `acapy-harness preload serve` keeps at {}",
                    served.served_at().unwrap_or(&python).display()
                ),
            ));
            return Some(Arc::new(served));
        }
        Ok(None) => {}
        Err(e) => notices.tell(Notice::once(
            format!("preloader-served:{release}"),
            format!("ACA-Py {release}: {e}; this run starts a preloader of its own"),
        )),
    }
    let modules = preload::module_list(&release);
    match Preloader::start(&release, &python, &modules, ready_timeout()).await {
        Ok(preloader) => Some(Arc::new(preloader)),
        Err(e) => {
            notices.tell(Notice::once(
                format!("preloader-failed:{release}"),
                format!(
                    "ACA-Py {release}: the preloader did not start ({e}); its agents start plain (`aca-py start`)"
                ),
            ));
            None
        }
    }
}

enum StartError {
    PortTaken(anyhow::Error),
    Other(anyhow::Error),
}

#[async_trait]
impl Provider for ProcessProvider {
    fn kind(&self) -> &'static str {
        "process"
    }

    fn label(&self) -> String {
        format!("process::{}", self.release)
    }

    fn reach(&self) -> Reach {
        Reach::Loopback
    }

    fn requested_version(&self) -> Option<crate::version::Version> {
        Some(self.release.version.clone())
    }

    async fn prepare(&self, notices: &Notices) -> Result<(), ProviderError> {
        let (venv, notices) = (self.venv.clone(), notices.clone());
        let installed = notices.clone();
        tokio::task::spawn_blocking(move || venv.ensure(&installed))
            .await
            .map_err(anyhow::Error::from)??;
        self.warm_up(&notices);
        Ok(())
    }

    async fn start(&self, specs: &[AgentSpec], scope: &Scope) -> Result<Vec<Agent>, ProviderError> {
        self.prepare(scope.notices()).await?;
        Ok(super::start_all(
            specs
                .iter()
                .map(|s| async move { self.start_one(s, scope).await.map(|a| vec![a]) }),
        )
        .await?)
    }
}

/// How an agent's process is started: forked from the version's
/// preloader when there is one, else `aca-py start`.
#[derive(Clone)]
struct Starter {
    preloader: Option<Arc<Preloader>>,
    notices: Notices,
    release: String,
}

/// A running agent process, however it was started.
enum Running {
    /// `aca-py start`: our own child.
    Plain(Child),
    /// A fork of the preloader, which reaps it and reports its end.
    Forked(Forked, Arc<Preloader>),
}

impl Running {
    fn pid(&self) -> Option<u32> {
        match self {
            Running::Plain(child) => child.id(),
            Running::Forked(forked, _) => Some(forked.pid),
        }
    }

    /// `exited (signal: 9 (SIGKILL))` once it has ended: the same words
    /// however it was started.
    fn ended(&mut self) -> Option<String> {
        match self {
            Running::Plain(child) => match child.try_wait() {
                Ok(Some(status)) => Some(format!("exited ({status})")),
                _ => None,
            },
            Running::Forked(forked, _) => forked.ended().map(|e| e.to_string()),
        }
    }

    /// Sends `signal` to the agent (a forked one: its process group).
    fn signal(&self, signal: i32) {
        match self {
            Running::Plain(child) => {
                if let Some(pid) = child.id() {
                    unsafe {
                        libc::kill(pid as i32, signal);
                    }
                }
            }
            Running::Forked(forked, preloader) => preloader.signal(forked, signal),
        }
    }

    /// Waits at most `limit` for it to end; whether it did.
    async fn wait_for_end(&mut self, limit: std::time::Duration) -> bool {
        match self {
            Running::Plain(child) => tokio::time::timeout(limit, child.wait()).await.is_ok(),
            Running::Forked(forked, _) => tokio::time::timeout(limit, forked.wait()).await.is_ok(),
        }
    }

    /// SIGKILL, and waits for the end.
    async fn kill(&mut self) {
        match self {
            Running::Plain(child) => {
                let _ = child.kill().await;
            }
            Running::Forked(..) => {
                self.signal(libc::SIGKILL);
                self.wait_for_end(std::time::Duration::from_secs(5)).await;
            }
        }
    }

    /// SIGKILL without waiting, for `Drop`.
    fn start_kill(&mut self) {
        match self {
            Running::Plain(child) => {
                let _ = child.start_kill();
            }
            // Straight to the group: the preloader's pipe may be busy, and
            // the agent has not been reaped (it has not ended), so its pid
            // is still its own.
            Running::Forked(forked, _) => {
                if forked.ended().is_none() {
                    unsafe {
                        libc::kill(-(forked.pid as i32), libc::SIGKILL);
                    }
                }
            }
        }
    }
}

/// One `aca-py` process, and how to start it again: the same command
/// line, environment (keys), `HOME` (wallet) and ports.
struct ProcessHandle {
    role: String,
    program: PathBuf,
    launch: launch::Command,
    log_path: PathBuf,
    admin: AdminEndpoint,
    /// `None` while halted or once stopped.
    child: Mutex<Option<Running>>,
    starter: Starter,
    pid_token: Option<cleanup::Token>,
    /// Why it is not running, after a `stop:` step.
    halted: Option<String>,
    home: Option<tempfile::TempDir>,
    _dir_token: cleanup::Token,
}

impl ProcessHandle {
    /// Starts the process (appending to its log) and waits until it is ready.
    async fn spawn_and_wait(&mut self) -> anyhow::Result<String> {
        let home = self
            .home
            .as_ref()
            .expect("not stopped")
            .path()
            .to_path_buf();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)?;
        // A restart appends to the log: only what this start writes counts.
        let log_start = log.metadata().map(|m| m.len()).unwrap_or(0);
        let running = match self.fork(&home).await {
            Some(forked) => forked,
            None => {
                let mut cmd = Command::new(&self.program);
                cmd.args(&self.launch.args)
                    .envs(self.launch.env.iter().cloned())
                    // ACA-Py keeps its wallet under $HOME: a temporary HOME per agent.
                    .env("HOME", &home)
                    .stdin(Stdio::null())
                    .stdout(log.try_clone()?)
                    .stderr(log)
                    .kill_on_drop(true)
                    .process_group(0);
                // Forked from a thread that lives as long as the harness: the
                // agent dies with the harness, never with the thread that
                // asked for it.
                let child = super::spawn::spawn(cmd)
                    .map_err(|e| anyhow::anyhow!("cannot start {}: {e}", self.program.display()))?;
                self.pid_token = Some(cleanup::process(child.id().unwrap_or(0)));
                Running::Plain(child)
            }
        };
        *self.child.lock().unwrap_or_else(|e| e.into_inner()) = Some(running);
        self.halted = None;
        let role = self.role.clone();
        let (child, log_path) = (&self.child, &self.log_path);
        wait_ready(&self.admin, ready_timeout(), || {
            if let Some(status) = exited(child) {
                return Err(format!("aca-py for `{role}` {status}"));
            }
            // ACA-Py does not exit when its admin port is taken: it waits
            // without an admin API. The log says so; the caller tries again.
            if lost_a_port(log_path, log_start) {
                return Err(format!("aca-py for `{role}` could not bind a port"));
            }
            Ok(())
        })
        .await
    }
}

impl ProcessHandle {
    /// Forks the agent from the preloader, if there is one that lives and
    /// the agent's environment does not need fresh imports; `None` means
    /// start it plain (said once when it is not what was asked).
    async fn fork(&mut self, home: &std::path::Path) -> Option<Running> {
        let preloader = self.starter.preloader.clone()?;
        let release = &self.starter.release;
        let notices = &self.starter.notices;
        if let Some((name, _)) = self
            .launch
            .env
            .iter()
            .find(|(k, _)| preload::READ_AT_IMPORT.contains(&k.as_str()))
        {
            notices.tell(Notice::once(
                format!("preload-env:{release}:{name}"),
                format!("ACA-Py {release}: an agent given {name} (read at import) starts plain"),
            ));
            return None;
        }
        if !preloader.is_alive() {
            notices.tell(Notice::once(
                format!("preloader-died:{release}"),
                format!(
                    "ACA-Py {release}: the preloader ended{}; its agents start plain (`aca-py start`) from now on",
                    preloader.log_tail()
                ),
            ));
            return None;
        }
        // What a plain start gets: the harness's environment, the agent's
        // settings over it, its own HOME; argv[0] the `aca-py` script.
        let mut env: Vec<(String, String)> = std::env::vars().collect();
        env.extend(self.launch.env.iter().cloned());
        env.push(("HOME".into(), home.to_string_lossy().into_owned()));
        let argv: Vec<String> = std::iter::once(self.program.to_string_lossy().into_owned())
            .chain(self.launch.args.iter().cloned())
            .collect();
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        match preloader.fork(&argv, &env, &cwd, &self.log_path).await {
            Ok(forked) => {
                self.pid_token = Some(cleanup::process_group(forked.pid));
                Some(Running::Forked(forked, preloader))
            }
            Err(e) => {
                notices.tell(Notice::once(
                    format!("preload-fork:{release}"),
                    format!("ACA-Py {release}: {e}; its agents start plain (`aca-py start`)"),
                ));
                None
            }
        }
    }
}

/// Whether the agent's log, from byte `from` on, says a port it was given
/// is taken.
fn lost_a_port(log_path: &std::path::Path, from: u64) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let mut written = Vec::new();
    std::fs::File::open(log_path)
        .and_then(|mut log| {
            log.seek(SeekFrom::Start(from))?;
            log.read_to_end(&mut written)
        })
        .is_ok_and(|_| says_port_taken(&String::from_utf8_lossy(&written)))
}

fn says_port_taken(log: &str) -> bool {
    log.to_lowercase().contains("address already in use")
}

/// `exited (signal: 9 (SIGKILL))` once the child has ended.
fn exited(child: &Mutex<Option<Running>>) -> Option<String> {
    child
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_mut()?
        .ended()
}

#[async_trait]
impl AgentHandle for ProcessHandle {
    async fn log_tail(&self, lines: usize) -> Option<String> {
        let text = tokio::fs::read_to_string(&self.log_path).await.ok()?;
        Some(tail(&text, lines))
    }

    async fn gone(&self) -> Option<String> {
        if let Some(why) = &self.halted {
            return Some(why.clone());
        }
        exited(&self.child)
    }

    fn home(&self) -> Option<PathBuf> {
        self.home.as_ref().map(|home| home.path().to_path_buf())
    }

    fn pid(&self) -> Option<u32> {
        self.child
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .and_then(Running::pid)
    }

    async fn halt(&mut self) -> anyhow::Result<()> {
        let child = self.child.lock().unwrap_or_else(|e| e.into_inner()).take();
        // A graceful shutdown, not SIGKILL: the store would be consistent
        // after SIGKILL (each record is a committed transaction), but ACA-Py
        // sends DIDComm messages after the request that queued them has
        // answered, and SIGKILL loses them (a holder restarted right after
        // `send-request` never reached its issuer). SIGTERM flushes them.
        if let Some(mut child) = child {
            terminate(&mut child).await;
        }
        self.pid_token = None;
        self.halted = Some("was stopped by a `stop` step".into());
        Ok(())
    }

    async fn resume(&mut self) -> anyhow::Result<AdminEndpoint> {
        self.spawn_and_wait().await?;
        Ok(self.admin.clone())
    }

    async fn stop(&mut self) {
        let child = self.child.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(mut child) = child {
            child.kill().await;
        }
        self.pid_token = None;
        if let Some(home) = self.home.take() {
            let _ = home.close();
        }
    }
}

/// SIGTERM, so ACA-Py closes its wallet; SIGKILL if it has not ended within
/// five seconds.
async fn terminate(child: &mut Running) {
    child.signal(libc::SIGTERM);
    if !child.wait_for_end(std::time::Duration::from_secs(5)).await {
        child.kill().await;
    }
}

impl Drop for ProcessHandle {
    fn drop(&mut self) {
        // Reached on panics and early returns; `kill_on_drop` handles the child.
        if let Some(child) = self
            .child
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
        {
            child.start_kill();
        }
    }
}

/// A port that is free now and that this process has not handed out before:
/// the kernel may offer a just-released port again, and two agents of one
/// run must never be given the same one.
///
/// Ports are drawn from below the kernel's ephemeral range
/// (`/proc/sys/net/ipv4/ip_local_port_range`), from which every outgoing
/// connection on the machine takes its source port (an agent's to
/// PostgreSQL or to another agent, the harness's own requests). A port
/// from that range could be taken by one of them while its agent is
/// stopped by a `restart`/`stop` step, and the agent, which must come back
/// on the same DIDComm port, then could not bind it (seen in a soak run:
/// `aca-py for `holder` could not bind a port`). Where no port is free below
/// the range, the kernel picks one as before.
fn free_port() -> anyhow::Result<u16> {
    static GIVEN: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    let (low, high) = listening_range(ephemeral_start());
    for _ in 0..200 {
        let port = rand::Rng::random_range(&mut rand::rng(), low..=high);
        if GIVEN
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&port)
        {
            continue;
        }
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
            && GIVEN.lock().unwrap_or_else(|e| e.into_inner()).insert(port)
        {
            return Ok(port);
        }
    }
    for _ in 0..100 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .map_err(|e| anyhow::anyhow!("no free port on 127.0.0.1: {e}"))?;
        if GIVEN.lock().unwrap_or_else(|e| e.into_inner()).insert(port) {
            return Ok(port);
        }
    }
    anyhow::bail!("no fresh free port on 127.0.0.1")
}

/// Where the kernel's ephemeral ports start (32768 where it cannot be read).
fn ephemeral_start() -> u16 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse().ok())
        .unwrap_or(32768)
}

/// The ports agents listen on: the 12,000 below the ephemeral range, above
/// the well-known and most registered ones (from 10000 at the lowest).
fn listening_range(ephemeral_start: u16) -> (u16, u16) {
    let high = ephemeral_start.saturating_sub(1).max(10_001);
    let low = high.saturating_sub(12_000).max(10_000);
    (low, high)
}

fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_ports_stay_below_the_ephemeral_range() {
        assert_eq!(listening_range(32768), (20767, 32767));
        assert_eq!(listening_range(15000), (10000, 14999));
        assert_eq!(listening_range(1024), (10000, 10001));
        let start = ephemeral_start();
        let ports: BTreeSet<u16> = (0..50).map(|_| free_port().unwrap()).collect();
        assert_eq!(ports.len(), 50, "never the same port twice");
        if start > 10_001 {
            assert!(ports.iter().all(|p| *p < start), "{ports:?} below {start}");
        }
    }
    use crate::agents::docker::{engine_available, image_present};
    use crate::agents::services::{Readiness, ServiceSpec, Services};

    const POSTGRES: &str = "acapy-harness/postgres:15";

    /// A preloader that cannot start (here: a venv without its python) is
    /// said once, for the version, and its agents start plain.
    #[tokio::test]
    async fn a_preloader_that_cannot_start_is_said_once_and_agents_start_plain() {
        let empty = tempfile::tempdir().unwrap();
        let release = Release::parse("1.3.6").unwrap();
        let mut provider =
            ProcessProvider::new(release.clone()).with_agent_start(AgentStart::Preloaded);
        provider.venv = Venv::in_cache(release, empty.path().to_path_buf());
        let heard = Arc::new(Mutex::new(Vec::new()));
        let notices = {
            let heard = heard.clone();
            Notices::new(move |n| heard.lock().unwrap().push(n.text))
        };
        assert!(provider.preloader(&notices).await.is_none());
        assert!(provider.preloader(&notices).await.is_none());
        let heard = heard.lock().unwrap().clone();
        assert_eq!(heard.len(), 1, "{heard:?}");
        assert!(
            heard[0].starts_with("ACA-Py 1.3.6: the preloader did not start (cannot start ")
                && heard[0].ends_with("its agents start plain (`aca-py start`)"),
            "{}",
            heard[0]
        );
        let plain = ProcessProvider::new(Release::parse("1.3.6").unwrap());
        assert!(plain.preloader(&Notices::silent()).await.is_none());
    }

    #[test]
    fn a_taken_port_is_read_from_the_log() {
        assert!(says_port_taken(
            "OSError: [Errno 98] error while attempting to bind on address ('127.0.0.1', 38011): address already in use"
        ));
        assert!(!says_port_taken(
            "Traceback ...\nProfileError: Error opening store"
        ));
    }

    /// A try whose port is taken has already made its wallet when it finds
    /// out (ACA-Py opens the wallet before it binds), and a wallet in a
    /// database service outlives the try. The next try opens it, so it must
    /// have the same key: with a key of its own it fails with `Error opening
    /// store`, as a CI run once did. ACA-Py does not exit when its admin port
    /// is taken; the try gives up when the log says so, not at the ready
    /// timeout. Needs the 1.3.6 venv, a Docker engine and the PostgreSQL
    /// image (skips, saying so, without).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_retry_after_a_lost_port_opens_the_wallet_the_lost_try_made() {
        if let Err(e) = engine_available().await {
            println!("skipped: {e}");
            return;
        }
        if !image_present(POSTGRES).await {
            println!("skipped: {POSTGRES} is not built (docker/build-postgres-image.sh)");
            return;
        }
        let provider = ProcessProvider::new(Release::parse("1.3.6").unwrap());
        provider
            .prepare(&Notices::silent())
            .await
            .expect("ACA-Py 1.3.6 installs");
        let case = format!("lost-port-test-{}", std::process::id());
        let scope = Scope::new(
            crate::agents::CaseId {
                name: case.clone(),
                scenario: "lost-port-test".into(),
            },
            crate::agents::RunScope::new(Notices::silent()),
        );
        let password = "pw-for-a-test-of-lost-ports";
        let services = Services::start(
            &[ServiceSpec {
                name: "db".into(),
                image: POSTGRES.into(),
                env: vec![("POSTGRES_PASSWORD".into(), password.into())],
                command: None,
                port: 5432,
                ready: Readiness::Log("database system is ready to accept connections".into()),
                timeout: std::time::Duration::from_secs(60),
            }],
            &scope,
        )
        .await
        .unwrap_or_else(|e| panic!("the service did not start: {e:?}"));
        let db_port = services.endpoints().remove(0).host_port;
        let spec = AgentSpec {
            role: "holder".into(),
            label: "holder".into(),
            args: [
                "--wallet-storage-type",
                "postgres_storage",
                "--wallet-storage-config",
                &format!(r#"{{"url":"127.0.0.1:{db_port}","max_connections":5}}"#),
            ]
            .map(String::from)
            .to_vec(),
            env: vec![(
                "ACAPY_WALLET_STORAGE_CREDS".into(),
                format!(
                    r#"{{"account":"postgres","password":"{password}","admin_account":"postgres","admin_password":"{password}"}}"#
                ),
            )],
            ..AgentSpec::default()
        };
        let keys = (generate_api_key(), raw_wallet_key());
        let fresh_ports = || (free_port().unwrap(), free_port().unwrap());
        let plain = || Starter {
            preloader: None,
            notices: Notices::silent(),
            release: "1.3.6".into(),
        };

        let occupant = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let taken = occupant.local_addr().unwrap().port();
        let lost = provider
            .try_start(&spec, &case, &keys, (free_port().unwrap(), taken), plain())
            .await;
        let other_keys = (generate_api_key(), raw_wallet_key());
        let with_other_key = provider
            .try_start(&spec, &case, &other_keys, fresh_ports(), plain())
            .await;
        let retried = provider
            .try_start(&spec, &case, &keys, fresh_ports(), plain())
            .await;
        let opened = match retried {
            Ok(mut agent) => {
                agent.handle.stop().await;
                Ok(agent.version)
            }
            Err(StartError::PortTaken(e) | StartError::Other(e)) => Err(format!("{e:#}")),
        };
        services.stop().await;
        scope.close().await;

        match lost {
            Err(StartError::PortTaken(e)) => assert!(
                format!("{e}").contains("could not bind a port"),
                "gave up for another reason: {e:#}"
            ),
            Err(StartError::Other(e)) => panic!("not seen as a taken port: {e:#}"),
            Ok(_) => panic!("started on a taken port"),
        }
        match with_other_key {
            Err(StartError::Other(e)) => {
                assert!(format!("{e}").contains("Error opening store"), "{e:#}")
            }
            Err(StartError::PortTaken(e)) => panic!("a port was taken: {e:#}"),
            Ok(_) => panic!("opened the wallet with another key"),
        }
        assert_eq!(
            opened.as_deref(),
            Ok("1.3.6"),
            "the retry with the same keys"
        );
    }
}
