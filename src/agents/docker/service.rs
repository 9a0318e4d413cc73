//! Services: containers beside the agents (a database, a DID resolver, a
//! ledger), their port also published on 127.0.0.1 for process agents and
//! for the readiness check.
//!
//! A case's services ([`Services::start`]) are started like agent
//! containers (testcontainers on the default bridge, then moved to the case
//! network under the service's name). A run's services
//! ([`RunServices::start_once`]) are created on the run's network from the
//! start and reached by container name: a ledger writes the address it
//! first has into its genesis, so it must never move.
//!
//! All are labelled with the run (and case) so the sweep finds them, and
//! registered in [`crate::agents::cleanup`] until removed. A service whose
//! image is not here and cannot be pulled makes the case skip
//! ([`ProviderError::Unavailable`]), not fail.

use super::container::{
    how_it_ended, join_network, publish_on_loopback, split_image, LogSink, DEFAULT_BRIDGE,
};
use super::engine::{connect, pull, register_container, remove_container, run_id};
use super::network::{CaseNetwork, RunNetwork};
use super::{case_network, CASE_LABEL};
use crate::agents::cleanup::{self, RUN_LABEL};
use crate::agents::log::tail;
use crate::agents::scope::{Resource, RunScope};
use crate::agents::{Notices, ProviderError, Scope, ServiceEndpoint};
use anyhow::anyhow;
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use testcontainers::bollard::Docker;
use testcontainers::core::IntoContainerPort;
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage, ImageExt};

const SERVICE_LABEL: &str = "acapy-harness.service";

/// When a service counts as ready (the scenario's `ready:`, rendered).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// Its port accepts a connection that a server keeps open.
    Port,
    /// `GET PATH` on its published port answers 2xx.
    Http(String),
    /// A line of its log contains this text.
    Log(String),
}

/// A service with its settings rendered for this case (or run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSpec {
    pub name: String,
    pub image: String,
    pub env: Vec<(String, String)>,
    pub command: Option<Vec<String>>,
    pub port: u16,
    pub ready: Readiness,
    pub timeout: Duration,
}

/// The running services of one case, on its network.
pub struct Services {
    /// The client that started them, kept to remove them.
    docker: Docker,
    running: Vec<RunningService>,
}

struct RunningService {
    name: String,
    /// The name container agents reach it by, on its network.
    host: String,
    /// The port agents use, inside the network.
    port: u16,
    /// Where it is published on 127.0.0.1.
    host_port: u16,
    container_name: String,
    container: Option<ContainerAsync<GenericImage>>,
    token: Option<cleanup::Token>,
    log: LogSink,
}

impl Services {
    /// Starts every service on the network of the case in `scope`, all at
    /// once, and waits until each is ready. On error none is left running
    /// (the network goes with the scope).
    pub async fn start(specs: &[ServiceSpec], scope: &Scope) -> Result<Services, ProviderError> {
        let docker = docker_with_images(specs, scope.notices()).await?;
        let network = case_network(&docker, scope).await?;
        let case = scope.case.name.as_str();
        let starts = specs
            .iter()
            .map(|spec| start_one(&docker, Placement::Case(&network), spec, case));
        Services::gather(docker.clone(), starts).await
    }

