//! Checking a parsed scenario file into the model: every problem becomes a
//! [`Diagnostic`] pointing at its line and column, all reported together.

mod expect;
mod include;
mod step;
mod values;
mod variables;
mod wait;

use crate::diagnostic::{Diagnostic, Diagnostics, Loc, SourceFile};
use crate::scenario::model::*;
use crate::scenario::raw::*;
use crate::scenario::template::is_var_name;
use serde_saphyr::{Location, Spanned};
use std::path::PathBuf;
use std::sync::Arc;

/// Checks a scenario read from `file`: the model, or every problem found.
pub(super) fn check_scenario(
    file: Arc<SourceFile>,
    id: String,
    raw: RawScenario,
) -> Result<Scenario, Diagnostics> {
    let mut checker = Checker {
        include_stack: vec![file.path.clone()],
        file,
        errors: Vec::new(),
        roles: Vec::new(),
    };
    let scenario = checker.scenario(id, raw);
    if checker.errors.is_empty() {
        Ok(scenario)
    } else {
        Err(Diagnostics(checker.errors))
    }
}

struct Checker {
    file: Arc<SourceFile>,
    errors: Vec<Diagnostic>,
    roles: Vec<String>,
    include_stack: Vec<PathBuf>,
}

impl Checker {
    pub(super) fn loc(&self, l: &Location) -> Loc {
        Loc::new(
            &self.file,
            l.line() as usize,
            l.column() as usize,
            l.span().len() as usize,
        )
    }

    pub(super) fn key_loc(&self, key: &Spanned<String>) -> Loc {
        Loc::new(
            &self.file,
            key.referenced.line() as usize,
            key.referenced.column() as usize,
            key.value.chars().count(),
        )
    }

    pub(super) fn error(&mut self, d: Diagnostic) {
        self.errors.push(d);
    }

    pub(super) fn scenario(&mut self, id: String, raw: RawScenario) -> Scenario {
        let name = raw.name.map(|n| n.value).unwrap_or_else(|| id.clone());
        let requires = raw.requires.and_then(|c| self.condition(c));
        let xfail = raw
            .xfail
            .into_iter()
            .map(|x| Xfail {
                when: x.acapy.and_then(|a| self.version_req(&a)),
                reason: x.reason.value.trim().to_owned(),
            })
            .collect();

        let mut agents = Vec::new();
        for (role, agent) in raw.agents.value.0 {
            if !is_var_name(&role.value) {
                let loc = self.key_loc(&role);
                self.error(
                    Diagnostic::at(&loc, format!("invalid agent role `{}`", role.value))
                        .label("roles are letters, digits and `_`"),
                );
            }
            agents.push(AgentDecl {
                label: agent
                    .label
                    .map(|l| l.value)
                    .unwrap_or_else(|| role.value.clone()),
                args: agent.args.into_iter().map(|a| a.value).collect(),
                loc: self.key_loc(&role),
                role: role.value,
            });
        }
        if agents.is_empty() {
            let loc = self.loc(&raw.agents.referenced);
            self.error(
                Diagnostic::at(&loc, "a scenario needs at least one agent")
                    .label("no agents declared")
                    .note("help: e.g. `agents: { issuer: {}, holder: {} }`"),
            );
        }
        self.roles = agents.iter().map(|a| a.role.clone()).collect();

        let mut vars = Vec::new();
        for (key, node) in raw.vars.0 {
            let name = self.var_name(&key);
            if let Some(t) = self.template(&node) {
                vars.push((name, t));
            }
        }

        if raw.steps.value.is_empty() {
            let loc = self.loc(&raw.steps.referenced);
            self.error(Diagnostic::at(&loc, "a scenario needs at least one step"));
        }
        let steps = self.steps(raw.steps.value);

        let scenario = Scenario {
            id,
            file: self.file.clone(),
            name,
            description: raw.description,
            tags: raw.tags.into_iter().map(|t| t.value).collect(),
            requires,
            xfail,
            vars,
            agents,
            steps,
        };
        self.check_variables(&scenario);
        scenario
    }

    pub(super) fn steps(&mut self, raw: Vec<RawStep>) -> Vec<Step> {
        let mut steps = Vec::new();
        for (index, step) in raw.into_iter().enumerate() {
            self.step(index + 1, step, &mut steps);
        }
        steps
    }
}
