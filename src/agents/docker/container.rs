//! One agent in a container: started by testcontainers on the default bridge,
//! moved to the case network under its role name, admin API published on
//! 127.0.0.1, its log captured.

use super::engine::{register_container, remove_container, run_id};
use super::network::CaseNetwork;
use super::CASE_LABEL;
use crate::admin::{wait_ready, AdminAuth, AdminEndpoint};
use crate::agents::cleanup::{self, RUN_LABEL};
use crate::agents::launch::{generate_api_key, raw_wallet_key, Launch};
use crate::agents::log::{self, tail};
use crate::agents::{ready_timeout, Agent, AgentHandle, AgentMode, AgentSpec};
use anyhow::{anyhow, bail};
use async_trait::async_trait;
use futures_util::future::BoxFuture;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use testcontainers::bollard::models::{
    EndpointSettings, HostConfig, NetworkConnectRequest, NetworkDisconnectRequest, PortBinding,
};
use testcontainers::bollard::query_parameters::LogsOptionsBuilder;
use testcontainers::bollard::Docker;
use testcontainers::core::logs::consumer::LogConsumer;
use testcontainers::core::logs::LogFrame;
use testcontainers::core::IntoContainerPort;
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage, ImageExt};

/// DIDComm inbound port inside the container (the official image's convention).
const DIDCOMM_PORT: u16 = 8020;
/// Admin API port inside the container.
const ADMIN_PORT: u16 = 8021;
pub(super) const ROLE_LABEL: &str = "acapy-harness.role";
/// The engine's default network, where the runner starts a container.
pub(super) const DEFAULT_BRIDGE: &str = "bridge";

pub async fn start_one(
    docker: &Docker,
    image: &str,
    (network, run_network): (&Arc<CaseNetwork>, Option<&str>),
    spec: &AgentSpec,
    case: &str,
) -> anyhow::Result<Agent> {
    let alias = dns_name(&spec.role);
    let endpoint = format!("http://{alias}:{DIDCOMM_PORT}");
    let api_key = generate_api_key();
    let launch = Launch {
        label: &spec.label,
        inbound: ("0.0.0.0", DIDCOMM_PORT),
        endpoint: &endpoint,
        admin: ("0.0.0.0", ADMIN_PORT),
        wallet_name: &format!("{alias}-wallet"),
        api_key: &api_key,
        wallet_key: &raw_wallet_key(),
        extra: &spec.all_args(),
        extra_env: &spec.env,
    }
    .command();

    let name = format!("{}-{alias}", network.name);
    let log = LogSink::default();
    let (repository, tag) = split_image(image);
    let mut request = GenericImage::new(repository, tag)
        .with_exposed_port(DIDCOMM_PORT.tcp())
        .with_exposed_port(ADMIN_PORT.tcp())
        .with_cmd(launch.args)
        .with_container_name(&name)
        .with_label(RUN_LABEL, run_id())
        .with_label(CASE_LABEL, case)
        .with_label(ROLE_LABEL, &spec.role)
        .with_log_consumer(log.for_runner())
        .with_host_config_modifier(|host| {
            // Started on the default bridge: the case network, with the role
            // as alias, is attached right after start (see `join_network`).
            host.network_mode = Some(DEFAULT_BRIDGE.into());
            // Only the admin API leaves the network, and only to loopback.
            publish_on_loopback(host, ADMIN_PORT);
        });

    for (name, value) in launch.env {
        request = request.with_env_var(name, value);
    }
    for (path, content) in &spec.files {
        request = request.with_copy_to(path.as_str(), content.clone());
    }
    // Registered by name before it exists: the id is only known once
    // `start` returns, and Ctrl-C may come before.
    let token = register_container(name.clone());
    let container = match request.start().await {
        Ok(container) => container,
        Err(e) => {
            // The runner may have created the container before failing (to
            // start it, say); it does not remove it then.
            let removed = remove_container(docker, &name).await.is_ok();
            if !removed {
                std::mem::forget(token);
            }
            return Err(anyhow!(
                "cannot start the container for `{}` ({image}): {e}",
                spec.role
            ));
        }
    };
    let mut handle = ContainerHandle {
        docker: docker.clone(),
        name,
        container: Some(container),
        token: Some(token),
        log: log.clone(),
        api_key: api_key.clone(),
        halted: None,
        follower: None,
    };
    let ready = async {
        let container = handle.container.as_ref().expect("just started");
        join_network(docker, container.id(), &network.name, &alias).await?;
        if let Some(run_network) = run_network {
            also_join(docker, container.id(), run_network).await?;
        }
        let admin = published_admin(container, &api_key).await?;
        let ended = log.ended.clone();
        let waited = wait_ready(&admin, ready_timeout(), || {
            if ended.load(Ordering::Relaxed) {
                Err("the container stopped".into())
            } else {
                Ok(())
            }
        })
        .await;
        match waited {
            Ok(version) => anyhow::Ok((admin, version)),
            Err(_) if log.ended.load(Ordering::Relaxed) => {
                bail!(
                    "the container {}",
                    how_it_ended(docker, container.id()).await
                )
            }
            Err(e) => Err(e),
        }
    }
    .await;
    match ready {
        Ok((admin, version)) => Ok(Agent {
            role: spec.role.clone(),
            admin,
            version,
            mode: AgentMode::Dedicated,
            handle: Box::new(handle),
        }),
        Err(e) => {
            // Give the log consumer a moment to catch the last lines.
            tokio::time::sleep(Duration::from_millis(200)).await;
            let log = handle
                .log_tail(log::START_FAILURE_READ)
                .await
                .unwrap_or_default();
            handle.stop().await;
            Err(anyhow!(
                "agent `{}` did not start ({image}): {}",
                spec.role,
                log::start_failure(format!("{e:#}"), &log)
            ))
        }
    }
}

