//! `otelcol.exporter.prometheus`: OTLP metrics to Prometheus samples, native histograms,
//! exemplars and (with `honor_metadata`) metadata, appended to `forward_to` as one batch per
//! request (see [`convert`]). Other signals are ignored. Every `gc_frequency` the series not
//! seen for five minutes are forgotten (upstream's fixed age).

pub mod convert;
pub mod names;
pub mod native;

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};

use eval::Value;
use tokio_util::sync::CancellationToken;

use crate::component::args::{decode_checked, types::Dur};
use crate::component::{Arguments, BoxFuture, Component, ComponentError, Context, Reader, Registration};
use crate::metrics::{Counter, Histogram};
use crate::otelcol::consumer::{ConsumeError, ConsumeFuture, Consumer, ConsumerHandle};
use crate::otelcol::log;
use crate::otelcol::pdata::{Payload, Signal};
use crate::prometheus::receiver::{Fanout, ReceiverHandle};
use convert::{Converter, Options};

const NAME: &str = "otelcol.exporter.prometheus";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["input"], build);

/// How long a series may go unseen before the collector forgets it (upstream's constant).
const STALE_AFTER: Duration = Duration::from_secs(5 * 60);

#[derive(Default)]
pub struct Args {
    pub forward_to: Vec<ReceiverHandle>,
    pub options: Options,
    pub gc_frequency: Duration,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        // Classic histograms stay classic (upstream's conversion is experimental); our
        // self-metrics have no detail switch.
        r.unsupported(&["convert_classic_histograms_to_nhcb", "debug_metrics"]);
        Args {
            forward_to: r.get("forward_to"),
            options: Options {
                include_target_info: r.get("include_target_info"),
                include_scope_info: r.get("include_scope_info"),
                include_scope_labels: r.get("include_scope_labels"),
                add_metric_suffixes: r.get("add_metric_suffixes"),
                resource_to_telemetry_conversion: r.get("resource_to_telemetry_conversion"),
                keep_identifying_resource_attributes: r.get("keep_identifying_resource_attributes"),
                honor_metadata: r.get("honor_metadata"),
                start_timestamp_zero_ingestion: r.get("start_timestamp_zero_ingestion"),
            },
            gc_frequency: r.get::<Dur>("gc_frequency").0,
        }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        r.check(!self.gc_frequency.is_zero(), &["gc_frequency"], "gc_frequency must be greater than 0");
    }
}

struct Metrics {
    forwarded: Counter,
    latency: Histogram,
}

pub struct Exporter {
    id: String,
    converter: Converter,
    fanout: Fanout,
    gc_frequency: RwLock<Duration>,
    metrics: Metrics,
}

fn now_ns() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

impl Exporter {
    fn new(ctx: &Context, args: Args) -> Self {
        Exporter {
            id: ctx.id().to_string(),
            converter: Converter::new(ctx.id(), args.options),
            fanout: Fanout::new(args.forward_to).tapped(ctx),
            gc_frequency: RwLock::new(args.gc_frequency),
            metrics: Metrics {
                forwarded: ctx.counter_exact("prometheus_forwarded_samples_total", "Total number of samples sent to downstream components.", &[]),
                latency: ctx.histogram(
                    "prometheus_fanout_latency",
                    "Write latency for sending to direct and indirect components",
                    &[],
                    &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0],
                ),
            },
        }
    }

    fn gc_frequency(&self) -> Duration {
        *self.gc_frequency.read().unwrap_or_else(|e| e.into_inner())
    }
}

impl Consumer for Exporter {
    fn consume(&self, data: Payload) -> ConsumeFuture<'_> {
        Box::pin(async move {
            if data.signal() != Signal::Metrics {
                return Ok(());
            }
            let req = data.decode_metrics().map_err(|e| ConsumeError::Permanent(e.to_string()))?;
            let batch = self.converter.convert(&req, now_ns());
            let started = Instant::now();
            let result = self.fanout.append(&batch);
            self.metrics.latency.observe(started.elapsed().as_secs_f64());
            match result {
                Ok(()) => {
                    self.metrics.forwarded.add(batch.len() as u64);
                    Ok(())
                }
                // Upstream returns the commit's error to the sender.
                Err(e) => {
                    log(&self.id, tracing::Level::WARN, &format!("failed to forward metrics: {e}"));
                    Err(ConsumeError::Permanent(e.to_string()))
                }
            }
        })
    }
}

pub struct PrometheusExporter {
    exporter: Arc<Exporter>,
}

fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    let args: Args = decode_checked(NAME, &args)?;
    let exporter = Arc::new(Exporter::new(&ctx, args));
    crate::otelcol::consumer::publish_input(&ctx, ConsumerHandle::new(ctx.id(), exporter.clone()));
    Ok(Arc::new(PrometheusExporter { exporter }))
}

impl Component for PrometheusExporter {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        let args: Args = decode_checked(NAME, &args)?;
        let e = &self.exporter;
        e.fanout.set(args.forward_to);
        e.converter.set_options(args.options);
        *e.gc_frequency.write().unwrap_or_else(|e| e.into_inner()) = args.gc_frequency;
        // New receivers need the metadata too.
        e.converter.flush_metadata();
        Ok(())
    }

    fn run(self: Arc<Self>, shutdown: CancellationToken) -> BoxFuture<Result<(), ComponentError>> {
        Box::pin(async move {
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return Ok(()),
                    _ = tokio::time::sleep(self.exporter.gc_frequency()) => self.exporter.converter.gc(STALE_AFTER),
                }
            }
        })
    }
}

#[cfg(test)]
mod tests;
