//! `otelcol.processor.attributes`: edits the attributes of spans, log records and metric
//! data points with an ordered list of actions (insert, update, upsert, delete, hash,
//! extract, convert), optionally only for data that an `include` block matches and an
//! `exclude` block does not. This processor has to look inside, so it decodes the payload,
//! edits it and encodes it again.

use std::sync::{Arc, RwLock};

use eval::decode::StructDecoder;
use eval::Value;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList};
use opentelemetry_proto::tonic::metrics::v1::metric;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use regex::Regex;
use sha1::{Digest, Sha1};

use crate::component::args::decode_checked;
use crate::component::{Arguments, Component, ComponentError, Context, Reader, Registration};
use crate::otelcol::consumer::{ConsumeError, ConsumeFuture, Consumer, ConsumerHandle, Fanout, Output};
use crate::otelcol::pdata::{Metadata, Payload, Signal};
use crate::otelcol::SignalCounters;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Kind {
    #[default]
    Insert,
    Update,
    Upsert,
    Delete,
    Hash,
    Extract,
    Convert,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConvertTo {
    Int,
    Double,
    String,
}

/// Where a new value comes from.
#[derive(Clone, Debug)]
enum Source {
    Value(AnyValue),
    Attribute(String),
    /// A client metadata key (`metadata.<key>` or a plain key).
    Context(String),
}

#[derive(Clone, Debug, Default)]
pub struct Action {
    key: String,
    kind: Kind,
    source: Option<Source>,
    pattern: Option<Regex>,
    convert_to: Option<ConvertTo>,
}

/// An Alloy value as an OTLP attribute value.
pub fn any_value(v: &Value) -> AnyValue {
    use any_value::Value as V;
    let value = match v {
        Value::Null => None,
        Value::Bool(b) => Some(V::BoolValue(*b)),
        Value::Number(n) => Some(match n {
            eval::Number::Float(f) => V::DoubleValue(*f),
            other => V::IntValue(other.as_i64()),
        }),
        Value::String(s) => Some(V::StringValue(s.to_string_lossy().into_owned())),
        Value::Array(items) => Some(V::ArrayValue(ArrayValue { values: items.iter().map(any_value).collect() })),
        other => match other.as_object() {
            Some(o) => Some(V::KvlistValue(KeyValueList {
                values: o.entries().into_iter().map(|(k, v)| KeyValue { key: k.to_string(), value: Some(any_value(v)), ..Default::default() }).collect(),
            })),
            None => Some(V::StringValue(eval::render::render(other))),
        },
    };
    AnyValue { value }
}

/// The text form used by regexp matching, `convert` to string and hashing.
pub fn value_text(v: &AnyValue) -> String {
    use any_value::Value as V;
    match &v.value {
        None => String::new(),
        Some(V::StringValue(s)) => s.clone(),
        Some(V::BoolValue(b)) => b.to_string(),
        Some(V::IntValue(i)) => i.to_string(),
        Some(V::DoubleValue(d)) => d.to_string(),
        Some(V::BytesValue(b)) => crate::otelcol::hex(b),
        Some(other) => crate::otelcol::exporter::debug::any_value_text(&Some(AnyValue { value: Some(other.clone()) })),
    }
}

fn string_value(s: String) -> AnyValue {
    AnyValue { value: Some(any_value::Value::StringValue(s)) }
}

impl Action {
    /// The action, or the field at fault and why.
    fn from_value(v: &Value) -> Result<Action, (&'static str, ComponentError)> {
        let plain = |e: eval::ValueError| ("", ComponentError::from(e));
        let mut d = StructDecoder::new(v).map_err(plain)?;
        let key: String = d.optional("key").map_err(plain)?.unwrap_or_default();
        let kind_text: String = d.required("action").map_err(plain)?;
        let kind = match kind_text.to_ascii_lowercase().as_str() {
            "insert" => Kind::Insert,
            "update" => Kind::Update,
            "upsert" => Kind::Upsert,
            "delete" => Kind::Delete,
            "hash" => Kind::Hash,
            "extract" => Kind::Extract,
            "convert" => Kind::Convert,
            other => {
                return Err(("action", ComponentError(format!("error creating AttrProc due to unsupported action {other:?} at the action with key {key:?}"))))
            }
        };
        let value: Option<Value> = d.optional("value").map_err(plain)?;
        let text = |d: &mut StructDecoder, n: &'static str| d.optional::<String>(n).map(|t| t.filter(|s| !s.is_empty())).map_err(plain);
        let from_attribute = text(&mut d, "from_attribute")?;
        let from_context = text(&mut d, "from_context")?;
        let pattern = text(&mut d, "pattern")?;
        let converted_type = text(&mut d, "converted_type")?;
        let pattern = pattern
            .map(|p| Regex::new(&p).map_err(|e| ("pattern", ComponentError(format!("error creating AttrProc: invalid pattern for key {key:?}: {e}")))))
            .transpose()?;
        let value = value.filter(|v| !v.is_null());
        let sources = [value.is_some(), from_attribute.is_some(), from_context.is_some()].iter().filter(|x| **x).count();
        let mut a = Action { key: key.clone(), kind, source: None, pattern: None, convert_to: None };
        match kind {
            Kind::Insert | Kind::Update | Kind::Upsert => {
                if key.is_empty() {
                    return Err(("action", ComponentError(format!("error creating AttrProc due to missing required field \"key\" for action {kind_text:?}"))));
                }
                if sources != 1 {
                    let msg = format!("error creating AttrProc due to missing value source (exactly one of \"value\", \"from_attribute\" or \"from_context\") for action {kind_text:?} with key {key:?}");
                    return Err((if sources == 0 { "key" } else { "value" }, ComponentError(msg)));
                }
                a.source = Some(match (value, from_attribute, from_context) {
                    (Some(v), _, _) => Source::Value(any_value(&v)),
                    (_, Some(f), _) => Source::Attribute(f),
                    (_, _, Some(c)) => Source::Context(c.strip_prefix("metadata.").unwrap_or(&c).to_ascii_lowercase()),
                    _ => unreachable!("one source is present"),
                });
            }
            Kind::Delete | Kind::Hash => {
                if key.is_empty() && pattern.is_none() {
                    return Err(("action", ComponentError(format!("error creating AttrProc: action {kind_text:?} needs \"key\" or \"pattern\""))));
                }
                a.pattern = pattern;
            }
            Kind::Extract => {
                let Some(p) = pattern else {
                    return Err((
                        "action",
                        ComponentError(format!(
                            "error creating AttrProc due to missing required field \"pattern\" for action \"extract\" at the action with key {key:?}"
                        )),
                    ));
                };
                if key.is_empty() {
                    return Err(("action", ComponentError("error creating AttrProc due to missing required field \"key\" for action \"extract\"".into())));
                }
                if p.capture_names().flatten().next().is_none() {
                    return Err(("pattern", ComponentError(format!("error creating AttrProc: pattern for key {key:?} has no named subexpressions"))));
                }
                a.pattern = Some(p);
            }
            Kind::Convert => {
                a.convert_to = Some(match converted_type.as_deref() {
                    Some("int") => ConvertTo::Int,
                    Some("double") => ConvertTo::Double,
                    Some("string") => ConvertTo::String,
                    other => {
                        let msg = format!("error creating AttrProc due to invalid converted_type {:?}: expected int, double or string", other.unwrap_or(""));
                        return Err((if other.is_some() { "converted_type" } else { "action" }, ComponentError(msg)));
                    }
                });
            }
        }
        Ok(a)
    }
}

fn position(attrs: &[KeyValue], key: &str) -> Option<usize> {
    attrs.iter().position(|kv| kv.key == key)
}

fn set(attrs: &mut Vec<KeyValue>, key: &str, value: AnyValue) {
    match position(attrs, key) {
        Some(i) => attrs[i].value = Some(value),
        None => attrs.push(KeyValue { key: key.to_string(), value: Some(value), ..Default::default() }),
    }
}

fn hash(v: &AnyValue) -> AnyValue {
    use any_value::Value as V;
    let bytes: Vec<u8> = match &v.value {
        Some(V::IntValue(i)) => i.to_le_bytes().to_vec(),
        Some(V::DoubleValue(d)) => d.to_bits().to_le_bytes().to_vec(),
        Some(V::BoolValue(b)) => vec![u8::from(*b)],
        _ => value_text(v).into_bytes(),
    };
    string_value(crate::otelcol::hex(&Sha1::digest(&bytes)))
}

fn convert(v: &AnyValue, to: ConvertTo) -> Option<AnyValue> {
    use any_value::Value as V;
    let out = match (to, v.value.as_ref()?) {
        (ConvertTo::Int, V::IntValue(i)) => V::IntValue(*i),
        (ConvertTo::Int, V::DoubleValue(d)) => V::IntValue(*d as i64),
        (ConvertTo::Int, V::BoolValue(b)) => V::IntValue(i64::from(*b)),
        (ConvertTo::Int, V::StringValue(s)) => V::IntValue(s.trim().parse().ok()?),
        (ConvertTo::Double, V::DoubleValue(d)) => V::DoubleValue(*d),
        (ConvertTo::Double, V::IntValue(i)) => V::DoubleValue(*i as f64),
        (ConvertTo::Double, V::BoolValue(b)) => V::DoubleValue(f64::from(u8::from(*b))),
        (ConvertTo::Double, V::StringValue(s)) => V::DoubleValue(s.trim().parse().ok()?),
        (ConvertTo::String, _) => V::StringValue(value_text(v)),
        _ => return None,
    };
    Some(AnyValue { value: Some(out) })
}

/// Applies the actions, in order, to one attribute list.
pub fn apply(actions: &[Action], attrs: &mut Vec<KeyValue>, metadata: &Metadata) {
    for a in actions {
        match a.kind {
            Kind::Insert | Kind::Update | Kind::Upsert => {
                let exists = position(attrs, &a.key).is_some();
                if (a.kind == Kind::Insert && exists) || (a.kind == Kind::Update && !exists) {
                    continue;
                }
                let value = match &a.source {
                    Some(Source::Value(v)) => Some(v.clone()),
                    Some(Source::Attribute(f)) => position(attrs, f).and_then(|i| attrs[i].value.clone()),
                    Some(Source::Context(k)) => metadata.get(k).filter(|v| !v.is_empty()).map(|v| string_value(v.join(";"))),
                    None => None,
                };
                if let Some(v) = value {
                    set(attrs, &a.key, v);
                }
            }
            Kind::Delete => attrs.retain(|kv| !(kv.key == a.key || a.pattern.as_ref().is_some_and(|p| p.is_match(&kv.key)))),
            Kind::Hash => {
                for kv in attrs.iter_mut().filter(|kv| kv.key == a.key || a.pattern.as_ref().is_some_and(|p| p.is_match(&kv.key))) {
                    if let Some(v) = &kv.value {
                        kv.value = Some(hash(v));
                    }
                }
            }
            Kind::Extract => {
                let (Some(p), Some(i)) = (&a.pattern, position(attrs, &a.key)) else { continue };
                let Some(any_value::Value::StringValue(s)) = attrs[i].value.as_ref().and_then(|v| v.value.clone()) else { continue };
                if let Some(caps) = p.captures(&s) {
                    for name in p.capture_names().flatten() {
                        if let Some(m) = caps.name(name) {
                            set(attrs, name, string_value(m.as_str().to_string()));
                        }
                    }
                }
            }
            Kind::Convert => {
                if let (Some(i), Some(to)) = (position(attrs, &a.key), a.convert_to) {
                    if let Some(v) = attrs[i].value.as_ref().and_then(|v| convert(v, to)) {
                        attrs[i].value = Some(v);
                    }
                }
            }
        }
    }
}

/// A string matcher of an include/exclude block.
#[derive(Clone, Debug)]
enum Pattern {
    Strict(String),
    Regexp(Regex),
}

impl Pattern {
    fn matches(&self, s: &str) -> bool {
        match self {
            Pattern::Strict(x) => x == s,
            Pattern::Regexp(r) => r.is_match(s),
        }
    }
}

/// An attribute (or resource attribute) condition: the key exists, and its value equals
/// (strict) or its text matches (regexp) when a value is given.
#[derive(Clone, Debug)]
struct AttrCond {
    key: String,
    value: Option<(AnyValue, Option<Regex>)>,
}

impl AttrCond {
    fn matches(&self, attrs: &[KeyValue]) -> bool {
        let Some(i) = position(attrs, &self.key) else { return false };
        match (&self.value, &attrs[i].value) {
            (None, _) => true,
            (Some((_, Some(re))), Some(v)) => re.is_match(&value_text(v)),
            (Some((want, None)), Some(v)) => want == v,
            (Some(_), None) => false,
        }
    }
}

/// The properties of one `include`/`exclude` block; all given properties must match.
#[derive(Clone, Debug, Default)]
pub struct MatchProperties {
    services: Vec<Pattern>,
    span_names: Vec<Pattern>,
    span_kinds: Vec<Pattern>,
    log_bodies: Vec<Pattern>,
    log_severity_texts: Vec<Pattern>,
    metric_names: Vec<Pattern>,
    attributes: Vec<AttrCond>,
    resources: Vec<AttrCond>,
    libraries: Vec<(Pattern, Option<Pattern>)>,
}

/// What a matcher looks at for one item.
pub struct Item<'a> {
    pub resource: Option<&'a Resource>,
    pub scope: Option<&'a InstrumentationScope>,
    pub attributes: &'a [KeyValue],
    pub name: Option<&'a str>,
    pub span_kind: Option<&'a str>,
    pub log_body: Option<String>,
    pub severity_text: Option<&'a str>,
}

