//! The load balancer against real OTLP/gRPC receivers on loopback.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::{metric, Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

use super::*;
use crate::otelcol::consumer::tests::{sink_handle, Sink};
use crate::otelcol::pdata::tests::kv;
use crate::otelcol::receiver::otlp::OtlpReceiver;
use eval::Object;

fn obj(pairs: Vec<(&str, Value)>) -> Value {
    let mut o = Object::new();
    for (k, v) in pairs {
        o.insert(k, v);
    }
    Value::object(o)
}

/// A receiver on a free loopback port whose traces and metrics land in the returned sink.
async fn backend(stop: &CancellationToken) -> (Arc<Sink>, SocketAddr) {
    let (sink, handle) = sink_handle();
    let all = Value::array(vec![handle.to_value()]);
    let args = obj(vec![("grpc", obj(vec![("endpoint", Value::string("127.0.0.1:0"))])), ("output", obj(vec![("traces", all.clone()), ("metrics", all)]))]);
    let args = analyzer::args::with_defaults("otelcol.receiver.otlp", &args);
    let receiver = OtlpReceiver::new(crate::otelcol::detached_context("otelcol.receiver.otlp.backend"), &args).unwrap();
    tokio::spawn(receiver.clone().run(stop.clone()));
    match receiver.wait_bound(|b| b.0.is_some()).await {
        Some((Some(addr), _)) => (sink, addr),
        _ => panic!("backend did not start"),
    }
}

fn lb_args(hosts: &[String], routing_key: &str, queue: bool) -> Value {
    let client = obj(vec![("tls", obj(vec![("insecure", Value::Bool(true))])), ("compression", Value::string("none"))]);
    let otlp = obj(vec![("client", client), ("queue", obj(vec![("enabled", Value::Bool(queue))])), ("retry", obj(vec![("enabled", Value::Bool(false))]))]);
    let resolver = obj(vec![("static", obj(vec![("hostnames", Value::array(hosts.iter().map(|h| Value::string(h.as_str())).collect()))]))]);
    let args = obj(vec![("routing_key", Value::string(routing_key)), ("resolver", resolver), ("protocol", obj(vec![("otlp", otlp)]))]);
    analyzer::args::with_defaults(NAME, &args)
}

