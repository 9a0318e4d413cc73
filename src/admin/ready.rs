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
    loop {
        if let Ok(resp) = get("/status/ready").await {
            if resp.status().is_success() {
                break;
            }
        }
        still_running().map_err(|e| anyhow::anyhow!(e))?;
        if Instant::now() > deadline {
            anyhow::bail!(
                "{}/status/ready did not answer 200 within {}s",
                endpoint.url,
                timeout.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status: serde_json::Value = get("/status").await?.error_for_status()?.json().await?;
    Ok(status
        .get("version")
        .and_then(|v| v.as_str())
        .unwrap_or("unknown")
        .to_owned())
}
