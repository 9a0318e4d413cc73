//! The reports written to files, as a listener of the run: JUnit, JSON,
//! Markdown and HTML once it ends, the artifacts of failing cases, and,
//! for runs split into a process per case (nextest), each case's own JSON
//! report as it ends, for `report merge`.

use super::coverage::VersionCoverage;
use super::events::{Event, ReportError, Reporter};
use crate::run::outcome::CaseResult;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where each report goes; `None` for the ones not asked for.
#[derive(Debug, Clone, Default)]
pub struct ReportFiles {
    pub junit: Option<PathBuf>,
    pub json: Option<PathBuf>,
    pub markdown: Option<PathBuf>,
    pub html: Option<PathBuf>,
    pub artifacts: Option<PathBuf>,
    /// Each case's JSON report as `parts/CASE.json` in this folder, as the
    /// case ends (a retry overwrites it).
    pub parts: Option<PathBuf>,
}

impl ReportFiles {
    /// Every report under its usual name in `dir`: `junit.xml`,
    /// `report.json`, `matrix.md`, `report.html`, `artifacts/`.
    pub fn in_dir(dir: &Path) -> ReportFiles {
        ReportFiles {
            junit: Some(dir.join("junit.xml")),
            json: Some(dir.join("report.json")),
            markdown: Some(dir.join("matrix.md")),
            html: Some(dir.join("report.html")),
            artifacts: Some(dir.join("artifacts")),
            parts: None,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.junit.is_none()
            && self.json.is_none()
            && self.markdown.is_none()
            && self.html.is_none()
            && self.artifacts.is_none()
            && self.parts.is_none()
    }

    /// Writes every report asked for of `results`; the first error names
    /// its file.
    pub fn write(
        &self,
        results: &[CaseResult],
        notices: &[String],
        elapsed: Duration,
        coverage: Option<&[VersionCoverage]>,
    ) -> Result<(), ReportError> {
        for path in [&self.junit, &self.json, &self.markdown, &self.html]
            .into_iter()
            .flatten()
        {
            create_parent(path)?;
        }
        if let Some(path) = &self.junit {
            super::junit::write(results, "acapy-harness", path)
                .map_err(ReportError::write(path))?;
        }
        if let Some(path) = &self.json {
            super::json::write(results, elapsed, notices, coverage, path)
                .map_err(ReportError::write(path))?;
        }
        if let Some(path) = &self.markdown {
            super::markdown::write(results, elapsed, coverage, path)
                .map_err(ReportError::write(path))?;
        }
        if let Some(path) = &self.html {
            super::html::write(results, notices, elapsed, coverage, path)
                .map_err(ReportError::write(path))?;
        }
        if let Some(dir) = &self.artifacts {
            for result in results.iter().filter(|r| r.status.is_failure()) {
                super::artifacts::write(dir, result).map_err(ReportError::write(dir))?;
            }
        }
        Ok(())
    }

    fn write_part(&self, parts: &Path, result: &CaseResult) -> Result<(), ReportError> {
        std::fs::create_dir_all(parts).map_err(ReportError::write(parts))?;
        let file = parts.join(format!("{}.json", super::names::sanitize(&result.name)));
        super::json::write(
            std::slice::from_ref(result),
            result.duration,
            &[],
            None,
            &file,
        )
        .map_err(ReportError::write(&file))?;
        if let Some(dir) = &self.artifacts {
            if result.status.is_failure() {
                super::artifacts::write(dir, result).map_err(ReportError::write(dir))?;
            }
        }
        Ok(())
    }
}

fn create_parent(path: &Path) -> Result<(), ReportError> {
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) => std::fs::create_dir_all(parent).map_err(ReportError::write(parent)),
        None => Ok(()),
    }
}

impl Reporter for ReportFiles {
    fn report(&mut self, event: &Event<'_>) -> Result<(), ReportError> {
        match event {
            Event::CaseFinished { result } => match &self.parts {
                Some(parts) => self.write_part(&parts.clone(), result),
                None => Ok(()),
            },
            // A run in parts writes only its parts.
            Event::RunFinished { .. } if self.parts.is_some() => Ok(()),
            Event::RunFinished {
                results,
                notices,
                elapsed,
                coverage,
                ..
            } => self.write(results, notices, *elapsed, *coverage),
            _ => Ok(()),
        }
    }
}
