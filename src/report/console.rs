//! Terminal output: one line per case, failures in full, a summary.

use crate::run::assert::short_json;
use crate::run::outcome::{CaseResult, FailedTry, Failure, Status};
use std::fmt::Write as _;
use std::time::Duration;

const RESPONSE_LINES: usize = 40;

/// `PASS  name  (3.2s, ACA-Py 1.3.6)`.
pub fn case_line(result: &CaseResult) -> String {
    let word = match &result.status {
        Status::Passed => "PASS ",
        Status::Failed => "FAIL ",
        Status::Skipped { .. } => "SKIP ",
        Status::ExpectedFailure { .. } => "XFAIL",
        Status::UnexpectedPass { .. } => "XPASS",
        Status::Interrupted { .. } => "INTERRUPTED",
        Status::Flaky { .. } => "FLAKY",
    };
    let mut line = format!("{word} {}", result.name);
    let mut details = Vec::new();
    if !matches!(
        result.status,
        Status::Skipped { .. } | Status::Interrupted { started: false }
    ) {
        details.push(format!("{:.1}s", result.duration.as_secs_f64()));
    }
    if let Some(v) = &result.acapy_version {
        details.push(format!("ACA-Py {v}"));
    }
    if let Some(mode) = result.agent_mode {
        details.push(format!("{mode} agents"));
    }
    match &result.status {
        Status::Skipped { reason }
        | Status::ExpectedFailure { reason }
        | Status::UnexpectedPass { reason } => details.push(reason.clone()),
        Status::Interrupted { started } => details.push(interrupted_reason(*started).into()),
        Status::Flaky { failed_tries } => details.push(flaky_note(failed_tries)),
        _ => {}
    }
    if !details.is_empty() {
        let _ = write!(line, "  ({})", details.join(", "));
    }
    result.secrets.text(&line)
}

/// Why an interrupted case has no verdict.
pub fn interrupted_reason(started: bool) -> &'static str {
    if started {
        "the run was interrupted while it ran"
    } else {
        "not run: the run was interrupted before it started"
    }
}

/// `passed on try 2 of 2 (try 1: MESSAGE)`.
pub fn flaky_note(failed_tries: &[FailedTry]) -> String {
    let tries: Vec<String> = failed_tries
        .iter()
        .enumerate()
        .map(|(i, t)| format!("try {}: {}", i + 1, t.message()))
        .collect();
    format!(
        "passed on try {n} of {n} ({})",
        tries.join("; "),
        n = failed_tries.len() + 1
    )
}

/// The failed tries of a flaky case, each in full, numbered.
pub fn render_failed_tries(failed_tries: &[FailedTry]) -> String {
    let mut out = String::new();
    for (i, t) in failed_tries.iter().enumerate() {
        let _ = writeln!(
            out,
            "try {} failed ({:.1}s):",
            i + 1,
            t.duration.as_secs_f64()
        );
        match &t.failure {
            Some(f) => out.push_str(&render_one(f)),
            None => out.push_str("failure: failed\n"),
        }
    }
    out
}

/// The whole story of a failed case: where, what was expected, what came back,
/// what the agent saw and said; the case's secrets masked.
pub fn render_failure(result: &CaseResult) -> String {
    result.secrets.text(&render_unmasked(result))
}

fn render_unmasked(result: &CaseResult) -> String {
    let Some(failure) = &result.failure else {
        return match &result.status {
            Status::UnexpectedPass { reason } => format!(
                "failure: {} passed but is marked `xfail` here: {reason}\n  = help: remove the `xfail` if the cause is fixed\n",
                result.name
            ),
            _ => String::new(),
        };
    };
    render_one(failure)
}

