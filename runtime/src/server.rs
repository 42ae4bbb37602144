//! Serving an axum router with the limits Go's `net/http` and gRPC servers apply, which
//! `axum::serve` does not have: a connection that sends nothing, a partial header or stays
//! idle between requests is closed, HTTP/2 streams per connection are bounded, keepalive
//! pings find dead peers, and failing `accept` calls (out of file descriptors) back off
//! instead of spinning.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Connection limits; `None` is no limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// HTTP/1: the whole request header must arrive within this (Go's `ReadHeaderTimeout`).
    pub read_header_timeout: Option<Duration>,
    /// A connection without a request in flight for this long is closed (Go's `IdleTimeout`,
    /// gRPC's `max_connection_idle`).
    pub idle_timeout: Option<Duration>,
    /// A connection must start its first request within this (gRPC-Go's connection timeout).
    pub first_request_timeout: Option<Duration>,
    /// A request whose response is not ready within this fails (Go's `WriteTimeout`): an
    /// HTTP/1 connection is closed, an HTTP/2 request resets only its own stream.
    pub write_timeout: Option<Duration>,
    /// HTTP/1 keep-alive (Go's `SetKeepAlivesEnabled`).
    pub keep_alives: bool,
    /// HTTP/2 streams at once per connection.
    pub max_concurrent_streams: Option<u32>,
    /// HTTP/2 pings every `keepalive_time` of silence; no answer within `keepalive_timeout`
    /// closes the connection.
    pub keepalive_time: Option<Duration>,
    pub keepalive_timeout: Option<Duration>,
    /// Connections are asked to go away after this age, and closed `max_connection_age_grace`
    /// later.
    pub max_connection_age: Option<Duration>,
    pub max_connection_age_grace: Option<Duration>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits::http()
    }
}

impl Limits {
    /// Go's `net/http` server as the collector and Alloy configure it: one minute to send a
    /// header, one minute idle between requests.
    pub fn http() -> Self {
        Limits {
            read_header_timeout: Some(Duration::from_secs(60)),
            idle_timeout: Some(Duration::from_secs(60)),
            first_request_timeout: None,
            write_timeout: None,
            keep_alives: true,
            max_concurrent_streams: None,
            keepalive_time: None,
            keepalive_timeout: None,
            max_connection_age: None,
            max_connection_age_grace: None,
        }
    }

    /// gRPC-Go's server defaults: pings after 2 h of silence with 20 s to answer, 120 s to
    /// start using a new connection.
    pub fn grpc() -> Self {
        Limits {
            idle_timeout: None,
            first_request_timeout: Some(Duration::from_secs(120)),
            keepalive_time: Some(Duration::from_secs(2 * 60 * 60)),
            keepalive_timeout: Some(Duration::from_secs(20)),
            ..Limits::http()
        }
    }

    fn builder(&self) -> auto::Builder<TokioExecutor> {
        let mut b = auto::Builder::new(TokioExecutor::new());
        b.http1().timer(TokioTimer::new()).keep_alive(self.keep_alives).header_read_timeout(self.read_header_timeout);
        let mut h2 = b.http2();
        h2.timer(TokioTimer::new()).max_concurrent_streams(self.max_concurrent_streams).keep_alive_interval(self.keepalive_time);
        if let Some(t) = self.keepalive_timeout {
            h2.keep_alive_timeout(t);
        }
        b
    }
}

/// Go's `net/http` backoff after a failed `accept`: 5 ms, doubling up to 1 s, reset by the
/// next success.
#[derive(Debug, Default)]
pub struct AcceptBackoff {
    delay: Option<Duration>,
}

impl AcceptBackoff {
    const FIRST: Duration = Duration::from_millis(5);
    const MAX: Duration = Duration::from_secs(1);

    /// The pause after one more failure.
    pub fn next_delay(&mut self) -> Duration {
        let d = match self.delay {
            None => Self::FIRST,
            Some(d) => (d * 2).min(Self::MAX),
        };
        self.delay = Some(d);
        d
    }

