//! Each agent's admin `/ws` event stream, subscribed before the first step and
//! buffered for the whole case, so a wait sees events that came before it.

use super::AdminEndpoint;
use futures_util::StreamExt;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Event {
    pub topic: String,
    pub payload: Value,
    /// Milliseconds since the case started.
    pub at_ms: f64,
}

pub struct EventLog {
    events: Mutex<Vec<Event>>,
    /// Woken on every new event and when the stream closes.
    pub changed: Notify,
    closed: Mutex<Option<String>>,
    started: Instant,
}

impl EventLog {
    pub fn snapshot(&self) -> Vec<Event> {
        self.events.lock().unwrap().clone()
    }

    /// Events from index `from` on.
    pub fn since(&self, from: usize) -> Vec<Event> {
        let events = self.events.lock().unwrap();
        events
            .get(from..)
            .map(<[Event]>::to_vec)
            .unwrap_or_default()
    }

    /// Why the stream ended, if it did.
    pub fn closed(&self) -> Option<String> {
        self.closed.lock().unwrap().clone()
    }

    fn push(&self, topic: String, payload: Value) {
        let at_ms = self.started.elapsed().as_secs_f64() * 1000.0;
        self.events.lock().unwrap().push(Event {
            topic,
            payload,
            at_ms,
        });
        self.changed.notify_waiters();
    }

    fn close(&self, why: String) {
        *self.closed.lock().unwrap() = Some(why);
        self.changed.notify_waiters();
    }
}

/// A subscribed stream; dropping it disconnects.
pub struct EventStream {
    pub log: Arc<EventLog>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for EventStream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl EventStream {
    /// Connects to `ADMIN/ws` with the endpoint's credentials and waits for
    /// the `settings` message that says they were accepted. For a sub-wallet,
    /// only the events tagged with its `wallet_id` are kept.
    pub async fn connect(
        endpoint: &AdminEndpoint,
        started: Instant,
    ) -> anyhow::Result<EventStream> {
        let log = Arc::new(EventLog {
            events: Mutex::new(Vec::new()),
            changed: Notify::new(),
            closed: Mutex::new(None),
            started,
        });
        let task = Self::listen(endpoint, log.clone()).await?;
        Ok(EventStream { log, task })
    }

    /// Listens again (after the agent restarted), into the same log: waits
    /// see the events from before the restart and after it.
    pub async fn reconnect(&mut self, endpoint: &AdminEndpoint) -> anyhow::Result<()> {
        self.task.abort();
        self.task = Self::listen(endpoint, self.log.clone()).await?;
        *self.log.closed.lock().unwrap() = None;
        Ok(())
    }

    /// Opens the socket, checks the credentials were accepted, and copies
    /// every event into `log` until the socket closes.
    async fn listen(
        endpoint: &AdminEndpoint,
        log: Arc<EventLog>,
    ) -> anyhow::Result<tokio::task::JoinHandle<()>> {
        let ws_url = format!(
            "{}/ws",
            endpoint
                .url
                .replacen("http://", "ws://", 1)
                .replacen("https://", "wss://", 1)
        );
        let mut request = ws_url.as_str().into_client_request()?;
        for (name, value) in endpoint.auth.headers() {
            request.headers_mut().insert(name, value.parse()?);
        }
        let wallet_id = endpoint.auth.wallet_id().map(str::to_owned);
        let (mut socket, _) = tokio::time::timeout(
            Duration::from_secs(10),
            tokio_tungstenite::connect_async(request),
        )
        .await
        .map_err(|_| anyhow::anyhow!("{ws_url}: no answer within 10s"))??;

        // The first message is `settings`; it says whether events will flow.
        let first = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .map_err(|_| anyhow::anyhow!("{ws_url}: no `settings` message within 10s"))?;
        if let Some(Ok(Message::Text(text))) = first {
            let msg: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let authenticated = msg
                .pointer("/payload/authenticated")
                .and_then(Value::as_bool);
            if authenticated == Some(false) {
                anyhow::bail!("{ws_url} did not accept the admin API key: no events would arrive");
            }
        }

        let writer = log;
        let task = tokio::spawn(async move {
            while let Some(message) = socket.next().await {
                match message {
                    Ok(Message::Text(text)) => {
                        let Ok(msg) = serde_json::from_str::<Value>(&text) else {
                            continue;
                        };
                        // A multitenant agent tags each sub-wallet's events.
                        if let Some(wanted) = &wallet_id {
                            if msg.get("wallet_id").and_then(Value::as_str) != Some(wanted) {
                                continue;
                            }
                        }
                        let topic = msg
                            .get("topic")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned();
                        // Keepalives are `ping` without a payload; trust-ping
                        // events (`--monitor-ping`) share the topic but have one.
                        let Some(payload) = msg.get("payload").cloned() else {
                            continue;
                        };
                        writer.push(topic, payload);
                    }
                    Ok(Message::Close(_)) => break,
                    Ok(_) => {}
                    Err(e) => {
                        writer.close(format!("event stream failed: {e}"));
                        return;
                    }
                }
            }
            writer.close("the agent closed its event stream".into());
        });
        Ok(task)
    }
}

/// One line per event, for failure messages: `topic state=... id=...`.
pub fn summarize(event: &Event) -> String {
    let mut line = format!("+{:.0}ms {}", event.at_ms, event.topic);
    for key in [
        "state",
        "rfc23_state",
        "connection_id",
        "cred_ex_id",
        "thread_id",
        "invi_msg_id",
        "error_msg",
    ] {
        if let Some(v) = event.payload.get(key).and_then(Value::as_str) {
            line.push_str(&format!(" {key}={v}"));
        }
    }
    line
}
