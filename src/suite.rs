//! From paths and choices to the list of cases: shared by the CLI and the
//! `cargo test` target, so both name and run cases the same way.

use crate::agents::Provider;
use crate::diagnostic::Diagnostics;
use crate::inputs::Inputs;
use crate::run::Case;
use crate::scenario::load::load_all_with;
use crate::scenario::model::ServiceDecl;
use crate::scenario::template::SERVICE_FIELDS;
use crate::scenario::{discover, Scenario};
use std::collections::{BTreeMap, BTreeSet};
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

/// The names a suite's scenarios may read besides their own: the
/// variables given from outside and the suite's services'.
pub fn known_names(inputs: &Inputs, services: &[ServiceDecl]) -> BTreeSet<String> {
    let mut names = inputs.names();
    for service in services {
        for field in SERVICE_FIELDS {
            names.insert(format!("services.{}.{field}", service.name));
        }
    }
    names
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

/// One case per (scenario, source), scenario-major: every role of a case
/// on the same source.
pub fn cases(scenarios: &[Arc<Scenario>], sources: &[Arc<dyn Provider>]) -> Vec<Case> {
    cases_in(scenarios, &Matrix::new(sources.to_vec()))
}

/// Roles that take the same source, and the sources they take in turn.
type Dimension<'a> = (Vec<&'a str>, &'a [Arc<dyn Provider>]);

/// Which versions each role of a scenario takes.
pub struct Matrix {
    /// One source per version listed without a role: every role takes each
    /// in turn (or, with `interop`, each varying role independently).
    pub sources: Vec<Arc<dyn Provider>>,
    /// Roles pinned to versions of their own (`--acapy holder=1.3.6,1.7.0`).
    pub pinned: BTreeMap<String, Vec<Arc<dyn Provider>>>,
    /// Roles vary independently: a two-role scenario on three versions
    /// gives nine cases.
    pub interop: bool,
}

impl Matrix {
    pub fn new(sources: Vec<Arc<dyn Provider>>) -> Matrix {
        Matrix {
            sources,
            pinned: BTreeMap::new(),
            interop: false,
        }
    }

    /// The cases of one scenario, in a stable order.
    ///
    /// Without `interop` and pins: one case per source, every role on it.
    /// With `interop`, the varying roles (the scenario's `interop:` list,
    /// else its first two roles) each take every version; the other roles
    /// follow the first varying role. A pinned role takes its own list;
    /// without `interop`, the unpinned roles together take each version.
    pub fn cases_of(&self, scenario: &Arc<Scenario>) -> Vec<Case> {
        let roles: Vec<&str> = scenario.agents.iter().map(|a| a.role.as_str()).collect();
        let pinned = |role: &str| self.pinned.get(role);
        if !self.interop && !roles.iter().any(|r| pinned(r).is_some()) {
            return self
                .sources
                .iter()
                .map(|s| Case::new(scenario.clone(), s.clone()))
                .collect();
        }
        let varying: Vec<&str> = match self.interop {
            false => Vec::new(),
            true if !scenario.interop.is_empty() => {
                scenario.interop.iter().map(String::as_str).collect()
            }
            true => roles.iter().take(2).copied().collect(),
        };
        // Dimensions: the roles that move together, and their choices.
        let mut dimensions: Vec<Dimension> = Vec::new();
        let mut followers = Vec::new();
        for &role in &roles {
            match (pinned(role), varying.contains(&role)) {
                (Some(list), _) => dimensions.push((vec![role], list)),
                (None, true) => dimensions.push((vec![role], &self.sources)),
                (None, false) => followers.push(role),
            }
        }
        if !followers.is_empty() {
            // They follow the first varying role, else take the list together.
            let lead = dimensions
                .iter_mut()
                .find(|(roles, _)| roles.iter().any(|r| varying.contains(r)));
            match lead {
                Some((roles, _)) => roles.extend(followers),
                None => dimensions.push((followers, &self.sources)),
            }
        }
        let mut assignments: Vec<BTreeMap<String, Arc<dyn Provider>>> = vec![BTreeMap::new()];
        for (roles, choices) in &dimensions {
            assignments = assignments
                .into_iter()
                .flat_map(|partial| {
                    choices.iter().map(move |source| {
                        let mut next = partial.clone();
                        for role in roles {
                            next.insert(role.to_string(), source.clone());
                        }
                        next
                    })
                })
                .collect();
        }
        assignments
            .into_iter()
            .map(|sources| Case::with_sources(scenario.clone(), sources))
            .collect()
    }
}

/// Every scenario's cases under `matrix`, scenario-major.
pub fn cases_in(scenarios: &[Arc<Scenario>], matrix: &Matrix) -> Vec<Case> {
    scenarios.iter().flat_map(|s| matrix.cases_of(s)).collect()
}

/// `--acapy` as given: versions for every role, and roles pinned to
/// versions of their own.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Versions {
    pub all: Vec<String>,
    pub pinned: BTreeMap<String, Vec<String>>,
}

impl Versions {
    /// Each item is `V1,V2` (every role) or `ROLE=V1,V2` (one role).
    pub fn parse(items: &[String]) -> anyhow::Result<Versions> {
        let mut versions = Versions::default();
        for item in items {
            let (role, list) = match item.split_once('=') {
                Some((role, list)) => (Some(role.trim()), list),
                None => (None, item.as_str()),
            };
            let list: Vec<String> = list
                .split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(String::from)
                .collect();
            match role {
                None => versions.all.extend(list),
                Some("") => anyhow::bail!("`{item}`: a role goes before `=`"),
                Some(_) if list.is_empty() => anyhow::bail!("`{item}`: no version after `=`"),
                Some(role) => versions.pinned.entry(role.into()).or_default().extend(list),
            }
        }
        Ok(versions)
    }

    /// Every version named, each once, in the order first named.
    pub fn distinct(&self) -> Vec<String> {
        let mut seen = Vec::new();
        for v in self.all.iter().chain(self.pinned.values().flatten()) {
            if !seen.contains(v) {
                seen.push(v.clone());
            }
        }
        seen
    }
}
