//! `otelcol.connector.servicegraph`: pairs each client (or producer) span with the server (or
//! consumer) span whose parent it is, within `store { ttl, max_items }`, and counts the
//! requests between services: `traces_service_graph_request_total`,
//! `..._request_failed_total` and the `..._request_server` / `..._request_client` latency
//! histograms (seconds), labelled `client`, `server`, `connection_type`, `failed` and the
//! `dimensions` (`client_<name>`, `server_<name>`). A client span naming a database is an
//! edge on its own; unpaired edges become virtual nodes when they expire.

mod graph;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use eval::Value;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::component::args::{decode_checked, types::Dur};
use crate::component::{Arguments, BoxFuture, Component, ComponentError, Context, Reader, Registration};
use crate::metrics::Counter;
use crate::otelcol::consumer::{ConsumeError, ConsumeFuture, Consumer, ConsumerHandle, Fanout, Output};
use crate::otelcol::log;
use crate::otelcol::pdata::{Payload, Signal};
pub use graph::Graph;

const NAME: &str = "otelcol.connector.servicegraph";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["input"], build);

#[derive(Clone, Debug, Default, PartialEq)]
struct Store {
    ttl: Duration,
    max_items: usize,
}

impl Arguments for Store {
    fn decode(r: &mut Reader<'_>) -> Self {
        Store { ttl: r.get::<Dur>("ttl").0, max_items: r.get("max_items") }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Config {
    /// Upper bounds in seconds.
    pub bounds: Vec<f64>,
    pub dimensions: Vec<String>,
    pub cache_loop: Duration,
    pub store_expiration_loop: Duration,
    pub ttl: Duration,
    pub max_items: usize,
    pub peer_attributes: Vec<String>,
    pub virtual_node_extra_label: bool,
    /// Zero: flush after every batch of spans.
    pub flush_interval: Duration,
    pub database_name_attributes: Vec<String>,
}

#[derive(Default)]
pub struct Args {
    pub config: Config,
    pub output: Output,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        // The deprecated single attribute is refused unless it is the default (which the
        // list's default repeats); exponential histograms are not implemented.
        r.unsupported(&["database_name_attribute", "exponential_histogram_max_size", "debug_metrics"]);
        let store: Store = r.block_or_default("store");
        let config = Config {
            bounds: r.get::<Vec<Dur>>("latency_histogram_buckets").into_iter().map(|d| d.0.as_secs_f64()).collect(),
            dimensions: r.get("dimensions"),
            // Zero means upstream's defaults, not a loop without pause.
            cache_loop: nonzero(r.get::<Dur>("cache_loop").0, Duration::from_secs(60)),
            store_expiration_loop: nonzero(r.get::<Dur>("store_expiration_loop").0, Duration::from_secs(2)),
            ttl: store.ttl,
            max_items: store.max_items,
            peer_attributes: r.get("virtual_node_peer_attributes"),
            virtual_node_extra_label: r.get("virtual_node_extra_label"),
            flush_interval: r.get::<Dur>("metrics_flush_interval").0,
            database_name_attributes: r.get("database_name_attributes"),
        };
        Args { config, output: r.block_or_default("output") }
    }
}

fn nonzero(d: Duration, default: Duration) -> Duration {
    if d.is_zero() {
        default
    } else {
        d
    }
}

/// Upstream's self-metrics.
struct Counters {
    total_edges: Counter,
    expired_edges: Counter,
    dropped_spans: Counter,
}

struct ServiceGraphConsumer {
    graph: Mutex<Graph>,
    counters: Counters,
    /// Set when the flush interval is zero: the component flushes after each batch.
    flush_now: Notify,
}

impl ServiceGraphConsumer {
    fn graph(&self) -> std::sync::MutexGuard<'_, Graph> {
        self.graph.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn count(&self, stats: graph::Stats) {
        self.counters.total_edges.add(stats.new_edges);
        self.counters.expired_edges.add(stats.expired_edges);
        self.counters.dropped_spans.add(stats.dropped_spans);
    }
}

impl Consumer for ServiceGraphConsumer {
    fn consume(&self, data: Payload) -> ConsumeFuture<'_> {
        Box::pin(async move {
            if data.signal() != Signal::Traces {
                return Err(ConsumeError::Permanent(format!("{NAME} accepts traces, not {}", data.signal().name())));
            }
            let req = data.decode_traces().map_err(|e| ConsumeError::Permanent(e.to_string()))?;
            let (stats, flush) = {
                let mut g = self.graph();
                (g.add(&req, Instant::now()), g.config().flush_interval.is_zero())
            };
            self.count(stats);
            if flush {
                self.flush_now.notify_one();
            }
            Ok(())
        })
    }
}

