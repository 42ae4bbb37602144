//! `loki.source.syslog`'s arguments: `forward_to`, `relabel_rules` and the `listener` blocks,
//! with upstream's rules. A zero `idle_timeout`, `max_message_length`, `udp_queue_size` or
//! `udp_host_cache_size` means the catalogue default, as upstream reads a zero.

use std::collections::BTreeMap;
use std::time::Duration;

use analyzer::catalog::Catalog;
use eval::Decode;
use prom::relabel::Rule;

use crate::component::args::types::Dur;
use crate::component::{Arguments, Reader};
use crate::loki::receiver::LogsReceiver;
use crate::relabel_rules::RulesHandle;
use crate::tls::{read_pem, ClientAuth, TlsServer};

use super::NAME;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Protocol {
    #[default]
    Tcp,
    Udp,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    Rfc5424,
    Rfc3164,
}

/// One `listener` block.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListenerConfig {
    pub address: String,
    pub protocol: Protocol,
    pub idle_timeout: Duration,
    pub label_structured_data: bool,
    pub labels: BTreeMap<String, String>,
    pub use_incoming_timestamp: bool,
    pub use_rfc5424_message: bool,
    pub rfc3164_default_to_current_year: bool,
    pub rfc5424_allow_empty_msg: bool,
    pub max_message_length: usize,
    pub format: Format,
    pub udp_queue_size: usize,
    pub udp_host_cache_size: usize,
    /// TCP only, as upstream.
    pub tls: Option<TlsServer>,
}

#[derive(Default)]
pub struct Args {
    pub forward_to: Vec<LogsReceiver>,
    pub relabel_rules: Vec<Rule>,
    pub listeners: Vec<ListenerConfig>,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        Args {
            forward_to: r.get("forward_to"),
            relabel_rules: r.computed::<RulesHandle>("relabel_rules").map(|h| h.0.to_vec()).unwrap_or_default(),
            listeners: r.blocks("listener"),
        }
    }
}

/// The catalogue default of the `listener` attribute `name`.
fn listener_default<T: Decode + Default>(name: &str) -> T {
    let body = Catalog::get().lookup(NAME).and_then(|c| c.body.block("listener")).map(|b| &b.body);
    let text = body.and_then(|b| b.attr(name)).and_then(|a| a.default.as_deref());
    text.and_then(analyzer::args::catalogue_default).and_then(|v| T::decode(&v).ok()).unwrap_or_default()
}

/// A count where zero means the catalogue default and a negative number is refused.
fn count(r: &mut Reader<'_>, name: &'static str) -> usize {
    let v: i64 = r.get(name);
    if v < 0 {
        r.error(name, format!("{name} must not be negative, got {v}"));
        return 0;
    }
    if v == 0 {
        return usize::try_from(listener_default::<i64>(name)).unwrap_or(1).max(1);
    }
    usize::try_from(v).unwrap_or(usize::MAX)
}

impl Arguments for ListenerConfig {
    fn decode(r: &mut Reader<'_>) -> Self {
        // The `raw` format and Cisco IOS components are experimental upstream.
        r.unsupported(&["raw_format_options", "rfc3164_cisco_components"]);
        let protocol_text: String = r.get("protocol");
        let protocol = match protocol_text.as_str() {
            "tcp" => Protocol::Tcp,
            "udp" => Protocol::Udp,
            other => {
                r.error("protocol", format!("syslog listener protocol should be either 'tcp' or 'udp', got {other}"));
                Protocol::Tcp
            }
        };
        let format_text: String = r.get("syslog_format");
        let format = match format_text.as_str() {
            "rfc5424" => Format::Rfc5424,
            "rfc3164" => Format::Rfc3164,
            "raw" => {
                r.error("syslog_format", "syslog_format \"raw\" is not supported by this runtime yet");
                Format::Rfc5424
            }
            other => {
                r.error("syslog_format", format!("unknown syslog format: {other}"));
                Format::Rfc5424
            }
        };
        let idle = r.get::<Dur>("idle_timeout").0;
        ListenerConfig {
            address: r.get("address"),
            protocol,
            idle_timeout: if idle.is_zero() { listener_default::<Dur>("idle_timeout").0 } else { idle },
            label_structured_data: r.get("label_structured_data"),
            labels: r.get("labels"),
            use_incoming_timestamp: r.get("use_incoming_timestamp"),
            use_rfc5424_message: r.get("use_rfc5424_message"),
            rfc3164_default_to_current_year: r.get("rfc3164_default_to_current_year"),
            rfc5424_allow_empty_msg: r.get("rfc5424_allow_empty_msg"),
            max_message_length: count(r, "max_message_length"),
            format,
            udp_queue_size: count(r, "udp_queue_size"),
            udp_host_cache_size: count(r, "udp_host_cache_size"),
            tls: r.block::<TlsConfig>("tls_config").and_then(|t| t.0),
        }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        // Upstream ignores TLS on a UDP listener; a setting that does nothing is refused.
        r.check(self.protocol != Protocol::Udp || self.tls.is_none(), &["tls_config"], "tls_config has no effect on a udp listener");
        r.check(
            self.format == Format::Rfc5424 || !self.rfc5424_allow_empty_msg,
            &["rfc5424_allow_empty_msg"],
            "\"rfc5424_allow_empty_msg\" has no effect when syslog format is set to \"rfc3164\"",
        );
    }
}

/// `tls_config`: a server certificate and key, and a CA to require client certificates
/// signed by. `insecure_skip_verify` and `server_name` are client settings that a server
/// does not use (upstream ignores them; they are refused here); `min_version = "TLS13"`
/// refuses TLS 1.2.
#[derive(Default)]
struct TlsConfig(Option<TlsServer>);

impl Arguments for TlsConfig {
    fn decode(r: &mut Reader<'_>) -> Self {
        for (inline, file) in [("ca_pem", "ca_file"), ("cert_pem", "cert_file"), ("key_pem", "key_file")] {
            if r.is_set(inline) && r.is_set(file) {
                r.error(inline, format!("at most one of {inline} and {file} must be configured"));
            }
        }
        let ca = read_pem(r, "ca_pem", "ca_file");
        let cert = read_pem(r, "cert_pem", "cert_file");
        let key = read_pem(r, "key_pem", "key_file");
        // Client settings a server has no use for: refused rather than ignored.
        r.unsupported(&["insecure_skip_verify", "server_name"]);
        let min: String = r.get("min_version");
        if !matches!(min.as_str(), "" | "TLS10" | "TLS11" | "TLS12" | "TLS13") {
            r.error("min_version", format!("unknown TLS version: {min}"));
        }
        if ca.is_none() && cert.is_none() && key.is_none() {
            return TlsConfig(None);
        }
        let (Some(cert_pem), Some(key_pem)) = (cert, key) else {
            r.check(false, &[], "certificate and key must be configured");
            return TlsConfig(None);
        };
        let tls = TlsServer {
            cert_pem,
            key_pem,
            client_auth: ca.as_ref().map(|_| ClientAuth::RequireAndVerifyClientCert),
            client_ca_pem: ca,
            tls13_only: min == "TLS13",
        };
        if let Err(e) = crate::tls::server_config(&tls) {
            r.check(false, &[], e.0);
        }
        TlsConfig(Some(tls))
    }
}
