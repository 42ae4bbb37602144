//! prost messages of both remote-write versions (field numbers from the published `.proto`
//! files), for decoding requests; and their conversion to a [`Batch`].

use std::sync::Arc;

use prost::Message as _;

use super::DecodeError;
use crate::labels::{Labels, LabelsBuilder};
use crate::sample::{
    Batch, BucketSpan, Exemplar, ExemplarSample, Histogram, HistogramSample, Metadata, MetadataUpdate, MetricType, ResetHint, Sample, SeriesRef,
};

#[derive(Clone, PartialEq, prost::Message)]
pub struct WriteRequest {
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
    #[prost(message, repeated, tag = "3")]
    pub metadata: Vec<MetricMetadata>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeries {
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<WireSample>,
    #[prost(message, repeated, tag = "3")]
    pub exemplars: Vec<WireExemplar>,
    #[prost(message, repeated, tag = "4")]
    pub histograms: Vec<WireHistogram>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Label {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub value: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct WireSample {
    #[prost(double, tag = "1")]
    pub value: f64,
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct WireExemplar {
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    #[prost(double, tag = "2")]
    pub value: f64,
    #[prost(int64, tag = "3")]
    pub timestamp: i64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct MetricMetadata {
    #[prost(int32, tag = "1")]
    pub r#type: i32,
    #[prost(string, tag = "2")]
    pub metric_family_name: String,
    #[prost(string, tag = "4")]
    pub help: String,
    #[prost(string, tag = "5")]
    pub unit: String,
}

/// The native histogram message; the same field numbers in both versions.
#[derive(Clone, PartialEq, prost::Message)]
pub struct WireHistogram {
    #[prost(uint64, optional, tag = "1")]
    pub count_int: Option<u64>,
    #[prost(double, optional, tag = "2")]
    pub count_float: Option<f64>,
    #[prost(double, tag = "3")]
    pub sum: f64,
    #[prost(sint32, tag = "4")]
    pub schema: i32,
    #[prost(double, tag = "5")]
    pub zero_threshold: f64,
    #[prost(uint64, optional, tag = "6")]
    pub zero_count_int: Option<u64>,
    #[prost(double, optional, tag = "7")]
    pub zero_count_float: Option<f64>,
    #[prost(message, repeated, tag = "8")]
    pub negative_spans: Vec<WireSpan>,
    #[prost(sint64, repeated, tag = "9")]
    pub negative_deltas: Vec<i64>,
    #[prost(double, repeated, tag = "10")]
    pub negative_counts: Vec<f64>,
    #[prost(message, repeated, tag = "11")]
    pub positive_spans: Vec<WireSpan>,
    #[prost(sint64, repeated, tag = "12")]
    pub positive_deltas: Vec<i64>,
    #[prost(double, repeated, tag = "13")]
    pub positive_counts: Vec<f64>,
    #[prost(int32, tag = "14")]
    pub reset_hint: i32,
    #[prost(int64, tag = "15")]
    pub timestamp: i64,
    #[prost(double, repeated, tag = "16")]
    pub custom_values: Vec<f64>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct WireSpan {
    #[prost(sint32, tag = "1")]
    pub offset: i32,
    #[prost(uint32, tag = "2")]
    pub length: u32,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct RequestV2 {
    #[prost(string, repeated, tag = "4")]
    pub symbols: Vec<String>,
    #[prost(message, repeated, tag = "5")]
    pub timeseries: Vec<TimeSeriesV2>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeriesV2 {
    #[prost(uint32, repeated, tag = "1")]
    pub labels_refs: Vec<u32>,
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<WireSample>,
    #[prost(message, repeated, tag = "3")]
    pub histograms: Vec<WireHistogram>,
    #[prost(message, repeated, tag = "4")]
    pub exemplars: Vec<ExemplarV2>,
    #[prost(message, optional, tag = "5")]
    pub metadata: Option<MetadataV2>,
    #[prost(int64, tag = "6")]
    pub created_timestamp: i64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ExemplarV2 {
    #[prost(uint32, repeated, tag = "1")]
    pub labels_refs: Vec<u32>,
    #[prost(double, tag = "2")]
    pub value: f64,
    #[prost(int64, tag = "3")]
    pub timestamp: i64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct MetadataV2 {
    #[prost(int32, tag = "1")]
    pub r#type: i32,
    #[prost(uint32, tag = "3")]
    pub help_ref: u32,
    #[prost(uint32, tag = "4")]
    pub unit_ref: u32,
}

/// The wire number of a metric type (the same in both versions).
pub fn metric_type_number(t: MetricType) -> i32 {
    match t {
        MetricType::Unknown => 0,
        MetricType::Counter => 1,
        MetricType::Gauge => 2,
        MetricType::Histogram => 3,
        MetricType::GaugeHistogram => 4,
        MetricType::Summary => 5,
        MetricType::Info => 6,
        MetricType::StateSet => 7,
    }
}

pub fn metric_type_from_number(n: i32) -> MetricType {
    match n {
        1 => MetricType::Counter,
        2 => MetricType::Gauge,
        3 => MetricType::Histogram,
        4 => MetricType::GaugeHistogram,
        5 => MetricType::Summary,
        6 => MetricType::Info,
        7 => MetricType::StateSet,
        _ => MetricType::Unknown,
    }
}

fn labels_of(pairs: impl Iterator<Item = (String, String)>) -> Result<Labels, DecodeError> {
    let mut b = LabelsBuilder::default();
    for (n, v) in pairs {
        if n.is_empty() {
            return Err(DecodeError::Invalid("label with an empty name".into()));
        }
        if b.get(&n).is_some() {
            return Err(DecodeError::Invalid(format!("duplicate label name {n:?}")));
        }
        b.set(n, v);
    }
    Ok(b.into_labels())
}

fn histogram_of(h: &WireHistogram) -> Histogram {
    let is_float = h.count_float.is_some();
    let undelta = |deltas: &[i64]| {
        let mut acc = 0i64;
        deltas
            .iter()
            .map(|d| {
                acc = acc.wrapping_add(*d);
                acc as f64
            })
            .collect::<Vec<f64>>()
    };
    let spans = |s: &[WireSpan]| s.iter().map(|s| BucketSpan { offset: s.offset, length: s.length }).collect();
    Histogram {
        schema: h.schema,
        zero_threshold: h.zero_threshold,
        zero_count: h.zero_count_float.unwrap_or(h.zero_count_int.unwrap_or(0) as f64),
        count: h.count_float.unwrap_or(h.count_int.unwrap_or(0) as f64),
        sum: h.sum,
        positive_spans: spans(&h.positive_spans),
        positive: if is_float { h.positive_counts.clone() } else { undelta(&h.positive_deltas) },
        negative_spans: spans(&h.negative_spans),
        negative: if is_float { h.negative_counts.clone() } else { undelta(&h.negative_deltas) },
        is_float,
        reset_hint: match h.reset_hint {
            1 => ResetHint::Yes,
            2 => ResetHint::No,
            3 => ResetHint::Gauge,
            _ => ResetHint::Unknown,
        },
        custom_values: h.custom_values.clone(),
    }
}

/// A decoded 1.0 request as a batch (series refs are left zero: the receiver interns).
pub fn decode_v1(body: &[u8]) -> Result<Batch, DecodeError> {
    let req = WriteRequest::decode(body).map_err(|e| DecodeError::Protobuf(e.to_string()))?;
    let mut batch = Batch::default();
    for ts in req.timeseries {
        let labels = labels_of(ts.labels.into_iter().map(|l| (l.name, l.value)))?;
        for s in ts.samples {
            batch.samples.push(Sample { series: SeriesRef(0), labels: labels.clone(), t: s.timestamp, v: s.value });
        }
        for h in &ts.histograms {
            batch.histograms.push(HistogramSample { series: SeriesRef(0), labels: labels.clone(), t: h.timestamp, histogram: Arc::new(histogram_of(h)) });
        }
        for e in ts.exemplars {
            let el = labels_of(e.labels.into_iter().map(|l| (l.name, l.value)))?;
            batch.exemplars.push(ExemplarSample {
                series: SeriesRef(0),
                labels: labels.clone(),
                exemplar: Exemplar { labels: el, value: e.value, t: e.timestamp },
            });
        }
    }
    for m in req.metadata {
        let metadata = Metadata { metric_family: m.metric_family_name.clone(), metric_type: metric_type_from_number(m.r#type), help: m.help, unit: m.unit };
        batch.metadata.push(MetadataUpdate { series: SeriesRef(0), labels: Labels::new([("__name__", m.metric_family_name)]), metadata: Arc::new(metadata) });
    }
    Ok(batch)
}

/// A decoded 2.0 request as a batch.
pub fn decode_v2(body: &[u8]) -> Result<Batch, DecodeError> {
    let req = RequestV2::decode(body).map_err(|e| DecodeError::Protobuf(e.to_string()))?;
    let sym = |i: u32| req.symbols.get(i as usize).cloned().ok_or_else(|| DecodeError::Invalid(format!("symbol reference {i} out of range")));
    let pairs = |refs: &[u32]| -> Result<Labels, DecodeError> {
        if !refs.len().is_multiple_of(2) {
            return Err(DecodeError::Invalid("odd number of label references".into()));
        }
        let mut v = Vec::with_capacity(refs.len() / 2);
        for p in refs.chunks(2) {
            v.push((sym(p[0])?, sym(p[1])?));
        }
        labels_of(v.into_iter())
    };
    let mut batch = Batch::default();
    for ts in &req.timeseries {
        let labels = pairs(&ts.labels_refs)?;
        for s in &ts.samples {
            batch.samples.push(Sample { series: SeriesRef(0), labels: labels.clone(), t: s.timestamp, v: s.value });
        }
        for h in &ts.histograms {
            batch.histograms.push(HistogramSample { series: SeriesRef(0), labels: labels.clone(), t: h.timestamp, histogram: Arc::new(histogram_of(h)) });
        }
        for e in &ts.exemplars {
            batch.exemplars.push(ExemplarSample {
                series: SeriesRef(0),
                labels: labels.clone(),
                exemplar: Exemplar { labels: pairs(&e.labels_refs)?, value: e.value, t: e.timestamp },
            });
        }
        if let Some(m) = &ts.metadata {
            let metadata = Metadata {
                metric_family: labels.metric_name().unwrap_or_default().to_string(),
                metric_type: metric_type_from_number(m.r#type),
                help: sym(m.help_ref)?,
                unit: sym(m.unit_ref)?,
            };
            if metadata.metric_type != MetricType::Unknown || !metadata.help.is_empty() || !metadata.unit.is_empty() {
                batch.metadata.push(MetadataUpdate { series: SeriesRef(0), labels: labels.clone(), metadata: Arc::new(metadata) });
            }
        }
    }
    Ok(batch)
}
