//! Captures: what a capture that matches nothing says; filters capture lists.

use crate::common::*;
use crate::stub::Reply;
use serde_json::json;

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
    assert_eq!(f.message, "nothing to capture into `cred_ex_id`");
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
    assert_eq!(f.message, "nothing to capture into `finished`");

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
