//! From paths and choices to the list of cases: shared by the CLI and the
//! `cargo test` target, so both name and run cases the same way.

use crate::agents::Provider;
use crate::diagnostic::Diagnostics;
use crate::run::Case;
use crate::scenario::{discover, load_all, Scenario};
use std::path::PathBuf;
use std::sync::Arc;

/// Loads every scenario under `paths`; any problem in any file is an error.
pub fn load(paths: &[PathBuf]) -> Result<Vec<Arc<Scenario>>, Diagnostics> {
    load_all(&discover(paths)?)
}

/// One case per (scenario, source), scenario-major.
pub fn cases(scenarios: &[Arc<Scenario>], sources: &[Arc<dyn Provider>]) -> Vec<Case> {
    scenarios
        .iter()
        .flat_map(|s| sources.iter().map(|p| Case::new(s.clone(), p.clone())))
        .collect()
}
