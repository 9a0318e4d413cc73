//! Results as a Markdown conformance matrix, fit for `$GITHUB_STEP_SUMMARY`
//! (`--report-md FILE`): scenarios down, targets across, then each failure.
//!
//! ```text
//! | Scenario | Name | process::1.3.6 | process::1.7.0 |
//! | --- | --- | :---: | :---: |
//! | `seed-flow` | Seed flow | ✅ 3.2s | [❌ 4.1s](#fail-seed-flow-process-1-7-0) |
//! ```

use super::console::{flaky_note, render_failure, Tally};
use super::json::{reason, targets};
use crate::run::outcome::{CaseResult, FailedTry, Status};
use crate::version::compare_labels;
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

/// The matrix, every case's secrets masked.
pub fn render(results: &[CaseResult], elapsed: Duration) -> String {
    super::redactor(results).text(&render_unmasked(results, elapsed))
}

fn render_unmasked(results: &[CaseResult], elapsed: Duration) -> String {
    let anchors = anchors(results);
    // Cases whose roles ran on different versions go in the grids below.
    let (mixed, same): (Vec<&CaseResult>, Vec<&CaseResult>) =
        results.iter().partition(|r| is_mixed(r));
    let targets = targets(&same.iter().map(|r| (*r).clone()).collect::<Vec<_>>());
    let mut out = String::new();
    let _ = writeln!(out, "## ACA-Py conformance\n");

    // Rows in the order scenarios first appear, which is the run's order.
    let mut rows: Vec<(&str, &str)> = Vec::new();
    let mut cells: BTreeMap<(&str, String), &CaseResult> = BTreeMap::new();
    for r in same.iter().copied() {
        if !rows.iter().any(|(id, _)| *id == r.scenario_id) {
            rows.push((&r.scenario_id, &r.scenario_name));
        }
        // A repeated (scenario, target) keeps its first result.
        cells.entry((&r.scenario_id, r.target.clone())).or_insert(r);
    }

    let _ = write!(out, "| Scenario | Name |");
    for t in &targets {
        let _ = write!(out, " {} |", cell_text(t));
    }
    let _ = write!(out, "\n| --- | --- |");
    for _ in &targets {
        let _ = write!(out, " :---: |");
    }
    out.push('\n');
    for (id, name) in &rows {
        // GFM splits rows on `|` even inside code spans, so escape it there too.
        let _ = write!(
            out,
            "| {} | {} |",
            code(id).replace('|', "\\|"),
            cell_text(name)
        );
        for t in &targets {
            let cell = match cells.get(&(*id, t.clone())) {
                Some(r) => cell(r, anchors.get(r.name.as_str()).map(String::as_str)),
                None => NONE.to_owned(),
            };
            let _ = write!(out, " {cell} |");
        }
        out.push('\n');
    }

    if !mixed.is_empty() {
        interop_grids(&mut out, results, &anchors);
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
            inline(reason(&r.status).unwrap_or_default())
        );
    }
}

/// Whether the case's roles asked for different versions.
fn is_mixed(result: &CaseResult) -> bool {
    let mut asked = result.roles.iter().filter_map(|r| r.requested.as_deref());
    match asked.next() {
        Some(first) => asked.any(|v| v != first),
        None => false,
    }
}

/// Per scenario (and provider) with cases across versions: its first role's
/// version down, its second role's across, the same marks and links as the
/// matrix. Cases where both roles share a version fill the diagonal.
fn interop_grids(out: &mut String, results: &[CaseResult], anchors: &BTreeMap<&str, String>) {
    let _ = writeln!(out, "\n### Interop\n");
    let mut grids: Vec<(&str, &str)> = Vec::new();
    for r in results.iter().filter(|r| is_mixed(r)) {
        if !grids.contains(&(r.scenario_id.as_str(), r.provider.as_str())) {
            grids.push((&r.scenario_id, &r.provider));
        }
    }
    for (scenario, provider) in grids {
        let cases: Vec<&CaseResult> = results
            .iter()
            .filter(|r| r.scenario_id == scenario && r.provider == provider && r.roles.len() >= 2)
            .collect();
        let (down, across) = (&cases[0].roles[0].role, &cases[0].roles[1].role);
        let version_of =
            |r: &CaseResult, i: usize| r.roles[i].requested.clone().unwrap_or_default();
        let ordered = |i: usize| {
            let mut versions: Vec<String> = cases.iter().map(|r| version_of(r, i)).collect();
            versions.sort_by(|a, b| compare_labels(a, b));
            versions.dedup();
            versions
        };
        let (rows, columns) = (ordered(0), ordered(1));
        let others = cases[0].roles.len() > 2;
        let _ = writeln!(
            out,
            "{} ({provider}): {} down, {} across{}\n",
            code(scenario),
            code(down),
            code(across),
            if others {
                "; the other roles follow the first"
            } else {
                ""
            }
        );
        let _ = write!(out, "| {down} \\ {across} |");
        for c in &columns {
            let _ = write!(out, " {c} |");
        }
        let _ = write!(out, "\n| --- |");
        for _ in &columns {
            let _ = write!(out, " :---: |");
        }
        out.push('\n');
        for row in &rows {
            let _ = write!(out, "| **{row}** |");
            for column in &columns {
                let found = cases
                    .iter()
                    .find(|r| &version_of(r, 0) == row && &version_of(r, 1) == column);
                let text = match found {
                    Some(r) => cell(r, anchors.get(r.name.as_str()).map(String::as_str)),
                    None => NONE.to_owned(),
                };
                let _ = write!(out, " {text} |");
            }
            out.push('\n');
        }
        out.push('\n');
    }
}

pub fn write(results: &[CaseResult], elapsed: Duration, path: &Path) -> std::io::Result<()> {
    std::fs::write(path, render(results, elapsed))
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
    if let Some(reason) = reason(&r.status) {
        let _ = writeln!(out, "- **Marked xfail:** {}", inline(reason));
    }
    if let Some(f) = &r.failure {
        if let Some((number, name)) = &f.step {
            let agent = f
                .agent
                .as_ref()
                .map(|a| format!(" on {}", code(a)))
                .unwrap_or_default();
            let _ = writeln!(out, "- **Step {number}:** {}{agent}", code(name));
        }
        let _ = writeln!(out, "- **Message:** {}", inline(f.message()));
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
