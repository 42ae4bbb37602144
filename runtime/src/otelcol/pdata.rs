//! Telemetry data as it travels between components: the encoded OTLP export request.
//!
//! An `Export{Trace,Metrics,Logs}ServiceRequest` is nothing but a run of field-1 entries
//! (`ResourceSpans` / `ResourceMetrics` / `ResourceLogs`), and protobuf concatenates repeated
//! fields, so two requests merge by appending their bytes. A [`Payload`] keeps those bytes
//! (reference counted, cloned for free on fan-out) plus the item count that batching and the
//! self-metrics need. Counting and splitting walk the wire format only down to the items
//! (spans, metric data points, log records); the prost types are decoded only by components
//! that must look inside (attributes processor, debug exporter).

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;

use super::segments::Encoded;

/// The three OTLP signals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Signal {
    Traces,
    Metrics,
    Logs,
}

impl Signal {
    pub const ALL: [Signal; 3] = [Signal::Traces, Signal::Metrics, Signal::Logs];

    /// The `output` block attribute and the word used in messages.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Traces => "traces",
            Signal::Metrics => "metrics",
            Signal::Logs => "logs",
        }
    }

    /// The item word of upstream's self-metric names (`otelcol_receiver_accepted_<item>`).
    pub fn item_metric(self) -> &'static str {
        match self {
            Signal::Traces => "spans",
            Signal::Metrics => "metric_points",
            Signal::Logs => "log_records",
        }
    }

    /// Field numbers to descend through, level by level, to reach the items. Each level
    /// lists the child fields that hold the next level; the last level's children are items.
    fn levels(self) -> &'static [&'static [u32]] {
        match self {
            // request → ResourceSpans(1) → ScopeSpans(2) → Span(2)
            Signal::Traces | Signal::Logs => &[&[1], &[2], &[2]],
            // request → ResourceMetrics(1) → ScopeMetrics(2) → Metric(2)
            //   → gauge(5)/sum(7)/histogram(9)/exponential_histogram(10)/summary(11) → point(1)
            Signal::Metrics => &[&[1], &[2], &[2], &[5, 7, 9, 10, 11], &[1]],
        }
    }
}

/// One value per signal (the statements or conditions a processor keeps for each).
#[derive(Clone, Debug, Default)]
pub struct BySignal<T> {
    pub traces: T,
    pub metrics: T,
    pub logs: T,
}

impl<T> BySignal<T> {
    pub fn get(&self, signal: Signal) -> &T {
        match signal {
            Signal::Traces => &self.traces,
            Signal::Metrics => &self.metrics,
            Signal::Logs => &self.logs,
        }
    }

    pub fn get_mut(&mut self, signal: Signal) -> &mut T {
        match signal {
            Signal::Traces => &mut self.traces,
            Signal::Metrics => &mut self.metrics,
            Signal::Logs => &mut self.logs,
        }
    }
}

/// A malformed message: where the wire format broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdataError {
    #[error("proto: {0}")]
    Wire(&'static str),
    #[error("proto: {0}")]
    Decode(String),
    #[error("invalid JSON: {0}")]
    Json(String),
}

/// Client metadata (gRPC metadata or HTTP headers, lower-case keys) when the receiver keeps it.
pub type Metadata = Arc<BTreeMap<String, Vec<String>>>;

/// Encoded telemetry of one signal, with its item count.
#[derive(Clone, Debug)]
pub struct Payload {
    signal: Signal,
    /// A batch keeps the buffers of the requests it merged (see `segments`).
    bytes: Encoded,
    items: usize,
    metadata: Metadata,
}

impl Payload {
    /// Checks the whole request against the OTLP schema (see `wire_check`: whatever is
    /// accepted here decodes with prost) and counts its items, without decoding it.
    pub fn from_request(signal: Signal, bytes: Bytes) -> Result<Payload, PdataError> {
        let items = super::wire_check::check_request(signal, &bytes)?;
        Ok(Payload { signal, bytes: bytes.into(), items, metadata: Metadata::default() })
    }

    /// The items of a request [`Payload::from_request`] refused, as far as its framing can be
    /// read (for the refused-items count); 0 when even that is broken.
    pub fn refused_items(signal: Signal, bytes: &[u8]) -> usize {
        count_items(signal, bytes).unwrap_or(0)
    }

