//! `otelcol.connector.count`: counts spans, span events, metrics, metric data points and log
//! records per resource and sends the counts to `output.metrics` as delta sums (one
//! request per batch received). Each `spans`/`spanevents`/`metrics`/`datapoints`/`logs`
//! block is one count metric, split by its `attributes`; a kind without blocks gets
//! upstream's default metric. A block's OTTL `conditions` (any may hold) select the items it counts;
//! they are checked when the arguments are decoded, so `alloy validate` reports them.

use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use eval::Value;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{metric, number_data_point, AggregationTemporality, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum};
use opentelemetry_proto::tonic::resource::v1::Resource;

use super::values::{get, put};
use crate::component::args::decode_checked;
use crate::component::{Arguments, Component, ComponentError, Context, Reader, Registration};
use crate::otelcol::consumer::{ConsumeError, ConsumeFuture, Consumer, ConsumerHandle, Fanout, Output};
use crate::otelcol::pdata::{Payload, Signal};
use crate::otelcol::processor::attributes::any_value;

const NAME: &str = "otelcol.connector.count";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["input"], build);

const SCOPE_NAME: &str = "otelcol/countconnector";

/// What is counted; the block name and upstream's default metric for each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Spans,
    SpanEvents,
    Metrics,
    DataPoints,
    Logs,
}

impl Kind {
    const ALL: [Kind; 5] = [Kind::Spans, Kind::SpanEvents, Kind::Metrics, Kind::DataPoints, Kind::Logs];

    /// The block name, as upstream's messages say it.
    /// The OTTL context of the block's `conditions`.
    fn context(self) -> ottl::Context {
        match self {
            Kind::Spans => ottl::Context::Span,
            Kind::SpanEvents => ottl::Context::SpanEvent,
            Kind::Metrics => ottl::Context::Metric,
            Kind::DataPoints => ottl::Context::DataPoint,
            Kind::Logs => ottl::Context::Log,
        }
    }

    fn block(self) -> &'static str {
        match self {
            Kind::Spans => "spans",
            Kind::SpanEvents => "spanevents",
            Kind::Metrics => "metrics",
            Kind::DataPoints => "datapoints",
            Kind::Logs => "logs",
        }
    }

    fn default_metric(self) -> CountMetric {
        let (name, description) = match self {
            Kind::Spans => ("trace.span.count", "The number of spans observed."),
            Kind::SpanEvents => ("trace.span.event.count", "The number of span events observed."),
            Kind::Metrics => ("metric.count", "The number of metrics observed."),
            Kind::DataPoints => ("metric.datapoint.count", "The number of data points observed."),
            Kind::Logs => ("log.record.count", "The number of log records observed."),
        };
        CountMetric { name: name.into(), description: description.into(), attributes: Vec::new(), conditions: Conditions::default() }
    }
}

/// An `attributes` block: the item attribute to split by, or its default when absent.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Attribute {
    pub key: String,
    pub default: Option<AnyValue>,
}

impl Arguments for Attribute {
    fn decode(r: &mut Reader<'_>) -> Self {
        Attribute { key: r.get("key"), default: r.opt::<Value>("default_value").map(|v| any_value(&v)) }
    }
}

/// A block's OTTL conditions as written and checked; equal when the texts are.
#[derive(Clone, Debug, Default)]
pub struct Conditions {
    pub sources: Vec<String>,
    compiled: Vec<ottl::Condition>,
}

impl PartialEq for Conditions {
    fn eq(&self, other: &Self) -> bool {
        self.sources == other.sources
    }
}

/// One count metric.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CountMetric {
    pub name: String,
    pub description: String,
    pub attributes: Vec<Attribute>,
    pub conditions: Conditions,
}

/// A block of kind `K` (an index into [`Kind::ALL`]) as written; `name` is `None` when
/// the block leaves it out.
#[derive(Default)]
struct MetricBlock<const K: usize> {
    name: Option<String>,
    metric: CountMetric,
}

impl<const K: usize> MetricBlock<K> {
    fn kind() -> Kind {
        Kind::ALL[K]
    }

    /// The metric name: as written, or for `spans` (whose catalogue default is computed)
    /// the kind's default name.
    fn name(&self) -> String {
        match &self.name {
            Some(n) => n.clone(),
            None if Self::kind() == Kind::Spans => Kind::Spans.default_metric().name,
            None => String::new(),
        }
    }
}

