//! Checking request and response bodies against an operation's schemas.
//!
//! Each (operation, side, status) schema is compiled once, the first time a
//! body needs it, and kept in its [`ApiDocument`] for every later case:
//! compiling costs milliseconds, validating a typical answer microseconds.

pub use super::document::Side;
use super::document::{escape_pointer, ApiDocument, Compiled, Operation, OperationId, Target};
use super::matching::UnknownOperation;
use super::schema::{self, NULLABLE_WRAPPER};
use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::ValidationError;
use serde::Serialize;
use serde_json::{Map, Value};

use std::fmt;
use std::sync::Arc;

/// Longest `actual` kept, in characters.
const SHORT: usize = 60;
/// Most `enum` options listed in `expected`.
const ENUM_SHOWN: usize = 6;

/// One place where a body disagrees with the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub side: Side,
    pub operation: OperationId,
    /// The answer's status (`None` for a request).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// JSON pointer into the body: `/results/0/state`; for `required` and
    /// `additionalProperties`, the property missing or extra itself.
    pub pointer: String,
    /// The JSON Schema keyword that failed: `type`, `required`, `enum`, ...
    pub keyword: String,
    /// Where the rule is in the agent's document:
    /// `#/definitions/ConnRecord/properties/state/enum`.
    pub schema_path: String,
    /// What the document wants, in a few words.
    pub expected: String,
    /// What the body has, as short JSON (`(missing)` for `required`).
    pub actual: String,
}

impl fmt::Display for Violation {
    /// One line: `response /results/0/state: enum: expected one of "active",
    /// "completed", got "done" (#/definitions/ConnRecord/properties/state/enum)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pointer = if self.pointer.is_empty() {
            "(body)"
        } else {
            &self.pointer
        };
        write!(
            f,
            "{} {pointer}: {}: expected {}, got {} ({})",
            self.side, self.keyword, self.expected, self.actual, self.schema_path
        )
    }
}

/// What checking one exchange can find.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finding {
    /// A body the schema rejects.
    Violation(Violation),
    /// An answer whose status the document does not list (every error
    /// answer of ACA-Py's, which documents 200/201 only): reported in
    /// strict mode.
    UndocumentedStatus {
        operation: OperationId,
        status: u16,
        documented: Vec<String>,
    },
    /// A request to a route the document does not have.
    UnknownOperation(UnknownOperation),
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::Violation(v) => v.fmt(f),
            Finding::UndocumentedStatus {
                operation,
                status,
                documented,
            } => write!(
                f,
                "{operation} answered {status}, which its document does not describe (documented: {})",
                documented.join(", ")
            ),
            Finding::UnknownOperation(unknown) => {
                write!(f, "{unknown}")?;
                if let Some(help) = unknown.help() {
                    write!(f, " ({help})")?;
                }
                Ok(())
            }
        }
    }
}

/// A schema in the document that the validator cannot compile: the
/// document's fault, not the body's, so it is not a violation.
#[derive(Debug, thiserror::Error)]
#[error("{operation}: the schema at {location} cannot be used: {message}")]
pub struct CheckError {
    pub operation: OperationId,
    pub location: String,
    pub message: String,
}

impl ApiDocument {
    /// Checks one answer: its status, then (when documented, and JSON) its
    /// body against the schema of that status.
    pub fn check_response(
        &self,
        operation: &Operation,
        status: u16,
        body: &Value,
    ) -> Result<Vec<Finding>, CheckError> {
        if !operation.is_documented_status(status) {
            return Ok(vec![Finding::UndocumentedStatus {
                operation: operation.id.clone(),
                status,
                documented: operation.responses.keys().cloned().collect(),
            }]);
        }
        let key = if operation.responses.contains_key(&status.to_string()) {
            status.to_string()
        } else {
            "default".to_owned()
        };
        let Some(schema) = operation.response_schema(status) else {
            return Ok(Vec::new());
        };
        if !operation.answers_json() {
            return Ok(Vec::new());
        }
        let location = operation.response_location(&key);
        let compiled = self.compiled(operation, Side::Response, &key, schema, location)?;
        Ok(violations(
            &compiled,
            &self.json_definitions,
            operation,
            Side::Response,
            Some(status),
            body,
        )
        .into_iter()
        .map(Finding::Violation)
        .collect())
    }

    /// Checks what a scenario sends: the body against the operation's body
    /// parameter. No body where one is required is a `required` violation.
    pub fn check_request(
        &self,
        operation: &Operation,
        body: Option<&Value>,
    ) -> Result<Vec<Violation>, CheckError> {
        let (Some(schema), Some(location)) = (&operation.body, &operation.body_location) else {
            return Ok(Vec::new());
        };
        let Some(body) = body else {
            return Ok(match operation.body_required {
                true => vec![Violation {
                    side: Side::Request,
                    operation: operation.id.clone(),
                    status: None,
                    pointer: String::new(),
                    keyword: "required".into(),
                    schema_path: location.trim_end_matches("/schema").to_owned(),
                    expected: "a body".into(),
                    actual: "(missing)".into(),
                }],
                false => Vec::new(),
            });
        };
        let compiled = self.compiled(operation, Side::Request, "body", schema, location.clone())?;
        Ok(violations(
            &compiled,
            &self.json_definitions,
            operation,
            Side::Request,
            None,
            body,
        ))
    }