    pub fn succeeded(&mut self) {
        self.delay = None;
    }

    /// Logs a failed accept (the first of a run, then at the longest pause) and waits.
    pub async fn failed(&mut self, e: &std::io::Error) {
        let d = self.next_delay();
        if d == Self::FIRST || d == Self::MAX {
            tracing::warn!(error = %e, retry_in = ?d, "accepting a connection failed");
        }
        tokio::time::sleep(d).await;
    }
}

/// The next connection of `tcp`, as every listener takes it: `TCP_NODELAY` set (responses
/// must not wait for delayed ACKs), a peer that gave up before it was taken skipped, and
/// other failures (out of file descriptors) backed off instead of spinning.
pub async fn accept(tcp: &tokio::net::TcpListener, backoff: &mut AcceptBackoff) -> (tokio::net::TcpStream, std::net::SocketAddr) {
    loop {
        match tcp.accept().await {
            Ok((io, addr)) => {
                backoff.succeeded();
                let _ = io.set_nodelay(true);
                return (io, addr);
            }
            Err(e) if matches!(e.kind(), std::io::ErrorKind::ConnectionAborted | std::io::ErrorKind::ConnectionReset) => {}
            Err(e) => backoff.failed(&e).await,
        }
    }
}

/// A TCP listener whose failed accepts back off ([`AcceptBackoff`]).
pub struct BackoffListener {
    tcp: tokio::net::TcpListener,
    backoff: AcceptBackoff,
}

impl BackoffListener {
    pub fn new(tcp: tokio::net::TcpListener) -> Self {
        BackoffListener { tcp, backoff: AcceptBackoff::default() }
    }
}

impl axum::serve::Listener for BackoffListener {
    type Io = tokio::net::TcpStream;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        accept(&self.tcp, &mut self.backoff).await
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// Requests in flight on a connection and when the last one ended.
struct Activity {
    in_flight: AtomicUsize,
    idle_since: Mutex<Instant>,
    started: AtomicUsize,
}

impl Activity {
    fn begin(self: &Arc<Self>) -> Busy {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        self.started.fetch_add(1, Ordering::SeqCst);
        Busy(self.clone())
    }

    /// Since when nothing is in flight; `None` while something is.
    fn idle_since(&self) -> Option<Instant> {
        let since = *self.idle_since.lock().unwrap_or_else(|e| e.into_inner());
        (self.in_flight.load(Ordering::SeqCst) == 0).then_some(since)
    }
}

struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        *self.0.idle_since.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The response was not ready within the write timeout: the connection is dropped.
#[derive(Debug)]
struct WriteTimeout;

impl std::fmt::Display for WriteTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("write timeout")
    }
}

impl std::error::Error for WriteTimeout {}

