//! Shared agents are a speed-up, not a different test: the whole library on
//! one version gives every scenario the same verdict (pass, fail, skip,
//! xfail) with `--agents shared` as with `--agents dedicated`.
//!
//! `cargo test --test modes` (real ACA-Py: `ACAPY_HARNESS_MODES_VERSION`,
//! default 1.3.6, as processes; about a minute).

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

/// Each case's status and agent mode, from a run's JSON report.
fn verdicts(mode: &str, version: &str, dir: &Path) -> BTreeMap<String, (String, String)> {
    let report = dir.join(format!("{mode}.json"));
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
        .args(["--agents", mode, "-j", "2", "--report-json"])
        .arg(&report)
        .output()
        .expect("the harness runs");
    let text = std::fs::read_to_string(&report).unwrap_or_else(|e| {
        panic!(
            "no report from the {mode} run ({e}):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let report: Value = serde_json::from_str(&text).unwrap();
    report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|case| {
            let field = |name: &str| case[name].as_str().unwrap_or("none").to_owned();
            (field("name"), (field("status"), field("agents")))
        })
        .collect()
}

#[test]
fn every_scenario_gets_the_same_verdict_on_shared_and_dedicated_agents() {
    let version = std::env::var("ACAPY_HARNESS_MODES_VERSION").unwrap_or("1.3.6".into());
    let dir = tempfile::tempdir().unwrap();
    let shared = verdicts("shared", &version, dir.path());
    let dedicated = verdicts("dedicated", &version, dir.path());
    assert!(shared.len() >= 20, "the library ran: {shared:?}");
    assert_eq!(
        shared.keys().collect::<Vec<_>>(),
        dedicated.keys().collect::<Vec<_>>(),
        "the same cases"
    );
    let differing: Vec<String> = shared
        .iter()
        .filter(|(name, (status, _))| dedicated[*name].0 != *status)
        .map(|(name, (status, _))| {
            format!("{name}: shared {status}, dedicated {}", dedicated[name].0)
        })
        .collect();
    assert!(
        differing.is_empty(),
        "verdicts differ:\n{}",
        differing.join("\n")
    );
    // The modes really differ: most shared cases ran on sub-wallets, no
    // dedicated case did.
    let on_sub_wallets = shared.values().filter(|(_, m)| m == "shared").count();
    assert!(on_sub_wallets * 2 > shared.len(), "{shared:?}");
    assert!(
        dedicated.values().all(|(_, m)| m != "shared"),
        "{dedicated:?}"
    );
}
