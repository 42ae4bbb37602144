//! OTLP metrics → one Prometheus [`Batch`] per request, as upstream's converter appends them
//! and commits once. Each series is remembered (its ref, the timestamp of its last sample and
//! exemplar, when it was last seen) so out-of-order points are skipped; [`Converter::gc`]
//! forgets series not seen for a while. Metadata is sent when it changes (with
//! `honor_metadata`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{
    exemplar, metric, number_data_point, AggregationTemporality, Exemplar as OtlpExemplar, HistogramDataPoint, Metric, NumberDataPoint,
};
use prom::sample::{Batch, Exemplar, ExemplarSample, HistogramSample, Metadata, MetadataUpdate, MetricType, Sample, SeriesRef, STALE_NAN};
use prom::{Labels, LabelsBuilder};

use super::names::{label_name, metric_name, Kind};
use super::native::to_native;
use crate::otelcol::value::as_string;
use crate::otelcol::{hex, log};

const NO_RECORDED_VALUE: u32 = 1;
const SCOPE_NAME: &str = "otel_scope_name";
const SCOPE_VERSION: &str = "otel_scope_version";
const SERVICE_NAME: &str = "service.name";
const SERVICE_NAMESPACE: &str = "service.namespace";
const SERVICE_INSTANCE_ID: &str = "service.instance.id";

/// The conversion switches (the component's arguments of the same names).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub include_target_info: bool,
    pub include_scope_info: bool,
    pub include_scope_labels: bool,
    pub add_metric_suffixes: bool,
    pub resource_to_telemetry_conversion: bool,
    pub keep_identifying_resource_attributes: bool,
    pub honor_metadata: bool,
    /// A zero sample at a cumulative point's start time, ahead of the point.
    pub start_timestamp_zero_ingestion: bool,
}

impl Default for Options {
    /// The component's defaults.
    fn default() -> Self {
        Options {
            include_target_info: true,
            include_scope_info: false,
            include_scope_labels: true,
            add_metric_suffixes: true,
            resource_to_telemetry_conversion: false,
            keep_identifying_resource_attributes: false,
            honor_metadata: false,
            start_timestamp_zero_ingestion: false,
        }
    }
}

struct SeriesState {
    series: SeriesRef,
    labels: Labels,
    /// Nanoseconds of the last sample written, for out-of-order detection.
    last_ns: u64,
    last_exemplar_ns: u64,
    /// Milliseconds of the last start-time zero sample written.
    last_zero_ms: i64,
    seen: Instant,
}

struct MetadataState {
    metadata: Arc<Metadata>,
    written: bool,
    seen: Instant,
}

pub struct Converter {
    id: String,
    options: RwLock<Options>,
    series: Mutex<HashMap<Labels, SeriesState>>,
    metadata: Mutex<HashMap<String, MetadataState>>,
}

/// The job and instance a resource stands for (empty when absent).
struct Target {
    job: String,
    instance: String,
}

/// What one request appends, built up in order.
struct Appender<'a> {
    conv: &'a Converter,
    opts: Options,
    batch: Batch,
    now_ns: u64,
}

fn get(attrs: &[KeyValue], key: &str) -> Option<String> {
    attrs.iter().find(|kv| kv.key == key).map(|kv| kv.value.as_ref().map_or_else(String::new, as_string))
}

fn ns_to_ms(ns: u64) -> i64 {
    (ns / 1_000_000) as i64
}

