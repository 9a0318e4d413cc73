//! Secrets never reach an output: a failing case with a secret in a request,
//! a response and an agent's log line writes every report and its artifacts,
//! and none of them (nor the console text) holds the secret.

use crate::common::*;
use crate::stub::{Reply, Stub};
use acapy_harness::admin::{AdminAuth, AdminEndpoint};
use acapy_harness::agents::{Agent, AgentHandle, AgentSpec, Provider};
use acapy_harness::inputs::Inputs;
use acapy_harness::report::console::{case_line, render_failure};
use acapy_harness::report::{artifacts, json, junit, markdown};
use acapy_harness::run::{run_case, RunOptions};
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
    async fn start(&self, specs: &[AgentSpec], _case: &str) -> anyhow::Result<Vec<Agent>> {
        Ok(specs
            .iter()
            .map(|spec| Agent {
                role: spec.role.clone(),
                admin: AdminEndpoint::new(&self.url, AdminAuth::ApiKey(KEY.into())),
                version: "1.3.6".into(),
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
    // The secrets were really in what the case kept.
    let kept = format!("{:?}", result.artifacts);
    assert!(kept.contains(TOKEN) && kept.contains(LISTED), "{kept}");
    assert!(result
        .failure
        .as_ref()
        .unwrap()
        .log_tail
        .as_ref()
        .unwrap()
        .contains(KEY));

    let out = tempfile::tempdir().unwrap();
    let results = [result];
    junit::write(&results, "acapy-harness", &out.path().join("junit.xml")).unwrap();
    json::write(&results, Duration::ZERO, &out.path().join("report.json")).unwrap();
    markdown::write(&results, Duration::ZERO, &out.path().join("matrix.md")).unwrap();
    artifacts::write(&out.path().join("artifacts"), &results[0]).unwrap();
    let mut outputs = Vec::new();
    files(out.path(), &mut outputs);
    outputs.push(("console line".into(), case_line(&results[0])));
    outputs.push(("console failure".into(), render_failure(&results[0])));
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
    ] {
        assert!(masked(suffix), "no *** in {suffix}");
    }
}
