//! Services beside the agents, against a real engine and real ACA-Py: a
//! PostgreSQL container holds the agents' wallets (the database ACA-Py made
//! is there), a restart finds the credential again, a missing image skips
//! the case, a service that never gets ready fails it with its log, and
//! nothing is left behind. Skips (passing, with "skipped: ..." on stdout)
//! when no engine answers or an image is not built:
//! `docker/build-postgres-image.sh`, `docker/build-image.sh 1.3.6`.

use acapy_harness::agents::cleanup::RUN_LABEL;
use acapy_harness::agents::docker::{engine_available, image_present, run_id, DockerProvider};
use acapy_harness::agents::process::ProcessProvider;
use acapy_harness::agents::services::{Readiness, ServiceSpec, Services};
use acapy_harness::agents::version::Release;
use acapy_harness::agents::{stop_all, AgentSpec, Notices, Provider, Scope};
use acapy_harness::report::console::render_failure;
use acapy_harness::run::outcome::Status;
use acapy_harness::run::{run_case, RunOptions};
use acapy_harness::session::signals::Interrupts;
use acapy_harness::session::Cancel;
use acapy_harness::suite::{cases, load};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

const POSTGRES: &str = "acapy-harness/postgres:15";
const VERSION: &str = "1.3.6";

fn manifest(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Whether the engine answers and every image is built; says why not.
async fn images_at_hand(images: &[&str]) -> bool {
    if let Err(e) = engine_available().await {
        println!("skipped: {e}");
        return false;
    }
    for image in images {
        if !image_present(image).await {
            println!("skipped: {image} is not built (see docker/)");
            return false;
        }
    }
    true
}

fn docker(args: &[&str]) -> String {
    let out = std::process::Command::new("docker")
        .args(args)
        .output()
        .expect("docker CLI");
    assert!(out.status.success(), "docker {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// What this run left for `case`: containers and networks with its labels.
fn left_for(case: &str) -> Vec<String> {
    let run = format!("label={RUN_LABEL}={}", run_id());
    let case = format!("label=acapy-harness.case={case}");
    let mut left = Vec::new();
    for what in [&["ps", "-a"][..], &["network", "ls"][..]] {
        let mut args = what.to_vec();
        args.extend(["--filter", &run, "--filter", &case, "--quiet"]);
        left.extend(docker(&args).lines().map(str::to_owned));
    }
    left
}

fn run_scenario(
    path: &Path,
    provider: Arc<dyn Provider>,
) -> impl std::future::Future<Output = acapy_harness::run::outcome::CaseResult> {
    let scenarios = load(&[path.to_path_buf()]).expect("the scenario loads");
    let case = cases(&scenarios, &[provider]).remove(0);
    async move { run_case(&case, &RunOptions::default()).await }
}

/// The holder stores a credential in its Postgres wallet, is restarted and
/// finds it again; the service, the agents and the network are gone after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_container_agent_finds_its_credential_in_postgres() {
    let agent_image = Release::parse(VERSION).unwrap().local_image();
    if !images_at_hand(&[POSTGRES, &agent_image]).await {
        return;
    }
    Interrupts::install(Cancel::new());
    let provider = Arc::new(DockerProvider::new(Release::parse(VERSION).unwrap(), None));
    let result = run_scenario(
        &manifest("scenarios/postgres/restart-finds-credential.yaml"),
        provider,
    )
    .await;
    assert_eq!(result.status, Status::Passed, "{}", render_failure(&result));
    let left = left_for(&result.name);
    assert!(left.is_empty(), "left behind: {left:?}");
    // Containers are removed with their anonymous volumes; the image
    // declares none that could outlive them anyway.
    let volumes = docker(&[
        "image",
        "inspect",
        "-f",
        "{{json .Config.Volumes}}",
        POSTGRES,
    ]);
    assert!(
        volumes == "null" || volumes == "{}",
        "{POSTGRES} declares volumes: {volumes}"
    );
}

/// A process agent given the service's published port keeps its wallet
/// there: PostgreSQL lists a database named after the wallet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_agent_keeps_its_wallet_in_the_service() {
    if !images_at_hand(&[POSTGRES]).await {
        return;
    }
    Interrupts::install(Cancel::new());
    let case = format!("services-test-{}", std::process::id());
    let scope = Scope::standalone(&case);
    let password = "pw-for-a-test-of-services";
    let services = Services::start(
        &[ServiceSpec {
            name: "db".into(),
            image: POSTGRES.into(),
            env: vec![("POSTGRES_PASSWORD".into(), password.into())],
            command: None,
            port: 5432,
            ready: Readiness::Log("database system is ready to accept connections".into()),
            timeout: Duration::from_secs(60),
        }],
        &scope,
    )
    .await
    .unwrap_or_else(|e| panic!("the service did not start: {e:?}"));
    let host_port = services.endpoints().remove(0).host_port;
    let creds = format!(
        r#"{{"account":"postgres","password":"{password}","admin_account":"postgres","admin_password":"{password}"}}"#
    );
    let spec = AgentSpec {
        role: "holder".into(),
        label: "holder".into(),
        args: [
            "--wallet-storage-type",
            "postgres_storage",
            "--wallet-storage-config",
            &format!(r#"{{"url":"127.0.0.1:{host_port}","max_connections":5}}"#),
        ]
        .map(String::from)
        .to_vec(),
        env: vec![("ACAPY_WALLET_STORAGE_CREDS".into(), creds)],
        ..AgentSpec::default()
    };
    let provider = ProcessProvider::new(Release::parse(VERSION).unwrap());
    provider
        .prepare(&Notices::default())
        .await
        .expect("ACA-Py 1.3.6 installs");
    let started = provider.start(std::slice::from_ref(&spec), &scope).await;
    let container = docker(&[
        "ps",
        "-q",
        "--filter",
        &format!("label=acapy-harness.case={case}"),
        "--filter",
        "label=acapy-harness.service=db",
    ]);
    let databases = docker(&[
        "exec",
        &container,
        "psql",
        "-U",
        "postgres",
        "-Atc",
        "select datname from pg_database",
    ]);
    let mut agents = started.expect("the agent starts on its Postgres wallet");
    stop_all(&mut agents).await;
    services.stop().await;
    scope.close().await;
    assert!(
        databases.lines().any(|d| d.starts_with("holder-")),
        "no wallet database among: {databases}"
    );
    let left = left_for(&case);
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// The binary, with none of the caller's `ACAPY_HARNESS_*` settings (CI
/// sets a whole matrix there): the test says what it runs.
fn harness() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_acapy-harness"));
    for (name, _) in std::env::vars() {
        if name.starts_with("ACAPY_HARNESS_") && name != "ACAPY_HARNESS_CACHE" {
            cmd.env_remove(name);
        }
    }
    cmd
}

fn scenario_with_service(dir: &Path, service: &str) -> PathBuf {
    let path = dir.join("with-a-service.yaml");
    std::fs::write(
        &path,
        format!(
            "services:\n{service}\nagents:\n  issuer: {{}}\nsteps:\n  - get: /status\n    agent: issuer\n"
        ),
    )
    .unwrap();
    path
}

/// An image that is neither here nor pullable skips the case, naming it;
/// no agent is started for it.
#[tokio::test]
async fn a_service_whose_image_is_missing_skips_the_case() {
    if !images_at_hand(&[]).await {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = scenario_with_service(
        dir.path(),
        "  db:\n    image: acapy-harness/no-such-image:0\n    port: 5432",
    );
    let provider = Arc::new(ProcessProvider::new(Release::parse(VERSION).unwrap()));
    let result = run_scenario(&path, provider).await;
    let Status::Skipped { reason } = &result.status else {
        panic!("not skipped: {:?}", result.status);
    };
    assert!(
        reason.contains("service `db` needs image acapy-harness/no-such-image:0"),
        "{reason}"
    );
    assert!(
        result.roles.iter().all(|r| r.reported.is_none()),
        "an agent ran"
    );
}

/// A service that never says it is ready fails the case at its timeout,
/// with its own log, and is removed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_that_never_gets_ready_fails_with_its_log() {
    if !images_at_hand(&[POSTGRES]).await {
        return;
    }
    Interrupts::install(Cancel::new());
    let dir = tempfile::tempdir().unwrap();
    let path = scenario_with_service(
        dir.path(),
        "  db:\n    image: acapy-harness/postgres:15\n    env: { POSTGRES_PASSWORD: secret-enough }\n    port: 5432\n    ready: { log: a line postgres never writes, timeout: 3s }",
    );
    let provider = Arc::new(ProcessProvider::new(Release::parse(VERSION).unwrap()));
    let result = run_scenario(&path, provider).await;
    assert_eq!(result.status, Status::Failed);
    let text = render_failure(&result);
    assert!(text.contains("the services did not start"), "{text}");
    assert!(text.contains("service `db` did not become ready"), "{text}");
    assert!(text.contains("no log line contains"), "{text}");
    // Its own log, under the failure.
    assert!(text.contains("ready to accept connections"), "{text}");
    let left = left_for(&result.name);
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// A scenario whose services and agent file are in place while its only
/// step waits for an event that never comes.
const WAITS_BESIDE_A_SERVICE: &str = "vars: { db_password: \"${uuid}\" }
secrets: [db_password]
services:
  db:
    image: acapy-harness/postgres:15
    env: { POSTGRES_PASSWORD: \"${db_password}\" }
    port: 5432
    ready: { log: database system is ready to accept connections }
agents:
  alice:
    args: [--arg-file, \"${files.settings}\"]
    files:
      settings: { from: settings.yml }
steps:
  - name: wait for nothing
    agent: alice
    wait:
      event: connections
      until: { $.state: never }
      timeout: 120s
";

/// Starts a run of a case that waits beside a service, its agents on
/// `provider`, with `SCRATCH/tmp` as its temporary folder.
fn run_waiting_beside_a_service(
    scratch: &std::path::Path,
    provider: &str,
) -> (std::path::PathBuf, std::process::Child) {
    let tmp = scratch.join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    std::fs::write(
        scratch.join("settings.yml"),
        "image-url: https://example.org/a.png\n",
    )
    .unwrap();
    let scenario = scratch.join("waits.yaml");
    std::fs::write(&scenario, WAITS_BESIDE_A_SERVICE).unwrap();
    let child = harness()
        .args(["run", "--provider", provider, "--acapy", VERSION])
        .arg(&scenario)
        .env("TMPDIR", &tmp)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    (tmp, child)
}

/// Ctrl-C while a case runs beside a service: exit 130, and the service's
/// container, the case network, the agent and the files folder are gone.
#[test]
fn ctrl_c_removes_the_services_and_the_files_of_a_running_case() {
    if !tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(images_at_hand(&[POSTGRES]))
    {
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let (tmp, mut child) = run_waiting_beside_a_service(scratch.path(), "process");
    let ours = format!("{}-", child.id());
    // The run label's value starts with the run's PID.
    let services_of_the_run = || -> Vec<String> {
        docker(&[
            "ps",
            "-a",
            "--filter",
            "label=acapy-harness.service",
            "--format",
            "{{.Label \"acapy-harness.run\"}}",
        ])
        .lines()
        .filter(|run| run.starts_with(&ours))
        .map(str::to_owned)
        .collect()
    };
    let networks_of_the_run = || -> Vec<String> {
        docker(&[
            "network",
            "ls",
            "--filter",
            "label=acapy-harness.run",
            "--format",
            "{{.Label \"acapy-harness.run\"}}",
        ])
        .lines()
        .filter(|run| run.starts_with(&ours))
        .map(str::to_owned)
        .collect()
    };
    // Wait for the service and the agent (its home and the files folder
    // are in TMPDIR), then interrupt.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while services_of_the_run().is_empty() || std::fs::read_dir(&tmp).unwrap().count() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the case never got going"
        );
        assert!(child.try_wait().unwrap().is_none(), "harness exited early");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(1));
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    assert_eq!(child.wait().unwrap().code(), Some(130));
    assert_eq!(services_of_the_run(), Vec::<String>::new(), "services left");
    assert_eq!(networks_of_the_run(), Vec::<String>::new(), "networks left");
    let left: Vec<_> = std::fs::read_dir(&tmp)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "left in TMPDIR: {left:?}");
}

const TAILS: &str = "acapy-harness/tails-server:1";

/// A suite's `scope: run` service is started once and shared: what the
/// first case PUTs there, the second (run after it) GETs back through a
/// `service:` step; the agents read its address from `${services.NAME.url}`.
/// After the run, neither it nor the run's network is left.
#[tokio::test]
async fn a_run_scoped_service_is_shared_by_the_cases_and_removed_after_the_run() {
    if !images_at_hand(&[TAILS]).await {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path();
    std::fs::write(
        suite.join("acapy-harness.yaml"),
        format!(
            "services:\n  files:\n    image: {TAILS}\n    port: 6543\n    ready: {{ http: /ready }}\n    scope: run\n\
             agent_args: [--tails-server-base-url, \"${{services.files.url}}\"]\n"
        ),
    )
    .unwrap();
    let scenario = |steps: &str| {
        format!("agents:\n  issuer: {{}}\nsteps:\n  - get: /status\n    agent: issuer\n{steps}")
    };
    std::fs::write(
        suite.join("a-put.yaml"),
        scenario(
            "  - service: files\n    put: /left-by-a\n    body: { from: a }\n    expect: { status: 200 }\n",
        ),
    )
    .unwrap();
    std::fs::write(
        suite.join("b-get.yaml"),
        scenario(
            "  - service: files\n    get: /left-by-a\n    expect: { status: 200, $.from: a }\n\
             \x20 - agent: issuer\n    get: /status/config\n    expect:\n      $.config.tails_server_base_url: { matches: \"^http://127.0.0.1:[0-9]+$\" }\n",
        ),
    )
    .unwrap();
    let child = harness()
        .args([
            "run",
            "--acapy",
            VERSION,
            "--provider",
            "process",
            "-j",
            "1",
        ])
        .arg(suite)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The run's id starts with its process id: its containers carry it.
    let run_prefix = format!("{}-", child.id());
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("summary: 2 passed"), "{stdout}");
    let label = format!("{{{{.Label \"{RUN_LABEL}\"}}}}");
    let filter = format!("label={RUN_LABEL}");
    for (kind, ls) in [("container", ["ps", "-a"]), ("network", ["network", "ls"])] {
        let runs = docker(&[ls[0], ls[1], "--filter", &filter, "--format", &label]);
        assert!(
            !runs.lines().any(|run| run.starts_with(&run_prefix)),
            "a {kind} of run {run_prefix}… is left: {runs}"
        );
    }
}

const INDY_POOL: &str = "acapy-harness/indy-pool:1.13.2";

/// Containers this test starts by hand, removed however it ends.
struct StartedByHand(Vec<String>);

impl Drop for StartedByHand {
    fn drop(&mut self) {
        for name in &self.0 {
            let _ = std::process::Command::new("docker")
                .args(["rm", "-f", name])
                .output();
        }
    }
}

/// As a user with a ledger of their own would: a pool and a tails server
/// started outside the run (`docker run`), given by `--service-url` and by
/// `ACAPY_HARNESS_SERVICE_URL_*`. The ledger scenarios pass against them
/// and the run starts no service container of its own.
#[tokio::test]
async fn a_ledger_that_already_runs_is_used_instead_of_the_suites() {
    if !images_at_hand(&[INDY_POOL, TAILS]).await {
        return;
    }
    let tag = format!("acapy-harness-by-hand-{}", std::process::id());
    let pool = format!("{tag}-pool");
    let tails = format!("{tag}-tails");
    let _guard = StartedByHand(vec![pool.clone(), tails.clone()]);
    docker(&["run", "-d", "--name", &pool, INDY_POOL]);
    docker(&["run", "-d", "--name", &tails, TAILS]);
    let address = |name: &str| {
        docker(&[
            "inspect",
            "-f",
            "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
            name,
        ])
    };
    let (pool_url, tails_url) = (
        format!("http://{}:8000", address(&pool)),
        format!("http://{}:6543", address(&tails)),
    );
    let client = reqwest::Client::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(180);
    loop {
        let ready = client.get(format!("{pool_url}/ready")).send().await;
        if ready.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the pool started by hand was not ready in 180 s"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let child = harness()
        .args([
            "run",
            "scenarios/anoncreds",
            "--acapy",
            VERSION,
            "--provider",
            "process",
        ])
        .args(["-k", "ledger-reads", "-k", "seed-flow"])
        .args(["--service-url", &format!("ledger={pool_url}")])
        .env("ACAPY_HARNESS_SERVICE_URL_TAILS", &tails_url)
        .current_dir(manifest("."))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let run_prefix = format!("{}-", child.id());
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("summary: 2 passed"), "{stdout}");
    let said = format!("{stdout}{stderr}");
    assert!(
        said.contains(&format!(
            "service `ledger` is not started: it runs at {pool_url}/"
        )),
        "{said}"
    );
    let label = format!("{{{{.Label \"{RUN_LABEL}\"}}}}");
    let runs = docker(&[
        "ps",
        "-a",
        "--filter",
        &format!("label={RUN_LABEL}"),
        "--format",
        &label,
    ]);
    assert!(
        !runs.lines().any(|run| run.starts_with(&run_prefix)),
        "the run started containers of its own: {runs}"
    );
}

/// SIGKILL leaves what only the harness could remove: its folders (an
/// agent's home, the files folder) and its containers (a service; agents
/// too when they run in containers). The next run that starts agents
/// removes all of it, naming each; process agents died with the harness.
fn sigkill_then_the_next_run_sweeps(provider: &str) {
    let scratch = tempfile::tempdir().unwrap();
    let (tmp, mut child) = run_waiting_beside_a_service(scratch.path(), provider);
    let ours = format!("{}-", child.id());
    let containers_of_the_run = || -> Vec<String> {
        docker(&[
            "ps",
            "-a",
            "--filter",
            &format!("label={RUN_LABEL}"),
            "--format",
            "{{.Label \"acapy-harness.run\"}} {{.Names}}",
        ])
        .lines()
        .filter(|line| line.starts_with(&ours))
        .map(str::to_owned)
        .collect()
    };
    let folders_of_the_run = || -> Vec<String> {
        std::fs::read_dir(&tmp)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with(&format!("acapy-harness.{ours}")))
            .collect()
    };
    // The service, and the agent: a container, or a process whose home
    // (and files folder) is in TMPDIR.
    let in_containers = provider == "docker";
    let got_going = || match in_containers {
        true => containers_of_the_run().len() >= 2,
        false => !containers_of_the_run().is_empty() && folders_of_the_run().len() >= 2,
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while !got_going() {
        assert!(
            std::time::Instant::now() < deadline,
            "the case never got going"
        );
        assert!(child.try_wait().unwrap().is_none(), "harness exited early");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(1));
    unsafe {
        libc::kill(child.id() as i32, libc::SIGKILL);
    }
    child.wait().unwrap();
    let (left_folders, left_containers) = (folders_of_the_run(), containers_of_the_run());
    assert!(
        in_containers || !left_folders.is_empty(),
        "a SIGKILL left no folder to sweep"
    );
    assert!(
        !left_containers.is_empty(),
        "a SIGKILL left no container to sweep"
    );

    // Any later run that starts agents: one that only asks for /status.
    let next = scratch.path().join("next.yaml");
    std::fs::write(
        &next,
        "agents:\n  alice: {}\nsteps:\n  - get: /status\n    agent: alice\n",
    )
    .unwrap();
    let out = harness()
        .args(["run", "--provider", provider, "--acapy", VERSION])
        .arg(&next)
        .env("TMPDIR", &tmp)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert_eq!(
        folders_of_the_run(),
        Vec::<String>::new(),
        "folders left: {said}"
    );
    assert_eq!(
        containers_of_the_run(),
        Vec::<String>::new(),
        "containers left: {said}"
    );
    for folder in &left_folders {
        assert!(
            said.contains(folder.as_str()),
            "the sweep did not say {folder}: {said}"
        );
    }
    let after: Vec<_> = std::fs::read_dir(&tmp)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(
        after.is_empty(),
        "left in TMPDIR after the next run: {after:?}"
    );
}

#[test]
fn after_a_sigkill_the_next_run_removes_what_process_agents_and_services_left() {
    if !tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(images_at_hand(&[POSTGRES]))
    {
        return;
    }
    sigkill_then_the_next_run_sweeps("process");
}

#[test]
fn after_a_sigkill_the_next_run_removes_what_container_agents_and_services_left() {
    let image = format!("acapy-harness/acapy-agent:{VERSION}");
    if !tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(images_at_hand(&[POSTGRES, &image]))
    {
        return;
    }
    sigkill_then_the_next_run_sweeps("docker");
}
