//! The docker provider against a real engine: the seed flow in containers,
//! and nothing left behind afterwards. Skips (passing, with "skipped: ..." on
//! stdout; see it with `--nocapture`) when no engine answers or the image is
//! not built: `docker/build-image.sh 1.3.6`.

use acapy_harness::admin::AdminAuth;
use acapy_harness::agents::cleanup::RUN_LABEL;
use acapy_harness::agents::docker::{
    engine_available, image_present, run_id, sweep_stale, DockerProvider,
};
use acapy_harness::agents::version::Release;
use acapy_harness::agents::{stop_all, AgentSpec, Notices, Provider, Scope};
use acapy_harness::report::console::render_failure;
use acapy_harness::run::outcome::Status;
use acapy_harness::run::{run_case, RunOptions};
use acapy_harness::session::signals::Interrupts;
use acapy_harness::session::Cancel;
use acapy_harness::suite::{cases, load};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

const VERSION: &str = "1.3.6";

fn seed_scenario() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/issue-credential-v2/seed-flow.yaml")
}

/// The ids `docker ARGS` lists (`ps -a`, `network ls`) that this run (this
/// test process) left for `case`. Tests run in parallel and share the run
/// id, hence the case label too (labels filters must all match).
fn left_by_this_run(args: &[&str], case: &str) -> Vec<String> {
    let run = format!("label={RUN_LABEL}={}", run_id());
    let case = format!("label=acapy-harness.case={case}");
    let out = std::process::Command::new("docker")
        .args(args)
        .args(["--filter", &run, "--filter", &case, "--quiet"])
        .output()
        .expect("docker CLI");
    assert!(out.status.success(), "docker {args:?} failed: {out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_flow_passes_in_containers_and_leaves_nothing() {
    if let Err(e) = engine_available().await {
        println!("skipped: {e}");
        return;
    }
    let release = Release::parse(VERSION).unwrap();
    let image = release.local_image();
    if !image_present(&image).await {
        println!("skipped: {image} is not built (docker/build-image.sh {VERSION})");
        return;
    }
    Interrupts::install(Cancel::new());

    let scenarios = load(&[seed_scenario()]).expect("the seed scenario loads");
    let cases = cases(
        &scenarios,
        &[Arc::new(DockerProvider::new(release, None)) as Arc<dyn Provider>],
    );
    assert_eq!(cases.len(), 1);
    let result = run_case(&cases[0], &RunOptions::default()).await;
    assert_eq!(result.status, Status::Passed, "{}", render_failure(&result));
    assert_eq!(result.provider, "docker");
    assert_eq!(result.acapy_version.as_deref(), Some(VERSION));

    let containers = left_by_this_run(&["ps", "-a"], &result.name);
    assert!(containers.is_empty(), "containers left: {containers:?}");
    let networks = left_by_this_run(&["network", "ls"], &result.name);
    assert!(networks.is_empty(), "networks left: {networks:?}");
}

/// Without the local image, the official one is tried; where it cannot be
/// pulled, the case fails before creating anything, naming the build script.
#[tokio::test]
async fn a_missing_image_names_the_build_script() {
    if let Err(e) = engine_available().await {
        println!("skipped: {e}");
        return;
    }
    // A version nobody builds locally for these tests.
    let release = Release::parse("1.6.2").unwrap();
    if image_present(&release.local_image()).await || image_present(&release.official_image()).await
    {
        println!("skipped: an image for 1.6.2 is present");
        return;
    }
    let scenarios = load(&[seed_scenario()]).expect("the seed scenario loads");
    let cases = cases(
        &scenarios,
        &[Arc::new(DockerProvider::new(release.clone(), None)) as Arc<dyn Provider>],
    );
    let result = run_case(&cases[0], &RunOptions::default()).await;
    if result.status == Status::Passed {
        println!("skipped: the official image could be pulled");
        return;
    }
    let failure = render_failure(&result);
    assert!(
        failure.contains("docker/build-image.sh 1.6.2"),
        "unexpected failure: {failure}"
    );
    assert!(left_by_this_run(&["network", "ls"], &result.name).is_empty());
}

fn docker(args: &[&str]) -> String {
    let out = std::process::Command::new("docker")
        .args(args)
        .output()
        .expect("docker CLI");
    assert!(out.status.success(), "docker {args:?} failed: {out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// What a killed run left (its PID is gone) is removed; what a live run
/// owns is not.
#[tokio::test]
async fn sweep_stale_removes_what_dead_runs_left() {
    if let Err(e) = engine_available().await {
        println!("skipped: {e}");
        return;
    }
    let suffix = format!("{:x}", std::process::id());
    // No process has PID u32::MAX; this test's own run is alive.
    let dead = format!("{RUN_LABEL}={}-1", u32::MAX);
    let live = format!("{RUN_LABEL}={}", acapy_harness::agents::cleanup::run_mark());
    let dead_net = format!("acapy-harness-sweep-test-dead-{suffix}");
    let live_net = format!("acapy-harness-sweep-test-live-{suffix}");
    docker(&["network", "create", "--label", &dead, &dead_net]);
    docker(&["network", "create", "--label", &live, &live_net]);
    // A created (never started) container, when an image is at hand.
    let image = Release::parse(VERSION).unwrap().local_image();
    let dead_container = if image_present(&image).await {
        Some(docker(&[
            "create",
            "--label",
            &dead,
            "--network",
            &dead_net,
            &image,
        ]))
    } else {
        None
    };

    let removed = sweep_stale(&Notices::default()).await.expect("sweep_stale");

    let exists = |kind: &str, name: &str| {
        std::process::Command::new("docker")
            .args([kind, "inspect", name])
            .output()
            .expect("docker CLI")
            .status
            .success()
    };
    let dead_net_left = exists("network", &dead_net);
    let live_net_left = exists("network", &live_net);
    docker(&["network", "rm", &live_net]);
    assert!(!dead_net_left, "the dead run's network is still there");
    assert!(live_net_left, "the live run's network was removed");
    if let Some(id) = dead_container {
        assert!(
            !exists("container", &id),
            "the dead run's container is still there"
        );
        assert!(removed >= 2);
    } else {
        assert!(removed >= 1);
    }
}

/// Whether the engine answers and the local image is built; says why not.
async fn local_image_at_hand() -> bool {
    if let Err(e) = engine_available().await {
        println!("skipped: {e}");
        return false;
    }
    let image = Release::parse(VERSION).unwrap().local_image();
    if !image_present(&image).await {
        println!("skipped: {image} is not built (docker/build-image.sh {VERSION})");
        return false;
    }
    true
}

fn spec(role: &str, args: &[&str]) -> AgentSpec {
    AgentSpec {
        role: role.to_owned(),
        label: format!("{role} agent"),
        args: args.iter().map(|a| a.to_string()).collect(),
        ..AgentSpec::default()
    }
}

/// `docker inspect` of the one container of `case` playing `role`.
fn inspect_role(case: &str, role: &str) -> serde_json::Value {
    let id = docker(&[
        "ps",
        "-q",
        "--filter",
        &format!("label=acapy-harness.case={case}"),
        "--filter",
        &format!("label=acapy-harness.role={role}"),
    ]);
    assert_eq!(id.lines().count(), 1, "containers for {role}: {id:?}");
    let info: serde_json::Value = serde_json::from_str(&docker(&["inspect", &id])).unwrap();
    info[0].clone()
}

/// Each agent is on the case network only, under its role as alias, and
/// only its admin port is published, on loopback, where `admin_url` says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_are_aliases_on_the_case_network_and_only_admin_is_published() {
    if !local_image_at_hand().await {
        return;
    }
    let case = format!("network-test-{}", std::process::id());
    let provider = DockerProvider::new(Release::parse(VERSION).unwrap(), None);
    let scope = Scope::standalone(&case);
    let mut agents = provider
        .start(&[spec("issuer", &[]), spec("holder", &[])], &scope)
        .await
        .expect("both agents start");
    let checks = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        for agent in &agents {
            let info = inspect_role(&case, &agent.role);
            let networks = info["NetworkSettings"]["Networks"].as_object().unwrap();
            assert_eq!(networks.len(), 1, "networks: {networks:?}");
            let (name, endpoint) = networks.iter().next().unwrap();
            assert!(name.starts_with("acapy-harness-"), "network {name}");
            let aliases = endpoint["Aliases"].as_array().unwrap();
            assert!(
                aliases.iter().any(|a| a == agent.role.as_str()),
                "aliases: {aliases:?}"
            );
            let ports = info["NetworkSettings"]["Ports"].as_object().unwrap();
            assert!(ports["8020/tcp"].is_null(), "8020 published: {ports:?}");
            let admin = ports["8021/tcp"].as_array().unwrap();
            assert_eq!(admin.len(), 1, "8021 bindings: {admin:?}");
            assert_eq!(admin[0]["HostIp"], "127.0.0.1");
            let url = format!(
                "http://127.0.0.1:{}",
                admin[0]["HostPort"].as_str().unwrap()
            );
            assert_eq!(agent.admin.url, url);
            // The admin API key is in the container's environment, not on
            // its command line.
            let AdminAuth::ApiKey(key) = &agent.admin.auth else {
                panic!("a started agent authenticates by API key");
            };
            let args = info["Args"].to_string();
            assert!(!args.contains(key.as_str()), "the key is in {args}");
            assert!(!args.contains("--admin-api-key") && !args.contains("--wallet-key "));
        }
    }));
    stop_all(&mut agents).await;
    scope.close().await;
    if let Err(panic) = checks {
        std::panic::resume_unwind(panic);
    }
    assert!(left_by_this_run(&["ps", "-a"], &case).is_empty());
    assert!(left_by_this_run(&["network", "ls"], &case).is_empty());
}

