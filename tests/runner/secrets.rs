//! Secrets never reach an output: a failing case with a secret in a request,
//! a response and an agent's log line writes every report and its artifacts,
//! and none of them (nor the console text) holds the secret.

use crate::common::*;
use crate::stub::{Reply, Stub};
use acapy_harness::admin::{AdminAuth, AdminEndpoint};
use acapy_harness::agents::{
    Agent, AgentHandle, AgentMode, AgentSpec, Provider, ProviderError, Reach, Scope,
};
use acapy_harness::inputs::Inputs;
use acapy_harness::report::console::{case_line, render_failure};
use acapy_harness::report::files::ReportFiles;
use acapy_harness::run::outcome::{CaseResult, Status};
use acapy_harness::run::{run_case, run_with_retries, RunOptions};
use acapy_harness::scenario::load::{load_with, Found};
use acapy_harness::suite::cases;
use async_trait::async_trait;
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Given with `--secret`: characters that every output escapes its own way.
const CLI_SECRET: &str = "cli-s3cret \"q\" /+&<x>";
/// Listed under the scenario's `secrets:`.
const LISTED: &str = "listed-wallet-pass-42";
/// Captured into `tenant_token` (a name that makes it secret).
const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.tenant-token-payload";

/// An agent at a stub, whose log says too much.
struct Chatty {
    url: String,
    log: String,
}

struct ChattyHandle(String);

#[async_trait]
impl AgentHandle for ChattyHandle {
    async fn log_tail(&self, _lines: usize) -> Option<String> {
        Some(self.0.clone())
    }
    async fn stop(&mut self) {}
}

#[async_trait]
impl Provider for Chatty {
    fn kind(&self) -> &'static str {
        "external"
    }
    fn label(&self) -> String {
        "external".into()
    }
    fn starts_agents(&self) -> bool {
        false
    }
    fn reach(&self) -> Reach {
        Reach::Elsewhere
    }
    async fn start(
        &self,
        specs: &[AgentSpec],
        _scope: &Scope,
    ) -> Result<Vec<Agent>, ProviderError> {
        Ok(specs
            .iter()
            .map(|spec| Agent {
                role: spec.role.clone(),
                admin: AdminEndpoint::new(&self.url, AdminAuth::ApiKey(KEY.into())),
                version: "1.3.6".into(),
                mode: AgentMode::Dedicated,
                handle: Box::new(ChattyHandle(self.log.clone())),
            })
            .collect())
    }
}

