//! One scrape request: the GET with upstream's headers, the status check, gzip, the body
//! size limit, and what the response's content type says about the format. In-memory
//! targets (exporters inside this process) are answered without a socket.

use std::io::Read;
use std::time::Duration;

use crate::http_client::HttpClientConfig;

/// `__address__` of targets served inside this process (upstream's in-memory listener name).
pub const IN_MEMORY_ADDRESS: &str = "alloy.internal:12345";

/// A scrape's response body and content type.
pub struct Response {
    pub body: Vec<u8>,
    pub content_type: String,
}

/// Why a scrape failed; `body_size_limit` failures are told apart for
/// `scrape_body_size_bytes` (-1).
#[derive(Debug)]
pub enum FetchError {
    BodySizeLimit,
    Other(String),
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FetchError::BodySizeLimit => f.write_str("body size limit exceeded"),
            FetchError::Other(m) => f.write_str(m),
        }
    }
}

pub struct Request<'a> {
    pub url: &'a str,
    pub accept: &'a str,
    pub gzip: bool,
    pub timeout: Duration,
    /// 0 = no limit.
    pub body_size_limit: u64,
}

/// `X-Prometheus-Scrape-Timeout-Seconds`: seconds in the shortest float form (`10`, `0.5`).
fn timeout_header(t: Duration) -> String {
    let s = t.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{}", s as u64)
    } else {
        format!("{s}")
    }
}

pub async fn fetch(client: &reqwest::Client, config: &HttpClientConfig, req: &Request<'_>) -> Result<Response, FetchError> {
    let other = |m: String| FetchError::Other(m);
    let mut r = client
        .get(req.url)
        .header("Accept", req.accept)
        .header("Accept-Encoding", if req.gzip { "gzip" } else { "identity" })
        .header("X-Prometheus-Scrape-Timeout-Seconds", timeout_header(req.timeout))
        .timeout(req.timeout);
    if let Some(auth) = config.authorization_header().map_err(other)? {
        r = r.header("Authorization", auth);
    }
    let mut resp = r.send().await.map_err(|e| other(crate::http_client::describe_error(&e)))?;
    let status = resp.status();
    if status != reqwest::StatusCode::OK {
        return Err(other(format!("server returned HTTP status {}", status_text(status))));
    }
    let content_type = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let gzipped = resp.headers().get("content-encoding").and_then(|v| v.to_str().ok()).is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
    let limit = if req.body_size_limit == 0 { u64::MAX } else { req.body_size_limit };
    let mut raw = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| other(crate::http_client::describe_error(&e)))? {
        raw.extend_from_slice(&chunk);
        if !gzipped && raw.len() as u64 > limit {
            return Err(FetchError::BodySizeLimit);
        }
    }
    let body = if gzipped { gunzip(&raw, limit)? } else { raw };
    Ok(Response { body, content_type })
}

fn gunzip(raw: &[u8], limit: u64) -> Result<Vec<u8>, FetchError> {
    let mut out = Vec::new();
    let mut d = flate2::read::GzDecoder::new(raw).take(limit.saturating_add(1));
    d.read_to_end(&mut out).map_err(|e| FetchError::Other(format!("gzip: {e}")))?;
    if out.len() as u64 > limit {
        return Err(FetchError::BodySizeLimit);
    }
    Ok(out)
}

/// `404 Not Found`, as Go's `resp.Status` prints it.
pub fn status_text(s: reqwest::StatusCode) -> String {
    format!("{} {}", s.as_u16(), s.canonical_reason().unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_header_is_the_shortest_float() {
        assert_eq!(timeout_header(Duration::from_secs(10)), "10");
        assert_eq!(timeout_header(Duration::from_millis(500)), "0.5");
    }

    #[test]
    fn gzip_bodies_are_limited_after_decompression() {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&vec![b'a'; 10_000]).unwrap_or_default();
        let gz = e.finish().unwrap_or_default();
        assert!(matches!(gunzip(&gz, 9_999), Err(FetchError::BodySizeLimit)));
        assert_eq!(gunzip(&gz, 10_000).map(|b| b.len()).ok(), Some(10_000));
    }
}
