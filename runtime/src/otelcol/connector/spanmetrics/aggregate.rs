//! The series state of `otelcol.connector.spanmetrics`: per resource (kept in an LRU of
//! `resource_metrics_cache_size`), a sum per series of calls and of span events and a
//! histogram per series of durations, each with the time it started; `flush` builds the
//! OTLP metrics and resets what the temporality says.

use std::collections::BTreeMap;
use std::time::{Instant, SystemTime};

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{
    exemplar, metric, number_data_point, AggregationTemporality, Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Histogram, HistogramDataPoint,
    Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;

use super::expo::Expo;
use super::{Config, Dimension, Temporality};
use crate::otelcol::connector::lru::Lru;
use crate::otelcol::connector::values::{get, put, span_kind, status_code, string};

/// The bytes of a series' attributes: equal attributes, equal key.
type Key = Vec<u8>;

fn key_of(attrs: &[KeyValue]) -> Key {
    let mut out = Vec::new();
    for kv in attrs {
        // Length-delimited, so that neighbouring attributes cannot run together.
        let _ = kv.encode_length_delimited(&mut out);
    }
    out
}

#[derive(Clone, Debug)]
struct Series {
    attributes: Vec<KeyValue>,
    start_ns: u64,
    last_seen: Instant,
    exemplars: Vec<Exemplar>,
    count: u64,
    /// Explicit histograms only: the sum of the values and the count per bucket.
    sum: f64,
    buckets: Vec<u64>,
    /// Exponential histograms only.
    expo: Option<Expo>,
}

impl Series {
    fn new(attributes: Vec<KeyValue>, start_ns: u64, now: Instant, buckets: usize) -> Self {
        Series { attributes, start_ns, last_seen: now, exemplars: Vec::new(), count: 0, sum: 0.0, buckets: vec![0; buckets], expo: None }
    }

    fn exemplar(&mut self, span: &Span, value: f64, max: usize) {
        if self.exemplars.len() < max {
            self.exemplars.push(Exemplar {
                trace_id: span.trace_id.clone(),
                span_id: span.span_id.clone(),
                value: Some(exemplar::Value::AsDouble(value)),
                ..Default::default()
            });
        }
    }
}

#[derive(Default)]
struct SeriesSet {
    series: BTreeMap<Key, Series>,
}

/// The attribute of the series that takes what exceeds `aggregation_cardinality_limit`.
pub const OVERFLOW_ATTRIBUTE: &str = "otel.metric.overflow";

impl SeriesSet {
    /// The series of `key`; once `limit` series exist (0: no limit), a new key counts in the
    /// one overflow series instead, whose only attribute is `otel.metric.overflow = true`.
    fn entry(&mut self, key: &Key, attrs: &[KeyValue], start_ns: u64, now: Instant, buckets: usize, limit: usize) -> &mut Series {
        let over = limit > 0 && self.series.len() >= limit && !self.series.contains_key(key);
        let s = if over {
            let attrs = vec![KeyValue {
                key: OVERFLOW_ATTRIBUTE.into(),
                value: Some(opentelemetry_proto::tonic::common::v1::AnyValue { value: Some(any_value::Value::BoolValue(true)) }),
                ..Default::default()
            }];
            self.series.entry(key_of(&attrs)).or_insert_with(|| Series::new(attrs, start_ns, now, buckets))
        } else {
            self.series.entry(key.clone()).or_insert_with(|| Series::new(attrs.to_vec(), start_ns, now, buckets))
        };
        s.last_seen = now;
        s
    }
}

struct ResourceState {
    attributes: Vec<KeyValue>,
    calls: SeriesSet,
    durations: SeriesSet,
    events: SeriesSet,
    last_seen: Instant,
}

pub struct Aggregator {
    config: Config,
    resources: Lru<Key, ResourceState>,
    /// Delta only: when each series was last flushed, the start of its next point.
    delta_starts: Lru<(Key, Key), u64>,
}

fn nanos(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

const SCOPE_NAME_KEY: &str = "span.instrumentation.scope.name";
const SCOPE_VERSION_KEY: &str = "span.instrumentation.scope.version";

impl Aggregator {
    pub fn new(config: Config) -> Self {
        let resources = Lru::new(config.resource_cache_size);
        let delta_starts = Lru::new(config.timestamp_cache_size);
        Aggregator { config, resources, delta_starts }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The resource's key: its attributes (only `resource_metrics_key_attributes` when
    /// listed), sorted by name so that their order does not matter.
    fn resource_key(&self, attrs: &[KeyValue]) -> Key {
        let mut kept: Vec<&KeyValue> =
            attrs.iter().filter(|kv| self.config.resource_key_attributes.is_empty() || self.config.resource_key_attributes.contains(&kv.key)).collect();
        kept.sort_by(|a, b| a.key.cmp(&b.key));
        let mut out = Vec::new();
        for kv in kept {
            let _ = kv.encode_length_delimited(&mut out);
        }
        out
    }

    /// A series' attributes: the default dimensions not excluded, then each dimension found
    /// in the span's attributes, else in `other` (resource, or resource and event), else
    /// its default; then the scope when listed in `include_instrumentation_scope`.
    fn attributes(&self, service: &str, span: &Span, other: &[KeyValue], dims: &[Dimension], scope: Option<&InstrumentationScope>) -> Vec<KeyValue> {
        let c = &self.config;
        let mut attrs = Vec::with_capacity(4 + dims.len());
        let defaults = [
            ("service.name", service),
            ("span.name", span.name.as_str()),
            ("span.kind", span_kind(span.kind)),
            ("status.code", status_code(span.status.as_ref().map_or(0, |s| s.code))),
        ];
        for (name, value) in defaults {
            if !c.exclude_dimensions.iter().any(|e| e == name) {
                put(&mut attrs, name, string(value));
            }
        }
        for d in dims {
            let found = get(&span.attributes, &d.name).or_else(|| get(other, &d.name)).cloned().or_else(|| d.default.clone().map(string));
            if let Some(v) = found {
                put(&mut attrs, &d.name, v);
            }
        }
        if let Some(s) = scope.filter(|s| !s.name.is_empty() && c.include_scopes.contains(&s.name)) {
            put(&mut attrs, SCOPE_NAME_KEY, string(s.name.clone()));
            if !s.version.is_empty() {
                put(&mut attrs, SCOPE_VERSION_KEY, string(s.version.clone()));
            }
        }
        attrs
    }

    /// Counts the spans of a request. Resources without `service.name` are skipped.
    pub fn add(&mut self, req: &ExportTraceServiceRequest, now: Instant, wall: SystemTime) {
        let start_ns = nanos(wall);
        let buckets = self.config.bounds.len() + 1;
        let with = |extra: &[Dimension]| -> Vec<Dimension> { self.config.dimensions.iter().chain(extra).cloned().collect() };
        let (event_dims, call_dims, hist_dims) =
            (with(&self.config.event_dimensions), with(&self.config.calls_dimensions), with(&self.config.histogram_dimensions));
        for rs in &req.resource_spans {
            let res_attrs: &[KeyValue] = rs.resource.as_ref().map_or(&[], |r| &r.attributes);
            let Some(service) = get(res_attrs, "service.name") else { continue };
            let service = match &service.value {
                Some(any_value::Value::StringValue(s)) => s.clone(),
                _ => String::new(),
            };
            let rkey = self.resource_key(res_attrs);
            // Attributes and keys are worked out before the resource is borrowed.
            let mut calls = Vec::new();
            let mut events = Vec::new();
            for ss in &rs.scope_spans {
                for span in &ss.spans {
                    let attrs = self.attributes(&service, span, res_attrs, &call_dims, ss.scope.as_ref());
                    // The histogram's series differ only when it has dimensions of its own.
                    let hist = if self.config.histogram_dimensions.is_empty() {
                        None
                    } else {
                        let h = self.attributes(&service, span, res_attrs, &hist_dims, ss.scope.as_ref());
                        Some((key_of(&h), h))
                    };
                    calls.push((span, key_of(&attrs), attrs, hist));
                    if self.config.events {
                        for event in &span.events {
                            let mut merged = res_attrs.to_vec();
                            for kv in &event.attributes {
                                put(&mut merged, &kv.key, kv.value.clone().unwrap_or_default());
                            }
                            let attrs = self.attributes(&service, span, &merged, &event_dims, ss.scope.as_ref());
                            events.push((span, key_of(&attrs), attrs));
                        }
                    }
                }
            }
            let c = &self.config;
            let res = self.resources.get_or_insert_with(&rkey, || ResourceState {
                attributes: res_attrs.to_vec(),
                calls: SeriesSet::default(),
                durations: SeriesSet::default(),
                events: SeriesSet::default(),
                last_seen: now,
            });
            res.last_seen = now;
            let exemplars = |span: &Span| c.exemplars && span.trace_id.iter().any(|b| *b != 0);
            for (span, key, attrs, hist) in &calls {
                let duration = duration(span, c.unit.divider());
                if c.histogram {
                    let (hkey, hattrs) = hist.as_ref().map_or((key, attrs), |(k, a)| (k, a));
                    let h = res.durations.entry(hkey, hattrs, start_ns, now, buckets, c.cardinality_limit);
                    if exemplars(span) {
                        h.exemplar(span, duration, c.max_exemplars);
                    }
                    if let Some(max_size) = c.exponential {
                        h.expo.get_or_insert_with(|| Expo::new(max_size)).observe(duration);
                    } else {
                        // The first bucket whose upper bound is at least the value.
                        let i = c.bounds.partition_point(|b| *b < duration);
                        if let Some(b) = h.buckets.get_mut(i) {
                            *b += 1;
                        }
                        h.count += 1;
                        h.sum += duration;
                    }
                }
                let s = res.calls.entry(key, attrs, start_ns, now, 0, c.cardinality_limit);
                if exemplars(span) {
                    s.exemplar(span, duration, c.max_exemplars);
                }
                s.count += 1;
            }
            for (span, key, attrs) in &events {
                let e = res.events.entry(key, attrs, start_ns, now, 0, c.cardinality_limit);
                if exemplars(span) {
                    e.exemplar(span, duration(span, c.unit.divider()), c.max_exemplars);
                }
                e.count += 1;
            }
        }
    }

    fn name(&self, metric: &str) -> String {
        if self.config.namespace.is_empty() {
            metric.to_string()
        } else {
            format!("{}.{metric}", self.config.namespace)
        }
    }

    /// The metrics of every series now, then the reset the temporality calls for.
    pub fn flush(&mut self, now: Instant, wall: SystemTime) -> ExportMetricsServiceRequest {
        let ts = nanos(wall);
        let c = &self.config;
        let temporality = match c.temporality {
            Temporality::Cumulative => AggregationTemporality::Cumulative,
            Temporality::Delta => AggregationTemporality::Delta,
        } as i32;
        let mut flushed = Vec::new();
        let mut out = Vec::new();
        for (rkey, res) in self.resources.iter_by_age() {
            if res.calls.series.is_empty() {
                continue;
            }
            let mut start = |key: &Key, s: &Series| {
                if c.temporality == Temporality::Delta {
                    flushed.push((rkey.clone(), key.clone()));
                    self.delta_starts.get(&(rkey.clone(), key.clone())).copied().unwrap_or(s.start_ns)
                } else {
                    s.start_ns
                }
            };
            let mut exemplars = |s: &Series| s.exemplars.iter().map(|e| Exemplar { time_unix_nano: ts, ..e.clone() }).collect::<Vec<_>>();
            let sum = |set: &SeriesSet, start: &mut dyn FnMut(&Key, &Series) -> u64, exemplars: &mut dyn FnMut(&Series) -> Vec<Exemplar>| {
                metric::Data::Sum(Sum {
                    data_points: set
                        .series
                        .iter()
                        .map(|(k, s)| NumberDataPoint {
                            attributes: s.attributes.clone(),
                            start_time_unix_nano: start(k, s),
                            time_unix_nano: ts,
                            exemplars: exemplars(s),
                            value: Some(number_data_point::Value::AsInt(s.count as i64)),
                            ..Default::default()
                        })
                        .collect(),
                    aggregation_temporality: temporality,
                    is_monotonic: true,
                })
            };
            let mut metrics = vec![Metric { name: self.name("calls"), data: Some(sum(&res.calls, &mut start, &mut exemplars)), ..Default::default() }];
            if c.histogram {
                let data = if c.exponential.is_some() {
                    let data_points = res
                        .durations
                        .series
                        .iter()
                        .map(|(k, s)| ExponentialHistogramDataPoint {
                            attributes: s.attributes.clone(),
                            start_time_unix_nano: start(k, s),
                            time_unix_nano: ts,
                            exemplars: exemplars(s),
                            ..s.expo.as_ref().map(Expo::point).unwrap_or_default()
                        })
                        .collect();
                    metric::Data::ExponentialHistogram(ExponentialHistogram { data_points, aggregation_temporality: temporality })
                } else {
                    let data_points = res
                        .durations
                        .series
                        .iter()
                        .map(|(k, s)| HistogramDataPoint {
                            attributes: s.attributes.clone(),
                            start_time_unix_nano: start(k, s),
                            time_unix_nano: ts,
                            count: s.count,
                            sum: Some(s.sum),
                            bucket_counts: s.buckets.clone(),
                            explicit_bounds: c.bounds.clone(),
                            exemplars: exemplars(s),
                            ..Default::default()
                        })
                        .collect();
                    metric::Data::Histogram(Histogram { data_points, aggregation_temporality: temporality })
                };
                metrics.push(Metric { name: self.name("duration"), unit: c.unit.name().to_string(), data: Some(data), ..Default::default() });
            }
            if c.events {
                metrics.push(Metric { name: self.name("events"), data: Some(sum(&res.events, &mut start, &mut exemplars)), ..Default::default() });
            }
            out.push(ResourceMetrics {
                resource: Some(Resource { attributes: res.attributes.clone(), ..Default::default() }),
                scope_metrics: vec![ScopeMetrics {
                    scope: Some(InstrumentationScope { name: "spanmetricsconnector".into(), ..Default::default() }),
                    metrics,
                    ..Default::default()
                }],
                ..Default::default()
            });
        }
        for k in flushed {
            self.delta_starts.insert(k, ts);
        }
        self.reset(now);
        ExportMetricsServiceRequest { resource_metrics: out }
    }

    fn reset(&mut self, now: Instant) {
        let c = &self.config;
        if c.temporality == Temporality::Delta {
            self.resources.clear();
            return;
        }
        let (metrics_exp, series_exp) = (c.metrics_expiration, c.series_expiration);
        let stale = |seen: Instant, exp: std::time::Duration| !exp.is_zero() && now.duration_since(seen) >= exp;
        self.resources.retain(|_, r| !stale(r.last_seen, metrics_exp));
        for r in self.resources.values_mut() {
            for set in [&mut r.calls, &mut r.durations, &mut r.events] {
                // Exemplars belong to the spans since the last flush.
                set.series.retain(|_, s| !stale(s.last_seen, series_exp));
                for s in set.series.values_mut() {
                    s.exemplars.clear();
                }
            }
        }
    }
}

/// A span's duration in the histogram's unit; 0 when it ends before it starts.
fn duration(span: &Span, divider: f64) -> f64 {
    if span.end_time_unix_nano > span.start_time_unix_nano {
        (span.end_time_unix_nano - span.start_time_unix_nano) as f64 / divider
    } else {
        0.0
    }
}
