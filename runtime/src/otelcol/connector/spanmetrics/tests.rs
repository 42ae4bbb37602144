use std::time::{Duration, Instant, SystemTime};

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{metric, number_data_point, AggregationTemporality, HistogramDataPoint, Metric, NumberDataPoint};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::{Event, SpanKind};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};

use super::*;
use crate::otelcol::connector::values::as_string;
use crate::otelcol::consumer::tests::sink_handle;
use crate::otelcol::pdata::tests::kv;
use eval::Object;

fn config() -> Config {
    let mut args = Object::new();
    let mut hist = Object::new();
    hist.insert("explicit", Value::object(Object::new()));
    args.insert("histogram", Value::object(hist));
    let args = analyzer::args::with_defaults(NAME, &Value::object(args));
    decode_checked::<Args>(NAME, &args).expect("defaults decode").config
}

const MS: u64 = 1_000_000;

fn span(name: &str, ms: u64) -> Span {
    Span {
        name: name.into(),
        trace_id: vec![1; 16],
        span_id: vec![2; 8],
        kind: SpanKind::Server as i32,
        start_time_unix_nano: 10 * MS,
        end_time_unix_nano: 10 * MS + ms * MS,
        ..Default::default()
    }
}

fn request(resource: Vec<KeyValue>, spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource { attributes: resource, ..Default::default() }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope { name: "lib".into(), version: "1.0".into(), ..Default::default() }),
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn metrics(req: &ExportMetricsServiceRequest) -> Vec<&Metric> {
    req.resource_metrics.iter().flat_map(|rm| rm.scope_metrics.iter()).flat_map(|sm| sm.metrics.iter()).collect()
}

fn metric<'a>(req: &'a ExportMetricsServiceRequest, name: &str) -> &'a Metric {
    metrics(req).into_iter().find(|m| m.name == name).unwrap_or_else(|| panic!("no metric {name}"))
}

fn sum_points(m: &Metric) -> Vec<&NumberDataPoint> {
    match &m.data {
        Some(metric::Data::Sum(s)) => s.data_points.iter().collect(),
        other => panic!("not a sum: {other:?}"),
    }
}

fn hist_points(m: &Metric) -> Vec<&HistogramDataPoint> {
    match &m.data {
        Some(metric::Data::Histogram(h)) => h.data_points.iter().collect(),
        other => panic!("not a histogram: {other:?}"),
    }
}

fn attrs(a: &[KeyValue]) -> Vec<(String, String)> {
    a.iter().map(|kv| (kv.key.clone(), kv.value.as_ref().map(as_string).unwrap_or_default())).collect()
}

fn count(p: &NumberDataPoint) -> i64 {
    match p.value {
        Some(number_data_point::Value::AsInt(i)) => i,
        other => panic!("not an int: {other:?}"),
    }
}

fn p(k: &str, v: &str) -> (String, String) {
    (k.to_string(), v.to_string())
}

#[test]
fn calls_and_durations_per_series_with_default_dimensions() {
    let mut a = Aggregator::new(config());
    let mut err = span("GET /a", 3);
    err.status = Some(Status { code: 2, ..Default::default() });
    a.add(&request(vec![kv("service.name", "shop")], vec![span("GET /a", 2), span("GET /a", 3), err]), Instant::now(), SystemTime::now());
    let out = a.flush(Instant::now(), SystemTime::now());
    assert_eq!(out.resource_metrics.len(), 1);
    assert_eq!(out.resource_metrics[0].scope_metrics[0].scope.as_ref().unwrap().name, "spanmetricsconnector");
    let calls = metric(&out, "traces.span.metrics.calls");
    let Some(metric::Data::Sum(s)) = &calls.data else { panic!() };
    assert!(s.is_monotonic);
    assert_eq!(s.aggregation_temporality, AggregationTemporality::Cumulative as i32);
    let points = sum_points(calls);
    let mut by_status: Vec<(Vec<(String, String)>, i64)> = points.iter().map(|p| (attrs(&p.attributes), count(p))).collect();
    by_status.sort();
    assert_eq!(
        by_status,
        [
            (vec![p("service.name", "shop"), p("span.name", "GET /a"), p("span.kind", "SPAN_KIND_SERVER"), p("status.code", "STATUS_CODE_ERROR")], 1),
            (vec![p("service.name", "shop"), p("span.name", "GET /a"), p("span.kind", "SPAN_KIND_SERVER"), p("status.code", "STATUS_CODE_UNSET")], 2),
        ]
    );
    let dur = metric(&out, "traces.span.metrics.duration");
    assert_eq!(dur.unit, "ms");
    let unset = hist_points(dur).into_iter().find(|h| h.count == 2).expect("the unset series");
    assert_eq!(unset.explicit_bounds[..3], [2.0, 4.0, 6.0]);
    assert_eq!(unset.explicit_bounds.len(), 16);
    // 2 ms is in the bucket bounded by 2 (upper bounds are inclusive), 3 ms in the next.
    assert_eq!(unset.bucket_counts[..3], [1, 1, 0]);
    assert_eq!(unset.bucket_counts.len(), 17);
    assert_eq!(unset.sum, Some(5.0));
    assert!(unset.exemplars.is_empty(), "exemplars are off by default");
}

