//! A Prometheus batch as one OTLP metrics request, as the collector's Prometheus receiver
//! builds one per commit: a resource per (job, instance) with `target_info`'s labels as
//! attributes, a scope per `otel_scope_name`/`otel_scope_version` (else the receiver's own),
//! metric families by their metadata type (counter → monotonic cumulative sum, gauge and
//! unknown → gauge, histogram series → one histogram point, summary series → one summary
//! point, native histograms → exponential histograms), exemplars on their points, stale
//! markers as "no recorded value", and start times from `_created` series.

use std::collections::HashMap;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{
    metric, AggregationTemporality, ExponentialHistogram, Gauge, Histogram, Metric, ResourceMetrics, ScopeMetrics, Sum, Summary,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prom::sample::{Batch, Metadata, MetricType};
use prom::Labels;

use super::points::{exemplar_of, histogram_point, native_point, number_point, string_kv, summary_point, Point};
use super::resource;
use super::units::unit_to_ucum;

/// The scope of series without `otel_scope_name`.
pub const RECEIVER_SCOPE: &str = "otelcol/prometheusreceiver";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssembleError {
    #[error("job or instance cannot be found from labels")]
    NoJobInstance,
    #[error("metricName not found from labels")]
    NoMetricName,
}

/// Series the scraper adds: always gauges.
const INTERNAL: &[&str] = &[
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_series_added",
    "scrape_samples_post_metric_relabeling",
    "scrape_timeout_seconds",
    "scrape_sample_limit",
    "scrape_body_size_bytes",
];
/// Labels that never become attributes.
const NOT_ATTRIBUTES: &[&str] = &["__name__", "job", "instance", "__scheme__", "__metrics_path__", "otel_scope_name", "otel_scope_version"];
const SUFFIXES: &[&str] = &["_bucket", "_count", "_sum", "_total", "_created", "_gcount", "_gsum"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Gauge,
    Counter,
    Histogram,
    Summary,
    Native,
}

/// What a series contributes to its point.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Role {
    Value,
    Bucket(f64),
    Quantile(f64),
    Sum,
    Count,
    Created,
}

struct MetricOut {
    name: String,
    kind: Kind,
    help: String,
    unit: String,
    points: Vec<Point>,
    index: HashMap<Vec<(String, String)>, usize>,
}

#[derive(Default)]
struct ScopeOut {
    name: String,
    version: String,
    attrs: Vec<(String, String)>,
    metrics: Vec<MetricOut>,
    index: HashMap<(String, &'static str), usize>,
}

#[derive(Default)]
struct ResourceOut {
    job: String,
    instance: String,
    scheme: String,
    attrs: Vec<(String, String)>,
    scopes: Vec<ScopeOut>,
    index: HashMap<(String, String), usize>,
}

/// Where a series goes.
struct Route {
    job: String,
    instance: String,
    scope: (String, String),
    metric: String,
    kind: Kind,
    role: Role,
    attrs: Vec<(String, String)>,
}

/// Keeps what outlives a batch: the metadata seen so far and the start times.
#[derive(Default)]
pub struct Assembler {
    metadata: HashMap<String, Metadata>,
}

fn parse_float(s: &str) -> Option<f64> {
    match s {
        "+Inf" | "Inf" | "+inf" | "inf" => Some(f64::INFINITY),
        "-Inf" | "-inf" => Some(f64::NEG_INFINITY),
        _ => s.parse().ok(),
    }
}

impl Assembler {
    /// Remembers the batch's metadata by family name.
    fn learn(&mut self, batch: &Batch) {
        for m in &batch.metadata {
            let family =
                if m.metadata.metric_family.is_empty() { m.labels.metric_name().unwrap_or_default().to_string() } else { m.metadata.metric_family.clone() };
            self.metadata.insert(family, (*m.metadata).clone());
        }
    }

    /// The family, kind and output name of a series name.
    fn family(&self, name: &str) -> (String, Kind, String) {
        let kind_of = |t: MetricType| match t {
            MetricType::Counter => Kind::Counter,
            MetricType::Histogram | MetricType::GaugeHistogram => Kind::Histogram,
            MetricType::Summary => Kind::Summary,
            _ => Kind::Gauge,
        };
        if INTERNAL.contains(&name) {
            return (name.into(), Kind::Gauge, name.into());
        }
        if let Some(md) = self.metadata.get(name) {
            return (name.into(), kind_of(md.metric_type), name.into());
        }
        for suffix in SUFFIXES {
            if let Some(base) = name.strip_suffix(suffix) {
                if let Some(md) = self.metadata.get(base) {
                    let kind = kind_of(md.metric_type);
                    // Counters keep the name they were received with (`_total` included).
                    let out = if kind == Kind::Counter && *suffix != "_created" { name } else { base };
                    return (base.into(), kind, out.into());
                }
            }
        }
        (name.into(), Kind::Gauge, name.into())
    }

