//! Checking `expect`, `where`, `until` and `fail_if`: `$.path: expected` or
//! `$.path: { operator: value, ... }`, each JSONPath parsed as the file loads.

use super::Checker;
use crate::diagnostic::{Diagnostic, Loc};
use crate::scenario::model::*;
use crate::scenario::query::Query;
use crate::scenario::template::Template;
use crate::scenario::yaml::{Node, SpannedMap, SpannedNode};
use regex::Regex;

pub const OPERATORS: &[&str] = &[
    "equals",
    "not_equals",
    "matches",
    "exists",
    "contains",
    "one_of",
    "length",
    "type",
    "gt",
    "gte",
    "lt",
    "lte",
];

impl Checker {
    pub(super) fn expect(
        &mut self,
        map: SpannedMap<SpannedNode>,
    ) -> (Option<StatusCheck>, Vec<Assertion>) {
        self.assertions(map, true)
    }

    /// A mapping of `$.path: expected` (and, in `expect`, `status: CODE`).
    pub(super) fn assertions(
        &mut self,
        map: SpannedMap<SpannedNode>,
        allow_status: bool,
    ) -> (Option<StatusCheck>, Vec<Assertion>) {
        let mut status = None;
        let mut out = Vec::new();
        for (key, value) in map.0 {
            let key_loc = self.key_loc(&key);
            if allow_status && key.value == "status" {
                let loc = self.loc(&value.referenced);
                match &value.value {
                    Node::Number(n) if n.as_u64().is_some_and(|c| (100..600).contains(&c)) => {
                        status = Some(StatusCheck {
                            code: n.as_u64().unwrap() as u16,
                            loc,
                        });
                    }
                    other => self.error(
                        Diagnostic::at(&loc, "`status` must be an HTTP status code")
                            .label(format!("found {}", other.kind())),
                    ),
                }
                continue;
            }
            if !key.value.starts_with('$') {
                let wanted = if allow_status {
                    "`status` or a JSONPath"
                } else {
                    "a JSONPath"
                };
                self.error(
                    Diagnostic::at(&key_loc, format!("unknown key `{}`", key.value))
                        .label(format!("expected {wanted} starting with `$`")),
                );
                continue;
            }
            let Ok(query) = Query::parse(&key.value, &key_loc).map_err(|d| self.error(d)) else {
                continue;
            };
            let predicates = self.predicates(&value);
            if !query.is_singular() {
                self.check_list_predicates(&query, &predicates);
            }
            out.push(Assertion { query, predicates });
        }
        (status, out)
    }

    /// A filter or wildcard selects a list: an operator that can only hold (or
    /// only fail) on a list is a mistake worth stopping for.
    pub(super) fn check_list_predicates(&mut self, query: &Query, predicates: &[Predicate]) {
        for p in predicates {
            let scalar = |t: &Template| match t {
                Template::Literal(v) => !v.is_array(),
                Template::Text(_) => true,
                _ => false,
            };
            let pointless = match &p.op {
                Op::Equals(t) | Op::NotEquals(t) => scalar(t),
                Op::OneOf(ts) => ts.iter().all(scalar),
                Op::Matches(_) | Op::Compare(..) => true,
                _ => false,
            };
            if pointless {
                self.error(
                    Diagnostic::at(&p.loc, format!("`{}` selects a list of values", query.text))
                        .label("compares a single value")
                        .note("note: only names and indexes (`$.a[0].b`) select one value; filters and wildcards select a list")
                        .note("help: compare with a list (`[a, b]`), or use `contains`, `length` or `exists`"),
                );
            }
        }
    }

    /// `expected` (equality) or a mapping of operators.
    pub(super) fn predicates(&mut self, node: &SpannedNode) -> Vec<Predicate> {
        let loc = self.loc(&node.referenced);
        let Node::Map(entries) = &node.value else {
            return self
                .template(node)
                .map(|t| {
                    vec![Predicate {
                        op: Op::Equals(t),
                        loc,
                    }]
                })
                .unwrap_or_default();
        };
        let mut out = Vec::new();
        for (op, value) in entries {
            let op_loc = self.key_loc(op);
            let value_loc = self.loc(&value.referenced);
            let parsed = match op.value.as_str() {
                "equals" => self.template(value).map(Op::Equals),
                "not_equals" => self.template(value).map(Op::NotEquals),
                "contains" => self.template(value).map(Op::Contains),
                "matches" => match &value.value {
                    Node::String(pattern) => match Regex::new(pattern) {
                        Ok(re) => Some(Op::Matches(re)),
                        Err(e) => {
                            let detail = e.to_string();
                            let last = detail
                                .lines()
                                .last()
                                .unwrap_or("")
                                .trim()
                                .trim_start_matches("error: ")
                                .to_owned();
                            self.error(
                                Diagnostic::at(&value_loc, "invalid regular expression")
                                    .label(last),
                            );
                            None
                        }
                    },
                    other => self.expected(&value_loc, "a regular expression string", other),
                },
                "exists" => match value.value {
                    Node::Bool(b) => Some(Op::Exists(b)),
                    ref other => self.expected(&value_loc, "true or false", other),
                },
                "one_of" => match &value.value {
                    Node::Seq(items) => items
                        .iter()
                        .map(|i| self.template(i))
                        .collect::<Option<Vec<_>>>()
                        .map(Op::OneOf),
                    other => self.expected(&value_loc, "a list of values", other),
                },
                "length" => match &value.value {
                    Node::Number(n) if n.as_u64().is_some() => {
                        Some(Op::Length(n.as_u64().unwrap() as usize))
                    }
                    other => self.expected(&value_loc, "a whole number", other),
                },
                "type" => match &value.value {
                    Node::String(s) => match JsonType::parse(s) {
                        Some(t) => Some(Op::Type(t)),
                        None => {
                            self.error(
                                Diagnostic::at(&value_loc, format!("unknown JSON type `{s}`"))
                                    .label(format!(
                                        "expected one of {}",
                                        JsonType::NAMES.join(", ")
                                    )),
                            );
                            None
                        }
                    },
                    other => self.expected(&value_loc, "a JSON type name", other),
                },
                word @ ("gt" | "gte" | "lt" | "lte") => match &value.value {
                    Node::Number(n) => {
                        let ord = match word {
                            "gt" => Ordering::Greater,
                            "gte" => Ordering::GreaterOrEqual,
                            "lt" => Ordering::Less,
                            _ => Ordering::LessOrEqual,
                        };
                        Some(Op::Compare(ord, n.as_f64().unwrap_or(f64::NAN)))
                    }
                    other => self.expected(&value_loc, "a number", other),
                },
                unknown => {
                    let mut d = Diagnostic::at(&op_loc, format!("unknown operator `{unknown}`"))
                        .label("not an operator");
                    if let Some(help) = crate::suggest::did_you_mean(unknown, OPERATORS) {
                        d = d.note(help);
                    }
                    self.error(
                        d.note(format!("help: operators are {}", OPERATORS.join(", ")))
                            .note("help: to compare with a mapping, write `{ equals: { ... } }`"),
                    );
                    None
                }
            };
            if let Some(op) = parsed {
                out.push(Predicate { op, loc: op_loc });
            }
        }
        out
    }

    pub(super) fn expected<T>(&mut self, loc: &Loc, what: &str, found: &Node) -> Option<T> {
        self.error(
            Diagnostic::at(loc, format!("expected {what}"))
                .label(format!("found {}", found.kind())),
        );
        None
    }
}
