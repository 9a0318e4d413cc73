//! What a run is asked to do, from wherever it is said: command-line
//! flags, `ACAPY_HARNESS_*` environment variables, the suite's
//! `acapy-harness.yaml`, built-in defaults.
//!
//! **One rule, for every setting and both front ends: a flag wins over the
//! environment, the environment over the suite's file, the file over the
//! default.** The `cargo test` target has no flags of its own, so its
//! environment comes first. [`Settings`] is one layer (every field
//! optional or empty); [`Settings::over`] puts one layer over another.
//! The table is in `docs/settings.md`.

use crate::agents::preload::AgentStart;
use crate::agents::select::Modes;
use crate::agents::select::ProviderChoice;
use crate::partition::Partition;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// One layer of settings: what one source said, nothing more.
#[derive(Clone, Default)]
pub struct Settings {
    /// Scenario files or folders.
    pub paths: Vec<PathBuf>,
    /// The suite file, when not `acapy-harness.yaml` in the first folder.
    pub config: Option<PathBuf>,
    /// The versions every role takes (`--acapy 1.3.6,1.7.0`).
    pub versions: Vec<String>,
    /// Roles pinned to versions of their own (`--acapy holder=0.12.8`);
    /// merged by role across layers.
    pub pinned: BTreeMap<String, Vec<String>>,
    /// Versions also run in containers, beside the matrix (the `cargo
    /// test` target's `ACAPY_HARNESS_DOCKER_VERSIONS`).
    pub also_in_containers: Option<Vec<String>>,
    pub interop: Option<bool>,
    pub provider: Option<ProviderChoice>,
    pub image: Option<String>,
    /// `ROLE=URL` and `ROLE=KEY` of agents that already run.
    pub agent_urls: Vec<String>,
    pub agent_keys: Vec<String>,
    /// `NAME=URL` of services that already run: not started, used there.
    pub service_urls: Vec<String>,
    pub agent_mode: Option<Modes>,
    /// How process agents start: forked from a preloaded interpreter, or
    /// `aca-py start`.
    pub agent_start: Option<AgentStart>,
    /// Only cases whose name contains one of these.
    pub filters: Vec<String>,
    pub tags: Vec<String>,
    pub skip_tags: Vec<String>,
    pub partition: Option<Partition>,
    /// Exchanges against each agent's API document: off, warn, strict.
    pub contract: Option<crate::contract::ContractMode>,
    /// Count the operations each version received, and say which were not.
    pub coverage: Option<bool>,
    pub jobs: Option<usize>,
    pub retries: Option<u32>,
    /// Variables from outside: `NAME=VALUE` items (merged by name across
    /// layers), a YAML file under them, secrets.
    pub vars: Vec<String>,
    pub vars_file: Option<PathBuf>,
    pub secrets: Vec<String>,
    pub reports: ReportSettings,
}

/// Never prints a value: secrets and keys are among them.
impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("paths", &self.paths)
            .field("versions", &self.versions)
            .field("pinned", &self.pinned)
            .field("provider", &self.provider)
            .field("agent_mode", &self.agent_mode)
            .field("agent_start", &self.agent_start)
            .finish_non_exhaustive()
    }
}

/// Where the run's reports go.
#[derive(Debug, Clone, Default)]
pub struct ReportSettings {
    pub junit: Option<PathBuf>,
    pub json: Option<PathBuf>,
    pub markdown: Option<PathBuf>,
    pub html: Option<PathBuf>,
    /// Folders of failing cases' requests, events and logs.
    pub artifacts: Option<PathBuf>,
    /// Every report at once, under its usual name: `junit.xml`,
    /// `report.json`, `matrix.md`, `report.html`, `artifacts/`.
    pub dir: Option<PathBuf>,
}

/// Why a setting could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{source_name}: {message}")]
pub struct SettingsError {
    /// The flag, variable or file that said it.
    pub source_name: String,
    pub message: String,
}

