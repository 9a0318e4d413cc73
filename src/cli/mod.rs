//! The `acapy-harness` command line: the arguments ([`args`]), `run` over
//! the session layer ([`run`]), and the smaller commands ([`commands`]).
//! The command line alone renders errors with `error:` and picks the exit
//! code.

use crate::agents::cleanup;
use crate::agents::version::DEFAULT_VERSION;
use crate::report::colour::{paint_headings, ColorChoice};
use crate::schema::SchemaKind;
use crate::session::signals::Interrupts;
use crate::session::Cancel;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit codes: 0 all passed, 1 a case failed, 2 bad input (nothing was
/// started), 130 interrupted.
pub const EXIT_FAILED: u8 = 1;
pub const EXIT_BAD_INPUT: u8 = 2;
pub const EXIT_INTERRUPTED: u8 = 130;

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

mod args;
mod commands;
mod preload;
mod run;

pub use args::{BenchArgs, InputArgs, MergeArgs, RunArgs, SelectArgs};

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
        /// Also check every request's operation against the cached API
        /// documents of these versions (comma separated): one a version
        /// lacks is an error.
        #[arg(long, value_name = "VERSIONS", value_delimiter = ',')]
        acapy: Vec<String>,
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
    /// Work with the admin API's own documents.
    #[command(subcommand)]
    Api(ApiCommand),
    /// Preloaded ACA-Py interpreters that outlive a run.
    #[command(subcommand)]
    Preload(PreloadCommand),
    /// The operations of each version's admin API that the runs of these
    /// JSON reports sent, and those they did not.
    Coverage {
        #[arg(value_name = "REPORT.json", required = true)]
        reports: Vec<PathBuf>,
    },
    /// Print the JSON Schema of a scenario file, a fixture, `acapy-harness.yaml` or the JSON report.
    Schema {
        #[arg(value_enum)]
        kind: SchemaKind,
    },
}

#[derive(Subcommand, Debug)]
pub enum ApiCommand {
    /// What changed between two versions' admin APIs: operations added and
    /// removed, and each kept operation's body and answer fields (added,
    /// removed, retyped, made nullable or required). Documents come from the
    /// cache, else each version's agent is started briefly to serve its own.
    Diff {
        from: String,
        to: String,
        /// Print the difference as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum PreloadCommand {
    /// Import each version's ACA-Py once and keep it, in the foreground:
    /// runs started meanwhile (`--agent-start preloaded`) fork their agents
    /// from it instead of importing ACA-Py first. Ctrl-C or SIGTERM ends it
    /// and every agent it forked; a run's agents go when that run ends.
    Serve {
        #[arg(long, value_delimiter = ',', default_value = DEFAULT_VERSION)]
        acapy: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum ReportCommand {
    /// Merge JSON reports (say, of CI jobs over partitions and versions)
    /// into one Markdown matrix, and optionally one JSON report, JUnit
    /// file and HTML report.
    Merge(MergeArgs),
}

/// What the command line decided once, for every command.
pub(crate) struct Terminal {
    /// Colour on stdout and on stderr.
    pub stdout_colour: bool,
    pub stderr_colour: bool,
    pub cancel: Cancel,
    pub interrupts: Interrupts,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let cancel = Cancel::new();
    let terminal = Terminal {
        stdout_colour: cli.color.for_stream(&std::io::stdout()),
        stderr_colour: cli.color.for_stream(&std::io::stderr()),
        interrupts: Interrupts::install(cancel.clone()),
        cancel,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let code = runtime.block_on(dispatch(cli.command, &terminal));
    drop(runtime);
    cleanup::sweep();
    if terminal.cancel.reason().is_some() {
        return ExitCode::from(EXIT_INTERRUPTED);
    }
    ExitCode::from(code)
}

async fn dispatch(command: Command, terminal: &Terminal) -> u8 {
    match command {
        Command::Validate {
            paths,
            inputs,
            acapy,
        } => commands::validate(&paths, &inputs, &acapy, terminal),
        Command::List(select) => commands::list(select, terminal).await,
        Command::Install { acapy } => commands::install(&acapy, terminal).await,
        Command::Run(args) => run::run(args, terminal).await,
        Command::Bench(args) => commands::bench(args, terminal).await,
        Command::Report(ReportCommand::Merge(args)) => commands::merge_reports(&args, terminal),
        Command::Api(ApiCommand::Diff { from, to, json }) => {
            commands::api_diff(&from, &to, json, terminal).await
        }
        Command::Preload(PreloadCommand::Serve { acapy }) => preload::serve(&acapy, terminal).await,
        Command::Coverage { reports } => commands::coverage(&reports, terminal),
        Command::Schema { kind } => {
            say(&crate::schema::schema_json(kind));
            0
        }
    }
}

/// Writes a line to stdout; false once stdout is closed (`list | head`).
fn say(text: &str) -> bool {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}").and_then(|()| out.flush()).is_ok()
}

/// Bad input: said on stderr as it is rendered, exit 2.
fn bad_input(error: impl std::fmt::Display, terminal: &Terminal) -> u8 {
    let text = error.to_string();
    eprint!("{}", paint_headings(&text, terminal.stderr_colour));
    if !text.ends_with('\n') {
        eprintln!();
    }
    EXIT_BAD_INPUT
}

/// A run-time error: `error: ...` on stderr, exit 1.
fn failed(error: impl std::fmt::Display) -> u8 {
    eprintln!("error: {error}");
    EXIT_FAILED
}
