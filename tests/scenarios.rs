//! Every file under `scenarios/` as a test case, against real ACA-Py.
//!
//! `cargo test --test scenarios -- seed` filters; `--list`, `--exact`,
//! `--format json` and `--test-threads` work as in any libtest target.
//!
//! Targets: local processes for `ACAPY_HARNESS_VERSIONS` (default 1.3.6) and
//! containers for `ACAPY_HARNESS_DOCKER_VERSIONS` (default 1.3.6,1.7.0; empty
//! for none). A case that cannot run here (no Docker engine answers, the
//! image is not built, its `requires` rules the versions out) is *ignored*,
//! already in `--list --ignored`, and the run says why on stderr.
//!
//! `cargo nextest run --test scenarios` works too: it skips those ignored
//! cases; a case it does run that is skipped fails with the reason.
//!
//! Interop: `ACAPY_HARNESS_INTEROP=1` makes each role of a scenario take
//! each process version independently (`--interop`);
//! `ACAPY_HARNESS_ROLE_VERSIONS=holder=1.3.6,1.7.0` pins a role (`;` between
//! roles), as `--acapy ROLE=...`.
//!
//! Agents: `ACAPY_HARNESS_AGENTS=shared` (the default: every role a fresh
//! sub-wallet of one multitenant agent per version) or `dedicated` (agents
//! started for every case), as `--agents` on the command line.
//!
//! Variables from outside, as `--vars-file`, `--var` and `--secret` on the
//! command line: `ACAPY_HARNESS_VARS_FILE=FILE`, `ACAPY_HARNESS_VAR_<NAME>=VALUE`
//! and `ACAPY_HARNESS_SECRET_<NAME>=VALUE`.
//!
//! Tags, as `--tag` and `--skip-tag`: `ACAPY_HARNESS_TAGS=a,b` runs only
//! the scenarios tagged `a` or `b`, `ACAPY_HARNESS_SKIP_TAGS=c` leaves out
//! those tagged `c` (the others are not listed at all).
//!
//! With `ACAPY_HARNESS_PARTITION=K/N`, only part K of N (see `--partition`).
//!
//! With `ACAPY_HARNESS_RETRIES=N`, a failing case runs again up to N more
//! times; one that then passes is flaky, and passes.
//!
//! With `ACAPY_HARNESS_REPORT_DIR=DIR`, the run also writes `junit.xml`,
//! `report.json` and the conformance matrix `matrix.md` there, and the
//! artifacts of failing cases under `artifacts/`; under nextest (`NEXTEST=1`)
//! each case's JSON report in `parts/`, for `acapy-harness report merge`.
//! `--list` writes nothing.

use acapy_harness::agents::select::{for_versions, with_mode, AgentMode, ProviderChoice};
use acapy_harness::agents::version::{Release, DEFAULT_VERSION};
use acapy_harness::agents::{cleanup, Provider};
use acapy_harness::inputs::Inputs;
use acapy_harness::partition::Partition;
use acapy_harness::report;
use acapy_harness::report::console::render_failure;
use acapy_harness::run::outcome::{CaseResult, Status};
use acapy_harness::run::{run_with_retries, Case, RunOptions};
use acapy_harness::scenario::load::{discover, load_with, scenario_id};
use acapy_harness::suite::{cases, Matrix, TagFilter, Versions};
use libtest_mimic::{Arguments, Completion, Failed, Trial};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The versions listed in `var` (comma separated), else in `default`.
fn versions(var: &str, default: &str) -> Vec<Release> {
    std::env::var(var)
        .unwrap_or_else(|_| default.into())
        .split(',')
        .filter(|v| !v.trim().is_empty())
        .map(|v| Release::parse(v).unwrap_or_else(|e| panic!("{var}: {e}")))
        .collect()
}

fn write_reports(dir: &Path, results: &[CaseResult], elapsed: Duration) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    report::junit::write(results, "acapy-harness", &dir.join("junit.xml"))?;
    report::json::write(results, elapsed, &dir.join("report.json"))?;
    report::markdown::write(results, elapsed, &dir.join("matrix.md"))?;
    for failed in results.iter().filter(|r| r.status.is_failure()) {
        report::artifacts::write(&dir.join("artifacts"), failed)?;
    }
    Ok(())
}

