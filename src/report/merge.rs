//! `acapy-harness report merge`: the JSON reports of several runs (CI jobs
//! over partitions and versions) read back and written as one Markdown
//! matrix, and optionally one JSON report and one JUnit file.
//!
//! A report is read back as the results it was written from, except that a
//! failure keeps only what JSON holds: its fields and its text as rendered
//! then (`failure.text`). A case present in several reports keeps the last
//! one given. The merged run's time is the longest of the inputs' (jobs run
//! side by side).

use crate::admin::Exchange;
use crate::diagnostic::{Loc, SourceFile};
use crate::run::outcome::{
    CaseResult, FailedTry, Failure, RoleVersion, Status, StepResult, StepStatus,
};
use anyhow::{anyhow, bail, Context};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The results of one JSON report and its run's wall time.
pub fn read(path: &Path) -> anyhow::Result<(Vec<CaseResult>, Duration)> {
    let text = std::fs::read_to_string(path)?;
    let doc: Value = serde_json::from_str(&text)?;
    parse(&doc)
}

/// Reads `inputs` in order; a case in several keeps the last. Says on stderr
/// which case was replaced by which file.
pub fn merge(inputs: &[PathBuf]) -> anyhow::Result<(Vec<CaseResult>, Duration)> {
    let mut merged: Vec<CaseResult> = Vec::new();
    let mut elapsed = Duration::ZERO;
    for path in inputs {
        let (results, took) =
            read(path).with_context(|| format!("cannot read {}", path.display()))?;
        elapsed = elapsed.max(took);
        for result in results {
            match merged.iter_mut().find(|r| r.name == result.name) {
                Some(earlier) => {
                    eprintln!(
                        "acapy-harness: {} is in more than one report: keeping {}'s",
                        result.name,
                        path.display()
                    );
                    *earlier = result;
                }
                None => merged.push(result),
            }
        }
    }
    merged.sort_by(|a, b| a.name.cmp(&b.name));
    Ok((merged, elapsed))
}

pub fn parse(doc: &Value) -> anyhow::Result<(Vec<CaseResult>, Duration)> {
    match doc["version"].as_u64() {
        Some(super::json::FORMAT_VERSION) => {}
        other => bail!(
            "not an acapy-harness JSON report of version {} (version: {other:?})",
            super::json::FORMAT_VERSION
        ),
    }
    let elapsed = millis(&doc["summary"]["duration_ms"]);
    let cases = doc["cases"]
        .as_array()
        .ok_or_else(|| anyhow!("no `cases` array"))?;
    let results = cases
        .iter()
        .enumerate()
        .map(|(i, c)| case(c).with_context(|| format!("cases[{i}]")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok((results, elapsed))
}

fn case(c: &Value) -> anyhow::Result<CaseResult> {
    let word = string(c, "status")?;
    let reason = opt_string(&c["reason"]).unwrap_or_default();
    let status = match word.as_str() {
        "pass" => Status::Passed,
        "fail" => Status::Failed,
        "skip" => Status::Skipped { reason },
        "xfail" => Status::ExpectedFailure { reason },
        "xpass" => Status::UnexpectedPass { reason },
        "interrupted" => Status::Interrupted {
            started: !reason.starts_with("not run"),
        },
        "flaky" => Status::Flaky {
            failed_tries: c["failed_tries"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|t| FailedTry {
                    duration: millis(&t["duration_ms"]),
                    failure: Some(failure(t)),
                })
                .collect(),
        },
        other => bail!("unknown status `{other}`"),
    };
    let steps = c["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| StepResult {
            name: opt_string(&s["name"]).unwrap_or_default(),
            agent: opt_string(&s["agent"]).unwrap_or_default(),
            status: match s["status"].as_str() {
                Some("passed") => StepStatus::Passed,
                Some("failed") => StepStatus::Failed,
                Some("skipped") => StepStatus::Skipped,
                _ => StepStatus::NotRun,
            },
            duration: millis(&s["duration_ms"]),
        })
        .collect();
    Ok(CaseResult {
        name: string(c, "name")?,
        scenario_id: string(c, "scenario")?,
        scenario_name: opt_string(&c["scenario_name"]).unwrap_or_default(),
        file: PathBuf::from(opt_string(&c["file"]).unwrap_or_default()),
        target: string(c, "target")?,
        provider: opt_string(&c["provider"]).unwrap_or_default(),
        requested_version: opt_string(&c["requested_version"]),
        acapy_version: opt_string(&c["acapy_version"]),
        roles: c["roles"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| RoleVersion {
                role: opt_string(&r["role"]).unwrap_or_default(),
                requested: opt_string(&r["requested_version"]),
                reported: opt_string(&r["acapy_version"]),
            })
            .collect(),
        agent_mode: match c["agents"].as_str() {
            Some("shared") => Some("shared"),
            Some("dedicated") => Some("dedicated"),
            _ => None,
        },
        status,
        duration: millis(&c["duration_ms"]),
        steps,
        failure: c.get("failure").filter(|f| f.is_object()).map(failure),
        artifacts: None,
        // Reports are written masked: nothing is left to mask.
        secrets: Default::default(),
    })
}

fn failure(f: &Value) -> Failure {
    let mut failure = Failure::new(opt_string(&f["message"]).unwrap_or_default());
    if let Some(loc) = opt_string(&f["location"]).and_then(|l| location(&l)) {
        failure = failure.at(&loc);
    }
    failure.step = f["step"]
        .as_u64()
        .map(|n| (n as usize, opt_string(&f["step_name"]).unwrap_or_default()));
    failure.agent = opt_string(&f["agent"]);
    failure.expected = opt_string(&f["expected"]);
    failure.actual = opt_string(&f["actual"]);
    failure.response = f.get("response").and_then(exchange);
    failure.rendered = opt_string(&f["text"]).or_else(|| {
        // An older report without the text: what it has, one line each.
        let mut text = format!("failure: {}\n", failure.message());
        if let Some(loc) = opt_string(&f["location"]) {
            text.push_str(&format!("  --> {loc}\n"));
        }
        for (label, value) in [("expected", &failure.expected), ("actual", &failure.actual)] {
            if let Some(value) = value {
                text.push_str(&format!("  = {label}: {value}\n"));
            }
        }
        Some(text)
    });
    failure
}

/// `path:line:column`, pointing into a file whose text is not at hand.
fn location(text: &str) -> Option<Loc> {
    let mut parts = text.rsplitn(3, ':');
    let column = parts.next()?.parse().ok()?;
    let line = parts.next()?.parse().ok()?;
    let file = Arc::new(SourceFile {
        path: PathBuf::from(parts.next()?),
        text: String::new(),
    });
    Some(Loc::new(&file, line, column, 1))
}

fn exchange(e: &Value) -> Option<Exchange> {
    Some(Exchange {
        agent: opt_string(&e["agent"])?,
        method: opt_string(&e["method"])?,
        url: opt_string(&e["url"])?,
        request: e.get("request").cloned(),
        status: u16::try_from(e["status"].as_u64()?).ok()?,
        response: e["response"].clone(),
        elapsed_ms: e["elapsed_ms"].as_f64().unwrap_or(0.0),
    })
}

fn string(v: &Value, key: &str) -> anyhow::Result<String> {
    opt_string(&v[key]).ok_or_else(|| anyhow!("no `{key}`"))
}

fn opt_string(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

fn millis(v: &Value) -> Duration {
    Duration::from_millis(v.as_u64().unwrap_or(0))
}
