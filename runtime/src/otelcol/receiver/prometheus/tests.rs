//! The receiver's assembly rules, its capsule path, and the round trip
//! OTLP → `otelcol.exporter.prometheus` → `otelcol.receiver.prometheus` → OTLP.

use std::time::Duration;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{
    metric, number_data_point, AggregationTemporality, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prom::sample::{Exemplar, ExemplarSample, Metadata, MetadataUpdate, MetricType, Sample, SeriesRef, STALE_NAN};
use prom::Labels;

use super::assemble::{AssembleError, Assembler, RECEIVER_SCOPE};
use super::*;
use crate::otelcol::consumer::tests::sink_handle;
use crate::otelcol::exporter::prometheus::convert::{Converter, Options};
use crate::otelcol::pdata::tests::kv;

fn sample(labels: &[(&str, &str)], t: i64, v: f64) -> Sample {
    Sample { series: SeriesRef(0), labels: Labels::new(labels.iter().copied()), t, v }
}

fn meta(family: &str, t: MetricType, help: &str, unit: &str) -> MetadataUpdate {
    MetadataUpdate {
        series: SeriesRef(0),
        labels: Labels::new([("__name__", family)]),
        metadata: Arc::new(Metadata { metric_family: family.into(), metric_type: t, help: help.into(), unit: unit.into() }),
    }
}

fn attrs(kvs: &[KeyValue]) -> Vec<(String, String)> {
    kvs.iter()
        .map(|kv| {
            let v = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(any_value::Value::StringValue(s)) => s.clone(),
                other => format!("{other:?}"),
            };
            (kv.key.clone(), v)
        })
        .collect()
}

fn attr<'a>(kvs: &'a [KeyValue], key: &str) -> Option<&'a str> {
    kvs.iter().find(|kv| kv.key == key).and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
        any_value::Value::StringValue(s) => Some(s.as_str()),
        _ => None,
    })
}

fn metrics(req: &ExportMetricsServiceRequest) -> Vec<&Metric> {
    req.resource_metrics.iter().flat_map(|r| r.scope_metrics.iter().flat_map(|s| s.metrics.iter())).collect()
}

fn number(m: &Metric) -> Vec<(f64, u64, u64, u32)> {
    let points = match &m.data {
        Some(metric::Data::Gauge(g)) => &g.data_points,
        Some(metric::Data::Sum(s)) => &s.data_points,
        other => panic!("not a number metric: {other:?}"),
    };
    points
        .iter()
        .map(|p| {
            let v = match p.value {
                Some(number_data_point::Value::AsDouble(d)) => d,
                Some(number_data_point::Value::AsInt(i)) => i as f64,
                None => f64::NAN,
            };
            (v, p.start_time_unix_nano, p.time_unix_nano, p.flags)
        })
        .collect()
}

const JOB: (&str, &str) = ("job", "node");
const INST: (&str, &str) = ("instance", "10.1.2.3:9100");

#[test]
fn a_resource_per_job_and_instance_with_target_info_as_attributes() {
    let mut a = Assembler::default();
    let batch = Batch {
        samples: vec![
            sample(&[("__name__", "temp"), JOB, INST], 1000, 1.0),
            sample(&[("__name__", "target_info"), JOB, INST, ("region", "eu")], 1000, 1.0),
            sample(&[("__name__", "temp"), ("job", "other"), ("instance", "localhost:1")], 1000, 2.0),
        ],
        ..Default::default()
    };
    let req = a.assemble(&batch).expect("converts");
    assert_eq!(req.resource_metrics.len(), 2);
    let res = &req.resource_metrics[0].resource.as_ref().expect("resource").attributes;
    assert_eq!(
        (attr(res, "service.name"), attr(res, "service.instance.id"), attr(res, "server.address"), attr(res, "server.port")),
        (Some("node"), Some("10.1.2.3:9100"), Some("10.1.2.3"), Some("9100"))
    );
    assert_eq!(attr(res, "region"), Some("eu"));
    let other = &req.resource_metrics[1].resource.as_ref().expect("resource").attributes;
    assert_eq!(attr(other, "server.address"), None, "localhost is not a host");
    // target_info is no metric.
    assert_eq!(metrics(&req).iter().map(|m| m.name.as_str()).collect::<Vec<_>>(), ["temp", "temp"]);
    // The default scope is the receiver's.
    assert_eq!(req.resource_metrics[0].scope_metrics[0].scope.as_ref().map(|s| s.name.as_str()), Some(RECEIVER_SCOPE));
}

