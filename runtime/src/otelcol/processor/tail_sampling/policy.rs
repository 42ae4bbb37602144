//! Tail sampling policies: how each looks at a whole trace and decides.

use std::sync::Mutex;
use std::time::Instant;

use opentelemetry_proto::tonic::common::v1::{any_value, KeyValue};
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use opentelemetry_proto::tonic::trace::v1::Span;
use regex::Regex;

use crate::component::{Arguments, Reader};
use crate::otelcol::processor::ottl_support::{element, ottl_error, ErrorMode};

/// One span of a buffered trace with its resource's attributes.
pub struct TraceSpan<'a> {
    pub resource: &'a [KeyValue],
    pub span: &'a Span,
}

/// A trace as the policies see it.
pub struct Trace<'a> {
    pub id: &'a [u8],
    pub spans: Vec<TraceSpan<'a>>,
}

/// The policy types this runtime has.
const TYPES: &[&str] = &[
    "always_sample",
    "latency",
    "numeric_attribute",
    "probabilistic",
    "status_code",
    "string_attribute",
    "rate_limiting",
    "boolean_attribute",
    "span_count",
    "trace_state",
    "and",
    "not",
    "drop",
    "composite",
    "ottl_condition",
];
/// Upstream's other types, refused by value.
const OTHER_TYPES: &[&str] = &["bytes_limiting"];

#[derive(Debug)]
pub enum Kind {
    AlwaysSample,
    /// Any span or span event condition holds.
    Ottl(OttlCondition),
    Latency {
        lower_ms: i64,
        upper_ms: i64,
    },
    Numeric {
        key: String,
        min: i64,
        max: i64,
        invert: bool,
    },
    Probabilistic {
        salt: String,
        threshold: u64,
    },
    StatusCode(Vec<i32>),
    StringAttr {
        key: String,
        values: Vec<String>,
        regexes: Option<Vec<Regex>>,
        invert: bool,
    },
    BoolAttr {
        key: String,
        value: bool,
        invert: bool,
    },
    RateLimiting {
        spans_per_second: i64,
        window: Mutex<(Instant, i64)>,
    },
    SpanCount {
        min: i64,
        max: i64,
    },
    TraceState {
        key: String,
        values: Vec<String>,
    },
    And(Vec<Policy>),
    Not(Box<Policy>),
    /// Matches when all sub-policies do; a matching drop policy drops the trace.
    Drop(Vec<Policy>),
    Composite(Composite),
}

#[derive(Debug)]
pub struct Composite {
    max_total_spans_per_second: i64,
    /// Sub-policies in `policy_order`, each with its share of the spans per second.
    subs: Vec<(Policy, i64)>,
    /// The current second and the spans each sub-policy sampled in it.
    window: Mutex<(Instant, Vec<i64>)>,
}

#[derive(Debug, Default)]
pub struct Policy {
    pub name: String,
    kind: Option<Kind>,
}

#[derive(Default)]
struct Leaf<T>(T);

impl Arguments for Leaf<(i64, i64)> {
    fn decode(r: &mut Reader<'_>) -> Self {
        Leaf((r.get("threshold_ms"), r.get("upper_threshold_ms")))
    }
}

#[derive(Default)]
struct Numeric(String, i64, i64, bool);
impl Arguments for Numeric {
    fn decode(r: &mut Reader<'_>) -> Self {
        Numeric(r.get("key"), r.get("min_value"), r.get("max_value"), r.get("invert_match"))
    }
}

#[derive(Default)]
struct Probabilistic(f64, String);
impl Arguments for Probabilistic {
    fn decode(r: &mut Reader<'_>) -> Self {
        Probabilistic(r.get("sampling_percentage"), r.get("hash_salt"))
    }
}

