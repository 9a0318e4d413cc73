//! ACA-Py version → PyPI package → Python interpreter → official image.
//! Each line of ACA-Py was checked by installing it from PyPI: see
//! `docs/providers.md` for the table and what needs which Python.

use crate::version::Version;
use std::path::{Path, PathBuf};

/// The version used when none is asked for: the 1.3 LTS line.
pub const DEFAULT_VERSION: &str = "1.3.6";

/// An ACA-Py release, as the harness installs it: a [`Version`] of a line
/// it supports (0.12 and later).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Release {
    pub version: Version,
}

impl Release {
    pub fn parse(text: &str) -> anyhow::Result<Release> {
        let version = Version::parse(text).map_err(|_| {
            anyhow::anyhow!("`{text}` is not an ACA-Py version like 1.3.6 or 1.4.0rc1")
        })?;
        if version.line() < (0, 12) {
            anyhow::bail!(
                "ACA-Py {version} is older than 0.12, which acapy-harness does not support"
            );
        }
        Ok(Release { version })
    }

    /// The pip requirement that installs this version. Up to 1.0,
    /// `aries-cloudagent` has askar, anoncreds, indy-credx and indy-vdr as
    /// its `askar` extra, and without them the agent fails at start
    /// (`import anoncreds`); `acapy-agent` (1.1 and later) depends on them.
    pub fn requirement(&self) -> String {
        match self.version.line() {
            (0, _) | (1, 0) => format!("aries-cloudagent[askar]=={self}"),
            _ => format!("acapy-agent=={self}"),
        }
    }

    /// Python minor versions that run it, best first.
    pub fn pythons(&self) -> &'static [&'static str] {
        match self.version.line() {
            (0, _) => &["3.11", "3.10", "3.9"],
            (1, 0..=4) => &["3.12", "3.13"],
            _ => &["3.13"],
        }
    }

    /// The official image, for users who can pull: each line where ACA-Py
    /// published it, tagged `pyPYTHON-VERSION` (pre-releases too, as
    /// `py3.13-1.6.2rc0`):
    ///
    /// - 0.12.x: `ghcr.io/hyperledger/aries-cloudagent-python:py3.9-0.12.x`;
    /// - 1.0.x: `ghcr.io/hyperledger/aries-cloudagent-python:py3.12-1.0.x`
    ///   (before the move to the OpenWallet Foundation);
    /// - 1.1 and later: `ghcr.io/openwallet-foundation/acapy-agent:py3.12-…`
    ///   up to 1.4, `py3.13-…` from 1.5.
    pub fn official_image(&self) -> String {
        match self.version.line() {
            (0, _) => format!("ghcr.io/hyperledger/aries-cloudagent-python:py3.9-{self}"),
            (1, 0) => format!("ghcr.io/hyperledger/aries-cloudagent-python:py3.12-{self}"),
            _ => {
                let py = self.pythons()[0];
                format!("ghcr.io/openwallet-foundation/acapy-agent:py{py}-{self}")
            }
        }
    }

    /// The image `docker/build-image.sh` builds offline.
    pub fn local_image(&self) -> String {
        format!("acapy-harness/acapy-agent:{self}")
    }
}

/// In the PEP 440 spelling: `1.3.6`, `1.4.0rc1`.
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
    }

    /// The requirement of the latest patch of each line (docs/providers.md):
    /// each installs an agent that starts. 1.0.x without `[askar]` did not.
    #[test]
    fn every_line_carries_the_extras_it_needs() {
        for (version, requirement) in [
            ("0.12.8", "aries-cloudagent[askar]==0.12.8"),
            ("1.0.1", "aries-cloudagent[askar]==1.0.1"),
            ("1.0.0", "aries-cloudagent[askar]==1.0.0"),
            ("1.1.1", "acapy-agent==1.1.1"),
            ("1.2.7", "acapy-agent==1.2.7"),
            ("1.3.6", "acapy-agent==1.3.6"),
            ("1.4.0", "acapy-agent==1.4.0"),
            ("1.5.1", "acapy-agent==1.5.1"),
            ("1.6.2", "acapy-agent==1.6.2"),
            ("1.7.0", "acapy-agent==1.7.0"),
            ("1.0.0rc1", "aries-cloudagent[askar]==1.0.0rc1"),
        ] {
            assert_eq!(
                Release::parse(version).unwrap().requirement(),
                requirement,
                "{version}"
            );
        }
    }

    #[test]
    fn rejects_what_is_not_a_version() {
        for bad in [
            "latest",
            "0.11.0",
            "1.3",
            "1.3.6.1",
            "1.4.0.dev1",
            "1.4.0.post1",
            "1.4.0rcx",
            "1.4.0+local",
        ] {
            assert!(Release::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn release_candidates_in_pep_440_spelling() {
        let rc = Release::parse("1.4.0rc1").unwrap();
        assert_eq!(rc.to_string(), "1.4.0rc1");
        assert_eq!(rc.requirement(), "acapy-agent==1.4.0rc1");
        assert_eq!(
            rc.official_image(),
            "ghcr.io/openwallet-foundation/acapy-agent:py3.12-1.4.0rc1"
        );
        assert_eq!(rc.local_image(), "acapy-harness/acapy-agent:1.4.0rc1");
        for same in [
            "1.4.0-rc1",
            "1.4.0.rc1",
            "1.4.0-rc.1",
            "1.4.0RC1",
            "1.4.0c1",
            "v1.4.0rc1",
        ] {
            assert_eq!(Release::parse(same).unwrap(), rc, "{same}");
        }
        assert_eq!(Release::parse("1.6.2rc").unwrap().to_string(), "1.6.2rc0");
        assert_eq!(Release::parse("1.0.0b2").unwrap().to_string(), "1.0.0b2");
        assert_eq!(Release::parse("1.0.0beta2").unwrap().to_string(), "1.0.0b2");
        assert_eq!(
            Release::parse("0.12.0rc2").unwrap().requirement(),
            "aries-cloudagent[askar]==0.12.0rc2"
        );
    }

    #[test]
    fn official_images_per_line() {
        let image = |v: &str| Release::parse(v).unwrap().official_image();
        assert_eq!(
            image("0.12.8"),
            "ghcr.io/hyperledger/aries-cloudagent-python:py3.9-0.12.8"
        );
        assert_eq!(
            image("1.0.1"),
            "ghcr.io/hyperledger/aries-cloudagent-python:py3.12-1.0.1"
        );
        assert_eq!(
            image("1.2.4"),
            "ghcr.io/openwallet-foundation/acapy-agent:py3.12-1.2.4"
        );
        assert_eq!(
            image("1.6.2rc0"),
            "ghcr.io/openwallet-foundation/acapy-agent:py3.13-1.6.2rc0"
        );
    }
}
