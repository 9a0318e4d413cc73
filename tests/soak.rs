//! `run --rounds N` (bench/soak.sh) against real ACA-Py (1.3.6 as
//! processes): the rounds share their base agents, and each round's line of
//! the soak log gives its figures, its sub-wallets (none left) and the
//! verdicts that changed (none); the base agent goes with the run.
//!
//! `cargo test --test soak` (needs `acapy-harness install --acapy 1.3.6`,
//! which `.ci/run` does; about half a minute).

use serde_json::Value;
use std::process::Command;

/// The binary, with none of the caller's `ACAPY_HARNESS_*` settings (CI
/// sets a whole matrix there): the test says what it runs.
fn harness() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_acapy-harness"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    for (name, _) in std::env::vars() {
        if name.starts_with("ACAPY_HARNESS_") && name != "ACAPY_HARNESS_CACHE" {
            cmd.env_remove(name);
        }
    }
    cmd
}

#[test]
fn rounds_share_their_base_agents_and_report_what_they_hold() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("rounds.jsonl");
    let out = harness()
        .args([
            "run",
            "scenarios/issue-credential-v2/seed-flow.yaml",
            "scenarios/server",
            "--provider",
            "process",
            "--acapy",
            "1.3.6",
            "--agents",
            "shared",
            "-j",
            "2",
            "--rounds",
            "3",
            "--soak-log",
        ])
        .arg(&log)
        .output()
        .expect("the harness runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let rounds: Vec<Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(rounds.len(), 3, "{stderr}");
    let mut pids = Vec::new();
    for (n, round) in rounds.iter().enumerate() {
        assert_eq!(round["round"], n + 1);
        assert_eq!(round["of"], 3);
        assert_eq!(
            round["verdicts"],
            serde_json::json!({ "pass": 2 }),
            "{round}"
        );
        assert_eq!(round["changed"], serde_json::json!([]), "{round}");
        assert_eq!(round["failed"], serde_json::json!([]), "{round}");
        assert!(round["harness"]["rss_kib"].as_u64().unwrap() > 0, "{round}");
        let bases = round["bases"].as_array().unwrap();
        // -j 2: one base agent, or two when both cases ran at once.
        assert!((1..=2).contains(&bases.len()), "{round}");
        let mut these = Vec::new();
        for base in bases {
            assert_eq!(base["label"], "process::1.3.6");
            assert_eq!(base["sub_wallets"], serde_json::json!([]), "{round}");
            assert!(base["rss_kib"].as_u64().unwrap() > 10_000, "{round}");
            assert!(base["fds"].as_u64().unwrap() > 0, "{round}");
            assert!(base["sockets"].as_u64().unwrap() > 0, "{round}");
            // Its own wallet and each removed sub-wallet's (ACA-Py leaves them).
            assert!(base["wallet_dirs"].as_u64().unwrap() >= 1, "{round}");
            these.push(base["pid"].as_u64().unwrap());
        }
        pids.push(these);
    }
    // A base agent started in round 1 is kept: later rounds reuse it.
    assert!(
        pids.windows(2)
            .all(|w| w[0].iter().all(|p| w[1].contains(p))),
        "the same base agents: {pids:?}"
    );
    assert!(
        stderr.contains("soak round 3/3") && stderr.contains("0 sub-wallets left"),
        "{stderr}"
    );
    for pid in pids.concat() {
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists(),
            "the base agents go with the run"
        );
    }
}

#[test]
fn rounds_are_at_least_one_and_the_log_needs_them() {
    let zero = harness()
        .args(["run", "scenarios", "--rounds", "0"])
        .output()
        .unwrap();
    assert_eq!(zero.status.code(), Some(2));
    let log_alone = harness()
        .args(["run", "scenarios", "--soak-log", "x.jsonl"])
        .output()
        .unwrap();
    assert_eq!(log_alone.status.code(), Some(2));
}