#[test]
fn series_without_job_instance_or_name_are_refused() {
    let batch = Batch { samples: vec![sample(&[("__name__", "x"), JOB], 1, 1.0)], ..Default::default() };
    assert_eq!(Assembler::default().assemble(&batch).err(), Some(AssembleError::NoJobInstance));
    assert_eq!(AssembleError::NoJobInstance.to_string(), "job or instance cannot be found from labels");
    let batch = Batch { samples: vec![sample(&[JOB, INST], 1, 1.0)], ..Default::default() };
    assert_eq!(Assembler::default().assemble(&batch).err(), Some(AssembleError::NoMetricName));
    assert_eq!(AssembleError::NoMetricName.to_string(), "metricName not found from labels");
}

#[test]
fn scope_labels_pick_the_scope_and_are_no_attributes() {
    let batch = Batch {
        samples: vec![sample(&[("__name__", "g"), JOB, INST, ("otel_scope_name", "lib"), ("otel_scope_version", "2"), ("path", "/")], 1000, 3.0)],
        ..Default::default()
    };
    let req = Assembler::default().assemble(&batch).expect("converts");
    let sm = &req.resource_metrics[0].scope_metrics[0];
    assert_eq!(sm.scope.as_ref().map(|s| (s.name.as_str(), s.version.as_str())), Some(("lib", "2")));
    let Some(metric::Data::Gauge(g)) = &sm.metrics[0].data else { panic!("a gauge") };
    assert_eq!(attrs(&g.data_points[0].attributes), [("path".to_string(), "/".to_string())]);
}

#[test]
fn families_take_their_type_help_and_unit_from_metadata() {
    let batch = Batch {
        samples: vec![
            sample(&[("__name__", "reqs_total"), JOB, INST], 1000, 5.0),
            sample(&[("__name__", "mystery"), JOB, INST], 1000, 1.0),
            sample(&[("__name__", "up"), JOB, INST], 1000, 1.0),
        ],
        metadata: vec![meta("reqs", MetricType::Counter, "Requests.", "seconds")],
        ..Default::default()
    };
    let req = Assembler::default().assemble(&batch).expect("converts");
    let ms = metrics(&req);
    let Some(metric::Data::Sum(s)) = &ms[0].data else { panic!("a sum") };
    assert!(s.is_monotonic && s.aggregation_temporality == AggregationTemporality::Cumulative as i32);
    assert_eq!((ms[0].name.as_str(), ms[0].description.as_str(), ms[0].unit.as_str()), ("reqs_total", "Requests.", "s"), "names are kept as received");
    assert!(matches!(ms[1].data, Some(metric::Data::Gauge(_))), "unknown types are gauges");
    assert!(matches!(ms[2].data, Some(metric::Data::Gauge(_))));
}

#[test]
fn histogram_and_summary_series_make_one_point_each() {
    let h = |n: &str, extra: &[(&str, &str)], v: f64| {
        let mut l = vec![("__name__", n), JOB, INST, ("path", "/a")];
        l.extend_from_slice(extra);
        sample(&l, 2000, v)
    };
    let batch = Batch {
        samples: vec![
            h("lat_bucket", &[("le", "0.5")], 1.0),
            h("lat_bucket", &[("le", "1")], 3.0),
            h("lat_bucket", &[("le", "+Inf")], 4.0),
            h("lat_sum", &[], 2.5),
            h("lat_count", &[], 4.0),
            h("rt", &[("quantile", "0.9")], 7.0),
            h("rt_sum", &[], 20.0),
            h("rt_count", &[], 3.0),
        ],
        metadata: vec![meta("lat", MetricType::Histogram, "", ""), meta("rt", MetricType::Summary, "", "")],
        exemplars: vec![ExemplarSample {
            series: SeriesRef(0),
            labels: Labels::new([("__name__", "lat_bucket"), JOB, INST, ("path", "/a"), ("le", "1")]),
            exemplar: Exemplar {
                labels: Labels::new([("trace_id", "0102030405060708090a0b0c0d0e0f10"), ("span_id", "0102030405060708"), ("user", "u")]),
                value: 0.7,
                t: 1500,
            },
        }],
        ..Default::default()
    };
    let req = Assembler::default().assemble(&batch).expect("converts");
    let ms = metrics(&req);
    assert_eq!(ms.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(), ["lat", "rt"]);
    let Some(metric::Data::Histogram(hist)) = &ms[0].data else { panic!("a histogram") };
    let p = &hist.data_points[0];
    assert_eq!((p.count, p.sum, p.explicit_bounds.clone(), p.bucket_counts.clone()), (4, Some(2.5), vec![0.5, 1.0], vec![1, 2, 1]));
    assert_eq!((p.start_time_unix_nano, p.time_unix_nano), (0, 2_000_000_000));
    assert_eq!(attrs(&p.attributes), [("path".to_string(), "/a".to_string())]);
    let e = &p.exemplars[0];
    assert_eq!(
        (e.trace_id.len(), e.span_id[7], e.time_unix_nano, attrs(&e.filtered_attributes)),
        (16, 8, 1_500_000_000, vec![("user".to_string(), "u".to_string())])
    );
    let Some(metric::Data::Summary(sum)) = &ms[1].data else { panic!("a summary") };
    let q = &sum.data_points[0];
    assert_eq!((q.count, q.sum, q.quantile_values.len(), q.quantile_values[0].value), (3, 20.0, 1, 7.0));
}