#[test]
fn seconds_and_custom_buckets_scale_the_bounds() {
    let c = Config { unit: Unit::Seconds, bounds: vec![0.001, 0.01], ..config() };
    let mut a = Aggregator::new(c);
    a.add(&request(vec![kv("service.name", "s")], vec![span("x", 5), span("x", 50)]), Instant::now(), SystemTime::now());
    let out = a.flush(Instant::now(), SystemTime::now());
    let dur = metric(&out, "traces.span.metrics.duration");
    assert_eq!(dur.unit, "s");
    let h = hist_points(dur)[0];
    assert_eq!(h.bucket_counts, [0, 1, 1]);
    assert!((h.sum.unwrap() - 0.055).abs() < 1e-12);
}

#[test]
fn exponential_histograms_hold_the_durations_in_base_two_buckets() {
    let mut a = Aggregator::new(Config { exponential: Some(160), ..config() });
    a.add(&request(vec![kv("service.name", "s")], vec![span("x", 0), span("x", 3), span("x", 40)]), Instant::now(), SystemTime::now());
    let out = a.flush(Instant::now(), SystemTime::now());
    let dur = metric(&out, "traces.span.metrics.duration");
    assert_eq!(dur.unit, "ms");
    let Some(metric::Data::ExponentialHistogram(h)) = &dur.data else { panic!("not exponential: {:?}", dur.data) };
    let p = &h.data_points[0];
    assert_eq!((p.count, p.zero_count, p.sum, p.min, p.max), (3, 1, Some(43.0), Some(0.0), Some(40.0)));
    let b = p.positive.as_ref().unwrap();
    assert_eq!(b.bucket_counts.iter().sum::<u64>(), 2);
    assert!(b.bucket_counts.len() <= 160);
    assert_eq!(b.offset, super::expo::index(3.0, p.scale));
    assert!(p.start_time_unix_nano > 0 && p.time_unix_nano >= p.start_time_unix_nano);
    assert_eq!(count(sum_points(metric(&out, "traces.span.metrics.calls"))[0]), 3);
}

#[test]
fn the_decoded_seconds_bounds_are_the_default_buckets_in_seconds() {
    let mut args = Object::new();
    let mut hist = Object::new();
    hist.insert("explicit", Value::object(Object::new()));
    hist.insert("unit", Value::string("s"));
    args.insert("histogram", Value::object(hist));
    let c = decode_checked::<Args>(NAME, &analyzer::args::with_defaults(NAME, &Value::object(args))).unwrap().config;
    assert_eq!(c.bounds[..2], [0.002, 0.004]);
    assert_eq!(c.bounds[15], 15.0);
}

#[test]
fn dimensions_come_from_the_span_then_the_resource_then_the_default() {
    let dims = vec![
        Dimension { name: "http.method".into(), default: None },
        Dimension { name: "host.name".into(), default: None },
        Dimension { name: "region".into(), default: Some("none".into()) },
        Dimension { name: "absent".into(), default: None },
    ];
    let c = Config { dimensions: dims, exclude_dimensions: vec!["span.kind".into()], include_scopes: vec!["lib".into()], ..config() };
    let mut a = Aggregator::new(c);
    let mut s = span("op", 1);
    s.attributes = vec![kv("http.method", "GET"), kv("host.name", "from-span")];
    a.add(&request(vec![kv("service.name", "s"), kv("host.name", "from-resource"), kv("http.method", "POST")], vec![s]), Instant::now(), SystemTime::now());
    let out = a.flush(Instant::now(), SystemTime::now());
    let point = sum_points(metric(&out, "traces.span.metrics.calls"))[0];
    assert_eq!(
        attrs(&point.attributes),
        [
            p("service.name", "s"),
            p("span.name", "op"),
            p("status.code", "STATUS_CODE_UNSET"),
            p("http.method", "GET"),
            p("host.name", "from-span"),
            p("region", "none"),
            p("span.instrumentation.scope.name", "lib"),
            p("span.instrumentation.scope.version", "1.0"),
        ]
    );
}

