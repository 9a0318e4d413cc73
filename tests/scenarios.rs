//! Every file under `scenarios/` as a test case, against real ACA-Py: the
//! session layer's run, with libtest choosing and scheduling the cases.
//!
//! `cargo test --test scenarios -- seed` filters; `--list`, `--exact`,
//! `--format json` and `--test-threads` work as in any libtest target;
//! `cargo nextest run --test scenarios` works too. Settings come from
//! `ACAPY_HARNESS_*` variables over `scenarios/acapy-harness.yaml`, as for
//! `run` (`docs/settings.md`); by default local processes of 1.3.6 and
//! containers of 1.3.6 and 1.7.0. A case that cannot run here (no engine,
//! an image not built, its `requires`) is *ignored*, already in `--list
//! --ignored`, with the reason said once on stderr; nextest skips it.

use acapy_harness::report::console::render_failure;
use acapy_harness::report::events::{Event, ReportError, Reporter};
use acapy_harness::run::outcome::{CaseResult, Status};
use acapy_harness::session::signals::Interrupts;
use acapy_harness::session::{Cancel, Defaults, Session, Settings};
use libtest_mimic::{Arguments, Completion, Failed, Trial};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

/// Notices on stderr: libtest owns stdout.
struct Stderr;

impl Reporter for Stderr {
    fn report(&mut self, event: &Event<'_>) -> Result<(), ReportError> {
        if let Event::Notice { text } = event {
            eprintln!("acapy-harness: {text}");
        }
        Ok(())
    }
}

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let cancel = Cancel::new();
    Interrupts::install(cancel.clone());
    // nextest runs each test in a process of its own (`--exact NAME`).
    let nextest = std::env::var("NEXTEST").is_ok_and(|v| v == "1");
    let session = runtime.block_on(async {
        let mut settings = Settings::from_process_env().unwrap_or_else(|e| panic!("{e}"));
        // Relative when run from the package root (as `cargo test` does),
        // so messages name `scenarios/...`.
        if settings.paths.is_empty() {
            settings.paths = vec![match PathBuf::from("scenarios").is_dir() {
                true => PathBuf::from("scenarios"),
                false => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios"),
            }];
        }
        Session::new(
            settings,
            &Defaults::cargo_test(),
            vec![Box::new(Stderr)],
            cancel,
        )
        .await
    });
    let session = match session {
        Ok(session) => Arc::new(session),
        Err(e) => {
            let message = e.to_string();
            let trial = Trial::test("scenarios::load", move || Err(Failed::from(message)));
            return libtest_mimic::run(&args, vec![trial]).exit_code();
        }
    };
    if !args.list {
        let mut files = session.plan.reports.clone();
        if nextest {
            // Each case's own report in `parts/`, for `report merge`.
            files = acapy_harness::report::files::ReportFiles {
                parts: files
                    .json
                    .as_ref()
                    .and_then(|j| j.parent())
                    .map(|d| d.join("parts")),
                artifacts: files.artifacts,
                ..Default::default()
            };
        }
        session.listen(Box::new(files));
    }
    // Asked when listing too (a Docker ping, image inspections): cases that
    // cannot run here are ignored in `--list --ignored`, which is how
    // nextest learns what not to run.
    runtime.block_on(session.screen());
    let unprepared = match args.list {
        true => None,
        false => runtime
            .block_on(session.prepare())
            .err()
            .map(|e| format!("{e:#}")),
    };
    session.begin(args.test_threads.unwrap_or(0));

    let results: Arc<Mutex<Vec<CaseResult>>> = Arc::default();
    let mut ignored: BTreeMap<String, usize> = BTreeMap::new();
    let mut trials = Vec::new();
    for (index, case) in session.cases().iter().enumerate() {
        let name = case.name();
        let why_not = session.why_not(case);
        // Ignored unless named exactly (`--exact NAME`, as nextest runs
        // each test): then flagged as the caller's `--ignored` says.
        let exactly = args.exact && args.filter.as_deref() == Some(name.as_str());
        let flagged = why_not.is_some() && (!exactly || args.ignored);
        let (session, recorded) = (session.clone(), results.clone());
        let (handle, unprepared) = (runtime.handle().clone(), unprepared.clone());
        let trial = Trial::ignorable_test(name, move || {
            if let Some(error) = unprepared {
                return Err(Failed::from(error));
            }
            let case = &session.cases()[index];
            let result = handle.block_on(session.run_case(case));
            let outcome = match &result.status {
                Status::Passed | Status::Flaky { .. } | Status::ExpectedFailure { .. } => {
                    Ok(Completion::Completed)
                }
                // A nextest test passes or fails: a skip it runs fails,
                // rather than pass unseen.
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
        // Ignored and not filtered out: libtest prints `ignored` without
        // running it; the reports still have it.
        if let Some(why) = why_not {
            if args.is_ignored(&trial) && !args.is_filtered_out(&trial) {
                results.lock().unwrap().push(case.skipped(why.clone()));
                *ignored.entry(why).or_insert(0) += 1;
            }
        }
        trials.push(trial);
    }
    if args.list {
        return libtest_mimic::run(&args, trials).exit_code();
    }
    // libtest prints `ignored` without a reason: said once here instead.
    for (why, n) in &ignored {
        eprintln!("acapy-harness: {n} case(s) ignored: {why}");
    }
    let conclusion = libtest_mimic::run(&args, trials);
    let session = Arc::into_inner(session).expect("the trials are done");
    let results = std::mem::take(&mut *results.lock().unwrap());
    let errors = runtime.block_on(session.finish(results));
    drop(runtime);
    acapy_harness::agents::cleanup::sweep();
    for e in &errors {
        eprintln!("error: {e}");
    }
    if !errors.is_empty() {
        return ExitCode::FAILURE;
    }
    conclusion.exit_code()
}