impl<const K: usize> Arguments for MetricBlock<K> {
    fn decode(r: &mut Reader<'_>) -> Self {
        let sources: Vec<String> = r.get("conditions");
        let mut compiled = Vec::with_capacity(sources.len());
        for (i, src) in sources.iter().enumerate() {
            match ottl::check_condition(src, Self::kind().context()) {
                Ok(c) => compiled.push(c),
                Err(d) => {
                    let at = crate::otelcol::processor::ottl_support::element(r.path(), "conditions", i);
                    r.push_error(crate::otelcol::processor::ottl_support::ottl_error(at, &d));
                }
            }
        }
        MetricBlock {
            name: r.computed("name"),
            metric: CountMetric {
                name: String::new(),
                description: r.get("description"),
                attributes: r.blocks("attributes"),
                conditions: Conditions { sources, compiled },
            },
        }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        let kind = Self::kind().block();
        let name = self.name();
        r.check(!name.is_empty(), &[""], format!("{kind}: metric name missing"));
        if name.is_empty() {
            return;
        }
        if Self::kind() == Kind::Metrics {
            r.check(self.metric.attributes.is_empty(), &["attributes"], format!("metrics attributes not supported: metric {name:?}"));
        }
        // Upstream's message for data points says "spans" too.
        let what = if Self::kind() == Kind::DataPoints { "spans" } else { kind };
        r.check(
            self.metric.attributes.iter().all(|a| !a.key.is_empty()),
            &["attributes"],
            format!("{what} attributes: metric {name:?}: attribute key missing"),
        );
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Config {
    pub spans: Vec<CountMetric>,
    pub span_events: Vec<CountMetric>,
    pub metrics: Vec<CountMetric>,
    pub data_points: Vec<CountMetric>,
    pub logs: Vec<CountMetric>,
}

impl Config {
    fn kind_mut(&mut self, k: Kind) -> &mut Vec<CountMetric> {
        match k {
            Kind::Spans => &mut self.spans,
            Kind::SpanEvents => &mut self.span_events,
            Kind::Metrics => &mut self.metrics,
            Kind::DataPoints => &mut self.data_points,
            Kind::Logs => &mut self.logs,
        }
    }
}

#[derive(Default)]
pub struct Args {
    pub config: Config,
    pub output: Output,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&["debug_metrics"]);
        let mut config = Config::default();
        let blocks: [Vec<(String, CountMetric)>; 5] = [
            r.blocks::<MetricBlock<0>>("spans").into_iter().map(|b| (b.name(), b.metric)).collect(),
            r.blocks::<MetricBlock<1>>("spanevents").into_iter().map(|b| (b.name(), b.metric)).collect(),
            r.blocks::<MetricBlock<2>>("metrics").into_iter().map(|b| (b.name(), b.metric)).collect(),
            r.blocks::<MetricBlock<3>>("datapoints").into_iter().map(|b| (b.name(), b.metric)).collect(),
            r.blocks::<MetricBlock<4>>("logs").into_iter().map(|b| (b.name(), b.metric)).collect(),
        ];
        for (kind, blocks) in Kind::ALL.into_iter().zip(blocks) {
            let list = config.kind_mut(kind);
            if blocks.is_empty() {
                list.push(kind.default_metric());
            }
            for (name, metric) in blocks {
                // Blocks with the same name are one metric: the last one's settings win.
                let m = CountMetric { name, ..metric };
                match list.iter_mut().find(|x| x.name == m.name) {
                    Some(x) => *x = m,
                    None => list.push(m),
                }
            }
        }
        Args { config, output: r.block_or_default("output") }
    }
}

/// For each metric of a kind, which items of a request its conditions select (`None`: all),
/// in the order the request's items of that kind come.
type Selected = Vec<Option<Vec<bool>>>;

/// Counts per metric and per attribute set, in first-seen order.
struct Counter<'a> {
    defs: &'a [CountMetric],
    selected: &'a Selected,
    /// The index of the next item of this kind in the whole request.
    cursor: usize,
    counts: Vec<Vec<(Vec<KeyValue>, u64)>>,
}

impl<'a> Counter<'a> {
    fn new(defs: &'a [CountMetric], selected: &'a Selected, cursor: usize) -> Self {
        Counter { defs, selected, cursor, counts: vec![Vec::new(); defs.len()] }
    }

