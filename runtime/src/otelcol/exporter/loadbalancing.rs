//! `otelcol.exporter.loadbalancing`: sends each trace (or service, resource, metric) to one
//! of several OTLP/gRPC backends, chosen on a consistent hash ring ([`ring`]) so that every
//! span of a trace reaches the same backend, as tail sampling and span metrics need.
//! Backends come from a static list or from DNS (re-resolved every `interval`); each has its
//! own queue and retries, built from `protocol.otlp` like an `otelcol.exporter.otlp`. A
//! request is split per backend ([`route`]); the parts go out concurrently and the request
//! fails if any part does.

mod ring;
mod route;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use eval::Value;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::otlp::GrpcClient;
use super::pipeline::ExporterPipeline;
use crate::component::args::{decode_checked, types::Dur};
use crate::component::{Arguments, BoxFuture, Component, ComponentError, Context, Reader, Registration};
use crate::delivery::queue::QueueConfig;
use crate::delivery::retry::RetryConfig;
use crate::metrics::{Counter, Gauge};
use crate::otelcol::consumer::{ConsumeError, ConsumeFuture, Consumer, ConsumerHandle};
use crate::otelcol::log;
use crate::otelcol::pdata::{Payload, Signal};
use ring::Ring;
pub use route::RoutingKey;

const NAME: &str = "otelcol.exporter.loadbalancing";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["input"], build);

/// The default OTLP/gRPC port, added to a host given without one.
const DEFAULT_PORT: &str = "4317";

#[derive(Clone, Debug, Default, PartialEq)]
pub enum Resolver {
    #[default]
    None,
    Static(Vec<String>),
    Dns {
        hostname: String,
        port: String,
        interval: Duration,
        timeout: Duration,
    },
}

impl Resolver {
    fn label(&self) -> &'static str {
        match self {
            Resolver::Dns { .. } => "dns",
            _ => "static",
        }
    }
}

#[derive(Default)]
struct StaticResolver {
    hostnames: Vec<String>,
}

impl Arguments for StaticResolver {
    fn decode(r: &mut Reader<'_>) -> Self {
        StaticResolver { hostnames: r.get("hostnames") }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        r.check(!self.hostnames.is_empty(), &["hostnames"], "no hostnames: give at least one backend");
    }
}

#[derive(Default)]
struct DnsResolver {
    hostname: String,
    port: String,
    interval: Duration,
    timeout: Duration,
}

impl Arguments for DnsResolver {
    fn decode(r: &mut Reader<'_>) -> Self {
        DnsResolver { hostname: r.get("hostname"), port: r.get("port"), interval: r.get::<Dur>("interval").0, timeout: r.get::<Dur>("timeout").0 }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        r.check(!self.hostname.is_empty(), &["hostname"], "hostname must not be empty");
        r.check(self.port.parse::<u16>().is_ok(), &["port"], format!("invalid port {:?}", self.port));
        r.check(!self.interval.is_zero(), &["interval"], "interval must be greater than zero");
    }
}

struct ResolverBlock(Resolver);

impl Default for ResolverBlock {
    fn default() -> Self {
        ResolverBlock(Resolver::None)
    }
}

impl Arguments for ResolverBlock {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&["kubernetes", "aws_cloud_map"]);
        let st: Option<StaticResolver> = r.block("static");
        let dns: Option<DnsResolver> = r.block("dns");
        match (st, dns) {
            (Some(_), Some(_)) => {
                r.error("dns", "only one resolver can be given: static or dns");
                ResolverBlock(Resolver::None)
            }
            (Some(s), None) => ResolverBlock(Resolver::Static(s.hostnames)),
            (None, Some(d)) => ResolverBlock(Resolver::Dns { hostname: d.hostname, port: d.port, interval: d.interval, timeout: d.timeout }),
            (None, None) => {
                if !r.is_set("kubernetes") && !r.is_set("aws_cloud_map") {
                    r.error("", "no resolver: add a static or dns block");
                }
                ResolverBlock(Resolver::None)
            }
        }
    }
}

#[derive(Default)]
struct OtlpProtocol {
    timeout: Duration,
    client: GrpcClient,
    queue: QueueConfig,
    retry: RetryConfig,
}

impl Arguments for OtlpProtocol {
    fn decode(r: &mut Reader<'_>) -> Self {
        OtlpProtocol {
            timeout: r.get::<Dur>("timeout").0,
            client: r.block_or_default("client"),
            queue: r.block_or_default("queue"),
            retry: r.block_or_default("retry"),
        }
    }
}

#[derive(Default)]
struct Protocol {
    otlp: OtlpProtocol,
}

impl Arguments for Protocol {
    fn decode(r: &mut Reader<'_>) -> Self {
        Protocol { otlp: r.block_or_default("otlp") }
    }
}

