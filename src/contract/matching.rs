//! Which operation a concrete request (`GET /connections/3fa8…`) is.

use super::document::{split_path, strip_origin, ApiDocument, Operation, OperationId, Segment};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;

/// How many neighbours an unknown request carries.
const CLOSEST: usize = 3;
/// The largest relative character distance of two words read as a typo:
/// `did`/`dids` is 0.25, `credential`/`credentials` 0.09,
/// `revocation`/`mediation` 0.4.
const TYPO: f64 = 0.34;

/// A request the agent's document does not describe.
#[derive(Debug, Clone, Serialize, thiserror::Error)]
#[error("{method} {path} is not in ACA-Py {version}'s admin API")]
pub struct UnknownOperation {
    pub method: String,
    /// As sent, without its query.
    pub path: String,
    pub version: String,
    /// Methods the document has for this very path, when it has the path.
    pub methods_on_path: Vec<String>,
    /// The nearest operations, nearest first (see [`ApiDocument::closest`]).
    pub closest: Vec<OperationId>,
}

impl UnknownOperation {
    /// `closest: POST /anoncreds/schema, GET /anoncreds/schemas`, or the
    /// methods the path does have.
    pub fn help(&self) -> Option<String> {
        if !self.methods_on_path.is_empty() {
            return Some(format!(
                "{} answers {} only",
                self.path,
                self.methods_on_path.join(", ")
            ));
        }
        if self.closest.is_empty() {
            return None;
        }
        let names: Vec<String> = self.closest.iter().map(ToString::to_string).collect();
        Some(format!("closest: {}", names.join(", ")))
    }
}

impl ApiDocument {
    /// The operation `method path` is. A path that fits several templates
    /// goes to the most literal one, compared segment by segment from the
    /// left: `/wallet/did/public` is `/wallet/did/public`, not
    /// `/wallet/did/{did}`.
    pub fn find(&self, method: &str, path: &str) -> Result<&Operation, UnknownOperation> {
        let concrete = split_path(path);
        let mut best: Option<(Vec<bool>, &Operation)> = None;
        let mut methods_on_path = Vec::new();
        for operation in self.operations() {
            let Some(literal) = operation.match_path(&concrete) else {
                continue;
            };
            if !operation.id.method.eq_ignore_ascii_case(method) {
                methods_on_path.push(operation.id.method.clone());
                continue;
            }
            if best.as_ref().is_none_or(|(b, _)| literal > *b) {
                best = Some((literal, operation));
            }
        }
        match best {
            Some((_, operation)) => Ok(operation),
            None => {
                methods_on_path.sort();
                methods_on_path.dedup();
                Err(UnknownOperation {
                    method: method.to_ascii_uppercase(),
                    path: strip_origin(path)
                        .split(['?', '#'])
                        .next()
                        .unwrap_or_default()
                        .to_owned(),
                    version: self.version.clone(),
                    methods_on_path,
                    closest: self.closest(method, path, CLOSEST),
                })
            }
        }
    }

    /// The `count` operations nearest to `method path`, nearest first.
    ///
    /// Only operations related to the request are candidates: one of the
    /// template's words is one of the request's, or a typo of it (character
    /// edit distance at most [`TYPO`] of the longer word: `schema` for
    /// `schemas`). They are ranked by an edit distance over path segments:
    /// inserting or deleting a segment costs 1; replacing one costs the
    /// words' relative character distance when it is a typo, else 1; a
    /// template's `{param}` takes any segment for 0.25. Each request word
    /// found as it is among the template's takes 0.5 off (a route that
    /// moved: `/schemas` to `/anoncreds/schemas`), and another method adds
    /// 0.5, so the same path under another method comes before a
    /// neighbour. Ties go to the shorter template, then alphabetical order.
    pub fn closest(&self, method: &str, path: &str, count: usize) -> Vec<OperationId> {
        let concrete = split_path(path);
        let mut replace = ReplaceCosts {
            concrete: &concrete,
            known: HashMap::new(),
        };
        let mut ranked: Vec<(f64, &Operation)> = self
            .operations()
            .iter()
            .filter_map(|operation| {
                let words: Vec<&str> = operation
                    .segments
                    .iter()
                    .filter_map(|s| match s {
                        Segment::Literal(word) => Some(word.as_str()),
                        Segment::Param(_) => None,
                    })
                    .collect();
                let shared = concrete.iter().filter(|w| words.contains(w)).count();
                let related = shared > 0
                    || (0..concrete.len()).any(|i| words.iter().any(|l| replace.cost(i, l) < 1.0));
                if !related {
                    return None;
                }
                let edits = segment_distance(concrete.len(), &operation.segments, &mut replace);
                let mut cost = edits - 0.5 * shared as f64;
                if !operation.id.method.eq_ignore_ascii_case(method) {
                    cost += 0.5;
                }
                Some((cost, operation))
            })
            .collect();
        ranked.sort_by(|(a, x), (b, y)| {
            a.total_cmp(b)
                .then(x.segments.len().cmp(&y.segments.len()))
                .then(x.id.cmp(&y.id))
        });
        ranked
            .into_iter()
            .take(count)
            .map(|(_, operation)| operation.id.clone())
            .collect()
    }
}

/// What replacing the i-th request word by a template word costs: its
/// relative distance for a typo, else 1. Each pair is computed once, as
/// templates share their words.
struct ReplaceCosts<'a> {
    concrete: &'a [&'a str],
    known: HashMap<(usize, &'a str), f64>,
}

impl<'a> ReplaceCosts<'a> {
    fn cost(&mut self, i: usize, word: &'a str) -> f64 {
        let concrete = self.concrete;
        *self
            .known
            .entry((i, word))
            .or_insert_with(|| match word_distance(concrete[i], word) {
                typo if typo <= TYPO => typo,
                _ => 1.0,
            })
    }
}

/// Edit distance between the `concrete` request segments (their count)
/// and a template's segments.
fn segment_distance<'a>(
    concrete: usize,
    template: &'a [Segment],
    replace: &mut ReplaceCosts<'a>,
) -> f64 {
    let mut d = vec![vec![0f64; template.len() + 1]; concrete + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i as f64;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j as f64;
    }
    for i in 1..=concrete {
        for j in 1..=template.len() {
            let cost = match &template[j - 1] {
                Segment::Param(_) => 0.25,
                Segment::Literal(word) => replace.cost(i - 1, word),
            };
            d[i][j] = (d[i - 1][j] + 1.0)
                .min(d[i][j - 1] + 1.0)
                .min(d[i - 1][j - 1] + cost);
        }
    }
    d[concrete][template.len()]
}

/// Levenshtein distance of two words over the longer one's length: 0 the
/// same, 1 nothing in common.
fn word_distance(a: &str, b: &str) -> f64 {
    if a == b {
        return 0.0;
    }
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            current[j + 1] = (previous[j + 1] + 1)
                .min(current[j] + 1)
                .min(previous[j] + usize::from(ca != cb));
        }
        previous = current;
    }
    previous[b.len()] as f64 / a.len().max(b.len()) as f64
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.id, f)
    }
}
