//! The runner's own logic, against a stub admin API (no ACA-Py): scenarios are
//! written to a temp file, loaded, turned into `external` cases and run with
//! `run_case`, exactly as the CLI does.
//!
//! `cargo test --test runner`

#[path = "runner/stub.rs"]
mod stub;

use acapy_harness::admin::{AdminAuth, AdminEndpoint};
use acapy_harness::agents::external::ExternalProvider;
use acapy_harness::agents::Provider;
use acapy_harness::report::console::render_failure;
use acapy_harness::run::outcome::{CaseResult, Failure, Status, StepStatus};
use acapy_harness::run::{run_case, RunOptions};
use acapy_harness::scenario::load::{load, Found};
use acapy_harness::suite::cases;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use stub::{emit, Config, Reply, Stub};

const KEY: &str = "test-admin-key-0123456789";

/// Strips the common indentation, so scenarios can be written indented in Rust.
fn scenario(text: &str) -> String {
    let text = text.strip_prefix('\n').unwrap_or(text);
    let indent = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut out = String::new();
    for line in text.lines() {
        out.push_str(line.get(indent..).unwrap_or("").trim_end());
        out.push('\n');
    }
    out
}

/// The 1-based line of the only line of `yaml` containing `needle`.
fn line_of(yaml: &str, needle: &str) -> usize {
    let hits: Vec<usize> = yaml
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(
        hits.len(),
        1,
        "`{needle}` should be on exactly one line of:\n{yaml}"
    );
    hits[0]
}

async fn stub() -> Stub {
    Stub::start(Config {
        api_key: Some(KEY.into()),
        ..Config::default()
    })
    .await
}

async fn stub_with(config: Config) -> Stub {
    Stub::start(Config {
        api_key: Some(KEY.into()),
        ..config
    })
    .await
}

/// Loads `yaml` as a scenario and runs it with each role's agent at its stub.
async fn run(yaml: &str, agents: &[(&str, &Stub)]) -> CaseResult {
    run_with(yaml, &[], agents, &RunOptions::default()).await
}

/// `run`, with other files next to the scenario (fixtures) and options.
async fn run_with(
    yaml: &str,
    files: &[(&str, &str)],
    agents: &[(&str, &Stub)],
    options: &RunOptions,
) -> CaseResult {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("case.yaml");
    std::fs::write(&file, yaml).unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let scenario = load(&Found {
        root: dir.path().to_path_buf(),
        file,
    })
    .unwrap_or_else(|e| panic!("the scenario does not load:\n{e}\n{yaml}"));
    let endpoints: BTreeMap<String, AdminEndpoint> = agents
        .iter()
        .map(|(role, stub)| {
            let auth = AdminAuth::ApiKey(KEY.into());
            (role.to_string(), AdminEndpoint::new(&stub.url, auth))
        })
        .collect();
    let external: Arc<dyn Provider> = Arc::new(ExternalProvider { endpoints });
    let cases = cases(&[Arc::new(scenario)], &[external]);
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].name(), "case::external");
    // Generous: a hang is a failure, but never on a merely slow machine.
    tokio::time::timeout(Duration::from_secs(60), run_case(&cases[0], options))
        .await
        .expect("the case did not finish within 60s")
}

fn assert_passed(result: &CaseResult) {
    assert_eq!(
        result.status,
        Status::Passed,
        "expected a pass:\n{}",
        render_failure(result)
    );
    assert!(result.failure.is_none());
}

fn failure(result: &CaseResult) -> &Failure {
    assert_eq!(
        result.status,
        Status::Failed,
        "expected a failure: {result:#?}"
    );
    result
        .failure
        .as_ref()
        .expect("a failed case has a failure")
}

fn step_statuses(result: &CaseResult) -> Vec<StepStatus> {
    result.steps.iter().map(|s| s.status.clone()).collect()
}

fn loc_line(f: &Failure) -> usize {
    f.loc().expect("the failure points into the file").line
}

