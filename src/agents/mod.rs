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
pub mod notice;
pub mod preload;
pub mod process;
pub mod scope;
pub mod select;
pub mod services;
pub mod shared;
pub mod spawn;
pub mod venv;
pub mod version;

pub use notice::{Notice, Notices};
pub use scope::{CaseId, RunScope, Scope};

use crate::admin::AdminEndpoint;
use crate::version::Version;
use async_trait::async_trait;
use std::time::Duration;

/// What a scenario asks of one agent.
#[derive(Debug, Clone, Default)]
pub struct AgentSpec {
    pub role: String,
    pub label: String,
    /// `aca-py start` flags every agent of the suite gets (its
    /// `agent_args`, rendered), before the role's own.
    pub suite_args: Vec<String>,
    /// The role's own extra `aca-py start` arguments.
    pub args: Vec<String>,
    /// Extra settings passed by environment (`ACAPY_*`): secrets go here.
    pub env: Vec<(String, String)>,
    /// Why the role needs an agent of its own (a `restart:` step), if it does.
    pub own_agent: Option<String>,
    /// Whether the case has services or agents of other sources, which
    /// the agent must reach.
    pub has_neighbours: bool,
    /// Files the provider puts where it said they go
    /// ([`FilePlacement::Inside`]): (path, content).
    pub files: Vec<(String, Vec<u8>)>,
}

/// Whether every role of a case has an agent of its own, or a sub-wallet of
/// a multitenant agent that the whole run shares.
#[derive(
    clap::ValueEnum,
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum AgentMode {
    /// Sub-wallets of multitenant base agents kept for the run (fast).
    Shared,
    /// Freshly started agents for every case.
    Dedicated,
}

impl AgentSpec {
    /// Every flag the agent is started with: the suite's, then the role's.
    pub fn all_args(&self) -> Vec<String> {
        self.suite_args.iter().chain(&self.args).cloned().collect()
    }
}

impl AgentMode {
    pub fn parse(text: &str) -> Option<AgentMode> {
        <AgentMode as clap::ValueEnum>::from_str(text, true).ok()
    }

    pub fn name(self) -> &'static str {
        match self {
            AgentMode::Shared => "shared",
            AgentMode::Dedicated => "dedicated",
        }
    }
}

/// A running agent, as far as the runner cares.
pub struct Agent {
    pub role: String,
    /// Where its admin API answers, and how to authenticate there.
    pub admin: AdminEndpoint,
    /// What `GET /status` reported.
    pub version: String,
    /// A sub-wallet of a shared agent, or an agent of its own.
    pub mode: AgentMode,
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
    /// Whose log [`Self::log_tail`] is, when it is not the agent's own: a
    /// sub-wallet's lines are in its base agent's log, among every other
    /// role's and case's.
    fn log_owner(&self) -> Option<String> {
        None
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
    /// Its process id on this machine, while it runs as a process here.
    fn pid(&self) -> Option<u32> {
        None
    }
    /// Its `HOME` folder on this machine, if it runs here.
    fn home(&self) -> Option<std::path::PathBuf> {
        None
    }
    /// Stops the agent and removes what it left (wallet, container). Idempotent.
    async fn stop(&mut self);
}

/// An agent a provider keeps across cases (a shared base agent), as a soak
/// run watches it between rounds.
#[derive(Debug, Clone)]
pub struct KeptAgent {
    /// Its source: `process::1.3.6`.
    pub label: String,
    /// The suite flags it was started with (one base agent per set).
    pub suite_args: Vec<String>,
    /// Its process on this machine, if it is one.
    pub pid: Option<u32>,
    /// Its `HOME` on this machine, if it has one (a forked agent's
    /// `/proc/PID/environ` shows the preloader's).
    pub home: Option<std::path::PathBuf>,
    /// Its admin API, with its API key.
    pub admin: AdminEndpoint,
}

/// Where a provider's agents listen: agents of two providers reach each
/// other only where they are alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Local processes on 127.0.0.1: they reach each other.
    Loopback,
    /// Containers on the network of their case, which every container
    /// source of the case joins.
    CaseNetwork,
    /// Agents that run elsewhere and reach nothing the harness starts.
    Elsewhere,
}

