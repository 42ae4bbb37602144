//! The HTTP server a component runs on its own port (`prometheus.receive_http`,
//! `loki.source.api`): the `http` block (address, port, timeouts, `tls`), and [`Listening`],
//! which binds when the component is built or its address changes (so a port in use fails the
//! load or the update with the reason, and the old server goes on), applies TLS and timeout
//! changes to new connections without a rebind, and serves a router until shutdown with a
//! graceful period.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::component::args::types::Dur;
use crate::component::{Arguments, ComponentError, Context, HealthState, Reader};
use crate::tls::{ClientAuth, TlsListener, TlsServer, TlsSource};

/// Where and how the server listens.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Server {
    pub listen_address: String,
    pub listen_port: u16,
    pub tls: Option<TlsServer>,
    pub timeouts: Timeouts,
}

impl Server {
    /// The host and port to bind; an empty address is every IPv4 interface.
    pub fn address(&self) -> (&str, u16) {
        let host = self.listen_address.trim_start_matches('[').trim_end_matches(']');
        (if host.is_empty() { "0.0.0.0" } else { host }, self.listen_port)
    }
}

/// `server_read_timeout`, `server_write_timeout` and `server_idle_timeout`, with Go's
/// `http.Server` meaning: zero is no timeout, and a zero idle timeout falls back to the read
/// timeout. The read timeout bounds the request header (a body is read by the handler, within
/// the write timeout, which bounds the whole response).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    pub read: Duration,
    pub write: Duration,
    pub idle: Duration,
}

impl Default for Timeouts {
    /// The documented defaults.
    fn default() -> Self {
        Timeouts { read: Duration::from_secs(30), write: Duration::from_secs(30), idle: Duration::from_secs(120) }
    }
}

impl Timeouts {
    fn limits(self) -> crate::server::Limits {
        let some = |d: Duration| (!d.is_zero()).then_some(d);
        crate::server::Limits {
            read_header_timeout: some(self.read),
            write_timeout: some(self.write),
            idle_timeout: some(if self.idle.is_zero() { self.read } else { self.idle }),
            ..crate::server::Limits::http()
        }
    }
}

/// The `http` block.
#[derive(Default)]
pub struct HttpBlock(pub Server);

impl Arguments for HttpBlock {
    fn decode(r: &mut Reader<'_>) -> Self {
        // Connection limits and HTTP/2 tuning are the server library's own.
        r.unsupported(&["conn_limit", "http2"]);
        let port: i64 = r.get("listen_port");
        if !(0..=65535).contains(&port) {
            r.error("listen_port", format!("listen_port must be between 0 and 65535, got {port}"));
        }
        let tls = r.block::<TlsBlock>("tls").and_then(|t| t.server());
        let timeouts = Timeouts {
            read: r.get::<Dur>("server_read_timeout").0,
            write: r.get::<Dur>("server_write_timeout").0,
            idle: r.get::<Dur>("server_idle_timeout").0,
        };
        HttpBlock(Server { listen_address: r.get("listen_address"), listen_port: port.clamp(0, 65535) as u16, tls, timeouts })
    }
}

/// The `http > tls` block (dskit's server TLS settings).
#[derive(Default)]
struct TlsBlock {
    cert: Option<String>,
    key: Option<String>,
    client_ca: Option<String>,
    client_auth: ClientAuthSetting,
    tls13_only: bool,
}

#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum ClientAuthSetting {
    #[default]
    None,
    Some(ClientAuth),
}

impl Arguments for TlsBlock {
    fn decode(r: &mut Reader<'_>) -> Self {
        // rustls offers its own safe suites.
        r.unsupported(&["cipher_suites"]);
        let cert = crate::tls::read_pem(r, "cert_pem", "cert_file");
        let key = crate::tls::read_pem(r, "key_pem", "key_file");
        // `client_ca` is the inline CA upstream reads; the docs call it `client_ca_pem`.
        let inline_ca: String = r.get("client_ca");
        let client_ca = crate::tls::read_pem(r, "client_ca_pem", "client_ca_file").or_else(|| Some(inline_ca).filter(|s| !s.is_empty()));
        let auth: String = r.get("client_auth_type");
        let client_auth = match auth.as_str() {
            "" | "NoClientCert" => ClientAuthSetting::None,
            "RequestClientCert" => ClientAuthSetting::Some(ClientAuth::RequestClientCert),
            "RequireAnyClientCert" => ClientAuthSetting::Some(ClientAuth::RequireAnyClientCert),
            "VerifyClientCertIfGiven" => ClientAuthSetting::Some(ClientAuth::VerifyClientCertIfGiven),
            "RequireAndVerifyClientCert" => ClientAuthSetting::Some(ClientAuth::RequireAndVerifyClientCert),
            other => {
                r.error(
                    "client_auth_type",
                    format!("unknown client_auth_type {other:?}: expected NoClientCert, RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven or RequireAndVerifyClientCert"),
                );
                ClientAuthSetting::None
            }
        };
        let min_version: String = r.get("min_version");
        let tls13_only = match min_version.as_str() {
            "" | "TLS12" | "VersionTLS12" => false,
            "TLS13" | "VersionTLS13" => true,
            "TLS10" | "TLS11" | "VersionTLS10" | "VersionTLS11" => {
                r.error("min_version", format!("min_version {min_version:?} is not supported: this runtime speaks TLS 1.2 and 1.3"));
                false
            }
            other => {
                r.error("min_version", format!("unknown min_version {other:?}: expected \"TLS12\" or \"TLS13\""));
                false
            }
        };
        TlsBlock { cert, key, client_ca, client_auth, tls13_only }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        r.check(self.cert.is_some(), &["cert_file", "cert_pem"], "TLS is configured but no cert was given (set cert_file or cert_pem)");
        r.check(self.key.is_some(), &["key_file", "key_pem"], "TLS is configured but no key was given (set key_file or key_pem)");
        if let ClientAuthSetting::Some(a) = self.client_auth {
            // Client certificates are verified against a CA; none is no verification at all.
            r.check(
                self.client_ca.is_some(),
                &["client_auth_type"],
                format!("client_auth_type {a:?} needs the CA to verify client certificates with (client_ca_file or client_ca_pem)"),
            );
        }
        if let Some(tls) = self.server() {
            if let Err(e) = crate::tls::server_config(&tls) {
                let at = if e.0.contains("key") { ["key_pem", "key_file"] } else { ["cert_pem", "cert_file"] };
                r.check(false, &at, e.0);
            }
        }
    }
}

