//! Includes: `with` variables, step names, failures pointing into the fixture.

use crate::common::*;
use crate::stub::Reply;
use acapy_harness::run::RunOptions;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn included_steps_get_their_with_variables_and_failures_point_into_the_fixture() {
    let fixture = scenario(
        r#"
        description: make a record and check its state
        steps:
          - name: fixture post
            agent: a
            post: /records
            body: { label: "${label}" }
            capture: { rec: $.id }
          - name: fixture check
            agent: a
            get: /records/${rec}
            expect:
              $.state: ${want}
        "#,
    );
    let agent = stub().await;
    agent.route("POST", "/records", vec![Reply::ok(json!({ "id": "r1" }))]);
    agent.route(
        "GET",
        "/records/r1",
        vec![Reply::ok(json!({ "id": "r1", "state": "active" }))],
    );
    agent.route("GET", "/after/r1", vec![Reply::ok(json!({}))]);
    let case = |want: &str| {
        scenario(&format!(
            r#"
            agents: {{ a: {{}} }}
            steps:
              - name: connect
                include: fixtures/record.yaml
                with: {{ label: L1, want: {want} }}
              - {{ agent: a, get: "/after/${{rec}}" }}
            "#
        ))
    };
    let files = [("fixtures/record.yaml", fixture.as_str())];

    let result = run_with(
        &case("active"),
        &files,
        &[("a", &agent)],
        &RunOptions::default(),
    )
    .await;
    assert_passed(&result);
    let names: Vec<&str> = result.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "connect",
            "connect: fixture post",
            "connect: fixture check",
            "GET /after/${rec}"
        ]
    );
    assert_eq!(
        agent.requests_to("POST", "/records")[0].body,
        Some(json!({ "label": "L1" }))
    );
    assert_eq!(agent.requests_to("GET", "/after/r1").len(), 1);

    let result = run_with(
        &case("done"),
        &files,
        &[("a", &agent)],
        &RunOptions::default(),
    )
    .await;
    let f = failure(&result);
    assert_eq!(f.expected.as_deref(), Some(r#"$.state equals "done""#));
    assert_eq!(
        (f.step, f.step_name.as_deref()),
        (Some(3), Some("connect: fixture check"))
    );
    let location = f.location.as_deref().unwrap();
    assert!(location.contains("fixtures/record.yaml:"), "{location}");
    assert_eq!(f.line, Some(line_of(&fixture, "$.state: ${want}")));
}
