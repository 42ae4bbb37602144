//! TLS for the servers: the process's rustls crypto provider, a `tls` block decoded into a
//! server configuration (the OTLP receiver's and the `http` block's share the shape), and a
//! listener for axum that terminates TLS when a configuration is current (tonic terminates TLS
//! for gRPC itself).
//!
//! Handshakes run in their own tasks, so a client that connects and stalls cannot hold up the
//! others, and a failed handshake is logged and dropped without touching the server.

use std::net::SocketAddr;
use std::sync::{Arc, Once};
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use tokio_util::either::Either;

use crate::component::args::types::SecretText;
use crate::component::{Arguments, ComponentError, Reader};

/// How long a client may take to finish the handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepted connections waiting for the server to take them.
const PENDING_CONNECTIONS: usize = 64;

/// Makes aws-lc-rs the process's rustls provider explicitly. It is the only provider linked
/// (reqwest's rustls feature brings it, so tonic, tokio-rustls and rustls use it too; a test
/// of `runtime/tests/tls.rs` fails if ring comes back), so rustls would pick it by itself;
/// installing it up front keeps that true should a dependency ever add a second one. Call
/// before any TLS set-up; later calls do nothing.
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Err means another provider was installed first, which serves as well.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    });
}

/// PEM material given inline in `inline` or read from the file named by `file`; inline
/// wins. `None` when neither is set (or the block has no such attributes). A file that
/// cannot be read is an error at `file`.
pub fn read_pem(r: &mut Reader<'_>, inline: &'static str, file: &'static str) -> Option<String> {
    let text = if r.has(inline) { r.opt::<SecretText>(inline).map(|t| t.0).filter(|t| !t.is_empty()) } else { None };
    let path = if r.has(file) { r.get::<String>(file) } else { String::new() };
    if text.is_some() || path.is_empty() {
        return text;
    }
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) => {
            r.error(file, format!("reading {file} {path}: {e}"));
            None
        }
    }
}

/// Go's `tls.ClientAuthType`, by its upstream name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    NoClientCert,
    RequestClientCert,
    RequireAnyClientCert,
    VerifyClientCertIfGiven,
    RequireAndVerifyClientCert,
}

impl ClientAuth {
    fn parse(name: &str) -> Result<ClientAuth, String> {
        Ok(match name {
            "NoClientCert" => ClientAuth::NoClientCert,
            "RequestClientCert" => ClientAuth::RequestClientCert,
            "RequireAnyClientCert" => ClientAuth::RequireAnyClientCert,
            "VerifyClientCertIfGiven" => ClientAuth::VerifyClientCertIfGiven,
            "RequireAndVerifyClientCert" => ClientAuth::RequireAndVerifyClientCert,
            other => return Err(format!(
                "unknown client_auth_type {other:?}: expected NoClientCert, RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven or RequireAndVerifyClientCert"
            )),
        })
    }

    /// Whether a client may connect without a certificate.
    pub fn optional(self) -> bool {
        matches!(self, ClientAuth::RequestClientCert | ClientAuth::VerifyClientCertIfGiven)
    }
}

/// A server's TLS settings: PEM material, client certificates, protocol versions.
#[derive(Clone, Debug, PartialEq)]
pub struct TlsServer {
    pub cert_pem: String,
    pub key_pem: String,
    pub client_ca_pem: Option<String>,
    /// How client certificates are treated; `None` when there is no client CA.
    pub client_auth: Option<ClientAuth>,
    /// TLS 1.3 only (`min_version = "TLS13"`).
    pub tls13_only: bool,
}

/// A protocol version as upstream spells it (`TLS12` in the `http` block, `1.2` in the
/// collector's, `TLS 1.2` in catalogue defaults): 2 for TLS 1.2, 3 for TLS 1.3.
fn version(name: &str, which: &str) -> Result<Option<u8>, String> {
    let digits: String = name.trim_start_matches("TLS").chars().filter(|c| c.is_ascii_digit()).collect();
    Ok(match digits.as_str() {
        "" if name.trim().is_empty() => None,
        "12" => Some(2),
        "13" => Some(3),
        "10" | "11" => return Err(format!("{which} {name:?} is not supported: this runtime speaks TLS 1.2 and 1.3")),
        _ => return Err(format!("unknown {which} {name:?}: expected \"TLS12\" or \"TLS13\"")),
    })
}

/// A server's `tls` block as written (the OTLP receiver's and the `http` block's share it;
/// attributes one of them lacks are not read).
#[derive(Clone, Debug, Default)]
pub struct TlsServerArgs {
    cert_pem: Option<String>,
    key_pem: Option<String>,
    client_ca_pem: Option<String>,
    client_auth: Option<ClientAuth>,
    min: Option<u8>,
    max: Option<u8>,
}

