//! Every file under `scenarios/` as a test case, against real ACA-Py.
//!
//! `cargo test --test scenarios -- seed` filters; `--list`, `--exact`,
//! `--format json` and `--test-threads` work as in any libtest target.
//! Versions: `ACAPY_HARNESS_VERSIONS=1.3.6,1.7.0` (default 1.3.6).

use acapy_harness::agents::cleanup;
use acapy_harness::agents::version::{Release, DEFAULT_VERSION};
use acapy_harness::report::console::render_failure;
use acapy_harness::run::outcome::Status;
use acapy_harness::run::{run_case, RunOptions};
use acapy_harness::scenario::load::{discover, load, scenario_id};
use acapy_harness::suite::{cases, Target};
use libtest_mimic::{Arguments, Completion, Failed, Trial};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

fn main() -> ExitCode {
    let args = Arguments::from_args();
    // One runtime for every trial; each trial blocks on its own case.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    cleanup::install_signal_handler();

    let versions =
        std::env::var("ACAPY_HARNESS_VERSIONS").unwrap_or_else(|_| DEFAULT_VERSION.into());
    let targets: Vec<Target> = versions
        .split(',')
        .filter(|v| !v.trim().is_empty())
        .map(|v| Target::Process(Release::parse(v).expect("ACAPY_HARNESS_VERSIONS")))
        .collect();

    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut trials = Vec::new();
    for found in discover(std::slice::from_ref(&root)).expect("scenarios/ exists") {
        match load(&found) {
            Ok(scenario) => {
                for case in cases(&[Arc::new(scenario)], &targets) {
                    let handle = runtime.handle().clone();
                    trials.push(Trial::ignorable_test(case.name(), move || {
                        let result = handle.block_on(run_case(&case, &RunOptions::default()));
                        match &result.status {
                            Status::Passed => Ok(Completion::Completed),
                            Status::ExpectedFailure { .. } => Ok(Completion::Completed),
                            Status::Skipped { reason } => Ok(Completion::ignored_with(reason)),
                            Status::Failed | Status::UnexpectedPass { .. } => {
                                Err(Failed::from(render_failure(&result)))
                            }
                        }
                    }));
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

    let conclusion = libtest_mimic::run(&args, trials);
    drop(runtime);
    cleanup::sweep();
    conclusion.exit_code()
}
