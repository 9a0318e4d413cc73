//! The checked scenario: every path parsed, every role and variable known,
//! every node carrying its position.

use super::query::Query;
use super::template::Template;
use crate::diagnostic::{Loc, SourceFile};
use crate::version::{Version, VersionReq};
use regex::Regex;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug)]
pub struct Scenario {
    /// Path below the suite root without extension: `issue-credential-v2/seed-flow`.
    pub id: String,
    pub file: Arc<SourceFile>,
    pub name: String,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub requires: Option<Condition>,
    /// ACA-Py plugins every agent must load (`requires: { plugins: [...] }`),
    /// judged from `GET /plugins` once the agents run.
    pub requires_plugins: Vec<String>,
    /// Known failures: the case's own, then the steps' (`goes_on`).
    pub xfail: Vec<Xfail>,
    /// What is worth saying but not wrong: an event topic no ACA-Py sends.
    pub warnings: Vec<crate::diagnostic::Diagnostic>,
    /// Why the scenario needs agents of its own (`own_agents: REASON`):
    /// it then runs on dedicated agents whatever the run's mode.
    pub own_agents: Option<String>,
    /// With `--interop`, the roles whose versions vary independently; the
    /// others take the first one's version.
    pub interop: Vec<String>,
    pub vars: Vec<(String, Template)>,
    /// Variables whose values are masked in every output: the `secrets:`
    /// listed, and captures named like secrets (`token`, `wallet_key`...).
    pub secrets: Vec<String>,
    /// Containers started beside the agents.
    pub services: Vec<ServiceDecl>,
    pub agents: Vec<AgentDecl>,
    pub steps: Vec<Step>,
}

impl Scenario {
    pub fn agent(&self, role: &str) -> Option<&AgentDecl> {
        self.agents.iter().find(|a| a.role == role)
    }
}

/// The version of each role's agent.
pub type RoleVersions = std::collections::BTreeMap<String, Version>;

/// How a case's agents were provided, as conditions name it
/// (`agents: shared`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentsKind {
    /// Sub-wallets of a multitenant agent the run shares.
    Shared,
    /// Agents of the case's own.
    Dedicated,
}

impl AgentsKind {
    pub fn word(self) -> &'static str {
        match self {
            AgentsKind::Shared => "shared",
            AgentsKind::Dedicated => "dedicated",
        }
    }
}

/// What conditions are judged against: each role's version, and how the
/// agents were provided. Unknown facts are not judged.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub versions: RoleVersions,
    pub agents: Option<AgentsKind>,
}

/// `{ acapy: RANGE, ROLE: RANGE, agents: shared|dedicated }`: every part
/// given must hold. `acapy` judges every agent of the case; a role's range
/// judges that role's agent; `agents` how they were provided.
#[derive(Debug, Clone)]
pub struct Condition {
    /// `None` for `acapy`, else the role.
    pub parts: Vec<(Option<String>, VersionCondition)>,
    /// `agents: shared|dedicated`, and where it is written.
    pub agents: Option<(AgentsKind, Loc)>,
}

impl Condition {
    /// Why the condition does not hold for `facts` (`requires ACA-Py >=1.3
    /// (file:1:2)`), or `None` when it holds. A part about something
    /// unknown (a role's version, the agents) is not judged.
    pub fn unmet(&self, facts: &Facts) -> Option<String> {
        let versions = &facts.versions;
        let failed = self.parts.iter().find(|(role, range)| match role {
            None => versions.values().any(|v| !range.holds(v)),
            Some(role) => versions.get(role).is_some_and(|v| !range.holds(v)),
        });
        if let Some((role, range)) = failed {
            return Some(match role {
                None => format!("requires ACA-Py {} ({})", range.text, range.loc),
                Some(role) => format!("requires {role} on ACA-Py {} ({})", range.text, range.loc),
            });
        }
        match (&self.agents, facts.agents) {
            (Some((wanted, loc)), Some(actual)) if *wanted != actual => Some(format!(
                "requires {} agents ({loc}); these are {}",
                wanted.word(),
                actual.word()
            )),
            _ => None,
        }
    }

    /// Whether every part can be judged and holds: for `xfail`, which
    /// must not match what it cannot see.
    pub fn holds_known(&self, facts: &Facts) -> bool {
        let known = self.parts.iter().all(|(role, _)| match role {
            None => !facts.versions.is_empty(),
            Some(role) => facts.versions.contains_key(role),
        }) && (self.agents.is_none() || facts.agents.is_some());
        known && self.unmet(facts).is_none()
    }
}

