//! From paths and choices to the list of cases: shared by the CLI and the
//! `cargo test` target, so both name and run cases the same way.

use crate::agents::external::{Endpoint, ExternalProvider};
use crate::agents::process::ProcessProvider;
use crate::agents::version::Release;
use crate::agents::Provider;
use crate::diagnostic::Diagnostics;
use crate::run::Case;
use crate::scenario::{discover, load_all, Scenario};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// Where agents come from for one column of the matrix.
#[derive(Debug, Clone)]
pub enum Target {
    Process(Release),
    Docker {
        release: Release,
        image: Option<String>,
    },
    External(BTreeMap<String, Endpoint>),
}

impl Target {
    /// The part of a case name after the scenario id.
    pub fn label(&self) -> String {
        match self {
            Target::Process(r) => format!("process::{r}"),
            Target::Docker { release, .. } => format!("docker::{release}"),
            Target::External(_) => "external".into(),
        }
    }

    pub fn requested_version(&self) -> Option<String> {
        match self {
            Target::Process(r) | Target::Docker { release: r, .. } => Some(r.to_string()),
            Target::External(_) => None,
        }
    }

    pub fn provider(&self) -> Arc<dyn Provider> {
        match self {
            Target::Process(r) => Arc::new(ProcessProvider::new(r.clone())),
            Target::Docker { release, image } => Arc::new(
                crate::agents::docker::DockerProvider::new(release.clone(), image.clone()),
            ),
            Target::External(endpoints) => Arc::new(ExternalProvider {
                endpoints: endpoints.clone(),
            }),
        }
    }
}

/// Loads every scenario under `paths`; any problem in any file is an error.
pub fn load(paths: &[PathBuf]) -> Result<Vec<Arc<Scenario>>, Diagnostics> {
    load_all(&discover(paths)?)
}

/// One case per (scenario, target), scenario-major.
pub fn cases(scenarios: &[Arc<Scenario>], targets: &[Target]) -> Vec<Case> {
    let providers: Vec<(Arc<dyn Provider>, &Target)> =
        targets.iter().map(|t| (t.provider(), t)).collect();
    scenarios
        .iter()
        .flat_map(|s| {
            providers.iter().map(move |(provider, target)| Case {
                scenario: s.clone(),
                provider: provider.clone(),
                target: target.label(),
                requested_version: target.requested_version(),
            })
        })
        .collect()
}
