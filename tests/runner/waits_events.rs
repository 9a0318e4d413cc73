//! Waiting on events from `/ws`: buffering, `where`, `fail_if`, time-outs, a closed or refused stream.

use crate::common::*;
use crate::stub::{emit, Config, Reply, Stub};
use acapy_harness::run::outcome::StepStatus;
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_arriving_after_the_wait_started_ends_it() {
    let agent = stub().await;
    // The event comes 500ms after the request that causes it was answered.
    agent.route(
        "POST",
        "/records",
        vec![
            Reply::ok(json!({ "id": "r1", "state": "pending" })).emitting(vec![emit(
                500,
                "records",
                json!({ "id": "r1", "state": "done", "marker": "m-1" }),
            )]),
        ],
    );
    agent.route("GET", "/check/m-1", vec![Reply::ok(json!({}))]);
    let yaml = scenario(
        r#"
        agents: { a: {} }
        steps:
          - { agent: a, post: /records, body: {}, capture: { id: $.id } }
          - name: wait for done
            agent: a
            wait:
              event: records
              where: { $.id: "${id}" }
              until: { $.state: done }
              timeout: 30s
            expect: { $.marker: m-1 }
            capture: { marker: $.marker }
          - { agent: a, get: "/check/${marker}" }
        "#,
    );
    let started = Instant::now();
    let result = run(&yaml, &[("a", &agent)]).await;
    assert_passed(&result);
    assert_eq!(agent.requests_to("GET", "/check/m-1").len(), 1);
    // It waited for the event (not a time-out, not a stale buffer).
    let waited = result.steps[1].duration;
    assert!(
        waited >= Duration::from_millis(100),
        "the wait took only {waited:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "woken late: {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_that_arrived_before_the_wait_is_buffered() {
    // Sent right after `settings`, before any step runs; never sent again.
    let agent = stub_with(Config {
        on_connect: vec![
            emit(
                0,
                "connections",
                json!({ "connection_id": "c1", "state": "request" }),
            ),
            emit(
                0,
                "connections",
                json!({ "connection_id": "c1", "state": "active", "their_label": "Bob" }),
            ),
        ],
        ..Config::default()
    })
    .await;
    // The first request answers late, so both events are in before the wait.
    agent.route(
        "GET",
        "/slow",
        vec![Reply::ok(json!({ "connection_id": "c1" })).delayed(400)],
    );
    let yaml = scenario(
        r#"
        agents: { a: {} }
        steps:
          - { agent: a, get: /slow, capture: { conn: $.connection_id } }
          - agent: a
            wait:
              event: connections
              where: { $.connection_id: "${conn}" }
              until: { $.state: active }
              timeout: 10s
            expect: { $.their_label: Bob }
        "#,
    );
    let result = run(&yaml, &[("a", &agent)]).await;
    assert_passed(&result);
    assert!(
        result.steps[1].duration < Duration::from_secs(5),
        "a buffered event should end the wait at once: {:?}",
        result.steps[1].duration
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn where_filters_out_events_of_other_records_and_topics() {
    let agent = stub().await;
    agent.route(
        "POST",
        "/records",
        vec![Reply::ok(json!({ "id": "r1" })).emitting(vec![
            // Other topic, same record: ignored.
            emit(
                0,
                "other_topic",
                json!({ "id": "r1", "state": "done", "marker": "wrong-topic" }),
            ),
            // Other record, terminal state: ignored by `where` (and by `fail_if`).
            emit(
                0,
                "records",
                json!({ "id": "r2", "state": "done", "marker": "wrong-record" }),
            ),
            emit(0, "records", json!({ "id": "r2", "state": "abandoned" })),
            emit(
                50,
                "records",
                json!({ "id": "r1", "state": "pending", "marker": "too-early" }),
            ),
            emit(
                50,
                "records",
                json!({ "id": "r1", "state": "done", "marker": "right" }),
            ),
        ])],
    );
    agent.route("GET", "/check/right", vec![Reply::ok(json!({}))]);
    let yaml = scenario(
        r#"
        agents: { a: {} }
        steps:
          - { agent: a, post: /records, body: {}, capture: { id: $.id } }
          - agent: a
            wait:
              event: records
              where: { $.id: "${id}" }
              until: { $.state: done }
              fail_if: { $.state: abandoned }
              timeout: 30s
            capture: { marker: $.marker }
          - { agent: a, get: "/check/${marker}" }
        "#,
    );
    let result = run(&yaml, &[("a", &agent)]).await;
    assert_passed(&result);
    let checks: Vec<String> = agent
        .api_requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/check/"))
        .map(|r| r.path)
        .collect();
    assert_eq!(checks, ["/check/right"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_if_stops_the_wait_early() {
    let agent = stub().await;
    agent.route(
        "POST",
        "/records",
        vec![Reply::ok(json!({ "id": "r1" })).emitting(vec![
            emit(0, "records", json!({ "id": "r1", "state": "pending" })),
            emit(
                50,
                "records",
                json!({ "id": "r1", "state": "abandoned", "error_msg": "no" }),
            ),
            emit(50, "records", json!({ "id": "r1", "state": "done" })),
        ])],
    );
    let yaml = scenario(
        r#"
        agents: { a: {} }
        steps:
          - { agent: a, post: /records, body: {}, capture: { id: $.id } }
          - name: wait
            agent: a
            wait:
              event: records
              where: { $.id: "${id}" }
              until: { $.state: done }
              fail_if: { $.state: abandoned }
              timeout: 60s
          - { agent: a, get: /never }
        "#,
    );
    let started = Instant::now();
    let result = run(&yaml, &[("a", &agent)]).await;
    let f = failure(&result);
    assert!(f.message.contains("fail_if"), "{}", f.message);
    assert!(f.message.contains("event on `records`"), "{}", f.message);
    assert_eq!(loc_line(f), line_of(&yaml, "fail_if:"));
    assert_eq!(f.expected.as_deref(), Some(r#"$.state equals "done""#));
    let actual = f.actual.as_deref().unwrap_or_default();
    assert!(
        actual.contains("abandoned") && actual.contains("\"error_msg\":\"no\""),
        "{actual}"
    );
    assert!(
        f.recent_events
            .iter()
            .any(|e| e.contains("state=abandoned")),
        "{:?}",
        f.recent_events
    );
    assert_eq!(
        step_statuses(&result),
        [StepStatus::Passed, StepStatus::Failed, StepStatus::NotRun]
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "fail_if did not stop the 60s wait"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_times_out_with_what_it_last_saw() {
    let agent = stub_with(Config {
        on_connect: vec![
            emit(0, "records", json!({ "id": "r1", "state": "pending" })),
            emit(0, "records", json!({ "id": "r2", "state": "done" })),
        ],
        ..Config::default()
    })
    .await;

    // Matching events, none of them `done`: "last seen".
    let yaml = scenario(
        r#"
        agents: { a: {} }
        steps:
          - agent: a
            wait:
              event: records
              where: { $.id: r1 }
              until: { $.state: done }
              timeout: 300ms
        "#,
    );
    let result = run(&yaml, &[("a", &agent)]).await;
    let f = failure(&result);
    assert_eq!(
        f.message,
        "timed out after 0.3s waiting for an event on `records`"
    );
    assert_eq!(loc_line(f), line_of(&yaml, "until:"));
    assert_eq!(
        f.expected.as_deref(),
        Some(r#"$.state equals "done" (where $.id equals "r1")"#)
    );
    assert_eq!(
        f.actual.as_deref(),
        Some(r#"last seen: {"id":"r1","state":"pending"}"#)
    );
    assert!(
        result.duration < Duration::from_secs(20),
        "{:?}",
        result.duration
    );

    // Nothing passes `where`.
    let yaml = scenario(
        r#"
        agents: { a: {} }
        steps:
          - agent: a
            wait:
              event: records
              where: { $.id: r9 }
              until: { $.state: done }
              timeout: 300ms
        "#,
    );
    let result = run(&yaml, &[("a", &agent)]).await;
    let f = failure(&result);
    assert!(f.message.contains("timed out"), "{}", f.message);
    assert_eq!(f.actual.as_deref(), Some("nothing matched `where`"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_event_stream_ends_the_wait() {
    let agent = stub_with(Config {
        close_ws_after: Some(Duration::from_millis(50)),
        ..Config::default()
    })
    .await;
    let yaml = scenario(
        r#"
        agents: { a: {} }
        steps:
          - agent: a
            wait:
              event: records
              until: { $.state: done }
              timeout: 60s
        "#,
    );
    let started = Instant::now();
    let result = run(&yaml, &[("a", &agent)]).await;
    let f = failure(&result);
    assert!(
        f.message.contains("closed its event stream"),
        "{}",
        f.message
    );
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_api_key_on_the_event_stream_fails_before_the_first_step() {
    let agent = Stub::start(Config {
        api_key: Some("another-key".into()),
        ..Config::default()
    })
    .await;
    agent.route("GET", "/first", vec![Reply::ok(json!({}))]);
    let yaml = scenario(
        r#"
        agents: { a: {} }
        steps:
          - { agent: a, get: /first }
        "#,
    );
    let result = run(&yaml, &[("a", &agent)]).await;
    let f = failure(&result);
    assert_eq!(f.message, "cannot subscribe to the events of agent `a`");
    assert!(
        f.diagnostic.contains("did not accept the admin API key"),
        "{}",
        f.diagnostic
    );
    assert!(agent.requests_to("GET", "/first").is_empty());
}
