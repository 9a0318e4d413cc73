//! One agent's admin API description (Swagger 2.0) read into operations.
//!
//! ACA-Py builds the document at start from its routes (aiohttp-apispec),
//! so it describes exactly the routes that agent serves, plugins included.
//! Plain `serde_json::Value` navigation reads it: the Swagger 2.0 crates
//! either model OpenAPI 3 only or drop the `x-*` keywords this needs.

use super::schema;
use jsonschema::Validator;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex};

/// The methods a Swagger 2.0 path item can hold.
const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch"];

/// An operation's name: method and path template, `GET /connections/{conn_id}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct OperationId {
    /// Upper case: `GET`.
    pub method: String,
    /// As the document spells it: `/connections/{conn_id}`.
    pub path: String,
}

impl OperationId {
    pub fn new(method: &str, path: &str) -> OperationId {
        OperationId {
            method: method.to_ascii_uppercase(),
            path: path.to_owned(),
        }
    }
}

impl fmt::Display for OperationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// One segment of a path template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    Literal(String),
    /// `{conn_id}`: any one non-empty segment.
    Param(String),
}

/// A parameter other than the body: path, query, header or form.
#[derive(Debug, Clone, Serialize)]
pub struct Parameter {
    pub name: String,
    /// `path`, `query`, `header`, `formData`.
    pub location: String,
    pub required: bool,
    /// The Swagger type (`string`, `integer`, `boolean`, `array`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ty: Option<String>,
}

/// One method on one path, as the document describes it.
#[derive(Debug, Clone)]
pub struct Operation {
    pub id: OperationId,
    pub tags: Vec<String>,
    pub summary: Option<String>,
    pub deprecated: bool,
    pub parameters: Vec<Parameter>,
    /// The `in: body` parameter's schema (Swagger form, `$ref`s unresolved).
    pub body: Option<Value>,
    pub body_required: bool,
    /// Status (`"200"`, `"default"`) to its schema, when it has one.
    pub responses: BTreeMap<String, Option<Value>>,
    /// Media types the answer may have; empty means the document's default.
    pub produces: Vec<String>,
    pub(crate) segments: Vec<Segment>,
    /// Where the body schema sits in the document (a JSON pointer).
    pub(crate) body_location: Option<String>,
}

impl Operation {
    /// Whether the document describes answers with this status (or has a
    /// `default` answer). ACA-Py documents 200/201 only, so its error
    /// answers are undocumented.
    pub fn is_documented_status(&self, status: u16) -> bool {
        self.responses.contains_key(&status.to_string()) || self.responses.contains_key("default")
    }

    /// The schema of the answer with `status`, if the document gives one.
    pub fn response_schema(&self, status: u16) -> Option<&Value> {
        self.responses
            .get(&status.to_string())
            .or_else(|| self.responses.get("default"))
            .and_then(Option::as_ref)
    }

    /// Whether answers are JSON: a download (`application/octet-stream`)
    /// has nothing to validate.
    pub fn answers_json(&self) -> bool {
        self.produces.is_empty() || self.produces.iter().any(|p| p.contains("json"))
    }

    /// Whether `path` (no query) is an instance of this operation's template,
    /// and how literal the match is: one flag per segment, literal first.
    pub(crate) fn match_path(&self, path: &[&str]) -> Option<Vec<bool>> {
        if path.len() != self.segments.len() {
            return None;
        }
        self.segments
            .iter()
            .zip(path)
            .map(|(segment, concrete)| match segment {
                Segment::Literal(text) => (text == concrete).then_some(true),
                Segment::Param(_) => (!concrete.is_empty()).then_some(false),
            })
            .collect()
    }

    /// `#/paths/~1connections~1{conn_id}/get/responses/200/schema`.
    pub(crate) fn response_location(&self, status: &str) -> String {
        format!(
            "#/paths/{}/{}/responses/{}/schema",
            escape_pointer(&self.id.path),
            self.id.method.to_ascii_lowercase(),
            escape_pointer(status)
        )
    }
}

/// Why a document could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("the API description is not JSON: {0}")]
    NotJson(#[from] serde_json::Error),
    #[error("the API description is not Swagger 2.0 (it says {found})")]
    NotSwagger2 { found: String },
    #[error("the API description has no `paths`")]
    NoPaths,
}

/// An agent's admin API: its operations and their schemas.
pub struct ApiDocument {
    /// `info.version` without its `v`: `1.3.6`.
    pub version: String,
    operations: Vec<Operation>,
    /// As the document has them (the diff reads these).
    pub(crate) definitions: Map<String, Value>,
    /// As JSON Schema (the validators read these).
    pub(crate) json_definitions: Map<String, Value>,
    pub(crate) compiled: CompiledCache,
}

impl fmt::Debug for ApiDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiDocument")
            .field("version", &self.version)
            .field("operations", &self.operations.len())
            .finish_non_exhaustive()
    }
}

impl ApiDocument {
    pub fn from_slice(bytes: &[u8]) -> Result<ApiDocument, DocumentError> {
        ApiDocument::from_value(&serde_json::from_slice(bytes)?)
    }

