//! Every `${var}` must have a value by the time its step runs: set by `vars`,
//! a built-in, `with`, or a capture in an earlier step (or, in `expect`, the
//! same step's capture).

use crate::diagnostic::Diagnostic;
use crate::scenario::model::{Assertion, Op};
use crate::scenario::template::{env_name, Template, GENERATED_VARS};
use std::collections::BTreeSet;

/// Variables every scenario has without capturing them.
pub const BUILTIN_VARS: &[&str] = &["run_id"];

/// The variables set so far, as steps are checked in order, and the problems
/// with those read before they are set. The problems are reported after
/// every other problem in the file.
#[derive(Debug, Default)]
pub(super) struct Variables {
    defined: BTreeSet<String>,
    problems: Vec<Diagnostic>,
}

impl Variables {
    /// The built-ins and the variables given from outside (`--var`,
    /// `--vars-file`, `--secret`); the scenario's `vars` follow, in order.
    pub(super) fn new<'a>(vars: impl IntoIterator<Item = &'a String>) -> Variables {
        let mut defined: BTreeSet<String> = BUILTIN_VARS.iter().map(|s| s.to_string()).collect();
        defined.extend(vars.into_iter().cloned());
        Variables {
            defined,
            problems: Vec::new(),
        }
    }

    /// Variables set from here on (by `with` or a capture).
    pub(super) fn set(&mut self, names: impl IntoIterator<Item = String>) {
        self.defined.extend(names);
    }

    /// Every `${var}` in `template` must be set by now.
    pub(super) fn read(&mut self, template: &Template) {
        for v in template.vars() {
            if GENERATED_VARS.contains(&v.name.as_str()) {
                continue;
            }
            if let Some(name) = env_name(&v.name) {
                if std::env::var_os(name).is_none() {
                    self.problems.push(
                        Diagnostic::at(&v.loc, format!("environment variable `{name}` is not set"))
                            .label("read here")
                            .note("note: `${env.NAME}` reads the environment when the file loads"),
                    );
                }
                continue;
            }
            if !self.defined.contains(&v.name) {
                let mut known: Vec<&str> = self.defined.iter().map(String::as_str).collect();
                let mut candidates = known.clone();
                candidates.extend(GENERATED_VARS);
                let help = crate::suggest::did_you_mean(&v.name, &candidates);
                known.retain(|k| !BUILTIN_VARS.contains(k));
                let mut problem =
                    Diagnostic::at(&v.loc, format!("undefined variable `{}`", v.name))
                        .label("not set by `vars`, from outside or by a capture in an earlier step")
                        .note(if known.is_empty() {
                            "note: no variables are defined at this point".to_owned()
                        } else {
                            format!("note: defined here: {}", known.join(", "))
                        });
                if let Some(help) = help {
                    problem = problem.note(help);
                }
                self.problems.push(problem);
            }
        }
    }

    /// The values an assertion compares with.
    pub(super) fn read_assertion(&mut self, assertion: &Assertion) {
        for p in &assertion.predicates {
            match &p.op {
                Op::Equals(t) | Op::NotEquals(t) | Op::Contains(t) => self.read(t),
                Op::OneOf(ts) => ts.iter().for_each(|t| self.read(t)),
                _ => {}
            }
        }
    }

    pub(super) fn into_problems(self) -> Vec<Diagnostic> {
        self.problems
    }
}
