//! A small stand-in for an ACA-Py admin API: `/status/ready`, `/status`,
//! scripted JSON routes, every request recorded, and `/ws` sending `settings`
//! then scripted events.
//!
//! HTTP/1.1 by hand over a `TcpListener`, one request per connection
//! (`Connection: close`), so reqwest's pooling never meets a half-read stream.

#![allow(dead_code)]

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, mpsc};
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::Message;

/// An event sent on `/ws`, `after` the previous one (or the trigger).
#[derive(Clone, Debug)]
pub struct Emit {
    pub after: Duration,
    pub topic: String,
    pub payload: Value,
}

pub fn emit(after_ms: u64, topic: &str, payload: Value) -> Emit {
    Emit {
        after: Duration::from_millis(after_ms),
        topic: topic.to_owned(),
        payload,
    }
}

/// One scripted answer.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    /// How long to wait before answering.
    pub delay: Duration,
    /// Events sent on every open `/ws` when the request arrives (before the
    /// answer), one after another, each `after` the previous.
    pub emit: Vec<Emit>,
    /// Close the connection instead of answering (after `delay` and `emit`):
    /// the client sees a transport error.
    pub hang_up: bool,
}

impl Reply {
    pub fn ok(body: Value) -> Reply {
        Reply::status(200, body)
    }

    pub fn status(status: u16, body: Value) -> Reply {
        Reply {
            status,
            body,
            delay: Duration::ZERO,
            emit: Vec::new(),
            hang_up: false,
        }
    }

    /// No answer: the connection is closed once the request is read.
    pub fn hang_up() -> Reply {
        Reply {
            hang_up: true,
            ..Reply::status(500, Value::Null)
        }
    }

    pub fn delayed(mut self, ms: u64) -> Reply {
        self.delay = Duration::from_millis(ms);
        self
    }

    pub fn emitting(mut self, events: Vec<Emit>) -> Reply {
        self.emit = events;
        self
    }
}

/// A request as the stub received it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    /// The path as sent (still percent-encoded), without the query.
    pub path: String,
    /// Decoded query pairs, in order.
    pub query: Vec<(String, String)>,
    /// Header names in lower case.
    pub headers: BTreeMap<String, String>,
    /// The body parsed as JSON (a string if it was not JSON), `None` if empty.
    pub body: Option<Value>,
}

impl Recorded {
    pub fn query_map(&self) -> BTreeMap<String, String> {
        self.query.iter().cloned().collect()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    /// What `GET /status` says.
    pub version: String,
    /// The key `/ws` accepts (`authenticated: false` for any other).
    pub api_key: Option<String>,
    /// Events sent on each `/ws` after `settings`.
    pub on_connect: Vec<Emit>,
    /// Close each `/ws` this long after `settings`.
    pub close_ws_after: Option<Duration>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            version: "1.3.6".into(),
            api_key: None,
            on_connect: Vec::new(),
            close_ws_after: None,
        }
    }
}

struct Shared {
    config: Config,
    /// (METHOD, path) → answers; the last one repeats.
    routes: Mutex<HashMap<(String, String), VecDeque<Reply>>>,
    requests: Mutex<Vec<Recorded>>,
    /// Headers of each `/ws` upgrade request.
    ws_connects: Mutex<Vec<BTreeMap<String, String>>>,
    events: broadcast::Sender<(String, Value)>,
}

pub struct Stub {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    shared: Arc<Shared>,
    accept: tokio::task::JoinHandle<()>,
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl Stub {
    pub async fn start(config: Config) -> Stub {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (events, _) = broadcast::channel(256);
        let shared = Arc::new(Shared {
            config,
            routes: Mutex::new(HashMap::new()),
            requests: Mutex::new(Vec::new()),
            ws_connects: Mutex::new(Vec::new()),
            events,
        });
        let for_accept = shared.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let shared = for_accept.clone();
                tokio::spawn(async move {
                    let _ = serve(stream, shared).await;
                });
            }
        });
        Stub {
            url,
            shared,
            accept,
        }
    }

    /// `method path` answers `replies` in turn; the last one repeats.
    pub fn route(&self, method: &str, path: &str, replies: Vec<Reply>) -> &Stub {
        assert!(!replies.is_empty(), "a route needs an answer");
        self.shared
            .routes
            .lock()
            .unwrap()
            .insert((method.to_owned(), path.to_owned()), replies.into());
        self
    }

    /// Every request received, `/status` probes included.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// Requests other than the readiness and version probes.
    pub fn api_requests(&self) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.path != "/status" && r.path != "/status/ready")
            .collect()
    }

    pub fn requests_to(&self, method: &str, path: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == method && r.path == path)
            .collect()
    }

    pub fn ws_connects(&self) -> Vec<BTreeMap<String, String>> {
        self.shared.ws_connects.lock().unwrap().clone()
    }

    pub fn clear_requests(&self) {
        self.shared.requests.lock().unwrap().clear();
        self.shared.ws_connects.lock().unwrap().clear();
    }
}

