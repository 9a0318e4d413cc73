//! JSONPath queries (RFC 9535, by jsonpath-rust), parsed when the file loads.

use crate::diagnostic::{Diagnostic, Loc};
use jsonpath_rust::parser::model::{JpQuery, Segment, Selector};
use jsonpath_rust::parser::parse_json_path;
use serde_json::Value;

#[derive(Debug, Clone)]
pub struct Query {
    pub text: String,
    pub loc: Loc,
    path: JpQuery,
    /// A singular query (only names and indexes, RFC 9535 §2.3.5.1) selects at
    /// most one node and is compared as that value; any other query selects a
    /// node list, compared as an array.
    singular: bool,
}

/// What a query found.
#[derive(Debug, Clone, PartialEq)]
pub enum Selection {
    /// A singular query that matched nothing.
    Absent,
    /// What a singular query matched.
    Value(Value),
    /// What any other query matched, as a JSON array (possibly empty).
    Nodes(Value),
}

impl Selection {
    pub fn value(&self) -> Option<&Value> {
        match self {
            Selection::Absent => None,
            Selection::Value(v) | Selection::Nodes(v) => Some(v),
        }
    }
}

impl Query {
    pub fn parse(text: &str, loc: &Loc) -> Result<Query, Diagnostic> {
        // Paths are parsed once, when the file loads: a `${var}` in one would
        // silently be compared as text.
        if let Some(at) = text.find("${") {
            return Err(Diagnostic::at(
                &at_offset(loc, text[..at].chars().count(), 2),
                "variables are not filled in inside a JSONPath",
            )
            .label("taken literally")
            .note("help: select with a fixed path and compare the value, e.g. `$.results[0].id: ${id}`, or in a wait `where: { $.id: \"${id}\" }`"));
        }
        let path = parse_json_path(text).map_err(|e| {
            let (offset, detail) = describe_error(&e);
            Diagnostic::at(&at_offset(loc, offset, 1), format!("invalid JSONPath `{text}`"))
                .label(detail)
                .note("help: paths start at `$`, e.g. `$.results[0].state` or `$.results[?@.state == 'done']`")
        })?;
        let singular = path.segments.iter().all(|s| {
            matches!(
                s,
                Segment::Selector(Selector::Name(_)) | Segment::Selector(Selector::Index(_))
            )
        });
        Ok(Query {
            text: text.to_owned(),
            loc: loc.clone(),
            path,
            singular,
        })
    }

    pub fn select(&self, document: &Value) -> Selection {
        let found: Vec<Value> = jsonpath_rust::query::js_path_process(&self.path, document)
            .map(|refs| refs.into_iter().map(|r| r.val.clone()).collect())
            .unwrap_or_default();
        if self.singular {
            found
                .into_iter()
                .next()
                .map_or(Selection::Absent, Selection::Value)
        } else {
            Selection::Nodes(Value::Array(found))
        }
    }

    pub fn is_singular(&self) -> bool {
        self.singular
    }
}

/// The position `offset` characters into a path written at `loc`, while
/// that is on its line; past it (a plain or flow value folded over lines),
/// the path's start.
fn at_offset(loc: &Loc, offset: usize, len: usize) -> Loc {
    let shifted = loc.shifted(offset, len);
    let width = loc.file.line(loc.line).map_or(0, |l| l.chars().count());
    match shifted.column <= width {
        true => shifted,
        false => Loc::new(&loc.file, loc.line, loc.column, len),
    }
}

/// Where in the path the parser stopped (0-based), and what it wanted.
fn describe_error(error: &jsonpath_rust::parser::errors::JsonPathError) -> (usize, String) {
    use jsonpath_rust::parser::errors::JsonPathError;
    match error {
        JsonPathError::PestError(e) => {
            let col = match e.line_col {
                pest::error::LineColLocation::Pos((_, c)) => c,
                pest::error::LineColLocation::Span((_, c), _) => c,
            };
            let wanted = match &e.variant {
                pest::error::ErrorVariant::ParsingError { positives, .. }
                    if !positives.is_empty() =>
                {
                    let names: Vec<String> =
                        positives.iter().take(4).map(|r| format!("{r:?}")).collect();
                    format!("expected {}", names.join(", "))
                }
                pest::error::ErrorVariant::CustomError { message } => message.clone(),
                _ => "unexpected input here".to_owned(),
            };
            (col.saturating_sub(1), wanted)
        }
        other => (0, other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::SourceFile;
    use std::sync::Arc;

    /// Found by the `validate` fuzz target: a JSONPath folded over two
    /// lines (`thread_id: $.thread_id` followed by a more indented line)
    /// had its error past the end of its first line.
    #[test]
    fn fuzz_validate_an_error_in_a_folded_jsonpath_stays_on_its_line() {
        let file = Arc::new(SourceFile {
            path: "q.yaml".into(),
            text: "      thread_id: $.thread_id\n          - https://w3.org/v1\n".into(),
        });
        let loc = Loc::new(&file, 1, 18, 11);
        let e = Query::parse("$.thread_id - https://w3.org/v1", &loc).unwrap_err();
        let at = e.loc.unwrap();
        assert_eq!((at.line, at.column), (1, 18));
        let e = Query::parse("$.a ${x}", &Loc::new(&file, 1, 27, 1)).unwrap_err();
        assert_eq!(e.loc.unwrap().column, 27);
    }
}
