//! The run as one self-contained HTML page (`--report-html FILE`): inline
//! CSS and script, no request when opened from disk. The version grid and
//! each scenario's interop grid, a colour per status; every case below,
//! opening to its steps (a timing bar each, the requests and responses,
//! the events a wait saw), its failure with the source lines, log tails,
//! flaky tries. Filters by status, tag, version and text, also from the
//! address: `report.html#?q=s:fail @ledger v:1.3.6 seed` (as Playwright's
//! reporter reads `#?q=`).
//!
//! Rendered by an askama template (`src/report/templates/report.html`),
//! which escapes every value: a response body cannot inject markup.

use super::console::Tally;
use super::contract::ContractSummary;
use super::coverage::VersionCoverage;
use super::grid;
use crate::admin::events::Event;
use crate::admin::Exchange;
use crate::run::outcome::{CaseResult, Failure, Status};
use askama::Template;
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

/// A body longer than this is cut in the page (the JSON report has it whole).
const BODY_CHARS: usize = 20_000;

pub fn render(
    results: &[CaseResult],
    notices: &[String],
    elapsed: Duration,
    coverage: Option<&[VersionCoverage]>,
) -> String {
    let page = Page::new(results, notices, elapsed, coverage);
    page.render().expect("the report's template renders")
}

pub fn write(
    results: &[CaseResult],
    notices: &[String],
    elapsed: Duration,
    coverage: Option<&[VersionCoverage]>,
    path: &Path,
) -> std::io::Result<()> {
    std::fs::write(path, render(results, notices, elapsed, coverage))
}

#[derive(Template)]
#[template(path = "report.html")]
struct Page {
    summary: String,
    details: String,
    notices: Vec<String>,
    counts: Vec<(&'static str, &'static str, usize)>,
    tags: Vec<String>,
    versions: Vec<String>,
    targets: Vec<String>,
    rows: Vec<Row>,
    interop: Vec<Interop>,
    cases: Vec<CaseView>,
    /// What the contract found: its line, and each rule broken.
    contract: Option<String>,
    rules: Vec<RuleView>,
    /// Each version's coverage line, and what it missed without a ledger.
    coverage: Vec<(String, Vec<String>)>,
    /// Cases whose shared and dedicated runs disagree.
    differences: Vec<String>,
}

struct RuleView {
    version: String,
    operation: String,
    example: String,
    count: usize,
    anchor: String,
}

struct Row {
    scenario: String,
    name: String,
    cells: Vec<Option<Cell>>,
}

/// A grid cell: the case's status, and where its entry is.
struct Cell {
    status: &'static str,
    anchor: String,
    title: String,
    text: String,
}

struct Interop {
    scenario: String,
    provider: String,
    down: String,
    across: String,
    others: bool,
    columns: Vec<String>,
    rows: Vec<(String, Vec<Option<Cell>>)>,
}

struct CaseView {
    anchor: String,
    name: String,
    scenario_name: String,
    file: String,
    status: &'static str,
    duration: String,
    ran_on: String,
    mode: String,
    tags: String,
    versions: String,
    /// What the text filter matches, in lower case.
    search: String,
    reason: Option<String>,
    steps: Vec<StepView>,
    failure: Option<FailureView>,
    tries: Vec<(String, FailureView)>,
    open: bool,
}

struct StepView {
    number: usize,
    name: String,
    agent: String,
    status: &'static str,
    line: String,
    duration: String,
    /// The timing bar: where it starts and how wide it is, in % of the case.
    left: f64,
    width: f64,
    exchanges: Vec<ExchangeView>,
    events: Vec<EventView>,
    /// What the contract found in the step's exchange: text, and why it is
    /// known drift if it is.
    findings: Vec<(String, Option<String>)>,
}

struct ExchangeView {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    request: Option<String>,
    status: u16,
    response: String,
    elapsed: String,
}

struct EventView {
    at: String,
    topic: String,
    payload: String,
}

