//! Running one case: a scenario against agents from one provider.

pub mod assert;
pub mod capture;
pub mod events;
pub mod http;
pub mod outcome;
pub mod predicate;
mod step;
pub mod wait;

use crate::agents::{stop_all, Agent, AgentSpec, Provider};
use crate::scenario::model::{Scenario, Step, VersionCondition};
use crate::scenario::template::Vars;
use events::{summarize, EventStream};
use http::{AdminClient, Exchange};
use outcome::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

/// A scenario paired with where its agents come from.
#[derive(Clone)]
pub struct Case {
    pub scenario: Arc<Scenario>,
    pub provider: Arc<dyn Provider>,
    /// `process::1.3.6`, `docker::1.7.0`, `external`.
    pub target: String,
    pub requested_version: Option<String>,
}

impl Case {
    pub fn name(&self) -> String {
        format!("{}::{}", self.scenario.id, self.target)
    }
}

#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Keep requests, events and logs of failing cases.
    pub keep_artifacts: bool,
    /// `aca-py start` flags for every agent, before the scenario's own.
    pub agent_args: Vec<String>,
}

const EVENTS_SHOWN: usize = 12;
const LOG_LINES_SHOWN: usize = 25;

impl Case {
    /// The result of a case that cannot run here (no Docker engine, say).
    pub fn skipped(&self, reason: impl Into<String>) -> CaseResult {
        CaseResult {
            status: Status::Skipped {
                reason: reason.into(),
            },
            ..self.blank_result()
        }
    }

    fn blank_result(&self) -> CaseResult {
        CaseResult {
            name: self.name(),
            scenario_id: self.scenario.id.clone(),
            scenario_name: self.scenario.name.clone(),
            file: self.scenario.file.path.clone(),
            provider: self.provider.kind().to_owned(),
            requested_version: self.requested_version.clone(),
            acapy_version: None,
            status: Status::Passed,
            duration: Default::default(),
            steps: Vec::new(),
            failure: None,
            artifacts: None,
        }
    }
}

pub async fn run_case(case: &Case, options: &RunOptions) -> CaseResult {
    let started = Instant::now();
    let scenario = &case.scenario;
    let mut result = case.blank_result();

    // Skip before starting anything when the version asked for rules it out.
    if let (Some(req), Some(asked)) = (
        &scenario.requires,
        parse_version(case.requested_version.as_deref()),
    ) {
        if !req.holds(&asked) {
            result.status = skipped(req);
            return result;
        }
    }

    let specs: Vec<AgentSpec> = scenario
        .agents
        .iter()
        .map(|a| AgentSpec {
            role: a.role.clone(),
            label: a.label.clone(),
            args: options.agent_args.iter().chain(&a.args).cloned().collect(),
        })
        .collect();
    let mut agents = match case.provider.start(&specs, &result.name).await {
        Ok(agents) => agents,
        Err(e) => {
            result.status = Status::Failed;
            result.failure = Some(Failure {
                message: "the agents did not start".into(),
                notes: vec![format!("{e:#}")],
                ..Failure::default()
            });
            result.duration = started.elapsed();
            return result;
        }
    };
    result.acapy_version = agents.first().map(|a| a.version.clone());

    let outcome = Runner::new(scenario, &agents, started)
        .run(&mut result, options)
        .await;
    if let Err(failure) = outcome {
        if options.keep_artifacts {
            let mut artifacts = result.artifacts.take().unwrap_or_default();
            for agent in &agents {
                if let Some(log) = agent.handle.log().await {
                    artifacts.logs.insert(agent.role.clone(), log);
                }
            }
            result.artifacts = Some(artifacts);
        }
        let mut failure = *failure;
        if let Some(role) = &failure.agent {
            if let Some(agent) = agents.iter().find(|a| &a.role == role) {
                failure.log_tail = agent.handle.log_tail(LOG_LINES_SHOWN).await;
            }
        }
        result.status = Status::Failed;
        result.failure = Some(failure);
    } else {
        result.artifacts = None;
    }
    stop_all(&mut agents).await;
    apply_xfail(scenario, &mut result);
    result.duration = started.elapsed();
    result
}

fn skipped(req: &VersionCondition) -> Status {
    Status::Skipped {
        reason: format!("requires ACA-Py {} ({})", req.text, req.loc),
    }
}

/// `1.3.6`, `0.12.8`, `1.4.0rc1` → a semver version (pre-release dropped).
pub fn parse_version(text: Option<&str>) -> Option<semver::Version> {
    let text = text?;
    let numeric: String = text
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let mut parts = numeric
        .split('.')
        .filter(|p| !p.is_empty())
        .map(|p| p.parse::<u64>());
    let major = parts.next()?.ok()?;
    let minor = parts.next().and_then(Result::ok).unwrap_or(0);
    let patch = parts.next().and_then(Result::ok).unwrap_or(0);
    Some(semver::Version::new(major, minor, patch))
}

