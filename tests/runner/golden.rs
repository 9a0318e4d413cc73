//! Golden failures: every `tests/failing/NAME.yaml` runs against stubs
//! scripted by `NAME.stub.json`, and `render_failure` of its result (ports and
//! timings masked) must be exactly `NAME.out`. See `tests/failing/README.md`.
//!
//! `BLESS=1 cargo test --test runner golden` rewrites the `.out` files.

use crate::common::*;
use crate::stub::{Config, Emit, Reply, Stub};
use acapy_harness::contract::ContractMode;
use acapy_harness::report::console::render_failure;
use acapy_harness::run::contract::ContractSettings;
use acapy_harness::run::outcome::Status;
use acapy_harness::run::RunOptions;
use acapy_harness::scenario::load::{load, Found};
use regex::Regex;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// `NAME.stub.json`: how each role's stub answers.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Script {
    agents: BTreeMap<String, AgentScript>,
    /// `--contract` for the case (default: off).
    #[serde(default)]
    contract: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AgentScript {
    /// What `GET /status` reports.
    #[serde(default = "default_version")]
    version: String,
    /// Events sent on `/ws` right after `settings`.
    #[serde(default)]
    on_connect: Vec<EventScript>,
    /// Close `/ws` this long after `settings`.
    #[serde(default)]
    close_ws_after_ms: Option<u64>,
    /// `"METHOD /path"` → answers in turn; the last one repeats.
    #[serde(default)]
    routes: BTreeMap<String, Vec<ReplyScript>>,
    /// A real agent's API document (a file of `tests/contract/swagger/`),
    /// served at `/api/docs/swagger.json`.
    #[serde(default)]
    document: Option<String>,
}

