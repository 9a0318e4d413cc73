//! Waiting until an agent answers, and asking which version it is.

use super::{AdminClient, AdminEndpoint};
use std::time::{Duration, Instant};

/// Waits for `GET /status/ready` to answer 200, then reads the version from
/// `GET /status`. `still_running` is asked between tries so a crashed agent
/// fails at once instead of at the timeout.
pub async fn wait_ready(
    endpoint: &AdminEndpoint,
    timeout: Duration,
    mut still_running: impl FnMut() -> Result<(), String>,
) -> anyhow::Result<String> {
    let client = AdminClient::new(endpoint);
    let deadline = Instant::now() + timeout;
    let get = |path: &str| {
        client
            .request(reqwest::Method::GET, path)
            .timeout(Duration::from_secs(2))
            .send()
    };
    // An agent that refuses this key answered: another agent on this port
    // (a free port taken before ours bound it: ours then says so in its log
    // and `still_running` ends the wait), or a wrong key.
    let mut refused = None;
    loop {
        if let Ok(resp) = get("/status/ready").await {
            if resp.status().is_success() {
                let status = get("/status").await?;
                match status.status() {
                    reqwest::StatusCode::UNAUTHORIZED | reqwest::StatusCode::FORBIDDEN => {
                        refused = Some(status.status())
                    }
                    _ => {
                        let status: serde_json::Value = status.error_for_status()?.json().await?;
                        return Ok(status
                            .get("version")
                            .and_then(|v| v.as_str())
                            .unwrap_or("unknown")
                            .to_owned());
                    }
                }
            }
        }
        still_running().map_err(|e| anyhow::anyhow!(e))?;
        if Instant::now() > deadline {
            match refused {
                Some(code) => anyhow::bail!(
                    "{} answers, but refuses this agent's API key ({code}): another agent \
                     has this port, or the key is wrong",
                    endpoint.url
                ),
                None => anyhow::bail!(
                    "{}/status/ready did not answer 200 within {}s",
                    endpoint.url,
                    timeout.as_secs()
                ),
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::AdminAuth;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// An agent on the port that is ready but refuses every key but its own.
    async fn another_agent() -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut request = [0u8; 2048];
                let read = stream.read(&mut request).await.unwrap_or(0);
                let ready =
                    String::from_utf8_lossy(&request[..read]).starts_with("GET /status/ready ");
                let (status, body) = match ready {
                    true => ("200 OK", r#"{"ready": true}"#),
                    false => ("401 Unauthorized", "401: Unauthorized"),
                };
                let answer = format!(
                    "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            }
        });
        url
    }

    fn ours(url: &str) -> AdminEndpoint {
        AdminEndpoint::new(url, AdminAuth::ApiKey("ours".into()))
    }

    #[tokio::test]
    async fn another_agent_on_the_port_is_not_taken_for_ours() {
        let url = another_agent().await;
        let mut asked = 0;
        let waited = wait_ready(&ours(&url), Duration::from_secs(10), || {
            asked += 1;
            match asked {
                3 => Err("aca-py for `holder` could not bind a port".into()),
                _ => Ok(()),
            }
        })
        .await;
        let error = waited.expect_err("not ready").to_string();
        assert_eq!(error, "aca-py for `holder` could not bind a port");
    }

    #[tokio::test]
    async fn a_refused_key_is_said_at_the_timeout() {
        let url = another_agent().await;
        let waited = wait_ready(&ours(&url), Duration::from_millis(300), || Ok(())).await;
        let error = waited.expect_err("not ready").to_string();
        assert!(
            error.contains("refuses this agent's API key (401 Unauthorized): another agent has this port, or the key is wrong"),
            "{error}"
        );
    }
}
