//! Prometheus' HTTP client settings (`prometheus/common/config.HTTPClientConfig`), read strictly
//! from YAML and written as Alloy's HTTP client blocks and attributes.

use crate::builder::{Block, Expr};
use crate::defaults::http_client as d;
use crate::yaml::{self, Errors, Fields, Node};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct BasicAuth {
    pub username: String,
    pub password: String,
    pub password_file: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Authorization {
    pub kind: String,
    pub credentials: String,
    pub credentials_file: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tls {
    pub ca: String,
    pub ca_file: String,
    pub cert: String,
    pub cert_file: String,
    pub key: String,
    pub key_file: String,
    pub server_name: String,
    pub insecure_skip_verify: bool,
    pub min_version: String,
    pub max_version: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Proxy {
    pub url: String,
    pub no_proxy: String,
    pub from_environment: bool,
    pub connect_header: Vec<(String, Vec<String>)>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct OAuth2 {
    pub client_id: String,
    pub client_secret: String,
    pub client_secret_file: String,
    pub scopes: Vec<String>,
    pub token_url: String,
    pub endpoint_params: Vec<(String, String)>,
    pub proxy: Proxy,
    pub tls: Tls,
}

#[derive(Clone, Debug, PartialEq)]
pub struct HttpClient {
    pub basic_auth: Option<BasicAuth>,
    pub authorization: Option<Authorization>,
    pub oauth2: Option<OAuth2>,
    pub bearer_token: String,
    pub bearer_token_file: String,
    pub proxy: Proxy,
    pub tls: Tls,
    pub follow_redirects: bool,
    pub enable_http2: bool,
    /// `http_headers` were given (Alloy has no equivalent in the converted components).
    pub has_http_headers: bool,
}

impl Default for HttpClient {
    fn default() -> Self {
        HttpClient {
            basic_auth: None,
            authorization: None,
            oauth2: None,
            bearer_token: String::new(),
            bearer_token_file: String::new(),
            proxy: Proxy::default(),
            tls: Tls::default(),
            follow_redirects: true,
            enable_http2: true,
            has_http_headers: false,
        }
    }
}

pub fn read_tls(n: &Node, errs: &mut Errors) -> Tls {
    let mut f = Fields::new(n, "config.plain", errs);
    let t = read_tls_fields(&mut f, errs);
    f.finish(errs);
    t
}

/// Reads the TLS keys of `f` (also where they are inlined in their parent).
pub fn read_tls_fields(f: &mut Fields, errs: &mut Errors) -> Tls {
    let t = Tls {
        ca: f.string("ca", errs),
        ca_file: f.string("ca_file", errs),
        cert: f.string("cert", errs),
        cert_file: f.string("cert_file", errs),
        key: f.string("key", errs),
        key_file: f.string("key_file", errs),
        server_name: f.string("server_name", errs),
        insecure_skip_verify: f.boolean("insecure_skip_verify", false, errs),
        min_version: f.string("min_version", errs),
        max_version: f.string("max_version", errs),
    };
    for k in ["ca_ref", "cert_ref", "key_ref"] {
        f.ignore(k);
    }
    t
}

/// Reads the proxy keys of `f` (they are inlined in their parent).
fn read_proxy(f: &mut Fields, errs: &mut Errors) -> Proxy {
    let mut connect_header = Vec::new();
    if let Some(n) = f.get("proxy_connect_header") {
        if let yaml::Kind::Map(entries) = &n.kind {
            for (k, v) in entries {
                connect_header.push((yaml::string(k, errs), yaml::strings(v, errs)));
            }
        }
    }
    Proxy {
        url: f.string("proxy_url", errs),
        no_proxy: f.string("no_proxy", errs),
        from_environment: f.boolean("proxy_from_environment", false, errs),
        connect_header,
    }
}

/// Reads the HTTP client keys of a mapping that inlines them. Prometheus' validation moves a
/// bearer token (or its file) into `authorization` with type `Bearer`.
pub fn read_inline(f: &mut Fields, errs: &mut Errors) -> HttpClient {
    let mut c = HttpClient::default();
    if let Some(n) = f.get("basic_auth") {
        let mut g = Fields::new(n, "config.BasicAuth", errs);
        c.basic_auth =
            Some(BasicAuth { username: g.string("username", errs), password: g.string("password", errs), password_file: g.string("password_file", errs) });
        for k in ["username_file", "username_ref", "password_ref"] {
            g.ignore(k);
        }
        g.finish(errs);
    }
    if let Some(n) = f.get("authorization") {
        let mut g = Fields::new(n, "config.Authorization", errs);
        c.authorization = Some(Authorization {
            kind: g.string("type", errs),
            credentials: g.string("credentials", errs),
            credentials_file: g.string("credentials_file", errs),
        });
        g.ignore("credentials_ref");
        g.finish(errs);
    }
    if let Some(n) = f.get("oauth2") {
        let mut g = Fields::new(n, "config.OAuth2", errs);
        let mut o = OAuth2 {
            client_id: g.string("client_id", errs),
            client_secret: g.string("client_secret", errs),
            client_secret_file: g.string("client_secret_file", errs),
            scopes: g.get("scopes").map(|n| yaml::strings(n, errs)).unwrap_or_default(),
            token_url: g.string("token_url", errs),
            endpoint_params: g.get("endpoint_params").map(|n| yaml::string_map(n, errs)).unwrap_or_default(),
            proxy: Proxy::default(),
            tls: Tls::default(),
        };
        o.proxy = read_proxy(&mut g, errs);
        if let Some(t) = g.get("tls_config") {
            o.tls = read_tls(t, errs);
        }
        g.ignore("client_secret_ref");
        g.finish(errs);
        c.oauth2 = Some(o);
    }
    c.bearer_token = f.string("bearer_token", errs);
    c.bearer_token_file = f.string("bearer_token_file", errs);
    c.proxy = read_proxy(f, errs);
    if let Some(n) = f.get("tls_config") {
        c.tls = read_tls(n, errs);
    }
    if let Some(n) = f.get("follow_redirects") {
        c.follow_redirects = yaml::boolean(n, errs);
    }
    if let Some(n) = f.get("enable_http2") {
        c.enable_http2 = yaml::boolean(n, errs);
    }
    c.has_http_headers = f.get("http_headers").is_some();
    // Prometheus' HTTPClientConfig.Validate: the refusals, then the bearer token moved.
    if let Some(problem) = auth_conflict(&c) {
        errs.hard(problem);
    }
    if !c.bearer_token.is_empty() {
        c.authorization = Some(Authorization { kind: "Bearer".into(), credentials: std::mem::take(&mut c.bearer_token), ..Default::default() });
    } else if !c.bearer_token_file.is_empty() {
        c.authorization = Some(Authorization { kind: "Bearer".into(), credentials_file: std::mem::take(&mut c.bearer_token_file), ..Default::default() });
    }
    if let Some(a) = &mut c.authorization {
        if a.kind.is_empty() {
            a.kind = "Bearer".into();
        }
    }
    c
}

/// The combinations of authentication settings Prometheus' client validation refuses, in its
/// order (the loader then refuses the whole file).
fn auth_conflict(c: &HttpClient) -> Option<&'static str> {
    let bearer = !c.bearer_token.is_empty() || !c.bearer_token_file.is_empty();
    if !c.bearer_token.is_empty() && !c.bearer_token_file.is_empty() {
        return Some("at most one of bearer_token & bearer_token_file must be configured");
    }
    if (c.basic_auth.is_some() || c.oauth2.is_some()) && bearer {
        return Some("at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured");
    }
    if let Some(a) = &c.authorization {
        if bearer {
            return Some("authorization is not compatible with bearer_token & bearer_token_file");
        }
        if !a.credentials.is_empty() && !a.credentials_file.is_empty() {
            return Some("at most one of authorization credentials & credentials_file must be configured");
        }
        if a.kind.trim().eq_ignore_ascii_case("basic") {
            return Some(r#"authorization type cannot be set to "basic", use "basic_auth" instead"#);
        }
        if c.basic_auth.is_some() || c.oauth2.is_some() {
            return Some("at most one of basic_auth, oauth2 & authorization must be configured");
        }
    }
    if c.oauth2.is_some() && c.basic_auth.is_some() {
        return Some("at most one of basic_auth, oauth2 & authorization must be configured");
    }
    None
}

pub fn tls_block(t: &Tls) -> Block {
    let mut b = Block::new("tls_config", None);
    b.opt_str("ca_pem", &t.ca, "")
        .opt_str("ca_file", &t.ca_file, "")
        .opt_str("cert_pem", &t.cert, "")
        .opt_str("cert_file", &t.cert_file, "")
        .opt_str("key_pem", &t.key, "")
        .opt_str("key_file", &t.key_file, "")
        .opt_str("server_name", &t.server_name, "")
        .opt_bool("insecure_skip_verify", t.insecure_skip_verify, false)
        .opt_str("min_version", &t.min_version, "");
    b
}

pub fn write_proxy(b: &mut Block, p: &Proxy) {
    b.opt_str("proxy_url", &p.url, "").opt_str("no_proxy", &p.no_proxy, "").opt_bool("proxy_from_environment", p.from_environment, false);
    if !p.connect_header.is_empty() {
        let mut entries: Vec<(String, Expr)> = p.connect_header.iter().map(|(k, v)| (k.clone(), Expr::strings(v))).collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        b.attr("proxy_connect_header", Expr::Object(entries));
    }
}

/// basic_auth, authorization, oauth2, bearer_token, bearer_token_file.
pub fn write_auth(b: &mut Block, c: &HttpClient) {
    if let Some(a) = &c.basic_auth {
        let mut blk = Block::new("basic_auth", None);
        blk.opt_str("username", &a.username, "").opt_str("password", &a.password, "").opt_str("password_file", &a.password_file, "");
        b.block(blk);
    }
    if let Some(a) = &c.authorization {
        let mut blk = Block::new("authorization", None);
        blk.opt_str("type", &a.kind, "").opt_str("credentials", &a.credentials, "").opt_str("credentials_file", &a.credentials_file, "");
        b.block(blk);
    }
    if let Some(o) = &c.oauth2 {
        let mut blk = Block::new("oauth2", None);
        blk.opt_str("client_id", &o.client_id, "")
            .opt_str("client_secret", &o.client_secret, "")
            .opt_str("client_secret_file", &o.client_secret_file, "")
            .opt_strings("scopes", &o.scopes)
            .opt_str("token_url", &o.token_url, "")
            .opt_map("endpoint_params", &o.endpoint_params);
        write_proxy(&mut blk, &o.proxy);
        // Alloy's OAuth2 TLS settings are a pointer the converter always fills: `tls_config { }`.
        blk.block(tls_block(&o.tls));
        b.block(blk);
    }
    b.opt_str("bearer_token", &c.bearer_token, "").opt_str("bearer_token_file", &c.bearer_token_file, "");
}

/// The whole client, in Alloy's order.
pub fn write_all(b: &mut Block, c: &HttpClient) {
    write_auth(b, c);
    write_proxy(b, &c.proxy);
    b.opt_block(tls_block(&c.tls));
    b.opt_bool("follow_redirects", c.follow_redirects, d::follow_redirects()).opt_bool("enable_http2", c.enable_http2, d::enable_http2());
}
