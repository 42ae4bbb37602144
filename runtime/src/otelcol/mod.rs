//! The OpenTelemetry pipeline: `otelcol.*` components passing OTLP data to each other as
//! encoded bytes (see [`pdata`]) through `otelcol.Consumer` capsules (see [`consumer`]).

pub mod auth;
pub mod auth_headers;
pub mod connector;
pub mod consumer;
pub mod exporter;
pub mod grpc_codec;
pub mod htpasswd;
pub mod pdata;
pub mod processor;
pub mod receiver;
pub mod segments;
// Stanza operators use the Loki family's time parsing.
#[cfg(feature = "loki")]
pub mod stanza;
pub mod storage;
pub mod value;
pub mod wire_check;

use std::collections::HashMap;

use crate::component::{Context, Registration};
use crate::metrics::Counter;
use pdata::Signal;

pub fn registrations() -> Vec<Registration> {
    #[allow(unused_mut)]
    let mut regs = vec![
        receiver::otlp::REGISTRATION,
        receiver::zipkin::REGISTRATION,
        receiver::jaeger::REGISTRATION,
        processor::batch::REGISTRATION,
        processor::memory_limiter::REGISTRATION,
        processor::attributes::REGISTRATION,
        processor::probabilistic_sampler::REGISTRATION,
        processor::span::REGISTRATION,
        processor::groupbyattrs::REGISTRATION,
        processor::resourcedetection::REGISTRATION,
        processor::redaction::REGISTRATION,
        processor::deltatocumulative::REGISTRATION,
        processor::tail_sampling::REGISTRATION,
        processor::transform::REGISTRATION,
        processor::filter::REGISTRATION,
        exporter::otlp::REGISTRATION,
        exporter::otlphttp::REGISTRATION,
        exporter::debug::REGISTRATION,
        exporter::file::REGISTRATION,
        exporter::loadbalancing::REGISTRATION,
        connector::spanlogs::REGISTRATION,
        connector::spanmetrics::REGISTRATION,
        connector::servicegraph::REGISTRATION,
        connector::count::REGISTRATION,
        auth::BASIC,
        auth::BEARER,
        auth_headers::REGISTRATION,
        storage::REGISTRATION,
    ];
    // The bridges to the Loki pipeline need both families.
    #[cfg(all(feature = "otelcol", feature = "loki"))]
    regs.extend([exporter::loki::REGISTRATION, receiver::loki::REGISTRATION]);
    // filelog follows files with the Loki file source's tailer.
    #[cfg(all(feature = "otelcol", feature = "loki"))]
    regs.push(receiver::filelog::REGISTRATION);
    // The bridges to the Prometheus pipeline need both families.
    #[cfg(all(feature = "otelcol", feature = "prometheus"))]
    regs.extend([exporter::prometheus::REGISTRATION, receiver::prometheus::REGISTRATION]);
    regs
}

/// One counter per signal, named as upstream does:
/// `<prefix>_spans_total`, `<prefix>_metric_points_total`, `<prefix>_log_records_total`.
#[derive(Clone, Debug)]
pub struct SignalCounters {
    by_signal: HashMap<Signal, Counter>,
}

impl SignalCounters {
    pub fn new(ctx: &Context, prefix: &str, help: &str, labels: &[(&str, &str)]) -> Self {
        let by_signal = Signal::ALL
            .into_iter()
            .map(|s| (s, ctx.counter(&format!("{prefix}_{}_total", s.item_metric()), &format!("{help} ({})", s.item_metric()), labels)))
            .collect();
        SignalCounters { by_signal }
    }

    /// `alloy_otelcol_dropped_items_total{signal}`: items the pipeline had accepted and then
    /// dropped (failed for good, or still held by an exporter or batch processor when it
    /// stopped). Process-wide, without component labels, so that a reload that removes the
    /// component (and its own counters) does not take the count with it.
    pub fn dropped(ctx: &Context) -> Self {
        let registry = ctx.registry();
        let by_signal = Signal::ALL
            .into_iter()
            .map(|s| {
                let labels = [("signal".to_string(), s.name().to_string())];
                (s, registry.counter("alloy_otelcol_dropped_items_total", "Items accepted by the otelcol pipeline and then dropped, by signal", &labels))
            })
            .collect();
        SignalCounters { by_signal }
    }

    pub fn add(&self, signal: Signal, n: usize) {
        if let Some(c) = self.by_signal.get(&signal) {
            c.add(n as u64);
        }
    }

    pub fn get(&self, signal: Signal) -> u64 {
        self.by_signal.get(&signal).map_or(0, Counter::get)
    }
}

pub use crate::component::log;

pub use crate::component::detached_context;

/// Lower-case hex, as the collector prints IDs and bytes.
pub(crate) fn hex(b: &[u8]) -> String {
    use std::fmt::Write as _;
    b.iter().fold(String::with_capacity(b.len() * 2), |mut out, x| {
        let _ = write!(out, "{x:02x}");
        out
    })
}
