//! Waiting by polling a `GET`: `until`, `fail_if`, time-outs, what a failure shows.

use crate::common::*;
use crate::stub::Reply;
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_wait_succeeds_on_the_third_answer() {
    let agent = stub().await;
    agent.route("POST", "/records", vec![Reply::ok(json!({ "id": 7 }))]);
    agent.route(
        "GET",
        "/records/7",
        vec![
            Reply::status(404, json!({ "error": "not yet" })),
            Reply::ok(json!({ "id": 7, "state": "pending" })),
            Reply::ok(json!({ "id": 7, "state": "done", "result": "r-7" })),
            Reply::ok(json!({ "id": 7, "state": "later" })),
        ],
    );
    agent.route("GET", "/results/r-7", vec![Reply::ok(json!({}))]);
    let yaml = scenario(
        r#"
        agents: { a: {} }
        steps:
          - { agent: a, post: /records, body: {}, capture: { id: $.id } }
          - agent: a
            wait:
              get: /records/${id}
              until: { $.state: done }
              fail_if: { $.state: abandoned }
              interval: 10ms
              timeout: 30s
            expect: { $.id: 7 }
            capture: { res: $.result }
          - { agent: a, get: "/results/${res}" }
        "#,
    );
    let result = run(&yaml, &[("a", &agent)]).await;
    assert_passed(&result);
    let polls = agent.requests_to("GET", "/records/7");
    assert_eq!(polls.len(), 3, "polls stop once `until` holds");
    assert!(polls.iter().all(|p| p.header("x-api-key") == Some(KEY)));
    assert_eq!(agent.requests_to("GET", "/results/r-7").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_wait_times_out_and_fail_if_stops_it() {
    let agent = stub().await;
    agent.route(
        "GET",
        "/records/1",
        vec![Reply::ok(json!({ "id": 1, "state": "pending" }))],
    );
    agent.route(
        "GET",
        "/records/2",
        vec![
            Reply::ok(json!({ "id": 2, "state": "pending" })),
            Reply::ok(json!({ "id": 2, "state": "abandoned" })),
        ],
    );
    let yaml = scenario(
        r#"
        agents: { a: {} }
        steps:
          - agent: a
            wait: { get: /records/1, until: { $.state: done }, timeout: 1s }
        "#,
    );
    let result = run(&yaml, &[("a", &agent)]).await;
    let f = failure(&result);
    assert_eq!(f.message, "timed out after 1.0s waiting for GET /records/1");
    assert_eq!(
        f.actual.as_deref(),
        Some(r#"last seen: {"id":1,"state":"pending"}"#)
    );
    assert!(
        agent.requests_to("GET", "/records/1").len() >= 2,
        "it polled more than once"
    );

    let yaml = scenario(
        r#"
        agents: { a: {} }
        steps:
          - agent: a
            wait: { get: /records/2, until: { $.state: done }, fail_if: { $.state: abandoned }, timeout: 60s }
        "#,
    );
    let started = Instant::now();
    let result = run(&yaml, &[("a", &agent)]).await;
    let f = failure(&result);
    assert_eq!(f.message, "`fail_if` held while waiting for GET /records/2");
    assert!(started.elapsed() < Duration::from_secs(30));
}

// Found while writing these tests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_poll_does_not_outlast_the_wait_timeout() {
    let agent = stub().await;
    agent.route(
        "GET",
        "/records/1",
        vec![Reply::ok(json!({ "state": "pending" })).delayed(8_000)],
    );
    let yaml = scenario(
        r#"
        agents: { a: {} }
        steps:
          - agent: a
            wait: { get: /records/1, until: { $.state: done }, timeout: 300ms }
        "#,
    );
    let started = Instant::now();
    let result = run(&yaml, &[("a", &agent)]).await;
    let elapsed = started.elapsed();
    assert!(failure(&result).message.contains("timed out"));
    assert!(
        elapsed < Duration::from_secs(4),
        "a `timeout: 300ms` wait took {elapsed:?}: it waited for the hanging request"
    );
}

// Found while writing these tests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_polled_response_that_fails_expect_is_shown_as_a_response() {
    let agent = stub().await;
    agent.route(
        "GET",
        "/records/1",
        vec![Reply::ok(json!({ "state": "done", "label": "y" }))],
    );
    let yaml = scenario(
        r#"
        agents: { a: {} }
        steps:
          - agent: a
            wait: { get: /records/1, until: { $.state: done }, timeout: 30s }
            expect: { $.label: x }
        "#,
    );
    let result = run(&yaml, &[("a", &agent)]).await;
    let f = failure(&result);
    assert_eq!(f.expected.as_deref(), Some(r#"$.label equals "x""#));
    let response = f.response.as_ref().expect("a response");
    assert_eq!(
        response.method, "GET",
        "render_failure prints `event payload:` for an HTTP response"
    );
    assert_eq!(response.status, 200);
}

// Found while writing these tests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_poll_reports_only_responses_that_passed_where() {
    let agent = stub().await;
    agent.route(
        "GET",
        "/records",
        vec![Reply::ok(json!({ "id": 1, "state": "done" }))],
    );
    let yaml = scenario(
        r#"
        agents: { a: {} }
        steps:
          - agent: a
            wait: { get: /records, where: { $.id: 2 }, until: { $.state: done }, timeout: 300ms }
        "#,
    );
    let result = run(&yaml, &[("a", &agent)]).await;
    let f = failure(&result);
    assert!(f.message.contains("timed out"), "{}", f.message);
    // As for events (and as `WaitOutcome::TimedOut` documents).
    assert_eq!(f.actual.as_deref(), Some("nothing matched `where`"));
}

/// A polled wait takes `query`, like a request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_polled_wait_sends_its_query() {
    let agent = stub().await;
    agent.route(
        "GET",
        "/issue-credential-2.0/records",
        vec![Reply::ok(json!({ "results": [{ "state": "done" }] }))],
    );
    let yaml = scenario(
        r#"
        agents: { a: {} }
        vars: { thread: th-1 }
        steps:
          - agent: a
            wait:
              get: /issue-credential-2.0/records
              query: { thread_id: "${thread}", limit: 1 }
              until:
                $.results[0].state: done
        "#,
    );
    assert_passed(&run(&yaml, &[("a", &agent)]).await);
    let sent = agent.requests_to("GET", "/issue-credential-2.0/records");
    let query = sent[0].query_map();
    assert_eq!(query["thread_id"], "th-1");
    assert_eq!(query["limit"], "1");
}

/// `until: { status: 404 }` waits for a record to be gone; `fail_if` takes
/// a status too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn until_and_fail_if_test_the_http_status() {
    let agent = stub().await;
    agent.route(
        "GET",
        "/records/r1",
        vec![
            Reply::ok(json!({ "state": "done" })),
            Reply::ok(json!({ "state": "done" })),
            Reply::status(404, json!({ "error": "not found" })),
        ],
    );
    let gone = scenario(
        r#"
        agents: { a: {} }
        steps:
          - agent: a
            wait: { get: /records/r1, until: { status: 404 }, interval: 10ms }
            expect: { $.error: not found }
        "#,
    );
    assert_passed(&run(&gone, &[("a", &agent)]).await);
    assert_eq!(agent.requests_to("GET", "/records/r1").len(), 3);

    agent.route(
        "GET",
        "/records/r2",
        vec![
            Reply::ok(json!({ "state": "pending" })),
            Reply::status(500, json!({ "error": "boom" })),
        ],
    );
    let fails = scenario(
        r#"
        agents: { a: {} }
        steps:
          - agent: a
            wait:
              get: /records/r2
              until: { $.state: done }
              fail_if: { status: 500 }
              interval: 10ms
        "#,
    );
    let result = run(&fails, &[("a", &agent)]).await;
    let f = failure(&result);
    assert_eq!(
        f.message,
        "`fail_if` held while waiting for GET /records/r2"
    );
    assert_eq!(loc_line(f), line_of(&fails, "fail_if: { status: 500 }"));
    assert_eq!(f.response.as_ref().unwrap().status, 500);
}

/// A poll that only gets error answers says so, and a wait without `where`
/// does not mention one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_poll_shows_error_answers_and_no_where_it_was_not_given() {
    let agent = stub().await;
    agent.route(
        "GET",
        "/records/r1",
        vec![Reply::status(503, json!({ "error": "busy" }))],
    );
    let yaml = scenario(
        r#"
        agents: { a: {} }
        steps:
          - agent: a
            wait: { get: /records/r1, until: { $.state: done }, interval: 50ms, timeout: 300ms }
        "#,
    );
    let result = run(&yaml, &[("a", &agent)]).await;
    let f = failure(&result);
    assert!(f.message.starts_with("timed out"), "{}", f.message);
    assert_eq!(f.expected.as_deref(), Some(r#"$.state equals "done""#));
    assert_eq!(
        f.actual.as_deref(),
        Some(r#"last answer: HTTP 503: {"error":"busy"}"#)
    );
    let text = acapy_harness::report::console::render_failure(&result);
    assert!(!text.contains("where"), "{text}");
}