    /// Parses an OTLP/JSON request body (hex ids, string-encoded 64-bit integers). The body
    /// is released once decoded, before the request is encoded.
    pub fn from_json(signal: Signal, body: impl AsRef<[u8]>) -> Result<Payload, PdataError> {
        fn encode<T: Message + serde::de::DeserializeOwned>(body: impl AsRef<[u8]>) -> Result<Vec<u8>, PdataError> {
            let req: T = serde_json::from_slice(body.as_ref()).map_err(|e| PdataError::Json(e.to_string()))?;
            drop(body);
            Ok(req.encode_to_vec())
        }
        let encoded = match signal {
            Signal::Traces => encode::<ExportTraceServiceRequest>(body)?,
            Signal::Metrics => encode::<ExportMetricsServiceRequest>(body)?,
            Signal::Logs => encode::<ExportLogsServiceRequest>(body)?,
        };
        Payload::from_request(signal, Bytes::from(encoded))
    }

    pub fn from_traces(req: &ExportTraceServiceRequest) -> Payload {
        Payload::encoded(Signal::Traces, req.encode_to_vec())
    }

    pub fn from_metrics(req: &ExportMetricsServiceRequest) -> Payload {
        Payload::encoded(Signal::Metrics, req.encode_to_vec())
    }

    pub fn from_logs(req: &ExportLogsServiceRequest) -> Payload {
        Payload::encoded(Signal::Logs, req.encode_to_vec())
    }

    fn encoded(signal: Signal, bytes: Vec<u8>) -> Payload {
        let bytes = Bytes::from(bytes);
        // prost output is well formed, so counting cannot fail.
        let items = count_items(signal, &bytes).unwrap_or(0);
        Payload { signal, bytes: bytes.into(), items, metadata: Metadata::default() }
    }

    pub fn with_metadata(mut self, metadata: Metadata) -> Payload {
        self.metadata = metadata;
        self
    }

    pub fn signal(&self) -> Signal {
        self.signal
    }

    /// Spans, metric data points or log records.
    pub fn items(&self) -> usize {
        self.items
    }

    /// The request in one buffer: a batch's buffers are joined (copied) on every call, so
    /// a caller that needs it more than once keeps it.
    pub fn bytes(&self) -> Bytes {
        self.bytes.contiguous()
    }

    /// The request as buffers to be written one after the other (no copy).
    pub fn segments(&self) -> &[Bytes] {
        self.bytes.segments()
    }

    /// The request's size in bytes.
    pub fn encoded_len(&self) -> usize {
        self.bytes.len()
    }

    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    pub fn decode_traces(&self) -> Result<ExportTraceServiceRequest, PdataError> {
        ExportTraceServiceRequest::decode(self.bytes().clone()).map_err(|e| PdataError::Decode(e.to_string()))
    }

    pub fn decode_metrics(&self) -> Result<ExportMetricsServiceRequest, PdataError> {
        ExportMetricsServiceRequest::decode(self.bytes().clone()).map_err(|e| PdataError::Decode(e.to_string()))
    }

    pub fn decode_logs(&self) -> Result<ExportLogsServiceRequest, PdataError> {
        ExportLogsServiceRequest::decode(self.bytes().clone()).map_err(|e| PdataError::Decode(e.to_string()))
    }

    /// Appends payloads of one signal (no decoding): their buffers one after the other, large
    /// ones not copied. The metadata of the first part is kept: callers merge only payloads
    /// that share it.
    pub fn concat(parts: &[Payload]) -> Option<Payload> {
        let first = parts.first()?;
        if parts.len() == 1 {
            return Some(first.clone());
        }
        let bytes = Encoded::concat(parts.iter().map(|p| &p.bytes));
        Some(Payload { signal: first.signal, bytes, items: parts.iter().map(|p| p.items).sum(), metadata: first.metadata.clone() })
    }

    /// Cuts the payload into pieces of `max_items` items (the last may hold fewer), in one
    /// pass over the bytes: resource, scope and metric fields are repeated in every piece
    /// they have items in. `max_items == 0` keeps it whole.
    pub fn chunks(self, max_items: usize) -> Vec<Payload> {
        if max_items == 0 || self.items <= max_items {
            return vec![self];
        }
        let mut c = Chunker { levels: self.signal.levels(), max: max_items, stack: Vec::new(), root: Vec::new(), items: 0, out: Vec::new() };
        if c.walk(&self.bytes(), 0).is_err() {
            // Counted at construction, so the walk cannot fail; keep the data whole if it does.
            return vec![self];
        }
        c.flush();
        let mk = |(bytes, items): (Vec<u8>, usize)| Payload { signal: self.signal, bytes: Bytes::from(bytes).into(), items, metadata: self.metadata.clone() };
        c.out.into_iter().map(mk).collect()
    }

