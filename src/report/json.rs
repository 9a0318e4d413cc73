//! Results as one JSON document, for tools (`--report-json FILE`).
//!
//! The shape is stable: fields may be added under the same `version`, but none
//! is renamed, removed or retyped without bumping it.
//!
//! ```text
//! {
//!   "version": 1,
//!   "summary": {
//!     "passed": 3, "failed": 1, "skipped": 1, "xfailed": 1, "xpassed": 0,
//!     "interrupted": 0,                     // cut short or never started
//!     "flaky": 0,                           // passed on a retry (not in `passed`)
//!     "duration_ms": 12345                  // wall time of the whole run
//!   },
//!   "cases": [{
//!     "name": "issue-credential-v2/seed-flow::process::1.3.6",
//!     "scenario": "issue-credential-v2/seed-flow",   // scenario id
//!     "scenario_name": "Seed flow",
//!     "file": "scenarios/issue-credential-v2/seed-flow.yaml",
//!     "target": "process::1.3.6",           // the name after the scenario id
//!     "provider": "process",
//!     "requested_version": "1.3.6",         // or null
//!     "acapy_version": "1.3.6",             // as the agents reported it, or null
//!     "agents": "shared",                   // shared | dedicated, or null (none started)
//!     "roles": [{                           // each role, in declaration order
//!       "role": "issuer", "requested_version": "0.12.8", "acapy_version": "0.12.8"
//!     }],
//!     "status": "pass",                     // pass | fail | skip | xfail | xpass | interrupted | flaky
//!     "reason": "...",                      // only for skip, xfail, xpass and interrupted
//!     "duration_ms": 3210,
//!     "steps": [{
//!       "name": "create invitation",
//!       "agent": "issuer",
//!       "status": "passed",                 // passed | failed | skipped | not_run
//!       "duration_ms": 12
//!     }],
//!     "failure": {                          // only when the case has a failure
//!       "step": 3,                          // 1-based, or null (failed outside a step)
//!       "step_name": "issue",               // or null
//!       "agent": "issuer",                  // or null
//!       "message": "response did not match",
//!       "location": "scenarios/x.yaml:12:5", // only when known
//!       "expected": "state == done",        // or null
//!       "actual": "state == abandoned",     // or null
//!       "text": "failure: ...",             // the failure as the console shows it
//!       "response": {                       // only when known: the failing exchange
//!         "agent": "issuer", "method": "POST", "url": "http://...",
//!         "request": {...},                 // only when a body was sent
//!         "status": 200, "response": {...}, "elapsed_ms": 12.5
//!       }
//!     },
//!     "failed_tries": [{                    // only for flaky: each failed try, in order,
//!       "message": "...", "duration_ms": 812, ...   // as `failure`, plus its time
//!     }]
//!   }]
//! }
//! ```
//!
//! Durations are whole milliseconds. `summary.failed` counts only `fail`;
//! an `xpass` also fails the run but is counted apart, under `xpassed`.

use crate::report::console::{interrupted_reason, render_one, Tally};
use crate::run::outcome::{CaseResult, Failure, Status, StepResult, StepStatus};
use serde_json::{json, Map, Value};
use std::path::Path;
use std::time::Duration;

/// Bumped only when an existing field changes meaning or type.
pub const FORMAT_VERSION: u64 = 1;

pub fn render(results: &[CaseResult], elapsed: Duration) -> Value {
    let tally = Tally::of(results);
    json!({
        "version": FORMAT_VERSION,
        "summary": {
            "passed": tally.passed,
            "failed": tally.failed,
            "skipped": tally.skipped,
            "xfailed": tally.xfailed,
            "xpassed": tally.xpassed,
            "interrupted": tally.interrupted + tally.not_started,
            "flaky": tally.flaky,
            "duration_ms": millis(elapsed),
        },
        "cases": results.iter().map(case).collect::<Vec<_>>(),
    })
}

/// Pretty-printed, with a final newline so the file diffs and `cat`s cleanly.
pub fn write(results: &[CaseResult], elapsed: Duration, path: &Path) -> std::io::Result<()> {
    let mut text = serde_json::to_string_pretty(&render(results, elapsed))?;
    text.push('\n');
    std::fs::write(path, text)
}

