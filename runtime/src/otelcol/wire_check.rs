//! What a receiver acknowledges must decode everywhere downstream: a linear walk of the whole
//! OTLP export request against the schema, without decoding or allocating.
//!
//! It refuses what prost (and so the attributes processor, the debug exporter, a strict
//! downstream) would refuse, so that one client's bad span is refused alone instead of
//! spoiling the batch it would join: malformed framing, a known field with the wrong wire
//! type, a `string` field that is not UTF-8 (proto3 strings), a packed field that does not
//! split into whole values, and messages nested deeper than [`MAX_DEPTH`]. Field numbers are
//! those of opentelemetry-proto (`opentelemetry-proto` crate, `src/proto/tonic/*.rs`).

use super::pdata::{read_varint, PdataError, Signal};

/// The deepest message nesting accepted, the request being depth 0. prost refuses beyond 100
/// (its recursion limit); every AnyValue level inside a key-value list costs three (AnyValue →
/// KeyValueList → KeyValue), so this allows about 19 nested maps or 29 nested arrays under a
/// span attribute, and leaves room below prost's limit.
pub const MAX_DEPTH: u32 = 64;

/// Declares `Msg` and `MSGS` (every message, in declaration order, so indexed by its
/// discriminant: the rows of [`KINDS`]) from one list.
macro_rules! messages {
    ($($name:ident),* $(,)?) => {
        /// The messages of the three export requests.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        enum Msg {
            $($name),*
        }

        const MSGS: &[Msg] = &[$(Msg::$name),*];
    };
}

messages! {
    TracesRequest,
    ResourceSpans,
    ScopeSpans,
    Span,
    Event,
    Link,
    Status,
    MetricsRequest,
    ResourceMetrics,
    ScopeMetrics,
    Metric,
    Gauge,
    Sum,
    Histogram,
    ExpHistogram,
    Summary,
    NumberPoint,
    HistogramPoint,
    ExpHistogramPoint,
    Buckets,
    SummaryPoint,
    Quantile,
    Exemplar,
    LogsRequest,
    ResourceLogs,
    ScopeLogs,
    LogRecord,
    Resource,
    EntityRef,
    Scope,
    KeyValue,
    AnyValue,
    ArrayValue,
    KeyValueList,
}

impl Msg {
    /// The items that batching and the self-metrics count.
    fn is_item(self) -> bool {
        matches!(self, Msg::Span | Msg::LogRecord | Msg::NumberPoint | Msg::HistogramPoint | Msg::ExpHistogramPoint | Msg::SummaryPoint)
    }
}

/// How a field is encoded. Repeated scalars may come packed (one length-delimited run) or
/// one value per field, as prost accepts both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Varint,
    Fixed64,
    Fixed32,
    Str,
    Bytes,
    Message(Msg),
    RepeatedVarint,
    RepeatedFixed64,
    /// Not in the schema: skipped, as prost skips unknown fields.
    Unknown,
}