    /// Splits off the first `max_items` items (at least one), cutting inside resources,
    /// scopes and metrics where needed; resource and scope fields are repeated on both sides.
    /// Returns `(head, rest)`; `rest` is `None` when everything fit.
    pub fn split(self, max_items: usize) -> (Payload, Option<Payload>) {
        if max_items == 0 || self.items <= max_items {
            return (self, None);
        }
        let levels = self.signal.levels();
        match split_message(&self.bytes(), levels, 0, max_items) {
            Ok((head, tail, taken)) => {
                let mk = |bytes: Vec<u8>, items| Payload { signal: self.signal, bytes: Bytes::from(bytes).into(), items, metadata: self.metadata.clone() };
                let rest = self.items - taken;
                (mk(head, taken), (rest > 0 || !tail.is_empty()).then(|| mk(tail, rest)))
            }
            // Counted at construction, so the walk cannot fail; keep the data whole if it does.
            Err(_) => (self, None),
        }
    }
}

/// One field of a message: its number, wire type and the raw bytes of the whole field (tag
/// included) and of its value (for length-delimited fields, the bytes inside the length).
pub(crate) struct Field<'a> {
    pub(crate) number: u32,
    pub(crate) wire_type: u8,
    raw: &'a [u8],
    pub(crate) value: &'a [u8],
}

/// A varint as prost reads it: at most 10 bytes, the 10th holding only the top bit.
pub(crate) fn read_varint(buf: &[u8], pos: &mut usize) -> Result<u64, PdataError> {
    let mut v: u64 = 0;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*pos).ok_or(PdataError::Wire("unexpected end of message in varint"))?;
        *pos += 1;
        if shift == 63 && b > 1 {
            break;
        }
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Ok(v);
        }
    }
    Err(PdataError::Wire("varint overflows 64 bits"))
}

/// Iterates the fields of one message, checking the framing.
pub(crate) struct Fields<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<Field<'a>, PdataError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.buf.len() {
            return None;
        }
        Some(self.read_field())
    }
}

impl<'a> Fields<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Fields { buf, pos: 0 }
    }

    fn read_field(&mut self) -> Result<Field<'a>, PdataError> {
        let start = self.pos;
        let tag = read_varint(self.buf, &mut self.pos)?;
        // prost refuses keys beyond 32 bits.
        let tag = u32::try_from(tag).map_err(|_| PdataError::Wire("field number out of range"))?;
        let number = tag >> 3;
        if number == 0 {
            return Err(PdataError::Wire("illegal field number 0"));
        }
        let wire_type = (tag & 7) as u8;
        let value_start;
        match wire_type {
            0 => {
                value_start = self.pos;
                read_varint(self.buf, &mut self.pos)?;
            }
            1 | 5 => {
                value_start = self.pos;
                let n = if wire_type == 1 { 8 } else { 4 };
                if self.buf.len() - self.pos < n {
                    return Err(PdataError::Wire("unexpected end of message in fixed-width field"));
                }
                self.pos += n;
            }
            2 => {
                let len = read_varint(self.buf, &mut self.pos)?;
                value_start = self.pos;
                let len = usize::try_from(len).map_err(|_| PdataError::Wire("length out of range"))?;
                if self.buf.len() - self.pos < len {
                    return Err(PdataError::Wire("length-delimited field runs past the end of the message"));
                }
                self.pos += len;
            }
            _ => return Err(PdataError::Wire("unsupported wire type (groups are not valid in OTLP)")),
        }
        let raw = &self.buf[start..self.pos];
        let value = &self.buf[value_start..self.pos];
        Ok(Field { number, wire_type, raw, value })
    }
}

fn count_items(signal: Signal, bytes: &[u8]) -> Result<usize, PdataError> {
    count_in(bytes, signal.levels(), 0)
}

/// Items below a message at `depth`, checking every level's framing on the way.
fn count_in(msg: &[u8], levels: &[&[u32]], depth: usize) -> Result<usize, PdataError> {
    let Some(children) = levels.get(depth) else {
        // An item: its own fields must be well framed.
        for f in Fields::new(msg) {
            f?;
        }
        return Ok(1);
    };
    let mut n = 0;
    for f in Fields::new(msg) {
        let f = f?;
        if children.contains(&f.number) {
            if f.wire_type != 2 {
                return Err(PdataError::Wire("a nested message has the wrong wire type"));
            }
            n += count_in(f.value, levels, depth + 1)?;
        }
    }
    Ok(n)
}