/// Publishes `port` (only it) on 127.0.0.1, on a free port the engine
/// chooses; the runner would otherwise publish every exposed port on all
/// interfaces.
pub(super) fn publish_on_loopback(host: &mut HostConfig, port: u16) {
    host.publish_all_ports = Some(false);
    host.port_bindings = Some(HashMap::from([(
        format!("{port}/tcp"),
        Some(vec![PortBinding {
            host_ip: Some("127.0.0.1".into()),
            host_port: Some(String::new()),
        }]),
    )]));
}

/// The admin API where the engine published it on the host's loopback.
async fn published_admin(
    container: &ContainerAsync<GenericImage>,
    api_key: &str,
) -> anyhow::Result<AdminEndpoint> {
    let port = container
        .get_host_port_ipv4(ADMIN_PORT)
        .await
        .map_err(|e| anyhow!("the engine published no host port for {ADMIN_PORT}: {e}"))?;
    Ok(AdminEndpoint::new(
        &format!("http://127.0.0.1:{port}"),
        AdminAuth::ApiKey(api_key.to_owned()),
    ))
}

/// `repository[:tag]` (or `repository@digest`) as the runner wants it:
/// the runner asks for `{name}:{tag}`.
pub(super) fn split_image(image: &str) -> (&str, &str) {
    let last_part = image.rfind('/').map_or(0, |i| i + 1);
    match image[last_part..].rfind(':') {
        Some(i) => (&image[..last_part + i], &image[last_part + i + 1..]),
        None => (image, "latest"),
    }
}