#[derive(Default)]
struct StatusCodes(Vec<i32>);
impl Arguments for StatusCodes {
    fn decode(r: &mut Reader<'_>) -> Self {
        let mut codes = Vec::new();
        let written: Vec<String> = r.get("status_codes");
        if written.is_empty() {
            r.error("status_codes", "expected at least one status code to filter on");
        }
        for c in written {
            match c.as_str() {
                "OK" => codes.push(StatusCode::Ok as i32),
                "ERROR" => codes.push(StatusCode::Error as i32),
                "UNSET" => codes.push(StatusCode::Unset as i32),
                other => r.error("status_codes", format!("unknown status code {}, supported: OK, ERROR, UNSET", syntax::quote::go_quote(other))),
            }
        }
        StatusCodes(codes)
    }
}

#[derive(Default)]
struct StringAttr(String, Vec<String>, Option<Vec<Regex>>, bool);
impl Arguments for StringAttr {
    fn decode(r: &mut Reader<'_>) -> Self {
        let key: String = r.get("key");
        let values: Vec<String> = r.get("values");
        // A cache of regex results is an optimisation only: its size changes no decision.
        let _: Option<eval::Value> = r.opt("cache_max_size");
        let regexes = if r.get::<bool>("enabled_regex_matching") {
            let mut out = Vec::new();
            for v in &values {
                match Regex::new(v) {
                    Ok(re) => out.push(re),
                    Err(e) => r.error("values", format!("invalid regular expression {v:?}: {e}")),
                }
            }
            Some(out)
        } else {
            None
        };
        StringAttr(key, values, regexes, r.get("invert_match"))
    }
}

#[derive(Default)]
struct BoolAttr(String, bool, bool);
impl Arguments for BoolAttr {
    fn decode(r: &mut Reader<'_>) -> Self {
        BoolAttr(r.get("key"), r.get("value"), r.get("invert_match"))
    }
}

#[derive(Default)]
struct RateLimiting(i64);
impl Arguments for RateLimiting {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&["burst_capacity"]);
        RateLimiting(r.get("spans_per_second"))
    }
}

#[derive(Default)]
struct SpanCount(i64, i64);
impl Arguments for SpanCount {
    fn decode(r: &mut Reader<'_>) -> Self {
        SpanCount(r.get("min_spans"), r.get("max_spans"))
    }
}

#[derive(Default)]
struct TraceStateArgs(String, Vec<String>);
impl Arguments for TraceStateArgs {
    fn decode(r: &mut Reader<'_>) -> Self {
        TraceStateArgs(r.get("key"), r.get("values"))
    }
}

/// The `ottl_condition` block: span and span event conditions, checked at decode.
#[derive(Debug, Default)]
pub struct OttlCondition {
    mode: ErrorMode,
    span: Vec<ottl::Condition>,
    spanevent: Vec<ottl::Condition>,
}

impl Arguments for OttlCondition {
    fn decode(r: &mut Reader<'_>) -> Self {
        // Not written: errors propagate (the evaluation stops and the trace does not match).
        let written: String = r.get("error_mode");
        let mode = match if written.is_empty() { Ok(ErrorMode::Propagate) } else { ErrorMode::parse(&written) } {
            Ok(m) => m,
            Err(e) => {
                r.error("error_mode", e);
                ErrorMode::default()
            }
        };
        let compile = |r: &mut Reader<'_>, field: &'static str, ctx: ottl::Context| {
            let sources: Vec<String> = r.get(field);
            let mut out = Vec::with_capacity(sources.len());
            for (i, src) in sources.iter().enumerate() {
                match ottl::check_condition(src, ctx) {
                    Ok(c) => out.push(c),
                    Err(d) => {
                        let at = element(r.path(), field, i);
                        r.push_error(ottl_error(at, &d));
                    }
                }
            }
            out
        };
        let span = compile(r, "span", ottl::Context::Span);
        let spanevent = compile(r, "spanevent", ottl::Context::SpanEvent);
        OttlCondition { mode, span, spanevent }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        let written = !r.get::<Vec<String>>("span").is_empty() || !r.get::<Vec<String>>("spanevent").is_empty();
        r.check(written, &["span"], "an ottl_condition policy needs at least one span or spanevent condition");
    }
}

