//! The CI reports, from hand-made results: JUnit XML parses back with the
//! right counts, JSON has the documented shape, the Markdown matrix agrees
//! with each case, and artifacts land where they should.

use acapy_harness::admin::events::Event;
use acapy_harness::admin::Exchange;
use acapy_harness::agents::AgentMode;
use acapy_harness::diagnostic::{Loc, SourceFile};
use acapy_harness::report::json::JsonReport;
use acapy_harness::report::{artifacts, console, json, junit, markdown, merge};
use acapy_harness::run::fault::Fault;
use acapy_harness::run::outcome::{
    Artifacts, CaseResult, FailedTry, Failure, RoleVersion, Status, StepResult, StepStatus,
};
use quick_junit::{Report, TestCaseStatus};
use serde_json::{json as j, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

const SEED: &str = "issue-credential-v2/seed-flow";
const PROOF: &str = "present-proof-v2/basic";

fn case(scenario: &str, name: &str, version: &str, status: Status) -> CaseResult {
    CaseResult {
        name: format!("{scenario}::process::{version}"),
        scenario_id: scenario.into(),
        scenario_name: name.into(),
        file: PathBuf::from(format!("scenarios/{scenario}.yaml")),
        target: format!("process::{version}"),
        provider: "process".into(),
        requested_version: Some(version.into()),
        acapy_version: Some(version.into()),
        roles: Vec::new(),
        agent_mode: Some(AgentMode::Dedicated),
        tags: Vec::new(),
        status,
        duration: Duration::from_millis(3210),
        steps: vec![
            step("create invitation", StepStatus::Passed, 12),
            step("receive invitation", StepStatus::Passed, 30),
        ],
        failure: None,
        artifacts: None,
    }
}

fn step(name: &str, status: StepStatus, ms: u64) -> StepResult {
    StepResult {
        name: name.into(),
        agent: "issuer".into(),
        status,
        line: None,
        started: Duration::ZERO,
        duration: Duration::from_millis(ms),
        exchanges: Vec::new(),
        events: Vec::new(),
        contract: Vec::new(),
    }
}

/// The JSON report of `results`, as a consumer reads it.
fn render_json(results: &[CaseResult], elapsed: Duration) -> Value {
    serde_json::to_value(JsonReport::new(results, elapsed, &[], None)).unwrap()
}

/// A report's results and run time, read back as `report merge` does.
fn parse(doc: &Value) -> (Vec<CaseResult>, Duration) {
    let report: JsonReport = serde_json::from_value(doc.clone()).unwrap();
    (report.cases, report.summary.duration)
}

/// A failure with nothing but its message (and the case's note).
fn bare(message: &str) -> Failure {
    Fault::new(message)
        .freeze("scenario: Seed flow (scenarios/seed.yaml), ACA-Py 1.3.6 (process)".into())
}

fn exchange() -> Exchange {
    Exchange {
        agent: "issuer".into(),
        method: "POST".into(),
        url: "http://127.0.0.1:8021/issue-credential-2.0/send".into(),
        headers: Default::default(),
        request: Some(j!({"connection_id": "c1"})),
        status: 200,
        response: j!({"state": "abandoned", "cred_ex_id": "x1"}),
        elapsed_ms: 12.5,
        operation: Some("POST /issue-credential-2.0/send".into()),
    }
}

fn failure() -> Failure {
    let file = Arc::new(SourceFile {
        path: PathBuf::from("scenarios/present-proof-v2/basic.yaml"),
        text: "steps:\n  - name: send proof request\n    expect: { state: done }\n".into(),
    });
    let mut failure = Fault::new("response did not match `expect`")
        .at(&Loc::new(&file, 3, 15, 11))
        .label("expected here")
        .expected("state == \"done\"")
        .actual("state == \"abandoned\" | `x`")
        .note("help: check the holder's log")
        .response(Some(exchange()));
    failure.step = Some((3, "send proof request".into()));
    failure.agent = Some("issuer".into());
    failure.recent_events = vec!["+10ms issue_credential_v2_0 state=abandoned".into()];
    failure.log_tail = Some("WARNING something broke\n".into());
    // As `run_case` leaves it: the case's context before the notes.
    failure.freeze(
        "scenario: Basic proof (scenarios/present-proof-v2/basic.yaml), ACA-Py 1.3.6 (process)"
            .into(),
    )
}

/// Two versions; on 1.3.6: pass, fail, skip; on 1.7.0: pass, xfail, xpass.
fn results() -> Vec<CaseResult> {
    let mut failed = case(PROOF, "Basic proof", "1.3.6", Status::Failed);
    failed
        .steps
        .push(step("send proof request", StepStatus::Failed, 40));
    failed.steps.push(step("verify", StepStatus::NotRun, 0));
    failed.failure = Some(failure());

    let mut skipped = case(
        "revocation/revoke",
        "Revoke",
        "1.3.6",
        Status::Skipped {
            reason: "requires ACA-Py >= 1.5".into(),
        },
    );
    skipped.steps.clear();
    skipped.duration = Duration::ZERO;

    let mut xfail = case(
        PROOF,
        "Basic proof",
        "1.7.0",
        Status::ExpectedFailure {
            reason: "known bug #123".into(),
            step: None,
        },
    );
    xfail.failure = Some(failure());

    let xpass = case(
        "revocation/revoke",
        "Revoke",
        "1.7.0",
        Status::UnexpectedPass {
            reason: "fixed in 1.7?".into(),
            step: None,
        },
    );

    // Deliberately out of version order: reports sort targets themselves.
    vec![
        case(SEED, "Seed flow", "1.7.0", Status::Passed),
        case(SEED, "Seed flow", "1.3.6", Status::Passed),
        failed,
        skipped,
        xfail,
        xpass,
    ]
}

const ELAPSED: Duration = Duration::from_millis(12_345);

// ---------------------------------------------------------------- JUnit

#[test]
fn junit_parses_back_with_one_suite_per_target() {
    let xml = junit::render(&results(), "acapy-harness");
    let report = Report::deserialize_from_str(&xml).expect("valid JUnit XML");

    assert_eq!(report.name.as_ref().unwrap().as_str(), "acapy-harness");
    assert_eq!(report.tests, 6);
    assert_eq!(report.failures, 2, "fail and xpass are failures");
    assert_eq!(report.skipped, 1);
    assert_eq!(report.errors, 0);

    let names: Vec<&str> = report.test_suites.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["process::1.3.6", "process::1.7.0"], "version order");

    let old = &report.test_suites[0];
    assert_eq!((old.tests, old.failures, old.skipped), (3, 1, 1));
    let new = &report.test_suites[1];
    assert_eq!((new.tests, new.failures, new.skipped), (3, 1, 0));

    for suite in &report.test_suites {
        for tc in &suite.test_cases {
            assert_eq!(tc.classname.as_ref().unwrap().as_str(), suite.name.as_str());
            assert!(!tc.name.as_str().contains("::"), "name is the scenario id");
        }
    }
}

