use super::*;
use crate::otelcol::pdata::tests::kv;
use crate::otelcol::processor::rewrite::rules_of;
use opentelemetry_proto::tonic::metrics::v1::{Histogram, ResourceMetrics, ScopeMetrics, Sum};

fn rules(body: &str) -> Arc<dyn Transform> {
    rules_of::<Args>(&format!("otelcol.processor.deltatocumulative \"d\" {{\n{body}\n  output {{}}\n}}\n")).expect("valid")
}

fn sum(points: Vec<(&str, u64, u64, i64)>, temporality: AggregationTemporality) -> Payload {
    let data_points = points
        .into_iter()
        .map(|(host, start, time, v)| NumberDataPoint {
            attributes: vec![kv("host", host)],
            start_time_unix_nano: start,
            time_unix_nano: time,
            value: Some(Number::AsInt(v)),
            ..Default::default()
        })
        .collect();
    let m = Metric {
        name: "requests".into(),
        data: Some(metric::Data::Sum(Sum { data_points, aggregation_temporality: temporality as i32, is_monotonic: true })),
        ..Default::default()
    };
    Payload::from_metrics(&ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics { scope_metrics: vec![ScopeMetrics { metrics: vec![m], ..Default::default() }], ..Default::default() }],
    })
}

/// (host, start, time, value) of the cumulative points that came out.
fn points(out: Option<Payload>) -> Vec<(String, u64, u64, i64)> {
    let Some(out) = out else { return Vec::new() };
    let req = out.decode_metrics().unwrap();
    let m = &req.resource_metrics[0].scope_metrics[0].metrics[0];
    let Some(metric::Data::Sum(s)) = &m.data else { panic!("a sum") };
    assert_eq!(s.aggregation_temporality, AggregationTemporality::Cumulative as i32);
    s.data_points
        .iter()
        .map(|p| {
            let v = match p.value {
                Some(Number::AsInt(i)) => i,
                _ => -1,
            };
            (crate::otelcol::processor::attributes::value_text(p.attributes[0].value.as_ref().unwrap()), p.start_time_unix_nano, p.time_unix_nano, v)
        })
        .collect()
}

fn p(host: &str, start: u64, time: u64, v: i64) -> (String, u64, u64, i64) {
    (host.to_string(), start, time, v)
}

#[test]
fn delta_sums_become_running_totals_per_stream() {
    let r = rules("");
    let d = AggregationTemporality::Delta;
    assert_eq!(points(r.process(sum(vec![("a", 1, 10, 5), ("b", 1, 10, 1)], d)).unwrap()), [p("a", 1, 10, 5), p("b", 1, 10, 1)]);
    assert_eq!(points(r.process(sum(vec![("a", 10, 20, 3)], d)).unwrap()), [p("a", 1, 20, 8)]);
    // Out of order (time not after the last one) is dropped; so is a start before the stream's.
    assert!(points(r.process(sum(vec![("a", 10, 15, 100)], d)).unwrap()).is_empty());
    assert!(points(r.process(sum(vec![("a", 0, 30, 100)], d)).unwrap()).is_empty());
    assert_eq!(points(r.process(sum(vec![("b", 10, 30, 2), ("a", 20, 30, 2)], d)).unwrap()), [p("b", 1, 30, 3), p("a", 1, 30, 10)]);
}

#[test]
fn cumulative_data_passes_untouched_and_stream_limit_drops_new_streams() {
    let r = rules("  max_streams = 1");
    let c = sum(vec![("a", 1, 10, 5)], AggregationTemporality::Cumulative);
    assert_eq!(r.process(c.clone()).unwrap().unwrap().bytes(), c.bytes());
    let d = AggregationTemporality::Delta;
    assert_eq!(points(r.process(sum(vec![("a", 1, 10, 5), ("b", 1, 10, 1)], d)).unwrap()), [p("a", 1, 10, 5)]);
}

#[test]
fn stale_streams_start_again() {
    let r = rules("  max_stale = \"1ms\"");
    let d = AggregationTemporality::Delta;
    r.process(sum(vec![("a", 1, 10, 5)], d)).unwrap();
    std::thread::sleep(Duration::from_millis(5));
    assert_eq!(points(r.process(sum(vec![("a", 10, 20, 3)], d)).unwrap()), [p("a", 10, 20, 3)]);
}

#[test]
fn delta_histograms_add_buckets() {
    let r = rules("");
    let h = |time: u64, counts: Vec<u64>, bounds: Vec<f64>| {
        let n = counts.iter().sum();
        let m = Metric {
            name: "latency".into(),
            data: Some(metric::Data::Histogram(Histogram {
                data_points: vec![HistogramDataPoint {
                    start_time_unix_nano: time - 10,
                    time_unix_nano: time,
                    count: n,
                    sum: Some(n as f64),
                    bucket_counts: counts,
                    explicit_bounds: bounds,
                    min: Some(time as f64),
                    max: Some(time as f64),
                    ..Default::default()
                }],
                aggregation_temporality: AggregationTemporality::Delta as i32,
            })),
            ..Default::default()
        };
        Payload::from_metrics(&ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics { scope_metrics: vec![ScopeMetrics { metrics: vec![m], ..Default::default() }], ..Default::default() }],
        })
    };
    let last = |out: Option<Payload>| {
        let req = out.unwrap().decode_metrics().unwrap();
        match &req.resource_metrics[0].scope_metrics[0].metrics[0].data {
            Some(metric::Data::Histogram(h)) => h.data_points[0].clone(),
            _ => panic!("a histogram"),
        }
    };
    r.process(h(20, vec![1, 2], vec![1.0])).unwrap();
    let t = last(r.process(h(30, vec![3, 0], vec![1.0])).unwrap());
    assert_eq!((t.bucket_counts, t.count, t.sum, t.min, t.max, t.start_time_unix_nano), (vec![4, 2], 6, Some(6.0), Some(20.0), Some(30.0), 10));
    // A new bucket layout restarts the total.
    let t = last(r.process(h(40, vec![1, 1, 1], vec![1.0, 2.0])).unwrap());
    assert_eq!((t.bucket_counts, t.count), (vec![1, 1, 1], 3));
}
