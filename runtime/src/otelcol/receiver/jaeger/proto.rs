//! Jaeger's protobuf model (`jaeger.api_v2`, `model.proto` and `collector.proto`) for the
//! gRPC collector's `PostSpans`, read into the [`model`].

use super::model::{Batch, Log, Process, RefType, Span, SpanRef, Tag, TagValue};

/// The gRPC method the collector serves.
pub const POST_SPANS_PATH: &str = "/jaeger.api_v2.CollectorService/PostSpans";

mod wire {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct PostSpansRequest {
        #[prost(message, optional, tag = "1")]
        pub batch: Option<Batch>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Batch {
        #[prost(message, repeated, tag = "1")]
        pub spans: Vec<Span>,
        #[prost(message, optional, tag = "2")]
        pub process: Option<Process>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Process {
        #[prost(string, tag = "1")]
        pub service_name: String,
        #[prost(message, repeated, tag = "2")]
        pub tags: Vec<KeyValue>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Span {
        #[prost(bytes = "vec", tag = "1")]
        pub trace_id: Vec<u8>,
        #[prost(bytes = "vec", tag = "2")]
        pub span_id: Vec<u8>,
        #[prost(string, tag = "3")]
        pub operation_name: String,
        #[prost(message, repeated, tag = "4")]
        pub references: Vec<SpanRef>,
        #[prost(uint32, tag = "5")]
        pub flags: u32,
        #[prost(message, optional, tag = "6")]
        pub start_time: Option<Timestamp>,
        #[prost(message, optional, tag = "7")]
        pub duration: Option<Timestamp>,
        #[prost(message, repeated, tag = "8")]
        pub tags: Vec<KeyValue>,
        #[prost(message, repeated, tag = "9")]
        pub logs: Vec<Log>,
        #[prost(message, optional, tag = "10")]
        pub process: Option<Process>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct SpanRef {
        #[prost(bytes = "vec", tag = "1")]
        pub trace_id: Vec<u8>,
        #[prost(bytes = "vec", tag = "2")]
        pub span_id: Vec<u8>,
        #[prost(int32, tag = "3")]
        pub ref_type: i32,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Log {
        #[prost(message, optional, tag = "1")]
        pub timestamp: Option<Timestamp>,
        #[prost(message, repeated, tag = "2")]
        pub fields: Vec<KeyValue>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct KeyValue {
        #[prost(string, tag = "1")]
        pub key: String,
        #[prost(int32, tag = "2")]
        pub v_type: i32,
        #[prost(string, tag = "3")]
        pub v_str: String,
        #[prost(bool, tag = "4")]
        pub v_bool: bool,
        #[prost(int64, tag = "5")]
        pub v_int64: i64,
        #[prost(double, tag = "6")]
        pub v_float64: f64,
        #[prost(bytes = "vec", tag = "7")]
        pub v_binary: Vec<u8>,
    }

    /// `google.protobuf.Timestamp` and `Duration` share this layout.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Timestamp {
        #[prost(int64, tag = "1")]
        pub seconds: i64,
        #[prost(int32, tag = "2")]
        pub nanos: i32,
    }
}

fn nanos(t: Option<&wire::Timestamp>) -> i64 {
    t.map_or(0, |t| t.seconds.saturating_mul(1_000_000_000).saturating_add(i64::from(t.nanos)))
}

fn id<const N: usize>(b: &[u8], what: &str) -> Result<[u8; N], String> {
    if b.is_empty() {
        return Ok([0; N]);
    }
    <[u8; N]>::try_from(b).map_err(|_| format!("{what} has {} bytes, expected {N}", b.len()))
}

fn tag(kv: wire::KeyValue) -> Tag {
    let value = match kv.v_type {
        0 => TagValue::Str(kv.v_str),
        1 => TagValue::Bool(kv.v_bool),
        2 => TagValue::Long(kv.v_int64),
        3 => TagValue::Double(kv.v_float64),
        4 => TagValue::Binary(kv.v_binary),
        // The collector prints an unknown enum value's number.
        other => TagValue::Unknown(format!("<Unknown Jaeger TagType \"{other}\">")),
    };
    Tag { key: kv.key, value }
}

fn process(p: wire::Process) -> Process {
    Process { service_name: p.service_name, tags: p.tags.into_iter().map(tag).collect() }
}

fn span(s: wire::Span) -> Result<Span, String> {
    let start = nanos(s.start_time.as_ref());
    let references = s
        .references
        .into_iter()
        .map(|r| {
            let ref_type = match r.ref_type {
                0 => RefType::ChildOf,
                1 => RefType::FollowsFrom,
                _ => RefType::Other,
            };
            Ok(SpanRef { ref_type, trace_id: id(&r.trace_id, "reference trace_id")?, span_id: id(&r.span_id, "reference span_id")? })
        })
        .collect::<Result<_, String>>()?;
    Ok(Span {
        trace_id: id(&s.trace_id, "trace_id")?,
        span_id: id(&s.span_id, "span_id")?,
        parent_span_id: [0; 8],
        operation_name: s.operation_name,
        references,
        flags: s.flags,
        start_unix_nano: start as u64,
        end_unix_nano: start.saturating_add(nanos(s.duration.as_ref())) as u64,
        tags: s.tags.into_iter().map(tag).collect(),
        logs: s.logs.into_iter().map(|l| Log { unix_nano: nanos(l.timestamp.as_ref()) as u64, fields: l.fields.into_iter().map(tag).collect() }).collect(),
        process: s.process.map(process),
    })
}

/// A `PostSpansRequest`'s batch.
pub fn post_spans(body: &[u8]) -> Result<Batch, String> {
    use prost::Message;
    let req = wire::PostSpansRequest::decode(body).map_err(|e| format!("invalid protobuf: {e}"))?;
    let b = req.batch.unwrap_or_default();
    let spans = b.spans.into_iter().enumerate().map(|(i, s)| span(s).map_err(|e| format!("span {i}: {e}"))).collect::<Result<_, _>>()?;
    Ok(Batch { process: b.process.map(process), spans })
}

#[cfg(test)]
pub(crate) mod encode_for_test {
    //! The same messages built from the model, for tests that send requests.
    use super::{wire, Batch, Process, RefType, Tag, TagValue};
    use prost::Message;

    fn ts(ns: u64) -> Option<wire::Timestamp> {
        Some(wire::Timestamp { seconds: (ns / 1_000_000_000) as i64, nanos: (ns % 1_000_000_000) as i32 })
    }

    fn kv(t: &Tag) -> wire::KeyValue {
        let mut kv = wire::KeyValue { key: t.key.clone(), ..Default::default() };
        match &t.value {
            TagValue::Str(s) => kv.v_str = s.clone(),
            TagValue::Bool(b) => (kv.v_type, kv.v_bool) = (1, *b),
            TagValue::Long(l) => (kv.v_type, kv.v_int64) = (2, *l),
            TagValue::Double(d) => (kv.v_type, kv.v_float64) = (3, *d),
            TagValue::Binary(b) => (kv.v_type, kv.v_binary) = (4, b.clone()),
            TagValue::Unknown(_) => kv.v_type = 9,
        }
        kv
    }

    fn process(p: &Process) -> wire::Process {
        wire::Process { service_name: p.service_name.clone(), tags: p.tags.iter().map(kv).collect() }
    }

    pub fn post_spans(b: &Batch) -> Vec<u8> {
        let spans = b
            .spans
            .iter()
            .map(|s| wire::Span {
                trace_id: s.trace_id.to_vec(),
                span_id: s.span_id.to_vec(),
                operation_name: s.operation_name.clone(),
                references: s
                    .references
                    .iter()
                    .map(|r| wire::SpanRef {
                        trace_id: r.trace_id.to_vec(),
                        span_id: r.span_id.to_vec(),
                        ref_type: i32::from(r.ref_type == RefType::FollowsFrom),
                    })
                    .collect(),
                flags: s.flags,
                start_time: ts(s.start_unix_nano),
                duration: ts(s.end_unix_nano - s.start_unix_nano),
                tags: s.tags.iter().map(kv).collect(),
                logs: s.logs.iter().map(|l| wire::Log { timestamp: ts(l.unix_nano), fields: l.fields.iter().map(kv).collect() }).collect(),
                process: s.process.as_ref().map(process),
            })
            .collect();
        wire::PostSpansRequest { batch: Some(wire::Batch { spans, process: b.process.as_ref().map(process) }) }.encode_to_vec()
    }
}
