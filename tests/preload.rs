//! `--agent-start preloaded` is a speed-up, not a different agent: forks
//! of one preloader are agents of their own (keys, DIDs, record ids), hold
//! no descriptor of the preloader or of each other, and end as a plain
//! `aca-py start` ends (a bad flag, a start-up failure, SIGTERM); the
//! library gives the same verdicts either way.
//!
//! `cargo test --test preload` (real ACA-Py 1.3.6 as processes, a few
//! minutes: the library runs twice). The library on every version the
//! issue names, both ways:
//!
//! ```sh
//! for how in plain preloaded; do for v in 0.12.8 1.3.6 1.7.0; do
//!   target/debug/acapy-harness run scenarios/ --provider process --acapy $v \
//!     -j 2 --agent-start $how --report-json /tmp/$how-$v.json; done; done
//! ```

use acapy_harness::admin::{wait_ready, AdminAuth, AdminClient, AdminEndpoint};
use acapy_harness::agents::launch::{generate_api_key, raw_wallet_key, Launch};
use acapy_harness::agents::preload::{self, AgentStart, Ended, Preloader};
use acapy_harness::agents::process::ProcessProvider;
use acapy_harness::agents::version::Release;
use acapy_harness::agents::{AgentSpec, CaseId, Notices, Provider, RunScope, Scope};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

const VERSION: &str = "1.3.6";

/// The library runs both ways on each of these (`ACAPY_HARNESS_PARITY_VERSIONS`
/// narrows it).
const PARITY_VERSIONS: &str = "0.12.8,1.3.6,1.7.0";

fn release() -> Release {
    Release::parse(VERSION).unwrap()
}

/// Tests that fork from a preloader of this process's own hold this
/// shared; the test of `preload serve` holds it alone, so that no other
/// test finds the preloader it serves.
static SERVED: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

async fn provider(how: AgentStart) -> ProcessProvider {
    let provider = ProcessProvider::new(release()).with_agent_start(how);
    provider
        .prepare(&Notices::silent())
        .await
        .expect("ACA-Py installs");
    provider
}

fn scope(name: &str) -> Scope {
    Scope::new(
        CaseId {
            name: format!("{name}-{}", std::process::id()),
            scenario: name.into(),
        },
        RunScope::new(Notices::default()),
    )
}

/// The pids of the preloader's children.
fn children(preloader: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{preloader}/task/{preloader}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// What each open descriptor of `pid` is (`pipe:[123]`, a path).
fn descriptors(pid: u32) -> BTreeMap<u32, String> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let fd = e.file_name().to_str()?.parse().ok()?;
            let target = std::fs::read_link(e.path()).ok()?;
            Some((fd, target.to_string_lossy().into_owned()))
        })
        .collect()
}

