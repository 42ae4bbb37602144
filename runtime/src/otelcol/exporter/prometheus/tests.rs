//! One test per translation rule, through [`Converter::convert`], and the component's path
//! from its `input` capsule to a `forward_to` receiver.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{
    exemplar, exponential_histogram_data_point::Buckets, metric, number_data_point, summary_data_point::ValueAtQuantile, AggregationTemporality,
    Exemplar as OtlpExemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prom::sample::{is_stale, Batch, MetricType};

use super::*;
use crate::otelcol::pdata::tests::kv;
use crate::prometheus::receiver::Collect;

const T: u64 = 1_000_000_000;
const CUMULATIVE: i32 = AggregationTemporality::Cumulative as i32;

fn plain() -> Options {
    Options { include_target_info: false, include_scope_labels: false, add_metric_suffixes: false, ..Options::default() }
}

fn request(resource: Vec<KeyValue>, scope: Option<InstrumentationScope>, metrics: Vec<Metric>) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource { attributes: resource, ..Default::default() }),
            scope_metrics: vec![ScopeMetrics { scope, metrics, ..Default::default() }],
            ..Default::default()
        }],
    }
}

fn point(v: f64, t: u64, attrs: Vec<KeyValue>) -> NumberDataPoint {
    NumberDataPoint { attributes: attrs, time_unix_nano: t, value: Some(number_data_point::Value::AsDouble(v)), ..Default::default() }
}

fn gauge(name: &str, unit: &str, points: Vec<NumberDataPoint>) -> Metric {
    Metric { name: name.into(), unit: unit.into(), data: Some(metric::Data::Gauge(Gauge { data_points: points })), ..Default::default() }
}

fn sum(name: &str, unit: &str, temporality: AggregationTemporality, monotonic: bool, points: Vec<NumberDataPoint>) -> Metric {
    Metric {
        name: name.into(),
        unit: unit.into(),
        data: Some(metric::Data::Sum(Sum { data_points: points, aggregation_temporality: temporality as i32, is_monotonic: monotonic })),
        ..Default::default()
    }
}

fn ex(v: f64, t: u64, id: u8) -> OtlpExemplar {
    OtlpExemplar { time_unix_nano: t, value: Some(exemplar::Value::AsDouble(v)), span_id: vec![id; 8], trace_id: vec![id; 16], ..Default::default() }
}

/// `name{labels} value` lines, sorted, for comparing a batch's samples.
fn lines(b: &Batch) -> Vec<String> {
    let mut out: Vec<String> = b.samples.iter().map(|s| if s.is_stale() { format!("{} stale", s.labels) } else { format!("{} {}", s.labels, s.v) }).collect();
    out.sort();
    out
}

fn convert(opts: Options, req: &ExportMetricsServiceRequest) -> Batch {
    Converter::new("otelcol.exporter.prometheus.t", opts).convert(req, 5 * T)
}

#[test]
fn gauges_and_cumulative_sums_keep_their_values_and_timestamps() {
    let req = request(
        vec![],
        None,
        vec![gauge("temp", "", vec![point(1.5, T, vec![])]), sum("hits", "", AggregationTemporality::Cumulative, true, vec![point(7.0, 2 * T, vec![])])],
    );
    let b = convert(plain(), &req);
    assert_eq!(lines(&b), ["{__name__=\"hits\"} 7", "{__name__=\"temp\"} 1.5"]);
    let times: Vec<i64> = b.samples.iter().map(|s| s.t).collect();
    assert_eq!(times, [1000, 2000]);
}

#[test]
fn metric_names_get_units_and_total_with_suffixes() {
    let req = request(
        vec![],
        None,
        vec![
            sum("http.requests", "s", AggregationTemporality::Cumulative, true, vec![point(1.0, T, vec![])]),
            gauge("memory.usage", "1", vec![point(0.5, T, vec![])]),
            sum("queue.size", "By", AggregationTemporality::Cumulative, false, vec![point(3.0, T, vec![])]),
        ],
    );
    let b = convert(Options { add_metric_suffixes: true, ..plain() }, &req);
    assert_eq!(lines(&b), ["{__name__=\"http_requests_seconds_total\"} 1", "{__name__=\"memory_usage_ratio\"} 0.5", "{__name__=\"queue_size_bytes\"} 3"]);
}

