//! `loki.write`'s arguments: `endpoint` blocks (each with the shared HTTP client settings),
//! `external_labels`, `max_streams`; the experimental `wal` block is refused when enabled.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::component::args::types::{Bytes, Dur};
use crate::component::{Arguments, Reader};
use crate::http_client::HttpClientConfig;

#[derive(Default)]
pub struct Args {
    pub endpoints: Vec<Endpoint>,
    pub external_labels: BTreeMap<String, String>,
    pub max_streams: i64,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        let wal: Option<Wal> = r.block("wal");
        if wal.is_some_and(|w| w.enabled) {
            r.error("wal", "the loki.write WAL (wal.enabled = true) is not supported by this runtime yet");
        }
        Args { endpoints: r.blocks("endpoint"), external_labels: r.get("external_labels"), max_streams: r.get("max_streams") }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        r.check(self.max_streams >= 0, &["max_streams"], format!("max_streams must be >= 0; got {}", self.max_streams));
    }
}

/// Only `enabled` matters: the other settings tune a WAL this runtime does not have.
#[derive(Default)]
struct Wal {
    enabled: bool,
}

impl Arguments for Wal {
    fn decode(r: &mut Reader<'_>) -> Self {
        let w = Wal { enabled: r.get("enabled") };
        for name in ["drain_timeout", "max_read_frequency", "max_segment_age", "min_read_frequency"] {
            let _ = r.get::<Dur>(name);
        }
        w
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Endpoint {
    pub name: String,
    pub url: String,
    pub batch_size: u64,
    pub batch_wait: Duration,
    pub remote_timeout: Duration,
    pub min_backoff: Duration,
    pub max_backoff: Duration,
    /// 0: retry until delivered.
    pub max_backoff_retries: i64,
    pub retry_on_http_429: bool,
    pub tenant_id: String,
    pub headers: BTreeMap<String, String>,
    pub client: HttpClientConfig,
    pub queue: QueueConfig,
}

impl Default for Endpoint {
    fn default() -> Self {
        Endpoint {
            name: String::new(),
            url: String::new(),
            batch_size: 0,
            batch_wait: Duration::ZERO,
            remote_timeout: Duration::ZERO,
            min_backoff: Duration::ZERO,
            max_backoff: Duration::ZERO,
            max_backoff_retries: 0,
            retry_on_http_429: true,
            tenant_id: String::new(),
            headers: BTreeMap::new(),
            client: HttpClientConfig::default(),
            queue: QueueConfig::default(),
        }
    }
}

/// Headers the sender sets itself.
const RESERVED_HEADERS: [&str; 4] = ["content-encoding", "content-length", "content-type", "user-agent"];

impl Arguments for Endpoint {
    fn decode(r: &mut Reader<'_>) -> Self {
        let client = HttpClientConfig::decode(r);
        client.validate(r);
        let url: String = r.get("url");
        Endpoint {
            name: r.opt::<String>("name").filter(|n| !n.is_empty()).unwrap_or_else(|| url.clone()),
            url,
            batch_size: r.get::<Bytes>("batch_size").0,
            batch_wait: r.get::<Dur>("batch_wait").0,
            remote_timeout: r.get::<Dur>("remote_timeout").0,
            min_backoff: r.get::<Dur>("min_backoff_period").0,
            max_backoff: r.get::<Dur>("max_backoff_period").0,
            max_backoff_retries: r.get("max_backoff_retries"),
            retry_on_http_429: r.get("retry_on_http_429"),
            tenant_id: r.get("tenant_id"),
            headers: r.get("headers"),
            client,
            queue: r.block_or_default("queue_config"),
        }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        for h in self.headers.keys() {
            r.check(!RESERVED_HEADERS.contains(&h.to_ascii_lowercase().as_str()), &["headers"], format!("custom header {h:?} is reserved: the sender sets it"));
        }
        r.check(self.batch_size > 0, &["batch_size"], "batch_size must be greater than 0");
        r.check(!self.batch_wait.is_zero(), &["batch_wait"], "batch_wait must be greater than 0");
        r.check(self.max_backoff_retries >= 0, &["max_backoff_retries"], format!("max_backoff_retries must be >= 0; got {}", self.max_backoff_retries));
        r.check(self.min_backoff <= self.max_backoff, &["min_backoff_period", "max_backoff_period"], "min_backoff_period must not be above max_backoff_period");
    }
}

/// How much an endpoint holds (queued or batched and not yet sent) before its producers wait.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueueConfig {
    pub capacity: u64,
    pub drain_timeout: Duration,
}

impl Arguments for QueueConfig {
    fn decode(r: &mut Reader<'_>) -> Self {
        let q = QueueConfig { capacity: r.get::<Bytes>("capacity").0, drain_timeout: r.get::<Dur>("drain_timeout").0 };
        // Entries always wait for room (nothing is dropped on overflow), and one shard sends
        // per endpoint; other values of these are not implemented.
        let block: bool = r.get("block_on_overflow");
        if !block {
            r.error("block_on_overflow", "block_on_overflow = false (dropping entries when the queue is full) is not supported by this runtime yet");
        }
        let shards: i64 = r.get("min_shards");
        if shards != 1 {
            r.error("min_shards", "min_shards other than 1 is not supported by this runtime yet");
        }
        q
    }
}
