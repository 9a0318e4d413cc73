//! The `acapy-harness` command line.

use crate::agents::cleanup;
use crate::agents::external::Endpoint;
use crate::agents::version::{Release, DEFAULT_VERSION};
use crate::report::console::{case_line, render_failure, Tally};
use crate::run::outcome::{CaseResult, Status};
use crate::run::{run_case, Case, RunOptions};
use crate::suite::{self, Target};
use clap::{Args, Parser, Subcommand, ValueEnum};
use futures_util::StreamExt;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
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
    },
    /// Install ACA-Py versions into the venv cache ahead of a run.
    Install {
        #[arg(long, value_delimiter = ',', default_value = DEFAULT_VERSION)]
        acapy: Vec<String>,
    },
    /// Run one scenario repeatedly on already-running agents and time it.
    Bench(BenchArgs),
}

#[derive(Args, Debug, Clone)]
pub struct SelectArgs {
    /// Scenario files or folders.
    #[arg(default_value = "scenarios")]
    pub paths: Vec<PathBuf>,
    /// ACA-Py versions, comma separated: each scenario runs once per version.
    #[arg(long, value_delimiter = ',', default_value = DEFAULT_VERSION)]
    pub acapy: Vec<String>,
    #[arg(long, value_enum, default_value_t = ProviderKind::Process)]
    pub provider: ProviderKind,
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
}

#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// Cases run at once (each starts its own agents).
    #[arg(long, short = 'j', default_value_t = 2)]
    pub jobs: usize,
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

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    Process,
    Docker,
    External,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    cleanup::install_signal_handler();
    let code = runtime.block_on(dispatch(cli));
    drop(runtime);
    cleanup::sweep();
    ExitCode::from(code)
}

async fn dispatch(cli: Cli) -> u8 {
    match cli.command {
        Command::Validate { paths } => match suite::load(&paths) {
            Ok(scenarios) => {
                println!("{} scenario(s) OK", scenarios.len());
                0
            }
            Err(d) => bad_input(d),
        },
        Command::List(select) => match plan(&select) {
            Ok(cases) => {
                for case in cases {
                    println!("{}", case.name());
                }
                0
            }
            Err(code) => code,
        },
        Command::Install { acapy } => install(&acapy).await,
        Command::Run(args) => match plan(&args.select) {
            Ok(cases) => run(cases, args.jobs.max(1)).await,
            Err(code) => code,
        },
        Command::Bench(args) => bench(args).await,
    }
}

fn bad_input(error: impl std::fmt::Display) -> u8 {
    eprint!("{error}");
    let text = error.to_string();
    if !text.ends_with('\n') {
        eprintln!();
    }
    EXIT_BAD_INPUT
}

/// Everything checked before anything starts.
fn plan(select: &SelectArgs) -> Result<Vec<Case>, u8> {
    let scenarios = suite::load(&select.paths).map_err(bad_input)?;
    let targets = targets(select).map_err(bad_input)?;
    let cases = suite::cases(&scenarios, &targets);
    Ok(cases
        .into_iter()
        .filter(|c| select.filter.is_empty() || select.filter.iter().any(|f| c.name().contains(f)))
        .collect())
}

fn targets(select: &SelectArgs) -> anyhow::Result<Vec<Target>> {
    if select.provider == ProviderKind::External {
        return Ok(vec![Target::External(endpoints(
            &select.agent_urls,
            &select.agent_keys,
        )?)]);
    }
    if !select.agent_urls.is_empty() {
        anyhow::bail!("error: --agent-url goes with --provider external");
    }
    select
        .acapy
        .iter()
        .map(|v| {
            let release = Release::parse(v).map_err(|e| anyhow::anyhow!("error: {e}"))?;
            Ok(match select.provider {
                ProviderKind::Process => Target::Process(release),
                ProviderKind::Docker => Target::Docker {
                    release,
                    image: select.image.clone(),
                },
                ProviderKind::External => unreachable!(),
            })
        })
        .collect()
}