#[test]
fn calls_and_histogram_dimensions_apply_to_their_metric_only() {
    let c = Config {
        calls_dimensions: vec![Dimension { name: "http.url".into(), default: None }],
        histogram_dimensions: vec![Dimension { name: "http.status_code".into(), default: Some("none".into()) }],
        ..config()
    };
    let mut a = Aggregator::new(c);
    let mut s1 = span("op", 1);
    s1.attributes = vec![kv("http.url", "/a"), kv("http.status_code", "200")];
    let mut s2 = span("op", 1);
    s2.attributes = vec![kv("http.url", "/b"), kv("http.status_code", "200")];
    a.add(&request(vec![kv("service.name", "s")], vec![s1, s2]), Instant::now(), SystemTime::now());
    let out = a.flush(Instant::now(), SystemTime::now());
    let calls = sum_points(metric(&out, "traces.span.metrics.calls"));
    assert_eq!(calls.len(), 2, "a series per URL");
    assert!(calls.iter().all(|p| attrs(&p.attributes).iter().all(|(k, _)| k != "http.status_code")));
    let hist = hist_points(metric(&out, "traces.span.metrics.duration"));
    assert_eq!(hist.len(), 1, "one series per status code");
    assert_eq!(hist[0].count, 2);
    assert_eq!(attrs(&hist[0].attributes).last(), Some(&p("http.status_code", "200")));
}

#[test]
fn resources_without_a_service_name_are_skipped_and_empty_flushes_send_nothing() {
    let mut a = Aggregator::new(config());
    a.add(&request(vec![kv("host.name", "h")], vec![span("x", 1)]), Instant::now(), SystemTime::now());
    assert!(a.flush(Instant::now(), SystemTime::now()).resource_metrics.is_empty());
}

#[test]
fn cumulative_keeps_counting_from_one_start_and_delta_restarts_at_each_flush() {
    let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
    let t1 = t0 + Duration::from_secs(60);
    let t2 = t1 + Duration::from_secs(60);
    let req = request(vec![kv("service.name", "s")], vec![span("x", 1)]);
    let now = Instant::now();

    let mut cum = Aggregator::new(config());
    cum.add(&req, now, t0);
    cum.flush(now, t1);
    cum.add(&req, now, t1);
    let out = cum.flush(now, t2);
    let pt = sum_points(metric(&out, "traces.span.metrics.calls"))[0];
    assert_eq!((count(pt), pt.start_time_unix_nano, pt.time_unix_nano), (2, nanos(t0), nanos(t2)));

    let mut delta = Aggregator::new(Config { temporality: Temporality::Delta, ..config() });
    delta.add(&req, now, t0);
    let first = delta.flush(now, t1);
    let pt = sum_points(metric(&first, "traces.span.metrics.calls"))[0];
    assert_eq!((count(pt), pt.start_time_unix_nano), (1, nanos(t0)));
    assert!(delta.flush(now, t1).resource_metrics.is_empty(), "delta forgets flushed series");
    delta.add(&req, now, t1 + Duration::from_secs(5));
    let second = delta.flush(now, t2);
    let m = metric(&second, "traces.span.metrics.calls");
    let Some(metric::Data::Sum(s)) = &m.data else { panic!() };
    assert_eq!(s.aggregation_temporality, AggregationTemporality::Delta as i32);
    let pt = sum_points(m)[0];
    assert_eq!((count(pt), pt.start_time_unix_nano), (1, nanos(t1)), "the next point starts where the last ended");
    let h = hist_points(metric(&second, "traces.span.metrics.duration"))[0];
    assert_eq!(h.start_time_unix_nano, nanos(t1));
}

