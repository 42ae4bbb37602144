//! `otelcol.receiver.otlp`: OTLP over gRPC ([`grpc`]) and HTTP ([`http`]).
//!
//! Each protocol runs only when its block is present, as upstream. Requests are checked
//! (wire format down to the items), counted and handed to the `output` consumers as encoded
//! bytes. A consumer's refusal becomes a status the client understands: invalid data →
//! gRPC `InvalidArgument` / HTTP 400, anything retryable → gRPC `Unavailable` / HTTP 503.

pub mod grpc;
pub mod http;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use eval::Value;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::component::args::types::{Bytes, Dur};
use crate::component::{Arguments, BoxFuture, Component, ComponentError, Context, HealthState, Reader, Registration};
use crate::otelcol::auth::AuthHandler;
use crate::otelcol::consumer::{ConsumeError, Fanout, Output};
use crate::otelcol::pdata::{Metadata, Payload};
use crate::otelcol::SignalCounters;
use crate::server::Limits;
use crate::tls::{ClientAuth, TlsServer, TlsServerArgs};

/// Where a request's data goes, with the receiver's self-metrics for one transport.
pub struct Ingest {
    pub component_id: String,
    fanout: Arc<Fanout>,
    accepted: SignalCounters,
    refused: SignalCounters,
}

impl Ingest {
    /// The ingest of receiver type `receiver` (`otlp`, `zipkin`) over `transport`.
    pub(crate) fn new(ctx: &Context, fanout: Arc<Fanout>, receiver: &str, transport: &str) -> Self {
        let labels = [("receiver", receiver), ("transport", transport)];
        Ingest {
            component_id: ctx.id().to_string(),
            fanout,
            accepted: SignalCounters::new(ctx, "otelcol_receiver_accepted", "Number of items successfully pushed into the pipeline", &labels),
            refused: SignalCounters::new(ctx, "otelcol_receiver_refused", "Number of items that could not be pushed into the pipeline", &labels),
        }
    }

    /// A protobuf request refused as malformed: its items (as far as its framing can be
    /// read) count as refused, since the client was told no.
    pub fn refuse_malformed(&self, signal: crate::otelcol::pdata::Signal, bytes: &[u8]) {
        self.refused.add(signal, Payload::refused_items(signal, bytes));
    }

    /// [`Ingest::deliver`] in a task of its own: if the request is abandoned midway (the client
    /// went away, `write_timeout`), the delivery still runs to its end, so a batch it was
    /// flushing for other clients is not cut off.
    pub async fn deliver_detached(self: &Arc<Self>, payload: Payload) -> Result<(), ConsumeError> {
        let me = self.clone();
        tokio::spawn(async move { me.deliver(payload).await }).await.unwrap_or_else(|e| Err(ConsumeError::Unavailable(format!("delivery failed: {e}"))))
    }

    /// Sends one request's payload down the pipeline and counts the outcome.
    pub async fn deliver(&self, payload: Payload) -> Result<(), ConsumeError> {
        let (signal, n) = (payload.signal(), payload.items());
        match self.fanout.consume(payload).await {
            Ok(()) => {
                self.accepted.add(signal, n);
                Ok(())
            }
            Err(e) => {
                self.refused.add(signal, n);
                Err(e)
            }
        }
    }
}

/// The `grpc` block.
#[derive(Clone, Debug, Default)]
pub struct GrpcConfig {
    pub endpoint: String,
    pub max_recv_msg_size: usize,
    pub include_metadata: bool,
    pub auth: Option<AuthHandler>,
    pub tls: Option<TlsServer>,
    /// `max_concurrent_streams` and `keepalive > server_parameters` on gRPC-Go's defaults.
    pub limits: Limits,
}

/// A duration where `""`, `"0s"` and `"infinity"` mean none (the catalogue's defaults for
/// server timeouts and keepalive ages).
#[derive(Clone, Copy, Debug, Default)]
struct OptDur(Option<Duration>);

impl eval::Decode for OptDur {
    fn decode(v: &Value) -> Result<Self, eval::ValueError> {
        if let Ok(s) = <String as eval::Decode>::decode(v) {
            if matches!(s.trim(), "" | "infinity") {
                return Ok(OptDur(None));
            }
        }
        let d = <Dur as eval::Decode>::decode(v)?.0;
        Ok(OptDur((!d.is_zero()).then_some(d)))
    }
}

/// `keepalive`: its `server_parameters` (gRPC-Go's names); `enforcement_policy` (policing
/// how often clients ping) has no counterpart in the HTTP/2 server used here.
#[derive(Default)]
struct Keepalive(Option<ServerParameters>);

