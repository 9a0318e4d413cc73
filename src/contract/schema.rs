//! Swagger 2.0 schemas as JSON Schema (draft 4), keeping Swagger's meaning.
//!
//! A Swagger 2.0 schema object is a draft-4 schema with a few words of its
//! own. The conversion keeps the draft-4 validation keywords and drops the
//! rest:
//!
//! - `x-nullable: true` admits `null`: added to `type` (and to `enum`), or,
//!   beside a `$ref` or `allOf` where draft 4 cannot add a type, the schema
//!   becomes `anyOf: [null, schema]` marked [`NULLABLE_WRAPPER`] so that
//!   errors inside it are reported as the inner schema's;
//! - `type: file` (an upload or a download, not JSON) constrains nothing;
//! - `format` is dropped: in Swagger it names a representation (`int32`,
//!   `binary`, `url`), and ACA-Py puts its real checks in `pattern`;
//! - `pattern`s are Python regular expressions: one the validator's engine
//!   cannot read is retried with its literal braces escaped (Python reads
//!   `{` that starts no repetition as a brace), else dropped;
//! - `discriminator`, `readOnly`, `xml`, `example`, `externalDocs`,
//!   `description`, `title`, `default` and every `x-*` are annotations.
//!
//! `$ref: '#/definitions/X'` stays as it is: the converted definitions sit
//! under `definitions` in every compiled schema, where draft 4 finds them.

use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, OnceLock};

/// Marks the `anyOf: [{type: null}, S]` made for a nullable `$ref`/`allOf`.
/// Validators ignore unknown keywords; the violation builder reads it.
pub(crate) const NULLABLE_WRAPPER: &str = "x-acapy-harness-nullable";

/// Draft-4 validation keywords copied as they are.
const KEPT: &[&str] = &[
    "$ref",
    "enum",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
];

/// The JSON Schema of one Swagger schema object.
pub fn to_json_schema(swagger: &Value) -> Value {
    let Value::Object(fields) = swagger else {
        // `true`/`false` (additionalProperties) mean the same in both.
        return swagger.clone();
    };
    let mut out = Map::new();
    for (key, value) in fields {
        match key.as_str() {
            "type" if value == "file" => {}
            "type" => {
                out.insert(key.clone(), value.clone());
            }
            "properties" => {
                if let Value::Object(props) = value {
                    let converted = props
                        .iter()
                        .map(|(name, schema)| (name.clone(), to_json_schema(schema)))
                        .collect();
                    out.insert(key.clone(), Value::Object(converted));
                }
            }
            "items" => {
                let converted = match value {
                    Value::Array(items) => Value::Array(items.iter().map(to_json_schema).collect()),
                    other => to_json_schema(other),
                };
                out.insert(key.clone(), converted);
            }
            "additionalProperties" | "not" => {
                out.insert(key.clone(), to_json_schema(value));
            }
            "allOf" | "anyOf" | "oneOf" => {
                if let Value::Array(members) = value {
                    let members = members.iter().map(to_json_schema).collect();
                    out.insert(key.clone(), Value::Array(members));
                }
            }
            // Draft 4 wants at least one name; an empty list requires nothing.
            "required" if value.as_array().is_some_and(|r| !r.is_empty()) => {
                out.insert(key.clone(), value.clone());
            }
            "pattern" => {
                if let Some(pattern) = value.as_str().and_then(usable_pattern) {
                    out.insert(key.clone(), Value::String(pattern));
                }
            }
            k if KEPT.contains(&k) => {
                out.insert(key.clone(), value.clone());
            }
            _ => {}
        }
    }
    if fields.get("x-nullable") == Some(&Value::Bool(true)) {
        return nullable(out);
    }
    Value::Object(out)
}

/// `schema` that also admits `null`.
fn nullable(mut schema: Map<String, Value>) -> Value {
    if let Some(Value::Array(options)) = schema.get_mut("enum") {
        if !options.contains(&Value::Null) {
            options.push(Value::Null);
        }
    }
    // `null` must get past `$ref` (whose siblings draft 4 ignores) and
    // every `allOf` member, so a composed schema is wrapped whole.
    let composed = ["$ref", "allOf", "anyOf", "oneOf", "not"]
        .iter()
        .any(|k| schema.contains_key(*k));
    if composed {
        return serde_json::json!({
            "anyOf": [{"type": "null"}, Value::Object(schema)],
            NULLABLE_WRAPPER: true,
        });
    }
    match schema.get_mut("type") {
        Some(Value::String(one)) => {
            let one = std::mem::take(one);
            schema.insert("type".into(), serde_json::json!([one, "null"]));
        }
        Some(Value::Array(types)) if !types.contains(&Value::from("null")) => {
            types.push(Value::from("null"));
        }
        // No type: it admits `null` already.
        _ => {}
    }
    Value::Object(schema)
}

/// `pattern` as the validator's engine can read it, if it can.
fn usable_pattern(pattern: &str) -> Option<String> {
    static SEEN: OnceLock<Mutex<HashMap<String, Option<String>>>> = OnceLock::new();
    let seen = SEEN.get_or_init(Default::default);
    if let Some(known) = seen.lock().unwrap().get(pattern) {
        return known.clone();
    }
    let compiles = |p: &str| jsonschema::draft4::new(&serde_json::json!({ "pattern": p })).is_ok();
    let usable = if compiles(pattern) {
        Some(pattern.to_owned())
    } else {
        let escaped = escape_literal_braces(pattern);
        compiles(&escaped).then_some(escaped)
    };
    seen.lock()
        .unwrap()
        .insert(pattern.to_owned(), usable.clone());
    usable
}