/// The component's arguments.
#[derive(Default)]
pub struct Args {
    routing_key: RoutingKey,
    timeout: Duration,
    resolver: Resolver,
    protocol: Protocol,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&["sending_queue", "retry_on_failure", "debug_metrics"]);
        let key: String = r.get("routing_key");
        let routing_key = match RoutingKey::parse(&key) {
            Ok(k) => k,
            Err(e) => {
                r.error("routing_key", e);
                RoutingKey::default()
            }
        };
        Args {
            routing_key,
            timeout: r.get::<Dur>("timeout").0,
            resolver: r.block_or_default::<ResolverBlock>("resolver").0,
            protocol: r.block_or_default("protocol"),
        }
    }
}

/// `host` with the default port when it has none (`[v6]` and `v4` forms).
fn with_port(host: &str) -> String {
    let has_port = match host.rfind(':') {
        Some(i) => !host.starts_with('[') || host[..i].ends_with(']'),
        None => false,
    };
    if has_port {
        host.to_string()
    } else {
        format!("{host}:{DEFAULT_PORT}")
    }
}

/// One backend: its pipeline (queue, retries) and the task running it once started.
struct Backend {
    pipeline: Arc<ExporterPipeline>,
    stop: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl Backend {
    fn start(&mut self) {
        if self.task.is_none() {
            self.task = Some(tokio::spawn(self.pipeline.clone().run(self.stop.clone())));
        }
    }
}

/// The ring and the backends on it; replaced whole when the endpoints change.
#[derive(Default)]
struct Routing {
    ring: Ring,
    backends: HashMap<String, Arc<ExporterPipeline>>,
}

struct Settings {
    routing_key: RoutingKey,
    timeout: Duration,
    resolver: Resolver,
    otlp: OtlpProtocol,
}

struct Metrics {
    resolutions_ok: Counter,
    resolutions_failed: Counter,
    updates: Counter,
    backends: Gauge,
    outcome_ok: Counter,
    outcome_failed: Counter,
    unrouted: Counter,
}

pub struct LoadBalancer {
    ctx: Context,
    settings: RwLock<Arc<Settings>>,
    routing: RwLock<Arc<Routing>>,
    backends: Mutex<HashMap<String, Backend>>,
    /// Wakes the resolver loop after an update.
    changed: tokio::sync::Notify,
    next_fallback: std::sync::atomic::AtomicUsize,
    /// Whether `run` has started: backends created before that start with it.
    running: std::sync::atomic::AtomicBool,
    metrics: Metrics,
}

impl LoadBalancer {
    fn new(ctx: Context, args: &Value) -> Result<Arc<LoadBalancer>, ComponentError> {
        let settings = Self::settings(args)?;
        let resolver = settings.resolver.label();
        let m =
            |outcome: &str| ctx.counter("otelcol_loadbalancer_backend_outcome", "Number of successes and failures for each endpoint", &[("success", outcome)]);
        let res = |ok: &str| {
            ctx.counter(
                "otelcol_loadbalancer_num_resolutions",
                "Number of times the resolver has triggered new resolutions",
                &[("resolver", resolver), ("success", ok)],
            )
        };
        let metrics = Metrics {
            resolutions_ok: res("true"),
            resolutions_failed: res("false"),
            updates: ctx.counter("otelcol_loadbalancer_num_backend_updates", "Number of times the list of backends was updated", &[("resolver", resolver)]),
            backends: ctx.gauge("otelcol_loadbalancer_num_backends", "Current number of backends in use", &[("resolver", resolver)]),
            outcome_ok: m("true"),
            outcome_failed: m("false"),
            unrouted: ctx.counter("otelcol_loadbalancer_unrouted_items", "Items dropped because no routing key could be taken from them", &[]),
        };
        let lb = Arc::new(LoadBalancer {
            ctx,
            settings: RwLock::new(Arc::new(settings)),
            routing: RwLock::new(Arc::new(Routing::default())),
            backends: Mutex::new(HashMap::new()),
            changed: tokio::sync::Notify::new(),
            next_fallback: Default::default(),
            running: Default::default(),
            metrics,
        });
        // A static list (or a DNS name that is an IP address) is known now, so the backends
        // and their metrics exist from the start.
        let settings = lb.settings_now();
        match &settings.resolver {
            Resolver::Static(hosts) => {
                lb.install(hosts.iter().map(|h| with_port(h)).collect(), &settings, false)?;
            }
            Resolver::Dns { hostname, port, .. } => {
                if let (Ok(ip), Ok(port)) = (hostname.parse::<std::net::IpAddr>(), port.parse::<u16>()) {
                    lb.install(vec![std::net::SocketAddr::new(ip, port).to_string()], &settings, false)?;
                }
            }
            Resolver::None => {}
        }
        crate::otelcol::consumer::publish_input(&lb.ctx, ConsumerHandle::new(lb.ctx.id(), lb.clone()).tapped(&lb.ctx));
        Ok(lb)
    }