const fn kind(m: Msg, field: u32) -> Kind {
    use Kind::*;
    use Msg as M;
    match (m, field) {
        (M::TracesRequest, 1) => Message(M::ResourceSpans),
        (M::ResourceSpans, 1) | (M::ResourceMetrics, 1) | (M::ResourceLogs, 1) => Message(M::Resource),
        (M::ResourceSpans, 2) => Message(M::ScopeSpans),
        (M::ResourceSpans | M::ScopeSpans | M::ResourceMetrics | M::ScopeMetrics | M::ResourceLogs | M::ScopeLogs, 3) => Str,
        (M::ScopeSpans | M::ScopeMetrics | M::ScopeLogs, 1) => Message(M::Scope),
        (M::ScopeSpans, 2) => Message(M::Span),
        // Span: ids, trace_state, parent id, name, kind, times, attributes, counts, events,
        // links, status, flags.
        (M::Span, 1 | 2 | 4) => Bytes,
        (M::Span, 3 | 5) => Str,
        (M::Span, 6 | 10 | 12 | 14) => Varint,
        (M::Span, 7 | 8) => Fixed64,
        (M::Span, 9) => Message(M::KeyValue),
        (M::Span, 11) => Message(M::Event),
        (M::Span, 13) => Message(M::Link),
        (M::Span, 15) => Message(M::Status),
        (M::Span, 16) => Fixed32,
        (M::Event, 1) => Fixed64,
        (M::Event, 2) => Str,
        (M::Event, 3) => Message(M::KeyValue),
        (M::Event, 4) => Varint,
        (M::Link, 1 | 2) => Bytes,
        (M::Link, 3) => Str,
        (M::Link, 4) => Message(M::KeyValue),
        (M::Link, 5) => Varint,
        (M::Link, 6) => Fixed32,
        (M::Status, 2) => Str,
        (M::Status, 3) => Varint,
        (M::MetricsRequest, 1) => Message(M::ResourceMetrics),
        (M::ResourceMetrics, 2) => Message(M::ScopeMetrics),
        (M::ScopeMetrics, 2) => Message(M::Metric),
        (M::Metric, 1..=3) => Str,
        (M::Metric, 5) => Message(M::Gauge),
        (M::Metric, 7) => Message(M::Sum),
        (M::Metric, 9) => Message(M::Histogram),
        (M::Metric, 10) => Message(M::ExpHistogram),
        (M::Metric, 11) => Message(M::Summary),
        (M::Metric, 12) => Message(M::KeyValue),
        (M::Gauge | M::Sum, 1) => Message(M::NumberPoint),
        (M::Sum, 2 | 3) | (M::Histogram | M::ExpHistogram, 2) => Varint,
        (M::Histogram, 1) => Message(M::HistogramPoint),
        (M::ExpHistogram, 1) => Message(M::ExpHistogramPoint),
        (M::Summary, 1) => Message(M::SummaryPoint),
        (M::NumberPoint, 2 | 3 | 4 | 6) => Fixed64,
        (M::NumberPoint, 5) => Message(M::Exemplar),
        (M::NumberPoint, 7) => Message(M::KeyValue),
        (M::NumberPoint, 8) => Varint,
        (M::HistogramPoint, 2..=5 | 11 | 12) => Fixed64,
        (M::HistogramPoint, 6 | 7) => RepeatedFixed64,
        (M::HistogramPoint, 8) => Message(M::Exemplar),
        (M::HistogramPoint, 9) => Message(M::KeyValue),
        (M::HistogramPoint, 10) => Varint,
        (M::ExpHistogramPoint, 1) => Message(M::KeyValue),
        (M::ExpHistogramPoint, 2..=5 | 7 | 12..=14) => Fixed64,
        (M::ExpHistogramPoint, 6 | 10) => Varint,
        (M::ExpHistogramPoint, 8 | 9) => Message(M::Buckets),
        (M::ExpHistogramPoint, 11) => Message(M::Exemplar),
        (M::Buckets, 1) => Varint,
        (M::Buckets, 2) => RepeatedVarint,
        (M::SummaryPoint, 2..=5) => Fixed64,
        (M::SummaryPoint, 6) => Message(M::Quantile),
        (M::SummaryPoint, 7) => Message(M::KeyValue),
        (M::SummaryPoint, 8) => Varint,
        (M::Quantile, 1 | 2) => Fixed64,
        (M::Exemplar, 2 | 3 | 6) => Fixed64,
        (M::Exemplar, 4 | 5) => Bytes,
        (M::Exemplar, 7) => Message(M::KeyValue),
        (M::LogsRequest, 1) => Message(M::ResourceLogs),
        (M::ResourceLogs, 2) => Message(M::ScopeLogs),
        (M::ScopeLogs, 2) => Message(M::LogRecord),
        (M::LogRecord, 1 | 11) => Fixed64,
        (M::LogRecord, 2 | 7) => Varint,
        (M::LogRecord, 3 | 12) => Str,
        (M::LogRecord, 5) => Message(M::AnyValue),
        (M::LogRecord, 6) => Message(M::KeyValue),
        (M::LogRecord, 8) => Fixed32,
        (M::LogRecord, 9 | 10) => Bytes,
        (M::Resource, 1) => Message(M::KeyValue),
        (M::Resource, 2) => Varint,
        (M::Resource, 3) => Message(M::EntityRef),
        // schema_url, type, id_keys and description_keys (repeated strings).
        (M::EntityRef, 1..=4) => Str,
        (M::Scope, 1 | 2) => Str,
        (M::Scope, 3) => Message(M::KeyValue),
        (M::Scope, 4) => Varint,
        (M::KeyValue, 1) => Str,
        (M::KeyValue, 2) => Message(M::AnyValue),
        (M::KeyValue, 3) => Varint,
        (M::AnyValue, 1) => Str,
        (M::AnyValue, 2 | 3 | 8) => Varint,
        (M::AnyValue, 4) => Fixed64,
        (M::AnyValue, 5) => Message(M::ArrayValue),
        (M::AnyValue, 6) => Message(M::KeyValueList),
        (M::AnyValue, 7) => Bytes,
        (M::ArrayValue, 1) => Message(M::AnyValue),
        (M::KeyValueList, 1) => Message(M::KeyValue),
        _ => Unknown,
    }
}

/// No OTLP message has a field numbered above this.
const MAX_FIELD: usize = 16;