// ---------------------------------------------------------------------------
// Requests: capture, substitution, interpolation, the API key.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn captures_substitute_whole_values_and_interpolate_paths_and_queries() {
    let issuer = stub().await;
    let invitation = json!({
        "@type": "https://didcomm.org/out-of-band/1.1/invitation",
        "services": [{ "id": "#inline", "recipientKeys": ["did:key:z6Mk1"] }],
        "accept": 1,
        "nested": { "ok": true, "none": null }
    });
    issuer.route(
        "POST",
        "/out-of-band/create-invitation",
        vec![Reply::ok(
            json!({ "invitation": invitation, "invi_msg_id": "msg-42", "count": 3 }),
        )],
    );
    issuer.route(
        "POST",
        "/out-of-band/receive-invitation",
        vec![Reply::ok(json!({ "connection_id": "conn-7" }))],
    );
    issuer.route(
        "GET",
        "/connections/conn-7/endpoints/msg-42",
        vec![Reply::ok(json!({ "ok": 1 }))],
    );

    let yaml = scenario(
        r#"
        agents: { issuer: {} }
        vars: { greeting: hello }
        steps:
          - name: create
            agent: issuer
            post: /out-of-band/create-invitation
            query: { auto_accept: true, alias: Holder }
            body: { alias: Holder, my_label: "${greeting} holder" }
            capture:
              inv: $.invitation
              msg: $.invi_msg_id
              count: $.count
          - name: receive
            agent: issuer
            post: /out-of-band/receive-invitation
            query: { alias: "x-${msg}", n: "${count}", limit: 5, whole: "${msg}" }
            body: ${inv}
            capture: { conn: $.connection_id }
          - name: nested
            agent: issuer
            get: /connections/${conn}/endpoints/${msg}
            query: { run: "${run_id}" }
          - name: nested body
            agent: issuer
            post: /out-of-band/receive-invitation
            body: { invitation: "${inv}", note: "msg=${msg} n=${count}", count: "${count}", list: ["${msg}", 1] }
        "#,
    );
    let result = run(&yaml, &[("issuer", &issuer)]).await;
    assert_passed(&result);
    assert_eq!(step_statuses(&result), vec![StepStatus::Passed; 4]);

    let requests = issuer.api_requests();
    let seen: Vec<(String, String)> = requests
        .iter()
        .map(|r| (r.method.clone(), r.path.clone()))
        .collect();
    assert_eq!(
        seen,
        [
            ("POST", "/out-of-band/create-invitation"),
            ("POST", "/out-of-band/receive-invitation"),
            ("GET", "/connections/conn-7/endpoints/msg-42"),
            ("POST", "/out-of-band/receive-invitation"),
        ]
        .map(|(m, p)| (m.to_owned(), p.to_owned()))
    );

    // Literal query values are sent as text; vars are set before the first step.
    assert_eq!(
        requests[0].query_map(),
        BTreeMap::from([
            ("auto_accept".into(), "true".into()),
            ("alias".into(), "Holder".into())
        ])
    );
    assert_eq!(
        requests[0].body,
        Some(json!({ "alias": "Holder", "my_label": "hello holder" }))
    );

    // `body: ${inv}` sends the captured object itself, not its text.
    assert_eq!(requests[1].body, Some(invitation.clone()));
    assert_eq!(
        requests[1].query,
        vec![
            ("alias".to_owned(), "x-msg-42".to_owned()),
            ("n".to_owned(), "3".to_owned()),
            ("limit".to_owned(), "5".to_owned()),
            ("whole".to_owned(), "msg-42".to_owned()),
        ]
    );

    // `run_id`: a built-in variable, 12 hex characters.
    let run_id = requests[2].query_map().remove("run").expect("run_id sent");
    assert_eq!(run_id.len(), 12, "{run_id}");
    assert!(run_id.chars().all(|c| c.is_ascii_hexdigit()), "{run_id}");

    // Whole values inside objects and arrays keep their type; spliced ones are text.
    assert_eq!(
        requests[3].body,
        Some(json!({
            "invitation": invitation,
            "note": "msg=msg-42 n=3",
            "count": 3,
            "list": ["msg-42", 1]
        }))
    );

    // The admin API key goes with every request, the probes and the event stream.
    for r in issuer.requests() {
        assert_eq!(r.header("x-api-key"), Some(KEY), "{} {}", r.method, r.path);
    }
    assert!(issuer.requests().iter().any(|r| r.path == "/status/ready"));
    let ws = issuer.ws_connects();
    assert_eq!(ws.len(), 1, "one event stream per agent");
    assert_eq!(ws[0].get("x-api-key").map(String::as_str), Some(KEY));
    assert_eq!(result.acapy_version.as_deref(), Some("1.3.6"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_agents_each_get_their_own_requests() {
    let issuer = stub().await;
    let holder = stub().await;
    issuer.route(
        "POST",
        "/offer",
        vec![Reply::ok(json!({ "thread_id": "th-1" }))],
    );
    holder.route("GET", "/records", vec![Reply::ok(json!({ "results": [] }))]);
    let yaml = scenario(
        r#"
        agents: { issuer: {}, holder: {} }
        steps:
          - { agent: issuer, post: /offer, body: {}, capture: { th: $.thread_id } }
          - { agent: holder, get: /records, query: { thread_id: "${th}" }, expect: { $.results: { length: 0 } } }
        "#,
    );
    let result = run(&yaml, &[("issuer", &issuer), ("holder", &holder)]).await;
    assert_passed(&result);
    let on_issuer: Vec<String> = issuer
        .api_requests()
        .iter()
        .map(|r| r.path.clone())
        .collect();
    let on_holder: Vec<String> = holder
        .api_requests()
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(on_issuer, ["/offer"]);
    assert_eq!(on_holder, ["/records"]);
    assert_eq!(holder.api_requests()[0].query_map()["thread_id"], "th-1");
    assert_eq!(issuer.ws_connects().len(), 1);
    assert_eq!(holder.ws_connects().len(), 1);
}

// ---------------------------------------------------------------------------
// Expectations and operators.

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
    assert_eq!(f.message(), "expectation failed");
    assert_eq!(f.expected.as_deref(), Some(r#"$.state equals "done""#));
    assert_eq!(f.actual.as_deref(), Some(r#""pending""#));
    assert_eq!(loc_line(f), line_of(&yaml, "$.state: done"));
    assert_eq!(f.step, Some((2, "make a record".to_owned())));
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
            r#"["a","b",3]"#,
        ),
        ("$.n: { length: 1 }", "$.n has length 1", "1"),
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
            r#"[{"id":1,"state":"done"},{"id":3,"state":"done"}]"#,
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
            f.message(),
            f.expected.as_deref(),
            f.actual.as_deref(),
            f.loc().map(|l| l.line),
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

// ---------------------------------------------------------------------------
// Waiting on events.

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
    assert!(f.message().contains("fail_if"), "{}", f.message());
    assert!(f.message().contains("`records` event"), "{}", f.message());
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
        f.message(),
        "timed out after 0.3s waiting for a `records` event"
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
    assert!(f.message().contains("timed out"), "{}", f.message());
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
        f.message().contains("closed its event stream"),
        "{}",
        f.message()
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
    assert_eq!(f.message(), "cannot subscribe to the events of agent `a`");
    assert!(
        f.diagnostic
            .notes
            .iter()
            .any(|n| n.contains("did not accept the admin API key")),
        "{:?}",
        f.diagnostic.notes
    );
    assert!(agent.requests_to("GET", "/first").is_empty());
}

// ---------------------------------------------------------------------------
// Waiting by polling.

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
    assert_eq!(
        f.message(),
        "timed out after 1.0s waiting for GET /records/1"
    );
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
    assert_eq!(
        f.message(),
        "`fail_if` held while waiting for GET /records/2"
    );
    assert!(started.elapsed() < Duration::from_secs(30));
}

// ---------------------------------------------------------------------------
// HTTP status.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_2xx_fails_unless_the_status_is_expected() {
    let agent = stub().await;
    agent.route(
        "POST",
        "/boom",
        vec![Reply::status(500, json!({ "error": "kaputt" }))],
    );
    agent.route("GET", "/ok", vec![Reply::ok(json!({ "ok": true }))]);

    let yaml = scenario(
        r#"
        agents: { a: {} }
        steps:
          - name: boom
            agent: a
            post: /boom
            body: {}
        "#,
    );
    let result = run(&yaml, &[("a", &agent)]).await;
    let f = failure(&result);
    assert_eq!(f.message(), "POST /boom answered HTTP 500");
    assert!(
        f.expected.as_deref().unwrap_or_default().contains("2xx"),
        "{:?}",
        f.expected
    );
    assert_eq!(f.actual.as_deref(), Some("status 500"));
    assert_eq!(loc_line(f), line_of(&yaml, "name: boom"));
    assert_eq!(
        f.response.as_ref().map(|r| r.response.clone()),
        Some(json!({ "error": "kaputt" }))
    );

    let yaml = scenario(
        r#"
        agents: { a: {} }
        steps:
          - agent: a
            post: /boom
            body: {}
            expect: { status: 500, $.error: kaputt }
        "#,
    );
    assert_passed(&run(&yaml, &[("a", &agent)]).await);

    let yaml = scenario(
        r#"
        agents: { a: {} }
        steps:
          - agent: a
            get: /ok
            expect:
              status: 201
        "#,
    );
    let result = run(&yaml, &[("a", &agent)]).await;
    let f = failure(&result);
    assert_eq!(f.message(), "unexpected HTTP status");
    assert_eq!(f.expected.as_deref(), Some("status 201"));
    assert_eq!(f.actual.as_deref(), Some("status 200"));
    assert_eq!(loc_line(f), line_of(&yaml, "status: 201"));
}

// ---------------------------------------------------------------------------
// Captures.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_capture_that_matches_nothing_fails_naming_the_variable() {
    let agent = stub().await;
    agent.route(
        "GET",
        "/rec",
        vec![Reply::ok(
            json!({ "id": "r1", "results": [{ "state": "pending" }] }),
        )],
    );
    agent.route("GET", "/after", vec![Reply::ok(json!({}))]);
    let yaml = scenario(
        r#"
        agents: { a: {} }
        steps:
          - agent: a
            get: /rec
            capture:
              id: $.id
              cred_ex_id: $.cred_ex_id
          - { agent: a, get: /after }
        "#,
    );
    let result = run(&yaml, &[("a", &agent)]).await;
    let f = failure(&result);
    assert_eq!(f.message(), "nothing to capture into `cred_ex_id`");
    assert_eq!(loc_line(f), line_of(&yaml, "cred_ex_id: $.cred_ex_id"));
    assert_eq!(f.expected.as_deref(), Some("a value at $.cred_ex_id"));
    assert!(agent.requests_to("GET", "/after").is_empty());

    // A filter that selects nothing captures nothing, too.
    let yaml = scenario(
        r#"
        agents: { a: {} }
        steps:
          - agent: a
            get: /rec
            capture: { finished: "$.results[?@.state == 'done']" }
        "#,
    );
    let f = run(&yaml, &[("a", &agent)])
        .await
        .failure
        .expect("a failure");
    assert_eq!(f.message(), "nothing to capture into `finished`");

    // ...and one that selects something captures the list of what it selected.
    agent.route("POST", "/echo", vec![Reply::ok(json!({}))]);
    let yaml = scenario(
        r#"
        agents: { a: {} }
        steps:
          - agent: a
            get: /rec
            capture: { pending: "$.results[?@.state == 'pending']" }
          - { agent: a, post: /echo, body: "${pending}" }
        "#,
    );
    assert_passed(&run(&yaml, &[("a", &agent)]).await);
    assert_eq!(
        agent.requests_to("POST", "/echo")[0].body,
        Some(json!([{ "state": "pending" }]))
    );
}

// ---------------------------------------------------------------------------
// Versions: requires, when, xfail.

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
            reason: "bug 123".into()
        }
    );
    assert!(result.failure.is_some(), "the failure is still shown");

    let result = run(&case("{ reason: bug 123 }", "pending"), &[("a", &agent)]).await;
    assert_eq!(
        result.status,
        Status::UnexpectedPass {
            reason: "bug 123".into()
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
            reason: "this bug".into()
        }
    );
}

