//! The protobuf scrape format: a stream of `io.prometheus.client.MetricFamily` messages, each
//! preceded by its varint length (client_model `metrics.proto`; field numbers as there).
//!
//! Summaries and classic histograms come out flattened as Prometheus' parser does
//! (`_count`, `_sum`, then quantiles / `_bucket{le}` with a `+Inf` bucket added when missing);
//! histograms with native buckets come out as [`Entry::Histogram`].

use crate::sample::{BucketSpan as SampleSpan, Exemplar as SampleExemplar, Histogram as SampleHistogram, MetricType as SampleType, ResetHint};

use super::{format_openmetrics_float, Entry, ExemplarLabels, ExemplarRef, LabelSource, NativeHistogram, ParseError, ParserOptions, Series};

#[derive(Clone, PartialEq, prost::Message)]
pub struct LabelPair {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub value: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum MetricType {
    Counter = 0,
    Gauge = 1,
    Summary = 2,
    Untyped = 3,
    Histogram = 4,
    GaugeHistogram = 5,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Gauge {
    #[prost(double, tag = "1")]
    pub value: f64,
}

/// `google.protobuf.Timestamp`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Timestamp {
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

impl Timestamp {
    fn millis(&self) -> i64 {
        self.seconds.wrapping_mul(1000).wrapping_add(i64::from(self.nanos / 1_000_000))
    }
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Counter {
    #[prost(double, tag = "1")]
    pub value: f64,
    #[prost(message, optional, tag = "2")]
    pub exemplar: Option<Exemplar>,
    #[prost(message, optional, tag = "3")]
    pub start_timestamp: Option<Timestamp>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Quantile {
    #[prost(double, tag = "1")]
    pub quantile: f64,
    #[prost(double, tag = "2")]
    pub value: f64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Summary {
    #[prost(uint64, tag = "1")]
    pub sample_count: u64,
    #[prost(double, tag = "2")]
    pub sample_sum: f64,
    #[prost(message, repeated, tag = "3")]
    pub quantile: Vec<Quantile>,
    #[prost(message, optional, tag = "4")]
    pub start_timestamp: Option<Timestamp>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Untyped {
    #[prost(double, tag = "1")]
    pub value: f64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Histogram {
    #[prost(uint64, tag = "1")]
    pub sample_count: u64,
    /// Overrides `sample_count` if > 0.
    #[prost(double, tag = "4")]
    pub sample_count_float: f64,
    #[prost(double, tag = "2")]
    pub sample_sum: f64,
    /// Increasing upper bounds; the `+Inf` bucket is optional.
    #[prost(message, repeated, tag = "3")]
    pub bucket: Vec<Bucket>,
    #[prost(message, optional, tag = "15")]
    pub start_timestamp: Option<Timestamp>,
    #[prost(sint32, tag = "5")]
    pub schema: i32,
    #[prost(double, tag = "6")]
    pub zero_threshold: f64,
    #[prost(uint64, tag = "7")]
    pub zero_count: u64,
    #[prost(double, tag = "8")]
    pub zero_count_float: f64,
    #[prost(message, repeated, tag = "9")]
    pub negative_span: Vec<BucketSpan>,
    /// Deltas to the previous bucket's count.
    #[prost(sint64, repeated, tag = "10")]
    pub negative_delta: Vec<i64>,
    #[prost(double, repeated, tag = "11")]
    pub negative_count: Vec<f64>,
    #[prost(message, repeated, tag = "12")]
    pub positive_span: Vec<BucketSpan>,
    #[prost(sint64, repeated, tag = "13")]
    pub positive_delta: Vec<i64>,
    #[prost(double, repeated, tag = "14")]
    pub positive_count: Vec<f64>,
    #[prost(message, repeated, tag = "16")]
    pub exemplars: Vec<Exemplar>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Bucket {
    #[prost(uint64, tag = "1")]
    pub cumulative_count: u64,
    /// Overrides `cumulative_count` if > 0.
    #[prost(double, tag = "4")]
    pub cumulative_count_float: f64,
    #[prost(double, tag = "2")]
    pub upper_bound: f64,
    #[prost(message, optional, tag = "3")]
    pub exemplar: Option<Exemplar>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct BucketSpan {
    #[prost(sint32, tag = "1")]
    pub offset: i32,
    #[prost(uint32, tag = "2")]
    pub length: u32,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Exemplar {
    #[prost(message, repeated, tag = "1")]
    pub label: Vec<LabelPair>,
    #[prost(double, tag = "2")]
    pub value: f64,
    #[prost(message, optional, tag = "3")]
    pub timestamp: Option<Timestamp>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Metric {
    #[prost(message, repeated, tag = "1")]
    pub label: Vec<LabelPair>,
    #[prost(message, optional, tag = "2")]
    pub gauge: Option<Gauge>,
    #[prost(message, optional, tag = "3")]
    pub counter: Option<Counter>,
    #[prost(message, optional, tag = "4")]
    pub summary: Option<Summary>,
    #[prost(message, optional, tag = "5")]
    pub untyped: Option<Untyped>,
    #[prost(message, optional, tag = "7")]
    pub histogram: Option<Histogram>,
    #[prost(int64, tag = "6")]
    pub timestamp_ms: i64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct MetricFamily {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub help: String,
    #[prost(enumeration = "MetricType", tag = "3")]
    pub r#type: i32,
    #[prost(message, repeated, tag = "4")]
    pub metric: Vec<Metric>,
    #[prost(string, tag = "5")]
    pub unit: String,
}

/// Where the parser is within the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Decode the next family.
    Family,
    /// Help was reported; unit (if any) or type next.
    Help,
    /// Unit was reported; type next.
    Unit,
    /// At the start of metric `metric`.
    Metric,
    /// Within the flattened series of a summary or classic histogram: -2 count, -1 sum,
    /// then quantile or bucket index.
    Field(i64),
    Done,
}

/// A pull parser over a delimited `MetricFamily` stream.
pub struct ProtobufParser<'a> {
    buf: &'a [u8],
    pos: usize,
    options: ParserOptions,
    family: MetricFamily,
    ftype: MetricType,
    /// The next metric to read, and the one the current entry belongs to.
    metric: usize,
    current: usize,
    phase: Phase,
    /// The current series' name (family name plus suffix), key, extra label and sorted
    /// label order.
    name: String,
    key: Vec<u8>,
    extra: Option<(&'static str, String)>,
    order: Vec<usize>,
    value: f64,
    exemplar: Option<(usize, bool)>,
    histogram: SampleHistogram,
    histogram_exemplars: Vec<SampleExemplar>,
}

/// What the current entry is.
enum Emit {
    Help,
    Unit,
    Type,
    Series,
    Histogram,
}

impl<'a> ProtobufParser<'a> {
    pub fn new(buf: &'a [u8], options: ParserOptions) -> Self {
        ProtobufParser {
            buf,
            pos: 0,
            options,
            family: MetricFamily::default(),
            ftype: MetricType::Untyped,
            metric: 0,
            current: 0,
            phase: Phase::Family,
            name: String::new(),
            key: Vec::new(),
            extra: None,
            order: Vec::new(),
            value: 0.0,
            exemplar: None,
            histogram: SampleHistogram::default(),
            histogram_exemplars: Vec::new(),
        }
    }

    /// The next entry; `None` at the end of the input and after an error.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<Result<Entry<'_>, ParseError>> {
        match self.advance() {
            Ok(Some(emit)) => Some(Ok(self.entry(emit))),
            Ok(None) => {
                self.phase = Phase::Done;
                None
            }
            Err(e) => {
                self.phase = Phase::Done;
                Some(Err(e))
            }
        }
    }

    fn advance(&mut self) -> Result<Option<Emit>, ParseError> {
        loop {
            match self.phase {
                Phase::Done => return Ok(None),
                Phase::Family => {
                    if !self.next_family()? {
                        return Ok(None);
                    }
                    if self.family.metric.is_empty() {
                        continue;
                    }
                    self.metric = 0;
                    self.phase = Phase::Help;
                    return Ok(Some(Emit::Help));
                }
                Phase::Help => {
                    if self.family.unit.is_empty() {
                        self.phase = Phase::Metric;
                        return Ok(Some(Emit::Type));
                    }
                    self.phase = Phase::Unit;
                    return Ok(Some(Emit::Unit));
                }
                Phase::Unit => {
                    self.phase = Phase::Metric;
                    return Ok(Some(Emit::Type));
                }
                Phase::Metric => {
                    if self.metric >= self.family.metric.len() {
                        self.phase = Phase::Family;
                        continue;
                    }
                    self.current = self.metric;
                    self.sort_labels();
                    match self.ftype {
                        MetricType::Counter | MetricType::Gauge | MetricType::Untyped => {
                            self.simple_series();
                            self.metric += 1;
                            return Ok(Some(Emit::Series));
                        }
                        MetricType::Summary => self.phase = Phase::Field(-2),
                        MetricType::Histogram | MetricType::GaugeHistogram => {
                            let m = &self.family.metric[self.metric];
                            let native = m.histogram.as_ref().filter(|h| !self.options.ignore_native_histograms && is_native(h));
                            if let Some(h) = native {
                                convert_native(h, self.ftype, &self.family.name, &mut self.histogram, &mut self.histogram_exemplars)?;
                                let classic_too = self.options.parse_classic_histograms && !h.bucket.is_empty();
                                self.exemplar = None;
                                self.set_series("", None);
                                if classic_too {
                                    self.phase = Phase::Field(-2);
                                } else {
                                    self.metric += 1;
                                }
                                return Ok(Some(Emit::Histogram));
                            }
                            self.phase = Phase::Field(-2);
                        }
                    }
                }
                Phase::Field(pos) => {
                    self.current = self.metric;
                    let done = self.field_series(pos);
                    self.phase = if done {
                        self.metric += 1;
                        Phase::Metric
                    } else {
                        Phase::Field(pos + 1)
                    };
                    return Ok(Some(Emit::Series));
                }
            }
        }
    }

    /// Decodes the next length-prefixed family; false at the end of the input.
    fn next_family(&mut self) -> Result<bool, ParseError> {
        let rest = &self.buf[self.pos..];
        if rest.is_empty() {
            return Ok(false);
        }
        let (len, varint_len) = read_varint(rest).ok_or_else(|| ParseError::Invalid("clientpb: invalid varint encountered".into()))?;
        let total = usize::try_from(len).ok().and_then(|l| l.checked_add(varint_len)).unwrap_or(usize::MAX);
        if total > rest.len() {
            return Err(ParseError::Invalid(format!("clientpb: insufficient length of buffer, expected at least {total} bytes, got {} bytes", rest.len())));
        }
        prost::Message::clear(&mut self.family);
        prost::Message::merge(&mut self.family, &rest[varint_len..total]).map_err(|e| ParseError::Invalid(format!("protobuf: {e}")))?;
        self.pos += total;
        let name = &self.family.name;
        if name.is_empty() {
            return Err(ParseError::Invalid(format!("invalid metric name: {name}")));
        }
        self.ftype = MetricType::try_from(self.family.r#type)
            .map_err(|_| ParseError::Invalid(format!("unknown metric type for metric {}: {}", super::go_quote(name.as_bytes()), self.family.r#type)))?;
        Ok(true)
    }

    /// Orders the current metric's labels by name, for the series key.
    fn sort_labels(&mut self) {
        let labels = &self.family.metric[self.metric].label;
        self.order.clear();
        self.order.extend(0..labels.len());
        if !labels.windows(2).all(|w| w[0].name <= w[1].name) {
            self.order.sort_by(|&a, &b| labels[a].name.cmp(&labels[b].name));
        }
    }

    /// Builds the series name and key: the name, then `0xff name 0xff value` per label in
    /// name order (upstream's form).
    fn set_series(&mut self, suffix: &str, extra: Option<(&'static str, String)>) {
        self.name.clear();
        self.name.push_str(&self.family.name);
        self.name.push_str(suffix);
        self.extra = extra;
        self.key.clear();
        self.key.extend_from_slice(self.name.as_bytes());
        let labels = &self.family.metric[self.metric].label;
        let mut extra = self.extra.as_ref();
        for &i in &self.order {
            let l = &labels[i];
            if l.name == crate::labels::METRIC_NAME {
                continue;
            }
            if let Some((n, v)) = extra.filter(|(n, _)| *n <= l.name.as_str()) {
                push_pair(&mut self.key, n, v);
                extra = None;
            }
            push_pair(&mut self.key, &l.name, &l.value);
        }
        if let Some((n, v)) = extra {
            push_pair(&mut self.key, n, v);
        }
    }

    fn simple_series(&mut self) {
        let m = &self.family.metric[self.metric];
        let (value, exemplar) = match self.ftype {
            MetricType::Counter => {
                let c = m.counter.as_ref();
                (c.map_or(0.0, |c| c.value), c.and_then(|c| c.exemplar.as_ref()).map(|_| (usize::MAX, true)))
            }
            MetricType::Gauge => (m.gauge.as_ref().map_or(0.0, |g| g.value), None),
            _ => (m.untyped.as_ref().map_or(0.0, |u| u.value), None),
        };
        self.value = value;
        self.exemplar = exemplar;
        self.set_series("", None);
    }

    /// One flattened series of a summary or classic histogram; true when it was the last.
    fn field_series(&mut self, pos: i64) -> bool {
        let m = &self.family.metric[self.metric];
        let mut exemplar = None;
        let (value, suffix, extra, done) = if self.ftype == MetricType::Summary {
            let s = m.summary.as_ref();
            let quantiles = s.map_or(&[][..], |s| &s.quantile[..]);
            match pos {
                -2 => (s.map_or(0, |s| s.sample_count) as f64, "_count", None, false),
                -1 => (s.map_or(0.0, |s| s.sample_sum), "_sum", None, quantiles.is_empty()),
                i => {
                    let i = i as usize;
                    let (q, v) = quantiles.get(i).map_or((0.0, 0.0), |q| (q.quantile, q.value));
                    (v, "", Some(("quantile", format_openmetrics_float(q))), i + 1 >= quantiles.len())
                }
            }
        } else {
            let h = m.histogram.as_ref();
            let count = h.map_or(0.0, |h| if h.sample_count_float != 0.0 { h.sample_count_float } else { h.sample_count as f64 });
            let buckets = h.map_or(&[][..], |h| &h.bucket[..]);
            match pos {
                -2 => (count, "_count", None, false),
                -1 => (h.map_or(0.0, |h| h.sample_sum), "_sum", None, false),
                i => {
                    let i = i as usize;
                    match buckets.get(i) {
                        Some(b) => {
                            exemplar = b.exemplar.as_ref().map(|_| (i, false));
                            let v = if b.cumulative_count_float != 0.0 { b.cumulative_count_float } else { b.cumulative_count as f64 };
                            (v, "_bucket", Some(("le", format_openmetrics_float(b.upper_bound))), b.upper_bound == f64::INFINITY)
                        }
                        None => (count, "_bucket", Some(("le", "+Inf".to_string())), true),
                    }
                }
            }
        };
        self.value = value;
        self.exemplar = exemplar;
        self.set_series(suffix, extra);
        done
    }

    fn entry(&self, emit: Emit) -> Entry<'_> {
        let f = &self.family;
        match emit {
            Emit::Help => Entry::Help { metric: f.name.as_str().into(), text: f.help.as_str().into() },
            Emit::Unit => Entry::Unit { metric: f.name.as_str().into(), unit: f.unit.as_str().into() },
            Emit::Type => Entry::Type { metric: f.name.as_str().into(), metric_type: sample_type(self.ftype) },
            Emit::Series | Emit::Histogram => {
                let m = &f.metric[self.current];
                let labels = LabelSource::Proto { name: &self.name, pairs: &m.label, extra: self.extra.as_ref().map(|(n, v)| (*n, v.as_str())) };
                let timestamp_ms = (m.timestamp_ms != 0).then_some(m.timestamp_ms);
                let start = match self.ftype {
                    MetricType::Counter => m.counter.as_ref().and_then(|c| c.start_timestamp.as_ref()),
                    MetricType::Summary => m.summary.as_ref().and_then(|s| s.start_timestamp.as_ref()),
                    MetricType::Histogram | MetricType::GaugeHistogram => m.histogram.as_ref().and_then(|h| h.start_timestamp.as_ref()),
                    _ => None,
                };
                let start_timestamp_ms = start.map(Timestamp::millis).filter(|&t| t != 0);
                if let Emit::Histogram = emit {
                    return Entry::Histogram(NativeHistogram {
                        series: &self.key,
                        timestamp_ms,
                        start_timestamp_ms,
                        metric_type: sample_type(self.ftype),
                        histogram: &self.histogram,
                        labels,
                        exemplars: &self.histogram_exemplars,
                    });
                }
                let exemplar = self.exemplar.and_then(|(bucket, counter)| {
                    let e = if counter {
                        m.counter.as_ref().and_then(|c| c.exemplar.as_ref())
                    } else {
                        m.histogram.as_ref().and_then(|h| h.bucket.get(bucket)).and_then(|b| b.exemplar.as_ref())
                    }?;
                    Some(ExemplarRef { value: e.value, timestamp_ms: e.timestamp.as_ref().map(Timestamp::millis), labels: ExemplarLabels::Proto(&e.label) })
                });
                Entry::Series(Series {
                    series: &self.key,
                    value: self.value,
                    timestamp_ms,
                    start_timestamp_ms,
                    metric_type: sample_type(self.ftype),
                    labels,
                    exemplar,
                })
            }
        }
    }
}

fn push_pair(key: &mut Vec<u8>, name: &str, value: &str) {
    key.push(0xff);
    key.extend_from_slice(name.as_bytes());
    key.push(0xff);
    key.extend_from_slice(value.as_bytes());
}

fn sample_type(t: MetricType) -> SampleType {
    match t {
        MetricType::Counter => SampleType::Counter,
        MetricType::Gauge => SampleType::Gauge,
        MetricType::Summary => SampleType::Summary,
        MetricType::Untyped => SampleType::Unknown,
        MetricType::Histogram => SampleType::Histogram,
        MetricType::GaugeHistogram => SampleType::GaugeHistogram,
    }
}

/// A varint of at most 5 bytes (a 32-bit length); `None` when truncated or longer.
fn read_varint(b: &[u8]) -> Option<(u64, usize)> {
    let mut v: u64 = 0;
    for (i, &c) in b.iter().enumerate().take(10) {
        v |= u64::from(c & 0x7f) << (7 * i);
        if c & 0x80 == 0 {
            return (i < 5).then_some((v, i + 1));
        }
    }
    None
}

/// A histogram counts as native when it has spans, a zero bucket width or zero-bucket
/// observations (upstream's rule).
fn is_native(h: &Histogram) -> bool {
    !h.positive_span.is_empty() || !h.negative_span.is_empty() || h.zero_threshold > 0.0 || h.zero_count > 0
}

fn check_spans(side: &str, spans: &[BucketSpan], buckets: usize) -> Result<(), String> {
    let total: u64 = spans.iter().map(|s| u64::from(s.length)).sum();
    if total != buckets as u64 {
        return Err(format!("{side} side: spans require {total} buckets, have {buckets}"));
    }
    Ok(())
}

/// Delta-encoded integer counts as absolute counts.
fn absolute(deltas: &[i64]) -> impl Iterator<Item = f64> + '_ {
    deltas.iter().scan(0i64, |acc, d| {
        *acc = acc.wrapping_add(*d);
        Some(*acc as f64)
    })
}

/// Rebuilds spans and counts without empty buckets (upstream's `Compact(0)`). Spans and
/// counts were checked to agree in length.
fn compact(spans: &[BucketSpan], counts: impl Iterator<Item = f64>, out_spans: &mut Vec<SampleSpan>, out_counts: &mut Vec<f64>) {
    out_spans.clear();
    out_counts.clear();
    let mut counts = counts;
    let mut index: i64 = 0;
    // One past the last bucket written, for the next span's offset.
    let mut last_end: Option<i64> = None;
    for (k, span) in spans.iter().enumerate() {
        index = if k == 0 { i64::from(span.offset) } else { index + i64::from(span.offset) };
        for _ in 0..span.length {
            let Some(c) = counts.next() else { return };
            if c != 0.0 {
                match (last_end, out_spans.last_mut()) {
                    (Some(end), Some(last)) if end == index => last.length += 1,
                    _ => {
                        let offset = match last_end {
                            None => index,
                            Some(end) => index - end,
                        };
                        out_spans.push(SampleSpan { offset: i32::try_from(offset).unwrap_or(i32::MAX), length: 1 });
                    }
                }
                out_counts.push(c);
                last_end = Some(index + 1);
            }
            index += 1;
        }
    }
}

/// A protobuf native histogram as a sample histogram with absolute counts, and its
/// exemplars (those with a timestamp; the buckets' when the histogram has none of its own).
fn convert_native(h: &Histogram, ftype: MetricType, family: &str, out: &mut SampleHistogram, exemplars: &mut Vec<SampleExemplar>) -> Result<(), ParseError> {
    let is_float = h.sample_count_float > 0.0 || h.zero_count_float > 0.0;
    let (pos, neg) = if is_float { (h.positive_count.len(), h.negative_count.len()) } else { (h.positive_delta.len(), h.negative_delta.len()) };
    let fail = |e: String| ParseError::Invalid(format!("histogram {}: {e}", super::go_quote(family.as_bytes())));
    check_spans("positive", &h.positive_span, pos).map_err(fail)?;
    check_spans("negative", &h.negative_span, neg).map_err(fail)?;
    out.schema = h.schema;
    out.zero_threshold = h.zero_threshold;
    out.sum = h.sample_sum;
    out.is_float = is_float;
    out.reset_hint = if ftype == MetricType::GaugeHistogram { ResetHint::Gauge } else { ResetHint::Unknown };
    out.custom_values.clear();
    if is_float {
        out.count = h.sample_count_float;
        out.zero_count = h.zero_count_float;
        compact(&h.positive_span, h.positive_count.iter().copied(), &mut out.positive_spans, &mut out.positive);
        compact(&h.negative_span, h.negative_count.iter().copied(), &mut out.negative_spans, &mut out.negative);
    } else {
        out.count = h.sample_count as f64;
        out.zero_count = h.zero_count as f64;
        compact(&h.positive_span, absolute(&h.positive_delta), &mut out.positive_spans, &mut out.positive);
        compact(&h.negative_span, absolute(&h.negative_delta), &mut out.negative_spans, &mut out.negative);
    }
    exemplars.clear();
    let own = if h.exemplars.is_empty() { None } else { Some(&h.exemplars) };
    let candidates: Box<dyn Iterator<Item = &Exemplar>> = match own {
        Some(own) => Box::new(own.iter()),
        None => Box::new(h.bucket.iter().filter_map(|b| b.exemplar.as_ref())),
    };
    for e in candidates {
        if let Some(ts) = &e.timestamp {
            let labels = crate::Labels::new(e.label.iter().map(|l| (l.name.as_str(), l.value.as_str())));
            exemplars.push(SampleExemplar { labels, value: e.value, t: ts.millis() });
        }
    }
    Ok(())
}