fn format_bound(f: f64) -> String {
    // Go's FormatFloat(f, 'f', -1, 64): shortest digits, never an exponent.
    if f.is_infinite() {
        return if f > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    if f.is_nan() {
        return "NaN".into();
    }
    // Rust's `Display` never uses an exponent either.
    format!("{f}")
}

/// Counts up to each bound, for the bounds in ascending order.
fn cumulative_counts(bounds: &[f64], counts: &[u64]) -> Vec<(f64, u64)> {
    let mut by_bound: Vec<(f64, u64)> = bounds.iter().copied().zip(counts.iter().copied()).collect();
    by_bound.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut running = 0u64;
    by_bound
        .into_iter()
        .map(|(b, c)| {
            running = running.saturating_add(c);
            (b, running)
        })
        .collect()
}

fn number_value(dp: &NumberDataPoint) -> f64 {
    match dp.value {
        Some(number_data_point::Value::AsDouble(d)) => d,
        Some(number_data_point::Value::AsInt(i)) => i as f64,
        None => 0.0,
    }
}

fn exemplar_value(e: &OtlpExemplar) -> f64 {
    match e.value {
        Some(exemplar::Value::AsDouble(d)) => d,
        Some(exemplar::Value::AsInt(i)) => i as f64,
        None => 0.0,
    }
}

impl Converter {
    pub fn new(id: &str, options: Options) -> Self {
        Converter { id: id.to_string(), options: RwLock::new(options), series: Mutex::default(), metadata: Mutex::default() }
    }

    pub fn options(&self) -> Options {
        self.options.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn set_options(&self, options: Options) {
        *self.options.write().unwrap_or_else(|e| e.into_inner()) = options;
    }

    /// Makes every metadata entry be sent again (new receivers need it).
    pub fn flush_metadata(&self) {
        self.metadata.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// Forgets series and metadata not seen for `stale`.
    pub fn gc(&self, stale: Duration) {
        let now = Instant::now();
        self.series.lock().unwrap_or_else(|e| e.into_inner()).retain(|_, s| now.duration_since(s.seen) <= stale);
        self.metadata.lock().unwrap_or_else(|e| e.into_inner()).retain(|_, m| now.duration_since(m.seen) <= stale);
    }

    pub fn series_count(&self) -> usize {
        self.series.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Everything one request appends. `now_ns` stamps `target_info` and `otel_scope_info`.
    pub fn convert(&self, req: &ExportMetricsServiceRequest, now_ns: u64) -> Batch {
        let mut app = Appender { conv: self, opts: self.options(), batch: Batch::default(), now_ns };
        for rm in &req.resource_metrics {
            let res_attrs = rm.resource.as_ref().map(|r| r.attributes.as_slice()).unwrap_or(&[]);
            let target = app.resource(res_attrs);
            for sm in &rm.scope_metrics {
                let scope = sm.scope.clone().unwrap_or_default();
                app.scope_info(&target, &scope);
                for m in &sm.metrics {
                    app.metric(&target, &scope, m, res_attrs);
                }
            }
        }
        app.batch
    }
}

impl Appender<'_> {
    fn log(&self, level: tracing::Level, msg: &str) {
        log(&self.conv.id, level, msg);
    }

    /// The series' state, created on first sight; `seen` is refreshed.
    fn with_series<T>(&self, labels: Labels, f: impl FnOnce(&mut SeriesState) -> T) -> T {
        let mut all = self.conv.series.lock().unwrap_or_else(|e| e.into_inner());
        let state = all.entry(labels.clone()).or_insert_with(|| {
            let (series, labels) = crate::prometheus::series_store().intern(labels);
            SeriesState { series, labels, last_ns: 0, last_exemplar_ns: 0, last_zero_ms: i64::MIN, seen: Instant::now() }
        });
        state.seen = Instant::now();
        f(state)
    }

    fn metadata(&mut self, name: &str, metric_type: MetricType, unit: &str, help: &str) {
        let md = Metadata { metric_family: name.to_string(), metric_type, help: help.to_string(), unit: unit.to_string() };
        let mut all = self.conv.metadata.lock().unwrap_or_else(|e| e.into_inner());
        let entry = all.entry(name.to_string()).or_insert_with(|| MetadataState { metadata: Arc::new(md.clone()), written: false, seen: Instant::now() });
        entry.seen = Instant::now();
        if *entry.metadata != md {
            entry.metadata = Arc::new(md);
            entry.written = false;
        }
        if !self.opts.honor_metadata || entry.written {
            return;
        }
        entry.written = true;
        let (series, labels) = crate::prometheus::series_store().intern(Labels::new([("__name__", name)]));
        self.batch.metadata.push(MetadataUpdate { series, labels, metadata: entry.metadata.clone() });
    }

    /// With `start_timestamp_zero_ingestion`, a zero at the point's start time, once per start
    /// time, when the start is before the point and after the series' last sample (what the
    /// Prometheus appender would refuse is left out).
    fn zero(&mut self, labels: &Labels, start_ns: u64, time_ns: u64, histogram: Option<&prom::Histogram>) {
        if !self.opts.start_timestamp_zero_ingestion || start_ns == 0 {
            return;
        }
        let (st, t) = (ns_to_ms(start_ns), ns_to_ms(time_ns));
        if st >= t {
            return;
        }
        let fresh = self.with_series(labels.clone(), |s| {
            if st <= s.last_zero_ms || (s.last_ns != 0 && st <= ns_to_ms(s.last_ns)) {
                return None;
            }
            s.last_zero_ms = st;
            Some((s.series, s.labels.clone()))
        });
        let Some((series, labels)) = fresh else { return };
        match histogram {
            // An empty histogram of the same shape.
            Some(h) => {
                let empty =
                    prom::Histogram { schema: h.schema, zero_threshold: h.zero_threshold, custom_values: h.custom_values.clone(), ..Default::default() };
                self.batch.histograms.push(HistogramSample { series, labels, t: st, histogram: Arc::new(empty) });
            }
            None => self.batch.samples.push(Sample { series, labels, t: st, v: 0.0 }),
        }
    }

    /// A cumulative series' sample, after its start-time zero.
    fn cumulative(&mut self, labels: Labels, start_ns: u64, time_ns: u64, flags: u32, v: f64) -> Option<(SeriesRef, Labels)> {
        self.zero(&labels, start_ns, time_ns, None);
        self.sample(labels, time_ns, flags, v)
    }

    /// A sample unless it is older than the series' last one; a point without a recorded value
    /// is a stale marker. Returns the series for exemplars.
    fn sample(&mut self, labels: Labels, time_ns: u64, flags: u32, v: f64) -> Option<(SeriesRef, Labels)> {
        let (series, labels) = self.with_series(labels, |s| {
            if time_ns < s.last_ns {
                return None;
            }
            s.last_ns = time_ns;
            Some((s.series, s.labels.clone()))
        })?;
        let v = if flags & NO_RECORDED_VALUE != 0 { STALE_NAN } else { v };
        self.batch.samples.push(Sample { series, labels: labels.clone(), t: ns_to_ms(time_ns), v });
        Some((series, labels))
    }

    fn exemplar(&mut self, labels: &Labels, e: &OtlpExemplar) {
        let fresh = self.with_series(labels.clone(), |s| {
            if e.time_unix_nano < s.last_exemplar_ns {
                return None;
            }
            s.last_exemplar_ns = e.time_unix_nano;
            Some((s.series, s.labels.clone()))
        });
        let Some((series, labels)) = fresh else { return };
        // Only the IDs: upstream leaves the filtered attributes out.
        let mut b = LabelsBuilder::default();
        if e.trace_id.iter().any(|&x| x != 0) {
            b.set("trace_id", hex(&e.trace_id));
        }
        if e.span_id.iter().any(|&x| x != 0) {
            b.set("span_id", hex(&e.span_id));
        }
        let exemplar = Exemplar { labels: b.labels(), value: exemplar_value(e), t: ns_to_ms(e.time_unix_nano) };
        self.batch.exemplars.push(ExemplarSample { series, labels, exemplar });
    }

    /// `target_info` for the resource (when asked for) and its job and instance.
    fn resource(&mut self, attrs: &[KeyValue]) -> Target {
        let job = match (get(attrs, SERVICE_NAME), get(attrs, SERVICE_NAMESPACE)) {
            (Some(name), Some(ns)) => format!("{ns}/{name}"),
            (Some(name), None) => name,
            (None, _) => String::new(),
        };
        let instance = get(attrs, SERVICE_INSTANCE_ID).unwrap_or_default();
        let mut b = LabelsBuilder::default();
        b.set("__name__", "target_info");
        b.set("job", job.as_str());
        b.set("instance", instance.as_str());
        let identifying = [SERVICE_NAME, SERVICE_NAMESPACE, SERVICE_INSTANCE_ID];
        for kv in attrs {
            if self.opts.keep_identifying_resource_attributes || !identifying.contains(&kv.key.as_str()) {
                b.set(label_name(&kv.key), kv.value.as_ref().map_or_else(String::new, as_string));
            }
        }
        let labels = b.labels();
        // The series is remembered either way, as upstream does.
        let series = self.with_series(labels, |s| (s.series, s.labels.clone()));
        if self.opts.include_target_info {
            self.metadata("target_info", MetricType::Gauge, "", "Target metadata");
            self.batch.samples.push(Sample { series: series.0, labels: series.1, t: ns_to_ms(self.now_ns), v: 1.0 });
        }
        Target { job, instance }
    }

    fn scope_info(&mut self, target: &Target, scope: &InstrumentationScope) {
        if !self.opts.include_scope_info {
            return;
        }
        let mut b = LabelsBuilder::default();
        b.set("__name__", "otel_scope_info");
        b.set("job", target.job.as_str());
        b.set("instance", target.instance.as_str());
        b.set(SCOPE_NAME, scope.name.as_str());
        b.set(SCOPE_VERSION, scope.version.as_str());
        for kv in &scope.attributes {
            b.set(label_name(&kv.key), kv.value.as_ref().map_or_else(String::new, as_string));
        }
        let (series, labels) = self.with_series(b.labels(), |s| (s.series, s.labels.clone()));
        self.metadata("otel_scope_info", MetricType::Gauge, "", "");
        self.batch.samples.push(Sample { series, labels, t: ns_to_ms(self.now_ns), v: 1.0 });
    }

    /// A data point's labels: name, job, instance, the extra label (`le`, `quantile`), the
    /// scope labels, then the attributes (resource ones merged in first, when asked for).
    fn labels(
        &self,
        name: &str,
        target: &Target,
        scope: &InstrumentationScope,
        attrs: &[KeyValue],
        res_attrs: &[KeyValue],
        extra: Option<(&str, &str)>,
    ) -> Labels {
        let mut b = LabelsBuilder::default();
        b.set("__name__", name);
        b.set("job", target.job.as_str());
        b.set("instance", target.instance.as_str());
        if let Some((k, v)) = extra {
            b.set(k, v);
        }
        if self.opts.include_scope_labels {
            b.set(SCOPE_NAME, scope.name.as_str());
            b.set(SCOPE_VERSION, scope.version.as_str());
        }
        // Resource attributes replace point attributes of the same key in place, then follow.
        let mut merged: Vec<&KeyValue> = attrs.iter().collect();
        if self.opts.resource_to_telemetry_conversion {
            for kv in res_attrs {
                match merged.iter_mut().find(|m| m.key == kv.key) {
                    Some(slot) => *slot = kv,
                    None => merged.push(kv),
                }
            }
        }
        for kv in merged {
            b.set(label_name(&kv.key), kv.value.as_ref().map_or_else(String::new, as_string));
        }
        b.labels()
    }

    /// One classic histogram point: `_sum`, `_count`, a `_bucket` per bound in the point's
    /// order with the count up to it, then `+Inf`; exemplars sorted by value go to the first
    /// bucket whose bound is above them.
    fn histogram_point(&mut self, name: &str, target: &Target, scope: &InstrumentationScope, dp: &HistogramDataPoint, res_attrs: &[KeyValue]) {
        let series =
            |this: &Self, suffix: &str, extra: Option<(&str, &str)>| this.labels(&format!("{name}{suffix}"), target, scope, &dp.attributes, res_attrs, extra);
        if let Some(sum) = dp.sum {
            self.cumulative(series(self, "_sum", None), dp.start_time_unix_nano, dp.time_unix_nano, dp.flags, sum);
        }
        self.cumulative(series(self, "_count", None), dp.start_time_unix_nano, dp.time_unix_nano, dp.flags, dp.count as f64);
        let n = dp.explicit_bounds.len().min(dp.bucket_counts.len());
        let cumulative_at = cumulative_counts(&dp.explicit_bounds[..n], &dp.bucket_counts[..n]);
        let mut exemplars: Vec<&OtlpExemplar> = dp.exemplars.iter().collect();
        exemplars.sort_by(|a, b| exemplar_value(a).total_cmp(&exemplar_value(b)));
        let mut next = 0;
        // Buckets in the point's own order; each takes the exemplars below its bound.
        for &bound in &dp.explicit_bounds[..n] {
            let count = cumulative_at.iter().find(|(b, _)| b.to_bits() == bound.to_bits()).map_or(0, |&(_, c)| c);
            let le = format_bound(bound);
            let labels = series(self, "_bucket", Some(("le", le.as_str())));
            self.cumulative(labels.clone(), dp.start_time_unix_nano, dp.time_unix_nano, dp.flags, count as f64);
            while next < exemplars.len() && exemplar_value(exemplars[next]) < bound {
                self.exemplar(&labels, exemplars[next]);
                next += 1;
            }
        }
        let labels = series(self, "_bucket", Some(("le", "+Inf")));
        self.cumulative(labels.clone(), dp.start_time_unix_nano, dp.time_unix_nano, dp.flags, dp.count as f64);
        for e in &exemplars[next..] {
            self.exemplar(&labels, e);
        }
    }

    fn metric(&mut self, target: &Target, scope: &InstrumentationScope, m: &Metric, res_attrs: &[KeyValue]) {
        let suffixes = self.opts.add_metric_suffixes;
        let cumulative = AggregationTemporality::Cumulative as i32;
        match &m.data {
            Some(metric::Data::Gauge(g)) => {
                let name = metric_name(&m.name, &m.unit, Kind::Gauge, suffixes);
                self.metadata(&name, MetricType::Gauge, &m.unit, &m.description);
                for dp in &g.data_points {
                    let labels = self.labels(&name, target, scope, &dp.attributes, res_attrs, None);
                    self.sample(labels, dp.time_unix_nano, dp.flags, number_value(dp));
                }
            }
            Some(metric::Data::Sum(s)) => {
                let counter = match (s.aggregation_temporality == cumulative, s.is_monotonic) {
                    (true, true) => true,
                    (true, false) => false,
                    (false, true) => {
                        self.log(tracing::Level::DEBUG, "dropped unsupported delta sum");
                        return;
                    }
                    (false, false) => return,
                };
                let kind = if counter { Kind::MonotonicSum } else { Kind::Other };
                let name = metric_name(&m.name, &m.unit, kind, suffixes);
                self.metadata(&name, if counter { MetricType::Counter } else { MetricType::Gauge }, &m.unit, &m.description);
                for dp in &s.data_points {
                    let labels = self.labels(&name, target, scope, &dp.attributes, res_attrs, None);
                    // Only counters have a start that means something.
                    let start = if counter { dp.start_time_unix_nano } else { 0 };
                    self.cumulative(labels.clone(), start, dp.time_unix_nano, dp.flags, number_value(dp));
                    if counter {
                        for e in &dp.exemplars {
                            self.exemplar(&labels, e);
                        }
                    }
                }
            }
            Some(metric::Data::Histogram(h)) => {
                if h.aggregation_temporality != cumulative {
                    return;
                }
                let name = metric_name(&m.name, &m.unit, Kind::Other, suffixes);
                self.metadata(&name, MetricType::Histogram, &m.unit, &m.description);
                for dp in &h.data_points {
                    self.histogram_point(&name, target, scope, dp, res_attrs);
                }
            }
            Some(metric::Data::ExponentialHistogram(h)) => {
                if h.aggregation_temporality != cumulative {
                    return;
                }
                let name = metric_name(&m.name, &m.unit, Kind::Other, suffixes);
                self.metadata(&name, MetricType::Histogram, &m.unit, &m.description);
                for dp in &h.data_points {
                    let labels = self.labels(&name, target, scope, &dp.attributes, res_attrs, None);
                    if let Ok(h) = to_native(dp) {
                        self.zero(&labels, dp.start_time_unix_nano, dp.time_unix_nano, Some(&h));
                    }
                    let fresh = self.with_series(labels, |s| {
                        if dp.time_unix_nano < s.last_ns {
                            return None;
                        }
                        s.last_ns = dp.time_unix_nano;
                        Some((s.series, s.labels.clone()))
                    });
                    let Some((series, labels)) = fresh else { continue };
                    match to_native(dp) {
                        Ok(histogram) => {
                            self.batch.histograms.push(HistogramSample {
                                series,
                                labels: labels.clone(),
                                t: ns_to_ms(dp.time_unix_nano),
                                histogram: Arc::new(histogram),
                            });
                            for e in &dp.exemplars {
                                self.exemplar(&labels, e);
                            }
                        }
                        Err(e) => {
                            self.log(tracing::Level::ERROR, &format!("failed to convert exponential histogram to native histogram: metric name {name}: {e}"))
                        }
                    }
                }
            }
            Some(metric::Data::Summary(s)) => {
                let name = metric_name(&m.name, &m.unit, Kind::Other, suffixes);
                self.metadata(&name, MetricType::Summary, &m.unit, &m.description);
                for dp in &s.data_points {
                    let series = |this: &Self, suffix: &str, extra: Option<(&str, &str)>| {
                        this.labels(&format!("{name}{suffix}"), target, scope, &dp.attributes, res_attrs, extra)
                    };
                    self.cumulative(series(self, "_sum", None), dp.start_time_unix_nano, dp.time_unix_nano, dp.flags, dp.sum);
                    self.cumulative(series(self, "_count", None), dp.start_time_unix_nano, dp.time_unix_nano, dp.flags, dp.count as f64);
                    for q in &dp.quantile_values {
                        let quantile = format_bound(q.quantile);
                        self.sample(series(self, "", Some(("quantile", quantile.as_str()))), dp.time_unix_nano, dp.flags, q.value);
                    }
                }
            }
            None => {}
        }
    }
}
