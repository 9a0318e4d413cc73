//! Checking one step: one action, its agent, its request, its captures and expectations.

use super::Checker;
use crate::diagnostic::{Diagnostic, Loc};
use crate::scenario::model::*;
use crate::scenario::raw::*;
use crate::scenario::template::Template;
use crate::scenario::yaml::{SpannedMap, SpannedNode};
use serde_saphyr::Spanned;

/// A step's action key (`get`, ..., `wait`, `include`) and where it is.
type ActionKey = (&'static str, Loc);

impl Checker {
    pub(super) fn check_steps(&mut self, raw: Vec<RawStep>) -> Vec<Step> {
        let mut steps = Vec::new();
        for (index, step) in raw.into_iter().enumerate() {
            self.check_step(index + 1, step, &mut steps);
        }
        steps
    }

    /// Checks step `number` of the current file. A valid step goes to `out`;
    /// an include puts the steps it brings there instead.
    pub(super) fn check_step(&mut self, number: usize, mut raw: RawStep, out: &mut Vec<Step>) {
        let xfail = raw.xfail.take();
        let before = out.len();
        self.check_step_action(number, raw, out);
        if let Some(xfail) = xfail {
            match out.len() - before {
                1 => {
                    if let Some(x) = self.check_xfail(xfail, super::Pin::Step(before)) {
                        self.step_xfails.push(x);
                    }
                }
                0 => {} // the step is wrong: said already
                _ => {
                    let loc = self.loc(&xfail.0.referenced);
                    self.error(
                        Diagnostic::at(&loc, "an `xfail` goes on one step, not on an include")
                            .note("help: give the included step its own `xfail`, or pin the scenario's to its number"),
                    );
                }
            }
        }
    }

    fn check_step_action(&mut self, number: usize, raw: RawStep, out: &mut Vec<Step>) {
        let actions = self.list_actions(&raw);
        let step_loc = self.locate_step(&raw, &actions);
        let Some((word, action_loc)) = self.require_one_action(number, &step_loc, actions) else {
            return;
        };
        if word == "include" {
            self.check_include(raw, out);
            return;
        }
        if word == "restart" || word == "stop" {
            self.check_lifecycle(number, word, &action_loc, step_loc, raw, out);
            return;
        }

        let step_name = raw.name.as_ref().map(|n| n.value.clone());
        let when = raw.when.and_then(|c| self.condition(c));
        let (agent, service) = match raw.service.as_ref() {
            Some(service) => (
                None,
                self.check_service_target(word, service, raw.agent.as_ref()),
            ),
            None => (
                self.check_agent(number, &step_loc, raw.agent.as_ref()),
                None,
            ),
        };
        let action = if word == "wait" {
            self.reject_request_parts(
                &action_loc,
                [
                    ("query", raw.query.is_some()),
                    ("headers", raw.headers.is_some()),
                    ("body", raw.body.is_some()),
                ],
            );
            self.check_wait(raw.wait.expect("wait present"))
                .map(|(wait, name)| (Action::Wait(wait), name))
        } else {
            let path = [raw.get, raw.post, raw.put, raw.patch, raw.delete]
                .into_iter()
                .flatten()
                .next()
                .expect("one request verb");
            self.check_request(word, path, raw.query, raw.headers, raw.body)
                .map(|(request, name)| (Action::Request(request), name))
        };
        let (status, assertions) = raw
            .expect
            .map(|expect| self.expect(expect))
            .unwrap_or_default();
        let captures = self.check_captures(raw.capture);
        self.variables.set(captures.iter().map(|c| c.var.clone()));
        assertions
            .iter()
            .for_each(|a| self.variables.read_assertion(a));

        // Without a valid action there is no step; the problem is reported.
        let Some((action, default_name)) = action else {
            return;
        };
        out.push(Step {
            name: step_name.unwrap_or(default_name),
            loc: step_loc,
            agent,
            service,
            when,
            action,
            status,
            assertions,
            captures,
        });
    }

    /// The action keys the step has, requests and `include` before `wait`.
    fn list_actions(&self, raw: &RawStep) -> Vec<ActionKey> {
        let mut actions = Vec::new();
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
        for (word, value) in [("restart", &raw.restart), ("stop", &raw.stop)] {
            if let Some(v) = value {
                actions.push((word, self.loc(&v.referenced).shifted(0, v.value.len())));
            }
        }
        // In file order, so the second is the second written.
        actions.sort_by_key(|(_, loc)| (loc.line, loc.column));
        actions
    }

    /// Where the key `word` of the value at `value` is written: on the same
    /// line before it, or on a line above (a block value).
    pub(super) fn key_of(&self, value: &Loc, word: &str) -> Loc {
        let pattern = regex::Regex::new(&format!(r"(^|[\s{{,]){}\s*:", regex::escape(word)))
            .expect("escaped regex");
        for line in (value.line.saturating_sub(3).max(1)..=value.line).rev() {
            let Some(text) = self.file.line(line) else {
                continue;
            };
            let before: String = match line == value.line {
                true => text.chars().take(value.column - 1).collect(),
                false => text.to_owned(),
            };
            if let Some(m) = pattern.find_iter(&before).last() {
                let start = m.start()
                    + usize::from(
                        m.as_str() != m.as_str().trim_start_matches([' ', '\t', '{', ',']),
                    );
                let column = before[..start].chars().count() + 1;
                return Loc::new(&self.file, line, column, word.chars().count());
            }
        }
        value.clone()
    }

    /// Where the step is, for messages about the step as a whole: its name,
    /// else its action, else its agent.
    fn locate_step(&self, raw: &RawStep, actions: &[ActionKey]) -> Loc {
        raw.name
            .as_ref()
            .map(|n| self.loc(&n.referenced))
            .or_else(|| actions.first().map(|a| a.1.clone()))
            .or_else(|| raw.agent.as_ref().map(|a| self.loc(&a.referenced)))
            .unwrap_or_else(|| Loc::new(&self.file, 1, 1, 1))
    }

    /// A step does exactly one thing: that action, or None once the problem
    /// is reported.
    fn require_one_action(
        &mut self,
        number: usize,
        step_loc: &Loc,
        mut actions: Vec<ActionKey>,
    ) -> Option<ActionKey> {
        match actions.len() {
            0 => {
                self.error(
                    Diagnostic::at(step_loc, format!("step {number} has nothing to do"))
                        .note("help: a step has one of `get`, `post`, `put`, `patch`, `delete`, `wait` or `include`"),
                );
                None
            }
            1 => Some(actions.remove(0)),
            _ => {
                let words: Vec<&str> = actions.iter().map(|a| a.0).collect();
                let loc = self.key_of(&actions[1].1, actions[1].0);
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
                None
            }
        }
    }

    /// The role the step talks to, which must be declared under `agents`.
    fn check_agent(
        &mut self,
        number: usize,
        step_loc: &Loc,
        agent: Option<&Spanned<String>>,
    ) -> Option<String> {
        let Some(agent) = agent else {
            self.error(
                Diagnostic::at(
                    step_loc,
                    format!("step {number} does not say which agent it talks to"),
                )
                .note(format!(
                    "help: add `agent: ROLE` (one of: {})",
                    self.roles.join(", ")
                )),
            );
            return None;
        };
        if !self.roles.contains(&agent.value) {
            let loc = self
                .loc(&agent.referenced)
                .shifted(0, agent.value.chars().count());
            let mut d = Diagnostic::at(&loc, format!("unknown agent role `{}`", agent.value))
                .label(format!(
                    "not declared under `agents` (declared: {})",
                    self.roles.join(", ")
                ));
            if let Some(help) = crate::suggest::did_you_mean(&agent.value, &self.roles) {
                d = d.note(help);
            }
            self.error(d);
        }
        Some(agent.value.clone())
    }

    /// `service: NAME` on a request: a declared service (the scenario's or
    /// the suite's), and no `agent` beside it.
    fn check_service_target(
        &mut self,
        word: &str,
        service: &Spanned<String>,
        agent: Option<&Spanned<String>>,
    ) -> Option<String> {
        let loc = self
            .loc(&service.referenced)
            .shifted(0, service.value.chars().count());
        if word == "wait" {
            self.error(
                Diagnostic::at(&loc, "`service` goes on a request, not a wait")
                    .note("help: a wait listens to an agent's events or polls its admin API: give it `agent: ROLE`"),
            );
            return None;
        }
        if let Some(agent) = agent {
            let at = self.key_of(&self.loc(&agent.referenced), "agent");
            self.error(
                Diagnostic::at(&at, "a step talks to an agent or to a service, not both").note(
                    format!(
                    "help: keep `service: {}` to call the service, or `agent:` to call the agent",
                    service.value
                ),
                ),
            );
            return None;
        }
        let name = service.value.trim();
        if !self.variables.defines(&format!("services.{name}.url")) {
            let declared = self.variables.declared_services();
            let mut d = Diagnostic::at(&loc, format!("no service `{name}`"))
                .label("not declared under `services` (here or in the suite's acapy-harness.yaml)")
                .note(format!(
                    "note: services declared: {}",
                    match declared.is_empty() {
                        true => "none".to_owned(),
                        false => declared.join(", "),
                    }
                ));
            if let Some(help) = crate::suggest::did_you_mean(name, &declared) {
                d = d.note(help);
            }
            self.error(d);
            return None;
        }
        Some(name.to_owned())
    }

    /// `restart: ROLE` / `stop: ROLE`: the role is the step's agent, and
    /// nothing of a request or a wait belongs beside it.
    fn check_lifecycle(
        &mut self,
        number: usize,
        word: &str,
        action_loc: &Loc,
        step_loc: Loc,
        raw: RawStep,
        out: &mut Vec<Step>,
    ) {
        let role = match word {
            "restart" => raw.restart.as_ref(),
            _ => raw.stop.as_ref(),
        };
        let agent = self.check_agent(number, &step_loc, role);
        let extras = [
            ("agent", raw.agent.is_some()),
            ("query", raw.query.is_some()),
            ("headers", raw.headers.is_some()),
            ("body", raw.body.is_some()),
            ("expect", raw.expect.is_some()),
            ("capture", raw.capture.is_some()),
        ];
        for (field, _) in extras.iter().filter(|(_, present)| *present) {
            self.error(
                Diagnostic::at(action_loc, format!("`{field}` has no meaning beside `{word}`"))
                    .note(format!(
                        "help: `{word}: ROLE` names the agent; check it afterwards in a step of its own"
                    )),
            );
        }
        let when = raw.when.and_then(|c| self.condition(c));
        let Some(role) = agent else {
            return;
        };
        out.push(Step {
            name: raw
                .name
                .map(|n| n.value)
                .unwrap_or_else(|| format!("{word} {role}")),
            loc: step_loc,
            agent: Some(role),
            service: None,
            when,
            action: match word {
                "restart" => Action::Restart,
                _ => Action::Stop,
            },
            status: None,
            assertions: Vec::new(),
            captures: Vec::new(),
        });
    }

    /// `query`, `headers` and `body` belong to requests, not to waits.
    fn reject_request_parts(&mut self, action_loc: &Loc, parts: [(&str, bool); 3]) {
        for (field, present) in parts {
            if present {
                self.error(
                    Diagnostic::at(
                        action_loc,
                        format!("`{field}` has no meaning on a wait step"),
                    )
                    .note("help: a wait polls with `wait.get` or listens with `wait.event`"),
                );
            }
        }
    }

    /// A request (`word` is its method) and the step's default name, or
    /// None when its path does not parse (already reported).
    fn check_request(
        &mut self,
        word: &str,
        path: Spanned<String>,
        query: Option<SpannedMap<SpannedNode>>,
        headers: Option<SpannedMap<SpannedNode>>,
        body: Option<SpannedNode>,
    ) -> Option<(Request, String)> {
        let method: reqwest::Method = word.to_uppercase().parse().expect("known method");
        let query: Vec<_> = query
            .map(|q| {
                q.0.into_iter()
                    .filter_map(|(k, v)| Some((k.value, self.template(&v)?)))
                    .collect()
            })
            .unwrap_or_default();
        let headers = self.check_headers(headers);
        let body = body.as_ref().and_then(|b| self.template(b));
        let path_template = self.string_template(&path);

        let reads = path_template
            .iter()
            .chain(query.iter().map(|(_, t)| t))
            .chain(headers.iter().map(|(_, t)| t));
        reads.chain(&body).for_each(|t| self.variables.read(t));

        let name = format!("{} {}", method, path.value);
        let request = Request {
            method,
            path: path_template?,
            query,
            headers,
            body,
        };
        Some((request, name))
    }

    /// `headers: { NAME: VALUE }`: each name a valid HTTP header name, each
    /// value a template (rendered as text when sent).
    fn check_headers(
        &mut self,
        headers: Option<SpannedMap<SpannedNode>>,
    ) -> Vec<(String, Template)> {
        let Some(headers) = headers else {
            return Vec::new();
        };
        let mut checked = Vec::new();
        for (name, value) in headers.0 {
            if reqwest::header::HeaderName::from_bytes(name.value.as_bytes()).is_err() {
                let loc = self.key_loc(&name);
                self.error(
                    Diagnostic::at(&loc, format!("`{}` is not an HTTP header name", name.value))
                        .label("letters, digits and `-`, no spaces"),
                );
                continue;
            }
            if let Some(template) = self.template(&value) {
                checked.push((name.value, template));
            }
        }
        checked
    }

    /// `capture: { VAR: $.path }`: each name checked, each path parsed.
    fn check_captures(&mut self, capture: Option<SpannedMap<Spanned<String>>>) -> Vec<Capture> {
        capture
            .map(|c| {
                c.0.into_iter()
                    .filter_map(|(var, path)| {
                        let var = self.var_name(&var);
                        let query = self.query(&path)?;
                        Some(Capture { var, query })
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}
