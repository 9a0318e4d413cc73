//! Every exchange checked against the agent's own API contract, and what
//! changed in that contract between two versions.
//!
//! An ACA-Py agent describes its admin API while it runs: Swagger 2.0 at
//! `GET /api/docs/swagger.json`, built from the routes it serves (so the
//! wallet type, multitenancy and plugins shape it). This module:
//!
//! - fetches that document and caches it on disk per [`DocumentKey`]
//!   ([`cache`]);
//! - reads it into [`Operation`]s and finds the one a concrete request is
//!   ([`ApiDocument::find`], with the closest operations when none is);
//! - turns its Swagger schemas into JSON Schema with Swagger's meaning
//!   (`x-nullable`, `$ref`s into `definitions`) and checks request and
//!   response bodies, giving [`Violation`]s and other [`Finding`]s;
//! - says which violations are known drift ([`KnownDrift`]), and how to
//!   count each only once ([`DedupKey`]);
//! - compares two documents ([`diff`]) and counts which operations a run
//!   used ([`coverage`]).
//!
//! It stands on `admin/` (and the cache folder of `agents::venv`); the
//! runner, the CLI and the reports call it.
//!
//! # How a run uses it
//!
//! 1. One [`DocumentCache::default_location`] for the run (it keeps each
//!    document parsed, and its compiled validators, for every case).
//! 2. When an agent is ready: its [`DocumentKey`] (from what the provider
//!    started, or [`DocumentKey::from_status_config`] for an external one),
//!    then [`DocumentCache::get_or_fetch`]: memory, else disk, else
//!    `GET /api/docs/swagger.json`. A sub-wallet shares its base agent's
//!    document (same routes), so key it by the base agent.
//! 3. After each request step: [`ApiDocument::check_exchange`] with the
//!    method, the path (or the exchange's URL), the body sent, the status
//!    and the answer. [`Finding::Violation`]s are looked up in the suite's
//!    known drift ([`KnownDrift::find`]); [`Finding::UndocumentedStatus`]
//!    counts in strict mode only (ACA-Py documents no error answer);
//!    [`Finding::UnknownOperation`] says the route is not this version's.
//! 4. At the end: [`Violation::dedup_key`] to count each rule once in a
//!    summary, and [`Coverage::of`] over the requests sent.

pub mod cache;
pub mod coverage;
pub mod diff;
mod document;
pub mod known;
mod matching;
mod schema;
pub mod steps;
mod validate;

pub use cache::{fetch_document, CacheError, DocumentCache, DocumentKey, FetchError, SourceKind};
pub use coverage::{ledger_need, Coverage, LedgerNeed};
pub use diff::{diff, ApiDiff};
pub use document::{ApiDocument, DocumentError, Operation, OperationId, Parameter};
pub use known::{DedupKey, KnownDrift};
pub use matching::UnknownOperation;
pub use schema::to_json_schema;
pub use validate::{CheckError, Finding, Side, Violation};

/// How much the contract counts (`--contract`): not at all, reported
/// without failing a case (the default), or failing it.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ContractMode {
    /// Nothing fetched, nothing checked.
    Off,
    /// Violations reported; a step to an operation its version lacks fails.
    #[default]
    Warn,
    /// Violations (not declared as known) and undocumented statuses fail
    /// the step too.
    Strict,
}

impl ContractMode {
    pub fn parse(text: &str) -> Option<ContractMode> {
        <ContractMode as clap::ValueEnum>::from_str(text.trim(), true).ok()
    }
}

impl SourceKind {
    /// From a provider's name for its kind (`process`, `docker`,
    /// `external`); an agent from anything else is keyed as external (its
    /// document is fetched every run).
    pub fn from_kind(kind: &str) -> SourceKind {
        match kind {
            "process" => SourceKind::Process,
            "docker" => SourceKind::Docker,
            _ => SourceKind::External,
        }
    }
}

#[cfg(test)]
mod tests;
