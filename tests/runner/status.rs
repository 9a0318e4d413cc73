//! HTTP status: non-2xx fails unless expected; `expect: { status }`.

use crate::common::*;
use crate::stub::Reply;
use serde_json::json;

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
    assert_eq!(f.message, "POST /boom answered HTTP 500");
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
    assert_eq!(f.message, "unexpected HTTP status");
    assert_eq!(f.expected.as_deref(), Some("status 201"));
    assert_eq!(f.actual.as_deref(), Some("status 200"));
    assert_eq!(loc_line(f), line_of(&yaml, "status: 201"));
}