#[test]
fn junit_failure_carries_message_and_full_story() {
    let xml = junit::render(&results(), "acapy-harness");
    let report = Report::deserialize_from_str(&xml).unwrap();
    let tc = report.test_suites[0]
        .test_cases
        .iter()
        .find(|tc| tc.name.as_str() == PROOF)
        .unwrap();
    assert_eq!(tc.time, Some(Duration::from_millis(3210)));
    match &tc.status {
        TestCaseStatus::NonSuccess {
            message,
            description,
            ty,
            ..
        } => {
            assert_eq!(
                message.as_ref().unwrap().as_str(),
                "response did not match `expect`"
            );
            assert_eq!(ty.as_ref().unwrap().as_str(), "fail");
            let text = description.as_ref().unwrap().as_str();
            assert!(text.contains("expected: state == \"done\""), "{text}");
            assert!(text.contains("scenarios/present-proof-v2/basic.yaml:3:15"));
            assert!(text.contains("\"abandoned\""), "the response body");
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    let out = tc.system_out.as_ref().unwrap().as_str();
    assert!(
        out.contains("step 3 \"send proof request\" 40 ms failed"),
        "{out}"
    );
    assert!(out.contains("step 4 \"verify\" 0 ms not run"), "{out}");
}

#[test]
fn junit_skip_xfail_and_xpass() {
    let xml = junit::render(&results(), "acapy-harness");
    let report = Report::deserialize_from_str(&xml).unwrap();
    let find = |suite: usize, name: &str| {
        report.test_suites[suite]
            .test_cases
            .iter()
            .find(|tc| tc.name.as_str() == name)
            .unwrap()
            .clone()
    };

    let skip = find(0, "revocation/revoke");
    assert!(matches!(
        &skip.status,
        TestCaseStatus::Skipped { message: Some(m), .. } if m.as_str() == "requires ACA-Py >= 1.5"
    ));

    let xfail = find(1, PROOF);
    assert!(matches!(xfail.status, TestCaseStatus::Success { .. }));
    assert!(xfail
        .properties
        .iter()
        .any(|p| p.name.as_str() == "xfail" && p.value.as_str() == "known bug #123"));
    let out = xfail.system_out.unwrap();
    assert!(out
        .as_str()
        .starts_with("expected failure (xfail): known bug #123"));

    let xpass = find(1, "revocation/revoke");
    match &xpass.status {
        TestCaseStatus::NonSuccess { message, ty, .. } => {
            assert!(message.as_ref().unwrap().as_str().contains("fixed in 1.7?"));
            assert_eq!(ty.as_ref().unwrap().as_str(), "xpass");
        }
        other => panic!("an xpass is a failure, got {other:?}"),
    }
}

#[test]
fn the_summary_names_expected_failures_so_a_run_of_only_xfails_does_not_read_empty() {
    let only = vec![case(
        PROOF,
        "Basic proof",
        "1.7.0",
        Status::ExpectedFailure {
            reason: "known bug #123".into(),
            step: Some(2),
        },
    )];
    let tally = console::Tally::of(&only);
    assert_eq!(tally.summary(), "0 passed, 0 failed, 0 skipped, 1 xfail");
    // And the XFAIL line names the step the xfail is pinned to.
    assert!(
        console::case_line(&only[0]).ends_with("step 2 `receive invitation`: known bug #123)"),
        "{}",
        console::case_line(&only[0])
    );
}

#[test]
fn junit_of_nothing_is_still_valid() {
    let report = Report::deserialize_from_str(&junit::render(&[], "empty")).unwrap();
    assert_eq!(report.tests, 0);
    assert!(report.test_suites.is_empty());
}

// ---------------------------------------------------------------- JSON

fn is_opt_str(v: &Value) -> bool {
    v.is_string() || v.is_null()
}

#[test]
fn json_has_the_documented_shape() {
    let results = results();
    let doc = render_json(&results, ELAPSED);
    // Through text and back, as a consumer would read it.
    let doc: Value = serde_json::from_str(&doc.to_string()).unwrap();

    assert_eq!(doc["version"], json::FORMAT_VERSION);
    let summary = &doc["summary"];
    assert_eq!(
        summary,
        &j!({"passed": 2, "failed": 1, "skipped": 1, "xfailed": 1, "xpassed": 1, "interrupted": 0, "flaky": 0, "duration_ms": 12345})
    );

    let cases = doc["cases"].as_array().unwrap();
    assert_eq!(cases.len(), results.len());
    for (case, result) in cases.iter().zip(&results) {
        for key in ["name", "scenario", "scenario_name", "file", "provider"] {
            assert!(case[key].is_string(), "{key} in {case}");
        }
        assert!(is_opt_str(&case["requested_version"]));
        assert!(is_opt_str(&case["acapy_version"]));
        assert!(case.get("requested_version").is_some());
        assert!(case.get("acapy_version").is_some());
        assert!(case["duration_ms"].is_u64());
        assert_eq!(case["name"], result.name.as_str());
        assert_eq!(case["scenario"], result.scenario_id.as_str());
        assert_eq!(case["status"], result.status.word());
        let status = case["status"].as_str().unwrap();
        assert!([
            "pass",
            "fail",
            "skip",
            "xfail",
            "xpass",
            "interrupted",
            "flaky"
        ]
        .contains(&status));
        assert_eq!(
            case.get("reason").is_some(),
            ["skip", "xfail", "xpass"].contains(&status),
            "reason exactly when the status has one: {case}"
        );
        if let Some(reason) = case.get("reason") {
            assert!(reason.is_string());
        }
        for step in case["steps"].as_array().unwrap() {
            assert!(step["name"].is_string());
            assert!(step["agent"].is_string());
            assert!(step["duration_ms"].is_u64());
            assert!(step["started_ms"].is_u64());
            let s = step["status"].as_str().unwrap();
            assert!(["passed", "failed", "skipped", "not_run"].contains(&s));
        }
        assert_eq!(case.get("failure").is_some(), result.failure.is_some());
    }

    let failed = &cases[2];
    assert_eq!(failed["duration_ms"], 3210);
    assert_eq!(failed["steps"][2]["status"], "failed");
    assert_eq!(failed["steps"][3]["status"], "not_run");
    let f = &failed["failure"];
    assert_eq!(f["step"], 3);
    assert_eq!(f["step_name"], "send proof request");
    assert_eq!(f["agent"], "issuer");
    assert_eq!(f["message"], "response did not match `expect`");
    assert_eq!(f["location"], "scenarios/present-proof-v2/basic.yaml:3:15");
    assert_eq!(f["expected"], "state == \"done\"");
    assert!(f["actual"].is_string());
    assert_eq!(f["response"]["status"], 200);
    assert_eq!(f["response"]["method"], "POST");
    assert_eq!(f["response"]["response"]["state"], "abandoned");
    // The failure as the console shows it: the source line and the notes.
    let diagnostic = f["diagnostic"].as_str().unwrap();
    assert!(
        diagnostic.starts_with("failure: response did not match `expect`"),
        "{diagnostic}"
    );
    assert!(
        diagnostic.contains("3 |     expect: { state: done }"),
        "{diagnostic}"
    );
}

#[test]
fn json_failure_without_step_or_location() {
    let mut r = case(SEED, "Seed flow", "1.3.6", Status::Failed);
    r.failure = Some(bare("agents did not start"));
    let doc = render_json(&[r], ELAPSED);
    let f = &doc["cases"][0]["failure"];
    assert!(f["step"].is_null() && f["step_name"].is_null() && f["agent"].is_null());
    assert!(f["expected"].is_null() && f["actual"].is_null());
    assert!(f.get("location").is_none() && f.get("response").is_none());
    assert_eq!(f["message"], "agents did not start");
}

#[test]
fn json_write_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.json");
    json::write(&results(), ELAPSED, &[], None, &path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.ends_with('\n'));
    let back: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(back, render_json(&results(), ELAPSED));
}

#[test]
fn targets_sort_by_version() {
    let mut ts = vec![
        "external",
        "process::1.10.0",
        "docker::1.3.6",
        "process::1.3.0",
        "process::1.3.0rc1",
        "process::1.3.6",
    ];
    ts.sort_by(|a, b| acapy_harness::version::compare_labels(a, b));
    assert_eq!(
        ts,
        [
            "process::1.3.0rc1",
            "process::1.3.0",
            "docker::1.3.6",
            "process::1.3.6",
            "process::1.10.0",
            "external",
        ]
    );
}

// ---------------------------------------------------------------- Markdown

/// The matrix cells of the row whose first column is `scenario`, by column.
fn row(md: &str, scenario: &str) -> Vec<String> {
    let line = md
        .lines()
        .find(|l| l.starts_with(&format!("| `{scenario}` |")))
        .unwrap_or_else(|| panic!("no row for {scenario} in\n{md}"));
    line.trim_matches('|')
        .split(" | ")
        .map(|c| c.trim().to_owned())
        .collect()
}

#[test]
fn markdown_matrix_agrees_with_each_case() {
    let results = results();
    let md = markdown::render(&results, ELAPSED);

    let header = md.lines().find(|l| l.starts_with("| Scenario")).unwrap();
    assert_eq!(
        header,
        "| Scenario | Name | process::1.3.6 | process::1.7.0 |"
    );

    for r in &results {
        let cells = row(&md, &r.scenario_id);
        assert_eq!(cells[1], r.scenario_name);
        let column = if r.name.ends_with("1.3.6") { 2 } else { 3 };
        let cell = &cells[column];
        let symbol = markdown::symbol(&r.status);
        assert!(
            cell.starts_with(symbol) || cell.starts_with(&format!("[{symbol}")),
            "{}: cell {cell:?} should show {symbol}",
            r.name
        );
        // Only fail and xpass link to a failure entry, and the entry exists.
        if r.status.is_success() {
            assert!(!cell.contains("](#"), "{cell}");
        } else {
            let anchor = cell.split("](#").nth(1).unwrap().trim_end_matches(')');
            assert!(
                md.contains(&format!("<a id=\"{anchor}\"></a>")),
                "anchor {anchor}"
            );
        }
        if !matches!(r.status, Status::Skipped { .. }) {
            assert!(cell.contains("3.2s"), "duration in {cell}");
        }
    }
}

#[test]
fn markdown_totals_and_sections() {
    let md = markdown::render(&results(), ELAPSED);
    let totals = md.lines().find(|l| l.starts_with("**Totals:**")).unwrap();
    assert_eq!(
        totals,
        "**Totals:** 6 cases: 2 passed, 1 failed, 1 skipped, 1 xfail, 1 xpass, in 12.3s"
    );
    assert!(md.contains("known bug #123"), "xfail reasons are listed");
    assert!(
        md.contains("requires ACA-Py >= 1.5"),
        "skip reasons are listed"
    );

    let failures = md.split("### Failures").nth(1).expect("a Failures section");
    assert!(failures.contains("- **Step 3:** `send proof request` on `issuer`"));
    assert!(failures.contains("- **Expected:** `state == \"done\"`"));
    // A backtick in the text gets a longer code span; `|` is not escaped
    // outside the table.
    assert!(failures.contains("- **Actual:** `` state == \"abandoned\" | `x` ``"));
    assert!(failures.contains("```text\nfailure: response did not match `expect`"));
    assert!(failures.contains("fixed in 1.7?"), "the xpass entry");
    assert_eq!(failures.matches("<a id=").count(), 2);
}

#[test]
fn a_long_failure_keeps_its_head_and_the_end_of_the_log_in_markdown() {
    let mut r = case(SEED, "Seed flow", "1.3.6", Status::Failed);
    let log: Vec<String> = (1..=40).map(|n| format!("log line {n}")).collect();
    r.failure = Some(
        Fault::new("the agents did not start")
            .note(format!(
                "agent `holder` did not start\n--- last lines of its log ---\n{}",
                log.join("\n")
            ))
            .freeze("scenario: Seed flow (scenarios/seed.yaml), ACA-Py 1.3.6 (process)".into()),
    );
    let whole = console::render_failure(&r);
    let md = markdown::render(&[r], ELAPSED);
    let block = md
        .split("```text\n")
        .nth(1)
        .and_then(|b| b.split("\n```").next())
        .expect("a failure block");
    let lines: Vec<&str> = block.lines().collect();
    assert_eq!(
        lines.len(),
        31,
        "30 lines and the line saying what was left out:\n{block}"
    );
    assert_eq!(lines[0], "failure: the agents did not start");
    assert!(lines[12].starts_with(&format!("… ({} lines left out", whole.lines().count() - 30)));
    assert!(
        lines[30].ends_with("log line 40"),
        "the log's last line stays: {block}"
    );
    assert!(
        !block.contains("log line 10\n"),
        "the middle is left out: {block}"
    );
}

#[test]
fn markdown_all_green_has_no_failures_section() {
    let results = vec![case(SEED, "Seed flow", "1.3.6", Status::Passed)];
    let md = markdown::render(&results, ELAPSED);
    assert!(!md.contains("### Failures"));
    assert!(md.contains("| `issue-credential-v2/seed-flow` | Seed flow | ✅ 3.2s |"));
}

// ---------------------------------------------------------------- interrupted runs

/// A case cut short and one never started, in every format.
#[test]
fn interrupted_cases_show_in_every_format() {
    let mut cut = case(
        SEED,
        "Seed flow",
        "1.3.6",
        Status::Interrupted { started: true },
    );
    cut.steps.clear();
    let mut never = case(
        PROOF,
        "Basic proof",
        "1.3.6",
        Status::Interrupted { started: false },
    );
    never.steps.clear();
    never.duration = Duration::ZERO;
    let results = vec![case(SEED, "Seed flow", "1.7.0", Status::Passed), cut, never];

    let line = console::case_line(&results[1]);
    assert_eq!(
        line,
        "INTERRUPTED issue-credential-v2/seed-flow::process::1.3.6  (3.2s, ACA-Py 1.3.6, dedicated agents, the run was interrupted while it ran)"
    );
    let tally = console::Tally::of(&results);
    assert_eq!(tally.summary(), "1 passed, 0 failed, 0 skipped");
    assert!(tally
        .details(ELAPSED)
        .starts_with("interrupted: 1 case(s) cut short, 1 not started; "));

    let doc = render_json(&results, ELAPSED);
    assert_eq!(doc["summary"]["interrupted"], 2);
    assert_eq!(doc["cases"][1]["status"], "interrupted");
    assert_eq!(doc["cases"][1]["started"], true);
    assert_eq!(doc["cases"][2]["started"], false);

    let report = Report::deserialize_from_str(&junit::render(&results, "x")).unwrap();
    assert_eq!(
        (report.tests, report.errors, report.skipped, report.failures),
        (3, 1, 1, 0)
    );

    let md = markdown::render(&results, ELAPSED);
    assert_eq!(row(&md, SEED)[2], "🛑 3.2s");
    assert_eq!(row(&md, PROOF)[2], "🛑 not run");
    assert!(md.contains(", 2 interrupted, in 12.3s"), "{md}");
    assert!(md.contains("### Interrupted"), "{md}");
    assert!(!md.contains("### Failures"), "{md}");
}

// ---------------------------------------------------------------- flaky cases

/// A case that passed on its second try, in every format.
#[test]
fn flaky_cases_show_in_every_format() {
    let failed_try = FailedTry {
        duration: Duration::from_millis(812),
        failure: failure(),
    };
    let flaky = case(
        PROOF,
        "Basic proof",
        "1.3.6",
        Status::Flaky {
            failed_tries: vec![failed_try],
        },
    );
    let results = vec![case(SEED, "Seed flow", "1.3.6", Status::Passed), flaky];

    let line = console::case_line(&results[1]);
    assert!(
        line.starts_with("FLAKY present-proof-v2/basic::process::1.3.6  (3.2s, "),
        "{line}"
    );
    assert!(
        line.ends_with("passed on try 2 of 2 (try 1: response did not match `expect`))"),
        "{line}"
    );
    let tally = console::Tally::of(&results);
    assert_eq!(
        tally.summary(),
        "2 passed, 0 failed, 0 skipped (1 of the passed flaky)",
        "flaky counts as passed, and is named"
    );
    assert!(tally
        .details(ELAPSED)
        .starts_with("1 flaky (passed on a retry), "));
    let tries = console::render_failed_tries(match &results[1].status {
        Status::Flaky { failed_tries } => failed_tries,
        _ => unreachable!(),
    });
    assert!(
        tries.starts_with("try 1 failed (0.8s):\nfailure: response did not match"),
        "{tries}"
    );

    let doc = render_json(&results, ELAPSED);
    assert_eq!(doc["summary"]["passed"], 1);
    assert_eq!(doc["summary"]["flaky"], 1);
    let case = &doc["cases"][1];
    assert_eq!(case["status"], "flaky");
    assert!(case.get("failure").is_none());
    assert_eq!(
        case["failed_tries"][0]["message"],
        "response did not match `expect`"
    );
    assert_eq!(case["failed_tries"][0]["duration_ms"], 812);
    assert_eq!(case["failed_tries"][0]["step"], 3);

    let xml = junit::render(&results, "x");
    let report = Report::deserialize_from_str(&xml).unwrap();
    assert_eq!((report.tests, report.failures, report.errors), (2, 0, 0));
    let tc = report.test_suites[0]
        .test_cases
        .iter()
        .find(|tc| tc.name.as_str() == PROOF)
        .unwrap();
    match &tc.status {
        TestCaseStatus::Success { flaky_runs } => {
            assert_eq!(flaky_runs.len(), 1);
            let run = &flaky_runs[0];
            assert_eq!(
                run.message.as_ref().unwrap().as_str(),
                "response did not match `expect`"
            );
            assert_eq!(run.time, Some(Duration::from_millis(812)));
            assert!(run
                .description
                .as_ref()
                .unwrap()
                .as_str()
                .contains("expected: state == \"done\""));
        }
        other => panic!("a flaky case passes, got {other:?}"),
    }
    assert!(xml.contains("<flakyFailure"), "{xml}");

    let md = markdown::render(&results, ELAPSED);
    assert_eq!(row(&md, PROOF)[2], "🔁 3.2s");
    assert!(md.contains("### Flaky (passed on a retry)"), "{md}");
    assert!(md.contains("- 🔁 `present-proof-v2/basic::process::1.3.6`: passed on try 2 of 2 (try 1: response did not match `expect`)"), "{md}");
    assert!(
        md.contains("1 passed, 0 failed, 0 skipped, 0 xfail, 0 xpass, 1 flaky, in 12.3s"),
        "{md}"
    );
}

// ---------------------------------------------------------------- merge

/// Every status, a flaky and an interrupted case included.
fn all_kinds() -> Vec<CaseResult> {
    let mut results = results();
    results.push(case(
        "connections/reuse",
        "Reuse",
        "1.3.6",
        Status::Flaky {
            failed_tries: vec![FailedTry {
                duration: Duration::from_millis(812),
                failure: failure(),
            }],
        },
    ));
    results.push(case(
        "connections/reuse",
        "Reuse",
        "1.7.0",
        Status::Interrupted { started: true },
    ));
    results.push(case(
        "connections/other",
        "Other",
        "1.7.0",
        Status::Interrupted { started: false },
    ));
    results
}

/// The JSON report of every kind of case validates against the schema
/// `acapy-harness schema report` prints (and `schemas/` holds).
#[test]
fn a_json_report_validates_against_its_schema() {
    use acapy_harness::schema::{schema_json, SchemaKind};
    let schema: Value = serde_json::from_str(&schema_json(SchemaKind::Report)).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let mut results = all_kinds();
    results[0].steps[0].exchanges.push(exchange());
    let doc = render_json(&results, ELAPSED);
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("at `{}`: {e}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    // And it is not a schema that takes anything.
    let mut wrong = doc.clone();
    wrong["cases"][0]["status"] = j!("passed");
    assert!(!validator.is_valid(&wrong));
}

/// A JSON report read back renders the same JSON and the same Markdown.
#[test]
fn a_json_report_reads_back_as_its_results() {
    let results = all_kinds();
    let doc = render_json(&results, ELAPSED);
    let (back, elapsed) = parse(&doc);
    assert_eq!(elapsed, ELAPSED);
    assert_eq!(render_json(&back, elapsed), doc);
    assert_eq!(
        markdown::render(&back, elapsed),
        markdown::render(&results, ELAPSED)
    );
    assert_eq!(junit::render(&back, "x"), junit::render(&results, "x"));
}

#[test]
fn merging_reports_of_two_jobs_gives_one_matrix() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new): (Vec<CaseResult>, Vec<CaseResult>) = all_kinds()
        .into_iter()
        .partition(|r| r.target == "process::1.3.6");
    let (a, b) = (dir.path().join("a.json"), dir.path().join("b.json"));
    json::write(&new, Duration::from_secs(20), &[], None, &a).unwrap();
    json::write(&old, ELAPSED, &[], None, &b).unwrap();
    let merge::Merged {
        results: merged,
        elapsed,
        ..
    } = merge::merge(&[a.clone(), b.clone()]).unwrap();
    assert_eq!(elapsed, Duration::from_secs(20), "the longest job");
    let mut expected = all_kinds();
    expected.sort_by(|x, y| x.name.cmp(&y.name));
    assert_eq!(
        render_json(&merged, ELAPSED),
        render_json(&expected, ELAPSED)
    );

    // The same report twice: each case once.
    let twice = merge::merge(&[b.clone(), b]).unwrap().results;
    assert_eq!(twice.len(), old.len());
    // Not a report: the error names what is wrong.
    std::fs::write(&a, "{\"version\": 9}").unwrap();
    let e = merge::merge(&[a]).unwrap_err();
    assert!(format!("{e:#}").contains("version"), "{e:#}");
}

