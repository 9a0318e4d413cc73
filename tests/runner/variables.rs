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
    assert_eq!(f.message, "variable `prev` has no value");
    assert_eq!(loc_line(f), line_of(&yaml, r#"$.id: "${prev}""#));
    assert_eq!(
        (f.step, f.step_name.as_deref()),
        (Some(2), Some("GET /rec"))
    );
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
    assert_eq!(failure(&result).message, "variable `prev` has no value");
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
    assert_eq!(failure(&equals).message, "variable `prev` has no value");

    let not_equals = run(&template("not_equals"), &[("a", &agent)]).await;
    assert_eq!(
        not_equals.status,
        Status::Failed,
        "`not_equals: ${{prev}}` passed though `prev` has no value"
    );
    assert_eq!(failure(&not_equals).message, "variable `prev` has no value");
}

/// `--var` / `--vars-file` / `--secret` reach the runner as `RunOptions::inputs`:
/// over the scenario's `vars`, which may use them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn variables_from_outside_take_the_place_of_the_scenarios_vars() {
    use acapy_harness::inputs::Inputs;
    use acapy_harness::run::RunOptions;
    let agent = stub().await;
    agent.route("POST", "/echo", vec![Reply::ok(json!({}))]);
    let yaml = scenario(
        r#"
        agents: { a: {} }
        vars:
          host: scenario-host
          port: 8020
          url: "http://${host}:${port}"
        steps:
          - { agent: a, post: /echo, body: { url: "${url}", from_file: "${extra}" } }
        "#,
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("vars.yaml");
    std::fs::write(&file, "host: file-host\nextra: { n: 1 }\n").unwrap();
    let inputs = Inputs::from_args(&["host=cli-host".into()], Some(&file), &[]).unwrap();
    let options = RunOptions {
        inputs,
        ..RunOptions::default()
    };
    // Loading knows the outside names: `extra` is set nowhere in the file.
    let found_dir = tempfile::tempdir().unwrap();
    let path = found_dir.path().join("case.yaml");
    std::fs::write(&path, &yaml).unwrap();
    let found = acapy_harness::scenario::load::Found {
        root: found_dir.path().to_path_buf(),
        file: path,
    };
    let undefined = acapy_harness::scenario::load::load(&found).unwrap_err();
    assert!(
        undefined.to_string().contains("undefined variable `extra`"),
        "{undefined}"
    );
    let loaded = acapy_harness::scenario::load::load_with(&found, &options.inputs.names()).unwrap();
    let result = run_loaded(loaded, &[("a", &agent)], &options).await;
    assert_passed(&result);
    let sent = agent.requests_to("POST", "/echo");
    assert_eq!(
        sent[0].body,
        Some(json!({ "url": "http://cli-host:8020", "from_file": { "n": 1 } }))
    );
}

/// `${uuid}` is a fresh UUID at each use; a variable keeps one for reuse.
/// `${now}` is the time, RFC 3339 in UTC.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_values_are_fresh_at_each_use() {
    let agent = stub().await;
    agent.route("POST", "/echo", vec![Reply::ok(json!({}))]);
    let yaml = scenario(
        r#"
        agents: { a: {} }
        vars:
          pd_id: ${uuid}
        steps:
          - agent: a
            post: /echo
            body: { a: "${uuid}", b: "${uuid}", pd: "${pd_id}", again: "${pd_id}", at: "${now}" }
          - agent: a
            post: "/echo"
            query: { id: "${uuid}" }
            body: { pd: "${pd_id}" }
        "#,
    );
    let result = run(&yaml, &[("a", &agent)]).await;
    assert_passed(&result);
    let sent = agent.requests_to("POST", "/echo");
    let first = sent[0].body.clone().unwrap();
    let uuid =
        regex::Regex::new("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
            .unwrap();
    for key in ["a", "b", "pd"] {
        assert!(uuid.is_match(first[key].as_str().unwrap()), "{first}");
    }
    assert_ne!(first["a"], first["b"]);
    assert_eq!(first["pd"], first["again"]);
    assert_eq!(sent[1].body.as_ref().unwrap()["pd"], first["pd"]);
    assert!(uuid.is_match(&sent[1].query_map()["id"]));
    let now = regex::Regex::new(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$").unwrap();
    assert!(now.is_match(first["at"].as_str().unwrap()), "{first}");
}
