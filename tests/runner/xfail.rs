//! Known bugs pinned where they bite: a case-level `xfail` naming its step
//! (and the text of its failure), and a step's own `xfail`, after which the
//! case goes on.

use crate::common::*;
use crate::stub::Reply;
use acapy_harness::report::console::{case_line, render_failure};
use acapy_harness::run::outcome::{Status, StepStatus};
use serde_json::json;

/// A step that fails the way a known bug does (the old key still found),
/// between two that pass.
const STEPS: &str = r#"
    - name: Rotate the key
      agent: a
      patch: /wallet/did/local/rotate-keypair
    - name: The old key finds nothing
      agent: a
      get: /wallet/did
      query: { verkey: old-key }
      expect:
        $.results: { length: 0 }
    - name: The DID is still there
      agent: a
      get: /wallet/did
      expect:
        $.results[0].did: did:sov:1
"#;

async fn agent() -> crate::stub::Stub {
    let agent = stub().await;
    agent.route(
        "PATCH",
        "/wallet/did/local/rotate-keypair",
        vec![Reply::ok(json!({}))],
    );
    agent.route(
        "GET",
        "/wallet/did",
        vec![Reply::ok(
            json!({ "results": [{ "did": "did:sov:1", "verkey": "old-key" }] }),
        )],
    );
    agent
}

fn scenario_with(xfail: &str, steps: &str) -> String {
    scenario(&format!("agents: {{ a: {{}} }}\n{xfail}\nsteps:{steps}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_xfail_pinned_to_the_failing_step_is_an_expected_failure_naming_it() {
    let agent = agent().await;
    let yaml = scenario_with(
        "xfail: [{ step: The old key finds nothing, failure: length, reason: ACA-Py keeps the old verkey tag }]",
        STEPS,
    );
    let result = run(&yaml, &[("a", &agent)]).await;
    assert_eq!(
        result.status,
        Status::ExpectedFailure {
            reason: "ACA-Py keeps the old verkey tag".into(),
            step: Some(2),
        }
    );
    assert!(
        case_line(&result)
            .contains("step 2 `The old key finds nothing`: ACA-Py keeps the old verkey tag"),
        "{}",
        case_line(&result)
    );
    // Pinned by number, the same.
    let by_number = scenario_with("xfail: [{ step: 2, reason: known }]", STEPS);
    let result = run(&by_number, &[("a", &agent)]).await;
    assert!(matches!(
        result.status,
        Status::ExpectedFailure { step: Some(2), .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_different_failure_of_the_pinned_step_is_a_failure() {
    let agent = agent().await;
    let yaml = scenario_with(
        "xfail: [{ step: 2, failure: no such text in the failure, reason: known bug }]",
        STEPS,
    );
    let result = run(&yaml, &[("a", &agent)]).await;
    assert_eq!(result.status, Status::Failed);
    let f = failure(&result);
    assert!(
        f.message.starts_with(
            "xfail expected step 2 to fail with `no such text in the failure`; it failed otherwise:"
        ),
        "{}",
        f.message
    );
    assert!(render_failure(&result).contains("note: the xfail at"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_s_own_xfail_lets_the_case_go_on_and_the_case_is_xfail_at_that_step() {
    let agent = agent().await;
    let steps = STEPS.replace(
        "      query: { verkey: old-key }",
        "      query: { verkey: old-key }\n      xfail: { reason: ACA-Py keeps the old verkey tag, failure: length }",
    );
    let result = run(&scenario_with("", &steps), &[("a", &agent)]).await;
    assert_eq!(
        step_statuses(&result),
        [
            StepStatus::Passed,
            StepStatus::ExpectedFailure,
            StepStatus::Passed
        ],
        "the step after the known failure ran"
    );
    assert_eq!(
        result.status,
        Status::ExpectedFailure {
            reason: "ACA-Py keeps the old verkey tag".into(),
            step: Some(2),
        }
    );
    assert_eq!(agent.requests_to("GET", "/wallet/did").len(), 2);

    // The bug fixed: the step passes, and the stale xfail is news (xpass).
    let fixed = crate::stub::Stub::start(crate::stub::Config {
        api_key: Some(KEY.into()),
        ..Default::default()
    })
    .await;
    fixed.route(
        "PATCH",
        "/wallet/did/local/rotate-keypair",
        vec![Reply::ok(json!({}))],
    );
    fixed.route(
        "GET",
        "/wallet/did",
        vec![
            Reply::ok(json!({ "results": [] })),
            Reply::ok(json!({ "results": [{ "did": "did:sov:1" }] })),
        ],
    );
    let result = run(&scenario_with("", &steps), &[("a", &fixed)]).await;
    assert_eq!(
        result.status,
        Status::UnexpectedPass {
            reason: "ACA-Py keeps the old verkey tag".into(),
            step: Some(2),
        }
    );
    assert!(
        render_failure(&result).starts_with("failure: step 2 `The old key finds nothing` passed"),
        "{}",
        render_failure(&result)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_xfail_for_shared_agents_does_not_apply_to_agents_of_their_own() {
    let agent = agent().await;
    // External agents count as dedicated: an xfail for shared ones does
    // not cover this failure.
    let yaml = scenario_with(
        "xfail: [{ step: 2, agents: shared, reason: a multitenancy bug }]",
        STEPS,
    );
    let result = run(&yaml, &[("a", &agent)]).await;
    assert_eq!(result.status, Status::Failed, "{}", render_failure(&result));
    let yaml = scenario_with(
        "xfail: [{ step: 2, agents: dedicated, reason: a bug of its own }]",
        STEPS,
    );
    let result = run(&yaml, &[("a", &agent)]).await;
    assert!(matches!(result.status, Status::ExpectedFailure { .. }));
}
