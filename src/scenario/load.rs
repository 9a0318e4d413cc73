//! Reading scenario files and checking them, before anything starts.
//!
//! Every problem becomes a [`Diagnostic`] pointing at its line and column; a
//! file's problems are reported together rather than one per run.

use super::model::*;
use super::query::Query;
use super::raw::*;
use super::template::{is_var_name, Template, Vars};
use super::yaml::{Node, SpannedNode};
use crate::diagnostic::{Diagnostic, Diagnostics, Loc, SourceFile};
use regex::Regex;
use serde_saphyr::{Location, Spanned};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Variables every scenario has without capturing them.
pub const BUILTIN_VARS: &[&str] = &["run_id"];

/// The file name a suite's settings live in; never read as a scenario.
pub const CONFIG_FILE: &str = "acapy-harness.yaml";

const DEFAULT_WAIT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(20);
const MAX_INCLUDE_DEPTH: usize = 8;

/// A scenario file found under one of the paths given, with the folder its id
/// is relative to.
#[derive(Debug, Clone)]
pub struct Found {
    pub root: PathBuf,
    pub file: PathBuf,
}

/// Every `*.yaml` / `*.yml` scenario under `paths` (files are taken as they are).
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
        if path.is_dir() {
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

/// Loads every scenario found; all files' problems are returned together.
pub fn load_all(found: &[Found]) -> Result<Vec<Arc<Scenario>>, Diagnostics> {
    let mut scenarios = Vec::new();
    let mut errors = Vec::new();
    for f in found {
        match load(f) {
            Ok(s) => scenarios.push(Arc::new(s)),
            Err(Diagnostics(mut d)) => errors.append(&mut d),
        }
    }
    if errors.is_empty() {
        Ok(scenarios)
    } else {
        Err(Diagnostics(errors))
    }
}

pub fn scenario_id(found: &Found) -> String {
    let relative = found.file.strip_prefix(&found.root).unwrap_or(&found.file);
    let without_ext = relative.with_extension("");
    without_ext
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

pub fn load(found: &Found) -> Result<Scenario, Diagnostics> {
    let file = SourceFile::read(&found.file).map_err(|e| {
        Diagnostics(vec![Diagnostic::new(
            format!("cannot read `{}`: {e}", found.file.display()),
            None,
        )])
    })?;
    let raw: RawScenario = parse_yaml(&file).map_err(|d| Diagnostics(vec![d]))?;
    let mut checker = Checker {
        file: file.clone(),
        errors: Vec::new(),
        roles: Vec::new(),
        include_stack: vec![found.file.clone()],
    };
    let scenario = checker.scenario(scenario_id(found), raw);
    if checker.errors.is_empty() {
        Ok(scenario)
    } else {
        Err(Diagnostics(checker.errors))
    }
}

/// Parses YAML into `T`, turning serde-saphyr's error into our diagnostic.
pub fn parse_yaml<T: serde::de::DeserializeOwned>(file: &Arc<SourceFile>) -> Result<T, Diagnostic> {
    let options = serde_saphyr::options! { with_snippet: false };
    serde_saphyr::from_str_with_options(&file.text, options).map_err(|e| {
        let message = strip_position_prefix(&e.to_string());
        let loc = e.location().filter(|l| l.line() > 0).map(|l| {
            Loc::new(
                file,
                l.line() as usize,
                l.column() as usize,
                l.span().len() as usize,
            )
        });
        let loc = loc.or_else(|| Some(Loc::new(file, 1, 1, 1)));
        Diagnostic::new(message, loc)
    })
}

fn strip_position_prefix(message: &str) -> String {
    let first = message.lines().next().unwrap_or(message).trim();
    let prefix = Regex::new(r"^(error: )?(line \d+ column \d+: )?").expect("static regex");
    let suffix = Regex::new(r",? at line \d+,? column \d+$").expect("static regex");
    suffix.replace(&prefix.replace(first, ""), "").into_owned()
}

pub(super) struct Checker {
    file: Arc<SourceFile>,
    errors: Vec<Diagnostic>,
    roles: Vec<String>,
    include_stack: Vec<PathBuf>,
}

impl Checker {
    pub(super) fn loc(&self, l: &Location) -> Loc {
        Loc::new(
            &self.file,
            l.line() as usize,
            l.column() as usize,
            l.span().len() as usize,
        )
    }

    pub(super) fn key_loc(&self, key: &Spanned<String>) -> Loc {
        Loc::new(
            &self.file,
            key.referenced.line() as usize,
            key.referenced.column() as usize,
            key.value.chars().count(),
        )
    }

    pub(super) fn error(&mut self, d: Diagnostic) {
        self.errors.push(d);
    }

    pub(super) fn scenario(&mut self, id: String, raw: RawScenario) -> Scenario {
        let name = raw.name.map(|n| n.value).unwrap_or_else(|| id.clone());
        let requires = raw.requires.and_then(|c| self.condition(c));
        let xfail = raw
            .xfail
            .into_iter()
            .map(|x| Xfail {
                when: x.acapy.and_then(|a| self.version_req(&a)),
                reason: x.reason.value.trim().to_owned(),
            })
            .collect();

        let mut agents = Vec::new();
        for (role, agent) in raw.agents.value.0 {
            if !is_var_name(&role.value) {
                let loc = self.key_loc(&role);
                self.error(
                    Diagnostic::at(&loc, format!("invalid agent role `{}`", role.value))
                        .label("roles are letters, digits and `_`"),
                );
            }
            agents.push(AgentDecl {
                label: agent
                    .label
                    .map(|l| l.value)
                    .unwrap_or_else(|| role.value.clone()),
                args: agent.args.into_iter().map(|a| a.value).collect(),
                loc: self.key_loc(&role),
                role: role.value,
            });
        }
        if agents.is_empty() {
            let loc = self.loc(&raw.agents.referenced);
            self.error(
                Diagnostic::at(&loc, "a scenario needs at least one agent")
                    .label("no agents declared")
                    .note("help: e.g. `agents: { issuer: {}, holder: {} }`"),
            );
        }
        self.roles = agents.iter().map(|a| a.role.clone()).collect();

        let mut vars = Vec::new();
        for (key, node) in raw.vars.0 {
            let name = self.var_name(&key);
            if let Some(t) = self.template(&node) {
                vars.push((name, t));
            }
        }

        if raw.steps.value.is_empty() {
            let loc = self.loc(&raw.steps.referenced);
            self.error(Diagnostic::at(&loc, "a scenario needs at least one step"));
        }
        let steps = self.steps(raw.steps.value);

        let scenario = Scenario {
            id,
            file: self.file.clone(),
            name,
            description: raw.description,
            tags: raw.tags.into_iter().map(|t| t.value).collect(),
            requires,
            xfail,
            vars,
            agents,
            steps,
        };
        self.check_variables(&scenario);
        scenario
    }

    pub(super) fn steps(&mut self, raw: Vec<RawStep>) -> Vec<Step> {
        let mut steps = Vec::new();
        for (index, step) in raw.into_iter().enumerate() {
            self.step(index + 1, step, &mut steps);
        }
        steps
    }

    pub(super) fn step(&mut self, number: usize, raw: RawStep, out: &mut Vec<Step>) {
        let mut actions: Vec<(&str, Loc)> = Vec::new();
        for (word, value) in [
            ("get", &raw.get),
            ("post", &raw.post),
            ("put", &raw.put),
            ("patch", &raw.patch),
            ("delete", &raw.delete),
            ("include", &raw.include),
        ] {
            if let Some(v) = value {
                actions.push((word, self.loc(&v.referenced).shifted(0, v.value.len())));
            }
        }
        if let Some(w) = &raw.wait {
            actions.push(("wait", self.loc(&w.referenced)));
        }
        // Where the step is, for messages about the step as a whole.
        let step_loc = raw
            .name
            .as_ref()
            .map(|n| self.loc(&n.referenced))
            .or_else(|| actions.first().map(|a| a.1.clone()))
            .or_else(|| raw.agent.as_ref().map(|a| self.loc(&a.referenced)))
            .unwrap_or_else(|| Loc::new(&self.file, 1, 1, 1));
        let step_name = raw.name.as_ref().map(|n| n.value.clone());

        match actions.len() {
            0 => {
                self.error(
                    Diagnostic::at(&step_loc, format!("step {number} has nothing to do"))
                        .note("help: a step has one of `get`, `post`, `put`, `patch`, `delete`, `wait` or `include`"),
                );
                return;
            }
            1 => {}
            _ => {
                let words: Vec<&str> = actions.iter().map(|a| a.0).collect();
                let loc = actions[1].1.clone();
                self.error(
                    Diagnostic::at(
                        &loc,
                        format!(
                            "step {number} does more than one thing: {}",
                            words.join(", ")
                        ),
                    )
                    .label("second action")
                    .note("help: split it into one step per request or wait"),
                );
                return;
            }
        }
        let (word, action_loc) = actions.remove(0);

        if word == "include" {
            self.include(raw, out);
            return;
        }

        let when = raw.when.and_then(|c| self.condition(c));
        let agent = match &raw.agent {
            Some(agent) => {
                if !self.roles.contains(&agent.value) {
                    let loc = self
                        .loc(&agent.referenced)
                        .shifted(0, agent.value.chars().count());
                    self.error(
                        Diagnostic::at(&loc, format!("unknown agent role `{}`", agent.value))
                            .label(format!(
                                "not declared under `agents` (declared: {})",
                                self.roles.join(", ")
                            )),
                    );
                }
                agent.value.clone()
            }
            None => {
                self.error(
                    Diagnostic::at(
                        &step_loc,
                        format!("step {number} does not say which agent it talks to"),
                    )
                    .note(format!(
                        "help: add `agent: ROLE` (one of: {})",
                        self.roles.join(", ")
                    )),
                );
                String::new()
            }
        };

        let (action, default_name) = if word == "wait" {
            let wait = raw.wait.expect("wait present");
            for (field, present) in [("query", raw.query.is_some()), ("body", raw.body.is_some())] {
                if present {
                    self.error(
                        Diagnostic::at(
                            &action_loc,
                            format!("`{field}` has no meaning on a wait step"),
                        )
                        .note("help: a wait polls with `wait.get` or listens with `wait.event`"),
                    );
                }
            }
            let (wait, name) = self.wait(wait);
            (Action::Wait(wait), name)
        } else {
            let path = [&raw.get, &raw.post, &raw.put, &raw.patch, &raw.delete]
                .into_iter()
                .flatten()
                .next()
                .expect("one request verb");
            let method: reqwest::Method = word.to_uppercase().parse().expect("known method");
            let query = raw
                .query
                .map(|q| {
                    q.0.into_iter()
                        .filter_map(|(k, v)| Some((k.value, self.template(&v)?)))
                        .collect()
                })
                .unwrap_or_default();
            let body = raw.body.as_ref().and_then(|b| self.template(b));
            let path_template = self.string_template(path);
            let name = format!("{} {}", method, path.value);
            (
                Action::Request(Request {
                    method,
                    path: path_template.unwrap_or(Template::Literal(serde_json::Value::Null)),
                    query,
                    body,
                }),
                name,
            )
        };

        let (status, assertions) = match raw.expect {
            Some(expect) => self.expect(expect),
            None => (None, Vec::new()),
        };
        let captures = raw
            .capture
            .map(|c| {
                c.0.into_iter()
                    .filter_map(|(var, path)| {
                        let var = self.var_name(&var);
                        let query = self.query(&path)?;
                        Some(Capture { var, query })
                    })
                    .collect()
            })
            .unwrap_or_default();

        out.push(Step {
            name: step_name.unwrap_or(default_name),
            loc: step_loc,
            agent,
            when,
            action,
            status,
            assertions,
            captures,
        });
    }

    pub(super) fn include(&mut self, raw: RawStep, out: &mut Vec<Step>) {
        let include = raw.include.expect("include present");
        let loc = self
            .loc(&include.referenced)
            .shifted(0, include.value.chars().count());
        for (field, present) in [
            ("agent", raw.agent.is_some()),
            ("expect", raw.expect.is_some()),
            ("capture", raw.capture.is_some()),
            ("query", raw.query.is_some()),
            ("body", raw.body.is_some()),
            ("when", raw.when.is_some()),
        ] {
            if present {
                self.error(
                    Diagnostic::at(&loc, format!("`{field}` cannot go with `include`")).note(
                        "help: an include takes `name` and `with` only; its steps say the rest",
                    ),
                );
            }
        }
        let base = self.file.path.parent().unwrap_or(Path::new("."));
        let path = base.join(&include.value);
        if self.include_stack.len() > MAX_INCLUDE_DEPTH || self.include_stack.contains(&path) {
            self.error(
                Diagnostic::at(&loc, "includes go round in a circle").label("included again here"),
            );
            return;
        }
        let file = match SourceFile::read(&path) {
            Ok(f) => f,
            Err(e) => {
                self.error(
                    Diagnostic::at(
                        &loc,
                        format!("cannot read included file `{}`: {e}", path.display()),
                    )
                    .label("included here")
                    .note("note: include paths are relative to the file that includes them"),
                );
                return;
            }
        };
        let fixture: RawFixture = match parse_yaml(&file) {
            Ok(f) => f,
            Err(d) => {
                self.error(d);
                return;
            }
        };
        // The include's name, if any, heads the names of the steps it brings.
        let title = raw.name.map(|n| n.value);
        if let Some(with) = raw.with {
            let mut set = Vec::new();
            for (key, node) in with.0 {
                let name = self.var_name(&key);
                if let Some(t) = self.template(&node) {
                    set.push((name, t));
                }
            }
            out.push(Step {
                name: title
                    .clone()
                    .unwrap_or_else(|| format!("include {}", include.value)),
                loc: loc.clone(),
                agent: String::new(),
                when: None,
                action: Action::Set(set),
                status: None,
                assertions: Vec::new(),
                captures: Vec::new(),
            });
        }
        let outer = std::mem::replace(&mut self.file, file);
        self.include_stack.push(path);
        let first = out.len();
        for (i, step) in fixture.steps.value.into_iter().enumerate() {
            self.step(i + 1, step, out);
        }
        if let Some(title) = &title {
            for step in &mut out[first..] {
                step.name = format!("{title}: {}", step.name);
            }
        }
        self.include_stack.pop();
        self.file = outer;
    }

    pub(super) fn wait(&mut self, raw: Spanned<RawWait>) -> (Wait, String) {
        let loc = self.loc(&raw.referenced);
        let raw = raw.value;
        let (source, name) = match (&raw.event, &raw.get) {
            (Some(topic), None) => (
                WaitSource::Event {
                    topic: topic.value.clone(),
                },
                format!("wait for a `{}` event", topic.value),
            ),
            (None, Some(path)) => (
                WaitSource::Poll {
                    path: self
                        .string_template(path)
                        .unwrap_or(Template::Literal(serde_json::Value::Null)),
                },
                format!("poll GET {}", path.value),
            ),
            (Some(_), Some(get)) => {
                let l = self.loc(&get.referenced);
                self.error(
                    Diagnostic::at(&l, "a wait has either `event` or `get`, not both")
                        .label("second source"),
                );
                (
                    WaitSource::Event {
                        topic: String::new(),
                    },
                    String::new(),
                )
            }
            (None, None) => {
                self.error(
                    Diagnostic::at(&loc, "a wait needs `event: TOPIC` or `get: PATH`")
                        .note("help: `event` listens on the agent's /ws stream; `get` polls an admin path"),
                );
                (
                    WaitSource::Event {
                        topic: String::new(),
                    },
                    String::new(),
                )
            }
        };
        let until = raw
            .until
            .map(|m| self.assertions(m, false).1)
            .unwrap_or_default();
        if until.is_empty() {
            self.error(
                Diagnostic::at(&loc, "a wait needs `until`: what must hold to stop waiting")
                    .note("help: e.g. `until: { $.state: done }`"),
            );
        }
        let wait = Wait {
            source,
            filter: raw
                .where_
                .map(|m| self.assertions(m, false).1)
                .unwrap_or_default(),
            until,
            fail_if: raw
                .fail_if
                .map(|m| self.assertions(m, false).1)
                .unwrap_or_default(),
            timeout: raw
                .timeout
                .and_then(|t| self.duration(&t))
                .unwrap_or(DEFAULT_WAIT_TIMEOUT),
            interval: raw
                .interval
                .and_then(|t| self.duration(&t))
                .unwrap_or(DEFAULT_POLL_INTERVAL),
        };
        (wait, name)
    }

    pub(super) fn query(&mut self, path: &Spanned<String>) -> Option<Query> {
        let loc = self
            .loc(&path.referenced)
            .shifted(0, path.value.chars().count());
        Query::parse(&path.value, &loc)
            .map_err(|d| self.error(d))
            .ok()
    }

    pub(super) fn var_name(&mut self, key: &Spanned<String>) -> String {
        if !is_var_name(&key.value) {
            let loc = self.key_loc(key);
            self.error(
                Diagnostic::at(&loc, format!("invalid variable name `{}`", key.value))
                    .label("letters, digits and `_`, not starting with a digit"),
            );
        }
        key.value.clone()
    }

    pub(super) fn string_template(&mut self, s: &Spanned<String>) -> Option<Template> {
        let loc = self.loc(&s.referenced);
        Template::parse_str(&s.value, &loc)
            .map_err(|d| self.error(d))
            .ok()
    }

    pub(super) fn template(&mut self, node: &SpannedNode) -> Option<Template> {
        let loc = self.loc(&node.referenced);
        let t = match &node.value {
            Node::String(s) => Template::parse_str(s, &loc)
                .map_err(|d| self.error(d))
                .ok()?,
            Node::Seq(items) => Template::Array(
                items
                    .iter()
                    .map(|i| self.template(i))
                    .collect::<Option<Vec<_>>>()?,
            ),
            Node::Map(entries) => Template::Object(
                entries
                    .iter()
                    .map(|(k, v)| Some((k.value.clone(), self.template(v)?)))
                    .collect::<Option<Vec<_>>>()?,
            ),
            other => Template::Literal(other.to_json()),
        };
        // Without variables the value is fixed: render it once (which also
        // turns `$${` into `${`).
        Some(if t.vars().is_empty() {
            Template::Literal(t.render(&Vars::new()).expect("no variables to miss"))
        } else {
            t
        })
    }

    pub(super) fn duration(&mut self, s: &Spanned<String>) -> Option<Duration> {
        let parsed = parse_duration(&s.value);
        if parsed.is_none() {
            let loc = self.loc(&s.referenced).shifted(0, s.value.len());
            self.error(
                Diagnostic::at(&loc, format!("invalid duration `{}`", s.value))
                    .label("expected e.g. `500ms`, `30s` or `2m`"),
            );
        }
        parsed
    }

    pub(super) fn condition(&mut self, c: RawCondition) -> Option<VersionCondition> {
        c.acapy.and_then(|a| self.version_req(&a))
    }

    pub(super) fn version_req(&mut self, text: &Spanned<String>) -> Option<VersionCondition> {
        let loc = self.loc(&text.referenced).shifted(0, text.value.len());
        let parsed: Result<Vec<_>, _> = text
            .value
            .split("||")
            .map(|alternative| semver::VersionReq::parse(alternative.trim()))
            .collect();
        match parsed {
            Ok(any_of) => Some(VersionCondition {
                text: text.value.clone(),
                any_of,
                loc,
            }),
            Err(e) => {
                self.error(
                    Diagnostic::at(&loc, format!("invalid version range `{}`", text.value))
                        .label(e.to_string())
                        .note("help: e.g. `>=1.3`, `<1.5`, `>=0.12, <1.0`, `<1.4 || >=1.5.1`"),
                );
                None
            }
        }
    }
}
/// `250ms`, `30s`, `1.5s`, `2m`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (number, unit) = text.split_at(text.find(|c: char| c.is_ascii_alphabetic())?);
    let n: f64 = number
        .trim()
        .parse()
        .ok()
        .filter(|n: &f64| *n >= 0.0 && n.is_finite())?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return None,
    };
    Some(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    pub(super) fn durations() {
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("30"), None);
        assert_eq!(parse_duration("30 seconds"), None);
        assert_eq!(parse_duration("-1s"), None);
    }
}
