//! Agents that already run somewhere (staging, a compose file, a colleague's
//! laptop): the user gives their admin URLs and keys; nothing is started or stopped.

use super::{wait_ready, Agent, AgentHandle, AgentSpec, Provider};
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Endpoint {
    pub admin_url: String,
    pub api_key: Option<String>,
}

pub struct ExternalProvider {
    pub endpoints: BTreeMap<String, Endpoint>,
}

#[async_trait]
impl Provider for ExternalProvider {
    fn kind(&self) -> &'static str {
        "external"
    }

    async fn start(&self, specs: &[AgentSpec], _case: &str) -> anyhow::Result<Vec<Agent>> {
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
            let admin_url = endpoint.admin_url.trim_end_matches('/').to_owned();
            let version = wait_ready(
                &admin_url,
                endpoint.api_key.as_deref(),
                Duration::from_secs(10),
                || Ok(()),
            )
            .await
            .map_err(|e| anyhow::anyhow!("external agent `{}`: {e}", spec.role))?;
            Ok(Agent {
                role: spec.role.clone(),
                admin_url,
                api_key: endpoint.api_key.clone(),
                version,
                handle: Box::new(ExternalHandle),
            })
        });
        futures_util::future::try_join_all(checks).await
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
