//! Jaeger batches into an OTLP trace request, by the collector's Jaeger translator's rules:
//!
//! - one resource per distinct process (a span's own process wins over its batch's): the
//!   service name becomes `service.name`, process tags resource attributes, `hostname` →
//!   `host.name` and `jaeger.version` → `opencensus.exporterversion` (`Jaeger-<version>`);
//!   the placeholder service `OTLPResourceNoServiceName` means no resource attributes;
//! - within it one scope per `otel.scope.name`/`otel.scope.version` tag pair (older clients'
//!   `otel.library.name`/`otel.library.version` when there is no scope tag), tags removed;
//! - span tags become attributes; `span.kind` becomes the kind; `error = true`,
//!   `otel.status_code`/`otel.status_description` and, failing those, `http.status_code`
//!   (with `http.status_message`) become the status; `w3c.tracestate` the trace state; each
//!   of these tags is removed;
//! - the parent is `parentSpanId`, else the first same-trace `CHILD_OF` reference, else the
//!   first same-trace `FOLLOWS_FROM` one; every other reference is a link with an
//!   `opentracing.ref_type` attribute;
//! - logs become events, the `event` field their name;
//! - an all-empty span is dropped.
//!
//! The collector applies the scope and trace-state rules to gRPC batches only; here they apply
//! to every protocol, so a Thrift client's scope is not left behind as span attributes.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{span, status, ResourceSpans, ScopeSpans, Span, Status};

use super::model::{self, Batch, Process, RefType, Tag, TagValue};

/// The service name meaning "no resource" (what the collector writes for an empty resource).
const NO_SERVICE_NAME: &str = "OTLPResourceNoServiceName";

/// Attributes with the collector's map semantics: putting an existing key replaces its value.
#[derive(Default)]
struct Attrs(Vec<KeyValue>);

impl Attrs {
    fn from_tags(tags: &[Tag]) -> Self {
        let mut a = Attrs(Vec::with_capacity(tags.len()));
        for t in tags {
            a.put(&t.key, tag_value(&t.value));
        }
        a
    }

    fn put(&mut self, key: &str, v: any_value::Value) {
        let value = Some(AnyValue { value: Some(v) });
        match self.0.iter_mut().find(|kv| kv.key == key) {
            Some(kv) => kv.value = value,
            None => self.0.push(KeyValue { key: key.into(), value, ..Default::default() }),
        }
    }

    fn get(&self, key: &str) -> Option<&any_value::Value> {
        self.0.iter().find(|kv| kv.key == key).and_then(|kv| kv.value.as_ref()).and_then(|v| v.value.as_ref())
    }

    fn remove(&mut self, key: &str) -> Option<any_value::Value> {
        let i = self.0.iter().position(|kv| kv.key == key)?;
        self.0.remove(i).value.and_then(|v| v.value)
    }

    /// A value as a string the way the collector reads it: empty unless it is a string.
    fn str(&self, key: &str) -> Option<String> {
        self.get(key).map(str_of)
    }
}

fn str_of(v: &any_value::Value) -> String {
    match v {
        any_value::Value::StringValue(s) => s.clone(),
        _ => String::new(),
    }
}

fn tag_value(v: &TagValue) -> any_value::Value {
    match v {
        TagValue::Str(s) | TagValue::Unknown(s) => any_value::Value::StringValue(s.clone()),
        TagValue::Bool(b) => any_value::Value::BoolValue(*b),
        TagValue::Long(l) => any_value::Value::IntValue(*l),
        TagValue::Double(d) => any_value::Value::DoubleValue(*d),
        TagValue::Binary(b) => any_value::Value::BytesValue(b.clone()),
    }
}

fn resource(process: Option<&Process>) -> Resource {
    let Some(p) = process.filter(|p| p.service_name != NO_SERVICE_NAME) else { return Resource::default() };
    if p.service_name.is_empty() && p.tags.is_empty() {
        return Resource::default();
    }
    let mut attrs = Attrs::default();
    if !p.service_name.is_empty() {
        attrs.put("service.name", any_value::Value::StringValue(p.service_name.clone()));
    }
    for t in &p.tags {
        attrs.put(&t.key, tag_value(&t.value));
    }
    if attrs.get("hostname").is_some() && attrs.get("host.name").is_none() {
        if let Some(v) = attrs.remove("hostname") {
            attrs.put("host.name", v);
        }
    }
    if attrs.get("jaeger.version").is_some() && attrs.get("opencensus.exporterversion").is_none() {
        let version = attrs.remove("jaeger.version").as_ref().map(str_of).unwrap_or_default();
        attrs.put("opencensus.exporterversion", any_value::Value::StringValue(format!("Jaeger-{version}")));
    }
    Resource { attributes: attrs.0, ..Default::default() }
}

