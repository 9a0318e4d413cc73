//! The `acapy-harness` command line: the arguments ([`args`]), what a run
//! will do, settled before anything starts ([`plan`]), running the cases
//! with interrupts and reports ([`run`]), and the smaller commands
//! ([`commands`]).

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

mod args;
mod commands;
mod plan;
mod run;

pub use args::{BenchArgs, InputArgs, MergeArgs, RunArgs, SelectArgs};
use commands::{bench, install, merge_reports};
use plan::{plan, Plan};
use run::{run, sweep_stale};

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
            // The suite's config too: its services are checked, and named.
            let loaded = inputs.read().map_err(|d| d.to_string()).and_then(|inputs| {
                let mut config = Config::find(&paths).map_err(|d| d.to_string())?;
                let services = config
                    .take_services(&inputs.names())
                    .map_err(|d| d.to_string())?;
                let known = suite::known_names(&inputs, &services);
                suite::load_with(&paths, &known).map_err(|d| d.to_string())
            });
            match loaded {
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
                sweep_stale(&plan.cases, &plan.options).await;
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

fn bad_input(error: impl std::fmt::Display) -> u8 {
    let text = error.to_string();
    eprint!("{}", paint_headings(&text, colour_stderr()));
    if !text.ends_with('\n') {
        eprintln!();
    }
    EXIT_BAD_INPUT
}
