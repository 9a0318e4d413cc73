//! Runs a scenario's steps, in order, against agents that are already up,
//! and returns what happened; the case's status is decided by the caller.

// A failure ends its case, once: passing it by value costs nothing worth boxing.
#![allow(clippy::result_large_err)]

use super::fault::Fault;
use super::outcome::{Artifacts, StepResult, StepStatus};
use super::parsed;
use crate::admin::events::{summarize, Event, EventStream};
use crate::admin::{AdminAuth, AdminClient, AdminEndpoint, Exchange};
use crate::agents::Agent;
use crate::redact::Redactor;
use crate::scenario::model::{Action, Facts, Scenario, Step, WaitSource, Xfail};
use crate::scenario::template::Vars;
use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::time::Instant;

const EVENTS_SHOWN: usize = 12;
/// The events of its topic a wait step keeps for the reports, the last ones.
const EVENTS_KEPT: usize = 20;

/// Whether `fault` is the failure `xfail` describes: any failure, or one
/// whose message, expectation, actual value or response contains its text.
pub(super) fn describes(xfail: &Xfail, fault: &Fault) -> bool {
    let Some(text) = &xfail.failure else {
        return true;
    };
    let response = fault
        .response
        .as_ref()
        .map(|e| e.response.to_string())
        .unwrap_or_default();
    [
        fault.message(),
        fault.expected.as_deref().unwrap_or_default(),
        fault.actual.as_deref().unwrap_or_default(),
        &response,
    ]
    .iter()
    .any(|part| part.contains(text.as_str()))
}

/// What running the steps produced.
#[derive(Default)]
pub(super) struct RunOutput {
    pub steps: Vec<StepResult>,
    /// Why the case was skipped (a `requires` ruled out the agents' version).
    pub skip: Option<String>,
    pub failure: Option<Fault>,
    /// Requests, events (and later logs) of a failing case, when asked for.
    pub artifacts: Option<Artifacts>,
    /// The values of the secret variables, as they were set.
    pub secrets: Redactor,
    /// Steps that failed where their own `xfail` said they would (the case
    /// went on), and steps that passed where it said they would fail.
    pub xfailed_steps: Vec<StepXfail>,
    pub xpassed_steps: Vec<StepXfail>,
}

/// A step whose own `xfail` applied: its 1-based number, and the reason.
#[derive(Debug, Clone)]
pub(super) struct StepXfail {
    pub number: usize,
    pub reason: String,
}

impl RunOutput {
    pub fn skipped(reason: String) -> RunOutput {
        RunOutput {
            skip: Some(reason),
            ..RunOutput::default()
        }
    }

    pub fn failed(failure: Fault) -> RunOutput {
        RunOutput {
            failure: Some(failure),
            ..RunOutput::default()
        }
    }
}

pub(super) struct Runner<'a> {
    pub(super) scenario: &'a Scenario,
    /// Each role's client, rebuilt when its agent restarts.
    pub(super) clients: BTreeMap<String, AdminClient>,
    /// A client for each service a step may call (`service: NAME`).
    pub(super) services: BTreeMap<String, AdminClient>,
    pub(super) agents: &'a mut [Agent],
    pub(super) streams: BTreeMap<String, EventStream>,
    pub(super) vars: Vars,
    /// What each role's agent reported, and how the agents were provided:
    /// what `requires`, `when` and `xfail` are judged against.
    pub(super) facts: Facts,
    pub(super) exchanges: Vec<Exchange>,
    pub(super) started: Instant,
    /// Variables whose values are secret.
    secret_names: BTreeSet<String>,
    /// The values of those, as they were set.
    secrets: Redactor,
    /// Every secret of the case known before the steps (with `secrets`,
    /// what a step is masked with before a listener sees it).
    known_secrets: Redactor,
    on_step: Option<super::StepListener>,
    /// The contract checked, and each role's document.
    pub(super) contract: super::contract::ContractSettings,
    pub(super) documents: BTreeMap<String, super::contract::AgentContract>,
    /// What the contract found in the current step's exchanges.
    pub(super) findings: Vec<super::outcome::ContractFinding>,
}

