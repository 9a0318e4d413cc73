//! What running a case produced: the data every report is made from, and
//! the JSON report's shape (`--report-json`, `schemas/report.schema.json`).
//!
//! A [`CaseResult`] leaves its case masked: every secret the case knew is
//! `***` in it already, so no report needs to know about secrets.

use crate::admin::events::Event;
use crate::admin::Exchange;
use crate::agents::AgentMode;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// How a case ended. The status words (`pass`, `fail`, ...) are defined
/// here once, as this type's serde names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "status")]
pub enum Status {
    #[serde(rename = "pass")]
    Passed,
    #[serde(rename = "fail")]
    Failed,
    #[serde(rename = "skip")]
    Skipped { reason: String },
    /// Failed where an `xfail` said it would: at its `step` (1-based), or
    /// as a whole.
    #[serde(rename = "xfail")]
    ExpectedFailure {
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        step: Option<usize>,
    },
    /// Passed where an `xfail` said it would fail (at its `step`): counts
    /// as a failure, so stale `xfail`s get noticed.
    #[serde(rename = "xpass")]
    UnexpectedPass {
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        step: Option<usize>,
    },
    /// The run was interrupted (Ctrl-C, SIGTERM, its output closed) while
    /// the case ran (`started`), or before it started.
    #[serde(rename = "interrupted")]
    Interrupted { started: bool },
    /// Failed, then passed on a retry (`--retries`): a success, with the
    /// failed tries kept for the reports.
    #[serde(rename = "flaky")]
    Flaky { failed_tries: Vec<FailedTry> },
}

/// One failed try of a case that later passed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FailedTry {
    #[serde(rename = "duration_ms", with = "millis")]
    #[schemars(with = "u64")]
    pub duration: Duration,
    #[serde(flatten)]
    pub failure: Failure,
}

impl FailedTry {
    pub fn message(&self) -> &str {
        &self.failure.message
    }
}

impl Status {
    /// The step an `xfail` was pinned to, 1-based.
    pub fn xfail_step(&self) -> Option<usize> {
        match self {
            Status::ExpectedFailure { step, .. } | Status::UnexpectedPass { step, .. } => *step,
            _ => None,
        }
    }

    /// Whether the case counts as a success: an interrupted case does not
    /// (nor is it a failure: see [`Status::is_failure`]).
    pub fn is_success(&self) -> bool {
        !matches!(
            self,
            Status::Failed | Status::UnexpectedPass { .. } | Status::Interrupted { .. }
        )
    }

    /// A failure or an unexpected pass: what the failure listings show.
    pub fn is_failure(&self) -> bool {
        matches!(self, Status::Failed | Status::UnexpectedPass { .. })
    }

    /// Its word in the reports: `pass`, `fail`, `skip`, `xfail`, `xpass`,
    /// `interrupted`, `flaky` (its serde tag).
    pub fn word(&self) -> &'static str {
        match self {
            Status::Passed => "pass",
            Status::Failed => "fail",
            Status::Skipped { .. } => "skip",
            Status::ExpectedFailure { .. } => "xfail",
            Status::UnexpectedPass { .. } => "xpass",
            Status::Interrupted { .. } => "interrupted",
            Status::Flaky { .. } => "flaky",
        }
    }

    /// The reason a skip, an `xfail` or an unexpected pass gave, or why an
    /// interrupted case has no verdict.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Status::Skipped { reason }
            | Status::ExpectedFailure { reason, .. }
            | Status::UnexpectedPass { reason, .. } => Some(reason),
            Status::Interrupted { started: true } => Some("the run was interrupted while it ran"),
            Status::Interrupted { started: false } => {
                Some("not run: the run was interrupted before it started")
            }
            Status::Passed | Status::Failed | Status::Flaky { .. } => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Passed,
    Failed,
    /// `when` did not hold.
    Skipped,
    /// Failed where its own `xfail` said it would; the case went on.
    #[serde(rename = "xfailed")]
    ExpectedFailure,
    /// A step before it failed.
    NotRun,
}

impl StepStatus {
    /// `passed`, `failed`, `skipped`, `not run`.
    pub fn words(self) -> &'static str {
        match self {
            StepStatus::Passed => "passed",
            StepStatus::Failed => "failed",
            StepStatus::Skipped => "skipped",
            StepStatus::ExpectedFailure => "xfailed",
            StepStatus::NotRun => "not run",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StepResult {
    pub name: String,
    pub agent: String,
    pub status: StepStatus,
    /// Where the step is in its file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// When it started, counted from the start of the case.
    #[serde(rename = "started_ms", with = "millis", default)]
    #[schemars(with = "u64")]
    pub started: Duration,
    #[serde(rename = "duration_ms", with = "millis")]
    #[schemars(with = "u64")]
    pub duration: Duration,
    /// The requests it sent, with their responses (a poll's last one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exchanges: Vec<Exchange>,
    /// The events of its topic a wait saw, up to the one it stopped at.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<Event>,
    /// Where its exchange broke the agent's API contract.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contract: Vec<ContractFinding>,
}

/// Something checking an exchange against the agent's own API document
/// found (see [`crate::contract`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ContractFinding {
    /// `violation` (a body the schema rejects), `undocumented_status`, or
    /// `unknown_operation` (a request to a route the version lacks).
    pub kind: String,
    /// The version whose document it is.
    pub version: String,
    /// `GET /connections/{conn_id}`, or the request as sent when unknown.
    pub operation: String,
    /// `request` or `response`, for a violation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// JSON pointer into the body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// The JSON Schema keyword that failed: `type`, `required`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyword: Option<String>,
    /// Where the rule is in the document: `#/definitions/DID/type`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
    /// The one-line text.
    pub text: String,
    /// Why it is known drift (and where it was reported), when declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known: Option<String>,
    /// What counts it once in a summary: version, side, operation, rule
    /// (and the property, for `required` and `additionalProperties`).
    #[serde(default)]
    pub rule: String,
}

/// The last lines of a service's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ServiceLog {
    pub name: String,
    pub tail: String,
}

