//! Talking to one agent's admin API, whoever started it: how requests
//! authenticate ([`AdminAuth`]), the requests themselves ([`AdminClient`]),
//! the `/ws` event stream ([`events`]) and readiness ([`wait_ready`]).
//!
//! Both the providers (`agents/`) and the runner (`run/`) stand on this
//! layer; it knows nothing of scenarios or of how an agent was started.

mod auth;
mod client;
pub mod events;
mod ready;

pub use auth::{AdminAuth, AdminEndpoint};
pub use client::{http_client, AdminClient, Exchange};
pub use ready::wait_ready;
