//! Everything OTTL names, as data in one place: the fields of each context with their types,
//! the contexts each context reaches through a prefix, the enums, and the editors and
//! converters with their parameters. The checker, the evaluator, `alloy validate` and the
//! language server all read these tables.

use crate::Context;

/// The type of a path, a parameter or a converter's result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    Any,
    String,
    Int,
    Double,
    Bool,
    Bytes,
    Map,
    List,
    Time,
    Duration,
    Nil,
}

impl Ty {
    pub fn name(self) -> &'static str {
        match self {
            Ty::Any => "any",
            Ty::String => "string",
            Ty::Int => "int",
            Ty::Double => "double",
            Ty::Bool => "bool",
            Ty::Bytes => "bytes",
            Ty::Map => "map",
            Ty::List => "list",
            Ty::Time => "time",
            Ty::Duration => "duration",
            Ty::Nil => "nil",
        }
    }

    /// Whether `[key]` can follow a value of this type.
    pub fn indexable(self) -> bool {
        matches!(self, Ty::Any | Ty::Map | Ty::List)
    }
}

/// A field the evaluator reads and writes; which context owns it is resolved alongside.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Cache,
    Attributes,
    DroppedAttributesCount,
    SchemaUrl,
    Name,
    Version,
    TraceId,
    TraceIdString,
    SpanId,
    SpanIdString,
    ParentSpanId,
    ParentSpanIdString,
    TraceState,
    Kind,
    KindString,
    StartTimeUnixNano,
    EndTimeUnixNano,
    StartTime,
    EndTime,
    DroppedEventsCount,
    DroppedLinksCount,
    StatusCode,
    StatusMessage,
    Flags,
    TimeUnixNano,
    Time,
    Description,
    Unit,
    MetricType,
    AggregationTemporality,
    IsMonotonic,
    ValueDouble,
    ValueInt,
    Count,
    Sum,
    BucketCounts,
    ExplicitBounds,
    ObservedTimeUnixNano,
    ObservedTime,
    SeverityNumber,
    SeverityText,
    Body,
    BodyString,
    EventName,
}

pub struct FieldDef {
    pub ctx: Context,
    pub name: &'static str,
    pub field: Field,
    pub ty: Ty,
    pub doc: &'static str,
}

const fn f(ctx: Context, name: &'static str, field: Field, ty: Ty, doc: &'static str) -> FieldDef {
    FieldDef { ctx, name, field, ty, doc }
}

use Context::{DataPoint as D, Log as L, Metric as M, Resource as R, Scope as S, Span as SP, SpanEvent as E};