/// A field of `/proc/PID/status`.
fn status_field(pid: u32, field: &str) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| {
            l.strip_prefix(&format!("{field}:"))
                .map(|v| v.trim().to_owned())
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_forked_from_one_preloader_are_agents_of_their_own() {
    let _own = SERVED.read().await;
    let provider = provider(AgentStart::Preloaded).await;
    let scope = scope("preload-own");
    let preloader = provider
        .preloader(scope.notices())
        .await
        .expect("the preloader starts");
    let specs: Vec<AgentSpec> = ["alice", "bob"]
        .map(|role| AgentSpec {
            role: role.into(),
            label: role.into(),
            ..AgentSpec::default()
        })
        .to_vec();
    let mut agents = provider.start(&specs, &scope).await.expect("both start");
    let forked = children(preloader.pid());

    let mut seen = Vec::new();
    for agent in &agents {
        let client = AdminClient::new(&agent.admin);
        let did = client
            .request(reqwest::Method::POST, "/wallet/did/create")
            .json(&json!({"method": "key", "options": {"key_type": "ed25519"}}))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap();
        let invitation = client
            .request(reqwest::Method::POST, "/out-of-band/create-invitation")
            .json(&json!({"handshake_protocols": ["https://didcomm.org/didexchange/1.0"]}))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap();
        seen.push((
            did["result"]["did"].as_str().unwrap().to_owned(),
            did["result"]["verkey"].as_str().unwrap().to_owned(),
            invitation["oob_id"].as_str().unwrap().to_owned(),
            invitation["invitation"]["@id"].as_str().unwrap().to_owned(),
        ));
    }
    let preloader_fds = descriptors(preloader.pid());
    let agent_fds: Vec<BTreeMap<u32, String>> = forked.iter().map(|&p| descriptors(p)).collect();
    let sessions: Vec<(u32, String, String)> = forked
        .iter()
        .map(|&pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
            let after_name: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..]
                .split_whitespace()
                .collect();
            // Fields 5 and 6: process group, session.
            let group_and_session = format!("{} {}", after_name[2], after_name[3]);
            (pid, group_and_session, status_field(pid, "SigBlk"))
        })
        .collect();
    acapy_harness::agents::stop_all(&mut agents).await;
    scope.close().await;

    assert_eq!(forked.len(), 2, "both agents are forks of the preloader");
    let (a, b) = (&seen[0], &seen[1]);
    assert_ne!(a.0, b.0, "DIDs");
    assert_ne!(a.1, b.1, "keys");
    assert_ne!(a.2, b.2, "record ids");
    assert_ne!(a.3, b.3, "message ids");
    for (pid, group_and_session, blocked) in sessions {
        assert_eq!(
            group_and_session,
            format!("{pid} {pid}"),
            "own group and session"
        );
        assert_eq!(blocked, "0000000000000000", "a clean signal mask");
    }
    // The preloader's pipes (its requests and replies) are nowhere in an
    // agent, nor one agent's log in the other.
    let pipes: Vec<&String> = preloader_fds
        .values()
        .filter(|t| t.starts_with("pipe:"))
        .collect();
    assert!(!pipes.is_empty(), "{preloader_fds:?}");
    for (fds, other) in [
        (&agent_fds[0], &agent_fds[1]),
        (&agent_fds[1], &agent_fds[0]),
    ] {
        for (fd, target) in fds {
            assert!(
                !pipes.contains(&target),
                "fd {fd} is the preloader's {target}"
            );
        }
        let other_log = &other[&1];
        assert!(
            !fds.values().any(|t| t == other_log),
            "the other agent's log {other_log} is open: {fds:?}"
        );
        assert_eq!(fds[&0], "/dev/null");
        assert!(
            fds[&1].ends_with("agent.log") && fds[&2] == fds[&1],
            "{fds:?}"
        );
    }
}

/// A start `how`, with the harness's flags plus `extra`, its environment
/// and fresh ports: how it ended. With `signal_when_ready`, that signal
/// goes to its process group once it is ready.
async fn ends(
    preloader: &Preloader,
    how: AgentStart,
    extra: &[&str],
    signal_when_ready: Option<i32>,
) -> String {
    let (home, _token) = acapy_harness::agents::cleanup::temp_dir("parity").unwrap();
    let port = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let (didcomm, admin) = (port(), port());
    let api_key = generate_api_key();
    let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    let endpoint = format!("http://127.0.0.1:{didcomm}");
    let command = Launch {
        label: "parity",
        inbound: ("127.0.0.1", didcomm),
        endpoint: &endpoint,
        admin: ("127.0.0.1", admin),
        wallet_name: "parity",
        api_key: &api_key,
        wallet_key: &raw_wallet_key(),
        extra: &extra,
        extra_env: &[],
    }
    .command();
    let mut env: Vec<(String, String)> = std::env::vars().collect();
    env.extend(command.env.iter().cloned());
    env.push(("HOME".into(), home.path().to_string_lossy().into_owned()));
    let log = home.path().join("agent.log");
    let aca_py = provider_venv().join("bin/aca-py");
    let admin = AdminEndpoint::new(
        &format!("http://127.0.0.1:{admin}"),
        AdminAuth::ApiKey(api_key),
    );
    let limit = Duration::from_secs(60);
    match how {
        AgentStart::Plain => {
            let mut child = tokio::process::Command::new(&aca_py)
                .args(&command.args)
                .env_clear()
                .envs(env)
                .stdout(std::fs::File::create(&log).unwrap())
                .stderr(std::fs::File::create(home.path().join("err.log")).unwrap())
                .process_group(0)
                .kill_on_drop(true)
                .spawn()
                .unwrap();
            if let Some(signal) = signal_when_ready {
                let _ = wait_ready(&admin, limit, || Ok(())).await;
                unsafe { libc::kill(-(child.id().unwrap() as i32), signal) };
            }
            let status = tokio::time::timeout(limit, child.wait()).await;
            format!("exited ({})", status.unwrap().unwrap())
        }
        AgentStart::Preloaded => {
            let argv: Vec<String> = std::iter::once(aca_py.to_string_lossy().into_owned())
                .chain(command.args.iter().cloned())
                .collect();
            let mut forked = preloader
                .fork(&argv, &env, &std::env::current_dir().unwrap(), &log)
                .await
                .unwrap();
            if let Some(signal) = signal_when_ready {
                let _ = wait_ready(&admin, limit, || Ok(())).await;
                preloader.signal(&forked, signal);
            }
            let ended = tokio::time::timeout(limit, forked.wait()).await.unwrap();
            assert!(matches!(ended, Ended::Exited(_)));
            ended.to_string()
        }
    }
}

