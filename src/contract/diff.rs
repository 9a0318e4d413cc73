//! `api diff`: what changed in the admin API between two documents.
//!
//! Operations are compared by method and template. For each operation both
//! have, the request body and every response schema are compared field by
//! field, through `$ref`s and `allOf`s, with a guard on the pair of
//! definitions being compared so that recursive definitions end.

use super::document::{ApiDocument, Operation, OperationId};
use super::schema::definition_name;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write as _};

/// Deeper than any real ACA-Py schema; stops a pathological document.
const MAX_DEPTH: usize = 40;

/// Two documents compared.
#[derive(Debug, Clone, Serialize)]
pub struct ApiDiff {
    pub from: String,
    pub to: String,
    pub added: Vec<OperationId>,
    pub removed: Vec<OperationId>,
    /// Operations in both whose schemas differ.
    pub changed: Vec<OperationChanges>,
    /// Operations in both, the same.
    pub unchanged: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct OperationChanges {
    pub operation: OperationId,
    pub changes: Vec<SchemaChange>,
}

/// One difference in one body of one operation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SchemaChange {
    /// `request` or `response 200`.
    pub place: String,
    /// Pointer-like path of the field, `*` for array items and map values:
    /// `/results/*/state`; empty for the body itself.
    pub field: String,
    #[serde(flatten)]
    pub change: Change,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// A field (or a body, or a documented status) that only `to` has.
    Added {
        ty: String,
        required: bool,
    },
    Removed {
        ty: String,
    },
    TypeChanged {
        from: String,
        to: String,
    },
    NullableChanged {
        from: bool,
        to: bool,
    },
    RequiredChanged {
        from: bool,
        to: bool,
    },
    EnumChanged {
        added: Vec<Value>,
        removed: Vec<Value>,
    },
    /// `additionalProperties: false` put or lifted.
    ClosedChanged {
        from: bool,
        to: bool,
    },
}

impl fmt::Display for SchemaChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = if self.field.is_empty() {
            "(body)"
        } else {
            &self.field
        };
        write!(f, "{} {field}: ", self.place)?;
        let yes_no = |b: &bool| if *b { "yes" } else { "no" };
        match &self.change {
            Change::Added { ty, required } => {
                write!(
                    f,
                    "added ({ty}{})",
                    if *required { ", required" } else { "" }
                )
            }
            Change::Removed { ty } => write!(f, "removed ({ty})"),
            Change::TypeChanged { from, to } => write!(f, "type {from} → {to}"),
            Change::NullableChanged { from, to } => {
                write!(f, "nullable {} → {}", yes_no(from), yes_no(to))
            }
            Change::RequiredChanged { from, to } => {
                write!(f, "required {} → {}", yes_no(from), yes_no(to))
            }
            Change::EnumChanged { added, removed } => {
                let list = |values: &[Value]| {
                    values
                        .iter()
                        .map(Value::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                f.write_str("values")?;
                if !added.is_empty() {
                    write!(f, " +[{}]", list(added))?;
                }
                if !removed.is_empty() {
                    write!(f, " -[{}]", list(removed))?;
                }
                Ok(())
            }
            Change::ClosedChanged { from, to } => {
                let word = |closed: &bool| if *closed { "closed" } else { "open" };
                write!(f, "object {} → {}", word(from), word(to))
            }
        }
    }
}

/// What changed from `from` to `to`.
pub fn diff(from: &ApiDocument, to: &ApiDocument) -> ApiDiff {
    let before: BTreeMap<&OperationId, &Operation> =
        from.operations().iter().map(|o| (&o.id, o)).collect();
    let after: BTreeMap<&OperationId, &Operation> =
        to.operations().iter().map(|o| (&o.id, o)).collect();
    let added = after
        .keys()
        .filter(|id| !before.contains_key(*id))
        .map(|id| (*id).clone())
        .collect();
    let removed = before
        .keys()
        .filter(|id| !after.contains_key(*id))
        .map(|id| (*id).clone())
        .collect();
    let mut changed = Vec::new();
    let mut unchanged = 0;
    for (id, old) in &before {
        let Some(new) = after.get(id) else {
            continue;
        };
        let changes = operation_changes(from, old, to, new);
        if changes.is_empty() {
            unchanged += 1;
        } else {
            changed.push(OperationChanges {
                operation: (*id).clone(),
                changes,
            });
        }
    }
    ApiDiff {
        from: from.version.clone(),
        to: to.version.clone(),
        added,
        removed,
        changed,
        unchanged,
    }
}