#[test]
fn job_and_instance_come_from_the_service_attributes_and_attributes_are_normalised() {
    let res = vec![kv("service.name", "api"), kv("service.namespace", "shop"), kv("service.instance.id", "host:1"), kv("host.arch", "amd64")];
    let attrs = vec![kv("http.method", "GET"), kv("1st", "x"), kv("_hidden", "y")];
    let req = request(
        res,
        Some(InstrumentationScope { name: "lib".into(), version: "1.2".into(), ..Default::default() }),
        vec![gauge("g", "", vec![point(1.0, T, attrs)])],
    );
    let b = convert(Options { include_scope_labels: true, ..plain() }, &req);
    assert_eq!(
        lines(&b),
        ["{__name__=\"g\", http_method=\"GET\", instance=\"host:1\", job=\"shop/api\", key_1st=\"x\", key_hidden=\"y\", otel_scope_name=\"lib\", otel_scope_version=\"1.2\"} 1"]
    );
    // A point attribute named job overrides the resource's.
    let req = request(vec![kv("service.name", "api")], None, vec![gauge("g", "", vec![point(1.0, T, vec![kv("job", "mine")])])]);
    assert_eq!(lines(&convert(plain(), &req)), ["{__name__=\"g\", job=\"mine\"} 1"]);
}

#[test]
fn resource_attributes_become_labels_when_asked_and_win_over_point_attributes() {
    let res = vec![kv("service.name", "api"), kv("region", "eu"), kv("k8s.pod", "p")];
    let req = request(res, None, vec![gauge("g", "", vec![point(1.0, T, vec![kv("region", "us")])])]);
    let b = convert(Options { resource_to_telemetry_conversion: true, ..plain() }, &req);
    assert_eq!(lines(&b), ["{__name__=\"g\", job=\"api\", k8s_pod=\"p\", region=\"eu\", service_name=\"api\"} 1"]);
    let b = convert(plain(), &request(vec![kv("region", "eu")], None, vec![gauge("g", "", vec![point(1.0, T, vec![])])]));
    assert_eq!(lines(&b), ["{__name__=\"g\"} 1"]);
}

#[test]
fn target_info_carries_the_other_resource_attributes() {
    let res = vec![kv("service.name", "api"), kv("service.instance.id", "i-1"), kv("host.name", "box")];
    let req = request(res, None, vec![]);
    let b = convert(Options { include_target_info: true, ..plain() }, &req);
    assert_eq!(lines(&b), ["{__name__=\"target_info\", host_name=\"box\", instance=\"i-1\", job=\"api\"} 1"]);
    assert_eq!(b.samples[0].t, 5000, "stamped with the conversion time");
    let b = convert(Options { include_target_info: true, keep_identifying_resource_attributes: true, ..plain() }, &req);
    assert_eq!(
        lines(&b),
        ["{__name__=\"target_info\", host_name=\"box\", instance=\"i-1\", job=\"api\", service_instance_id=\"i-1\", service_name=\"api\"} 1"]
    );
}

#[test]
fn scope_info_is_one_series_per_scope() {
    let scope = InstrumentationScope { name: "lib".into(), version: "2".into(), attributes: vec![kv("a.b", "c")], ..Default::default() };
    let req = request(vec![kv("service.name", "api")], Some(scope), vec![]);
    let b = convert(Options { include_scope_info: true, ..plain() }, &req);
    assert_eq!(lines(&b), ["{__name__=\"otel_scope_info\", a_b=\"c\", job=\"api\", otel_scope_name=\"lib\", otel_scope_version=\"2\"} 1"]);
}

#[test]
fn delta_sums_and_histograms_are_dropped() {
    let delta_hist = Metric {
        name: "h".into(),
        data: Some(metric::Data::Histogram(Histogram {
            aggregation_temporality: AggregationTemporality::Delta as i32,
            data_points: vec![HistogramDataPoint { count: 1, ..Default::default() }],
        })),
        ..Default::default()
    };
    let req = request(
        vec![],
        None,
        vec![
            sum("a", "", AggregationTemporality::Delta, true, vec![point(1.0, T, vec![])]),
            sum("b", "", AggregationTemporality::Delta, false, vec![point(1.0, T, vec![])]),
            sum("c", "", AggregationTemporality::Unspecified, true, vec![point(1.0, T, vec![])]),
            delta_hist,
        ],
    );
    assert!(convert(plain(), &req).is_empty());
}