/// Why a case failed, with everything needed to see why, rendered once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Failure {
    /// 1-based, or `None` when it failed outside a step.
    pub step: Option<usize>,
    pub step_name: Option<String>,
    pub agent: Option<String>,
    pub message: String,
    /// `scenarios/x.yaml:12:5`, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The line of `location`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub expected: Option<String>,
    pub actual: Option<String>,
    /// The message, where in the file with the lines around it, and the
    /// notes, as the console shows them.
    pub diagnostic: String,
    /// The response the failing step got (or the event it last saw).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<Exchange>,
    /// The failing agent's recent events, one line each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recent_events: Vec<String>,
    /// The failing agent's log tail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_tail: Option<String>,
    /// Whose log `log_tail` is, when not the agent's own (a sub-wallet's
    /// lines are in its base agent's log).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_owner: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_logs: Vec<ServiceLog>,
}

impl Failure {
    /// One more `= NOTE` line under the diagnostic, aligned with its others.
    pub fn add_note(&mut self, note: &str) {
        let pad = self
            .diagnostic
            .lines()
            .find_map(|l| l.strip_suffix('|').filter(|p| p.trim().is_empty()))
            .unwrap_or(" ")
            .to_owned();
        if !self.diagnostic.ends_with('\n') {
            self.diagnostic.push('\n');
        }
        self.diagnostic.push_str(&format!("{pad}= {note}\n"));
    }
}

/// Everything a failing case leaves for `--artifacts`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Artifacts {
    pub exchanges: Vec<Exchange>,
    pub events: BTreeMap<String, Vec<Event>>,
    pub logs: BTreeMap<String, String>,
}

/// One role's ACA-Py version in a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RoleVersion {
    pub role: String,
    #[serde(rename = "requested_version")]
    pub requested: Option<String>,
    #[serde(rename = "acapy_version")]
    pub reported: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CaseResult {
    /// The test name: `issue-credential-v2/seed-flow::process::1.3.6`.
    pub name: String,
    /// The scenario's id: `issue-credential-v2/seed-flow`.
    #[serde(rename = "scenario")]
    pub scenario_id: String,
    pub scenario_name: String,
    pub file: PathBuf,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Where the case ran: the case name after the scenario id (`process::1.3.6`).
    pub target: String,
    /// `process`, `docker`, `external`.
    pub provider: String,
    /// The version asked for, if any.
    pub requested_version: Option<String>,
    /// The version the agents reported, when they all agree.
    pub acapy_version: Option<String>,
    /// Sub-wallets of a shared multitenant agent, or agents of the case's
    /// own; `None` when no agent started.
    #[serde(rename = "agents")]
    pub agent_mode: Option<AgentMode>,
    /// Each role's version, asked for and reported, in declaration order.
    pub roles: Vec<RoleVersion>,
    #[serde(flatten)]
    pub status: Status,
    #[serde(rename = "duration_ms", with = "millis")]
    #[schemars(with = "u64")]
    pub duration: Duration,
    pub steps: Vec<StepResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    /// Kept for `--artifacts`, not in the JSON report.
    #[serde(skip)]
    pub artifacts: Option<Artifacts>,
}

impl CaseResult {
    /// Every string in the result with each secret as `***`: what a case
    /// hands on, so that no output needs the secrets.
    pub fn masked(self, secrets: &crate::redact::Redactor) -> CaseResult {
        if secrets.is_empty() {
            return self;
        }
        let artifacts = self.artifacts.clone().map(|a| mask(&a, secrets));
        let mut masked = mask(&self, secrets);
        masked.artifacts = artifacts;
        masked
    }
}

/// `value` through JSON and back with every secret masked: no field is
/// forgotten, whatever fields are added later.
pub(crate) fn mask<T: Serialize + serde::de::DeserializeOwned>(
    value: &T,
    secrets: &crate::redact::Redactor,
) -> T {
    let json = serde_json::to_value(value).expect("results serialize");
    serde_json::from_value(secrets.json(&json)).expect("a masked result reads back")
}

/// Durations as whole milliseconds; saturating rather than wrapping.
pub mod millis {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(as_millis(*d))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }

    pub fn as_millis(d: Duration) -> u64 {
        u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_status_word_is_its_serde_tag() {
        let failure = Failure {
            step: None,
            step_name: None,
            agent: None,
            message: "m".into(),
            location: None,
            line: None,
            expected: None,
            actual: None,
            diagnostic: "failure: m\n".into(),
            response: None,
            recent_events: Vec::new(),
            log_tail: None,
            log_owner: None,
            service_logs: Vec::new(),
        };
        let reason = || "r".to_owned();
        for status in [
            Status::Passed,
            Status::Failed,
            Status::Skipped { reason: reason() },
            Status::ExpectedFailure {
                reason: reason(),
                step: Some(3),
            },
            Status::UnexpectedPass {
                reason: reason(),
                step: None,
            },
            Status::Interrupted { started: true },
            Status::Flaky {
                failed_tries: vec![FailedTry {
                    duration: Duration::from_millis(5),
                    failure,
                }],
            },
        ] {
            let json = serde_json::to_value(&status).unwrap();
            assert_eq!(json["status"], status.word());
            let back: Status = serde_json::from_value(json).unwrap();
            assert_eq!(back, status);
        }
    }
}
