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
    let generator = SchemaSettings::draft07().into_generator();
    let schema = match kind {
        SchemaKind::Scenario => generator.into_root_schema_for::<RawScenario>(),
        SchemaKind::Fixture => generator.into_root_schema_for::<RawFixture>(),
        SchemaKind::Config => generator.into_root_schema_for::<Config>(),
        SchemaKind::Report => generator.into_root_schema_for::<JsonReport>(),
    };
    serde_json::to_string_pretty(&schema).expect("a schema is JSON")
}