#[derive(Default)]
struct ServerParameters {
    max_connection_idle: Option<Duration>,
    max_connection_age: Option<Duration>,
    max_connection_age_grace: Option<Duration>,
    time: Option<Duration>,
    timeout: Option<Duration>,
}

impl Arguments for Keepalive {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&["enforcement_policy"]);
        Keepalive(r.block("server_parameters"))
    }
}

impl Arguments for ServerParameters {
    fn decode(r: &mut Reader<'_>) -> Self {
        ServerParameters {
            max_connection_idle: r.get::<OptDur>("max_connection_idle").0,
            max_connection_age: r.get::<OptDur>("max_connection_age").0,
            max_connection_age_grace: r.get::<OptDur>("max_connection_age_grace").0,
            time: r.get::<OptDur>("time").0,
            timeout: r.get::<OptDur>("timeout").0,
        }
    }
}

/// An HTTP server's settings, as the collector's `confighttp` server (the OTLP `http` block,
/// Jaeger's `thrift_http`, the Zipkin receiver's body).
#[derive(Clone, Debug, Default)]
pub struct HttpServerConfig {
    pub endpoint: String,
    pub max_request_body_size: usize,
    pub include_metadata: bool,
    pub auth: Option<AuthHandler>,
    pub tls: Option<TlsServer>,
    /// `read_header_timeout`, `idle_timeout`, `write_timeout`, `keep_alives_enabled`.
    pub limits: Limits,
    /// `read_timeout`: the whole body must arrive within it.
    pub read_timeout: Option<Duration>,
    /// `compression_algorithms`: the request encodings accepted (`""` is none); `None`
    /// accepts every supported one.
    pub compression_algorithms: Option<Vec<String>>,
}

/// The `http` block.
#[derive(Clone, Debug, Default)]
pub struct HttpConfig {
    pub server: HttpServerConfig,
    pub traces_url_path: String,
    pub metrics_url_path: String,
    pub logs_url_path: String,
}

#[derive(Clone, Debug, Default)]
pub struct Config {
    pub grpc: Option<GrpcConfig>,
    pub http: Option<HttpConfig>,
}

/// `/v1/traces`, also when written without the leading slash.
fn url_path(p: String) -> String {
    if p.starts_with('/') {
        p
    } else {
        format!("/{p}")
    }
}

/// The receiver's TLS: a client CA alone means client certificates are required, as in the
/// collector.
fn server_tls(r: &mut Reader<'_>) -> Option<TlsServer> {
    r.block::<TlsServerArgs>("tls").and_then(|t| t.resolve(ClientAuth::RequireAndVerifyClientCert))
}

impl Arguments for GrpcConfig {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&["read_buffer_size", "write_buffer_size", "transport"]);
        let mut limits = Limits::grpc();
        limits.max_concurrent_streams = r.opt::<u32>("max_concurrent_streams").filter(|n| *n > 0);
        if let Some(Keepalive(Some(p))) = r.block::<Keepalive>("keepalive") {
            limits.idle_timeout = p.max_connection_idle;
            limits.max_connection_age = p.max_connection_age;
            limits.max_connection_age_grace = p.max_connection_age_grace;
            // Zero is gRPC-Go's default, not "never".
            limits.keepalive_time = p.time.or(limits.keepalive_time);
            limits.keepalive_timeout = p.timeout.or(limits.keepalive_timeout);
        }
        GrpcConfig {
            limits,
            endpoint: r.get("endpoint"),
            max_recv_msg_size: r.get::<Bytes>("max_recv_msg_size").0 as usize,
            include_metadata: r.get("include_metadata"),
            auth: r.opt("auth"),
            tls: server_tls(r),
        }
    }
}

impl Arguments for HttpServerConfig {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&["cors"]);
        let limits = Limits {
            read_header_timeout: r.get::<OptDur>("read_header_timeout").0,
            idle_timeout: r.get::<OptDur>("idle_timeout").0,
            write_timeout: r.get::<OptDur>("write_timeout").0,
            keep_alives: r.opt("keep_alives_enabled").unwrap_or(true),
            ..Limits::http()
        };
        HttpServerConfig {
            limits,
            read_timeout: r.get::<OptDur>("read_timeout").0,
            compression_algorithms: r.opt::<Vec<String>>("compression_algorithms").map(|l| l.into_iter().map(|a| a.trim().to_ascii_lowercase()).collect()),
            endpoint: r.get("endpoint"),
            max_request_body_size: r.get::<Bytes>("max_request_body_size").0 as usize,
            include_metadata: r.get("include_metadata"),
            auth: r.opt("auth"),
            tls: server_tls(r),
        }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        super::check_endpoint(r, &self.endpoint);
    }
}

