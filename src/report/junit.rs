//! Results as JUnit XML, for CI test tabs (`--junit FILE`).
//!
//! One `<testsuite>` per target (`process::1.3.6`), in version order; one
//! `<testcase>` per case, named by scenario id with the target as classname,
//! so CI tools group a version's cases together. A case cut short by an
//! interruption is an `<error>`; one never started, `<skipped>`. A flaky
//! case (passed on a retry) passes, with a `<flakyFailure>` per failed try.

use super::console::{render_failed_tries, render_failure};
use super::json::targets;
use crate::run::outcome::{CaseResult, Status};
use quick_junit::{
    NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestRerun, TestSuite,
};
use std::fmt::Write as _;
use std::path::Path;

pub fn render(results: &[CaseResult], suite_name: &str) -> String {
    let mut report = Report::new(suite_name);
    let mut total = std::time::Duration::ZERO;
    for t in targets(results) {
        let mut suite = TestSuite::new(t.as_str());
        let mut time = std::time::Duration::ZERO;
        for result in results.iter().filter(|r| r.target == t) {
            time += result.duration;
            suite.add_test_case(test_case(result, &t));
        }
        suite.set_time(time);
        total += time;
        report.add_test_suite(suite);
    }
    report.set_time(total);
    // Serializing owned strings into memory cannot fail; XmlString already
    // dropped the characters XML cannot hold.
    report
        .to_string()
        .expect("a JUnit report in memory always serializes")
}

pub fn write(results: &[CaseResult], suite_name: &str, path: &Path) -> std::io::Result<()> {
    std::fs::write(path, render(results, suite_name))
}

fn test_case(result: &CaseResult, target: &str) -> TestCase {
    let status = match &result.status {
        Status::Passed | Status::ExpectedFailure { .. } => TestCaseStatus::success(),
        // A pass with its failed tries as `<flakyFailure>`s.
        Status::Flaky { failed_tries } => {
            let mut status = TestCaseStatus::success();
            status.add_reruns(failed_tries.iter().map(|t| {
                let mut rerun = TestRerun::new(NonSuccessKind::Failure);
                rerun
                    .set_time(t.duration)
                    .set_message(t.message())
                    .set_type("fail")
                    .set_description(render_failed_tries(std::slice::from_ref(t)));
                rerun
            }));
            status
        }
        Status::Failed | Status::UnexpectedPass { .. } => {
            let message = match (&result.failure, &result.status) {
                (Some(f), _) => f.message.clone(),
                (None, Status::UnexpectedPass { reason, .. }) => {
                    format!("passed but is marked `xfail` here: {reason}")
                }
                (None, _) => "failed".to_owned(),
            };
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status
                .set_message(message)
                .set_type(result.status.word())
                .set_description(render_failure(result));
            status
        }
        Status::Skipped { reason } => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(reason.as_str());
            status
        }
        // Cut short: an error, the test itself having no verdict.
        Status::Interrupted { started: true } => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status
                .set_message(result.status.reason().unwrap_or_default())
                .set_type(result.status.word());
            status
        }
        Status::Interrupted { started: false } => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(result.status.reason().unwrap_or_default());
            status
        }
    };
    let mut case = TestCase::new(result.scenario_id.as_str(), status);
    case.set_classname(target).set_time(result.duration);

    // Properties carry what a CI tool may want to filter or group on.
    case.add_property(Property::new("scenario_name", &result.scenario_name));
    case.add_property(Property::new("file", result.file.display().to_string()));
    case.add_property(Property::new("provider", &result.provider));
    if let Some(v) = &result.requested_version {
        case.add_property(Property::new("requested_version", v));
    }
    if let Some(v) = &result.acapy_version {
        case.add_property(Property::new("acapy_version", v));
    }
    for role in &result.roles {
        if let Some(v) = &role.reported {
            case.add_property(Property::new(format!("acapy_version.{}", role.role), v));
        }
    }
    case.add_property(Property::new("status", result.status.word()));
    let findings: Vec<_> = result.steps.iter().flat_map(|s| &s.contract).collect();
    if !findings.is_empty() {
        let known = findings.iter().filter(|f| f.known.is_some()).count();
        case.add_property(Property::new(
            "contract.findings",
            (findings.len() - known).to_string(),
        ));
        case.add_property(Property::new("contract.known", known.to_string()));
    }
    if let Status::ExpectedFailure { reason, .. } = &result.status {
        case.add_property(Property::new("xfail", reason));
    }

    // system-out: the step timings, and for an xfail why it is allowed to fail
    // and how it failed, since a passing testcase has nowhere else to say so.
    let mut out = String::new();
    if let Status::ExpectedFailure { .. } = &result.status {
        let _ = writeln!(
            out,
            "expected failure (xfail): {}",
            result.status.reason().unwrap_or_default()
        );
    }
    for (i, step) in result.steps.iter().enumerate() {
        let _ = writeln!(
            out,
            "step {} {:?} {} ms {}",
            i + 1,
            step.name,
            step.duration.as_millis(),
            step.status.words()
        );
    }
    if let Status::ExpectedFailure { .. } = &result.status {
        let failure = render_failure(result);
        if !failure.is_empty() {
            let _ = write!(out, "\n{failure}");
        }
    }
    if !out.is_empty() {
        case.set_system_out(out);
    }
    case
}