/// Each context's own fields, written without a prefix in that context.
pub static FIELDS: &[FieldDef] = &[
    f(R, "attributes", Field::Attributes, Ty::Map, "the resource attributes"),
    f(R, "dropped_attributes_count", Field::DroppedAttributesCount, Ty::Int, "attributes dropped from the resource"),
    f(S, "name", Field::Name, Ty::String, "the instrumentation scope's name"),
    f(S, "version", Field::Version, Ty::String, "the instrumentation scope's version"),
    f(S, "attributes", Field::Attributes, Ty::Map, "the instrumentation scope's attributes"),
    f(S, "dropped_attributes_count", Field::DroppedAttributesCount, Ty::Int, "attributes dropped from the scope"),
    f(SP, "trace_id", Field::TraceId, Ty::Bytes, "the trace ID (16 bytes)"),
    f(SP, "trace_id.string", Field::TraceIdString, Ty::String, "the trace ID as 32 hex digits"),
    f(SP, "span_id", Field::SpanId, Ty::Bytes, "the span ID (8 bytes)"),
    f(SP, "span_id.string", Field::SpanIdString, Ty::String, "the span ID as 16 hex digits"),
    f(SP, "parent_span_id", Field::ParentSpanId, Ty::Bytes, "the parent span's ID (8 bytes, empty for a root span)"),
    f(SP, "parent_span_id.string", Field::ParentSpanIdString, Ty::String, "the parent span's ID as hex"),
    f(SP, "trace_state", Field::TraceState, Ty::String, "the W3C trace state"),
    f(SP, "name", Field::Name, Ty::String, "the span name"),
    f(SP, "kind", Field::Kind, Ty::Int, "the span kind (SPAN_KIND_* enums)"),
    f(SP, "kind.string", Field::KindString, Ty::String, "the span kind as text: Unspecified, Internal, Server, Client, Producer, Consumer"),
    f(SP, "start_time_unix_nano", Field::StartTimeUnixNano, Ty::Int, "start time, nanoseconds since the epoch"),
    f(SP, "end_time_unix_nano", Field::EndTimeUnixNano, Ty::Int, "end time, nanoseconds since the epoch"),
    f(SP, "start_time", Field::StartTime, Ty::Time, "start time"),
    f(SP, "end_time", Field::EndTime, Ty::Time, "end time"),
    f(SP, "attributes", Field::Attributes, Ty::Map, "the span attributes"),
    f(SP, "dropped_attributes_count", Field::DroppedAttributesCount, Ty::Int, "attributes dropped from the span"),
    f(SP, "dropped_events_count", Field::DroppedEventsCount, Ty::Int, "events dropped from the span"),
    f(SP, "dropped_links_count", Field::DroppedLinksCount, Ty::Int, "links dropped from the span"),
    f(SP, "status.code", Field::StatusCode, Ty::Int, "the status code (STATUS_CODE_* enums)"),
    f(SP, "status.message", Field::StatusMessage, Ty::String, "the status message"),
    f(SP, "flags", Field::Flags, Ty::Int, "the span's W3C trace flags"),
    f(E, "time_unix_nano", Field::TimeUnixNano, Ty::Int, "the event time, nanoseconds since the epoch"),
    f(E, "time", Field::Time, Ty::Time, "the event time"),
    f(E, "name", Field::Name, Ty::String, "the event name"),
    f(E, "attributes", Field::Attributes, Ty::Map, "the event attributes"),
    f(E, "dropped_attributes_count", Field::DroppedAttributesCount, Ty::Int, "attributes dropped from the event"),
    f(M, "name", Field::Name, Ty::String, "the metric name"),
    f(M, "description", Field::Description, Ty::String, "the metric description"),
    f(M, "unit", Field::Unit, Ty::String, "the metric unit"),
    f(M, "type", Field::MetricType, Ty::Int, "the metric data type (METRIC_DATA_TYPE_* enums, read-only)"),
    f(M, "aggregation_temporality", Field::AggregationTemporality, Ty::Int, "a sum's or histogram's temporality (AGGREGATION_TEMPORALITY_* enums)"),
    f(M, "is_monotonic", Field::IsMonotonic, Ty::Bool, "whether a sum is monotonic"),
    f(D, "attributes", Field::Attributes, Ty::Map, "the data point attributes"),
    f(D, "start_time_unix_nano", Field::StartTimeUnixNano, Ty::Int, "start time, nanoseconds since the epoch"),
    f(D, "time_unix_nano", Field::TimeUnixNano, Ty::Int, "the point's time, nanoseconds since the epoch"),
    f(D, "start_time", Field::StartTime, Ty::Time, "start time"),
    f(D, "time", Field::Time, Ty::Time, "the point's time"),
    f(D, "value_double", Field::ValueDouble, Ty::Double, "a gauge or sum point's double value"),
    f(D, "value_int", Field::ValueInt, Ty::Int, "a gauge or sum point's integer value"),
    f(D, "flags", Field::Flags, Ty::Int, "the point's flags"),
    f(D, "count", Field::Count, Ty::Int, "a histogram's or summary's count"),
    f(D, "sum", Field::Sum, Ty::Double, "a histogram's or summary's sum"),
    f(D, "bucket_counts", Field::BucketCounts, Ty::List, "a histogram's bucket counts"),
    f(D, "explicit_bounds", Field::ExplicitBounds, Ty::List, "a histogram's bucket bounds"),
    f(L, "time_unix_nano", Field::TimeUnixNano, Ty::Int, "the record's time, nanoseconds since the epoch"),
    f(L, "observed_time_unix_nano", Field::ObservedTimeUnixNano, Ty::Int, "when the record was observed, nanoseconds since the epoch"),
    f(L, "time", Field::Time, Ty::Time, "the record's time"),
    f(L, "observed_time", Field::ObservedTime, Ty::Time, "when the record was observed"),
    f(L, "severity_number", Field::SeverityNumber, Ty::Int, "the severity (SEVERITY_NUMBER_* enums)"),
    f(L, "severity_text", Field::SeverityText, Ty::String, "the severity as text"),
    f(L, "body", Field::Body, Ty::Any, "the record's body"),
    f(L, "body.string", Field::BodyString, Ty::String, "the body as a string"),
    f(L, "attributes", Field::Attributes, Ty::Map, "the record's attributes"),
    f(L, "dropped_attributes_count", Field::DroppedAttributesCount, Ty::Int, "attributes dropped from the record"),
    f(L, "flags", Field::Flags, Ty::Int, "the record's W3C trace flags"),
    f(L, "trace_id", Field::TraceId, Ty::Bytes, "the trace ID (16 bytes)"),
    f(L, "trace_id.string", Field::TraceIdString, Ty::String, "the trace ID as hex"),
    f(L, "span_id", Field::SpanId, Ty::Bytes, "the span ID (8 bytes)"),
    f(L, "span_id.string", Field::SpanIdString, Ty::String, "the span ID as hex"),
    f(L, "event_name", Field::EventName, Ty::String, "the record's event name"),
];

