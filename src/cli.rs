//! The `acapy-harness` command line.

use crate::agents::select::{self, AgentMode, ProviderChoice};
use crate::agents::version::{Release, DEFAULT_VERSION};
use crate::agents::{cleanup, Provider};
use crate::config::Config;
use crate::inputs::Inputs;
use crate::partition::Partition;
use crate::report;
use crate::report::colour::{paint_case_line, paint_headings, ColorChoice};
use crate::report::console::{case_line, render_failed_tries, render_failure, Tally};
use crate::run::outcome::{CaseResult, Status};
use crate::run::{run_case, run_with_retries, Case, RunOptions};
use crate::schema::{schema_json, SchemaKind};
use crate::suite;
use clap::{Args, Parser, Subcommand};
use futures_util::StreamExt;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

/// Exit codes: 0 all passed, 1 a case failed, 2 bad input (nothing was started).
pub const EXIT_FAILED: u8 = 1;
pub const EXIT_BAD_INPUT: u8 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "acapy-harness",
    version,
    about = "Run YAML scenarios against real ACA-Py agents"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Colour status words and headings: `auto` on a terminal (`NO_COLOR`
    /// turns it off, `CLICOLOR_FORCE` on), `always`, `never`.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "auto",
        value_name = "WHEN"
    )]
    pub color: ColorChoice,
}

/// `println!` that survives a closed stdout: see [`say`].
macro_rules! say {
    ($($arg:tt)*) => {
        say(format_args!($($arg)*))
    };
}

/// Writes a line to stdout and returns whether it could. Once stdout is
/// closed (`acapy-harness list | head -1`) nothing more is written, nothing
/// panics, and a `run` is interrupted, as by Ctrl-C but silently: it ends
/// its cases, writes its reports and exits 130.
fn say(text: std::fmt::Arguments) -> bool {
    use std::io::Write;
    static CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if CLOSED.load(std::sync::atomic::Ordering::SeqCst) {
        return false;
    }
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{text}").and_then(|()| out.flush()).is_ok() {
        return true;
    }
    CLOSED.store(true, std::sync::atomic::Ordering::SeqCst);
    if cleanup::deferring_interrupts() {
        cleanup::interrupt_output_closed();
    }
    false
}

/// Whether stdout and stderr get colour: settled once, in `main`.
static COLOUR: std::sync::OnceLock<(bool, bool)> = std::sync::OnceLock::new();

fn colour_stdout() -> bool {
    COLOUR.get().is_some_and(|c| c.0)
}

fn colour_stderr() -> bool {
    COLOUR.get().is_some_and(|c| c.1)
}

/// A case's line for the terminal, its status word coloured there.
fn styled_case_line(result: &CaseResult) -> String {
    paint_case_line(&case_line(result), &result.status, colour_stdout())
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run scenarios against ACA-Py agents.
    Run(RunArgs),
    /// List the cases that `run` would run, without starting anything.
    List(SelectArgs),
    /// Check scenario files (YAML, keys, JSONPaths, variables, roles) without starting anything.
    Validate {
        #[arg(default_value = "scenarios")]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        inputs: InputArgs,
    },
    /// Install ACA-Py versions into the venv cache ahead of a run.
    Install {
        #[arg(long, value_delimiter = ',', default_value = DEFAULT_VERSION)]
        acapy: Vec<String>,
    },
    /// Run one scenario repeatedly on already-running agents and time it.
    Bench(BenchArgs),
    /// Work with reports already written.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Print the JSON Schema of a scenario file, a fixture or `acapy-harness.yaml`.
    Schema {
        #[arg(value_enum)]
        kind: SchemaKind,
    },
}

#[derive(Subcommand, Debug)]
pub enum ReportCommand {
    /// Merge JSON reports (say, of CI jobs over partitions and versions)
    /// into one Markdown matrix, and optionally one JSON report and JUnit file.
    Merge(MergeArgs),
}

