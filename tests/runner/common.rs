//! Helpers every module uses: writing a scenario, running it against stubs,
//! and looking at the result.

use crate::stub::{Config, Stub};
use acapy_harness::admin::{AdminAuth, AdminEndpoint};
use acapy_harness::agents::external::ExternalProvider;
use acapy_harness::agents::Provider;
use acapy_harness::report::console::render_failure;
use acapy_harness::run::outcome::{CaseResult, Failure, Status, StepStatus};
use acapy_harness::run::{run_case, RunOptions};
use acapy_harness::scenario::load::{load, Found};
use acapy_harness::scenario::model::Scenario;
use acapy_harness::suite::cases;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

pub const KEY: &str = "test-admin-key-0123456789";

/// Strips the common indentation, so scenarios can be written indented in Rust.
pub fn scenario(text: &str) -> String {
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
pub fn line_of(yaml: &str, needle: &str) -> usize {
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

pub async fn stub() -> Stub {
    Stub::start(Config {
        api_key: Some(KEY.into()),
        ..Config::default()
    })
    .await
}

pub async fn stub_with(config: Config) -> Stub {
    Stub::start(Config {
        api_key: Some(KEY.into()),
        ..config
    })
    .await
}

/// Loads `yaml` as a scenario and runs it with each role's agent at its stub.
pub async fn run(yaml: &str, agents: &[(&str, &Stub)]) -> CaseResult {
    run_with(yaml, &[], agents, &RunOptions::default()).await
}

/// `run`, with other files next to the scenario (fixtures) and options.
pub async fn run_with(
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
    let result = run_loaded(scenario, agents, options).await;
    assert_eq!(result.name, "case::external");
    result
}

/// Runs a loaded scenario as one `external` case, each role's agent at its stub.
pub async fn run_loaded(
    scenario: Scenario,
    agents: &[(&str, &Stub)],
    options: &RunOptions,
) -> CaseResult {
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
    // Generous: a hang is a failure, but never on a merely slow machine.
    tokio::time::timeout(Duration::from_secs(60), run_case(&cases[0], options))
        .await
        .expect("the case did not finish within 60s")
}

pub fn assert_passed(result: &CaseResult) {
    assert_eq!(
        result.status,
        Status::Passed,
        "expected a pass:\n{}",
        render_failure(result)
    );
    assert!(result.failure.is_none());
}

pub fn failure(result: &CaseResult) -> &Failure {
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

pub fn step_statuses(result: &CaseResult) -> Vec<StepStatus> {
    result.steps.iter().map(|s| s.status).collect()
}

pub fn loc_line(f: &Failure) -> usize {
    f.line.expect("the failure points into the file")
}
