//! The scenario file exactly as written: serde structs with positions, no
//! meaning yet. `check/` turns these into the checked model in `model.rs`.

use super::yaml::{SpannedMap, SpannedNode};
use serde::Deserialize;
use serde_saphyr::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub name: Option<Spanned<String>>,
    pub description: Option<String>,
    #[serde(default)]
    pub tags: Vec<Spanned<String>>,
    /// Conditions a case needs, else it is skipped (`acapy: ">=1.3"`).
    pub requires: Option<RawCondition>,
    /// Known failures: a failure where the condition holds is expected.
    #[serde(default)]
    pub xfail: Vec<RawXfail>,
    /// With `--interop`, the roles whose versions vary independently.
    pub interop: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub vars: SpannedMap<SpannedNode>,
    /// Variables whose values are masked in every output.
    #[serde(default)]
    pub secrets: Vec<Spanned<String>>,
    pub agents: Spanned<SpannedMap<RawAgent>>,
    pub steps: Spanned<Vec<RawStep>>,
}

/// A file under `fixtures/` that holds steps to include.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFixture {
    pub description: Option<String>,
    pub steps: Spanned<Vec<RawStep>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawAgent {
    pub label: Option<Spanned<String>>,
    /// Extra `aca-py start` arguments, e.g. `--auto-respond-credential-offer`.
    #[serde(default)]
    pub args: Vec<Spanned<String>>,
}

/// `{ acapy: RANGE, ROLE: RANGE }`: version ranges for every agent, or for
/// one role's agent. Keys are checked against the roles.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct RawCondition(pub Spanned<SpannedMap<Spanned<String>>>);

/// A condition plus `reason`.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct RawXfail(pub Spanned<SpannedMap<Spanned<String>>>);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    pub name: Option<Spanned<String>>,
    pub agent: Option<Spanned<String>>,
    /// Only run the step where the condition holds.
    pub when: Option<RawCondition>,

    pub get: Option<Spanned<String>>,
    pub post: Option<Spanned<String>>,
    pub put: Option<Spanned<String>>,
    pub patch: Option<Spanned<String>>,
    pub delete: Option<Spanned<String>>,
    pub query: Option<SpannedMap<SpannedNode>>,
    /// Request headers, e.g. `Authorization: "Bearer ${token}"`.
    pub headers: Option<SpannedMap<SpannedNode>>,
    pub body: Option<SpannedNode>,

    pub wait: Option<Spanned<RawWait>>,
    /// Stops the role's agent and starts it again with the same wallet.
    pub restart: Option<Spanned<String>>,
    /// Stops the role's agent, keeping its wallet.
    pub stop: Option<Spanned<String>>,

    pub include: Option<Spanned<String>>,
    /// Variables given to an included file.
    pub with: Option<SpannedMap<SpannedNode>>,

    pub expect: Option<SpannedMap<SpannedNode>>,
    pub capture: Option<SpannedMap<Spanned<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWait {
    /// Wait on the agent's event stream for this topic...
    pub event: Option<Spanned<String>>,
    /// ...or poll this admin path,
    pub get: Option<Spanned<String>>,
    /// with these query parameters.
    pub query: Option<SpannedMap<SpannedNode>>,
    #[serde(rename = "where")]
    pub where_: Option<SpannedMap<SpannedNode>>,
    pub until: Option<SpannedMap<SpannedNode>>,
    pub fail_if: Option<SpannedMap<SpannedNode>>,
    pub timeout: Option<Spanned<String>>,
    pub interval: Option<Spanned<String>>,
}
