//! JSON Schemas of the files the harness reads, and of the JSON report it
//! writes, generated from the types they are (de)serialized with, so they
//! cannot drift apart: `acapy-harness schema scenario|fixture|config|report`. The copies under
//! `schemas/` are checked to be current by `tests/schema.rs`.
//!
//! A schema checks structure (keys, types); the loader checks the rest
//! (roles, variables, JSONPaths, one action per step). They are draft-07,
//! the newest draft that editors' YAML language servers all read.

use crate::config::Config;
use crate::report::json::JsonReport;
use crate::scenario::raw::{RawFixture, RawScenario};
use schemars::generate::SchemaSettings;
use schemars::transform::RecursiveTransform;
use schemars::Schema;
use serde_json::{json, Value};

/// Which file a schema describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SchemaKind {
    /// A scenario file under `scenarios/`.
    Scenario,
    /// A file of steps to include, under `fixtures/`.
    Fixture,
    /// A suite's `acapy-harness.yaml`.
    Config,
    /// The JSON report `run --report-json` writes.
    Report,
}

/// The schema as pretty-printed JSON, without a trailing newline.
pub fn schema_json(kind: SchemaKind) -> String {
    let settings = SchemaSettings::draft07();
    // The report is written by the harness, not read from YAML.
    let generator = match kind {
        SchemaKind::Report => settings,
        _ => settings.with_transform(RecursiveTransform(admit_plain_scalars_as_text)),
    }
    .into_generator();
    let schema = match kind {
        SchemaKind::Scenario => generator.into_root_schema_for::<RawScenario>(),
        SchemaKind::Fixture => generator.into_root_schema_for::<RawFixture>(),
        SchemaKind::Config => generator.into_root_schema_for::<Config>(),
        SchemaKind::Report => generator.into_root_schema_for::<JsonReport>(),
    };
    serde_json::to_string_pretty(&schema).expect("a schema is JSON")
}

/// The loader takes a plain number or boolean written where text is wanted
/// as its text, exactly as written (`name: 404` is the text `404`, `1.10`
/// stays `1.10`), as compose files and CI workflows do; so the schemas of
/// the files it reads admit them there. Text from a fixed list or of a
/// pattern stays text: the loader would refuse a number there anyway.
fn admit_plain_scalars_as_text(schema: &mut Schema) {
    let fixed = ["enum", "const", "pattern", "format"];
    if fixed.into_iter().any(|k| schema.get(k).is_some()) {
        return;
    }
    // `"string"`, or `["string", "null"]` for an optional one.
    let types = match schema.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(|t| t.as_str().map(str::to_owned))
            .collect(),
        _ => return,
    };
    if !types.iter().any(|t| t == "string") {
        return;
    }
    let scalars = ["string", "number", "boolean"];
    // `null` stays; `integer` goes, as `number` admits it.
    let rest = types
        .iter()
        .map(String::as_str)
        .filter(|t| !scalars.contains(t) && *t != "integer");
    let admitted: Vec<&str> = scalars.into_iter().chain(rest).collect();
    schema.insert("type".into(), json!(admitted));
}
