//! The Prometheus-style HTTP client settings (`bearer_token`, `basic_auth`, `authorization`,
//! `tls_config`, proxies, redirects, HTTP/2, extra headers), squashed into the component or
//! block that has them: `prometheus.scrape`, `discovery.http`, `prometheus.remote_write`'s
//! `endpoint`. Credentials given as files are read again for every request, so rotated
//! tokens are picked up as upstream does.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::component::args::types::SecretText;
use crate::component::{Arguments, Reader};

/// Where a credential comes from.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Secret {
    #[default]
    None,
    Inline(String),
    File(String),
}

impl Secret {
    fn read(r: &mut Reader<'_>, inline: &'static str, file: &'static str) -> Secret {
        let text = r.get::<SecretText>(inline).0;
        let path: String = r.get(file);
        match (text.is_empty(), path.is_empty()) {
            (false, _) => Secret::Inline(text),
            (true, false) => Secret::File(path),
            (true, true) => Secret::None,
        }
    }

    fn is_set(&self) -> bool {
        !matches!(self, Secret::None)
    }

    /// The value; a file is read now and trimmed.
    pub fn value(&self) -> Result<String, String> {
        match self {
            Secret::None => Ok(String::new()),
            Secret::Inline(s) => Ok(s.clone()),
            Secret::File(p) => std::fs::read_to_string(p).map(|s| s.trim().to_string()).map_err(|e| format!("unable to read {p}: {e}")),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct BasicAuth {
    pub username: String,
    pub password: Secret,
}

impl Arguments for BasicAuth {
    fn decode(r: &mut Reader<'_>) -> Self {
        BasicAuth { username: r.get("username"), password: Secret::read(r, "password", "password_file") }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        let both = r.is_set("password") && r.is_set("password_file");
        r.check(!both, &["password", "password_file"], "at most one of basic_auth password & password_file must be configured");
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Authorization {
    pub kind: String,
    pub credentials: Secret,
}

impl Arguments for Authorization {
    fn decode(r: &mut Reader<'_>) -> Self {
        let kind = r.opt::<String>("type").filter(|t| !t.is_empty()).unwrap_or_else(|| "Bearer".into());
        Authorization { kind, credentials: Secret::read(r, "credentials", "credentials_file") }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        r.check(!self.kind.eq_ignore_ascii_case("basic"), &["type"], "authorization type cannot be set to \"basic\", use \"basic_auth\" instead");
        let both = r.is_set("credentials") && r.is_set("credentials_file");
        r.check(!both, &["credentials", "credentials_file"], "at most one of authorization credentials & credentials_file must be configured");
    }
}

/// `tls_config`: PEM material read when decoded.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TlsConfig {
    pub ca_pem: Option<String>,
    pub cert_pem: Option<String>,
    pub key_pem: Option<String>,
    pub insecure_skip_verify: bool,
    pub min_version: Option<String>,
}

impl Arguments for TlsConfig {
    fn decode(r: &mut Reader<'_>) -> Self {
        // The HTTP client connects by the URL's host name; another SNI name is not offered.
        r.unsupported(&["server_name"]);
        TlsConfig {
            ca_pem: crate::tls::read_pem(r, "ca_pem", "ca_file"),
            cert_pem: crate::tls::read_pem(r, "cert_pem", "cert_file"),
            key_pem: crate::tls::read_pem(r, "key_pem", "key_file"),
            insecure_skip_verify: r.get("insecure_skip_verify"),
            min_version: r.opt::<String>("min_version").filter(|v| !v.is_empty()),
        }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        r.check(
            self.cert_pem.is_some() == self.key_pem.is_some(),
            &["cert_file", "cert_pem", "key_file", "key_pem"],
            "exactly one of key or key_file must be configured when a client certificate is configured",
        );
        if let Some(v) = &self.min_version {
            r.check(matches!(v.as_str(), "TLS10" | "TLS11" | "TLS12" | "TLS13"), &["min_version"], format!("unknown TLS version: {v}"));
        }
    }
}

/// The client settings of one component or block.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpClientConfig {
    pub bearer_token: Secret,
    pub basic_auth: Option<BasicAuth>,
    pub authorization: Option<Authorization>,
    pub tls: TlsConfig,
    pub proxy_url: Option<String>,
    pub no_proxy: Option<String>,
    pub proxy_from_environment: bool,
    pub follow_redirects: bool,
    pub enable_http2: bool,
    pub http_headers: BTreeMap<String, Vec<String>>,
}

impl Default for HttpClientConfig {
    fn default() -> Self {
        HttpClientConfig {
            bearer_token: Secret::None,
            basic_auth: None,
            authorization: None,
            tls: TlsConfig::default(),
            proxy_url: None,
            no_proxy: None,
            proxy_from_environment: false,
            follow_redirects: true,
            enable_http2: true,
            http_headers: BTreeMap::new(),
        }
    }
}

impl Arguments for HttpClientConfig {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&["oauth2", "proxy_connect_header"]);
        let http_headers: BTreeMap<String, Vec<SecretText>> = r.get("http_headers");
        HttpClientConfig {
            bearer_token: Secret::read(r, "bearer_token", "bearer_token_file"),
            basic_auth: r.block("basic_auth"),
            authorization: r.block("authorization"),
            tls: r.block_or_default("tls_config"),
            proxy_url: r.opt::<String>("proxy_url").filter(|s| !s.is_empty()),
            no_proxy: r.opt::<String>("no_proxy").filter(|s| !s.is_empty()),
            proxy_from_environment: r.get("proxy_from_environment"),
            follow_redirects: r.get("follow_redirects"),
            enable_http2: r.get("enable_http2"),
            http_headers: http_headers.into_iter().map(|(k, v)| (k, v.into_iter().map(|s| s.0).collect())).collect(),
        }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        let count = [r.is_set("basic_auth"), r.is_set("authorization"), r.is_set("bearer_token"), r.is_set("bearer_token_file")].iter().filter(|x| **x).count();
        r.check(
            count <= 1,
            &["bearer_token", "bearer_token_file", "basic_auth", "authorization"],
            "at most one of basic_auth, authorization, oauth2, bearer_token & bearer_token_file must be configured",
        );
        if let Some(p) = &self.proxy_url {
            r.check(reqwest::Url::parse(p).is_ok(), &["proxy_url"], format!("invalid proxy_url {p:?}"));
        }
        r.check(
            !(self.proxy_from_environment && (self.proxy_url.is_some() || self.no_proxy.is_some())),
            &["proxy_from_environment", "proxy_url", "no_proxy"],
            "if proxy_from_environment is configured, proxy_url and no_proxy must not be configured",
        );
        r.check(
            !(self.no_proxy.is_some() && self.proxy_url.is_none()),
            &["no_proxy", "proxy_url"],
            "if no_proxy is configured, proxy_url must also be configured",
        );
    }
}

impl HttpClientConfig {
    /// The `Authorization` header value for the next request, files read now.
    pub fn authorization_header(&self) -> Result<Option<String>, String> {
        if self.bearer_token.is_set() {
            return Ok(Some(format!("Bearer {}", self.bearer_token.value()?)));
        }
        if let Some(b) = &self.basic_auth {
            return Ok(Some(crate::basic_auth::header(&b.username, &b.password.value()?)));
        }
        if let Some(a) = &self.authorization {
            return Ok(Some(format!("{} {}", a.kind, a.credentials.value()?)));
        }
        Ok(None)
    }

