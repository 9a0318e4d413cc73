//! `wait` steps: until an agent's event, or a polled response, says so.
//! No fixed sleeps: events wake the waiter; polls are spaced by `interval`.

use super::assert::{all_hold, any_given_and_holds};
use crate::admin::events::EventLog;
use crate::admin::{AdminClient, Exchange};
use crate::diagnostic::Diagnostic;
use crate::scenario::model::{StatusCheck, Wait};
use crate::scenario::template::Vars;
use serde_json::Value;
use std::pin::pin;
use tokio::time::Instant;

#[derive(Debug)]
pub enum WaitOutcome {
    /// `until` held: the event payload or response body.
    Reached(Value),
    /// `fail_if` held first.
    FailedIf(Value),
    /// Time ran out; the last event (or response) that passed `where`.
    TimedOut(Option<Value>),
    /// The event stream ended.
    StreamClosed(String, Option<Value>),
}

pub async fn on_events(
    wait: &Wait,
    topic: &str,
    log: &EventLog,
    vars: &Vars,
) -> Result<WaitOutcome, Diagnostic> {
    let deadline = Instant::now() + wait.timeout;
    let mut cursor = 0;
    let mut last = None;
    loop {
        let mut changed = pin!(log.changed.notified());
        changed.as_mut().enable();
        let fresh = log.since(cursor);
        cursor += fresh.len();
        for event in fresh.into_iter().filter(|e| e.topic == topic) {
            if !all_hold(&wait.filter, &event.payload, vars)? {
                continue;
            }
            if any_given_and_holds(&wait.fail_if, &event.payload, vars)? {
                return Ok(WaitOutcome::FailedIf(event.payload));
            }
            if all_hold(&wait.until, &event.payload, vars)? {
                return Ok(WaitOutcome::Reached(event.payload));
            }
            last = Some(event.payload);
        }
        if let Some(why) = log.closed() {
            return Ok(WaitOutcome::StreamClosed(why, last));
        }
        tokio::select! {
            _ = changed => {}
            _ = tokio::time::sleep_until(deadline) => return Ok(WaitOutcome::TimedOut(last)),
        }
    }
}

/// Polls `GET path?query`. `where` takes any answer (its `status`, if
/// given, must match); `until` and `fail_if` hold only on their `status`,
/// else on a 2xx answer. The last answer that passed `where`, whatever its
/// status, is what a time-out shows.
pub async fn by_polling(
    wait: &Wait,
    client: &AdminClient,
    agent: &str,
    (path, query): (&str, &[(String, String)]),
    vars: &Vars,
    exchanges: &mut Vec<Exchange>,
) -> Result<WaitOutcome, Diagnostic> {
    let status_ok = |check: &Option<StatusCheck>, status: u16, default_2xx: bool| match check {
        Some(c) => c.code == status,
        None => !default_2xx || (200..300).contains(&status),
    };
    let statuses = &wait.status;
    let deadline = Instant::now() + wait.timeout;
    let mut last = None;
    loop {
        let next_poll = Instant::now() + wait.interval;
        // A failed request (agent busy, 404 before a record exists) is one
        // more poll, not a failure: the timeout bounds it.
        // A request that hangs must not outlast the wait either.
        let poll = client.send(agent, reqwest::Method::GET, path, query, None);
        if let Ok(Ok(exchange)) = tokio::time::timeout_at(deadline, poll).await {
            let body = exchange.response.clone();
            let status = exchange.status;
            exchanges.push(exchange);
            if status_ok(&statuses.filter, status, false) && all_hold(&wait.filter, &body, vars)? {
                let fail_if_given = !wait.fail_if.is_empty() || statuses.fail_if.is_some();
                if fail_if_given
                    && status_ok(&statuses.fail_if, status, true)
                    && all_hold(&wait.fail_if, &body, vars)?
                {
                    return Ok(WaitOutcome::FailedIf(body));
                }
                if status_ok(&statuses.until, status, true) && all_hold(&wait.until, &body, vars)? {
                    return Ok(WaitOutcome::Reached(body));
                }
                last = Some(body);
            }
        }
        if Instant::now() >= deadline {
            return Ok(WaitOutcome::TimedOut(last));
        }
        tokio::time::sleep_until(next_poll.min(deadline)).await;
    }
}
