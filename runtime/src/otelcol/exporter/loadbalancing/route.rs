//! Splitting a request into one request per backend by routing key. Resources and scopes are
//! copied into each part that has items of theirs, so every part is a complete request.

use std::collections::BTreeMap;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, KeyValue};
use opentelemetry_proto::tonic::logs::v1::{ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{ResourceMetrics, ScopeMetrics};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans};

/// What the ring is asked about (`routing_key`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RoutingKey {
    #[default]
    TraceId,
    Service,
    Resource,
    Metric,
}

impl RoutingKey {
    pub fn parse(s: &str) -> Result<RoutingKey, String> {
        match s {
            "traceID" => Ok(RoutingKey::TraceId),
            "service" => Ok(RoutingKey::Service),
            "resource" => Ok(RoutingKey::Resource),
            "metric" => Ok(RoutingKey::Metric),
            "streamID" => Err("routing_key \"streamID\" is not supported by this runtime yet: use \"service\", \"resource\" or \"metric\"".into()),
            other => Err(format!("unsupported routing_key: {other:?}: expected \"traceID\", \"service\", \"resource\" or \"metric\"")),
        }
    }

    fn name(self) -> &'static str {
        match self {
            RoutingKey::TraceId => "traceID",
            RoutingKey::Service => "service",
            RoutingKey::Resource => "resource",
            RoutingKey::Metric => "metric",
        }
    }
}

/// Items that could not be routed, and why (logged and counted by the caller).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Unrouted {
    pub items: usize,
    pub reason: Option<String>,
}

impl Unrouted {
    fn add(&mut self, items: usize, reason: impl Into<String>) {
        self.items += items;
        self.reason.get_or_insert_with(|| reason.into());
    }
}

fn service_name(resource: Option<&Resource>) -> Option<&str> {
    let kv = resource?.attributes.iter().find(|kv| kv.key == "service.name")?;
    match kv.value.as_ref()?.value.as_ref()? {
        any_value::Value::StringValue(s) => Some(s),
        _ => None,
    }
}

/// A resource's identity: its attributes, sorted, in a stable text form.
fn resource_identity(resource: Option<&Resource>) -> Vec<u8> {
    let mut attrs: Vec<&KeyValue> = resource.map(|r| r.attributes.iter().collect()).unwrap_or_default();
    attrs.sort_by(|a, b| a.key.cmp(&b.key));
    let mut out = Vec::new();
    for kv in attrs {
        out.extend_from_slice(kv.key.as_bytes());
        out.push(b'=');
        out.extend_from_slice(format!("{:?}", kv.value).as_bytes());
        out.push(0);
    }
    out
}

/// The key of a whole resource, for the keys that do not look inside it.
fn resource_key(key: RoutingKey, resource: Option<&Resource>) -> Result<Option<Vec<u8>>, &'static str> {
    match key {
        RoutingKey::Service => service_name(resource).map(|s| Some(s.as_bytes().to_vec())).ok_or("unable to get service name"),
        RoutingKey::Resource => Ok(Some(resource_identity(resource))),
        RoutingKey::TraceId | RoutingKey::Metric => Ok(None),
    }
}

/// Traces by `key` (trace ID or service); `backend` maps a key to a backend index.
pub fn traces(req: ExportTraceServiceRequest, key: RoutingKey, backend: &dyn Fn(&[u8]) -> usize) -> (BTreeMap<usize, ExportTraceServiceRequest>, Unrouted) {
    let mut parts: BTreeMap<usize, ExportTraceServiceRequest> = BTreeMap::new();
    let mut unrouted = Unrouted::default();
    if !matches!(key, RoutingKey::TraceId | RoutingKey::Service) {
        let n = req.resource_spans.iter().flat_map(|r| &r.scope_spans).map(|s| s.spans.len()).sum();
        unrouted.add(n, format!("unsupported routing_key {:?} for traces: use \"traceID\" or \"service\"", key.name()));
        return (parts, unrouted);
    }
    for rs in req.resource_spans {
        let whole = match resource_key(key, rs.resource.as_ref()) {
            Ok(k) => k.map(|k| backend(&k)),
            Err(e) => {
                unrouted.add(rs.scope_spans.iter().map(|s| s.spans.len()).sum(), e);
                continue;
            }
        };
        let mut per: BTreeMap<usize, ResourceSpans> = BTreeMap::new();
        for ss in rs.scope_spans {
            let mut scoped: BTreeMap<usize, ScopeSpans> = BTreeMap::new();
            for span in ss.spans {
                let b = whole.unwrap_or_else(|| backend(&span.trace_id));
                scoped
                    .entry(b)
                    .or_insert_with(|| ScopeSpans { scope: ss.scope.clone(), spans: Vec::new(), schema_url: ss.schema_url.clone() })
                    .spans
                    .push(span);
            }
            for (b, part) in scoped {
                per.entry(b)
                    .or_insert_with(|| ResourceSpans { resource: rs.resource.clone(), scope_spans: Vec::new(), schema_url: rs.schema_url.clone() })
                    .scope_spans
                    .push(part);
            }
        }
        for (b, part) in per {
            parts.entry(b).or_default().resource_spans.push(part);
        }
    }
    (parts, unrouted)
}