fn provider_venv() -> std::path::PathBuf {
    acapy_harness::agents::venv::Venv::new(release()).path()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fork_ends_as_a_plain_start_ends() {
    let _provider = provider(AgentStart::Plain).await;
    let python = provider_venv().join("bin/python");
    let preloader = Preloader::start(
        &release(),
        &python,
        &preload::module_list(&release()),
        Duration::from_secs(120),
    )
    .await
    .expect("the preloader starts");
    // A flag ACA-Py does not know; a wallet that cannot open (a RAW key
    // that is not one); a ready agent sent SIGTERM.
    let cases: [(&str, &[&str], Option<i32>); 3] = [
        ("a bad flag", &["--no-such-flag"], None),
        (
            "a start-up failure",
            &["--wallet-key-derivation-method", "kdf:argon2i:nonsense"],
            None,
        ),
        ("SIGTERM", &[], Some(libc::SIGTERM)),
    ];
    for (what, extra, signal) in cases {
        let plain = ends(&preloader, AgentStart::Plain, extra, signal).await;
        let preloaded = ends(&preloader, AgentStart::Preloaded, extra, signal).await;
        println!("{what}: plain {plain}, preloaded {preloaded}");
        assert_eq!(plain, preloaded, "{what}");
    }
    assert!(preloader.is_alive());
}

/// The library's verdicts, by case, with `--agent-start HOW`.
fn library_verdicts(how: &str, dir: &Path) -> BTreeMap<String, String> {
    let report = dir.join(format!("{how}.json"));
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_acapy-harness"));
    for (name, _) in std::env::vars() {
        if name.starts_with("ACAPY_HARNESS_") && name != "ACAPY_HARNESS_CACHE" {
            cmd.env_remove(name);
        }
    }
    let out = cmd
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "run",
            "scenarios",
            "--provider",
            "process",
            "--acapy",
            &std::env::var("ACAPY_HARNESS_PARITY_VERSIONS")
                .unwrap_or_else(|_| PARITY_VERSIONS.into()),
        ])
        .args(["-j", "2", "--agent-start", how, "--report-json"])
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
    let report: Value = serde_json::from_str(&text).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("start plain"),
        "{how}: a fallback was said:\n{stderr}"
    );
    report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["status"].to_string(),
            )
        })
        .collect()
}

#[test]
fn the_library_gives_the_same_verdicts_preloaded_and_plain() {
    let _own = SERVED.blocking_read();
    let dir = tempfile::tempdir().unwrap();
    let plain = library_verdicts("plain", dir.path());
    let preloaded = library_verdicts("preloaded", dir.path());
    assert!(plain.len() >= 50, "the library ran: {}", plain.len());
    let differences: Vec<String> = plain
        .iter()
        .filter(|(name, verdict)| preloaded.get(*name) != Some(verdict))
        .map(|(name, verdict)| {
            format!(
                "{name}: plain {verdict}, preloaded {:?}",
                preloaded.get(name)
            )
        })
        .collect();
    assert!(differences.is_empty(), "{}", differences.join("\n"));
    assert_eq!(plain.len(), preloaded.len());
}

