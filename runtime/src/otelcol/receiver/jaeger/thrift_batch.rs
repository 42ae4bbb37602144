//! `jaeger.thrift`'s `Batch` read with either Thrift protocol into the [`model`], and the
//! agent's `emitBatch` message around it. As Thrift's generated readers do, a field of an
//! unexpected type is skipped, unknown fields are skipped, and a required field that never
//! came is an error.

use super::model::{self, Batch, Log, Process, RefType, Span, SpanRef, Tag, TagValue};
use super::thrift::{Protocol, Result, TType, ThriftError};

/// The agent's one-way message carrying a batch.
const EMIT_BATCH: &str = "emitBatch";
/// The agent's Zipkin message, which the collector does not take either.
const EMIT_ZIPKIN_BATCH: &str = "emitZipkinBatch";
/// Message types: a call, or a one-way call (what the agent's clients send).
const CALL: u8 = 1;
const ONEWAY: u8 = 4;

fn required<T>(v: Option<T>, what: &str) -> Result<T> {
    v.ok_or_else(|| ThriftError::Invalid(format!("required field {what} is not set")))
}

/// A list of structs, each read by `item`.
fn list<'a, P: Protocol<'a>, T>(p: &mut P, item: impl Fn(&mut P) -> Result<T>) -> Result<Vec<T>> {
    let (et, n) = p.list_begin()?;
    let mut out = Vec::new();
    for _ in 0..n {
        if et == TType::Struct {
            out.push(item(p)?);
        } else {
            p.skip(et)?;
        }
    }
    p.container_end();
    Ok(out)
}

/// Reads a struct's fields with `field`, which returns `false` for a field it does not take.
fn fields<'a, P: Protocol<'a>>(p: &mut P, mut field: impl FnMut(&mut P, TType, i16) -> Result<bool>) -> Result<()> {
    p.struct_begin()?;
    while let Some((t, id)) = p.field_begin()? {
        if !field(p, t, id)? {
            p.skip(t)?;
        }
    }
    p.struct_end();
    Ok(())
}

/// The name the collector gives a tag type outside the IDL's enum (Thrift's `<UNSET>`).
const UNKNOWN_TAG_TYPE: &str = "<Unknown Jaeger TagType \"<UNSET>\">";

