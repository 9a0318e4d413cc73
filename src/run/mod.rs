//! Running one case: a scenario against the agents of its sources.
//!
//! [`run_case`] is the whole life of a case: skip early if the version
//! asked for is ruled out, start its services and each role's agent, let
//! the [`runner`] run the steps, set the status once (with `xfail`), stop
//! everything, and hand on a result with every secret masked.

pub mod assert;
pub mod capture;
pub mod contract;
pub mod fault;
mod lifecycle;
pub mod outcome;
pub mod predicate;
mod runner;
mod setup;
mod step;
pub mod wait;

use crate::agents::{start_all, stop_all, Agent, AgentMode, AgentSpec, CaseId, Provider, Reach};
use crate::agents::{RunScope, Scope};
use crate::redact::Redactor;
use crate::scenario::model::{AgentsKind, Facts, RoleVersions, Scenario, Xfail};
use crate::version::Version;
use fault::Fault;
use outcome::*;
use runner::{RunOutput, Runner};
use setup::{Setup, SetupError};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

/// A scenario paired with where each of its roles' agents comes from.
#[derive(Clone)]
pub struct Case {
    pub scenario: Arc<Scenario>,
    /// Each role's agent source.
    pub sources: BTreeMap<String, Arc<dyn Provider>>,
    /// The case name after the scenario id: `process::1.3.6`, `external`,
    /// or with roles on different versions `process::issuer=0.12.8,holder=1.7.0`.
    pub target: String,
    /// The first role's provider's kind (`process`, `docker`, `external`),
    /// for names and reports.
    pub provider: &'static str,
}

impl Case {
    /// Every role of `scenario` on agents from `source`.
    pub fn new(scenario: Arc<Scenario>, source: Arc<dyn Provider>) -> Case {
        let sources = scenario
            .agents
            .iter()
            .map(|a| (a.role.clone(), source.clone()))
            .collect();
        Case::with_sources(scenario, sources)
    }

    /// Each role on agents from its own source (`sources` has every role).
    pub fn with_sources(
        scenario: Arc<Scenario>,
        sources: BTreeMap<String, Arc<dyn Provider>>,
    ) -> Case {
        let in_order: Vec<(&str, &Arc<dyn Provider>)> = scenario
            .agents
            .iter()
            .map(|a| (a.role.as_str(), &sources[&a.role]))
            .collect();
        let first = in_order[0].1;
        let same = in_order.iter().all(|(_, p)| p.label() == first.label());
        let target = match same {
            true => first.label(),
            false => {
                let roles: Vec<String> = in_order
                    .iter()
                    .map(|(role, p)| {
                        let version = p
                            .requested_version()
                            .map(|v| v.to_string())
                            .unwrap_or_else(|| p.label());
                        format!("{role}={version}")
                    })
                    .collect();
                match first.variant() {
                    Some(variant) => format!("{}::{}::{variant}", first.kind(), roles.join(",")),
                    None => format!("{}::{}", first.kind(), roles.join(",")),
                }
            }
        };
        Case {
            provider: first.kind(),
            target,
            sources,
            scenario,
        }
    }

    pub fn name(&self) -> String {
        format!("{}::{}", self.scenario.id, self.target)
    }

    /// What providers are told about the case.
    pub fn id(&self) -> CaseId {
        CaseId {
            name: self.name(),
            scenario: self.scenario.id.clone(),
        }
    }

    /// The ACA-Py version asked for each role, where its source picks one.
    pub fn requested_versions(&self) -> BTreeMap<String, Version> {
        self.sources
            .iter()
            .filter_map(|(role, p)| Some((role.clone(), p.requested_version()?)))
            .collect()
    }

    /// The one version asked for every role, if they agree.
    pub fn requested_version(&self) -> Option<Version> {
        common(self.requested_versions().into_values())
    }

    /// The distinct sources, each once.
    pub fn providers(&self) -> Vec<Arc<dyn Provider>> {
        let mut distinct: Vec<Arc<dyn Provider>> = Vec::new();
        for source in self.sources.values() {
            if !distinct.iter().any(|p| Arc::ptr_eq(p, source)) {
                distinct.push(source.clone());
            }
        }
        distinct
    }