fn put_child(out: &mut Vec<u8>, number: u32, body: &[u8]) {
    put_varint(out, (u64::from(number) << 3) | 2);
    put_varint(out, body.len() as u64);
    out.extend_from_slice(body);
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Splits a message at `depth` so that the head holds at most `budget` items. Non-child
/// fields (resource, scope, metric name, ...) are copied to both halves.
fn split_message(msg: &[u8], levels: &[&[u32]], depth: usize, budget: usize) -> Result<(Vec<u8>, Vec<u8>, usize), PdataError> {
    let children = levels.get(depth).copied().unwrap_or(&[]);
    let mut headers = Vec::new();
    let mut head = Vec::new();
    let mut tail = Vec::new();
    let mut taken = 0;
    for f in Fields::new(msg) {
        let f = f?;
        if !children.contains(&f.number) {
            headers.extend_from_slice(f.raw);
            continue;
        }
        if taken >= budget {
            // Everything after the budget goes to the tail as it is: no need to count it (the
            // framing was checked when the payload was made).
            tail.extend_from_slice(f.raw);
            continue;
        }
        let n = count_in(f.value, levels, depth + 1)?;
        if taken + n <= budget {
            head.extend_from_slice(f.raw);
            taken += n;
        } else {
            let (h, t, k) = split_message(f.value, levels, depth + 1, budget - taken)?;
            put_child(&mut head, f.number, &h);
            put_child(&mut tail, f.number, &t);
            taken += k;
        }
    }
    if depth == 0 {
        // The request itself has no fields worth repeating.
        return Ok((head, tail, taken));
    }
    let mut h = headers.clone();
    h.extend_from_slice(&head);
    let mut t = headers;
    t.extend_from_slice(&tail);
    Ok((h, t, taken))
}

/// A container (resource, scope, metric…) of the piece being built: its field number, its
/// own fields (repeated in every piece) and the children added so far.
struct Open {
    number: u32,
    headers: Vec<u8>,
    content: Vec<u8>,
}

/// Builds pieces of at most `max` items while walking a request once.
struct Chunker {
    levels: &'static [&'static [u32]],
    max: usize,
    /// The containers around the next item, outermost first.
    stack: Vec<Open>,
    /// The piece's top-level children, finished.
    root: Vec<u8>,
    items: usize,
    out: Vec<(Vec<u8>, usize)>,
}

impl Chunker {
    fn walk(&mut self, msg: &[u8], depth: usize) -> Result<(), PdataError> {
        let children = self.levels.get(depth).copied().unwrap_or(&[]);
        for f in Fields::new(msg) {
            let f = f?;
            if !children.contains(&f.number) {
                continue;
            }
            if self.levels.get(depth + 1).is_none() {
                // An item.
                match self.stack.last_mut() {
                    Some(open) => open.content.extend_from_slice(f.raw),
                    None => self.root.extend_from_slice(f.raw),
                }
                self.items += 1;
                if self.items == self.max {
                    self.flush();
                }
                continue;
            }
            let grandchildren = self.levels[depth + 1];
            let mut headers = Vec::new();
            for g in Fields::new(f.value) {
                let g = g?;
                if !grandchildren.contains(&g.number) {
                    headers.extend_from_slice(g.raw);
                }
            }
            self.stack.push(Open { number: f.number, headers, content: Vec::new() });
            self.walk(f.value, depth + 1)?;
            if let Some(open) = self.stack.pop() {
                self.close_into_parent(open);
            }
        }
        Ok(())
    }

    /// A finished container goes into its parent's content, if it has items in this piece.
    fn close_into_parent(&mut self, open: Open) {
        if open.content.is_empty() {
            return;
        }
        let parent = match self.stack.last_mut() {
            Some(p) => &mut p.content,
            None => &mut self.root,
        };
        put_varint(parent, (u64::from(open.number) << 3) | 2);
        put_varint(parent, (open.headers.len() + open.content.len()) as u64);
        parent.extend_from_slice(&open.headers);
        parent.extend_from_slice(&open.content);
    }

    /// Ends the current piece: the open containers are closed around what they hold, and
    /// reopened empty (same headers) for the items that follow.
    fn flush(&mut self) {
        if self.items == 0 {
            return;
        }
        let mut inner: Option<(u32, Vec<u8>)> = None;
        for open in self.stack.iter_mut().rev() {
            let mut body = std::mem::take(&mut open.content);
            if let Some((number, child)) = inner.take() {
                put_child(&mut body, number, &child);
            }
            inner = (!body.is_empty()).then(|| {
                let mut msg = open.headers.clone();
                msg.extend_from_slice(&body);
                (open.number, msg)
            });
        }
        let mut piece = std::mem::take(&mut self.root);
        if let Some((number, child)) = inner {
            put_child(&mut piece, number, &child);
        }
        self.out.push((piece, std::mem::take(&mut self.items)));
    }
}

impl crate::delivery::queue::QueueItem for Payload {
    fn items(&self) -> usize {
        Payload::items(self)
    }

