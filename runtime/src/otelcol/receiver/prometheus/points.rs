//! OTLP data points from what one series group collected in a batch, with start times kept
//! per series across batches.

use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{
    exemplar, exponential_histogram_data_point::Buckets, number_data_point, summary_data_point::ValueAtQuantile, Exemplar as OtlpExemplar,
    ExponentialHistogramDataPoint, HistogramDataPoint, NumberDataPoint, SummaryDataPoint,
};
use prom::sample::{is_stale, BucketSpan};

const NO_RECORDED_VALUE: u32 = 1;
/// More buckets than schema 8 has for the whole float range: such a layout is malformed.
const MAX_DENSE_BUCKETS: u64 = 1 << 20;

/// One data point being assembled.
#[derive(Default)]
pub(super) struct Point {
    pub(super) attrs: Vec<(String, String)>,
    pub(super) t_ms: i64,
    pub(super) value: Option<f64>,
    pub(super) created: Option<f64>,
    pub(super) sum: Option<f64>,
    pub(super) count: Option<f64>,
    pub(super) buckets: Vec<(f64, f64)>,
    pub(super) quantiles: Vec<(f64, f64)>,
    pub(super) native: Option<std::sync::Arc<prom::Histogram>>,
    pub(super) exemplars: Vec<OtlpExemplar>,
}

/// A point's start time: its `_created` series, else none (Alloy leaves the collector's
/// start-time adjustment out, so no start is made up from earlier samples).
fn start_of(created: Option<f64>) -> u64 {
    created.filter(|c| c.is_finite() && *c > 0.0).map_or(0, |c| (c * 1e9) as u64)
}

/// A gauge's or counter's point; only counters have a start time.
pub(super) fn number_point(p: Point, counter: bool) -> NumberDataPoint {
    let t = ms_to_ns(p.t_ms);
    let v = p.value.unwrap_or(0.0);
    let stale = is_stale(v);
    let start = if counter { start_of(p.created) } else { 0 };
    NumberDataPoint {
        attributes: kvs(&p.attrs),
        start_time_unix_nano: start,
        time_unix_nano: t,
        exemplars: p.exemplars,
        flags: if stale { NO_RECORDED_VALUE } else { 0 },
        value: (!stale).then_some(number_data_point::Value::AsDouble(v)),
    }
}

/// Cumulative buckets back to per-bucket counts; a point without `_count` is dropped.
pub(super) fn histogram_point(mut p: Point) -> Option<HistogramDataPoint> {
    let count = p.count?;
    let t = ms_to_ns(p.t_ms);
    p.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    if p.buckets.last().is_some_and(|(le, _)| *le == f64::INFINITY) {
        p.buckets.pop();
    }
    let stale = is_stale(count) || p.sum.is_some_and(is_stale);
    let mut bucket_counts = Vec::with_capacity(p.buckets.len() + 1);
    let mut previous = 0.0;
    for (_, c) in &p.buckets {
        bucket_counts.push(if stale { 0 } else { (c - previous).max(0.0) as u64 });
        previous = *c;
    }
    bucket_counts.push(if stale { 0 } else { (count - previous).max(0.0) as u64 });
    let start = start_of(p.created);
    Some(HistogramDataPoint {
        attributes: kvs(&p.attrs),
        start_time_unix_nano: start,
        time_unix_nano: t,
        count: if stale { 0 } else { count as u64 },
        sum: if stale { None } else { p.sum },
        bucket_counts,
        explicit_bounds: p.buckets.iter().map(|(le, _)| *le).collect(),
        exemplars: p.exemplars,
        flags: if stale { NO_RECORDED_VALUE } else { 0 },
        ..Default::default()
    })
}