fn default_version() -> String {
    "1.3.6".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplyScript {
    #[serde(default = "default_status")]
    status: u16,
    #[serde(default)]
    body: Value,
    #[serde(default)]
    delay_ms: u64,
    /// Events sent on `/ws` when the request arrives.
    #[serde(default)]
    emit: Vec<EventScript>,
    /// Close the connection instead of answering.
    #[serde(default)]
    hang_up: bool,
}

fn default_status() -> u16 {
    200
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventScript {
    #[serde(default)]
    after_ms: u64,
    topic: String,
    payload: Value,
}

impl EventScript {
    fn emit(&self) -> Emit {
        crate::stub::emit(self.after_ms, &self.topic, self.payload.clone())
    }
}

impl ReplyScript {
    fn reply(&self) -> Reply {
        let reply = if self.hang_up {
            Reply::hang_up()
        } else {
            Reply::status(self.status, self.body.clone())
        };
        reply
            .delayed(self.delay_ms)
            .emitting(self.emit.iter().map(EventScript::emit).collect())
    }
}

async fn start(script: &AgentScript) -> Stub {
    let stub = stub_with(Config {
        version: script.version.clone(),
        on_connect: script.on_connect.iter().map(EventScript::emit).collect(),
        close_ws_after: script.close_ws_after_ms.map(Duration::from_millis),
        ..Config::default()
    })
    .await;
    if let Some(file) = &script.document {
        let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{file}: {e}"));
        let document: Value = serde_json::from_str(&text).unwrap();
        stub.route("GET", "/api/docs/swagger.json", vec![Reply::ok(document)]);
    }
    for (route, replies) in &script.routes {
        let (method, path) = route
            .split_once(' ')
            .unwrap_or_else(|| panic!("route `{route}`: expected `METHOD /path`"));
        stub.route(
            method,
            path,
            replies.iter().map(ReplyScript::reply).collect(),
        );
    }
    stub
}

/// What changes from run to run: ports, and timings in milliseconds.
fn mask(text: &str) -> String {
    let port = Regex::new(r"127\.0\.0\.1:\d+").unwrap();
    let response_ms = Regex::new(r"\(\d+ ms\)").unwrap();
    let event_ms = Regex::new(r"\+\d+ms ").unwrap();
    let text = port.replace_all(text, "127.0.0.1:<port>");
    let text = response_ms.replace_all(&text, "(<ms> ms)");
    event_ms.replace_all(&text, "+<ms>ms ").into_owned()
}

/// Runs `tests/failing/NAME.yaml` (a path relative to the package root, as
/// the CLI would be given it) and renders its failure.
async fn render(yaml: &Path) -> String {
    let stub_path = yaml.with_extension("stub.json");
    let text = std::fs::read_to_string(&stub_path)
        .unwrap_or_else(|e| panic!("{}: {e}", stub_path.display()));
    let script: Script =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", stub_path.display()));
    let mut stubs = Vec::new();
    for (role, agent) in &script.agents {
        stubs.push((role.as_str(), start(agent).await));
    }
    let agents: Vec<(&str, &Stub)> = stubs.iter().map(|(r, s)| (*r, s)).collect();
    let scenario = load(&Found {
        root: PathBuf::from("tests/failing"),
        file: yaml.to_path_buf(),
    })
    .unwrap_or_else(|e| panic!("{} does not load:\n{e}", yaml.display()));
    let mut options = RunOptions::default();
    // Documents are fetched anew for stubs (external agents): a cache of
    // the test's own keeps them out of the user's.
    let cache = tempfile::tempdir().unwrap();
    if let Some(mode) = &script.contract {
        options.contract = ContractSettings::new(ContractMode::parse(mode).unwrap(), Vec::new())
            .with_cache(cache.path());
    }
    let result = run_loaded(scenario, &agents, &options).await;
    assert!(
        matches!(
            result.status,
            Status::Failed | Status::UnexpectedPass { .. }
        ),
        "{}: a failing case, got {:?}",
        yaml.display(),
        result.status
    );
    mask(&render_failure(&result))
}

/// Every `tests/failing/NAME.yaml` fails, and its rendered failure is
/// exactly `tests/failing/NAME.out`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_scenarios_render_exactly_as_blessed() {
    // Relative paths, as a user would give them: the rendered `-->` stays stable.
    // Cargo runs integration tests from the package root.
    let dir = Path::new("tests/failing");
    assert!(
        dir.is_dir(),
        "run from the package root: {:?}",
        std::env::current_dir()
    );
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let name = |p: &Path| p.file_name().unwrap().to_string_lossy().into_owned();
    let cases: Vec<PathBuf> = files
        .iter()
        .filter(|p| name(p).ends_with(".yaml"))
        .cloned()
        .collect();
    assert!(cases.len() >= 8, "failing scenarios missing: {cases:?}");
    // Nothing left over from a renamed or deleted case.
    for file in &files {
        let n = name(file);
        let Some(stem) = n
            .strip_suffix(".stub.json")
            .or_else(|| n.strip_suffix(".out"))
        else {
            continue;
        };
        assert!(
            dir.join(format!("{stem}.yaml")).is_file(),
            "{} has no scenario {stem}.yaml",
            file.display()
        );
    }

    let bless = std::env::var_os("BLESS").is_some();
    let mut mismatches = Vec::new();
    for yaml in cases {
        let actual = render(&yaml).await;
        let expected_path = yaml.with_extension("out");
        if bless {
            std::fs::write(&expected_path, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_else(|_| {
            panic!("{} is missing (BLESS=1 writes it)", expected_path.display())
        });
        if actual != expected {
            mismatches.push(format!(
                "{}:\n--- expected\n{expected}--- actual\n{actual}",
                yaml.display()
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn masking_hides_ports_and_timings_only() {
    assert_eq!(
        mask("response: GET http://127.0.0.1:40123/x -> 404 (3 ms)\n  +120ms records state=done\ntimed out after 0.3s"),
        "response: GET http://127.0.0.1:<port>/x -> 404 (<ms> ms)\n  +<ms>ms records state=done\ntimed out after 0.3s"
    );
}
