//! What running a case produced: the data every report is made from.

use super::events::Event;
use super::http::Exchange;
use crate::diagnostic::Loc;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Passed,
    Failed,
    Skipped {
        reason: String,
    },
    /// Failed where an `xfail` said it would.
    ExpectedFailure {
        reason: String,
    },
    /// Passed where an `xfail` said it would fail: counts as a failure, so
    /// stale `xfail`s get noticed.
    UnexpectedPass {
        reason: String,
    },
}

impl Status {
    pub fn is_success(&self) -> bool {
        !matches!(self, Status::Failed | Status::UnexpectedPass { .. })
    }

    pub fn word(&self) -> &'static str {
        match self {
            Status::Passed => "pass",
            Status::Failed => "fail",
            Status::Skipped { .. } => "skip",
            Status::ExpectedFailure { .. } => "xfail",
            Status::UnexpectedPass { .. } => "xpass",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepStatus {
    Passed,
    Failed,
    /// `when` did not hold.
    Skipped,
    /// A step before it failed.
    NotRun,
}

#[derive(Debug, Clone)]
pub struct StepResult {
    pub name: String,
    pub agent: String,
    pub status: StepStatus,
    pub duration: Duration,
}

/// Why a case failed, with everything needed to see why.
#[derive(Debug, Clone, Default)]
pub struct Failure {
    /// 1-based step number and name, when a step failed.
    pub step: Option<(usize, String)>,
    pub agent: Option<String>,
    pub message: String,
    pub loc: Option<Loc>,
    pub label: String,
    pub expected: Option<String>,
    pub actual: Option<String>,
    /// Other lines worth reading (`help: ...`).
    pub notes: Vec<String>,
    /// The response the failing step got (or the event it last saw).
    pub response: Option<Exchange>,
    /// The failing agent's recent events, one line each.
    pub recent_events: Vec<String>,
    /// The failing agent's log tail.
    pub log_tail: Option<String>,
}

/// Everything a failing case leaves for `--artifacts`.
#[derive(Debug, Clone, Default)]
pub struct Artifacts {
    pub exchanges: Vec<Exchange>,
    pub events: BTreeMap<String, Vec<Event>>,
    pub logs: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct CaseResult {
    /// The test name: `issue-credential-v2/seed-flow::process::1.3.6`.
    pub name: String,
    pub scenario_id: String,
    pub scenario_name: String,
    pub file: PathBuf,
    pub provider: String,
    /// The version asked for, if any.
    pub requested_version: Option<String>,
    /// The version the agents reported.
    pub acapy_version: Option<String>,
    pub status: Status,
    pub duration: Duration,
    pub steps: Vec<StepResult>,
    pub failure: Option<Failure>,
    pub artifacts: Option<Artifacts>,
}