    fn bytes(&self) -> usize {
        self.encoded_len()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
    use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    use opentelemetry_proto::tonic::metrics::v1::{metric, Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics};
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

    pub fn kv(k: &str, v: &str) -> KeyValue {
        KeyValue { key: k.into(), value: Some(AnyValue { value: Some(any_value::Value::StringValue(v.into())) }), ..Default::default() }
    }

    /// `resources` resources, each with one scope of `spans` spans named `r<i>s<j>`.
    pub fn traces(resources: usize, spans: usize) -> ExportTraceServiceRequest {
        ExportTraceServiceRequest {
            resource_spans: (0..resources)
                .map(|r| ResourceSpans {
                    resource: Some(Resource { attributes: vec![kv("service.name", &format!("svc{r}"))], ..Default::default() }),
                    scope_spans: vec![ScopeSpans {
                        scope: Some(InstrumentationScope { name: "lib".into(), ..Default::default() }),
                        spans: (0..spans)
                            .map(|s| Span { name: format!("r{r}s{s}"), trace_id: vec![1; 16], span_id: vec![2; 8], ..Default::default() })
                            .collect(),
                        schema_url: String::new(),
                    }],
                    schema_url: "https://schema".into(),
                })
                .collect(),
        }
    }

    fn span_names(p: &Payload) -> Vec<String> {
        let req = p.decode_traces().unwrap();
        req.resource_spans.iter().flat_map(|rs| rs.scope_spans.iter()).flat_map(|ss| ss.spans.iter().map(|s| s.name.clone())).collect()
    }

    #[test]
    fn counts_items_of_each_signal() {
        let t = Payload::from_traces(&traces(3, 4));
        assert_eq!(t.items(), 12);
        let m = ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                scope_metrics: vec![ScopeMetrics {
                    metrics: vec![
                        Metric {
                            name: "a".into(),
                            data: Some(metric::Data::Gauge(Gauge { data_points: vec![NumberDataPoint::default(); 3] })),
                            ..Default::default()
                        },
                        Metric {
                            name: "b".into(),
                            data: Some(metric::Data::Gauge(Gauge { data_points: vec![NumberDataPoint::default(); 2] })),
                            ..Default::default()
                        },
                    ],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        assert_eq!(Payload::from_metrics(&m).items(), 5);
        let l = ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                scope_logs: vec![ScopeLogs { log_records: vec![LogRecord::default(); 7], ..Default::default() }],
                ..Default::default()
            }],
        };
        assert_eq!(Payload::from_logs(&l).items(), 7);
    }

    #[test]
    fn concat_merges_without_decoding_and_decodes_to_the_union() {
        let a = Payload::from_traces(&traces(1, 2));
        let b = Payload::from_traces(&traces(2, 1));
        let m = Payload::concat(&[a, b]).unwrap();
        assert_eq!(m.items(), 4);
        assert_eq!(m.decode_traces().unwrap().resource_spans.len(), 3);
        assert_eq!(span_names(&m), ["r0s0", "r0s1", "r0s0", "r1s0"]);
    }

    #[test]
    fn split_cuts_inside_scopes_and_keeps_resources_on_both_sides() {
        let p = Payload::from_traces(&traces(2, 3));
        let (head, rest) = p.split(4);
        let rest = rest.unwrap();
        assert_eq!((head.items(), rest.items()), (4, 2));
        assert_eq!(span_names(&head), ["r0s0", "r0s1", "r0s2", "r1s0"]);
        assert_eq!(span_names(&rest), ["r1s1", "r1s2"]);
        let req = rest.decode_traces().unwrap();
        assert_eq!(req.resource_spans[0].resource.as_ref().unwrap().attributes[0], kv("service.name", "svc1"));
        assert_eq!(req.resource_spans[0].schema_url, "https://schema");
        assert_eq!(req.resource_spans[0].scope_spans[0].scope.as_ref().unwrap().name, "lib");
    }

    #[test]
    fn chunks_hold_max_items_each_in_order_with_their_resources_and_scopes() {
        for max in 1..=16 {
            let p = Payload::from_traces(&traces(3, 5));
            let pieces = p.clone().chunks(max);
            let counts: Vec<usize> = pieces.iter().map(Payload::items).collect();
            assert_eq!(counts.iter().sum::<usize>(), 15, "max {max}: {counts:?}");
            assert!(counts[..counts.len() - 1].iter().all(|&n| n == max) && *counts.last().unwrap() <= max, "max {max}: {counts:?}");
            let names: Vec<String> = pieces.iter().flat_map(span_names).collect();
            assert_eq!(names, span_names(&p), "max {max}");
            for piece in &pieces {
                let req = piece.decode_traces().unwrap();
                assert_eq!(count_items(Signal::Traces, &piece.bytes()).unwrap(), piece.items());
                for rs in &req.resource_spans {
                    assert_eq!(rs.schema_url, "https://schema");
                    assert!(!rs.scope_spans.is_empty(), "no empty resources");
                    for ss in &rs.scope_spans {
                        assert_eq!(ss.scope.as_ref().unwrap().name, "lib");
                    }
                }
            }
        }
    }