impl TlsBlock {
    fn server(&self) -> Option<TlsServer> {
        let client_auth = match self.client_auth {
            ClientAuthSetting::Some(a) if self.client_ca.is_some() => Some(a),
            _ => None,
        };
        Some(TlsServer {
            cert_pem: self.cert.clone()?,
            key_pem: self.key.clone()?,
            client_ca_pem: self.client_ca.clone(),
            client_auth,
            tls13_only: self.tls13_only,
        })
    }
}

/// A bound listener waiting for the run loop to serve it.
type Pending = Arc<Mutex<Option<std::net::TcpListener>>>;

fn bind(s: &Server) -> Result<std::net::TcpListener, ComponentError> {
    let (host, port) = s.address();
    let shown = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
    let l = std::net::TcpListener::bind((host, port)).map_err(|e| ComponentError(format!("failed to listen on {shown}: {e}")))?;
    l.set_nonblocking(true)?;
    Ok(l)
}

fn tls_config(s: &Server) -> Result<Option<Arc<rustls::ServerConfig>>, ComponentError> {
    crate::tls::install_crypto_provider();
    s.tls.as_ref().map(crate::tls::server_config).transpose()
}

/// A component's server: the bound listener, its TLS settings and the graceful period.
pub struct Listening {
    tls: Arc<RwLock<Option<Arc<rustls::ServerConfig>>>>,
    server: Mutex<Server>,
    graceful: Mutex<Duration>,
    listener: watch::Sender<Pending>,
    /// A second handle on the bound socket: new timeouts are served from it while the old
    /// server finishes, since the address stays taken.
    socket: Mutex<Option<std::net::TcpListener>>,
    bound: Mutex<Option<SocketAddr>>,
}

impl Listening {
    /// Binds now.
    pub fn new(server: Server, graceful: Duration) -> Result<Self, ComponentError> {
        let tls = tls_config(&server)?;
        let listener = bind(&server)?;
        let bound = listener.local_addr().ok();
        let socket = listener.try_clone()?;
        Ok(Listening {
            tls: Arc::new(RwLock::new(tls)),
            server: Mutex::new(server),
            graceful: Mutex::new(graceful),
            listener: watch::channel(Arc::new(Mutex::new(Some(listener)))).0,
            socket: Mutex::new(Some(socket)),
            bound: Mutex::new(bound),
        })
    }

    /// The address the server listens on (port 0 resolved).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        *self.bound.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// New settings: a new address is bound before the old server stops (a port in use fails
    /// the update and the old server goes on); new TLS settings apply to new connections, and
    /// new timeouts to the connections a new server on the same socket accepts.
    pub fn update(&self, new: Server, graceful: Duration) -> Result<(), ComponentError> {
        *self.graceful.lock().unwrap_or_else(|e| e.into_inner()) = graceful;
        let mut server = self.server.lock().unwrap_or_else(|e| e.into_inner());
        if *server != new {
            let tls = tls_config(&new)?;
            let mut socket = self.socket.lock().unwrap_or_else(|e| e.into_inner());
            let next = if server.address() != new.address() {
                let listener = bind(&new)?;
                *self.bound.lock().unwrap_or_else(|e| e.into_inner()) = listener.local_addr().ok();
                *socket = Some(listener.try_clone()?);
                Some(listener)
            } else if server.timeouts != new.timeouts {
                socket.as_ref().map(std::net::TcpListener::try_clone).transpose()?
            } else {
                None
            };
            // The server is read by the run loop when it serves the next listener.
            *self.tls.write().unwrap_or_else(|e| e.into_inner()) = tls;
            *server = new;
            drop(server);
            if let Some(listener) = next {
                self.listener.send_replace(Arc::new(Mutex::new(Some(listener))));
            }
        }
        Ok(())
    }

