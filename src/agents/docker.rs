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
//! process while [`cleanup`]'s handler may still be removing networks.
//!
//! Every network and container carries the label [`cleanup::RUN_LABEL`] with
//! [`run_id`] as value and is registered in [`cleanup`] until removed, so
//! Ctrl-C removes it; [`sweep_stale`] removes what a killed run left.

use super::cleanup::{self, RUN_LABEL};
use super::process::tail;
use super::version::Release;
use super::{generate_api_key, ready_timeout, wait_ready, Agent, AgentHandle, AgentSpec, Provider};
use anyhow::{anyhow, bail, Context};
use async_trait::async_trait;
use futures_util::future::BoxFuture;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use testcontainers::bollard::errors::Error as DockerError;
use testcontainers::bollard::models::{
    EndpointSettings, NetworkConnectRequest, NetworkCreateRequest, NetworkDisconnectRequest,
    PortBinding,
};
use testcontainers::bollard::query_parameters::{
    CreateImageOptionsBuilder, InspectNetworkOptions, ListContainersOptionsBuilder,
    ListNetworksOptionsBuilder, RemoveContainerOptionsBuilder,
};
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
const CASE_LABEL: &str = "acapy-harness.case";
const ROLE_LABEL: &str = "acapy-harness.role";
/// The engine's default network, where the runner starts a container.
const DEFAULT_BRIDGE: &str = "bridge";
/// How long talking to the engine may take before it counts as unreachable.
const ENGINE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a pull may take; a machine without a registry fails well before.
const PULL_TIMEOUT: Duration = Duration::from_secs(600);

/// This harness run: `PID-RANDOM`. The PID lets [`sweep_stale`] tell a run
/// that still lives from one that was killed.
pub fn run_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        use rand::Rng;
        let random: u32 = rand::rng().random();
        format!("{}-{:06x}", std::process::id(), random & 0xff_ffff)
    })
}

/// A client for the engine at `DOCKER_HOST` (default: the local socket).
/// The API version is negotiated so no request names a version the engine
/// refuses (bollard's default is 1.53; engine 20.10 speaks 1.41).
async fn connect() -> anyhow::Result<Docker> {
    let docker =
        Docker::connect_with_defaults().map_err(|e| anyhow!("Docker engine not reachable: {e}"))?;
    match tokio::time::timeout(ENGINE_TIMEOUT, docker.negotiate_version()).await {
        Ok(Ok(docker)) => Ok(docker),
        Ok(Err(e)) => bail!("Docker engine not reachable: {e}"),
        Err(_) => bail!(
            "Docker engine not reachable: no answer within {}s",
            ENGINE_TIMEOUT.as_secs()
        ),
    }
}

/// Whether a Docker engine answers; the error says why not.
pub async fn engine_available() -> Result<(), String> {
    let docker = connect().await.map_err(|e| e.to_string())?;
    match tokio::time::timeout(ENGINE_TIMEOUT, docker.ping()).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(format!("Docker engine not reachable: {e}")),
        Err(_) => Err("Docker engine not reachable: ping timed out".into()),
    }
}

/// Whether the image `name` is in the engine's local store.
pub async fn image_present(name: &str) -> bool {
    match connect().await {
        Ok(docker) => docker.inspect_image(name).await.is_ok(),
        Err(_) => false,
    }
}

/// Removes containers and networks labelled [`RUN_LABEL`] by runs that are
/// over (not this run, and their PID is gone), says on stderr what it removed
/// and returns how many. Runs still alive are left alone. The PID check
/// assumes the harnesses sharing this engine run on this machine.
pub async fn sweep_stale() -> anyhow::Result<usize> {
    let docker = connect().await?;
    let filters = HashMap::from([("label".to_owned(), vec![RUN_LABEL.to_owned()])]);
    let mut removed = 0;
    let containers = docker
        .list_containers(Some(
            ListContainersOptionsBuilder::new()
                .all(true)
                .filters(&filters)
                .build(),
        ))
        .await
        .context("cannot list containers")?;
    for c in containers {
        let run = c.labels.as_ref().and_then(|l| l.get(RUN_LABEL));
        let (Some(id), Some(run)) = (c.id.as_deref(), run) else {
            continue;
        };
        if !run_is_over(run) {
            continue;
        }
        let name = c
            .names
            .as_ref()
            .and_then(|n| n.first())
            .map(|n| n.trim_start_matches('/').to_owned())
            .unwrap_or_else(|| id.to_owned());
        if remove_container(&docker, id).await.is_ok() {
            eprintln!("acapy-harness: removed container {name} left by run {run}");
            removed += 1;
        }
    }
    let networks = docker
        .list_networks(Some(
            ListNetworksOptionsBuilder::new().filters(&filters).build(),
        ))
        .await
        .context("cannot list networks")?;
    for n in networks {
        let run = n.labels.as_ref().and_then(|l| l.get(RUN_LABEL));
        let (Some(name), Some(run)) = (n.name.as_deref(), run) else {
            continue;
        };
        if run_is_over(run) && docker.remove_network(name).await.is_ok() {
            eprintln!("acapy-harness: removed network {name} left by run {run}");
            removed += 1;
        }
    }
    Ok(removed)
}