/// The higher contexts a context reaches with their prefix (`resource.attributes` in `span`).
pub fn reaches(ctx: Context) -> &'static [Context] {
    match ctx {
        Context::Resource => &[],
        Context::Scope => &[R],
        Context::Span | Context::Metric | Context::Log => &[R, S],
        Context::SpanEvent => &[R, S, SP],
        Context::DataPoint => &[R, S, M],
    }
}

/// The prefix that names a context in paths; the scope also answers to `scope`.
pub fn prefix(ctx: Context) -> &'static str {
    match ctx {
        Context::Scope => "instrumentation_scope",
        other => other.name(),
    }
}

pub fn own_fields(ctx: Context) -> impl Iterator<Item = &'static FieldDef> {
    FIELDS.iter().filter(move |d| d.ctx == ctx)
}

/// One path as the language server lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathDoc {
    pub name: String,
    pub ty: &'static str,
    pub doc: &'static str,
}

/// Every path valid in `ctx`: its own fields, `cache`, then the reachable contexts' fields
/// with their prefix.
pub fn paths(ctx: Context) -> Vec<PathDoc> {
    let mut out: Vec<PathDoc> = own_fields(ctx).map(|d| PathDoc { name: d.name.to_string(), ty: d.ty.name(), doc: d.doc }).collect();
    out.push(PathDoc { name: "cache".into(), ty: Ty::Map.name(), doc: "a map that lives while one item is processed, for intermediate values" });
    for &up in reaches(ctx) {
        out.extend(own_fields(up).map(|d| PathDoc { name: format!("{}.{}", prefix(up), d.name), ty: d.ty.name(), doc: d.doc }));
    }
    out
}

/// An enum name and its value, and the contexts whose paths use it.
pub struct EnumDef {
    pub name: &'static str,
    pub value: i64,
    pub contexts: &'static [Context],
}

const SPANS: &[Context] = &[SP, E];
const METRICS: &[Context] = &[M, D];
const LOGS: &[Context] = &[L];

const fn e(name: &'static str, value: i64, contexts: &'static [Context]) -> EnumDef {
    EnumDef { name, value, contexts }
}

pub static ENUMS: &[EnumDef] = &[
    e("SPAN_KIND_UNSPECIFIED", 0, SPANS),
    e("SPAN_KIND_INTERNAL", 1, SPANS),
    e("SPAN_KIND_SERVER", 2, SPANS),
    e("SPAN_KIND_CLIENT", 3, SPANS),
    e("SPAN_KIND_PRODUCER", 4, SPANS),
    e("SPAN_KIND_CONSUMER", 5, SPANS),
    e("STATUS_CODE_UNSET", 0, SPANS),
    e("STATUS_CODE_OK", 1, SPANS),
    e("STATUS_CODE_ERROR", 2, SPANS),
    e("METRIC_DATA_TYPE_NONE", 0, METRICS),
    e("METRIC_DATA_TYPE_GAUGE", 1, METRICS),
    e("METRIC_DATA_TYPE_SUM", 2, METRICS),
    e("METRIC_DATA_TYPE_HISTOGRAM", 3, METRICS),
    e("METRIC_DATA_TYPE_EXPONENTIAL_HISTOGRAM", 4, METRICS),
    e("METRIC_DATA_TYPE_SUMMARY", 5, METRICS),
    e("AGGREGATION_TEMPORALITY_UNSPECIFIED", 0, METRICS),
    e("AGGREGATION_TEMPORALITY_DELTA", 1, METRICS),
    e("AGGREGATION_TEMPORALITY_CUMULATIVE", 2, METRICS),
    e("SEVERITY_NUMBER_UNSPECIFIED", 0, LOGS),
    e("SEVERITY_NUMBER_TRACE", 1, LOGS),
    e("SEVERITY_NUMBER_TRACE2", 2, LOGS),
    e("SEVERITY_NUMBER_TRACE3", 3, LOGS),
    e("SEVERITY_NUMBER_TRACE4", 4, LOGS),
    e("SEVERITY_NUMBER_DEBUG", 5, LOGS),
    e("SEVERITY_NUMBER_DEBUG2", 6, LOGS),
    e("SEVERITY_NUMBER_DEBUG3", 7, LOGS),
    e("SEVERITY_NUMBER_DEBUG4", 8, LOGS),
    e("SEVERITY_NUMBER_INFO", 9, LOGS),
    e("SEVERITY_NUMBER_INFO2", 10, LOGS),
    e("SEVERITY_NUMBER_INFO3", 11, LOGS),
    e("SEVERITY_NUMBER_INFO4", 12, LOGS),
    e("SEVERITY_NUMBER_WARN", 13, LOGS),
    e("SEVERITY_NUMBER_WARN2", 14, LOGS),
    e("SEVERITY_NUMBER_WARN3", 15, LOGS),
    e("SEVERITY_NUMBER_WARN4", 16, LOGS),
    e("SEVERITY_NUMBER_ERROR", 17, LOGS),
    e("SEVERITY_NUMBER_ERROR2", 18, LOGS),
    e("SEVERITY_NUMBER_ERROR3", 19, LOGS),
    e("SEVERITY_NUMBER_ERROR4", 20, LOGS),
    e("SEVERITY_NUMBER_FATAL", 21, LOGS),
    e("SEVERITY_NUMBER_FATAL2", 22, LOGS),
    e("SEVERITY_NUMBER_FATAL3", 23, LOGS),
    e("SEVERITY_NUMBER_FATAL4", 24, LOGS),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FunctionKind {
    Editor,
    Converter,
}

/// What an argument must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamKind {
    /// A path the editor writes.
    Target,
    /// A path to a map the editor edits.
    MapTarget,
    /// Any expression whose type fits (`Ty::Any` takes everything).
    Value(Ty),
    /// Any expression; converted to its text.
    Text,
    /// A list: a literal list of expressions or a list-valued expression.
    Values,
    /// A literal regular expression.
    Pattern,
    /// A literal string.
    LitStr(&'static [&'static str]),
    /// A literal integer.
    LitInt,
    /// A literal list of strings.
    StrList,
    /// A hash converter named without parentheses (`SHA256`).
    HashFunction,
}

