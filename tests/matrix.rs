//! From versions and roles to cases, without starting anything: `--interop`,
//! pinned roles, the scenario's `interop:` list, and case names.
//!
//! `cargo test --test matrix`

use acapy_harness::agents::{Agent, AgentSpec, Provider, ProviderError, Reach, Scope};
use acapy_harness::scenario::load::{load, Found};
use acapy_harness::suite::{cases_in, Matrix, Versions};
use acapy_harness::version::Version;
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A source that names a version and starts nothing.
struct Named(&'static str);

#[async_trait]
impl Provider for Named {
    fn kind(&self) -> &'static str {
        "process"
    }
    fn label(&self) -> String {
        format!("process::{}", self.0)
    }
    fn reach(&self) -> Reach {
        Reach::Loopback
    }
    fn requested_version(&self) -> Option<Version> {
        Version::parse(self.0).ok()
    }
    async fn start(&self, _: &[AgentSpec], _: &Scope) -> Result<Vec<Agent>, ProviderError> {
        Err(anyhow::anyhow!("never started in these tests").into())
    }
}

fn sources(versions: &[&'static str]) -> Vec<Arc<dyn Provider>> {
    versions
        .iter()
        .map(|v| Arc::new(Named(v)) as Arc<dyn Provider>)
        .collect()
}

fn scenario(dir: &tempfile::TempDir, name: &str, roles: &[&str], interop: &str) -> Found {
    let agents: Vec<String> = roles.iter().map(|r| format!("  {r}: {{}}")).collect();
    let text = format!(
        "name: {name}\n{interop}agents:\n{}\nsteps:\n  - {{ agent: {}, get: /status }}\n",
        agents.join("\n"),
        roles[0]
    );
    let file = dir.path().join(format!("{name}.yaml"));
    std::fs::write(&file, text).unwrap();
    Found {
        root: dir.path().to_path_buf(),
        file,
    }
}

fn names(matrix: &Matrix, found: &Found) -> Vec<String> {
    let scenario = Arc::new(load(found).unwrap_or_else(|e| panic!("{e}")));
    cases_in(&[scenario], matrix)
        .iter()
        .map(|c| c.name().split_once("::").unwrap().1.to_owned())
        .collect()
}

#[test]
fn without_interop_every_role_takes_each_version_together() {
    let dir = tempfile::tempdir().unwrap();
    let found = scenario(&dir, "two", &["issuer", "holder"], "");
    let matrix = Matrix::new(sources(&["0.12.8", "1.7.0"]));
    assert_eq!(
        names(&matrix, &found),
        ["process::0.12.8", "process::1.7.0"]
    );
}

#[test]
fn interop_pairs_every_version_of_one_role_with_every_version_of_the_other() {
    let dir = tempfile::tempdir().unwrap();
    let found = scenario(&dir, "two", &["issuer", "holder"], "");
    let matrix = Matrix {
        interop: true,
        ..Matrix::new(sources(&["0.12.8", "1.3.6", "1.7.0"]))
    };
    let names = names(&matrix, &found);
    assert_eq!(names.len(), 9);
    assert!(names.contains(&"process::issuer=0.12.8,holder=1.7.0".to_owned()));
    assert!(names.contains(&"process::issuer=1.7.0,holder=0.12.8".to_owned()));
    // Where both roles share a version, the name is as without --interop.
    assert!(names.contains(&"process::1.3.6".to_owned()));
    let distinct: std::collections::BTreeSet<_> = names.iter().collect();
    assert_eq!(distinct.len(), 9, "{names:?}");
}

#[test]
fn three_roles_vary_two_and_the_third_follows_the_first_unless_the_scenario_says() {
    let dir = tempfile::tempdir().unwrap();
    let matrix = Matrix {
        interop: true,
        ..Matrix::new(sources(&["1.3.6", "1.7.0"]))
    };
    let default = scenario(&dir, "three", &["issuer", "holder", "mediator"], "");
    let names3 = names(&matrix, &default);
    assert_eq!(names3.len(), 4, "{names3:?}");
    assert!(names3.contains(&"process::issuer=1.7.0,holder=1.3.6,mediator=1.7.0".to_owned()));

    let chosen = scenario(
        &dir,
        "chosen",
        &["issuer", "holder", "mediator"],
        "interop: [holder, mediator]\n",
    );
    let names = names(&matrix, &chosen);
    assert_eq!(names.len(), 4, "{names:?}");
    // The issuer follows the first varying role, the holder.
    assert!(names.contains(&"process::issuer=1.3.6,holder=1.3.6,mediator=1.7.0".to_owned()));
}

#[test]
fn a_pinned_role_takes_its_own_versions() {
    let dir = tempfile::tempdir().unwrap();
    let found = scenario(&dir, "two", &["issuer", "holder"], "");
    let pinned = sources(&["0.12.8"]);
    let matrix = Matrix {
        pinned: BTreeMap::from([("holder".to_owned(), pinned)]),
        ..Matrix::new(sources(&["1.3.6", "1.7.0"]))
    };
    assert_eq!(
        names(&matrix, &found),
        [
            "process::issuer=1.3.6,holder=0.12.8",
            "process::issuer=1.7.0,holder=0.12.8"
        ]
    );
    // A scenario without that role is unaffected.
    let solo = scenario(&dir, "solo", &["issuer"], "");
    assert_eq!(names(&matrix, &solo), ["process::1.3.6", "process::1.7.0"]);
}

#[test]
fn versions_parse_lists_and_pinned_roles() {
    let items = ["1.3.6,1.7.0".to_owned(), "holder=0.12.8, 1.3.6".to_owned()];
    let versions = Versions::parse(&items).unwrap();
    assert_eq!(versions.all, ["1.3.6", "1.7.0"]);
    assert_eq!(versions.pinned["holder"], ["0.12.8", "1.3.6"]);
    assert_eq!(versions.distinct(), ["1.3.6", "1.7.0", "0.12.8"]);
    assert!(Versions::parse(&["=1.3.6".to_owned()]).is_err());
    assert!(Versions::parse(&["holder=".to_owned()]).is_err());
}
