//! `otelcol.connector.spanmetrics`: counts spans (`<namespace>.calls`) and records their
//! durations (`<namespace>.duration`, an explicit-bucket or exponential histogram in ms or
//! s) and, with `events`, their span events (`<namespace>.events`), per resource and per
//! series of dimensions (`service.name`, `span.name`, `span.kind`, `status.code` and the
//! `dimension` blocks). The series are sent to `output.metrics` every
//! `metrics_flush_interval`.

mod aggregate;
mod expo;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use eval::Value;
use tokio_util::sync::CancellationToken;

use crate::component::args::{decode_checked, types::Dur};
use crate::component::{Arguments, BoxFuture, Component, ComponentError, Context, Reader, Registration};
use crate::otelcol::consumer::{ConsumeError, ConsumeFuture, Consumer, ConsumerHandle, Fanout, Output};
use crate::otelcol::log;
use crate::otelcol::pdata::{Payload, Signal};
pub use aggregate::Aggregator;

const NAME: &str = "otelcol.connector.spanmetrics";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["input"], build);

/// The dimensions every series has, in upstream's order.
pub const DEFAULT_DIMENSIONS: [&str; 4] = ["service.name", "span.name", "span.kind", "status.code"];

/// A `dimension` block: a span (then resource) attribute, or `default` when neither has it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dimension {
    pub name: String,
    pub default: Option<String>,
}

impl Arguments for Dimension {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&["glob"]);
        Dimension { name: r.get("name"), default: r.opt("default") }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Unit {
    #[default]
    Milliseconds,
    Seconds,
}

