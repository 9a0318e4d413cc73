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
        details.push(format!("{} agents", mode.name()));
    }
    match &result.status {
        Status::Flaky { failed_tries } => details.push(flaky_note(failed_tries)),
        status => {
            let at = step_named(result, status.xfail_step()).map(|s| format!("{s}: "));
            details.extend(
                status
                    .reason()
                    .map(|reason| format!("{}{reason}", at.unwrap_or_default())),
            )
        }
    }
    if !details.is_empty() {
        let _ = write!(line, "  ({})", details.join(", "));
    }
    line
}

/// `step 18 `verkey filter finds the new key``, for the step an `xfail` names.
pub fn step_named(result: &CaseResult, number: Option<usize>) -> Option<String> {
    let number = number?;
    Some(match result.steps.get(number - 1) {
        Some(step) => format!("step {number} `{}`", step.name),
        None => format!("step {number}"),
    })
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
        out.push_str(&render_one(&t.failure));
    }
    out
}

/// The whole story of a failed case: where, what was expected, what came back,
/// what the agent saw and said.
pub fn render_failure(result: &CaseResult) -> String {
    let Some(failure) = &result.failure else {
        return match &result.status {
            Status::UnexpectedPass { reason, step } => match step_named(result, *step) {
                Some(step) => format!(
                    "failure: {step} passed, but an `xfail` says it fails here: {reason}\n  = help: remove the `xfail` if the cause is fixed\n"
                ),
                None => format!(
                    "failure: {} passed but is marked `xfail` here: {reason}\n  = help: remove the `xfail` if the cause is fixed\n",
                    result.name
                ),
            },
            _ => String::new(),
        };
    };
    render_one(failure)
}

