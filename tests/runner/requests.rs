//! Requests: capture, substitution, interpolation, the API key.

use crate::common::*;
use crate::stub::Reply;
use acapy_harness::run::outcome::StepStatus;
use serde_json::json;
use std::collections::BTreeMap;

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

// Found while writing these tests.
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

// Found while writing these tests.
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_are_templated_and_sent_beside_the_api_key() {
    let admin = stub().await;
    admin.route(
        "POST",
        "/multitenancy/wallet",
        vec![Reply::ok(
            json!({ "wallet_id": "w-1", "token": "tok.en.1" }),
        )],
    );
    admin.route(
        "GET",
        "/connections",
        vec![Reply::ok(json!({ "results": [] }))],
    );
    let yaml = scenario(
        r#"
        agents: { admin: {} }
        steps:
          - name: create a tenant
            agent: admin
            post: /multitenancy/wallet
            body: { label: Tenant }
            capture: { token: $.token, wallet: $.wallet_id }
          - name: as the tenant
            agent: admin
            get: /connections
            headers:
              Authorization: "Bearer ${token}"
              X-Wallet: ${wallet}
              X-Count: 3
        "#,
    );
    let result = run(&yaml, &[("admin", &admin)]).await;
    assert_passed(&result);
    let sent = admin.requests_to("GET", "/connections");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].header("authorization"), Some("Bearer tok.en.1"));
    assert_eq!(sent[0].header("x-wallet"), Some("w-1"));
    assert_eq!(sent[0].header("x-count"), Some("3"));
    // The agent's own credentials still go along.
    assert_eq!(sent[0].header("x-api-key"), Some(KEY));
    let plain = admin.requests_to("POST", "/multitenancy/wallet");
    assert_eq!(plain[0].header("authorization"), None);
}
