//! ACA-Py as local processes, from a cached venv ([`super::venv`]), each on
//! free 127.0.0.1 ports with a temporary `HOME` for its wallet.

use super::cleanup;
use super::launch::{self, generate_api_key, Launch};
use super::venv::Venv;
use super::version::Release;
use super::{ready_timeout, Agent, AgentHandle, AgentSpec, Provider};
use crate::admin::{wait_ready, AdminAuth, AdminEndpoint};
use async_trait::async_trait;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Mutex;
use tokio::process::{Child, Command};

pub struct ProcessProvider {
    release: Release,
    venv: Venv,
}

impl ProcessProvider {
    pub fn new(release: Release) -> ProcessProvider {
        ProcessProvider {
            venv: Venv::new(release.clone()),
            release,
        }
    }

    pub fn venv(&self) -> &Venv {
        &self.venv
    }

    async fn start_one(&self, spec: &AgentSpec, case: &str) -> anyhow::Result<Agent> {
        let mut last_error = None;
        // A free port can be taken between choosing and binding it; retry then.
        for _ in 0..3 {
            match self.try_start(spec, case).await {
                Ok(agent) => return Ok(agent),
                Err(StartError::PortTaken(e)) => last_error = Some(e),
                Err(StartError::Other(e)) => return Err(e),
            }
        }
        Err(last_error.expect("three tries"))
    }

    async fn try_start(&self, spec: &AgentSpec, case: &str) -> Result<Agent, StartError> {
        let home = tempfile::Builder::new()
            .prefix(&format!("acapy-harness-{}-", spec.role))
            .tempdir()
            .map_err(|e| StartError::Other(e.into()))?;
        let dir_token = cleanup::dir(home.path().to_path_buf());
        let (didcomm_port, admin_port) = (free_port()?, free_port()?);
        let api_key = generate_api_key();
        let endpoint = format!("http://127.0.0.1:{didcomm_port}");
        let launch = Launch {
            label: &spec.label,
            inbound: ("127.0.0.1", didcomm_port),
            endpoint: &endpoint,
            admin: ("127.0.0.1", admin_port),
            wallet_name: &format!("{}-{}", spec.role, sanitize(case)),
            api_key: &api_key,
            extra: &spec.args,
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
                AdminAuth::ApiKey(api_key),
            ),
            child: Mutex::new(None),
            pid_token: None,
            halted: None,
            home: Some(home),
            _dir_token: dir_token,
        };
        let ready = handle.spawn_and_wait().await;
        // 0.12 answers /status/ready even when its DIDComm port was taken, so
        // the log is checked after a successful start too.
        // A longer stretch is read so that a traceback's header is in it.
        let log = handle.log_tail(300).await.unwrap_or_default();
        let tail = tail(&super::fold_tracebacks(&log), 30);
        let port_taken = tail.to_lowercase().contains("address already in use");
        match ready {
            Ok(version) if !port_taken => Ok(Agent {
                role: spec.role.clone(),
                admin: handle.admin.clone(),
                version,
                handle: Box::new(handle),
            }),
            Ok(_) => {
                handle.stop().await;
                Err(StartError::PortTaken(anyhow::anyhow!(
                    "agent `{}`: a port was taken\n{tail}",
                    spec.role
                )))
            }
            Err(e) => {
                handle.stop().await;
                if port_taken {
                    Err(StartError::PortTaken(anyhow::anyhow!("{e}\n{tail}")))
                } else {
                    Err(StartError::Other(anyhow::anyhow!(
                        "agent `{}` did not start: {}\n--- last lines of its log ---\n{tail}",
                        spec.role,
                        super::with_raised(e, &log)
                    )))
                }
            }
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

    fn requested_version(&self) -> Option<String> {
        Some(self.release.to_string())
    }

    async fn prepare(&self) -> anyhow::Result<()> {
        let venv = self.venv.clone();
        tokio::task::spawn_blocking(move || venv.ensure()).await?
    }

    async fn start(&self, specs: &[AgentSpec], case: &str) -> anyhow::Result<Vec<Agent>> {
        self.prepare().await?;
        super::start_all(
            specs
                .iter()
                .map(|s| async move { self.start_one(s, case).await.map(|a| vec![a]) }),
        )
        .await
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
    child: Mutex<Option<Child>>,
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
        unsafe {
            // Die with the harness, even when it is SIGKILLed.
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child = cmd
            .spawn()
            .map_err(|e| anyhow::anyhow!("cannot start {}: {e}", self.program.display()))?;
        self.pid_token = Some(cleanup::process(child.id().unwrap_or(0)));
        *self.child.lock().unwrap_or_else(|e| e.into_inner()) = Some(child);
        self.halted = None;
        let role = self.role.clone();
        let child = &self.child;
        wait_ready(&self.admin, ready_timeout(), || match exited(child) {
            Some(status) => Err(format!("aca-py for `{role}` {status}")),
            None => Ok(()),
        })
        .await
    }
}

/// `exited (signal: 9 (SIGKILL))` once the child has ended.
fn exited(child: &Mutex<Option<Child>>) -> Option<String> {
    let mut child = child.lock().unwrap_or_else(|e| e.into_inner());
    match child.as_mut()?.try_wait() {
        Ok(Some(status)) => Some(format!("exited ({status})")),
        _ => None,
    }
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

    async fn halt(&mut self) -> anyhow::Result<()> {
        let child = self.child.lock().unwrap_or_else(|e| e.into_inner()).take();
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
            let _ = child.kill().await;
        }
        self.pid_token = None;
        if let Some(home) = self.home.take() {
            let _ = home.close();
        }
    }
}

/// SIGTERM, so ACA-Py closes its wallet; SIGKILL if it has not ended within
/// five seconds.
async fn terminate(child: &mut Child) {
    if let Some(pid) = child.id() {
        unsafe {
            libc::kill(pid as i32, libc::SIGTERM);
        }
    }
    let ended = tokio::time::timeout(std::time::Duration::from_secs(5), child.wait()).await;
    if ended.is_err() {
        let _ = child.kill().await;
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
            let _ = child.start_kill();
        }
    }
}

pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A port that is free now and that this process has not handed out before:
/// the kernel may offer a just-released port again, and two agents of one
/// run must never be given the same one.
fn free_port() -> Result<u16, StartError> {
    static GIVEN: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    for _ in 0..100 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .map_err(|e| StartError::Other(anyhow::anyhow!("no free port on 127.0.0.1: {e}")))?;
        if GIVEN.lock().unwrap_or_else(|e| e.into_inner()).insert(port) {
            return Ok(port);
        }
    }
    Err(StartError::Other(anyhow::anyhow!(
        "no fresh free port on 127.0.0.1"
    )))
}

fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}