/// Attaches the container to the case network with `alias` (its role) as
/// network alias, then detaches it from the default bridge, so that, as
/// before, only the case's agents reach it. testcontainers' runner sets no
/// `NetworkingConfig`, hence this after `start`; ACA-Py only resolves the
/// other agents' names when it first sends them a message, after
/// `wait_ready`. The engine moves the published admin port to the new
/// network (a new host port): read it afterwards.
pub(super) async fn join_network(
    docker: &Docker,
    id: &str,
    network: &str,
    alias: &str,
) -> anyhow::Result<()> {
    docker
        .connect_network(
            network,
            NetworkConnectRequest {
                container: id.to_owned(),
                endpoint_config: Some(EndpointSettings {
                    aliases: Some(vec![alias.to_owned()]),
                    ..Default::default()
                }),
            },
        )
        .await
        .map_err(|e| anyhow!("cannot attach the container to the network {network}: {e}"))?;
    docker
        .disconnect_network(
            DEFAULT_BRIDGE,
            NetworkDisconnectRequest {
                container: id.to_owned(),
                force: Some(false),
            },
        )
        .await
        .map_err(|e| anyhow!("cannot detach the container from the default bridge: {e}"))
}

/// Attaches a container to one more network (the run's, where its
/// services are), keeping it on the others.
pub(super) async fn also_join(docker: &Docker, id: &str, network: &str) -> anyhow::Result<()> {
    docker
        .connect_network(
            network,
            NetworkConnectRequest {
                container: id.to_owned(),
                endpoint_config: None,
            },
        )
        .await
        .map_err(|e| anyhow!("cannot attach the container to the run's network {network}: {e}"))
}

/// How a container that stopped ended: `exited with code 1 (out of memory)`.
pub(super) async fn how_it_ended(docker: &Docker, id: &str) -> String {
    let state = docker
        .inspect_container(id, None)
        .await
        .ok()
        .and_then(|i| i.state);
    match state {
        Some(s) if s.running == Some(true) => "stopped sending its log".into(),
        Some(s) => format!(
            "exited with code {}{}",
            s.exit_code.unwrap_or(-1),
            if s.oom_killed == Some(true) {
                " (out of memory)"
            } else {
                ""
            }
        ),
        None => "is gone".into(),
    }
}

/// Where the runner's log consumer copies the container's stdout and stderr
/// (interleaved, as the engine sends them). The runner follows the log in a
/// task that owns the consumer and ends with the container; the consumer's
/// `Drop` marks that end, so readiness fails at once when the agent dies
/// instead of at the timeout.
#[derive(Clone, Default)]
pub(super) struct LogSink {
    pub(super) text: Arc<Mutex<String>>,
    pub(super) ended: Arc<AtomicBool>,
    /// Only the copy the runner owns marks the end.
    owned_by_runner: bool,
}

impl LogSink {
    pub(super) fn for_runner(&self) -> LogSink {
        LogSink {
            text: self.text.clone(),
            ended: self.ended.clone(),
            owned_by_runner: true,
        }
    }
}

impl LogConsumer for LogSink {
    fn accept<'a>(&'a self, record: &'a LogFrame) -> BoxFuture<'a, ()> {
        self.text
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_str(&String::from_utf8_lossy(record.bytes()));
        Box::pin(std::future::ready(()))
    }
}

impl Drop for LogSink {
    fn drop(&mut self) {
        if self.owned_by_runner {
            self.ended.store(true, Ordering::Relaxed);
        }
    }
}

struct ContainerHandle {
    docker: Docker,
    /// The container's name, unique on the engine; what [`cleanup`] knows.
    name: String,
    /// `None` once removed.
    container: Option<ContainerAsync<GenericImage>>,
    token: Option<cleanup::Token>,
    log: LogSink,
    api_key: String,
    /// Why it is not running, after a `stop:` step.
    halted: Option<String>,
    /// Follows the log after a restart (the runner's follower ended with the
    /// first start).
    follower: Option<tokio::task::JoinHandle<()>>,
}

impl ContainerHandle {
    /// Copies the container's log from now on into the sink, marking its end.
    fn follow_log(&mut self) {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i32)
            .unwrap_or(0);
        let options = LogsOptionsBuilder::new()
            .follow(true)
            .stdout(true)
            .stderr(true)
            .since(since)
            .build();
        let mut stream = self.docker.logs(&self.name, Some(options));
        let sink = self.log.clone();
        sink.ended.store(false, Ordering::Relaxed);
        self.follower = Some(tokio::spawn(async move {
            while let Some(Ok(chunk)) = stream.next().await {
                sink.text
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push_str(&String::from_utf8_lossy(&chunk.into_bytes()));
            }
            sink.ended.store(true, Ordering::Relaxed);
        }));
    }
}

