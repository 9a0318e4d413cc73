//! Checking a `wait`: its source (events or polling), its conditions and its timing.

use super::Checker;
use crate::diagnostic::{Diagnostic, Loc};
use crate::scenario::model::*;
use crate::scenario::raw::*;
use crate::scenario::template::Template;
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
        let poll = raw.get.is_some();
        let query = self.check_wait_query(&loc, poll, raw.query);
        let (until_status, until) = self.check_conditions(raw.until, poll);
        if until.is_empty() && until_status.is_none() {
            self.error(
                Diagnostic::at(&loc, "a wait needs `until`: what must hold to stop waiting")
                    .note("help: e.g. `until: { $.state: done }`"),
            );
        }
        let (filter_status, filter) = self.check_conditions(raw.where_, poll);
        let (fail_if_status, fail_if) = self.check_conditions(raw.fail_if, poll);
        let timeout = raw
            .timeout
            .and_then(|t| self.duration(&t))
            .unwrap_or(DEFAULT_WAIT_TIMEOUT);
        let interval = raw
            .interval
            .and_then(|t| self.duration(&t))
            .unwrap_or(DEFAULT_POLL_INTERVAL);

        if let Some((WaitSource::Poll { path, .. }, _)) = &source {
            self.variables.read(path);
        }
        query.iter().for_each(|(_, t)| self.variables.read(t));
        for a in filter.iter().chain(&until).chain(&fail_if) {
            self.variables.read_assertion(a);
        }

        let (mut source, name) = source?;
        if let WaitSource::Event { topic } = &source {
            for a in filter.iter().chain(&until).chain(&fail_if) {
                self.check_state_value(topic, a);
            }
        }
        if let WaitSource::Poll { query: q, .. } = &mut source {
            *q = query;
        }
        let wait = Wait {
            source,
            filter,
            until,
            fail_if,
            timeout,
            interval,
            status: PollStatus {
                filter: filter_status,
                until: until_status,
                fail_if: fail_if_status,
            },
        };
        Some((wait, name))
    }

    /// `event: TOPIC` or `get: PATH`, exactly one, with the step's default
    /// name; None once a problem is reported.
    fn check_wait_source(&mut self, loc: &Loc, raw: &RawWait) -> Option<(WaitSource, String)> {
        match (&raw.event, &raw.get) {
            (Some(topic), None) => {
                self.check_topic(topic);
                Some((
                    WaitSource::Event {
                        topic: topic.value.clone(),
                    },
                    format!("wait for a `{}` event", topic.value),
                ))
            }
            (None, Some(path)) => Some((
                WaitSource::Poll {
                    path: self.string_template(path)?,
                    query: Vec::new(),
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

    /// A topic no ACA-Py line sends is worth a warning (not an error: a
    /// plugin may send it), with the topic meant or what to poll instead.
    fn check_topic(&mut self, topic: &Spanned<String>) {
        use crate::scenario::topics::{check, Verdict};
        let loc = self
            .loc(&topic.referenced)
            .shifted(0, topic.value.chars().count());
        let name = topic.value.trim();
        let warning = match check(name, None) {
            Verdict::Sent(_) | Verdict::NotInLine(_) => return,
            Verdict::NeverSent(instead) => {
                Diagnostic::at(&loc, format!("ACA-Py never sends a `{name}` event"))
                    .label("a wait on it times out")
                    .note(format!("help: {instead}"))
            }
            Verdict::Silent(silent) => Diagnostic::at(&loc, format!("no event comes for `{name}`"))
                .label("a wait on it times out")
                .note(format!("note: {}", silent.what))
                .note(format!("help: poll instead: {}", silent.poll)),
            Verdict::Unknown { suggestion } => {
                let mut d =
                    Diagnostic::at(&loc, format!("`{name}` is not an event topic ACA-Py sends"))
                        .label("unless a plugin sends it, a wait on it times out");
                if let Some(meant) = suggestion {
                    d = d.note(format!("help: did you mean `{meant}`?"));
                }
                d.note("note: the topics of each version line are in docs/event-topics.md")
            }
        };
        self.warnings.push(warning);
    }

    /// `$.state` compared with a value the topic's records never take (a
    /// connection is `error`, never `abandoned`): the condition can never
    /// hold, which is worth a warning with the states it does take.
    fn check_state_value(&mut self, topic: &str, assertion: &Assertion) {
        let Some(known) = crate::scenario::topics::lookup(topic.trim()) else {
            return;
        };
        if known.states.is_empty() || assertion.query.text.trim() != "$.state" {
            return;
        }
        for predicate in &assertion.predicates {
            let values: Vec<&Template> = match &predicate.op {
                Op::Equals(v) => vec![v],
                Op::OneOf(vs) => vs.iter().collect(),
                _ => continue,
            };
            for value in values {
                let Template::Literal(serde_json::Value::String(state)) = value else {
                    continue;
                };
                if known.states.contains(&state.as_str()) {
                    continue;
                }
                self.warnings.push(
                    Diagnostic::at(
                        &predicate.loc,
                        format!("`{topic}` events never have the state `{state}`"),
                    )
                    .label("no record behind this topic takes it")
                    .note(format!("note: their states: {}", known.states.join(", ")))
                    .note(format!("note: {}", known.note)),
                );
            }
        }
    }

    /// `where`, `until` or `fail_if`: assertions, and for a poll (`poll`) the
    /// HTTP status asked for.
    fn check_conditions(
        &mut self,
        map: Option<SpannedMap<SpannedNode>>,
        poll: bool,
    ) -> (Option<StatusCheck>, Vec<Assertion>) {
        let Some(map) = map else {
            return (None, Vec::new());
        };
        let key = map.0.iter().find(|(k, _)| k.value == "status");
        let key = key.map(|(k, _)| self.key_loc(k));
        let (status, assertions) = self.assertions(map, true);
        if let (false, Some(loc)) = (poll, key) {
            self.error(
                Diagnostic::at(&loc, "`status` applies to a polled wait only")
                    .label("an event has no HTTP status")
                    .note("help: poll with `get: PATH` to test the answer's status"),
            );
        }
        (status, assertions)
    }

    /// A poll's `query: { name: value }`; an event wait has none.
    fn check_wait_query(
        &mut self,
        loc: &Loc,
        poll: bool,
        query: Option<SpannedMap<SpannedNode>>,
    ) -> Vec<(String, Template)> {
        let Some(query) = query else {
            return Vec::new();
        };
        if !poll {
            let at = query
                .0
                .first()
                .map(|(k, _)| self.key_of(&self.key_loc(k), "query"))
                .unwrap_or_else(|| loc.clone());
            self.error(
                Diagnostic::at(&at, "`query` goes with a polled wait (`get`)")
                    .note("help: an event wait filters with `where`"),
            );
            return Vec::new();
        }
        query
            .0
            .into_iter()
            .filter_map(|(k, v)| Some((k.value, self.template(&v)?)))
            .collect()
    }
}
