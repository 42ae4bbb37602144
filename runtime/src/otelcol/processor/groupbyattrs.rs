//! `otelcol.processor.groupbyattrs`: moves the record attributes named in `keys` to the
//! resource and regroups spans, log records and metric data points under resources (and
//! scopes) that are equal after the move. Without `keys` it only merges equal resources
//! and scopes (compaction).

use std::collections::HashMap;
use std::sync::Arc;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::logs::v1::{ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{metric, Metric, ResourceMetrics, ScopeMetrics};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans};
use prost::Message;

use crate::component::{Arguments, ComponentError, Context, Reader, Registration};
use crate::metrics::Counter;
use crate::otelcol::consumer::{ConsumeError, Output};
use crate::otelcol::pdata::{Payload, Signal};
use crate::otelcol::processor::rewrite::{self, invalid, ProcessorArgs, Transform};

const NAME: &str = "otelcol.processor.groupbyattrs";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["input"], rewrite::build::<Args>);

/// The component's arguments.
#[derive(Default)]
pub struct Args {
    keys: Vec<String>,
    output: Output,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&["debug_metrics"]);
        Args { keys: r.get("keys"), output: r.block_or_default("output") }
    }
}

/// A scope (with its schema URL) and its records.
type ScopeGroup<T> = (Option<InstrumentationScope>, String, Vec<T>);

/// Records grouped by resource, then scope, in order of first appearance.
struct Groups<T> {
    resources: Vec<(Resource, String, Vec<ScopeGroup<T>>)>,
    index: HashMap<Vec<u8>, usize>,
}

/// A key equal for equal attribute sets, whatever their order.
fn identity(attrs: &[KeyValue]) -> Vec<u8> {
    let mut sorted: Vec<&KeyValue> = attrs.iter().collect();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    sorted.iter().flat_map(|kv| kv.encode_length_delimited_to_vec()).collect()
}

impl<T> Groups<T> {
    fn new() -> Self {
        Groups { resources: Vec::new(), index: HashMap::new() }
    }

    /// The item list of the resource (with `moved` upserted) and scope an item belongs to.
    fn slot(
        &mut self,
        resource: Option<&Resource>,
        moved: Vec<KeyValue>,
        schema: &str,
        scope: &Option<InstrumentationScope>,
        scope_schema: &str,
    ) -> &mut Vec<T> {
        let mut res = resource.cloned().unwrap_or_default();
        for kv in moved {
            match res.attributes.iter_mut().find(|a| a.key == kv.key) {
                Some(a) => a.value = kv.value,
                None => res.attributes.push(kv),
            }
        }
        let key = identity(&res.attributes);
        let i = *self.index.entry(key).or_insert_with(|| {
            self.resources.push((res, schema.to_string(), Vec::new()));
            self.resources.len() - 1
        });
        let scopes = &mut self.resources[i].2;
        let j = match scopes.iter().position(|(s, sch, _)| s == scope && sch == scope_schema) {
            Some(j) => j,
            None => {
                scopes.push((scope.clone(), scope_schema.to_string(), Vec::new()));
                scopes.len() - 1
            }
        };
        &mut scopes[j].2
    }
}

struct Rules {
    keys: Vec<String>,
    grouped: HashMap<Signal, Counter>,
    non_grouped: HashMap<Signal, Counter>,
}

impl Rules {
    /// Removes the grouping attributes from a record's list and returns them.
    fn extract(&self, attrs: &mut Vec<KeyValue>) -> Vec<KeyValue> {
        if self.keys.is_empty() {
            return Vec::new();
        }
        let mut moved = Vec::new();
        attrs.retain(|kv| {
            let hit = self.keys.contains(&kv.key);
            if hit {
                moved.push(kv.clone());
            }
            !hit
        });
        // In `keys` order, as upstream adds them.
        moved.sort_by_key(|kv| self.keys.iter().position(|k| k == &kv.key));
        moved
    }

    fn count(&self, signal: Signal, moved: &[KeyValue]) {
        let c = if moved.is_empty() { &self.non_grouped } else { &self.grouped };
        if let Some(c) = c.get(&signal) {
            c.inc();
        }
    }

    fn traces(&self, req: ExportTraceServiceRequest) -> ExportTraceServiceRequest {
        let mut g = Groups::new();
        for rs in req.resource_spans {
            for ss in rs.scope_spans {
                for mut s in ss.spans {
                    let moved = self.extract(&mut s.attributes);
                    self.count(Signal::Traces, &moved);
                    g.slot(rs.resource.as_ref(), moved, &rs.schema_url, &ss.scope, &ss.schema_url).push(s);
                }
            }
        }
        let resource_spans = g
            .resources
            .into_iter()
            .map(|(resource, schema_url, scopes)| ResourceSpans {
                resource: Some(resource),
                schema_url,
                scope_spans: scopes.into_iter().map(|(scope, schema_url, spans)| ScopeSpans { scope, spans, schema_url }).collect(),
            })
            .collect();
        ExportTraceServiceRequest { resource_spans }
    }

    fn logs(&self, req: ExportLogsServiceRequest) -> ExportLogsServiceRequest {
        let mut g = Groups::new();
        for rl in req.resource_logs {
            for sl in rl.scope_logs {
                for mut l in sl.log_records {
                    let moved = self.extract(&mut l.attributes);
                    self.count(Signal::Logs, &moved);
                    g.slot(rl.resource.as_ref(), moved, &rl.schema_url, &sl.scope, &sl.schema_url).push(l);
                }
            }
        }
        let resource_logs = g
            .resources
            .into_iter()
            .map(|(resource, schema_url, scopes)| ResourceLogs {
                resource: Some(resource),
                schema_url,
                scope_logs: scopes.into_iter().map(|(scope, schema_url, log_records)| ScopeLogs { scope, log_records, schema_url }).collect(),
            })
            .collect();
        ExportLogsServiceRequest { resource_logs }
    }