    pub fn from_value(document: &Value) -> Result<ApiDocument, DocumentError> {
        match document.get("swagger").and_then(Value::as_str) {
            Some("2.0") => {}
            other => {
                let found = match (other, document.get("openapi")) {
                    (Some(v), _) => format!("swagger: {v}"),
                    (None, Some(v)) => format!("openapi: {v}"),
                    (None, None) => "neither `swagger` nor `openapi`".to_owned(),
                };
                return Err(DocumentError::NotSwagger2 { found });
            }
        }
        let paths = document
            .get("paths")
            .and_then(Value::as_object)
            .ok_or(DocumentError::NoPaths)?;
        let default_produces = strings(document.get("produces"));
        let mut operations = Vec::new();
        for (path, item) in paths {
            let shared = item.get("parameters");
            for method in METHODS {
                if let Some(operation) = item.get(*method) {
                    operations.push(read_operation(
                        path,
                        method,
                        operation,
                        shared,
                        &default_produces,
                    ));
                }
            }
        }
        operations.sort_by(|a, b| a.id.cmp(&b.id));
        let definitions = document
            .get("definitions")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let json_definitions = definitions
            .iter()
            .map(|(name, schema)| (name.clone(), schema::to_json_schema(schema)))
            .collect();
        let version = document
            .pointer("/info/version")
            .and_then(Value::as_str)
            .unwrap_or("unknown");
        Ok(ApiDocument {
            version: version.strip_prefix('v').unwrap_or(version).to_owned(),
            operations,
            definitions,
            json_definitions,
            compiled: CompiledCache::default(),
        })
    }

    /// Every operation, sorted by path then method.
    pub fn operations(&self) -> &[Operation] {
        &self.operations
    }

    /// The operation with exactly this method and template.
    pub fn operation(&self, method: &str, template: &str) -> Option<&Operation> {
        self.operations
            .iter()
            .find(|o| o.id.method.eq_ignore_ascii_case(method) && o.id.path == template)
    }

    /// A definition as the document has it (`ConnRecord`).
    pub fn definition(&self, name: &str) -> Option<&Value> {
        self.definitions.get(name)
    }
}

fn read_operation(
    path: &str,
    method: &str,
    operation: &Value,
    shared: Option<&Value>,
    default_produces: &[String],
) -> Operation {
    let mut parameters = Vec::new();
    let mut body = None;
    let mut body_required = false;
    let mut body_location = None;
    // The operation's own parameters override the path item's of the same name.
    let own = operation.get("parameters").and_then(Value::as_array);
    let inherited = shared.and_then(Value::as_array);
    let own_location = |i: usize| {
        format!(
            "#/paths/{}/{method}/parameters/{i}/schema",
            escape_pointer(path)
        )
    };
    let shared_location =
        |i: usize| format!("#/paths/{}/parameters/{i}/schema", escape_pointer(path));
    let mut seen = Vec::new();
    let listed = own
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, p)| (p, own_location(i)))
        .chain(
            inherited
                .into_iter()
                .flatten()
                .enumerate()
                .map(|(i, p)| (p, shared_location(i))),
        );
    for (parameter, location) in listed {
        let name = parameter
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let place = parameter
            .get("in")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if seen.contains(&(name, place)) {
            continue;
        }
        seen.push((name, place));
        let required = parameter.get("required") == Some(&Value::Bool(true));
        if place == "body" {
            body = parameter.get("schema").cloned();
            body_required = required;
            body_location = Some(location);
            continue;
        }
        parameters.push(Parameter {
            name: name.to_owned(),
            location: place.to_owned(),
            required,
            ty: parameter
                .get("type")
                .and_then(Value::as_str)
                .map(str::to_owned),
        });
    }
    let responses = operation
        .get("responses")
        .and_then(Value::as_object)
        .map(|responses| {
            responses
                .iter()
                .map(|(status, response)| (status.clone(), response.get("schema").cloned()))
                .collect()
        })
        .unwrap_or_default();
    let produces = match operation.get("produces") {
        Some(listed) => strings(Some(listed)),
        None => default_produces.to_vec(),
    };
    Operation {
        id: OperationId::new(method, path),
        tags: strings(operation.get("tags")),
        summary: operation
            .get("summary")
            .and_then(Value::as_str)
            .map(str::to_owned),
        deprecated: operation.get("deprecated") == Some(&Value::Bool(true)),
        parameters,
        body,
        body_required,
        responses,
        produces,
        segments: template_segments(path),
        body_location,
    }
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn template_segments(path: &str) -> Vec<Segment> {
    split_path(path)
        .into_iter()
        .map(
            |segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => Segment::Param(name.to_owned()),
                None => Segment::Literal(segment.to_owned()),
            },
        )
        .collect()
}

/// The segments of a path, without its query and its trailing slash; a
/// whole URL (`http://127.0.0.1:8021/status`, as an `Exchange` keeps it)
/// counts from its path.
pub(crate) fn split_path(path: &str) -> Vec<&str> {
    let path = strip_origin(path);
    let path = path.split(['?', '#']).next().unwrap_or_default();
    path.trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect()
}

/// RFC 6901: `~` as `~0`, `/` as `~1`.
pub(crate) fn escape_pointer(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// `/status` of `http://127.0.0.1:8021/status`; a path stays as it is.
pub(crate) fn strip_origin(url: &str) -> &str {
    match url.split_once("://") {
        Some((scheme, rest)) if !scheme.contains('/') => {
            rest.find('/').map(|i| &rest[i..]).unwrap_or("/")
        }
        _ => url,
    }
}

/// Which body broke the contract.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// What the scenario sent.
    Request,
    /// What the agent answered.
    Response,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Request => "request",
            Side::Response => "response",
        })
    }
}

/// What is compiled for one schema of one operation.
pub(crate) struct Compiled {
    pub(crate) validator: Validator,
    /// The converted root schema, to tell wrappers from real `anyOf`s.
    pub(crate) root: Value,
    /// Where the root sits in the Swagger document.
    pub(crate) location: String,
}

#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct Target {
    pub(crate) operation: OperationId,
    pub(crate) side: Side,
    pub(crate) status: String,
}

/// Validators compiled so far, per (operation, side, status).
#[derive(Default)]
pub(crate) struct CompiledCache {
    pub(crate) compiled: Mutex<HashMap<Target, Arc<Compiled>>>,
}
