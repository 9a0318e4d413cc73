//! The network of one case: its agents reach each other there by role name.

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
