//! Docker networks: one per case, where its agents reach each other by
//! role name, and one per run for the services every case shares (a
//! ledger), which the run's container agents join too.

use super::engine::{register_network, run_id};
use super::CASE_LABEL;
use crate::agents::cleanup::{self, RUN_LABEL};
use crate::agents::scope::Resource;
use anyhow::anyhow;
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use testcontainers::bollard::models::NetworkCreateRequest;
use testcontainers::bollard::query_parameters::InspectNetworkOptions;
use testcontainers::bollard::Docker;

/// The network of one case, kept in the case's scope: every container of
/// the case (agents of every version, services) joins it, and the scope
/// removes it once they are gone.
pub struct CaseNetwork {
    docker: Docker,
    pub name: String,
    token: Mutex<Option<cleanup::Token>>,
}

impl CaseNetwork {
    /// A network labelled with the run and with `case` (`run` for the
    /// run's own), registered for the sweep until removed.
    pub async fn create(docker: &Docker, case: &str) -> anyhow::Result<CaseNetwork> {
        static NEXT: AtomicU32 = AtomicU32::new(1);
        let name = format!(
            "acapy-harness-{}-{}",
            run_id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let labels = HashMap::from([
            (RUN_LABEL.to_owned(), run_id().to_owned()),
            (CASE_LABEL.to_owned(), case.to_owned()),
        ]);
        docker
            .create_network(NetworkCreateRequest {
                name: name.clone(),
                driver: Some("bridge".into()),
                labels: Some(labels),
                ..Default::default()
            })
            .await
            .map_err(|e| anyhow!("cannot create the Docker network {name}: {e}"))?;
        let token = Mutex::new(Some(register_network(name.clone())));
        Ok(CaseNetwork {
            docker: docker.clone(),
            name,
            token,
        })
    }

    async fn remove(&self) {
        if self.docker.remove_network(&self.name).await.is_ok() || !self.exists().await {
            *self.token.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
        // Otherwise `Drop` leaves it registered: the final sweep retries.
    }

    async fn exists(&self) -> bool {
        self.docker
            .inspect_network(&self.name, None::<InspectNetworkOptions>)
            .await
            .is_ok()
    }
}

impl std::fmt::Debug for CaseNetwork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CaseNetwork({})", self.name)
    }
}

#[async_trait]
impl Resource for CaseNetwork {
    async fn close(&self) {
        self.remove().await;
    }
}

/// The network of the run's services, kept in the run's scope: made before
/// them (so closed after them), joined by every container agent of the run
/// so that it reaches them at the address they were started with.
#[derive(Debug)]
pub struct RunNetwork(pub CaseNetwork);

impl RunNetwork {
    pub async fn create(docker: &Docker) -> anyhow::Result<RunNetwork> {
        Ok(RunNetwork(CaseNetwork::create(docker, "run").await?))
    }

    pub fn name(&self) -> &str {
        &self.0.name
    }
}

#[async_trait]
impl Resource for RunNetwork {
    async fn close(&self) {
        self.0.remove().await;
    }
}

impl Drop for CaseNetwork {
    fn drop(&mut self) {
        // Not removed (an early return, a panic, a failed removal): keep it
        // registered so the sweep at exit or on a signal removes it.
        if let Some(token) = self
            .token
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            std::mem::forget(token);
        }
    }
}