    /// Serves `router` until `shutdown` (then waits up to the graceful period), moving to a new
    /// listener when an update bound one; `what` names the server in errors.
    pub async fn run(&self, ctx: &Context, shutdown: CancellationToken, router: impl Fn() -> axum::Router, what: &str) -> Result<(), ComponentError> {
        let mut rx = self.listener.subscribe();
        loop {
            let pending = rx.borrow_and_update().clone();
            let Some(listener) = pending.lock().unwrap_or_else(|e| e.into_inner()).take() else {
                return Err(ComponentError::new("the listener was already served"));
            };
            let stop = CancellationToken::new();
            let tcp = tokio::net::TcpListener::from_std(listener)?;
            let tls = self.tls.clone();
            let source: TlsSource = Arc::new(move || tls.read().unwrap_or_else(|e| e.into_inner()).clone());
            let listener = TlsListener::new(tcp, source)?;
            let what_failed = format!("{what} failed");
            let serve_stop = stop.clone();
            let app = router();
            let limits = self.server.lock().unwrap_or_else(|e| e.into_inner()).timeouts.limits();
            let mut serving =
                Box::pin(
                    async move { crate::server::serve(listener, app, limits, serve_stop).await.map_err(|e| ComponentError(format!("{what_failed}: {e}"))) },
                );
            ctx.set_health(HealthState::Healthy, "listening");
            let graceful = *self.graceful.lock().unwrap_or_else(|e| e.into_inner());
            tokio::select! {
                r = &mut serving => {
                    if let Err(e) = &r {
                        ctx.set_health(HealthState::Unhealthy, e.to_string());
                    }
                    return r;
                }
                _ = shutdown.cancelled() => {
                    stop.cancel();
                    let _ = tokio::time::timeout(graceful, serving).await;
                    return Ok(());
                }
                changed = rx.changed() => {
                    // The old server finishes its requests while the new one starts.
                    stop.cancel();
                    tokio::spawn(tokio::time::timeout(graceful, serving));
                    if changed.is_err() {
                        return Ok(());
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    use super::*;

    fn server(idle: Duration) -> Server {
        let timeouts = Timeouts { idle, ..Timeouts::default() };
        Server { listen_address: "127.0.0.1".into(), listen_port: 0, tls: None, timeouts }
    }

    /// Sends one request on a new connection and reads its response; the connection stays
    /// open for the caller to watch.
    fn request(addr: SocketAddr) -> TcpStream {
        let mut conn = TcpStream::connect(addr).expect("connects");
        conn.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").expect("writes");
        let mut buf = [0u8; 256];
        let n = conn.read(&mut buf).expect("reads a response");
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"), "{:?}", String::from_utf8_lossy(&buf[..n]));
        conn
    }

    /// Whether the server closes the connection within `within`.
    fn closed_within(conn: &mut TcpStream, within: Duration) -> bool {
        conn.set_read_timeout(Some(within)).expect("sets a timeout");
        let mut buf = [0u8; 16];
        matches!(conn.read(&mut buf), Ok(0))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn idle_timeout_applies_and_an_update_changes_it_for_new_connections() {
        let listening = Arc::new(Listening::new(server(Duration::from_millis(300)), Duration::from_secs(1)).expect("binds"));
        let addr = listening.local_addr().expect("bound");
        let stop = CancellationToken::new();
        let ctx = crate::component::detached_context("test.http");
        let serving = listening.clone();
        let run_stop = stop.clone();
        tokio::spawn(async move {
            let router = || axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
            serving.run(&ctx, run_stop, router, "test server").await
        });

        let idle = tokio::task::spawn_blocking(move || closed_within(&mut request(addr), Duration::from_secs(3)));
        assert!(idle.await.expect("joins"), "an idle connection is closed after server_idle_timeout");

        // Same address: no rebind, the socket is served again with the new timeouts.
        listening.update(server(Duration::from_secs(30)), Duration::from_secs(1)).expect("updates");
        assert_eq!(listening.local_addr(), Some(addr));
        tokio::time::sleep(Duration::from_millis(100)).await;
        let kept = tokio::task::spawn_blocking(move || closed_within(&mut request(addr), Duration::from_millis(900)));
        assert!(!kept.await.expect("joins"), "a connection accepted after the update keeps the new 30 s idle timeout");
        stop.cancel();
    }

    #[test]
    fn zero_means_no_timeout_and_a_zero_idle_timeout_falls_back_to_the_read_timeout() {
        let t = Timeouts { read: Duration::from_secs(5), write: Duration::ZERO, idle: Duration::ZERO };
        let limits = t.limits();
        assert_eq!((limits.read_header_timeout, limits.write_timeout, limits.idle_timeout), (Some(Duration::from_secs(5)), None, Some(Duration::from_secs(5))));
        let none = Timeouts { read: Duration::ZERO, write: Duration::ZERO, idle: Duration::ZERO }.limits();
        assert_eq!((none.read_header_timeout, none.write_timeout, none.idle_timeout), (None, None, None));
    }
}
