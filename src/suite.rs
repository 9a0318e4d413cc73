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

/// Which scenarios run by their `tags`: with `tags` given, those with any of
/// them; never those with any of `skip_tags`.
#[derive(Debug, Clone, Default)]
pub struct TagFilter {
    pub tags: Vec<String>,
    pub skip_tags: Vec<String>,
}

impl TagFilter {
    /// From comma-separated lists (the `cargo test` target's environment).
    pub fn from_lists(tags: &str, skip_tags: &str) -> TagFilter {
        let split = |s: &str| {
            s.split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect()
        };
        TagFilter {
            tags: split(tags),
            skip_tags: split(skip_tags),
        }
    }

    pub fn admits(&self, scenario: &Scenario) -> bool {
        let has = |t: &String| scenario.tags.contains(t);
        (self.tags.is_empty() || self.tags.iter().any(has)) && !self.skip_tags.iter().any(has)
    }
}

/// One case per (scenario, source), scenario-major.
pub fn cases(scenarios: &[Arc<Scenario>], sources: &[Arc<dyn Provider>]) -> Vec<Case> {
    scenarios
        .iter()
        .flat_map(|s| sources.iter().map(|p| Case::new(s.clone(), p.clone())))
        .collect()
}
