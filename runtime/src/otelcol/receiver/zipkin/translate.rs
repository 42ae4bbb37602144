//! Zipkin v2 JSON spans to OTLP traces, with the mapping of the collector's `zipkinv2`
//! translator: spans grouped into a resource per local service (its resource tags moved to
//! the resource) and a scope per `otel.library.name`; kind, status (`otel.status_code`,
//! `error=true`), trace state, links (`otlp.link.<n>`) and events (annotations) recovered
//! from tags; the endpoints as `net.host.*`, `peer.service` and `net.peer.*` attributes.

use std::collections::BTreeMap;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::{Event, Link, SpanKind};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use serde::Deserialize;

/// Why a request body is not Zipkin v2 JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZipkinError {
    #[error("{0}")]
    Json(String),
    #[error("valid span id required")]
    SpanId,
    #[error("valid traceId required")]
    TraceId,
    #[error("valid annotation timestamp required")]
    AnnotationTimestamp,
    #[error("invalid length for ID")]
    IdLength,
    #[error("cannot unmarshal ID from string '{0}'")]
    IdHex(String),
    #[error("invalid link attributes: {0}")]
    LinkAttributes(String),
    #[error("invalid dropped attributes count {0:?}")]
    Dropped(String),
    #[error("{0}")]
    Protobuf(String),
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Endpoint {
    service_name: String,
    ipv4: Option<String>,
    ipv6: Option<String>,
    port: u16,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Annotation {
    timestamp: u64,
    value: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ZipkinSpan {
    trace_id: String,
    id: String,
    parent_id: Option<String>,
    name: String,
    kind: Option<String>,
    /// Microseconds since the epoch; 0 when absent.
    timestamp: u64,
    /// Microseconds.
    duration: u64,
    local_endpoint: Option<Endpoint>,
    remote_endpoint: Option<Endpoint>,
    annotations: Vec<Annotation>,
    tags: BTreeMap<String, String>,
}

/// The service name of spans without one; their resource has no attributes.
const NO_SERVICE_NAME: &str = "OTLPResourceNoServiceName";
const LIBRARY_NAME: &str = "otel.library.name";
const LIBRARY_VERSION: &str = "otel.library.version";
const SERVICE_NAME_SOURCE: &str = "otlp.service.name.source";
const START_TIME_ABSENT: &str = "otel.zipkin.absentField.startTime";

/// Resource attribute names (semantic conventions 1.6.1) and the other tags that are never
/// span attributes.
const NON_SPAN_ATTRIBUTES: &[&str] = &[
    "cloud.provider",
    "cloud.account.id",
    "cloud.region",
    "cloud.availability_zone",
    "cloud.platform",
    "aws.ecs.container.arn",
    "aws.ecs.cluster.arn",
    "aws.ecs.launchtype",
    "aws.ecs.task.arn",
    "aws.ecs.task.family",
    "aws.ecs.task.revision",
    "aws.eks.cluster.arn",
    "aws.log.group.names",
    "aws.log.group.arns",
    "aws.log.stream.names",
    "aws.log.stream.arns",
    "container.name",
    "container.id",
    "container.runtime",
    "container.image.name",
    "container.image.tag",
    "deployment.environment",
    "device.id",
    "device.model.identifier",
    "device.model.name",
    "faas.name",
    "faas.id",
    "faas.version",
    "faas.instance",
    "faas.max_memory",
    "host.id",
    "host.name",
    "host.type",
    "host.arch",
    "host.image.name",
    "host.image.id",
    "host.image.version",
    "k8s.cluster.name",
    "k8s.node.name",
    "k8s.node.uid",
    "k8s.namespace.name",
    "k8s.pod.uid",
    "k8s.pod.name",
    "k8s.container.name",
    "k8s.replicaset.uid",
    "k8s.replicaset.name",
    "k8s.deployment.uid",
    "k8s.deployment.name",
    "k8s.statefulset.uid",
    "k8s.statefulset.name",
    "k8s.daemonset.uid",
    "k8s.daemonset.name",
    "k8s.job.uid",
    "k8s.job.name",
    "k8s.cronjob.uid",
    "k8s.cronjob.name",
    "os.type",
    "os.description",
    "os.name",
    "os.version",
    "process.pid",
    "process.executable.name",
    "process.executable.path",
    "process.command",
    "process.command_line",
    "process.command_args",
    "process.owner",
    "process.runtime.name",
    "process.runtime.version",
    "process.runtime.description",
    "service.name",
    "service.namespace",
    "service.instance.id",
    "service.version",
    "telemetry.sdk.name",
    "telemetry.sdk.language",
    "telemetry.sdk.version",
    "telemetry.auto.version",
    "webengine.name",
    "webengine.version",
    "webengine.description",
    SERVICE_NAME_SOURCE,
    LIBRARY_NAME,
    LIBRARY_VERSION,
    "opencensus.starttime",
    "opencensus.exporterversion",
    "opencensus.resourcetype",
];

fn kv(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue { key: key.to_string(), value: Some(AnyValue { value: Some(value) }), ..Default::default() }
}

fn text(key: &str, value: &str) -> KeyValue {
    kv(key, any_value::Value::StringValue(value.to_string()))
}

/// A hex ID of up to `len` bytes, right-aligned (Zipkin allows leading zeros to be left out).
fn hex_id(s: &str, len: usize) -> Option<Vec<u8>> {
    if s.is_empty() || s.len() > len * 2 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let padded = format!("{s:0>width$}", width = len * 2);
    (0..len).map(|i| u8::from_str_radix(&padded[2 * i..2 * i + 2], 16).ok()).collect()
}

/// An ID in a link tag: empty, or exactly `len` bytes of hex.
fn link_id(s: &str, len: usize) -> Result<Vec<u8>, ZipkinError> {
    let s = s.strip_prefix('"').and_then(|x| x.strip_suffix('"')).unwrap_or(s);
    if s.is_empty() {
        return Ok(vec![0; len]);
    }
    if s.len() != len * 2 {
        return Err(ZipkinError::IdLength);
    }
    hex_id(s, len).ok_or_else(|| ZipkinError::IdHex(s.to_string()))
}

fn local_service(s: &ZipkinSpan) -> &str {
    s.local_endpoint.as_ref().map(|e| e.service_name.as_str()).filter(|n| !n.is_empty()).unwrap_or(NO_SERVICE_NAME)
}

fn library(s: &ZipkinSpan) -> &str {
    s.tags.get(LIBRARY_NAME).map_or("", String::as_str)
}

/// A JSON object's members as attributes: strings, booleans, and numbers (whole numbers as
/// integers); other members are left out.
fn json_attributes(json: &str) -> Result<Vec<KeyValue>, String> {
    let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let mut out: Vec<KeyValue> = Vec::new();
    for (k, v) in map {
        let value = match v {
            serde_json::Value::String(s) => any_value::Value::StringValue(s),
            serde_json::Value::Bool(b) => any_value::Value::BoolValue(b),
            serde_json::Value::Number(n) => match n.as_f64() {
                Some(d) if d.fract() == 0.0 => any_value::Value::IntValue(d as i64),
                Some(d) => any_value::Value::DoubleValue(d),
                None => continue,
            },
            _ => continue,
        };
        out.push(kv(&k, value));
    }
    Ok(out)
}

/// The JSON attributes from field `from` up to the last field (the JSON may itself hold
/// `|`), and the last field, the dropped attributes count.
fn split_tail<'a>(parts: &[&'a str], from: usize) -> (String, &'a str) {
    let n = parts.len();
    (parts[from..n - 1].join("|"), parts[n - 1])
}

