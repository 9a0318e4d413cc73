//! Results as a Markdown conformance matrix, fit for `$GITHUB_STEP_SUMMARY`
//! (`--report-md FILE`): scenarios down, targets across, then each failure.
//!
//! ```text
//! | Scenario | Name | process::1.3.6 | process::1.7.0 |
//! | --- | --- | :---: | :---: |
//! | `seed-flow` | Seed flow | ✅ 3.2s | [❌ 4.1s](#fail-seed-flow-process-1-7-0) |
//! ```

use super::console::{flaky_note, render_failure, Tally};
use super::contract::ContractSummary;
use super::coverage::VersionCoverage;
use super::grid;
use crate::run::outcome::{CaseResult, FailedTry, Status};
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

/// How much of `render_failure` a failure entry quotes; the rest is in the
/// console output, the JUnit file and `--artifacts`.
const FAILURE_LINES: usize = 30;

pub const PASS: &str = "✅";
pub const FAIL: &str = "❌";
pub const XFAIL: &str = "⚠️";
pub const SKIP: &str = "⏭️";
pub const XPASS: &str = "❗";
/// Passed on a retry.
pub const FLAKY: &str = "🔁";
/// Cut short, or never started, by an interruption.
pub const INTERRUPTED: &str = "🛑";
/// A scenario that has no case for a target.
pub const NONE: &str = "—";

pub fn symbol(status: &Status) -> &'static str {
    match status {
        Status::Passed => PASS,
        Status::Failed => FAIL,
        Status::ExpectedFailure { .. } => XFAIL,
        Status::Skipped { .. } => SKIP,
        Status::UnexpectedPass { .. } => XPASS,
        Status::Interrupted { .. } => INTERRUPTED,
        Status::Flaky { .. } => FLAKY,
    }
}

/// The matrix, then the reasons, flaky cases and failures.
pub fn render(results: &[CaseResult], elapsed: Duration) -> String {
    let anchors = anchors(results);
    let matrix = grid::matrix(results);
    let mut out = String::new();
    let _ = writeln!(out, "## ACA-Py conformance\n");
    let _ = write!(out, "| Scenario | Name |");
    for t in &matrix.targets {
        let _ = write!(out, " {} |", cell_text(t));
    }
    let _ = write!(out, "\n| --- | --- |");
    for _ in &matrix.targets {
        let _ = write!(out, " :---: |");
    }
    out.push('\n');
    for row in &matrix.rows {
        // GFM splits rows on `|` even inside code spans, so escape it there too.
        let _ = write!(
            out,
            "| {} | {} |",
            code(row.scenario).replace('|', "\\|"),
            cell_text(row.name)
        );
        for found in &row.cells {
            let text = cell_or_none(*found, &anchors);
            let _ = write!(out, " {text} |");
        }
        out.push('\n');
    }
    let grids = grid::interop_grids(results);
    if !grids.is_empty() {
        interop_grids(&mut out, &grids, &anchors);
    }

    let _ = writeln!(
        out,
        "\n{PASS} pass · {FAIL} fail · {XFAIL} expected failure (xfail) · \
         {SKIP} skipped · {XPASS} unexpected pass (xpass) · {FLAKY} flaky (passed on a retry) · \
         {NONE} not run\n"
    );
    let _ = writeln!(out, "{}", totals(results, elapsed));
    let interrupted: Vec<&CaseResult> = results
        .iter()
        .filter(|r| matches!(r.status, Status::Interrupted { .. }))
        .collect();
    if !interrupted.is_empty() {
        let _ = writeln!(
            out,
            "\n**The run was interrupted:** {INTERRUPTED} marks the cases it cut short or never started.\n"
        );
    }

    // Why cases did not run, or may fail: the matrix has no room for reasons.
    let excused: Vec<&CaseResult> = results
        .iter()
        .filter(|r| {
            matches!(
                r.status,
                Status::Skipped { .. } | Status::ExpectedFailure { .. }
            )
        })
        .collect();
    reasons(&mut out, "Skipped and expected failures", &excused);

    let flaky: Vec<(&CaseResult, &[FailedTry])> = results
        .iter()
        .filter_map(|r| match &r.status {
            Status::Flaky { failed_tries } => Some((r, failed_tries.as_slice())),
            _ => None,
        })
        .collect();
    if !flaky.is_empty() {
        let _ = writeln!(out, "\n### Flaky (passed on a retry)\n");
        for (r, tries) in flaky {
            let _ = writeln!(
                out,
                "- {FLAKY} {}: {}",
                code(&r.name),
                inline(&flaky_note(tries))
            );
        }
    }

    reasons(&mut out, "Interrupted", &interrupted);
    let differences = super::modes::differences(results);
    if !differences.is_empty() {
        let _ = writeln!(out, "\n### Shared and dedicated agents disagree\n");
        for d in &differences {
            let _ = writeln!(out, "- {}", inline(&d.line()));
        }
    }
    contract_section(&mut out, &ContractSummary::of(results));

    let failing: Vec<&CaseResult> = results.iter().filter(|r| r.status.is_failure()).collect();
    if !failing.is_empty() {
        let _ = writeln!(out, "\n### Failures");
        for r in failing {
            out.push('\n');
            failure_entry(&mut out, r, &anchors[r.name.as_str()]);
        }
    }
    out
}

