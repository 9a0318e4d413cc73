//! What running a case produced: the data every report is made from.

use crate::admin::events::Event;
use crate::admin::Exchange;
use crate::diagnostic::{Diagnostic, Loc};
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
    /// The run was interrupted (Ctrl-C, SIGTERM, its output closed) while
    /// the case ran (`started`), or before it started.
    Interrupted {
        started: bool,
    },
    /// Failed, then passed on a retry (`--retries`): a success, with the
    /// failed tries kept for the reports.
    Flaky {
        failed_tries: Vec<FailedTry>,
    },
}

/// One failed try of a case that later passed.
#[derive(Debug, Clone)]
pub struct FailedTry {
    pub duration: Duration,
    /// `None` only if the try failed without one (it always has one today).
    pub failure: Option<Failure>,
}

impl FailedTry {
    pub fn message(&self) -> &str {
        self.failure
            .as_ref()
            .map(Failure::message)
            .unwrap_or("failed")
    }
}

/// Two tries are the same when they took as long and failed the same way.
impl PartialEq for FailedTry {
    fn eq(&self, other: &FailedTry) -> bool {
        self.duration == other.duration && self.message() == other.message()
    }
}

impl Eq for FailedTry {}

impl Status {
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
#[derive(Debug, Clone)]
pub struct Failure {
    /// 1-based step number and name, when a step failed.
    pub step: Option<(usize, String)>,
    pub agent: Option<String>,
    /// The message, where in the file, and the notes under it: printed as
    /// is. [`Failure::framed`] adds the case's own notes once it ends.
    pub diagnostic: Diagnostic,
    pub expected: Option<String>,
    pub actual: Option<String>,
    /// The response the failing step got (or the event it last saw).
    pub response: Option<Exchange>,
    /// The failing agent's recent events, one line each.
    pub recent_events: Vec<String>,
    /// The failing agent's log tail.
    pub log_tail: Option<String>,
    /// The last lines of each service's log, by name.
    pub service_logs: Vec<(String, String)>,
    /// The failure as it was rendered when it happened, for a failure read
    /// back from a JSON report (`report merge`): shown as is.
    pub rendered: Option<String>,
}

impl Failure {
    pub fn new(message: impl Into<String>) -> Failure {
        Failure::from(Diagnostic::new(message, None))
    }

    pub fn at(mut self, loc: &Loc) -> Failure {
        self.diagnostic.loc = Some(loc.clone());
        self
    }

    /// Text beside the underline.
    pub fn label(mut self, label: impl Into<String>) -> Failure {
        self.diagnostic.label = label.into();
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Failure {
        self.diagnostic.notes.push(note.into());
        self
    }

    pub fn expected(mut self, expected: impl Into<String>) -> Failure {
        self.expected = Some(expected.into());
        self
    }

    pub fn actual(mut self, actual: impl Into<String>) -> Failure {
        self.actual = Some(actual.into());
        self
    }

    pub fn response(mut self, response: Option<Exchange>) -> Failure {
        self.response = response;
        self
    }

    pub fn message(&self) -> &str {
        &self.diagnostic.message
    }

    pub fn loc(&self) -> Option<&Loc> {
        self.diagnostic.loc.as_ref()
    }

    /// Puts the case's context before the failure's own notes: which
    /// scenario ran where, the step, what was expected and what came.
    pub fn framed(mut self, case: String) -> Failure {
        let mut notes = vec![case];
        if let Some((number, name)) = &self.step {
            let agent = self
                .agent
                .as_ref()
                .map(|a| format!(" on {a}"))
                .unwrap_or_default();
            notes.push(format!("step {number}: `{name}`{agent}"));
        }
        if let Some(expected) = &self.expected {
            notes.push(format!("expected: {expected}"));
        }
        if let Some(actual) = &self.actual {
            notes.push(format!("actual:   {actual}"));
        }
        notes.append(&mut self.diagnostic.notes);
        self.diagnostic.notes = notes;
        self
    }
}

impl From<Diagnostic> for Failure {
    fn from(diagnostic: Diagnostic) -> Failure {
        Failure {
            step: None,
            agent: None,
            diagnostic,
            expected: None,
            actual: None,
            response: None,
            recent_events: Vec::new(),
            log_tail: None,
            service_logs: Vec::new(),
            rendered: None,
        }
    }
}

/// Everything a failing case leaves for `--artifacts`.
#[derive(Debug, Clone, Default)]
pub struct Artifacts {
    pub exchanges: Vec<Exchange>,
    pub events: BTreeMap<String, Vec<Event>>,
    pub logs: BTreeMap<String, String>,
}

/// One role's ACA-Py version in a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleVersion {
    pub role: String,
    pub requested: Option<String>,
    pub reported: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CaseResult {
    /// The test name: `issue-credential-v2/seed-flow::process::1.3.6`.
    pub name: String,
    pub scenario_id: String,
    pub scenario_name: String,
    pub file: PathBuf,
    /// Where the case ran: the case name after the scenario id (`process::1.3.6`).
    pub target: String,
    /// `process`, `docker`, `external`.
    pub provider: String,
    /// The version asked for, if any.
    pub requested_version: Option<String>,
    /// The version the agents reported, when they all agree.
    pub acapy_version: Option<String>,
    /// Each role's version, asked for and reported, in declaration order.
    pub roles: Vec<RoleVersion>,
    /// `shared` (sub-wallets of a multitenant agent) or `dedicated`; `None`
    /// when no agent started.
    pub agent_mode: Option<&'static str>,
    pub status: Status,
    pub duration: Duration,
    pub steps: Vec<StepResult>,
    pub failure: Option<Failure>,
    pub artifacts: Option<Artifacts>,
    /// The case's secret values: every output shows them as `***`.
    pub secrets: crate::redact::Redactor,
}
