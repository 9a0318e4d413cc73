//! `acapy-harness report merge`: the JSON reports of several runs (CI jobs
//! over partitions and versions) read back and written as one Markdown
//! matrix, and optionally one JSON report, JUnit file and HTML report.
//!
//! A report reads back as the results it was written from (only the
//! artifacts stay behind). A case present in several reports keeps the
//! last one given. The merged run's time is the longest of the inputs'
//! (jobs run side by side).

use super::json::JsonReport;
use crate::run::outcome::CaseResult;
use anyhow::Context;
use std::path::PathBuf;
use std::time::Duration;

/// What `merge` made of its inputs.
#[derive(Debug)]
pub struct Merged {
    pub results: Vec<CaseResult>,
    pub elapsed: Duration,
    pub notices: Vec<String>,
    /// Cases found in more than one report: (case, the report kept).
    pub replaced: Vec<(String, PathBuf)>,
}

/// Reads `inputs` in order; a case in several keeps the last.
pub fn merge(inputs: &[PathBuf]) -> anyhow::Result<Merged> {
    let mut merged = Merged {
        results: Vec::new(),
        elapsed: Duration::ZERO,
        notices: Vec::new(),
        replaced: Vec::new(),
    };
    for path in inputs {
        let report =
            JsonReport::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        merged.elapsed = merged.elapsed.max(report.summary.duration);
        for notice in report.notices {
            if !merged.notices.contains(&notice) {
                merged.notices.push(notice);
            }
        }
        for result in report.cases {
            match merged.results.iter_mut().find(|r| r.name == result.name) {
                Some(earlier) => {
                    merged.replaced.push((result.name.clone(), path.clone()));
                    *earlier = result;
                }
                None => merged.results.push(result),
            }
        }
    }
    merged.results.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(merged)
}
