//! The `acapy-harness` binary as a user meets it: exact error output for
//! broken scenarios, exit codes, and (with real ACA-Py) a failing expectation
//! and an interrupted run.
//!
//! `BLESS=1 cargo test --test cli` rewrites the expected outputs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn harness() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_acapy-harness"));
    // Plain output whatever the caller's environment asks for.
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("CLICOLOR_FORCE")
        .env_remove("NO_COLOR");
    // `run` reads its settings from the environment too (CI sets a whole
    // matrix there): each test says what it runs. The venv cache stays.
    for (name, _) in std::env::vars() {
        if name.starts_with("ACAPY_HARNESS_") && name != "ACAPY_HARNESS_CACHE" {
            cmd.env_remove(name);
        }
    }
    cmd
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Every `tests/broken/NAME.yaml` fails validation with exit code 2 and
/// exactly the message in `tests/broken/NAME.stderr`.
#[test]
fn broken_scenarios_give_exact_errors_and_exit_2() {
    let dir = manifest_dir().join("tests/broken");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 8, "broken scenarios missing: {files:?}");
    let bless = std::env::var_os("BLESS").is_some();
    let mut mismatches = Vec::new();
    for file in files {
        let relative = file.strip_prefix(manifest_dir()).unwrap();
        let out = harness().arg("validate").arg(relative).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}: {}",
            relative.display(),
            text(&out.stderr)
        );
        let expected_path = file.with_extension("stderr");
        let actual = text(&out.stderr);
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
                relative.display()
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn the_seed_scenario_validates_and_lists_without_starting_anything() {
    let out = harness().args(["validate", "scenarios"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = harness()
        .args([
            "list",
            "scenarios",
            "--provider",
            "process",
            "--acapy",
            "1.3.6,1.7.0",
            "-k",
            "issue-credential-v2/seed-flow",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "issue-credential-v2/seed-flow::process::1.3.6  [seed, issue-credential-v2, ld-proof, did-key]\n\
         issue-credential-v2/seed-flow::process::1.7.0  [seed, issue-credential-v2, ld-proof, did-key]\n"
    );
}

#[test]
fn bad_command_line_input_exits_2() {
    let out = harness().args(["run", "no/such/dir"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "error: no scenario file or folder at `no/such/dir`\n"
    );
    let out = harness()
        .args(["list", "--acapy", "latest"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("`latest` is not an ACA-Py version"));
    let out = harness()
        .args(["run", "scenarios", "--retries", "many"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("--retries"));
}

/// A copy of the seed scenario with one expected value changed.
fn mutated_seed(dir: &Path) -> (PathBuf, usize) {
    let seed = std::fs::read_to_string(
        manifest_dir().join("scenarios/issue-credential-v2/seed-flow.yaml"),
    )
    .unwrap();
    let target = "$.cred_value.credentialSubject.givenName: ALICE";
    let line = seed
        .lines()
        .position(|l| l.contains(target))
        .expect("seed asserts givenName")
        + 1;
    let path = dir.join("seed-flow-mutated.yaml");
    std::fs::write(
        &path,
        seed.replace(target, "$.cred_value.credentialSubject.givenName: BOB"),
    )
    .unwrap();
    (path, line)
}

/// Processes whose environment holds `marker` (agents inherit TMPDIR).
fn processes_with_env(marker: &str) -> Vec<u32> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Ok(env) = std::fs::read(entry.path().join("environ")) {
            if env.split(|b| *b == 0).any(|kv| kv == marker.as_bytes()) {
                pids.push(pid);
            }
        }
    }
    pids
}

/// Files called `name` anywhere under `dir`.
fn count_files(dir: &Path, name: &str) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| {
            let path = e.path();
            if path.is_dir() {
                count_files(&path, name)
            } else {
                usize::from(path.file_name().is_some_and(|n| n == name))
            }
        })
        .sum()
}

fn run_isolated(args: &[&str], tmp: &Path) -> Command {
    let mut cmd = harness();
    cmd.args(args).env("TMPDIR", tmp);
    cmd
}

#[test]
fn a_changed_expected_value_fails_with_file_line_and_actual_value() {
    a_changed_expected_value_fails_in("shared");
    a_changed_expected_value_fails_in("dedicated");
}

/// The failure, and nothing left after it, with agents in `mode`.
fn a_changed_expected_value_fails_in(mode: &str) {
    let scratch = tempfile::tempdir().unwrap();
    let (scenario, line) = mutated_seed(scratch.path());
    let tmp = scratch.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let out: Output = run_isolated(
        &[
            "run",
            "--provider",
            "process",
            "--agents",
            mode,
            scenario.to_str().unwrap(),
        ],
        &tmp,
    )
    .output()
    .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    let location = format!("{}:{line}:", scenario.display());
    assert!(stdout.contains(&location), "no {location} in:\n{stdout}");
    assert!(
        stdout.contains("expected: $.cred_value.credentialSubject.givenName equals \"BOB\""),
        "{stdout}"
    );
    assert!(stdout.contains("actual:   \"ALICE\""), "{stdout}");
    assert!(
        stdout.contains("response: GET http://127.0.0.1:"),
        "{stdout}"
    );
    assert!(stdout.contains("recent events (holder):"), "{stdout}");
    assert!(
        stdout.contains("summary: 0 passed, 1 failed, 0 skipped"),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("{mode} agents)")), "{stdout}");
    // Nothing left behind: no agent process, no wallet folder.
    let marker = format!("TMPDIR={}", tmp.display());
    assert_eq!(processes_with_env(&marker), Vec::<u32>::new());
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        0,
        "wallets left in {}",
        tmp.display()
    );
}