#[derive(Clone, Copy, Debug)]
pub struct ParamDoc {
    pub name: &'static str,
    pub kind: ParamKind,
    pub optional: bool,
}

pub struct FunctionDoc {
    pub name: &'static str,
    pub kind: FunctionKind,
    pub signature: &'static str,
    pub doc: &'static str,
    pub params: &'static [ParamDoc],
    pub returns: Ty,
    /// The contexts the function works in; empty for all.
    pub contexts: &'static [Context],
    /// Only `otelcol.processor.filter`'s conditions have it.
    pub filter_only: bool,
}

impl std::fmt::Debug for FunctionDoc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

pub fn functions() -> &'static [FunctionDoc] {
    FUNCTIONS
}

pub fn function(name: &str) -> Option<&'static FunctionDoc> {
    FUNCTIONS.iter().find(|f| f.name == name)
}

const fn p(name: &'static str, kind: ParamKind) -> ParamDoc {
    ParamDoc { name, kind, optional: false }
}

const fn opt(name: &'static str, kind: ParamKind) -> ParamDoc {
    ParamDoc { name, kind, optional: true }
}

use FunctionKind::{Converter as C, Editor as Ed};
use ParamKind as K;

const fn func(name: &'static str, kind: FunctionKind, signature: &'static str, doc: &'static str, params: &'static [ParamDoc], returns: Ty) -> FunctionDoc {
    FunctionDoc { name, kind, signature, doc, params, returns, contexts: &[], filter_only: false }
}

pub const BASE64_VARIANTS: [&str; 4] = ["base64", "base64-raw", "base64-url", "base64-raw-url"];
pub const HASH_FUNCTIONS: [&str; 5] = ["SHA1", "SHA256", "SHA512", "MD5", "FNV"];
const STR: ParamKind = K::Value(Ty::String);
const ANY: ParamKind = K::Value(Ty::Any);
const REPLACE_TAIL: [ParamDoc; 2] = [opt("function", K::HashFunction), opt("replacementFormat", K::LitStr(&[]))];

