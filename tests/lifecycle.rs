//! Agents that go away in the middle of a case, against real ACA-Py (1.3.6
//! as processes): a killed agent fails its case at once, naming the role and
//! why; `stop:` then a request names the step that stopped it.
//!
//! `cargo test --test lifecycle`

use acapy_harness::admin::AdminClient;
use acapy_harness::agents::process::ProcessProvider;
use acapy_harness::agents::version::Release;
use acapy_harness::agents::{AgentSpec, Provider, Scope};
use acapy_harness::report::console::render_failure;
use acapy_harness::run::outcome::{CaseResult, Status};
use acapy_harness::run::{run_case, RunOptions};
use acapy_harness::scenario::load::{load, Found};
use acapy_harness::suite::cases;
use std::sync::Arc;
use std::time::{Duration, Instant};

async fn run(yaml: &str) -> CaseResult {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("case.yaml");
    std::fs::write(&file, yaml).unwrap();
    let scenario = load(&Found {
        root: dir.path().to_path_buf(),
        file,
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let process: Arc<dyn Provider> =
        Arc::new(ProcessProvider::new(Release::parse("1.3.6").unwrap()));
    let case = &cases(&[Arc::new(scenario)], &[process])[0];
    run_case(case, &RunOptions::default()).await
}

/// The pid and admin port of the `aca-py` started with `--label LABEL`.
fn pid_labelled(label: &str) -> Option<(i32, String)> {
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
        if args
            .windows(2)
            .any(|w| w[0] == b"--label" && w[1] == label.as_bytes())
        {
            let port = args.windows(3).find(|w| w[0] == b"--admin")?[2];
            return Some((pid, String::from_utf8_lossy(port).into_owned()));
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_agent_fails_its_case_at_once_naming_the_role_and_the_signal() {
    let label = format!("doomed-holder-{}", std::process::id());
    let yaml = format!(
        r#"
name: The holder dies while the issuer waits on it
agents:
  issuer: {{ label: Issuer }}
  holder: {{ label: {label} }}
steps:
  - name: The holder is up
    agent: holder
    get: /status/ready
  - name: Wait for an event that never comes
    agent: holder
    wait: {{ event: connections, until: {{ $.state: active }}, timeout: 60s }}
"#
    );
    let killer = tokio::spawn(async move {
        // Once the holder answers (any status: the key is not needed to
        // know it is up) and the case is into its wait, SIGKILL it.
        let http = reqwest::Client::new();
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let Some((pid, port)) = pid_labelled(&label) else {
                continue;
            };
            let url = format!("http://127.0.0.1:{port}/status/ready");
            if http.get(&url).send().await.is_ok() {
                tokio::time::sleep(Duration::from_millis(1500)).await;
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                }
                return Instant::now();
            }
        }
    });
    let result = run(&yaml).await;
    let killed_at = killer.await.unwrap();
    let after_kill = killed_at.elapsed();
    assert_eq!(result.status, Status::Failed, "{}", render_failure(&result));
    let text = render_failure(&result);
    assert!(
        text.contains("holder exited (signal: 9 (SIGKILL))"),
        "{text}"
    );
    assert!(
        text.contains("step 2: `Wait for an event that never comes` on holder"),
        "{text}"
    );
    // Not the 60 s timeout: the stream closing ends the wait.
    assert!(
        after_kill < Duration::from_secs(2),
        "took {after_kill:?} after the kill"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_to_a_stopped_agent_says_it_was_stopped_and_restart_brings_it_back() {
    let yaml = r#"
name: Stop, fail to reach, and a separate case restarts
agents:
  holder: { label: Holder }
steps:
  - name: Create a DID before stopping
    agent: holder
    post: /wallet/did/create
    body: { method: key, options: { key_type: ed25519 } }
    capture: { did: $.result.did }
  - stop: holder
  - name: Ask the stopped holder
    agent: holder
    get: /wallet/did
"#;
    let result = run(yaml).await;
    let text = render_failure(&result);
    assert_eq!(result.status, Status::Failed, "{text}");
    assert!(
        text.contains("GET /wallet/did failed: holder was stopped by a `stop` step"),
        "{text}"
    );

    let restarted = run(r#"
name: The DID survives a restart
agents:
  holder: { label: Holder }
steps:
  - name: Create a DID
    agent: holder
    post: /wallet/did/create
    body: { method: key, options: { key_type: ed25519 } }
    capture: { did: $.result.did }
  - restart: holder
  - name: The DID is still in the wallet
    agent: holder
    get: /wallet/did
    query: { did: "${did}" }
    expect:
      $.results: { length: 1 }
      $.results[0].did: ${did}
"#)
    .await;
    assert_eq!(
        restarted.status,
        Status::Passed,
        "{}",
        render_failure(&restarted)
    );
}

/// An agent lives as long as the harness needs it, whatever thread asked
/// for it: under `cargo test` a case runs on a libtest worker thread, which
/// ends when the list of tests runs dry, and a shared base agent started
/// there must keep serving the cases still running on the other workers.
#[test]
fn an_agent_started_from_a_thread_that_then_ends_keeps_answering() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let provider = Arc::new(ProcessProvider::new(Release::parse("1.3.6").unwrap()));
    let spec = AgentSpec {
        role: "holder".into(),
        label: "Holder".into(),
        ..AgentSpec::default()
    };
    let (handle, starter) = (runtime.handle().clone(), provider.clone());
    let mut agent = std::thread::spawn(move || {
        let started = handle.block_on(starter.start(&[spec], &Scope::standalone("thread-ends")));
        started.expect("the agent starts").remove(0)
    })
    .join()
    .unwrap();
    // The parent-death signal is delivered as the thread ends; allow for it.
    std::thread::sleep(Duration::from_millis(500));
    let answered = runtime.block_on(async {
        let gone = agent.handle.gone().await;
        let status = AdminClient::new(&agent.admin).get_json("/status").await;
        agent.handle.stop().await;
        (gone, status.map(|s| s["version"].clone()))
    });
    assert_eq!(answered.0, None, "the agent ended with its thread");
    assert_eq!(answered.1.ok(), Some(serde_json::json!("1.3.6")));
}

/// The pids of `root`'s descendants whose command line holds `flag`.
fn descendants_with(root: u32, flag: &str) -> Vec<i32> {
    let parent_of = |pid: i32| -> Option<i32> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // After the command's `)`: state, then the parent's pid.
        stat.rsplit_once(')')?
            .1
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        if !cmdline.split(|b| *b == 0).any(|arg| arg == flag.as_bytes()) {
            continue;
        }
        let mut up = parent_of(pid);
        while let Some(p) = up.filter(|p| *p > 1) {
            if p == root as i32 {
                found.push(pid);
                break;
            }
            up = parent_of(p);
        }
    }
    found
}

/// With `-j 2` on shared agents (two base agents, a case on each), a base
/// agent killed in the middle of the run fails the case that was on it,
/// naming why, within a second, and not the case on the other; the cases
/// after them get a new base agent and the run goes on.
#[test]
fn a_base_agent_killed_mid_run_fails_only_its_cases_and_the_run_goes_on() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    // Two cases that wait long on their sub-wallets (run first: -j 2), then
    // three that need a base agent after the kill.
    let waiting = |n: u32| {
        format!(
            r#"
name: Waits on its sub-wallet {n}
agents:
  holder: {{ label: Holder }}
steps:
  - name: The holder answers
    agent: holder
    get: /status
  - name: A message that never comes
    agent: holder
    wait:
      event: basicmessages
      until: {{ $.state: received }}
      timeout: 60s
"#
        )
    };
    let after = |n: u32| {
        format!(
            r#"
name: Starts after the kill {n}
agents:
  holder: {{ label: Holder }}
steps:
  - name: The holder makes a DID
    agent: holder
    post: /wallet/did/create
    body: {{ method: key }}
    expect:
      $.result.did: {{ matches: "^did:key:" }}
"#
        )
    };
    for n in 1..=2 {
        std::fs::write(dir.path().join(format!("1-waits-{n}.yaml")), waiting(n)).unwrap();
    }
    for n in 1..=3 {
        std::fs::write(dir.path().join(format!("2-after-{n}.yaml")), after(n)).unwrap();
    }
    let report = dir.path().join("report.json");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_acapy-harness"));
    for (name, _) in std::env::vars() {
        if name.starts_with("ACAPY_HARNESS_") && name != "ACAPY_HARNESS_CACHE" {
            cmd.env_remove(name);
        }
    }
    let mut child = cmd
        .arg("run")
        .arg(dir.path())
        .args(["--provider", "process", "--acapy", "1.3.6", "-j", "2"])
        // Plain starts: the base agent is found by its command line.
        .args(["--agents", "shared", "--agent-start", "plain"])
        .args(["--retries", "0", "--steps"])
        .args(["--contract", "off", "--report-json"])
        .arg(&report)
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Each console line with the moment it came.
    let (lines, received) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = lines.send((Instant::now(), line));
        }
    });
    // Both waiting cases are past their first step: they are in their wait.
    let mut before = Vec::new();
    while before
        .iter()
        .filter(|(_, l): &&(Instant, String)| l.contains("The holder answers"))
        .count()
        < 2
    {
        let line = received
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_else(|_| panic!("the waiting cases start: {before:#?}"));
        before.push(line);
    }
    std::thread::sleep(Duration::from_millis(500));
    // -j 2: the second case found the first base agent busy and got one
    // of its own.
    let bases = descendants_with(child.id(), "--multitenant");
    assert_eq!(bases.len(), 2, "a base agent per running case: {bases:?}");
    // One killed: the case on it fails; the case on the other goes on.
    let killed_at = Instant::now();
    unsafe { libc::kill(bases[0], libc::SIGKILL) };
    let mut later = Vec::new();
    while let Ok(line) = received.recv_timeout(Duration::from_millis(1500)) {
        later.push(line);
    }
    let failed_first = later.iter().filter(|(_, l)| l.starts_with("FAIL ")).count();
    assert_eq!(failed_first, 1, "only the case on it: {later:#?}");
    // Then the other.
    unsafe { libc::kill(bases[1], libc::SIGKILL) };
    let second_killed_at = Instant::now();
    later.extend(received.iter());
    let status = child.wait().unwrap();
    let verdict = |word: &str| {
        later
            .iter()
            .filter(|(_, l)| l.starts_with(word))
            .cloned()
            .collect::<Vec<_>>()
    };
    let (failed, passed) = (verdict("FAIL "), verdict("PASS "));
    assert_eq!(failed.len(), 2, "the two cases on them fail: {later:#?}");
    for ((at, line), killed) in failed.iter().zip([killed_at, second_killed_at]) {
        assert!(line.contains("1-waits-"), "{line}");
        assert!(
            at.duration_since(killed) < Duration::from_secs(1),
            "failed within a second of the kill: {line}"
        );
    }
    assert_eq!(passed.len(), 3, "the run goes on: {later:#?}");
    assert!(passed.iter().all(|(_, l)| l.contains("2-after-")));
    assert_eq!(status.code(), Some(1));

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    for case in json["cases"].as_array().unwrap() {
        if case["status"] == "fail" {
            let said = case["failure"].to_string();
            assert!(
                said.contains(
                    "its shared base agent, process::1.3.6, exited (signal: 9 (SIGKILL))"
                ),
                "the failure names the cause: {said}"
            );
        }
    }
    // A new base agent served the later cases, and none is left.
    assert!(descendants_with(std::process::id(), "--multitenant").is_empty());
}