impl OttlCondition {
    /// Whether a condition holds for a span or span event of the trace. An evaluation error
    /// counts as no match (with `propagate` it ends the evaluation).
    fn holds(&self, t: &Trace) -> bool {
        use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
        use opentelemetry_proto::tonic::resource::v1::Resource;
        use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans};
        let mut req = ExportTraceServiceRequest {
            resource_spans: t
                .spans
                .iter()
                .map(|s| ResourceSpans {
                    resource: Some(Resource { attributes: s.resource.to_vec(), ..Default::default() }),
                    scope_spans: vec![ScopeSpans { spans: vec![s.span.clone()], ..Default::default() }],
                    ..Default::default()
                })
                .collect(),
        };
        let mode = self.mode;
        let mut on_error = |e: ottl::eval::EvalError| if mode == ErrorMode::Propagate { Err(e) } else { Ok(()) };
        let mut any = |ctx, conditions: &[ottl::Condition]| {
            !conditions.is_empty() && ottl::eval::matches_traces(&mut req, ctx, conditions, &mut on_error).is_ok_and(|m| m.contains(&true))
        };
        any(ottl::Context::Span, &self.span) || any(ottl::Context::SpanEvent, &self.spanevent)
    }
}

#[derive(Default)]
struct Not(Option<Policy>);
impl Arguments for Not {
    fn decode(r: &mut Reader<'_>) -> Self {
        Not(r.block("not_sub_policy"))
    }
}

#[derive(Default)]
struct DropArgs(Vec<Policy>);
impl Arguments for DropArgs {
    fn decode(r: &mut Reader<'_>) -> Self {
        DropArgs(r.blocks("drop_sub_policy"))
    }
}

#[derive(Default)]
struct And(Vec<Policy>);
impl Arguments for And {
    fn decode(r: &mut Reader<'_>) -> Self {
        And(r.blocks("and_sub_policy"))
    }
}

#[derive(Default)]
struct Allocation(String, i64);
impl Arguments for Allocation {
    fn decode(r: &mut Reader<'_>) -> Self {
        Allocation(r.get("policy"), r.get("percent"))
    }
}

#[derive(Default)]
struct CompositeArgs(Option<Composite>);
impl Arguments for CompositeArgs {
    fn decode(r: &mut Reader<'_>) -> Self {
        let max: i64 = r.get("max_total_spans_per_second");
        let order: Vec<String> = r.get("policy_order");
        let mut subs: Vec<Policy> = r.blocks("composite_sub_policy");
        let allocations: Vec<Allocation> = r.blocks("rate_allocation");
        let mut ordered = Vec::new();
        for name in &order {
            match subs.iter().position(|p| &p.name == name) {
                Some(i) => {
                    let share = allocations.iter().find(|a| &a.0 == name).map_or(max, |a| max * a.1 / 100);
                    ordered.push((subs.remove(i), share));
                }
                None => r.error("policy_order", format!("policy_order names {} which is not a composite_sub_policy", syntax::quote::go_quote(name))),
            }
        }
        let n = ordered.len();
        CompositeArgs(Some(Composite { max_total_spans_per_second: max, subs: ordered, window: Mutex::new((Instant::now(), vec![0; n])) }))
    }
}