/// `PID-RANDOM` of another run whose process no longer exists. A label that
/// does not parse can only come from a broken run: over too.
fn run_is_over(run: &str) -> bool {
    if run == run_id() {
        return false;
    }
    match run
        .split_once('-')
        .and_then(|(pid, _)| pid.parse::<u32>().ok())
    {
        Some(pid) => !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        None => true,
    }
}

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

    /// `--image` if given (pulled if absent), else the local image if built,
    /// else the official image (pulled).
    async fn resolve_image(&self) -> anyhow::Result<String> {
        let docker = connect().await?;
        let present = |name: String| {
            let docker = docker.clone();
            async move { docker.inspect_image(&name).await.is_ok() }
        };
        if let Some(image) = &self.image {
            if present(image.clone()).await {
                return Ok(image.clone());
            }
            return match pull(&docker, image).await {
                Ok(()) => Ok(image.clone()),
                Err(e) => Err(anyhow!(
                    "image {image} is not present locally and cannot be pulled: {e} \
                     (`docker/build-image.sh {} {image}` builds one offline)",
                    self.release
                )),
            };
        }
        let local = self.release.local_image();
        if present(local.clone()).await {
            return Ok(local);
        }
        let official = self.release.official_image();
        if present(official.clone()).await {
            return Ok(official);
        }
        match pull(&docker, &official).await {
            Ok(()) => Ok(official),
            Err(e) => Err(anyhow!(
                "no image for ACA-Py {v}: {local} is not built (build it offline with \
                 `docker/build-image.sh {v}`) and {official} cannot be pulled: {e}",
                v = self.release
            )),
        }
    }

    /// The image to run, chosen on first use; a failure is remembered too, so
    /// every case of the run fails fast with the same message.
    async fn chosen_image(&self) -> anyhow::Result<String> {
        self.resolved
            .get_or_init(|| async { self.resolve_image().await.map_err(|e| format!("{e:#}")) })
            .await
            .clone()
            .map_err(|e| anyhow!(e))
    }

    async fn start_all(
        &self,
        docker: &Docker,
        image: &str,
        network: &Arc<CaseNetwork>,
        specs: &[AgentSpec],
        case: &str,
    ) -> anyhow::Result<Vec<Agent>> {
        super::start_all(
            specs
                .iter()
                .map(|s| start_one(docker, image, network, s, case)),
        )
        .await
    }
}

#[async_trait]
impl Provider for DockerProvider {
    fn kind(&self) -> &'static str {
        "docker"
    }

    async fn prepare(&self) -> anyhow::Result<()> {
        self.chosen_image().await.map(|_| ())
    }

    async fn start(&self, specs: &[AgentSpec], case: &str) -> anyhow::Result<Vec<Agent>> {
        let image = self.chosen_image().await?;
        let docker = connect().await?;
        let network = Arc::new(CaseNetwork::create(&docker, case).await?);
        let started = self.start_all(&docker, &image, &network, specs, case).await;
        if started.is_err() {
            // The agents that did start are stopped; this was the last user.
            release_network(network).await;
        }
        started
    }
}

/// The network of one case. Shared by its agents' handles: the last one to
/// stop removes it, after its container (see [`release_network`]).
struct CaseNetwork {
    docker: Docker,
    name: String,
    token: Option<cleanup::Token>,
}