impl Unit {
    pub fn name(self) -> &'static str {
        match self {
            Unit::Milliseconds => "ms",
            Unit::Seconds => "s",
        }
    }

    /// Nanoseconds per unit.
    pub fn divider(self) -> f64 {
        match self {
            Unit::Milliseconds => 1e6,
            Unit::Seconds => 1e9,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
struct Explicit {
    buckets: Vec<Duration>,
}

impl Arguments for Explicit {
    fn decode(r: &mut Reader<'_>) -> Self {
        Explicit { buckets: r.get::<Vec<Dur>>("buckets").into_iter().map(|d| d.0).collect() }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
struct Exponential {
    max_size: i64,
}

impl Arguments for Exponential {
    fn decode(r: &mut Reader<'_>) -> Self {
        Exponential { max_size: r.get("max_size") }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        r.check(self.max_size > 0, &["max_size"], "max_size must be greater than 0");
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
struct Histogram {
    /// Dimensions of the duration histogram only.
    dimensions: Vec<Dimension>,
    disable: bool,
    unit_text: String,
    explicit: Option<Explicit>,
    exponential: Option<Exponential>,
}

impl Arguments for Histogram {
    fn decode(r: &mut Reader<'_>) -> Self {
        Histogram {
            dimensions: r.blocks("dimension"),
            disable: r.get("disable"),
            unit_text: r.get("unit"),
            explicit: r.block("explicit"),
            exponential: r.block("exponential"),
        }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        r.check(matches!(self.unit_text.as_str(), "ms" | "s"), &["unit"], format!("unknown unit {:?}, allowed units are \"ms\" and \"s\"", self.unit_text));
        r.check(
            self.explicit.is_none() || self.exponential.is_none(),
            &["exponential"],
            "only one of exponential or explicit histogram configuration can be specified",
        );
        r.check(self.explicit.is_some() || self.exponential.is_some(), &[""], "either exponential or explicit histogram configuration must be specified");
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
struct Events {
    enabled: bool,
    dimensions: Vec<Dimension>,
}

impl Arguments for Events {
    fn decode(r: &mut Reader<'_>) -> Self {
        Events { enabled: r.get("enabled"), dimensions: r.blocks("dimension") }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        if self.enabled {
            r.check(!self.dimensions.is_empty(), &["enabled"], "failed validating event dimensions: no dimensions configured for events");
            if let Some(d) = duplicate(&self.dimensions) {
                r.error("dimension", format!("failed validating event dimensions: duplicate dimension name {d}"));
            }
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
struct Exemplars {
    enabled: bool,
    max_per_data_point: usize,
}

impl Arguments for Exemplars {
    fn decode(r: &mut Reader<'_>) -> Self {
        Exemplars { enabled: r.get("enabled"), max_per_data_point: r.get("max_per_data_point") }
    }
}

/// A dimension named like a default one or like an earlier one.
fn duplicate(dims: &[Dimension]) -> Option<&str> {
    dims.iter()
        .enumerate()
        .find(|(i, d)| DEFAULT_DIMENSIONS.contains(&d.name.as_str()) || dims[..*i].iter().any(|e| e.name == d.name))
        .map(|(_, d)| d.name.as_str())
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Temporality {
    #[default]
    Cumulative,
    Delta,
}

/// What the aggregation needs, decoded and checked.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Config {
    pub dimensions: Vec<Dimension>,
    /// Added to `dimensions` for the calls sum only, and for the duration histogram only.
    pub calls_dimensions: Vec<Dimension>,
    pub histogram_dimensions: Vec<Dimension>,
    pub exclude_dimensions: Vec<String>,
    pub event_dimensions: Vec<Dimension>,
    pub events: bool,
    pub namespace: String,
    pub temporality: Temporality,
    pub flush_interval: Duration,
    pub metrics_expiration: Duration,
    pub series_expiration: Duration,
    pub resource_cache_size: usize,
    pub resource_key_attributes: Vec<String>,
    pub timestamp_cache_size: usize,
    pub histogram: bool,
    pub unit: Unit,
    /// Upper bounds in `unit`.
    pub bounds: Vec<f64>,
    /// An exponential histogram of at most this many buckets instead of `bounds`.
    pub exponential: Option<usize>,
    pub exemplars: bool,
    pub max_exemplars: usize,
    pub include_scopes: Vec<String>,
    /// Series per metric and resource before new ones go to the overflow series (0: no limit).
    pub cardinality_limit: usize,
}

#[derive(Default)]
pub struct Args {
    pub config: Config,
    pub output: Output,
    temporality_text: String,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&["include_collector_instance_id", "debug_metrics"]);
        // Upstream memoises series attributes by key in a cache of this size; series here
        // hold their attributes themselves, so the (deprecated) bound changes nothing.
        let _: usize = r.get("dimensions_cache_size");
        let histogram: Histogram = r.block_or_default("histogram");
        let events: Events = r.block_or_default("events");
        let exemplars: Exemplars = r.block_or_default("exemplars");
        let temporality_text: String = r.get("aggregation_temporality");
        let unit = if histogram.unit_text == "s" { Unit::Seconds } else { Unit::Milliseconds };
        let bounds = histogram.explicit.as_ref().map(|e| e.buckets.iter().map(|b| b.as_nanos() as f64 / unit.divider()).collect()).unwrap_or_default();
        let config = Config {
            dimensions: r.blocks("dimension"),
            calls_dimensions: r.blocks("calls_dimension"),
            histogram_dimensions: histogram.dimensions.clone(),
            exclude_dimensions: r.get("exclude_dimensions"),
            event_dimensions: events.dimensions,
            events: events.enabled,
            namespace: r.get("namespace"),
            temporality: if temporality_text == "DELTA" { Temporality::Delta } else { Temporality::Cumulative },
            flush_interval: r.get::<Dur>("metrics_flush_interval").0,
            metrics_expiration: r.get::<Dur>("metrics_expiration").0,
            series_expiration: r.get::<Dur>("series_expiration").0,
            resource_cache_size: r.get("resource_metrics_cache_size"),
            cardinality_limit: r.get("aggregation_cardinality_limit"),
            resource_key_attributes: r.get("resource_metrics_key_attributes"),
            timestamp_cache_size: r.get("metric_timestamp_cache_size"),
            histogram: !histogram.disable,
            unit,
            bounds,
            exponential: histogram.exponential.as_ref().map(|e| e.max_size.max(0) as usize),
            exemplars: exemplars.enabled,
            max_exemplars: exemplars.max_per_data_point,
            include_scopes: r.get("include_instrumentation_scope"),
        };
        Args { config, output: r.block_or_default("output"), temporality_text }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        let c = &self.config;
        r.check(
            matches!(self.temporality_text.as_str(), "CUMULATIVE" | "DELTA"),
            &["aggregation_temporality"],
            format!("invalid aggregation_temporality: {}", self.temporality_text),
        );
        r.check(!c.flush_interval.is_zero(), &["metrics_flush_interval"], "metrics_flush_interval must be greater than 0");
        if let Some(d) = duplicate(&c.dimensions) {
            r.error("dimension", format!("failed validating dimensions: duplicate dimension name {d}"));
        }
        r.check(c.resource_cache_size > 0, &["resource_metrics_cache_size"], "must provide a positive size");
        r.check(
            c.temporality != Temporality::Delta || c.timestamp_cache_size > 0,
            &["metric_timestamp_cache_size"],
            format!("invalid delta timestamp cache size: {}, the maximum number of the items in the cache should be positive", c.timestamp_cache_size),
        );
    }
}

struct SpanMetricsConsumer {
    state: Mutex<Aggregator>,
}

impl Consumer for SpanMetricsConsumer {
    fn consume(&self, data: Payload) -> ConsumeFuture<'_> {
        Box::pin(async move {
            if data.signal() != Signal::Traces {
                return Err(ConsumeError::Permanent(format!("{NAME} accepts traces, not {}", data.signal().name())));
            }
            let req = data.decode_traces().map_err(|e| ConsumeError::Permanent(e.to_string()))?;
            self.state.lock().unwrap_or_else(|e| e.into_inner()).add(&req, Instant::now(), SystemTime::now());
            Ok(())
        })
    }
}

pub struct SpanMetrics {
    ctx: Context,
    consumer: Arc<SpanMetricsConsumer>,
    next: Fanout,
}

pub fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    Ok(SpanMetrics::new(ctx, &args)?)
}

impl SpanMetrics {
    pub fn new(ctx: Context, args: &Value) -> Result<Arc<SpanMetrics>, ComponentError> {
        let Args { config, output, .. } = decode_checked(NAME, args)?;
        let c = Arc::new(SpanMetrics {
            consumer: Arc::new(SpanMetricsConsumer { state: Mutex::new(Aggregator::new(config)) }),
            next: Fanout::new(output).tapped(&ctx),
            ctx,
        });
        crate::otelcol::consumer::publish_input(&c.ctx, c.input());
        Ok(c)
    }

    pub fn input(&self) -> ConsumerHandle {
        ConsumerHandle::new(self.ctx.id(), self.consumer.clone())
    }

    async fn flush(&self) {
        let req = self.consumer.state.lock().unwrap_or_else(|e| e.into_inner()).flush(Instant::now(), SystemTime::now());
        if req.resource_metrics.is_empty() {
            return;
        }
        if let Err(e) = self.next.consume(Payload::from_metrics(&req)).await {
            log(self.ctx.id(), tracing::Level::ERROR, &format!("Failed ConsumeMetrics: {e}"));
        }
    }

    fn interval(&self) -> Duration {
        self.consumer.state.lock().unwrap_or_else(|e| e.into_inner()).config().flush_interval.max(Duration::from_millis(1))
    }
}

impl Component for SpanMetrics {
    /// Upstream builds a new connector for new arguments, so the series start again.
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        let Args { config, output, .. } = decode_checked(NAME, &args)?;
        self.next.set(output);
        let mut state = self.consumer.state.lock().unwrap_or_else(|e| e.into_inner());
        if *state.config() != config {
            *state = Aggregator::new(config);
        }
        Ok(())
    }

    fn run(self: Arc<Self>, shutdown: CancellationToken) -> BoxFuture<Result<(), ComponentError>> {
        Box::pin(async move {
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return Ok(()),
                    _ = tokio::time::sleep(self.interval()) => self.flush().await,
                }
            }
        })
    }
}

#[cfg(test)]
mod tests;
