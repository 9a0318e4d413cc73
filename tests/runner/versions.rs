//! Versions: `requires`, `when`, `xfail`, by the version the agent reports.

use crate::common::*;
use crate::stub::{Config, Reply};
use acapy_harness::report::console::render_failure;
use acapy_harness::run::outcome::{Status, StepStatus};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requires_skips_by_the_version_the_agent_reports() {
    let old = stub().await;
    let new = stub_with(Config {
        version: "9.1.0rc1".into(),
        ..Config::default()
    })
    .await;
    for s in [&old, &new] {
        s.route("GET", "/thing", vec![Reply::ok(json!({}))]);
    }
    let yaml = scenario(
        r#"
        agents: { a: {} }
        requires: { acapy: ">=9" }
        steps:
          - { agent: a, get: /thing }
        "#,
    );
    let result = run(&yaml, &[("a", &old)]).await;
    match &result.status {
        Status::Skipped { reason } => {
            assert!(reason.contains("requires ACA-Py >=9"), "{reason}");
            assert!(
                reason.contains(&format!("case.yaml:{}", line_of(&yaml, "requires:"))),
                "{reason}"
            );
        }
        other => panic!("expected a skip, got {other:?}"),
    }
    assert!(
        old.requests_to("GET", "/thing").is_empty(),
        "a skipped case made requests"
    );
    assert!(
        old.ws_connects().is_empty(),
        "a skipped case subscribed to events"
    );
    assert_eq!(result.acapy_version.as_deref(), Some("1.3.6"));

    let result = run(&yaml, &[("a", &new)]).await;
    assert_passed(&result);
    assert_eq!(new.requests_to("GET", "/thing").len(), 1);
    assert_eq!(result.acapy_version.as_deref(), Some("9.1.0rc1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_skips_a_step_on_other_versions() {
    let agent = stub().await; // 1.3.6
    for p in ["/old", "/new", "/always"] {
        agent.route("GET", p, vec![Reply::ok(json!({}))]);
    }
    let yaml = scenario(
        r#"
        agents: { a: {} }
        steps:
          - { agent: a, get: /new, when: { acapy: ">=2" } }
          - { agent: a, get: /old, when: { acapy: "<2, >=1.3" } }
          - { agent: a, get: /always }
        "#,
    );
    let result = run(&yaml, &[("a", &agent)]).await;
    assert_passed(&result);
    assert_eq!(
        step_statuses(&result),
        [StepStatus::Skipped, StepStatus::Passed, StepStatus::Passed]
    );
    let paths: Vec<String> = agent.api_requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/old", "/always"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xfail_turns_a_failure_into_expected_and_a_pass_into_unexpected() {
    let agent = stub().await; // 1.3.6
    agent.route(
        "GET",
        "/state",
        vec![Reply::ok(json!({ "state": "pending" }))],
    );
    let case = |xfail: &str, expected_state: &str| {
        scenario(&format!(
            r#"
            agents: {{ a: {{}} }}
            xfail: [{xfail}]
            steps:
              - {{ agent: a, get: /state, expect: {{ $.state: {expected_state} }} }}
            "#
        ))
    };

    let result = run(&case("{ reason: bug 123 }", "done"), &[("a", &agent)]).await;
    assert_eq!(
        result.status,
        Status::ExpectedFailure {
            reason: "bug 123".into(),
            step: None,
        }
    );
    assert!(result.failure.is_some(), "the failure is still shown");

    let result = run(&case("{ reason: bug 123 }", "pending"), &[("a", &agent)]).await;
    assert_eq!(
        result.status,
        Status::UnexpectedPass {
            reason: "bug 123".into(),
            step: None,
        }
    );
    assert!(!result.status.is_success());
    assert!(render_failure(&result).contains("marked `xfail`"));

    // Only where the version matches.
    let result = run(
        &case("{ acapy: \"<1.3\", reason: old bug }", "done"),
        &[("a", &agent)],
    )
    .await;
    assert_eq!(result.status, Status::Failed);
    let result = run(
        &case("{ acapy: \">=1.3, <1.4\", reason: this bug }", "done"),
        &[("a", &agent)],
    )
    .await;
    assert_eq!(
        result.status,
        Status::ExpectedFailure {
            reason: "this bug".into(),
            step: None,
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditions_can_name_a_role_and_judge_that_roles_agent() {
    let old = stub_with(Config {
        version: "0.12.8".into(),
        ..Config::default()
    })
    .await;
    let new = stub_with(Config {
        version: "1.7.0".into(),
        ..Config::default()
    })
    .await;
    for s in [&old, &new] {
        for p in ["/both", "/old-issuer-only", "/new-holder-only"] {
            s.route("GET", p, vec![Reply::ok(json!({}))]);
        }
    }
    let yaml = scenario(
        r#"
        agents: { issuer: {}, holder: {} }
        requires: { holder: ">=1.0" }
        xfail:
          - { issuer: "<1.0", holder: ">=1.5", reason: old issuers and new holders disagree }
        steps:
          - { agent: issuer, get: /both }
          - { agent: issuer, get: /old-issuer-only, when: { issuer: "<1.0" } }
          - { agent: holder, get: /new-holder-only, when: { holder: ">=1.5", acapy: ">=1.0" } }
          - { agent: holder, get: /missing }
        "#,
    );
    // Issuer 0.12.8, holder 1.7.0: runs, fails at /missing, and the xfail
    // for this pair turns that into an expected failure.
    let result = run(&yaml, &[("issuer", &old), ("holder", &new)]).await;
    match &result.status {
        Status::ExpectedFailure { reason, .. } => {
            assert_eq!(reason, "old issuers and new holders disagree")
        }
        other => panic!(
            "expected an xfail, got {other:?}\n{}",
            render_failure(&result)
        ),
    }
    assert_eq!(
        step_statuses(&result),
        [
            StepStatus::Passed,
            StepStatus::Passed,
            // `acapy: ">=1.0"` judges every agent: the issuer is 0.12.8.
            StepStatus::Skipped,
            StepStatus::Failed
        ]
    );
    assert_eq!(old.requests_to("GET", "/old-issuer-only").len(), 1);
    assert!(new.requests_to("GET", "/new-holder-only").is_empty());
    assert!(result.acapy_version.is_none(), "the roles disagree");
    assert_eq!(result.roles[0].reported.as_deref(), Some("0.12.8"));
    assert_eq!(result.roles[1].reported.as_deref(), Some("1.7.0"));

    // The holder on 0.12.8: `requires: { holder: ">=1.0" }` skips, naming it.
    let result = run(&yaml, &[("issuer", &new), ("holder", &old)]).await;
    match &result.status {
        Status::Skipped { reason } => {
            assert!(
                reason.starts_with("requires holder on ACA-Py >=1.0"),
                "{reason}"
            )
        }
        other => panic!("expected a skip, got {other:?}"),
    }
}