impl Arguments for TlsServerArgs {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&[
            "ca_file",
            "ca_pem",
            "include_insecure_cipher_suites",
            "include_system_ca_certs_pool",
            "reload_interval",
            "tpm",
            "windows_certificate_filter",
        ]);
        let text = |r: &mut Reader<'_>, name: &'static str| if r.has(name) { r.get::<String>(name) } else { String::new() };
        let client_auth = text(r, "client_auth_type");
        let min_version = text(r, "min_version");
        let max_version = text(r, "max_version");
        let mut a = TlsServerArgs {
            cert_pem: read_pem(r, "cert_pem", "cert_file"),
            key_pem: read_pem(r, "key_pem", "key_file"),
            client_ca_pem: read_pem(r, "client_ca_pem", "client_ca_file"),
            ..TlsServerArgs::default()
        };
        let parsed = |r: &mut Reader<'_>, name: &'static str, v: Result<Option<u8>, String>| {
            v.unwrap_or_else(|e| {
                r.error(name, e);
                None
            })
        };
        a.min = parsed(r, "min_version", version(&min_version, "min_version"));
        a.max = parsed(r, "max_version", version(&max_version, "max_version"));
        if !client_auth.is_empty() {
            match ClientAuth::parse(&client_auth) {
                Ok(c) => a.client_auth = Some(c),
                Err(e) => r.error("client_auth_type", e),
            }
        }
        for list in ["cipher_suites", "curve_preferences"] {
            if r.has(list) && !r.get::<Vec<String>>(list).is_empty() {
                r.error(list, format!("{list} is not supported by this runtime: it offers rustls's safe defaults"));
            }
        }
        a
    }

    fn validate(&self, r: &mut Reader<'_>) {
        for (what, pem) in [("cert", &self.cert_pem), ("key", &self.key_pem)] {
            let (inline, file) = if what == "cert" { ("cert_pem", "cert_file") } else { ("key_pem", "key_file") };
            r.check(pem.is_some(), &[file, inline], format!("TLS is configured but no {what} was given (set {what}_file or {what}_pem)"));
        }
        if let Some(a) = self.client_auth.filter(|a| *a != ClientAuth::NoClientCert) {
            r.check(
                self.client_ca_pem.is_some(),
                &["client_auth_type"],
                format!("client_auth_type {a:?} needs the CA to verify client certificates with (client_ca_file or client_ca_pem)"),
            );
        }
        r.check(self.min.zip(self.max).is_none_or(|(a, b)| a <= b), &["min_version", "max_version"], "min_version is above max_version");
        r.check(self.max != Some(2), &["max_version"], "max_version \"TLS12\" is not supported: this runtime always offers TLS 1.3");
        if let Some(tls) = self.resolve(ClientAuth::NoClientCert) {
            if let Err(e) = server_config(&tls) {
                let at = if e.0.contains("key") { ["key_pem", "key_file"] } else { ["cert_pem", "cert_file"] };
                r.check(false, &at, e.0);
            }
        }
    }
}

impl TlsServerArgs {
    /// The settings a server uses. `default_client_auth` applies when a client CA is given
    /// without `client_auth_type` (the collector's receivers then require and verify
    /// certificates). `None` without a certificate and key (refused by `validate`).
    pub fn resolve(&self, default_client_auth: ClientAuth) -> Option<TlsServer> {
        let client_auth = match (self.client_auth, &self.client_ca_pem) {
            (Some(ClientAuth::NoClientCert), _) | (_, None) => None,
            (Some(a), Some(_)) => Some(a),
            (None, Some(_)) => Some(default_client_auth).filter(|a| *a != ClientAuth::NoClientCert),
        };
        Some(TlsServer {
            cert_pem: self.cert_pem.clone()?,
            key_pem: self.key_pem.clone()?,
            client_ca_pem: self.client_ca_pem.clone(),
            client_auth,
            tls13_only: self.min == Some(3),
        })
    }
}

/// A client's `tls` block (PEM material read when decoded).
#[derive(Clone, Debug, Default)]
pub struct TlsClient {
    pub insecure: bool,
    pub insecure_skip_verify: bool,
    pub ca_pem: Option<String>,
    pub cert_pem: Option<String>,
    pub key_pem: Option<String>,
    pub server_name: Option<String>,
}

