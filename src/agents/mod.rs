//! Where agents come from. A [`Provider`] turns the agents a scenario declares
//! into running ACA-Py admin endpoints; the runner only sees [`Agent`]s.
//!
//! - [`process`]: `aca-py` from a cached venv, as local processes;
//! - [`docker`]: containers, run by testcontainers;
//! - [`external`]: agents that already run somewhere.

pub mod cleanup;
pub mod docker;
pub mod external;
pub mod process;
pub mod version;

use async_trait::async_trait;
use std::time::{Duration, Instant};

/// What a scenario asks of one agent.
#[derive(Debug, Clone)]
pub struct AgentSpec {
    pub role: String,
    pub label: String,
    /// Extra `aca-py start` arguments.
    pub args: Vec<String>,
}

/// A running agent, as far as the runner cares.
pub struct Agent {
    pub role: String,
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub admin_url: String,
    pub api_key: Option<String>,
    /// What `GET /status` reported.
    pub version: String,
    pub handle: Box<dyn AgentHandle>,
}

#[async_trait]
pub trait AgentHandle: Send + Sync {
    /// The last `lines` lines of the agent's log, if the provider has one.
    async fn log_tail(&self, lines: usize) -> Option<String>;
    /// The whole log, for artifacts.
    async fn log(&self) -> Option<String> {
        self.log_tail(usize::MAX).await
    }
    /// Stops the agent and removes what it left (wallet, container). Idempotent.
    async fn stop(&mut self);
}

#[async_trait]
pub trait Provider: Send + Sync {
    /// `process`, `docker`, `external`.
    fn kind(&self) -> &'static str;
    /// Makes sure everything is installed; says what it does on stderr.
    async fn prepare(&self) -> anyhow::Result<()> {
        Ok(())
    }
    /// Starts every agent; on error nothing is left running.
    async fn start(&self, specs: &[AgentSpec], case: &str) -> anyhow::Result<Vec<Agent>>;
}

/// A fresh admin API key: 32 hex characters.
pub fn generate_api_key() -> String {
    use rand::Rng;
    let bytes: [u8; 16] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Waits for `GET /status/ready` to answer 200, then reads the version from
/// `GET /status`. `still_running` is asked between tries so a crashed agent
/// fails at once instead of at the timeout.
pub async fn wait_ready(
    admin_url: &str,
    api_key: Option<&str>,
    timeout: Duration,
    mut still_running: impl FnMut() -> Result<(), String>,
) -> anyhow::Result<String> {
    let client = crate::run::http::AdminClient::http();
    let deadline = Instant::now() + timeout;
    let get = |path: &str| {
        let mut req = client
            .get(format!("{admin_url}{path}"))
            .timeout(Duration::from_secs(2));
        if let Some(key) = api_key {
            req = req.header("X-API-Key", key);
        }
        req.send()
    };
    loop {
        if let Ok(resp) = get("/status/ready").await {
            if resp.status().is_success() {
                break;
            }
        }
        still_running().map_err(|e| anyhow::anyhow!(e))?;
        if Instant::now() > deadline {
            anyhow::bail!(
                "{admin_url}/status/ready did not answer 200 within {}s",
                timeout.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status: serde_json::Value = get("/status").await?.error_for_status()?.json().await?;
    Ok(status
        .get("version")
        .and_then(|v| v.as_str())
        .unwrap_or("unknown")
        .to_owned())
}

/// Starts agents concurrently; if any fails, stops those that started and
/// returns the first error, so a failed start leaves nothing running.
pub async fn start_all<F>(starts: impl IntoIterator<Item = F>) -> anyhow::Result<Vec<Agent>>
where
    F: std::future::Future<Output = anyhow::Result<Agent>>,
{
    let mut agents = Vec::new();
    let mut first_error = None;
    for result in futures_util::future::join_all(starts).await {
        match result {
            Ok(agent) => agents.push(agent),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        None => Ok(agents),
        Some(e) => {
            stop_all(&mut agents).await;
            Err(e)
        }
    }
}

/// Stops every agent, in parallel.
pub async fn stop_all(agents: &mut [Agent]) {
    futures_util::future::join_all(agents.iter_mut().map(|a| a.handle.stop())).await;
}

/// How long an agent may take to become ready.
pub fn ready_timeout() -> Duration {
    std::env::var("ACAPY_HARNESS_READY_TIMEOUT")
        .ok()
        .and_then(|s| s.parse().ok())
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(90))
}
