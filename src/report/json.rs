//! Results as one JSON document, for tools (`--report-json FILE`), and read
//! back by `report merge`. Its shape is the serde shape of [`JsonReport`]
//! and [`CaseResult`]; `acapy-harness schema report` prints its JSON Schema
//! (committed as `schemas/report.schema.json`), and `docs/reports.md`
//! describes it.
//!
//! Fields may be added under the same `version`; none is renamed, removed
//! or retyped without bumping it. Version 2 (this one) writes each step's
//! requests, responses and events, a failure's rendered `diagnostic` in
//! place of version 1's `text`, and `started` for interrupted cases.

use crate::report::console::Tally;
use crate::report::contract::ContractSummary;
use crate::report::coverage::VersionCoverage;
use crate::report::modes::ModeDifference;
use crate::run::outcome::{millis, CaseResult};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Duration;

/// Bumped when an existing field changes meaning or type.
pub const FORMAT_VERSION: u64 = 2;

/// The whole report.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct JsonReport {
    /// The shape's version: [`FORMAT_VERSION`].
    pub version: u64,
    pub summary: Summary,
    /// What the run said besides the cases: installs, choices made,
    /// scenarios that ran on dedicated agents.
    #[serde(default)]
    pub notices: Vec<String>,
    /// What checking exchanges against each agent's API document found, by
    /// rule (recounted from the cases when read back).
    #[serde(default)]
    pub contract: ContractSummary,
    /// Cases whose shared and dedicated runs disagree (`--agents both`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mode_differences: Vec<ModeDifference>,
    /// Each version's coverage, when the run was asked for it (`--coverage`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage: Option<Vec<VersionCoverage>>,
    pub cases: Vec<CaseResult>,
}

/// Counts by status. `failed` counts only `fail`; an `xpass` also fails
/// the run but is counted apart. Read back, missing counts are 0 (they
/// are recounted from the cases anyway).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub xfailed: usize,
    pub xpassed: usize,
    /// Cut short, or never started.
    pub interrupted: usize,
    /// Passed on a retry (not in `passed`).
    pub flaky: usize,
    /// The wall time of the whole run.
    #[serde(rename = "duration_ms", with = "millis")]
    #[schemars(with = "u64")]
    pub duration: Duration,
}

impl JsonReport {
    pub fn new(
        results: &[CaseResult],
        elapsed: Duration,
        notices: &[String],
        coverage: Option<&[VersionCoverage]>,
    ) -> JsonReport {
        let tally = Tally::of(results);
        JsonReport {
            version: FORMAT_VERSION,
            summary: Summary {
                passed: tally.passed,
                failed: tally.failed,
                skipped: tally.skipped,
                xfailed: tally.xfailed,
                xpassed: tally.xpassed,
                interrupted: tally.interrupted + tally.not_started,
                flaky: tally.flaky,
                duration: elapsed,
            },
            notices: notices.to_vec(),
            contract: ContractSummary::of(results),
            mode_differences: crate::report::modes::differences(results),
            coverage: coverage.map(<[VersionCoverage]>::to_vec),
            cases: results.to_vec(),
        }
    }

    /// Reads a report, refusing other versions by name.
    pub fn read(path: &Path) -> anyhow::Result<JsonReport> {
        let text = std::fs::read_to_string(path)?;
        let version: serde_json::Value = serde_json::from_str(&text)?;
        match version["version"].as_u64() {
            Some(FORMAT_VERSION) => Ok(serde_json::from_str(&text)?),
            Some(1) => anyhow::bail!(
                "a JSON report of version 1, from an older acapy-harness: write it again with this one"
            ),
            other => anyhow::bail!(
                "not an acapy-harness JSON report of version {FORMAT_VERSION} (version: {other:?})"
            ),
        }
    }
}

/// Pretty-printed, with a final newline so the file diffs and `cat`s cleanly.
pub fn write(
    results: &[CaseResult],
    elapsed: Duration,
    notices: &[String],
    coverage: Option<&[VersionCoverage]>,
    path: &Path,
) -> std::io::Result<()> {
    let report = JsonReport::new(results, elapsed, notices, coverage);
    let mut text = serde_json::to_string_pretty(&report)?;
    text.push('\n');
    std::fs::write(path, text)
}

/// The distinct targets of `results`, in version order.
pub fn targets(results: &[CaseResult]) -> Vec<String> {
    let mut targets: Vec<String> = results.iter().map(|r| r.target.clone()).collect();
    targets.sort_by(|a, b| crate::version::compare_labels(a, b));
    targets.dedup();
    targets
}