fn operation_changes(
    from: &ApiDocument,
    old: &Operation,
    to: &ApiDocument,
    new: &Operation,
) -> Vec<SchemaChange> {
    let mut out = Vec::new();
    let mut compare = |place: String, a: Option<&Value>, b: Option<&Value>| {
        let mut walk = Walk {
            place,
            left: &from.definitions,
            right: &to.definitions,
            stack: Vec::new(),
            out: &mut out,
        };
        match (a, b) {
            (Some(a), Some(b)) => walk.compare(a, b, String::new()),
            (None, Some(b)) => walk.push(
                String::new(),
                Change::Added {
                    ty: describe(b),
                    required: false,
                },
            ),
            (Some(a), None) => walk.push(String::new(), Change::Removed { ty: describe(a) }),
            (None, None) => {}
        }
    };
    compare("request".into(), old.body.as_ref(), new.body.as_ref());
    let statuses: BTreeSet<&String> = old.responses.keys().chain(new.responses.keys()).collect();
    for status in statuses {
        let a = old
            .responses
            .get(status)
            .map(|s| s.as_ref().unwrap_or(&Value::Null));
        let b = new
            .responses
            .get(status)
            .map(|s| s.as_ref().unwrap_or(&Value::Null));
        compare(format!("response {status}"), a, b);
    }
    out
}

struct Walk<'a> {
    place: String,
    left: &'a Map<String, Value>,
    right: &'a Map<String, Value>,
    /// Pairs of definitions under comparison, outermost first.
    stack: Vec<(String, String)>,
    out: &'a mut Vec<SchemaChange>,
}

impl Walk<'_> {
    fn push(&mut self, field: String, change: Change) {
        self.out.push(SchemaChange {
            place: self.place.clone(),
            field,
            change,
        });
    }

    fn compare(&mut self, a: &Value, b: &Value, field: String) {
        if self.stack.len() > MAX_DEPTH {
            return;
        }
        let left = View::of(a, self.left);
        let right = View::of(b, self.right);
        // The same pair of definitions met again: its comparison is under way.
        let pair = (left.name.clone(), right.name.clone());
        let named = !pair.0.is_empty() && !pair.1.is_empty();
        if named && self.stack.contains(&pair) {
            return;
        }
        if left.nullable != right.nullable {
            self.push(
                field.clone(),
                Change::NullableChanged {
                    from: left.nullable,
                    to: right.nullable,
                },
            );
        }
        if let (Some(x), Some(y)) = (&left.ty, &right.ty) {
            if x != y {
                self.push(
                    field,
                    Change::TypeChanged {
                        from: x.clone(),
                        to: y.clone(),
                    },
                );
                return;
            }
        }
        if left.enumeration != right.enumeration {
            let before = left.enumeration.unwrap_or_default();
            let after = right.enumeration.unwrap_or_default();
            self.push(
                field.clone(),
                Change::EnumChanged {
                    added: after
                        .iter()
                        .filter(|v| !before.contains(v))
                        .cloned()
                        .collect(),
                    removed: before
                        .iter()
                        .filter(|v| !after.contains(v))
                        .cloned()
                        .collect(),
                },
            );
        }
        if left.closed != right.closed {
            self.push(
                field.clone(),
                Change::ClosedChanged {
                    from: left.closed,
                    to: right.closed,
                },
            );
        }
        self.stack.push(pair);
        let names: BTreeSet<&String> = left
            .properties
            .keys()
            .chain(right.properties.keys())
            .collect();
        for name in names {
            let at = format!("{field}/{}", name.replace('~', "~0").replace('/', "~1"));
            let was_required = left.required.contains(name.as_str());
            let is_required = right.required.contains(name.as_str());
            match (left.properties.get(name), right.properties.get(name)) {
                (Some(x), Some(y)) => {
                    if was_required != is_required {
                        self.push(
                            at.clone(),
                            Change::RequiredChanged {
                                from: was_required,
                                to: is_required,
                            },
                        );
                    }
                    self.compare(x, y, at);
                }
                (None, Some(y)) => self.push(
                    at,
                    Change::Added {
                        ty: describe(y),
                        required: is_required,
                    },
                ),
                (Some(x), None) => self.push(at, Change::Removed { ty: describe(x) }),
                (None, None) => {}
            }
        }
        if let (Some(x), Some(y)) = (left.items, right.items) {
            self.compare(x, y, format!("{field}/*"));
        }
        if let (Some(x @ Value::Object(_)), Some(y @ Value::Object(_))) =
            (left.additional, right.additional)
        {
            self.compare(x, y, format!("{field}/*"));
        }
        self.stack.pop();
    }
}