impl<'a> Item<'a> {
    /// A span as `include`/`exclude` see it.
    pub fn span(resource: Option<&'a Resource>, scope: Option<&'a InstrumentationScope>, s: &'a opentelemetry_proto::tonic::trace::v1::Span) -> Self {
        let kind = SpanKind::try_from(s.kind).unwrap_or(SpanKind::Unspecified).as_str_name();
        Item { resource, scope, attributes: &s.attributes, name: Some(&s.name), span_kind: Some(kind), log_body: None, severity_text: None }
    }
}

fn any_of(patterns: &[Pattern], s: Option<&str>) -> bool {
    patterns.is_empty() || s.is_some_and(|s| patterns.iter().any(|p| p.matches(s)))
}

impl MatchProperties {
    /// The properties, or the field at fault and why.
    fn from_value(v: &Value) -> Result<MatchProperties, (&'static str, ComponentError)> {
        let at = |field: &'static str| move |e: ComponentError| (field, e);
        let mut d = StructDecoder::new(v).map_err(|e| ("", e.into()))?;
        let match_type: String = d.optional("match_type").map_err(|e| ("match_type", e.into()))?.unwrap_or_default();
        let regexp = match match_type.as_str() {
            "strict" => false,
            "regexp" => true,
            other => return Err(("match_type", ComponentError(format!("match_type {other:?} is not supported: expected \"strict\" or \"regexp\"")))),
        };
        let pattern = |s: String| -> Result<Pattern, ComponentError> {
            if regexp {
                Regex::new(&s).map(Pattern::Regexp).map_err(|e| ComponentError(format!("invalid regexp {s:?}: {e}")))
            } else {
                Ok(Pattern::Strict(s))
            }
        };
        let list = |d: &mut StructDecoder, name: &'static str| -> Result<Vec<Pattern>, ComponentError> {
            d.optional::<Vec<String>>(name)?.unwrap_or_default().into_iter().map(pattern).collect()
        };
        let services = list(&mut d, "services").map_err(at("services"))?;
        let span_names = list(&mut d, "span_names").map_err(at("span_names"))?;
        let span_kinds = list(&mut d, "span_kinds").map_err(at("span_kinds"))?;
        let log_bodies = list(&mut d, "log_bodies").map_err(at("log_bodies"))?;
        let log_severity_texts = list(&mut d, "log_severity_texts").map_err(at("log_severity_texts"))?;
        let metric_names = list(&mut d, "metric_names").map_err(at("metric_names"))?;
        let conds = |d: &mut StructDecoder, name: &'static str| -> Result<Vec<AttrCond>, ComponentError> {
            let items: Vec<Value> = d.optional(name)?.unwrap_or_default();
            items
                .iter()
                .map(|it| {
                    let mut d = StructDecoder::new(it)?;
                    let key: String = d.required("key")?;
                    let value = d.optional::<Value>("value")?.filter(|v| !v.is_null());
                    let value = match value {
                        None => None,
                        Some(v) if regexp => {
                            let text = eval::convert::to_str(&v)
                                .map_err(|_| ComponentError(format!("the value of attribute {key:?} must be a string with match_type \"regexp\"")))?;
                            let re = Regex::new(&text.to_string_lossy()).map_err(|e| ComponentError(format!("invalid regexp for attribute {key:?}: {e}")))?;
                            Some((any_value(&v), Some(re)))
                        }
                        Some(v) => Some((any_value(&v), None)),
                    };
                    Ok(AttrCond { key, value })
                })
                .collect()
        };
        let attributes = conds(&mut d, "attribute").map_err(at("attribute"))?;
        let resources = conds(&mut d, "resource").map_err(at("resource"))?;
        let libs: Vec<Value> = d.optional("library").map_err(|e| ("library", e.into()))?.unwrap_or_default();
        let libraries = libs
            .iter()
            .map(|l| {
                let mut d = StructDecoder::new(l)?;
                let name = pattern(d.required("name")?)?;
                let version = d.optional::<String>("version")?.map(pattern).transpose()?;
                Ok((name, version))
            })
            .collect::<Result<Vec<_>, ComponentError>>()
            .map_err(at("library"))?;
        Ok(MatchProperties { services, span_names, span_kinds, log_bodies, log_severity_texts, metric_names, attributes, resources, libraries })
    }

    pub fn matches(&self, it: &Item) -> bool {
        let res_attrs = it.resource.map(|r| r.attributes.as_slice()).unwrap_or(&[]);
        // The service name is only rendered when something asks for it.
        (self.services.is_empty()
            || any_of(&self.services, position(res_attrs, "service.name").and_then(|i| res_attrs[i].value.as_ref()).map(value_text).as_deref()))
            && any_of(&self.span_names, it.span_kind.and(it.name))
            && any_of(&self.span_kinds, it.span_kind)
            && any_of(&self.metric_names, if it.span_kind.is_none() && it.log_body.is_none() { it.name } else { None })
            && any_of(&self.log_bodies, it.log_body.as_deref())
            && any_of(&self.log_severity_texts, it.severity_text)
            && self.attributes.iter().all(|c| c.matches(it.attributes))
            && self.resources.iter().all(|c| c.matches(res_attrs))
            && (self.libraries.is_empty()
                || it.scope.is_some_and(|s| self.libraries.iter().any(|(n, v)| n.matches(&s.name) && v.as_ref().is_none_or(|v| v.matches(&s.version)))))
    }
}

