use std::time::{Duration, Instant, SystemTime};

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::{metric, number_data_point, HistogramDataPoint, Metric};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};

use super::*;
use crate::otelcol::connector::values::as_string;
use crate::otelcol::consumer::tests::sink_handle;
use crate::otelcol::pdata::tests::kv;
use eval::Object;

fn config() -> Config {
    let mut args = Object::new();
    args.insert("output", Value::object(Object::new()));
    decode_checked::<Args>(NAME, &analyzer::args::with_defaults(NAME, &Value::object(args))).expect("defaults").config
}

fn span(kind: SpanKind, trace: u8, id: u8, parent: u8, ms: u64) -> Span {
    Span {
        name: "op".into(),
        kind: kind as i32,
        trace_id: vec![trace; 16],
        span_id: vec![id; 8],
        parent_span_id: if parent == 0 { Vec::new() } else { vec![parent; 8] },
        start_time_unix_nano: 1_000_000_000,
        end_time_unix_nano: 1_000_000_000 + ms * 1_000_000,
        ..Default::default()
    }
}

fn request(service: &str, extra: Vec<KeyValue>, spans: Vec<Span>) -> ExportTraceServiceRequest {
    let mut attrs = vec![kv("service.name", service)];
    attrs.extend(extra);
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource { attributes: attrs, ..Default::default() }),
            scope_spans: vec![ScopeSpans { spans, ..Default::default() }],
            ..Default::default()
        }],
    }
}

fn metric<'a>(req: &'a ExportMetricsServiceRequest, name: &str) -> Option<&'a Metric> {
    req.resource_metrics.iter().flat_map(|rm| rm.scope_metrics.iter()).flat_map(|sm| sm.metrics.iter()).find(|m| m.name == name)
}

fn attrs(a: &[KeyValue]) -> Vec<(String, String)> {
    a.iter().map(|kv| (kv.key.clone(), kv.value.as_ref().map(as_string).unwrap_or_default())).collect()
}

/// (attributes, value) of each point of a sum.
fn sums(m: &Metric) -> Vec<(Vec<(String, String)>, i64)> {
    let Some(metric::Data::Sum(s)) = &m.data else { panic!("not a sum") };
    s.data_points
        .iter()
        .map(|p| {
            let Some(number_data_point::Value::AsInt(v)) = p.value else { panic!("not an int") };
            (attrs(&p.attributes), v)
        })
        .collect()
}

fn hist(m: &Metric) -> Vec<&HistogramDataPoint> {
    let Some(metric::Data::Histogram(h)) = &m.data else { panic!("not a histogram") };
    h.data_points.iter().collect()
}

fn p(k: &str, v: &str) -> (String, String) {
    (k.to_string(), v.to_string())
}

#[test]
fn a_client_and_its_server_span_make_one_request() {
    let mut g = Graph::new(Config { dimensions: vec!["region".into()], ..config() }, SystemTime::now());
    let now = Instant::now();
    let stats = g.add(&request("frontend", vec![kv("region", "eu")], vec![span(SpanKind::Client, 1, 10, 0, 30)]), now);
    assert_eq!(stats.new_edges, 1);
    assert_eq!(g.edges(), 1, "waiting for the server span");
    let mut server = span(SpanKind::Server, 1, 20, 10, 20);
    server.status = Some(Status { code: 2, ..Default::default() });
    g.add(&request("backend", vec![], vec![server]), now);
    assert_eq!(g.edges(), 0, "completed edges leave the store");
    let out = g.metrics(SystemTime::now());
    assert_eq!(out.resource_metrics[0].scope_metrics[0].scope.as_ref().unwrap().name, "traces_service_graph");
    let labels = vec![p("client", "frontend"), p("server", "backend"), p("connection_type", ""), p("failed", "true"), p("client_region", "eu")];
    assert_eq!(sums(metric(&out, "traces_service_graph_request_total").unwrap()), [(labels.clone(), 1)]);
    assert_eq!(sums(metric(&out, "traces_service_graph_request_failed_total").unwrap()), [(labels, 1)]);
    let server = metric(&out, "traces_service_graph_request_server").unwrap();
    assert_eq!(server.unit, "s");
    let h = hist(server)[0];
    assert_eq!((h.count, h.sum), (1, Some(0.02)));
    // 20 ms: in the bucket bounded by 50 ms (2, 4, 6, 8, 10 and 50 ms are the first bounds).
    assert_eq!(h.bucket_counts[5], 1);
    assert_eq!(h.explicit_bounds.len(), 16);
    let c = hist(metric(&out, "traces_service_graph_request_client").unwrap())[0];
    assert_eq!(c.sum, Some(0.03));
}

#[test]
fn the_server_span_may_come_first_and_messaging_spans_pair_too() {
    let mut g = Graph::new(config(), SystemTime::now());
    let now = Instant::now();
    g.add(&request("worker", vec![], vec![span(SpanKind::Consumer, 2, 20, 10, 5)]), now);
    g.add(&request("api", vec![], vec![span(SpanKind::Producer, 2, 10, 0, 1)]), now);
    let out = g.metrics(SystemTime::now());
    assert_eq!(
        sums(metric(&out, "traces_service_graph_request_total").unwrap()),
        [(vec![p("client", "api"), p("server", "worker"), p("connection_type", "messaging_system"), p("failed", "false")], 1)]
    );
    assert!(metric(&out, "traces_service_graph_request_failed_total").is_none(), "no failures, no failed series");
}

