//! `capture: { name: $.path }`: values taken from a response for later steps.

use crate::scenario::model::Capture;
use crate::scenario::query::Selection;
use serde_json::Value;

/// The captured value, or `None` when the path matched nothing.
pub fn capture(capture: &Capture, document: &Value) -> Option<Value> {
    match capture.query.select(document) {
        Selection::Absent => None,
        Selection::Value(v) => Some(v),
        Selection::Nodes(Value::Array(nodes)) if nodes.is_empty() => None,
        Selection::Nodes(v) => Some(v),
    }
}
