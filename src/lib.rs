//! acapy-harness: YAML scenarios run against real ACA-Py agents.
//!
//! - [`scenario`]: the file format (model, loading, checking);
//! - [`admin`]: talking to one agent's admin API (auth, requests, events);
//! - [`agents`]: providers that start (or find) the agents;
//! - [`run`]: executing a scenario's steps against running agents;
//! - [`session`]: one run, from settings to events, for both front ends;
//! - [`report`]: what the results look like to people and to CI;
//! - [`contract`]: exchanges checked against the agent's own API document;
//! - [`schema`]: JSON Schemas of the files it reads, for editors and CI.

pub mod admin;
pub mod agents;
pub mod cli;
pub mod config;
pub mod contract;
pub mod diagnostic;
pub mod inputs;
pub mod partition;
pub mod redact;
pub mod report;
pub mod run;
pub mod scenario;
pub mod schema;
pub mod session;
pub mod suggest;
pub mod suite;
pub mod version;