async fn start_lb(args: &Value, stop: &CancellationToken) -> Arc<LoadBalancer> {
    let lb = LoadBalancer::new(crate::otelcol::detached_context("otelcol.exporter.loadbalancing.t"), args).unwrap();
    tokio::spawn(lb.clone().run(stop.clone()));
    for _ in 0..500 {
        if !lb.routing.read().unwrap().backends.is_empty() {
            return lb;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("backends never came up");
}

/// `traces` traces of 3 spans each, spread over two resources.
fn traces(traces: u8) -> ExportTraceServiceRequest {
    let span = |t: u8, s: u8| Span { name: format!("t{t}s{s}"), trace_id: vec![t; 16], span_id: vec![s + 1; 8], ..Default::default() };
    let resource = |svc: &str, spans: Vec<Span>| ResourceSpans {
        resource: Some(Resource { attributes: vec![kv("service.name", svc)], ..Default::default() }),
        scope_spans: vec![ScopeSpans { spans, ..Default::default() }],
        schema_url: String::new(),
    };
    ExportTraceServiceRequest {
        resource_spans: vec![
            resource("front", (1..=traces).flat_map(|t| [span(t, 0), span(t, 1)]).collect()),
            resource("db", (1..=traces).map(|t| span(t, 2)).collect()),
        ],
    }
}

/// trace ID byte → the span names of that trace each sink got.
fn traces_per_sink(sinks: &[&Arc<Sink>]) -> Vec<BTreeMap<u8, BTreeSet<String>>> {
    sinks
        .iter()
        .map(|s| {
            let mut m: BTreeMap<u8, BTreeSet<String>> = BTreeMap::new();
            for p in s.received.lock().unwrap().iter() {
                for rs in p.decode_traces().unwrap().resource_spans {
                    for span in rs.scope_spans.into_iter().flat_map(|ss| ss.spans) {
                        m.entry(span.trace_id[0]).or_default().insert(span.name);
                    }
                }
            }
            m
        })
        .collect()
}

async fn wait_items(sinks: &[&Arc<Sink>], n: usize) {
    for _ in 0..500 {
        if sinks.iter().map(|s| s.items()).sum::<usize>() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("only {} of {n} items arrived", sinks.iter().map(|s| s.items()).sum::<usize>());
}

#[tokio::test]
async fn every_span_of_a_trace_reaches_the_backend_the_ring_picks() {
    let stop = CancellationToken::new();
    let ((a, addr_a), (b, addr_b)) = (backend(&stop).await, backend(&stop).await);
    let hosts = vec![addr_a.to_string(), addr_b.to_string()];
    let lb = start_lb(&lb_args(&hosts, "traceID", false), &stop).await;

    lb.consume(Payload::from_traces(&traces(40))).await.unwrap();
    wait_items(&[&a, &b], 120).await;
    let got = traces_per_sink(&[&a, &b]);
    let ring = Ring::new(&hosts);
    for t in 1..=40u8 {
        let want = ring.endpoint_for(&[t; 16]).unwrap();
        let (at, other) = if want == hosts[0] { (&got[0], &got[1]) } else { (&got[1], &got[0]) };
        let names: BTreeSet<String> = (0..3).map(|s| format!("t{t}s{s}")).collect();
        assert_eq!(at.get(&t), Some(&names), "trace {t} whole at {want}");
        assert!(!other.contains_key(&t), "trace {t} also at the other backend");
    }
    assert!(!got[0].is_empty() && !got[1].is_empty(), "both backends get traces");
    // Resources travel with their spans.
    for p in a.received.lock().unwrap().iter() {
        for rs in p.decode_traces().unwrap().resource_spans {
            let svc = &rs.resource.unwrap().attributes[0];
            let front = rs.scope_spans[0].spans.iter().all(|s| !s.name.ends_with("s2"));
            assert_eq!(svc, &kv("service.name", if front { "front" } else { "db" }));
        }
    }
    stop.cancel();
}

#[tokio::test]
async fn service_routing_keeps_a_service_on_one_backend_and_metrics_route_by_service() {
    let stop = CancellationToken::new();
    let ((a, addr_a), (b, addr_b)) = (backend(&stop).await, backend(&stop).await);
    let hosts = vec![addr_a.to_string(), addr_b.to_string()];
    let lb = start_lb(&lb_args(&hosts, "service", false), &stop).await;
    lb.consume(Payload::from_traces(&traces(10))).await.unwrap();
    let gauge = |svc: &str| ResourceMetrics {
        resource: Some(Resource { attributes: vec![kv("service.name", svc)], ..Default::default() }),
        scope_metrics: vec![ScopeMetrics {
            metrics: vec![Metric {
                name: "g".into(),
                data: Some(metric::Data::Gauge(Gauge { data_points: vec![NumberDataPoint::default()] })),
                ..Default::default()
            }],
            ..Default::default()
        }],
        schema_url: String::new(),
    };
    let services: Vec<String> = (0..12).map(|i| format!("svc{i}")).collect();
    let metrics = ExportMetricsServiceRequest { resource_metrics: services.iter().map(|s| gauge(s)).collect() };
    lb.consume(Payload::from_metrics(&metrics)).await.unwrap();
    wait_items(&[&a, &b], 30 + 12).await;

    let ring = Ring::new(&hosts);
    for (sink, host) in [(&a, &hosts[0]), (&b, &hosts[1])] {
        for p in sink.received.lock().unwrap().iter() {
            let services: Vec<String> = match p.signal() {
                Signal::Traces => p.decode_traces().unwrap().resource_spans.into_iter().map(|r| route_service(r.resource)).collect(),
                _ => p.decode_metrics().unwrap().resource_metrics.into_iter().map(|r| route_service(r.resource)).collect(),
            };
            for s in services {
                assert_eq!(ring.endpoint_for(s.as_bytes()), Some(host.as_str()), "service {s}");
            }
        }
    }
    stop.cancel();
}

fn route_service(r: Option<Resource>) -> String {
    match r.and_then(|r| r.attributes.into_iter().next()).and_then(|kv| kv.value).and_then(|v| v.value) {
        Some(opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(s)) => s,
        other => panic!("no service name: {other:?}"),
    }
}

#[tokio::test]
async fn a_dead_backend_fails_its_part_while_the_live_one_gets_the_rest() {
    let stop = CancellationToken::new();
    let (a, addr_a) = backend(&stop).await;
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().to_string();
    let hosts = vec![addr_a.to_string(), dead.clone()];
    let lb = start_lb(&lb_args(&hosts, "traceID", false), &stop).await;
    let ring = Ring::new(&hosts);
    let live_traces = (1..=30u8).filter(|t| ring.endpoint_for(&[*t; 16]) == Some(hosts[0].as_str())).count();
    assert!(live_traces > 0 && live_traces < 30, "the traces are split between the two");

    let r = lb.consume(Payload::from_traces(&traces(30))).await;
    assert!(matches!(&r, Err(e) if !e.is_permanent()), "a retryable failure for the dead part: {r:?}");
    wait_items(&[&a], live_traces * 3).await;
    assert_eq!(a.items(), live_traces * 3);
    stop.cancel();
}

#[tokio::test]
async fn metrics_refuse_routing_by_trace_id_and_traces_without_a_service_are_counted() {
    let stop = CancellationToken::new();
    let (a, addr_a) = backend(&stop).await;
    let lb = start_lb(&lb_args(&[addr_a.to_string()], "service", false), &stop).await;
    let mut t = traces(2);
    t.resource_spans[1].resource = None;
    lb.consume(Payload::from_traces(&t)).await.unwrap();
    wait_items(&[&a], 4).await;
    assert_eq!(lb.metrics.unrouted.get(), 2, "the db resource had no service name");

    let one = ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric { data: Some(metric::Data::Gauge(Gauge { data_points: vec![NumberDataPoint::default()] })), ..Default::default() }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let (routes, unrouted) = route::metrics(one, RoutingKey::TraceId, &|_| 0);
    assert!(routes.is_empty());
    assert_eq!(unrouted.items, 1);
    assert!(unrouted.reason.is_some_and(|r| r.contains("\"traceID\" for metrics")));
    stop.cancel();
}

#[test]
fn hosts_get_the_default_port() {
    assert_eq!(with_port("collector"), "collector:4317");
    assert_eq!(with_port("collector:55690"), "collector:55690");
    assert_eq!(with_port("[::1]"), "[::1]:4317");
    assert_eq!(with_port("[::1]:9"), "[::1]:9");
}