    fn route(&self, labels: &Labels) -> Result<Route, AssembleError> {
        let (job, instance) = match (labels.get("job"), labels.get("instance")) {
            (Some(j), Some(i)) if !j.is_empty() && !i.is_empty() => (j.to_string(), i.to_string()),
            _ => return Err(AssembleError::NoJobInstance),
        };
        let name = labels.metric_name().filter(|n| !n.is_empty()).ok_or(AssembleError::NoMetricName)?;
        let (_, kind, mut metric) = self.family(name);
        let role = match kind {
            Kind::Histogram if name.ends_with("_bucket") => labels.get("le").and_then(parse_float).map_or(Role::Value, Role::Bucket),
            Kind::Summary if labels.get("quantile").is_some() => labels.get("quantile").and_then(parse_float).map_or(Role::Value, Role::Quantile),
            Kind::Histogram | Kind::Summary if name.ends_with("_sum") => Role::Sum,
            Kind::Histogram | Kind::Summary if name.ends_with("_count") => Role::Count,
            Kind::Histogram | Kind::Summary | Kind::Counter if name.ends_with("_created") => Role::Created,
            _ => Role::Value,
        };
        // A counter's `_created` belongs to the counter's point, named as the counter.
        if kind == Kind::Counter && role == Role::Created {
            metric = format!("{}_total", name.trim_end_matches("_created"));
        }
        let skip = |k: &str| NOT_ATTRIBUTES.contains(&k) || (kind == Kind::Histogram && k == "le") || (kind == Kind::Summary && k == "quantile");
        let attrs = labels.iter().filter(|(k, v)| !skip(k) && !v.is_empty()).map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let scope = match labels.get("otel_scope_name") {
            Some(n) if !n.is_empty() => (n.to_string(), labels.get("otel_scope_version").unwrap_or_default().to_string()),
            _ => (RECEIVER_SCOPE.to_string(), env!("CARGO_PKG_VERSION").to_string()),
        };
        Ok(Route { job, instance, scope, metric, kind, role, attrs })
    }

    /// The request for one batch (no resource when nothing converts), or why the batch is
    /// refused.
    pub fn assemble(&mut self, batch: &Batch) -> Result<ExportMetricsServiceRequest, AssembleError> {
        self.learn(batch);
        let mut out = Output::default();
        for s in &batch.samples {
            let name = s.labels.metric_name().unwrap_or_default();
            if name == "target_info" || name == "otel_scope_info" {
                out.info(self.route(&s.labels)?, name == "target_info", &s.labels);
                continue;
            }
            let route = self.route(&s.labels)?;
            let help = self.metadata.get(&self.family(name).0).cloned().unwrap_or_default();
            let point = out.point(&route, &help, s.labels.get("__scheme__"));
            point.t_ms = point.t_ms.max(s.t);
            match route.role {
                Role::Value => point.value = Some(s.v),
                Role::Bucket(le) => point.buckets.push((le, s.v)),
                Role::Quantile(q) => point.quantiles.push((q, s.v)),
                Role::Sum => point.sum = Some(s.v),
                Role::Count => point.count = Some(s.v),
                Role::Created => point.created = Some(s.v),
            }
        }
        for h in &batch.histograms {
            let mut route = self.route(&h.labels)?;
            route.kind = Kind::Native;
            route.metric = h.labels.metric_name().unwrap_or_default().to_string();
            let help = self.metadata.get(&route.metric).cloned().unwrap_or_default();
            let point = out.point(&route, &help, h.labels.get("__scheme__"));
            point.t_ms = h.t;
            point.native = Some(h.histogram.clone());
        }
        for e in &batch.exemplars {
            let Ok(mut route) = self.route(&e.labels) else { continue };
            if out.existing(&route).is_none() {
                // An exemplar of a native histogram.
                route.kind = Kind::Native;
                route.metric = e.labels.metric_name().unwrap_or_default().to_string();
            }
            if let Some(point) = out.existing(&route) {
                point.exemplars.push(exemplar_of(&e.exemplar));
            }
        }
        Ok(self.finish(out))
    }

