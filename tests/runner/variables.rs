//! Variables without a value at run time (captured by a step `when` skipped).

use crate::common::*;
use crate::stub::Reply;
use acapy_harness::run::outcome::{Status, StepStatus};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_variable_captured_by_a_skipped_step_has_no_value() {
    let agent = stub().await; // 1.3.6
    agent.route("GET", "/maybe", vec![Reply::ok(json!({ "id": "r1" }))]);
    agent.route("GET", "/rec", vec![Reply::ok(json!({ "id": "r1" }))]);
    let yaml = scenario(
        r#"
        agents: { a: {} }
        steps:
          - { agent: a, get: /maybe, when: { acapy: ">=9" }, capture: { prev: $.id } }
          - agent: a
            get: /rec
            expect: { $.id: "${prev}" }
        "#,
    );
    let result = run(&yaml, &[("a", &agent)]).await;
    let f = failure(&result);
    assert_eq!(f.message(), "variable `prev` has no value");
    assert_eq!(loc_line(f), line_of(&yaml, r#"$.id: "${prev}""#));
    assert_eq!(f.step, Some((2, "GET /rec".to_owned())));
    assert_eq!(
        step_statuses(&result),
        [StepStatus::Skipped, StepStatus::Failed]
    );
    assert!(agent.requests_to("GET", "/maybe").is_empty());

    // In a path: nothing is sent.
    let yaml = scenario(
        r#"
        agents: { a: {} }
        steps:
          - { agent: a, get: /maybe, when: { acapy: ">=9" }, capture: { prev: $.id } }
          - { agent: a, get: "/records/${prev}" }
        "#,
    );
    let result = run(&yaml, &[("a", &agent)]).await;
    assert_eq!(failure(&result).message(), "variable `prev` has no value");
    assert!(agent
        .api_requests()
        .iter()
        .all(|r| !r.path.starts_with("/records")));
}

// Found while writing these tests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_equals_with_an_unset_variable_is_an_error_like_equals() {
    let agent = stub().await;
    agent.route("GET", "/maybe", vec![Reply::ok(json!({ "id": "r1" }))]);
    agent.route("GET", "/rec", vec![Reply::ok(json!({ "id": "r1" }))]);
    // `prev` is captured by a step that `when` skips on 1.3.6.
    let template = |op: &str| {
        scenario(&format!(
            r#"
            agents: {{ a: {{}} }}
            steps:
              - {{ agent: a, get: /maybe, when: {{ acapy: ">=9" }}, capture: {{ prev: $.id }} }}
              - agent: a
                get: /rec
                expect: {{ $.id: {{ {op}: "${{prev}}" }} }}
            "#
        ))
    };
    let equals = run(&template("equals"), &[("a", &agent)]).await;
    assert_eq!(failure(&equals).message(), "variable `prev` has no value");

    let not_equals = run(&template("not_equals"), &[("a", &agent)]).await;
    assert_eq!(
        not_equals.status,
        Status::Failed,
        "`not_equals: ${{prev}}` passed though `prev` has no value"
    );
    assert_eq!(
        failure(&not_equals).message(),
        "variable `prev` has no value"
    );
}