pub struct ServiceGraph {
    ctx: Context,
    consumer: Arc<ServiceGraphConsumer>,
    next: Fanout,
    changed: Notify,
}

pub fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    Ok(ServiceGraph::new(ctx, &args)?)
}

impl ServiceGraph {
    pub fn new(ctx: Context, args: &Value) -> Result<Arc<ServiceGraph>, ComponentError> {
        let Args { config, output } = decode_checked(NAME, args)?;
        let labels = [("connector", ctx.id())];
        let counters = Counters {
            total_edges: ctx.counter("otelcol_connector_servicegraph_total_edges", "Total number of unique edges", &labels),
            expired_edges: ctx.counter(
                "otelcol_connector_servicegraph_expired_edges",
                "Number of edges that expired before finding its matching span",
                &labels,
            ),
            dropped_spans: ctx.counter("otelcol_connector_servicegraph_dropped_spans", "Number of spans dropped when trying to add edges", &labels),
        };
        let consumer = Arc::new(ServiceGraphConsumer { graph: Mutex::new(Graph::new(config, SystemTime::now())), counters, flush_now: Notify::new() });
        let c = Arc::new(ServiceGraph { consumer, next: Fanout::new(output).tapped(&ctx), changed: Notify::new(), ctx });
        crate::otelcol::consumer::publish_input(&c.ctx, c.input());
        Ok(c)
    }

    pub fn input(&self) -> ConsumerHandle {
        ConsumerHandle::new(self.ctx.id(), self.consumer.clone())
    }

    async fn flush(&self) {
        let req = self.consumer.graph().metrics(SystemTime::now());
        if req.resource_metrics.is_empty() {
            return;
        }
        if let Err(e) = self.next.consume(Payload::from_metrics(&req)).await {
            log(self.ctx.id(), tracing::Level::ERROR, &format!("failed to flush metrics: {e}"));
        }
    }

    fn expire(&self) {
        let stats = self.consumer.graph().expire(Instant::now());
        self.consumer.count(stats);
    }

    /// Runs the three loops with the current configuration until it changes or shutdown.
    async fn run_loops(&self, shutdown: &CancellationToken) {
        let c = self.consumer.graph().config().clone();
        let tick = |d: Duration| {
            let mut i = tokio::time::interval(d.max(Duration::from_millis(1)));
            i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            i
        };
        let (mut flush, mut expire, mut clean) = (tick(c.flush_interval), tick(c.store_expiration_loop), tick(c.cache_loop));
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = self.changed.notified() => return,
                _ = flush.tick(), if !c.flush_interval.is_zero() => self.flush().await,
                _ = self.consumer.flush_now.notified(), if c.flush_interval.is_zero() => self.flush().await,
                _ = expire.tick() => self.expire(),
                _ = clean.tick() => self.consumer.graph().clean(Instant::now()),
            }
        }
    }
}

impl Component for ServiceGraph {
    /// Upstream builds a new connector for new arguments, so the graph starts again.
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        let Args { config, output } = decode_checked(NAME, &args)?;
        self.next.set(output);
        let mut g = self.consumer.graph();
        if *g.config() != config {
            *g = Graph::new(config, SystemTime::now());
            self.changed.notify_one();
        }
        Ok(())
    }

    fn run(self: Arc<Self>, shutdown: CancellationToken) -> BoxFuture<Result<(), ComponentError>> {
        Box::pin(async move {
            while !shutdown.is_cancelled() {
                self.run_loops(&shutdown).await;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests;
