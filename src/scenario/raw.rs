//! The scenario file exactly as written: serde structs with positions, no
//! meaning yet. `check/` turns these into the checked model in `model.rs`.

//!
//! They also give the JSON Schema of scenario files and fixtures
//! (`acapy-harness schema`): positions are not part of the file, so each
//! `Spanned` field is described as the value it holds (`schemars(with)`).

use super::yaml::{CoreInteger, SpannedMap, SpannedNode};
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// A mapping of names to any YAML value, as the schema describes it.
type AnyMap = BTreeMap<String, serde_json::Value>;

/// A scenario file: the agents it needs, by role, and the steps to run.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Scenario")]
pub struct RawScenario {
    /// The case's name in reports (default: the file's path).
    #[schemars(with = "Option<String>")]
    pub name: Option<Spanned<String>>,
    pub description: Option<String>,
    /// Labels that `--tag` selects on.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub tags: Vec<Spanned<String>>,
    /// Conditions a case needs, else it is skipped (`acapy: ">=1.3"`,
    /// `plugins: [cheqd]`).
    pub requires: Option<RawRequires>,
    /// Known failures: a failure where the condition holds is expected.
    /// `step` pins one to the step that fails (by number or name) and
    /// `failure` to text its failure contains; a failure anywhere else fails.
    #[serde(default)]
    pub xfail: Vec<RawXfail>,
    /// Why the scenario needs agents of its own: it then runs on dedicated
    /// agents even where the run shares agents (`--agents shared`).
    #[schemars(with = "Option<String>")]
    pub own_agents: Option<Spanned<String>>,
    /// With `--interop`, the roles whose versions vary independently.
    #[schemars(with = "Option<Vec<String>>")]
    pub interop: Option<Spanned<Vec<Spanned<String>>>>,
    /// Variables, used as `${name}`; `--var` and `--vars-file` override them.
    #[serde(default)]
    #[schemars(with = "AnyMap")]
    pub vars: SpannedMap<SpannedNode>,
    /// Variables whose values are masked in every output.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub secrets: Vec<Spanned<String>>,
    /// Containers started beside the agents, by name: a database, a DID
    /// resolver. Started before the agents, on the case's network.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, RawService>")]
    pub services: SpannedMap<Spanned<RawService>>,
    /// The agents, by role: `issuer: {}`.
    #[schemars(with = "BTreeMap<String, RawAgent>")]
    pub agents: Spanned<SpannedMap<RawAgent>>,
    #[schemars(with = "Vec<RawStep>")]
    pub steps: Spanned<Vec<RawStep>>,
}

/// A file under `fixtures/` that holds steps to include.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Fixture")]
pub struct RawFixture {
    pub description: Option<String>,
    #[schemars(with = "Vec<RawStep>")]
    pub steps: Spanned<Vec<RawStep>>,
}

/// One role's agent.
#[derive(Debug, Deserialize, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Agent")]
pub struct RawAgent {
    /// The agent's label (`--label`).
    #[schemars(with = "Option<String>")]
    pub label: Option<Spanned<String>>,
    /// Extra `aca-py start` arguments, e.g. `--auto-respond-credential-offer`
    /// (templated: `${services.db.port}`, `${files.NAME}`, variables).
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub args: Vec<Spanned<String>>,
    /// The agent's environment (templated); secrets go here, never in `args`.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>")]
    pub env: SpannedMap<Spanned<String>>,
    /// Files the agent reads, by name: `${files.NAME}` is where it finds one.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, RawAgentFile>")]
    pub files: SpannedMap<Spanned<RawAgentFile>>,
}

/// A file of the suite given to an agent, its content templated like a body.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "AgentFile")]
pub struct RawAgentFile {
    /// The file, relative to the scenario (or config) file.
    #[schemars(with = "String")]
    pub from: Spanned<String>,
    /// Where a container agent finds it (default `/acapy-harness/files/NAME`);
    /// a process agent gets a copy in a folder of its own.
    #[schemars(with = "Option<String>")]
    pub to: Option<Spanned<String>>,
}