#[derive(Clone, Debug, Default)]
pub struct Config {
    actions: Vec<Action>,
    include: Option<MatchProperties>,
    exclude: Option<MatchProperties>,
}

impl Arguments for Action {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.whole_at(&["key", "action", "value", "pattern", "from_attribute", "from_context", "converted_type"], Action::from_value)
    }
}

impl Arguments for MatchProperties {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&["log_severity", "regexp"]);
        r.whole_at(
            &[
                "match_type",
                "services",
                "span_names",
                "span_kinds",
                "log_bodies",
                "log_severity_texts",
                "metric_names",
                "attribute.key",
                "attribute.value",
                "resource.key",
                "resource.value",
                "library.name",
                "library.version",
            ],
            MatchProperties::from_value,
        )
    }
}

/// The component's arguments.
#[derive(Default)]
pub struct Args {
    config: Config,
    output: Output,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&["debug_metrics"]);
        let config = Config { actions: r.blocks("action"), include: r.block("include"), exclude: r.block("exclude") };
        Args { config, output: r.block_or_default("output") }
    }
}

const NAME: &str = "otelcol.processor.attributes";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["input"], build);

impl Config {
    #[cfg(test)]
    pub fn decode(args: &Value) -> Result<Config, ComponentError> {
        crate::component::args::decode_checked::<Args>(NAME, args).map(|a| a.config)
    }