pub fn endpoints(urls: &[String], keys: &[String]) -> anyhow::Result<BTreeMap<String, Endpoint>> {
    let pair = |text: &str, what: &str| -> anyhow::Result<(String, String)> {
        text.split_once('=')
            .map(|(r, v)| (r.trim().to_owned(), v.trim().to_owned()))
            .filter(|(r, v)| !r.is_empty() && !v.is_empty())
            .ok_or_else(|| anyhow::anyhow!("error: `{text}` is not ROLE={what}"))
    };
    let mut endpoints = BTreeMap::new();
    for url in urls {
        let (role, admin_url) = pair(url, "URL")?;
        endpoints.insert(
            role,
            Endpoint {
                admin_url,
                api_key: None,
            },
        );
    }
    if endpoints.is_empty() {
        anyhow::bail!("error: --provider external needs `--agent-url ROLE=URL` for every role");
    }
    for key in keys {
        let (role, api_key) = pair(key, "KEY")?;
        let endpoint = endpoints.get_mut(&role).ok_or_else(|| {
            anyhow::anyhow!("error: --agent-key for `{role}`, which has no --agent-url")
        })?;
        endpoint.api_key = Some(api_key);
    }
    Ok(endpoints)
}

async fn run(cases: Vec<Case>, jobs: usize) -> u8 {
    let started = Instant::now();
    println!("running {} case(s), {jobs} at a time", cases.len());
    let options = RunOptions::default();
    let mut results: Vec<CaseResult> = futures_util::stream::iter(cases.iter())
        .map(|case| {
            let options = options.clone();
            async move { run_case(case, &options).await }
        })
        .buffer_unordered(jobs)
        .inspect(|result| println!("{}", case_line(result)))
        .collect()
        .await;
    results.sort_by(|a, b| a.name.cmp(&b.name));
    let failures: Vec<&CaseResult> = results.iter().filter(|r| !r.status.is_success()).collect();
    if !failures.is_empty() {
        println!("\nfailures:");
        for f in &failures {
            println!("\n---- {} ----\n{}", f.name, render_failure(f));
        }
    }
    let tally = Tally::of(&results);
    println!("\nsummary: {}", tally.summary(started.elapsed()));
    if results.iter().all(|r| r.status.is_success()) {
        0
    } else {
        EXIT_FAILED
    }
}

async fn install(versions: &[String]) -> u8 {
    for v in versions {
        let release = match Release::parse(v) {
            Ok(r) => r,
            Err(e) => return bad_input(format!("error: {e}")),
        };
        let provider = crate::agents::process::ProcessProvider::new(release);
        if let Err(e) = crate::agents::Provider::prepare(&provider).await {
            eprintln!("error: {e:#}");
            return EXIT_FAILED;
        }
        println!("ACA-Py {v}: {}", provider.venv().display());
    }
    0
}

async fn bench(args: BenchArgs) -> u8 {
    let scenarios = match suite::load(std::slice::from_ref(&args.scenario)) {
        Ok(s) => s,
        Err(d) => return bad_input(d),
    };
    let endpoints = match endpoints(&args.agent_urls, &args.agent_keys) {
        Ok(e) => e,
        Err(e) => return bad_input(e),
    };
    let cases = suite::cases(&scenarios, &[Target::External(endpoints)]);
    let Some(case) = cases.first() else {
        return bad_input("error: no scenario to run");
    };
    let mut times = Vec::new();
    for _ in 0..args.runs.max(1) {
        let started = Instant::now();
        let result = run_case(case, &RunOptions::default()).await;
        let elapsed = started.elapsed().as_secs_f64();
        if result.status != Status::Passed {
            eprintln!("{}", render_failure(&result));
            return EXIT_FAILED;
        }
        times.push(elapsed);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    println!(
        "runs={} median_s={:.3} min_s={:.3} max_s={:.3}",
        times.len(),
        times[times.len() / 2],
        times[0],
        times[times.len() - 1]
    );
    0
}