/// Serves `router` on `listener` until `shutdown`, then lets open connections finish their
/// requests (callers bound that wait).
pub async fn serve<L>(mut listener: L, router: axum::Router, limits: Limits, shutdown: CancellationToken) -> std::io::Result<()>
where
    L: axum::serve::Listener,
    L::Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let builder = Arc::new(limits.builder());
    let limits = Arc::new(limits);
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            (io, _) = listener.accept() => {
                connections.spawn(connection(io, builder.clone(), router.clone(), limits.clone(), shutdown.clone()));
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// One connection, closed when it idles, outlives its age or the server stops.
async fn connection<I>(io: I, builder: Arc<auto::Builder<TokioExecutor>>, router: axum::Router, limits: Arc<Limits>, shutdown: CancellationToken)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let born = Instant::now();
    let activity = Arc::new(Activity { in_flight: AtomicUsize::new(0), idle_since: Mutex::new(born), started: AtomicUsize::new(0) });
    let tower = hyper_util::service::TowerToHyperService::new(router);
    let write_timeout = limits.write_timeout;
    let seen = activity.clone();
    let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let busy = seen.begin();
        let response = hyper::service::Service::call(&tower, req);
        async move {
            let _busy = busy;
            let response: Result<_, Infallible> = match write_timeout {
                None => response.await,
                Some(t) => tokio::time::timeout(t, response).await.map_err(|_| WriteTimeout)?,
            };
            Ok::<_, WriteTimeout>(response.unwrap_or_else(|never| match never {}))
        }
    });
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
    tokio::pin!(conn);
    let far = born + Duration::from_secs(365 * 24 * 3600);
    let age_deadline = limits.max_connection_age.map(|a| born + a);
    let mut hard_deadline: Option<Instant> = None;
    let mut closing = false;
    loop {
        // When the connection may next be found idle (or unused, or too old).
        let idle_check = match (activity.idle_since(), limits.idle_timeout) {
            (Some(since), Some(idle)) => since + idle,
            (None, Some(idle)) => Instant::now() + idle,
            _ => far,
        };
        let unused_check = match limits.first_request_timeout {
            Some(t) if activity.started.load(Ordering::SeqCst) == 0 => born + t,
            _ => far,
        };
        let wake = idle_check.min(unused_check).min(age_deadline.unwrap_or(far));
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = shutdown.cancelled(), if !closing => {
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
            _ = tokio::time::sleep_until(wake), if !closing => {
                let now = Instant::now();
                let idle = limits.idle_timeout.is_some_and(|t| activity.idle_since().is_some_and(|s| now >= s + t));
                let unused = limits.first_request_timeout.is_some_and(|t| activity.started.load(Ordering::SeqCst) == 0 && now >= born + t);
                let old = age_deadline.is_some_and(|d| now >= d);
                if idle || unused || old {
                    conn.as_mut().graceful_shutdown();
                    closing = true;
                    if old {
                        hard_deadline = limits.max_connection_age_grace.map(|g| now + g);
                    }
                }
            }
            _ = tokio::time::sleep_until(hard_deadline.unwrap_or(far)), if hard_deadline.is_some() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn accept_backoff_doubles_from_5ms_to_1s_and_resets() {
        let mut b = AcceptBackoff::default();
        let delays: Vec<u64> = (0..10).map(|_| b.next_delay().as_millis() as u64).collect();
        assert_eq!(delays, [5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
        b.succeeded();
        assert_eq!(b.next_delay(), Duration::from_millis(5));
    }

    async fn start(limits: Limits) -> (std::net::SocketAddr, CancellationToken) {
        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = tcp.local_addr().unwrap();
        let router = axum::Router::new().route("/", axum::routing::get(|| async { "ok" })).route(
            "/slow",
            axum::routing::get(|| async {
                tokio::time::sleep(Duration::from_millis(600)).await;
                "slow"
            }),
        );
        let stop = CancellationToken::new();
        tokio::spawn(serve(BackoffListener::new(tcp), router, limits, stop.clone()));
        (addr, stop)
    }

    /// Reads until the server closes the connection; the time it took.
    async fn closed_after(conn: &mut tokio::net::TcpStream) -> Duration {
        let t = std::time::Instant::now();
        let mut buf = [0u8; 1024];
        loop {
            match tokio::time::timeout(Duration::from_secs(10), conn.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return t.elapsed(),
                Ok(Ok(_)) => {}
                Err(_) => panic!("the connection stayed open"),
            }
        }
    }

    #[tokio::test]
    async fn an_idle_connection_is_closed_after_the_idle_timeout() {
        let (addr, stop) = start(Limits { idle_timeout: Some(Duration::from_millis(300)), ..Limits::http() }).await;
        let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
        conn.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n").await.unwrap();
        let mut buf = [0u8; 256];
        let n = conn.read(&mut buf).await.unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
        // Kept alive, then idle: closed after about 300 ms, long before the header timeout.
        let waited = closed_after(&mut conn).await;
        assert!(waited >= Duration::from_millis(200) && waited < Duration::from_secs(5), "{waited:?}");
        // A connection that never sends anything is idle too.
        let mut silent = tokio::net::TcpStream::connect(addr).await.unwrap();
        assert!(closed_after(&mut silent).await < Duration::from_secs(5));
        stop.cancel();
    }

    #[tokio::test]
    async fn a_request_in_flight_is_not_idle() {
        let (addr, stop) = start(Limits { idle_timeout: Some(Duration::from_millis(200)), ..Limits::http() }).await;
        let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
        conn.write_all(b"GET /slow HTTP/1.1\r\nhost: x\r\n\r\n").await.unwrap();
        let mut buf = [0u8; 256];
        let n = conn.read(&mut buf).await.unwrap();
        let first = String::from_utf8_lossy(&buf[..n]).to_lowercase();
        assert!(first.starts_with("http/1.1 200"), "the slow request is answered: {first}");
        // A connection taken for idle would be shut down gracefully: the slow response would
        // still arrive, but marked `connection: close`, and nothing more would be served.
        assert!(!first.contains("connection: close"), "{first}");
        conn.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n").await.unwrap();
        let n = conn.read(&mut buf).await.unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"), "the connection still serves");
        stop.cancel();
    }

    #[tokio::test]
    async fn a_partial_header_is_closed_after_the_read_header_timeout() {
        let (addr, stop) = start(Limits { read_header_timeout: Some(Duration::from_millis(300)), idle_timeout: None, ..Limits::http() }).await;
        let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
        conn.write_all(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-le").await.unwrap();
        let waited = closed_after(&mut conn).await;
        assert!(waited >= Duration::from_millis(200) && waited < Duration::from_secs(5), "{waited:?}");
        stop.cancel();
    }

    #[tokio::test]
    async fn max_concurrent_streams_is_enforced_on_http2() {
        async fn two_slow_requests(limits: Limits) -> Duration {
            let (addr, stop) = start(limits).await;
            let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
            let (client, conn) = h2::client::handshake(tcp).await.unwrap();
            tokio::spawn(conn);
            let get = |path: &str| http::Request::get(format!("http://{addr}{path}")).body(()).unwrap();
            // One request first, so that the server's settings have arrived.
            let mut client = client.ready().await.unwrap();
            let (first, _) = client.send_request(get("/"), true).unwrap();
            assert_eq!(first.await.unwrap().status(), 200);
            let t = std::time::Instant::now();
            let mut client = client.ready().await.unwrap();
            let (a, _) = client.send_request(get("/slow"), true).unwrap();
            let mut client = client.ready().await.unwrap();
            let (b, _) = client.send_request(get("/slow"), true).unwrap();
            let (a, b) = tokio::join!(a, b);
            assert_eq!((a.unwrap().status().as_u16(), b.unwrap().status().as_u16()), (200, 200));
            stop.cancel();
            t.elapsed()
        }
        // One stream at a time: the second request waits for the first (600 ms each).
        let one = two_slow_requests(Limits { max_concurrent_streams: Some(1), ..Limits::http() }).await;
        assert!(one >= Duration::from_millis(1150), "{one:?}");
        let many = two_slow_requests(Limits::http()).await;
        assert!(many < Duration::from_millis(1150), "{many:?}");
    }

    #[tokio::test]
    async fn unused_and_old_connections_are_closed() {
        let no_idle = Limits { idle_timeout: None, read_header_timeout: None, ..Limits::http() };
        let (addr, stop) = start(Limits { first_request_timeout: Some(Duration::from_millis(300)), ..no_idle.clone() }).await;
        let mut silent = tokio::net::TcpStream::connect(addr).await.unwrap();
        assert!(closed_after(&mut silent).await < Duration::from_secs(5));
        stop.cancel();

        let limits = Limits { max_connection_age: Some(Duration::from_millis(300)), max_connection_age_grace: Some(Duration::from_millis(200)), ..no_idle };
        let (addr, stop) = start(limits).await;
        let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
        conn.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n").await.unwrap();
        let mut buf = [0u8; 256];
        assert!(conn.read(&mut buf).await.unwrap() > 0);
        assert!(closed_after(&mut conn).await < Duration::from_secs(5), "closed once it is too old");
        stop.cancel();
    }
}