struct FailureView {
    diagnostic: String,
    response: Option<ExchangeView>,
    recent_events: Vec<String>,
    log_title: Option<String>,
    log_tail: Option<String>,
    service_logs: Vec<(String, String)>,
}

impl Page {
    fn new(
        results: &[CaseResult],
        notices: &[String],
        elapsed: Duration,
        coverage: Option<&[VersionCoverage]>,
    ) -> Page {
        let tally = Tally::of(results);
        let summary = ContractSummary::of(results);
        let matrix = grid::matrix(results);
        let rows = matrix
            .rows
            .iter()
            .map(|row| Row {
                scenario: row.scenario.to_owned(),
                name: row.name.to_owned(),
                cells: row.cells.iter().map(|c| c.map(cell)).collect(),
            })
            .collect();
        let interop = grid::interop_grids(results)
            .iter()
            .map(|g| Interop {
                scenario: g.scenario.to_owned(),
                provider: g.provider.to_owned(),
                down: g.down.to_owned(),
                across: g.across.to_owned(),
                others: g.others,
                columns: g.columns.clone(),
                rows: g
                    .rows
                    .iter()
                    .zip(&g.cells)
                    .map(|(row, cells)| (row.clone(), cells.iter().map(|c| c.map(cell)).collect()))
                    .collect(),
            })
            .collect();
        let tags: BTreeSet<String> = results.iter().flat_map(|r| r.tags.clone()).collect();
        let mut versions: Vec<String> = results.iter().flat_map(versions_of).collect();
        versions.sort_by(|a, b| crate::version::compare_labels(a, b));
        versions.dedup();
        Page {
            summary: tally.summary(),
            details: tally.details(elapsed),
            notices: notices.to_vec(),
            counts: vec![
                ("pass", "passed", tally.passed),
                ("fail", "failed", tally.failed),
                ("xpass", "unexpected passes", tally.xpassed),
                ("flaky", "flaky", tally.flaky),
                ("xfail", "expected failures", tally.xfailed),
                ("skip", "skipped", tally.skipped),
                (
                    "interrupted",
                    "interrupted",
                    tally.interrupted + tally.not_started,
                ),
            ],
            tags: tags.into_iter().collect(),
            versions,
            targets: matrix.targets.clone(),
            rows,
            interop,
            cases: results.iter().map(case_view).collect(),
            differences: super::modes::differences(results)
                .iter()
                .map(|d| d.line())
                .collect(),
            contract: (!summary.is_empty()).then(|| summary.line()),
            rules: summary
                .findings
                .iter()
                .map(|r| RuleView {
                    version: r.version.clone(),
                    operation: r.operation.clone(),
                    example: r.example.clone(),
                    count: r.count,
                    anchor: r.cases.first().map(|c| anchor(c)).unwrap_or_default(),
                })
                .collect(),
            coverage: coverage
                .unwrap_or_default()
                .iter()
                .map(|c| {
                    (
                        super::coverage::line(c),
                        c.missed
                            .iter()
                            .filter(|m| m.needs_ledger.is_none())
                            .map(|m| m.operation.clone())
                            .collect(),
                    )
                })
                .collect(),
        }
    }
}

/// The versions a case ran on, asked for or reported.
fn versions_of(r: &CaseResult) -> Vec<String> {
    let mut versions: Vec<String> = r
        .roles
        .iter()
        .flat_map(|role| [role.requested.clone(), role.reported.clone()])
        .flatten()
        .collect();
    versions.extend(r.requested_version.clone());
    versions.sort();
    versions.dedup();
    versions
}

fn anchor(name: &str) -> String {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("case-{slug}")
}

fn cell(r: &CaseResult) -> Cell {
    Cell {
        status: r.status.word(),
        anchor: anchor(&r.name),
        title: format!("{}: {}", r.name, r.status.word()),
        text: match &r.status {
            Status::Skipped { .. } => "skip".into(),
            Status::Interrupted { started: false } => "not run".into(),
            _ => duration(r.duration),
        },
    }
}

