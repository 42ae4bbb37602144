//! `prometheus.remote_write`'s arguments: `external_labels`, `endpoint` blocks (URL, HTTP
//! client settings, `queue_config`, `metadata_config`, `write_relabel_config`) and `wal`.

use std::collections::BTreeMap;
use std::time::Duration;

use prom::labels::Labels;
use prom::relabel::Rule;
use prom::remote::Message;
use sha2::Digest;

use crate::component::args::types::Dur;
use crate::component::{Arguments, Reader};
use crate::http_client::HttpClientConfig;
use crate::prometheus::rules::read_rules;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueueConfig {
    pub capacity: usize,
    pub min_shards: usize,
    pub max_shards: usize,
    pub max_samples_per_send: usize,
    pub batch_send_deadline: Duration,
    pub min_backoff: Duration,
    pub max_backoff: Duration,
    pub retry_on_http_429: bool,
    pub sample_age_limit: Duration,
}

impl Arguments for QueueConfig {
    fn decode(r: &mut Reader<'_>) -> Self {
        QueueConfig {
            capacity: r.get("capacity"),
            min_shards: r.get("min_shards"),
            max_shards: r.get("max_shards"),
            max_samples_per_send: r.get("max_samples_per_send"),
            batch_send_deadline: r.get::<Dur>("batch_send_deadline").0,
            min_backoff: r.get::<Dur>("min_backoff").0,
            max_backoff: r.get::<Dur>("max_backoff").0,
            retry_on_http_429: r.get("retry_on_http_429"),
            sample_age_limit: r.get::<Dur>("sample_age_limit").0,
        }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        r.check(self.min_shards >= 1, &["min_shards"], "min_shards must be at least 1");
        r.check(self.max_shards >= self.min_shards, &["max_shards", "min_shards"], "max_shards must be greater than or equal to min_shards");
        r.check(self.max_samples_per_send >= 1, &["max_samples_per_send"], "max_samples_per_send must be at least 1");
        r.check(self.capacity >= 1, &["capacity"], "capacity must be at least 1");
        r.check(!self.batch_send_deadline.is_zero(), &["batch_send_deadline"], "batch_send_deadline must be greater than 0");
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct MetadataConfig {
    pub send: bool,
    pub send_interval: Duration,
    pub max_samples_per_send: usize,
}

impl Arguments for MetadataConfig {
    fn decode(r: &mut Reader<'_>) -> Self {
        MetadataConfig { send: r.get("send"), send_interval: r.get::<Dur>("send_interval").0, max_samples_per_send: r.get("max_samples_per_send") }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Endpoint {
    pub name: String,
    pub url: String,
    pub remote_timeout: Duration,
    pub headers: BTreeMap<String, String>,
    pub send_exemplars: bool,
    pub send_native_histograms: bool,
    pub message: Message,
    pub client: HttpClientConfig,
    pub queue: QueueConfig,
    pub metadata: MetadataConfig,
    pub write_relabel: Vec<Rule>,
}

impl Default for Endpoint {
    fn default() -> Self {
        Endpoint {
            name: String::new(),
            url: String::new(),
            remote_timeout: Duration::ZERO,
            headers: BTreeMap::new(),
            send_exemplars: false,
            send_native_histograms: false,
            message: Message::V1,
            client: HttpClientConfig::default(),
            queue: QueueConfig::default(),
            metadata: MetadataConfig::default(),
            write_relabel: Vec::new(),
        }
    }
}

/// Headers the sender sets itself: a configured one would break the protocol.
const RESERVED_HEADERS: [&str; 5] = ["content-encoding", "content-length", "content-type", "user-agent", "x-prometheus-remote-write-version"];

impl Arguments for Endpoint {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&["sigv4", "azuread", "google_iam", "round_robin_dns"]);
        let message_name: String = r.get("protobuf_message");
        let message = match Message::parse(&message_name) {
            Some(m) => m,
            None => {
                r.error(
                    "protobuf_message",
                    format!(
                        "unknown remote write protobuf message {message_name:?}: must be \"prometheus.WriteRequest\" or \"io.prometheus.write.v2.Request\""
                    ),
                );
                Message::V1
            }
        };
        let client = HttpClientConfig::decode(r);
        client.validate(r);
        let url: String = r.get("url");
        let name = r.opt::<String>("name").filter(|n| !n.is_empty()).unwrap_or_else(|| {
            // Upstream names an unnamed endpoint by a hash of its settings.
            let digest = sha2::Sha256::digest(url.as_bytes());
            digest.iter().take(3).map(|b| format!("{b:02x}")).collect()
        });
        Endpoint {
            name,
            url,
            remote_timeout: r.get::<Dur>("remote_timeout").0,
            headers: r.get("headers"),
            send_exemplars: r.get("send_exemplars"),
            send_native_histograms: r.get("send_native_histograms"),
            message,
            client,
            queue: r.block_or_default("queue_config"),
            metadata: r.block_or_default("metadata_config"),
            write_relabel: read_rules(r, "write_relabel_config"),
        }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        match reqwest::Url::parse(&self.url) {
            Ok(u) if u.scheme() == "http" || u.scheme() == "https" => {}
            _ => r.error("url", format!("invalid endpoint url {:?}: it needs an http or https scheme and a host", self.url)),
        }
        for h in self.headers.keys() {
            let lower = h.to_ascii_lowercase();
            if lower == "authorization" {
                r.error("headers", "authorization header must be changed via the basic_auth, authorization, oauth2, or sigv4 parameter");
            } else if RESERVED_HEADERS.contains(&lower.as_str()) {
                r.error("headers", format!("{h} is a reserved header. It must not be changed"));
            }
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct WalConfig {
    pub truncate_frequency: Duration,
    pub min_keepalive_time: Duration,
    pub max_keepalive_time: Duration,
}

impl Arguments for WalConfig {
    fn decode(r: &mut Reader<'_>) -> Self {
        WalConfig {
            truncate_frequency: r.get::<Dur>("truncate_frequency").0,
            min_keepalive_time: r.get::<Dur>("min_keepalive_time").0,
            max_keepalive_time: r.get::<Dur>("max_keepalive_time").0,
        }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        r.check(!self.truncate_frequency.is_zero(), &["truncate_frequency"], "truncate_frequency must not be 0");
        r.check(
            self.max_keepalive_time >= self.min_keepalive_time,
            &["max_keepalive_time", "min_keepalive_time"],
            "min_keepalive_time must be smaller than max_keepalive_time",
        );
    }
}

#[derive(Default)]
pub struct Args {
    pub external_labels: Labels,
    pub endpoints: Vec<Endpoint>,
    pub wal: WalConfig,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        let external: BTreeMap<String, String> = r.get("external_labels");
        let endpoints: Vec<Endpoint> = r.blocks("endpoint");
        let mut seen = std::collections::HashSet::new();
        for e in &endpoints {
            if !seen.insert(e.name.clone()) {
                r.error("endpoint", format!("found duplicate remote write configs with the same name {:?}", e.name));
            }
        }
        Args { external_labels: Labels::new(external), endpoints, wal: r.block_or_default("wal") }
    }
}
