//! Shared agents are a speed-up, not a different test: the whole library on
//! one version, run with `--agents both`, gives every scenario the same
//! verdict on shared and on dedicated agents, except where a scenario
//! declares an ACA-Py defect of multitenancy (an `xfail` for `agents:
//! shared`), which the report lists as a finding.
//!
//! `cargo test --test modes` (real ACA-Py: `ACAPY_HARNESS_MODES_VERSION`,
//! default 1.3.6, as processes; a minute or two).

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// The binary, with none of the caller's `ACAPY_HARNESS_*` settings (CI
/// sets a whole matrix there): the test says what it runs.
fn harness() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_acapy-harness"));
    for (name, _) in std::env::vars() {
        if name.starts_with("ACAPY_HARNESS_") && name != "ACAPY_HARNESS_CACHE" {
            cmd.env_remove(name);
        }
    }
    cmd
}

/// A run of the library with `--agents both`: its JSON report.
fn both(version: &str, dir: &Path) -> Value {
    let report = dir.join("both.json");
    let out = harness()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "run",
            "scenarios",
            "--provider",
            "process",
            "--acapy",
            version,
        ])
        .args(["--agents", "both", "-j", "2", "--report-json"])
        .arg(&report)
        .output()
        .expect("the harness runs");
    let text = std::fs::read_to_string(&report).unwrap_or_else(|e| {
        panic!(
            "no report ({e}):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    serde_json::from_str(&text).unwrap()
}

/// Every scenario runs shared and dedicated; the verdicts differ only where
/// a scenario says they do (an `xfail` for shared agents: a multitenancy
/// defect of ACA-Py's), and that difference is reported as a finding.
#[test]
fn shared_and_dedicated_agents_differ_only_where_the_library_says_so() {
    let version = std::env::var("ACAPY_HARNESS_MODES_VERSION").unwrap_or("1.3.6".into());
    let dir = tempfile::tempdir().unwrap();
    let report = both(&version, dir.path());
    let cases = report["cases"].as_array().unwrap();
    let twins: BTreeMap<&str, &Value> = cases
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c))
        .collect();
    let shared: Vec<&Value> = cases
        .iter()
        .filter(|c| !c["name"].as_str().unwrap().ends_with("::dedicated"))
        .collect();
    assert!(shared.len() >= 20, "the library ran: {}", shared.len());
    for case in &shared {
        let name = case["name"].as_str().unwrap();
        assert!(
            twins.contains_key(format!("{name}::dedicated").as_str()),
            "{name} has no dedicated twin"
        );
    }
    // The modes really differ: most shared cases ran on sub-wallets, no
    // dedicated one did.
    let on_sub_wallets = shared.iter().filter(|c| c["agents"] == "shared").count();
    assert!(
        on_sub_wallets * 2 > shared.len(),
        "{on_sub_wallets} of {}",
        shared.len()
    );
    assert!(cases
        .iter()
        .filter(|c| c["name"].as_str().unwrap().ends_with("::dedicated"))
        .all(|c| c["agents"] != "shared"));
    // Each difference is one the library declares: an xfail for shared
    // agents, passing on agents of their own.
    let differences = report["mode_differences"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    // Each with the failures behind it, so that a rare one can be read.
    let failure_of = |name: &str| {
        twins
            .get(name)
            .and_then(|c| c["failure"]["diagnostic"].as_str())
            .unwrap_or("")
            .to_owned()
    };
    let undeclared: Vec<String> = differences
        .iter()
        .filter(|d| {
            !(d["shared"].as_str().unwrap().starts_with("xfail") && d["dedicated"] == "pass")
        })
        .map(|d| {
            let case = d["case"].as_str().unwrap_or_default();
            format!(
                "{d}\n--- shared:\n{}\n--- dedicated:\n{}",
                failure_of(case),
                failure_of(&format!("{case}::dedicated"))
            )
        })
        .collect();
    assert!(
        undeclared.is_empty(),
        "verdicts differ:\n{}",
        undeclared.join("\n")
    );
    let declared = std::process::Command::new("grep")
        .args(["-rl", "agents: shared", "scenarios"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let declaring = String::from_utf8_lossy(&declared.stdout).lines().count();
    assert_eq!(
        differences.len(),
        declaring,
        "one difference per scenario declaring one: {differences:?}"
    );
}
