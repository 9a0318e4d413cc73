//! How much of each version's admin API a run reached (`run --coverage`,
//! `acapy-harness coverage REPORT.json...`): the operations its steps
//! really sent, as matched to the agent's own document when they were sent
//! (templated paths resolved at run time), against every operation of
//! that version's document in the cache. The uncovered ones are listed,
//! marked where they need a ledger.

use crate::contract::{ledger_need, DocumentCache};
use crate::run::outcome::CaseResult;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// One version's coverage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VersionCoverage {
    pub version: String,
    /// The document counted against (`1.3.6 (process, askar)`), or why
    /// there is none.
    pub document: String,
    pub operations: usize,
    pub covered: usize,
    /// The same, among the operations that need no ledger.
    pub without_ledger: usize,
    pub covered_without_ledger: usize,
    /// Operations covered by the scenarios of each tag.
    pub by_tag: BTreeMap<String, usize>,
    /// Every operation not covered, and why it needs a ledger if it does.
    pub missed: Vec<Missed>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Missed {
    pub operation: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needs_ledger: Option<String>,
}

/// The operations each version received, by tag too.
#[derive(Default)]
struct Sent {
    all: BTreeSet<String>,
    by_tag: BTreeMap<String, BTreeSet<String>>,
}

/// Coverage of every version the results ran on; documents from `cache`.
pub fn of(results: &[CaseResult], cache: &DocumentCache) -> Vec<VersionCoverage> {
    let mut sent: BTreeMap<String, Sent> = BTreeMap::new();
    for result in results {
        let version_of = |role: &str| {
            result
                .roles
                .iter()
                .find(|r| r.role == role)
                .and_then(|r| r.reported.clone())
        };
        for exchange in result.steps.iter().flat_map(|s| &s.exchanges) {
            let (Some(operation), Some(version)) =
                (&exchange.operation, version_of(&exchange.agent))
            else {
                continue;
            };
            let entry = sent.entry(version).or_default();
            entry.all.insert(operation.clone());
            for tag in &result.tags {
                entry
                    .by_tag
                    .entry(tag.clone())
                    .or_default()
                    .insert(operation.clone());
            }
        }
    }
    let mut versions: Vec<String> = sent.keys().cloned().collect();
    versions.sort_by(|a, b| crate::version::compare_labels(a, b));
    versions
        .into_iter()
        .map(|version| {
            let sent = &sent[&version];
            let by_tag = sent
                .by_tag
                .iter()
                .map(|(tag, ops)| (tag.clone(), ops.len()))
                .collect();
            match cache.load_version(&version, None) {
                Ok(Some((key, document))) => {
                    let mut coverage = VersionCoverage {
                        version: version.clone(),
                        document: key.to_string(),
                        operations: 0,
                        covered: 0,
                        without_ledger: 0,
                        covered_without_ledger: 0,
                        by_tag,
                        missed: Vec::new(),
                    };
                    for operation in document.operations() {
                        let id = operation.id.to_string();
                        let ledger = ledger_need(operation);
                        let hit = sent.all.contains(&id);
                        coverage.operations += 1;
                        coverage.covered += usize::from(hit);
                        if ledger.is_none() {
                            coverage.without_ledger += 1;
                            coverage.covered_without_ledger += usize::from(hit);
                        }
                        if !hit {
                            coverage.missed.push(Missed {
                                operation: id,
                                needs_ledger: ledger.map(|l| l.to_string()),
                            });
                        }
                    }
                    coverage
                }
                _ => VersionCoverage {
                    version: version.clone(),
                    document: format!(
                        "none cached for {version} (a run with --contract warn fetches it)"
                    ),
                    operations: 0,
                    covered: sent.all.len(),
                    without_ledger: 0,
                    covered_without_ledger: 0,
                    by_tag,
                    missed: Vec::new(),
                },
            }
        })
        .collect()
}

fn percent(part: usize, whole: usize) -> usize {
    (part * 100).checked_div(whole).unwrap_or(0)
}

/// `1.3.6: 71 of 187 operations (37 %); 71 of 112 that need no ledger (63 %)`.
pub fn line(c: &VersionCoverage) -> String {
    match c.operations {
        0 => format!(
            "{}: {} operation(s) sent; {}",
            c.version, c.covered, c.document
        ),
        total => format!(
            "{}: {} of {total} operations ({} %); {} of the {} that need no ledger ({} %)",
            c.version,
            c.covered,
            percent(c.covered, total),
            c.covered_without_ledger,
            c.without_ledger,
            percent(c.covered_without_ledger, c.without_ledger)
        ),
    }
}

/// Each version's line, its tags, and what it missed (those needing no
/// ledger first: they are what the library could still reach).
pub fn render(coverage: &[VersionCoverage]) -> String {
    let mut out = String::new();
    for c in coverage {
        let _ = writeln!(out, "coverage {}", line(c));
        let _ = writeln!(out, "  document: {}", c.document);
        if !c.by_tag.is_empty() {
            let tags: Vec<String> = c.by_tag.iter().map(|(t, n)| format!("{t} {n}")).collect();
            let _ = writeln!(out, "  by tag: {}", tags.join(", "));
        }
        for m in c.missed.iter().filter(|m| m.needs_ledger.is_none()) {
            let _ = writeln!(out, "  not covered: {}", m.operation);
        }
        let ledger = c.missed.iter().filter(|m| m.needs_ledger.is_some()).count();
        if ledger > 0 {
            let _ = writeln!(
                out,
                "  not covered, needing a ledger: {ledger} operation(s)"
            );
        }
    }
    out
}