/// A running service as the agents may reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceEndpoint {
    pub name: String,
    /// The name containers on its network reach it by: the service's name
    /// on a case network, its container's on the run's.
    pub host: String,
    /// Its port on the networks it is on.
    pub port: u16,
    /// Where it is published on 127.0.0.1.
    pub host_port: u16,
}

/// Where a file handed to an agent (`files:`) goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilePlacement {
    /// The provider puts it at this path, where the agent runs (a container).
    Inside(String),
    /// The agent reads it on this machine: the case writes it in a folder
    /// of its own and gives the agent that path.
    OnThisMachine,
}

/// Why a provider or a service could not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// Nothing is wrong with the case: this machine lacks something the
    /// user provides (an engine, an image, a secret in the environment).
    /// Its cases are skipped with the reason.
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
    /// Something broke: the case fails with this.
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

impl ProviderError {
    pub fn unavailable(reason: impl Into<String>) -> ProviderError {
        ProviderError::Unavailable(Unavailable(reason.into()))
    }
}

/// This machine lacks something the user provides: the reason a case skips.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unavailable(pub String);

/// One source of agents: a column of the conformance matrix.
#[async_trait]
pub trait Provider: Send + Sync {
    /// `process`, `docker`, `external`: for names and reports.
    fn kind(&self) -> &'static str;
    /// The part of a case name after the scenario id: `process::1.3.6`.
    fn label(&self) -> String;
    /// What sets its cases apart from those of a source of the same kind
    /// and version (`dedicated`, beside a shared twin), for case names.
    fn variant(&self) -> Option<&'static str> {
        None
    }
    /// Whether it starts its agents (it can then start a shared base agent).
    fn starts_agents(&self) -> bool {
        true
    }
    /// Where its agents listen, as far as other agents are concerned.
    fn reach(&self) -> Reach;
    /// The ACA-Py version asked for, if the provider picks one.
    fn requested_version(&self) -> Option<Version> {
        None
    }
    /// Where its agents find a service: host and port. From this machine
    /// (127.0.0.1 and the published port) unless it says otherwise.
    fn service_address(&self, service: &ServiceEndpoint) -> (String, u16) {
        ("127.0.0.1".to_owned(), service.host_port)
    }
    /// Where a file an agent is handed goes; `inside` is the path the
    /// scenario asks for inside a container.
    fn file_placement(&self, _inside: &str) -> FilePlacement {
        FilePlacement::OnThisMachine
    }
    /// Whether agents can be started here; the error says why not.
    async fn availability(&self) -> Result<(), Unavailable> {
        Ok(())
    }
    /// Removes what killed earlier runs of this provider left, tells so and
    /// returns how many things it removed.
    async fn sweep_stale(&self, _notices: &Notices) -> usize {
        0
    }
    /// Makes sure everything is installed; tells what it does.
    async fn prepare(&self, _notices: &Notices) -> Result<(), ProviderError> {
        Ok(())
    }
    /// Starts every agent; on error nothing is left running.
    async fn start(&self, specs: &[AgentSpec], scope: &Scope) -> Result<Vec<Agent>, ProviderError>;
    /// Stops what outlives a case (a shared base agent) at the end of a run.
    async fn finish(&self) {}
    /// The agents it keeps across cases and that still run.
    async fn kept_agents(&self) -> Vec<KeptAgent> {
        Vec::new()
    }
    /// The id of the image its agents run, once one is chosen: an API
    /// document cached for a tag must not outlive a rebuild of that tag.
    async fn image_id(&self) -> Option<String> {
        None
    }
}

/// Starts agents concurrently; if any fails, stops those that started and
/// returns the first error, so a failed start leaves nothing running.
pub async fn start_all<F, E>(starts: impl IntoIterator<Item = F>) -> Result<Vec<Agent>, E>
where
    F: std::future::Future<Output = Result<Vec<Agent>, E>>,
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