/// One failure in full.
pub fn render_one(failure: &Failure) -> String {
    if let Some(text) = &failure.rendered {
        return text.clone();
    }
    let mut out = failure.diagnostic.render("failure");

    if let Some(exchange) = &failure.response {
        if exchange.method == "EVENT" {
            let _ = writeln!(out, "\nevent payload:");
        } else {
            let _ = writeln!(
                out,
                "\nresponse: {} {} -> {} ({:.0} ms)",
                exchange.method, exchange.url, exchange.status, exchange.elapsed_ms
            );
        }
        out.push_str(&indent(&pretty_truncated(&exchange.response), "  "));
    }
    if let Some(agent) = &failure.agent {
        if !failure.recent_events.is_empty() {
            let _ = writeln!(out, "\nrecent events ({agent}):");
            for e in &failure.recent_events {
                let _ = writeln!(out, "  {e}");
            }
        }
        match &failure.log_tail {
            Some(log) if !log.trim().is_empty() => {
                let _ = writeln!(out, "\nagent log ({agent}, last lines):");
                out.push_str(&indent(log, "  "));
            }
            Some(_) => {
                let _ = writeln!(out, "\nagent log ({agent}): empty at log level warning");
            }
            None => {}
        }
    }
    for (name, log) in &failure.service_logs {
        if !log.trim().is_empty() {
            let _ = writeln!(out, "\nservice log ({name}, last lines):");
            out.push_str(&indent(log, "  "));
        }
    }
    out
}

fn pretty_truncated(value: &serde_json::Value) -> String {
    let pretty = serde_json::to_string_pretty(value).unwrap_or_else(|_| short_json(value, 2000));
    let lines: Vec<&str> = pretty.lines().collect();
    if lines.len() <= RESPONSE_LINES {
        pretty
    } else {
        format!(
            "{}\n… ({} more lines)",
            lines[..RESPONSE_LINES].join("\n"),
            lines.len() - RESPONSE_LINES
        )
    }
}

fn indent(text: &str, prefix: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let _ = writeln!(out, "{prefix}{line}");
    }
    out
}

/// Counts by status, for the closing line.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub xfailed: usize,
    pub xpassed: usize,
    /// Passed on a retry; counted apart from `passed`.
    pub flaky: usize,
    /// Cut short while running.
    pub interrupted: usize,
    /// Never started: the run was interrupted first.
    pub not_started: usize,
}

impl Tally {
    pub fn of(results: &[CaseResult]) -> Tally {
        let mut t = Tally::default();
        for r in results {
            match r.status {
                Status::Passed => t.passed += 1,
                Status::Failed => t.failed += 1,
                Status::Skipped { .. } => t.skipped += 1,
                Status::ExpectedFailure { .. } => t.xfailed += 1,
                Status::UnexpectedPass { .. } => t.xpassed += 1,
                Status::Interrupted { started: true } => t.interrupted += 1,
                Status::Interrupted { started: false } => t.not_started += 1,
                Status::Flaky { .. } => t.flaky += 1,
            }
        }
        t
    }

    /// `3 passed, 1 failed, 2 skipped`: the closing line CI tools read;
    /// unexpected passes count as failures, flaky cases as passes. Interrupted cases are in none
    /// of the three (the run exits 130): [`Tally::details`] names them.
    pub fn summary(&self) -> String {
        format!(
            "{} passed, {} failed, {} skipped",
            self.passed + self.flaky,
            self.failed + self.xpassed,
            self.skipped
        )
    }

    /// What the closing line leaves out: expected failures, unexpected
    /// passes, interrupted cases, time.
    pub fn details(&self, elapsed: Duration) -> String {
        let mut line = String::new();
        if self.interrupted + self.not_started > 0 {
            let _ = write!(
                line,
                "interrupted: {} case(s) cut short, {} not started; ",
                self.interrupted, self.not_started
            );
        }
        if self.xfailed > 0 {
            let _ = write!(line, "{} expected failures (xfail), ", self.xfailed);
        }
        if self.xpassed > 0 {
            let _ = write!(line, "{} unexpected passes (xpass), ", self.xpassed);
        }
        if self.flaky > 0 {
            let _ = write!(line, "{} flaky (passed on a retry), ", self.flaky);
        }
        let _ = write!(line, "finished in {:.1}s", elapsed.as_secs_f64());
        line
    }
}
