//! Artifacts: the requests and events of failing cases, and only those.

use crate::common::*;
use crate::stub::{emit, Reply};
use acapy_harness::run::outcome::Status;
use acapy_harness::run::RunOptions;
use serde_json::json;

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