    /// Everything one exchange shows: the operation found (or not), then
    /// the request body and the answer checked.
    pub fn check_exchange(
        &self,
        method: &str,
        path: &str,
        request: Option<&Value>,
        status: u16,
        response: &Value,
    ) -> Result<Vec<Finding>, CheckError> {
        let operation = match self.find(method, path) {
            Ok(operation) => operation,
            Err(unknown) => return Ok(vec![Finding::UnknownOperation(unknown)]),
        };
        let mut findings: Vec<Finding> = self
            .check_request(operation, request)?
            .into_iter()
            .map(Finding::Violation)
            .collect();
        findings.extend(self.check_response(operation, status, response)?);
        Ok(findings)
    }

    /// Compiles every schema the document has, as a run that checks all
    /// its answers would; returns how many.
    pub fn compile_all(&self) -> Result<usize, CheckError> {
        let mut count = 0;
        for operation in self.operations() {
            if let (Some(schema), Some(location)) = (&operation.body, &operation.body_location) {
                self.compiled(operation, Side::Request, "body", schema, location.clone())?;
                count += 1;
            }
            for (status, schema) in &operation.responses {
                if let Some(schema) = schema {
                    let location = operation.response_location(status);
                    self.compiled(operation, Side::Response, status, schema, location)?;
                    count += 1;
                }
            }
        }
        Ok(count)
    }

    fn compiled(
        &self,
        operation: &Operation,
        side: Side,
        status: &str,
        schema: &Value,
        location: String,
    ) -> Result<Arc<Compiled>, CheckError> {
        let target = Target {
            operation: operation.id.clone(),
            side,
            status: status.to_owned(),
        };
        if let Some(found) = self.compiled.compiled.lock().unwrap().get(&target) {
            return Ok(found.clone());
        }
        // Compiled outside the lock: another case may compile the same
        // schema meanwhile, and the first one stored wins.
        let root = schema::to_json_schema(schema);
        let mut whole = match &root {
            Value::Object(fields) => fields.clone(),
            _ => Map::new(),
        };
        let definitions: Map<String, Value> =
            schema::reachable_definitions(&root, &self.json_definitions)
                .into_iter()
                .filter_map(|name| {
                    let found = self.json_definitions.get(&name)?.clone();
                    Some((name, found))
                })
                .collect();
        whole.insert("definitions".into(), Value::Object(definitions));
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .should_validate_formats(false)
            .build(&Value::Object(whole))
            .map_err(|e| CheckError {
                operation: operation.id.clone(),
                location: location.clone(),
                message: e.to_string(),
            })?;
        let compiled = Arc::new(Compiled {
            validator,
            root,
            location,
        });
        let mut cache = self.compiled.compiled.lock().unwrap();
        Ok(cache.entry(target).or_insert(compiled).clone())
    }
}

fn violations(
    compiled: &Compiled,
    definitions: &Map<String, Value>,
    operation: &Operation,
    side: Side,
    status: Option<u16>,
    body: &Value,
) -> Vec<Violation> {
    let mut out = Vec::new();
    let context = Context {
        compiled,
        definitions,
        operation,
        side,
        status,
    };
    for error in compiled.validator.iter_errors(body) {
        context.collect(&error, body, &mut out);
    }
    // In body order, whatever order the validator walked the schema in.
    out.sort_by(|a, b| (&a.pointer, &a.keyword).cmp(&(&b.pointer, &b.keyword)));
    out
}

struct Context<'a> {
    compiled: &'a Compiled,
    /// The document's definitions, converted.
    definitions: &'a Map<String, Value>,
    operation: &'a Operation,
    side: Side,
    status: Option<u16>,
}