    fn metrics(&self, req: ExportMetricsServiceRequest) -> ExportMetricsServiceRequest {
        let mut g: Groups<Metric> = Groups::new();
        for rm in req.resource_metrics {
            for sm in rm.scope_metrics {
                for m in sm.metrics {
                    for (moved, point) in self.split_points(m.clone()) {
                        self.count(Signal::Metrics, &moved);
                        let metrics = g.slot(rm.resource.as_ref(), moved, &rm.schema_url, &sm.scope, &sm.schema_url);
                        append_point(metrics, &m, point);
                    }
                }
            }
        }
        let resource_metrics = g
            .resources
            .into_iter()
            .map(|(resource, schema_url, scopes)| ResourceMetrics {
                resource: Some(resource),
                schema_url,
                scope_metrics: scopes.into_iter().map(|(scope, schema_url, metrics)| ScopeMetrics { scope, metrics, schema_url }).collect(),
            })
            .collect();
        ExportMetricsServiceRequest { resource_metrics }
    }

    /// Each data point of a metric as a one-point metric, with its grouping attributes.
    fn split_points(&self, m: Metric) -> Vec<(Vec<KeyValue>, metric::Data)> {
        use metric::Data as D;
        macro_rules! each {
            ($data:expr, $variant:ident, $field:ident) => {{
                let mut out = Vec::new();
                let mut template = $data;
                for mut p in std::mem::take(&mut template.$field) {
                    let moved = self.extract(&mut p.attributes);
                    let mut one = template.clone();
                    one.$field = vec![p];
                    out.push((moved, D::$variant(one)));
                }
                out
            }};
        }
        match m.data {
            Some(D::Gauge(g)) => each!(g, Gauge, data_points),
            Some(D::Sum(s)) => each!(s, Sum, data_points),
            Some(D::Histogram(h)) => each!(h, Histogram, data_points),
            Some(D::ExponentialHistogram(h)) => each!(h, ExponentialHistogram, data_points),
            Some(D::Summary(s)) => each!(s, Summary, data_points),
            None => Vec::new(),
        }
    }
}

/// Adds a one-point metric to the metric of the same identity in a scope, or as a new one.
fn append_point(metrics: &mut Vec<Metric>, like: &Metric, point: metric::Data) {
    use metric::Data as D;
    let same = |m: &Metric| {
        m.name == like.name
            && m.unit == like.unit
            && m.description == like.description
            && match (&m.data, &point) {
                (Some(D::Gauge(_)), D::Gauge(_)) | (Some(D::Summary(_)), D::Summary(_)) => true,
                (Some(D::Sum(a)), D::Sum(b)) => a.aggregation_temporality == b.aggregation_temporality && a.is_monotonic == b.is_monotonic,
                (Some(D::Histogram(a)), D::Histogram(b)) => a.aggregation_temporality == b.aggregation_temporality,
                (Some(D::ExponentialHistogram(a)), D::ExponentialHistogram(b)) => a.aggregation_temporality == b.aggregation_temporality,
                _ => false,
            }
    };
    let Some(existing) = metrics.iter_mut().find(|m| same(m)) else {
        metrics.push(Metric { data: Some(point), ..like.clone() });
        return;
    };
    match (&mut existing.data, point) {
        (Some(D::Gauge(a)), D::Gauge(b)) => a.data_points.extend(b.data_points),
        (Some(D::Sum(a)), D::Sum(b)) => a.data_points.extend(b.data_points),
        (Some(D::Histogram(a)), D::Histogram(b)) => a.data_points.extend(b.data_points),
        (Some(D::ExponentialHistogram(a)), D::ExponentialHistogram(b)) => a.data_points.extend(b.data_points),
        (Some(D::Summary(a)), D::Summary(b)) => a.data_points.extend(b.data_points),
        _ => {}
    }
}

impl Transform for Rules {
    fn process(&self, data: Payload) -> Result<Option<Payload>, ConsumeError> {
        let md = data.metadata().clone();
        let out = match data.signal() {
            Signal::Traces => Payload::from_traces(&self.traces(data.decode_traces().map_err(invalid)?)),
            Signal::Logs => Payload::from_logs(&self.logs(data.decode_logs().map_err(invalid)?)),
            Signal::Metrics => Payload::from_metrics(&self.metrics(data.decode_metrics().map_err(invalid)?)),
        };
        Ok(Some(out.with_metadata(md)))
    }
}

impl ProcessorArgs for Args {
    const NAME: &'static str = NAME;

    fn into_parts(self, ctx: &Context) -> Result<(Arc<dyn Transform>, Output), ComponentError> {
        let counters = |what: &str| {
            [(Signal::Traces, "spans"), (Signal::Logs, "logs"), (Signal::Metrics, "metrics")]
                .into_iter()
                .map(|(s, noun)| {
                    let name = format!("otelcol_processor_groupbyattrs_num_{what}_{noun}");
                    (s, ctx.counter(&name, &format!("Number of {noun} that had attributes {what}"), &[]))
                })
                .collect()
        };
        let rules = Rules { keys: self.keys, grouped: counters("grouped"), non_grouped: counters("non_grouped") };
        Ok((Arc::new(rules), self.output))
    }
}

#[cfg(test)]
mod tests;