impl Settings {
    /// `self` over `under`: each field from `self` where it says something.
    pub fn over(self, under: Settings) -> Settings {
        fn list<T>(a: Vec<T>, b: Vec<T>) -> Vec<T> {
            if a.is_empty() {
                b
            } else {
                a
            }
        }
        let mut pinned = under.pinned;
        pinned.extend(self.pinned);
        // Variables merge by name: the later item wins where they meet.
        fn merged(under: Vec<String>, over: Vec<String>) -> Vec<String> {
            under.into_iter().chain(over).collect()
        }
        Settings {
            paths: list(self.paths, under.paths),
            config: self.config.or(under.config),
            versions: list(self.versions, under.versions),
            pinned,
            also_in_containers: self.also_in_containers.or(under.also_in_containers),
            interop: self.interop.or(under.interop),
            provider: self.provider.or(under.provider),
            image: self.image.or(under.image),
            // Agents merge by role, as variables do by name.
            agent_urls: merged(under.agent_urls, self.agent_urls),
            agent_keys: merged(under.agent_keys, self.agent_keys),
            service_urls: merged(under.service_urls, self.service_urls),
            agent_mode: self.agent_mode.or(under.agent_mode),
            agent_start: self.agent_start.or(under.agent_start),
            filters: list(self.filters, under.filters),
            tags: list(self.tags, under.tags),
            skip_tags: list(self.skip_tags, under.skip_tags),
            partition: self.partition.or(under.partition),
            contract: self.contract.or(under.contract),
            coverage: self.coverage.or(under.coverage),
            jobs: self.jobs.or(under.jobs),
            retries: self.retries.or(under.retries),
            vars: merged(under.vars, self.vars),
            vars_file: self.vars_file.or(under.vars_file),
            secrets: merged(under.secrets, self.secrets),
            reports: ReportSettings {
                junit: self.reports.junit.or(under.reports.junit),
                json: self.reports.json.or(under.reports.json),
                markdown: self.reports.markdown.or(under.reports.markdown),
                html: self.reports.html.or(under.reports.html),
                artifacts: self.reports.artifacts.or(under.reports.artifacts),
                dir: self.reports.dir.or(under.reports.dir),
            },
        }
    }

    /// Adds `--acapy` items: `V1,V2` (every role) or `ROLE=V1,V2`.
    pub fn add_versions(&mut self, items: &[String]) -> Result<(), String> {
        let parsed = crate::suite::Versions::parse(items).map_err(|e| e.to_string())?;
        self.versions.extend(parsed.all);
        for (role, list) in parsed.pinned {
            self.pinned.entry(role).or_default().extend(list);
        }
        Ok(())
    }