#[test]
fn start_times_come_only_from_created_series() {
    let mut a = Assembler::default();
    let md = vec![meta("c", MetricType::Counter, "", "")];
    let at = |a: &mut Assembler, samples: Vec<Sample>| {
        let batch = Batch { samples, metadata: md.clone(), ..Default::default() };
        number(metrics(&a.assemble(&batch).expect("converts"))[0])[0]
    };
    // No start is made up from earlier samples (Alloy leaves the adjustment out).
    assert_eq!(at(&mut a, vec![sample(&[("__name__", "c_total"), JOB, INST], 1000, 5.0)]), (5.0, 0, 1_000_000_000, 0));
    assert_eq!(at(&mut a, vec![sample(&[("__name__", "c_total"), JOB, INST], 2000, 1.0)]), (1.0, 0, 2_000_000_000, 0));
    let with_created = vec![sample(&[("__name__", "c_total"), JOB, INST], 4000, 2.0), sample(&[("__name__", "c_created"), JOB, INST], 4000, 0.5)];
    assert_eq!(at(&mut a, with_created), (2.0, 500_000_000, 4_000_000_000, 0));
}

#[test]
fn stale_markers_become_points_without_recorded_value() {
    let batch = Batch { samples: vec![sample(&[("__name__", "g"), JOB, INST], 1000, STALE_NAN)], ..Default::default() };
    let req = Assembler::default().assemble(&batch).expect("converts");
    let (v, _, _, flags) = number(metrics(&req)[0])[0];
    assert!(v.is_nan(), "no value");
    assert_eq!(flags, 1);
}

#[test]
fn native_histograms_become_exponential_histograms() {
    let h = prom::Histogram {
        schema: 2,
        zero_threshold: 1e-128,
        zero_count: 1.0,
        count: 6.0,
        sum: 3.0,
        positive_spans: vec![prom::sample::BucketSpan { offset: 1, length: 2 }, prom::sample::BucketSpan { offset: 1, length: 1 }],
        positive: vec![1.0, 2.0, 2.0],
        ..Default::default()
    };
    let batch = Batch {
        histograms: vec![prom::sample::HistogramSample {
            series: SeriesRef(0),
            labels: Labels::new([("__name__", "e"), JOB, INST]),
            t: 1000,
            histogram: Arc::new(h),
        }],
        ..Default::default()
    };
    let req = Assembler::default().assemble(&batch).expect("converts");
    let Some(metric::Data::ExponentialHistogram(eh)) = &metrics(&req)[0].data else { panic!("an exponential histogram") };
    let p = &eh.data_points[0];
    let pos = p.positive.as_ref().expect("buckets");
    assert_eq!((p.scale, p.count, p.sum, p.zero_count, pos.offset, pos.bucket_counts.clone()), (2, 6, Some(3.0), 1, 0, vec![1, 2, 0, 2]));
}

#[test]
fn a_native_histogram_with_an_absurd_layout_is_dropped_not_allocated() {
    let h = prom::Histogram {
        schema: 0,
        count: 2.0,
        positive_spans: vec![prom::sample::BucketSpan { offset: 0, length: 1 }, prom::sample::BucketSpan { offset: i32::MAX, length: 1 }],
        positive: vec![1.0, 1.0],
        ..Default::default()
    };
    let batch = Batch {
        histograms: vec![prom::sample::HistogramSample {
            series: SeriesRef(0),
            labels: Labels::new([("__name__", "e"), JOB, INST]),
            t: 1000,
            histogram: Arc::new(h),
        }],
        ..Default::default()
    };
    let req = Assembler::default().assemble(&batch).expect("converts");
    let Some(metric::Data::ExponentialHistogram(eh)) = &metrics(&req)[0].data else { panic!("an exponential histogram") };
    assert!(eh.data_points.is_empty());
}

