//! Every `${var}` must have a value by the time its step runs: set by `vars`,
//! a built-in, `with`, or a capture in an earlier step (or, in `expect`, the
//! same step's capture).

use super::Checker;
use crate::diagnostic::Diagnostic;
use crate::scenario::model::*;
use crate::scenario::template::Template;
use std::collections::BTreeSet;

/// Variables every scenario has without capturing them.
pub const BUILTIN_VARS: &[&str] = &["run_id"];

impl Checker {
    /// Every `${var}` must be set by `vars`, a built-in, or an earlier capture.
    pub(super) fn check_variables(&mut self, scenario: &Scenario) {
        let mut defined: BTreeSet<String> = BUILTIN_VARS.iter().map(|s| s.to_string()).collect();
        defined.extend(scenario.vars.iter().map(|(n, _)| n.clone()));
        let mut problems = Vec::new();
        let check = |t: &Template, defined: &BTreeSet<String>, problems: &mut Vec<Diagnostic>| {
            for v in t.vars() {
                if !defined.contains(&v.name) {
                    let mut known: Vec<&str> = defined.iter().map(String::as_str).collect();
                    known.retain(|k| !BUILTIN_VARS.contains(k));
                    problems.push(
                        Diagnostic::at(&v.loc, format!("undefined variable `{}`", v.name))
                            .label("not set by `vars` or by a capture in an earlier step")
                            .note(if known.is_empty() {
                                "note: no variables are defined at this point".to_owned()
                            } else {
                                format!("note: defined here: {}", known.join(", "))
                            }),
                    );
                }
            }
        };
        for step in &scenario.steps {
            match &step.action {
                Action::Request(r) => {
                    check(&r.path, &defined, &mut problems);
                    r.query
                        .iter()
                        .for_each(|(_, t)| check(t, &defined, &mut problems));
                    if let Some(b) = &r.body {
                        check(b, &defined, &mut problems);
                    }
                }
                Action::Wait(w) => {
                    if let WaitSource::Poll { path } = &w.source {
                        check(path, &defined, &mut problems);
                    }
                    for a in w.filter.iter().chain(&w.until).chain(&w.fail_if) {
                        a.predicates
                            .iter()
                            .for_each(|p| check_op(&p.op, &defined, &mut problems, &check));
                    }
                }
                Action::Set(set) => {
                    set.iter()
                        .for_each(|(_, t)| check(t, &defined, &mut problems));
                    defined.extend(set.iter().map(|(n, _)| n.clone()));
                }
            }
            defined.extend(step.captures.iter().map(|c| c.var.clone()));
            for a in &step.assertions {
                a.predicates
                    .iter()
                    .for_each(|p| check_op(&p.op, &defined, &mut problems, &check));
            }
        }
        problems.into_iter().for_each(|d| self.error(d));
    }
}

fn check_op(
    op: &Op,
    defined: &BTreeSet<String>,
    problems: &mut Vec<Diagnostic>,
    check: &impl Fn(&Template, &BTreeSet<String>, &mut Vec<Diagnostic>),
) {
    match op {
        Op::Equals(t) | Op::NotEquals(t) | Op::Contains(t) => check(t, defined, problems),
        Op::OneOf(ts) => ts.iter().for_each(|t| check(t, defined, problems)),
        _ => {}
    }
}