impl Arguments for Policy {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&["bytes_limiting"]);
        let name: String = r.get("name");
        let ty: String = r.get("type");
        // Every block is read (a block for another type is refused below), then the type picks.
        let latency = r.block::<Leaf<(i64, i64)>>("latency").map(|Leaf((lower_ms, upper_ms))| Kind::Latency { lower_ms, upper_ms });
        let numeric = r.block::<Numeric>("numeric_attribute").map(|n| Kind::Numeric { key: n.0, min: n.1, max: n.2, invert: n.3 });
        let probabilistic = r.block::<Probabilistic>("probabilistic").map(|p| {
            let salt = if p.1.is_empty() { "default-hash-seed".to_string() } else { p.1 };
            Kind::Probabilistic { salt, threshold: ((p.0 / 100.0).clamp(0.0, 1.0) * u64::MAX as f64) as u64 }
        });
        let status = r.block::<StatusCodes>("status_code").map(|s| Kind::StatusCode(s.0));
        let string = r.block::<StringAttr>("string_attribute").map(|s| Kind::StringAttr { key: s.0, values: s.1, regexes: s.2, invert: s.3 });
        let boolean = r.block::<BoolAttr>("boolean_attribute").map(|b| Kind::BoolAttr { key: b.0, value: b.1, invert: b.2 });
        let rate = r.block::<RateLimiting>("rate_limiting").map(|l| Kind::RateLimiting { spans_per_second: l.0, window: Mutex::new((Instant::now(), 0)) });
        let span_count = r.block::<SpanCount>("span_count").map(|c| Kind::SpanCount { min: c.0, max: c.1 });
        let trace_state = r.block::<TraceStateArgs>("trace_state").map(|t| Kind::TraceState { key: t.0, values: t.1 });
        let and = if r.has("and") { r.block::<And>("and").map(|a| Kind::And(a.0)) } else { None };
        let not = if r.has("not") { r.block::<Not>("not").and_then(|n| n.0).map(|p| Kind::Not(Box::new(p))) } else { None };
        let drop = if r.has("drop") { r.block::<DropArgs>("drop").map(|d| Kind::Drop(d.0)) } else { None };
        let composite = if r.has("composite") { r.block::<CompositeArgs>("composite").and_then(|c| c.0).map(Kind::Composite) } else { None };
        let ottl = if r.has("ottl_condition") { r.block::<OttlCondition>("ottl_condition").map(Kind::Ottl) } else { None };
        let mut blocks = [
            ("latency", latency),
            ("numeric_attribute", numeric),
            ("probabilistic", probabilistic),
            ("status_code", status),
            ("string_attribute", string),
            ("boolean_attribute", boolean),
            ("rate_limiting", rate),
            ("span_count", span_count),
            ("trace_state", trace_state),
            ("and", and),
            ("not", not),
            ("drop", drop),
            ("composite", composite),
            ("ottl_condition", ottl),
        ];
        let mut kind = None;
        for (block, k) in &mut blocks {
            if *block == ty {
                kind = k.take();
            } else if k.is_some() {
                r.error(block, format!("block {} does not apply to a {} policy", syntax::quote::go_quote(block), syntax::quote::go_quote(&ty)));
            }
        }
        match ty.as_str() {
            "always_sample" => kind = Some(Kind::AlwaysSample),
            other if OTHER_TYPES.contains(&other) => {
                r.error("type", format!("policy type {} is not supported by this runtime yet", syntax::quote::go_quote(other)))
            }
            other if !TYPES.contains(&other) => r.error("type", format!("unknown sampling policy type {}", syntax::quote::go_quote(other))),
            other if kind.is_none() => {
                let why = if r.has(other) { format!("needs its {} block", syntax::quote::go_quote(other)) } else { "is not allowed here".to_string() };
                r.error("type", format!("policy type {} {why}", syntax::quote::go_quote(other)));
            }
            _ => {}
        }
        Policy { name, kind }
    }
}

fn attr<'a>(t: &'a TraceSpan<'_>, key: &str) -> impl Iterator<Item = &'a any_value::Value> {
    let key = key.to_string();
    t.resource.iter().chain(&t.span.attributes).filter(move |kv| kv.key == key).filter_map(|kv| kv.value.as_ref().and_then(|v| v.value.as_ref()))
}

