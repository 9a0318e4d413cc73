//! What a run will do, settled before anything starts: the suite's file,
//! the scenarios, variables, the version matrix, where agents come from,
//! which cases, and which reports. Every problem is bad input, found here.

use super::settings::Settings;
use crate::agents::preload::AgentStart;
use crate::agents::select::{self, Modes, ProviderChoice};
use crate::agents::version::{Release, DEFAULT_VERSION};
use crate::agents::{AgentMode, Notices, Provider, RunScope};
use crate::config::Config;
use crate::inputs::Inputs;
use crate::redact::Redactor;
use crate::report::files::ReportFiles;
use crate::run::{Case, RunOptions};
use crate::suite::{self, Matrix, TagFilter};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// What a front end uses when nobody said: `run` picks the provider by
/// what the machine has; the `cargo test` target runs processes, and also
/// containers of a few versions.
#[derive(Debug, Clone)]
pub struct Defaults {
    pub provider: ProviderChoice,
    pub also_in_containers: Vec<String>,
}

impl Defaults {
    pub fn command_line() -> Defaults {
        Defaults {
            provider: ProviderChoice::Auto,
            also_in_containers: Vec::new(),
        }
    }

    pub fn cargo_test() -> Defaults {
        Defaults {
            provider: ProviderChoice::Process,
            also_in_containers: vec!["1.3.6".into(), "1.7.0".into()],
        }
    }
}

/// A run, settled.
pub struct Plan {
    pub cases: Vec<Case>,
    pub jobs: usize,
    /// How many times a failing case runs again.
    pub retries: u32,
    pub options: RunOptions,
    pub reports: ReportFiles,
    /// Whether any case starts services (the run then sweeps what killed
    /// runs left of them, whatever runs its agents).
    pub has_services: bool,
    /// Whether the reports count the operations each version received.
    pub coverage: bool,
}

/// Input that cannot make a run: said before anything starts.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// Problems in files, each with its file, line and column, rendered
    /// the one way diagnostics render.
    #[error("{0}")]
    Files(String),
    /// A setting that makes no sense (a flag, a variable, a value in the
    /// suite's file): the front end says it as an error.
    #[error("{0}")]
    Setting(String),
}

/// Diagnostics, rendered.
fn bad(e: impl std::fmt::Display) -> PlanError {
    PlanError::Files(e.to_string())
}

fn setting(message: impl std::fmt::Display) -> PlanError {
    PlanError::Setting(message.to_string())
}

impl Plan {
    /// `settings` (flags and environment, already layered) over the suite's
    /// file over `defaults`.
    pub async fn make(
        settings: Settings,
        defaults: &Defaults,
        notices: &Notices,
    ) -> Result<Plan, PlanError> {
        let paths = match settings.paths.is_empty() {
            true => vec![PathBuf::from("scenarios")],
            false => settings.paths.clone(),
        };
        let mut config = match &settings.config {
            Some(path) => Config::read(path),
            None => Config::find(&paths),
        }
        .map_err(bad)?;
        let settings = settings.over(file_layer(&config)?);
        let inputs = Inputs::from_args(
            &settings.vars,
            settings.vars_file.as_deref(),
            &settings.secrets,
        )
        .map_err(bad)?;
        let services = config.take_services(&inputs.names()).map_err(bad)?;
        let known_drift = config.take_known_drift().map_err(bad)?;
        let known = suite::known_names(&inputs, &services);
        let scenarios = suite::load_with(&paths, &known).map_err(bad)?;
        for warning in scenarios.iter().flat_map(|s| &s.warnings) {
            let text = warning.render("warning");
            notices.tell(crate::agents::Notice::once(text.clone(), text.trim_end()));
        }
        let tags = TagFilter {
            tags: settings.tags.clone(),
            skip_tags: settings.skip_tags.clone(),
        };
        let scenarios: Vec<_> = scenarios.into_iter().filter(|s| tags.admits(s)).collect();

        let modes = settings.agent_mode.unwrap_or(Modes::Shared);
        let mut cases = Vec::new();
        for matrix in matrices(&settings, &config, defaults, modes, notices).await? {
            cases.extend(suite::cases_in(&scenarios, &matrix));
        }
        let in_containers = settings
            .also_in_containers
            .clone()
            .unwrap_or_else(|| defaults.also_in_containers.clone());
        if !in_containers.is_empty() {
            let releases = releases(&in_containers)?;
            let image = |r: &Release| config.images.get(&r.to_string()).cloned();
            let sources = select::for_versions(
                ProviderChoice::Docker,
                &releases,
                image,
                AgentStart::default(),
                notices,
            )
            .await;
            for sources in in_modes(sources, modes, jobs(&settings)) {
                cases.extend(suite::cases(&scenarios, &sources));
            }
        }
        let cases: Vec<Case> = cases
            .into_iter()
            .filter(|c| {
                settings.filters.is_empty() || settings.filters.iter().any(|f| c.name().contains(f))
            })
            .filter(|c| {
                settings
                    .partition
                    .is_none_or(|p| p.contains(&c.scenario.id))
            })
            .collect();
        if let Some(case) = cases.iter().find(|c| !c.agents_reach_each_other()) {
            return Err(setting(format!(
                "{} puts some roles in containers and others in local processes, which cannot reach each other\n  = help: give every role the same provider",
                case.name()
            )));
        }
        let service_urls = service_urls(&settings.service_urls, &services, &scenarios, notices)?;
        let has_services =
            !services.is_empty() || cases.iter().any(|c| !c.scenario.services.is_empty());
        Ok(Plan {
            jobs: jobs(&settings),
            retries: settings.retries.unwrap_or(0),
            reports: reports(&settings),
            has_services,
            options: RunOptions {
                keep_artifacts: settings.reports.artifacts.is_some()
                    || settings.reports.dir.is_some(),
                agent_args: suite_args(&config)?,
                inputs,
                // Keys given on the command line: never shown.
                secrets: Redactor::new(
                    settings
                        .agent_keys
                        .iter()
                        .filter_map(|k| k.split_once('=').map(|(_, key)| key)),
                ),
                services,
                service_urls,
                run: RunScope::new(notices.clone()),
                on_step: None,
                contract: crate::run::contract::ContractSettings::new(
                    settings.contract.unwrap_or_default(),
                    known_drift,
                ),
            },
            coverage: settings.coverage.unwrap_or(false),
            cases,
        })
    }