/// Logs by trace ID (records without one spread by `fallback`) or service.
pub fn logs(
    req: ExportLogsServiceRequest,
    key: RoutingKey,
    backend: &dyn Fn(&[u8]) -> usize,
    fallback: &mut dyn FnMut() -> usize,
) -> (BTreeMap<usize, ExportLogsServiceRequest>, Unrouted) {
    let mut parts: BTreeMap<usize, ExportLogsServiceRequest> = BTreeMap::new();
    let mut unrouted = Unrouted::default();
    if !matches!(key, RoutingKey::TraceId | RoutingKey::Service) {
        let n = req.resource_logs.iter().flat_map(|r| &r.scope_logs).map(|s| s.log_records.len()).sum();
        unrouted.add(n, format!("unsupported routing_key {:?} for logs: use \"traceID\" or \"service\"", key.name()));
        return (parts, unrouted);
    }
    for rl in req.resource_logs {
        let whole = match resource_key(key, rl.resource.as_ref()) {
            Ok(k) => k.map(|k| backend(&k)),
            Err(e) => {
                unrouted.add(rl.scope_logs.iter().map(|s| s.log_records.len()).sum(), e);
                continue;
            }
        };
        let mut per: BTreeMap<usize, ResourceLogs> = BTreeMap::new();
        for sl in rl.scope_logs {
            let mut scoped: BTreeMap<usize, ScopeLogs> = BTreeMap::new();
            for record in sl.log_records {
                let b = match whole {
                    Some(b) => b,
                    None if record.trace_id.iter().any(|&x| x != 0) => backend(&record.trace_id),
                    None => fallback(),
                };
                scoped
                    .entry(b)
                    .or_insert_with(|| ScopeLogs { scope: sl.scope.clone(), log_records: Vec::new(), schema_url: sl.schema_url.clone() })
                    .log_records
                    .push(record);
            }
            for (b, part) in scoped {
                per.entry(b)
                    .or_insert_with(|| ResourceLogs { resource: rl.resource.clone(), scope_logs: Vec::new(), schema_url: rl.schema_url.clone() })
                    .scope_logs
                    .push(part);
            }
        }
        for (b, part) in per {
            parts.entry(b).or_default().resource_logs.push(part);
        }
    }
    (parts, unrouted)
}

/// Metrics by service, resource or metric name (a trace ID means nothing to a metric).
pub fn metrics(
    req: ExportMetricsServiceRequest,
    key: RoutingKey,
    backend: &dyn Fn(&[u8]) -> usize,
) -> (BTreeMap<usize, ExportMetricsServiceRequest>, Unrouted) {
    let mut parts: BTreeMap<usize, ExportMetricsServiceRequest> = BTreeMap::new();
    let mut unrouted = Unrouted::default();
    if key == RoutingKey::TraceId {
        let n = crate::otelcol::pdata::Payload::from_metrics(&req).items();
        unrouted.add(n, "unsupported routing_key \"traceID\" for metrics: use \"service\", \"resource\" or \"metric\"");
        return (parts, unrouted);
    }
    for rm in req.resource_metrics {
        let whole = match resource_key(key, rm.resource.as_ref()) {
            Ok(k) => k.map(|k| backend(&k)),
            Err(e) => {
                let items = crate::otelcol::pdata::Payload::from_metrics(&ExportMetricsServiceRequest { resource_metrics: vec![rm] }).items();
                unrouted.add(items, e);
                continue;
            }
        };
        let mut per: BTreeMap<usize, ResourceMetrics> = BTreeMap::new();
        for sm in rm.scope_metrics {
            let mut scoped: BTreeMap<usize, ScopeMetrics> = BTreeMap::new();
            for metric in sm.metrics {
                let b = whole.unwrap_or_else(|| backend(metric.name.as_bytes()));
                scoped
                    .entry(b)
                    .or_insert_with(|| ScopeMetrics { scope: sm.scope.clone(), metrics: Vec::new(), schema_url: sm.schema_url.clone() })
                    .metrics
                    .push(metric);
            }
            for (b, part) in scoped {
                per.entry(b)
                    .or_insert_with(|| ResourceMetrics { resource: rm.resource.clone(), scope_metrics: Vec::new(), schema_url: rm.schema_url.clone() })
                    .scope_metrics
                    .push(part);
            }
        }
        for (b, part) in per {
            parts.entry(b).or_default().resource_metrics.push(part);
        }
    }
    (parts, unrouted)
}
