//! The JSON Schemas of `acapy-harness schema`: the copies under `schemas/`
//! are current, every scenario and fixture of the library validates against
//! them, and they reject the structural errors among `tests/broken/`.
//!
//! `BLESS=1 cargo test --test schema` rewrites `schemas/`.

use acapy_harness::schema::{schema_json, SchemaKind};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const KINDS: [(SchemaKind, &str); 4] = [
    (SchemaKind::Scenario, "scenario"),
    (SchemaKind::Fixture, "fixture"),
    (SchemaKind::Config, "config"),
    (SchemaKind::Report, "report"),
];

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn validator(kind: SchemaKind) -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(&schema_json(kind)).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

/// The YAML file as JSON, or why it is not YAML.
fn read_yaml(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).unwrap();
    serde_saphyr::from_str::<Value>(&text).map_err(|e| e.to_string())
}

/// The schema's complaints about the file, one a line.
fn errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("at `{}`: {e}", e.instance_path()))
        .collect()
}

/// Every `*.yaml` under `dir`, sorted.
fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// `schemas/KIND.schema.json` is what `acapy-harness schema KIND` prints,
/// so CI fails when a loader type changes and the schema is not regenerated.
#[test]
fn committed_schemas_are_current() {
    let bless = std::env::var_os("BLESS").is_some();
    let mut stale = Vec::new();
    for (_, name) in KINDS {
        let out = Command::new(env!("CARGO_BIN_EXE_acapy-harness"))
            .args(["schema", name])
            .output()
            .unwrap();
        assert!(out.status.success(), "schema {name}: {:?}", out);
        let printed = String::from_utf8(out.stdout).unwrap();
        let path = manifest_dir().join(format!("schemas/{name}.schema.json"));
        if bless {
            std::fs::write(&path, &printed).unwrap();
            continue;
        }
        if std::fs::read_to_string(&path).ok().as_deref() != Some(printed.as_str()) {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "out of date (BLESS=1 cargo test --test schema rewrites them): {stale:?}"
    );
}

/// Every scenario (and the suite's `acapy-harness.yaml`) and every fixture
/// of the library validates against its schema; a `yaml-language-server`
/// comment names the right schema file.
#[test]
fn library_files_validate_against_the_schemas() {
    let scenario = validator(SchemaKind::Scenario);
    let fixture = validator(SchemaKind::Fixture);
    let config = validator(SchemaKind::Config);
    let mut files = yaml_files(&manifest_dir().join("scenarios"));
    files.extend(yaml_files(&manifest_dir().join("fixtures")));
    let mut failures = Vec::new();
    let mut counts = [0; 3];
    for path in &files {
        let relative = path.strip_prefix(manifest_dir()).unwrap();
        let (validator, kind) = if path.file_name().unwrap() == "acapy-harness.yaml" {
            (&config, 2)
        } else if relative.starts_with("fixtures") {
            (&fixture, 1)
        } else {
            (&scenario, 0)
        };
        counts[kind] += 1;
        let instance = read_yaml(path).unwrap();
        for error in errors(validator, &instance) {
            failures.push(format!("{}: {error}", relative.display()));
        }
        let text = std::fs::read_to_string(path).unwrap();
        if let Some(schema) = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# yaml-language-server: $schema="))
        {
            let expected = format!("{}.schema.json", KINDS[kind].1);
            let named = path.parent().unwrap().join(schema.trim());
            if !named.is_file() || !schema.trim().ends_with(&expected) {
                failures.push(format!(
                    "{}: `$schema={schema}` is not schemas/{expected}",
                    relative.display()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        counts[0] >= 20 && counts[1] >= 3,
        "library missing: {counts:?}"
    );
}

/// The schema rejects the structural errors among `tests/broken/` (unknown
/// keys, wrong types, a mode that is not one) and only those: the others (unknown roles, variables,
/// JSONPaths, two actions in a step) are the loader's to find.
#[test]
fn schema_rejects_the_structural_errors_in_tests_broken() {
    let scenario = validator(SchemaKind::Scenario);
    let mut rejected = Vec::new();
    for path in yaml_files(&manifest_dir().join("tests/broken")) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Ok(instance) = read_yaml(&path) else {
            assert_eq!(name, "malformed-yaml.yaml", "not YAML");
            continue;
        };
        if !errors(&scenario, &instance).is_empty() {
            rejected.push(name);
        }
    }
    assert_eq!(
        rejected,
        [
            "port-in-capital-hex.yaml",
            "unknown-key.yaml",
            "wrong-type.yaml",
            "xfail-unknown-step.yaml"
        ]
    );
}