#[test]
fn ctrl_c_stops_dedicated_agents_and_removes_wallets() {
    // The harness and two agents; a wallet each.
    ctrl_c_stops_agents_in("dedicated", 3, 2);
}

#[test]
fn ctrl_c_stops_the_shared_agent_and_removes_its_wallets() {
    // The harness and the base agent; its wallet and the two sub-wallets.
    ctrl_c_stops_agents_in("shared", 2, 3);
}

/// Interrupts a run once `processes` (the harness included) run and
/// `wallets` wallet files exist, then checks nothing is left.
fn ctrl_c_stops_agents_in(mode: &str, processes: usize, wallets: usize) {
    let scratch = tempfile::tempdir().unwrap();
    let tmp = scratch.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let mut child = run_isolated(
        &[
            "run",
            "--provider",
            "process",
            "--agents",
            mode,
            "scenarios/issue-credential-v2/seed-flow.yaml",
        ],
        &tmp,
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let marker = format!("TMPDIR={}", tmp.display());
    // Wait until the agents run and have made their wallets, then interrupt.
    let deadline = Instant::now() + Duration::from_secs(120);
    while processes_with_env(&marker).len() < processes || count_files(&tmp, "sqlite.db") < wallets
    {
        assert!(Instant::now() < deadline, "agents never started");
        assert!(child.try_wait().unwrap().is_none(), "harness exited early");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Generated secrets travel by environment: no agent's command line (what
    // `ps` shows) carries a key.
    for pid in processes_with_env(&marker) {
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let cmdline = text(&cmdline).replace('\0', " ");
        for flag in ["--admin-api-key", "--wallet-key ", "--jwt-secret"] {
            assert!(!cmdline.contains(flag), "`{flag}` in `{cmdline}`");
        }
    }
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let deadline = Instant::now() + Duration::from_secs(10);
    while !processes_with_env(&marker).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        processes_with_env(&marker),
        Vec::<u32>::new(),
        "agents survived Ctrl-C"
    );
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        0,
        "wallets left behind"
    );
}

/// A scenario whose only step waits 120 s for an event that never comes.
const SLOW: &str = "name: Waits for an event that never comes
agents:
  alice: { label: Alice }
steps:
  - name: wait for nothing
    agent: alice
    wait:
      event: connections
      until: { $.state: never }
      timeout: 120s
";

