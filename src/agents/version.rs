//! ACA-Py version → PyPI package → Python interpreter → official image.
//! Each line of ACA-Py was checked by installing it from PyPI: see
//! `docs/providers.md` for the table and what needs which Python.

use std::path::{Path, PathBuf};

/// The version used when none is asked for: the 1.3 LTS line.
pub const DEFAULT_VERSION: &str = "1.3.6";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub version: semver::Version,
}

impl Release {
    pub fn parse(text: &str) -> anyhow::Result<Release> {
        let version = semver::Version::parse(text.trim())
            .map_err(|e| anyhow::anyhow!("`{text}` is not an ACA-Py version like 1.3.6 ({e})"))?;
        if version.major == 0 && version.minor < 12 {
            anyhow::bail!(
                "ACA-Py {version} is older than 0.12, which acapy-harness does not support"
            );
        }
        Ok(Release { version })
    }

    /// The pip requirement that installs this version.
    pub fn requirement(&self) -> String {
        let v = &self.version;
        if v.major == 0 {
            // Without the askar extra, 0.12 fails at start: `import anoncreds`.
            format!("aries-cloudagent[askar]=={v}")
        } else if v.major == 1 && v.minor == 0 {
            format!("aries-cloudagent=={v}")
        } else {
            format!("acapy-agent=={v}")
        }
    }

    /// Python minor versions that run it, best first.
    pub fn pythons(&self) -> &'static [&'static str] {
        let v = &self.version;
        match (v.major, v.minor) {
            (0, _) => &["3.11", "3.10", "3.9"],
            (1, 0..=4) => &["3.12", "3.13"],
            _ => &["3.13"],
        }
    }

    /// The official image, for users who can pull.
    pub fn official_image(&self) -> String {
        let v = &self.version;
        if v.major == 0 {
            format!("ghcr.io/hyperledger/aries-cloudagent-python:py3.9-{v}")
        } else {
            let py = self.pythons()[0];
            format!("ghcr.io/openwallet-foundation/acapy-agent:py{py}-{v}")
        }
    }

    /// The image `docker/build-image.sh` builds offline.
    pub fn local_image(&self) -> String {
        format!("acapy-harness/acapy-agent:{}", self.version)
    }
}

impl std::fmt::Display for Release {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.version.fmt(f)
    }
}

/// Finds a `pythonX.Y` for the first of `minors` that exists: on PATH, then
/// under pyenv's versions folder.
pub fn find_python(minors: &[&str]) -> Result<PathBuf, String> {
    let pyenv_root = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| dirs::home_dir().map(|h| h.join(".pyenv")));
    let mut looked = Vec::new();
    for minor in minors {
        let name = format!("python{minor}");
        // pyenv's shims are on PATH but fail for versions not selected: try it.
        if let Some(path) = on_path(&name).filter(|p| runs_as(p, minor)) {
            return Ok(path);
        }
        looked.push(format!("`{name}` on PATH"));
        if let Some(root) = &pyenv_root {
            let versions = root.join("versions");
            let mut candidates: Vec<PathBuf> = std::fs::read_dir(&versions)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n == *minor || n.starts_with(&format!("{minor}.")))
                })
                .map(|p| p.join("bin/python"))
                .filter(|p| p.is_file())
                .collect();
            candidates.sort();
            if let Some(best) = candidates.into_iter().rev().find(|p| runs_as(p, minor)) {
                return Ok(best);
            }
            looked.push(format!("{}/{minor}.*", versions.display()));
        }
    }
    Err(format!(
        "no Python {} found (looked for {})",
        minors.join(" or "),
        looked.join(", ")
    ))
}

/// Whether `python` starts and is version `minor` (e.g. "3.12").
fn runs_as(python: &Path, minor: &str) -> bool {
    std::process::Command::new(python)
        .args(["-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
        .output()
        .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).trim() == minor)
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_versions_to_packages_and_pythons() {
        let old = Release::parse("0.12.8").unwrap();
        assert_eq!(old.requirement(), "aries-cloudagent[askar]==0.12.8");
        assert_eq!(old.pythons()[0], "3.11");
        let lts = Release::parse("1.3.6").unwrap();
        assert_eq!(lts.requirement(), "acapy-agent==1.3.6");
        assert_eq!(lts.pythons(), &["3.12", "3.13"]);
        assert_eq!(
            lts.official_image(),
            "ghcr.io/openwallet-foundation/acapy-agent:py3.12-1.3.6"
        );
        let new = Release::parse("1.7.0").unwrap();
        assert_eq!(new.pythons(), &["3.13"]);
        assert_eq!(
            new.official_image(),
            "ghcr.io/openwallet-foundation/acapy-agent:py3.13-1.7.0"
        );
        assert_eq!(
            Release::parse("1.0.1").unwrap().requirement(),
            "aries-cloudagent==1.0.1"
        );
    }

    #[test]
    fn rejects_what_is_not_a_version() {
        assert!(Release::parse("latest").is_err());
        assert!(Release::parse("0.11.0").is_err());
    }
}