/// [`kind`] as a table, so the walk looks a field up by indexing instead of matching.
static KINDS: [[Kind; MAX_FIELD + 1]; MSGS.len()] = {
    let mut t = [[Kind::Unknown; MAX_FIELD + 1]; MSGS.len()];
    let mut m = 0;
    while m < MSGS.len() {
        let mut f = 1;
        while f <= MAX_FIELD {
            t[m][f] = kind(MSGS[m], f as u32);
            f += 1;
        }
        m += 1;
    }
    t
};

/// Checks a whole export request of `signal` and returns its item count.
pub fn check_request(signal: Signal, bytes: &[u8]) -> Result<usize, PdataError> {
    let root = match signal {
        Signal::Traces => Msg::TracesRequest,
        Signal::Metrics => Msg::MetricsRequest,
        Signal::Logs => Msg::LogsRequest,
    };
    let mut items = 0;
    check(bytes, root, 0, &mut items)?;
    Ok(items)
}

/// A varint, with the one-byte case (nearly every tag and length) first.
#[inline(always)]
fn varint(buf: &[u8], pos: &mut usize) -> Result<u64, PdataError> {
    match buf.get(*pos) {
        Some(&b) if b < 0x80 => {
            *pos += 1;
            Ok(u64::from(b))
        }
        _ => read_varint(buf, pos),
    }
}

/// proto3 strings: most are ASCII, which the word-at-a-time check settles.
#[inline(always)]
fn is_utf8(s: &[u8]) -> bool {
    s.is_ascii() || std::str::from_utf8(s).is_ok()
}

/// Whether a `KeyValue` is the common attribute shape, a short key and a short string value
/// (`0a len key 12 len [0a len string]`), with both strings valid: what the general walk
/// would accept, checked without descending into it twice. Anything else is left to the walk.
#[inline]
fn plain_string_attribute(kv: &[u8]) -> bool {
    let [0x0a, key_len, rest @ ..] = kv else { return false };
    let key_len = usize::from(*key_len);
    if key_len >= 0x80 || rest.len() < key_len {
        return false;
    }
    let (key, rest) = rest.split_at(key_len);
    // One-byte lengths that cover the rest exactly: no other field follows.
    let [0x12, value_len, any_value @ ..] = rest else { return false };
    if usize::from(*value_len) != any_value.len() {
        return false;
    }
    let [0x0a, string_len, string @ ..] = any_value else { return false };
    usize::from(*string_len) == string.len() && is_utf8(key) && is_utf8(string)
}

const WRONG_TYPE: PdataError = PdataError::Wire("a field has the wrong wire type for its schema");