#[derive(Args, Debug, Clone)]
pub struct MergeArgs {
    /// The Markdown matrix to write.
    #[arg(value_name = "OUT.md")]
    pub out: PathBuf,
    /// JSON reports (`--report-json`) to merge; a case in several keeps the last.
    #[arg(value_name = "IN.json", required = true)]
    pub inputs: Vec<PathBuf>,
    /// Also write the merged JSON report.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Also write the merged JUnit XML.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

/// Variables and secrets given from outside the scenario files.
#[derive(Args, Debug, Clone, Default)]
pub struct InputArgs {
    /// `NAME=VALUE`: a variable for every scenario, over its own `vars`
    /// (repeatable; the value is text).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// A YAML mapping of `NAME: value` variables: under `--var`, over the
    /// scenarios' own `vars`.
    #[arg(long = "vars-file", value_name = "FILE")]
    pub vars_file: Option<PathBuf>,
    /// `NAME=VALUE`: like `--var`, and the value is shown as `***` in every
    /// output (repeatable).
    #[arg(long = "secret", value_name = "NAME=VALUE")]
    pub secrets: Vec<String>,
}

impl InputArgs {
    fn read(&self) -> Result<Inputs, crate::diagnostic::Diagnostic> {
        Inputs::from_args(&self.vars, self.vars_file.as_deref(), &self.secrets)
    }
}

#[derive(Args, Debug, Clone)]
pub struct SelectArgs {
    /// Scenario files or folders.
    #[arg(default_value = "scenarios")]
    pub paths: Vec<PathBuf>,
    /// ACA-Py versions, comma separated: each scenario runs once per version
    /// [default: the config file's `acapy`, else 1.3.6]. `ROLE=V1,V2` (repeat
    /// the flag) pins one role to versions of its own, e.g.
    /// `--acapy 1.3.6,1.7.0 --acapy holder=0.12.8`.
    #[arg(long, value_name = "VERSIONS")]
    pub acapy: Vec<String>,
    /// Each role takes each version independently: a two-role scenario on
    /// three versions gives nine cases (issuer × holder). Roles beyond the
    /// scenario's `interop:` list (default: its first two) follow the first.
    #[arg(long)]
    pub interop: bool,
    /// Where agents come from [default: the config file's `provider`, else auto].
    #[arg(long, value_enum)]
    pub provider: Option<ProviderChoice>,
    /// Suite settings [default: acapy-harness.yaml in the first folder given].
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Image to run with `--provider docker` (default: the locally built image of the version).
    #[arg(long)]
    pub image: Option<String>,
    /// With `--provider external`: `ROLE=URL` of an agent's admin API (repeatable).
    #[arg(long = "agent-url", value_name = "ROLE=URL")]
    pub agent_urls: Vec<String>,
    /// With `--provider external`: `ROLE=KEY`, the admin API key (repeatable).
    #[arg(long = "agent-key", value_name = "ROLE=KEY")]
    pub agent_keys: Vec<String>,
    /// Only cases whose name contains this text (repeatable: any of them).
    #[arg(long, short = 'k')]
    pub filter: Vec<String>,
    /// `shared`: every role is a fresh sub-wallet of one multitenant agent
    /// per version, started once per run; `dedicated`: every case starts
    /// its own agents [default: the config file's `agent_mode`, else shared].
    #[arg(long = "agents", value_enum, value_name = "MODE")]
    pub agent_mode: Option<AgentMode>,
    /// Only scenarios with this tag (repeatable: any of them).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Not the scenarios with this tag (repeatable; over `--tag`).
    #[arg(long = "skip-tag", value_name = "TAG")]
    pub skip_tags: Vec<String>,
    #[command(flatten)]
    pub inputs: InputArgs,
    /// Only part K of N: the cases (after `-k`) split by scenario into N
    /// disjoint parts, the same on every run, for spreading a suite over CI
    /// jobs (docs/ci.md).
    #[arg(long, value_name = "K/N")]
    pub partition: Option<Partition>,
}

#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// Cases run at once; each starts its own agents [default: config `jobs`, else 2].
    #[arg(long, short = 'j')]
    pub jobs: Option<usize>,
    /// Write a JUnit XML report (one test case per scenario and version).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write a JSON report (shape: docs/reports.md).
    #[arg(long = "report-json", value_name = "FILE")]
    pub report_json: Option<PathBuf>,
    /// Write a Markdown conformance matrix (scenarios x versions).
    #[arg(long = "report-md", value_name = "FILE")]
    pub report_md: Option<PathBuf>,
    /// For each failing case, a folder with its requests, responses, events and agent logs.
    #[arg(long, value_name = "DIR")]
    pub artifacts: Option<PathBuf>,
    /// Run a failing case again, up to N more times, from scratch; one that
    /// then passes is reported as flaky [default: the config file's `retries`, else 0].
    #[arg(long, value_name = "N")]
    pub retries: Option<u32>,
}