// ---------------------------------------------------------------------------
// Variables from skipped steps, includes, artifacts.

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
    assert_eq!(f.step, Some((3, "connect: fixture check".to_owned())));
    let loc = f.loc().unwrap();
    assert!(
        loc.file.path.ends_with("fixtures/record.yaml"),
        "{}",
        loc.file.path.display()
    );
    assert_eq!(loc.line, line_of(&fixture, "$.state: ${want}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn artifacts_keep_requests_and_events_of_failing_cases_only() {
    let agent = stub().await;
    agent.route(
        "POST",
        "/records",
        vec![Reply::ok(json!({ "id": "r1" })).emitting(vec![emit(
            0,
            "records",
            json!({ "id": "r1", "state": "pending" }),
        )])],
    );
    let yaml = |until: &str| {
        scenario(&format!(
            r#"
            agents: {{ a: {{}} }}
            steps:
              - {{ agent: a, post: /records, query: {{ q: 1 }}, body: {{ x: 1 }} }}
              - agent: a
                wait: {{ event: records, until: {{ $.state: {until} }}, timeout: 300ms }}
            "#
        ))
    };
    let options = RunOptions {
        keep_artifacts: true,
        ..RunOptions::default()
    };

    let result = run_with(&yaml("done"), &[], &[("a", &agent)], &options).await;
    assert_eq!(result.status, Status::Failed);
    let artifacts = result
        .artifacts
        .as_ref()
        .expect("artifacts of a failing case");
    assert_eq!(artifacts.exchanges.len(), 1);
    let exchange = &artifacts.exchanges[0];
    assert_eq!(exchange.method, "POST");
    assert!(exchange.url.ends_with("/records?q=1"), "{}", exchange.url);
    assert_eq!(exchange.request, Some(json!({ "x": 1 })));
    assert_eq!(exchange.response, json!({ "id": "r1" }));
    let events = &artifacts.events["a"];
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].topic, "records");
    assert_eq!(events[0].payload, json!({ "id": "r1", "state": "pending" }));

    let result = run_with(&yaml("pending"), &[], &[("a", &agent)], &options).await;
    assert_passed(&result);
    assert!(result.artifacts.is_none());
}

