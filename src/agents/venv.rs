//! ACA-Py installed from PyPI into a venv the harness creates and caches
//! per version (`~/.cache/acapy-harness/venvs/acapy-VERSION`).

use super::version::{find_python, Release};
use super::Notices;
use anyhow::{bail, Context};
use std::path::PathBuf;
use std::time::Instant;

/// Where venvs are kept: `$ACAPY_HARNESS_CACHE`, else the user cache folder.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("ACAPY_HARNESS_CACHE")
        .map(PathBuf::from)
        .or_else(|| dirs::cache_dir().map(|d| d.join("acapy-harness")))
        .unwrap_or_else(|| std::env::temp_dir().join("acapy-harness-cache"))
}

/// The cached venv of one ACA-Py release.
#[derive(Debug, Clone)]
pub struct Venv {
    release: Release,
    cache: PathBuf,
}

impl Venv {
    pub fn new(release: Release) -> Venv {
        Venv {
            release,
            cache: cache_dir(),
        }
    }

    /// The venv of `release` in another cache folder.
    pub fn in_cache(release: Release, cache: PathBuf) -> Venv {
        Venv { release, cache }
    }

    pub fn path(&self) -> PathBuf {
        self.cache
            .join("venvs")
            .join(format!("acapy-{}", self.release))
    }

    pub fn aca_py(&self) -> PathBuf {
        self.path().join("bin/aca-py")
    }

    /// Creates the venv once; concurrent harnesses wait on a file lock.
    /// Blocking: call it from `spawn_blocking`.
    pub fn ensure(&self, notices: &Notices) -> anyhow::Result<()> {
        let venv = self.path();
        let ready = venv.join(".acapy-harness-ready");
        let requirement = self.release.requirement();
        if installed(&ready, &requirement) {
            return Ok(());
        }
        let parent = venv.parent().expect("venv has a parent");
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create the cache folder {}", parent.display()))?;
        let lock_path = parent.join(format!("acapy-{}.lock", self.release));
        let lock = std::fs::File::create(&lock_path)
            .with_context(|| format!("cannot create {}", lock_path.display()))?;
        lock.lock().context("cannot lock the venv cache")?;
        if installed(&ready, &requirement) {
            return Ok(());
        }
        let python = find_python(self.release.pythons()).map_err(|e| {
            anyhow::anyhow!(
                "ACA-Py {} needs Python {}: {e}",
                self.release,
                self.release.pythons().join(" or ")
            )
        })?;
        notices.say(format!(
            "installing ACA-Py {} ({requirement}) with {} into {} (first use, about a minute)",
            self.release,
            python.display(),
            venv.display()
        ));
        let started = Instant::now();
        let _ = std::fs::remove_dir_all(&venv);
        let step = |n: usize, what: &str| {
            notices.say(format!(
                "  [{n}/3 at {:.0}s] {what}",
                started.elapsed().as_secs_f64()
            ))
        };
        step(1, "creating the venv");
        run(std::process::Command::new(&python)
            .arg("-m")
            .arg("venv")
            .arg(&venv))?;
        // pip's own output is kept for the error, should it fail.
        step(2, &format!("pip install {requirement}"));
        run(std::process::Command::new(venv.join("bin/pip")).args([
            "install",
            "--disable-pip-version-check",
            "--quiet",
            &requirement,
        ]))
        .with_context(|| format!("pip could not install {requirement}"))?;
        step(3, "checking that aca-py starts");
        let out = std::process::Command::new(self.aca_py())
            .arg("--version")
            .output()
            .context("cannot run aca-py --version")?;
        let reported = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if !out.status.success() {
            bail!(
                "the installed aca-py does not start: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::fs::write(&ready, format!("{requirement}\n{reported}\n"))?;
        notices.say(format!(
            "installed ACA-Py {reported} in {:.0}s",
            started.elapsed().as_secs_f64()
        ));
        Ok(())
    }
}

/// Whether the marker says `requirement` was installed. A marker of an
/// older harness holds only the version `aca-py --version` printed: it
/// stands, but for `aries-cloudagent` 1.0, whose requirement then lacked
/// the `askar` extra (such a venv fails at `import anoncreds`).
fn installed(ready: &std::path::Path, requirement: &str) -> bool {
    let Ok(marker) = std::fs::read_to_string(ready) else {
        return false;
    };
    match marker.lines().next() {
        Some(first) if first.contains("==") => first == requirement,
        _ => !requirement.starts_with("aries-cloudagent[askar]==1.0"),
    }
}

fn run(cmd: &mut std::process::Command) -> anyhow::Result<()> {
    let out = cmd
        .output()
        .with_context(|| format!("cannot run {:?}", cmd.get_program()))?;
    if !out.status.success() {
        bail!(
            "{:?} failed ({}):\n{}{}",
            cmd,
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::installed;

    #[test]
    fn a_venv_made_for_another_requirement_is_made_again() {
        let dir = tempfile::tempdir().unwrap();
        let ready = dir.path().join(".acapy-harness-ready");
        assert!(!installed(&ready, "acapy-agent==1.3.6"));
        std::fs::write(&ready, "acapy-agent==1.3.6\n1.3.6\n").unwrap();
        assert!(installed(&ready, "acapy-agent==1.3.6"));
        assert!(!installed(&ready, "acapy-agent[extra]==1.3.6"));
        // Markers of older harnesses: the version alone.
        std::fs::write(&ready, "1.3.6").unwrap();
        assert!(installed(&ready, "acapy-agent==1.3.6"));
        std::fs::write(&ready, "aca-py 0.12.8").unwrap();
        assert!(installed(&ready, "aries-cloudagent[askar]==0.12.8"));
        // 1.0 was installed without its askar extra then.
        std::fs::write(&ready, "1.0.1").unwrap();
        assert!(!installed(&ready, "aries-cloudagent[askar]==1.0.1"));
    }
}
