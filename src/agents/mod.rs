//! Where agents come from. A [`Provider`] turns the agents a scenario declares
//! into running ACA-Py admin endpoints; the runner only sees [`Agent`]s.
//!
//! - [`process`]: `aca-py` from a cached venv ([`venv`]), as local processes;
//! - [`docker`]: containers, run by testcontainers;
//! - [`external`]: agents that already run somewhere.
//!
//! [`select`] turns the user's choice (`auto`, versions, images) into
//! providers; [`launch`] is the one `aca-py start` command line both starting
//! providers build; [`cleanup`] removes whatever they leave, even on Ctrl-C.
//! A new provider is one more module here implementing [`Provider`], plus
//! its arm in [`select`].

pub mod cleanup;
pub mod docker;
pub mod external;
pub mod launch;
pub mod log;
pub mod process;
pub mod select;
pub mod shared;
pub mod spawn;
pub mod venv;
pub mod version;

use crate::admin::AdminEndpoint;
use async_trait::async_trait;
use std::time::Duration;

/// What a scenario asks of one agent.
#[derive(Debug, Clone, Default)]
pub struct AgentSpec {
    pub role: String,
    pub label: String,
    /// Extra `aca-py start` arguments.
    pub args: Vec<String>,
    /// Extra settings passed by environment (`ACAPY_*`): secrets go here.
    pub env: Vec<(String, String)>,
    /// Why the role needs an agent of its own (a `restart:` step), if it does.
    pub own_agent: Option<String>,
    /// The network of the case's services, which container agents join.
    pub network: Option<std::sync::Arc<docker::CaseNetwork>>,
    /// Files copied into a container agent (path inside, content); a process
    /// agent reads its files where the case wrote them.
    pub files: Vec<(String, Vec<u8>)>,
}

/// A running agent, as far as the runner cares.
pub struct Agent {
    pub role: String,
    /// Where its admin API answers, and how to authenticate there.
    pub admin: AdminEndpoint,
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
    /// Why the agent is not answering, if it is gone: `exited (signal: 9
    /// (SIGKILL))`, `was stopped by a \`stop\` step`.
    async fn gone(&self) -> Option<String> {
        None
    }
    /// Stops the agent but keeps its wallet, so that [`Self::resume`] can
    /// start it again.
    async fn halt(&mut self) -> anyhow::Result<()> {
        anyhow::bail!(
            "this agent cannot be stopped and started again (its provider does not start agents)"
        )
    }
    /// Starts a halted agent again with the same wallet, keys and DIDComm
    /// endpoint, waits until it is ready and returns its admin endpoint
    /// (the port may have changed).
    async fn resume(&mut self) -> anyhow::Result<AdminEndpoint> {
        anyhow::bail!("this agent cannot be started again")
    }
    /// Stops the agent and removes what it left (wallet, container). Idempotent.
    async fn stop(&mut self);
}

/// One source of agents: a column of the conformance matrix.
#[async_trait]
pub trait Provider: Send + Sync {
    /// `process`, `docker`, `external`.
    fn kind(&self) -> &'static str;
    /// The part of a case name after the scenario id: `process::1.3.6`.
    fn label(&self) -> String;
    /// Whether it starts its agents (it can then start a shared base agent).
    fn starts_agents(&self) -> bool {
        true
    }
    /// Whether its agents can reach agents of another source (other
    /// versions) and be reached by them.
    fn interoperates(&self) -> bool {
        true
    }
    /// The ACA-Py version asked for, if the provider picks one.
    fn requested_version(&self) -> Option<String> {
        None
    }
    /// Whether agents can be started here; the error says why not.
    async fn availability(&self) -> Result<(), String> {
        Ok(())
    }
    /// Removes what killed earlier runs of this provider left, says so on
    /// stderr and returns how many things it removed.
    async fn sweep_stale(&self) -> usize {
        0
    }
    /// Makes sure everything is installed; says what it does on stderr.
    async fn prepare(&self) -> anyhow::Result<()> {
        Ok(())
    }
    /// Starts every agent; on error nothing is left running.
    async fn start(&self, specs: &[AgentSpec], case: &str) -> anyhow::Result<Vec<Agent>>;
    /// Stops what outlives a case (a shared base agent) at the end of a run.
    async fn finish(&self) {}
}

/// What [`Provider::prepare`] returns when agents cannot run here for want
/// of something the user provides (an image that is not built and cannot
/// be pulled): the cases are skipped with this reason rather than failed.
#[derive(Debug)]
pub struct Unavailable(pub String);

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unavailable {}

/// Starts agents concurrently; if any fails, stops those that started and
/// returns the first error, so a failed start leaves nothing running.
pub async fn start_all<F>(starts: impl IntoIterator<Item = F>) -> anyhow::Result<Vec<Agent>>
where
    F: std::future::Future<Output = anyhow::Result<Vec<Agent>>>,
{
    let mut agents = Vec::new();
    let mut first_error = None;
    for result in futures_util::future::join_all(starts).await {
        match result {
            Ok(started) => agents.extend(started),
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