static FUNCTIONS: &[FunctionDoc] = &[
    func("set", Ed, "set(target, value)", "Sets target to value; a nil value leaves target unchanged.", &[p("target", K::Target), p("value", ANY)], Ty::Nil),
    func("delete_key", Ed, "delete_key(target, key)", "Removes key from the map target.", &[p("target", K::MapTarget), p("key", STR)], Ty::Nil),
    func(
        "delete_matching_keys",
        Ed,
        "delete_matching_keys(target, pattern)",
        "Removes the keys of the map target that match the regular expression.",
        &[p("target", K::MapTarget), p("pattern", K::Pattern)],
        Ty::Nil,
    ),
    func(
        "keep_keys",
        Ed,
        "keep_keys(target, keys[])",
        "Keeps only the listed keys of the map target.",
        &[p("target", K::MapTarget), p("keys", K::StrList)],
        Ty::Nil,
    ),
    func(
        "keep_matching_keys",
        Ed,
        "keep_matching_keys(target, pattern)",
        "Keeps only the keys of the map target that match the regular expression.",
        &[p("target", K::MapTarget), p("pattern", K::Pattern)],
        Ty::Nil,
    ),
    func(
        "limit",
        Ed,
        "limit(target, limit, priority_keys[])",
        "Keeps at most limit entries of the map target, the priority keys first.",
        &[p("target", K::MapTarget), p("limit", K::LitInt), p("priority_keys", K::StrList)],
        Ty::Nil,
    ),
    func(
        "merge_maps",
        Ed,
        "merge_maps(target, source, strategy)",
        "Merges the map source into the map target; strategy is insert, update or upsert.",
        &[p("target", K::MapTarget), p("source", K::Value(Ty::Map)), p("strategy", K::LitStr(&["insert", "update", "upsert"]))],
        Ty::Nil,
    ),
    func(
        "replace_pattern",
        Ed,
        "replace_pattern(target, regex, replacement, Optional[function], Optional[replacementFormat])",
        "Replaces the parts of the string target matching regex; $1 and ${name} refer to capture groups.",
        &[p("target", K::Target), p("regex", K::Pattern), p("replacement", STR), REPLACE_TAIL[0], REPLACE_TAIL[1]],
        Ty::Nil,
    ),
    func(
        "replace_all_patterns",
        Ed,
        "replace_all_patterns(target, mode, regex, replacement, Optional[function], Optional[replacementFormat])",
        "Replaces regex matches in every string value (mode \"value\") or key (mode \"key\") of the map target.",
        &[p("target", K::MapTarget), p("mode", K::LitStr(&["key", "value"])), p("regex", K::Pattern), p("replacement", STR), REPLACE_TAIL[0], REPLACE_TAIL[1]],
        Ty::Nil,
    ),
    func(
        "replace_match",
        Ed,
        "replace_match(target, pattern, replacement, Optional[function], Optional[replacementFormat])",
        "Replaces the whole string target when it matches the glob pattern (* and ?).",
        &[p("target", K::Target), p("pattern", K::LitStr(&[])), p("replacement", STR), REPLACE_TAIL[0], REPLACE_TAIL[1]],
        Ty::Nil,
    ),
    func(
        "replace_all_matches",
        Ed,
        "replace_all_matches(target, pattern, replacement, Optional[function], Optional[replacementFormat])",
        "Replaces every string value of the map target that matches the glob pattern.",
        &[p("target", K::MapTarget), p("pattern", K::LitStr(&[])), p("replacement", STR), REPLACE_TAIL[0], REPLACE_TAIL[1]],
        Ty::Nil,
    ),
    func(
        "truncate_all",
        Ed,
        "truncate_all(target, limit)",
        "Truncates every string value of the map target to limit bytes (on a character boundary).",
        &[p("target", K::MapTarget), p("limit", K::LitInt)],
        Ty::Nil,
    ),
    func(
        "flatten",
        Ed,
        "flatten(target, Optional[prefix], Optional[depth], Optional[resolveConflicts])",
        "Flattens nested maps of the map target into dotted keys, lists into indexed keys.",
        &[p("target", K::MapTarget), opt("prefix", K::LitStr(&[])), opt("depth", K::LitInt), opt("resolveConflicts", K::Value(Ty::Bool))],
        Ty::Nil,
    ),
    func(
        "append",
        Ed,
        "append(target, Optional[value], Optional[values])",
        "Appends value and/or values to target, turning a single value into a list.",
        &[p("target", K::Target), opt("value", ANY), opt("values", K::Values)],
        Ty::Nil,
    ),
    FunctionDoc { contexts: &[M], ..func("convert_sum_to_gauge", Ed, "convert_sum_to_gauge()", "Turns a sum metric into a gauge.", &[], Ty::Nil) },
    FunctionDoc {
        contexts: &[M],
        ..func(
            "convert_gauge_to_sum",
            Ed,
            "convert_gauge_to_sum(aggregation_temporality, is_monotonic)",
            "Turns a gauge metric into a sum with the temporality (\"cumulative\" or \"delta\").",
            &[p("aggregation_temporality", K::LitStr(&["cumulative", "delta"])), p("is_monotonic", K::Value(Ty::Bool))],
            Ty::Nil,
        )
    },
    FunctionDoc {
        contexts: &[M],
        ..func(
            "extract_sum_metric",
            Ed,
            "extract_sum_metric(monotonic, Optional[suffix])",
            "Adds a sum metric named <name>.sum (or <name><suffix>) with the sums of a histogram, exponential histogram or summary.",
            &[p("monotonic", K::Value(Ty::Bool)), opt("suffix", K::LitStr(&[]))],
            Ty::Nil,
        )
    },
    FunctionDoc {
        contexts: &[M],
        ..func(
            "extract_count_metric",
            Ed,
            "extract_count_metric(monotonic, Optional[suffix])",
            "Adds a sum metric named <name>.count (or <name><suffix>, unit 1) with the counts of a histogram, exponential histogram or summary.",
            &[p("monotonic", K::Value(Ty::Bool)), opt("suffix", K::LitStr(&[]))],
            Ty::Nil,
        )
    },
    FunctionDoc {
        contexts: &[M],
        ..func(
            "aggregate_on_attributes",
            Ed,
            "aggregate_on_attributes(function, Optional[attributes])",
            "Keeps only the listed attributes (none when absent) on a gauge's or sum's points and merges the points left alike with sum, avg, min, max, median or count.",
            &[p("function", K::LitStr(&["sum", "avg", "min", "max", "median", "count"])), opt("attributes", K::StrList)],
            Ty::Nil,
        )
    },
    FunctionDoc {
        contexts: &[M],
        ..func(
            "scale_metric",
            Ed,
            "scale_metric(factor, Optional[unit])",
            "Multiplies the values of a gauge or sum metric by factor, optionally setting its unit.",
            &[p("factor", K::Value(Ty::Double)), opt("unit", STR)],
            Ty::Nil,
        )
    },
    func(
        "Concat",
        C,
        "Concat(values[], delimiter)",
        "Joins the text of the values with delimiter.",
        &[p("values", K::Values), p("delimiter", STR)],
        Ty::String,
    ),
    func(
        "ConvertCase",
        C,
        "ConvertCase(target, toCase)",
        "Converts the string to lower, upper, snake or camel case.",
        &[p("target", STR), p("toCase", K::LitStr(&["lower", "upper", "snake", "camel"]))],
        Ty::String,
    ),
    func("Int", C, "Int(value)", "The value as an integer (doubles truncate, strings parse); nil when it does not convert.", &[p("value", ANY)], Ty::Int),
    func("Double", C, "Double(value)", "The value as a double; nil when it does not convert.", &[p("value", ANY)], Ty::Double),
    func("String", C, "String(value)", "The value as text.", &[p("value", ANY)], Ty::String),
    func("Bool", C, "Bool(value)", "The value as a boolean (\"true\", non-zero numbers); nil when it does not convert.", &[p("value", ANY)], Ty::Bool),
    func(
        "IsMatch",
        C,
        "IsMatch(target, pattern)",
        "Whether the text of target matches the regular expression.",
        &[p("target", K::Text), p("pattern", K::Pattern)],
        Ty::Bool,
    ),
    func("IsString", C, "IsString(value)", "Whether the value is a string.", &[p("value", ANY)], Ty::Bool),
    func("IsInt", C, "IsInt(value)", "Whether the value is an integer.", &[p("value", ANY)], Ty::Bool),
    func("IsDouble", C, "IsDouble(value)", "Whether the value is a double.", &[p("value", ANY)], Ty::Bool),
    func("IsBool", C, "IsBool(value)", "Whether the value is a boolean.", &[p("value", ANY)], Ty::Bool),
    func("IsMap", C, "IsMap(value)", "Whether the value is a map.", &[p("value", ANY)], Ty::Bool),
    func("IsList", C, "IsList(value)", "Whether the value is a list.", &[p("value", ANY)], Ty::Bool),
    func("Len", C, "Len(target)", "The length of a string (in bytes), list, map or bytes.", &[p("target", ANY)], Ty::Int),
    func("ParseJSON", C, "ParseJSON(target)", "The JSON object or array in the string target as a map or list.", &[p("target", STR)], Ty::Any),
    func(
        "ParseKeyValue",
        C,
        "ParseKeyValue(target, Optional[delimiter], Optional[pair_delimiter])",
        "The key=value pairs of the string target as a map.",
        &[p("target", STR), opt("delimiter", K::LitStr(&[])), opt("pair_delimiter", K::LitStr(&[]))],
        Ty::Map,
    ),
    func("SHA1", C, "SHA1(value)", "The SHA-1 digest of the string, in hex.", &[p("value", STR)], Ty::String),
    func("SHA256", C, "SHA256(value)", "The SHA-256 digest of the string, in hex.", &[p("value", STR)], Ty::String),
    func("SHA512", C, "SHA512(value)", "The SHA-512 digest of the string, in hex.", &[p("value", STR)], Ty::String),
    func("MD5", C, "MD5(value)", "The MD5 digest of the string, in hex.", &[p("value", STR)], Ty::String),
    func("FNV", C, "FNV(value)", "The 64-bit FNV-1a hash of the string.", &[p("value", STR)], Ty::Int),
    func("Split", C, "Split(target, delimiter)", "The string split at each delimiter.", &[p("target", STR), p("delimiter", K::LitStr(&[]))], Ty::List),
    func(
        "Substring",
        C,
        "Substring(target, start, length)",
        "length bytes of the string from start; an error when out of range.",
        &[p("target", STR), p("start", K::Value(Ty::Int)), p("length", K::Value(Ty::Int))],
        Ty::String,
    ),
    func("ToLowerCase", C, "ToLowerCase(target)", "The string in lower case.", &[p("target", STR)], Ty::String),
    func("ToUpperCase", C, "ToUpperCase(target)", "The string in upper case.", &[p("target", STR)], Ty::String),
    func(
        "Trim",
        C,
        "Trim(target, Optional[replacement])",
        "The string without the leading and trailing characters in replacement (a space by default).",
        &[p("target", STR), opt("replacement", K::LitStr(&[]))],
        Ty::String,
    ),
    func("HasPrefix", C, "HasPrefix(target, prefix)", "Whether the string starts with prefix.", &[p("target", STR), p("prefix", STR)], Ty::Bool),
    func("HasSuffix", C, "HasSuffix(target, suffix)", "Whether the string ends with suffix.", &[p("target", STR), p("suffix", STR)], Ty::Bool),
    func("TraceID", C, "TraceID(bytes)", "A trace ID from 16 bytes.", &[p("bytes", K::Value(Ty::Bytes))], Ty::Bytes),
    func("SpanID", C, "SpanID(bytes)", "A span ID from 8 bytes.", &[p("bytes", K::Value(Ty::Bytes))], Ty::Bytes),
    func("Now", C, "Now()", "The current time.", &[], Ty::Time),
    func("Year", C, "Year(time)", "The year of the time, in UTC.", &[p("time", K::Value(Ty::Time))], Ty::Int),
    func("Month", C, "Month(time)", "The month of the time (1-12), in UTC.", &[p("time", K::Value(Ty::Time))], Ty::Int),
    func("Day", C, "Day(time)", "The day of the month of the time, in UTC.", &[p("time", K::Value(Ty::Time))], Ty::Int),
    func("Weekday", C, "Weekday(time)", "The day of the week of the time (0 = Sunday), in UTC.", &[p("time", K::Value(Ty::Time))], Ty::Int),
    func("Hour", C, "Hour(time)", "The hour of the time (0-23), in UTC.", &[p("time", K::Value(Ty::Time))], Ty::Int),
    func("Minute", C, "Minute(time)", "The minute of the time.", &[p("time", K::Value(Ty::Time))], Ty::Int),
    func("Second", C, "Second(time)", "The second of the time.", &[p("time", K::Value(Ty::Time))], Ty::Int),
    func("Nanosecond", C, "Nanosecond(time)", "The nanoseconds within the second of the time.", &[p("time", K::Value(Ty::Time))], Ty::Int),
    func("Hours", C, "Hours(duration)", "The duration in hours, as a double.", &[p("duration", K::Value(Ty::Duration))], Ty::Double),
    func("Minutes", C, "Minutes(duration)", "The duration in minutes, as a double.", &[p("duration", K::Value(Ty::Duration))], Ty::Double),
    func("Seconds", C, "Seconds(duration)", "The duration in seconds, as a double.", &[p("duration", K::Value(Ty::Duration))], Ty::Double),
    func("Milliseconds", C, "Milliseconds(duration)", "The duration in whole milliseconds.", &[p("duration", K::Value(Ty::Duration))], Ty::Int),
    func("Microseconds", C, "Microseconds(duration)", "The duration in whole microseconds.", &[p("duration", K::Value(Ty::Duration))], Ty::Int),
    func("Nanoseconds", C, "Nanoseconds(duration)", "The duration in nanoseconds.", &[p("duration", K::Value(Ty::Duration))], Ty::Int),
    func(
        "Time",
        C,
        "Time(target, format, Optional[location], Optional[locale])",
        "The time in the string target, read with a strftime-style format (%Y-%m-%d %H:%M:%S, %z, %b, %p, %L...); UTC unless the text has an offset.",
        &[p("target", STR), p("format", K::LitStr(&[])), opt("location", K::LitStr(&["UTC"])), opt("locale", K::LitStr(&["en", "en-US"]))],
        Ty::Time,
    ),
    func(
        "FormatTime",
        C,
        "FormatTime(time, format)",
        "The time written in UTC with a strftime-style format.",
        &[p("time", K::Value(Ty::Time)), p("format", K::LitStr(&[]))],
        Ty::String,
    ),
    func("UnixNano", C, "UnixNano(time)", "Nanoseconds since the epoch.", &[p("time", K::Value(Ty::Time))], Ty::Int),
    func("UnixMilli", C, "UnixMilli(time)", "Milliseconds since the epoch.", &[p("time", K::Value(Ty::Time))], Ty::Int),
    func("UnixSeconds", C, "UnixSeconds(time)", "Seconds since the epoch.", &[p("time", K::Value(Ty::Time))], Ty::Int),
    func(
        "Unix",
        C,
        "Unix(seconds, Optional[nanoseconds])",
        "The time seconds (plus nanoseconds) after the epoch.",
        &[p("seconds", K::Value(Ty::Int)), opt("nanoseconds", K::Value(Ty::Int))],
        Ty::Time,
    ),
    func("Duration", C, "Duration(duration)", "A duration from Go's notation (\"1h30m\", \"250ms\").", &[p("duration", STR)], Ty::Duration),
    func("Hex", C, "Hex(value)", "The bytes of the value in hex.", &[p("value", ANY)], Ty::String),
    func(
        "Format",
        C,
        "Format(formatString, formatArguments[])",
        "formatString with each verb (%s, %d, %v, %f) replaced by the next argument.",
        &[p("formatString", K::LitStr(&[])), p("formatArguments", K::Values)],
        Ty::String,
    ),
    func("Log", C, "Log(value)", "The natural logarithm of the number.", &[p("value", K::Value(Ty::Double))], Ty::Double),
    func(
        "ExtractPatterns",
        C,
        "ExtractPatterns(target, pattern)",
        "The named capture groups of the regular expression's first match in the string, as a map.",
        &[p("target", STR), p("pattern", K::Pattern)],
        Ty::Map,
    ),
    func("Base64Decode", C, "Base64Decode(value)", "The string decoded from standard base64.", &[p("value", STR)], Ty::String),
    func(
        "Decode",
        C,
        "Decode(value, encoding)",
        "The string decoded from base64 (encoding base64, base64-raw, base64-url or base64-raw-url).",
        &[p("value", STR), p("encoding", K::LitStr(&BASE64_VARIANTS))],
        Ty::String,
    ),
    func(
        "Base64Encode",
        C,
        "Base64Encode(value, Optional[variant])",
        "The string encoded in base64 (variant base64, base64-raw, base64-url or base64-raw-url).",
        &[p("value", STR), opt("variant", K::LitStr(&BASE64_VARIANTS))],
        Ty::String,
    ),
    FunctionDoc { contexts: &[SP], ..func("IsRootSpan", C, "IsRootSpan()", "Whether the span has no parent.", &[], Ty::Bool) },
    FunctionDoc {
        contexts: &[M],
        filter_only: true,
        ..func(
            "HasAttrKeyOnDatapoint",
            C,
            "HasAttrKeyOnDatapoint(key)",
            "Whether a data point of the metric has the attribute key (otelcol.processor.filter only).",
            &[p("key", K::LitStr(&[]))],
            Ty::Bool,
        )
    },
    FunctionDoc {
        contexts: &[M],
        filter_only: true,
        ..func(
            "HasAttrOnDatapoint",
            C,
            "HasAttrOnDatapoint(key, value)",
            "Whether a data point of the metric has the attribute key with the string value (otelcol.processor.filter only).",
            &[p("key", K::LitStr(&[])), p("value", K::LitStr(&[]))],
            Ty::Bool,
        )
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_kinds_follow_capitalisation() {
        let mut names: Vec<&str> = FUNCTIONS.iter().map(|f| f.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), FUNCTIONS.len());
        for f in FUNCTIONS {
            assert_eq!(f.kind == FunctionKind::Converter, f.name.starts_with(|c: char| c.is_ascii_uppercase()), "{}", f.name);
            assert!(f.signature.starts_with(f.name));
            // Optional parameters come last.
            assert!(f.params.windows(2).all(|w| !w[0].optional || w[1].optional), "{}", f.name);
        }
        for h in HASH_FUNCTIONS {
            assert!(function(h).is_some(), "{h}");
        }
    }

    #[test]
    fn paths_include_reachable_contexts() {
        let names: Vec<String> = paths(Context::DataPoint).into_iter().map(|p| p.name).collect();
        for want in ["attributes", "value_double", "cache", "metric.name", "resource.attributes", "instrumentation_scope.name"] {
            assert!(names.iter().any(|n| n == want), "{want}");
        }
        assert!(!names.iter().any(|n| n == "span.name"));
        assert!(paths(Context::Resource).iter().all(|p| !p.name.contains('.')));
    }
}
