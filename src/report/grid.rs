//! The two pictures every summary report draws (Markdown, HTML): the
//! matrix of scenarios × targets, and for cases whose roles ran on
//! different versions, each scenario's interop grid, its first role's
//! version down and its second role's across.

use crate::run::outcome::CaseResult;
use crate::version::compare_labels;

/// Scenarios down, targets across: cases whose roles share a version.
pub struct Matrix<'a> {
    pub targets: Vec<String>,
    pub rows: Vec<MatrixRow<'a>>,
}

pub struct MatrixRow<'a> {
    pub scenario: &'a str,
    pub name: &'a str,
    /// One per target; `None` where the scenario has no case there.
    pub cells: Vec<Option<&'a CaseResult>>,
}

/// The matrix of the cases that are not interop cases. Rows in the order
/// scenarios first appear; a repeated (scenario, target) keeps its first.
pub fn matrix(results: &[CaseResult]) -> Matrix<'_> {
    let same: Vec<&CaseResult> = results.iter().filter(|r| !is_mixed(r)).collect();
    let mut targets: Vec<String> = same.iter().map(|r| r.target.clone()).collect();
    targets.sort_by(|a, b| compare_labels(a, b));
    targets.dedup();
    let mut rows: Vec<MatrixRow> = Vec::new();
    for r in &same {
        if !rows.iter().any(|row| row.scenario == r.scenario_id) {
            rows.push(MatrixRow {
                scenario: &r.scenario_id,
                name: &r.scenario_name,
                cells: vec![None; targets.len()],
            });
        }
        let row = rows
            .iter_mut()
            .find(|row| row.scenario == r.scenario_id)
            .expect("pushed above");
        let column = targets
            .iter()
            .position(|t| *t == r.target)
            .expect("a target");
        row.cells[column].get_or_insert(r);
    }
    Matrix { targets, rows }
}

/// One scenario's cases on one provider, role × role.
pub struct InteropGrid<'a> {
    pub scenario: &'a str,
    pub provider: &'a str,
    /// The role whose version goes down, and the one whose goes across.
    pub down: &'a str,
    pub across: &'a str,
    /// Whether the scenario has more roles (they follow the first).
    pub others: bool,
    pub rows: Vec<String>,
    pub columns: Vec<String>,
    /// `cells[row][column]`.
    pub cells: Vec<Vec<Option<&'a CaseResult>>>,
}

/// Every scenario (and provider) that has interop cases; its cases where
/// both roles share a version fill the diagonal.
pub fn interop_grids(results: &[CaseResult]) -> Vec<InteropGrid<'_>> {
    let mut keys: Vec<(&str, &str)> = Vec::new();
    for r in results.iter().filter(|r| is_mixed(r)) {
        if !keys.contains(&(r.scenario_id.as_str(), r.provider.as_str())) {
            keys.push((&r.scenario_id, &r.provider));
        }
    }
    keys.into_iter()
        .map(|(scenario, provider)| {
            let cases: Vec<&CaseResult> = results
                .iter()
                .filter(|r| {
                    r.scenario_id == scenario && r.provider == provider && r.roles.len() >= 2
                })
                .collect();
            let version_of =
                |r: &CaseResult, i: usize| r.roles[i].requested.clone().unwrap_or_default();
            let ordered = |i: usize| {
                let mut versions: Vec<String> = cases.iter().map(|r| version_of(r, i)).collect();
                versions.sort_by(|a, b| compare_labels(a, b));
                versions.dedup();
                versions
            };
            let (rows, columns) = (ordered(0), ordered(1));
            let cells = rows
                .iter()
                .map(|row| {
                    columns
                        .iter()
                        .map(|column| {
                            cases
                                .iter()
                                .find(|r| &version_of(r, 0) == row && &version_of(r, 1) == column)
                                .copied()
                        })
                        .collect()
                })
                .collect();
            InteropGrid {
                scenario,
                provider,
                down: &cases[0].roles[0].role,
                across: &cases[0].roles[1].role,
                others: cases[0].roles.len() > 2,
                rows,
                columns,
                cells,
            }
        })
        .collect()
}

/// Whether the case's roles asked for different versions.
pub fn is_mixed(result: &CaseResult) -> bool {
    let mut asked = result.roles.iter().filter_map(|r| r.requested.as_deref());
    match asked.next() {
        Some(first) => asked.any(|v| v != first),
        None => false,
    }
}
