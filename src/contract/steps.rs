//! A suite's request steps against a version's document, before anything
//! starts (`validate --acapy VERSION`): each step's method and path (its
//! variables standing for any one segment) must be an operation of that
//! version, unless the scenario or the step is not for it, or the step
//! expects an error answer.

use super::ApiDocument;
use crate::diagnostic::Diagnostic;
use crate::scenario::model::{Action, Facts, Scenario};
use crate::scenario::template::Vars;
use crate::version::Version;
use serde_json::Value;
use std::sync::Arc;

/// A diagnostic for each request step to an operation `version` lacks:
/// one that none of `documents` has (a version's documents differ by
/// wallet type, multitenancy and plugins; the first names the closest).
pub fn unknown_operations(
    scenarios: &[Arc<Scenario>],
    version: &str,
    documents: &[ApiDocument],
) -> Vec<Diagnostic> {
    let Some(document) = documents.first() else {
        return Vec::new();
    };
    let Ok(parsed) = Version::parse(version) else {
        return Vec::new();
    };
    let mut problems = Vec::new();
    for scenario in scenarios {
        let facts = Facts {
            versions: scenario
                .agents
                .iter()
                .map(|a| (a.role.clone(), parsed.clone()))
                .collect(),
            agents: None,
        };
        if scenario
            .requires
            .as_ref()
            .is_some_and(|r| r.unmet(&facts).is_some())
        {
            continue;
        }
        for step in &scenario.steps {
            // A request to a service is not ACA-Py's.
            let (Action::Request(request), None) = (&step.action, &step.service) else {
                continue;
            };
            let for_another_version = step
                .when
                .as_ref()
                .is_some_and(|w| w.unmet(&facts).is_some());
            let expects_error = step
                .status
                .as_ref()
                .is_some_and(|s| !(200..300).contains(&s.code));
            if for_another_version || expects_error {
                continue;
            }
            // Each variable stands for one segment.
            let vars: Vars = request
                .path
                .vars()
                .into_iter()
                .map(|v| (v.name.clone(), Value::String("x".into())))
                .collect();
            let Ok(path) = request.path.render_path(&vars) else {
                continue;
            };
            let method = request.method.as_str();
            if documents.iter().any(|d| d.find(method, &path).is_ok()) {
                continue;
            }
            if let Err(unknown) = document.find(method, &path) {
                let mut d = Diagnostic::at(&step.loc, unknown.to_string())
                    .label(format!("`{}` sends {} {path}", step.name, request.method));
                if let Some(help) = unknown.help() {
                    d = d.note(format!("help: {help}"));
                }
                d = d.note(
                    "help: limit the step (`when: { acapy: ... }`) or the scenario (`requires`) to the versions that have it",
                );
                problems.push(d);
            }
        }
    }
    problems
}
