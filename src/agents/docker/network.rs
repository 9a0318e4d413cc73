//! The network of one case: its agents reach each other there by role name.

use super::engine::{register_network, run_id};
use super::CASE_LABEL;
use crate::agents::cleanup::{self, RUN_LABEL};
use anyhow::anyhow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use testcontainers::bollard::models::NetworkCreateRequest;
use testcontainers::bollard::query_parameters::InspectNetworkOptions;
use testcontainers::bollard::Docker;

/// The network of one case. Shared by its agents' and services' handles:
/// the last one to stop removes it, after its container (see
/// [`release_network`]).
pub struct CaseNetwork {
    docker: Docker,
    pub name: String,
    token: Option<cleanup::Token>,
}

impl CaseNetwork {
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
        let token = Some(register_network(name.clone()));
        Ok(CaseNetwork {
            docker: docker.clone(),
            name,
            token,
        })
    }

    async fn remove(mut self) {
        if self.docker.remove_network(&self.name).await.is_ok() || !self.exists().await {
            self.token = None;
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

impl Drop for CaseNetwork {
    fn drop(&mut self) {
        // Not removed (an early return, a panic, a failed removal): keep it
        // registered so the sweep at exit or on a signal removes it.
        if let Some(token) = self.token.take() {
            std::mem::forget(token);
        }
    }
}

/// Drops one user of the case network; the last one removes it.
pub async fn release_network(network: Arc<CaseNetwork>) {
    if let Some(network) = Arc::into_inner(network) {
        network.remove().await;
    }
}