/// `">=1.3, <1.6"` (`||` between alternatives): compared with the version
/// an agent reports.
#[derive(Debug, Clone)]
pub struct VersionCondition {
    pub text: String,
    pub range: VersionReq,
    pub loc: Loc,
}

impl VersionCondition {
    /// Pre-releases are judged by their order: `>=1.4` does not admit
    /// `1.4.0rc1` (see [`crate::version`]).
    pub fn holds(&self, version: &Version) -> bool {
        self.range.matches(version)
    }
}

/// A known failure: where it applies, why, and what it looks like.
#[derive(Debug, Clone)]
pub struct Xfail {
    /// Where it applies; `None`: everywhere.
    pub when: Option<Condition>,
    pub reason: String,
    /// The step expected to fail (0-based, in the order the runner runs
    /// them, includes expanded); `None`: the case as a whole.
    pub step: Option<usize>,
    /// Text the failure must contain to be this known one.
    pub failure: Option<String>,
    /// Written on the step itself: the case goes on after it fails.
    pub goes_on: bool,
    pub loc: Loc,
}

#[derive(Debug, Clone)]
pub struct AgentDecl {
    pub role: String,
    pub label: String,
    /// Extra `aca-py start` arguments, rendered when the case starts.
    pub args: Vec<Template>,
    /// The agent's environment, rendered when the case starts.
    pub env: Vec<(String, Template)>,
    pub files: Vec<AgentFile>,
    pub loc: Loc,
}

/// A file given to an agent: read when the scenario loads, rendered when
/// the case starts.
#[derive(Debug, Clone)]
pub struct AgentFile {
    /// `${files.NAME}`.
    pub name: String,
    /// Where a container agent finds it.
    pub container_path: String,
    pub content: Template,
    pub loc: Loc,
}

/// A container the case starts beside its agents.
#[derive(Debug, Clone)]
pub struct ServiceDecl {
    /// Its network alias and the `NAME` of `${services.NAME.host}`.
    pub name: String,
    pub image: String,
    /// Rendered when it starts; `${env.NAME}` is read then, not at load.
    pub env: Vec<(String, Template)>,
    pub command: Option<Vec<Template>>,
    /// The port agents use.
    pub port: u16,
    pub ready: Readiness,
    pub ready_timeout: Duration,
    pub scope: ServiceScope,
    pub loc: Loc,
}

/// How long a service lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceScope {
    /// Started for each case, removed after it.
    Case,
    /// Started once, before the first case, removed after the run.
    Run,
}

/// When a service counts as ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// Its port accepts a TCP connection.
    Port,
    /// `GET PATH` on its port answers 2xx.
    Http(String),
    /// A line of its log contains this text.
    Log(String),
}

#[derive(Debug)]
pub struct Step {
    pub name: String,
    pub loc: Loc,
    /// The role the step talks to; None for the `set` step that an
    /// `include` with `with:` becomes.
    pub agent: Option<String>,
    /// A request to a service instead of an agent (`service: NAME`).
    pub service: Option<String>,
    pub when: Option<Condition>,
    pub action: Action,
    pub status: Option<StatusCheck>,
    pub assertions: Vec<Assertion>,
    pub captures: Vec<Capture>,
}

impl Step {
    /// The agent's role, or the service, the step talks to.
    pub fn target(&self) -> &str {
        self.agent
            .as_deref()
            .or(self.service.as_deref())
            .unwrap_or_default()
    }
}

#[derive(Debug)]
pub enum Action {
    Request(Request),
    Wait(Wait),
    /// Sets variables: what an `include` with `with:` turns into.
    Set(Vec<(String, Template)>),
    /// `restart: ROLE`: stop the role's agent and start it again with the
    /// same wallet, keys and endpoint.
    Restart,
    /// `stop: ROLE`: stop the role's agent, keeping its wallet.
    Stop,
}

#[derive(Debug)]
pub struct Request {
    pub method: reqwest::Method,
    pub path: Template,
    pub query: Vec<(String, Template)>,
    /// Sent as given, after (and over) the agent's own credentials.
    pub headers: Vec<(String, Template)>,
    pub body: Option<Template>,
}