/// Removes the first tag named `key` and returns its string value (empty for other types).
fn take_tag(tags: &mut Vec<Tag>, key: &str) -> Option<String> {
    let i = tags.iter().position(|t| t.key == key)?;
    match tags.remove(i).value {
        TagValue::Str(s) => Some(s),
        _ => Some(String::new()),
    }
}

/// The span's scope (name, version), its tags removed.
fn scope(tags: &mut Vec<Tag>) -> (String, String) {
    for (name_key, version_key) in [("otel.scope.name", "otel.scope.version"), ("otel.library.name", "otel.library.version")] {
        if let Some(name) = take_tag(tags, name_key) {
            return (name, take_tag(tags, version_key).unwrap_or_default());
        }
    }
    (String::new(), String::new())
}

fn kind_of(name: &str) -> span::SpanKind {
    match name {
        "client" => span::SpanKind::Client,
        "server" => span::SpanKind::Server,
        "producer" => span::SpanKind::Producer,
        "consumer" => span::SpanKind::Consumer,
        "internal" => span::SpanKind::Internal,
        _ => span::SpanKind::Unspecified,
    }
}

/// An HTTP status code as the status it implies for a span of `kind` (4xx fails clients only).
fn status_from_http(code: i64, kind: span::SpanKind) -> status::StatusCode {
    if (400..500).contains(&code) {
        match kind {
            span::SpanKind::Client => return status::StatusCode::Error,
            span::SpanKind::Server => return status::StatusCode::Unset,
            _ => {}
        }
    }
    // The collector's range test stops at 399.
    if (100..399).contains(&code) {
        status::StatusCode::Unset
    } else {
        status::StatusCode::Error
    }
}

fn http_code(v: &any_value::Value) -> Option<i64> {
    match v {
        any_value::Value::IntValue(i) => Some(*i),
        any_value::Value::StringValue(s) => s.parse().ok(),
        _ => None,
    }
}

/// The status the tags imply; the tags that carried it are removed.
fn span_status(attrs: &mut Attrs, kind: span::SpanKind) -> Option<Status> {
    let mut found: Option<(status::StatusCode, String)> = None;
    // `error = true` (a boolean) is the final word on failure.
    if matches!(attrs.get("error"), Some(any_value::Value::BoolValue(true))) {
        attrs.remove("error");
        let message = match attrs.remove("otel.status_description") {
            Some(d) => str_of(&d),
            None => attrs.str("http.status_message").unwrap_or_default(),
        };
        found = Some((status::StatusCode::Error, message));
    }
    if let Some(code) = attrs.str("otel.status_code") {
        if found.is_none() {
            let code = match code.to_uppercase().as_str() {
                "OK" => status::StatusCode::Ok,
                "ERROR" => status::StatusCode::Error,
                _ => status::StatusCode::Unset,
            };
            found = Some((code, attrs.remove("otel.status_description").as_ref().map(str_of).unwrap_or_default()));
        }
        attrs.remove("otel.status_code");
    } else if found.is_none() {
        if let Some(code) = attrs.get("http.status_code").and_then(http_code) {
            let code = status_from_http(code, kind);
            if code != status::StatusCode::Unset {
                found = Some((code, attrs.str("http.status_message").unwrap_or_default()));
            }
        }
    }
    found.map(|(code, message)| Status { code: code as i32, message })
}

/// The parent: `parentSpanId`, else a same-trace reference (`CHILD_OF` first).
fn parent_of(s: &model::Span) -> [u8; 8] {
    if s.parent_span_id != [0; 8] {
        return s.parent_span_id;
    }
    let same_trace = || s.references.iter().filter(|r| r.trace_id == s.trace_id);
    same_trace().find(|r| r.ref_type == RefType::ChildOf).or_else(|| same_trace().find(|r| r.ref_type == RefType::FollowsFrom)).map_or([0; 8], |r| r.span_id)
}