/// A container beside the agents.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Service")]
pub struct RawService {
    /// The image; one that is not here and cannot be pulled skips the case.
    #[schemars(with = "String")]
    pub image: Spanned<String>,
    /// Its environment (templated: variables, `${env.NAME}`).
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>")]
    pub env: SpannedMap<Spanned<String>>,
    /// Arguments replacing the image's command.
    #[schemars(with = "Option<Vec<String>>")]
    pub command: Option<Vec<Spanned<String>>>,
    /// The port the agents use; also published on 127.0.0.1 for process agents.
    #[schemars(with = "u16")]
    pub port: Spanned<CoreInteger<u16>>,
    /// When it counts as ready (default: its port accepts connections).
    #[schemars(with = "Option<RawReady>")]
    pub ready: Option<Spanned<RawReady>>,
    /// `case` (the default: started for each case, removed after it) or,
    /// for a suite's services, `run`: started once, before the first case,
    /// shared by every case and removed after the run (a ledger).
    #[schemars(with = "Option<String>")]
    pub scope: Option<Spanned<String>>,
}

/// `{ http: PATH }` or `{ log: TEXT }`, and a `timeout`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Ready")]
pub struct RawReady {
    /// Ready when `GET PATH` on its port answers 2xx.
    #[schemars(with = "Option<String>")]
    pub http: Option<Spanned<String>>,
    /// Ready when a line of its log contains this text.
    #[schemars(with = "Option<String>")]
    pub log: Option<Spanned<String>>,
    /// How long it may take, e.g. `60s` (default 60s).
    #[schemars(with = "Option<String>")]
    pub timeout: Option<Spanned<String>>,
}

/// `{ acapy: RANGE, ROLE: RANGE }`: version ranges for every agent, or for
/// one role's agent. Keys are checked against the roles.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct RawCondition(pub Spanned<SpannedMap<Spanned<String>>>);

/// `requires:` — version ranges as in a condition, and `plugins: [NAME]`.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct RawRequires(pub Spanned<SpannedMap<SpannedNode>>);

/// A condition plus `reason`.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct RawXfail(pub Spanned<SpannedMap<Spanned<String>>>);

impl JsonSchema for RawCondition {
    fn schema_name() -> Cow<'static, str> {
        "Condition".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "`{ acapy: RANGE, ROLE: RANGE, agents: shared|dedicated }`: version ranges for every agent, or for one role's agent, and how the agents were provided.",
            "type": "object",
            "additionalProperties": { "type": "string" }
        })
    }
}

impl JsonSchema for RawRequires {
    fn schema_name() -> Cow<'static, str> {
        "Requires".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "What a case needs, else it is skipped: `{ acapy: RANGE, ROLE: RANGE, plugins: [NAME] }`.",
            "type": "object",
            "properties": {
                "plugins": {
                    "description": "ACA-Py plugins every agent must load (judged from `GET /plugins`).",
                    "type": "array",
                    "items": { "type": "string" }
                }
            },
            "additionalProperties": { "type": "string" }
        })
    }
}

impl JsonSchema for RawXfail {
    fn schema_name() -> Cow<'static, str> {
        "Xfail".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A known failure: `{ reason: TEXT, step: NUMBER|NAME, failure: TEXT, acapy: RANGE, ROLE: RANGE, agents: shared|dedicated }`.",
            "type": "object",
            "properties": {
                "reason": { "type": "string" },
                "step": { "type": ["string", "integer"], "description": "The step expected to fail, by number (as failures count them) or name." },
                "failure": { "type": "string", "description": "Text the failure must contain." },
                "agents": { "enum": ["shared", "dedicated"] }
            },
            "required": ["reason"],
            "additionalProperties": { "type": "string" }
        })
    }
}

