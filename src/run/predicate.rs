//! What each operator means, applied to what a JSONPath selected.

use crate::diagnostic::Diagnostic;
use crate::scenario::model::{JsonType, Op, Ordering};
use crate::scenario::query::Selection;
use crate::scenario::template::{as_text, Vars};
use serde_json::Value;

/// The operator in words, with its expected value filled in: `equals "done"`.
pub fn describe(op: &Op, vars: &Vars) -> Result<String, Diagnostic> {
    Ok(match op {
        Op::Equals(t) => format!("equals {}", t.render(vars)?),
        Op::NotEquals(t) => format!("not equals {}", t.render(vars)?),
        Op::Matches(re) => format!("matches /{}/", re.as_str()),
        Op::Exists(true) => "exists".into(),
        Op::Exists(false) => "is absent".into(),
        Op::Contains(t) => format!("contains {}", t.render(vars)?),
        Op::OneOf(ts) => {
            let values: Vec<String> = ts
                .iter()
                .map(|t| t.render(vars).map(|v| v.to_string()))
                .collect::<Result<_, _>>()?;
            format!("one of [{}]", values.join(", "))
        }
        Op::Length(n) => format!("has length {n}"),
        Op::Type(t) => format!("is of type {}", t.name()),
        Op::Compare(ord, n) => {
            let word = match ord {
                Ordering::Greater => ">",
                Ordering::GreaterOrEqual => ">=",
                Ordering::Less => "<",
                Ordering::LessOrEqual => "<=",
            };
            format!("{word} {n}")
        }
    })
}

/// Whether the selection satisfies the operator.
pub fn holds(op: &Op, selection: &Selection, vars: &Vars) -> Result<bool, Diagnostic> {
    let actual = selection.value();
    Ok(match op {
        Op::Exists(want) => {
            let present = match selection {
                Selection::Absent => false,
                Selection::Value(_) => true,
                // A filter or wildcard "exists" when it selected something.
                Selection::Nodes(nodes) => nodes.as_array().is_some_and(|a| !a.is_empty()),
            };
            present == *want
        }
        Op::Equals(t) => {
            let expected = t.render(vars)?;
            actual.is_some_and(|a| same(a, &expected))
        }
        Op::NotEquals(t) => {
            let expected = t.render(vars)?;
            !actual.is_some_and(|a| same(a, &expected))
        }
        Op::Matches(re) => matches!(actual, Some(Value::String(s)) if re.is_match(s)),
        Op::Contains(t) => {
            let expected = t.render(vars)?;
            match actual {
                Some(Value::String(s)) => s.contains(&as_text(&expected)),
                Some(Value::Array(items)) => items.iter().any(|i| same(i, &expected)),
                Some(Value::Object(map)) => map.contains_key(&as_text(&expected)),
                _ => false,
            }
        }
        Op::OneOf(ts) => match actual {
            Some(a) => {
                let mut any = false;
                for t in ts {
                    any |= same(a, &t.render(vars)?);
                }
                any
            }
            None => false,
        },
        Op::Length(n) => match actual {
            Some(Value::String(s)) => s.chars().count() == *n,
            Some(Value::Array(a)) => a.len() == *n,
            Some(Value::Object(o)) => o.len() == *n,
            _ => false,
        },
        Op::Type(t) => actual.is_some_and(|a| is_type(a, *t)),
        Op::Compare(ord, n) => match actual.and_then(Value::as_f64) {
            Some(a) => match ord {
                Ordering::Greater => a > *n,
                Ordering::GreaterOrEqual => a >= *n,
                Ordering::Less => a < *n,
                Ordering::LessOrEqual => a <= *n,
            },
            None => false,
        },
    })
}

/// JSON equality where 1 and 1.0 are the same number.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn is_type(value: &Value, t: JsonType) -> bool {
    match t {
        JsonType::Null => value.is_null(),
        JsonType::Boolean => value.is_boolean(),
        JsonType::Number => value.is_number(),
        JsonType::Integer => {
            value.is_i64() || value.is_u64() || value.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        JsonType::String => value.is_string(),
        JsonType::Array => value.is_array(),
        JsonType::Object => value.is_object(),
    }
}
