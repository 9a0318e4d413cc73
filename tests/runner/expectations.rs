//! Expectations and their operators: what fails, what it says, where it points.

use crate::common::*;
use crate::stub::Reply;
use acapy_harness::report::console::render_failure;
use acapy_harness::run::outcome::{Status, StepStatus};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_expectation_reports_expected_actual_and_its_line() {
    let agent = stub().await;
    agent.route(
        "POST",
        "/records",
        vec![Reply::ok(json!({ "id": "r1", "state": "pending" }))],
    );
    agent.route("GET", "/records/r1", vec![Reply::ok(json!({ "id": "r1" }))]);
    let yaml = scenario(
        r#"
        agents: { a: {} }
        steps:
          - name: first
            agent: a
            get: /status
          - name: make a record
            agent: a
            post: /records
            body: {}
            expect:
              $.id: r1
              $.state: done
          - name: never runs
            agent: a
            get: /records/r1
        "#,
    );
    let result = run(&yaml, &[("a", &agent)]).await;
    let f = failure(&result);
    assert_eq!(f.message, "expectation failed");
    assert_eq!(f.expected.as_deref(), Some(r#"$.state equals "done""#));
    assert_eq!(f.actual.as_deref(), Some(r#""pending""#));
    assert_eq!(loc_line(f), line_of(&yaml, "$.state: done"));
    assert_eq!(
        (f.step, f.step_name.as_deref()),
        (Some(2), Some("make a record"))
    );
    assert_eq!(f.agent.as_deref(), Some("a"));
    let response = f.response.as_ref().expect("the response is kept");
    assert_eq!(response.status, 200);
    assert_eq!(response.response, json!({ "id": "r1", "state": "pending" }));
    assert_eq!(
        step_statuses(&result),
        [StepStatus::Passed, StepStatus::Failed, StepStatus::NotRun]
    );
    assert!(
        agent.requests_to("GET", "/records/r1").is_empty(),
        "a step after the failure ran"
    );

    let text = render_failure(&result);
    let place = format!("case.yaml:{}:", line_of(&yaml, "$.state: done"));
    assert!(text.contains(&place), "{text}");
    assert!(
        text.contains(r#"expected: $.state equals "done""#),
        "{text}"
    );
    assert!(text.contains(r#"actual:   "pending""#), "{text}");
}

fn operator_document() -> Value {
    json!({
        "state": "done",
        "n": 1,
        "f": 2.5,
        "whole": 3.0,
        "name": "Alice Smith",
        "tags": ["a", "b", 3],
        "obj": { "k": "v", "num": 1 },
        "nothing": null,
        "flag": true,
        "results": [
            { "id": 1, "state": "done" },
            { "id": 2, "state": "pending" },
            { "id": 3, "state": "done" }
        ]
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operator_can_pass() {
    let agent = stub().await;
    agent.route("GET", "/doc", vec![Reply::ok(operator_document())]);
    let yaml = scenario(
        r#"
        agents: { a: {} }
        vars: { expected_state: done, one: 1 }
        steps:
          - agent: a
            get: /doc
            expect:
              status: 200
              $.n: 1.0
              $.state: ${expected_state}
              $.whole: { equals: 3, type: integer, gte: 3, lte: 3 }
              $.obj: { equals: { num: 1.0, k: v }, contains: k, type: object, length: 2, not_equals: { k: v } }
              $.name: { matches: "^Alice S", contains: Smith, not_equals: Bob, length: 11, type: string }
              $.f: { equals: 2.5, type: number, gt: 2, gte: 2.5, lt: 3, lte: 2.5, one_of: [1, 2.5] }
              $['n']: { equals: "${one}", one_of: [0, 1.0, 2], gt: 0.5, lt: 1.5 }
              $.tags: { contains: b, length: 3, type: array, not_equals: [a, b] }
              $.tags[2]: { equals: 3, exists: true }
              $['tags']: { contains: 3 }
              $.missing: { exists: false, not_equals: anything }
              $.nothing: { exists: true, type: "null", equals: null }
              $.flag: { type: boolean, equals: true, one_of: [true] }
              $['state']: { one_of: [pending, done], not_equals: pending }
              $.results[?@.state == 'done']: { exists: true, length: 2 }
              $.results[?@.state == 'gone']: { exists: false, length: 0 }
              $.results[?@.state == 'done'].id: { equals: [1, 3] }
              $.results[*].state: { contains: pending, length: 3 }
              $.results[1].state: pending
        "#,
    );
    let result = run(&yaml, &[("a", &agent)]).await;
    assert_passed(&result);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operator_can_fail_and_points_at_its_line() {
    let agent = stub().await;
    agent.route("GET", "/doc", vec![Reply::ok(operator_document())]);
    // (expectation, expected text, actual text)
    let table: &[(&str, &str, &str)] = &[
        ("$.n: 2", "$.n equals 2", "1"),
        (
            "$.state: { equals: pending }",
            r#"$.state equals "pending""#,
            r#""done""#,
        ),
        (
            "$.obj: { equals: { k: v } }",
            r#"$.obj equals {"k":"v"}"#,
            r#"{"k":"v","num":1}"#,
        ),
        (
            "$.missing: { equals: null }",
            "$.missing equals null",
            "nothing: no value at this path",
        ),
        (
            "$.state: { not_equals: done }",
            r#"$.state not equals "done""#,
            r#""done""#,
        ),
        ("$.n: { not_equals: 1.0 }", "$.n not equals 1.0", "1"),
        (
            "$.name: { matches: \"^Bob\" }",
            "$.name matches /^Bob/",
            r#""Alice Smith""#,
        ),
        ("$.n: { matches: \"1\" }", "$.n matches /1/", "1"),
        (
            "$.missing: { exists: true }",
            "$.missing exists",
            "nothing: no value at this path",
        ),
        (
            "$.nothing: { exists: false }",
            "$.nothing is absent",
            "null",
        ),
        (
            "$.name: { contains: Bob }",
            r#"$.name contains "Bob""#,
            r#""Alice Smith""#,
        ),
        (
            "$.tags: { contains: z }",
            r#"$.tags contains "z""#,
            r#"["a","b",3]"#,
        ),
        (
            "$.tags: { contains: \"3\" }",
            r#"$.tags contains "3""#,
            r#"["a","b",3]"#,
        ),
        (
            "$.obj: { contains: v }",
            r#"$.obj contains "v""#,
            r#"{"k":"v","num":1}"#,
        ),
        (
            "$.state: { one_of: [pending, failed] }",
            r#"$.state one of ["pending", "failed"]"#,
            r#""done""#,
        ),
        ("$.n: { one_of: [\"1\", 2] }", r#"$.n one of ["1", 2]"#, "1"),
        (
            "$.tags: { length: 2 }",
            "$.tags has length 2",
            r#"3 items: ["a","b",3]"#,
        ),
        (
            "$.n: { length: 1 }",
            "$.n has length 1",
            "1 (a number has no length)",
        ),
        ("$.n: { type: string }", "$.n is of type string", "1"),
        ("$.f: { type: integer }", "$.f is of type integer", "2.5"),
        (
            "$.nothing: { type: object }",
            "$.nothing is of type object",
            "null",
        ),
        ("$.n: { gt: 1 }", "$.n > 1", "1"),
        ("$.n: { gte: 1.5 }", "$.n >= 1.5", "1"),
        ("$.f: { lt: 2.5 }", "$.f < 2.5", "2.5"),
        ("$.f: { lte: 2 }", "$.f <= 2", "2.5"),
        ("$.name: { gt: 0 }", "$.name > 0", r#""Alice Smith""#),
        (
            "$.results[?@.state == 'done']: { length: 3 }",
            "$.results[?@.state == 'done'] has length 3",
            r#"2 items: [{"id":1,"state":"done"},{"id":3,"state":"done"}]"#,
        ),
        (
            "$.results[?@.state == 'gone']: { exists: true }",
            "$.results[?@.state == 'gone'] exists",
            "[]",
        ),
        (
            "$.results[?@.state == 'done']: { exists: false }",
            "$.results[?@.state == 'done'] is absent",
            r#"[{"id":1,"state":"done"},{"id":3,"state":"done"}]"#,
        ),
    ];
    let mut problems = Vec::new();
    for (expectation, expected, actual) in table {
        let yaml = scenario(&format!(
            r#"
            agents: {{ a: {{}} }}
            steps:
              - agent: a
                get: /doc
                expect:
                  $.flag: true
                  {expectation}
                  $.results[0].id: {{ exists: true }}
            "#
        ));
        let result = run(&yaml, &[("a", &agent)]).await;
        let Some(f) = result
            .failure
            .as_ref()
            .filter(|_| result.status == Status::Failed)
        else {
            problems.push(format!("`{expectation}` did not fail: {:?}", result.status));
            continue;
        };
        let line = line_of(&yaml, expectation);
        let got = (
            f.message.as_str(),
            f.expected.as_deref(),
            f.actual.as_deref(),
            f.line,
        );
        let want = (
            "expectation failed",
            Some(*expected),
            Some(*actual),
            Some(line),
        );
        if got != want {
            problems.push(format!("`{expectation}`:\n   got {got:?}\n  want {want:?}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
