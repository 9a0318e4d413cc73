//! `acapy-harness.yaml`: a suite's defaults (versions, provider, images, extra
//! agent flags, jobs), found at the root of the first scenario folder given.
//! Command-line flags override it.
//!
//! ```yaml
//! acapy: [0.12.8, 1.3.6, 1.7.0]
//! provider: process            # process | docker | auto | external
//! images: { 1.7.0: registry.example/acapy:1.7.0-plugins }
//! agent_args: [--log-level, info]
//! jobs: 2
//! agent_mode: shared           # shared | dedicated
//! agent_start: preloaded       # preloaded | plain (process agents)
//! interop: true                # each role on each version: issuer × holder
//! role_versions: { holder: [1.3.6] }   # a role pinned to versions of its own
//! retries: 1                   # a failing case runs again, up to 1 more time
//! agents:                      # for provider: external
//!   issuer: { url: http://127.0.0.1:8021, api_key_env: ISSUER_ADMIN_KEY }
//! services:                    # beside the agents of every scenario
//!   db: { image: acapy-harness/postgres:15, port: 5432 }
//! ```
//!
//! A folder with a config file of its own is a suite of its own (a
//! profile, like `scenarios/cheqd/`): a run of the folder above leaves it out.

use crate::diagnostic::{Diagnostic, Diagnostics, Loc, SourceFile};
use crate::scenario::discover::CONFIG_FILE;
use crate::scenario::load::check_suite_services;
use crate::scenario::model::ServiceDecl;
use crate::scenario::raw::RawService;
use crate::scenario::yaml::{parse_yaml, CoreInteger, SpannedMap};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// `acapy-harness.yaml`: a suite's defaults; command-line flags override them.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The ACA-Py versions to run on: see `--acapy`.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub acapy: Vec<Spanned<String>>,
    /// `process`, `docker`, `auto` or `external`: see `--provider`.
    pub provider: Option<String>,
    /// Images to use instead of the built ones, by version.
    #[serde(default)]
    pub images: BTreeMap<String, String>,
    /// Extra `aca-py start` arguments for every agent.
    #[serde(default)]
    pub agent_args: Vec<String>,
    /// How many cases run at a time: see `--jobs`.
    #[schemars(with = "Option<usize>")]
    pub jobs: Option<Spanned<CoreInteger<usize>>>,
    /// `shared` or `dedicated`: see `--agents`.
    pub agent_mode: Option<String>,
    /// `preloaded` or `plain`: see `--agent-start`.
    pub agent_start: Option<String>,
    /// Roles pinned to versions of their own: `{ holder: [1.3.6] }`.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, Vec<String>>")]
    pub role_versions: BTreeMap<String, Vec<Spanned<String>>>,
    /// `--interop`: each role takes each version independently.
    pub interop: Option<bool>,
    /// How many times a failing case runs again: see `--retries`.
    #[schemars(with = "Option<u32>")]
    pub retries: Option<Spanned<CoreInteger<u32>>>,
    /// For `provider: external`: the running agents, by role.
    #[serde(default)]
    pub agents: BTreeMap<String, ExternalAgent>,
    /// Containers beside the agents of every scenario of the suite, as in a
    /// scenario's `services:` (a scenario's own service of the same name wins).
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, RawService>")]
    pub services: SpannedMap<Spanned<RawService>>,
    /// Checking every exchange against the agent's own API document.
    #[serde(default)]
    pub contract: ContractConfig,
    /// Where it was read from, for messages.
    #[serde(skip)]
    pub path: Option<PathBuf>,
    #[serde(skip)]
    #[schemars(skip)]
    file: Option<Arc<SourceFile>>,
}

/// `contract:` of a suite.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractConfig {
    /// `off`, `warn` or `strict`: see `--contract`.
    pub mode: Option<crate::contract::ContractMode>,
    /// Differences between ACA-Py's documents and its answers that are
    /// known (reported upstream): reported as known, never failing.
    #[serde(default)]
    pub known: Vec<crate::contract::KnownDrift>,
    /// Other suite files (relative to this one) whose `contract.known`
    /// holds here too: one list of drift for several suites.
    #[serde(default)]
    pub known_from: Vec<String>,
}

/// An agent that is already running.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExternalAgent {
    /// Its admin API's URL.
    pub url: String,
    /// The admin API key is read from this environment variable, so it never
    /// sits in the file.
    pub api_key_env: Option<String>,
}

