//! The arguments of the subcommands that take more than a path, and the
//! settings layer they make (see [`crate::session::settings`]).

use crate::agents::select::Modes;
use crate::agents::select::ProviderChoice;
use crate::inputs::Inputs;
use crate::partition::Partition;
use crate::session::settings::ReportSettings;
use crate::session::Settings;
use clap::Args;
use std::path::PathBuf;

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
    /// Also write the merged HTML report.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
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
    pub(super) fn read(&self) -> Result<Inputs, crate::diagnostic::Diagnostic> {
        Inputs::from_args(&self.vars, self.vars_file.as_deref(), &self.secrets)
    }
}

impl SelectArgs {
    /// The layer of settings these flags make.
    pub(super) fn settings(&self) -> Result<Settings, String> {
        let mut settings = Settings {
            paths: self.paths.clone(),
            config: self.config.clone(),
            interop: self.interop.then_some(true),
            provider: self.provider,
            image: self.image.clone(),
            agent_urls: self.agent_urls.clone(),
            agent_keys: self.agent_keys.clone(),
            service_urls: self.service_urls.clone(),
            agent_mode: self.agent_mode,
            agent_start: self.agent_start,
            filters: self.filter.clone(),
            tags: self.tags.clone(),
            skip_tags: self.skip_tags.clone(),
            partition: self.partition,
            vars: self.inputs.vars.clone(),
            vars_file: self.inputs.vars_file.clone(),
            secrets: self.inputs.secrets.clone(),
            ..Settings::default()
        };
        settings
            .add_versions(&self.acapy)
            .map_err(|e| format!("--acapy {e}"))?;
        Ok(settings)
    }
}

impl RunArgs {
    /// The layer of settings these flags make.
    pub(super) fn settings(&self) -> Result<Settings, String> {
        Ok(Settings {
            jobs: self.jobs,
            retries: self.retries,
            contract: self.contract,
            coverage: self.coverage.then_some(true),
            reports: ReportSettings {
                junit: self.junit.clone(),
                json: self.report_json.clone(),
                markdown: self.report_md.clone(),
                html: self.report_html.clone(),
                artifacts: self.artifacts.clone(),
                dir: None,
            },
            ..self.select.settings()?
        })
    }
}

#[derive(Args, Debug, Clone)]
pub struct SelectArgs {
    /// Scenario files or folders [default: scenarios].
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
    /// Suite settings [default: acapy-harness.yaml in the first folder given, else the nearest above it].
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
    /// `NAME=URL`: a service of the suite or a scenario that already runs
    /// there (your von-network, BCovrin Test): it is not started, and
    /// `${services.NAME.*}` and `service: NAME` steps use that URL (repeatable).
    #[arg(long = "service-url", value_name = "NAME=URL")]
    pub service_urls: Vec<String>,
    /// Only cases whose name contains this text (repeatable: any of them).
    #[arg(long, short = 'k')]
    pub filter: Vec<String>,
    /// `shared`: every role is a fresh sub-wallet of a multitenant agent
    /// of its version (up to one per job), started once per run; `dedicated`: every case starts
    /// its own agents; `both`: every case twice, and a different verdict is
    /// a finding [default: the config file's `agent_mode`, else shared].
    #[arg(long = "agents", value_enum, value_name = "MODE")]
    pub agent_mode: Option<Modes>,
    /// How the process provider starts an agent: `preloaded` forks it from
    /// one interpreter per version that imported ACA-Py once (plain if that
    /// interpreter cannot start, said once); `plain` runs `aca-py start`
    /// [default: the config file's `agent_start`, else preloaded].
    #[arg(long = "agent-start", value_enum, value_name = "HOW")]
    pub agent_start: Option<crate::agents::preload::AgentStart>,
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
    /// Write an HTML report: one self-contained file to open in a browser
    /// (the version grid, interop grids, each case's steps, requests,
    /// responses and failure).
    #[arg(long = "report-html", value_name = "FILE")]
    pub report_html: Option<PathBuf>,
    /// Also print a line for each step as it ends.
    #[arg(long)]
    pub steps: bool,
    /// Check every exchange against the agent's own API document: `off`,
    /// `warn` (violations reported; a step to an operation its version
    /// lacks fails), `strict` (violations fail their step) [default: the
    /// config file's `contract.mode`, else warn].
    #[arg(long, value_enum, value_name = "MODE")]
    pub contract: Option<crate::contract::ContractMode>,
    /// Count the operations of each version's admin API the run sent, and
    /// list those it did not (in the console and every report).
    #[arg(long)]
    pub coverage: bool,
    /// For each failing case, a folder with its requests, responses, events and agent logs.
    #[arg(long, value_name = "DIR")]
    pub artifacts: Option<PathBuf>,
    /// Run a failing case again, up to N more times, from scratch; one that
    /// then passes is reported as flaky [default: the config file's `retries`, else 0].
    #[arg(long, value_name = "N")]
    pub retries: Option<u32>,
    /// Soak (bench/soak.sh): run the cases N times in a row in this one
    /// run, on the same shared base agents, and after each round print its
    /// wall time, each base agent's RSS, descriptors and sub-wallets left,
    /// and the cases whose verdict changed. Reports are of the last round.
    #[arg(long, value_name = "N", hide = true, value_parser = clap::value_parser!(u32).range(1..))]
    pub rounds: Option<u32>,
    /// With `--rounds`: append each round's figures to FILE as a JSON line.
    #[arg(
        long = "soak-log",
        value_name = "FILE",
        hide = true,
        requires = "rounds"
    )]
    pub soak_log: Option<PathBuf>,
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
