//! Every `${var}` must have a value by the time its step runs: set by `vars`,
//! a built-in, `with`, or a capture in an earlier step (or, in `expect`, the
//! same step's capture).

use crate::diagnostic::Diagnostic;
use crate::scenario::model::{Assertion, Op};
use crate::scenario::template::{
    env_name, scoped, Scoped, Template, GENERATED_VARS, SERVICE_FIELDS,
};
use std::collections::BTreeSet;

/// Variables every scenario has without capturing them.
pub const BUILTIN_VARS: &[&str] = &["run_id"];

/// The variables set so far, as steps are checked in order, and the problems
/// with those read before they are set. The problems are reported after
/// every other problem in the file.
#[derive(Debug)]
pub(super) struct Variables {
    defined: BTreeSet<String>,
    problems: Vec<Diagnostic>,
    /// Whether `${env.NAME}` must be set when the file loads.
    env_at_load: bool,
    /// An include could not be read: what it would have set is unknown,
    /// so an undefined variable after it is not a problem of its own.
    include_failed: bool,
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
            env_at_load: true,
            include_failed: false,
        }
    }

    /// An include failed: one error for it, not one per variable it set.
    /// Whether `name` is set by now (declared, given from outside or captured).
    pub(super) fn defines(&self, name: &str) -> bool {
        self.defined.contains(name)
    }

    /// The services whose variables are defined: the scenario's and the suite's.
    pub(super) fn declared_services(&self) -> Vec<&str> {
        self.defined
            .iter()
            .filter_map(|d| d.strip_prefix("services.")?.strip_suffix(".url"))
            .collect()
    }

    pub(super) fn include_failed(&mut self) {
        self.include_failed = true;
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
                if self.env_at_load && std::env::var_os(name).is_none() {
                    self.problems.push(
                        Diagnostic::at(&v.loc, format!("environment variable `{name}` is not set"))
                            .label("read here")
                            .note("note: `${env.NAME}` reads the environment when the file loads"),
                    );
                }
                continue;
            }
            if self.defined.contains(&v.name) || self.include_failed {
                continue;
            }
            if let Some(problem) = self.unknown_scoped(&v.name, &v.loc) {
                self.problems.push(problem);
                continue;
            }
            {
                let mut known: Vec<&str> = self.defined.iter().map(String::as_str).collect();
                let mut candidates = known.clone();
                candidates.extend(GENERATED_VARS);
                let help = crate::suggest::did_you_mean(&v.name, &candidates);
                known.retain(|k| !BUILTIN_VARS.contains(k) && scoped(k).is_none());
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

    /// `${services.NAME.FIELD}` or `${files.NAME}` that names nothing
    /// declared, said in those terms.
    fn unknown_scoped(&self, name: &str, loc: &crate::diagnostic::Loc) -> Option<Diagnostic> {
        let declared = |prefix: &str, suffix: &str| -> Vec<&str> {
            self.defined
                .iter()
                .filter_map(|d| d.strip_prefix(prefix)?.strip_suffix(suffix))
                .collect()
        };
        let listed = |names: &[&str]| match names {
            [] => "none".to_owned(),
            names => names.join(", "),
        };
        Some(match scoped(name)? {
            Scoped::Service { field, .. } if !SERVICE_FIELDS.contains(&field) => {
                Diagnostic::at(loc, format!("a service has no `{field}`"))
                    .label("not `host`, `port` or `url`")
                    .note("note: `host` and `port` are where the agents reach it, `url` is `http://HOST:PORT`")
            }
            Scoped::Service { name, .. } => {
                let services = declared("services.", ".host");
                let mut d = Diagnostic::at(loc, format!("no service `{name}`"))
                    .label("not declared under `services`")
                    .note(format!("note: services declared: {}", listed(&services)));
                if let Some(help) = crate::suggest::did_you_mean(name, &services) {
                    d = d.note(help);
                }
                d
            }
            Scoped::File(file) => {
                let files = declared("files.", "");
                let mut d = Diagnostic::at(loc, format!("no file `{file}` here"))
                    .label("not among this agent's `files`")
                    .note("note: `${files.NAME}` is read in the `args` and `env` of the agent that declares the file")
                    .note(format!("note: files of this agent: {}", listed(&files)));
                if let Some(help) = crate::suggest::did_you_mean(file, &files) {
                    d = d.note(help);
                }
                d
            }
        })
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

    /// The problems found so far, reported after every other problem.
    pub(super) fn take_problems(&mut self) -> Vec<Diagnostic> {
        std::mem::take(&mut self.problems)
    }

    /// Variables no longer set (an agent's `files.NAME` past its agent).
    pub(super) fn unset(&mut self, names: &[String]) {
        for name in names {
            self.defined.remove(name);
        }
    }

    /// [`Self::read`] for a service's settings, where `${env.NAME}` is read
    /// when the service starts: a profile whose services need a secret from
    /// the environment still loads where it is not set (its cases skip).
    pub(super) fn read_later_env(&mut self, template: &Template) {
        self.env_at_load = false;
        self.read(template);
        self.env_at_load = true;
    }
}