// ---------------------------------------------------------------- artifacts

#[test]
fn artifacts_folder_has_one_file_per_kind() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = results().remove(2);
    r.artifacts = Some(Artifacts {
        exchanges: vec![exchange(), exchange()],
        events: BTreeMap::from([(
            "holder".to_owned(),
            vec![Event {
                topic: "connections".into(),
                payload: j!({"state": "active"}),
                at_ms: 1.5,
            }],
        )]),
        logs: BTreeMap::from([("holder".to_owned(), "INFO started\n".to_owned())]),
    });

    let folder = artifacts::write(dir.path(), &r).unwrap();
    assert_eq!(
        folder,
        dir.path().join("present-proof-v2_basic__process__1.3.6")
    );
    let read = |f: &str| std::fs::read_to_string(folder.join(f)).unwrap();

    let exchanges = read("exchanges.jsonl");
    assert_eq!(exchanges.lines().count(), 2);
    for line in exchanges.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["status"], 200);
    }
    let events: Value = serde_json::from_str(read("events-holder.jsonl").trim()).unwrap();
    assert_eq!(events["topic"], "connections");
    assert_eq!(read("holder.log"), "INFO started\n");
    assert!(read("failure.txt").starts_with("failure: response did not match"));
    let case: Value = serde_json::from_str(&read("case.json")).unwrap();
    assert_eq!(case["status"], "fail");
}