    fn finish(&self, out: Output) -> ExportMetricsServiceRequest {
        let mut request = ExportMetricsServiceRequest::default();
        for r in out.resources {
            let mut attributes: Vec<KeyValue> = resource::attributes(&r.job, &r.instance, &r.scheme).iter().map(|(k, v)| string_kv(k, v)).collect();
            attributes.extend(r.attrs.iter().map(|(k, v)| string_kv(k, v)));
            let mut scope_metrics = Vec::new();
            for s in r.scopes {
                let metrics = s.metrics.into_iter().map(metric_of).collect();
                let scope = InstrumentationScope {
                    name: s.name,
                    version: s.version,
                    attributes: s.attrs.iter().map(|(k, v)| string_kv(k, v)).collect(),
                    ..Default::default()
                };
                scope_metrics.push(ScopeMetrics { scope: Some(scope), metrics, ..Default::default() });
            }
            request.resource_metrics.push(ResourceMetrics {
                resource: Some(Resource { attributes, ..Default::default() }),
                scope_metrics,
                ..Default::default()
            });
        }
        request
    }
}

/// One metric of the request, its points built by kind.
fn metric_of(m: MetricOut) -> Metric {
    let cumulative = AggregationTemporality::Cumulative as i32;
    let data = match m.kind {
        Kind::Gauge | Kind::Counter => {
            let counter = m.kind == Kind::Counter;
            let data_points = m.points.into_iter().map(|p| number_point(p, counter)).collect();
            if counter {
                metric::Data::Sum(Sum { data_points, aggregation_temporality: cumulative, is_monotonic: true })
            } else {
                metric::Data::Gauge(Gauge { data_points })
            }
        }
        Kind::Histogram => {
            metric::Data::Histogram(Histogram { data_points: m.points.into_iter().filter_map(histogram_point).collect(), aggregation_temporality: cumulative })
        }
        Kind::Summary => metric::Data::Summary(Summary { data_points: m.points.into_iter().filter_map(summary_point).collect() }),
        Kind::Native => metric::Data::ExponentialHistogram(ExponentialHistogram {
            data_points: m.points.into_iter().filter_map(native_point).collect(),
            aggregation_temporality: cumulative,
        }),
    };
    Metric { name: m.name, description: m.help, unit: m.unit, data: Some(data), ..Default::default() }
}

/// The request under construction, in first-seen order.
#[derive(Default)]
struct Output {
    resources: Vec<ResourceOut>,
    index: HashMap<(String, String), usize>,
}

impl Output {
    fn resource(&mut self, job: &str, instance: &str) -> &mut ResourceOut {
        let key = (job.to_string(), instance.to_string());
        let i = *self.index.entry(key).or_insert_with(|| {
            self.resources.push(ResourceOut { job: job.into(), instance: instance.into(), ..Default::default() });
            self.resources.len() - 1
        });
        &mut self.resources[i]
    }

    /// `target_info` labels go to the resource, `otel_scope_info` labels to the scope.
    fn info(&mut self, route: Route, target: bool, labels: &Labels) {
        let r = self.resource(&route.job, &route.instance);
        if target {
            r.attrs.extend(route.attrs);
            return;
        }
        if labels.get("otel_scope_name").is_some() {
            let s = scope(r, &route.scope);
            s.attrs.extend(route.attrs);
        }
    }

    fn point(&mut self, route: &Route, md: &Metadata, scheme: Option<&str>) -> &mut Point {
        let r = self.resource(&route.job, &route.instance);
        if let Some(s) = scheme {
            r.scheme = s.to_string();
        }
        let s = scope(r, &route.scope);
        let mkey = (route.metric.clone(), kind_name(route.kind));
        let mi = *s.index.entry(mkey).or_insert_with(|| {
            let unit = if md.unit.is_empty() { String::new() } else { unit_to_ucum(&md.unit) };
            s.metrics.push(MetricOut { name: route.metric.clone(), kind: route.kind, help: md.help.clone(), unit, points: Vec::new(), index: HashMap::new() });
            s.metrics.len() - 1
        });
        let m = &mut s.metrics[mi];
        let pi = *m.index.entry(route.attrs.clone()).or_insert_with(|| {
            m.points.push(Point { attrs: route.attrs.clone(), ..Default::default() });
            m.points.len() - 1
        });
        &mut m.points[pi]
    }

    fn existing(&mut self, route: &Route) -> Option<&mut Point> {
        let r = &mut self.resources[*self.index.get(&(route.job.clone(), route.instance.clone()))?];
        let s = &mut r.scopes[*r.index.get(&route.scope)?];
        let m = &mut s.metrics[*s.index.get(&(route.metric.clone(), kind_name(route.kind)))?];
        let i = *m.index.get(&route.attrs)?;
        Some(&mut m.points[i])
    }
}

fn scope<'a>(r: &'a mut ResourceOut, key: &(String, String)) -> &'a mut ScopeOut {
    let i = *r.index.entry(key.clone()).or_insert_with(|| {
        r.scopes.push(ScopeOut { name: key.0.clone(), version: key.1.clone(), ..Default::default() });
        r.scopes.len() - 1
    });
    &mut r.scopes[i]
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Gauge => "gauge",
        Kind::Counter => "counter",
        Kind::Histogram => "histogram",
        Kind::Summary => "summary",
        Kind::Native => "native",
    }
}
