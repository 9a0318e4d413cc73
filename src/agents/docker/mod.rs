//! ACA-Py in containers: one user-defined Docker network per case, one
//! container per role on it, reachable from the other agents as `http://ROLE:8020`
//! (network alias = role), admin API published on `127.0.0.1:RANDOM`.
//!
//! Containers are run by testcontainers: a [`GenericImage`] request
//! ([`ImageExt`]: command, name, labels, log consumer, `HostConfig` for the
//! port binding) started with [`AsyncRunner::start`], removed with
//! [`ContainerAsync::rm`]. Its runner sets no `NetworkingConfig`, so it
//! cannot give a container a network alias: the container starts on the
//! default bridge and is moved to the case network, with its role as alias,
//! right after `start` ([`join_network`]), through the `bollard` client
//! testcontainers re-exports. Networks, images and the stale sweep go
//! through that client too: the runner cannot label or remove a network.
//! (The runner's own client does not negotiate the API version; over the
//! local socket bollard sends unversioned paths, which engine 20.10, API
//! 1.41, answers.)
//!
//! Readiness is [`wait_ready`] on the admin API, not a testcontainers
//! `WaitFor`. testcontainers' `watchdog` feature is not used: its SIGINT
//! handler stops containers one by one (10 s grace each), panics on a
//! container already gone and then re-raises the signal, killing the
//! process while [`crate::agents::cleanup`]'s handler may still be removing networks.
//!
//! Every network and container carries the label [`cleanup::RUN_LABEL`] with
//! [`run_id`] as value and is registered in [`crate::agents::cleanup`] until removed, so
//! Ctrl-C removes it; [`sweep_stale`] removes what a killed run left.

mod container;
mod engine;
mod network;
pub mod service;

pub use engine::{engine_available, image_present, run_id, sweep_stale};
pub use network::{CaseNetwork, RunNetwork};

use super::version::Release;
use super::{
    Agent, AgentSpec, FilePlacement, Notices, Provider, ProviderError, Reach, Scope,
    ServiceEndpoint, Unavailable,
};
use anyhow::anyhow;
use async_trait::async_trait;
use engine::{connect, pull};
use std::sync::Arc;
use testcontainers::bollard::Docker;

/// The network of the case in `scope`, made by whoever needs it first: the
/// case's services or the first of its container agents. Containers of
/// every version of the case join it, and reach each other there by role.
pub async fn case_network(docker: &Docker, scope: &Scope) -> anyhow::Result<Arc<CaseNetwork>> {
    scope
        .get_or_try_make(|| CaseNetwork::create(docker, &scope.case.name))
        .await
}

/// Labels every network and container with the case it belongs to.
const CASE_LABEL: &str = "acapy-harness.case";

pub struct DockerProvider {
    release: Release,
    image: Option<String>,
    /// The image chosen by `prepare`, or why none is usable; decided once.
    resolved: tokio::sync::OnceCell<Result<String, String>>,
}

impl DockerProvider {
    pub fn new(release: Release, image: Option<String>) -> DockerProvider {
        DockerProvider {
            release,
            image,
            resolved: tokio::sync::OnceCell::new(),
        }
    }

    /// The image asked for: `--image`, else the locally built one. The one
    /// actually run may be the official image, see [`Self::resolve_image`].
    pub fn image(&self) -> String {
        self.image
            .clone()
            .unwrap_or_else(|| self.release.local_image())
    }

    /// The image that would run without pulling anything: `--image` if
    /// present, else the local build, else the official image if present.
    async fn present_image(&self, docker: &Docker) -> Option<String> {
        let candidates = match &self.image {
            Some(image) => vec![image.clone()],
            None => vec![self.release.local_image(), self.release.official_image()],
        };
        for image in candidates {
            if docker.inspect_image(&image).await.is_ok() {
                return Some(image);
            }
        }
        None
    }