/// One failure in full.
pub fn render_one(failure: &Failure) -> String {
    let mut out = failure.diagnostic.clone();
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
        let whose = match &failure.log_owner {
            Some(owner) => format!("{agent}: {owner}"),
            None => agent.clone(),
        };
        match &failure.log_tail {
            Some(log) if !log.trim().is_empty() => {
                let _ = writeln!(out, "\nagent log ({whose}, last lines):");
                out.push_str(&indent(log, "  "));
            }
            Some(_) => {
                // A sub-wallet takes no logging flag: its base agent takes
                // the suite's flags.
                let more = match failure.log_owner {
                    Some(_) => "the suite's `agent_args: [--log-level, info]` give more",
                    None => "give the role `args: [--log-level, info]` for more",
                };
                let _ = writeln!(
                    out,
                    "\nagent log ({whose}): empty at log level warning ({more})"
                );
            }
            None => {}
        }
    }
    for service in &failure.service_logs {
        if !service.tail.trim().is_empty() {
            let _ = writeln!(out, "\nservice log ({}, last lines):", service.name);
            out.push_str(&indent(&service.tail, "  "));
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
    /// unexpected passes count as failures, flaky cases as passes. Expected
    /// failures and flaky cases are named when there are any (a run of
    /// only xfails does not read `0 passed, 0 failed, 0 skipped`).
    /// Interrupted cases are in none of them (the run exits 130):
    /// [`Tally::details`] names them.
    pub fn summary(&self) -> String {
        let mut line = format!(
            "{} passed, {} failed, {} skipped",
            self.passed + self.flaky,
            self.failed + self.xpassed,
            self.skipped
        );
        if self.xfailed > 0 {
            let _ = write!(line, ", {} xfail", self.xfailed);
        }
        if self.flaky > 0 {
            let _ = write!(line, " ({} of the passed flaky)", self.flaky);
        }
        line
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

/// The terminal as a reporter: a line per case as it ends, notices on
/// stderr, the failures, flaky cases and summary at the end.
pub struct Console {
    /// Colour on stdout.
    pub colour: bool,
    /// Also a line per step as it ends (`--steps`).
    pub steps: bool,
    /// Where failing cases' artifacts were written, to say so.
    pub artifacts: Option<std::path::PathBuf>,
    /// Called once if stdout closes (`run ... | head`): nobody reads the
    /// run any more.
    on_closed: Option<Box<dyn FnOnce() + Send>>,
    closed: bool,
}

impl Console {
    pub fn new(colour: bool) -> Console {
        Console {
            colour,
            steps: false,
            artifacts: None,
            on_closed: None,
            closed: false,
        }
    }

    pub fn on_closed(mut self, call: impl FnOnce() + Send + 'static) -> Console {
        self.on_closed = Some(Box::new(call));
        self
    }

    /// Writes a line to stdout; once stdout is closed, nothing more.
    fn say(&mut self, text: &str) {
        use std::io::Write;
        if self.closed {
            return;
        }
        let mut out = std::io::stdout().lock();
        if writeln!(out, "{text}").and_then(|()| out.flush()).is_err() {
            self.closed = true;
            if let Some(call) = self.on_closed.take() {
                call();
            }
        }
    }

    fn finished(
        &mut self,
        results: &[CaseResult],
        elapsed: Duration,
        coverage: Option<&[super::coverage::VersionCoverage]>,
    ) {
        use super::colour::paint_headings;
        let failures: Vec<&CaseResult> = results.iter().filter(|r| r.status.is_failure()).collect();
        if !failures.is_empty() {
            self.say("\nfailures:");
            for f in failures {
                let text = paint_headings(&render_failure(f), self.colour);
                self.say(&format!("\n---- {} ----\n{text}", f.name));
            }
        }
        let mut heading = false;
        for r in results {
            if let Status::Flaky { failed_tries } = &r.status {
                if !std::mem::replace(&mut heading, true) {
                    self.say("\nflaky (passed on a retry):");
                }
                let tries = render_failed_tries(failed_tries);
                self.say(&format!("\n---- {} ----\n{tries}", r.name));
            }
        }
        if let Some(dir) = self.artifacts.clone() {
            for r in results.iter().filter(|r| r.status.is_failure()) {
                let folder = dir.join(super::names::sanitize(&r.name));
                self.say(&format!("artifacts of {}: {}", r.name, folder.display()));
            }
        }
        let differences = super::modes::differences(results);
        if !differences.is_empty() {
            self.say(&format!(
                "\n{}",
                super::modes::render(&differences).trim_end()
            ));
        }
        let contract = super::contract::ContractSummary::of(results);
        if !contract.is_empty() {
            self.say(&format!("\n{}", contract.render().trim_end()));
        }
        if let Some(coverage) = coverage {
            self.say(&format!(
                "\n{}",
                super::coverage::render(coverage).trim_end()
            ));
        }
        let tally = Tally::of(results);
        self.say(&format!(
            "\n{}\nsummary: {}",
            tally.details(elapsed),
            tally.summary()
        ));
    }
}

impl super::events::Reporter for Console {
    fn report(
        &mut self,
        event: &super::events::Event<'_>,
    ) -> Result<(), super::events::ReportError> {
        use super::events::Event;
        match event {
            Event::RunStarted { cases, jobs } => self.say(&format!(
                "running {} case(s), {jobs} at a time",
                cases.len()
            )),
            Event::Notice { text } => eprintln!("acapy-harness: {text}"),
            Event::CaseStarted { .. } => {}
            Event::StepFinished { case, number, step } if self.steps => self.say(&format!(
                "      {case}  step {number} {}: {} ({} ms)",
                step.status.words(),
                step.name,
                step.duration.as_millis()
            )),
            Event::StepFinished { .. } => {}
            Event::CaseFinished { result } => {
                let line =
                    super::colour::paint_case_line(&case_line(result), &result.status, self.colour);
                self.say(&line);
            }
            Event::RunFinished {
                results,
                elapsed,
                coverage,
                ..
            } => self.finished(results, *elapsed, *coverage),
        }
        Ok(())
    }
}