/// Ctrl-C once: the passed case keeps its verdict, the running one is
/// reported as interrupted, the one not started as not run, every report
/// is written, exit 130, nothing left.
#[test]
fn an_interrupted_run_still_writes_its_reports() {
    let scratch = tempfile::tempdir().unwrap();
    let tmp = scratch.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let suite = scratch.path().join("suite");
    std::fs::create_dir(&suite).unwrap();
    let seed = manifest_dir().join("scenarios/issue-credential-v2/seed-flow.yaml");
    std::fs::copy(&seed, suite.join("a-seed.yaml")).unwrap();
    std::fs::write(suite.join("b-slow.yaml"), SLOW).unwrap();
    std::fs::copy(&seed, suite.join("c-later.yaml")).unwrap();
    let out = scratch.path().join("out");
    let (junit, json, md) = (
        out.join("junit.xml"),
        out.join("report.json"),
        out.join("matrix.md"),
    );
    let stdout_path = scratch.path().join("stdout");
    let mut child = run_isolated(
        &[
            "run",
            "--provider",
            "process",
            "-j",
            "1",
            suite.to_str().unwrap(),
            "--junit",
            junit.to_str().unwrap(),
            "--report-json",
            json.to_str().unwrap(),
            "--report-md",
            md.to_str().unwrap(),
        ],
        &tmp,
    )
    .stdout(std::fs::File::create(&stdout_path).unwrap())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    // The seed case passes, then the slow one starts and waits.
    let deadline = Instant::now() + Duration::from_secs(120);
    while !std::fs::read_to_string(&stdout_path)
        .unwrap_or_default()
        .contains("PASS  a-seed::")
    {
        assert!(Instant::now() < deadline, "the seed case never passed");
        assert!(child.try_wait().unwrap().is_none(), "harness exited early");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_secs(2));
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let status = child.wait().unwrap();
    let stdout = std::fs::read_to_string(&stdout_path).unwrap();
    assert_eq!(status.code(), Some(130), "{stdout}");
    assert!(
        stdout.contains("INTERRUPTED b-slow::process::1.3.6"),
        "{stdout}"
    );
    assert!(
        stdout.contains("interrupted: 1 case(s) cut short, 1 not started"),
        "{stdout}"
    );

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let statuses: Vec<(&str, &str)> = report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("a-seed::process::1.3.6", "pass"),
            ("b-slow::process::1.3.6", "interrupted"),
            ("c-later::process::1.3.6", "interrupted"),
        ]
    );
    assert_eq!(report["summary"]["interrupted"], 2);

    let xml = std::fs::read_to_string(&junit).unwrap();
    let junit = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    assert_eq!(
        (junit.tests, junit.errors, junit.skipped),
        (3, 1, 1),
        "{xml}"
    );
    let slow = junit.test_suites[0]
        .test_cases
        .iter()
        .find(|c| c.name.as_str() == "b-slow")
        .unwrap();
    assert!(
        matches!(&slow.status, quick_junit::TestCaseStatus::NonSuccess { kind, .. }
            if *kind == quick_junit::NonSuccessKind::Error),
        "{xml}"
    );

    let md = std::fs::read_to_string(&md).unwrap();
    assert!(md.contains("### Interrupted"), "{md}");
    assert!(
        md.contains("- 🛑 `b-slow::process::1.3.6`: the run was interrupted while it ran"),
        "{md}"
    );
    assert!(md.contains("| `c-later` | Issue"), "{md}");
    assert!(md.contains("🛑 not run"), "{md}");

    // Nothing left behind.
    let marker = format!("TMPDIR={}", tmp.display());
    let deadline = Instant::now() + Duration::from_secs(10);
    while !processes_with_env(&marker).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(processes_with_env(&marker), Vec::<u32>::new());
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        0,
        "wallets left behind"
    );
}

/// The cases `list` prints for `extra` arguments, on two versions.
fn listed(extra: &[&str]) -> Vec<String> {
    let out = harness()
        .args([
            "list",
            "scenarios",
            "--provider",
            "process",
            "--acapy",
            "1.3.6,1.7.0",
        ])
        .args(extra)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout).lines().map(str::to_owned).collect()
}

#[test]
fn partitions_are_disjoint_and_make_up_the_whole_list() {
    let all = listed(&[]);
    assert!(all.len() > 10, "{all:?}");
    let parts: Vec<Vec<String>> = (1..=3)
        .map(|k| listed(&["--partition", &format!("{k}/3")]))
        .collect();
    let mut union: Vec<String> = parts.concat();
    let before = union.len();
    union.sort();
    union.dedup();
    assert_eq!(union.len(), before, "a case is in two parts: {parts:?}");
    let mut expected = all.clone();
    expected.sort();
    assert_eq!(union, expected);
    for part in &parts {
        assert!(!part.is_empty(), "an empty part: {parts:?}");
        // A scenario's cases stay together: both versions in the same part.
        for case in part {
            let twin = match case.strip_suffix("::1.3.6") {
                Some(scenario) => format!("{scenario}::1.7.0"),
                None => case.replace("::1.7.0", "::1.3.6"),
            };
            assert!(part.contains(&twin), "{case} without {twin}");
        }
    }
    // The same split on every run; with -k, the part of the filtered cases.
    assert_eq!(listed(&["--partition", "2/3"]), parts[1]);
    let seed: Vec<String> = listed(&["-k", "issue-credential-v2/seed-flow", "--partition", "1/1"]);
    assert_eq!(seed.len(), 2);

    for bad in ["0/3", "4/3", "three"] {
        let out = harness()
            .args(["list", "scenarios", "--partition", bad])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(
            text(&out.stderr).contains("--partition"),
            "{}",
            text(&out.stderr)
        );
    }
}

