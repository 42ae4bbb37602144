//! The dskit (weaveworks) server settings Promtail embeds: the top-level `server` and the
//! `server` of push sources (loki_push_api, gcplog push, heroku_drain). They become Alloy's
//! `http { }` / `grpc { }` blocks and `graceful_shutdown_timeout`.

use super::go_dur;
use crate::builder::Block;
use crate::diag::{Diagnostics, Severity};
use crate::yaml::{self, Errors, Fields, Node};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tls {
    pub cert: String,
    pub key: String,
    pub client_ca: String,
    pub cert_file: String,
    pub key_file: String,
    pub client_auth_type: String,
    pub client_ca_file: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Server {
    pub http_listen_network: String,
    pub http_listen_address: String,
    pub http_listen_port: i64,
    pub http_conn_limit: i64,
    pub grpc_listen_network: String,
    pub grpc_listen_address: String,
    pub grpc_listen_port: i64,
    pub grpc_conn_limit: i64,
    pub cipher_suites: String,
    pub min_version: String,
    pub http_tls: Tls,
    pub grpc_tls: Tls,
    pub register_instrumentation: bool,
    pub graceful_shutdown_timeout: i64,
    pub http_read_timeout: i64,
    pub http_write_timeout: i64,
    pub http_idle_timeout: i64,
    pub grpc_max_recv_msg_size: i64,
    pub grpc_max_send_msg_size: i64,
    pub grpc_max_concurrent_streams: i64,
    pub grpc_max_connection_idle: i64,
    pub grpc_max_connection_age: i64,
    pub grpc_max_connection_age_grace: i64,
    pub grpc_keepalive_time: i64,
    pub grpc_keepalive_timeout: i64,
    pub grpc_min_time_between_pings: i64,
    pub grpc_ping_without_stream_allowed: bool,
    pub log_format: String,
    pub log_level: String,
    pub log_source_ips: bool,
    pub log_source_ips_header: String,
    pub log_source_ips_regex: String,
    pub log_request_at_info_level: bool,
    pub path_prefix: String,
}

/// Which defaults the YAML is read over: Promtail's flags (top-level `server`), or none at all
/// (push sources; upstream does not apply the flag defaults there).
#[derive(Clone, Copy, PartialEq)]
pub enum Defaults {
    Flags,
    Zero,
}

const SEC: i64 = 1_000_000_000;

impl Server {
    fn flag_defaults() -> Server {
        Server {
            http_listen_network: "tcp".into(),
            http_listen_port: 80,
            grpc_listen_network: "tcp".into(),
            grpc_listen_port: 9095,
            register_instrumentation: true,
            graceful_shutdown_timeout: 30 * SEC,
            http_read_timeout: 30 * SEC,
            http_write_timeout: 30 * SEC,
            http_idle_timeout: 120 * SEC,
            grpc_max_recv_msg_size: 4 << 20,
            grpc_max_send_msg_size: 4 << 20,
            grpc_max_concurrent_streams: 100,
            grpc_max_connection_idle: i64::MAX,
            grpc_max_connection_age: i64::MAX,
            grpc_max_connection_age_grace: i64::MAX,
            grpc_keepalive_time: 2 * 3600 * SEC,
            grpc_keepalive_timeout: 20 * SEC,
            grpc_min_time_between_pings: 5 * 60 * SEC,
            log_format: "logfmt".into(),
            log_level: "info".into(),
            ..Server::default()
        }
    }
}

fn read_tls(n: &Node, errs: &mut Errors) -> Tls {
    let mut f = Fields::new(n, "server.TLSConfig", errs);
    let t = Tls {
        cert: f.string("cert", errs),
        key: f.string("key", errs),
        client_ca: f.string("client_ca", errs),
        cert_file: f.string("cert_file", errs),
        key_file: f.string("key_file", errs),
        client_auth_type: f.string("client_auth_type", errs),
        client_ca_file: f.string("client_ca_file", errs),
    };
    f.finish(errs);
    t
}

/// Reads the dskit keys of `f` (other keys are left for the caller).
pub fn read(f: &mut Fields, defaults: Defaults, errs: &mut Errors) -> Server {
    let mut s = if defaults == Defaults::Flags { Server::flag_defaults() } else { Server::default() };
    macro_rules! string {
        ($key:literal, $field:ident) => {
            if let Some(v) = f.get($key) {
                s.$field = yaml::string(v, errs);
            }
        };
    }
    macro_rules! int {
        ($key:literal, $field:ident) => {
            if let Some(v) = f.get($key) {
                s.$field = yaml::int(v, "int", errs);
            }
        };
    }
    macro_rules! dur {
        ($key:literal, $field:ident) => {
            if let Some(v) = f.get($key) {
                s.$field = go_dur(v, errs);
            }
        };
    }
    macro_rules! boolean {
        ($key:literal, $field:ident) => {
            if let Some(v) = f.get($key) {
                s.$field = yaml::boolean(v, errs);
            }
        };
    }
    string!("http_listen_network", http_listen_network);
    string!("http_listen_address", http_listen_address);
    int!("http_listen_port", http_listen_port);
    int!("http_listen_conn_limit", http_conn_limit);
    string!("grpc_listen_network", grpc_listen_network);
    string!("grpc_listen_address", grpc_listen_address);
    int!("grpc_listen_port", grpc_listen_port);
    int!("grpc_listen_conn_limit", grpc_conn_limit);
    string!("tls_cipher_suites", cipher_suites);
    string!("tls_min_version", min_version);
    if let Some(v) = f.get("http_tls_config") {
        s.http_tls = read_tls(v, errs);
    }
    if let Some(v) = f.get("grpc_tls_config") {
        s.grpc_tls = read_tls(v, errs);
    }
    boolean!("register_instrumentation", register_instrumentation);
    dur!("graceful_shutdown_timeout", graceful_shutdown_timeout);
    dur!("http_server_read_timeout", http_read_timeout);
    dur!("http_server_write_timeout", http_write_timeout);
    dur!("http_server_idle_timeout", http_idle_timeout);
    int!("grpc_server_max_recv_msg_size", grpc_max_recv_msg_size);
    int!("grpc_server_max_send_msg_size", grpc_max_send_msg_size);
    int!("grpc_server_max_concurrent_streams", grpc_max_concurrent_streams);
    dur!("grpc_server_max_connection_idle", grpc_max_connection_idle);
    dur!("grpc_server_max_connection_age", grpc_max_connection_age);
    dur!("grpc_server_max_connection_age_grace", grpc_max_connection_age_grace);
    dur!("grpc_server_keepalive_time", grpc_keepalive_time);
    dur!("grpc_server_keepalive_timeout", grpc_keepalive_timeout);
    dur!("grpc_server_min_time_between_pings", grpc_min_time_between_pings);
    boolean!("grpc_server_ping_without_stream_allowed", grpc_ping_without_stream_allowed);
    string!("log_format", log_format);
    string!("log_level", log_level);
    boolean!("log_source_ips_enabled", log_source_ips);
    string!("log_source_ips_header", log_source_ips_header);
    string!("log_source_ips_regex", log_source_ips_regex);
    boolean!("log_request_at_info_level_enabled", log_request_at_info_level);
    string!("http_path_prefix", path_prefix);
    // Known dskit keys with no Alloy counterpart and no upstream diagnostic.
    for k in [
        "grpc_collect_max_streams_by_conn",
        "proxy_protocol_enabled",
        "report_grpc_codes_in_instrumentation_label_enabled",
        "http_server_read_header_timeout",
        "http_log_closed_connections_without_response_enabled",
        "grpc_server_num_workers",
        "grpc_server_stats_tracking_enabled",
        "grpc_server_recv_buffer_pools_enabled",
        "grpc_server_read_buffer_size",
        "grpc_server_write_buffer_size",
        "log_source_ips_full",
        "log_request_headers",
        "log_request_exclude_headers_list",
        "trace_request_headers",
        "trace_request_exclude_headers_list",
        "cluster_validation",
        "create_new_traces",
        "enable_open_metrics_text_created_samples",
    ] {
        f.ignore(k);
    }
    s
}

/// Reads a push source's `server` mapping.
pub fn read_node(n: &Node, errs: &mut Errors) -> Server {
    let mut f = Fields::new(n, "server.Config", errs);
    let s = read(&mut f, Defaults::Zero, errs);
    f.finish(errs);
    s
}

/// Upstream's check of a push source's server: each field that differs from the (zero)
/// default is an Error.
pub fn validate(s: &Server, diags: &mut Diagnostics) {
    let d = Server::default();
    let checks: [(bool, &str); 17] = [
        (s.http_listen_network != d.http_listen_network, "http_listen_network"),
        (s.grpc_listen_network != d.grpc_listen_network, "grpc_listen_network"),
        (s.cipher_suites != d.cipher_suites, "tls_cipher_suites"),
        (s.min_version != d.min_version, "tls_min_version"),
        (s.register_instrumentation, "register_instrumentation"),
        (s.graceful_shutdown_timeout != d.graceful_shutdown_timeout, "graceful_shutdown_timeout"),
        (s.grpc_keepalive_time != d.grpc_keepalive_time, "grpc_server_keepalive_time"),
        (s.grpc_keepalive_timeout != d.grpc_keepalive_timeout, "grpc_server_keepalive_timeout"),
        (s.grpc_min_time_between_pings != d.grpc_min_time_between_pings, "grpc_server_min_time_between_pings"),
        (s.grpc_ping_without_stream_allowed != d.grpc_ping_without_stream_allowed, "grpc_server_ping_without_stream_allowed"),
        (s.log_format != d.log_format, "log_format"),
        (s.log_level != d.log_level, "log_level"),
        (s.log_source_ips != d.log_source_ips, "log_source_ips_enabled"),
        (s.log_source_ips_header != d.log_source_ips_header, "log_source_ips_header"),
        (s.log_source_ips_regex != d.log_source_ips_regex, "log_source_ips_regex"),
        (s.log_request_at_info_level != d.log_request_at_info_level, "log_request_at_info_level_enabled"),
        (s.path_prefix != d.path_prefix, "http_path_prefix"),
    ];
    for (bad, name) in checks {
        if bad {
            diags.add(Severity::Error, format!("{name} is not supported in server config"));
        }
    }
}

fn tls_block(t: &Tls) -> Option<Block> {
    if t.cert_file.is_empty() && t.cert.is_empty() {
        return None;
    }
    let mut b = Block::new("tls", None);
    b.opt_str("cert_pem", &t.cert, "")
        .opt_str("key_pem", &t.key, "")
        .opt_str("cert_file", &t.cert_file, "")
        .opt_str("key_file", &t.key_file, "")
        .opt_str("client_auth_type", &t.client_auth_type, "")
        .opt_str("client_ca_file", &t.client_ca_file, "")
        .opt_str("client_ca", &t.client_ca, "");
    Some(b)
}

/// Alloy's squashed server settings: `http { }`, `grpc { }` (always, as the converted blocks
/// never equal Alloy's defaults) and `graceful_shutdown_timeout` unless it is Alloy's 30s.
pub fn write(b: &mut Block, s: &Server) {
    let mut http = Block::new("http", None);
    http.opt_str("listen_address", &s.http_listen_address, "")
        .opt_int("listen_port", s.http_listen_port, 0)
        .opt_int("conn_limit", s.http_conn_limit, 0)
        .opt_duration("server_read_timeout", s.http_read_timeout, 0)
        .opt_duration("server_write_timeout", s.http_write_timeout, 0)
        .opt_duration("server_idle_timeout", s.http_idle_timeout, 0);
    if let Some(t) = tls_block(&s.http_tls) {
        http.block(t);
    }
    b.block(http);
    let mut grpc = Block::new("grpc", None);
    grpc.opt_str("listen_address", &s.grpc_listen_address, "")
        .opt_int("listen_port", s.grpc_listen_port, 0)
        .opt_int("conn_limit", s.grpc_conn_limit, 0)
        .opt_duration("max_connection_age", s.grpc_max_connection_age, 0)
        .opt_duration("max_connection_age_grace", s.grpc_max_connection_age_grace, 0)
        .opt_duration("max_connection_idle", s.grpc_max_connection_idle, 0)
        .opt_int("server_max_recv_msg_size", s.grpc_max_recv_msg_size, 0)
        .opt_int("server_max_send_msg_size", s.grpc_max_send_msg_size, 0)
        .opt_int("server_max_concurrent_streams", s.grpc_max_concurrent_streams, 0);
    if let Some(t) = tls_block(&s.grpc_tls) {
        grpc.block(t);
    }
    b.block(grpc);
    b.opt_duration("graceful_shutdown_timeout", s.graceful_shutdown_timeout, 30 * SEC);
}