    /// Whether the agents of its sources can reach each other: alike
    /// sources do (processes on loopback, containers on the case's
    /// network), a process and a container do not.
    pub fn agents_reach_each_other(&self) -> bool {
        let providers = self.providers();
        let reach = providers[0].reach();
        providers.len() == 1
            || (reach != Reach::Elsewhere && providers.iter().all(|p| p.reach() == reach))
    }

    /// Why the versions asked for rule the case out (its `requires`), known
    /// before anything starts; `None` where they do not.
    pub fn unmet_requirement(&self) -> Option<String> {
        let facts = Facts {
            versions: self.requested_versions(),
            agents: None,
        };
        self.scenario.requires.as_ref()?.unmet(&facts)
    }

    /// The result of a case that cannot run here (no Docker engine, say).
    pub fn skipped(&self, reason: impl Into<String>) -> CaseResult {
        self.result(RunOutput::skipped(reason.into()), None, Default::default())
    }

    /// The result of a case an interruption cut short (`started`) or kept
    /// from starting.
    pub fn interrupted(&self, started: bool, duration: std::time::Duration) -> CaseResult {
        let mut result = self.result(RunOutput::skipped(String::new()), None, duration);
        result.status = Status::Interrupted { started };
        result
    }

    /// The one place a case's status is decided.
    fn result(
        &self,
        output: RunOutput,
        agents: Option<&[Agent]>,
        duration: std::time::Duration,
    ) -> CaseResult {
        let reported: BTreeMap<String, String> = agents
            .into_iter()
            .flatten()
            .map(|a| (a.role.clone(), a.version.clone()))
            .collect();
        let acapy_version = common(reported.values().cloned());
        let RunOutput {
            steps,
            skip,
            mut failure,
            artifacts,
            xfailed_steps,
            xpassed_steps,
            ..
        } = output;
        // Only cases whose agents ran: a start failure is never expected.
        let ran = agents.is_some_and(|a| !a.is_empty());
        let facts = Facts {
            versions: parsed(&reported),
            agents: agents.and_then(agents_kind),
        };
        let xfail = ran.then(|| self.case_xfail(&facts)).flatten();
        let status = match (&skip, &mut failure, xfail) {
            (Some(reason), _, _) => Status::Skipped {
                reason: reason.clone(),
            },
            (None, Some(fault), Some(xfail)) => match xfail.step {
                // Pinned: only that step failing, the way it says, is known.
                Some(pinned) if fault.step.as_ref().map(|(n, _)| n - 1) != Some(pinned) => {
                    let at = fault.step.as_ref().map(|(n, _)| format!("step {n}"));
                    fault.diagnostic.message = format!(
                        "xfail expected step {} to fail; {} failed instead: {}",
                        pinned + 1,
                        at.unwrap_or_else(|| "the case".into()),
                        fault.diagnostic.message
                    );
                    fault.diagnostic.notes.push(xfail_note(xfail));
                    Status::Failed
                }
                Some(_) if !runner::describes(xfail, fault) => {
                    fault.diagnostic.message = format!(
                        "xfail expected step {} to fail with `{}`; it failed otherwise: {}",
                        fault.step.as_ref().map(|(n, _)| *n).unwrap_or_default(),
                        xfail.failure.as_deref().unwrap_or_default(),
                        fault.diagnostic.message
                    );
                    fault.diagnostic.notes.push(xfail_note(xfail));
                    Status::Failed
                }
                step => Status::ExpectedFailure {
                    reason: xfail.reason.clone(),
                    step: step.map(|i| i + 1),
                },
            },
            (None, Some(_), None) => Status::Failed,
            (None, None, Some(xfail)) => Status::UnexpectedPass {
                reason: xfail.reason.clone(),
                step: xfail.step.map(|i| i + 1),
            },
            // A step's own xfail that no longer fails is news first.
            (None, None, None) => match (xpassed_steps.first(), xfailed_steps.first()) {
                (Some(passed), _) => Status::UnexpectedPass {
                    reason: passed.reason.clone(),
                    step: Some(passed.number),
                },
                (None, Some(known)) => Status::ExpectedFailure {
                    reason: known.reason.clone(),
                    step: Some(known.number),
                },
                (None, None) => Status::Passed,
            },
        };
        let ran_on = match (&acapy_version, reported.is_empty()) {
            (Some(v), _) => format!("ACA-Py {v} ({})", self.provider),
            (None, false) => format!("{} ({})", describe_versions(&reported), self.provider),
            (None, true) => format!("{} provider", self.provider),
        };
        let requested = self.requested_versions();
        let roles = self
            .scenario
            .agents
            .iter()
            .map(|a| RoleVersion {
                role: a.role.clone(),
                requested: requested.get(&a.role).map(Version::to_string),
                reported: reported.get(&a.role).cloned(),
            })
            .collect();
        let case_note = format!(
            "scenario: {} ({}), {ran_on}",
            self.scenario.name,
            self.scenario.file.path.display(),
        );
        CaseResult {
            name: self.name(),
            scenario_id: self.scenario.id.clone(),
            scenario_name: self.scenario.name.clone(),
            file: self.scenario.file.path.clone(),
            tags: self.scenario.tags.clone(),
            target: self.target.clone(),
            provider: self.provider.to_owned(),
            requested_version: self.requested_version().map(|v| v.to_string()),
            acapy_version,
            agent_mode: agents.and_then(agent_mode),
            roles,
            status,
            duration,
            steps,
            failure: failure.map(|f| f.freeze(case_note)),
            artifacts,
        }
    }

