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

use eval::decode::StructDecoder;
use eval::Value;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use tokio_util::either::Either;

use crate::component::ComponentError;

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

/// PEM material given inline in `inline` (a string or a secret) or read from the file named
/// by `file`; inline wins. `None` when neither is set.
pub(crate) fn pem_or_file(d: &mut StructDecoder, inline: &'static str, file: &'static str) -> Result<Option<String>, ComponentError> {
    let inline: Option<Value> = d.optional(inline)?;
    let inline = match inline {
        Some(Value::Secret(s)) => Some(s.expose().to_string_lossy().into_owned()),
        Some(v) => eval::decode::Decode::decode(&v).map_err(ComponentError::from)?,
        None => None,
    };
    if let Some(p) = inline.filter(|s: &String| !s.is_empty()) {
        return Ok(Some(p));
    }
    match d.optional::<String>(file)?.filter(|s| !s.is_empty()) {
        Some(f) => std::fs::read_to_string(&f).map(Some).map_err(|e| ComponentError(format!("reading {file} {f}: {e}"))),
        None => Ok(None),
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
    fn parse(name: &str) -> Result<ClientAuth, ComponentError> {
        Ok(match name {
            "NoClientCert" => ClientAuth::NoClientCert,
            "RequestClientCert" => ClientAuth::RequestClientCert,
            "RequireAnyClientCert" => ClientAuth::RequireAnyClientCert,
            "VerifyClientCertIfGiven" => ClientAuth::VerifyClientCertIfGiven,
            "RequireAndVerifyClientCert" => ClientAuth::RequireAndVerifyClientCert,
            other => return Err(ComponentError(format!(
                "unknown client_auth_type {other:?}: expected NoClientCert, RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven or RequireAndVerifyClientCert"
            ))),
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
fn version(name: &str, which: &str) -> Result<Option<u8>, ComponentError> {
    let digits: String = name.trim_start_matches("TLS").chars().filter(|c| c.is_ascii_digit()).collect();
    Ok(match digits.as_str() {
        "" if name.trim().is_empty() => None,
        "12" => Some(2),
        "13" => Some(3),
        "10" | "11" => return Err(ComponentError(format!("{which} {name:?} is not supported: this runtime speaks TLS 1.2 and 1.3"))),
        _ => return Err(ComponentError(format!("unknown {which} {name:?}: expected \"TLS12\" or \"TLS13\""))),
    })
}

impl TlsServer {
    /// Decodes a `tls` block. `default_client_auth` applies when a client CA is given without
    /// `client_auth_type` (the collector's receivers then require and verify certificates).
    /// Bad PEM fails here, so a load or reload fails rather than the server later.
    pub fn decode(v: &Value, default_client_auth: ClientAuth) -> Result<TlsServer, ComponentError> {
        let mut d = StructDecoder::new(v)?;
        let needed = |p: Option<String>, what: &str| {
            p.ok_or_else(|| ComponentError(format!("TLS is configured but no {what} was given (set {what}_file or {what}_pem)")))
        };
        let cert = needed(pem_or_file(&mut d, "cert_pem", "cert_file")?, "cert")?;
        let key = needed(pem_or_file(&mut d, "key_pem", "key_file")?, "key")?;
        let client_ca_pem = pem_or_file(&mut d, "client_ca_pem", "client_ca_file")?;
        let client_auth = match d.optional::<String>("client_auth_type")?.filter(|s| !s.is_empty()) {
            Some(name) => Some(ClientAuth::parse(&name)?),
            None => None,
        };
        let client_auth = match (client_auth, &client_ca_pem) {
            (Some(ClientAuth::NoClientCert), _) => None,
            (Some(a), Some(_)) => Some(a),
            (Some(a), None) => {
                return Err(ComponentError(format!(
                    "client_auth_type {a:?} needs the CA to verify client certificates with (client_ca_file or client_ca_pem)"
                )));
            }
            (None, Some(_)) => Some(default_client_auth).filter(|a| *a != ClientAuth::NoClientCert),
            (None, None) => None,
        };
        let min = version(&d.optional::<String>("min_version")?.unwrap_or_default(), "min_version")?;
        let max = version(&d.optional::<String>("max_version")?.unwrap_or_default(), "max_version")?;
        if min.zip(max).is_some_and(|(a, b)| a > b) {
            return Err(ComponentError("min_version is above max_version".into()));
        }
        if max == Some(2) {
            return Err(ComponentError("max_version \"TLS12\" is not supported: this runtime always offers TLS 1.3".into()));
        }
        for list in ["cipher_suites", "curve_preferences"] {
            if d.optional::<Vec<String>>(list)?.is_some_and(|l| !l.is_empty()) {
                return Err(ComponentError(format!("{list} is not supported by this runtime: it offers rustls's safe defaults")));
            }
        }
        let tls = TlsServer { cert_pem: cert, key_pem: key, client_ca_pem, client_auth, tls13_only: min == Some(3) };
        server_config(&tls)?;
        Ok(tls)
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
    loop {
        let (stream, peer) = tokio::select! {
            _ = ready.closed() => return,
            accepted = tcp.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
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