impl RunArgs {
    /// Writes every report asked for; an error names the file.
    fn write_reports(
        &self,
        results: &[CaseResult],
        elapsed: std::time::Duration,
    ) -> anyhow::Result<()> {
        use anyhow::Context;
        for path in [&self.junit, &self.report_json, &self.report_md]
            .into_iter()
            .flatten()
        {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create {}", parent.display()))?;
            }
        }
        if let Some(path) = &self.junit {
            report::junit::write(results, "acapy-harness", path)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        if let Some(path) = &self.report_json {
            report::json::write(results, elapsed, path)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        if let Some(path) = &self.report_md {
            report::markdown::write(results, elapsed, path)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        if let Some(dir) = &self.artifacts {
            for result in results.iter().filter(|r| r.status.is_failure()) {
                let folder = report::artifacts::write(dir, result)
                    .with_context(|| format!("cannot write artifacts under {}", dir.display()))?;
                say!("artifacts of {}: {}", result.name, folder.display());
            }
        }
        Ok(())
    }
}

#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// The scenario to repeat.
    pub scenario: PathBuf,
    /// `ROLE=URL` of a running agent's admin API (repeatable).
    #[arg(long = "agent-url", value_name = "ROLE=URL", required = true)]
    pub agent_urls: Vec<String>,
    #[arg(long = "agent-key", value_name = "ROLE=KEY")]
    pub agent_keys: Vec<String>,
    /// How many runs.
    #[arg(short = 'n', long, default_value_t = 10)]
    pub runs: usize,
}

/// What a run will do, settled before anything starts.
struct Plan {
    cases: Vec<Case>,
    jobs: usize,
    options: RunOptions,
    /// How many times a failing case runs again.
    retries: u32,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = COLOUR.set((
        cli.color.for_stream(&std::io::stdout()),
        cli.color.for_stream(&std::io::stderr()),
    ));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    cleanup::install_signal_handler();
    let code = runtime.block_on(dispatch(cli));
    drop(runtime);
    cleanup::sweep();
    if cleanup::interrupted() {
        return ExitCode::from(130);
    }
    ExitCode::from(code)
}

async fn dispatch(cli: Cli) -> u8 {
    match cli.command {
        Command::Validate { paths, inputs } => {
            match inputs.read().map_err(|d| d.to_string()).and_then(|inputs| {
                suite::load_with(&paths, &inputs.names()).map_err(|d| d.to_string())
            }) {
                Ok(scenarios) => {
                    say!("{} scenario(s) OK", scenarios.len());
                    0
                }
                Err(d) => bad_input(d),
            }
        }
        Command::List(select) => match plan(&select, None).await {
            Ok(plan) => {
                for case in plan.cases {
                    let line = match case.scenario.tags.as_slice() {
                        [] => case.name(),
                        tags => format!("{}  [{}]", case.name(), tags.join(", ")),
                    };
                    if !say!("{line}") {
                        break;
                    }
                }
                0
            }
            Err(code) => code,
        },
        Command::Install { acapy } => install(&acapy).await,
        Command::Run(args) => match plan(&args.select, args.jobs).await {
            Ok(mut plan) => {
                plan.options.keep_artifacts = args.artifacts.is_some();
                plan.retries = args.retries.unwrap_or(plan.retries);
                // What killed earlier runs left (containers, networks): reported and removed.
                sweep_stale(&plan.cases).await;
                let (code, results, elapsed) = run(plan).await;
                match args.write_reports(&results, elapsed) {
                    Ok(()) => code,
                    Err(e) => {
                        eprintln!("error: {e:#}");
                        EXIT_FAILED
                    }
                }
            }
            Err(code) => code,
        },
        Command::Bench(args) => bench(args).await,
        Command::Report(ReportCommand::Merge(args)) => merge_reports(&args),
        Command::Schema { kind } => {
            say!("{}", schema_json(kind));
            0
        }
    }
}

/// `report merge`: exit 0 once everything is written (whatever the cases'
/// verdicts), 2 when an input cannot be read, 1 when an output cannot be written.
fn merge_reports(args: &MergeArgs) -> u8 {
    let (results, elapsed) = match report::merge::merge(&args.inputs) {
        Ok(merged) => merged,
        Err(e) => return bad_input(format!("error: {e:#}")),
    };
    let written = (|| -> std::io::Result<()> {
        report::markdown::write(&results, elapsed, &args.out)?;
        if let Some(path) = &args.json {
            report::json::write(&results, elapsed, path)?;
        }
        if let Some(path) = &args.junit {
            report::junit::write(&results, "acapy-harness", path)?;
        }
        Ok(())
    })();
    match written {
        Ok(()) => {
            let tally = Tally::of(&results);
            say!(
                "merged {} case(s) from {} report(s): {}",
                results.len(),
                args.inputs.len(),
                tally.summary()
            );
            0
        }
        Err(e) => {
            eprintln!("error: cannot write the merged reports: {e}");
            EXIT_FAILED
        }
    }
}

fn bad_input(error: impl std::fmt::Display) -> u8 {
    let text = error.to_string();
    eprint!("{}", paint_headings(&text, colour_stderr()));
    if !text.ends_with('\n') {
        eprintln!();
    }
    EXIT_BAD_INPUT
}

/// Everything checked before anything starts: files, config, flags.
async fn plan(select: &SelectArgs, jobs: Option<usize>) -> Result<Plan, u8> {
    let config = match &select.config {
        Some(path) => Config::read(path),
        None => Config::find(&select.paths),
    }
    .map_err(bad_input)?;
    let inputs = select.inputs.read().map_err(bad_input)?;
    let scenarios = suite::load_with(&select.paths, &inputs.names()).map_err(bad_input)?;
    let mode = agent_mode(select, &config).map_err(bad_input)?;
    let matrix = matrix(select, &config, mode).await.map_err(bad_input)?;
    let tags = suite::TagFilter {
        tags: select.tags.clone(),
        skip_tags: select.skip_tags.clone(),
    };
    let scenarios: Vec<_> = scenarios.into_iter().filter(|s| tags.admits(s)).collect();
    let cases: Vec<Case> = suite::cases_in(&scenarios, &matrix)
        .into_iter()
        .filter(|c| select.filter.is_empty() || select.filter.iter().any(|f| c.name().contains(f)))
        .filter(|c| select.partition.is_none_or(|p| p.contains(&c.scenario.id)))
        .collect();
    let apart =
        |c: &&Case| c.providers().len() > 1 && c.providers().iter().any(|p| !p.interoperates());
    if let Some(case) = cases.iter().find(apart) {
        return Err(bad_input(format!(
            "error: {} puts roles on different versions in containers, which do not share a network yet\n  = help: run interop cases with --provider process",
            case.name()
        )));
    }
    Ok(Plan {
        cases,
        jobs: jobs.or(config.jobs).unwrap_or(2).max(1),
        retries: config.retries.unwrap_or(0),
        options: RunOptions {
            agent_args: config.agent_args.clone(),
            inputs,
            // Keys given on the command line: never shown.
            secrets: crate::redact::Redactor::new(
                select
                    .agent_keys
                    .iter()
                    .filter_map(|k| k.split_once('=').map(|(_, key)| key)),
            ),
            ..RunOptions::default()
        },
    })
}

/// `--agents`, else the config file's `agent_mode`, else shared.
fn agent_mode(select: &SelectArgs, config: &Config) -> anyhow::Result<AgentMode> {
    match (select.agent_mode, &config.agent_mode) {
        (Some(mode), _) => Ok(mode),
        (None, Some(name)) => AgentMode::parse(name).ok_or_else(|| {
            anyhow::anyhow!(
                "error: unknown agent_mode `{name}` in {} (shared or dedicated)",
                config
                    .path
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            )
        }),
        (None, None) => Ok(AgentMode::Shared),
    }
}

/// Which versions each role takes, and where their agents come from.
async fn matrix(
    select: &SelectArgs,
    config: &Config,
    mode: AgentMode,
) -> anyhow::Result<suite::Matrix> {
    let mut versions =
        suite::Versions::parse(&select.acapy).map_err(|e| anyhow::anyhow!("error: --acapy {e}"))?;
    if versions.all.is_empty() {
        versions.all = match config.acapy.is_empty() {
            true => vec![DEFAULT_VERSION.to_owned()],
            false => config.acapy.clone(),
        };
    }
    for (role, list) in &config.role_versions {
        versions
            .pinned
            .entry(role.clone())
            .or_insert_with(|| list.clone());
    }
    let interop = select.interop || config.interop.unwrap_or(false);
    let distinct = versions.distinct();
    let sources = sources(select, config, &distinct).await?;
    if sources.iter().any(|s| !s.starts_agents()) {
        // External agents: every role where it runs.
        if interop || !versions.pinned.is_empty() {
            anyhow::bail!("error: --interop and ROLE=VERSIONS need agents the harness starts");
        }
        return Ok(suite::Matrix::new(sources));
    }
    let sources = select::with_mode(sources, mode, &config.agent_args);
    let by_version: BTreeMap<&String, Arc<dyn Provider>> = distinct.iter().zip(sources).collect();
    let pick = |list: &[String]| {
        list.iter()
            .map(|v| by_version[v].clone())
            .collect::<Vec<_>>()
    };
    Ok(suite::Matrix {
        sources: pick(&versions.all),
        pinned: versions
            .pinned
            .iter()
            .map(|(role, list)| (role.clone(), pick(list)))
            .collect(),
        interop,
    })
}

/// Where agents come from: one source per version, or the external agents.
async fn sources(
    select: &SelectArgs,
    config: &Config,
    versions: &[String],
) -> anyhow::Result<Vec<Arc<dyn Provider>>> {
    let provider = match (select.provider, &config.provider) {
        (Some(p), _) => p,
        (None, Some(name)) => ProviderChoice::parse(name).ok_or_else(|| {
            anyhow::anyhow!(
                "error: unknown provider `{name}` in {} (process, docker or external)",
                config
                    .path
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            )
        })?,
        (None, None) => ProviderChoice::Auto,
    };
    if provider == ProviderChoice::External {
        let mut urls = select.agent_urls.clone();
        let mut keys = select.agent_keys.clone();
        for (role, agent) in &config.agents {
            if !urls.iter().any(|u| u.starts_with(&format!("{role}="))) {
                urls.push(format!("{role}={}", agent.url));
                if let Some(var) = &agent.api_key_env {
                    let key = std::env::var(var).map_err(|_| {
                        anyhow::anyhow!("error: the admin API key of `{role}` should be in ${var}, which is not set")
                    })?;
                    keys.push(format!("{role}={key}"));
                }
            }
        }
        return Ok(vec![select::external(&urls, &keys)?]);
    }
    if !select.agent_urls.is_empty() {
        anyhow::bail!("error: --agent-url goes with --provider external");
    }
    let releases = versions
        .iter()
        .map(|v| Release::parse(v).map_err(|e| anyhow::anyhow!("error: {e}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let image = |release: &Release| {
        select
            .image
            .clone()
            .or_else(|| config.images.get(&release.to_string()).cloned())
    };
    Ok(select::for_versions(provider, &releases, image).await)
}

/// Installs (or finds) what every source of the plan needs before the first
/// case, so no case's time includes a pip install or an image pull, and a
/// failed install fails the run once, with pip's (or the engine's) own error.
/// Says on stderr what it does, how far along and how long it took.
async fn prepare(cases: &[Case]) -> anyhow::Result<()> {
    let mut sources: Vec<Arc<dyn Provider>> = Vec::new();
    for source in cases.iter().flat_map(Case::providers) {
        if !sources.iter().any(|s| Arc::ptr_eq(s, &source)) {
            sources.push(source);
        }
    }
    let total = sources.len();
    for (n, source) in sources.iter().enumerate() {
        let started = Instant::now();
        source
            .prepare()
            .await
            .map_err(|e| anyhow::anyhow!("cannot prepare {}: {e:#}", source.label()))?;
        let took = started.elapsed();
        // Quick when all is in place already: only slow steps are worth a line.
        if took > std::time::Duration::from_secs(1) {
            eprintln!(
                "acapy-harness: prepared {} ({}/{total}) in {:.0}s",
                source.label(),
                n + 1,
                took.as_secs_f64()
            );
        }
    }
    Ok(())
}

/// Stops what outlived the cases (shared base agents).
async fn finish(cases: &[Case]) {
    let mut sources: Vec<Arc<dyn Provider>> = Vec::new();
    for source in cases.iter().flat_map(Case::providers) {
        if !sources.iter().any(|s| Arc::ptr_eq(s, &source)) {
            sources.push(source);
        }
    }
    futures_util::future::join_all(sources.iter().map(|s| s.finish())).await;
}

/// Lets each kind of provider of the plan remove what killed runs left.
async fn sweep_stale(cases: &[Case]) {
    let mut swept = Vec::new();
    for provider in cases.iter().flat_map(Case::providers) {
        if !swept.contains(&provider.kind()) {
            swept.push(provider.kind());
            provider.sweep_stale().await;
        }
    }
}

async fn run(plan: Plan) -> (u8, Vec<CaseResult>, std::time::Duration) {
    let Plan {
        cases,
        jobs,
        options,
        retries,
    } = plan;
    if let Err(e) = prepare(&cases).await {
        eprintln!("error: {e:#}");
        return (EXIT_FAILED, Vec::new(), std::time::Duration::ZERO);
    }
    let started = Instant::now();
    cleanup::defer_interrupts();
    say!("running {} case(s), {jobs} at a time", cases.len());
    let mut results = run_all(&cases, jobs, &options, retries).await;
    if !cleanup::interrupted() {
        finish(&cases).await;
    }
    results.sort_by(|a, b| a.name.cmp(&b.name));
    let failures: Vec<&CaseResult> = results.iter().filter(|r| r.status.is_failure()).collect();
    if !failures.is_empty() {
        say!("\nfailures:");
        for f in &failures {
            say!(
                "\n---- {} ----\n{}",
                f.name,
                paint_headings(&render_failure(f), colour_stdout())
            );
        }
    }
    print_flaky(&results);
    let elapsed = started.elapsed();
    let tally = Tally::of(&results);
    say!("\n{}\nsummary: {}", tally.details(elapsed), tally.summary());
    let code = if results.iter().all(|r| r.status.is_success()) {
        0
    } else {
        EXIT_FAILED
    };
    (code, results, elapsed)
}

/// The failed tries of each flaky case, after the failures.
fn print_flaky(results: &[CaseResult]) {
    let mut heading = false;
    for r in results {
        if let Status::Flaky { failed_tries } = &r.status {
            if !std::mem::replace(&mut heading, true) {
                say!("\nflaky (passed on a retry):");
            }
            say!(
                "\n---- {} ----\n{}",
                r.name,
                render_failed_tries(failed_tries)
            );
        }
    }
}

/// Runs `cases`, `jobs` at a time (each failing one up to `retries` more times), printing each one's line as it ends, and
/// returns their results in the order of `cases`.
///
/// The first Ctrl-C or SIGTERM (or stdout closing) stops it: no case starts
/// any more, the running ones are dropped (a process agent is killed and its
/// folder removed as its handle drops; the rest is swept at exit, after the
/// reports are written), and their results say `interrupted`, with
/// `started: false` for the cases that never started.
async fn run_all(
    cases: &[Case],
    jobs: usize,
    options: &RunOptions,
    retries: u32,
) -> Vec<CaseResult> {
    let began: std::sync::Mutex<std::collections::HashMap<usize, Instant>> = Default::default();
    let mut done: Vec<Option<CaseResult>> = vec![None; cases.len()];
    {
        let began = &began;
        let mut finished = futures_util::stream::iter(cases.iter().enumerate())
            .map(|(i, case)| async move {
                began
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(i, Instant::now());
                (i, run_with_retries(case, options, retries).await)
            })
            .buffer_unordered(jobs);
        let interrupt = cleanup::interrupt_requested();
        tokio::pin!(interrupt);
        loop {
            tokio::select! {
                biased;
                _ = &mut interrupt => break,
                next = finished.next() => match next {
                    Some((i, result)) => {
                        say!("{}", styled_case_line(&result));
                        done[i] = Some(result);
                    }
                    None => break,
                },
            }
        }
        // Dropping the stream drops the cases still running.
    }
    let began = began.into_inner().unwrap_or_else(|e| e.into_inner());
    cases
        .iter()
        .zip(done)
        .enumerate()
        .map(|(i, (case, result))| match (result, began.get(&i)) {
            (Some(result), _) => result,
            (None, Some(at)) => {
                let result = case.interrupted(true, at.elapsed());
                say!("{}", styled_case_line(&result));
                result
            }
            (None, None) => case.interrupted(false, std::time::Duration::ZERO),
        })
        .collect()
}

async fn install(versions: &[String]) -> u8 {
    for v in versions {
        let release = match Release::parse(v) {
            Ok(r) => r,
            Err(e) => return bad_input(format!("error: {e}")),
        };
        let provider = crate::agents::process::ProcessProvider::new(release);
        if let Err(e) = provider.prepare().await {
            eprintln!("error: {e:#}");
            return EXIT_FAILED;
        }
        say!("ACA-Py {v}: {}", provider.venv().path().display());
    }
    0
}

async fn bench(args: BenchArgs) -> u8 {
    let scenarios = match suite::load(std::slice::from_ref(&args.scenario)) {
        Ok(s) => s,
        Err(d) => return bad_input(d),
    };
    let external = match select::external(&args.agent_urls, &args.agent_keys) {
        Ok(e) => e,
        Err(e) => return bad_input(e),
    };
    let cases = suite::cases(&scenarios, &[external]);
    let Some(case) = cases.first() else {
        return bad_input("error: no scenario to run");
    };
    let mut times = Vec::new();
    for _ in 0..args.runs.max(1) {
        let started = Instant::now();
        let result = run_case(case, &RunOptions::default()).await;
        let elapsed = started.elapsed().as_secs_f64();
        if result.status != Status::Passed {
            eprintln!(
                "{}",
                paint_headings(&render_failure(&result), colour_stderr())
            );
            return EXIT_FAILED;
        }
        times.push(elapsed);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    say!(
        "runs={} median_s={:.3} min_s={:.3} max_s={:.3}",
        times.len(),
        times[times.len() / 2],
        times[0],
        times[times.len() - 1]
    );
    0
}