impl CaseNetwork {
    async fn create(docker: &Docker, case: &str) -> anyhow::Result<CaseNetwork> {
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
        let token = Some(cleanup::network(name.clone()));
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
async fn release_network(network: Arc<CaseNetwork>) {
    if let Some(network) = Arc::into_inner(network) {
        network.remove().await;
    }
}

async fn start_one(
    docker: &Docker,
    image: &str,
    network: &Arc<CaseNetwork>,
    spec: &AgentSpec,
    case: &str,
) -> anyhow::Result<Agent> {
    let alias = dns_name(&spec.role);
    let endpoint = format!("http://{alias}:{DIDCOMM_PORT}");
    let api_key = generate_api_key();
    let mut cmd: Vec<String> = [
        "start",
        "--label",
        &spec.label,
        "-it",
        "http",
        "0.0.0.0",
        &DIDCOMM_PORT.to_string(),
        "-ot",
        "http",
        "-e",
        &endpoint,
        "--admin",
        "0.0.0.0",
        &ADMIN_PORT.to_string(),
        "--admin-api-key",
        &api_key,
        "--no-ledger",
        "--wallet-type",
        "askar",
        "--wallet-name",
        &format!("{alias}-wallet"),
        "--wallet-key",
        &generate_api_key(),
        "--auto-provision",
        "--log-level",
        "warning",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    cmd.extend(spec.args.iter().cloned());

    let name = format!("{}-{alias}", network.name);
    let log = LogSink::default();
    let (repository, tag) = split_image(image);
    let request = GenericImage::new(repository, tag)
        .with_exposed_port(DIDCOMM_PORT.tcp())
        .with_exposed_port(ADMIN_PORT.tcp())
        .with_cmd(cmd)
        .with_container_name(&name)
        .with_label(RUN_LABEL, run_id())
        .with_label(CASE_LABEL, case)
        .with_label(ROLE_LABEL, &spec.role)
        .with_log_consumer(log.for_runner())
        .with_host_config_modifier(|host| {
            // Started on the default bridge: the case network, with the role
            // as alias, is attached right after start (see `join_network`).
            host.network_mode = Some(DEFAULT_BRIDGE.into());
            // Only the admin API leaves the network, and only to loopback;
            // an empty host port lets the engine choose a free one. (The
            // runner would otherwise publish every exposed port on all
            // interfaces.)
            host.publish_all_ports = Some(false);
            host.port_bindings = Some(HashMap::from([(
                format!("{ADMIN_PORT}/tcp"),
                Some(vec![PortBinding {
                    host_ip: Some("127.0.0.1".into()),
                    host_port: Some(String::new()),
                }]),
            )]));
        });

    // Registered by name before it exists: the id is only known once
    // `start` returns, and Ctrl-C may come before.
    let token = cleanup::container(name.clone());
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
        network: Some(network.clone()),
    };
    let ready = async {
        let container = handle.container.as_ref().expect("just started");
        join_network(docker, container.id(), &network.name, &alias).await?;
        let port = container
            .get_host_port_ipv4(ADMIN_PORT)
            .await
            .map_err(|e| anyhow!("the engine published no host port for {ADMIN_PORT}: {e}"))?;
        let admin_url = format!("http://127.0.0.1:{port}");
        let ended = log.ended.clone();
        let waited = wait_ready(&admin_url, Some(&api_key), ready_timeout(), || {
            if ended.load(Ordering::Relaxed) {
                Err("the container stopped".into())
            } else {
                Ok(())
            }
        })
        .await;
        match waited {
            Ok(version) => anyhow::Ok((admin_url, version)),
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
        Ok((admin_url, version)) => Ok(Agent {
            role: spec.role.clone(),
            admin_url,
            api_key: Some(api_key),
            version,
            handle: Box::new(handle),
        }),
        Err(e) => {
            // Give the log consumer a moment to catch the last lines.
            tokio::time::sleep(Duration::from_millis(200)).await;
            let log = handle.log_tail(30).await.unwrap_or_default();
            handle.stop().await;
            Err(anyhow!(
                "agent `{}` did not start ({image}): {e:#}\n--- last lines of its log ---\n{log}",
                spec.role
            ))
        }
    }
}

/// `repository[:tag]` (or `repository@digest`) as the runner wants it:
/// the runner asks for `{name}:{tag}`.
fn split_image(image: &str) -> (&str, &str) {
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
async fn join_network(docker: &Docker, id: &str, network: &str, alias: &str) -> anyhow::Result<()> {
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

/// How a container that stopped ended: `exited with code 1 (out of memory)`.
async fn how_it_ended(docker: &Docker, id: &str) -> String {
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
struct LogSink {
    text: Arc<Mutex<String>>,
    ended: Arc<AtomicBool>,
    /// Only the copy the runner owns marks the end.
    owned_by_runner: bool,
}

impl LogSink {
    fn for_runner(&self) -> LogSink {
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
    network: Option<Arc<CaseNetwork>>,
}

#[async_trait]
impl AgentHandle for ContainerHandle {
    async fn log_tail(&self, lines: usize) -> Option<String> {
        let log = self.log.text.lock().unwrap_or_else(|e| e.into_inner());
        Some(tail(&log, lines))
    }

    async fn stop(&mut self) {
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
        if let Some(network) = self.network.take() {
            release_network(network).await;
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

/// Force-removes a container with its anonymous volumes; a container that
/// is already gone counts as removed.
async fn remove_container(docker: &Docker, id: &str) -> Result<(), DockerError> {
    let options = RemoveContainerOptionsBuilder::new()
        .force(true)
        .v(true)
        .build();
    match docker.remove_container(id, Some(options)).await {
        Err(DockerError::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(()),
        other => other,
    }
}

/// Pulls `image`, failing after [`PULL_TIMEOUT`].
async fn pull(docker: &Docker, image: &str) -> anyhow::Result<()> {
    eprintln!("acapy-harness: pulling {image}");
    let options = CreateImageOptionsBuilder::new().from_image(image).build();
    let pulling = async {
        let mut stream = docker.create_image(Some(options), None, None);
        while let Some(item) = stream.next().await {
            item?;
        }
        Ok::<(), DockerError>(())
    };
    match tokio::time::timeout(PULL_TIMEOUT, pulling).await {
        Ok(result) => result.map_err(|e| anyhow!("{e}")),
        Err(_) => bail!("no progress within {}s", PULL_TIMEOUT.as_secs()),
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
    fn run_ids_tell_live_runs_from_finished_ones() {
        let mine = run_id();
        assert!(mine.starts_with(&format!("{}-", std::process::id())));
        assert!(!run_is_over(mine));
        // PID 1 always exists: a run with that PID counts as alive.
        assert!(!run_is_over("1-abcdef"));
        assert!(run_is_over(&format!("{}-abcdef", u32::MAX)));
        assert!(run_is_over("garbage"));
    }

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