impl<'a> Runner<'a> {
    pub fn new(scenario: &'a Scenario, agents: &'a mut [Agent], started: Instant) -> Runner<'a> {
        let clients = agents
            .iter()
            .map(|a| (a.role.clone(), AdminClient::new(&a.admin)))
            .collect();
        let reported = agents
            .iter()
            .map(|a| (a.role.clone(), a.version.clone()))
            .collect();
        let facts = Facts {
            versions: parsed(&reported),
            agents: super::agents_kind(agents),
        };
        Runner {
            scenario,
            clients,
            services: BTreeMap::new(),
            agents,
            streams: BTreeMap::new(),
            vars: Vars::new(),
            facts,
            exchanges: Vec::new(),
            started,
            secret_names: scenario.secrets.iter().cloned().collect(),
            secrets: Redactor::default(),
            known_secrets: Redactor::default(),
            on_step: None,
            contract: Default::default(),
            documents: BTreeMap::new(),
            findings: Vec::new(),
        }
    }

    /// Checks each request step against its agent's document.
    pub fn with_contract(
        mut self,
        settings: super::contract::ContractSettings,
        documents: BTreeMap<String, super::contract::AgentContract>,
    ) -> Runner<'a> {
        self.contract = settings;
        self.documents = documents;
        self
    }

    /// Where each service answers on this machine, for `service:` steps.
    pub fn with_services(mut self, services: BTreeMap<String, String>) -> Runner<'a> {
        self.services = services
            .into_iter()
            .map(|(name, url)| {
                let endpoint = AdminEndpoint::new(&url, AdminAuth::None);
                (name, AdminClient::new(&endpoint))
            })
            .collect();
        self
    }

    /// The case's secrets known before the first step.
    pub fn with_redactor(mut self, secrets: Redactor) -> Runner<'a> {
        self.known_secrets = secrets;
        self
    }

    /// Who hears of each step as it ends.
    pub fn with_step_listener(mut self, listener: Option<super::StepListener>) -> Runner<'a> {
        self.on_step = listener;
        self
    }

    /// Tells the listener of a step that ended, masked.
    fn tell(&self, number: usize, step: &StepResult) {
        if let Some(listener) = &self.on_step {
            let mut secrets = self.known_secrets.clone();
            secrets.extend(&self.secrets);
            listener(number, &super::outcome::mask(step, &secrets));
        }
    }

    /// More variables whose values are secret (`--secret`).
    pub fn with_secret_names(mut self, names: &BTreeSet<String>) -> Runner<'a> {
        self.secret_names.extend(names.iter().cloned());
        self
    }

    /// Remembers the values the secret variables have now.
    fn note_secrets(&mut self) {
        for name in &self.secret_names {
            if let Some(value) = self.vars.get(name) {
                self.secrets.add_value(value);
            }
        }
    }

    /// The variables before the first step: `${run_id}`, those given from
    /// outside, the scenario's `vars` and `${services.*}` (see `setup`).
    pub fn with_vars(mut self, vars: Vars) -> Runner<'a> {
        self.vars = vars;
        self
    }

    /// Runs every step; with `keep_artifacts`, a failing run keeps its
    /// requests and events.
    pub async fn run(mut self, keep_artifacts: bool) -> RunOutput {
        let mut output = RunOutput::default();
        let unmet = self
            .scenario
            .requires
            .as_ref()
            .and_then(|r| r.unmet(&self.facts));
        if let Some(unmet) = unmet {
            output.skip = Some(unmet);
            return output;
        }
        match self.missing_plugin().await {
            Ok(None) => {}
            Ok(Some(missing)) => {
                output.skip = Some(missing);
                return output;
            }
            Err(failure) => {
                output.failure = Some(failure);
                return output;
            }
        }
        let outcome = self.run_steps(&mut output).await;
        self.note_secrets();
        output.secrets = std::mem::take(&mut self.secrets);
        if let Err(failure) = outcome {
            output.failure = Some(failure);
            if keep_artifacts {
                output.artifacts = Some(Artifacts {
                    exchanges: std::mem::take(&mut self.exchanges),
                    events: self
                        .streams
                        .iter()
                        .map(|(role, s)| (role.clone(), s.log.snapshot()))
                        .collect(),
                    logs: BTreeMap::new(),
                });
            }
        }
        output
    }

    /// The first plugin of `requires: { plugins }` that an agent does not
    /// load, as the skip reason: judged from `GET /plugins`, which lists
    /// module names (`cheqd`, `acapy_agent.protocols.connections`...).
    async fn missing_plugin(&self) -> Result<Option<String>, Fault> {
        let wanted = &self.scenario.requires_plugins;
        if wanted.is_empty() {
            return Ok(None);
        }
        for (role, client) in &self.clients {
            let loaded: Vec<String> = match client.get_json("/plugins").await {
                Ok(body) => body["result"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|m| m.as_str().map(str::to_owned))
                    .collect(),
                Err(e) => {
                    let mut failure = Fault::new(format!(
                        "cannot tell whether `{role}` loads the plugins the scenario requires"
                    ))
                    .note(format!("{e:#}"));
                    failure.agent = Some(role.clone());
                    return Err(failure);
                }
            };
            let has = |name: &String| {
                loaded
                    .iter()
                    .any(|m| m == name || m.starts_with(&format!("{name}.")))
            };
            if let Some(name) = wanted.iter().find(|name| !has(name)) {
                return Ok(Some(format!(
                    "requires plugin `{name}`, which `{role}` does not load (GET /plugins)"
                )));
            }
        }
        Ok(None)
    }

    async fn run_steps(&mut self, output: &mut RunOutput) -> Result<(), Fault> {
        self.subscribe().await?;
        self.note_secrets();

        let steps = &self.scenario.steps;
        for (index, step) in steps.iter().enumerate() {
            let step_started = Instant::now();
            let sent_before = self.exchanges.len();
            self.findings.clear();
            let skip = step
                .when
                .as_ref()
                .is_some_and(|c| c.unmet(&self.facts).is_some());
            let mut outcome = match skip {
                true => Ok(()),
                false => self.run_step(index, step).await,
            };
            self.note_secrets();
            // The step's own xfail, where it applies: a failure it describes
            // is expected and the case goes on; a pass is news.
            let mut status = match (&outcome, skip) {
                (_, true) => StepStatus::Skipped,
                (Ok(()), _) => StepStatus::Passed,
                (Err(_), _) => StepStatus::Failed,
            };
            if let Some(xfail) = self.own_xfail(index).filter(|_| !skip) {
                let known = StepXfail {
                    number: index + 1,
                    reason: xfail.reason.clone(),
                };
                match &outcome {
                    Err(fault) if describes(xfail, fault) => {
                        status = StepStatus::ExpectedFailure;
                        outcome = Ok(());
                        output.xfailed_steps.push(known);
                    }
                    Err(_) => {}
                    Ok(()) => output.xpassed_steps.push(known),
                }
            }
            let results = &mut output.steps;
            results.push(StepResult {
                name: step.name.clone(),
                agent: step.target().to_owned(),
                status,
                line: Some(step.loc.line),
                started: step_started.duration_since(self.started),
                duration: step_started.elapsed(),
                exchanges: self.exchanges[sent_before..].to_vec(),
                events: self.events_seen(step),
                contract: std::mem::take(&mut self.findings),
            });
            self.tell(index + 1, results.last().expect("just pushed"));
            if let Err(failure) = outcome {
                results.extend(steps[index + 1..].iter().map(|rest| StepResult {
                    name: rest.name.clone(),
                    agent: rest.target().to_owned(),
                    status: StepStatus::NotRun,
                    line: Some(rest.loc.line),
                    started: Default::default(),
                    duration: Default::default(),
                    exchanges: Vec::new(),
                    events: Vec::new(),
                    contract: Vec::new(),
                }));
                return Err(failure);
            }
        }
        Ok(())
    }

    /// Step `index`'s own `xfail`, if its condition holds here.
    fn own_xfail(&self, index: usize) -> Option<&'a Xfail> {
        self.scenario.xfail.iter().find(|x| {
            x.goes_on
                && x.step == Some(index)
                && x.when.as_ref().is_none_or(|c| c.holds_known(&self.facts))
        })
    }

    /// The events of a wait's topic that had arrived when it ended.
    fn events_seen(&self, step: &Step) -> Vec<Event> {
        let (Action::Wait(wait), Some(role)) = (&step.action, &step.agent) else {
            return Vec::new();
        };
        let (WaitSource::Event { topic }, Some(stream)) = (&wait.source, self.streams.get(role))
        else {
            return Vec::new();
        };
        let mut seen: Vec<Event> = stream
            .log
            .snapshot()
            .into_iter()
            .filter(|e| &e.topic == topic)
            .collect();
        let from = seen.len().saturating_sub(EVENTS_KEPT);
        seen.drain(..from);
        seen
    }

    /// Subscribes to every agent's events before the first step.
    async fn subscribe(&mut self) -> Result<(), Fault> {
        let started = self.started;
        let connections = self.agents.iter().map(|agent| async move {
            (
                agent.role.clone(),
                EventStream::connect(&agent.admin, started).await,
            )
        });
        for (role, stream) in futures_util::future::join_all(connections).await {
            match stream {
                Ok(s) => {
                    self.streams.insert(role, s);
                }
                Err(e) => {
                    let mut failure =
                        Fault::new(format!("cannot subscribe to the events of agent `{role}`"))
                            .note(format!("{e:#}"));
                    failure.agent = Some(role);
                    return Err(failure);
                }
            }
        }
        Ok(())
    }

    async fn run_step(&mut self, index: usize, step: &Step) -> Result<(), Fault> {
        self.perform(step)
            .await
            .map_err(|failure| self.with_context(index, step, failure))
    }

    /// Adds the step, its agent and the agent's recent events to a failure.
    fn with_context(&self, index: usize, step: &Step, mut failure: Fault) -> Fault {
        failure.step = Some((index + 1, step.name.clone()));
        if let Some(role) = &step.agent {
            failure.agent = Some(role.clone());
            if let Some(stream) = self.streams.get(role) {
                let events = stream.log.snapshot();
                let from = events.len().saturating_sub(EVENTS_SHOWN);
                failure.recent_events = events[from..].iter().map(summarize).collect();
            }
        }
        failure
    }
}