    fn selects(&self, it: &Item) -> bool {
        self.include.as_ref().is_none_or(|m| m.matches(it)) && !self.exclude.as_ref().is_some_and(|m| m.matches(it))
    }

    /// Applies the configuration to a payload; a payload that does not decode is refused
    /// as permanently invalid.
    pub fn process(&self, p: Payload) -> Result<Payload, ConsumeError> {
        if self.actions.is_empty() {
            return Ok(p);
        }
        let bad = |e: crate::otelcol::pdata::PdataError| ConsumeError::Permanent(e.to_string());
        let md = p.metadata().clone();
        let out = match p.signal() {
            Signal::Traces => {
                let mut req = p.decode_traces().map_err(bad)?;
                for rs in &mut req.resource_spans {
                    for ss in &mut rs.scope_spans {
                        for s in &mut ss.spans {
                            let it = Item::span(rs.resource.as_ref(), ss.scope.as_ref(), s);
                            if self.selects(&it) {
                                apply(&self.actions, &mut s.attributes, &md);
                            }
                        }
                    }
                }
                Payload::from_traces(&req)
            }
            Signal::Logs => {
                let mut req = p.decode_logs().map_err(bad)?;
                for rl in &mut req.resource_logs {
                    for sl in &mut rl.scope_logs {
                        for r in &mut sl.log_records {
                            // The body is rendered only for matchers; without them every record is selected.
                            let body = if self.include.is_some() || self.exclude.is_some() {
                                r.body.as_ref().map(value_text).unwrap_or_default()
                            } else {
                                String::new()
                            };
                            let it = Item {
                                resource: rl.resource.as_ref(),
                                scope: sl.scope.as_ref(),
                                attributes: &r.attributes,
                                name: None,
                                span_kind: None,
                                log_body: Some(body),
                                severity_text: Some(&r.severity_text),
                            };
                            if self.selects(&it) {
                                apply(&self.actions, &mut r.attributes, &md);
                            }
                        }
                    }
                }
                Payload::from_logs(&req)
            }
            Signal::Metrics => {
                let mut req = p.decode_metrics().map_err(bad)?;
                for rm in &mut req.resource_metrics {
                    for sm in &mut rm.scope_metrics {
                        for m in &mut sm.metrics {
                            let name = m.name.as_str();
                            for attrs in point_attributes(m.data.as_mut()) {
                                let it = Item {
                                    resource: rm.resource.as_ref(),
                                    scope: sm.scope.as_ref(),
                                    attributes: attrs,
                                    name: Some(name),
                                    span_kind: None,
                                    log_body: None,
                                    severity_text: None,
                                };
                                if self.selects(&it) {
                                    apply(&self.actions, attrs, &md);
                                }
                            }
                        }
                    }
                }
                Payload::from_metrics(&req)
            }
        };
        Ok(out.with_metadata(md))
    }
}

