//! ACA-Py in containers through testcontainers.

use super::version::Release;
use super::{Agent, AgentSpec, Provider};
use async_trait::async_trait;

pub struct DockerProvider {
    release: Release,
    image: Option<String>,
}

impl DockerProvider {
    pub fn new(release: Release, image: Option<String>) -> DockerProvider {
        DockerProvider { release, image }
    }

    pub fn image(&self) -> String {
        self.image
            .clone()
            .unwrap_or_else(|| self.release.local_image())
    }
}

#[async_trait]
impl Provider for DockerProvider {
    fn kind(&self) -> &'static str {
        "docker"
    }

    fn requested_version(&self) -> Option<&str> {
        None
    }

    async fn start(&self, _specs: &[AgentSpec], _case: &str) -> anyhow::Result<Vec<Agent>> {
        anyhow::bail!(
            "the docker provider is not built yet (image {})",
            self.image()
        )
    }
}