#[test]
fn artifact_names_stay_inside_the_folder() {
    assert_eq!(
        artifacts::sanitize("a/b::process::1.3.6"),
        "a_b__process__1.3.6"
    );
    assert_eq!(artifacts::sanitize(".."), "_..");
    assert_eq!(artifacts::sanitize(""), "_");
    assert_eq!(artifacts::sanitize("../x y"), "_.._x_y");
}

// ---------------------------------------------------------------- Interop

/// A seed case with the issuer on `issuer` and the holder on `holder`.
fn pair(issuer: &str, holder: &str, status: Status) -> CaseResult {
    let mut r = case(SEED, "Seed flow", issuer, status);
    r.roles = vec![
        RoleVersion {
            role: "issuer".into(),
            requested: Some(issuer.into()),
            reported: Some(issuer.into()),
        },
        RoleVersion {
            role: "holder".into(),
            requested: Some(holder.into()),
            reported: Some(holder.into()),
        },
    ];
    if issuer != holder {
        r.target = format!("process::issuer={issuer},holder={holder}");
        r.name = format!("{SEED}::{}", r.target);
        r.requested_version = None;
        r.acapy_version = None;
    }
    r
}

#[test]
fn markdown_draws_a_role_by_role_grid_and_json_carries_each_role() {
    let mut failed = pair("1.7.0", "0.12.8", Status::Failed);
    failed.failure = Some(bare("no common protocol"));
    let results = vec![
        pair("0.12.8", "0.12.8", Status::Passed),
        pair("0.12.8", "1.7.0", Status::Passed),
        failed,
        pair("1.7.0", "1.7.0", Status::Passed),
    ];
    let md = markdown::render(&results, ELAPSED);
    assert!(md.contains("### Interop"), "{md}");
    assert!(md.contains("| issuer \\ holder | 0.12.8 | 1.7.0 |"), "{md}");
    let row = md
        .lines()
        .find(|l| l.starts_with("| **1.7.0** |"))
        .unwrap_or_else(|| panic!("no 1.7.0 row in\n{md}"));
    // Issuer 1.7.0 with holder 0.12.8 failed, and links to its entry.
    assert!(row.contains(&format!("[{}", markdown::FAIL)), "{row}");
    assert!(row.contains(markdown::PASS), "{row}");
    // The matrix itself keeps the same-version cases only.
    let header = md.lines().find(|l| l.starts_with("| Scenario")).unwrap();
    assert_eq!(
        header,
        "| Scenario | Name | process::0.12.8 | process::1.7.0 |"
    );

    let doc = render_json(&results, ELAPSED);
    let roles = &doc["cases"][2]["roles"];
    assert_eq!(roles[0]["role"], "issuer");
    assert_eq!(roles[0]["acapy_version"], "1.7.0");
    assert_eq!(roles[1]["requested_version"], "0.12.8");
    assert!(doc["cases"][2]["acapy_version"].is_null());
    let xml = junit::render(&results, "t");
    assert!(
        xml.contains(r#"name="acapy_version.holder" value="0.12.8""#),
        "{xml}"
    );
}