#[test]
fn histograms_become_cumulative_buckets_with_exemplars_below_their_bound() {
    let dp = HistogramDataPoint {
        time_unix_nano: T,
        count: 333,
        sum: Some(100.0),
        bucket_counts: vec![0, 111, 0, 222],
        explicit_bounds: vec![0.5, 1.0, 0.25, 0.75],
        exemplars: vec![ex(0.3, T + 1, 0xaa), ex(1.5, T + 3, 0xcc), ex(0.5, T + 2, 0xbb)],
        ..Default::default()
    };
    let m = Metric {
        name: "lat".into(),
        data: Some(metric::Data::Histogram(Histogram { aggregation_temporality: CUMULATIVE, data_points: vec![dp] })),
        ..Default::default()
    };
    let b = convert(plain(), &request(vec![], None, vec![m]));
    assert_eq!(
        lines(&b),
        [
            "{__name__=\"lat_bucket\", le=\"+Inf\"} 333",
            "{__name__=\"lat_bucket\", le=\"0.25\"} 0",
            "{__name__=\"lat_bucket\", le=\"0.5\"} 0",
            "{__name__=\"lat_bucket\", le=\"0.75\"} 222",
            "{__name__=\"lat_bucket\", le=\"1\"} 333",
            "{__name__=\"lat_count\"} 333",
            "{__name__=\"lat_sum\"} 100",
        ]
    );
    let ex: Vec<(Option<&str>, f64, String)> = b.exemplars.iter().map(|e| (e.labels.get("le"), e.exemplar.value, e.exemplar.labels.to_string())).collect();
    // Sorted by value, bounds walked in the point's order (0.5, 1, 0.25, 0.75): 0.3 is below
    // 0.5, 0.5 is not (it goes on to 1), 1.5 is below none.
    let ids = |c: &str| format!("{{span_id=\"{}\", trace_id=\"{}\"}}", c.repeat(16), c.repeat(32));
    assert_eq!(ex, [(Some("0.5"), 0.3, ids("a")), (Some("1"), 0.5, ids("b")), (Some("+Inf"), 1.5, ids("c"))]);
    assert_eq!(b.exemplars[0].exemplar.t, 1000);
}

#[test]
fn summaries_become_quantile_series_sum_and_count() {
    let dp = SummaryDataPoint {
        time_unix_nano: T,
        count: 3,
        sum: 9.0,
        quantile_values: vec![ValueAtQuantile { quantile: 0.5, value: 2.0 }, ValueAtQuantile { quantile: 1.0, value: 4.0 }],
        ..Default::default()
    };
    let m = Metric { name: "rt".into(), unit: "s".into(), data: Some(metric::Data::Summary(Summary { data_points: vec![dp] })), ..Default::default() };
    let b = convert(Options { add_metric_suffixes: true, ..plain() }, &request(vec![], None, vec![m]));
    assert_eq!(
        lines(&b),
        [
            "{__name__=\"rt_seconds\", quantile=\"0.5\"} 2",
            "{__name__=\"rt_seconds\", quantile=\"1\"} 4",
            "{__name__=\"rt_seconds_count\"} 3",
            "{__name__=\"rt_seconds_sum\"} 9"
        ]
    );
}

#[test]
fn exemplars_only_on_counters_and_not_on_gauges() {
    let mut p = point(2.0, T, vec![]);
    p.exemplars = vec![ex(1.0, T, 0x11)];
    let req = request(vec![], None, vec![gauge("g", "", vec![p.clone()]), sum("c", "", AggregationTemporality::Cumulative, true, vec![p])]);
    let b = convert(plain(), &req);
    assert_eq!(b.exemplars.len(), 1);
    assert_eq!(b.exemplars[0].labels.metric_name(), Some("c"));
    // A zero trace id is no label.
    let mut p = point(2.0, T, vec![]);
    p.exemplars = vec![OtlpExemplar { value: Some(exemplar::Value::AsInt(4)), filtered_attributes: vec![kv("user.id", "u")], ..Default::default() }];
    let b = convert(plain(), &request(vec![], None, vec![sum("c", "", AggregationTemporality::Cumulative, true, vec![p])]));
    assert_eq!(b.exemplars[0].exemplar.labels.to_string(), "{}", "filtered attributes are left out, as upstream does");
    assert_eq!(b.exemplars[0].exemplar.value, 4.0);
}

