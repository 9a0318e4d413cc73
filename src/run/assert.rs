//! Checking `expect` (and a wait's `where` / `until` / `fail_if`) against a JSON document.

use super::predicate::{describe, holds};
use crate::diagnostic::{Diagnostic, Loc};
use crate::scenario::model::{Assertion, Op};
use crate::scenario::query::Selection;
use crate::scenario::template::Vars;
use serde_json::Value;

/// An expectation that did not hold.
#[derive(Debug, Clone)]
pub struct Mismatch {
    pub loc: Loc,
    pub expected: String,
    pub actual: String,
}

/// The first assertion that does not hold, if any.
pub fn first_mismatch(
    assertions: &[Assertion],
    document: &Value,
    vars: &Vars,
) -> Result<Option<Mismatch>, Diagnostic> {
    for assertion in assertions {
        let selection = assertion.query.select(document);
        for predicate in &assertion.predicates {
            if !holds(&predicate.op, &selection, vars)? {
                return Ok(Some(Mismatch {
                    loc: predicate.loc.clone(),
                    expected: format!(
                        "{} {}",
                        assertion.query.text,
                        describe(&predicate.op, vars)?
                    ),
                    actual: match predicate.op {
                        Op::Length(_) => describe_length(&selection),
                        _ => describe_selection(&selection),
                    },
                }));
            }
        }
    }
    Ok(None)
}

/// Whether every assertion holds (an empty list holds).
pub fn all_hold(
    assertions: &[Assertion],
    document: &Value,
    vars: &Vars,
) -> Result<bool, Diagnostic> {
    Ok(first_mismatch(assertions, document, vars)?.is_none())
}

/// Whether some assertion is given and every one holds: for `fail_if`.
pub fn any_given_and_holds(
    assertions: &[Assertion],
    document: &Value,
    vars: &Vars,
) -> Result<bool, Diagnostic> {
    Ok(!assertions.is_empty() && all_hold(assertions, document, vars)?)
}

pub fn describe_selection(selection: &Selection) -> String {
    match selection {
        Selection::Absent => "nothing: no value at this path".into(),
        Selection::Value(v) | Selection::Nodes(v) => short_json(v, 300),
    }
}

/// For a failed `length`: how long it is, then what it is
/// (`3 items: [...]`).
pub fn describe_length(selection: &Selection) -> String {
    let count = match selection.value() {
        Some(Value::Array(a)) if a.len() == 1 => "1 item".to_owned(),
        Some(Value::Array(a)) => format!("{} items", a.len()),
        Some(Value::String(s)) if s.chars().count() == 1 => "1 character".to_owned(),
        Some(Value::String(s)) => format!("{} characters", s.chars().count()),
        Some(Value::Object(o)) if o.len() == 1 => "1 key".to_owned(),
        Some(Value::Object(o)) => format!("{} keys", o.len()),
        Some(other) => {
            return format!(
                "{} ({} has no length)",
                describe_selection(selection),
                kind(other)
            )
        }
        None => return describe_selection(selection),
    };
    format!("{count}: {}", describe_selection(selection))
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        _ => "a value",
    }
}

/// Compact JSON, cut at `max` characters.
pub fn short_json(value: &Value, max: usize) -> String {
    let text = value.to_string();
    if text.chars().count() <= max {
        text
    } else {
        let cut: String = text.chars().take(max).collect();
        format!("{cut}… ({} characters in all)", text.chars().count())
    }
}
