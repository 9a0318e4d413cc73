//! Requests to an agent's admin API.

use super::AdminEndpoint;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// One client for the whole run: building one (TLS roots) costs
/// milliseconds, and its pool keeps connections open between steps.
pub fn http_client() -> reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .tcp_nodelay(true)
                .build()
                .expect("HTTP client")
        })
        .clone()
}

#[derive(Clone)]
pub struct AdminClient {
    endpoint: AdminEndpoint,
    http: reqwest::Client,
}

/// One request and its response, as shown in failures and reports.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Exchange {
    pub agent: String,
    pub method: String,
    pub url: String,
    /// The request's headers; the agent's credentials as `***`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Value>,
    pub status: u16,
    pub response: Value,
    pub elapsed_ms: f64,
    /// The operation of the agent's API document it was (`GET
    /// /connections/{conn_id}`), when the contract is checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
}

impl AdminClient {
    pub fn new(endpoint: &AdminEndpoint) -> AdminClient {
        AdminClient {
            endpoint: endpoint.clone(),
            http: http_client(),
        }
    }

    /// A request to `path` (relative to the admin URL), authenticated.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.endpoint
            .auth
            .apply(self.http.request(method, self.url(path)))
    }

    fn url(&self, path: &str) -> String {
        let sep = if path.starts_with('/') { "" } else { "/" };
        format!("{}{sep}{path}", self.endpoint.url)
    }

    /// `GET path`'s JSON body; an answer other than 2xx is an error.
    pub async fn get_json(&self, path: &str) -> anyhow::Result<Value> {
        let resp = self.request(reqwest::Method::GET, path).send().await?;
        let status = resp.status();
        if !status.is_success() {
            anyhow::bail!("GET {path} answered {status}");
        }
        Ok(resp.json().await?)
    }

    /// Sends a request and keeps it with its response; a body that is not
    /// JSON is kept as a string.
    pub async fn send(
        &self,
        agent: &str,
        method: reqwest::Method,
        path: &str,
        query: &[(String, String)],
        body: Option<&Value>,
    ) -> Result<Exchange, reqwest::Error> {
        self.send_with(agent, method, path, query, &HeaderMap::new(), body)
            .await
    }

    /// [`Self::send`] with more headers, which replace the credentials'
    /// own where they share a name (an `Authorization` of the step's).
    pub async fn send_with(
        &self,
        agent: &str,
        method: reqwest::Method,
        path: &str,
        query: &[(String, String)],
        headers: &HeaderMap,
        body: Option<&Value>,
    ) -> Result<Exchange, reqwest::Error> {
        // One map, so that a step's header replaces the credentials'.
        let mut all = HeaderMap::new();
        for (name, value) in self.endpoint.auth.headers() {
            if let Ok(value) = HeaderValue::from_str(&value) {
                all.insert(name, value);
            }
        }
        let credentials: Vec<String> = all.keys().map(|k| k.to_string()).collect();
        for (name, value) in headers {
            all.insert(name.clone(), value.clone());
        }
        // Kept for reports with the agent's credentials hidden: they are
        // the harness's, not the scenario's.
        let shown = all
            .iter()
            .map(|(name, value)| {
                let own =
                    credentials.iter().any(|c| c == name.as_str()) && !headers.contains_key(name);
                let value = match own {
                    true => crate::redact::MASK.to_owned(),
                    false => String::from_utf8_lossy(value.as_bytes()).into_owned(),
                };
                (name.to_string(), value)
            })
            .collect();
        let mut req = self
            .http
            .request(method.clone(), self.url(path))
            .headers(all);
        if !query.is_empty() {
            req = req.query(query);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        let started = Instant::now();
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let url = resp.url().to_string();
        let text = resp.text().await?;
        let response = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Ok(Exchange {
            agent: agent.to_owned(),
            method: method.to_string(),
            url,
            headers: shown,
            request: body.cloned(),
            status,
            response,
            elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
            operation: None,
        })
    }
}
