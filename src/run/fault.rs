//! What went wrong while a case ran, as the runner builds it: a diagnostic
//! pointing into the scenario, what was expected and what came, the
//! response. When the case ends it is frozen into the [`Failure`] every
//! report reads ([`Fault::freeze`]).

use super::outcome::{Failure, ServiceLog};
use crate::admin::Exchange;
use crate::diagnostic::{Diagnostic, Loc};

/// A failure while it is being built.
#[derive(Debug, Clone)]
pub struct Fault {
    /// 1-based step number and name, when a step failed.
    pub step: Option<(usize, String)>,
    pub agent: Option<String>,
    /// The message, where in the file, and the notes under it.
    pub diagnostic: Diagnostic,
    pub expected: Option<String>,
    pub actual: Option<String>,
    /// The response the failing step got (or the event it last saw).
    pub response: Option<Exchange>,
    /// The failing agent's recent events, one line each.
    pub recent_events: Vec<String>,
    /// The failing agent's log tail, and whose log it is when it is not
    /// the agent's own.
    pub log_tail: Option<String>,
    pub log_owner: Option<String>,
    /// The last lines of each service's log, by name.
    pub service_logs: Vec<(String, String)>,
}

impl Fault {
    pub fn new(message: impl Into<String>) -> Fault {
        Fault::from(Diagnostic::new(message, None))
    }

    pub fn at(mut self, loc: &Loc) -> Fault {
        self.diagnostic.loc = Some(loc.clone());
        self
    }

    /// Text beside the underline.
    pub fn label(mut self, label: impl Into<String>) -> Fault {
        self.diagnostic.label = label.into();
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Fault {
        self.diagnostic.notes.push(note.into());
        self
    }

    pub fn expected(mut self, expected: impl Into<String>) -> Fault {
        self.expected = Some(expected.into());
        self
    }

    pub fn actual(mut self, actual: impl Into<String>) -> Fault {
        self.actual = Some(actual.into());
        self
    }

    pub fn response(mut self, response: Option<Exchange>) -> Fault {
        self.response = response;
        self
    }

    pub fn message(&self) -> &str {
        &self.diagnostic.message
    }

    /// The failure as reports see it: the case's context (`case`: which
    /// scenario ran where) before the fault's own notes, the step, what
    /// was expected and what came, rendered once.
    pub fn freeze(self, case: String) -> Failure {
        let mut diagnostic = self.diagnostic;
        let mut notes = vec![case];
        if let Some((number, name)) = &self.step {
            let agent = self
                .agent
                .as_ref()
                .map(|a| format!(" on {a}"))
                .unwrap_or_default();
            notes.push(format!("step {number}: `{name}`{agent}"));
        }
        if let Some(expected) = &self.expected {
            notes.push(format!("expected: {expected}"));
        }
        if let Some(actual) = &self.actual {
            notes.push(format!("actual:   {actual}"));
        }
        notes.append(&mut diagnostic.notes);
        diagnostic.notes = notes;
        Failure {
            step: self.step.as_ref().map(|(n, _)| *n),
            step_name: self.step.map(|(_, name)| name),
            agent: self.agent,
            message: diagnostic.message.clone(),
            location: diagnostic.loc.as_ref().map(Loc::to_string),
            line: diagnostic.loc.as_ref().map(|l| l.line),
            expected: self.expected,
            actual: self.actual,
            diagnostic: diagnostic.render("failure"),
            response: self.response,
            recent_events: self.recent_events,
            log_tail: self.log_tail,
            log_owner: self.log_owner,
            service_logs: self
                .service_logs
                .into_iter()
                .map(|(name, tail)| ServiceLog { name, tail })
                .collect(),
        }
    }
}

impl From<Diagnostic> for Fault {
    fn from(diagnostic: Diagnostic) -> Fault {
        Fault {
            step: None,
            agent: None,
            diagnostic,
            expected: None,
            actual: None,
            response: None,
            recent_events: Vec::new(),
            log_tail: None,
            log_owner: None,
            service_logs: Vec::new(),
        }
    }
}
