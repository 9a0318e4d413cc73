//! What the contract found over a run, counted once per rule: each
//! version's operation and the rule of its document an answer (or a
//! request) broke, how often, and in which cases. Every report shows it
//! from the same summary.

use crate::run::outcome::{CaseResult, ContractFinding};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The run's findings, by rule.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ContractSummary {
    /// Exchanges matched to an operation of their agent's document.
    pub checked: usize,
    /// Rules broken that no `contract.known` entry declares.
    pub findings: Vec<Rule>,
    /// Rules broken as declared drift.
    pub known: Vec<Rule>,
}

/// One rule of one version's document, and where it was broken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Rule {
    pub version: String,
    /// `violation`, `undocumented_status`, `unknown_operation`, `document_error`.
    pub kind: String,
    pub operation: String,
    /// The first finding of the rule, as the run met it.
    pub example: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known: Option<String>,
    /// How many findings, and in how many cases.
    pub count: usize,
    pub cases: Vec<String>,
}

/// Cases named per rule in the summary.
const CASES_KEPT: usize = 5;

impl ContractSummary {
    pub fn of(results: &[CaseResult]) -> ContractSummary {
        let mut checked = 0;
        let mut rules: BTreeMap<(bool, String), Rule> = BTreeMap::new();
        for result in results {
            for step in &result.steps {
                checked += step
                    .exchanges
                    .iter()
                    .filter(|e| e.operation.is_some())
                    .count();
                for finding in &step.contract {
                    add(&mut rules, finding, &result.name);
                }
            }
        }
        let (known, findings): (Vec<Rule>, Vec<Rule>) =
            rules.into_values().partition(|r| r.known.is_some());
        ContractSummary {
            checked,
            findings,
            known,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.checked == 0 && self.findings.is_empty() && self.known.is_empty()
    }

    /// `contract: 3 rule(s) broken (2 known) over 412 exchanges checked`.
    pub fn line(&self) -> String {
        format!(
            "contract: {} rule(s) broken, {} of them known drift, over {} exchange(s) checked",
            self.findings.len() + self.known.len(),
            self.known.len(),
            self.checked
        )
    }

    /// The line, then each rule broken that is not known, one line each.
    pub fn render(&self) -> String {
        let mut out = self.line();
        out.push('\n');
        for rule in &self.findings {
            let _ = writeln!(
                out,
                "  {} {}: {} (×{}, e.g. {})",
                rule.version,
                rule.operation,
                rule.example,
                rule.count,
                rule.cases.first().map(String::as_str).unwrap_or("?")
            );
        }
        out
    }
}

fn add(rules: &mut BTreeMap<(bool, String), Rule>, finding: &ContractFinding, case: &str) {
    let key = (finding.known.is_some(), finding.rule.clone());
    let rule = rules.entry(key).or_insert_with(|| Rule {
        version: finding.version.clone(),
        kind: finding.kind.clone(),
        operation: finding.operation.clone(),
        example: finding.text.clone(),
        schema_path: finding.schema_path.clone(),
        known: finding.known.clone(),
        count: 0,
        cases: Vec::new(),
    });
    rule.count += 1;
    if rule.cases.len() < CASES_KEPT && !rule.cases.iter().any(|c| c == case) {
        rule.cases.push(case.to_owned());
    }
}