/// An agent that exits fails its start at once, not at the readiness
/// timeout, saying how it ended and showing its log; nothing is left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_that_exits_fails_at_once_with_its_log() {
    if !local_image_at_hand().await {
        return;
    }
    let case = format!("exit-test-{}", std::process::id());
    let provider = DockerProvider::new(Release::parse(VERSION).unwrap(), None);
    let started = Instant::now();
    let scope = Scope::standalone(&case);
    let result = provider
        .start(&[spec("issuer", &["--no-such-flag"])], &scope)
        .await;
    scope.close().await;
    let Err(e) = result else {
        panic!("an agent with an unknown flag started");
    };
    let message = format!("{e:#}");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
    assert!(message.contains("exited with code 2"), "{message}");
    // The log: argparse's exit, at the end of ACA-Py's traceback.
    assert!(message.contains("SystemExit: 2"), "{message}");
    assert!(left_by_this_run(&["ps", "-a"], &case).is_empty());
    assert!(left_by_this_run(&["network", "ls"], &case).is_empty());
}

/// Roles on containers of two versions meet on the network the case makes:
/// the seed flow passes with the issuer on 1.3.6 and the holder on 1.7.0,
/// each agent reports its own version, and nothing is left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn containers_of_two_versions_share_the_case_network() {
    const OTHER: &str = "1.7.0";
    if !local_image_at_hand().await {
        return;
    }
    let other = Release::parse(OTHER).unwrap();
    if !image_present(&other.local_image()).await {
        println!(
            "skipped: {} is not built (docker/build-image.sh {OTHER})",
            other.local_image()
        );
        return;
    }
    Interrupts::install(Cancel::new());
    let scenarios = load(&[seed_scenario()]).expect("the seed scenario loads");
    let sources = std::collections::BTreeMap::from([
        (
            "issuer".to_owned(),
            Arc::new(DockerProvider::new(Release::parse(VERSION).unwrap(), None))
                as Arc<dyn Provider>,
        ),
        (
            "holder".to_owned(),
            Arc::new(DockerProvider::new(other, None)) as Arc<dyn Provider>,
        ),
    ]);
    let case = acapy_harness::run::Case::with_sources(scenarios[0].clone(), sources);
    assert!(case.agents_reach_each_other());
    let result = run_case(&case, &RunOptions::default()).await;
    assert_eq!(result.status, Status::Passed, "{}", render_failure(&result));
    assert_eq!(result.target, "docker::issuer=1.3.6,holder=1.7.0");
    let reported: Vec<_> = result
        .roles
        .iter()
        .map(|r| (r.role.as_str(), r.reported.as_deref()))
        .collect();
    assert_eq!(
        reported,
        [("issuer", Some(VERSION)), ("holder", Some(OTHER))]
    );
    let containers = left_by_this_run(&["ps", "-a"], &result.name);
    assert!(containers.is_empty(), "containers left: {containers:?}");
    let networks = left_by_this_run(&["network", "ls"], &result.name);
    assert!(networks.is_empty(), "networks left: {networks:?}");
}