fn fnv1a_64(parts: &[&[u8]]) -> u64 {
    parts.iter().flat_map(|p| p.iter()).fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// Counts `n` spans into a one-second window; `false` when they do not fit.
fn admit(window: &mut (Instant, i64), n: i64, limit: i64) -> bool {
    if window.0.elapsed().as_secs() >= 1 {
        *window = (Instant::now(), 0);
    }
    if window.1 + n > limit {
        return false;
    }
    window.1 += n;
    true
}

impl Policy {
    /// Whether this is a `drop` policy (its match drops the trace whatever the others say).
    pub fn drops(&self) -> bool {
        matches!(self.kind, Some(Kind::Drop(_)))
    }

    /// Whether the policy samples the trace (for a `drop` policy: whether it matches).
    pub fn sample(&self, t: &Trace) -> bool {
        let Some(kind) = &self.kind else { return false };
        match kind {
            Kind::AlwaysSample => true,
            Kind::Ottl(o) => o.holds(t),
            Kind::Latency { lower_ms, upper_ms } => {
                let start = t.spans.iter().map(|s| s.span.start_time_unix_nano).min().unwrap_or(0);
                let end = t.spans.iter().map(|s| s.span.end_time_unix_nano).max().unwrap_or(0);
                let ms = (end.saturating_sub(start) / 1_000_000) as i64;
                ms >= *lower_ms && (*upper_ms == 0 || ms <= *upper_ms)
            }
            Kind::Numeric { key, min, max, invert } => {
                let hit = t.spans.iter().any(|s| attr(s, key).any(|v| matches!(v, any_value::Value::IntValue(i) if (min..=max).contains(&i))));
                hit != *invert
            }
            Kind::Probabilistic { salt, threshold } => fnv1a_64(&[salt.as_bytes(), t.id]) <= *threshold,
            Kind::StatusCode(codes) => t.spans.iter().any(|s| codes.contains(&s.span.status.as_ref().map_or(0, |st| st.code))),
            Kind::StringAttr { key, values, regexes, invert } => {
                let matches = |v: &str| match regexes {
                    Some(res) => res.iter().any(|re| re.is_match(v)),
                    None => values.iter().any(|x| x == v),
                };
                let hit = t.spans.iter().any(|s| attr(s, key).any(|v| matches!(v, any_value::Value::StringValue(x) if matches(x))));
                hit != *invert
            }
            Kind::BoolAttr { key, value, invert } => {
                let hit = t.spans.iter().any(|s| attr(s, key).any(|v| matches!(v, any_value::Value::BoolValue(b) if b == value)));
                hit != *invert
            }
            Kind::RateLimiting { spans_per_second, window } => {
                admit(&mut window.lock().unwrap_or_else(|e| e.into_inner()), t.spans.len() as i64, *spans_per_second)
            }
            Kind::SpanCount { min, max } => {
                let n = t.spans.len() as i64;
                n >= *min && (*max == 0 || n <= *max)
            }
            Kind::TraceState { key, values } => t
                .spans
                .iter()
                .any(|s| s.span.trace_state.split(',').filter_map(|m| m.trim().split_once('=')).any(|(k, v)| k == key && values.iter().any(|x| x == v))),
            Kind::And(subs) | Kind::Drop(subs) => !subs.is_empty() && subs.iter().all(|p| p.sample(t)),
            Kind::Not(p) => !p.sample(t),
            Kind::Composite(c) => {
                let n = t.spans.len() as i64;
                let mut w = c.window.lock().unwrap_or_else(|e| e.into_inner());
                if w.0.elapsed().as_secs() >= 1 {
                    *w = (Instant::now(), vec![0; c.subs.len()]);
                }
                let total: i64 = w.1.iter().sum();
                for (i, (p, share)) in c.subs.iter().enumerate() {
                    if p.sample(t) {
                        if w.1[i] + n <= *share && total + n <= c.max_total_spans_per_second {
                            w.1[i] += n;
                            return true;
                        }
                        return false;
                    }
                }
                false
            }
        }
    }
}