/// Writes `src/agents/preload/modules/VERSION.txt`: the modules a start of
/// each version loads, for its preloader to import. Run after a new
/// version is added: `cargo test --test preload -- --ignored collect`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "writes the module lists into the source tree"]
async fn collect_module_lists() {
    for version in ["0.12.8", "1.3.6", "1.7.0"] {
        let release = Release::parse(version).unwrap();
        let provider = ProcessProvider::new(release.clone());
        provider.prepare(&Notices::default()).await.unwrap();
        let python = provider.venv().path().join("bin/python");
        let preloader = Preloader::start(&release, &python, &[], Duration::from_secs(120))
            .await
            .unwrap();
        let (home, _token) = acapy_harness::agents::cleanup::temp_dir("collect").unwrap();
        let port = || {
            std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        };
        let (didcomm, admin) = (port(), port());
        let api_key = generate_api_key();
        let endpoint = format!("http://127.0.0.1:{didcomm}");
        let command = Launch {
            label: "collect",
            inbound: ("127.0.0.1", didcomm),
            endpoint: &endpoint,
            admin: ("127.0.0.1", admin),
            wallet_name: "collect",
            api_key: &api_key,
            wallet_key: &raw_wallet_key(),
            extra: &[],
            extra_env: &[],
        }
        .command();
        let mut env: Vec<(String, String)> = std::env::vars().collect();
        env.extend(command.env.iter().cloned());
        env.push(("HOME".into(), home.path().to_string_lossy().into_owned()));
        let argv: Vec<String> = std::iter::once(provider.venv().aca_py().display().to_string())
            .chain(command.args.iter().cloned())
            .collect();
        let out = home.path().join("modules.txt");
        let mut forked = preloader
            .fork_with(
                &argv,
                &env,
                &std::env::current_dir().unwrap(),
                &home.path().join("agent.log"),
                Some(&out),
            )
            .await
            .unwrap();
        let admin = AdminEndpoint::new(
            &format!("http://127.0.0.1:{admin}"),
            AdminAuth::ApiKey(api_key),
        );
        wait_ready(&admin, Duration::from_secs(60), || Ok(()))
            .await
            .unwrap();
        preloader.signal(&forked, libc::SIGTERM);
        forked.wait().await;
        let modules = std::fs::read_to_string(&out).unwrap();
        let package = preload::package(&release);
        // ACA-Py's own modules and what they import, not the harness's
        // preloader nor the interpreter's start-up.
        let kept: Vec<&str> = modules
            .lines()
            .filter(|m| !m.starts_with("__main__") && !m.is_empty())
            .collect();
        assert!(kept.iter().any(|m| m.starts_with(package)));
        let file = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("src/agents/preload/modules/{version}.txt"));
        std::fs::write(
            &file,
            format!(
                "# Modules a start of ACA-Py {version} loads (`cargo test --test preload -- --ignored collect`).\n{}\n",
                kept.join("\n")
            ),
        )
        .unwrap();
    }
}

/// A preloader that dies takes its agents with it (PDEATHSIG), which then
/// say so; the next agents of the version start plain, and the run says
/// that once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_preloader_dies_its_agents_end_and_the_next_start_plain() {
    let _own = SERVED.read().await;
    let provider = provider(AgentStart::Preloaded).await;
    let heard = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let notices = {
        let heard = heard.clone();
        Notices::new(move |n| heard.lock().unwrap().push(n.text))
    };
    let scope = Scope::new(
        CaseId {
            name: format!("preload-dies-{}", std::process::id()),
            scenario: "preload-dies".into(),
        },
        RunScope::new(notices),
    );
    let spec = |role: &str| AgentSpec {
        role: role.into(),
        label: role.into(),
        ..AgentSpec::default()
    };
    let preloader = provider.preloader(scope.notices()).await.unwrap();
    let mut first = provider.start(&[spec("first")], &scope).await.unwrap();
    let forked = children(preloader.pid());
    assert_eq!(forked.len(), 1);
    unsafe { libc::kill(preloader.pid() as i32, libc::SIGKILL) };
    let mut gone = None;
    for _ in 0..100 {
        gone = first[0].handle.gone().await;
        if gone.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut second = provider.start(&[spec("second")], &scope).await.unwrap();
    let version = second[0].version.clone();
    acapy_harness::agents::stop_all(&mut first).await;
    acapy_harness::agents::stop_all(&mut second).await;
    scope.close().await;

    assert_eq!(gone.as_deref(), Some("ended with its preloader"));
    assert!(
        !std::path::Path::new(&format!("/proc/{}", forked[0])).exists()
            || std::fs::read_to_string(format!("/proc/{}/stat", forked[0]))
                .is_ok_and(|s| s.contains(") Z")),
        "the agent outlived its preloader"
    );
    assert_eq!(version, VERSION, "the second agent started plain");
    let heard = heard.lock().unwrap().clone();
    let said: Vec<&String> = heard
        .iter()
        .filter(|t| t.contains("the preloader ended"))
        .collect();
    assert_eq!(said.len(), 1, "{heard:?}");
}

