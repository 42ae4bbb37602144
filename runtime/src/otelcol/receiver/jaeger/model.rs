//! Jaeger's span model as both wire formats carry it (Thrift `jaeger.thrift`, protobuf
//! `model.proto`), so one translation serves every protocol. Times are already nanoseconds
//! since the epoch and IDs big-endian bytes, as OTLP wants them.

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Batch {
    pub process: Option<Process>,
    pub spans: Vec<Span>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Process {
    pub service_name: String,
    pub tags: Vec<Tag>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Span {
    pub trace_id: [u8; 16],
    pub span_id: [u8; 8],
    /// Thrift's `parentSpanId`; all zeros when absent (protobuf carries parents as references).
    pub parent_span_id: [u8; 8],
    pub operation_name: String,
    pub references: Vec<SpanRef>,
    pub flags: u32,
    pub start_unix_nano: u64,
    pub end_unix_nano: u64,
    pub tags: Vec<Tag>,
    pub logs: Vec<Log>,
    /// A span's own process (protobuf only), which wins over the batch's.
    pub process: Option<Process>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefType {
    ChildOf,
    FollowsFrom,
    /// A value neither IDL defines.
    Other,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SpanRef {
    pub ref_type: RefType,
    pub trace_id: [u8; 16],
    pub span_id: [u8; 8],
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Log {
    pub unix_nano: u64,
    pub fields: Vec<Tag>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Tag {
    pub key: String,
    pub value: TagValue,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TagValue {
    Str(String),
    Bool(bool),
    Long(i64),
    Double(f64),
    Binary(Vec<u8>),
    /// A value type the IDL does not define, with the name the collector prints for it.
    Unknown(String),
}

/// A 64-bit ID as the big-endian bytes OTLP carries.
pub fn span_id(v: i64) -> [u8; 8] {
    v.to_be_bytes()
}

/// A trace ID from its high and low halves.
pub fn trace_id(high: i64, low: i64) -> [u8; 16] {
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&high.to_be_bytes());
    out[8..].copy_from_slice(&low.to_be_bytes());
    out
}
