//! Alloy component defaults the converters compare against to leave fields out, read from
//! the analyzer's catalogue (`analyzer/catalog/catalog.json`): the one place they are written.
//! A test reads every one of them, so a catalogue without one fails the build's tests.

use analyzer::catalog::{Body, Catalog};
use eval::Value;

/// The default of `path` (`endpoint.queue_config.capacity`) of component `name`.
fn default(name: &str, path: &str) -> Value {
    let mut body: Option<&Body> = Catalog::get().lookup(name).map(|c| &c.body);
    let mut parts = path.split('.').peekable();
    while let Some(p) = parts.next() {
        if parts.peek().is_none() {
            let attr = body.and_then(|b| b.attr(p));
            // The embedded catalogue has every one of these (see the test below).
            return attr.and_then(|a| analyzer::args::default_value(&a.default, &a.ty)).unwrap_or(Value::Null);
        }
        body = body.and_then(|b| b.block(p)).map(|b| &b.body);
    }
    Value::Null
}

fn boolean(name: &str, path: &str) -> bool {
    matches!(default(name, path), Value::Bool(true))
}

fn int(name: &str, path: &str) -> i64 {
    match default(name, path) {
        Value::Number(n) => n.as_i64(),
        _ => 0,
    }
}

fn text(name: &str, path: &str) -> String {
    match default(name, path) {
        Value::String(s) => s.to_string_lossy().into_owned(),
        _ => String::new(),
    }
}

/// A duration default in nanoseconds.
fn nanos(name: &str, path: &str) -> i64 {
    eval::decode::Duration::parse(&text(name, path)).map(|d| d.nanos).unwrap_or(0)
}

/// `prometheus.scrape` defaults.
pub mod scrape {
    const C: &str = "prometheus.scrape";
    pub fn honor_timestamps() -> bool {
        super::boolean(C, "honor_timestamps")
    }
    pub fn scrape_interval() -> i64 {
        super::nanos(C, "scrape_interval")
    }
    pub fn scrape_timeout() -> i64 {
        super::nanos(C, "scrape_timeout")
    }
    pub fn metrics_path() -> String {
        super::text(C, "metrics_path")
    }
    /// The catalogue gives `scheme` no default; upstream's is Prometheus' `http`.
    pub const SCHEME: &str = "http";
    pub fn enable_compression() -> bool {
        super::boolean(C, "enable_compression")
    }
    pub fn scrape_protocols() -> Vec<String> {
        match super::default(C, "scrape_protocols") {
            eval::Value::Array(items) => items
                .iter()
                .filter_map(|v| match v {
                    eval::Value::String(s) => Some(s.to_string_lossy().into_owned()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// The shared HTTP client block (as `prometheus.scrape` has it).
pub mod http_client {
    pub fn follow_redirects() -> bool {
        super::boolean("prometheus.scrape", "follow_redirects")
    }
    pub fn enable_http2() -> bool {
        super::boolean("prometheus.scrape", "enable_http2")
    }
}

/// `prometheus.remote_write` endpoint defaults.
pub mod remote_write {
    const C: &str = "prometheus.remote_write";
    pub fn remote_timeout() -> i64 {
        super::nanos(C, "endpoint.remote_timeout")
    }
    pub fn send_exemplars() -> bool {
        super::boolean(C, "endpoint.send_exemplars")
    }
    pub fn protobuf_message() -> String {
        super::text(C, "endpoint.protobuf_message")
    }
    pub fn capacity() -> i64 {
        super::int(C, "endpoint.queue_config.capacity")
    }
    pub fn max_shards() -> i64 {
        super::int(C, "endpoint.queue_config.max_shards")
    }
    pub fn min_shards() -> i64 {
        super::int(C, "endpoint.queue_config.min_shards")
    }
    pub fn max_samples_per_send() -> i64 {
        super::int(C, "endpoint.queue_config.max_samples_per_send")
    }
    pub fn batch_send_deadline() -> i64 {
        super::nanos(C, "endpoint.queue_config.batch_send_deadline")
    }
    pub fn min_backoff() -> i64 {
        super::nanos(C, "endpoint.queue_config.min_backoff")
    }
    pub fn max_backoff() -> i64 {
        super::nanos(C, "endpoint.queue_config.max_backoff")
    }
    pub fn retry_on_http_429() -> bool {
        super::boolean(C, "endpoint.queue_config.retry_on_http_429")
    }
    pub fn metadata_send() -> bool {
        super::boolean(C, "endpoint.metadata_config.send")
    }
    pub fn metadata_send_interval() -> i64 {
        super::nanos(C, "endpoint.metadata_config.send_interval")
    }
    pub fn metadata_max_samples_per_send() -> i64 {
        super::int(C, "endpoint.metadata_config.max_samples_per_send")
    }
    pub fn azuread_cloud() -> String {
        super::text(C, "endpoint.azuread.cloud")
    }
}

/// Relabel rule defaults (`rule` blocks).
pub mod relabel {
    const C: &str = "discovery.relabel";
    pub fn separator() -> String {
        super::text(C, "rule.separator")
    }
    pub fn regex() -> String {
        super::text(C, "rule.regex")
    }
    pub fn replacement() -> String {
        super::text(C, "rule.replacement")
    }
    pub fn action() -> String {
        super::text(C, "rule.action")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every default the converters use is in the catalogue (none reads as a zero value).
    #[test]
    fn every_default_comes_from_the_catalogue() {
        let texts = [
            scrape::metrics_path(),
            remote_write::protobuf_message(),
            remote_write::azuread_cloud(),
            relabel::separator(),
            relabel::regex(),
            relabel::replacement(),
            relabel::action(),
        ];
        assert!(texts.iter().all(|t| !t.is_empty()), "{texts:?}");
        let numbers = [
            scrape::scrape_interval(),
            scrape::scrape_timeout(),
            remote_write::remote_timeout(),
            remote_write::capacity(),
            remote_write::max_shards(),
            remote_write::min_shards(),
            remote_write::max_samples_per_send(),
            remote_write::batch_send_deadline(),
            remote_write::min_backoff(),
            remote_write::max_backoff(),
            remote_write::metadata_send_interval(),
            remote_write::metadata_max_samples_per_send(),
        ];
        assert!(numbers.iter().all(|n| *n > 0), "{numbers:?}");
        let flags = [
            scrape::honor_timestamps(),
            scrape::enable_compression(),
            http_client::follow_redirects(),
            http_client::enable_http2(),
            remote_write::send_exemplars(),
            remote_write::retry_on_http_429(),
            remote_write::metadata_send(),
        ];
        assert!(flags.iter().all(|f| *f), "every one of these defaults is true upstream: {flags:?}");
        assert_eq!(scrape::scrape_protocols().len(), 4);
        assert_eq!((scrape::scrape_interval(), relabel::regex().as_str()), (60_000_000_000, "(.*)"));
    }
}