impl Config {
    /// `acapy-harness.yaml` in the first folder of `paths` (or beside the
    /// first file), else in the nearest folder above it, up to the
    /// repository's root: one file of a suite runs with the suite's
    /// settings, as it does in a run of the whole suite.
    pub fn find(paths: &[PathBuf]) -> Result<Config, Diagnostic> {
        let Some(first) = paths.first() else {
            return Ok(Config::default());
        };
        let start = if first.is_dir() {
            first.as_path()
        } else {
            first.parent().unwrap_or(Path::new("."))
        };
        let start = match start.as_os_str().is_empty() {
            true => Path::new("."),
            false => start,
        };
        let start = start.canonicalize().unwrap_or_else(|_| start.to_path_buf());
        for dir in start.ancestors() {
            let path = dir.join(CONFIG_FILE);
            if path.is_file() {
                // Read by the name the user gave, for error messages.
                let given = first_relative(first, &start, dir).join(CONFIG_FILE);
                return Config::read(if given.is_file() { &given } else { &path });
            }
            if dir.join(".git").exists() {
                break;
            }
        }
        Ok(Config::default())
    }

    pub fn read(path: &Path) -> Result<Config, Diagnostic> {
        let file = SourceFile::read(path)
            .map_err(|e| Diagnostic::new(format!("cannot read `{}`: {e}", path.display()), None))?;
        Config::from_source(file)
    }

    /// A config whose text is already read (`file.path` is where from):
    /// what [`Config::read`] does after reading, for the fuzz targets.
    pub fn from_source(file: Arc<SourceFile>) -> Result<Config, Diagnostic> {
        let mut config: Config = parse_yaml(&file)?;
        config.check_versions(&file)?;
        config.check_integers(&file)?;
        config.path = Some(file.path.clone());
        config.file = Some(file);
        Ok(config)
    }

    /// Each version of `acapy` and `role_versions` is one the harness can
    /// install, or the file's line and column say which is not. YAML reads
    /// `1.6` as a number; it arrives here as the text written.
    fn check_versions(&self, file: &Arc<SourceFile>) -> Result<(), Diagnostic> {
        let pinned = self.role_versions.values().flatten();
        for version in self.acapy.iter().chain(pinned) {
            if let Err(e) = crate::agents::version::Release::parse(&version.value) {
                let at = &version.referenced;
                let loc = Loc::new(
                    file,
                    at.line() as usize,
                    at.column() as usize,
                    version.value.chars().count(),
                );
                return Err(Diagnostic::at(&loc, e.to_string()));
            }
        }
        Ok(())
    }

    /// `jobs` and `retries` are integers, or the file's line and column say
    /// which is not.
    fn check_integers(&self, file: &Arc<SourceFile>) -> Result<(), Diagnostic> {
        if let Some(jobs) = &self.jobs {
            CoreInteger::check(jobs, file)?;
        }
        if let Some(retries) = &self.retries {
            CoreInteger::check(retries, file)?;
        }
        Ok(())
    }

    /// `jobs`, once checked.
    pub fn jobs(&self) -> Option<usize> {
        self.jobs.as_ref().and_then(|j| j.value.integer())
    }

    /// `retries`, once checked.
    pub fn retries(&self) -> Option<u32> {
        self.retries.as_ref().and_then(|r| r.value.integer())
    }

    /// The versions of `acapy`, as written.
    pub fn versions(&self) -> Vec<String> {
        self.acapy.iter().map(|v| v.value.clone()).collect()
    }

    /// `role_versions`, as written.
    pub fn pinned_versions(&self) -> BTreeMap<String, Vec<String>> {
        self.role_versions
            .iter()
            .map(|(role, versions)| {
                (
                    role.clone(),
                    versions.iter().map(|v| v.value.clone()).collect(),
                )
            })
            .collect()
    }

    /// The suite's known drift, with that of the files in `known_from`.
    /// Taken out of the config: asked once.
    pub fn take_known_drift(&mut self) -> Result<Vec<crate::contract::KnownDrift>, Diagnostic> {
        let mut known = std::mem::take(&mut self.contract.known);
        let here = self
            .path
            .as_deref()
            .and_then(Path::parent)
            .unwrap_or(Path::new("."));
        for other in std::mem::take(&mut self.contract.known_from) {
            let path = here.join(&other);
            let other = Config::read(&path).map_err(|e| {
                Diagnostic::new(
                    format!(
                        "`contract.known_from` of {} names {}, which cannot be read: {}",
                        self.path
                            .as_deref()
                            .unwrap_or(Path::new(CONFIG_FILE))
                            .display(),
                        path.display(),
                        e.message
                    ),
                    None,
                )
            })?;
            known.extend(other.contract.known);
        }
        Ok(known)
    }

    /// The suite's services, checked; they may read the variables named
    /// in `outside`. Taken out of the config: asked once.
    pub fn take_services(
        &mut self,
        outside: &BTreeSet<String>,
    ) -> Result<Vec<ServiceDecl>, Diagnostics> {
        let raw = std::mem::take(&mut self.services);
        match &self.file {
            Some(file) if !raw.0.is_empty() => check_suite_services(file.clone(), raw, outside),
            _ => Ok(Vec::new()),
        }
    }
}