fn dropped(s: &str) -> Result<u32, ZipkinError> {
    s.parse::<u32>().map_err(|_| ZipkinError::Dropped(s.to_string()))
}

/// Tag values typed by their form (`parse_string_tags`): integers, decimals and booleans;
/// anything else stays a string.
fn typed(value: &str) -> any_value::Value {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let unsigned = value.strip_prefix('-').unwrap_or(value);
    if digits(unsigned) {
        // An integer too large for 64 bits becomes 0, as upstream ignores the parse error.
        return any_value::Value::IntValue(value.parse().unwrap_or(0));
    }
    if let Some((i, f)) = unsigned.split_once('.') {
        if digits(i) && digits(f) {
            return any_value::Value::DoubleValue(value.parse().unwrap_or(0.0));
        }
    }
    match value {
        "true" => any_value::Value::BoolValue(true),
        "false" => any_value::Value::BoolValue(false),
        _ => any_value::Value::StringValue(value.to_string()),
    }
}

fn span(z: &ZipkinSpan, mut tags: BTreeMap<String, String>, parse_string_tags: bool) -> Result<Span, ZipkinError> {
    let span_id = hex_id(&z.id, 8).filter(|id| id.iter().any(|b| *b != 0)).ok_or(ZipkinError::SpanId)?;
    let trace_id = hex_id(&z.trace_id, 16).filter(|id| id.iter().any(|b| *b != 0)).ok_or(ZipkinError::TraceId)?;
    let mut out = Span { trace_id, span_id: span_id.clone(), name: z.name.clone(), ..Default::default() };
    if let Some(ts) = tags.remove("w3c.tracestate") {
        out.trace_state = ts;
    }
    if let Some(parent) = z.parent_id.as_deref().filter(|p| !p.is_empty()) {
        let parent = hex_id(parent, 8).ok_or(ZipkinError::SpanId)?;
        if parent != span_id {
            out.parent_span_id = parent;
        }
    }
    out.kind = match z.kind.as_deref() {
        Some("CLIENT") => SpanKind::Client,
        Some("SERVER") => SpanKind::Server,
        Some("PRODUCER") => SpanKind::Producer,
        Some("CONSUMER") => SpanKind::Consumer,
        _ => match tags.remove("span.kind").as_deref() {
            Some("internal") => SpanKind::Internal,
            _ => SpanKind::Unspecified,
        },
    } as i32;
    let mut status = Status::default();
    if let Some(code) = tags.remove("otel.status_code") {
        status.code = match code.as_str() {
            "STATUS_CODE_OK" => 1,
            "STATUS_CODE_ERROR" => 2,
            _ => 0,
        };
        if let Some(m) = tags.remove("otel.status_description") {
            status.message = m;
        }
    }
    if tags.get("error").is_some_and(|v| v == "true") {
        status.code = 2;
        tags.remove("error");
    }
    out.status = Some(status);
    // Links: otlp.link.0, .1, ... up to the first missing one.
    for i in 0..128 {
        let Some(v) = tags.remove(&format!("otlp.link.{i}")) else { break };
        let parts: Vec<&str> = v.split('|').collect();
        if parts.len() < 5 {
            continue;
        }
        let (json, count) = split_tail(&parts, 3);
        out.links.push(Link {
            trace_id: link_id(parts[0], 16)?,
            span_id: link_id(parts[1], 8)?,
            trace_state: parts[2].to_string(),
            attributes: json_attributes(&json).map_err(ZipkinError::LinkAttributes)?,
            dropped_attributes_count: dropped(count)?,
            ..Default::default()
        });
    }
    for (k, v) in &tags {
        if NON_SPAN_ATTRIBUTES.contains(&k.as_str()) {
            continue;
        }
        let value = if parse_string_tags { typed(v) } else { any_value::Value::StringValue(v.clone()) };
        out.attributes.push(kv(k, value));
    }
    if let Some(e) = &z.local_endpoint {
        if let Some(ip) = e.ipv6.as_deref().or(e.ipv4.as_deref()) {
            out.attributes.push(text("net.host.ip", ip));
        }
        if e.port > 0 {
            out.attributes.push(kv("net.host.port", any_value::Value::IntValue(i64::from(e.port))));
        }
    }
    if let Some(e) = &z.remote_endpoint {
        if !e.service_name.is_empty() {
            out.attributes.push(text("peer.service", &e.service_name));
        }
        if let Some(ip) = e.ipv6.as_deref().or(e.ipv4.as_deref()) {
            out.attributes.push(text("net.peer.ip", ip));
        }
        if e.port > 0 {
            out.attributes.push(kv("net.peer.port", any_value::Value::IntValue(i64::from(e.port))));
        }
    }
    let duration = z.duration.saturating_mul(1000);
    if z.timestamp == 0 {
        // Zipkin allows no timestamp; OTLP needs one: the epoch, marked as made up.
        out.end_time_unix_nano = duration;
        out.attributes.push(kv(START_TIME_ABSENT, any_value::Value::BoolValue(true)));
    } else {
        out.start_time_unix_nano = z.timestamp.saturating_mul(1000);
        out.end_time_unix_nano = out.start_time_unix_nano.saturating_add(duration);
    }
    for a in &z.annotations {
        let parts: Vec<&str> = a.value.split('|').collect();
        let mut event = Event { time_unix_nano: a.timestamp.saturating_mul(1000), name: parts[0].to_string(), ..Default::default() };
        if parts.len() >= 3 {
            let (json, count) = split_tail(&parts, 1);
            event.attributes = json_attributes(&json).map_err(ZipkinError::Json)?;
            event.dropped_attributes_count = dropped(count)?;
        }
        out.events.push(event);
    }
    Ok(out)
}