impl Context<'_> {
    fn collect(&self, error: &ValidationError<'_>, body: &Value, out: &mut Vec<Violation>) {
        let schema_path = error.schema_path().as_str();
        if let ValidationErrorKind::AnyOf { context } = error.kind() {
            let at = schema_path.strip_suffix("/anyOf").unwrap_or(schema_path);
            let wrapper = self
                .walk(at)
                .0
                .is_some_and(|s| s.get(NULLABLE_WRAPPER).is_some());
            // Not null, so what counts is why the schema itself refused it.
            if let (true, Some(inner)) = (wrapper, context.get(1)) {
                for e in inner {
                    self.collect(e, body, out);
                }
                return;
            }
        }
        let pointer = error.instance_path().as_str().to_owned();
        let keyword = error.kind().keyword().to_owned();
        let schema_path = self.walk(schema_path).1;
        let mut violation = |pointer: String, expected: String, actual: String| {
            out.push(Violation {
                side: self.side,
                operation: self.operation.id.clone(),
                status: self.status,
                pointer,
                keyword: keyword.clone(),
                schema_path: schema_path.clone(),
                expected,
                actual,
            })
        };
        match error.kind() {
            ValidationErrorKind::Required { property } => {
                let name = property.as_str().unwrap_or_default();
                violation(
                    format!("{pointer}/{}", escape_pointer(name)),
                    "present".into(),
                    "(missing)".into(),
                );
            }
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                for name in unexpected {
                    let at = format!("{pointer}/{}", escape_pointer(name));
                    let actual = body.pointer(&at).map(short).unwrap_or_default();
                    violation(at, "no other properties".into(), actual);
                }
            }
            ValidationErrorKind::Type { .. } => {
                // The schema's own order (`string or null`), not the validator's.
                let at = error.schema_path().as_str();
                let declared = self.walk(at.strip_suffix("/type").unwrap_or(at)).0;
                let expected = match declared.and_then(|s| s.get("type")) {
                    Some(Value::String(one)) => one.clone(),
                    Some(Value::Array(many)) => many
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(" or "),
                    _ => expected(error.kind(), error),
                };
                violation(pointer, expected, short(error.instance()));
            }
            kind => {
                let expected = expected(kind, error);
                violation(pointer, expected, short(error.instance()));
            }
        }
    }

    /// The converted schema at a canonical path of the compiled schema, and
    /// that path as a location in the agent's document: `#/definitions/...`
    /// for a rule in a definition, else the operation's own schema location
    /// plus the path. The `anyOf/1` of a nullable wrapper is not in the
    /// document, so it is left out.
    fn walk(&self, path: &str) -> (Option<&Value>, String) {
        let tokens: Vec<String> = path.split('/').skip(1).map(unescape_pointer).collect();
        let (mut node, mut location, rest) = match tokens.first().map(String::as_str) {
            Some("definitions") if tokens.len() >= 2 => (
                self.definitions.get(&tokens[1]),
                format!("#/definitions/{}", escape_pointer(&tokens[1])),
                &tokens[2..],
            ),
            _ => (
                Some(&self.compiled.root),
                self.compiled.location.clone(),
                &tokens[..],
            ),
        };
        let mut i = 0;
        while i < rest.len() {
            let wrapped = node.is_some_and(|n| n.get(NULLABLE_WRAPPER).is_some())
                && rest[i] == "anyOf"
                && rest.get(i + 1).map(String::as_str) == Some("1");
            if wrapped {
                node = node.and_then(|n| n.get("anyOf")).and_then(|a| a.get(1));
                i += 2;
                continue;
            }
            node = node.and_then(|n| match n {
                Value::Object(fields) => fields.get(&rest[i]),
                Value::Array(items) => rest[i].parse::<usize>().ok().and_then(|k| items.get(k)),
                _ => None,
            });
            location.push('/');
            location.push_str(&escape_pointer(&rest[i]));
            i += 1;
        }
        (node, location)
    }
}

fn unescape_pointer(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// What `kind` wanted, in a few words.
fn expected(kind: &ValidationErrorKind, error: &ValidationError<'_>) -> String {
    match kind {
        ValidationErrorKind::Type { kind } => match kind {
            TypeKind::Single(t) => t.to_string(),
            TypeKind::Multiple(set) => set
                .iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join(" or "),
        },
        ValidationErrorKind::Enum { options } => {
            let options = options.as_array().cloned().unwrap_or_default();
            let mut shown: Vec<String> = options
                .iter()
                .take(ENUM_SHOWN)
                .map(|o| o.to_string())
                .collect();
            if options.len() > ENUM_SHOWN {
                shown.push(format!("… ({} in all)", options.len()));
            }
            format!("one of {}", shown.join(", "))
        }
        ValidationErrorKind::Pattern { pattern } => format!("to match {pattern}"),
        ValidationErrorKind::Minimum { limit } => format!(">= {limit}"),
        ValidationErrorKind::Maximum { limit } => format!("<= {limit}"),
        ValidationErrorKind::ExclusiveMinimum { limit } => format!("> {limit}"),
        ValidationErrorKind::ExclusiveMaximum { limit } => format!("< {limit}"),
        ValidationErrorKind::MinLength { limit } => format!("at least {limit} characters"),
        ValidationErrorKind::MaxLength { limit } => format!("at most {limit} characters"),
        ValidationErrorKind::MinItems { limit } => format!("at least {limit} items"),
        ValidationErrorKind::MaxItems { limit } => format!("at most {limit} items"),
        ValidationErrorKind::UniqueItems => "unique items".into(),
        _ => error.to_string(),
    }
}

/// Compact JSON, cut to [`SHORT`] characters.
pub(crate) fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= SHORT {
        return text;
    }
    let cut: String = text.chars().take(SHORT - 1).collect();
    format!("{cut}…")
}
