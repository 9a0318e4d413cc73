//! One step: its request or wait, then its captures and expectations.
//! Failures come back without context; the runner adds the step, the agent
//! and its recent events.

// A failure ends its case, once: passing it by value costs nothing worth boxing.
#![allow(clippy::result_large_err)]

use super::assert::{first_mismatch, short_json};
use super::fault::Fault;
use super::runner::Runner;
use super::wait::{self, WaitOutcome};
use super::{capture, predicate};
use crate::admin::Exchange;
use crate::scenario::model::{Action, Assertion, Request, StatusCheck, Step, Wait, WaitSource};
use crate::scenario::template::as_text;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

/// What a step's captures and expectations look at: the response body (or
/// matched event), and the response itself when there was one.
type Outcome = (Value, Option<Exchange>);

impl Runner<'_> {
    pub(super) async fn perform(&mut self, step: &Step) -> Result<(), Fault> {
        let (document, response) = match &step.action {
            Action::Set(set) => {
                for (name, template) in set {
                    let value = template.render(&self.vars)?;
                    self.vars.insert(name.clone(), value);
                }
                return Ok(());
            }
            Action::Restart => return self.restart(step).await,
            Action::Stop => return self.halt(step).await,
            Action::Request(request) => self.request(step, request).await?,
            Action::Wait(wait) => self.wait(step, wait).await?,
        };
        self.capture(step, &document, &response)?;
        match first_mismatch(&step.assertions, &document, &self.vars)? {
            None => Ok(()),
            Some(mismatch) => Err(Fault::new("expectation failed")
                .at(&mismatch.loc)
                .expected(mismatch.expected)
                .actual(mismatch.actual)
                .response(response.or_else(|| Some(event_as_exchange(role(step), &document))))),
        }
    }

    async fn request(&mut self, step: &Step, request: &Request) -> Result<Outcome, Fault> {
        let client = match &step.service {
            Some(service) => self.services[service].clone(),
            None => self.clients[role(step)].clone(),
        };
        let path = request.path.render_path(&self.vars)?;
        let mut query = Vec::new();
        for (key, template) in &request.query {
            query.push((key.clone(), as_text(&template.render(&self.vars)?)));
        }
        let mut headers = HeaderMap::new();
        for (name, template) in &request.headers {
            let value = as_text(&template.render(&self.vars)?);
            let value = HeaderValue::from_str(&value).map_err(|_| {
                Fault::new(format!("the value of header `{name}` is not valid in HTTP"))
                    .at(&step.loc)
                    .note("help: header values cannot hold control characters or line breaks")
            })?;
            let name = HeaderName::from_bytes(name.as_bytes()).expect("checked at load");
            headers.insert(name, value);
        }
        let body = match &request.body {
            Some(template) => Some(template.render(&self.vars)?),
            None => None,
        };
        let method = &request.method;
        // An operation the version lacks fails here, not as a bare 404 a
        // few lines on; unless the step expects an error answer.
        let expects_error = step
            .status
            .as_ref()
            .is_some_and(|s| !(200..300).contains(&s.code));
        let contract = match step.service {
            Some(_) => None,
            None => self.documents.get(role(step)).cloned(),
        };
        let mut operation = None;
        if let Some(contract) = &contract {
            match contract.check_operation(method.as_str(), &path) {
                Ok(found) => operation = Some(found),
                Err(fault) if !expects_error => {
                    let word = method.as_str().to_ascii_lowercase();
                    return Err(fault.at(&self.value_loc(step, &word)));
                }
                Err(_) => {}
            }
        }
        let exchange = client
            .send_with(
                step.target(),
                method.clone(),
                &path,
                &query,
                &headers,
                body.as_ref(),
            )
            .await
            .map_err(|e| (e, ()));
        let exchange = match exchange {
            Ok(exchange) => exchange,
            Err((e, ())) => {
                // Say why the agent did not answer when it is gone.
                let gone = match step.service {
                    Some(_) => None,
                    None => self.gone(role(step)).await,
                };
                let cause = match gone {
                    Some(why) => format!("{} {why}: ", role(step)),
                    None => String::new(),
                };
                return Err(Fault::new(format!(
                    "{method} {path} failed: {cause}{}",
                    with_causes(&e)
                ))
                .at(&step.loc));
            }
        };
        let mut exchange = exchange;
        exchange.operation = operation;
        let status = exchange.status;
        // The author's own check speaks first; a broken contract fails a
        // step only when nothing the author wrote did.
        let status_fault = match &step.status {
            Some(check) if check.code != status => Some(
                Fault::new("unexpected HTTP status")
                    .at(&check.loc)
                    .expected(format!("status {}", check.code))
                    .actual(format!("status {status}")),
            ),
            None if !(200..300).contains(&status) => Some(
                Fault::new(format!("{method} {path} answered HTTP {status}"))
                    .at(&step.loc)
                    .expected("a 2xx status (add `expect: { status: CODE }` to expect another)")
                    .actual(format!("status {status}")),
            ),
            _ => None,
        };
        // A route the step expects to be missing is not checked.
        let mut contract_fault = None;
        if let Some(contract) = contract.as_ref().filter(|_| exchange.operation.is_some()) {
            let findings = contract.check(
                &self.contract,
                (method.as_str(), &path),
                body.as_ref(),
                (exchange.status, step.status.is_some()),
                &exchange.response,
            );
            let failing =
                super::contract::failing(self.contract.mode, &findings, step.status.is_some())
                    .cloned();
            self.findings.extend(findings);
            if let Some(finding) = failing {
                let broken = match finding.side.as_deref() {
                    Some("request") => "the request body breaks",
                    _ => "the answer breaks",
                };
                let at = self.value_loc(step, &method.as_str().to_ascii_lowercase());
                contract_fault = Some(
                    Fault::new(format!(
                        "{broken} ACA-Py {}'s API contract (--contract strict)",
                        finding.version
                    ))
                    .at(&at)
                    .label(finding.operation.clone())
                    .expected(
                        finding
                            .expected
                            .clone()
                            .map(|e| {
                                format!("{e} at {}", finding.pointer.clone().unwrap_or_default())
                            })
                            .unwrap_or_else(|| "a documented answer".into()),
                    )
                    .actual(finding.text.clone())
                    .note(
                        "help: if ACA-Py is right and its document wrong, declare it under `contract: { known: [...] }` in acapy-harness.yaml",
                    ),
                );
            }
        }
        self.exchanges.push(exchange.clone());
        match status_fault.or(contract_fault) {
            Some(fault) => Err(fault.response(Some(exchange))),
            None => Ok((exchange.response.clone(), Some(exchange))),
        }
    }

    async fn wait(&mut self, step: &Step, wait: &Wait) -> Result<Outcome, Fault> {
        // For a poll, the last response: shown if the step fails.
        let (outcome, description, polled) = match &wait.source {
            WaitSource::Event { topic } => {
                let log = self.streams[role(step)].log.clone();
                let outcome = wait::on_events(wait, topic, &log, &self.vars).await?;
                (outcome, format!("an event on `{topic}`"), None)
            }
            WaitSource::Poll { path, query } => {
                let client = self.clients[role(step)].clone();
                let path = path.render_path(&self.vars)?;
                let mut rendered = Vec::new();
                for (key, template) in query {
                    rendered.push((key.clone(), as_text(&template.render(&self.vars)?)));
                }
                let mut exchanges = Vec::new();
                let outcome = wait::by_polling(
                    wait,
                    &client,
                    role(step),
                    (&path, &rendered),
                    &self.vars,
                    &mut exchanges,
                )
                .await?;
                let last = exchanges.pop();
                self.exchanges.extend(last.clone());
                (outcome, format!("GET {path}"), last)
            }
        };
        let conditions = |status: &Option<StatusCheck>, assertions: &[Assertion]| {
            let mut parts: Vec<String> = status
                .iter()
                .map(|s| format!("status {}", s.code))
                .collect();
            if !assertions.is_empty() {
                parts.push(self.describe(assertions));
            }
            parts.join(", ")
        };
        // Where a condition is: its first JSONPath, else its `status`.
        let first_loc = |status: &Option<StatusCheck>, assertions: &[Assertion]| {
            assertions
                .first()
                .map(|a| a.query.loc.clone())
                .or_else(|| status.as_ref().map(|s| s.loc.clone()))
        };
        let statuses = &wait.status;
        let (message, last) = match outcome {
            WaitOutcome::Reached(payload) => return Ok((payload, polled)),
            WaitOutcome::FailedIf(payload) => {
                let mut failure =
                    Fault::new(format!("`fail_if` held while waiting for {description}"))
                        .label("this condition held")
                        .expected(conditions(&statuses.until, &wait.until))
                        .actual(short_json(&payload, 600))
                        .response(polled);
                failure.diagnostic.loc = first_loc(&statuses.fail_if, &wait.fail_if);
                return Err(failure);
            }
            WaitOutcome::StreamClosed(why, last) => {
                let why = match self.gone(role(step)).await {
                    Some(gone) => format!("{} {gone}: {why}", role(step)),
                    None => why,
                };
                (format!("{why} while waiting for {description}"), last)
            }
            WaitOutcome::TimedOut(last) => (
                format!(
                    "timed out after {:.1}s waiting for {description}",
                    wait.timeout.as_secs_f64()
                ),
                last,
            ),
        };
        let has_where = !wait.filter.is_empty() || statuses.filter.is_some();
        let expected = match has_where {
            false => conditions(&statuses.until, &wait.until),
            true => format!(
                "{} (where {})",
                conditions(&statuses.until, &wait.until),
                conditions(&statuses.filter, &wait.filter)
            ),
        };
        let non_2xx = polled.as_ref().filter(|e| !(200..300).contains(&e.status));
        // No event of the topic at all: `where` was never the problem.
        if let WaitSource::Event { topic } = &wait.source {
            let seen = self.streams[role(step)].log.snapshot();
            if !seen.iter().any(|e| &e.topic == topic) {
                let mut counts: Vec<(String, usize)> = Vec::new();
                for event in &seen {
                    match counts.iter_mut().find(|(t, _)| *t == event.topic) {
                        Some((_, n)) => *n += 1,
                        None => counts.push((event.topic.clone(), 1)),
                    }
                }
                let seen = match counts.is_empty() {
                    true => "no event at all".to_owned(),
                    false => counts
                        .iter()
                        .map(|(t, n)| format!("{t} ×{n}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                };
                let mut failure = Fault::new(message)
                    .label("no event of this topic came")
                    .expected(expected)
                    .actual(format!("no `{topic}` event arrived; seen: {seen}"))
                    .note("note: the topics each version sends are in docs/event-topics.md");
                failure.diagnostic.loc = Some(self.topic_loc(step, topic));
                return Err(failure);
            }
        }
        let actual = match (non_2xx, last, &wait.source) {
            // A poll that last got an error answer says so.
            (Some(e), _, _) => format!(
                "last answer: HTTP {}: {}",
                e.status,
                short_json(&e.response, 600)
            ),
            (None, Some(v), _) => format!("last seen: {}", short_json(&v, 600)),
            (None, None, _) if has_where => "nothing matched `where`".into(),
            (None, None, WaitSource::Event { topic }) => format!("no `{topic}` event arrived"),
            (None, None, WaitSource::Poll { .. }) => "no poll got an answer".into(),
        };
        let mut failure = Fault::new(message)
            .label("never held")
            .expected(expected)
            .actual(actual)
            .response(polled);
        failure.diagnostic.loc = first_loc(&statuses.until, &wait.until);
        Err(failure)
    }

    fn capture(
        &mut self,
        step: &Step,
        document: &Value,
        response: &Option<Exchange>,
    ) -> Result<(), Fault> {
        for capture in &step.captures {
            let Some(value) = capture::capture(capture, document) else {
                return Err(
                    Fault::new(format!("nothing to capture into `{}`", capture.var))
                        .at(&capture.query.loc)
                        .label("matched nothing")
                        .expected(format!("a value at {}", capture.query.text))
                        .actual(match response {
                            // The response is shown whole below.
                            Some(_) => "no value there in the response below".to_owned(),
                            None => short_json(document, 300),
                        })
                        .response(response.clone()),
                );
            };
            self.vars.insert(capture.var.clone(), value);
        }
        Ok(())
    }

    /// `$.state equals "done", $.role equals "holder"`, for wait failures.
    fn describe(&self, assertions: &[Assertion]) -> String {
        assertions
            .iter()
            .map(|a| {
                let ops: Vec<String> = a
                    .predicates
                    .iter()
                    .map(|p| predicate::describe(&p.op, &self.vars).unwrap_or_default())
                    .collect();
                format!("{} {}", a.query.text, ops.join(" and "))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl Runner<'_> {
    /// Where a wait's `event: TOPIC` is written: the step's `event` key.
    fn topic_loc(&self, step: &Step, topic: &str) -> crate::diagnostic::Loc {
        self.written(step, "event:", Some(topic))
    }

    /// Where the value of a step's `key:` (`post:`) is written.
    fn value_loc(&self, step: &Step, key: &str) -> crate::diagnostic::Loc {
        self.written(step, &format!("{key}:"), None)
    }

    /// The first `key` at or below the step's line, and after it `value`
    /// (or whatever follows the key); the step itself if none is found.
    fn written(&self, step: &Step, key: &str, value: Option<&str>) -> crate::diagnostic::Loc {
        let file = &step.loc.file;
        let from = step.loc.line;
        (from..from + 40)
            .find_map(|line| {
                let text = file.line(line)?;
                let at = text.find(key)?;
                let rest = &text[at + key.len()..];
                let (offset, len) = match value {
                    Some(v) => (rest.find(v)?, v.chars().count()),
                    None => {
                        let trimmed = rest.trim_start();
                        (
                            rest.len() - trimmed.len(),
                            trimmed.trim_end().chars().count(),
                        )
                    }
                };
                let column = at + key.len() + offset;
                Some(crate::diagnostic::Loc::new(
                    file,
                    line,
                    text[..column].chars().count() + 1,
                    len,
                ))
            })
            .unwrap_or_else(|| step.loc.clone())
    }
}

/// An error and what caused it, outermost first: reqwest's own message
/// (`error sending request`) leaves out why (`connection closed before
/// message completed`).
pub(super) fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// A matched event shown where a response would be.
/// The role a request or wait step talks to: checking makes sure it has one.
fn role(step: &Step) -> &str {
    step.agent
        .as_deref()
        .expect("request and wait steps name their agent")
}

fn event_as_exchange(agent: &str, payload: &Value) -> Exchange {
    Exchange {
        agent: agent.to_owned(),
        method: "EVENT".into(),
        url: String::new(),
        headers: Default::default(),
        request: None,
        status: 0,
        response: payload.clone(),
        elapsed_ms: 0.0,
        operation: None,
    }
}
