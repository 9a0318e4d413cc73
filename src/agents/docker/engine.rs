//! The Docker engine: connecting and probing it, pulling, removing, and the
//! run labels that let a later run sweep what a killed run left.

use crate::agents::cleanup::{self, Stage, RUN_LABEL};
use crate::agents::Notices;
use anyhow::{anyhow, bail, Context};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::time::Duration;
use testcontainers::bollard::errors::Error as DockerError;
use testcontainers::bollard::query_parameters::{
    CreateImageOptionsBuilder, ListContainersOptionsBuilder, ListNetworksOptionsBuilder,
    RemoveContainerOptionsBuilder,
};
use testcontainers::bollard::Docker;

/// How long talking to the engine may take before it counts as unreachable.
const ENGINE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a pull may take; a machine without a registry fails well before.
const PULL_TIMEOUT: Duration = Duration::from_secs(600);

/// This harness run, as its containers and networks are labelled: its
/// [`cleanup::run_mark`], which lets [`sweep_stale`] tell a run that still
/// lives from one that was killed.
pub fn run_id() -> &'static str {
    cleanup::run_mark()
}

/// A client for the engine at `DOCKER_HOST` (default: the local socket).
/// The API version is negotiated so no request names a version the engine
/// refuses (bollard's default is 1.53; engine 20.10 speaks 1.41).
pub async fn connect() -> anyhow::Result<Docker> {
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

/// Pulls `image`, failing after [`PULL_TIMEOUT`].
pub async fn pull(docker: &Docker, image: &str, notices: &Notices) -> anyhow::Result<()> {
    notices.say(format!("pulling {image}"));
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

/// Force-removes a container with its anonymous volumes; a container that
/// is already gone counts as removed.
pub async fn remove_container(docker: &Docker, id: &str) -> Result<(), DockerError> {
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

/// Registers a container (by its unique name) for the sweep: removed with
/// the `docker` command line, since the sweep runs outside any runtime.
pub fn register_container(name: String) -> cleanup::Token {
    cleanup::register(Stage::Stop, move || {
        let _ = std::process::Command::new("docker")
            .args(["rm", "-f", "-v", &name])
            .output();
    })
}

/// Registers a network for the sweep, removed after its containers.
pub fn register_network(name: String) -> cleanup::Token {
    cleanup::register(Stage::Disconnect, move || {
        let _ = std::process::Command::new("docker")
            .args(["network", "rm", &name])
            .output();
    })
}

/// Removes containers and networks labelled [`RUN_LABEL`] by runs that are
/// over (not this run, and their PID is gone), says on stderr what it removed
/// and returns how many. Runs still alive are left alone. The PID check
/// assumes the harnesses sharing this engine run on this machine.
pub async fn sweep_stale(notices: &Notices) -> anyhow::Result<usize> {
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
            notices.say(format!("removed container {name} left by run {run}"));
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
            notices.say(format!("removed network {name} left by run {run}"));
            removed += 1;
        }
    }
    Ok(removed)
}

/// Another run's, whose process is gone ([`cleanup::run_is_over`]).
fn run_is_over(run: &str) -> bool {
    cleanup::run_is_over(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_tell_live_runs_from_finished_ones() {
        let mine = run_id();
        assert!(mine.starts_with(&format!("{}-", std::process::id())));
        assert!(!run_is_over(mine));
        assert!(run_is_over(&format!("{}-7", u32::MAX)));
        assert!(run_is_over("garbage"));
    }
}