/// A section listing `cases` with the reason each status carries; nothing
/// when there are none.
fn reasons(out: &mut String, heading: &str, cases: &[&CaseResult]) {
    if cases.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n### {heading}\n");
    for r in cases {
        let _ = writeln!(
            out,
            "- {} {}: {}",
            symbol(&r.status),
            code(&r.name),
            inline(r.status.reason().unwrap_or_default())
        );
    }
}

/// Each interop grid: the same marks and links as the matrix.
fn interop_grids(out: &mut String, grids: &[grid::InteropGrid], anchors: &BTreeMap<&str, String>) {
    let _ = writeln!(out, "\n### Interop\n");
    for g in grids {
        let _ = writeln!(
            out,
            "{} ({}): {} down, {} across{}\n",
            code(g.scenario),
            g.provider,
            code(g.down),
            code(g.across),
            if g.others {
                "; the other roles follow the first"
            } else {
                ""
            }
        );
        let _ = write!(out, "| {} \\ {} |", g.down, g.across);
        for c in &g.columns {
            let _ = write!(out, " {c} |");
        }
        let _ = write!(out, "\n| --- |");
        for _ in &g.columns {
            let _ = write!(out, " :---: |");
        }
        out.push('\n');
        for (row, cells) in g.rows.iter().zip(&g.cells) {
            let _ = write!(out, "| **{row}** |");
            for found in cells {
                let text = cell_or_none(*found, anchors);
                let _ = write!(out, " {text} |");
            }
            out.push('\n');
        }
        out.push('\n');
    }
}

/// A case's cell, or the mark for no case.
fn cell_or_none(found: Option<&CaseResult>, anchors: &BTreeMap<&str, String>) -> String {
    match found {
        Some(r) => cell(r, anchors.get(r.name.as_str()).map(String::as_str)),
        None => NONE.to_owned(),
    }
}

