//! The smaller commands: `validate`, `list`, `install`, `bench`, `report
//! merge`.

use super::args::{BenchArgs, InputArgs, MergeArgs, SelectArgs};
use super::run::plan_error;
use super::{bad_input, failed, say, Terminal, EXIT_FAILED};
use crate::agents::select;
use crate::agents::version::Release;
use crate::agents::{Notices, Provider as _};
use crate::config::Config;
use crate::report;
use crate::report::colour::paint_headings;
use crate::report::console::{render_failure, Tally};
use crate::report::files::ReportFiles;
use crate::run::outcome::Status;
use crate::run::{run_case, RunOptions};
use crate::session::{Defaults, Session, Settings};
use crate::suite;
use std::path::PathBuf;
use std::time::Instant;

/// `validate`: the files, and the suite's config (its services are checked,
/// and named); nothing starts.
pub(super) fn validate(paths: &[PathBuf], inputs: &InputArgs, terminal: &Terminal) -> u8 {
    let loaded = inputs.read().map_err(|d| d.to_string()).and_then(|inputs| {
        let mut config = Config::find(paths).map_err(|d| d.to_string())?;
        let services = config
            .take_services(&inputs.names())
            .map_err(|d| d.to_string())?;
        let known = suite::known_names(&inputs, &services);
        suite::load_with(paths, &known).map_err(|d| d.to_string())
    });
    match loaded {
        Ok(scenarios) => {
            let warnings: Vec<String> = scenarios
                .iter()
                .flat_map(|s| s.warnings.iter().map(|w| w.render("warning")))
                .collect();
            for (i, warning) in warnings.iter().enumerate() {
                if i > 0 {
                    eprintln!();
                }
                eprint!("{}", paint_headings(warning, terminal.stderr_colour));
            }
            match warnings.len() {
                0 => say(&format!("{} scenario(s) OK", scenarios.len())),
                n => say(&format!(
                    "{} scenario(s) OK, {n} warning(s)",
                    scenarios.len()
                )),
            };
            0
        }
        Err(d) => bad_input(d, terminal),
    }
}

/// `list`: the cases `run` would run, as it would plan them.
pub(super) async fn list(select: SelectArgs, terminal: &Terminal) -> u8 {
    let settings = match select.settings() {
        Ok(flags) => match Settings::from_process_env() {
            Ok(environment) => flags.over(environment),
            Err(e) => return bad_input(format!("error: {e}"), terminal),
        },
        Err(e) => return bad_input(format!("error: {e}"), terminal),
    };
    let console = report::console::Console::new(terminal.stdout_colour);
    let session = match Session::new(
        settings,
        &Defaults::command_line(),
        vec![Box::new(console)],
        terminal.cancel.clone(),
    )
    .await
    {
        Ok(session) => session,
        Err(e) => return plan_error(e, terminal),
    };
    for case in session.cases() {
        let line = match case.scenario.tags.as_slice() {
            [] => case.name(),
            tags => format!("{}  [{}]", case.name(), tags.join(", ")),
        };
        if !say(&line) {
            break;
        }
    }
    0
}

/// `report merge`: exit 0 once everything is written (whatever the cases'
/// verdicts), 2 when an input cannot be read, 1 when an output cannot be written.
pub(super) fn merge_reports(args: &MergeArgs, terminal: &Terminal) -> u8 {
    let merged = match report::merge::merge(&args.inputs) {
        Ok(merged) => merged,
        Err(e) => return bad_input(format!("error: {e:#}"), terminal),
    };
    for (case, path) in &merged.replaced {
        eprintln!(
            "acapy-harness: {case} is in more than one report: keeping {}'s",
            path.display()
        );
    }
    let files = ReportFiles {
        markdown: Some(args.out.clone()),
        json: args.json.clone(),
        junit: args.junit.clone(),
        html: args.html.clone(),
        ..ReportFiles::default()
    };
    match files.write(&merged.results, &merged.notices, merged.elapsed, None) {
        Ok(()) => {
            let tally = Tally::of(&merged.results);
            say(&format!(
                "merged {} case(s) from {} report(s): {}",
                merged.results.len(),
                args.inputs.len(),
                tally.summary()
            ));
            0
        }
        Err(e) => failed(format!("cannot write the merged reports: {e}")),
    }
}

pub(super) async fn install(versions: &[String], terminal: &Terminal) -> u8 {
    let notices = Notices::default();
    for v in versions {
        let release = match Release::parse(v) {
            Ok(r) => r,
            Err(e) => return bad_input(format!("error: {e}"), terminal),
        };
        let provider = crate::agents::process::ProcessProvider::new(release);
        if let Err(e) = provider.prepare(&notices).await {
            return failed(format!("{e:#}"));
        }
        say(&format!("ACA-Py {v}: {}", provider.venv().path().display()));
    }
    0
}

pub(super) async fn bench(args: BenchArgs, terminal: &Terminal) -> u8 {
    let scenarios = match suite::load(std::slice::from_ref(&args.scenario)) {
        Ok(s) => s,
        Err(d) => return bad_input(d, terminal),
    };
    let external = match select::external(&args.agent_urls, &args.agent_keys) {
        Ok(e) => e,
        Err(e) => return bad_input(format!("error: {e}"), terminal),
    };
    let cases = suite::cases(&scenarios, &[external]);
    let Some(case) = cases.first() else {
        return bad_input("error: no scenario to run", terminal);
    };
    let mut times = Vec::new();
    for _ in 0..args.runs.max(1) {
        let started = Instant::now();
        let result = run_case(case, &RunOptions::default()).await;
        let elapsed = started.elapsed().as_secs_f64();
        if result.status != Status::Passed {
            eprintln!(
                "{}",
                paint_headings(&render_failure(&result), terminal.stderr_colour)
            );
            return EXIT_FAILED;
        }
        times.push(elapsed);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    say(&format!(
        "runs={} median_s={:.3} min_s={:.3} max_s={:.3}",
        times.len(),
        times[times.len() / 2],
        times[0],
        times[times.len() - 1]
    ));
    0
}