pub(super) fn summary_point(mut p: Point) -> Option<SummaryDataPoint> {
    let count = p.count?;
    let t = ms_to_ns(p.t_ms);
    let stale = is_stale(count) || p.sum.is_some_and(is_stale);
    p.quantiles.sort_by(|a, b| a.0.total_cmp(&b.0));
    let start = start_of(p.created);
    Some(SummaryDataPoint {
        attributes: kvs(&p.attrs),
        start_time_unix_nano: start,
        time_unix_nano: t,
        count: if stale { 0 } else { count as u64 },
        sum: if stale { 0.0 } else { p.sum.unwrap_or(0.0) },
        quantile_values: if stale { Vec::new() } else { p.quantiles.iter().map(|&(quantile, value)| ValueAtQuantile { quantile, value }).collect() },
        flags: if stale { NO_RECORDED_VALUE } else { 0 },
    })
}

/// Native buckets back to OTLP's dense buckets; custom-bucket histograms have no OTLP form.
pub(super) fn native_point(p: Point) -> Option<ExponentialHistogramDataPoint> {
    let h = p.native?;
    if h.schema < -4 || h.schema > 8 {
        return None;
    }
    let t = ms_to_ns(p.t_ms);
    let stale = is_stale(h.count) || is_stale(h.sum);
    let start = 0;
    // Dense buckets; `None` for a layout wider than any float range needs (a bad input
    // must not make us allocate gigabytes).
    let dense = |spans: &[BucketSpan], counts: &[f64]| -> Result<Option<Buckets>, ()> {
        let Some(first) = spans.first() else { return Ok(None) };
        let width: u64 = spans.iter().skip(1).map(|s| s.offset.max(0) as u64).chain(spans.iter().map(|s| u64::from(s.length))).sum();
        if width > MAX_DENSE_BUCKETS {
            return Err(());
        }
        let mut out = Vec::with_capacity(width as usize);
        let mut counts = counts.iter();
        for (i, span) in spans.iter().enumerate() {
            if i > 0 {
                out.extend(std::iter::repeat_n(0, span.offset.max(0) as usize));
            }
            out.extend(counts.by_ref().take(span.length as usize).map(|c| c.max(0.0) as u64));
        }
        // Native index i is OTLP index i - 1.
        Ok(Some(Buckets { offset: first.offset.saturating_sub(1), bucket_counts: out }))
    };
    let (positive, negative) = (dense(&h.positive_spans, &h.positive).ok()?, dense(&h.negative_spans, &h.negative).ok()?);
    Some(ExponentialHistogramDataPoint {
        attributes: kvs(&p.attrs),
        start_time_unix_nano: start,
        time_unix_nano: t,
        count: if stale { 0 } else { h.count as u64 },
        sum: (!stale).then_some(h.sum),
        scale: h.schema,
        zero_count: h.zero_count as u64,
        zero_threshold: h.zero_threshold,
        positive,
        negative,
        flags: if stale { NO_RECORDED_VALUE } else { 0 },
        exemplars: p.exemplars,
        ..Default::default()
    })
}

fn ms_to_ns(ms: i64) -> u64 {
    (ms.max(0) as u64).saturating_mul(1_000_000)
}

pub(super) fn string_kv(k: &str, v: &str) -> KeyValue {
    KeyValue { key: k.into(), value: Some(AnyValue { value: Some(any_value::Value::StringValue(v.into())) }), ..Default::default() }
}

pub(super) fn kvs(attrs: &[(String, String)]) -> Vec<KeyValue> {
    attrs.iter().map(|(k, v)| string_kv(k, v)).collect()
}

/// `trace_id`/`span_id` labels become the IDs, the other labels filtered attributes.
pub(super) fn exemplar_of(e: &prom::Exemplar) -> OtlpExemplar {
    let mut out = OtlpExemplar { time_unix_nano: ms_to_ns(e.t), value: Some(exemplar::Value::AsDouble(e.value)), ..Default::default() };
    for (k, v) in e.labels.iter() {
        match (k, hex_bytes(v)) {
            ("trace_id", Some(b)) if b.len() == 16 => out.trace_id = b,
            ("span_id", Some(b)) if b.len() == 8 => out.span_id = b,
            _ => out.filtered_attributes.push(string_kv(k, v)),
        }
    }
    out
}

fn hex_bytes(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| s.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok())).collect()
}