/// `dir` (an ancestor of `start`, the canonical folder of `first`) written
/// relative to the folder the user named: `scenarios/wallet` → `scenarios`.
fn first_relative(first: &Path, start: &Path, dir: &Path) -> PathBuf {
    let given = if first.is_dir() {
        first
    } else {
        first.parent().unwrap_or(Path::new(""))
    };
    let up = start.components().count() - dir.components().count();
    let mut path = given.to_path_buf();
    for _ in 0..up {
        if !path.pop() || path.as_os_str().is_empty() {
            // The user's path has no more parents to name: `..` it is.
            path = given.to_path_buf();
            for _ in 0..up {
                path.push("..");
            }
            return path;
        }
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A repository with a suite file in `scenarios/` and a profile of its own.
    fn repo() -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join(".git")).unwrap();
        for dir in ["scenarios/wallet", "scenarios/cheqd"] {
            std::fs::create_dir_all(root.path().join(dir)).unwrap();
        }
        std::fs::write(root.path().join("scenarios").join(CONFIG_FILE), "jobs: 3\n").unwrap();
        let cheqd = root.path().join("scenarios/cheqd").join(CONFIG_FILE);
        std::fs::write(cheqd, "jobs: 1\n").unwrap();
        root
    }

    #[test]
    fn one_file_of_a_suite_runs_with_the_suites_file_above_it() {
        let root = repo();
        let file = root.path().join("scenarios/wallet/x.yaml");
        let config = Config::find(&[file]).unwrap();
        assert_eq!(config.jobs(), Some(3));
        assert_eq!(
            config.path.unwrap(),
            root.path().join("scenarios").join(CONFIG_FILE)
        );
    }

    #[test]
    fn the_nearest_suite_file_wins_and_none_is_looked_for_above_the_repository() {
        let root = repo();
        let profile = Config::find(&[root.path().join("scenarios/cheqd/y.yaml")]).unwrap();
        assert_eq!(profile.jobs(), Some(1));
        std::fs::write(root.path().join(CONFIG_FILE), "jobs: 9\n").unwrap();
        let inner = root.path().join("inner");
        std::fs::create_dir_all(inner.join(".git")).unwrap();
        let outside = Config::find(&[inner.join("z.yaml")]).unwrap();
        assert_eq!(outside.path, None, "stopped at the repository's root");
    }

    fn from_text(text: &str) -> Result<Config, Diagnostic> {
        Config::from_source(Arc::new(SourceFile {
            path: PathBuf::from("acapy-harness.yaml"),
            text: text.to_owned(),
        }))
    }

    #[test]
    fn a_version_yaml_reads_as_a_number_is_refused_at_its_line_and_column() {
        // `1.10` must not become 1.1, nor `1.6` a version line by accident.
        let e = from_text("jobs: 2\nacapy: [1.3.6, 1.10]\n").unwrap_err();
        let loc = e.loc.expect("a position");
        assert_eq!((loc.line, loc.column, loc.len), (2, 16, 4), "{}", e.message);
        assert!(
            e.message.contains("`1.10` is not an ACA-Py version"),
            "{}",
            e.message
        );
        let e = from_text("role_versions: { holder: [1.6] }\n").unwrap_err();
        assert_eq!(e.loc.map(|l| (l.line, l.column)), Some((1, 27)));
        let fine =
            from_text("acapy: [0.12.8, \"1.7.0\"]\nrole_versions: { holder: [1.3.6] }\n").unwrap();
        assert_eq!(fine.versions(), ["0.12.8", "1.7.0"]);
        assert_eq!(fine.pinned_versions()["holder"], ["1.3.6"]);
    }

    #[test]
    fn fuzz_config_an_integer_in_capital_hex_is_refused_at_its_position() {
        // serde-saphyr read `0XA` as 10 here and as text for the schema.
        let e = from_text("jobs: 0XA\n").unwrap_err();
        let loc = e.loc.expect("a position");
        assert_eq!((loc.line, loc.column), (1, 7), "{}", e.message);
        assert_eq!(e.message, "expected an integer, found the text `0XA`");
        assert!(
            e.notes.iter().any(|n| n.contains("small letter")),
            "{:?}",
            e.notes
        );
        let e = from_text("jobs: 2\nretries: 0B1\n").unwrap_err();
        assert_eq!(e.loc.map(|l| (l.line, l.column)), Some((2, 10)));
        // YAML 1.2's own spellings stay integers.
        let fine = from_text("jobs: 0x10\nretries: 0o7\n").unwrap();
        assert_eq!((fine.jobs(), fine.retries()), (Some(16), Some(7)));
        let e = from_text("jobs: -1\n").unwrap_err();
        assert_eq!(
            e.message,
            "expected an integer, found -1, out of range here"
        );
        let e = from_text("jobs: [2]\n").unwrap_err();
        assert_eq!(e.loc.map(|l| (l.line, l.column)), Some((1, 7)));
    }
}
