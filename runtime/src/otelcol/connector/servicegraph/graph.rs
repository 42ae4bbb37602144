//! The edge store and request series of `otelcol.connector.servicegraph`.
//!
//! An edge is keyed by trace ID and the client span's ID (a server span finds it through its
//! parent span ID). It is complete once both services are known, and then counted in its
//! series; an edge still incomplete after `ttl` expires, and may then count as a request from
//! or to a virtual node. The store holds at most `max_items` edges: when full, the oldest is
//! expired if its time is up, else the new span is dropped.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant, SystemTime};

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{
    metric, number_data_point, AggregationTemporality, Histogram, HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
};
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use opentelemetry_proto::tonic::trace::v1::Span;

use super::Config;
use crate::otelcol::connector::values::{as_string, get, string};

/// How long a series lives without a new request before `clean` drops it, as upstream.
const STALE_SERIES: Duration = Duration::from_secs(15 * 60);

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Connection {
    #[default]
    Unknown,
    MessagingSystem,
    Database,
    VirtualNode,
}

impl Connection {
    fn name(self) -> &'static str {
        match self {
            Connection::Unknown => "",
            Connection::MessagingSystem => "messaging_system",
            Connection::Database => "database",
            Connection::VirtualNode => "virtual_node",
        }
    }
}

type EdgeKey = (Vec<u8>, Vec<u8>);

#[derive(Clone, Debug, Default)]
struct Edge {
    connection: Connection,
    client: String,
    server: String,
    client_latency: f64,
    server_latency: f64,
    failed: bool,
    /// `client_<dimension>` / `server_<dimension>` → value.
    dimensions: BTreeMap<String, String>,
    /// The first virtual-node peer attribute the client span has.
    peer: BTreeMap<String, String>,
    /// Which side was made up when the edge expired (`virtual_node_extra_label`).
    virtual_node: &'static str,
    parent_is_empty: bool,
    expires: Option<Instant>,
    seq: u64,
}

impl Edge {
    fn complete(&self) -> bool {
        !self.client.is_empty() && !self.server.is_empty()
    }
}

#[derive(Clone, Debug)]
struct Latencies {
    count: u64,
    sum: f64,
    buckets: Vec<u64>,
}

impl Latencies {
    fn new(n: usize) -> Self {
        Latencies { count: 0, sum: 0.0, buckets: vec![0; n + 1] }
    }

    fn observe(&mut self, bounds: &[f64], v: f64) {
        let i = bounds.partition_point(|b| *b < v);
        if let Some(b) = self.buckets.get_mut(i) {
            *b += 1;
        }
        self.count += 1;
        self.sum += v;
    }
}

#[derive(Clone, Debug)]
struct Series {
    attributes: Vec<KeyValue>,
    last_updated: Instant,
    total: u64,
    failed: u64,
    server: Latencies,
    client: Latencies,
}

/// What a call did, for the self-metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub new_edges: u64,
    pub expired_edges: u64,
    pub dropped_spans: u64,
}

pub struct Graph {
    config: Config,
    start_ns: u64,
    edges: HashMap<EdgeKey, Edge>,
    /// Edge keys in insertion order with their sequence number; entries whose edge is gone
    /// (completed, or replaced by a newer edge of the same key) are skipped.
    order: VecDeque<(EdgeKey, u64)>,
    seq: u64,
    series: BTreeMap<Vec<u8>, Series>,
}