    /// A reqwest client with these transport settings and `timeout` per request.
    pub fn client(&self, timeout: Option<Duration>, user_agent: &str) -> Result<reqwest::Client, String> {
        self.builder(timeout, user_agent)?.build().map_err(|e| format!("cannot build the HTTP client: {e}"))
    }

    /// [`HttpClientConfig::client`]'s builder, for callers that add transport settings of
    /// their own (a Unix socket) before building.
    pub fn builder(&self, timeout: Option<Duration>, user_agent: &str) -> Result<reqwest::ClientBuilder, String> {
        crate::tls::install_crypto_provider();
        let mut b = reqwest::Client::builder().user_agent(user_agent);
        if let Some(t) = timeout {
            b = b.timeout(t);
        }
        if let Some(ca) = &self.tls.ca_pem {
            for cert in reqwest::Certificate::from_pem_bundle(ca.as_bytes()).map_err(|e| format!("invalid CA certificate: {e}"))? {
                b = b.add_root_certificate(cert);
            }
        }
        if let (Some(cert), Some(key)) = (&self.tls.cert_pem, &self.tls.key_pem) {
            let id = reqwest::Identity::from_pem(format!("{cert}\n{key}").as_bytes()).map_err(|e| format!("invalid client certificate or key: {e}"))?;
            b = b.identity(id);
        }
        if self.tls.insecure_skip_verify {
            b = b.danger_accept_invalid_certs(true);
        }
        if let Some(v) = &self.tls.min_version {
            let v = match v.as_str() {
                "TLS13" => reqwest::tls::Version::TLS_1_3,
                _ => reqwest::tls::Version::TLS_1_2,
            };
            b = b.min_tls_version(v);
        }
        b = b.redirect(if self.follow_redirects { reqwest::redirect::Policy::limited(10) } else { reqwest::redirect::Policy::none() });
        if !self.enable_http2 {
            b = b.http1_only();
        }
        if !self.proxy_from_environment {
            b = b.no_proxy();
        }
        if let Some(p) = &self.proxy_url {
            let mut proxy = reqwest::Proxy::all(p).map_err(|e| format!("invalid proxy_url: {e}"))?;
            if let Some(np) = &self.no_proxy {
                proxy = proxy.no_proxy(reqwest::NoProxy::from_string(np));
            }
            b = b.proxy(proxy);
        }
        let mut headers = reqwest::header::HeaderMap::new();
        for (k, vs) in &self.http_headers {
            let name = reqwest::header::HeaderName::from_bytes(k.as_bytes()).map_err(|e| format!("invalid header name {k:?}: {e}"))?;
            for v in vs {
                headers.append(name.clone(), reqwest::header::HeaderValue::from_str(v).map_err(|e| format!("invalid value for header {k:?}: {e}"))?);
            }
        }
        Ok(b.default_headers(headers))
    }
}

/// The `User-Agent` of scrapes, remote writes and log pushes.
pub fn user_agent() -> String {
    format!("Alloy/v{} ({}; binary)", env!("CARGO_PKG_VERSION"), std::env::consts::OS)
}

/// A request error with its causes, as Go prints wrapped errors; a timeout reads as Go's
/// `context deadline exceeded`.
pub fn describe_error(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "context deadline exceeded".into();
    }
    crate::error_chain::error_chain(e)
}
