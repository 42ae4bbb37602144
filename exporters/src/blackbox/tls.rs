//! TLS for the probes (rustls with aws-lc-rs): the client configuration a module's `tls_config` asks for, the
//! handshake on a [`TimedStream`], and the certificate metrics upstream reports of the connection.

use std::io::{self, Read, Write};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore, SignatureScheme, StreamOwned};
use sha2::{Digest, Sha256};

use super::config::TlsConfig;
use super::der;
use super::net::TimedStream;
use super::Probe;

/// A probe connection: plain TCP or TLS over it.
pub(crate) enum Conn {
    Plain(TimedStream),
    Tls(Box<StreamOwned<ClientConnection, TimedStream>>),
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf),
            Conn::Tls(s) => match s.read(buf) {
                // A peer closing without close_notify ends the body all the same (Go reads it as EOF too).
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(0),
                r => r,
            },
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.write(buf),
            Conn::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Plain(s) => s.flush(),
            Conn::Tls(s) => s.flush(),
        }
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    static P: OnceLock<Arc<rustls::crypto::CryptoProvider>> = OnceLock::new();
    P.get_or_init(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider())).clone()
}

/// The system's trust store, loaded once.
fn system_roots() -> Arc<RootCertStore> {
    static ROOTS: OnceLock<Arc<RootCertStore>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let mut store = RootCertStore::empty();
            for c in rustls_native_certs::load_native_certs().certs {
                let _ = store.add(c);
            }
            Arc::new(store)
        })
        .clone()
}

fn read_pem(inline: &str, file: &str, what: &str) -> Result<Option<Vec<u8>>, String> {
    if !inline.is_empty() {
        return Ok(Some(inline.as_bytes().to_vec()));
    }
    if file.is_empty() {
        return Ok(None);
    }
    std::fs::read(file).map(Some).map_err(|e| format!("unable to load specified {what} cert {file}: {e}"))
}

/// The rustls client configuration of a `tls_config`.
pub(crate) fn client_config(t: &TlsConfig) -> Result<Arc<ClientConfig>, String> {
    let versions: &[&rustls::SupportedProtocolVersion] = match (t.min_version.as_str(), t.max_version.as_str()) {
        ("TLS13", "TLS12") => return Err("tls_config.max_version must be greater than or equal to tls_config.min_version".into()),
        ("TLS13", _) => &[&rustls::version::TLS13],
        (_, "TLS12") => &[&rustls::version::TLS12],
        _ => &[&rustls::version::TLS13, &rustls::version::TLS12],
    };
    let builder = ClientConfig::builder_with_provider(provider()).with_protocol_versions(versions).map_err(|e| e.to_string())?;
    let builder = if t.insecure_skip_verify {
        builder.dangerous().with_custom_certificate_verifier(Arc::new(NoVerify(provider())))
    } else {
        let roots = match read_pem(&t.ca, &t.ca_file, "CA")? {
            Some(pem) => {
                let mut store = RootCertStore::empty();
                for c in CertificateDer::pem_slice_iter(&pem) {
                    let c = c.map_err(|e| format!("unable to use specified CA cert: {e}"))?;
                    store.add(c).map_err(|e| format!("unable to use specified CA cert: {e}"))?;
                }
                if store.is_empty() {
                    return Err(format!("unable to use specified CA cert {}", if t.ca_file.is_empty() { "inline" } else { &t.ca_file }));
                }
                Arc::new(store)
            }
            None => system_roots(),
        };
        builder.with_root_certificates(roots)
    };
    let cert = read_pem(&t.cert, &t.cert_file, "client")?;
    let key = read_pem(&t.key, &t.key_file, "client key")?;
    let config = match (cert, key) {
        (Some(cert), Some(key)) => {
            let chain: Vec<CertificateDer<'static>> =
                CertificateDer::pem_slice_iter(&cert).collect::<Result<_, _>>().map_err(|e| format!("unable to use specified client cert: {e}"))?;
            let key = PrivateKeyDer::from_pem_slice(&key).map_err(|e| format!("unable to use specified client key: {e}"))?;
            builder.with_client_auth_cert(chain, key).map_err(|e| format!("unable to use specified client cert: {e}"))?
        }
        _ => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// Handshakes over `stream` for `server_name`; returns the connection and when the handshake started and ended.
pub(crate) fn handshake(config: Arc<ClientConfig>, server_name: &str, stream: TimedStream) -> io::Result<(Conn, Instant, Instant)> {
    let bare = server_name.trim_start_matches('[').trim_end_matches(']');
    let name = ServerName::try_from(bare.to_string()).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("invalid server name {bare:?}: {e}")))?;
    let conn = ClientConnection::new(config, name).map_err(io::Error::other)?;
    let mut s = StreamOwned::new(conn, stream);
    let start = Instant::now();
    while s.conn.is_handshaking() {
        s.conn.complete_io(&mut s.sock)?;
    }
    Ok((Conn::Tls(Box::new(s)), start, Instant::now()))
}

/// The TLS metrics upstream reports of a connection: earliest expiry, TLS version, last chain expiry and the
/// leaf's details. `verified` is false when verification was skipped (upstream then has no verified chain).
pub(crate) fn report(p: &mut Probe, conn: &Conn, verified: bool) {
    let Conn::Tls(s) = conn else { return };
    let certs: Vec<der::CertInfo> = s.conn.peer_certificates().unwrap_or_default().iter().filter_map(|c| der::parse_certificate(c)).collect();
    let earliest = certs.iter().map(|c| c.not_after).min().unwrap_or(ZERO_TIME);
    p.gauge("probe_ssl_earliest_cert_expiry", "Returns last SSL chain expiry in unixtime", earliest as f64);
    let version = match s.conn.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLS 1.2",
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLS 1.3",
        _ => "unknown",
    };
    p.gauge_vec("probe_tls_version_info", "Returns the TLS version used or NaN when unknown", &["version"], vec![version.into()], 1.0);
    let chain_expiry = if verified { earliest } else { ZERO_TIME };
    p.gauge("probe_ssl_last_chain_expiry_timestamp_seconds", "Returns last SSL chain expiry in timestamp", chain_expiry as f64);
    if let (Some(leaf_der), Some(leaf)) = (s.conn.peer_certificates().and_then(|c| c.first()), certs.first()) {
        let fingerprint: String = Sha256::digest(leaf_der.as_ref()).iter().map(|b| format!("{b:02x}")).collect();
        p.gauge_vec(
            "probe_ssl_last_chain_info",
            "Contains SSL leaf certificate information",
            &["fingerprint_sha256", "subject", "issuer", "subjectalternative"],
            vec![fingerprint, leaf.subject.clone(), leaf.issuer.clone(), leaf.dns_names.join(",")],
            1.0,
        );
    }
}

/// Go's zero `time.Time` in Unix seconds: what upstream reports when there is no certificate or chain.
const ZERO_TIME: i64 = -62_135_596_800;

/// `insecure_skip_verify`: any certificate is accepted, signatures are still checked.
#[derive(Debug)]
struct NoVerify(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(&self, message: &[u8], cert: &CertificateDer<'_>, dss: &DigitallySignedStruct) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(&self, message: &[u8], cert: &CertificateDer<'_>, dss: &DigitallySignedStruct) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