    /// Waits for every start; on one error, removes those that started.
    async fn gather(
        docker: Docker,
        starts: impl Iterator<Item = impl std::future::Future<Output = anyhow::Result<RunningService>>>,
    ) -> Result<Services, ProviderError> {
        let mut running = Vec::new();
        let mut first_error = None;
        for result in futures_util::future::join_all(starts).await {
            match result {
                Ok(service) => running.push(service),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        let services = Services { docker, running };
        match first_error {
            None => Ok(services),
            Some(e) => {
                services.stop().await;
                Err(ProviderError::Failed(e))
            }
        }
    }

    /// Each service as agents reach it: by name and port on the case
    /// network, or on its port published on 127.0.0.1.
    pub fn endpoints(&self) -> Vec<ServiceEndpoint> {
        self.running
            .iter()
            .map(|s| ServiceEndpoint {
                name: s.name.clone(),
                host: s.host.clone(),
                port: s.port,
                host_port: s.host_port,
            })
            .collect()
    }

    /// Each service's log so far, by name.
    pub fn logs(&self) -> Vec<(String, String)> {
        self.running
            .iter()
            .map(|s| (s.name.clone(), s.log_text()))
            .collect()
    }

    /// Removes every service (their network goes with the case's scope).
    pub async fn stop(mut self) {
        for service in &mut self.running {
            service.remove(&self.docker).await;
        }
    }
}

/// A client, once every image of `specs` is known to be here (pulled if
/// it can be): else why the case cannot have its services.
async fn docker_with_images(
    specs: &[ServiceSpec],
    notices: &Notices,
) -> Result<Docker, ProviderError> {
    let docker = connect()
        .await
        .map_err(|e| ProviderError::unavailable(format!("services need Docker: {e:#}")))?;
    for spec in specs {
        if let Err(why) = image_here(&docker, &spec.image, notices).await {
            return Err(ProviderError::unavailable(format!(
                "service `{}` needs image {}, which {why}",
                spec.name, spec.image
            )));
        }
    }
    Ok(docker)
}

/// The services every case of a run shares (`scope: run`), kept in the
/// run's scope: each set of them started by the first case that needs it,
/// removed when the run ends. A set that could not start is remembered, so
/// every later case skips or fails at once, for the same reason, instead
/// of waiting for it again.
#[derive(Default)]
pub struct RunServices {
    started: tokio::sync::Mutex<Vec<StartedSet>>,
}

/// A set of services as the run asked for it, and how its start went.
type StartedSet = (Vec<ServiceSpec>, Result<Services, Remembered>);

#[derive(Clone)]
enum Remembered {
    Unavailable(String),
    Failed(String),
}

impl RunServices {
    /// The endpoints of `specs`, started now if no case has started them.
    pub async fn start_once(
        specs: &[ServiceSpec],
        run: &RunScope,
    ) -> Result<Vec<ServiceEndpoint>, ProviderError> {
        let docker = docker_with_images(specs, run.notices()).await?;
        // The network first: the scope closes in reverse, services first.
        let network = run.get_or_try_make(|| RunNetwork::create(&docker)).await?;
        let registry = run
            .get_or_try_make(|| async { anyhow::Ok(RunServices::default()) })
            .await?;
        let mut started = registry.started.lock().await;
        if !started.iter().any(|(s, _)| s == specs) {
            let starts = specs
                .iter()
                .map(|spec| start_one(&docker, Placement::Run(&network), spec, "run"));
            let outcome = Services::gather(docker.clone(), starts)
                .await
                .map_err(|e| match e {
                    ProviderError::Unavailable(why) => Remembered::Unavailable(why.0),
                    ProviderError::Failed(e) => Remembered::Failed(format!("{e:#}")),
                });
            started.push((specs.to_vec(), outcome));
        }
        let (_, outcome) = started
            .iter()
            .find(|(s, _)| s == specs)
            .expect("pushed above");
        match outcome {
            Ok(services) => Ok(services.endpoints()),
            Err(Remembered::Unavailable(why)) => Err(ProviderError::unavailable(why.clone())),
            Err(Remembered::Failed(why)) => Err(ProviderError::Failed(anyhow!(
                "the run's services did not start: {why}"
            ))),
        }
    }
}

#[async_trait]
impl Resource for RunServices {
    async fn close(&self) {
        let started = std::mem::take(&mut *self.started.lock().await);
        for (_, outcome) in started {
            if let Ok(services) = outcome {
                services.stop().await;
            }
        }
    }
}

/// Where a service's container goes.
#[derive(Clone, Copy)]
enum Placement<'a> {
    /// The case's network, moved there after start, under the service's name.
    Case(&'a CaseNetwork),
    /// The run's network from creation on, under its container name.
    Run(&'a RunNetwork),
}

impl Placement<'_> {
    fn network_name(&self) -> &str {
        match self {
            Placement::Case(network) => &network.name,
            Placement::Run(network) => network.name(),
        }
    }
}

impl RunningService {
    fn log_text(&self) -> String {
        self.log
            .text
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    async fn remove(&mut self, docker: &Docker) {
        let Some(container) = self.container.take() else {
            return;
        };
        let removed = container.rm().await.is_ok()
            || remove_container(docker, &self.container_name).await.is_ok();
        if removed {
            self.token = None;
        } else if let Some(token) = self.token.take() {
            // Still there: the final sweep removes it.
            std::mem::forget(token);
        }
    }
}

impl Drop for RunningService {
    fn drop(&mut self) {
        // Not removed by `stop` (a panic): keep it registered for the sweep.
        if let Some(token) = self.token.take() {
            std::mem::forget(token);
        }
    }
}

/// [`image_here`] with a client of its own, for asking before a case
/// starts; without a Docker engine, the reason says so.
pub async fn image_available(image: &str) -> Result<(), String> {
    let docker = connect()
        .await
        .map_err(|e| format!("{image}, and services need Docker: {e:#}"))?;
    image_here(&docker, image, &Notices::silent())
        .await
        .map_err(|why| format!("{image}, which {why}"))
}

/// Whether `image` is here, pulling it if it is not; asked once per run and
/// image, so a missing image costs one failed pull, not one per case.
async fn image_here(docker: &Docker, image: &str, notices: &Notices) -> Result<(), String> {
    static KNOWN: OnceLock<tokio::sync::Mutex<HashMap<String, Result<(), String>>>> =
        OnceLock::new();
    let mut known = KNOWN.get_or_init(Default::default).lock().await;
    if let Some(answer) = known.get(image) {
        return answer.clone();
    }
    let answer = match docker.inspect_image(image).await {
        Ok(_) => Ok(()),
        Err(_) => pull(docker, image, notices)
            .await
            .map_err(|e| format!("is not here and cannot be pulled ({e:#})")),
    };
    known.insert(image.to_owned(), answer.clone());
    answer
}

async fn start_one(
    docker: &Docker,
    placement: Placement<'_>,
    spec: &ServiceSpec,
    case: &str,
) -> anyhow::Result<RunningService> {
    let container_name = format!("{}-{}", placement.network_name(), spec.name);
    let log = LogSink::default();
    let (repository, tag) = split_image(&spec.image);
    let port = spec.port;
    let first_network = match placement {
        Placement::Case(_) => DEFAULT_BRIDGE.to_owned(),
        Placement::Run(network) => network.name().to_owned(),
    };
    let mut request = GenericImage::new(repository, tag)
        .with_exposed_port(port.tcp())
        .with_container_name(&container_name)
        .with_label(RUN_LABEL, run_id())
        .with_label(CASE_LABEL, case)
        .with_label(SERVICE_LABEL, &spec.name)
        .with_log_consumer(log.for_runner())
        .with_host_config_modifier(move |host| {
            host.network_mode = Some(first_network.clone());
            publish_on_loopback(host, port);
        });
    if let Some(command) = &spec.command {
        request = request.with_cmd(command.clone());
    }
    for (name, value) in &spec.env {
        request = request.with_env_var(name, value);
    }
    let token = register_container(container_name.clone());
    let container = match request.start().await {
        Ok(container) => container,
        Err(e) => {
            if remove_container(docker, &container_name).await.is_err() {
                std::mem::forget(token);
            }
            anyhow::bail!(
                "service `{}` did not start ({}): {e}",
                spec.name,
                spec.image
            );
        }
    };
    let host = match placement {
        Placement::Case(_) => spec.name.clone(),
        Placement::Run(_) => container_name.clone(),
    };
    let mut service = RunningService {
        name: spec.name.clone(),
        host,
        port,
        host_port: 0,
        container_name,
        container: Some(container),
        token: Some(token),
        log,
    };
    let ready = async {
        let container = service.container.as_ref().expect("just started");
        if let Placement::Case(network) = placement {
            join_network(docker, container.id(), &network.name, &spec.name).await?;
        }
        // Moving networks publishes the port anew: read it afterwards.
        let host_port = container
            .get_host_port_ipv4(port)
            .await
            .map_err(|e| anyhow!("the engine published no host port for {port}: {e}"))?;
        wait_until_ready(docker, container.id(), spec, host_port, &service.log).await?;
        anyhow::Ok(host_port)
    }
    .await;
    match ready {
        Ok(host_port) => {
            service.host_port = host_port;
            Ok(service)
        }
        Err(e) => {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let log = tail(&service.log_text(), 30);
            service.remove(docker).await;
            Err(anyhow!(
                "service `{}` did not become ready ({}): {e:#}\n--- last lines of its log ---\n{log}",
                spec.name,
                spec.image
            ))
        }
    }
}

/// Waits for the service's readiness condition, failing at once if its
/// container stops.
async fn wait_until_ready(
    docker: &Docker,
    id: &str,
    spec: &ServiceSpec,
    host_port: u16,
    log: &LogSink,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()?;
    loop {
        if log.ended.load(Ordering::Relaxed) {
            anyhow::bail!("the container {}", how_it_ended(docker, id).await);
        }
        let ready = match &spec.ready {
            Readiness::Log(text) => log
                .text
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .contains(text.as_str()),
            Readiness::Http(path) => client
                .get(format!("http://127.0.0.1:{host_port}{path}"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success()),
            Readiness::Port => port_answers(host_port).await,
        };
        if ready {
            return Ok(());
        }
        if started.elapsed() > spec.timeout {
            anyhow::bail!(
                "not ready within {}s ({})",
                spec.timeout.as_secs(),
                match &spec.ready {
                    Readiness::Log(text) => format!("no log line contains {text:?}"),
                    Readiness::Http(path) => format!("GET {path} did not answer 2xx"),
                    Readiness::Port => format!("port {} accepted no connection", spec.port),
                }
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Whether something listens behind the published port. The engine's
/// proxy accepts a connection even when nothing listens in the container,
/// then closes it at once; a real server keeps it open (waiting for the
/// client to speak) or greets.
async fn port_answers(host_port: u16) -> bool {
    use tokio::io::AsyncReadExt;
    let Ok(Ok(mut stream)) = tokio::time::timeout(
        Duration::from_secs(1),
        tokio::net::TcpStream::connect(("127.0.0.1", host_port)),
    )
    .await
    else {
        return false;
    };
    let mut byte = [0u8; 1];
    match tokio::time::timeout(Duration::from_millis(300), stream.read(&mut byte)).await {
        Err(_) => true,      // kept open: a server waiting for us
        Ok(Ok(n)) => n > 0,  // a greeting; 0 is the proxy closing
        Ok(Err(_)) => false, // reset
    }
}