fn links(s: &model::Span, parent: [u8; 8]) -> Vec<span::Link> {
    s.references
        .iter()
        .filter(|r| !(r.span_id == parent && r.ref_type == RefType::ChildOf))
        .map(|r| {
            let kind = if r.ref_type == RefType::ChildOf { "child_of" } else { "follows_from" };
            let mut attrs = Attrs::default();
            attrs.put("opentracing.ref_type", any_value::Value::StringValue(kind.into()));
            span::Link { trace_id: r.trace_id.to_vec(), span_id: r.span_id.to_vec(), attributes: attrs.0, ..Default::default() }
        })
        .collect()
}

fn events(logs: &[model::Log]) -> Vec<span::Event> {
    logs.iter()
        .map(|l| {
            let mut attrs = Attrs::from_tags(&l.fields);
            let name = attrs.remove("event").as_ref().map(str_of).unwrap_or_default();
            span::Event { time_unix_nano: l.unix_nano, name, attributes: attrs.0, ..Default::default() }
        })
        .collect()
}

/// One span (its scope tags already taken out).
fn to_span(s: &model::Span) -> Span {
    let parent = parent_of(s);
    let mut attrs = Attrs::from_tags(&s.tags);
    let kind = attrs.remove("span.kind").map_or(span::SpanKind::Unspecified, |k| kind_of(&str_of(&k)));
    let status = span_status(&mut attrs, kind);
    let trace_state = attrs.remove("w3c.tracestate").as_ref().map(str_of).unwrap_or_default();
    Span {
        trace_id: s.trace_id.to_vec(),
        span_id: s.span_id.to_vec(),
        parent_span_id: if parent == [0; 8] { Vec::new() } else { parent.to_vec() },
        trace_state,
        name: s.operation_name.clone(),
        kind: kind as i32,
        start_time_unix_nano: s.start_unix_nano,
        end_time_unix_nano: s.end_unix_nano,
        attributes: attrs.0,
        events: events(&s.logs),
        links: links(s, parent),
        status,
        ..Default::default()
    }
}

type Group = (Option<Process>, Vec<model::Span>);

/// The index of `p`'s group, added at the end when new.
fn group_of(groups: &mut Vec<Group>, p: Option<Process>) -> usize {
    match groups.iter().position(|(g, _)| *g == p) {
        Some(i) => i,
        None => {
            groups.push((p, Vec::new()));
            groups.len() - 1
        }
    }
}

/// Spans grouped by process, in the order processes first appear; all-empty spans dropped.
fn by_process(batches: Vec<Batch>) -> Vec<Group> {
    let mut groups = Vec::new();
    let blank = model::Span::default();
    for b in batches {
        let own = group_of(&mut groups, b.process);
        for mut s in b.spans.into_iter().filter(|s| *s != blank) {
            let i = match s.process.take() {
                Some(p) => group_of(&mut groups, Some(p)),
                None => own,
            };
            groups[i].1.push(s);
        }
    }
    groups.retain(|(p, spans)| p.is_some() || !spans.is_empty());
    groups
}

/// The OTLP request for `batches`.
pub fn to_request(batches: Vec<Batch>) -> ExportTraceServiceRequest {
    let resource_spans = by_process(batches)
        .into_iter()
        .map(|(process, spans)| {
            let mut scopes: Vec<((String, String), Vec<Span>)> = Vec::new();
            for mut s in spans {
                let key = scope(&mut s.tags);
                let span = to_span(&s);
                match scopes.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, v)) => v.push(span),
                    None => scopes.push((key, vec![span])),
                }
            }
            let scope_spans = scopes
                .into_iter()
                .map(|((name, version), spans)| ScopeSpans {
                    scope: Some(InstrumentationScope { name, version, ..Default::default() }),
                    spans,
                    ..Default::default()
                })
                .collect();
            ResourceSpans { resource: Some(resource(process.as_ref())), scope_spans, ..Default::default() }
        })
        .collect();
    ExportTraceServiceRequest { resource_spans }
}

#[cfg(test)]
mod tests;