    fn settings(args: &Value) -> Result<Settings, ComponentError> {
        let Args { routing_key, timeout, resolver, protocol } = decode_checked(NAME, args)?;
        // Building one sender checks the client settings (compression, TLS material).
        protocol.otlp.client.sender_to("127.0.0.1:4317", protocol.otlp.timeout)?;
        Ok(Settings { routing_key, timeout, resolver, otlp: protocol.otlp })
    }

    fn settings_now(&self) -> Arc<Settings> {
        self.settings.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The endpoints the resolver names now.
    async fn resolve(&self, resolver: &Resolver) -> Result<Vec<String>, String> {
        let mut endpoints = match resolver {
            Resolver::None => Vec::new(),
            Resolver::Static(hosts) => hosts.iter().map(|h| with_port(h)).collect(),
            Resolver::Dns { hostname, port, timeout, .. } => {
                let lookup = tokio::net::lookup_host((hostname.as_str(), port.parse::<u16>().unwrap_or(4317)));
                let addrs = match tokio::time::timeout(if timeout.is_zero() { Duration::from_secs(1) } else { *timeout }, lookup).await {
                    Ok(Ok(a)) => a,
                    Ok(Err(e)) => return Err(format!("resolving {hostname:?}: {e}")),
                    Err(_) => return Err(format!("resolving {hostname:?}: timed out")),
                };
                addrs.map(|a| a.to_string()).collect()
            }
        };
        endpoints.sort();
        endpoints.dedup();
        Ok(endpoints)
    }

    /// Makes the backends match `endpoints`: new ones are created (and started once the
    /// component runs), gone ones are returned to be drained and stopped.
    fn install(&self, endpoints: Vec<String>, settings: &Settings, rebuild_all: bool) -> Result<Vec<Backend>, ComponentError> {
        let mut backends = self.backends.lock().unwrap_or_else(|e| e.into_inner());
        let unchanged = !rebuild_all && backends.len() == endpoints.len() && endpoints.iter().all(|e| backends.contains_key(e));
        if unchanged {
            return Ok(Vec::new());
        }
        let mut gone = Vec::new();
        let current: Vec<String> = backends.keys().cloned().collect();
        for e in current {
            if rebuild_all || !endpoints.contains(&e) {
                gone.extend(backends.remove(&e));
            }
        }
        let running = self.running.load(std::sync::atomic::Ordering::SeqCst);
        for e in &endpoints {
            if backends.contains_key(e) {
                continue;
            }
            let sender = settings.otlp.client.sender_to(e, settings.otlp.timeout)?;
            let label = format!("{}/{e}", self.ctx.id());
            let pipeline = Arc::new(ExporterPipeline::named(&self.ctx, &label, sender, settings.otlp.retry.clone(), settings.otlp.queue.clone()));
            let mut backend = Backend { pipeline, stop: CancellationToken::new(), task: None };
            if running {
                backend.start();
            }
            backends.insert(e.clone(), backend);
        }
        let routing = Routing { ring: Ring::new(&endpoints), backends: backends.iter().map(|(k, b)| (k.clone(), b.pipeline.clone())).collect() };
        *self.routing.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(routing);
        self.metrics.backends.set(endpoints.len() as f64);
        self.metrics.updates.inc();
        Ok(gone)
    }

    /// Stops backends, each draining its queue (bounded by the pipeline).
    async fn stop_all(backends: Vec<Backend>) {
        for b in &backends {
            b.stop.cancel();
        }
        for b in backends {
            if let Some(t) = b.task {
                let _ = t.await;
            }
        }
    }

    async fn refresh(&self, rebuild_all: bool) {
        let settings = self.settings_now();
        match self.resolve(&settings.resolver).await {
            Ok(endpoints) => {
                self.metrics.resolutions_ok.inc();
                match self.install(endpoints, &settings, rebuild_all) {
                    Ok(gone) => Self::stop_all(gone).await,
                    Err(e) => log(self.ctx.id(), tracing::Level::ERROR, &format!("failed to create backends: {e}")),
                }
            }
            Err(e) => {
                self.metrics.resolutions_failed.inc();
                log(self.ctx.id(), tracing::Level::WARN, &format!("failed to resolve backends: {e}"));
            }
        }
    }

    /// Splits `data` per backend; the parts, and how many items had no routing key.
    fn split(&self, data: &Payload, routing: &Routing, key: RoutingKey) -> Result<(Vec<(String, Payload)>, route::Unrouted), ConsumeError> {
        let names = routing.ring.endpoints();
        let index = |k: &[u8]| routing.ring.index_for(k).unwrap_or(0);
        let bad = |e: crate::otelcol::pdata::PdataError| ConsumeError::Permanent(e.to_string());
        let (parts, unrouted): (Vec<(usize, Payload)>, _) = match data.signal() {
            Signal::Traces => {
                let (p, u) = route::traces(data.decode_traces().map_err(bad)?, key, &index);
                (p.into_iter().map(|(b, r)| (b, Payload::from_traces(&r))).collect(), u)
            }
            Signal::Logs => {
                let n = names.len().max(1);
                let mut fallback = || self.next_fallback.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % n;
                let (p, u) = route::logs(data.decode_logs().map_err(bad)?, key, &index, &mut fallback);
                (p.into_iter().map(|(b, r)| (b, Payload::from_logs(&r))).collect(), u)
            }
            Signal::Metrics => {
                let (p, u) = route::metrics(data.decode_metrics().map_err(bad)?, key, &index);
                (p.into_iter().map(|(b, r)| (b, Payload::from_metrics(&r))).collect(), u)
            }
        };
        let parts = parts.into_iter().map(|(b, p)| (names[b].clone(), p.with_metadata(data.metadata().clone()))).collect();
        Ok((parts, unrouted))
    }

    async fn send_to(&self, endpoint: &str, pipeline: Arc<ExporterPipeline>, part: Payload, timeout: Duration) -> Result<(), ConsumeError> {
        let sent = if timeout.is_zero() {
            pipeline.consume(part).await
        } else {
            tokio::time::timeout(timeout, pipeline.consume(part))
                .await
                .unwrap_or_else(|_| Err(ConsumeError::Unavailable(format!("backend {endpoint} did not answer within {timeout:?}"))))
        };
        match &sent {
            Ok(()) => self.metrics.outcome_ok.inc(),
            Err(_) => self.metrics.outcome_failed.inc(),
        }
        sent
    }
}

impl Consumer for LoadBalancer {
    fn consume(&self, data: Payload) -> ConsumeFuture<'_> {
        Box::pin(async move {
            if data.items() == 0 {
                return Ok(());
            }
            let settings = self.settings_now();
            let routing = self.routing.read().unwrap_or_else(|e| e.into_inner()).clone();
            if routing.backends.is_empty() {
                return Err(ConsumeError::Unavailable("no backends: the resolver has not found any endpoint yet".into()));
            }
            let (parts, unrouted) = self.split(&data, &routing, settings.routing_key)?;
            if unrouted.items > 0 {
                self.metrics.unrouted.add(unrouted.items as u64);
                let why = unrouted.reason.unwrap_or_default();
                log(self.ctx.id(), tracing::Level::ERROR, &format!("dropping {} {}: {why}", unrouted.items, data.signal().item_metric()));
            }
            let timeout = settings.timeout;
            let sends = parts.into_iter().filter_map(|(endpoint, part)| {
                let pipeline = routing.backends.get(&endpoint)?.clone();
                Some(async move { self.send_to(&endpoint, pipeline, part, timeout).await })
            });
            let results = futures_util::future::join_all(sends).await;
            // A retryable failure wins over a permanent one: the sender may try again.
            let mut first: Option<ConsumeError> = None;
            for e in results.into_iter().filter_map(Result::err) {
                if first.as_ref().is_none_or(|f| f.is_permanent() && !e.is_permanent()) {
                    first = Some(e);
                }
            }
            first.map_or(Ok(()), Err)
        })
    }
}

impl Component for LoadBalancer {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        let settings = Self::settings(&args)?;
        *self.settings.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(settings);
        self.changed.notify_one();
        Ok(())
    }

    fn run(self: Arc<Self>, shutdown: CancellationToken) -> BoxFuture<Result<(), ComponentError>> {
        Box::pin(async move {
            self.running.store(true, std::sync::atomic::Ordering::SeqCst);
            self.backends.lock().unwrap_or_else(|e| e.into_inner()).values_mut().for_each(Backend::start);
            let mut rebuild = false;
            loop {
                self.refresh(rebuild).await;
                let wait = match &self.settings_now().resolver {
                    Resolver::Dns { interval, .. } => *interval,
                    _ => Duration::MAX,
                };
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = self.changed.notified() => rebuild = true,
                    _ = sleep_for(wait) => rebuild = false,
                }
            }
            let all: Vec<Backend> = self.backends.lock().unwrap_or_else(|e| e.into_inner()).drain().map(|(_, b)| b).collect();
            Self::stop_all(all).await;
            Ok(())
        })
    }
}

/// `tokio::time::sleep` that treats `Duration::MAX` as forever.
async fn sleep_for(d: Duration) {
    if d == Duration::MAX {
        std::future::pending::<()>().await
    } else {
        tokio::time::sleep(d).await
    }
}

pub fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    Ok(LoadBalancer::new(ctx, &args)?)
}
