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

/// `fn name() -> T` for each default, read with `super::kind(component, path)`.
macro_rules! defaults {
    ($component:literal { $($name:ident: $ty:ty = $read:ident($path:literal)),* $(,)? }) => {
        $(
            pub fn $name() -> $ty {
                super::$read($component, $path)
            }
        )*
    };
}

/// `prometheus.scrape` defaults.
pub mod scrape {
    defaults!("prometheus.scrape" {
        honor_timestamps: bool = boolean("honor_timestamps"),
        scrape_interval: i64 = nanos("scrape_interval"),
        scrape_timeout: i64 = nanos("scrape_timeout"),
        metrics_path: String = text("metrics_path"),
        enable_compression: bool = boolean("enable_compression"),
    });

    /// The catalogue gives `scheme` no default; upstream's is Prometheus' `http`.
    pub const SCHEME: &str = "http";

    pub fn scrape_protocols() -> Vec<String> {
        match super::default("prometheus.scrape", "scrape_protocols") {
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
    defaults!("prometheus.scrape" {
        follow_redirects: bool = boolean("follow_redirects"),
        enable_http2: bool = boolean("enable_http2"),
    });
}

/// `prometheus.remote_write` endpoint defaults.
pub mod remote_write {
    defaults!("prometheus.remote_write" {
        remote_timeout: i64 = nanos("endpoint.remote_timeout"),
        send_exemplars: bool = boolean("endpoint.send_exemplars"),
        protobuf_message: String = text("endpoint.protobuf_message"),
        capacity: i64 = int("endpoint.queue_config.capacity"),
        max_shards: i64 = int("endpoint.queue_config.max_shards"),
        min_shards: i64 = int("endpoint.queue_config.min_shards"),
        max_samples_per_send: i64 = int("endpoint.queue_config.max_samples_per_send"),
        batch_send_deadline: i64 = nanos("endpoint.queue_config.batch_send_deadline"),
        min_backoff: i64 = nanos("endpoint.queue_config.min_backoff"),
        max_backoff: i64 = nanos("endpoint.queue_config.max_backoff"),
        retry_on_http_429: bool = boolean("endpoint.queue_config.retry_on_http_429"),
        metadata_send: bool = boolean("endpoint.metadata_config.send"),
        metadata_send_interval: i64 = nanos("endpoint.metadata_config.send_interval"),
        metadata_max_samples_per_send: i64 = int("endpoint.metadata_config.max_samples_per_send"),
        azuread_cloud: String = text("endpoint.azuread.cloud"),
    });
}

/// Relabel rule defaults (`rule` blocks).
pub mod relabel {
    defaults!("discovery.relabel" {
        separator: String = text("rule.separator"),
        regex: String = text("rule.regex"),
        replacement: String = text("rule.replacement"),
        action: String = text("rule.action"),
    });
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