fn tag<'a, P: Protocol<'a>>(p: &mut P) -> Result<Tag> {
    let (mut key, mut v_type) = (None, None);
    let (mut v_str, mut v_double, mut v_bool, mut v_long, mut v_binary) = (None, None, None, None, None);
    fields(p, |p, t, id| {
        match (id, t) {
            (1, TType::Binary) => key = Some(p.string()?),
            (2, TType::I32) => v_type = Some(p.i32()?),
            (3, TType::Binary) => v_str = Some(p.string()?),
            (4, TType::Double) => v_double = Some(p.double()?),
            (5, TType::Bool) => v_bool = Some(p.bool()?),
            (6, TType::I64) => v_long = Some(p.i64()?),
            (7, TType::Binary) => v_binary = Some(p.binary()?.to_vec()),
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    let value = match required(v_type, "Tag.vType")? {
        0 => TagValue::Str(v_str.unwrap_or_default()),
        1 => TagValue::Double(v_double.unwrap_or_default()),
        2 => TagValue::Bool(v_bool.unwrap_or_default()),
        3 => TagValue::Long(v_long.unwrap_or_default()),
        4 => TagValue::Binary(v_binary.unwrap_or_default()),
        _ => TagValue::Unknown(UNKNOWN_TAG_TYPE.into()),
    };
    Ok(Tag { key: required(key, "Tag.key")?, value })
}

fn log<'a, P: Protocol<'a>>(p: &mut P) -> Result<Log> {
    let (mut timestamp, mut tags) = (None, None);
    fields(p, |p, t, id| {
        match (id, t) {
            (1, TType::I64) => timestamp = Some(p.i64()?),
            (2, TType::List) => tags = Some(list(p, tag)?),
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(Log { unix_nano: micros_to_nanos(required(timestamp, "Log.timestamp")?), fields: required(tags, "Log.fields")? })
}

fn span_ref<'a, P: Protocol<'a>>(p: &mut P) -> Result<SpanRef> {
    let (mut ref_type, mut low, mut high, mut span_id) = (None, None, None, None);
    fields(p, |p, t, id| {
        match (id, t) {
            (1, TType::I32) => ref_type = Some(p.i32()?),
            (2, TType::I64) => low = Some(p.i64()?),
            (3, TType::I64) => high = Some(p.i64()?),
            (4, TType::I64) => span_id = Some(p.i64()?),
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    let ref_type = match required(ref_type, "SpanRef.refType")? {
        0 => RefType::ChildOf,
        1 => RefType::FollowsFrom,
        _ => RefType::Other,
    };
    Ok(SpanRef {
        ref_type,
        trace_id: model::trace_id(required(high, "SpanRef.traceIdHigh")?, required(low, "SpanRef.traceIdLow")?),
        span_id: model::span_id(required(span_id, "SpanRef.spanId")?),
    })
}

/// Thrift carries microseconds; the collector multiplies as unsigned, wrapping.
fn micros_to_nanos(us: i64) -> u64 {
    (us as u64).wrapping_mul(1000)
}

fn span<'a, P: Protocol<'a>>(p: &mut P) -> Result<Span> {
    let (mut low, mut high, mut span_id, mut parent, mut name, mut flags, mut start, mut duration) = (None, None, None, None, None, None, None, None);
    let (mut references, mut tags, mut logs) = (Vec::new(), Vec::new(), Vec::new());
    fields(p, |p, t, id| {
        match (id, t) {
            (1, TType::I64) => low = Some(p.i64()?),
            (2, TType::I64) => high = Some(p.i64()?),
            (3, TType::I64) => span_id = Some(p.i64()?),
            (4, TType::I64) => parent = Some(p.i64()?),
            (5, TType::Binary) => name = Some(p.string()?),
            (6, TType::List) => references = list(p, span_ref)?,
            (7, TType::I32) => flags = Some(p.i32()?),
            (8, TType::I64) => start = Some(p.i64()?),
            (9, TType::I64) => duration = Some(p.i64()?),
            (10, TType::List) => tags = list(p, tag)?,
            (11, TType::List) => logs = list(p, log)?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    let start = required(start, "Span.startTime")?;
    Ok(Span {
        trace_id: model::trace_id(required(high, "Span.traceIdHigh")?, required(low, "Span.traceIdLow")?),
        span_id: model::span_id(required(span_id, "Span.spanId")?),
        parent_span_id: model::span_id(required(parent, "Span.parentSpanId")?),
        operation_name: required(name, "Span.operationName")?,
        references,
        flags: required(flags, "Span.flags")? as u32,
        start_unix_nano: micros_to_nanos(start),
        end_unix_nano: micros_to_nanos(start.wrapping_add(required(duration, "Span.duration")?)),
        tags,
        logs,
        process: None,
    })
}

fn process<'a, P: Protocol<'a>>(p: &mut P) -> Result<Process> {
    let (mut service_name, mut tags) = (None, Vec::new());
    fields(p, |p, t, id| {
        match (id, t) {
            (1, TType::Binary) => service_name = Some(p.string()?),
            (2, TType::List) => tags = list(p, tag)?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(Process { service_name: required(service_name, "Process.serviceName")?, tags })
}

/// A `Batch` struct (the HTTP collector's body, the agent's `emitBatch` argument).
pub fn batch<'a, P: Protocol<'a>>(p: &mut P) -> Result<Batch> {
    let (mut proc, mut spans) = (None, None);
    fields(p, |p, t, id| {
        match (id, t) {
            (1, TType::Struct) => proc = Some(process(p)?),
            (2, TType::List) => spans = Some(list(p, span)?),
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(Batch { process: Some(required(proc, "Batch.process")?), spans: required(spans, "Batch.spans")? })
}

/// An agent packet: an `emitBatch` call whose argument 1 is the batch.
pub fn agent_message<'a, P: Protocol<'a>>(p: &mut P) -> Result<Batch> {
    let header = p.message_begin()?;
    if header.kind != ONEWAY && header.kind != CALL {
        return Err(ThriftError::Invalid(format!("unexpected message type {} for {:?}", header.kind, header.name)));
    }
    match header.name.as_str() {
        EMIT_BATCH => {}
        EMIT_ZIPKIN_BATCH => return Err(ThriftError::Invalid("emitZipkinBatch is not supported: send Jaeger batches (emitBatch)".into())),
        other => return Err(ThriftError::Invalid(format!("unknown method {other:?}"))),
    }
    let mut out = None;
    fields(p, |p, t, id| {
        if (id, t) == (1, TType::Struct) {
            out = Some(batch(p)?);
            return Ok(true);
        }
        Ok(false)
    })?;
    required(out, "emitBatch.batch")
}