/// Every file under `dir`, with its text.
fn files(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push((
                path.display().to_string(),
                std::fs::read_to_string(&path).unwrap(),
            ));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_are_masked_in_every_output() {
    let agent: Stub = stub().await;
    agent.route(
        "POST",
        "/multitenancy/wallet",
        vec![Reply::ok(
            json!({ "wallet_id": "w1", "token": TOKEN, "settings": { "wallet.key": CLI_SECRET } }),
        )],
    );
    agent.route(
        "GET",
        "/connections",
        vec![Reply::ok(
            json!({ "state": "pending", "echo": CLI_SECRET, "seen": [TOKEN, LISTED] }),
        )],
    );
    let yaml = scenario(&format!(
        r#"
        agents: {{ a: {{}} }}
        secrets: [wallet_pass]
        vars:
          wallet_pass: {LISTED}
        steps:
          - agent: a
            post: /multitenancy/wallet
            body: {{ wallet_key: "${{cli_secret}}", label: "${{wallet_pass}}" }}
            capture: {{ tenant_token: $.token }}
          - agent: a
            get: /connections
            query: {{ k: "${{cli_secret}}" }}
            headers: {{ Authorization: "Bearer ${{tenant_token}}" }}
            expect: {{ $.state: done }}
        "#
    ));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("case.yaml");
    std::fs::write(&file, &yaml).unwrap();
    let inputs = Inputs::from_args(&[], None, &[format!("cli_secret={CLI_SECRET}")]).unwrap();
    let scenario = load_with(
        &Found {
            root: dir.path().to_path_buf(),
            file,
        },
        &inputs.names(),
    )
    .unwrap();
    let provider: Arc<dyn Provider> = Arc::new(Chatty {
        url: agent.url.clone(),
        log: format!(
            "INFO wallet created\nDEBUG key={CLI_SECRET} token={TOKEN} pass={LISTED} api_key={KEY}\n"
        ),
    });
    let cases = cases(&[Arc::new(scenario)], &[provider]);
    let options = RunOptions {
        keep_artifacts: true,
        inputs,
        ..RunOptions::default()
    };
    let result = tokio::time::timeout(Duration::from_secs(60), run_case(&cases[0], &options))
        .await
        .unwrap();
    failure(&result);
    // The secrets were really there to mask: the agent got them.
    let sent = format!("{:?}", agent.requests());
    assert!(sent.contains(LISTED) && sent.contains(TOKEN), "{sent}");
    // And the result itself holds none: it left its case masked.
    let kept = format!("{:?}", result);
    for secret in [CLI_SECRET, LISTED, TOKEN, KEY] {
        assert!(!kept.contains(secret), "`{secret}` kept in the result");
    }
    assert!(result
        .failure
        .as_ref()
        .unwrap()
        .log_tail
        .as_ref()
        .unwrap()
        .contains("api_key=***"));

    let out = tempfile::tempdir().unwrap();
    let outputs = outputs_of(std::slice::from_ref(&result), out.path());
    let names: Vec<&str> = outputs.iter().map(|(n, _)| n.as_str()).collect();
    for expected in [
        "exchanges.jsonl",
        "events-a.jsonl",
        "a.log",
        "failure.txt",
        "case.json",
    ] {
        assert!(names.iter().any(|n| n.ends_with(expected)), "{names:?}");
    }

    let forms = [
        CLI_SECRET,
        r#"cli-s3cret \"q\" /+&<x>"#,                // JSON
        "cli-s3cret &quot;q&quot; /+&amp;&lt;x&gt;", // XML
        "cli-s3cret+%22q%22+%2F%2B%26%3Cx%3E",       // a query string
        LISTED,
        TOKEN,
        KEY,
    ];
    for (name, text) in &outputs {
        for secret in forms {
            assert!(!text.contains(secret), "`{secret}` in {name}:\n{text}");
        }
    }
    let masked = |suffix: &str| {
        outputs
            .iter()
            .find(|(n, _)| n.ends_with(suffix))
            .is_some_and(|(_, t)| t.contains("***"))
    };
    for suffix in [
        "console failure",
        "exchanges.jsonl",
        "a.log",
        "junit.xml",
        "report.json",
        "matrix.md",
        "report.html",
    ] {
        assert!(masked(suffix), "no *** in {suffix}");
    }
}

/// Every report of `results` written under `dir`, and the console's text:
/// (name, text) each.
fn outputs_of(results: &[CaseResult], dir: &Path) -> Vec<(String, String)> {
    ReportFiles::in_dir(dir)
        .write(results, &[], Duration::ZERO, None)
        .unwrap();
    let mut outputs = Vec::new();
    files(dir, &mut outputs);
    for result in results {
        outputs.push(("console line".into(), case_line(result)));
        outputs.push(("console failure".into(), render_failure(result)));
        if let Status::Flaky { failed_tries } = &result.status {
            outputs.push((
                "console flaky tries".into(),
                acapy_harness::report::console::render_failed_tries(failed_tries),
            ));
        }
    }
    outputs
}

/// A value only the first try knew (a token it captured, which the second
/// try replaced with its own) is masked in that try's failure wherever the
/// flaky case's failed tries are shown: console, JUnit's `flakyFailure`,
/// JSON, Markdown, HTML and artifacts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_of_a_flaky_case_s_failed_try_is_masked_everywhere() {
    const FIRST: &str = "first-try-token-0f9e8d7c6b5a";
    const SECOND: &str = "second-try-token-1a2b3c4d5e6f";
    let agent: Stub = stub().await;
    agent.route(
        "POST",
        "/multitenancy/wallet",
        vec![
            Reply::ok(json!({ "wallet_id": "w1", "token": FIRST })),
            Reply::ok(json!({ "wallet_id": "w2", "token": SECOND })),
        ],
    );
    agent.route(
        "GET",
        "/connections",
        vec![
            Reply::ok(json!({ "state": "pending", "echo": FIRST })),
            Reply::ok(json!({ "state": "done", "echo": SECOND })),
        ],
    );
    let yaml = scenario(
        r#"
        agents: { a: {} }
        steps:
          - agent: a
            post: /multitenancy/wallet
            body: {}
            capture: { tenant_token: $.token }
          - agent: a
            get: /connections
            query: { t: "${tenant_token}" }
            expect: { $.state: done }
        "#,
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("case.yaml");
    std::fs::write(&file, &yaml).unwrap();
    let scenario = load_with(
        &Found {
            root: dir.path().to_path_buf(),
            file,
        },
        &Default::default(),
    )
    .unwrap();
    let provider: Arc<dyn Provider> = Arc::new(Chatty {
        url: agent.url.clone(),
        log: format!("DEBUG token={FIRST}\n"),
    });
    let cases = cases(&[Arc::new(scenario)], &[provider]);
    let options = RunOptions {
        keep_artifacts: true,
        ..RunOptions::default()
    };
    let result = tokio::time::timeout(
        Duration::from_secs(60),
        run_with_retries(&cases[0], &options, 1),
    )
    .await
    .unwrap();
    let Status::Flaky { failed_tries } = &result.status else {
        panic!("expected flaky: {:?}", result.status);
    };
    // The first try failed on the response that echoed its token.
    let shown = acapy_harness::report::console::render_one(&failed_tries[0].failure);
    assert!(shown.contains("\"echo\": \"***\""), "{shown}");

    let out = tempfile::tempdir().unwrap();
    let outputs = outputs_of(std::slice::from_ref(&result), out.path());
    let junit = &outputs
        .iter()
        .find(|(n, _)| n.ends_with("junit.xml"))
        .unwrap()
        .1;
    assert!(junit.contains("flakyFailure"), "{junit}");
    for (name, text) in &outputs {
        for secret in [FIRST, SECOND] {
            assert!(!text.contains(secret), "`{secret}` in {name}:\n{text}");
        }
    }
    for name in [
        "console flaky tries",
        "junit.xml",
        "report.json",
        "report.html",
    ] {
        let (_, text) = outputs.iter().find(|(n, _)| n.ends_with(name)).unwrap();
        assert!(text.contains("***"), "no *** in {name}");
    }
}
