//! Finding scenario files under the paths given, and naming each by its path.

use crate::diagnostic::{Diagnostic, Diagnostics};
use std::path::{Path, PathBuf};

/// The file name a suite's settings live in; never read as a scenario.
pub const CONFIG_FILE: &str = "acapy-harness.yaml";

/// A scenario file found under one of the paths given, with the folder its id
/// is relative to.
#[derive(Debug, Clone)]
pub struct Found {
    pub root: PathBuf,
    pub file: PathBuf,
}

/// Every `*.yaml` / `*.yml` scenario under `paths` (files are taken as they
/// are), leaving out folders below them that have a config of their own.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<Found>, Diagnostics> {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut files = Vec::new();
            walk(path, &mut files);
            files.sort();
            found.extend(files.into_iter().map(|file| Found {
                root: path.clone(),
                file,
            }));
        } else if path.is_file() {
            found.push(Found {
                root: path.parent().map(Path::to_path_buf).unwrap_or_default(),
                file: path.clone(),
            });
        } else {
            errors.push(Diagnostic::new(
                format!("no scenario file or folder at `{}`", path.display()),
                None,
            ));
        }
    }
    if errors.is_empty() {
        Ok(found)
    } else {
        Err(Diagnostics(errors))
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        // A folder with a config of its own is another suite (a profile).
        if path.is_dir() && !path.join(CONFIG_FILE).is_file() {
            walk(&path, out);
        } else if is_scenario_file(&path) {
            out.push(path);
        }
    }
}

fn is_scenario_file(path: &Path) -> bool {
    let yaml = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    );
    yaml && path.file_name().and_then(|n| n.to_str()) != Some(CONFIG_FILE)
}

/// The path below the suite root without extension: `issue-credential-v2/seed-flow`.
pub fn scenario_id(found: &Found) -> String {
    let relative = found.file.strip_prefix(&found.root).unwrap_or(&found.file);
    let without_ext = relative.with_extension("");
    without_ext
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}