fn resource(tags: &mut BTreeMap<String, String>, service: &str) -> Resource {
    let mut r = Resource::default();
    if service == NO_SERVICE_NAME {
        return r;
    }
    let key = tags.remove(SERVICE_NAME_SOURCE).filter(|s| !s.is_empty()).unwrap_or_else(|| "service.name".into());
    r.attributes.push(text(&key, service));
    for name in NON_SPAN_ATTRIBUTES.iter().filter(|n| **n != LIBRARY_NAME && **n != LIBRARY_VERSION) {
        if let Some(v) = tags.remove(*name) {
            r.attributes.push(text(name, &v));
        }
    }
    r
}

/// Parses a v2 JSON body (an array of spans) into one OTLP request.
pub fn to_traces(body: &[u8], parse_string_tags: bool) -> Result<ExportTraceServiceRequest, ZipkinError> {
    let spans: Vec<ZipkinSpan> = serde_json::from_slice(body).map_err(|e| ZipkinError::Json(e.to_string()))?;
    if spans.iter().any(|s| s.annotations.iter().any(|a| a.timestamp == 0)) {
        return Err(ZipkinError::AnnotationTimestamp);
    }
    map_spans(spans, parse_string_tags)
}

/// Parses a v2 protobuf body (`zipkin.proto3.ListOfSpans`) into one OTLP request.
pub fn proto_to_traces(body: &[u8], parse_string_tags: bool) -> Result<ExportTraceServiceRequest, ZipkinError> {
    let list = <proto::ListOfSpans as prost::Message>::decode(body).map_err(|e| ZipkinError::Protobuf(e.to_string()))?;
    let spans = list.spans.into_iter().map(proto::Span::into_model).collect::<Result<Vec<_>, _>>()?;
    map_spans(spans, parse_string_tags)
}

