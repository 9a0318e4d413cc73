//! From what the user chose (a provider, versions, images, external agents)
//! to the providers a run uses: one per column of the matrix.

use super::docker::DockerProvider;
use super::external::ExternalProvider;
use super::preload::AgentStart;
use super::process::ProcessProvider;
use super::shared::SharedProvider;
use super::version::Release;
pub use super::AgentMode;

/// `--agents`: which mode(s) a run's cases use.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Modes {
    /// Sub-wallets of multitenant base agents kept for the run (fast).
    Shared,
    /// Freshly started agents for every case.
    Dedicated,
    /// Every case twice, shared and dedicated (`…::dedicated`); a different
    /// verdict is reported as a finding of its own.
    Both,
}

impl Modes {
    pub fn parse(text: &str) -> Option<Modes> {
        <Modes as clap::ValueEnum>::from_str(text, true).ok()
    }

    /// The modes to run, each with its sources' wrapping.
    pub fn each(self) -> &'static [AgentMode] {
        match self {
            Modes::Shared => &[AgentMode::Shared],
            Modes::Dedicated => &[AgentMode::Dedicated],
            Modes::Both => &[AgentMode::Shared, AgentMode::Dedicated],
        }
    }
}

/// The label suffix of a case run on dedicated agents beside its shared
/// twin (`--agents both`).
pub const DEDICATED_TWIN: &str = "dedicated";

/// A source that runs its cases on dedicated agents beside a shared twin
/// of the same version: the same agents, its own name.
pub struct DedicatedTwin(pub Arc<dyn Provider>);

#[async_trait::async_trait]
impl Provider for DedicatedTwin {
    fn kind(&self) -> &'static str {
        self.0.kind()
    }
    fn label(&self) -> String {
        format!("{}::{DEDICATED_TWIN}", self.0.label())
    }
    fn variant(&self) -> Option<&'static str> {
        Some(DEDICATED_TWIN)
    }
    fn starts_agents(&self) -> bool {
        self.0.starts_agents()
    }
    fn reach(&self) -> super::Reach {
        self.0.reach()
    }
    fn requested_version(&self) -> Option<crate::version::Version> {
        self.0.requested_version()
    }
    fn service_address(&self, service: &super::ServiceEndpoint) -> (String, u16) {
        self.0.service_address(service)
    }
    fn file_placement(&self, inside: &str) -> super::FilePlacement {
        self.0.file_placement(inside)
    }
    async fn availability(&self) -> Result<(), super::Unavailable> {
        self.0.availability().await
    }
    async fn sweep_stale(&self, notices: &Notices) -> usize {
        self.0.sweep_stale(notices).await
    }
    async fn prepare(&self, notices: &Notices) -> Result<(), super::ProviderError> {
        self.0.prepare(notices).await
    }
    async fn start(
        &self,
        specs: &[super::AgentSpec],
        scope: &super::Scope,
    ) -> Result<Vec<super::Agent>, super::ProviderError> {
        self.0.start(specs, scope).await
    }
    async fn finish(&self) {
        self.0.finish().await
    }
}
use super::{Notices, Provider};
use crate::admin::{AdminAuth, AdminEndpoint};
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderChoice {
    /// Docker when an engine answers and the version's image is there, else process.
    Auto,
    Process,
    Docker,
    External,
}

impl ProviderChoice {
    pub fn parse(text: &str) -> Option<ProviderChoice> {
        <ProviderChoice as clap::ValueEnum>::from_str(text, true).ok()
    }
}

/// In `Shared` mode, each source becomes a shared one, with up to `jobs`
/// base agents for a set of suite flags.
pub fn with_mode(
    sources: Vec<Arc<dyn Provider>>,
    mode: AgentMode,
    jobs: usize,
) -> Vec<Arc<dyn Provider>> {
    match mode {
        AgentMode::Dedicated => sources,
        AgentMode::Shared => sources
            .into_iter()
            .map(|inner| match inner.starts_agents() {
                true => Arc::new(SharedProvider::new(inner).with_bases(jobs)),
                // Agents that already run are used as they are.
                false => inner,
            })
            .collect(),
    }
}

/// Dedicated sources beside shared twins (`--agents both`).
pub fn as_twins(sources: Vec<Arc<dyn Provider>>) -> Vec<Arc<dyn Provider>> {
    sources
        .into_iter()
        .map(|s| match s.starts_agents() {
            true => Arc::new(DedicatedTwin(s)) as Arc<dyn Provider>,
            false => s,
        })
        .collect()
}

/// One provider per version. `image` is the image asked for a version
/// (`--image`, or the suite's `images`); `agent_start` is how process
/// agents start.
pub async fn for_versions(
    choice: ProviderChoice,
    releases: &[Release],
    image: impl Fn(&Release) -> Option<String>,
    agent_start: AgentStart,
    notices: &Notices,
) -> Vec<Arc<dyn Provider>> {
    let mut providers: Vec<Arc<dyn Provider>> = Vec::new();
    for release in releases {
        let process = || {
            Arc::new(ProcessProvider::new(release.clone()).with_agent_start(agent_start))
                as Arc<dyn Provider>
        };
        let docker = || DockerProvider::new(release.clone(), image(release));
        providers.push(match choice {
            ProviderChoice::Process => process(),
            ProviderChoice::Docker => Arc::new(docker()),
            ProviderChoice::Auto => {
                let docker = docker();
                match docker.availability().await {
                    Ok(()) => {
                        notices.say(format!(
                            "ACA-Py {release} in Docker (image {})",
                            docker.image()
                        ));
                        Arc::new(docker)
                    }
                    Err(why) => {
                        notices.say(format!("ACA-Py {release} as local processes ({why})"));
                        process()
                    }
                }
            }
            ProviderChoice::External => {
                unreachable!("external agents are not chosen by version")
            }
        });
    }
    providers
}

/// Agents that already run: `ROLE=URL` and `ROLE=KEY` pairs.
pub fn external(urls: &[String], keys: &[String]) -> anyhow::Result<Arc<dyn Provider>> {
    Ok(Arc::new(ExternalProvider {
        endpoints: endpoints(urls, keys)?,
    }))
}

pub fn endpoints(
    urls: &[String],
    keys: &[String],
) -> anyhow::Result<BTreeMap<String, AdminEndpoint>> {
    let pair = |text: &str, what: &str| -> anyhow::Result<(String, String)> {
        text.split_once('=')
            .map(|(r, v)| (r.trim().to_owned(), v.trim().to_owned()))
            .filter(|(r, v)| !r.is_empty() && !v.is_empty())
            .ok_or_else(|| match what {
                // Never echo what may be a key.
                "KEY" => anyhow::anyhow!("an --agent-key is not ROLE=KEY"),
                _ => anyhow::anyhow!("`{text}` is not ROLE={what}"),
            })
    };
    let mut endpoints = BTreeMap::new();
    for url in urls {
        let (role, admin_url) = pair(url, "URL")?;
        endpoints.insert(role, AdminEndpoint::new(&admin_url, AdminAuth::None));
    }
    if endpoints.is_empty() {
        anyhow::bail!("--provider external needs `--agent-url ROLE=URL` for every role");
    }
    for key in keys {
        let (role, api_key) = pair(key, "KEY")?;
        let endpoint: &mut AdminEndpoint = endpoints
            .get_mut(&role)
            .ok_or_else(|| anyhow::anyhow!("--agent-key for `{role}`, which has no --agent-url"))?;
        endpoint.auth = AdminAuth::ApiKey(api_key);
    }
    Ok(endpoints)
}
