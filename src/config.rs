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
//! interop: true                # each role on each version: issuer × holder
//! role_versions: { holder: [1.3.6] }   # a role pinned to versions of its own
//! retries: 1                   # a failing case runs again, up to 1 more time
//! agents:                      # for provider: external
//!   issuer: { url: http://127.0.0.1:8021, api_key_env: ISSUER_ADMIN_KEY }
//! ```

use crate::diagnostic::{Diagnostic, SourceFile};
use crate::scenario::discover::CONFIG_FILE;
use crate::scenario::yaml::parse_yaml;
use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `acapy-harness.yaml`: a suite's defaults; command-line flags override them.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The ACA-Py versions to run on: see `--acapy`.
    #[serde(default)]
    pub acapy: Vec<String>,
    /// `process`, `docker`, `auto` or `external`: see `--provider`.
    pub provider: Option<String>,
    /// Images to use instead of the built ones, by version.
    #[serde(default)]
    pub images: BTreeMap<String, String>,
    /// Extra `aca-py start` arguments for every agent.
    #[serde(default)]
    pub agent_args: Vec<String>,
    /// How many cases run at a time: see `--jobs`.
    pub jobs: Option<usize>,
    /// `shared` or `dedicated`: see `--agents`.
    pub agent_mode: Option<String>,
    /// Roles pinned to versions of their own: `{ holder: [1.3.6] }`.
    #[serde(default)]
    pub role_versions: BTreeMap<String, Vec<String>>,
    /// `--interop`: each role takes each version independently.
    pub interop: Option<bool>,
    /// How many times a failing case runs again: see `--retries`.
    pub retries: Option<u32>,
    /// For `provider: external`: the running agents, by role.
    #[serde(default)]
    pub agents: BTreeMap<String, ExternalAgent>,
    /// Where it was read from, for messages.
    #[serde(skip)]
    pub path: Option<PathBuf>,
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
    /// first file), if there is one.
    pub fn find(paths: &[PathBuf]) -> Result<Config, Diagnostic> {
        let Some(first) = paths.first() else {
            return Ok(Config::default());
        };
        let dir = if first.is_dir() {
            first.as_path()
        } else {
            first.parent().unwrap_or(Path::new("."))
        };
        let path = dir.join(CONFIG_FILE);
        if !path.is_file() {
            return Ok(Config::default());
        }
        Config::read(&path)
    }

    pub fn read(path: &Path) -> Result<Config, Diagnostic> {
        let file = SourceFile::read(path)
            .map_err(|e| Diagnostic::new(format!("cannot read `{}`: {e}", path.display()), None))?;
        let mut config: Config = parse_yaml(&file)?;
        config.path = Some(path.to_path_buf());
        Ok(config)
    }
}