/// A schema node with its `$ref`s followed and its `allOf` merged.
#[derive(Default)]
struct View<'a> {
    /// The first definition reached, if any.
    name: String,
    ty: Option<String>,
    nullable: bool,
    properties: BTreeMap<String, &'a Value>,
    required: BTreeSet<&'a str>,
    items: Option<&'a Value>,
    additional: Option<&'a Value>,
    closed: bool,
    enumeration: Option<Vec<Value>>,
}

impl<'a> View<'a> {
    fn of(node: &'a Value, definitions: &'a Map<String, Value>) -> View<'a> {
        let mut view = View::default();
        view.absorb(node, definitions, 0);
        view
    }

    fn absorb(&mut self, node: &'a Value, definitions: &'a Map<String, Value>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let Value::Object(fields) = node else {
            return;
        };
        if fields.get("x-nullable") == Some(&Value::Bool(true)) {
            self.nullable = true;
        }
        if let Some(name) = fields
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(definition_name)
        {
            if self.name.is_empty() {
                self.name = name.to_owned();
            }
            if let Some(target) = definitions.get(name) {
                self.absorb(target, definitions, depth + 1);
            }
            return;
        }
        if let Some(Value::Array(members)) = fields.get("allOf") {
            for member in members {
                self.absorb(member, definitions, depth + 1);
            }
        }
        if let Some(ty) = fields.get("type").and_then(Value::as_str) {
            self.ty = Some(ty.to_owned());
        }
        if let Some(Value::Object(properties)) = fields.get("properties") {
            self.ty.get_or_insert_with(|| "object".into());
            for (name, schema) in properties {
                self.properties.insert(name.clone(), schema);
            }
        }
        if let Some(Value::Array(required)) = fields.get("required") {
            self.required
                .extend(required.iter().filter_map(Value::as_str));
        }
        if let Some(items) = fields.get("items") {
            self.ty.get_or_insert_with(|| "array".into());
            self.items = Some(items);
        }
        if let Some(additional) = fields.get("additionalProperties") {
            self.additional = Some(additional);
            self.closed = additional == &Value::Bool(false);
        }
        if let Some(Value::Array(options)) = fields.get("enum") {
            self.enumeration = Some(options.clone());
        }
    }
}

/// `string`, `ConnRecord`, `array of ConnRecord`, `object`.
fn describe(node: &Value) -> String {
    if let Some(name) = node
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(definition_name)
    {
        return name.to_owned();
    }
    if let Some(Value::Array(members)) = node.get("allOf") {
        if let [only] = members.as_slice() {
            return describe(only);
        }
    }
    match node.get("type").and_then(Value::as_str) {
        Some("array") => match node.get("items") {
            Some(items) => format!("array of {}", describe(items)),
            None => "array".into(),
        },
        Some(ty) => ty.to_owned(),
        None if node.get("properties").is_some() => "object".into(),
        None => "any".into(),
    }
}

impl ApiDiff {
    /// The diff as text: a count line, then operations added, removed and
    /// changed (each change on its own line).
    pub fn render(&self) -> String {
        let mut out = String::new();
        let changes: usize = self.changed.iter().map(|c| c.changes.len()).sum();
        let _ = writeln!(
            out,
            "ACA-Py {} → {}: {} operations added, {} removed, {} changed ({} changes), {} unchanged",
            self.from,
            self.to,
            self.added.len(),
            self.removed.len(),
            self.changed.len(),
            changes,
            self.unchanged
        );
        for id in &self.added {
            let _ = writeln!(out, "  + {id}");
        }
        for id in &self.removed {
            let _ = writeln!(out, "  - {id}");
        }
        for operation in &self.changed {
            let _ = writeln!(out, "  ~ {}", operation.operation);
            for change in &operation.changes {
                let _ = writeln!(out, "      {change}");
            }
        }
        out
    }
}

impl fmt::Display for ApiDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}