/// One entry of `cases` (also saved as `case.json` with the artifacts).
pub fn case(result: &CaseResult) -> Value {
    let mut case = Map::new();
    case.insert("name".into(), json!(result.name));
    case.insert("scenario".into(), json!(result.scenario_id));
    case.insert("scenario_name".into(), json!(result.scenario_name));
    case.insert("file".into(), json!(result.file.display().to_string()));
    case.insert("target".into(), json!(result.target));
    case.insert("provider".into(), json!(result.provider));
    case.insert("requested_version".into(), json!(result.requested_version));
    case.insert("acapy_version".into(), json!(result.acapy_version));
    case.insert("agents".into(), json!(result.agent_mode));
    case.insert(
        "roles".into(),
        Value::Array(
            result
                .roles
                .iter()
                .map(|r| {
                    json!({
                        "role": r.role,
                        "requested_version": r.requested,
                        "acapy_version": r.reported,
                    })
                })
                .collect(),
        ),
    );
    case.insert("status".into(), json!(result.status.word()));
    if let Some(reason) = reason(&result.status) {
        case.insert("reason".into(), json!(reason));
    }
    case.insert("duration_ms".into(), json!(millis(result.duration)));
    case.insert(
        "steps".into(),
        Value::Array(result.steps.iter().map(step).collect()),
    );
    if let Some(failure) = &result.failure {
        case.insert("failure".into(), self::failure(failure));
    }
    if let Status::Flaky { failed_tries } = &result.status {
        let tries = failed_tries.iter().map(|t| {
            let mut entry = match &t.failure {
                Some(f) => self::failure(f),
                None => json!({ "message": t.message() }),
            };
            entry["duration_ms"] = json!(millis(t.duration));
            entry
        });
        case.insert("failed_tries".into(), Value::Array(tries.collect()));
    }
    result.secrets.json(&Value::Object(case))
}

fn step(step: &StepResult) -> Value {
    json!({
        "name": step.name,
        "agent": step.agent,
        "status": step_word(&step.status),
        "duration_ms": millis(step.duration),
    })
}

fn failure(failure: &Failure) -> Value {
    let mut out = Map::new();
    out.insert("step".into(), json!(failure.step.as_ref().map(|s| s.0)));
    out.insert(
        "step_name".into(),
        json!(failure.step.as_ref().map(|s| &s.1)),
    );
    out.insert("agent".into(), json!(failure.agent));
    out.insert("message".into(), json!(failure.message()));
    if let Some(loc) = failure.loc() {
        out.insert("location".into(), json!(loc.to_string()));
    }
    out.insert("expected".into(), json!(failure.expected));
    out.insert("actual".into(), json!(failure.actual));
    out.insert("text".into(), json!(render_one(failure)));
    if let Some(exchange) = &failure.response {
        // Exchange is Serialize; it cannot fail for a plain struct of Values.
        out.insert(
            "response".into(),
            serde_json::to_value(exchange).unwrap_or(Value::Null),
        );
    }
    Value::Object(out)
}

/// The reason an `xfail` or skip gave, if the status carries one.
pub fn reason(status: &Status) -> Option<&str> {
    match status {
        Status::Skipped { reason }
        | Status::ExpectedFailure { reason }
        | Status::UnexpectedPass { reason } => Some(reason),
        Status::Interrupted { started } => Some(interrupted_reason(*started)),
        Status::Passed | Status::Failed | Status::Flaky { .. } => None,
    }
}

pub fn step_word(status: &StepStatus) -> &'static str {
    match status {
        StepStatus::Passed => "passed",
        StepStatus::Failed => "failed",
        StepStatus::Skipped => "skipped",
        StepStatus::NotRun => "not_run",
    }
}

/// Saturates rather than wraps: a run longer than 584 million years is unlikely.
pub fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The distinct targets of `results`, in version order.
pub fn targets(results: &[CaseResult]) -> Vec<String> {
    let mut targets: Vec<String> = results.iter().map(|r| r.target.clone()).collect();
    targets.sort_by(|a, b| crate::version::compare_labels(a, b));
    targets.dedup();
    targets
}