fn nanos(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_nanos() as u64
}

#[test]
fn events_are_counted_with_their_dimensions() {
    let c = Config { events: true, event_dimensions: vec![Dimension { name: "exception.type".into(), default: None }], ..config() };
    let mut a = Aggregator::new(c);
    let mut s = span("op", 1);
    s.events = vec![
        Event { name: "exception".into(), attributes: vec![kv("exception.type", "Timeout")], ..Default::default() },
        Event { name: "exception".into(), attributes: vec![kv("exception.type", "Timeout")], ..Default::default() },
        Event { name: "exception".into(), attributes: vec![kv("exception.type", "Refused")], ..Default::default() },
    ];
    a.add(&request(vec![kv("service.name", "s")], vec![s]), Instant::now(), SystemTime::now());
    let out = a.flush(Instant::now(), SystemTime::now());
    let mut events: Vec<(String, i64)> = sum_points(metric(&out, "traces.span.metrics.events"))
        .into_iter()
        .map(|p| (attrs(&p.attributes).into_iter().find(|(k, _)| k == "exception.type").unwrap().1, count(p)))
        .collect();
    events.sort();
    assert_eq!(events, [("Refused".to_string(), 1), ("Timeout".to_string(), 2)]);
}

#[test]
fn exemplars_are_capped_and_cleared_after_a_flush() {
    let mut a = Aggregator::new(Config { exemplars: true, max_exemplars: 2, ..config() });
    let mut no_trace = span("x", 1);
    no_trace.trace_id = vec![0; 16];
    let req = request(vec![kv("service.name", "s")], vec![span("x", 1), no_trace, span("x", 2), span("x", 3)]);
    a.add(&req, Instant::now(), SystemTime::now());
    let out = a.flush(Instant::now(), SystemTime::now());
    let h = hist_points(metric(&out, "traces.span.metrics.duration"))[0];
    assert_eq!(h.exemplars.len(), 2);
    assert_eq!(h.exemplars[0].trace_id, vec![1; 16]);
    assert_eq!(h.exemplars[1].value, Some(opentelemetry_proto::tonic::metrics::v1::exemplar::Value::AsDouble(2.0)));
    assert_eq!(h.exemplars[0].time_unix_nano, h.time_unix_nano);
    assert_eq!(sum_points(metric(&out, "traces.span.metrics.calls"))[0].exemplars.len(), 2);
    let again = a.flush(Instant::now(), SystemTime::now());
    assert!(hist_points(metric(&again, "traces.span.metrics.duration"))[0].exemplars.is_empty());
}

#[test]
fn resources_are_keyed_by_the_key_attributes_and_bounded_by_the_cache() {
    let mut a = Aggregator::new(Config { resource_key_attributes: vec!["service.name".into()], ..config() });
    let now = Instant::now();
    a.add(&request(vec![kv("service.name", "s"), kv("pid", "1")], vec![span("x", 1)]), now, SystemTime::now());
    a.add(&request(vec![kv("service.name", "s"), kv("pid", "2")], vec![span("x", 1)]), now, SystemTime::now());
    let out = a.flush(now, SystemTime::now());
    assert_eq!(out.resource_metrics.len(), 1, "a restart with a new pid continues the series");
    assert_eq!(attrs(&out.resource_metrics[0].resource.as_ref().unwrap().attributes), [p("service.name", "s"), p("pid", "1")]);
    assert_eq!(count(sum_points(metric(&out, "traces.span.metrics.calls"))[0]), 2);

    let mut small = Aggregator::new(Config { resource_cache_size: 1, ..config() });
    small.add(&request(vec![kv("service.name", "a")], vec![span("x", 1)]), now, SystemTime::now());
    small.add(&request(vec![kv("service.name", "b")], vec![span("x", 1)]), now, SystemTime::now());
    let out = small.flush(now, SystemTime::now());
    assert_eq!(out.resource_metrics.len(), 1);
    assert_eq!(attrs(&out.resource_metrics[0].resource.as_ref().unwrap().attributes), [p("service.name", "b")]);
}