    /// The first of the case's own `xfail`s (not a step's) that applies here.
    fn case_xfail(&self, facts: &Facts) -> Option<&Xfail> {
        self.scenario
            .xfail
            .iter()
            .filter(|x| !x.goes_on)
            .find(|x| x.when.as_ref().is_none_or(|c| c.holds_known(facts)))
    }
}

/// Where a pinned `xfail` is and what it says, under a failure it did not expect.
fn xfail_note(xfail: &Xfail) -> String {
    format!("note: the xfail at {}: {}", xfail.loc, xfail.reason)
}

/// How the agents were provided, as conditions name it.
fn agents_kind(agents: &[Agent]) -> Option<AgentsKind> {
    agent_mode(agents).map(|mode| match mode {
        AgentMode::Shared => AgentsKind::Shared,
        AgentMode::Dedicated => AgentsKind::Dedicated,
    })
}

/// How the agents that ran were provided: shared when any role was a
/// sub-wallet.
fn agent_mode(agents: &[Agent]) -> Option<AgentMode> {
    match agents {
        [] => None,
        agents if agents.iter().any(|a| a.mode == AgentMode::Shared) => Some(AgentMode::Shared),
        _ => Some(AgentMode::Dedicated),
    }
}

/// The one value all of `values` share, if they do (and there is one).
fn common<T: PartialEq>(values: impl IntoIterator<Item = T>) -> Option<T> {
    let mut values = values.into_iter();
    let first = values.next()?;
    values.all(|v| v == first).then_some(first)
}