/// `preload serve` keeps a preloader beyond runs: a run forks its agents
/// from it (and says so), a SIGKILLed run leaves no agent under it, and
/// Ctrl-C ends it with its socket and its log.
#[test]
fn a_served_preloader_outlives_runs_and_their_agents_go_with_them() {
    use std::io::BufRead;
    let _alone = SERVED.blocking_write();
    let harness = || {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_acapy-harness"));
        for (name, _) in std::env::vars() {
            if name.starts_with("ACAPY_HARNESS_") && name != "ACAPY_HARNESS_CACHE" {
                cmd.env_remove(name);
            }
        }
        cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
        cmd
    };
    let mut serve = harness()
        .args(["preload", "serve", "--acapy", VERSION])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A failed assertion below must not leave it serving.
    struct Stop(u32);
    impl Drop for Stop {
        fn drop(&mut self) {
            unsafe { libc::kill(self.0 as i32, libc::SIGTERM) };
        }
    }
    let _stop = Stop(serve.id());
    let mut said = std::io::BufReader::new(serve.stdout.take().unwrap()).lines();
    let first = said.next().unwrap().unwrap();
    // "ACA-Py 1.3.6: imported in 1.06 s, serving at SOCKET (pid N)"
    let pid: u32 = first
        .rsplit_once("(pid ")
        .and_then(|(_, p)| p.trim_end_matches(')').parse().ok())
        .unwrap_or_else(|| panic!("serving: {first}"));
    let socket = first
        .split(" serving at ")
        .nth(1)
        .unwrap()
        .split(" (pid")
        .next()
        .unwrap();
    let socket = std::path::PathBuf::from(socket);
    assert!(socket.exists(), "{first}");

    let seed = || {
        let mut cmd = harness();
        cmd.args([
            "run",
            "scenarios/issue-credential-v2/seed-flow.yaml",
            "--provider",
            "process",
        ])
        .args(["--acapy", VERSION, "--agents", "dedicated"]);
        cmd
    };
    let out = seed().output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("agents forked from the preloader `acapy-harness preload serve` keeps"),
        "{stderr}"
    );
    assert!(children(pid).is_empty(), "the run's agents outlived it");

    let mut run = seed()
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let forked = (0..200)
        .map(|_| {
            std::thread::sleep(Duration::from_millis(25));
            children(pid)
        })
        .find(|c| c.len() == 2)
        .expect("the run forked its two agents from the served preloader");
    run.kill().unwrap();
    run.wait().unwrap();
    let left = (0..40)
        .map(|_| {
            std::thread::sleep(Duration::from_millis(50));
            children(pid)
        })
        .find(Vec::is_empty);
    assert_eq!(
        left,
        Some(vec![]),
        "agents {forked:?} outlived their SIGKILLed run"
    );

    unsafe { libc::kill(serve.id() as i32, libc::SIGINT) };
    let status = serve.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let ended = (0..40).any(|_| {
        std::thread::sleep(Duration::from_millis(50));
        !Path::new(&format!("/proc/{pid}")).exists()
    });
    assert!(ended, "the preloader outlived serve");
    assert!(!socket.exists(), "the socket stayed");
    assert!(!socket.with_extension("log").exists(), "the log stayed");
}