fn point_attributes(data: Option<&mut metric::Data>) -> Vec<&mut Vec<KeyValue>> {
    match data {
        Some(metric::Data::Gauge(g)) => g.data_points.iter_mut().map(|p| &mut p.attributes).collect(),
        Some(metric::Data::Sum(s)) => s.data_points.iter_mut().map(|p| &mut p.attributes).collect(),
        Some(metric::Data::Histogram(h)) => h.data_points.iter_mut().map(|p| &mut p.attributes).collect(),
        Some(metric::Data::ExponentialHistogram(h)) => h.data_points.iter_mut().map(|p| &mut p.attributes).collect(),
        Some(metric::Data::Summary(s)) => s.data_points.iter_mut().map(|p| &mut p.attributes).collect(),
        None => Vec::new(),
    }
}

struct AttributesConsumer {
    config: RwLock<Arc<Config>>,
    next: Fanout,
    dropped: SignalCounters,
}

impl Consumer for AttributesConsumer {
    fn consume(&self, data: Payload) -> ConsumeFuture<'_> {
        Box::pin(async move {
            let config = self.config.read().unwrap_or_else(|e| e.into_inner()).clone();
            let (signal, n) = (data.signal(), data.items());
            let out = config.process(data).inspect_err(|_| self.dropped.add(signal, n))?;
            self.next.consume(out).await
        })
    }
}

pub struct AttributesProcessor {
    consumer: Arc<AttributesConsumer>,
}

pub fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    let Args { config, output } = decode_checked(NAME, &args)?;
    let consumer = Arc::new(AttributesConsumer {
        config: RwLock::new(Arc::new(config)),
        next: Fanout::new(output).tapped(&ctx),
        dropped: SignalCounters::new(
            &ctx,
            "otelcol_processor_attributes_invalid",
            "Items refused because their payload did not decode",
            &[("processor", ctx.id())],
        ),
    });
    crate::otelcol::consumer::publish_input(&ctx, ConsumerHandle::new(ctx.id(), consumer.clone()));
    Ok(Arc::new(AttributesProcessor { consumer }))
}

impl Component for AttributesProcessor {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        let Args { config, output } = decode_checked(NAME, &args)?;
        self.consumer.next.set(output);
        *self.consumer.config.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(config);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