/// A minimal JSON report of one case.
fn json_report(scenario: &str, version: &str, status: &str, ms: u64) -> String {
    let mut case = serde_json::json!({
        "name": format!("{scenario}::process::{version}"),
        "scenario": scenario,
        "scenario_name": scenario,
        "file": format!("scenarios/{scenario}.yaml"),
        "target": format!("process::{version}"),
        "provider": "process",
        "requested_version": version,
        "acapy_version": version,
        "agents": "shared",
        "roles": [],
        "status": status,
        "duration_ms": 1500,
        "steps": [],
    });
    if status == "skip" {
        case["reason"] = "requires something".into();
    }
    serde_json::json!({
        "version": 2,
        "summary": { "duration_ms": ms },
        "cases": [case],
    })
    .to_string()
}

#[test]
fn report_merge_makes_one_matrix_of_several_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = [
        ("a.json", json_report("seed", "1.3.6", "pass", 4000)),
        ("b.json", json_report("seed", "1.7.0", "pass", 9000)),
        ("c.json", json_report("other", "1.7.0", "skip", 1000)),
    ];
    for (name, text) in &inputs {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let out = harness()
        .current_dir(dir.path())
        .args(["report", "merge", "matrix.md", "a.json", "b.json", "c.json"])
        .args(["--json", "merged.json", "--junit", "merged.xml"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "merged 3 case(s) from 3 report(s): 2 passed, 0 failed, 1 skipped\n"
    );
    let md = std::fs::read_to_string(dir.path().join("matrix.md")).unwrap();
    assert!(
        md.contains("| Scenario | Name | process::1.3.6 | process::1.7.0 |"),
        "{md}"
    );
    assert!(md.contains("| `seed` | seed | ✅ 1.5s | ✅ 1.5s |"), "{md}");
    assert!(md.contains("| `other` | other | — | ⏭️ skip |"), "{md}");
    assert!(md.contains("in 9.0s"), "the longest job: {md}");
    let merged: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("merged.json")).unwrap())
            .unwrap();
    assert_eq!(merged["cases"].as_array().unwrap().len(), 3);
    let xml = std::fs::read_to_string(dir.path().join("merged.xml")).unwrap();
    let junit = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    assert_eq!((junit.tests, junit.skipped), (3, 1));

    // A file that is not a report: exit 2, naming it.
    std::fs::write(dir.path().join("bad.json"), "[]").unwrap();
    let out = harness()
        .current_dir(dir.path())
        .args(["report", "merge", "m.md", "a.json", "bad.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).starts_with("error: cannot read bad.json: "),
        "{}",
        text(&out.stderr)
    );
}

/// Every `tests/warnings/NAME.yaml` validates (exit 0) with exactly the
/// warnings of `tests/warnings/NAME.stderr`: an event topic no ACA-Py line
/// sends is said at load time, with the topic meant or what to poll.
#[test]
fn suspicious_scenarios_load_with_exact_warnings() {
    let dir = manifest_dir().join("tests/warnings");
    let bless = std::env::var_os("BLESS").is_some();
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let relative = path.strip_prefix(manifest_dir()).unwrap();
        let out = harness().arg("validate").arg(relative).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(
            text(&out.stdout).contains("warning(s)"),
            "{}",
            text(&out.stdout)
        );
        let expected = path.with_extension("stderr");
        if bless {
            std::fs::write(&expected, &out.stderr).unwrap();
        } else {
            assert_eq!(
                text(&out.stderr),
                std::fs::read_to_string(&expected).unwrap(),
                "{} (BLESS=1 rewrites it)",
                relative.display()
            );
        }
        checked += 1;
    }
    assert!(checked >= 1);
}