/// One step: a request (`get`/`post`/`put`/`patch`/`delete`), a `wait`, a
/// `restart`, a `stop` or an `include`, with what to expect and capture.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Step")]
pub struct RawStep {
    /// Optional; default: the method and path, or what is waited for.
    #[schemars(with = "Option<String>")]
    pub name: Option<Spanned<String>>,
    /// The role the step talks to; required on requests and waits.
    #[schemars(with = "Option<String>")]
    pub agent: Option<Spanned<String>>,
    /// Instead of `agent`, on a request: a service (under `services`) the
    /// request goes to, on its port published on 127.0.0.1 (a ledger's
    /// `POST /register`).
    #[schemars(with = "Option<String>")]
    pub service: Option<Spanned<String>>,
    /// Only run the step where the condition holds.
    pub when: Option<RawCondition>,
    /// A known failure of this step: where its condition holds, the step's
    /// failure is expected and the case goes on.
    pub xfail: Option<RawXfail>,

    /// A GET request to this admin path (one action per step).
    #[schemars(with = "Option<String>")]
    pub get: Option<Spanned<String>>,
    /// A POST request to this admin path.
    #[schemars(with = "Option<String>")]
    pub post: Option<Spanned<String>>,
    /// A PUT request to this admin path.
    #[schemars(with = "Option<String>")]
    pub put: Option<Spanned<String>>,
    /// A PATCH request to this admin path.
    #[schemars(with = "Option<String>")]
    pub patch: Option<Spanned<String>>,
    /// A DELETE request to this admin path.
    #[schemars(with = "Option<String>")]
    pub delete: Option<Spanned<String>>,
    /// A request's query parameters.
    #[schemars(with = "Option<AnyMap>")]
    pub query: Option<SpannedMap<SpannedNode>>,
    /// Request headers, e.g. `Authorization: "Bearer ${token}"`.
    #[schemars(with = "Option<AnyMap>")]
    pub headers: Option<SpannedMap<SpannedNode>>,
    /// A request's JSON body.
    #[schemars(with = "Option<serde_json::Value>")]
    pub body: Option<SpannedNode>,

    /// Waits on an event or polls a path, never a fixed time.
    #[schemars(with = "Option<RawWait>")]
    pub wait: Option<Spanned<RawWait>>,
    /// Stops the role's agent and starts it again with the same wallet.
    #[schemars(with = "Option<String>")]
    pub restart: Option<Spanned<String>>,
    /// Stops the role's agent, keeping its wallet.
    #[schemars(with = "Option<String>")]
    pub stop: Option<Spanned<String>>,

    /// Runs a fixture's steps here; the path is relative to this file.
    #[schemars(with = "Option<String>")]
    pub include: Option<Spanned<String>>,
    /// Variables given to an included file.
    #[schemars(with = "Option<AnyMap>")]
    pub with: Option<SpannedMap<SpannedNode>>,

    /// What the response (or the matched event) must hold: `status`, or a
    /// JSONPath to a value or to `{ operator: value }`.
    #[schemars(with = "Option<AnyMap>")]
    pub expect: Option<SpannedMap<SpannedNode>>,
    /// Variables to take from the response: name to JSONPath.
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub capture: Option<SpannedMap<Spanned<String>>>,
}

/// Waits on an event or polls an admin path until a condition holds.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Wait")]
pub struct RawWait {
    /// Wait on the agent's event stream for this topic...
    #[schemars(with = "Option<String>")]
    pub event: Option<Spanned<String>>,
    /// ...or poll this admin path,
    #[schemars(with = "Option<String>")]
    pub get: Option<Spanned<String>>,
    /// with these query parameters.
    #[schemars(with = "Option<AnyMap>")]
    pub query: Option<SpannedMap<SpannedNode>>,
    /// Which events (or responses) are about the thing waited for.
    #[serde(rename = "where")]
    #[schemars(with = "Option<AnyMap>")]
    pub where_: Option<SpannedMap<SpannedNode>>,
    /// Required: what must hold to stop waiting.
    #[schemars(with = "Option<AnyMap>")]
    pub until: Option<SpannedMap<SpannedNode>>,
    /// What ends the wait early, as a failure.
    #[schemars(with = "Option<AnyMap>")]
    pub fail_if: Option<SpannedMap<SpannedNode>>,
    /// How long to wait at most, e.g. `30s`.
    #[schemars(with = "Option<String>")]
    pub timeout: Option<Spanned<String>>,
    /// How often to poll, e.g. `50ms`.
    #[schemars(with = "Option<String>")]
    pub interval: Option<Spanned<String>>,
}