#[test]
fn points_without_recorded_value_are_stale_markers() {
    let mut p = point(2.0, T, vec![]);
    p.flags = 1;
    let hist = HistogramDataPoint {
        time_unix_nano: T,
        count: 1,
        sum: Some(1.0),
        bucket_counts: vec![1, 0],
        explicit_bounds: vec![1.0],
        flags: 1,
        ..Default::default()
    };
    let m = Metric {
        name: "h".into(),
        data: Some(metric::Data::Histogram(Histogram { aggregation_temporality: CUMULATIVE, data_points: vec![hist] })),
        ..Default::default()
    };
    let b = convert(plain(), &request(vec![], None, vec![gauge("g", "", vec![p]), m]));
    assert_eq!(b.samples.len(), 5);
    assert!(b.samples.iter().all(|s| is_stale(s.v)), "{:?}", lines(&b));
}

#[test]
fn start_timestamp_zero_samples_precede_cumulative_points_once() {
    let opts = Options { start_timestamp_zero_ingestion: true, ..plain() };
    let conv = Converter::new("t", opts);
    let counter = |t: u64, v: f64| {
        let mut p = point(v, t, vec![]);
        p.start_time_unix_nano = T / 2;
        request(vec![], None, vec![sum("c", "", AggregationTemporality::Cumulative, true, vec![p.clone()]), gauge("g", "", vec![p])])
    };
    let b = conv.convert(&counter(T, 3.0), 0);
    let got: Vec<(i64, f64, Option<&str>)> = b.samples.iter().map(|s| (s.t, s.v, s.labels.metric_name())).collect();
    assert_eq!(got, [(500, 0.0, Some("c")), (1000, 3.0, Some("c")), (1000, 3.0, Some("g"))], "no zero for gauges");
    // The same start again, and a start not before the point: no zero.
    assert_eq!(conv.convert(&counter(2 * T, 4.0), 0).samples.len(), 2);
    let mut late = point(1.0, T, vec![]);
    late.start_time_unix_nano = T;
    let b = convert(opts_with_zero(), &request(vec![], None, vec![sum("d", "", AggregationTemporality::Cumulative, true, vec![late])]));
    assert_eq!(b.samples.len(), 1);
    // Histogram series each get one; without the option nothing is added.
    let hist = HistogramDataPoint {
        start_time_unix_nano: T / 2,
        time_unix_nano: T,
        count: 1,
        sum: Some(1.0),
        bucket_counts: vec![1, 0],
        explicit_bounds: vec![1.0],
        ..Default::default()
    };
    let m = Metric {
        name: "h".into(),
        data: Some(metric::Data::Histogram(Histogram { aggregation_temporality: CUMULATIVE, data_points: vec![hist] })),
        ..Default::default()
    };
    let req = request(vec![], None, vec![m]);
    assert_eq!(convert(opts_with_zero(), &req).samples.iter().filter(|s| s.t == 500 && s.v == 0.0).count(), 4);
    assert_eq!(convert(plain(), &req).samples.len(), 4);
}

fn opts_with_zero() -> Options {
    Options { start_timestamp_zero_ingestion: true, ..plain() }
}

#[test]
fn out_of_order_points_are_skipped() {
    let conv = Converter::new("t", plain());
    let at = |t: u64, v: f64| request(vec![], None, vec![gauge("g", "", vec![point(v, t, vec![])])]);
    assert_eq!(lines(&conv.convert(&at(2 * T, 1.0), 0)), ["{__name__=\"g\"} 1"]);
    assert!(conv.convert(&at(T, 2.0), 0).samples.is_empty(), "older than the last sample");
    assert_eq!(lines(&conv.convert(&at(2 * T, 3.0), 0)), ["{__name__=\"g\"} 3"], "the same time again is kept");
}