fn nanos(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

/// A span's duration in seconds (the unsigned difference, as upstream).
fn seconds(span: &Span) -> f64 {
    span.end_time_unix_nano.wrapping_sub(span.start_time_unix_nano) as f64 / 1e9
}

/// The first of `keys` found in the first of `maps` holding it, as text.
fn first_value(keys: &[String], maps: &[&[KeyValue]]) -> Option<String> {
    keys.iter().find_map(|k| maps.iter().find_map(|m| get(m, k)).map(as_string))
}

impl Graph {
    pub fn new(config: Config, start: SystemTime) -> Self {
        Graph { config, start_ns: nanos(start), edges: HashMap::new(), order: VecDeque::new(), seq: 0, series: BTreeMap::new() }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    fn dimensions(&self, side: &str, resource: &[KeyValue], span: &[KeyValue], out: &mut BTreeMap<String, String>) {
        for d in &self.config.dimensions {
            // The resource's value first, then the span's, as upstream looks them up.
            if let Some(v) = get(resource, d).or_else(|| get(span, d)) {
                out.insert(format!("{side}_{d}"), as_string(v));
            }
        }
    }

    /// Pairs the client and server spans of a request. Resources without `service.name`
    /// are skipped.
    pub fn add(&mut self, req: &ExportTraceServiceRequest, now: Instant) -> Stats {
        let mut stats = Stats::default();
        for rs in &req.resource_spans {
            let res: &[KeyValue] = rs.resource.as_ref().map_or(&[], |r| &r.attributes);
            let Some(service) = get(res, "service.name") else { continue };
            let service = match &service.value {
                Some(any_value::Value::StringValue(s)) => s.clone(),
                _ => String::new(),
            };
            for span in rs.scope_spans.iter().flat_map(|ss| ss.spans.iter()) {
                let failed = span.status.as_ref().is_some_and(|s| s.code == StatusCode::Error as i32);
                let kind = SpanKind::try_from(span.kind).unwrap_or(SpanKind::Unspecified);
                let (client_side, connection) = match kind {
                    SpanKind::Producer => (true, Connection::MessagingSystem),
                    SpanKind::Client => (true, Connection::Unknown),
                    SpanKind::Consumer => (false, Connection::MessagingSystem),
                    SpanKind::Server => (false, Connection::Unknown),
                    _ => continue,
                };
                let mut dims = BTreeMap::new();
                let (key, side) = if client_side {
                    self.dimensions("client", res, &span.attributes, &mut dims);
                    ((span.trace_id.clone(), span.span_id.clone()), "client")
                } else {
                    self.dimensions("server", res, &span.attributes, &mut dims);
                    ((span.trace_id.clone(), span.parent_span_id.clone()), "server")
                };
                let peer = if client_side {
                    self.config.peer_attributes.iter().find_map(|a| get(&span.attributes, a).map(|v| (a.clone(), as_string(v))))
                } else {
                    None
                };
                let database = if client_side { first_value(&self.config.database_name_attributes, &[res, &span.attributes]) } else { None };
                let latency = seconds(span);
                let update = |e: &mut Edge| {
                    e.connection = connection;
                    e.failed |= failed;
                    e.dimensions.extend(dims);
                    if side == "client" {
                        e.client = service.clone();
                        e.client_latency = latency;
                        if let Some((k, v)) = peer {
                            e.peer.insert(k, v);
                        }
                        // A database call has no server span: the client span is the edge.
                        if let Some(db) = database {
                            e.connection = Connection::Database;
                            e.server = db;
                            e.server_latency = latency;
                        }
                    } else {
                        e.server = service.clone();
                        e.server_latency = latency;
                    }
                };
                self.upsert(key, update, now, &mut stats);
            }
        }
        stats
    }

    fn upsert(&mut self, key: EdgeKey, update: impl FnOnce(&mut Edge), now: Instant, stats: &mut Stats) {
        if let Some(e) = self.edges.get_mut(&key) {
            update(e);
            if e.complete() {
                if let Some(e) = self.edges.remove(&key) {
                    self.record(&e, now);
                }
            }
            return;
        }
        let mut e = Edge { parent_is_empty: key.1.iter().all(|b| *b == 0), ..Default::default() };
        update(&mut e);
        stats.new_edges += 1;
        if e.complete() {
            self.record(&e, now);
            return;
        }
        if self.edges.len() >= self.config.max_items && !self.expire_oldest(now, stats) {
            stats.new_edges -= 1;
            stats.dropped_spans += 1;
            return;
        }
        self.seq += 1;
        e.seq = self.seq;
        e.expires = Some(now + self.config.ttl);
        self.order.push_back((key.clone(), self.seq));
        self.edges.insert(key, e);
    }

    /// Expires the oldest edge if its time is up; false when it is not (or there is none).
    fn expire_oldest(&mut self, now: Instant, stats: &mut Stats) -> bool {
        while let Some((key, seq)) = self.order.front().cloned() {
            let Some(edge) = self.edges.get(&key).filter(|e| e.seq == seq) else {
                self.order.pop_front();
                continue;
            };
            if edge.expires.is_some_and(|t| now <= t) {
                return false;
            }
            self.order.pop_front();
            if let Some(e) = self.edges.remove(&key) {
                stats.expired_edges += 1;
                self.on_expire(e, now);
            }
            return true;
        }
        false
    }

    /// Expires every edge whose time is up.
    pub fn expire(&mut self, now: Instant) -> Stats {
        let mut stats = Stats::default();
        while self.expire_oldest(now, &mut stats) {}
        stats
    }

    /// An unpaired edge is a request from a user (a root server span) or to a service
    /// named by the client's peer attributes (`unknown` when it has none).
    fn on_expire(&mut self, mut e: Edge, now: Instant) {
        if self.config.peer_attributes.is_empty() {
            return;
        }
        e.connection = Connection::VirtualNode;
        if e.client.is_empty() && e.parent_is_empty {
            e.client = "user".into();
            e.virtual_node = "client";
            self.record(&e, now);
        }
        if e.server.is_empty() {
            e.server = self.config.peer_attributes.iter().find_map(|a| e.peer.get(a).cloned()).unwrap_or_else(|| "unknown".into());
            e.virtual_node = "server";
            self.record(&e, now);
        }
    }

    fn record(&mut self, e: &Edge, now: Instant) {
        let mut attributes = vec![
            KeyValue { key: "client".into(), value: Some(string(e.client.clone())), ..Default::default() },
            KeyValue { key: "server".into(), value: Some(string(e.server.clone())), ..Default::default() },
            KeyValue { key: "connection_type".into(), value: Some(string(e.connection.name())), ..Default::default() },
            KeyValue { key: "failed".into(), value: Some(AnyValue { value: Some(any_value::Value::BoolValue(e.failed)) }), ..Default::default() },
        ];
        attributes.extend(e.dimensions.iter().map(|(k, v)| KeyValue { key: k.clone(), value: Some(string(v.clone())), ..Default::default() }));
        if self.config.virtual_node_extra_label {
            attributes.push(KeyValue { key: "virtual_node".into(), value: Some(string(e.virtual_node)), ..Default::default() });
        }
        let mut key = Vec::new();
        for kv in &attributes {
            let _ = prost::Message::encode_length_delimited(kv, &mut key);
        }
        let n = self.config.bounds.len();
        let s = self.series.entry(key).or_insert_with(|| Series {
            attributes: Vec::new(),
            last_updated: now,
            total: 0,
            failed: 0,
            server: Latencies::new(n),
            client: Latencies::new(n),
        });
        s.attributes = attributes;
        s.last_updated = now;
        s.total += 1;
        if e.failed {
            s.failed += 1;
        }
        s.server.observe(&self.config.bounds, e.server_latency);
        s.client.observe(&self.config.bounds, e.client_latency);
    }

    /// Drops series without a request for 15 minutes.
    pub fn clean(&mut self, now: Instant) {
        self.series.retain(|_, s| now.duration_since(s.last_updated) < STALE_SERIES);
    }

    /// The cumulative series as one resource's metrics (none when there are no series).
    pub fn metrics(&self, now: SystemTime) -> ExportMetricsServiceRequest {
        if self.series.is_empty() {
            return ExportMetricsServiceRequest::default();
        }
        let ts = nanos(now);
        let cumulative = AggregationTemporality::Cumulative as i32;
        let sum = |name: &str, value: &dyn Fn(&Series) -> u64| {
            let data_points: Vec<NumberDataPoint> = self
                .series
                .values()
                .filter(|s| value(s) > 0)
                .map(|s| NumberDataPoint {
                    attributes: s.attributes.clone(),
                    start_time_unix_nano: self.start_ns,
                    time_unix_nano: ts,
                    value: Some(number_data_point::Value::AsInt(value(s) as i64)),
                    ..Default::default()
                })
                .collect();
            (!data_points.is_empty()).then(|| Metric {
                name: name.into(),
                data: Some(metric::Data::Sum(Sum { data_points, aggregation_temporality: cumulative, is_monotonic: true })),
                ..Default::default()
            })
        };
        let histogram = |name: &str, side: &dyn Fn(&Series) -> &Latencies| Metric {
            name: name.into(),
            unit: "s".into(),
            data: Some(metric::Data::Histogram(Histogram {
                data_points: self
                    .series
                    .values()
                    .map(|s| HistogramDataPoint {
                        attributes: s.attributes.clone(),
                        start_time_unix_nano: self.start_ns,
                        time_unix_nano: ts,
                        count: side(s).count,
                        sum: Some(side(s).sum),
                        bucket_counts: side(s).buckets.clone(),
                        explicit_bounds: self.config.bounds.clone(),
                        ..Default::default()
                    })
                    .collect(),
                aggregation_temporality: cumulative,
            })),
            ..Default::default()
        };
        let mut metrics: Vec<Metric> =
            [sum("traces_service_graph_request_total", &|s| s.total), sum("traces_service_graph_request_failed_total", &|s| s.failed)]
                .into_iter()
                .flatten()
                .collect();
        metrics.push(histogram("traces_service_graph_request_server", &|s| &s.server));
        metrics.push(histogram("traces_service_graph_request_client", &|s| &s.client));
        ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                scope_metrics: vec![ScopeMetrics {
                    scope: Some(InstrumentationScope { name: "traces_service_graph".into(), ..Default::default() }),
                    metrics,
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    #[cfg(test)]
    pub fn edges(&self) -> usize {
        self.edges.len()
    }
}