fn map_spans(mut spans: Vec<ZipkinSpan>, parse_string_tags: bool) -> Result<ExportTraceServiceRequest, ZipkinError> {
    // Grouped by service, then library, keeping the order within a group.
    spans.sort_by(|a, b| local_service(a).cmp(local_service(b)).then_with(|| library(a).cmp(library(b))));
    let mut out: Vec<ResourceSpans> = Vec::new();
    let mut current: Option<(String, String)> = None;
    for z in &spans {
        let mut tags = z.tags.clone();
        let (service, lib) = (local_service(z).to_string(), library(z).to_string());
        let mut new_scope = current.as_ref().is_none_or(|(_, l)| *l != lib);
        if current.as_ref().is_none_or(|(s, _)| *s != service) {
            out.push(ResourceSpans { resource: Some(resource(&mut tags, &service)), ..Default::default() });
            new_scope = true;
        }
        let r = out.len() - 1;
        if new_scope {
            let mut scope = InstrumentationScope::default();
            if !lib.is_empty() {
                scope.name = tags.remove(LIBRARY_NAME).unwrap_or_default();
                scope.version = tags.remove(LIBRARY_VERSION).unwrap_or_default();
            }
            out[r].scope_spans.push(ScopeSpans { scope: Some(scope), ..Default::default() });
        }
        current = Some((service, lib));
        let s = out[r].scope_spans.len() - 1;
        out[r].scope_spans[s].spans.push(span(z, tags, parse_string_tags)?);
    }
    Ok(ExportTraceServiceRequest { resource_spans: out })
}

