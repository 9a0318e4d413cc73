//! ACA-Py as local processes, from a venv the harness creates and caches per
//! version (`~/.cache/acapy-harness/venvs/acapy-VERSION`).

use super::cleanup;
use super::version::{find_python, Release};
use super::{generate_api_key, ready_timeout, wait_ready, Agent, AgentHandle, AgentSpec, Provider};
use anyhow::{bail, Context};
use async_trait::async_trait;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Mutex;
use std::time::Instant;
use tokio::process::{Child, Command};

pub struct ProcessProvider {
    release: Release,
    cache: PathBuf,
}

/// Where venvs are kept: `$ACAPY_HARNESS_CACHE`, else the user cache folder.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("ACAPY_HARNESS_CACHE")
        .map(PathBuf::from)
        .or_else(|| dirs::cache_dir().map(|d| d.join("acapy-harness")))
        .unwrap_or_else(|| std::env::temp_dir().join("acapy-harness-cache"))
}

impl ProcessProvider {
    pub fn new(release: Release) -> ProcessProvider {
        ProcessProvider {
            release,
            cache: cache_dir(),
        }
    }

    pub fn venv(&self) -> PathBuf {
        self.cache
            .join("venvs")
            .join(format!("acapy-{}", self.release))
    }

    fn aca_py(&self) -> PathBuf {
        self.venv().join("bin/aca-py")
    }

    /// Creates the venv once; concurrent harnesses wait on a file lock.
    fn ensure_venv(&self) -> anyhow::Result<()> {
        let venv = self.venv();
        let ready = venv.join(".acapy-harness-ready");
        if ready.exists() {
            return Ok(());
        }
        let parent = venv.parent().expect("venv has a parent");
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create the cache folder {}", parent.display()))?;
        let lock_path = parent.join(format!("acapy-{}.lock", self.release));
        let lock = std::fs::File::create(&lock_path)
            .with_context(|| format!("cannot create {}", lock_path.display()))?;
        lock.lock().context("cannot lock the venv cache")?;
        if ready.exists() {
            return Ok(());
        }
        let python = find_python(self.release.pythons()).map_err(|e| {
            anyhow::anyhow!(
                "ACA-Py {} needs Python {}: {e}",
                self.release,
                self.release.pythons().join(" or ")
            )
        })?;
        let requirement = self.release.requirement();
        eprintln!(
            "acapy-harness: installing ACA-Py {} ({requirement}) with {} into {} (first use, about a minute)",
            self.release,
            python.display(),
            venv.display()
        );
        let started = Instant::now();
        let _ = std::fs::remove_dir_all(&venv);
        run(std::process::Command::new(&python)
            .arg("-m")
            .arg("venv")
            .arg(&venv))?;
        run(std::process::Command::new(venv.join("bin/pip")).args([
            "install",
            "--disable-pip-version-check",
            "--quiet",
            &requirement,
        ]))?;
        let out = std::process::Command::new(venv.join("bin/aca-py"))
            .arg("--version")
            .output()
            .context("cannot run aca-py --version")?;
        let reported = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if !out.status.success() {
            bail!(
                "the installed aca-py does not start: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::fs::write(&ready, &reported)?;
        eprintln!(
            "acapy-harness: installed ACA-Py {reported} in {:.0}s",
            started.elapsed().as_secs_f64()
        );
        Ok(())
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
        let log_path = home.path().join("agent.log");
        let log = std::fs::File::create(&log_path).map_err(|e| StartError::Other(e.into()))?;
        let endpoint = format!("http://127.0.0.1:{didcomm_port}");
        let mut cmd = Command::new(self.aca_py());
        cmd.arg("start")
            .args(["--label", &spec.label])
            .args(["-it", "http", "127.0.0.1", &didcomm_port.to_string()])
            .args(["-ot", "http", "-e", &endpoint])
            .args(["--admin", "127.0.0.1", &admin_port.to_string()])
            .args(["--admin-api-key", &api_key])
            .args(["--no-ledger", "--wallet-type", "askar"])
            .args([
                "--wallet-name",
                &format!("{}-{}", spec.role, sanitize(case)),
            ])
            .args(["--wallet-key", &generate_api_key()])
            .args(["--auto-provision", "--log-level", "warning"])
            .args(&spec.args)
            // ACA-Py keeps its wallet under $HOME: a temporary HOME per agent.
            .env("HOME", home.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| StartError::Other(e.into()))?)
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
        let mut child = cmd.spawn().map_err(|e| {
            StartError::Other(anyhow::anyhow!(
                "cannot start {}: {e}",
                self.aca_py().display()
            ))
        })?;
        let pid_token = cleanup::process(child.id().unwrap_or(0));
        let admin_url = format!("http://127.0.0.1:{admin_port}");
        let ready = wait_ready(&admin_url, Some(&api_key), ready_timeout(), || match child
            .try_wait()
        {
            Ok(Some(status)) => Err(format!("aca-py for `{}` exited ({status})", spec.role)),
            _ => Ok(()),
        })
        .await;
        let mut handle = ProcessHandle {
            child: Some(child),
            home: Some(home),
            log_path,
            _tokens: vec![pid_token, dir_token],
        };
        // 0.12 answers /status/ready even when its DIDComm port was taken, so
        // the log is checked after a successful start too.
        let tail = handle.log_tail(30).await.unwrap_or_default();
        let port_taken = tail.to_lowercase().contains("address already in use");
        match ready {
            Ok(version) if !port_taken => Ok(Agent {
                role: spec.role.clone(),
                admin_url,
                api_key: Some(api_key),
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
                        "agent `{}` did not start: {e}\n--- last lines of its log ---\n{tail}",
                        spec.role
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

    async fn prepare(&self) -> anyhow::Result<()> {
        let this = ProcessProvider {
            release: self.release.clone(),
            cache: self.cache.clone(),
        };
        tokio::task::spawn_blocking(move || this.ensure_venv()).await?
    }

    async fn start(&self, specs: &[AgentSpec], case: &str) -> anyhow::Result<Vec<Agent>> {
        self.prepare().await?;
        super::start_all(specs.iter().map(|s| self.start_one(s, case))).await
    }
}

struct ProcessHandle {
    child: Option<Child>,
    home: Option<tempfile::TempDir>,
    log_path: PathBuf,
    _tokens: Vec<cleanup::Token>,
}

#[async_trait]
impl AgentHandle for ProcessHandle {
    async fn log_tail(&self, lines: usize) -> Option<String> {
        let text = tokio::fs::read_to_string(&self.log_path).await.ok()?;
        Some(tail(&text, lines))
    }

    async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
        if let Some(home) = self.home.take() {
            let _ = home.close();
        }
    }
}

impl Drop for ProcessHandle {
    fn drop(&mut self) {
        // Reached on panics and early returns; `kill_on_drop` handles the child.
        if let Some(child) = self.child.as_mut() {
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

fn run(cmd: &mut std::process::Command) -> anyhow::Result<()> {
    let out = cmd
        .output()
        .with_context(|| format!("cannot run {:?}", cmd.get_program()))?;
    if !out.status.success() {
        bail!(
            "{:?} failed ({}):\n{}{}",
            cmd,
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}