impl Arguments for TlsClient {
    fn decode(r: &mut Reader<'_>) -> Self {
        // rustls offers its own safe suites and versions; certificates are read once.
        r.unsupported(&[
            "cipher_suites",
            "curve_preferences",
            "include_insecure_cipher_suites",
            "include_system_ca_certs_pool",
            "max_version",
            "min_version",
            "reload_interval",
            "tpm",
        ]);
        TlsClient {
            insecure: r.get("insecure"),
            insecure_skip_verify: r.get("insecure_skip_verify"),
            ca_pem: read_pem(r, "ca_pem", "ca_file"),
            cert_pem: read_pem(r, "cert_pem", "cert_file"),
            key_pem: read_pem(r, "key_pem", "key_file"),
            server_name: r.opt::<String>("server_name").filter(|s| !s.is_empty()),
        }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        r.check(
            self.cert_pem.is_some() == self.key_pem.is_some(),
            &["cert_file", "cert_pem", "key_file", "key_pem"],
            "a client certificate needs both cert (cert_pem or cert_file) and key (key_pem or key_file)",
        );
    }
}

/// The rustls configuration for `tls`. Offers HTTP/2 and HTTP/1.1.
pub fn server_config(tls: &TlsServer) -> Result<Arc<rustls::ServerConfig>, ComponentError> {
    let bad = |what: &str, e: &dyn std::fmt::Display| ComponentError(format!("invalid TLS {what}: {e}"));
    let chain = CertificateDer::pem_slice_iter(tls.cert_pem.as_bytes()).collect::<Result<Vec<_>, _>>().map_err(|e| bad("cert", &e))?;
    if chain.is_empty() {
        return Err(ComponentError("invalid TLS cert: no PEM certificate found".into()));
    }
    let key = PrivateKeyDer::from_pem_slice(tls.key_pem.as_bytes()).map_err(|e| bad("key", &e))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let versions: &[&rustls::SupportedProtocolVersion] = if tls.tls13_only { &[&rustls::version::TLS13] } else { rustls::DEFAULT_VERSIONS };
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone()).with_protocol_versions(versions).map_err(|e| bad("configuration", &e))?;
    let builder = match (&tls.client_ca_pem, tls.client_auth) {
        (Some(ca), Some(auth)) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(ca.as_bytes()) {
                roots.add(cert.map_err(|e| bad("client CA", &e))?).map_err(|e| bad("client CA", &e))?;
            }
            let mut verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            if auth.optional() {
                verifier = verifier.allow_unauthenticated();
            }
            builder.with_client_cert_verifier(verifier.build().map_err(|e| bad("client CA", &e))?)
        }
        _ => builder.with_no_client_auth(),
    };
    let mut config = builder.with_single_cert(chain, key).map_err(|e| bad("cert or key", &e))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Where a listener gets its TLS configuration for each new connection: `None` serves plain
/// TCP. Asking per connection lets a reload turn TLS on, off or to a new certificate without
/// rebinding the port.
pub type TlsSource = Arc<dyn Fn() -> Option<Arc<rustls::ServerConfig>> + Send + Sync>;

/// A connection: plain, or after a TLS handshake.
pub type MaybeTls = Either<TcpStream, TlsStream<TcpStream>>;

/// An `axum::serve` listener: TLS when the source has a configuration, else plain. Dropping
/// it stops accepting.
pub struct TlsListener {
    ready: mpsc::Receiver<(MaybeTls, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    pub fn new(tcp: TcpListener, source: TlsSource) -> std::io::Result<TlsListener> {
        let local = tcp.local_addr()?;
        let (tx, ready) = mpsc::channel(PENDING_CONNECTIONS);
        tokio::spawn(accept_loop(tcp, source, tx));
        Ok(TlsListener { ready, local })
    }

    /// A listener that always terminates TLS with `config`.
    pub fn fixed(tcp: TcpListener, config: Arc<rustls::ServerConfig>) -> std::io::Result<TlsListener> {
        TlsListener::new(tcp, Arc::new(move || Some(config.clone())))
    }
}

async fn accept_loop(tcp: TcpListener, source: TlsSource, ready: mpsc::Sender<(MaybeTls, SocketAddr)>) {
    let mut backoff = crate::server::AcceptBackoff::default();
    loop {
        let (stream, peer) = tokio::select! {
            _ = ready.closed() => return,
            accepted = crate::server::accept(&tcp, &mut backoff) => accepted,
        };
        let Some(config) = source() else {
            if ready.send((Either::Left(stream), peer)).await.is_err() {
                return;
            }
            continue;
        };
        let (acceptor, ready) = (TlsAcceptor::from(config), ready.clone());
        tokio::spawn(async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => {
                    let _ = ready.send((Either::Right(tls), peer)).await;
                }
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        });
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = MaybeTls;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(conn) => conn,
            // The accept loop only ends when this listener is gone; never yield a connection.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}