/// Zipkin's proto3 messages (`zipkin.proto3`), decoded into the JSON model's form.
mod proto {
    use std::collections::BTreeMap;
    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::{Annotation as JsonAnnotation, Endpoint as JsonEndpoint, ZipkinError, ZipkinSpan};

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ListOfSpans {
        #[prost(message, repeated, tag = "1")]
        pub spans: Vec<Span>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Span {
        #[prost(bytes = "vec", tag = "1")]
        pub trace_id: Vec<u8>,
        #[prost(bytes = "vec", tag = "2")]
        pub parent_id: Vec<u8>,
        #[prost(bytes = "vec", tag = "3")]
        pub id: Vec<u8>,
        #[prost(int32, tag = "4")]
        pub kind: i32,
        #[prost(string, tag = "5")]
        pub name: String,
        #[prost(fixed64, tag = "6")]
        pub timestamp: u64,
        #[prost(uint64, tag = "7")]
        pub duration: u64,
        #[prost(message, optional, tag = "8")]
        pub local_endpoint: Option<Endpoint>,
        #[prost(message, optional, tag = "9")]
        pub remote_endpoint: Option<Endpoint>,
        #[prost(message, repeated, tag = "10")]
        pub annotations: Vec<Annotation>,
        #[prost(btree_map = "string, string", tag = "11")]
        pub tags: BTreeMap<String, String>,
        #[prost(bool, tag = "12")]
        pub debug: bool,
        #[prost(bool, tag = "13")]
        pub shared: bool,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Endpoint {
        #[prost(string, tag = "1")]
        pub service_name: String,
        #[prost(bytes = "vec", tag = "2")]
        pub ipv4: Vec<u8>,
        #[prost(bytes = "vec", tag = "3")]
        pub ipv6: Vec<u8>,
        #[prost(int32, tag = "4")]
        pub port: i32,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Annotation {
        #[prost(fixed64, tag = "1")]
        pub timestamp: u64,
        #[prost(string, tag = "2")]
        pub value: String,
    }

    fn hex(b: &[u8]) -> String {
        crate::otelcol::hex(b)
    }

    /// A span ID: absent, or exactly 8 bytes.
    fn span_id(b: &[u8], what: &str) -> Result<Option<String>, ZipkinError> {
        match b.len() {
            0 => Ok(None),
            8 => Ok(Some(hex(b))),
            n => Err(ZipkinError::Protobuf(format!("invalid {what}: has length {n} yet wanted length 8"))),
        }
    }

    impl Endpoint {
        fn into_model(self) -> JsonEndpoint {
            let ipv4 = <[u8; 4]>::try_from(self.ipv4.as_slice()).ok().map(|b| Ipv4Addr::from(b).to_string());
            let ipv6 = <[u8; 16]>::try_from(self.ipv6.as_slice()).ok().map(|b| Ipv6Addr::from(b).to_string());
            JsonEndpoint { service_name: self.service_name, ipv4, ipv6, port: u16::try_from(self.port).unwrap_or(0) }
        }
    }

    impl Span {
        pub fn into_model(self) -> Result<ZipkinSpan, ZipkinError> {
            if self.trace_id.len() > 16 {
                return Err(ZipkinError::Protobuf(format!("invalid TraceID: has length {}", self.trace_id.len())));
            }
            let parent_id = span_id(&self.parent_id, "ParentID")?;
            let id = span_id(&self.id, "SpanID")?.ok_or_else(|| ZipkinError::Protobuf("expected a non-nil SpanID".into()))?;
            let kind = match self.kind {
                1 => Some("CLIENT"),
                2 => Some("SERVER"),
                3 => Some("PRODUCER"),
                4 => Some("CONSUMER"),
                _ => None,
            };
            Ok(ZipkinSpan {
                trace_id: hex(&self.trace_id),
                id,
                parent_id,
                name: self.name,
                kind: kind.map(str::to_string),
                timestamp: self.timestamp,
                duration: self.duration,
                local_endpoint: self.local_endpoint.map(Endpoint::into_model),
                remote_endpoint: self.remote_endpoint.map(Endpoint::into_model),
                annotations: self.annotations.into_iter().map(|a| JsonAnnotation { timestamp: a.timestamp, value: a.value }).collect(),
                tags: self.tags,
            })
        }
    }
}