    #[test]
    fn chunking_a_huge_request_is_linear() {
        // A million empty spans in one scope: cutting pieces of ten by copying the rest at
        // every cut would move terabytes.
        let req = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans { spans: vec![Span::default(); 1_000_000], ..Default::default() }],
                ..Default::default()
            }],
        };
        let pieces = Payload::from_traces(&req).chunks(10);
        assert_eq!(pieces.len(), 100_000);
        assert!(pieces.iter().all(|p| p.items() == 10));
    }

    #[test]
    fn split_of_metrics_cuts_inside_a_metric() {
        let m = ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                scope_metrics: vec![ScopeMetrics {
                    metrics: vec![Metric {
                        name: "m".into(),
                        data: Some(metric::Data::Gauge(Gauge {
                            data_points: (0..5).map(|i| NumberDataPoint { time_unix_nano: i, ..Default::default() }).collect(),
                        })),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let pieces = Payload::from_metrics(&m).chunks(2);
        assert_eq!(pieces.iter().map(Payload::items).collect::<Vec<_>>(), [2, 2, 1]);
        for piece in &pieces {
            assert_eq!(piece.decode_metrics().unwrap().resource_metrics[0].scope_metrics[0].metrics[0].name, "m");
        }
        let (head, rest) = Payload::from_metrics(&m).split(2);
        assert_eq!(head.items(), 2);
        let rest = rest.unwrap();
        assert_eq!(rest.items(), 3);
        let r = rest.decode_metrics().unwrap();
        let metric = &r.resource_metrics[0].scope_metrics[0].metrics[0];
        assert_eq!(metric.name, "m");
        let Some(metric::Data::Gauge(g)) = &metric.data else { panic!("gauge expected") };
        assert_eq!(g.data_points.iter().map(|p| p.time_unix_nano).collect::<Vec<_>>(), [2, 3, 4]);
    }

    #[test]
    fn malformed_bytes_are_rejected() {
        assert!(Payload::from_request(Signal::Traces, Bytes::from_static(b"\x0a\x05ab")).is_err());
        assert!(Payload::from_request(Signal::Traces, Bytes::from_static(b"\xff\xff\xff")).is_err());
        // field 1 as a varint where a message is expected
        assert!(Payload::from_request(Signal::Logs, Bytes::from_static(b"\x08\x01")).is_err());
        assert_eq!(Payload::from_request(Signal::Traces, Bytes::new()).unwrap().items(), 0);
    }

    /// A span whose attribute `deep` holds an array nested `levels` times.
    fn nested_attribute(levels: usize) -> ExportTraceServiceRequest {
        use opentelemetry_proto::tonic::common::v1::ArrayValue;
        let mut v = AnyValue { value: Some(any_value::Value::StringValue("leaf".into())) };
        for _ in 0..levels {
            v = AnyValue { value: Some(any_value::Value::ArrayValue(ArrayValue { values: vec![v] })) };
        }
        let mut req = traces(1, 1);
        req.resource_spans[0].scope_spans[0].spans[0].attributes.push(KeyValue { key: "deep".into(), value: Some(v), ..Default::default() });
        req
    }

    #[test]
    fn strings_that_are_not_utf8_are_refused_like_prost_does() {
        let mut bytes = traces(1, 2).encode_to_vec();
        let at = bytes.windows(4).position(|w| w == b"r0s1").unwrap();
        bytes[at..at + 2].copy_from_slice(&[0xff, 0xfe]);
        assert!(ExportTraceServiceRequest::decode(bytes.as_slice()).is_err(), "prost refuses it");
        let e = Payload::from_request(Signal::Traces, Bytes::from(bytes.clone())).unwrap_err();
        assert_eq!(e, PdataError::Wire("a string field is not valid UTF-8"));
        // Its framing is fine, so its items can be counted as refused.
        assert_eq!(Payload::refused_items(Signal::Traces, &bytes), 2);
        // The same bytes in a `bytes` field are fine.
        let mut req = traces(1, 1);
        req.resource_spans[0].scope_spans[0].spans[0].trace_id = vec![0xff, 0xfe];
        assert_eq!(Payload::from_request(Signal::Traces, Bytes::from(req.encode_to_vec())).unwrap().items(), 1);
    }

    #[test]
    fn nesting_is_bounded_below_the_decoders_limit() {
        // The attribute value is at depth 5 (request, resource, scope, span, key-value); each array
        // level adds two (ArrayValue, AnyValue): 29 levels reach 63.
        let ok = nested_attribute(29);
        let p = Payload::from_request(Signal::Traces, Bytes::from(ok.encode_to_vec())).unwrap();
        assert!(p.decode_traces().is_ok());
        for levels in [30, 120, 500] {
            let bytes = nested_attribute(levels).encode_to_vec();
            let e = Payload::from_request(Signal::Traces, Bytes::from(bytes)).unwrap_err();
            assert!(e.to_string().contains("nested too deeply"), "{levels}: {e}");
        }
        assert!(ExportTraceServiceRequest::decode(nested_attribute(120).encode_to_vec().as_slice()).is_err(), "prost refuses 120");
    }

    #[test]
    fn known_fields_with_the_wrong_wire_type_are_refused() {
        // A span (field 2 of ScopeSpans) whose name (field 5, a string) is a varint.
        let span = [0x28_u8, 0x01]; // field 5, wire type 0
        let scope = [&[0x12, span.len() as u8][..], &span].concat();
        let resource = [&[0x12, scope.len() as u8][..], &scope].concat();
        let req = [&[0x0a, resource.len() as u8][..], &resource].concat();
        assert!(ExportTraceServiceRequest::decode(req.as_slice()).is_err());
        assert!(Payload::from_request(Signal::Traces, Bytes::from(req)).is_err());
        // An unknown field of any wire type is skipped, as prost does.
        let span = [0xf8_u8, 0x07, 0x01]; // field 127, varint
        let scope = [&[0x12, span.len() as u8][..], &span].concat();
        let resource = [&[0x12, scope.len() as u8][..], &scope].concat();
        let req = [&[0x0a, resource.len() as u8][..], &resource].concat();
        assert!(ExportTraceServiceRequest::decode(req.as_slice()).is_ok());
        assert_eq!(Payload::from_request(Signal::Traces, Bytes::from(req)).unwrap().items(), 1);
    }

    /// Requests of every signal exercising every message of the schema.
    fn samples() -> Vec<(Signal, Vec<u8>)> {
        use opentelemetry_proto::tonic::common::v1::{ArrayValue, KeyValueList};
        use opentelemetry_proto::tonic::metrics::v1::{
            exponential_histogram_data_point::Buckets, summary_data_point::ValueAtQuantile, Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint,
            Histogram, HistogramDataPoint, Sum, Summary, SummaryDataPoint,
        };
        use opentelemetry_proto::tonic::trace::v1::{span, Status};
        let map = AnyValue {
            value: Some(any_value::Value::KvlistValue(KeyValueList {
                values: vec![
                    kv("a", "b"),
                    KeyValue {
                        key: "arr".into(),
                        value: Some(AnyValue {
                            value: Some(any_value::Value::ArrayValue(ArrayValue {
                                values: vec![
                                    AnyValue { value: Some(any_value::Value::IntValue(-3)) },
                                    AnyValue { value: Some(any_value::Value::DoubleValue(1.5)) },
                                    AnyValue { value: Some(any_value::Value::BytesValue(vec![0xff])) },
                                ],
                            })),
                        }),
                        ..Default::default()
                    },
                ],
            })),
        };
        let attrs = vec![kv("k", "v"), KeyValue { key: "m".into(), value: Some(map.clone()), ..Default::default() }];
        let mut t = traces(2, 2);
        let s = &mut t.resource_spans[0].scope_spans[0].spans[0];
        s.attributes = attrs.clone();
        s.events = vec![span::Event { time_unix_nano: 5, name: "ev".into(), attributes: attrs.clone(), dropped_attributes_count: 1 }];
        s.links = vec![span::Link {
            trace_id: vec![3; 16],
            span_id: vec![4; 8],
            trace_state: "x=y".into(),
            attributes: attrs.clone(),
            dropped_attributes_count: 2,
            flags: 1,
        }];
        s.status = Some(Status { message: "oops".into(), code: 2 });
        s.flags = 257;
        s.kind = 3;
        s.start_time_unix_nano = 9;
        let exemplar = Exemplar { filtered_attributes: attrs.clone(), time_unix_nano: 1, span_id: vec![1; 8], trace_id: vec![2; 16], value: None };
        let point = NumberDataPoint { attributes: attrs.clone(), time_unix_nano: 4, exemplars: vec![exemplar.clone()], flags: 1, ..Default::default() };
        let metric = |name: &str, data| Metric { name: name.into(), description: "d".into(), unit: "1".into(), metadata: attrs.clone(), data: Some(data) };
        let m = ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                resource: Some(Resource { attributes: attrs.clone(), ..Default::default() }),
                scope_metrics: vec![ScopeMetrics {
                    scope: Some(InstrumentationScope { name: "s".into(), version: "1".into(), attributes: attrs.clone(), dropped_attributes_count: 1 }),
                    metrics: vec![
                        metric("g", metric::Data::Gauge(Gauge { data_points: vec![point.clone(); 2] })),
                        metric("s", metric::Data::Sum(Sum { data_points: vec![point], aggregation_temporality: 2, is_monotonic: true })),
                        metric(
                            "h",
                            metric::Data::Histogram(Histogram {
                                data_points: vec![HistogramDataPoint {
                                    attributes: attrs.clone(),
                                    count: 3,
                                    sum: Some(2.0),
                                    bucket_counts: vec![1, 2],
                                    explicit_bounds: vec![0.5],
                                    exemplars: vec![exemplar],
                                    min: Some(0.1),
                                    max: Some(9.0),
                                    ..Default::default()
                                }],
                                aggregation_temporality: 1,
                            }),
                        ),
                        metric(
                            "e",
                            metric::Data::ExponentialHistogram(ExponentialHistogram {
                                data_points: vec![ExponentialHistogramDataPoint {
                                    attributes: attrs.clone(),
                                    scale: -2,
                                    zero_count: 1,
                                    positive: Some(Buckets { offset: -1, bucket_counts: vec![1, 300] }),
                                    negative: Some(Buckets { offset: 2, bucket_counts: vec![7] }),
                                    zero_threshold: 0.1,
                                    ..Default::default()
                                }],
                                aggregation_temporality: 1,
                            }),
                        ),
                        metric(
                            "q",
                            metric::Data::Summary(Summary {
                                data_points: vec![SummaryDataPoint {
                                    attributes: attrs.clone(),
                                    count: 1,
                                    sum: 1.0,
                                    quantile_values: vec![ValueAtQuantile { quantile: 0.5, value: 1.0 }],
                                    ..Default::default()
                                }],
                            }),
                        ),
                    ],
                    schema_url: "u".into(),
                }],
                schema_url: "u".into(),
            }],
        };
        let l = ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                scope_logs: vec![ScopeLogs {
                    log_records: vec![
                        LogRecord {
                            body: Some(map),
                            attributes: attrs,
                            severity_text: "WARN".into(),
                            severity_number: 13,
                            event_name: "e".into(),
                            trace_id: vec![1; 16],
                            flags: 1,
                            ..Default::default()
                        };
                        3
                    ],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        vec![(Signal::Traces, t.encode_to_vec()), (Signal::Metrics, m.encode_to_vec()), (Signal::Logs, l.encode_to_vec())]
    }

    fn prost_decodes(signal: Signal, bytes: &[u8]) -> bool {
        match signal {
            Signal::Traces => ExportTraceServiceRequest::decode(bytes).is_ok(),
            Signal::Metrics => ExportMetricsServiceRequest::decode(bytes).is_ok(),
            Signal::Logs => ExportLogsServiceRequest::decode(bytes).is_ok(),
        }
    }

    /// Fuzzing by mutation: whatever `from_request` accepts, prost decodes, and the count
    /// matches the framing walk's.
    #[test]
    fn whatever_is_accepted_decodes() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut rand = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n.max(1) as u64) as usize
        };
        let mut accepted = 0;
        for (signal, good) in samples() {
            let p = Payload::from_request(signal, Bytes::from(good.clone())).unwrap();
            assert_eq!(p.items(), count_items(signal, &good).unwrap());
            assert!(p.items() >= 3);
            for _ in 0..20_000 {
                let mut b = good.clone();
                for _ in 0..1 + rand(3) {
                    let i = rand(b.len());
                    match rand(6) {
                        0 => b[i] ^= 1 << rand(8),
                        1 => b[i] = [0x00, 0x80, 0xff, 0x7f, 0x01, 0xc0][rand(6)],
                        2 => b.truncate(i),
                        3 => b.insert(i, rand(256) as u8),
                        4 => {
                            b.remove(i);
                        }
                        _ => b[i] = b[i].wrapping_add(1),
                    }
                    if b.is_empty() {
                        break;
                    }
                }
                if let Ok(p) = Payload::from_request(signal, Bytes::from(b.clone())) {
                    accepted += 1;
                    assert!(prost_decodes(signal, &b), "accepted but prost refuses: {signal:?} {b:02x?}");
                    assert_eq!(Some(p.items()), count_items(signal, &b).ok());
                }
            }
        }
        assert!(accepted > 1000, "the mutations should not all be refused: {accepted}");
    }

    #[test]
    fn json_requests_use_hex_ids_and_camel_case() {
        let body = br#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"x"}}]},
            "scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"op","kind":2,
            "startTimeUnixNano":"1544712660000000000","endTimeUnixNano":"1544712661000000000",
            "attributes":[{"key":"n","value":{"intValue":"42"}}]}]}]}]}"#;
        let p = Payload::from_json(Signal::Traces, body).unwrap();
        assert_eq!(p.items(), 1);
        let span = &p.decode_traces().unwrap().resource_spans[0].scope_spans[0].spans[0];
        assert_eq!(span.trace_id[0], 0x5b);
        assert_eq!(span.start_time_unix_nano, 1544712660000000000);
        assert!(Payload::from_json(Signal::Traces, b"{not json").is_err());
    }
}
