//! Alloy component defaults the converters compare against to leave fields out.
//!
//! Kept in one place so that switching to the analyzer's catalogue
//! (`analyzer/catalog/catalog.json`) is a change to this module only.

/// `prometheus.scrape` defaults.
pub mod scrape {
    pub const HONOR_TIMESTAMPS: bool = true;
    pub const SCRAPE_INTERVAL: i64 = 60_000_000_000;
    pub const SCRAPE_TIMEOUT: i64 = 10_000_000_000;
    pub const METRICS_PATH: &str = "/metrics";
    pub const SCHEME: &str = "http";
    pub const ENABLE_COMPRESSION: bool = true;
    pub const SCRAPE_PROTOCOLS: [&str; 4] = ["OpenMetricsText1.0.0", "OpenMetricsText0.0.1", "PrometheusText1.0.0", "PrometheusText0.0.4"];
}

/// The shared HTTP client block.
pub mod http_client {
    pub const FOLLOW_REDIRECTS: bool = true;
    pub const ENABLE_HTTP2: bool = true;
}

/// `prometheus.remote_write` endpoint defaults.
pub mod remote_write {
    pub const REMOTE_TIMEOUT: i64 = 30_000_000_000;
    pub const SEND_EXEMPLARS: bool = true;
    pub const PROTOBUF_MESSAGE: &str = "prometheus.WriteRequest";
    pub const CAPACITY: i64 = 10000;
    pub const MAX_SHARDS: i64 = 50;
    pub const MIN_SHARDS: i64 = 1;
    pub const MAX_SAMPLES_PER_SEND: i64 = 2000;
    pub const BATCH_SEND_DEADLINE: i64 = 5_000_000_000;
    pub const MIN_BACKOFF: i64 = 30_000_000;
    pub const MAX_BACKOFF: i64 = 5_000_000_000;
    pub const RETRY_ON_HTTP_429: bool = true;
    pub const METADATA_SEND: bool = true;
    pub const METADATA_SEND_INTERVAL: i64 = 60_000_000_000;
    pub const METADATA_MAX_SAMPLES_PER_SEND: i64 = 2000;
    pub const AZUREAD_CLOUD: &str = "AzurePublic";
}

/// Relabel rule defaults (`rule` blocks).
pub mod relabel {
    pub const SEPARATOR: &str = ";";
    pub const REGEX: &str = "(.*)";
    pub const REPLACEMENT: &str = "$1";
    pub const ACTION: &str = "replace";
}
