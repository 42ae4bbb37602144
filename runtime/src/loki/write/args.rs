//! `loki.write`'s arguments: `endpoint` blocks (each with the shared HTTP client settings),
//! `external_labels`, `max_streams`, and the `wal` block (the write-ahead log, `wal.rs`).

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
    pub wal: WalConfig,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        Args { endpoints: r.blocks("endpoint"), external_labels: r.get("external_labels"), max_streams: r.get("max_streams"), wal: r.block_or_default("wal") }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        r.check(self.max_streams >= 0, &["max_streams"], format!("max_streams must be >= 0; got {}", self.max_streams));
        if self.wal.enabled {
            // An endpoint's name keys its progress in the WAL.
            for (i, e) in self.endpoints.iter().enumerate() {
                if self.endpoints[..i].iter().any(|o| o.name == e.name) {
                    r.error("endpoint", format!("duplicate endpoint configs are not allowed, found duplicate for name: {}", e.name));
                }
            }
        }
    }
}

/// The `wal` block: whether entries go through a write-ahead log under the component's data
/// path, and how its readers poll it and how long they drain it at shutdown.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WalConfig {
    pub enabled: bool,
    /// Segments last written longer ago than this are removed once every endpoint has sent
    /// (or dropped) what they hold.
    pub max_segment_age: Duration,
    /// An endpoint's reader polls the WAL at this interval while it finds data (besides being
    /// woken by each append), backing off to `max_read_frequency` while it finds none.
    pub min_read_frequency: Duration,
    pub max_read_frequency: Duration,
    /// How long endpoints keep reading the WAL at shutdown to send what it still holds.
    pub drain_timeout: Duration,
}

impl Arguments for WalConfig {
    fn decode(r: &mut Reader<'_>) -> Self {
        WalConfig {
            enabled: r.get("enabled"),
            max_segment_age: r.get::<Dur>("max_segment_age").0,
            min_read_frequency: r.get::<Dur>("min_read_frequency").0,
            max_read_frequency: r.get::<Dur>("max_read_frequency").0,
            drain_timeout: r.get::<Dur>("drain_timeout").0,
        }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        r.check(
            self.min_read_frequency < self.max_read_frequency,
            &["min_read_frequency", "max_read_frequency"],
            "WAL min read frequency should be lower than max read frequency",
        );
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