#[test]
fn metadata_is_sent_once_per_change_only_with_honor_metadata() {
    let req = |help: &str| {
        let mut m = sum("c", "s", AggregationTemporality::Cumulative, true, vec![point(1.0, T, vec![])]);
        m.description = help.into();
        request(vec![kv("service.name", "a")], None, vec![m])
    };
    assert!(convert(plain(), &req("x")).metadata.is_empty());
    let conv = Converter::new("t", Options { honor_metadata: true, include_target_info: true, ..plain() });
    let first = conv.convert(&req("x"), 0);
    let md: Vec<(String, MetricType, String, String)> =
        first.metadata.iter().map(|m| (m.metadata.metric_family.clone(), m.metadata.metric_type, m.metadata.help.clone(), m.metadata.unit.clone())).collect();
    assert_eq!(md, [("target_info".into(), MetricType::Gauge, "Target metadata".into(), "".into()), ("c".into(), MetricType::Counter, "x".into(), "s".into())]);
    assert_eq!(first.metadata[1].labels.to_string(), "{__name__=\"c\"}");
    assert!(conv.convert(&req("x"), 0).metadata.is_empty(), "unchanged metadata is not repeated");
    assert_eq!(conv.convert(&req("y"), 0).metadata.len(), 1, "a changed help is sent");
    conv.flush_metadata();
    assert_eq!(conv.convert(&req("y"), 0).metadata.len(), 2, "a flush sends everything again");
}

#[test]
fn exponential_histograms_become_native_histograms() {
    let dp = ExponentialHistogramDataPoint {
        time_unix_nano: T,
        count: 4,
        sum: Some(10.0),
        scale: 1,
        zero_count: 1,
        positive: Some(Buckets { offset: 0, bucket_counts: vec![1, 2] }),
        exemplars: vec![ex(2.0, T, 0x22)],
        ..Default::default()
    };
    let m = Metric {
        name: "e".into(),
        data: Some(metric::Data::ExponentialHistogram(ExponentialHistogram { aggregation_temporality: CUMULATIVE, data_points: vec![dp] })),
        ..Default::default()
    };
    let b = convert(plain(), &request(vec![], None, vec![m]));
    assert!(b.samples.is_empty());
    let h = &b.histograms[0];
    assert_eq!(
        (h.labels.to_string().as_str(), h.t, h.histogram.schema, h.histogram.count, h.histogram.positive.clone()),
        ("{__name__=\"e\"}", 1000, 1, 4.0, vec![1.0, 2.0])
    );
    assert_eq!(b.exemplars.len(), 1);
}

#[test]
fn gc_forgets_series_not_seen_lately() {
    let conv = Converter::new("t", plain());
    conv.convert(&request(vec![], None, vec![gauge("g", "", vec![point(1.0, 2 * T, vec![])])]), 0);
    assert_eq!(conv.series_count(), 2, "the point's series and the resource's");
    conv.gc(Duration::from_secs(60));
    assert_eq!(conv.series_count(), 2);
    conv.gc(Duration::ZERO);
    assert_eq!(conv.series_count(), 0);
    // Forgotten, an older point is taken again.
    assert_eq!(conv.convert(&request(vec![], None, vec![gauge("g", "", vec![point(1.0, T, vec![])])]), 0).samples.len(), 1);
}

#[tokio::test]
async fn metrics_through_the_capsules_reach_forward_to_and_other_signals_are_ignored() {
    let (collect, handle) = Collect::handle();
    let ctx = crate::component::detached_context("otelcol.exporter.prometheus.t");
    let args = Args { forward_to: vec![handle], options: Options::default(), gc_frequency: Duration::from_secs(300) };
    let exporter = Arc::new(Exporter::new(&ctx, args));
    let input = ConsumerHandle::new("otelcol.exporter.prometheus.t", exporter.clone());
    let req = request(vec![kv("service.name", "api")], None, vec![sum("hits", "", AggregationTemporality::Cumulative, true, vec![point(3.0, T, vec![])])]);
    input.consume(Payload::from_metrics(&req)).await.expect("taken");
    input.consume(Payload::from_traces(&crate::otelcol::pdata::tests::traces(1, 1))).await.expect("ignored");
    let batches = collect.take();
    assert_eq!(batches.len(), 1);
    // Defaults: target_info, suffixes, scope labels (empty here, so absent).
    assert_eq!(lines(&batches[0]), ["{__name__=\"hits_total\", job=\"api\"} 3", "{__name__=\"target_info\", job=\"api\"} 1"]);
    assert_eq!(exporter.metrics.forwarded.get(), 2);
}