#[test]
fn expired_resources_and_series_are_dropped_at_a_flush() {
    let c = Config { metrics_expiration: Duration::from_secs(60), series_expiration: Duration::from_secs(10), ..config() };
    let mut a = Aggregator::new(c);
    let t = Instant::now();
    a.add(&request(vec![kv("service.name", "old")], vec![span("x", 1)]), t, SystemTime::now());
    a.add(&request(vec![kv("service.name", "new")], vec![span("x", 1)]), t + Duration::from_secs(50), SystemTime::now());
    a.add(&request(vec![kv("service.name", "new")], vec![span("y", 1)]), t + Duration::from_secs(65), SystemTime::now());
    // Flushed at 70 s: "old" was last seen 70 s ago, series "x" of "new" 20 s ago.
    a.flush(t + Duration::from_secs(70), SystemTime::now());
    let out = a.flush(t + Duration::from_secs(71), SystemTime::now());
    assert_eq!(out.resource_metrics.len(), 1);
    let names: Vec<String> = sum_points(metric(&out, "traces.span.metrics.calls"))
        .into_iter()
        .map(|p| attrs(&p.attributes).into_iter().find(|(k, _)| k == "span.name").unwrap().1)
        .collect();
    assert_eq!(names, ["y"]);
}

#[test]
fn namespace_and_disabled_histogram_shape_the_output() {
    let mut a = Aggregator::new(Config { namespace: String::new(), histogram: false, ..config() });
    a.add(&request(vec![kv("service.name", "s")], vec![span("x", 1)]), Instant::now(), SystemTime::now());
    let out = a.flush(Instant::now(), SystemTime::now());
    assert_eq!(metrics(&out).iter().map(|m| m.name.as_str()).collect::<Vec<_>>(), ["calls"]);
}

#[tokio::test]
async fn the_timer_flushes_to_the_metrics_output() {
    let (sink, handle) = sink_handle();
    let mut out = Object::new();
    out.insert("metrics", Value::array(vec![handle.to_value()]));
    let mut hist = Object::new();
    hist.insert("explicit", Value::object(Object::new()));
    let mut args = Object::new();
    args.insert("metrics_flush_interval", Value::string("50ms"));
    args.insert("histogram", Value::object(hist));
    args.insert("output", Value::object(out));
    let ctx = crate::otelcol::detached_context("otelcol.connector.spanmetrics.t");
    let component = SpanMetrics::new(ctx, &analyzer::args::with_defaults(NAME, &Value::object(args))).unwrap();
    let input = component.input();
    input.consume(Payload::from_traces(&request(vec![kv("service.name", "s")], vec![span("x", 1), span("x", 2)]))).await.unwrap();
    let stop = CancellationToken::new();
    let run = tokio::spawn(component.run(stop.clone()));
    for _ in 0..200 {
        if !sink.received.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.cancel();
    run.await.unwrap().unwrap();
    let received = sink.received.lock().unwrap().clone();
    assert!(!received.is_empty(), "a flush within the interval");
    let m = received[0].decode_metrics().unwrap();
    assert_eq!(count(sum_points(metric(&m, "traces.span.metrics.calls"))[0]), 2);
    let refused = input.consume(Payload::from_metrics(&m)).await;
    assert!(matches!(refused, Err(ConsumeError::Permanent(_))));
}

#[test]
fn series_beyond_the_cardinality_limit_count_in_one_overflow_series() {
    let mut c = config();
    c.cardinality_limit = 2;
    let mut a = Aggregator::new(c);
    let spans = vec![span("a", 1), span("b", 1), span("c", 1), span("d", 1), span("a", 1)];
    a.add(&request(vec![kv("service.name", "shop")], spans), Instant::now(), SystemTime::now());
    let out = a.flush(Instant::now(), SystemTime::now());
    let mut calls: Vec<(Vec<(String, String)>, i64)> =
        sum_points(metric(&out, "traces.span.metrics.calls")).iter().map(|p| (attrs(&p.attributes), count(p))).collect();
    calls.sort();
    let named = |n: &str| vec![p("service.name", "shop"), p("span.name", n), p("span.kind", "SPAN_KIND_SERVER"), p("status.code", "STATUS_CODE_UNSET")];
    // The first two series are kept; "c" and "d" are counted together in the overflow series.
    assert_eq!(calls, [(vec![p("otel.metric.overflow", "true")], 2), (named("a"), 2), (named("b"), 1)]);
    let hist = hist_points(metric(&out, "traces.span.metrics.duration"));
    assert_eq!(hist.len(), 3, "the duration histogram has the same limit");
}
