//! Checking a parsed scenario file into the model, every problem reported.
//!
//! Each problem becomes a [`Diagnostic`] pointing at its line and column; a
//! file's problems are reported together rather than one per run.

mod agents;
mod expect;
mod include;
mod services;
mod step;
mod values;
mod variables;
mod wait;

use crate::diagnostic::{Diagnostic, Diagnostics, Loc, SourceFile};
use crate::redact::is_secret_name;
use crate::scenario::model::*;
use crate::scenario::raw::*;
use crate::scenario::template::Template;
use crate::scenario::yaml::{SpannedMap, SpannedNode};
use serde_saphyr::{Location, Spanned};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use variables::Variables;

/// Checks a scenario read from `file`: the model, or every problem found.
/// `outside` are the variables given from outside the file (`--var`,
/// `--vars-file`, `--secret`): they count as set.
pub(super) fn check_scenario(
    file: Arc<SourceFile>,
    id: String,
    raw: RawScenario,
    outside: &BTreeSet<String>,
) -> Result<Scenario, Diagnostics> {
    let mut checker = Checker::new(file, outside);
    let scenario = checker.check_scenario(id, raw);
    if checker.errors.is_empty() {
        Ok(scenario)
    } else {
        Err(Diagnostics(checker.errors))
    }
}

/// Checks the `services:` of a suite's `acapy-harness.yaml` read from
/// `file`: they may use the variables given from outside.
pub fn check_suite_services(
    file: Arc<SourceFile>,
    raw: SpannedMap<Spanned<RawService>>,
    outside: &BTreeSet<String>,
) -> Result<Vec<ServiceDecl>, Diagnostics> {
    let mut checker = Checker::new(file, outside);
    let services = checker.check_services(raw, true);
    checker.errors.extend(checker.variables.take_problems());
    match checker.errors.is_empty() {
        true => Ok(services),
        false => Err(Diagnostics(checker.errors)),
    }
}

impl Checker {
    fn new(file: Arc<SourceFile>, outside: &BTreeSet<String>) -> Checker {
        Checker {
            include_stack: vec![file.path.clone()],
            file,
            errors: Vec::new(),
            warnings: Vec::new(),
            roles: Vec::new(),
            variables: Variables::new(outside),
            step_xfails: Vec::new(),
        }
    }
}

struct Checker {
    /// The file being checked: the scenario, or a file it includes.
    file: Arc<SourceFile>,
    errors: Vec<Diagnostic>,
    /// What is worth saying but not wrong (an event topic no version sends).
    warnings: Vec<Diagnostic>,
    roles: Vec<String>,
    include_stack: Vec<PathBuf>,
    variables: Variables,
    /// The steps' own `xfail`s, as they are checked.
    step_xfails: Vec<Xfail>,
}

/// What an `xfail` is about: the case, whose steps it may name, or one step.
#[derive(Clone, Copy)]
enum Pin<'a> {
    Case(&'a [Step]),
    Step(usize),
}

impl Checker {
    fn loc(&self, l: &Location) -> Loc {
        Loc::of(&self.file, l)
    }

    fn key_loc(&self, key: &Spanned<String>) -> Loc {
        Loc::new(
            &self.file,
            key.referenced.line() as usize,
            key.referenced.column() as usize,
            key.value.chars().count(),
        )
    }

    fn error(&mut self, d: Diagnostic) {
        self.errors.push(d);
    }

    fn check_scenario(&mut self, id: String, raw: RawScenario) -> Scenario {
        let name = raw.name.map(|n| n.value).unwrap_or_else(|| id.clone());
        let mut agents = self.check_agents(raw.agents);
        self.roles = agents.iter().map(|a| a.role.clone()).collect();
        let (requires, requires_plugins) = match raw.requires {
            Some(r) => self.check_requires(r),
            None => (None, Vec::new()),
        };
        let interop = raw
            .interop
            .map(|i| self.check_interop(i))
            .unwrap_or_default();
        let vars = self.check_vars(raw.vars);
        let services = self.check_services(raw.services, false);
        self.read_agent_templates(&mut agents);

        if raw.steps.value.is_empty() {
            let loc = self.loc(&raw.steps.referenced);
            self.error(Diagnostic::at(&loc, "a scenario needs at least one step"));
        }
        let steps = self.check_steps(raw.steps.value);
        // After the steps: an entry may name one.
        let mut xfail: Vec<Xfail> = raw
            .xfail
            .into_iter()
            .filter_map(|x| self.check_xfail(x, Pin::Case(&steps)))
            .collect();
        xfail.append(&mut self.step_xfails);
        let own_agents = raw.own_agents.and_then(|reason| {
            let text = reason.value.trim().to_owned();
            if text.is_empty() {
                let loc = self.loc(&reason.referenced);
                self.error(
                    Diagnostic::at(
                        &loc,
                        "`own_agents` says why the scenario needs agents of its own",
                    )
                    .note(
                        "help: e.g. `own_agents: the base agent does not route to a rotated DID`",
                    ),
                );
                return None;
            }
            Some(text)
        });
        let secrets = self.check_secrets(raw.secrets, &steps);
        let undefined = self.variables.take_problems();
        self.errors.extend(undefined);

        Scenario {
            id,
            file: self.file.clone(),
            name,
            description: raw.description,
            tags: raw.tags.into_iter().map(|t| t.value).collect(),
            requires,
            requires_plugins,
            xfail,
            warnings: std::mem::take(&mut self.warnings),
            own_agents,
            interop,
            vars,
            secrets,
            services,
            agents,
            steps,
        }
    }