fn duration(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

fn case_view(r: &CaseResult) -> CaseView {
    let total = r.duration.as_secs_f64().max(0.001);
    let steps = r
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let left = (s.started.as_secs_f64() / total * 100.0).clamp(0.0, 100.0);
            let width = (s.duration.as_secs_f64() / total * 100.0).clamp(0.0, 100.0 - left);
            StepView {
                number: i + 1,
                name: s.name.clone(),
                agent: s.agent.clone(),
                status: match s.status.words() {
                    "not run" => "not-run",
                    word => word,
                },
                line: s
                    .line
                    .map(|l| format!("{}:{l}", r.file.display()))
                    .unwrap_or_default(),
                duration: duration(s.duration),
                left: (left * 10.0).round() / 10.0,
                width: (width.max(0.3) * 10.0).round() / 10.0,
                exchanges: s.exchanges.iter().map(exchange_view).collect(),
                events: s.events.iter().map(event_view).collect(),
                findings: s
                    .contract
                    .iter()
                    .map(|f| (f.text.clone(), f.known.clone()))
                    .collect(),
            }
        })
        .collect();
    let ran_on = match &r.acapy_version {
        Some(v) => format!("ACA-Py {v} ({})", r.provider),
        None => r.target.clone(),
    };
    let tries = match &r.status {
        Status::Flaky { failed_tries } => failed_tries
            .iter()
            .enumerate()
            .map(|(i, t)| {
                (
                    format!("try {} failed after {}", i + 1, duration(t.duration)),
                    failure_view(&t.failure),
                )
            })
            .collect(),
        _ => Vec::new(),
    };
    CaseView {
        anchor: anchor(&r.name),
        name: r.name.clone(),
        scenario_name: r.scenario_name.clone(),
        file: r.file.display().to_string(),
        status: r.status.word(),
        duration: duration(r.duration),
        ran_on,
        mode: r
            .agent_mode
            .map(|m| format!("{} agents", m.name()))
            .unwrap_or_default(),
        tags: r.tags.join(" "),
        versions: versions_of(r).join(" "),
        search: format!("{} {} {}", r.name, r.scenario_name, r.file.display()).to_lowercase(),
        reason: r.status.reason().map(str::to_owned),
        steps,
        failure: r.failure.as_ref().map(failure_view),
        open: r.status.is_failure(),
        tries,
    }
}

fn failure_view(f: &Failure) -> FailureView {
    FailureView {
        diagnostic: f.diagnostic.clone(),
        response: f.response.as_ref().map(exchange_view),
        recent_events: f.recent_events.clone(),
        log_title: f.agent.as_ref().map(|agent| match &f.log_owner {
            Some(owner) => format!("agent log ({agent}: {owner}), last lines"),
            None => format!("agent log ({agent}), last lines"),
        }),
        log_tail: f.log_tail.clone().filter(|l| !l.trim().is_empty()),
        service_logs: f
            .service_logs
            .iter()
            .filter(|s| !s.tail.trim().is_empty())
            .map(|s| (s.name.clone(), s.tail.clone()))
            .collect(),
    }
}

fn exchange_view(e: &Exchange) -> ExchangeView {
    ExchangeView {
        method: e.method.clone(),
        url: e.url.clone(),
        headers: e
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        request: e.request.as_ref().map(pretty),
        status: e.status,
        response: pretty(&e.response),
        elapsed: format!("{:.0} ms", e.elapsed_ms),
    }
}

fn event_view(e: &Event) -> EventView {
    EventView {
        at: format!("+{:.0} ms", e.at_ms),
        topic: e.topic.clone(),
        payload: pretty(&e.payload),
    }
}

/// Pretty JSON, cut at [`BODY_CHARS`] on a character boundary.
fn pretty(value: &serde_json::Value) -> String {
    let text = match value {
        serde_json::Value::String(s) => s.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    };
    match text.char_indices().nth(BODY_CHARS) {
        Some((cut, _)) => format!(
            "{}\n… ({} more characters: the JSON report has it whole)",
            &text[..cut],
            text.len() - cut
        ),
        None => text,
    }
}