/// `issuer ACA-Py 0.12.8, holder ACA-Py 1.7.0`.
fn describe_versions(versions: &BTreeMap<String, String>) -> String {
    versions
        .iter()
        .map(|(role, v)| format!("{role} ACA-Py {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Versions that parse, by role.
pub fn parsed(versions: &BTreeMap<String, String>) -> RoleVersions {
    versions
        .iter()
        .filter_map(|(role, v)| Some((role.clone(), Version::parse(v).ok()?)))
        .collect()
}

/// Told of each step of a case as it ends (1-based number), masked.
pub type StepListener = Arc<dyn Fn(usize, &StepResult) + Send + Sync>;

#[derive(Clone, Default)]
pub struct RunOptions {
    /// Keep requests, events and logs of failing cases.
    pub keep_artifacts: bool,
    /// `aca-py start` flags for every agent, before the scenario's own
    /// (templates: they may name services).
    pub agent_args: Vec<crate::scenario::template::Template>,
    /// Variables (and secrets) given from outside the scenario files.
    pub inputs: crate::inputs::Inputs,
    /// Values masked in every output besides the secret variables' (the
    /// admin API keys given with `--agent-key`).
    pub secrets: Redactor,
    /// The suite's services (`acapy-harness.yaml`), beside each scenario's.
    pub services: Vec<crate::scenario::model::ServiceDecl>,
    /// Services that already run (`--service-url NAME=URL`): not started.
    pub service_urls: std::collections::BTreeMap<String, reqwest::Url>,
    /// What the cases of the run share, and where providers' notices go.
    pub run: Arc<RunScope>,
    pub on_step: Option<StepListener>,
    /// Checking exchanges against each agent's API document.
    pub contract: contract::ContractSettings,
}

const LOG_LINES_SHOWN: usize = 25;
/// Lines of each service's log a failure shows.
const SERVICE_LOG_LINES: usize = 10;

/// Runs `case`, and while it fails, runs it again, up to `retries` more
/// times, each time from scratch (fresh agents or sub-wallets). A case that
/// passes after failing is [`Status::Flaky`], with its failed tries; one
/// that fails every time keeps its last failure, noting how many tries it
/// had. Only plain failures are retried: a skip, an expected failure
/// (`xfail`) or an unexpected pass is final.
///
/// Each try is masked with its own secrets, and the whole with those of
/// every try: a value only an earlier try knew is masked in a later one.
pub async fn run_with_retries(case: &Case, options: &RunOptions, retries: u32) -> CaseResult {
    let mut failed_tries: Vec<FailedTry> = Vec::new();
    let mut every_secret = Redactor::default();
    let mut result = loop {
        let (mut result, secrets) = run_case_with_secrets(case, options).await;
        every_secret.extend(&secrets);
        let failure = result.failure.take();
        match (&result.status, failure) {
            (Status::Failed, Some(failure)) if failed_tries.len() < retries as usize => {
                failed_tries.push(FailedTry {
                    duration: result.duration,
                    failure,
                });
            }
            (Status::Failed, mut failure) => {
                if let Some(failure) = failure.as_mut().filter(|_| retries > 0) {
                    failure.add_note(&format!(
                        "failed on each of {} tries (--retries {retries})",
                        retries + 1
                    ));
                }
                result.failure = failure;
                break result;
            }
            (Status::Passed, failure) if !failed_tries.is_empty() => {
                result.failure = failure;
                result.status = Status::Flaky { failed_tries };
                break result;
            }
            (_, failure) => {
                result.failure = failure;
                break result;
            }
        }
    };
    if retries > 0 {
        result = result.masked(&every_secret);
    }
    result
}

/// Runs a case; every secret value the case knew is masked in its result.
pub async fn run_case(case: &Case, options: &RunOptions) -> CaseResult {
    run_case_with_secrets(case, options).await.0
}

/// [`run_case`], and the secrets its result was masked with.
async fn run_case_with_secrets(case: &Case, options: &RunOptions) -> (CaseResult, Redactor) {
    let mut secrets = options.secrets.clone();
    for name in &options.inputs.secret_names {
        if let Some(value) = options.inputs.vars.get(name) {
            secrets.add_value(value);
        }
    }
    let scope = Scope::new(case.id(), options.run.clone());
    let result = run_in_scope(case, options, &scope, &mut secrets).await;
    scope.close().await;
    (result.masked(&secrets), secrets)
}

async fn run_in_scope(
    case: &Case,
    options: &RunOptions,
    scope: &Scope,
    secrets: &mut Redactor,
) -> CaseResult {
    let started = Instant::now();
    let scenario = &case.scenario;

    // Skip before starting anything when the versions asked for rule it out.
    if let Some(why) = case.unmet_requirement() {
        return case.result(RunOutput::skipped(why), None, started.elapsed());
    }

    let mut setup = match Setup::make(case, options, scope, secrets).await {
        Ok(setup) => setup,
        Err(SetupError::Skip(why)) => {
            return case.result(RunOutput::skipped(why.0), None, started.elapsed())
        }
        Err(SetupError::Fail(failure)) => {
            return case.result(RunOutput::failed(*failure), None, started.elapsed())
        }
    };
    let mut agents = match start_agents(case, &setup, scope).await {
        Ok(agents) => agents,
        Err(crate::agents::ProviderError::Unavailable(why)) => {
            setup.finish().await;
            return case.result(RunOutput::skipped(why.0), None, started.elapsed());
        }
        Err(crate::agents::ProviderError::Failed(e)) => {
            let mut failure = Fault::new("the agents did not start").note(format!("{e:#}"));
            failure.service_logs = tails(&setup.service_logs());
            setup.finish().await;
            return case.result(RunOutput::failed(failure), None, started.elapsed());
        }
    };
    // The agents' own credentials (generated admin API keys, sub-wallet
    // tokens) never show either, should an agent log them.
    for agent in &agents {
        for (_, value) in agent.admin.auth.headers() {
            secrets.add(value.strip_prefix("Bearer ").unwrap_or(&value));
        }
    }
    let documents = contract::documents(
        &options.contract,
        &agents,
        &case.sources,
        options.run.notices(),
    )
    .await;
    let vars = std::mem::take(&mut setup.vars);
    let mut output = Runner::new(scenario, &mut agents, started)
        .with_contract(options.contract.clone(), documents)
        .with_vars(vars)
        .with_services(setup.service_urls())
        .with_secret_names(&options.inputs.secret_names)
        .with_redactor(secrets.clone())
        .with_step_listener(options.on_step.clone())
        .run(options.keep_artifacts)
        .await;
    secrets.extend(&output.secrets);
    if let Some(failure) = &mut output.failure {
        if let Some(agent) = failure
            .agent
            .as_ref()
            .and_then(|role| agents.iter().find(|a| &a.role == role))
        {
            failure.log_tail = agent.handle.log_tail(LOG_LINES_SHOWN).await;
            failure.log_owner = agent.handle.log_owner();
        }
        failure.service_logs = tails(&setup.service_logs());
        if let Some(artifacts) = &mut output.artifacts {
            for agent in &agents {
                if let Some(log) = agent.handle.log().await {
                    artifacts.logs.insert(agent.role.clone(), log);
                }
            }
        }
    }
    stop_all(&mut agents).await;
    // Services go after the agents that used them.
    let service_logs = setup.finish().await;
    if let Some(artifacts) = &mut output.artifacts {
        for (name, log) in service_logs {
            artifacts.logs.insert(format!("service-{name}"), log);
        }
    }
    case.result(output, Some(&agents), started.elapsed())
}

/// The last lines of each service's log, for a failure.
fn tails(logs: &[(String, String)]) -> Vec<(String, String)> {
    logs.iter()
        .map(|(name, log)| {
            (
                name.clone(),
                crate::agents::log::tail(log, SERVICE_LOG_LINES),
            )
        })
        .collect()
}

/// Starts every role's agent, each source starting its own roles at once;
/// if any fails, none is left running.
async fn start_agents(
    case: &Case,
    setup: &Setup,
    scope: &Scope,
) -> Result<Vec<Agent>, crate::agents::ProviderError> {
    let groups = case.providers().into_iter().map(|provider| {
        let specs: Vec<AgentSpec> = case
            .sources
            .iter()
            .filter(|(_, source)| Arc::ptr_eq(source, &provider))
            .map(|(role, _)| setup.specs[role].clone())
            .collect();
        async move { provider.start(&specs, scope).await }
    });
    let mut agents = start_all(groups).await?;
    // In the order the scenario declares them, as before.
    agents.sort_by_key(|a| {
        case.scenario
            .agents
            .iter()
            .position(|d| d.role == a.role)
            .unwrap_or(usize::MAX)
    });
    Ok(agents)
}

/// `${run_id}`: 12 hex characters, fresh for each case.
fn run_id() -> String {
    use rand::Rng;
    let bytes: [u8; 6] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