/// Walks one message of type `m`: the framing of every field (as `pdata::Fields` reads it,
/// with the same errors in the same order), each known field's wire type, strings, packed
/// runs and nested messages.
fn check(msg: &[u8], m: Msg, depth: u32, items: &mut usize) -> Result<(), PdataError> {
    if m.is_item() {
        *items += 1;
    }
    let kinds = &KINDS[m as usize];
    let mut pos = 0;
    while pos < msg.len() {
        // prost refuses keys beyond 32 bits.
        let tag = u32::try_from(varint(msg, &mut pos)?).map_err(|_| PdataError::Wire("field number out of range"))?;
        let number = (tag >> 3) as usize;
        if number == 0 {
            return Err(PdataError::Wire("illegal field number 0"));
        }
        let kind = kinds.get(number).copied().unwrap_or(Kind::Unknown);
        match tag & 7 {
            0 => {
                varint(msg, &mut pos)?;
                if !matches!(kind, Kind::Varint | Kind::RepeatedVarint | Kind::Unknown) {
                    return Err(WRONG_TYPE);
                }
            }
            wire @ (1 | 5) => {
                let n = if wire == 1 { 8 } else { 4 };
                if msg.len() - pos < n {
                    return Err(PdataError::Wire("unexpected end of message in fixed-width field"));
                }
                pos += n;
                let fits = match kind {
                    Kind::Fixed64 | Kind::RepeatedFixed64 => wire == 1,
                    Kind::Fixed32 => wire == 5,
                    Kind::Unknown => true,
                    _ => false,
                };
                if !fits {
                    return Err(WRONG_TYPE);
                }
            }
            2 => {
                let len = usize::try_from(varint(msg, &mut pos)?).map_err(|_| PdataError::Wire("length out of range"))?;
                if msg.len() - pos < len {
                    return Err(PdataError::Wire("length-delimited field runs past the end of the message"));
                }
                let value = &msg[pos..pos + len];
                pos += len;
                match kind {
                    Kind::Unknown | Kind::Bytes => {}
                    Kind::Str => {
                        if !is_utf8(value) {
                            return Err(PdataError::Wire("a string field is not valid UTF-8"));
                        }
                    }
                    Kind::Message(Msg::KeyValue) if depth + 2 <= MAX_DEPTH && plain_string_attribute(value) => {}
                    Kind::Message(child) => {
                        if depth + 1 > MAX_DEPTH {
                            return Err(PdataError::Wire("messages nested too deeply (attribute values nested beyond the limit)"));
                        }
                        check(value, child, depth + 1, items)?;
                    }
                    Kind::RepeatedVarint => {
                        let mut p = 0;
                        while p < value.len() {
                            varint(value, &mut p)?;
                        }
                    }
                    Kind::RepeatedFixed64 if value.len().is_multiple_of(8) => {}
                    Kind::RepeatedFixed64 => return Err(PdataError::Wire("a packed field does not hold whole 64-bit values")),
                    Kind::Varint | Kind::Fixed64 | Kind::Fixed32 => return Err(WRONG_TYPE),
                }
            }
            _ => return Err(PdataError::Wire("unsupported wire type (groups are not valid in OTLP)")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_the_schema() {
        for (i, &m) in MSGS.iter().enumerate() {
            assert_eq!(m as usize, i, "MSGS is in declaration order");
            for f in 0..=MAX_FIELD as u32 {
                assert_eq!(KINDS[i][f as usize], if f == 0 { Kind::Unknown } else { kind(m, f) }, "{m:?} field {f}");
            }
            // Fields beyond the table are unknown to the schema too.
            for f in MAX_FIELD as u32 + 1..=1000 {
                assert_eq!(kind(m, f), Kind::Unknown, "{m:?} field {f}");
            }
        }
    }

    /// A span with one attribute whose encoded `KeyValue` is `kv`.
    fn span_with_attribute(kv: &[u8]) -> Vec<u8> {
        let wrap = |field: u8, body: &[u8]| [&[field, body.len() as u8][..], body].concat();
        let span = wrap(0x4a, kv); // Span.attributes (9)
        wrap(0x0a, &wrap(0x12, &wrap(0x12, &span)))
    }

    #[test]
    fn attributes_in_the_common_shape_are_checked_like_any_other() {
        let ok = |kv: &[u8]| check_request(Signal::Traces, &span_with_attribute(kv));
        assert_eq!(ok(b"\x0a\x01k\x12\x03\x0a\x01v"), Ok(1));
        assert_eq!(ok(b"\x0a\x01k\x12\x03\x0a\x01\xff"), Err(PdataError::Wire("a string field is not valid UTF-8")));
        assert_eq!(ok(b"\x0a\x01\xff\x12\x03\x0a\x01v"), Err(PdataError::Wire("a string field is not valid UTF-8")));
        // Other shapes take the general walk: an int value, an empty value, a trailing field,
        // a cut-off string, a string value of the wrong wire type.
        assert_eq!(ok(b"\x0a\x01k\x12\x02\x18\x05"), Ok(1));
        assert_eq!(ok(b"\x0a\x01k\x12\x00"), Ok(1));
        assert_eq!(ok(b"\x0a\x01k\x12\x03\x0a\x01v\x18\x01"), Ok(1));
        assert!(ok(b"\x0a\x01k\x12\x03\x0a\x02v").is_err());
        assert_eq!(ok(b"\x0a\x01k\x12\x02\x08\x01"), Err(WRONG_TYPE));
    }

    #[test]
    fn framing_errors_come_before_schema_errors() {
        // Request field 1 (a message) as a varint whose value is cut off.
        assert_eq!(check_request(Signal::Traces, &[0x08, 0x80]), Err(PdataError::Wire("unexpected end of message in varint")));
        assert_eq!(check_request(Signal::Traces, &[0x08, 0x01]), Err(WRONG_TYPE));
        assert_eq!(check_request(Signal::Traces, &[0x00]), Err(PdataError::Wire("illegal field number 0")));
        assert_eq!(check_request(Signal::Logs, &[0x0b]), Err(PdataError::Wire("unsupported wire type (groups are not valid in OTLP)")));
        assert_eq!(check_request(Signal::Logs, &[0x09, 1, 2, 3]), Err(PdataError::Wire("unexpected end of message in fixed-width field")));
        assert_eq!(check_request(Signal::Logs, &[0x0a, 0x05, 0]), Err(PdataError::Wire("length-delimited field runs past the end of the message")));
        // Unknown fields of every wire type are skipped.
        assert_eq!(check_request(Signal::Metrics, &[0x10, 0x01, 0x19, 0, 0, 0, 0, 0, 0, 0, 0, 0x1d, 0, 0, 0, 0, 0x22, 0x01, 0xff]), Ok(0));
    }
}
