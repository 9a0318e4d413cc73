//! From paths and choices to the list of cases: shared by the CLI and the
//! `cargo test` target, so both name and run cases the same way.

use crate::agents::Provider;
use crate::diagnostic::Diagnostics;
use crate::run::Case;
use crate::scenario::load::load_all_with;
use crate::scenario::{discover, Scenario};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

/// Loads every scenario under `paths`; any problem in any file is an error.
pub fn load(paths: &[PathBuf]) -> Result<Vec<Arc<Scenario>>, Diagnostics> {
    load_with(paths, &BTreeSet::new())
}

/// [`load`], with the names of the variables given from outside.
pub fn load_with(
    paths: &[PathBuf],
    outside: &BTreeSet<String>,
) -> Result<Vec<Arc<Scenario>>, Diagnostics> {
    load_all_with(&discover(paths)?, outside)
}

/// One case per (scenario, source), scenario-major.
pub fn cases(scenarios: &[Arc<Scenario>], sources: &[Arc<dyn Provider>]) -> Vec<Case> {
    scenarios
        .iter()
        .flat_map(|s| sources.iter().map(|p| Case::new(s.clone(), p.clone())))
        .collect()
}