/// [`render`], with each version's coverage when the run counted it.
pub fn render_with(
    results: &[CaseResult],
    elapsed: Duration,
    coverage: Option<&[VersionCoverage]>,
) -> String {
    let mut out = render(results, elapsed);
    if let Some(coverage) = coverage {
        let _ = writeln!(out, "\n### Coverage of the admin API\n");
        let _ = writeln!(
            out,
            "| Version | Operations | Without a ledger | Document |"
        );
        let _ = writeln!(out, "| --- | ---: | ---: | --- |");
        for c in coverage {
            let pct = |a: usize, b: usize| (a * 100).checked_div(b).unwrap_or(0);
            let _ = writeln!(
                out,
                "| {} | {} of {} ({} %) | {} of {} ({} %) | {} |",
                c.version,
                c.covered,
                c.operations,
                pct(c.covered, c.operations),
                c.covered_without_ledger,
                c.without_ledger,
                pct(c.covered_without_ledger, c.without_ledger),
                cell_text(&c.document)
            );
        }
        for c in coverage {
            let missed: Vec<String> = c
                .missed
                .iter()
                .filter(|m| m.needs_ledger.is_none())
                .map(|m| code(&m.operation))
                .collect();
            if !missed.is_empty() {
                let _ = writeln!(
                    out,
                    "\n<details><summary>{}: {} operation(s) needing no ledger not covered</summary>\n\n{}\n</details>",
                    c.version,
                    missed.len(),
                    missed.join(" · ")
                );
            }
        }
    }
    out
}

/// The contract's findings per version: the rules broken (not known
/// drift) with how often, and how many known ones.
fn contract_section(out: &mut String, summary: &ContractSummary) {
    if summary.findings.is_empty() && summary.known.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n### API contract\n");
    let _ = writeln!(out, "{}\n", summary.line());
    if summary.findings.is_empty() {
        return;
    }
    let _ = writeln!(out, "| Version | Operation | Finding | Count | e.g. |");
    let _ = writeln!(out, "| --- | --- | --- | ---: | --- |");
    for rule in &summary.findings {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            rule.version,
            code(&rule.operation).replace('|', "\\|"),
            cell_text(&rule.example),
            rule.count,
            code(rule.cases.first().map(String::as_str).unwrap_or("?")).replace('|', "\\|")
        );
    }
}

pub fn write(
    results: &[CaseResult],
    elapsed: Duration,
    coverage: Option<&[VersionCoverage]>,
    path: &Path,
) -> std::io::Result<()> {
    std::fs::write(path, render_with(results, elapsed, coverage))
}

/// `**Totals:** 7 cases: 3 passed, 1 failed, 1 skipped, 1 xfail, 1 xpass, in 12.3s`.
/// Every count is shown, even zero, so the line reads the same from run to
/// run; only a run with flaky cases adds `, N flaky`, and an interrupted
/// one `, N interrupted`, before the time.
pub fn totals(results: &[CaseResult], elapsed: Duration) -> String {
    let t = Tally::of(results);
    let mut extra = String::new();
    if t.flaky > 0 {
        extra = format!(", {} flaky", t.flaky);
    }
    if t.interrupted + t.not_started > 0 {
        let _ = write!(extra, ", {} interrupted", t.interrupted + t.not_started);
    }
    format!(
        "**Totals:** {} cases: {} passed, {} failed, {} skipped, {} xfail, {} xpass{extra}, in {}",
        results.len(),
        t.passed,
        t.failed,
        t.skipped,
        t.xfailed,
        t.xpassed,
        duration(elapsed)
    )
}

/// `✅ 3.2s`; failing cells link to their entry under "Failures". A skip has
/// no duration worth showing; its reason is listed under the matrix.
fn cell(r: &CaseResult, anchor: Option<&str>) -> String {
    let symbol = symbol(&r.status);
    match (&r.status, anchor) {
        (Status::Skipped { .. }, _) => format!("{symbol} skip"),
        (Status::Interrupted { started: false }, _) => format!("{symbol} not run"),
        (_, Some(anchor)) => format!("[{symbol} {}](#{anchor})", duration(r.duration)),
        _ => format!("{symbol} {}", duration(r.duration)),
    }
}

