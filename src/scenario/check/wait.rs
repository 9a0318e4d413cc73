//! Checking a `wait`: its source (events or polling), its conditions and its timing.

use super::Checker;
use crate::diagnostic::{Diagnostic, Loc};
use crate::scenario::model::*;
use crate::scenario::raw::*;
use crate::scenario::yaml::{SpannedMap, SpannedNode};
use serde_saphyr::Spanned;
use std::time::Duration;

const DEFAULT_WAIT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(20);

impl Checker {
    /// A wait and the step's default name, or None when it has no usable
    /// source (already reported); the rest is checked either way.
    pub(super) fn check_wait(&mut self, raw: Spanned<RawWait>) -> Option<(Wait, String)> {
        let loc = self.loc(&raw.referenced);
        let raw = raw.value;
        let source = self.check_wait_source(&loc, &raw);
        let until = self.check_conditions(raw.until);
        if until.is_empty() {
            self.error(
                Diagnostic::at(&loc, "a wait needs `until`: what must hold to stop waiting")
                    .note("help: e.g. `until: { $.state: done }`"),
            );
        }
        let filter = self.check_conditions(raw.where_);
        let fail_if = self.check_conditions(raw.fail_if);
        let timeout = raw
            .timeout
            .and_then(|t| self.duration(&t))
            .unwrap_or(DEFAULT_WAIT_TIMEOUT);
        let interval = raw
            .interval
            .and_then(|t| self.duration(&t))
            .unwrap_or(DEFAULT_POLL_INTERVAL);

        if let Some((WaitSource::Poll { path }, _)) = &source {
            self.variables.read(path);
        }
        for a in filter.iter().chain(&until).chain(&fail_if) {
            self.variables.read_assertion(a);
        }

        let (source, name) = source?;
        let wait = Wait {
            source,
            filter,
            until,
            fail_if,
            timeout,
            interval,
        };
        Some((wait, name))
    }

    /// `event: TOPIC` or `get: PATH`, exactly one, with the step's default
    /// name; None once a problem is reported.
    fn check_wait_source(&mut self, loc: &Loc, raw: &RawWait) -> Option<(WaitSource, String)> {
        match (&raw.event, &raw.get) {
            (Some(topic), None) => Some((
                WaitSource::Event {
                    topic: topic.value.clone(),
                },
                format!("wait for a `{}` event", topic.value),
            )),
            (None, Some(path)) => Some((
                WaitSource::Poll {
                    path: self.string_template(path)?,
                },
                format!("poll GET {}", path.value),
            )),
            (Some(_), Some(get)) => {
                let l = self.loc(&get.referenced);
                self.error(
                    Diagnostic::at(&l, "a wait has either `event` or `get`, not both")
                        .label("second source"),
                );
                None
            }
            (None, None) => {
                self.error(
                    Diagnostic::at(loc, "a wait needs `event: TOPIC` or `get: PATH`")
                        .note("help: `event` listens on the agent's /ws stream; `get` polls an admin path"),
                );
                None
            }
        }
    }

    /// `where`, `until` or `fail_if`: assertions without `status`.
    fn check_conditions(&mut self, map: Option<SpannedMap<SpannedNode>>) -> Vec<Assertion> {
        map.map(|m| self.assertions(m, false).1).unwrap_or_default()
    }
}
