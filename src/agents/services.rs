//! Services beside the agents: containers a case starts (a database, a DID
//! resolver, a tails server) that the agents of every provider reach, each
//! as its provider says ([`super::Provider::service_address`]). They run
//! in Docker whatever runs the agents; see [`super::docker::service`].

pub use super::docker::service::{Readiness, RunServices, ServiceSpec, Services};

use super::Notices;

/// Removes the services (and their networks) that killed runs left.
pub async fn sweep_stale(notices: &Notices) -> usize {
    super::docker::sweep_stale(notices).await.unwrap_or(0)
}

/// Whether `image` is here (pulled if it can be); the error says why not,
/// starting with the image's name.
pub async fn image_here(image: &str) -> Result<(), String> {
    super::docker::service::image_available(image).await
}
