//! blackbox_exporter's module file (`modules: {name: {prober, timeout, http, tcp, dns, icmp}}`), read as strictly as
//! upstream reads it (unknown fields are errors) with upstream's defaults and checks. Options this runtime does not
//! implement are refused by name rather than ignored.

use std::collections::BTreeMap;
use std::time::Duration;

use regex::bytes::Regex as BytesRegex;
use regex::Regex;

use super::yaml::{self, Errors, Node};

/// The parsed module file.
#[derive(Clone, Debug, Default)]
pub struct Config {
    pub modules: BTreeMap<String, Module>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prober {
    Http,
    Tcp,
    Dns,
    Icmp,
}

impl Prober {
    pub fn as_str(self) -> &'static str {
        match self {
            Prober::Http => "http",
            Prober::Tcp => "tcp",
            Prober::Dns => "dns",
            Prober::Icmp => "icmp",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Module {
    pub prober: Prober,
    /// Zero when not set: the scrape timeout (minus the offset) bounds the probe alone.
    pub timeout: Duration,
    pub http: HttpProbe,
    pub tcp: TcpProbe,
    pub icmp: IcmpProbe,
    pub dns: DnsProbe,
}

/// `preferred_ip_protocol` and `ip_protocol_fallback`, shared by every prober.
#[derive(Clone, Debug)]
pub struct IpProtocol {
    /// `ip6` (also when empty, upstream's default) or anything else, which means `ip4`.
    pub preferred: String,
    pub fallback: bool,
}

impl Default for IpProtocol {
    fn default() -> Self {
        IpProtocol { preferred: String::new(), fallback: true }
    }
}

impl IpProtocol {
    pub fn prefers_v6(&self) -> bool {
        self.preferred.is_empty() || self.preferred == "ip6"
    }
}

/// prometheus/common's `TLSConfig` (the parts this runtime implements).
#[derive(Clone, Debug, Default)]
pub struct TlsConfig {
    pub ca: String,
    pub ca_file: String,
    pub cert: String,
    pub cert_file: String,
    pub key: String,
    pub key_file: String,
    pub server_name: String,
    pub insecure_skip_verify: bool,
    /// `TLS12` or `TLS13` (empty: TLS 1.2).
    pub min_version: String,
    pub max_version: String,
}

#[derive(Clone, Debug, Default)]
pub struct BasicAuth {
    pub username: String,
    pub username_file: String,
    pub password: String,
    pub password_file: String,
}

#[derive(Clone, Debug, Default)]
pub struct Authorization {
    pub kind: String,
    pub credentials: String,
    pub credentials_file: String,
}

#[derive(Clone, Debug)]
pub struct HeaderMatch {
    pub header: String,
    pub regexp: Regex,
    pub allow_missing: bool,
}

#[derive(Clone, Debug)]
pub struct HttpProbe {
    pub valid_status_codes: Vec<i64>,
    pub valid_http_versions: Vec<String>,
    pub ip: IpProtocol,
    pub fail_if_ssl: bool,
    pub fail_if_not_ssl: bool,
    pub method: String,
    /// In the order written.
    pub headers: Vec<(String, String)>,
    pub fail_if_body_matches_regexp: Vec<BytesRegex>,
    pub fail_if_body_not_matches_regexp: Vec<BytesRegex>,
    pub fail_if_header_matches: Vec<HeaderMatch>,
    pub fail_if_header_not_matches: Vec<HeaderMatch>,
    pub body: String,
    pub body_file: String,
    /// `gzip`, `deflate`, `identity` or empty.
    pub compression: String,
    /// Zero: no limit.
    pub body_size_limit: u64,
    pub follow_redirects: bool,
    pub basic_auth: Option<BasicAuth>,
    pub authorization: Option<Authorization>,
    pub tls: TlsConfig,
}

impl Default for HttpProbe {
    fn default() -> Self {
        HttpProbe {
            valid_status_codes: Vec::new(),
            valid_http_versions: Vec::new(),
            ip: IpProtocol::default(),
            fail_if_ssl: false,
            fail_if_not_ssl: false,
            method: String::new(),
            headers: Vec::new(),
            fail_if_body_matches_regexp: Vec::new(),
            fail_if_body_not_matches_regexp: Vec::new(),
            fail_if_header_matches: Vec::new(),
            fail_if_header_not_matches: Vec::new(),
            body: String::new(),
            body_file: String::new(),
            compression: String::new(),
            body_size_limit: 0,
            follow_redirects: true,
            basic_auth: None,
            authorization: None,
            tls: TlsConfig::default(),
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct QueryResponse {
    pub expect: Option<BytesRegex>,
    pub send: String,
    pub starttls: bool,
}

#[derive(Clone, Debug, Default)]
pub struct TcpProbe {
    pub ip: IpProtocol,
    pub query_response: Vec<QueryResponse>,
    pub tls: bool,
    pub tls_config: TlsConfig,
}

#[derive(Clone, Debug)]
pub struct IcmpProbe {
    pub ip: IpProtocol,
    pub source_ip_address: String,
    pub payload_size: usize,
    pub ttl: u32,
}

impl Default for IcmpProbe {
    fn default() -> Self {
        IcmpProbe { ip: IpProtocol::default(), source_ip_address: String::new(), payload_size: 0, ttl: 64 }
    }
}

#[derive(Clone, Debug, Default)]
pub struct RrValidator {
    pub fail_if_matches_regexp: Vec<String>,
    pub fail_if_all_match_regexp: Vec<String>,
    pub fail_if_not_matches_regexp: Vec<String>,
    pub fail_if_none_matches_regexp: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct DnsProbe {
    pub ip: IpProtocol,
    pub dns_over_tls: bool,
    pub tls_config: TlsConfig,
    pub source_ip_address: String,
    /// `udp` (also when empty) or `tcp`.
    pub transport_protocol: String,
    pub query_class: String,
    pub query_name: String,
    pub query_type: String,
    pub recursion_desired: bool,
    /// `None` when not written: only NOERROR is valid.
    pub valid_rcodes: Option<Vec<String>>,
    pub validate_answer_rrs: RrValidator,
    pub validate_authority_rrs: RrValidator,
    pub validate_additional_rrs: RrValidator,
}

impl Default for DnsProbe {
    fn default() -> Self {
        DnsProbe {
            ip: IpProtocol::default(),
            dns_over_tls: false,
            tls_config: TlsConfig::default(),
            source_ip_address: String::new(),
            transport_protocol: String::new(),
            query_class: String::new(),
            query_name: String::new(),
            query_type: String::new(),
            recursion_desired: true,
            valid_rcodes: None,
            validate_answer_rrs: RrValidator::default(),
            validate_authority_rrs: RrValidator::default(),
            validate_additional_rrs: RrValidator::default(),
        }
    }
}

/// The module file's problem, worded as upstream words it (`yaml: line 3: ...`, `yaml: unmarshal errors: ...`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl Config {
    /// Parses module YAML text strictly.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let Some(root) = yaml::parse(text).map_err(ConfigError)? else {
            return Ok(Config::default());
        };
        let mut e = Errors::default();
        let mut modules = BTreeMap::new();
        e.fields(&root, "config.plain", |e, k, v| {
            if k != "modules" {
                return false;
            }
            for (name, m) in e.entries(v, "map[string]config.Module") {
                let name = e.string(name);
                if let Some(m) = module(e, m) {
                    modules.insert(name, m);
                }
            }
            true
        });
        e.into_result().map_err(ConfigError)?;
        Ok(Config { modules })
    }

    /// Reads and parses a module file, with upstream's wording for both failures.
    pub fn load_file(path: &str) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError(format!("error reading config file: {e}")))?;
        Config::parse(&text).map_err(|e| ConfigError(format!("error parsing config file: {}", e.0)))
    }
}

/// A field this runtime does not implement: refused by name.
fn unsupported(e: &mut Errors, n: &Node, what: &str) {
    e.fail(n, format!("{what} is not supported by this runtime yet"));
}

fn module(e: &mut Errors, n: &Node) -> Option<Module> {
    let mut prober = String::new();
    let mut m = Module {
        prober: Prober::Http,
        timeout: Duration::ZERO,
        http: HttpProbe::default(),
        tcp: TcpProbe::default(),
        icmp: IcmpProbe::default(),
        dns: DnsProbe::default(),
    };
    let mut dns_node = None;
    e.fields(n, "config.plain", |e, k, v| {
        match k {
            "prober" => prober = e.string(v),
            "timeout" => m.timeout = e.duration(v),
            "http" => m.http = http_probe(e, v),
            "tcp" => m.tcp = tcp_probe(e, v),
            "icmp" => m.icmp = icmp_probe(e, v),
            "dns" => {
                m.dns = dns_probe(e, v);
                dns_node = Some(v.clone());
            }
            "grpc" => {
                if !v.is_null() {
                    unsupported(e, v, "field grpc (the grpc prober)");
                }
            }
            _ => return false,
        }
        true
    });
    m.prober = match prober.as_str() {
        "http" => Prober::Http,
        "tcp" => Prober::Tcp,
        "dns" => Prober::Dns,
        "icmp" => Prober::Icmp,
        "grpc" | "unix" | "websocket" => {
            e.fail(n, format!("prober '{prober}' is not supported by this runtime yet"));
            return None;
        }
        _ => {
            e.fail(n, format!("prober '{prober}' is not valid"));
            return None;
        }
    };
    // Upstream checks the DNS block only when it is written; a dns module without one has no query name.
    if m.prober == Prober::Dns && dns_node.is_none() {
        e.fail(n, "query name must be set for DNS module");
    }
    Some(m)
}

fn regexp(e: &mut Errors, n: &Node) -> Option<Regex> {
    let s = e.string(n);
    match Regex::new(&s) {
        Ok(r) => Some(r),
        Err(_) => {
            e.fail(n, format!("\"Could not compile regular expression\" regexp=\"{s}\""));
            None
        }
    }
}

/// A regular expression matched against bytes (bodies, lines read from a connection), as Go matches `[]byte`.
fn bytes_regexp(e: &mut Errors, n: &Node) -> Option<BytesRegex> {
    let s = e.string(n);
    match BytesRegex::new(&s) {
        Ok(r) => Some(r),
        Err(_) => {
            e.fail(n, format!("\"Could not compile regular expression\" regexp=\"{s}\""));
            None
        }
    }
}

fn regexps(e: &mut Errors, n: &Node) -> Vec<BytesRegex> {
    let items = e.seq(n, "[]config.Regexp");
    items.iter().filter_map(|i| bytes_regexp(e, i)).collect()
}

fn header_matches(e: &mut Errors, n: &Node) -> Vec<HeaderMatch> {
    let items = e.seq(n, "[]config.HeaderMatch");
    let mut out = Vec::new();
    for i in items {
        let (mut header, mut re, mut allow_missing) = (String::new(), None, false);
        e.fields(i, "config.plain", |e, k, v| {
            match k {
                "header" => header = e.string(v),
                "regexp" => re = regexp(e, v),
                "allow_missing" => allow_missing = e.bool(v),
                _ => return false,
            }
            true
        });
        if header.is_empty() {
            e.fail(i, "header name must be set for HTTP header matchers");
            continue;
        }
        match re {
            Some(regexp) if !regexp.as_str().is_empty() => out.push(HeaderMatch { header, regexp, allow_missing }),
            _ => e.fail(i, "regexp must be set for HTTP header matchers"),
        }
    }
    out
}

fn tls_config(e: &mut Errors, n: &Node) -> TlsConfig {
    let mut t = TlsConfig::default();
    e.fields(n, "config.plain", |e, k, v| {
        match k {
            "ca" => t.ca = e.string(v),
            "ca_file" => t.ca_file = e.string(v),
            "cert" => t.cert = e.string(v),
            "cert_file" => t.cert_file = e.string(v),
            "key" => t.key = e.string(v),
            "key_file" => t.key_file = e.string(v),
            "server_name" => t.server_name = e.string(v),
            "insecure_skip_verify" => t.insecure_skip_verify = e.bool(v),
            "min_version" | "max_version" => {
                let s = e.string(v);
                match s.as_str() {
                    "" | "TLS12" | "TLS13" => {}
                    "TLS10" | "TLS11" => unsupported(e, v, &format!("{k} {s} (only TLS 1.2 and 1.3 are spoken)")),
                    _ => e.at(v, format!("unknown TLS version: {s}")),
                }
                if k == "min_version" {
                    t.min_version = s;
                } else {
                    t.max_version = s;
                }
            }
            "ca_ref" | "cert_ref" | "key_ref" => {
                if !v.is_null() {
                    unsupported(e, v, &format!("field {k}"));
                }
            }
            _ => return false,
        }
        true
    });
    if !t.ca.is_empty() && !t.ca_file.is_empty() {
        e.fail(n, "at most one of ca and ca_file must be configured");
    }
    if !t.cert.is_empty() && !t.cert_file.is_empty() {
        e.fail(n, "at most one of cert and cert_file must be configured");
    }
    if !t.key.is_empty() && !t.key_file.is_empty() {
        e.fail(n, "at most one of key and key_file must be configured");
    }
    let has_cert = !t.cert.is_empty() || !t.cert_file.is_empty();
    let has_key = !t.key.is_empty() || !t.key_file.is_empty();
    if has_cert && !has_key {
        e.fail(n, "exactly one of key or key_file must be configured when a client certificate is configured");
    } else if has_key && !has_cert {
        e.fail(n, "exactly one of cert or cert_file must be configured when a client key is configured");
    }
    t
}

fn http_probe(e: &mut Errors, n: &Node) -> HttpProbe {
    let mut h = HttpProbe::default();
    let mut no_follow: Option<bool> = None;
    let mut bearer_token = String::new();
    let mut bearer_token_file = String::new();
    e.fields(n, "config.plain", |e, k, v| {
        match k {
            "valid_status_codes" => h.valid_status_codes = e.ints(v),
            "valid_http_versions" => h.valid_http_versions = e.strings(v),
            "preferred_ip_protocol" => h.ip.preferred = e.string(v),
            "ip_protocol_fallback" => h.ip.fallback = e.bool(v),
            // Only meaningful with a proxy, which this runtime refuses: nothing to skip.
            "skip_resolve_phase_with_proxy" => {
                e.bool(v);
            }
            "no_follow_redirects" => no_follow = Some(e.bool(v)),
            "fail_if_ssl" => h.fail_if_ssl = e.bool(v),
            "fail_if_not_ssl" => h.fail_if_not_ssl = e.bool(v),
            "method" => h.method = e.string(v),
            "headers" => h.headers = e.string_map(v),
            "fail_if_body_matches_regexp" => h.fail_if_body_matches_regexp = regexps(e, v),
            "fail_if_body_not_matches_regexp" => h.fail_if_body_not_matches_regexp = regexps(e, v),
            "fail_if_header_matches" => h.fail_if_header_matches = header_matches(e, v),
            "fail_if_header_not_matches" => h.fail_if_header_not_matches = header_matches(e, v),
            "body" => h.body = e.string(v),
            "body_file" => h.body_file = e.string(v),
            "compression" => {
                h.compression = e.string(v);
                if h.compression.eq_ignore_ascii_case("br") {
                    unsupported(e, v, "compression br");
                }
            }
            "body_size_limit" => {
                let s = e.string(v);
                match yaml::parse_base2_bytes(&s) {
                    Some(b) => h.body_size_limit = b,
                    None => e.at(v, format!("cannot unmarshal !!str `{s}` into units.Base2Bytes")),
                }
            }
            // prometheus/common's HTTPClientConfig, inlined.
            "follow_redirects" => h.follow_redirects = e.bool(v),
            // This runtime speaks HTTP/1.1 only; upstream negotiates HTTP/2 over TLS when this is true (its default).
            "enable_http2" => {
                e.bool(v);
            }
            "basic_auth" => h.basic_auth = Some(basic_auth(e, v)),
            "authorization" => h.authorization = Some(authorization(e, v)),
            "bearer_token" => bearer_token = e.string(v),
            "bearer_token_file" => bearer_token_file = e.string(v),
            "tls_config" => h.tls = tls_config(e, v),
            "oauth2" | "proxy_url" | "no_proxy" | "proxy_from_environment" | "proxy_connect_header" | "http_headers" => {
                if !v.is_null() {
                    unsupported(e, v, &format!("field {k}"));
                }
            }
            _ => return false,
        }
        true
    });
    // prometheus/common's HTTPClientConfig.Validate, for what this runtime reads.
    if !bearer_token.is_empty() && !bearer_token_file.is_empty() {
        e.fail(n, "at most one of bearer_token & bearer_token_file must be configured");
    }
    let bearer = !bearer_token.is_empty() || !bearer_token_file.is_empty();
    if h.basic_auth.is_some() && bearer {
        e.fail(n, "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured");
    }
    if let Some(a) = &h.authorization {
        if bearer {
            e.fail(n, "authorization is not compatible with bearer_token & bearer_token_file");
        }
        if h.basic_auth.is_some() {
            e.fail(n, "at most one of basic_auth, oauth2 & authorization must be configured");
        }
        if a.kind.eq_ignore_ascii_case("basic") {
            e.fail(n, "authorization type cannot be set to \"basic\", use \"basic_auth\" instead");
        }
        if !a.credentials.is_empty() && !a.credentials_file.is_empty() {
            e.fail(n, "at most one of authorization credentials & credentials_file must be configured");
        }
    }
    if bearer {
        h.authorization = Some(Authorization { kind: "Bearer".into(), credentials: bearer_token, credentials_file: bearer_token_file });
    }
    if let Some(a) = &mut h.authorization {
        if a.kind.is_empty() {
            a.kind = "Bearer".into();
        }
    }
    if let Some(b) = &h.basic_auth {
        if !b.password.is_empty() && !b.password_file.is_empty() {
            e.fail(n, "at most one of basic_auth password & password_file must be configured");
        }
        if !b.username.is_empty() && !b.username_file.is_empty() {
            e.fail(n, "at most one of basic_auth username & username_file must be configured");
        }
    }
    if let Some(nf) = no_follow {
        h.follow_redirects = !nf;
    }
    if !h.body.is_empty() && !h.body_file.is_empty() {
        e.fail(n, "setting body and body_file both are not allowed");
    }
    for (k, v) in &h.headers {
        if k.eq_ignore_ascii_case("accept-encoding") && !compression_accept_encoding_valid(&h.compression, v) {
            e.fail(n, format!("invalid configuration \"{k}: {v}\", \"compression: {}\"", h.compression));
        }
    }
    h
}

/// Upstream's rule: a configured compression must be among the encodings an `Accept-Encoding` header accepts.
fn compression_accept_encoding_valid(encoding: &str, accept: &str) -> bool {
    if encoding.is_empty() || accept.is_empty() {
        return true;
    }
    let mut encodings: Vec<(String, f32)> = accept
        .split(',')
        .map(|part| match part.rfind(';') {
            None => (part.trim().to_string(), 1.0),
            Some(i) => {
                let q = part[i + 1..].trim();
                let q = q.strip_prefix("q=").unwrap_or(q);
                let q = q.parse::<f64>().map(|q| ((q * 1000.0).round() / 1000.0) as f32).unwrap_or(0.0);
                (part[..i].trim().to_string(), q)
            }
        })
        .collect();
    encodings.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap_or(std::cmp::Ordering::Equal));
    for (enc, q) in encodings {
        if enc == encoding || enc == "*" {
            return q > 0.0;
        }
    }
    false
}

fn basic_auth(e: &mut Errors, n: &Node) -> BasicAuth {
    let mut b = BasicAuth::default();
    e.fields(n, "config.BasicAuth", |e, k, v| {
        match k {
            "username" => b.username = e.string(v),
            "username_file" => b.username_file = e.string(v),
            "password" => b.password = e.string(v),
            "password_file" => b.password_file = e.string(v),
            "username_ref" | "password_ref" => {
                if !v.is_null() {
                    unsupported(e, v, &format!("field {k}"));
                }
            }
            _ => return false,
        }
        true
    });
    b
}

fn authorization(e: &mut Errors, n: &Node) -> Authorization {
    let mut a = Authorization::default();
    e.fields(n, "config.Authorization", |e, k, v| {
        match k {
            "type" => a.kind = e.string(v),
            "credentials" => a.credentials = e.string(v),
            "credentials_file" => a.credentials_file = e.string(v),
            "credentials_ref" => {
                if !v.is_null() {
                    unsupported(e, v, "field credentials_ref");
                }
            }
            _ => return false,
        }
        true
    });
    a
}

fn tcp_probe(e: &mut Errors, n: &Node) -> TcpProbe {
    let mut t = TcpProbe::default();
    e.fields(n, "config.plain", |e, k, v| {
        match k {
            "preferred_ip_protocol" => t.ip.preferred = e.string(v),
            "ip_protocol_fallback" => t.ip.fallback = e.bool(v),
            "source_ip_address" => {
                if !e.string(v).is_empty() {
                    unsupported(e, v, "field source_ip_address of the tcp prober");
                }
            }
            "query_response" => {
                let items = e.seq(v, "[]config.QueryResponse");
                for i in items {
                    let mut q = QueryResponse::default();
                    e.fields(i, "config.plain", |e, k, v| {
                        match k {
                            "expect" => q.expect = bytes_regexp(e, v).filter(|r| !r.as_str().is_empty()),
                            "send" => q.send = e.string(v),
                            "starttls" => q.starttls = e.bool(v),
                            _ => return false,
                        }
                        true
                    });
                    t.query_response.push(q);
                }
            }
            "tls" => t.tls = e.bool(v),
            "tls_config" => t.tls_config = tls_config(e, v),
            _ => return false,
        }
        true
    });
    t
}

fn icmp_probe(e: &mut Errors, n: &Node) -> IcmpProbe {
    let mut c = IcmpProbe::default();
    let mut ttl: i64 = 64;
    e.fields(n, "config.plain", |e, k, v| {
        match k {
            "preferred_ip_protocol" => c.ip.preferred = e.string(v),
            "ip_protocol_fallback" => c.ip.fallback = e.bool(v),
            "source_ip_address" => c.source_ip_address = e.string(v),
            "payload_size" => c.payload_size = e.int(v).max(0) as usize,
            "dont_fragment" => {
                if e.bool(v) {
                    unsupported(e, v, "field dont_fragment");
                }
            }
            "ttl" => ttl = e.int(v),
            _ => return false,
        }
        true
    });
    if ttl < 0 {
        e.fail(n, "\"ttl\" cannot be negative");
    } else if ttl > 255 {
        e.fail(n, "\"ttl\" cannot exceed 255");
    }
    c.ttl = ttl.clamp(0, 255) as u32;
    c
}

fn rr_validator(e: &mut Errors, n: &Node) -> RrValidator {
    let mut r = RrValidator::default();
    e.fields(n, "config.plain", |e, k, v| {
        match k {
            "fail_if_matches_regexp" => r.fail_if_matches_regexp = e.strings(v),
            "fail_if_all_match_regexp" => r.fail_if_all_match_regexp = e.strings(v),
            "fail_if_not_matches_regexp" => r.fail_if_not_matches_regexp = e.strings(v),
            "fail_if_none_matches_regexp" => r.fail_if_none_matches_regexp = e.strings(v),
            _ => return false,
        }
        true
    });
    r
}

fn dns_probe(e: &mut Errors, n: &Node) -> DnsProbe {
    let mut d = DnsProbe::default();
    e.fields(n, "config.plain", |e, k, v| {
        match k {
            "preferred_ip_protocol" => d.ip.preferred = e.string(v),
            "ip_protocol_fallback" => d.ip.fallback = e.bool(v),
            "dns_over_tls" => d.dns_over_tls = e.bool(v),
            "tls_config" => d.tls_config = tls_config(e, v),
            "source_ip_address" => d.source_ip_address = e.string(v),
            "transport_protocol" => d.transport_protocol = e.string(v),
            "query_class" => d.query_class = e.string(v),
            "query_name" => d.query_name = e.string(v),
            "query_type" => d.query_type = e.string(v),
            "recursion_desired" => d.recursion_desired = e.bool(v),
            "valid_rcodes" => d.valid_rcodes = Some(e.strings(v)),
            "validate_answer_rrs" => d.validate_answer_rrs = rr_validator(e, v),
            "validate_authority_rrs" => d.validate_authority_rrs = rr_validator(e, v),
            "validate_additional_rrs" => d.validate_additional_rrs = rr_validator(e, v),
            _ => return false,
        }
        true
    });
    if d.query_name.is_empty() {
        e.fail(n, "query name must be set for DNS module");
    }
    if !d.query_class.is_empty() && super::dns::class_code(&d.query_class).is_none() {
        e.fail(n, format!("query class '{}' is not valid", d.query_class));
    }
    if !d.query_type.is_empty() && super::dns::type_code(&d.query_type).is_none() {
        e.fail(n, format!("query type '{}' is not valid", d.query_type));
    }
    if !d.source_ip_address.is_empty() && (d.transport_protocol == "tcp" || d.dns_over_tls) {
        unsupported(e, n, "field source_ip_address with the tcp transport");
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_modules_with_defaults() {
        let c = Config::parse("modules:\n  http_2xx:\n    prober: http\n    timeout: 5s\n  dns_a:\n    prober: dns\n    dns:\n      query_name: example.com\n      query_type: A\n").unwrap();
        let h = &c.modules["http_2xx"];
        assert_eq!(h.prober, Prober::Http);
        assert_eq!(h.timeout, Duration::from_secs(5));
        assert!(h.http.follow_redirects && h.http.ip.fallback && h.http.ip.prefers_v6());
        let d = &c.modules["dns_a"];
        assert_eq!(d.dns.query_name, "example.com");
        assert!(d.dns.recursion_desired);
        assert_eq!(c.modules.len(), 2);
    }

    #[test]
    fn flow_style_as_upstream_tests_write_it() {
        let c = Config::parse("{ modules: { http_2xx: { prober: http, timeout: 5s } } }").unwrap();
        assert_eq!(c.modules["http_2xx"].timeout, Duration::from_secs(5));
    }

    #[test]
    fn unknown_fields_are_errors_with_their_line() {
        let e = Config::parse("{ module: { http_2xx: { prober: http, timeout: 5s } } }").unwrap_err();
        assert_eq!(e.0, "yaml: unmarshal errors:\n  line 1: field module not found in type config.plain");
        let e = Config::parse("modules:\n  a:\n    prober: http\n    http:\n      valid_status_code: [200]\n").unwrap_err();
        assert_eq!(e.0, "yaml: unmarshal errors:\n  line 5: field valid_status_code not found in type config.plain");
    }

    #[test]
    fn bad_yaml_is_an_error_with_its_line() {
        let e = Config::parse("{ modules: { http_2xx: { prober: http, timeout: 5s }").unwrap_err();
        assert!(e.0.starts_with("yaml: line 1: "), "{}", e.0);
        let e = Config::parse("modules:\n  a:\n    prober: http\n   timeout: 5s\n").unwrap_err();
        assert!(e.0.starts_with("yaml: line 4: "), "{}", e.0);
    }

    #[test]
    fn wrong_types_read_as_go_yaml_words_them() {
        let e = Config::parse("modules:\n  a:\n    prober: http\n    timeout: soon\n").unwrap_err();
        assert_eq!(e.0, "yaml: unmarshal errors:\n  line 4: cannot unmarshal !!str `soon` into time.Duration");
        let e = Config::parse("modules:\n  a:\n    prober: http\n    http:\n      valid_status_codes: [ok]\n").unwrap_err();
        assert_eq!(e.0, "yaml: unmarshal errors:\n  line 5: cannot unmarshal !!str `ok` into int");
    }

    #[test]
    fn probers_are_checked() {
        let e = Config::parse("modules:\n  a:\n    prober: smtp\n").unwrap_err();
        assert_eq!(e.0, "line 3: prober 'smtp' is not valid");
        let e = Config::parse("modules:\n  a:\n    prober: grpc\n").unwrap_err();
        assert_eq!(e.0, "line 3: prober 'grpc' is not supported by this runtime yet");
    }

    #[test]
    fn upstream_checks() {
        let e = Config::parse("modules:\n  a:\n    prober: dns\n    dns:\n      query_type: A\n").unwrap_err();
        assert_eq!(e.0, "line 5: query name must be set for DNS module");
        let e = Config::parse("modules:\n  a:\n    prober: dns\n    dns:\n      query_name: x\n      query_type: NOPE\n").unwrap_err();
        assert_eq!(e.0, "line 5: query type 'NOPE' is not valid");
        let e = Config::parse("modules:\n  a:\n    prober: icmp\n    icmp:\n      ttl: 300\n").unwrap_err();
        assert_eq!(e.0, "line 5: \"ttl\" cannot exceed 255");
        let e = Config::parse("modules:\n  a:\n    prober: http\n    http:\n      body: x\n      body_file: y\n").unwrap_err();
        assert_eq!(e.0, "line 5: setting body and body_file both are not allowed");
        let e = Config::parse("modules:\n  a:\n    prober: http\n    http:\n      fail_if_body_matches_regexp: ['(']\n").unwrap_err();
        assert_eq!(e.0, "line 5: \"Could not compile regular expression\" regexp=\"(\"");
    }

    #[test]
    fn unimplemented_options_are_refused_by_name() {
        let e = Config::parse("modules:\n  a:\n    prober: http\n    http:\n      proxy_url: http://proxy:3128\n").unwrap_err();
        assert_eq!(e.0, "line 5: field proxy_url is not supported by this runtime yet");
        let e = Config::parse("modules:\n  a:\n    prober: icmp\n    icmp:\n      dont_fragment: true\n").unwrap_err();
        assert_eq!(e.0, "line 5: field dont_fragment is not supported by this runtime yet");
    }

    #[test]
    fn no_follow_redirects_overrides_follow_redirects() {
        let c = Config::parse("modules:\n  a:\n    prober: http\n    http:\n      no_follow_redirects: true\n").unwrap();
        assert!(!c.modules["a"].http.follow_redirects);
    }

    #[test]
    fn compression_must_match_accept_encoding() {
        assert!(compression_accept_encoding_valid("gzip", "gzip, deflate"));
        assert!(compression_accept_encoding_valid("gzip", "*"));
        assert!(!compression_accept_encoding_valid("gzip", "deflate"));
        assert!(!compression_accept_encoding_valid("gzip", "gzip;q=0"));
    }

    #[test]
    fn empty_text_has_no_modules() {
        assert!(Config::parse("").unwrap().modules.is_empty());
    }
}