#[test]
fn a_database_call_is_an_edge_on_its_own() {
    let mut g = Graph::new(config(), SystemTime::now());
    let mut s = span(SpanKind::Client, 3, 10, 0, 4);
    s.attributes = vec![kv("db.name", "orders")];
    g.add(&request("api", vec![], vec![s]), Instant::now());
    assert_eq!(g.edges(), 0);
    let out = g.metrics(SystemTime::now());
    assert_eq!(
        sums(metric(&out, "traces_service_graph_request_total").unwrap()),
        [(vec![p("client", "api"), p("server", "orders"), p("connection_type", "database"), p("failed", "false")], 1)]
    );
}

#[test]
fn unpaired_edges_expire_into_virtual_nodes() {
    let mut g = Graph::new(Config { virtual_node_extra_label: true, ..config() }, SystemTime::now());
    let t = Instant::now();
    let mut client = span(SpanKind::Client, 4, 10, 0, 1);
    client.attributes = vec![kv("peer.service", "payments")];
    g.add(&request("api", vec![], vec![client, span(SpanKind::Server, 5, 20, 0, 1), span(SpanKind::Server, 6, 30, 99, 1)]), t);
    assert_eq!(g.expire(t + Duration::from_secs(1)).expired_edges, 0, "within the ttl");
    assert_eq!(g.expire(t + Duration::from_secs(3)).expired_edges, 3);
    let out = g.metrics(SystemTime::now());
    let mut got = sums(metric(&out, "traces_service_graph_request_total").unwrap());
    got.sort();
    // The server span with a parent that never came counts as nothing.
    assert_eq!(
        got,
        [
            (vec![p("client", "api"), p("server", "payments"), p("connection_type", "virtual_node"), p("failed", "false"), p("virtual_node", "server")], 1),
            (vec![p("client", "user"), p("server", "api"), p("connection_type", "virtual_node"), p("failed", "false"), p("virtual_node", "client")], 1),
        ]
    );
}

#[test]
fn a_full_store_expires_the_oldest_or_drops_the_span() {
    let mut g = Graph::new(Config { max_items: 1, ..config() }, SystemTime::now());
    let t = Instant::now();
    g.add(&request("a", vec![], vec![span(SpanKind::Client, 7, 10, 0, 1)]), t);
    let stats = g.add(&request("a", vec![], vec![span(SpanKind::Client, 8, 10, 0, 1)]), t);
    assert_eq!((stats.new_edges, stats.dropped_spans), (0, 1));
    let stats = g.add(&request("a", vec![], vec![span(SpanKind::Client, 9, 10, 0, 1)]), t + Duration::from_secs(5));
    assert_eq!((stats.new_edges, stats.expired_edges, stats.dropped_spans), (1, 1, 0));
    assert_eq!(g.edges(), 1);
}

#[test]
fn zero_loops_take_upstreams_defaults() {
    let mut args = Object::new();
    args.insert("cache_loop", Value::string("0s"));
    args.insert("store_expiration_loop", Value::string("0s"));
    args.insert("output", Value::object(Object::new()));
    let c = decode_checked::<Args>(NAME, &analyzer::args::with_defaults(NAME, &Value::object(args))).unwrap().config;
    assert_eq!((c.cache_loop, c.store_expiration_loop), (Duration::from_secs(60), Duration::from_secs(2)));
}

#[test]
fn stale_series_are_cleaned_after_fifteen_minutes() {
    let mut g = Graph::new(config(), SystemTime::now());
    let t = Instant::now();
    let mut s = span(SpanKind::Client, 3, 10, 0, 4);
    s.attributes = vec![kv("db.name", "orders")];
    g.add(&request("api", vec![], vec![s]), t);
    g.clean(t + Duration::from_secs(14 * 60));
    assert!(!g.metrics(SystemTime::now()).resource_metrics.is_empty());
    g.clean(t + Duration::from_secs(16 * 60));
    assert!(g.metrics(SystemTime::now()).resource_metrics.is_empty());
}

#[tokio::test]
async fn a_zero_flush_interval_flushes_after_each_batch() {
    let (sink, handle) = sink_handle();
    let mut out = Object::new();
    out.insert("metrics", Value::array(vec![handle.to_value()]));
    let mut args = Object::new();
    args.insert("metrics_flush_interval", Value::string("0s"));
    args.insert("output", Value::object(out));
    let c = ServiceGraph::new(crate::otelcol::detached_context("otelcol.connector.servicegraph.t"), &analyzer::args::with_defaults(NAME, &Value::object(args)))
        .unwrap();
    let stop = CancellationToken::new();
    let run = tokio::spawn(c.clone().run(stop.clone()));
    let mut s = span(SpanKind::Client, 3, 10, 0, 4);
    s.attributes = vec![kv("db.name", "orders")];
    c.input().consume(Payload::from_traces(&request("api", vec![], vec![s]))).await.unwrap();
    for _ in 0..200 {
        if !sink.received.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.cancel();
    run.await.unwrap().unwrap();
    let received = sink.received.lock().unwrap().clone();
    assert!(!received.is_empty(), "flushed without waiting for an interval");
    let m = received[0].decode_metrics().unwrap();
    assert_eq!(sums(metric(&m, "traces_service_graph_request_total").unwrap())[0].1, 1);
    assert_eq!(c.consumer.counters.total_edges.get(), 1);
}