    /// The distinct sources of the plan's cases, each once.
    pub fn sources(&self) -> Vec<Arc<dyn Provider>> {
        let mut sources: Vec<Arc<dyn Provider>> = Vec::new();
        for source in self.cases.iter().flat_map(Case::providers) {
            if !sources.iter().any(|s| Arc::ptr_eq(s, &source)) {
                sources.push(source);
            }
        }
        sources
    }
}

/// The suite's `agent_args`, each a template (they may name the suite's
/// services: `--genesis-url ${services.ledger.url}/genesis`).
/// `NAME=URL` of services that already run, each naming a service the
/// suite or a scenario declares; said once, so nobody wonders why the
/// container never started.
fn service_urls(
    items: &[String],
    suite: &[crate::scenario::model::ServiceDecl],
    scenarios: &[std::sync::Arc<crate::scenario::Scenario>],
    notices: &crate::agents::Notices,
) -> Result<std::collections::BTreeMap<String, reqwest::Url>, PlanError> {
    let declared: std::collections::BTreeSet<&str> = suite
        .iter()
        .chain(scenarios.iter().flat_map(|s| &s.services))
        .map(|s| s.name.as_str())
        .collect();
    let mut urls = std::collections::BTreeMap::new();
    for item in items {
        let Some((name, url)) = item.split_once('=') else {
            return Err(setting(format!(
                "service URL `{item}` is not NAME=URL (e.g. ledger=http://127.0.0.1:9000)"
            )));
        };
        let name = name.trim();
        if !declared.contains(name) {
            let names: Vec<&str> = declared.iter().copied().collect();
            return Err(setting(format!(
                "service URL for `{name}`, which no scenario or suite declares (declared: {})",
                if names.is_empty() {
                    "none".to_owned()
                } else {
                    names.join(", ")
                }
            )));
        }
        let url = reqwest::Url::parse(url.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .ok_or_else(|| {
                setting(format!(
                    "service URL for `{name}`: `{}` is not an http(s) URL",
                    url.trim()
                ))
            })?;
        let text = format!("service `{name}` is not started: it runs at {url}");
        notices.tell(crate::agents::Notice::once(text.clone(), text));
        urls.insert(name.to_owned(), url);
    }
    Ok(urls)
}

fn suite_args(config: &Config) -> Result<Vec<crate::scenario::template::Template>, PlanError> {
    let file = std::sync::Arc::new(crate::diagnostic::SourceFile {
        path: config.path.clone().unwrap_or_default(),
        text: String::new(),
    });
    let loc = crate::diagnostic::Loc::new(&file, 1, 1, 1);
    config
        .agent_args
        .iter()
        .map(|arg| crate::scenario::template::Template::parse_str(arg, &loc).map_err(bad))
        .collect()
}

/// What the suite's file says, as a layer under flags and environment.
fn file_layer(config: &Config) -> Result<Settings, PlanError> {
    let named = |what: &str, name: &str, choices: &str| {
        setting(format!(
            "unknown {what} `{name}` in {} ({choices})",
            config
                .path
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        ))
    };
    let mut layer = Settings {
        contract: config.contract.mode,
        versions: config.versions(),
        pinned: config.pinned_versions(),
        interop: config.interop,
        jobs: config.jobs(),
        retries: config.retries(),
        ..Settings::default()
    };
    if let Some(name) = &config.provider {
        layer.provider = Some(
            ProviderChoice::parse(name)
                .ok_or_else(|| named("provider", name, "auto, process, docker or external"))?,
        );
    }
    if let Some(name) = &config.agent_start {
        layer.agent_start = Some(
            AgentStart::parse(name)
                .ok_or_else(|| named("agent_start", name, "preloaded or plain"))?,
        );
    }
    if let Some(name) = &config.agent_mode {
        layer.agent_mode = Some(
            Modes::parse(name)
                .ok_or_else(|| named("agent_mode", name, "shared, dedicated or both"))?,
        );
    }
    for (role, agent) in &config.agents {
        layer.agent_urls.push(format!("{role}={}", agent.url));
        if let Some(var) = &agent.api_key_env {
            let key = std::env::var(var).map_err(|_| {
                setting(format!(
                    "the admin API key of `{role}` should be in ${var}, which is not set"
                ))
            })?;
            layer.agent_keys.push(format!("{role}={key}"));
        }
    }
    Ok(layer)
}

fn releases(versions: &[String]) -> Result<Vec<Release>, PlanError> {
    versions
        .iter()
        .map(|v| Release::parse(v).map_err(setting))
        .collect()
}

/// How many cases run at a time (`--jobs`, 2 by default).
fn jobs(settings: &Settings) -> usize {
    settings.jobs.unwrap_or(2).max(1)
}

/// The sources of each mode of `modes`: wrapped as shared ones (with up to
/// `jobs` base agents each), or (beside shared twins) named as dedicated ones.
fn in_modes(
    sources: Vec<Arc<dyn Provider>>,
    modes: Modes,
    jobs: usize,
) -> Vec<Vec<Arc<dyn Provider>>> {
    modes
        .each()
        .iter()
        .map(|&mode| {
            let wrapped = select::with_mode(sources.clone(), mode, jobs);
            match (modes, mode) {
                (Modes::Both, AgentMode::Dedicated) => select::as_twins(wrapped),
                _ => wrapped,
            }
        })
        .collect()
}

/// Which versions each role takes, and where their agents come from: one
/// matrix per mode of `modes`.
async fn matrices(
    settings: &Settings,
    config: &Config,
    defaults: &Defaults,
    modes: Modes,
    notices: &Notices,
) -> Result<Vec<Matrix>, PlanError> {
    let provider = settings.provider.unwrap_or(defaults.provider);
    if provider == ProviderChoice::External {
        if settings.interop == Some(true) || !settings.pinned.is_empty() {
            return Err(setting(
                "--interop and ROLE=VERSIONS need agents the harness starts",
            ));
        }
        let external =
            select::external(&settings.agent_urls, &settings.agent_keys).map_err(setting)?;
        return Ok(vec![Matrix::new(vec![external])]);
    }
    if !settings.agent_urls.is_empty() {
        return Err(setting("--agent-url goes with --provider external"));
    }
    let all = match settings.versions.is_empty() {
        true => vec![DEFAULT_VERSION.to_owned()],
        false => settings.versions.clone(),
    };
    let mut distinct: Vec<String> = Vec::new();
    for v in all.iter().chain(settings.pinned.values().flatten()) {
        if !distinct.contains(v) {
            distinct.push(v.clone());
        }
    }
    let image = |release: &Release| {
        settings
            .image
            .clone()
            .or_else(|| config.images.get(&release.to_string()).cloned())
    };
    let agent_start = settings.agent_start.unwrap_or_default();
    let sources =
        select::for_versions(provider, &releases(&distinct)?, image, agent_start, notices).await;
    Ok(in_modes(sources, modes, jobs(settings))
        .into_iter()
        .map(|sources| {
            let by_version: BTreeMap<&String, Arc<dyn Provider>> =
                distinct.iter().zip(sources).collect();
            let pick = |list: &[String]| {
                list.iter()
                    .map(|v| by_version[v].clone())
                    .collect::<Vec<_>>()
            };
            Matrix {
                sources: pick(&all),
                pinned: settings
                    .pinned
                    .iter()
                    .map(|(role, list)| (role.clone(), pick(list)))
                    .collect(),
                interop: settings.interop.unwrap_or(false),
            }
        })
        .collect())
}

/// The files asked for; `dir` gives every one its usual name, and a file
/// asked for by its own flag wins.
fn reports(settings: &Settings) -> ReportFiles {
    let r = &settings.reports;
    let base = r
        .dir
        .as_deref()
        .map(ReportFiles::in_dir)
        .unwrap_or_default();
    ReportFiles {
        junit: r.junit.clone().or(base.junit),
        json: r.json.clone().or(base.json),
        markdown: r.markdown.clone().or(base.markdown),
        html: r.html.clone().or(base.html),
        artifacts: r.artifacts.clone().or(base.artifacts),
        parts: None,
    }
}