/// Under nextest, one process per case: each case's JSON report goes to
/// `parts/CASE.json` (a retry overwrites it), for `acapy-harness report
/// merge` to assemble; no `junit.xml` (nextest writes its own) or matrix.
fn write_parts(dir: &Path, results: &[CaseResult], elapsed: Duration) -> std::io::Result<()> {
    let parts = dir.join("parts");
    std::fs::create_dir_all(&parts)?;
    for result in results {
        let file = parts.join(format!(
            "{}.json",
            report::artifacts::sanitize(&result.name)
        ));
        report::json::write(std::slice::from_ref(result), elapsed, &file)?;
        if result.status.is_failure() {
            report::artifacts::write(&dir.join("artifacts"), result)?;
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = Arguments::from_args();
    // One runtime for every trial; each trial blocks on its own case.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    cleanup::install_signal_handler();

    let process = versions("ACAPY_HARNESS_VERSIONS", DEFAULT_VERSION);
    let docker = versions("ACAPY_HARNESS_DOCKER_VERSIONS", "1.3.6,1.7.0");
    let mode = match std::env::var("ACAPY_HARNESS_AGENTS") {
        Ok(name) => AgentMode::parse(&name)
            .unwrap_or_else(|| panic!("ACAPY_HARNESS_AGENTS: `{name}` is not shared or dedicated")),
        Err(_) => AgentMode::Shared,
    };
    // Roles pinned to versions of their own, as processes: `holder=1.3.6,1.7.0`,
    // `;` between roles.
    let pins: Vec<String> = std::env::var("ACAPY_HARNESS_ROLE_VERSIONS")
        .unwrap_or_default()
        .split(';')
        .filter(|p| !p.trim().is_empty())
        .map(String::from)
        .collect();
    let pins =
        Versions::parse(&pins).unwrap_or_else(|e| panic!("ACAPY_HARNESS_ROLE_VERSIONS: {e}"));
    let interop = std::env::var("ACAPY_HARNESS_INTEROP").is_ok_and(|v| v == "1" || v == "true");
    let pinned_versions: Vec<Release> = pins
        .distinct()
        .iter()
        .map(|v| Release::parse(v).unwrap_or_else(|e| panic!("ACAPY_HARNESS_ROLE_VERSIONS: {e}")))
        .collect();
    let (process_sources, pinned_sources, docker_sources) = runtime.block_on(async {
        let shared = |s| with_mode(s, mode, &[]);
        (
            shared(for_versions(ProviderChoice::Process, &process, |_| None).await),
            shared(for_versions(ProviderChoice::Process, &pinned_versions, |_| None).await),
            shared(for_versions(ProviderChoice::Docker, &docker, |_| None).await),
        )
    });
    // The process versions form the matrix (interop and pins apply to them);
    // containers run every role on one version.
    let by_version: HashMap<String, Arc<dyn Provider>> = pins
        .distinct()
        .into_iter()
        .zip(pinned_sources.iter().cloned())
        .collect();
    let process_matrix = Matrix {
        sources: process_sources.clone(),
        pinned: pins
            .pinned
            .iter()
            .map(|(role, list)| {
                (
                    role.clone(),
                    list.iter().map(|v| by_version[v].clone()).collect(),
                )
            })
            .collect(),
        interop,
    };
    let sources: Vec<Arc<dyn Provider>> = process_sources
        .iter()
        .chain(&pinned_sources)
        .chain(&docker_sources)
        .cloned()
        .collect();
    // Why the cases of a source cannot run here (no engine, no image), by
    // label. Asked when listing too (a Docker ping and an image inspect; it
    // starts nothing): such cases are *ignored* in `--list --ignored`, which
    // is how nextest learns what it must not run (see docs/reports.md).
    let mut unavailable: HashMap<String, String> = HashMap::new();
    for source in &sources {
        if let Err(why) = runtime.block_on(source.availability()) {
            unavailable.insert(source.label(), why);
        }
    }
    // Installs (venvs, images) before the first case, so no case's time
    // includes them; a source that cannot be prepared fails its cases, once
    // each, with the installer's own error.
    let mut unprepared: HashMap<String, String> = HashMap::new();
    if !args.list {
        for source in sources
            .iter()
            .filter(|s| !unavailable.contains_key(&s.label()))
        {
            if let Err(e) = runtime.block_on(source.prepare()) {
                unprepared.insert(
                    source.label(),
                    format!("cannot prepare {}: {e:#}", source.label()),
                );
            }
        }
    }
    // nextest runs each test in a process of its own (`--exact NAME`).
    let nextest = std::env::var("NEXTEST").is_ok_and(|v| v == "1");

    let inputs = Inputs::from_env().unwrap_or_else(|e| panic!("{e}"));
    let outside = inputs.names();
    let report_dir = std::env::var_os("ACAPY_HARNESS_REPORT_DIR").map(PathBuf::from);
    let options = RunOptions {
        keep_artifacts: report_dir.is_some(),
        inputs,
        ..RunOptions::default()
    };
    let partition: Option<Partition> = std::env::var("ACAPY_HARNESS_PARTITION")
        .ok()
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            p.parse()
                .unwrap_or_else(|e| panic!("ACAPY_HARNESS_PARTITION: {e}"))
        });
    let retries: u32 = match std::env::var("ACAPY_HARNESS_RETRIES") {
        Ok(n) => n
            .parse()
            .unwrap_or_else(|_| panic!("ACAPY_HARNESS_RETRIES: `{n}` is not a number")),
        Err(_) => 0,
    };
    let results: Arc<Mutex<Vec<CaseResult>>> = Arc::default();
    let started = Instant::now();

    // Relative when run from the package root (as `cargo test` does), so
    // messages name `scenarios/...` rather than an absolute path.
    let root = match Path::new("scenarios").is_dir() {
        true => PathBuf::from("scenarios"),
        false => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios"),
    };
    let env = |name: &str| std::env::var(name).unwrap_or_default();
    let tags = TagFilter::from_lists(&env("ACAPY_HARNESS_TAGS"), &env("ACAPY_HARNESS_SKIP_TAGS"));
    let mut trials = Vec::new();
    // Whether each service image is here, asked once per image.
    let mut images: HashMap<String, Result<(), String>> = HashMap::new();
    // Ignored cases (that libtest will not run) by the reason, counted.
    let mut ignored: BTreeMap<String, usize> = BTreeMap::new();
    for found in discover(std::slice::from_ref(&root)).expect("scenarios/ exists") {
        if partition.is_some_and(|p| !p.contains(&scenario_id(&found))) {
            continue;
        }
        match load_with(&found, &outside) {
            Ok(scenario) if !tags.admits(&scenario) => {}
            Ok(scenario) => {
                let scenario = Arc::new(scenario);
                let all = process_matrix
                    .cases_of(&scenario)
                    .into_iter()
                    .chain(cases(&[scenario], &docker_sources));
                for case in all {
                    let handle = runtime.handle().clone();
                    let name = case.name();
                    // Why it cannot run here, known without running it: a
                    // source that is not available, or `requires`.
                    let why_not = case
                        .providers()
                        .iter()
                        .find_map(|p| unavailable.get(&p.label()).cloned())
                        .or_else(|| case.unmet_requirement())
                        .or_else(|| missing_service_image(&case, &runtime, &mut images));
                    // Such a case is ignored, unless named exactly (`--exact
                    // NAME`, as nextest runs each test): then it is flagged
                    // as the caller's `--ignored` says, so that it runs.
                    let exactly = args.exact && args.filter.as_deref() == Some(name.as_str());
                    let flagged = why_not.is_some() && (!exactly || args.ignored);
                    let skipped = why_not
                        .as_ref()
                        .map(|why| (why.clone(), case.skipped(why.clone())));
                    let unprepared = case
                        .providers()
                        .iter()
                        .find_map(|p| unprepared.get(&p.label()).cloned());
                    let (options, recorded) = (options.clone(), results.clone());
                    let trial = Trial::ignorable_test(name, move || {
                        if let Some(error) = unprepared {
                            return Err(Failed::from(error));
                        }
                        let result = match &why_not {
                            Some(why) => case.skipped(why.clone()),
                            None => handle.block_on(run_with_retries(&case, &options, retries)),
                        };
                        let outcome = match &result.status {
                            Status::Passed | Status::Flaky { .. } => Ok(Completion::Completed),
                            Status::ExpectedFailure { .. } => Ok(Completion::Completed),
                            // A nextest test passes or fails: a skip it runs
                            // fails, rather than pass unseen.
                            Status::Skipped { reason } if nextest => {
                                Err(Failed::from(format!("skipped: {reason}")))
                            }
                            Status::Skipped { reason } => Ok(Completion::ignored_with(reason)),
                            Status::Failed | Status::UnexpectedPass { .. } => {
                                Err(Failed::from(render_failure(&result)))
                            }
                            Status::Interrupted { .. } => Err(Failed::from("interrupted")),
                        };
                        recorded.lock().unwrap().push(result);
                        outcome
                    })
                    .with_ignored_flag(flagged);
                    // Ignored and not filtered out: libtest prints `ignored`
                    // without running it; the reports still have it.
                    if let Some((why, skipped)) = skipped {
                        if args.is_ignored(&trial) && !args.is_filtered_out(&trial) {
                            *ignored.entry(why).or_insert(0) += 1;
                            results.lock().unwrap().push(skipped);
                        }
                    }
                    trials.push(trial);
                }
            }
            Err(errors) => {
                let message = errors.to_string();
                trials.push(Trial::test(
                    format!("{}::load", scenario_id(&found)),
                    move || Err(Failed::from(message)),
                ));
            }
        }
    }

    // `--list` prints the list and nothing else: no reports, no sweep.
    if args.list {
        return libtest_mimic::run(&args, trials).exit_code();
    }
    // libtest prints `ignored` without a reason: said once here instead.
    for (why, n) in &ignored {
        eprintln!("acapy-harness: {n} case(s) ignored: {why}");
    }
    let conclusion = libtest_mimic::run(&args, trials);
    // Shared base agents outlive the cases: stopped once all have run.
    runtime.block_on(futures_util::future::join_all(
        sources.iter().map(|s| s.finish()),
    ));
    if let Some(dir) = &report_dir {
        let mut results = results.lock().unwrap();
        results.sort_by(|a, b| a.name.cmp(&b.name));
        let written = match nextest {
            true => write_parts(dir, &results, started.elapsed()),
            false => write_reports(dir, &results, started.elapsed()),
        };
        if let Err(e) = written {
            eprintln!("cannot write reports to {}: {e}", dir.display());
            return ExitCode::FAILURE;
        }
    }
    // What killed earlier runs left behind: reported and removed.
    let mut swept = Vec::new();
    for source in sources
        .iter()
        .filter(|s| !unavailable.contains_key(&s.label()))
    {
        if !swept.contains(&source.kind()) {
            swept.push(source.kind());
            runtime.block_on(source.sweep_stale());
        }
    }
    drop(runtime);
    cleanup::sweep();
    if cleanup::interrupted() {
        return ExitCode::from(130);
    }
    conclusion.exit_code()
}

/// Why a case's services cannot start here: no engine, or an image that
/// is not built (`docker/build-postgres-image.sh`). Known at listing time,
/// so nextest counts such a case as skipped, as `cargo test` does. Asked
/// once per image.
fn missing_service_image(
    case: &Case,
    runtime: &tokio::runtime::Runtime,
    images: &mut HashMap<String, Result<(), String>>,
) -> Option<String> {
    use acapy_harness::agents::docker::{engine_available, image_present};
    case.scenario.services.iter().find_map(|service| {
        images
            .entry(service.image.clone())
            .or_insert_with(|| {
                runtime.block_on(async {
                    engine_available()
                        .await
                        .map_err(|why| format!("its services need Docker: {why}"))?;
                    match image_present(&service.image).await {
                        true => Ok(()),
                        false => Err(format!(
                            "service `{}` needs image {}, which is not here (see docker/)",
                            service.name, service.image
                        )),
                    }
                })
            })
            .clone()
            .err()
    })
}