impl Arguments for HttpConfig {
    fn decode(r: &mut Reader<'_>) -> Self {
        HttpConfig {
            server: HttpServerConfig::decode(r),
            traces_url_path: url_path(r.get("traces_url_path")),
            metrics_url_path: url_path(r.get("metrics_url_path")),
            logs_url_path: url_path(r.get("logs_url_path")),
        }
    }
}

/// The component's arguments.
#[derive(Default)]
pub struct Args {
    config: Config,
    output: Output,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&["debug_metrics"]);
        Args { config: Config { grpc: r.block("grpc"), http: r.block("http") }, output: r.block_or_default("output") }
    }
}

const NAME: &str = "otelcol.receiver.otlp";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &[], build);

pub fn decode_args(args: &Value) -> Result<(Config, Output), ComponentError> {
    let a: Args = crate::component::args::decode_checked(NAME, args)?;
    Ok((a.config, a.output))
}

/// Keeps the client metadata of a request when `include_metadata` is set.
pub fn metadata_of(headers: &::http::HeaderMap) -> Metadata {
    let mut m = std::collections::BTreeMap::<String, Vec<String>>::new();
    for (k, v) in headers {
        if let Ok(v) = v.to_str() {
            m.entry(k.as_str().to_string()).or_default().push(v.to_string());
        }
    }
    Arc::new(m)
}

pub fn parse_endpoint(endpoint: &str) -> Result<SocketAddr, ComponentError> {
    use std::net::ToSocketAddrs;
    endpoint.to_socket_addrs().ok().and_then(|mut a| a.next()).ok_or_else(|| ComponentError(format!("invalid endpoint {endpoint:?}: expected host:port")))
}

pub struct OtlpReceiver {
    ctx: Context,
    fanout: Arc<Fanout>,
    config: watch::Sender<Config>,
    /// Bound addresses (for tests that listen on port 0).
    pub bound: Mutex<(Option<SocketAddr>, Option<SocketAddr>)>,
}

pub fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    Ok(OtlpReceiver::new(ctx, &args)?)
}

impl OtlpReceiver {
    pub fn new(ctx: Context, args: &Value) -> Result<Arc<OtlpReceiver>, ComponentError> {
        let (config, output) = decode_args(args)?;
        Ok(Arc::new(OtlpReceiver {
            fanout: Arc::new(Fanout::new(output).tapped(&ctx)),
            ctx,
            config: watch::channel(config).0,
            bound: Mutex::new((None, None)),
        }))
    }

    /// Waits up to 5 s for the bound addresses (gRPC, HTTP) to satisfy `ready`, for tests and
    /// benchmarks that listen on port 0.
    pub async fn wait_bound(&self, ready: impl Fn(&(Option<SocketAddr>, Option<SocketAddr>)) -> bool) -> Option<(Option<SocketAddr>, Option<SocketAddr>)> {
        for _ in 0..500 {
            let bound = *self.bound.lock().unwrap_or_else(|e| e.into_inner());
            if ready(&bound) {
                return Some(bound);
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        None
    }

    /// Runs the servers of one configuration until it changes or shutdown.
    async fn serve_config(&self, config: Config, stop: CancellationToken) -> Result<(), ComponentError> {
        let mut servers = Vec::new();
        if let Some(g) = config.grpc {
            let ingest = Arc::new(Ingest::new(&self.ctx, self.fanout.clone(), "otlp", "grpc"));
            let (addr, fut) = grpc::serve(g, ingest, stop.clone()).await?;
            self.bound.lock().unwrap_or_else(|e| e.into_inner()).0 = Some(addr);
            servers.push(fut);
        }
        if let Some(h) = config.http {
            let ingest = Arc::new(Ingest::new(&self.ctx, self.fanout.clone(), "otlp", "http"));
            let (addr, fut) = http::serve(h, ingest, stop.clone()).await?;
            self.bound.lock().unwrap_or_else(|e| e.into_inner()).1 = Some(addr);
            servers.push(fut);
        }
        self.ctx.set_health(HealthState::Healthy, "started");
        super::join_servers(servers, &stop).await
    }
}

impl Component for OtlpReceiver {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        crate::otelcol::receiver::apply(&self.fanout, &self.config, decode_args(&args)?);
        Ok(())
    }

    fn run(self: Arc<Self>, shutdown: CancellationToken) -> BoxFuture<Result<(), ComponentError>> {
        Box::pin(async move { super::serve_configs(&self.ctx, &self.config, shutdown, |c, stop| self.serve_config(c, stop)).await })
    }
}

#[cfg(test)]
mod tests;
