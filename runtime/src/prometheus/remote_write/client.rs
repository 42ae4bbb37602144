//! One remote-write request: upstream's headers, and what the answer means for the batch
//! (sent, retry later, or drop).

use std::time::Duration;

use prom::remote::VERSION_HEADER;

use super::args::Endpoint;
use crate::delivery::retry::SendError;

pub struct Client {
    http: reqwest::Client,
}

impl Client {
    pub fn new(e: &Endpoint) -> Result<Client, String> {
        Ok(Client { http: e.client.client(Some(e.remote_timeout), &crate::prometheus::user_agent())? })
    }

    /// Sends one compressed body; `attempt` counts retries (0 for the first try).
    pub async fn send(&self, e: &Endpoint, body: Vec<u8>, attempt: u32) -> Result<(), SendError> {
        let mut req = self
            .http
            .post(&e.url)
            .header("Content-Encoding", "snappy")
            .header("Content-Type", e.message.content_type())
            .header(VERSION_HEADER, e.message.version())
            .body(body);
        if attempt > 0 {
            req = req.header("Retry-Attempt", attempt.to_string());
        }
        for (k, v) in &e.headers {
            req = req.header(k, v);
        }
        match e.client.authorization_header() {
            Ok(Some(auth)) => req = req.header("Authorization", auth),
            Ok(None) => {}
            Err(err) => return Err(SendError::retryable(err)),
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(err) => return Err(SendError::retryable(format!("Post {:?}: {}", e.url, crate::http_client::describe_error(&err)))),
        };
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let retry_after = resp.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok()).map(Duration::from_secs);
        let body = resp.bytes().await.unwrap_or_default();
        let text = String::from_utf8_lossy(&body[..body.len().min(1024)]).to_string();
        let message = format!("server returned HTTP status {}: {}", crate::prometheus::scrape::fetch::status_text(status), text.trim_end());
        let retryable = status.is_server_error() || (status.as_u16() == 429 && e.queue.retry_on_http_429);
        Err(SendError { message, retryable, retry_after })
    }
}