#[tokio::test]
async fn batches_appended_to_the_receiver_reach_output_metrics() {
    let (sink, handle) = sink_handle();
    let ctx = crate::component::detached_context("otelcol.receiver.prometheus.t");
    let c = Arc::new(PrometheusReceiver::new(&ctx, Output { metrics: vec![handle], ..Default::default() }));
    let stop = CancellationToken::new();
    let run = tokio::spawn(c.clone().run(stop.clone()));
    c.receiver().append(&Batch { samples: vec![sample(&[("__name__", "g"), JOB, INST], 1000, 1.0)], ..Default::default() }).expect("taken");
    assert!(c.receiver().append(&Batch { samples: vec![sample(&[("__name__", "g")], 1000, 1.0)], ..Default::default() }).is_err(), "no job: refused");
    for _ in 0..200 {
        if sink.items() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.cancel();
    run.await.expect("joins").expect("runs");
    assert_eq!(sink.items(), 1, "one data point");
    assert_eq!((c.points.accepted.get(), c.points.refused.get()), (1, 0));
}

/// OTLP → exporter → receiver → OTLP: names gain their suffixes, types, values, attributes,
/// resource identity and scope survive; description and unit come back with `honor_metadata`.
#[test]
fn round_trip_through_both_bridges() {
    let point = |v: f64, a: Vec<KeyValue>| NumberDataPoint {
        attributes: a,
        time_unix_nano: 3_000_000_000,
        value: Some(number_data_point::Value::AsDouble(v)),
        ..Default::default()
    };
    let hist = HistogramDataPoint {
        time_unix_nano: 3_000_000_000,
        count: 5,
        sum: Some(2.0),
        bucket_counts: vec![2, 3, 0],
        explicit_bounds: vec![0.1, 1.0],
        ..Default::default()
    };
    let metrics_in = vec![
        Metric {
            name: "queue.depth".into(),
            description: "Depth.".into(),
            data: Some(metric::Data::Gauge(Gauge { data_points: vec![point(4.0, vec![kv("queue.name", "q1")])] })),
            ..Default::default()
        },
        Metric {
            name: "http.requests".into(),
            unit: "s".into(),
            data: Some(metric::Data::Sum(Sum {
                data_points: vec![point(9.0, vec![])],
                aggregation_temporality: AggregationTemporality::Cumulative as i32,
                is_monotonic: true,
            })),
            ..Default::default()
        },
        Metric {
            name: "latency".into(),
            data: Some(metric::Data::Histogram(Histogram { data_points: vec![hist], aggregation_temporality: AggregationTemporality::Cumulative as i32 })),
            ..Default::default()
        },
    ];
    let req = ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![kv("service.name", "shop"), kv("service.instance.id", "pod-1:8080"), kv("deployment.environment", "prod")],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope { name: "lib".into(), version: "1.0".into(), ..Default::default() }),
                metrics: metrics_in,
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let batch = Converter::new("x", Options { honor_metadata: true, ..Options::default() }).convert(&req, 3_000_000_000);
    let back = Assembler::default().assemble(&batch).expect("converts");

    assert_eq!(back.resource_metrics.len(), 1);
    let rm = &back.resource_metrics[0];
    let res = &rm.resource.as_ref().expect("resource").attributes;
    assert_eq!(
        (attr(res, "service.name"), attr(res, "service.instance.id"), attr(res, "deployment_environment")),
        (Some("shop"), Some("pod-1:8080"), Some("prod"))
    );
    assert_eq!(rm.scope_metrics.len(), 1);
    let sm = &rm.scope_metrics[0];
    assert_eq!(sm.scope.as_ref().map(|s| (s.name.as_str(), s.version.as_str())), Some(("lib", "1.0")));
    let names: Vec<&str> = sm.metrics.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["queue_depth", "http_requests_seconds_total", "latency"]);

    assert_eq!(sm.metrics[0].description, "Depth.");
    let Some(metric::Data::Gauge(g)) = &sm.metrics[0].data else { panic!("a gauge") };
    assert_eq!(attrs(&g.data_points[0].attributes), [("queue_name".to_string(), "q1".to_string())]);
    assert_eq!(number(&sm.metrics[0])[0].0, 4.0);

    assert_eq!(sm.metrics[1].unit, "s");
    assert!(matches!(&sm.metrics[1].data, Some(metric::Data::Sum(s)) if s.is_monotonic));
    assert_eq!(number(&sm.metrics[1])[0].0, 9.0);

    let Some(metric::Data::Histogram(h)) = &sm.metrics[2].data else { panic!("a histogram") };
    let p = &h.data_points[0];
    assert_eq!(
        (p.count, p.sum, p.explicit_bounds.clone(), p.bucket_counts.clone(), p.time_unix_nano),
        (5, Some(2.0), vec![0.1, 1.0], vec![2, 3, 0], 3_000_000_000)
    );
}