// ---------------------------------------------------------------------------
// Bugs found while writing these tests.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escaped_dollar_brace_is_sent_as_a_literal() {
    let agent = stub().await;
    agent.route(
        "POST",
        "/echo",
        vec![Reply::ok(json!({ "text": "cost ${amount}" }))],
    );
    let yaml = scenario(
        r#"
        agents: { a: {} }
        vars: { v: x }
        steps:
          - agent: a
            post: /echo
            body: { plain: "cost $${amount}", mixed: "${v} $${amount}" }
            expect: { $.text: "cost $${amount}" }
        "#,
    );
    let result = run(&yaml, &[("a", &agent)]).await;
    let sent = agent.requests_to("POST", "/echo")[0].body.clone();
    // With a variable in the string the escape works; without one it does not.
    assert_eq!(
        sent,
        Some(json!({ "plain": "cost ${amount}", "mixed": "x ${amount}" }))
    );
    assert_passed(&result);
}

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
    assert!(failure(&result).message().contains("timed out"));
    assert!(
        elapsed < Duration::from_secs(4),
        "a `timeout: 300ms` wait took {elapsed:?}: it waited for the hanging request"
    );
}

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
    assert!(f.message().contains("timed out"), "{}", f.message());
    // As for events (and as `WaitOutcome::TimedOut` documents).
    assert_eq!(f.actual.as_deref(), Some("nothing matched `where`"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spliced_path_value_is_one_path_segment() {
    let agent = stub().await;
    agent.route(
        "GET",
        "/did",
        vec![Reply::ok(json!({ "did": "did:example:123#key-1" }))],
    );
    let yaml = scenario(
        r#"
        agents: { a: {} }
        steps:
          - { agent: a, get: /did, capture: { did: $.did } }
          - { agent: a, get: "/resolver/resolve/${did}", expect: { status: 404 } }
        "#,
    );
    let result = run(&yaml, &[("a", &agent)]).await;
    assert_passed(&result);
    let resolved: Vec<String> = agent
        .api_requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/resolver/"))
        .map(|r| r.path)
        .collect();
    // Today: `/resolver/resolve/did:example:123`, the `#key-1` taken as a fragment.
    assert_eq!(resolved, ["/resolver/resolve/did:example:123%23key-1"]);
}
