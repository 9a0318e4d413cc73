//! The smaller commands: `validate`, `list`, `install`, `bench`, `report
//! merge`.

use super::args::{BenchArgs, InputArgs, MergeArgs, SelectArgs};
use super::run::plan_error;
use super::{bad_input, failed, say, Terminal, EXIT_FAILED};
use crate::agents::select;
use crate::agents::version::Release;
use crate::agents::{Notices, Provider as _};
use crate::config::Config;
use crate::contract::{DocumentCache, DocumentKey, SourceKind};
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
/// and named); with `--acapy`, each request's operation against the cached
/// documents of those versions. Nothing starts.
pub(super) fn validate(
    paths: &[PathBuf],
    inputs: &InputArgs,
    versions: &[String],
    terminal: &Terminal,
) -> u8 {
    let loaded = inputs.read().map_err(|d| d.to_string()).and_then(|inputs| {
        let mut config = Config::find(paths).map_err(|d| d.to_string())?;
        let services = config
            .take_services(&inputs.names())
            .map_err(|d| d.to_string())?;
        let known = suite::known_names(&inputs, &services);
        suite::load_with(paths, &known).map_err(|d| d.to_string())
    });
    let scenarios = match loaded {
        Ok(scenarios) => scenarios,
        Err(d) => return bad_input(d, terminal),
    };
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
    let mut problems = Vec::new();
    let cache = DocumentCache::default_location();
    for version in versions {
        match cache.load_all(version) {
            Ok(documents) if documents.is_empty() => {
                say(&format!(
                    "no cached API document for ACA-Py {version}: a run on it (with --contract warn, the default) caches one"
                ));
            }
            Ok(documents) => {
                let keys: Vec<String> = documents.iter().map(|(k, _)| k.to_string()).collect();
                say(&format!(
                    "checking every request against the documents of ACA-Py {}",
                    keys.join(", ")
                ));
                let documents: Vec<_> = documents.into_iter().map(|(_, d)| d).collect();
                problems.extend(crate::contract::steps::unknown_operations(
                    &scenarios, version, &documents,
                ));
            }
            Err(e) => return failed(e),
        }
    }
    if !problems.is_empty() {
        return bad_input(crate::diagnostic::Diagnostics(problems), terminal);
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

/// `api diff FROM TO`: the two versions' documents compared.
pub(super) async fn api_diff(from: &str, to: &str, json: bool, terminal: &Terminal) -> u8 {
    let mut documents = Vec::new();
    for version in [from, to] {
        let release = match Release::parse(version) {
            Ok(r) => r,
            Err(e) => return bad_input(format!("error: {e}"), terminal),
        };
        match document_of(&release).await {
            Ok(document) => documents.push(document),
            Err(e) => return failed(format!("{e:#}")),
        }
    }
    let diff = crate::contract::diff(&documents[0], &documents[1]);
    match json {
        true => say(&serde_json::to_string_pretty(&diff).expect("a diff is JSON")),
        false => say(diff.render().trim_end()),
    };
    0
}

/// A version's document: the cached one (the plainest, single-tenant),
/// else one fetched from an agent of that version started for the purpose.
async fn document_of(release: &Release) -> anyhow::Result<crate::contract::ApiDocument> {
    let cache = DocumentCache::default_location();
    let version = release.to_string();
    if let Some((_, document)) = cache.load_version(&version, None)? {
        return Ok(document);
    }
    let notices = Notices::default();
    notices.say(format!(
        "no cached API document for ACA-Py {version}: starting one to ask it"
    ));
    let provider = crate::agents::process::ProcessProvider::new(release.clone());
    provider.prepare(&notices).await?;
    let scope = crate::agents::Scope::standalone(&format!("api-diff::{version}"));
    let spec = crate::agents::AgentSpec {
        role: "agent".into(),
        label: format!("ACA-Py {version}"),
        ..Default::default()
    };
    let mut agents = provider.start(&[spec], &scope).await?;
    let client = crate::admin::AdminClient::new(&agents[0].admin);
    let key = DocumentKey::new(SourceKind::Process, &agents[0].version, "askar", false, &[]);
    let fetched = cache.get_or_fetch(&key, &client).await;
    crate::agents::stop_all(&mut agents).await;
    scope.close().await;
    fetched?;
    cache
        .load(&key)?
        .ok_or_else(|| anyhow::anyhow!("the document of {key} was not kept in the cache"))
}

/// `coverage REPORT.json...`: each version's coverage, from what the runs
/// of the reports sent, against the cached documents.
pub(super) fn coverage(reports: &[PathBuf], terminal: &Terminal) -> u8 {
    let merged = match report::merge::merge(reports) {
        Ok(merged) => merged,
        Err(e) => return bad_input(format!("error: {e:#}"), terminal),
    };
    let coverage = report::coverage::of(&merged.results, &DocumentCache::default_location());
    if coverage.is_empty() {
        say("no operation was sent in these reports' cases (were they written with --contract off?)");
        return 0;
    }
    say(report::coverage::render(&coverage).trim_end());
    0
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
