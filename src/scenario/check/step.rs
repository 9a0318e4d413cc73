//! Checking one step: its single action, its agent, its request, and what
//! it captures and expects.

use super::Checker;
use crate::diagnostic::{Diagnostic, Loc};
use crate::scenario::model::*;
use crate::scenario::raw::*;
use crate::scenario::template::Template;

impl Checker {
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
}