async fn serve(stream: TcpStream, shared: Arc<Shared>) -> std::io::Result<()> {
    // Enough of the request line to see whether this is the event stream.
    let mut peeked = [0u8; 16];
    let mut tries = 0;
    loop {
        let n = stream.peek(&mut peeked).await?;
        if n == 0 {
            return Ok(());
        }
        if n >= 8 || peeked[..n].contains(&b'\n') || tries > 200 {
            break;
        }
        tries += 1;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    if peeked.starts_with(b"GET /ws ") || peeked.starts_with(b"GET /ws?") {
        serve_ws(stream, shared).await;
        Ok(())
    } else {
        serve_http(stream, shared).await
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

async fn serve_http(mut stream: TcpStream, shared: Arc<Shared>) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default().to_owned();
    let target = request_line.next().unwrap_or_default().to_owned();
    let mut headers = BTreeMap::new();
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let url = reqwest::Url::parse(&format!("http://stub{target}")).expect("request target");
    let body = if body.is_empty() {
        None
    } else {
        let text = String::from_utf8_lossy(&body).into_owned();
        Some(serde_json::from_str(&text).unwrap_or(Value::String(text)))
    };
    let recorded = Recorded {
        method: method.clone(),
        path: url.path().to_owned(),
        query: url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
        headers,
        body,
    };
    shared.requests.lock().unwrap().push(recorded);

    let scripted = {
        let mut routes = shared.routes.lock().unwrap();
        routes
            .get_mut(&(method.clone(), url.path().to_owned()))
            .map(|answers| {
                if answers.len() > 1 {
                    answers.pop_front().unwrap()
                } else {
                    answers[0].clone()
                }
            })
    };
    let reply = match (scripted, method.as_str(), url.path()) {
        (Some(reply), _, _) => reply,
        (None, "GET", "/status/ready") => Reply::ok(json!({ "ready": true })),
        (None, "GET", "/status") => Reply::ok(json!({ "version": shared.config.version })),
        (None, _, path) => Reply::status(
            404,
            json!({ "error": format!("stub: no route {method} {path}") }),
        ),
    };

    if !reply.emit.is_empty() {
        let events = shared.events.clone();
        let script = reply.emit.clone();
        tokio::spawn(async move {
            for e in script {
                if !e.after.is_zero() {
                    tokio::time::sleep(e.after).await;
                }
                let _ = events.send((e.topic, e.payload));
            }
        });
    }
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    if reply.hang_up {
        let _ = stream.shutdown().await;
        return Ok(());
    }
    let text = reply.body.to_string();
    let response = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        reply.status,
        if reply.status == 200 { "OK" } else { "Scripted" },
        text.len(),
        text
    );
    stream.write_all(response.as_bytes()).await?;
    stream.flush().await?;
    let _ = stream.shutdown().await;
    Ok(())
}

#[allow(clippy::result_large_err)] // the handshake callback's error type is tungstenite's
async fn serve_ws(stream: TcpStream, shared: Arc<Shared>) {
    let seen: Arc<Mutex<BTreeMap<String, String>>> = Arc::default();
    let record = seen.clone();
    let callback = move |req: &Request, resp: Response| {
        let mut headers = record.lock().unwrap();
        for (name, value) in req.headers() {
            headers.insert(
                name.as_str().to_ascii_lowercase(),
                value.to_str().unwrap_or_default().to_owned(),
            );
        }
        Ok(resp)
    };
    let Ok(ws) = tokio_tungstenite::accept_hdr_async(stream, callback).await else {
        return;
    };
    let headers = seen.lock().unwrap().clone();
    shared.ws_connects.lock().unwrap().push(headers.clone());
    // Subscribed before `settings`, so nothing triggered afterwards is missed.
    let mut broadcast = shared.events.subscribe();
    let (mut sink, mut source) = ws.split();

    let authenticated = match &shared.config.api_key {
        None => true,
        Some(key) => headers.get("x-api-key") == Some(key),
    };
    let settings = json!({ "topic": "settings", "payload": { "authenticated": authenticated } });
    if sink
        .send(Message::text(settings.to_string()))
        .await
        .is_err()
    {
        return;
    }

    let (local_tx, mut local) = mpsc::unbounded_channel::<(String, Value)>();
    let script = shared.config.on_connect.clone();
    tokio::spawn(async move {
        for e in script {
            if !e.after.is_zero() {
                tokio::time::sleep(e.after).await;
            }
            if local_tx.send((e.topic, e.payload)).is_err() {
                return;
            }
        }
    });
    let close_at = shared.config.close_ws_after;
    let close = async move {
        match close_at {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(close);

    loop {
        let next = tokio::select! {
            Some(event) = local.recv() => event,
            received = broadcast.recv() => match received {
                Ok(event) => event,
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return,
            },
            message = source.next() => match message {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => continue,
            },
            _ = &mut close => {
                let _ = sink.send(Message::Close(None)).await;
                return;
            }
        };
        let message = json!({ "topic": next.0, "payload": next.1 });
        if sink.send(Message::text(message.to_string())).await.is_err() {
            return;
        }
    }
}