fn apply_xfail(scenario: &Scenario, result: &mut CaseResult) {
    let version = parse_version(result.acapy_version.as_deref());
    let matching = scenario.xfail.iter().find(|x| match (&x.when, &version) {
        (None, _) => true,
        (Some(cond), Some(v)) => cond.holds(v),
        (Some(_), None) => false,
    });
    if let Some(xfail) = matching {
        let reason = xfail.reason.clone();
        result.status = match result.status {
            Status::Failed => Status::ExpectedFailure { reason },
            Status::Passed => Status::UnexpectedPass { reason },
            ref other => other.clone(),
        };
    }
}

struct Runner<'a> {
    scenario: &'a Scenario,
    agents: BTreeMap<&'a str, (&'a Agent, AdminClient)>,
    streams: BTreeMap<String, EventStream>,
    vars: Vars,
    version: Option<semver::Version>,
    exchanges: Vec<Exchange>,
    started: Instant,
}

impl<'a> Runner<'a> {
    fn new(scenario: &'a Scenario, agents: &'a [Agent], started: Instant) -> Runner<'a> {
        let http = AdminClient::http();
        Runner {
            scenario,
            agents: agents
                .iter()
                .map(|a| {
                    let client = AdminClient::new(&a.admin_url, a.api_key.clone(), http.clone());
                    (a.role.as_str(), (a, client))
                })
                .collect(),
            streams: BTreeMap::new(),
            vars: Vars::new(),
            version: parse_version(agents.first().map(|a| a.version.as_str())),
            exchanges: Vec::new(),
            started,
        }
    }

    async fn run(
        &mut self,
        result: &mut CaseResult,
        options: &RunOptions,
    ) -> Result<(), Box<Failure>> {
        let outcome = self.run_steps(result).await;
        if outcome.is_err() && options.keep_artifacts {
            result.artifacts = Some(Artifacts {
                exchanges: std::mem::take(&mut self.exchanges),
                events: self
                    .streams
                    .iter()
                    .map(|(role, s)| (role.clone(), s.log.snapshot()))
                    .collect(),
                logs: BTreeMap::new(),
            });
        }
        outcome
    }

    async fn run_steps(&mut self, result: &mut CaseResult) -> Result<(), Box<Failure>> {
        if let (Some(req), Some(v)) = (&self.scenario.requires, &self.version) {
            if !req.holds(v) {
                result.status = skipped(req);
                return Ok(());
            }
        }
        self.subscribe().await?;
        self.vars.insert(
            "run_id".into(),
            Value::String(crate::agents::generate_api_key()[..12].to_owned()),
        );
        for (name, template) in &self.scenario.vars {
            let value = template
                .render(&self.vars)
                .map_err(|d| Box::new(Failure::from(d)))?;
            self.vars.insert(name.clone(), value);
        }

        let steps = &self.scenario.steps;
        for (index, step) in steps.iter().enumerate() {
            let step_started = Instant::now();
            let skip = match (&step.when, &self.version) {
                (Some(cond), Some(v)) => !cond.holds(v),
                _ => false,
            };
            let outcome = if skip {
                Ok(())
            } else {
                self.run_step(index, step).await
            };
            result.steps.push(StepResult {
                name: step.name.clone(),
                agent: step.agent.clone().unwrap_or_default(),
                status: match (&outcome, skip) {
                    (_, true) => StepStatus::Skipped,
                    (Ok(()), _) => StepStatus::Passed,
                    (Err(_), _) => StepStatus::Failed,
                },
                duration: step_started.elapsed(),
            });
            if let Err(failure) = outcome {
                for rest in &steps[index + 1..] {
                    result.steps.push(StepResult {
                        name: rest.name.clone(),
                        agent: rest.agent.clone().unwrap_or_default(),
                        status: StepStatus::NotRun,
                        duration: Default::default(),
                    });
                }
                return Err(failure);
            }
        }
        Ok(())
    }

    /// Subscribes to every agent's events before the first step.
    async fn subscribe(&mut self) -> Result<(), Box<Failure>> {
        let started = self.started;
        let connections = self.agents.values().map(|(agent, _)| async move {
            (
                agent.role.clone(),
                EventStream::connect(&agent.admin_url, agent.api_key.as_deref(), started).await,
            )
        });
        for (role, stream) in futures_util::future::join_all(connections).await {
            match stream {
                Ok(s) => {
                    self.streams.insert(role, s);
                }
                Err(e) => {
                    return Err(Box::new(Failure {
                        agent: Some(role.clone()),
                        message: format!("cannot subscribe to the events of agent `{role}`"),
                        notes: vec![format!("{e:#}")],
                        ..Failure::default()
                    }))
                }
            }
        }
        Ok(())
    }

    async fn run_step(&mut self, index: usize, step: &Step) -> Result<(), Box<Failure>> {
        self.perform(step)
            .await
            .map_err(|failure| Box::new(self.with_context(index, step, failure)))
    }

    /// Adds the step, its agent and the agent's recent events to a failure.
    fn with_context(&self, index: usize, step: &Step, mut failure: Failure) -> Failure {
        failure.step = Some((index + 1, step.name.clone()));
        if let Some(agent) = &step.agent {
            failure.agent = Some(agent.clone());
            if let Some(stream) = self.streams.get(agent) {
                let events = stream.log.snapshot();
                let from = events.len().saturating_sub(EVENTS_SHOWN);
                failure.recent_events = events[from..].iter().map(summarize).collect();
            }
        }
        failure
    }
}
