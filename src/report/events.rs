//! What a run tells its reporters, in order: it started (with its cases),
//! notices as they come, each case's start, steps and result, and its end.
//! The session emits them; reporters only listen ([`Reporter`]). Results
//! arrive masked: no reporter sees a secret.

use crate::run::outcome::{CaseResult, StepResult};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug)]
pub enum Event<'a> {
    /// Before the first case, after installs: every case of the run.
    RunStarted {
        cases: &'a [String],
        jobs: usize,
    },
    /// Something worth telling that is not a case's result.
    Notice {
        text: &'a str,
    },
    CaseStarted {
        name: &'a str,
    },
    /// A step of a running case ended (1-based `number`).
    StepFinished {
        case: &'a str,
        number: usize,
        step: &'a StepResult,
    },
    CaseFinished {
        result: &'a CaseResult,
    },
    /// Every case's result, in name order; what the run said besides.
    RunFinished {
        results: &'a [CaseResult],
        notices: &'a [String],
        elapsed: Duration,
        /// Cut short by Ctrl-C or a closed output.
        interrupted: bool,
        /// Each version's coverage, when the run was asked for it.
        coverage: Option<&'a [crate::report::coverage::VersionCoverage]>,
    },
}

/// A listener of a run.
pub trait Reporter: Send {
    fn report(&mut self, event: &Event<'_>) -> Result<(), ReportError>;
}

/// A report that could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl ReportError {
    pub fn write(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> ReportError {
        let path = path.into();
        move |source| ReportError::Write { path, source }
    }
}