/// Python reads `{` and `}` as themselves unless they form a repetition
/// (`{2}`, `{2,}`, `{,3}`, `{2,3}`); ECMA-style engines refuse them.
fn escape_literal_braces(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 4);
    let mut in_class = false;
    let mut open_repetition = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                out.push(c);
                if let Some(next) = chars.get(i + 1) {
                    out.push(*next);
                }
                i += 2;
                continue;
            }
            '[' if !in_class => in_class = true,
            ']' if in_class => in_class = false,
            '{' if !in_class => {
                if is_repetition(&chars[i + 1..]) {
                    open_repetition = true;
                } else {
                    out.push('\\');
                }
            }
            '}' if !in_class => {
                if open_repetition {
                    open_repetition = false;
                } else {
                    out.push('\\');
                }
            }
            _ => {}
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Whether the text after a `{` reads `m}`, `m,}`, `,n}` or `m,n}`.
fn is_repetition(rest: &[char]) -> bool {
    let Some(end) = rest.iter().position(|c| *c == '}') else {
        return false;
    };
    let inside: String = rest[..end].iter().collect();
    let mut parts = inside.splitn(2, ',');
    let low = parts.next().unwrap_or_default();
    let high = parts.next();
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    digits(low)
        && high.is_none_or(digits)
        && (!low.is_empty() || high.is_some_and(|h| !h.is_empty()))
}

/// The names of the definitions `schema` refers to, directly or through
/// other definitions.
pub(crate) fn reachable_definitions(
    schema: &Value,
    definitions: &Map<String, Value>,
) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut pending = vec![schema];
    while let Some(node) = pending.pop() {
        match node {
            Value::Object(fields) => {
                if let Some(name) = fields
                    .get("$ref")
                    .and_then(Value::as_str)
                    .and_then(definition_name)
                {
                    if found.insert(name.to_owned()) {
                        if let Some(target) = definitions.get(name) {
                            pending.push(target);
                        }
                    }
                }
                pending.extend(fields.values());
            }
            Value::Array(items) => pending.extend(items),
            _ => {}
        }
    }
    found
}

/// `X` of `#/definitions/X`.
pub(crate) fn definition_name(reference: &str) -> Option<&str> {
    reference.strip_prefix("#/definitions/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn x_nullable_admits_null_beside_a_type_an_enum_and_a_ref() {
        let typed = to_json_schema(&json!({"type": "string", "x-nullable": true}));
        assert_eq!(typed, json!({"type": ["string", "null"]}));
        let listed =
            to_json_schema(&json!({"type": "string", "enum": ["a", "b"], "x-nullable": true}));
        assert_eq!(
            listed,
            json!({"type": ["string", "null"], "enum": ["a", "b", null]})
        );
        let referenced = to_json_schema(&json!({"$ref": "#/definitions/X", "x-nullable": true}));
        assert_eq!(
            referenced,
            json!({"anyOf": [{"type": "null"}, {"$ref": "#/definitions/X"}], NULLABLE_WRAPPER: true})
        );
        let plain = to_json_schema(&json!({"type": "string"}));
        assert_eq!(plain, json!({"type": "string"}));
    }

    #[test]
    fn swagger_only_keywords_and_formats_are_dropped() {
        let swagger = json!({
            "type": "object",
            "discriminator": "kind",
            "xml": {"name": "x"},
            "example": {"type": "not a schema"},
            "x-extra": 1,
            "required": [],
            "properties": {
                "id": {"type": "string", "readOnly": true, "format": "uuid", "description": "d"},
                "upload": {"type": "file"},
            },
        });
        assert_eq!(
            to_json_schema(&swagger),
            json!({"type": "object", "properties": {"id": {"type": "string"}, "upload": {}}})
        );
    }

    #[test]
    fn python_patterns_with_literal_braces_are_escaped_and_kept() {
        assert_eq!(escape_literal_braces("^{.*}$"), "^\\{.*\\}$");
        assert_eq!(escape_literal_braces("^[a-z]{2,3}$"), "^[a-z]{2,3}$");
        assert_eq!(escape_literal_braces("[{}]"), "[{}]");
        assert_eq!(usable_pattern("^{.*}$").as_deref(), Some("^\\{.*\\}$"));
        assert_eq!(usable_pattern("^[0-9]*$").as_deref(), Some("^[0-9]*$"));
        // A validator compiled from the escaped pattern reads braces literally.
        let schema = to_json_schema(&json!({"type": "string", "pattern": "^{.*}$"}));
        let validator = jsonschema::draft4::new(&schema).unwrap();
        assert!(validator.is_valid(&json!("{\"a\": 1}")));
        assert!(!validator.is_valid(&json!("no braces")));
    }

    #[test]
    fn references_are_followed_transitively_and_cycles_end() {
        let definitions = json!({
            "A": {"properties": {"b": {"$ref": "#/definitions/B"}}},
            "B": {"items": {"$ref": "#/definitions/A"}},
            "C": {"type": "string"},
        });
        let found = reachable_definitions(
            &json!({"$ref": "#/definitions/A"}),
            definitions.as_object().unwrap(),
        );
        assert_eq!(found.into_iter().collect::<Vec<_>>(), vec!["A", "B"]);
    }
}