    /// Counts one item in every metric that selects it and whose attributes it has (or that
    /// has defaults).
    fn update(&mut self, attrs: &[KeyValue]) {
        let item = self.cursor;
        self.cursor += 1;
        for ((def, counts), selected) in self.defs.iter().zip(&mut self.counts).zip(self.selected) {
            if selected.as_ref().is_some_and(|s| !s.get(item).copied().unwrap_or(false)) {
                continue;
            }
            let mut split = Vec::with_capacity(def.attributes.len());
            for a in &def.attributes {
                if let Some(v) = get(attrs, &a.key).cloned().or_else(|| a.default.clone()) {
                    put(&mut split, &a.key, v);
                }
            }
            if split.len() != def.attributes.len() {
                continue;
            }
            match counts.iter_mut().find(|(k, _)| *k == split) {
                Some((_, n)) => *n += 1,
                None => counts.push((split, 1)),
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.counts.iter().all(Vec::is_empty)
    }

    fn metrics(&self, ts: u64, out: &mut Vec<Metric>) {
        for (def, counts) in self.defs.iter().zip(&self.counts).filter(|(_, c)| !c.is_empty()) {
            let data_points = counts
                .iter()
                .map(|(attrs, n)| NumberDataPoint {
                    attributes: attrs.clone(),
                    time_unix_nano: ts,
                    value: Some(number_data_point::Value::AsInt(*n as i64)),
                    ..Default::default()
                })
                .collect();
            out.push(Metric {
                name: def.name.clone(),
                description: def.description.clone(),
                data: Some(metric::Data::Sum(Sum { data_points, aggregation_temporality: AggregationTemporality::Delta as i32, is_monotonic: true })),
                ..Default::default()
            });
        }
    }
}

fn resource_metrics_of(resource: Option<&Resource>, counters: &[&Counter], ts: u64) -> Option<ResourceMetrics> {
    if counters.iter().all(|c| c.is_empty()) {
        return None;
    }
    let mut metrics = Vec::new();
    for c in counters {
        c.metrics(ts, &mut metrics);
    }
    Some(ResourceMetrics {
        resource: Some(Resource { attributes: resource.map(|r| r.attributes.clone()).unwrap_or_default(), ..Default::default() }),
        scope_metrics: vec![ScopeMetrics {
            scope: Some(InstrumentationScope { name: SCOPE_NAME.into(), ..Default::default() }),
            metrics,
            ..Default::default()
        }],
        ..Default::default()
    })
}

fn nanos(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

/// Evaluation errors fail the request, as upstream's count connector propagates them.
fn propagate(e: ottl::eval::EvalError) -> Result<(), ottl::eval::EvalError> {
    Err(e)
}

/// Which items each metric's conditions select, by `matches` over the request.
fn selected(defs: &[CountMetric], mut matches: impl FnMut(&[ottl::Condition]) -> Result<Vec<bool>, ottl::eval::EvalError>) -> Result<Selected, String> {
    defs.iter()
        .map(|d| if d.conditions.compiled.is_empty() { Ok(None) } else { matches(&d.conditions.compiled).map(Some).map_err(|e| e.to_string()) })
        .collect()
}

impl Config {
    pub fn count_traces(&self, req: &mut ExportTraceServiceRequest, now: SystemTime) -> Result<ExportMetricsServiceRequest, String> {
        let ts = nanos(now);
        let span_sel = selected(&self.spans, |c| ottl::eval::matches_traces(req, ottl::Context::Span, c, &mut propagate))?;
        let event_sel = selected(&self.span_events, |c| ottl::eval::matches_traces(req, ottl::Context::SpanEvent, c, &mut propagate))?;
        let (mut span_at, mut event_at) = (0, 0);
        let mut resource_metrics = Vec::new();
        for rs in &req.resource_spans {
            let (mut spans, mut events) = (Counter::new(&self.spans, &span_sel, span_at), Counter::new(&self.span_events, &event_sel, event_at));
            for span in rs.scope_spans.iter().flat_map(|ss| ss.spans.iter()) {
                spans.update(&span.attributes);
                for e in &span.events {
                    events.update(&e.attributes);
                }
            }
            (span_at, event_at) = (spans.cursor, events.cursor);
            resource_metrics.extend(resource_metrics_of(rs.resource.as_ref(), &[&spans, &events], ts));
        }
        Ok(ExportMetricsServiceRequest { resource_metrics })
    }

    /// Fails, as upstream, on a metric without data.
    pub fn count_metrics(&self, req: &mut ExportMetricsServiceRequest, now: SystemTime) -> Result<ExportMetricsServiceRequest, String> {
        let ts = nanos(now);
        let metric_sel = selected(&self.metrics, |c| ottl::eval::matches_metrics(req, ottl::Context::Metric, c, &mut propagate))?;
        let point_sel = selected(&self.data_points, |c| ottl::eval::matches_metrics(req, ottl::Context::DataPoint, c, &mut propagate))?;
        let (mut metric_at, mut point_at) = (0, 0);
        let mut out = Vec::new();
        for rm in &req.resource_metrics {
            let (mut metrics, mut points) = (Counter::new(&self.metrics, &metric_sel, metric_at), Counter::new(&self.data_points, &point_sel, point_at));
            for m in rm.scope_metrics.iter().flat_map(|sm| sm.metrics.iter()) {
                metrics.update(&[]);
                let attrs: Vec<&[KeyValue]> = match &m.data {
                    Some(metric::Data::Gauge(g)) => g.data_points.iter().map(|p| p.attributes.as_slice()).collect(),
                    Some(metric::Data::Sum(s)) => s.data_points.iter().map(|p| p.attributes.as_slice()).collect(),
                    Some(metric::Data::Histogram(h)) => h.data_points.iter().map(|p| p.attributes.as_slice()).collect(),
                    Some(metric::Data::ExponentialHistogram(h)) => h.data_points.iter().map(|p| p.attributes.as_slice()).collect(),
                    Some(metric::Data::Summary(s)) => s.data_points.iter().map(|p| p.attributes.as_slice()).collect(),
                    None => return Err(format!("metric {:?}: invalid metric type: Empty", m.name)),
                };
                for a in attrs {
                    points.update(a);
                }
            }
            (metric_at, point_at) = (metrics.cursor, points.cursor);
            out.extend(resource_metrics_of(rm.resource.as_ref(), &[&metrics, &points], ts));
        }
        Ok(ExportMetricsServiceRequest { resource_metrics: out })
    }

    pub fn count_logs(&self, req: &mut ExportLogsServiceRequest, now: SystemTime) -> Result<ExportMetricsServiceRequest, String> {
        let ts = nanos(now);
        let log_sel = selected(&self.logs, |c| ottl::eval::matches_logs(req, ottl::Context::Log, c, &mut propagate))?;
        let mut log_at = 0;
        let mut resource_metrics = Vec::new();
        for rl in &req.resource_logs {
            let mut logs = Counter::new(&self.logs, &log_sel, log_at);
            for r in rl.scope_logs.iter().flat_map(|sl| sl.log_records.iter()) {
                logs.update(&r.attributes);
            }
            log_at = logs.cursor;
            resource_metrics.extend(resource_metrics_of(rl.resource.as_ref(), &[&logs], ts));
        }
        Ok(ExportMetricsServiceRequest { resource_metrics })
    }
}

struct CountConsumer {
    config: RwLock<Arc<Config>>,
    next: Fanout,
}

impl Consumer for CountConsumer {
    fn consume(&self, data: Payload) -> ConsumeFuture<'_> {
        Box::pin(async move {
            let config = self.config.read().unwrap_or_else(|e| e.into_inner()).clone();
            let bad = |e: crate::otelcol::pdata::PdataError| ConsumeError::Permanent(e.to_string());
            let now = SystemTime::now();
            let out = match data.signal() {
                Signal::Traces => config.count_traces(&mut data.decode_traces().map_err(bad)?, now),
                Signal::Metrics => config.count_metrics(&mut data.decode_metrics().map_err(bad)?, now),
                Signal::Logs => config.count_logs(&mut data.decode_logs().map_err(bad)?, now),
            }
            .map_err(ConsumeError::Permanent)?;
            if out.resource_metrics.is_empty() {
                return Ok(());
            }
            self.next.consume(Payload::from_metrics(&out).with_metadata(data.metadata().clone())).await
        })
    }
}

pub struct Count {
    consumer: Arc<CountConsumer>,
}

pub fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    let Args { config, output } = decode_checked(NAME, &args)?;
    let consumer = Arc::new(CountConsumer { config: RwLock::new(Arc::new(config)), next: Fanout::new(output).tapped(&ctx) });
    crate::otelcol::consumer::publish_input(&ctx, ConsumerHandle::new(ctx.id(), consumer.clone()));
    Ok(Arc::new(Count { consumer }))
}

impl Component for Count {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        let Args { config, output } = decode_checked(NAME, &args)?;
        self.consumer.next.set(output);
        *self.consumer.config.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(config);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