fn failure_entry(out: &mut String, r: &CaseResult, anchor: &str) {
    // An explicit anchor: GitHub's heading slugs drop emoji and `::`, so they
    // are hard to predict.
    let _ = writeln!(out, "<a id=\"{anchor}\"></a>\n");
    let _ = writeln!(out, "#### {} {}\n", symbol(&r.status), code(&r.name));
    let version = match &r.acapy_version {
        Some(v) => format!("ACA-Py {v} ({})", r.provider),
        None => format!("{} provider", r.provider),
    };
    let _ = writeln!(
        out,
        "- **Scenario:** {} ({})",
        inline(&r.scenario_name),
        code(&r.file.display().to_string())
    );
    let _ = writeln!(out, "- **Target:** {version}");
    if let Some(reason) = r.status.reason() {
        let _ = writeln!(out, "- **Marked xfail:** {}", inline(reason));
    }
    if let Some(f) = &r.failure {
        if let (Some(number), Some(name)) = (&f.step, &f.step_name) {
            let agent = f
                .agent
                .as_ref()
                .map(|a| format!(" on {}", code(a)))
                .unwrap_or_default();
            let _ = writeln!(out, "- **Step {number}:** {}{agent}", code(name));
        }
        let _ = writeln!(out, "- **Message:** {}", inline(&f.message));
        if let Some(expected) = &f.expected {
            let _ = writeln!(out, "- **Expected:** {}", code(expected));
        }
        if let Some(actual) = &f.actual {
            let _ = writeln!(out, "- **Actual:** {}", code(actual));
        }
    }
    let text = render_failure(r);
    if !text.trim().is_empty() {
        let shown = head_and_tail(&text, FAILURE_LINES);
        let fence = fence_for(&shown);
        let _ = writeln!(out, "\n{fence}text\n{shown}\n{fence}");
    }
}

/// At most `max` lines of `text`: its head (what failed, where) and its tail
/// (where an agent's log ends with the exception), with the middle left out.
fn head_and_tail(text: &str, max: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() <= max {
        return lines.join("\n");
    }
    let head = max * 2 / 5;
    let tail = max - head;
    format!(
        "{}\n… ({} lines left out; the whole text is in the console output and the JSON report)\n{}",
        lines[..head].join("\n"),
        lines.len() - max,
        lines[lines.len() - tail..].join("\n")
    )
}

/// One anchor per failing case, unique within the document.
fn anchors(results: &[CaseResult]) -> BTreeMap<&str, String> {
    let mut used = HashSet::new();
    let mut anchors = BTreeMap::new();
    for r in results.iter().filter(|r| r.status.is_failure()) {
        let base = format!("fail-{}", slug(&r.name));
        let mut anchor = base.clone();
        let mut n = 2;
        while !used.insert(anchor.clone()) {
            anchor = format!("{base}-{n}");
            n += 1;
        }
        anchors.insert(r.name.as_str(), anchor);
    }
    anchors
}

/// Lowercase ASCII letters and digits, runs of anything else as one `-`.
fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

/// `850 ms` under a second, `3.2s` above.
fn duration(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// Text safe in a table cell: one line, pipes escaped.
fn cell_text(s: &str) -> String {
    inline(s).replace('|', "\\|")
}

/// Text on one line, so it cannot break a list item or table row.
fn inline(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An inline code span that survives backticks in the text (CommonMark: a
/// longer run of backticks delimits, padded with spaces when needed).
fn code(s: &str) -> String {
    let s = inline(s);
    let longest = longest_run(&s, '`');
    let ticks = "`".repeat(longest + 1);
    if longest > 0 || s.starts_with('`') || s.ends_with('`') {
        format!("{ticks} {s} {ticks}")
    } else {
        format!("{ticks}{s}{ticks}")
    }
}

/// A code fence longer than any backtick run inside the block.
fn fence_for(text: &str) -> String {
    "`".repeat(longest_run(text, '`').max(2) + 1)
}

fn longest_run(s: &str, c: char) -> usize {
    let (mut longest, mut run) = (0, 0);
    for ch in s.chars() {
        run = if ch == c { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}