/// `validate --acapy 0.12.8` checks each request against 0.12.8's cached
/// document, without starting anything: a step to an operation 0.12.8
/// lacks is an error naming it (exit 2); without a cached document it says
/// so and checks the rest.
#[test]
fn validate_checks_operations_against_a_versions_cached_document() {
    use acapy_harness::contract::{DocumentCache, DocumentKey, SourceKind};
    let cache = tempfile::tempdir().unwrap();
    let document: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(manifest_dir().join("tests/contract/swagger/0.12.8-askar.json"))
            .unwrap(),
    )
    .unwrap();
    DocumentCache::new(cache.path().join("contract"))
        .store(
            &DocumentKey::new(SourceKind::Process, "0.12.8", "askar", false, &[]),
            &document,
        )
        .unwrap();
    let out = harness()
        .env("ACAPY_HARNESS_CACHE", cache.path())
        .args(["validate", "tests/failing/contract-unknown-operation.yaml"])
        .args(["--acapy", "0.12.8,1.1.1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("error: POST /anoncreds/wallet/upgrade is not in ACA-Py 0.12.8's admin API\n  --> tests/failing/contract-unknown-operation.yaml:12:11"),
        "{stderr}"
    );
    assert!(
        text(&out.stdout).contains("no cached API document for ACA-Py 1.1.1"),
        "{}",
        text(&out.stdout)
    );
    // The seed flow's requests are all 0.12.8 operations.
    let out = harness()
        .env("ACAPY_HARNESS_CACHE", cache.path())
        .args([
            "validate",
            "scenarios/issue-credential-v2/seed-flow.yaml",
            "--acapy",
            "0.12.8",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

/// `api diff 0.12.8 1.7.0` from cached documents: the v1.0 issue-credential
/// and present-proof operations are removed, the key operations added.
#[test]
fn api_diff_names_what_changed_between_two_versions() {
    use acapy_harness::contract::{DocumentCache, DocumentKey, SourceKind};
    let cache = tempfile::tempdir().unwrap();
    let store = DocumentCache::new(cache.path().join("contract"));
    for version in ["0.12.8", "1.7.0"] {
        let file = manifest_dir().join(format!("tests/contract/swagger/{version}-askar.json"));
        let document: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        let key = DocumentKey::new(SourceKind::Process, version, "askar", false, &[]);
        store.store(&key, &document).unwrap();
    }
    let out = harness()
        .env("ACAPY_HARNESS_CACHE", cache.path())
        .args(["api", "diff", "0.12.8", "1.7.0"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let diff = text(&out.stdout);
    assert!(
        diff.starts_with("ACA-Py 0.12.8 → 1.7.0: 9 operations added, 28 removed"),
        "{diff}"
    );
    for removed in [
        "- POST /issue-credential/send",
        "- POST /issue-credential/records/{cred_ex_id}/issue",
        "- POST /present-proof/send-request",
        "- POST /present-proof/records/{pres_ex_id}/verify-presentation",
    ] {
        assert!(diff.contains(removed), "`{removed}` in:\n{diff}");
    }
    assert!(diff.contains("+ POST /wallet/keys"), "{diff}");
}

#[test]
fn colour_only_when_asked_or_forced() {
    let broken = "tests/broken/bad-jsonpath.yaml";
    assert!(manifest_dir().join(broken).is_file());
    let stderr = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = harness();
        cmd.args(["validate", broken]).args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        text(&out.stderr)
    };
    let plain = stderr(&[], &[]);
    assert!(plain.starts_with("error: "), "{plain}");
    assert!(!plain.contains('\x1b'), "a pipe gets no colour: {plain:?}");
    let painted = stderr(&["--color", "always"], &[]);
    assert!(
        painted.starts_with("\x1b[1;31merror:\x1b[0m "),
        "{painted:?}"
    );
    assert_eq!(
        painted.replace("\x1b[1;31m", "").replace("\x1b[0m", ""),
        plain
    );
    assert_eq!(stderr(&[], &[("CLICOLOR_FORCE", "1")]), painted);
    assert_eq!(
        stderr(&[], &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]),
        plain
    );
    assert_eq!(
        stderr(&["--color", "never"], &[("CLICOLOR_FORCE", "1")]),
        plain
    );
}

/// `acapy-harness list | head -1`: the reader goes away; no panic, exit 0.
#[test]
fn list_into_a_closed_pipe_exits_quietly() {
    let mut child = harness()
        .args(["list", "scenarios", "--provider", "process"])
        .args(["--acapy", "0.12.8,1.3.6,1.7.0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Closed before the harness has even read its scenarios.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "");
}

/// A run whose stdout closes ends like an interrupted one, silently: the
/// running case is ended, the reports are written, nothing is left.
#[test]
fn a_run_whose_output_closes_ends_quietly_and_cleans_up() {
    use std::io::BufRead;
    let scratch = tempfile::tempdir().unwrap();
    let tmp = scratch.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let suite = scratch.path().join("suite");
    std::fs::create_dir(&suite).unwrap();
    let seed = manifest_dir().join("scenarios/issue-credential-v2/seed-flow.yaml");
    std::fs::copy(&seed, suite.join("a-seed.yaml")).unwrap();
    std::fs::write(suite.join("b-slow.yaml"), SLOW).unwrap();
    let json = scratch.path().join("report.json");
    let mut child = run_isolated(
        &[
            "run",
            "--provider",
            "process",
            "-j",
            "2",
            suite.to_str().unwrap(),
        ],
        &tmp,
    )
    .args(["--report-json", json.to_str().unwrap()])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert_eq!(first, "running 2 case(s), 2 at a time\n");
    // Both cases run (the base agent, its wallet and the sub-wallets), then
    // the reader goes away before the seed case's line is written.
    let marker = format!("TMPDIR={}", tmp.display());
    let deadline = Instant::now() + Duration::from_secs(120);
    while processes_with_env(&marker).len() < 2 || count_files(&tmp, "sqlite.db") < 3 {
        assert!(Instant::now() < deadline, "agents never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("interrupted"), "silently: {stderr}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["cases"][1]["name"], "b-slow::process::1.3.6");
    assert_eq!(report["cases"][1]["status"], "interrupted");

    let deadline = Instant::now() + Duration::from_secs(10);
    while !processes_with_env(&marker).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(processes_with_env(&marker), Vec::<u32>::new());
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0, "wallets left");
}

#[test]
fn release_candidates_are_versions_in_pep_440_spelling() {
    let out = harness()
        .args([
            "list",
            "scenarios",
            "-k",
            "issue-credential-v2/seed-flow",
            "--provider",
            "process",
        ])
        .args(["--acapy", "1.4.0-rc.1,1.4.0rc2,1.4.0"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Each line is the case name, then its tags.
    let names: Vec<String> = text(&out.stdout)
        .lines()
        .map(|l| l.split("  [").next().unwrap_or(l).to_owned())
        .collect();
    assert_eq!(
        names,
        [
            "issue-credential-v2/seed-flow::process::1.4.0rc1",
            "issue-credential-v2/seed-flow::process::1.4.0rc2",
            "issue-credential-v2/seed-flow::process::1.4.0"
        ]
    );
    let out = harness()
        .args(["list", "scenarios", "--acapy", "1.4.0.dev1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("`1.4.0.dev1` is not an ACA-Py version"));
}

/// A second Ctrl-C does not wait for the reports. The JSON report goes to a
/// FIFO nobody reads, so after the first Ctrl-C the run is stuck writing it;
/// the second one sweeps and exits.
#[test]
fn a_second_ctrl_c_stops_at_once() {
    let scratch = tempfile::tempdir().unwrap();
    let tmp = scratch.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let slow = scratch.path().join("slow.yaml");
    std::fs::write(&slow, SLOW).unwrap();
    let fifo = scratch.path().join("report.json");
    let path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0);
    let mut child = run_isolated(
        &["run", "--provider", "process", slow.to_str().unwrap()],
        &tmp,
    )
    .args(["--report-json", fifo.to_str().unwrap()])
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let marker = format!("TMPDIR={}", tmp.display());
    let deadline = Instant::now() + Duration::from_secs(120);
    while processes_with_env(&marker).len() < 2 || count_files(&tmp, "sqlite.db") < 2 {
        assert!(Instant::now() < deadline, "agents never started");
        assert!(child.try_wait().unwrap().is_none(), "harness exited early");
        std::thread::sleep(Duration::from_millis(50));
    }
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the first Ctrl-C should leave it writing the report"
    );
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let deadline = Instant::now() + Duration::from_secs(10);
    while !processes_with_env(&marker).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(processes_with_env(&marker), Vec::<u32>::new());
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0, "wallets left");
}

#[test]
fn a_suite_config_sets_defaults_and_flags_override_it() {
    let suite = tempfile::tempdir().unwrap();
    std::fs::copy(
        manifest_dir().join("scenarios/issue-credential-v2/seed-flow.yaml"),
        suite.path().join("seed.yaml"),
    )
    .unwrap();
    std::fs::write(
        suite.path().join("acapy-harness.yaml"),
        "acapy: [0.12.8, 1.7.0]\nprovider: process\njobs: 1\nretries: 2\n",
    )
    .unwrap();
    let dir = suite.path().to_str().unwrap();
    let out = harness().args(["list", dir]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let tags = "  [seed, issue-credential-v2, ld-proof, did-key]";
    assert_eq!(
        text(&out.stdout),
        format!("seed::process::0.12.8{tags}\nseed::process::1.7.0{tags}\n")
    );
    let out = harness()
        .args(["list", dir, "--acapy", "1.6.2"])
        .output()
        .unwrap();
    assert_eq!(text(&out.stdout), format!("seed::process::1.6.2{tags}\n"));

    std::fs::write(
        suite.path().join("acapy-harness.yaml"),
        "acapy: [1.7.0]\nprovidr: docker\n",
    )
    .unwrap();
    let out = harness().args(["list", dir]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("error: unknown field `providr`"),
        "{stderr}"
    );
    assert!(stderr.contains("acapy-harness.yaml:2:1"), "{stderr}");
}

#[test]
fn auto_provider_falls_back_to_processes_and_says_why() {
    let out = harness()
        .args([
            "list",
            "scenarios",
            "-k",
            "issue-credential-v2/seed-flow",
            "--provider",
            "auto",
            "--acapy",
            "1.7.0",
            "--image",
            "acapy-harness/no-such-image:0",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "issue-credential-v2/seed-flow::process::1.7.0  [seed, issue-credential-v2, ld-proof, did-key]\n"
    );
    let stderr = text(&out.stderr);
    // Either no engine answers here, or the image is missing: both say so.
    assert!(
        stderr.starts_with("acapy-harness: ACA-Py 1.7.0 as local processes ("),
        "{stderr}"
    );
    assert!(
        stderr.contains("Docker engine not reachable")
            || stderr.contains("no image acapy-harness/no-such-image:0"),
        "{stderr}"
    );
}

/// A scenario may use variables that only `--var`, `--vars-file` or
/// `--secret` set; without them it does not load.
#[test]
fn variables_from_outside_count_as_defined() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("needs-vars.yaml");
    std::fs::write(
        &scenario,
        "agents: { a: {} }\nsteps:\n  - { agent: a, get: \"/x/${tenant}\", headers: { X-Token: \"${token}\" } }\n",
    )
    .unwrap();
    let vars_file = dir.path().join("vars.yaml");
    std::fs::write(&vars_file, "tenant: acme\n").unwrap();
    let path = scenario.to_str().unwrap();

    let out = harness().args(["validate", path]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("undefined variable `tenant`"), "{stderr}");
    assert!(stderr.contains("undefined variable `token`"), "{stderr}");

    let out = harness()
        .args(["validate", path, "--var", "tenant=acme", "--secret"])
        .arg("token=s3cr3t")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));

    let out = harness()
        .args(["list", path, "--provider", "process", "--acapy", "1.3.6"])
        .args([
            "--vars-file",
            vars_file.to_str().unwrap(),
            "--var",
            "token=t",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));

    let out = harness()
        .args(["validate", path, "--var", "tenant"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "error: --var `tenant`: expected NAME=VALUE\n"
    );
}

/// `--tag` (any of) and `--skip-tag` pick scenarios by their `tags`; `list`
/// shows them.
#[test]
fn tags_select_scenarios_and_list_shows_them() {
    let dir = tempfile::tempdir().unwrap();
    for (name, tags) in [
        ("a", "[smoke, connections]"),
        ("b", "[connections, slow]"),
        ("c", "[]"),
    ] {
        std::fs::write(
            dir.path().join(format!("{name}.yaml")),
            format!(
                "tags: {tags}\nagents: {{ x: {{}} }}\nsteps:\n  - {{ agent: x, get: /status }}\n"
            ),
        )
        .unwrap();
    }
    let list = |extra: &[&str]| {
        let out = harness()
            .args(["list", dir.path().to_str().unwrap()])
            .args(["--provider", "process", "--acapy", "1.3.6"])
            .args(extra)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    assert_eq!(
        list(&[]),
        "a::process::1.3.6  [smoke, connections]\n\
         b::process::1.3.6  [connections, slow]\n\
         c::process::1.3.6\n"
    );
    assert_eq!(
        list(&["--tag", "connections"]),
        "a::process::1.3.6  [smoke, connections]\nb::process::1.3.6  [connections, slow]\n"
    );
    assert_eq!(
        list(&["--tag", "smoke", "--tag", "slow"]),
        "a::process::1.3.6  [smoke, connections]\nb::process::1.3.6  [connections, slow]\n"
    );
    assert_eq!(
        list(&["--skip-tag", "slow"]),
        "a::process::1.3.6  [smoke, connections]\nc::process::1.3.6\n"
    );
    assert_eq!(
        list(&["--tag", "connections", "--skip-tag", "smoke"]),
        "b::process::1.3.6  [connections, slow]\n"
    );
    assert_eq!(list(&["--tag", "none"]), "");
}

/// The cheqd profile loads here without its secret or images, and a run of
/// it skips every case, naming what is missing, with exit code 0. A run of
/// the library leaves the profile out: it is a suite of its own.
#[test]
fn the_cheqd_profile_validates_and_its_cases_skip_here() {
    let validated = harness()
        .args(["validate", "scenarios/cheqd"])
        .env_remove("FEE_PAYER_TESTNET_MNEMONIC")
        .output()
        .unwrap();
    assert!(validated.status.success(), "{validated:?}");
    assert_eq!(text(&validated.stdout).trim(), "3 scenario(s) OK");

    let tmp = tempfile::tempdir().unwrap();
    let run = harness()
        .args(["run", "scenarios/cheqd", "--report-json"])
        .arg(tmp.path().join("cheqd.json"))
        .env_remove("FEE_PAYER_TESTNET_MNEMONIC")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0), "{run:?}");
    let stdout = text(&run.stdout);
    assert!(stdout.contains("0 passed, 0 failed, 3 skipped"), "{stdout}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("cheqd.json")).unwrap())
            .unwrap();
    let cases = report["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 3);
    for case in cases {
        let reason = case["reason"].as_str().unwrap_or_default();
        // Here: the plugin's image is not built; without an engine, Docker.
        assert!(
            reason.contains("acapy-harness/acapy-cheqd:1.3.6") || reason.contains("Docker"),
            "{case}"
        );
        assert_eq!(reason.lines().count(), 1, "{reason}");
    }

    let library = harness().args(["list", "scenarios"]).output().unwrap();
    assert!(library.status.success(), "{library:?}");
    assert!(
        !text(&library.stdout).contains("cheqd"),
        "{}",
        text(&library.stdout)
    );
}

/// `requires: { plugins }` is judged from the agents' `GET /plugins`: a
/// module ACA-Py loads lets the case run, one it does not skips it.
#[test]
fn required_plugins_are_judged_from_the_running_agents() {
    let tmp = tempfile::tempdir().unwrap();
    let write = |name: &str, plugin: &str| {
        let path = tmp.path().join(name);
        std::fs::write(
            &path,
            format!(
                "requires: {{ plugins: [{plugin}] }}\nagents: {{ issuer: {{}} }}\nsteps:\n  - get: /plugins\n    agent: issuer\n    expect: {{ $.result: {{ contains: acapy_agent.protocols.basicmessage }} }}\n"
            ),
        )
        .unwrap();
        path
    };
    let loaded = write("loaded.yaml", "acapy_agent.protocols");
    let missing = write("missing.yaml", "no_such_plugin");
    let run = run_isolated(
        &["run", "--provider", "process", "--acapy", "1.3.6"],
        tmp.path(),
    )
    .arg(&loaded)
    .arg(&missing)
    .output()
    .unwrap();
    let stdout = text(&run.stdout);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&run.stderr)
    );
    assert!(stdout.contains("PASS  loaded::process::1.3.6"), "{stdout}");
    assert!(
        stdout.contains(
            "requires plugin `no_such_plugin`, which `issuer` does not load (GET /plugins)"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("1 passed, 0 failed, 1 skipped"), "{stdout}");
}