#[derive(Debug)]
pub struct Wait {
    pub source: WaitSource,
    /// Which events (or responses) are about the thing waited for.
    pub filter: Vec<Assertion>,
    pub until: Vec<Assertion>,
    pub fail_if: Vec<Assertion>,
    pub timeout: Duration,
    pub interval: Duration,
    /// For a poll: the HTTP statuses `where`, `until` and `fail_if` ask for.
    pub status: PollStatus,
}

/// `status: CODE` beside the JSONPaths of a polled wait's conditions.
/// Without it, `until` and `fail_if` hold only on a 2xx answer, and `where`
/// takes any answer.
#[derive(Debug, Clone, Default)]
pub struct PollStatus {
    pub filter: Option<StatusCheck>,
    pub until: Option<StatusCheck>,
    pub fail_if: Option<StatusCheck>,
}

#[derive(Debug)]
pub enum WaitSource {
    Event {
        topic: String,
    },
    Poll {
        path: Template,
        /// Query parameters, rendered as text.
        query: Vec<(String, Template)>,
    },
}

#[derive(Debug, Clone)]
pub struct StatusCheck {
    pub code: u16,
    pub loc: Loc,
}

#[derive(Debug, Clone)]
pub struct Assertion {
    pub query: Query,
    pub predicates: Vec<Predicate>,
}

#[derive(Debug, Clone)]
pub struct Predicate {
    pub op: Op,
    pub loc: Loc,
}

#[derive(Debug, Clone)]
pub enum Op {
    Equals(Template),
    NotEquals(Template),
    Matches(Regex),
    Exists(bool),
    Contains(Template),
    OneOf(Vec<Template>),
    Length(usize),
    Type(JsonType),
    Compare(Ordering, f64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ordering {
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonType {
    Null,
    Boolean,
    Number,
    Integer,
    String,
    Array,
    Object,
}

impl JsonType {
    pub const NAMES: &'static [&'static str] = &[
        "null", "boolean", "number", "integer", "string", "array", "object",
    ];

    pub fn parse(name: &str) -> Option<JsonType> {
        Some(match name {
            "null" => JsonType::Null,
            "boolean" => JsonType::Boolean,
            "number" => JsonType::Number,
            "integer" => JsonType::Integer,
            "string" => JsonType::String,
            "array" => JsonType::Array,
            "object" => JsonType::Object,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

#[derive(Debug, Clone)]
pub struct Capture {
    pub var: String,
    pub query: Query,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn condition(text: &str) -> VersionCondition {
        let file = Arc::new(SourceFile {
            path: "t.yaml".into(),
            text: String::new(),
        });
        VersionCondition {
            text: text.into(),
            range: VersionReq::parse(text).unwrap(),
            loc: Loc::new(&file, 1, 1, 1),
        }
    }

    #[test]
    fn version_conditions_take_alternatives_and_order_pre_releases_first() {
        let gaps = condition(">=1.3.3, <1.4 || >=1.5.1");
        let v = |s: &str| Version::parse(s).unwrap();
        assert!(gaps.holds(&v("1.3.6")));
        assert!(!gaps.holds(&v("1.4.0")));
        assert!(!gaps.holds(&v("1.5.0")));
        assert!(gaps.holds(&v("1.7.0")));
        assert!(!gaps.holds(&v("0.12.8")));
        assert!(!condition(">=1.4").holds(&v("1.4.0-rc1")));
        assert!(condition(">=1.4.0rc1").holds(&v("1.4.0-rc1")));
    }

    #[test]
    fn a_condition_on_the_agents_is_judged_only_once_they_are_known() {
        let file = Arc::new(SourceFile {
            path: "t.yaml".into(),
            text: String::new(),
        });
        let shared_only = Condition {
            parts: vec![(None, condition(">=1.3"))],
            agents: Some((AgentsKind::Shared, Loc::new(&file, 3, 9, 6))),
        };
        let facts = |agents| Facts {
            versions: [("holder".to_owned(), Version::parse("1.7.0").unwrap())].into(),
            agents,
        };
        assert_eq!(shared_only.unmet(&facts(Some(AgentsKind::Shared))), None);
        assert_eq!(
            shared_only
                .unmet(&facts(Some(AgentsKind::Dedicated)))
                .as_deref(),
            Some("requires shared agents (t.yaml:3:9); these are dedicated")
        );
        // Not judged before the agents start, and not matched by an xfail.
        assert_eq!(shared_only.unmet(&facts(None)), None);
        assert!(!shared_only.holds_known(&facts(None)));
        assert!(shared_only.holds_known(&facts(Some(AgentsKind::Shared))));
    }
}