    /// The `ACAPY_HARNESS_*` variables of `env` (see `docs/settings.md`).
    pub fn from_env(
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, SettingsError> {
        let mut settings = Settings::default();
        for (name, value) in env {
            let Some(key) = name.strip_prefix("ACAPY_HARNESS_") else {
                continue;
            };
            let error = |message: String| SettingsError {
                source_name: name.clone(),
                message,
            };
            let list = || -> Vec<String> {
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(str::to_owned)
                    .collect()
            };
            if let Some(var) = key.strip_prefix("VAR_") {
                settings.vars.push(format!("{var}={value}"));
                continue;
            }
            // ACAPY_HARNESS_SERVICE_URL_LEDGER=http://... (`_` for `-`).
            if let Some(service) = key.strip_prefix("SERVICE_URL_") {
                let name = service.to_ascii_lowercase().replace('_', "-");
                settings
                    .service_urls
                    .push(format!("{name}={}", value.trim()));
                continue;
            }
            if let Some(var) = key.strip_prefix("SECRET_") {
                settings.secrets.push(format!("{var}={value}"));
                continue;
            }
            match key {
                "VERSIONS" => settings.versions = list(),
                "DOCKER_VERSIONS" => settings.also_in_containers = Some(list()),
                // `holder=1.3.6,1.7.0`, `;` between roles.
                "ROLE_VERSIONS" => {
                    let items: Vec<String> = value
                        .split(';')
                        .filter(|p| !p.trim().is_empty())
                        .map(str::to_owned)
                        .collect();
                    settings.add_versions(&items).map_err(error)?;
                }
                "VARS_FILE" if !value.trim().is_empty() => {
                    settings.vars_file = Some(PathBuf::from(value.trim()))
                }
                "INTEROP" => settings.interop = Some(matches!(value.trim(), "1" | "true")),
                "COVERAGE" => settings.coverage = Some(matches!(value.trim(), "1" | "true")),
                "CONTRACT" => {
                    settings.contract =
                        Some(crate::contract::ContractMode::parse(&value).ok_or_else(|| {
                            error(format!("`{value}` is not off, warn or strict"))
                        })?)
                }
                "PROVIDER" => {
                    settings.provider = Some(ProviderChoice::parse(&value).ok_or_else(|| {
                        error(format!(
                            "`{value}` is not auto, process, docker or external"
                        ))
                    })?)
                }
                "AGENTS" => {
                    settings.agent_mode = Some(Modes::parse(&value).ok_or_else(|| {
                        error(format!("`{value}` is not shared, dedicated or both"))
                    })?)
                }
                "AGENT_START" => {
                    settings.agent_start = Some(
                        AgentStart::parse(&value)
                            .ok_or_else(|| error(format!("`{value}` is not preloaded or plain")))?,
                    )
                }
                "TAGS" => settings.tags = list(),
                "SKIP_TAGS" => settings.skip_tags = list(),
                "FILTER" => settings.filters = list(),
                "PARTITION" if !value.trim().is_empty() => {
                    settings.partition = Some(value.parse().map_err(error)?)
                }
                "JOBS" => {
                    settings.jobs = Some(
                        value
                            .trim()
                            .parse()
                            .map_err(|_| error(format!("`{value}` is not a number")))?,
                    )
                }
                "RETRIES" => {
                    settings.retries = Some(
                        value
                            .trim()
                            .parse()
                            .map_err(|_| error(format!("`{value}` is not a number")))?,
                    )
                }
                "REPORT_DIR" if !value.trim().is_empty() => {
                    settings.reports.dir = Some(PathBuf::from(value.trim()))
                }
                "PATHS" => settings.paths = list().into_iter().map(PathBuf::from).collect(),
                "CONFIG" if !value.trim().is_empty() => {
                    settings.config = Some(PathBuf::from(value.trim()))
                }
                _ => {}
            }
        }
        Ok(settings)
    }

    /// The process's own environment.
    pub fn from_process_env() -> Result<Settings, SettingsError> {
        Settings::from_env(
            std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        Settings::from_env(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn service_urls_come_from_the_environment_by_name_and_a_flag_wins_per_name() {
        let from_env = env(&[
            ("ACAPY_HARNESS_SERVICE_URL_LEDGER", " http://10.0.0.5:9000 "),
            ("ACAPY_HARNESS_SERVICE_URL_DID_RESOLVER", "http://r:8080"),
        ])
        .unwrap();
        assert_eq!(
            from_env.service_urls,
            ["ledger=http://10.0.0.5:9000", "did-resolver=http://r:8080"]
        );
        let flags = Settings {
            service_urls: vec!["ledger=http://127.0.0.1:9000".into()],
            ..Settings::default()
        };
        // Merged by name, later wins: the plan reads them in order.
        let merged = flags.over(from_env).service_urls;
        assert_eq!(merged.last().unwrap(), "ledger=http://127.0.0.1:9000");
    }

    #[test]
    fn a_flag_wins_over_the_environment_which_wins_over_the_file() {
        let flags = Settings {
            jobs: Some(4),
            ..Settings::default()
        };
        let environment = env(&[
            ("ACAPY_HARNESS_JOBS", "3"),
            ("ACAPY_HARNESS_RETRIES", "1"),
            ("ACAPY_HARNESS_VERSIONS", "1.3.6,1.7.0"),
        ])
        .unwrap();
        let file = Settings {
            jobs: Some(1),
            retries: Some(0),
            versions: vec!["0.12.8".into()],
            agent_mode: Some(Modes::Dedicated),
            ..Settings::default()
        };
        let settings = flags.over(environment).over(file);
        assert_eq!(settings.jobs, Some(4));
        assert_eq!(settings.retries, Some(1));
        assert_eq!(settings.versions, ["1.3.6", "1.7.0"]);
        assert_eq!(settings.agent_mode, Some(Modes::Dedicated));
    }

    #[test]
    fn the_environment_says_what_is_wrong_and_where() {
        let e = env(&[("ACAPY_HARNESS_AGENTS", "both ways")]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "ACAPY_HARNESS_AGENTS: `both ways` is not shared, dedicated or both"
        );
        let e = env(&[("ACAPY_HARNESS_PARTITION", "4/3")]).unwrap_err();
        assert!(
            e.to_string().starts_with("ACAPY_HARNESS_PARTITION: `4/3`"),
            "{e}"
        );
        let pinned = env(&[
            ("ACAPY_HARNESS_VERSIONS", "1.3.6"),
            ("ACAPY_HARNESS_ROLE_VERSIONS", "holder=0.12.8;issuer=1.7.0"),
            ("ACAPY_HARNESS_DOCKER_VERSIONS", ""),
            ("OTHER", "x"),
        ])
        .unwrap();
        assert_eq!(pinned.versions, ["1.3.6"]);
        assert_eq!(pinned.pinned["holder"], ["0.12.8"]);
        assert_eq!(pinned.pinned["issuer"], ["1.7.0"]);
        assert_eq!(pinned.also_in_containers, Some(Vec::new()));
    }
}
