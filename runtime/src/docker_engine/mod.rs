//! The Docker Engine API, as much of it as `discovery.docker` and `loki.source.docker` use:
//! listing containers (`GET /containers/json`) and networks (`GET /networks`), inspecting a
//! container (`GET /containers/{id}/json`) and following its logs
//! (`GET /containers/{id}/logs`). Requests are unversioned, which the daemon serves as its
//! current API version.
//!
//! The daemon is named by a host URL as the Docker CLI writes it: `unix:///path/to.sock`,
//! `tcp://host:port` (plain HTTP), or `http://` / `https://` URLs (optionally with a path
//! prefix). Every transport goes through the shared HTTP client settings
//! ([`HttpClientConfig`]): TLS settings matter to `https://` hosts only, proxies to TCP hosts
//! only.

#[cfg(test)]
pub mod fake;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value as Json;

use crate::http_client::{describe_error, HttpClientConfig};

/// Where the daemon listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Address {
    /// A Unix socket; requests go to `http://docker/...` over it.
    Unix(PathBuf),
    /// An HTTP base URL (`tcp://` hosts become `http://`), ending in `/`.
    Http(reqwest::Url),
}

/// The daemon address a host URL names, or why it names none.
pub fn parse_host(host: &str) -> Result<Address, String> {
    let Some((scheme, rest)) = host.split_once("://") else {
        return Err(format!("unable to parse docker host {host:?}: expected unix://, tcp://, http:// or https://"));
    };
    match scheme {
        "unix" if !rest.is_empty() => Ok(Address::Unix(PathBuf::from(rest))),
        "unix" => Err(format!("unable to parse docker host {host:?}: the socket path is empty")),
        "tcp" | "http" | "https" => {
            let scheme = if scheme == "tcp" { "http" } else { scheme };
            let mut url = reqwest::Url::parse(&format!("{scheme}://{rest}")).map_err(|e| format!("unable to parse docker host {host:?}: {e}"))?;
            if url.host_str().is_none_or(str::is_empty) {
                return Err(format!("unable to parse docker host {host:?}: no host name"));
            }
            if url.query().is_some() || url.fragment().is_some() {
                return Err(format!("unable to parse docker host {host:?}: a query or fragment is not allowed"));
            }
            if !url.path().ends_with('/') {
                let path = format!("{}/", url.path());
                url.set_path(&path);
            }
            Ok(Address::Http(url))
        }
        other => Err(format!("unable to parse docker host {host:?}: protocol {other:?} is not supported (expected unix, tcp, http or https)")),
    }
}

/// Why a request failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// The daemon answered 404 (no such container).
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Other(String),
}

/// What `GET /containers/{id}/json` tells a log tailer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Inspect {
    pub tty: bool,
    pub running: bool,
    /// When it last stopped, RFC 3339 (Go's zero time, year 1, when it never did).
    pub finished_at: String,
}

/// `filter` blocks as the daemon takes them: name → values.
pub type Filters = BTreeMap<String, BTreeSet<String>>;

/// A client of one daemon.
pub struct Engine {
    client: reqwest::Client,
    base: reqwest::Url,
    /// As written, for messages.
    host: String,
    config: HttpClientConfig,
    timeout: Duration,
}

impl Engine {
    /// A client of the daemon at `host`; requests other than a log stream's body time out
    /// after `timeout`.
    pub fn new(host: &str, config: &HttpClientConfig, timeout: Duration, user_agent: &str) -> Result<Engine, String> {
        let address = parse_host(host)?;
        let timeout = if timeout.is_zero() { Duration::from_secs(60) } else { timeout };
        let builder = config.builder(None, user_agent)?.connect_timeout(timeout);
        let (builder, base) = match address {
            #[cfg(unix)]
            Address::Unix(path) => (builder.unix_socket(path), reqwest::Url::parse("http://docker/").map_err(|e| e.to_string())?),
            #[cfg(not(unix))]
            Address::Unix(_) => return Err("unix:// hosts need a Unix system".into()),
            Address::Http(url) => (builder, url),
        };
        let client = builder.build().map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Engine { client, base, host: host.to_string(), config: config.clone(), timeout })
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> reqwest::Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    fn connect_error(&self, e: &reqwest::Error) -> EngineError {
        if e.is_connect() {
            EngineError::Other(format!("cannot connect to the Docker daemon at {} (is the docker daemon running?): {}", self.host, describe_error(e)))
        } else {
            EngineError::Other(format!(
                "requesting {} from the Docker daemon at {}: {}",
                e.url().map(|u| u.path()).unwrap_or_default(),
                self.host,
                describe_error(e)
            ))
        }
    }