#[async_trait]
impl AgentHandle for ContainerHandle {
    async fn log_tail(&self, lines: usize) -> Option<String> {
        let log = self.log.text.lock().unwrap_or_else(|e| e.into_inner());
        Some(tail(&log, lines))
    }

    async fn gone(&self) -> Option<String> {
        if let Some(why) = &self.halted {
            return Some(why.clone());
        }
        if !self.log.ended.load(Ordering::Relaxed) {
            return None;
        }
        Some(how_it_ended(&self.docker, &self.name).await)
    }

    async fn halt(&mut self) -> anyhow::Result<()> {
        let container = self.container.as_ref().ok_or_else(|| anyhow!("removed"))?;
        container
            .stop_with_timeout(Some(5))
            .await
            .map_err(|e| anyhow!("cannot stop the container: {e}"))?;
        self.halted = Some("was stopped by a `stop` step".into());
        Ok(())
    }

    async fn resume(&mut self) -> anyhow::Result<AdminEndpoint> {
        let container = self.container.as_ref().ok_or_else(|| anyhow!("removed"))?;
        container
            .start()
            .await
            .map_err(|e| anyhow!("cannot start the container again: {e}"))?;
        self.halted = None;
        self.follow_log();
        let container = self.container.as_ref().expect("checked above");
        // The engine may publish the admin port on another host port.
        let admin = published_admin(container, &self.api_key).await?;
        let ended = self.log.ended.clone();
        wait_ready(&admin, ready_timeout(), || {
            match ended.load(Ordering::Relaxed) {
                true => Err("the container stopped".into()),
                false => Ok(()),
            }
        })
        .await?;
        Ok(admin)
    }

    async fn stop(&mut self) {
        if let Some(follower) = self.follower.take() {
            follower.abort();
        }
        if let Some(container) = self.container.take() {
            // `rm` force-removes with volumes and marks the container as
            // removed, so its `Drop` does not remove it again. When it fails
            // (already gone, say), its `Drop` tries once more; ask the engine
            // by name whether it is really gone.
            let removed = container.rm().await.is_ok()
                || remove_container(&self.docker, &self.name).await.is_ok();
            if removed {
                self.token = None;
            } else if let Some(token) = self.token.take() {
                // Still there: leave it to the final sweep.
                std::mem::forget(token);
            }
        }
    }
}

impl Drop for ContainerHandle {
    fn drop(&mut self) {
        // Dropped without `stop` (a panic, an aborted task): the
        // `ContainerAsync` removes the container as it drops; keep it
        // registered anyway, so the sweep at exit or on a signal removes it
        // should that fail.
        if let Some(token) = self.token.take() {
            std::mem::forget(token);
        }
    }
}

/// A role as a DNS label: lower case, `[a-z0-9-]`. Typical roles (`issuer`,
/// `holder`) are unchanged.
fn dns_name(role: &str) -> String {
    let name: String = role
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    match name.trim_matches('-') {
        "" => "agent".to_owned(),
        name => name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn images_split_into_name_and_tag() {
        assert_eq!(
            split_image("acapy-harness/acapy-agent:1.3.6"),
            ("acapy-harness/acapy-agent", "1.3.6")
        );
        assert_eq!(
            split_image("localhost:5000/acapy:py3.12-1.7.0"),
            ("localhost:5000/acapy", "py3.12-1.7.0")
        );
        assert_eq!(
            split_image("localhost:5000/acapy"),
            ("localhost:5000/acapy", "latest")
        );
        assert_eq!(split_image("acapy@sha256:abc"), ("acapy@sha256", "abc"));
    }

    #[test]
    fn roles_become_dns_names() {
        assert_eq!(dns_name("issuer"), "issuer");
        assert_eq!(dns_name("Verifier_2"), "verifier-2");
    }
}
