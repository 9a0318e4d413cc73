//! Loading scenario files: read, parse the YAML, check; keeps `scenario::load::*` paths.

use super::check::check_scenario;
pub use super::check::check_suite_services;
pub use super::discover::{discover, scenario_id, Found, CONFIG_FILE};
use super::model::Scenario;
use super::raw::RawScenario;
pub use super::yaml::parse_yaml;
use crate::diagnostic::{Diagnostic, Diagnostics, SourceFile};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

/// Loads every scenario found; all files' problems are returned together.
pub fn load_all(found: &[Found]) -> Result<Vec<Arc<Scenario>>, Diagnostics> {
    load_all_with(found, &BTreeSet::new())
}

/// [`load_all`], with the names of the variables given from outside (they
/// count as set).
pub fn load_all_with(
    found: &[Found],
    outside: &BTreeSet<String>,
) -> Result<Vec<Arc<Scenario>>, Diagnostics> {
    let mut scenarios = Vec::new();
    let mut errors = Vec::new();
    for f in found {
        match load_with(f, outside) {
            Ok(s) => scenarios.push(Arc::new(s)),
            Err(Diagnostics(mut d)) => errors.append(&mut d),
        }
    }
    if errors.is_empty() {
        Ok(scenarios)
    } else {
        Err(Diagnostics(errors))
    }
}

pub fn load(found: &Found) -> Result<Scenario, Diagnostics> {
    load_with(found, &BTreeSet::new())
}

/// [`load`], with the names of the variables given from outside.
pub fn load_with(found: &Found, outside: &BTreeSet<String>) -> Result<Scenario, Diagnostics> {
    let bytes = std::fs::read(&found.file).map_err(|e| cannot_read(&found.file, e))?;
    load_bytes(&found.file, &bytes, scenario_id(found), outside)
}

/// Parses and checks the bytes of a scenario file read from `path`: what
/// [`load_with`] does after reading, for bytes from elsewhere (the fuzz
/// targets of `tests/fuzz/`). Includes are read relative to `path`.
pub fn load_bytes(
    path: &Path,
    bytes: &[u8],
    id: String,
    outside: &BTreeSet<String>,
) -> Result<Scenario, Diagnostics> {
    let text = String::from_utf8(bytes.to_vec()).map_err(|_| {
        let e = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        );
        cannot_read(path, e)
    })?;
    let file = Arc::new(SourceFile {
        path: path.to_path_buf(),
        text,
    });
    let raw: RawScenario = parse_yaml(&file).map_err(|d| Diagnostics(vec![d]))?;
    check_scenario(file, id, raw, outside)
}

fn cannot_read(path: &Path, e: std::io::Error) -> Diagnostics {
    Diagnostics(vec![Diagnostic::new(
        format!("cannot read `{}`: {e}", path.display()),
        None,
    )])
}