    /// Sends a GET and checks the status; `timeout` bounds the wait for the response head.
    async fn get(&self, url: reqwest::Url, timeout: Duration) -> Result<reqwest::Response, EngineError> {
        let mut req = self.client.get(url);
        if let Some(auth) = self.config.authorization_header().map_err(EngineError::Other)? {
            req = req.header(reqwest::header::AUTHORIZATION, auth);
        }
        let resp = match tokio::time::timeout(timeout, req.send()).await {
            Ok(r) => r.map_err(|e| self.connect_error(&e))?,
            Err(_) => return Err(EngineError::Other(format!("the Docker daemon at {} did not answer within {timeout:?}", self.host))),
        };
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let body = tokio::time::timeout(timeout, resp.bytes()).await.ok().and_then(Result::ok).unwrap_or_default();
        let message = serde_json::from_slice::<Json>(&body)
            .ok()
            .and_then(|j| j.get("message").and_then(Json::as_str).map(str::to_string))
            .unwrap_or_else(|| format!("HTTP {status}: {}", String::from_utf8_lossy(&body).trim()));
        let message = format!("Error response from daemon: {message}");
        Err(if status == reqwest::StatusCode::NOT_FOUND { EngineError::NotFound(message) } else { EngineError::Other(message) })
    }

    async fn json(&self, segments: &[&str], query: &[(&str, &str)]) -> Result<Json, EngineError> {
        let url = self.url(segments, query);
        let what = url.path().to_string();
        let read = async {
            let resp = self.get(url, self.timeout).await?;
            resp.bytes().await.map_err(|e| self.connect_error(&e))
        };
        let body = tokio::time::timeout(self.timeout, read)
            .await
            .map_err(|_| EngineError::Other(format!("the Docker daemon at {} did not answer within {:?}", self.host, self.timeout)))??;
        serde_json::from_slice(&body).map_err(|e| EngineError::Other(format!("decoding the answer to {what}: {e}")))
    }

    /// `GET /containers/json`: the running containers the filters select.
    pub async fn containers(&self, filters: &Filters) -> Result<Vec<Json>, EngineError> {
        let encoded;
        let mut query = Vec::new();
        if !filters.is_empty() {
            let map: serde_json::Map<String, Json> =
                filters.iter().map(|(k, vs)| (k.clone(), Json::Object(vs.iter().map(|v| (v.clone(), Json::Bool(true))).collect()))).collect();
            encoded = Json::Object(map).to_string();
            query.push(("filters", encoded.as_str()));
        }
        array(self.json(&["containers", "json"], &query).await?, "/containers/json")
    }

    /// `GET /networks`.
    pub async fn networks(&self) -> Result<Vec<Json>, EngineError> {
        array(self.json(&["networks"], &[]).await?, "/networks")
    }

    /// `GET /containers/{id}/json`.
    pub async fn inspect(&self, id: &str) -> Result<Inspect, EngineError> {
        let j = self.json(&["containers", id, "json"], &[]).await?;
        Ok(Inspect {
            tty: j.pointer("/Config/Tty").and_then(Json::as_bool).unwrap_or(false),
            running: j.pointer("/State/Running").and_then(Json::as_bool).unwrap_or(false),
            finished_at: j.pointer("/State/FinishedAt").and_then(Json::as_str).unwrap_or_default().to_string(),
        })
    }

    /// `GET /containers/{id}/logs`, following, both streams, with timestamps, from `since`
    /// (`seconds.nanoseconds`, inclusive) when given. The body is the stream.
    pub async fn logs(&self, id: &str, since: Option<&str>) -> Result<reqwest::Response, EngineError> {
        let mut query = vec![("stdout", "1"), ("stderr", "1"), ("follow", "1"), ("timestamps", "1")];
        if let Some(s) = since {
            query.push(("since", s));
        }
        self.get(self.url(&["containers", id, "logs"], &query), self.timeout).await
    }
}

fn array(j: Json, what: &str) -> Result<Vec<Json>, EngineError> {
    match j {
        Json::Array(items) => Ok(items),
        Json::Null => Ok(Vec::new()),
        _ => Err(EngineError::Other(format!("decoding the answer to {what}: expected a JSON array"))),
    }
}

/// `seconds.nanoseconds` of a time in nanoseconds since the epoch: the daemon's `since`.
pub fn since_param(ns: i64) -> String {
    format!("{}.{:09}", ns.div_euclid(1_000_000_000), ns.rem_euclid(1_000_000_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_urls() {
        assert_eq!(parse_host("unix:///var/run/docker.sock"), Ok(Address::Unix("/var/run/docker.sock".into())));
        let http = |s: &str| match parse_host(s) {
            Ok(Address::Http(u)) => u.to_string(),
            other => panic!("{other:?}"),
        };
        assert_eq!(http("tcp://127.0.0.1:2375"), "http://127.0.0.1:2375/");
        assert_eq!(http("https://docker.example:2376/prefix"), "https://docker.example:2376/prefix/");
        assert!(parse_host("npipe:////./pipe/docker_engine").unwrap_err().contains("protocol \"npipe\" is not supported"));
        assert!(parse_host("localhost:2375").is_err());
        assert!(parse_host("unix://").is_err());
        assert!(parse_host("tcp://").is_err());
    }

    #[test]
    fn urls_keep_the_prefix_and_escape_segments() {
        let e = Engine::new("http://127.0.0.1:1/v", &HttpClientConfig::default(), Duration::from_secs(1), "t").expect("engine");
        assert_eq!(
            e.url(&["containers", "a b", "json"], &[("filters", "{\"x\":1}")]).as_str(),
            "http://127.0.0.1:1/v/containers/a%20b/json?filters=%7B%22x%22%3A1%7D"
        );
        assert_eq!(since_param(1_700_000_000_000_000_005), "1700000000.000000005");
    }
}