    /// `secrets: [NAME]`, and every capture whose variable or field is named
    /// like a secret (`tenant_token: $.token`).
    fn check_secrets(&mut self, raw: Vec<Spanned<String>>, steps: &[Step]) -> Vec<String> {
        let mut secrets: Vec<String> = raw.iter().map(|name| self.var_name(name)).collect();
        for capture in steps.iter().flat_map(|s| &s.captures) {
            let field = capture
                .query
                .text
                .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .find(|part| !part.is_empty())
                .unwrap_or_default();
            if (is_secret_name(&capture.var) || is_secret_name(field))
                && !secrets.contains(&capture.var)
            {
                secrets.push(capture.var.clone());
            }
        }
        secrets
    }

    /// `{ reason, step, failure, acapy: RANGE, ROLE: RANGE, agents: MODE }`:
    /// a reason; which step fails (the case's entries: `step`, by number or
    /// name; a step's own: that step) and how (`failure`: text its failure
    /// contains); where (everywhere when no condition is given).
    fn check_xfail(&mut self, raw: RawXfail, pin: Pin) -> Option<Xfail> {
        let loc = self.loc(&raw.0.referenced);
        let mut reason = None;
        let mut step = None;
        let mut failure = None;
        let mut ranges = Vec::new();
        for (key, value) in raw.0.value.0 {
            match key.value.as_str() {
                "reason" => reason = Some(value.value.trim().to_owned()),
                "failure" => failure = Some(value.value),
                "step" => step = Some(value),
                _ => ranges.push((key, value)),
            }
        }
        let Some(reason) = reason else {
            self.error(
                Diagnostic::at(&loc, "an `xfail` entry needs a `reason`")
                    .note("help: e.g. `- { acapy: \"<=1.7.0\", reason: \"send-offer ignores auto_remove_on_failure\" }`"),
            );
            return None;
        };
        let step = match (pin, step) {
            (Pin::Step(index), None) => Some(index),
            (Pin::Step(_), Some(step)) => {
                let loc = self.loc(&step.referenced);
                self.error(
                    Diagnostic::at(&loc, "a step's own `xfail` is about that step")
                        .label("`step` goes in the scenario's `xfail` list"),
                );
                return None;
            }
            (Pin::Case(steps), Some(step)) => Some(self.pinned_step(&step, steps)?),
            (Pin::Case(_), None) => None,
        };
        let when = match ranges.is_empty() {
            true => None,
            false => Some(self.condition_parts(ranges)?),
        };
        Some(Xfail {
            when,
            reason,
            step,
            failure,
            goes_on: matches!(pin, Pin::Step(_)),
            loc,
        })
    }

    /// The step an `xfail` names, by its number (as failures count steps,
    /// includes expanded) or its name: its index.
    fn pinned_step(&mut self, step: &Spanned<String>, steps: &[Step]) -> Option<usize> {
        let loc = self
            .loc(&step.referenced)
            .shifted(0, step.value.chars().count());
        let text = step.value.trim();
        if let Ok(number) = text.parse::<usize>() {
            if (1..=steps.len()).contains(&number) {
                return Some(number - 1);
            }
            self.error(
                Diagnostic::at(&loc, format!("there is no step {number}"))
                    .label(format!("the scenario has {} step(s)", steps.len())),
            );
            return None;
        }
        let named: Vec<usize> = (0..steps.len())
            .filter(|&i| steps[i].name == text)
            .collect();
        match named.as_slice() {
            [index] => Some(*index),
            [] => {
                let names: Vec<&str> = steps.iter().map(|s| s.name.as_str()).collect();
                let mut d = Diagnostic::at(&loc, format!("no step is named `{text}`"))
                    .label("a step's number or its name");
                if let Some(help) = crate::suggest::did_you_mean(text, &names) {
                    d = d.note(help);
                }
                self.error(d);
                None
            }
            several => {
                let numbers: Vec<String> = several.iter().map(|i| (i + 1).to_string()).collect();
                self.error(
                    Diagnostic::at(&loc, format!("{} steps are named `{text}`", several.len()))
                        .label(format!("pin one by its number: {}", numbers.join(", "))),
                );
                None
            }
        }
    }

    /// `interop: [ROLE, ...]`: declared roles, at least one.
    fn check_interop(&mut self, raw: Spanned<Vec<Spanned<String>>>) -> Vec<String> {
        if raw.value.is_empty() {
            let loc = self.loc(&raw.referenced);
            self.error(Diagnostic::at(&loc, "`interop` names at least one role"));
        }
        let mut roles = Vec::new();
        for role in raw.value {
            if self.roles.contains(&role.value) {
                roles.push(role.value);
            } else {
                let loc = self
                    .loc(&role.referenced)
                    .shifted(0, role.value.chars().count());
                self.error(
                    Diagnostic::at(&loc, format!("unknown agent role `{}`", role.value)).label(
                        format!(
                            "not declared under `agents` (declared: {})",
                            self.roles.join(", ")
                        ),
                    ),
                );
            }
        }
        roles
    }

    /// `vars: { NAME: value }`, set before the first step.
    fn check_vars(&mut self, raw: SpannedMap<SpannedNode>) -> Vec<(String, Template)> {
        let mut vars = Vec::new();
        for (key, node) in raw.0 {
            let name = self.var_name(&key);
            // Each value may use the variables above it.
            if let Some(t) = self.template(&node) {
                self.variables.read(&t);
                vars.push((name.clone(), t));
            }
            self.variables.set([name]);
        }
        vars
    }
}
