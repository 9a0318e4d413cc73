//! Agents that already run somewhere (staging, a compose file, a colleague's
//! laptop): the user gives their admin URLs and keys; nothing is started or stopped.

use super::{Agent, AgentHandle, AgentMode, AgentSpec, Provider, ProviderError, Reach, Scope};
use crate::admin::{wait_ready, AdminEndpoint};
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::time::Duration;

pub struct ExternalProvider {
    /// Each role's admin endpoint.
    pub endpoints: BTreeMap<String, AdminEndpoint>,
}

#[async_trait]
impl Provider for ExternalProvider {
    fn kind(&self) -> &'static str {
        "external"
    }

    fn label(&self) -> String {
        "external".into()
    }

    fn starts_agents(&self) -> bool {
        false
    }

    fn reach(&self) -> Reach {
        Reach::Elsewhere
    }

    async fn start(
        &self,
        specs: &[AgentSpec],
        _scope: &Scope,
    ) -> Result<Vec<Agent>, ProviderError> {
        let checks = specs.iter().map(|spec| async move {
            let Some(endpoint) = self.endpoints.get(&spec.role) else {
                anyhow::bail!(
                    "no admin URL for role `{}` (give `--agent-url {}=URL`; given: {})",
                    spec.role,
                    spec.role,
                    self.endpoints
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            };
            let version = wait_ready(endpoint, Duration::from_secs(10), || Ok(()))
                .await
                .map_err(|e| anyhow::anyhow!("external agent `{}`: {e}", spec.role))?;
            Ok(Agent {
                role: spec.role.clone(),
                admin: endpoint.clone(),
                version,
                mode: AgentMode::Dedicated,
                handle: Box::new(ExternalHandle),
            })
        });
        Ok(futures_util::future::try_join_all(checks).await?)
    }
}

struct ExternalHandle;

#[async_trait]
impl AgentHandle for ExternalHandle {
    async fn log_tail(&self, _lines: usize) -> Option<String> {
        None
    }
    async fn stop(&mut self) {}
}