    /// `--image` if given (pulled if absent), else the local image if built,
    /// else the official image (pulled if absent).
    async fn resolve_image(&self, notices: &Notices) -> anyhow::Result<String> {
        let docker = connect().await?;
        if let Some(image) = self.present_image(&docker).await {
            return Ok(image);
        }
        let v = &self.release;
        let wanted = self.image.clone().unwrap_or_else(|| v.official_image());
        pull(&docker, &wanted, notices)
            .await
            .map_err(|e| match &self.image {
                Some(image) if !image.starts_with("acapy-harness/acapy-agent:") => {
                    anyhow!("image {image} is not here and cannot be pulled: {e}")
                }
                Some(image) => anyhow!(
                    "image {image} is not present locally and cannot be pulled: {e} \
                 (`docker/build-image.sh {v} {image}` builds one offline)"
                ),
                None => anyhow!(
                    "no image for ACA-Py {v}: {} is not built (build it offline with \
                 `docker/build-image.sh {v}`) and {wanted} cannot be pulled: {e}",
                    v.local_image()
                ),
            })?;
        Ok(wanted)
    }

    /// The image to run, chosen on first use; a failure is remembered too, so
    /// every case of the run fails fast with the same message.
    async fn chosen_image(&self, notices: &Notices) -> anyhow::Result<String> {
        self.resolved
            .get_or_init(|| async {
                self.resolve_image(notices)
                    .await
                    .map_err(|e| format!("{e:#}"))
            })
            .await
            .clone()
            .map_err(|e| anyhow!(e))
    }
}

#[async_trait]
impl Provider for DockerProvider {
    fn kind(&self) -> &'static str {
        "docker"
    }

    fn label(&self) -> String {
        format!("docker::{}", self.release)
    }

    /// Each case's containers are on a network of their own, which the
    /// containers of every version of the case join; local processes are
    /// not on it.
    fn reach(&self) -> Reach {
        Reach::CaseNetwork
    }

    fn requested_version(&self) -> Option<crate::version::Version> {
        Some(self.release.version.clone())
    }

    /// By name and port on the case network (or the run's).
    fn service_address(&self, service: &ServiceEndpoint) -> (String, u16) {
        (service.host.clone(), service.port)
    }

    /// Copied into the container.
    fn file_placement(&self, inside: &str) -> FilePlacement {
        FilePlacement::Inside(inside.to_owned())
    }

    /// The engine answers and the image is there: nothing to pull.
    async fn availability(&self) -> Result<(), Unavailable> {
        engine_available().await.map_err(Unavailable)?;
        let docker = connect().await.map_err(|e| Unavailable(format!("{e:#}")))?;
        match self.present_image(&docker).await {
            Some(_) => Ok(()),
            None => Err(Unavailable(format!(
                "no image {}; build it with `docker/build-image.sh {}` or pass --image",
                self.image(),
                self.release
            ))),
        }
    }

    async fn sweep_stale(&self, notices: &Notices) -> usize {
        sweep_stale(notices).await.unwrap_or(0)
    }

    /// An image that is not here and cannot be pulled makes the cases
    /// skip, naming it.
    async fn prepare(&self, notices: &Notices) -> Result<(), ProviderError> {
        match self.chosen_image(notices).await {
            Ok(_) => Ok(()),
            Err(e) => Err(ProviderError::unavailable(format!("{e:#}"))),
        }
    }

    async fn start(&self, specs: &[AgentSpec], scope: &Scope) -> Result<Vec<Agent>, ProviderError> {
        let image = self.chosen_image(scope.notices()).await?;
        let docker = connect().await?;
        let network = case_network(&docker, scope).await?;
        // The run's services (a ledger) are reached on the run's network.
        let run_network = scope.run.get::<RunNetwork>().await;
        let run_network = run_network.as_ref().map(|n| n.name());
        let case = scope.case.name.as_str();
        let starts = specs.iter().map(|spec| {
            let (docker, image, network) = (&docker, &image, &network);
            async move {
                let networks = (network, run_network);
                let agent = container::start_one(docker, image, networks, spec, case).await?;
                anyhow::Ok(vec![agent])
            }
        });
        Ok(super::start_all(starts).await?)
    }

    async fn image_id(&self) -> Option<String> {
        let image = self.resolved.get()?.as_ref().ok()?;
        let docker = connect().await.ok()?;
        docker.inspect_image(image).await.ok()?.id
    }
}
