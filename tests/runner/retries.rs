//! `--retries`: a failing case runs again from scratch; one that then passes
//! is flaky, with its failed tries; `xfail` cases are not retried.

use crate::common::*;
use crate::stub::{Reply, Stub};
use acapy_harness::admin::{AdminAuth, AdminEndpoint};
use acapy_harness::agents::external::ExternalProvider;
use acapy_harness::agents::Provider;
use acapy_harness::run::outcome::{CaseResult, Status};
use acapy_harness::run::{run_with_retries, RunOptions};
use acapy_harness::scenario::load::{load, Found};
use acapy_harness::suite::cases;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Runs `yaml` with its one role `a` at `agent`, retrying up to `retries` times.
async fn run_retrying(yaml: &str, agent: &Stub, retries: u32) -> CaseResult {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("case.yaml");
    std::fs::write(&file, yaml).unwrap();
    let scenario = load(&Found {
        root: dir.path().to_path_buf(),
        file,
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let endpoints = BTreeMap::from([(
        "a".to_owned(),
        AdminEndpoint::new(&agent.url, AdminAuth::ApiKey(KEY.into())),
    )]);
    let external: Arc<dyn Provider> = Arc::new(ExternalProvider { endpoints });
    let cases = cases(&[Arc::new(scenario)], &[external]);
    run_with_retries(&cases[0], &RunOptions::default(), retries).await
}

const POST_FLAKY: &str = r#"
    agents: { a: {} }
    steps:
      - name: post
        agent: a
        post: /flaky
        body: {}
"#;

/// The route fails once, then answers.
async fn fails_once() -> Stub {
    let agent = stub().await;
    agent.route(
        "POST",
        "/flaky",
        vec![
            Reply::status(500, json!({ "error": "first time" })),
            Reply::ok(json!({ "ok": true })),
        ],
    );
    agent
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_that_fails_then_passes_is_flaky() {
    let agent = fails_once().await;
    let result = run_retrying(&scenario(POST_FLAKY), &agent, 2).await;
    let Status::Flaky { failed_tries } = &result.status else {
        panic!("expected flaky, got {:?}", result.status);
    };
    assert_eq!(failed_tries.len(), 1);
    assert_eq!(failed_tries[0].message(), "POST /flaky answered HTTP 500");
    assert!(result.status.is_success());
    assert!(result.failure.is_none());
    assert_eq!(
        agent.requests_to("POST", "/flaky").len(),
        2,
        "ran twice, not three times"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_retries_the_same_case_fails() {
    let agent = fails_once().await;
    let result = run_retrying(&scenario(POST_FLAKY), &agent, 0).await;
    let f = failure(&result);
    assert_eq!(f.message, "POST /flaky answered HTTP 500");
    assert!(!f.diagnostic.contains("tries"), "{}", f.diagnostic);
    assert_eq!(agent.requests_to("POST", "/flaky").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_failing_every_try_fails_and_says_how_often() {
    let agent = stub().await;
    agent.route("POST", "/flaky", vec![Reply::status(500, json!({}))]);
    let result = run_retrying(&scenario(POST_FLAKY), &agent, 2).await;
    let f = failure(&result);
    assert!(
        f.diagnostic
            .lines()
            .any(|l| l.trim() == "= failed on each of 3 tries (--retries 2)"),
        "{}",
        f.diagnostic
    );
    assert_eq!(agent.requests_to("POST", "/flaky").len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expected_failure_is_not_retried() {
    let agent = fails_once().await;
    let yaml = scenario(
        r#"
        agents: { a: {} }
        xfail:
          - reason: known to fail
        steps:
          - name: post
            agent: a
            post: /flaky
            body: {}
        "#,
    );
    let result = run_retrying(&yaml, &agent, 2).await;
    assert!(
        matches!(result.status, Status::ExpectedFailure { .. }),
        "{:?}",
        result.status
    );
    assert_eq!(agent.requests_to("POST", "/flaky").len(), 1);
}
