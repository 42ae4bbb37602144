//! Zipkin v2 spans (JSON or protobuf) into an OTLP trace request, with the collector's
//! mapping: spans grouped by local service (the resource's `service.name`) and by the
//! `otel.library.name` tag (the scope); `otel.status_code`/`error` tags become the status,
//! `otlp.link.N` tags links, annotations events (`name|{json attributes}|dropped`), endpoints
//! `net.host.*`/`net.peer.*`/`peer.service` attributes, resource semantic-convention tags move
//! to the resource; the other tags are attributes (typed with `parse_string_tags`).

use std::collections::BTreeMap;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{span, status, ResourceSpans, ScopeSpans, Span, Status};

/// A span as both encodings carry it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ZipkinSpan {
    pub trace_id: [u8; 16],
    pub id: [u8; 8],
    pub parent_id: Option<[u8; 8]>,
    pub kind: String,
    pub name: String,
    /// Microseconds since the epoch; `None` when absent.
    pub timestamp: Option<u64>,
    pub duration: u64,
    pub local: Option<Endpoint>,
    pub remote: Option<Endpoint>,
    pub annotations: Vec<(u64, String)>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Endpoint {
    pub service_name: String,
    pub ipv4: Option<String>,
    pub ipv6: Option<String>,
    pub port: i64,
}

/// The attribute marking a span that had no timestamp (its start is the epoch).
pub const START_TIME_ABSENT: &str = "otel.zipkin.absentField.startTime";
const SERVICE_NAME_SOURCE: &str = "otlp.service.name.source";
const LIBRARY_NAME: &str = "otel.library.name";
const LIBRARY_VERSION: &str = "otel.library.version";

/// Tags that describe the resource (semantic conventions 1.6.1), never span attributes.
const RESOURCE_TAGS: &[&str] = &[
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
    "k8s.container.restart_count",
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
    "opencensus.starttime",
    "opencensus.exporterversion",
    "opencensus.resourcetype",
];

fn is_resource_tag(key: &str) -> bool {
    RESOURCE_TAGS.contains(&key)
}

fn kv(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue { key: key.into(), value: Some(AnyValue { value: Some(value) }), ..Default::default() }
}

fn string(key: &str, v: &str) -> KeyValue {
    kv(key, any_value::Value::StringValue(v.into()))
}

/// The attribute value a tag becomes: typed when `parse` and it looks like a number or bool.
fn tag_value(v: &str, parse: bool) -> any_value::Value {
    if parse {
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let unsigned = v.strip_prefix('-').unwrap_or(v);
        if digits(unsigned) {
            if let Ok(i) = v.parse() {
                return any_value::Value::IntValue(i);
            }
        }
        if let Some((a, b)) = unsigned.split_once('.') {
            if digits(a) && digits(b) {
                if let Ok(f) = v.parse() {
                    return any_value::Value::DoubleValue(f);
                }
            }
        }
        if v == "true" || v == "false" {
            return any_value::Value::BoolValue(v == "true");
        }
    }
    any_value::Value::StringValue(v.into())
}

/// `{"k": v, ...}` of a link or event: strings, integers (whole numbers), doubles, booleans.
fn json_attributes(text: &str) -> Result<Vec<KeyValue>, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("invalid attributes {text:?}: {e}"))?;
    let serde_json::Value::Object(map) = v else { return Err(format!("invalid attributes {text:?}: not an object")) };
    Ok(map
        .iter()
        .filter_map(|(k, v)| {
            let value = match v {
                serde_json::Value::String(s) => any_value::Value::StringValue(s.clone()),
                serde_json::Value::Bool(b) => any_value::Value::BoolValue(*b),
                serde_json::Value::Number(n) => match n.as_f64() {
                    Some(f) if f.fract() == 0.0 => any_value::Value::IntValue(f as i64),
                    Some(f) => any_value::Value::DoubleValue(f),
                    None => return None,
                },
                _ => return None,
            };
            Some(kv(k, value))
        })
        .collect())
}

/// `name|{attributes}|dropped` (the JSON may itself hold `|`); fewer than 3 parts is a name.
fn split_encoded(value: &str, min_parts: usize) -> (Vec<&str>, Option<(String, u32)>) {
    let parts: Vec<&str> = value.split('|').collect();
    if parts.len() < min_parts {
        return (parts, None);
    }
    let n = parts.len();
    let json = parts[min_parts - 2..n - 1].join("|");
    let dropped = parts[n - 1].parse().unwrap_or(0);
    (parts, Some((json, dropped)))
}

fn hex_id<const N: usize>(s: &str) -> Result<[u8; N], String> {
    let mut out = [0u8; N];
    if s.is_empty() {
        return Ok(out);
    }
    if s.len() != N * 2 {
        return Err(format!("invalid length for ID {s:?}"));
    }
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[i * 2..i * 2 + 2], 16).map_err(|_| format!("cannot unmarshal ID from string {s:?}"))?;
    }
    Ok(out)
}

fn links(tags: &mut BTreeMap<String, String>) -> Result<Vec<span::Link>, String> {
    let mut out = Vec::new();
    for i in 0..128 {
        let Some(val) = tags.remove(&format!("otlp.link.{i}")) else { break };
        let (parts, rest) = split_encoded(&val, 5);
        let Some((json, dropped)) = rest else { continue };
        out.push(span::Link {
            trace_id: hex_id::<16>(parts[0].trim_matches('"'))?.to_vec(),
            span_id: hex_id::<8>(parts[1].trim_matches('"'))?.to_vec(),
            trace_state: parts[2].to_string(),
            attributes: json_attributes(&json)?,
            dropped_attributes_count: dropped,
            ..Default::default()
        });
    }
    Ok(out)
}

fn events(annotations: &[(u64, String)]) -> Result<Vec<span::Event>, String> {
    annotations
        .iter()
        .map(|(ts, value)| {
            let (parts, rest) = split_encoded(value, 3);
            let mut e = span::Event { time_unix_nano: ts.saturating_mul(1000), name: parts[0].to_string(), ..Default::default() };
            if let Some((json, dropped)) = rest {
                e.attributes = json_attributes(&json)?;
                e.dropped_attributes_count = dropped;
            }
            Ok(e)
        })
        .collect()
}

fn kind(z: &ZipkinSpan, tags: &mut BTreeMap<String, String>) -> span::SpanKind {
    match z.kind.as_str() {
        "CLIENT" => span::SpanKind::Client,
        "SERVER" => span::SpanKind::Server,
        "PRODUCER" => span::SpanKind::Producer,
        "CONSUMER" => span::SpanKind::Consumer,
        _ => match tags.remove("span.kind").as_deref() {
            Some("internal") => span::SpanKind::Internal,
            _ => span::SpanKind::Unspecified,
        },
    }
}

fn span_status(tags: &mut BTreeMap<String, String>) -> Option<Status> {
    let mut st: Option<Status> = None;
    if let Some(code) = tags.remove("otel.status_code") {
        let code = match code.as_str() {
            "STATUS_CODE_OK" => status::StatusCode::Ok,
            "STATUS_CODE_ERROR" => status::StatusCode::Error,
            _ => status::StatusCode::Unset,
        };
        let message = tags.remove("otel.status_description").unwrap_or_default();
        st = Some(Status { code: code as i32, message });
    }
    if tags.get("error").is_some_and(|v| v == "true") {
        tags.remove("error");
        st.get_or_insert_with(Status::default).code = status::StatusCode::Error as i32;
    }
    st
}

fn to_span(z: &ZipkinSpan, mut tags: BTreeMap<String, String>, parse_tags: bool) -> Result<Span, String> {
    let mut s = Span { trace_id: z.trace_id.to_vec(), span_id: z.id.to_vec(), name: z.name.clone(), ..Default::default() };
    if let Some(ts) = tags.remove("w3c.tracestate") {
        s.trace_state = ts;
    }
    if let Some(p) = z.parent_id.filter(|p| *p != z.id) {
        s.parent_span_id = p.to_vec();
    }
    s.kind = kind(z, &mut tags) as i32;
    s.status = span_status(&mut tags);
    s.links = links(&mut tags)?;
    let mut attrs: Vec<KeyValue> = tags
        .iter()
        .filter(|(k, _)| !is_resource_tag(k) && *k != SERVICE_NAME_SOURCE && *k != LIBRARY_NAME && *k != LIBRARY_VERSION)
        .map(|(k, v)| kv(k, tag_value(v, parse_tags)))
        .collect();
    let mut put = |key: &str, value: any_value::Value| match attrs.iter_mut().find(|a| a.key == key) {
        Some(a) => a.value = Some(AnyValue { value: Some(value) }),
        None => attrs.push(kv(key, value)),
    };
    if let Some(l) = &z.local {
        if let Some(ip) = l.ipv6.as_ref().or(l.ipv4.as_ref()) {
            put("net.host.ip", any_value::Value::StringValue(ip.clone()));
        }
        if l.port > 0 {
            put("net.host.port", any_value::Value::IntValue(l.port));
        }
    }
    if let Some(r) = &z.remote {
        if !r.service_name.is_empty() {
            put("peer.service", any_value::Value::StringValue(r.service_name.clone()));
        }
        if let Some(ip) = r.ipv6.as_ref().or(r.ipv4.as_ref()) {
            put("net.peer.ip", any_value::Value::StringValue(ip.clone()));
        }
        if r.port > 0 {
            put("net.peer.port", any_value::Value::IntValue(r.port));
        }
    }
    match z.timestamp {
        Some(ts) => {
            s.start_time_unix_nano = ts.saturating_mul(1000);
            s.end_time_unix_nano = ts.saturating_add(z.duration).saturating_mul(1000);
        }
        None => {
            s.end_time_unix_nano = z.duration.saturating_mul(1000);
            put(START_TIME_ABSENT, any_value::Value::BoolValue(true));
        }
    }
    s.attributes = attrs;
    s.events = events(&z.annotations)?;
    Ok(s)
}

fn service(z: &ZipkinSpan) -> Option<&str> {
    z.local.as_ref().map(|l| l.service_name.as_str()).filter(|s| !s.is_empty())
}

fn library(z: &ZipkinSpan) -> &str {
    z.tags.get(LIBRARY_NAME).map_or("", String::as_str)
}

fn resource_of(z: &ZipkinSpan) -> Option<Resource> {
    let name = service(z)?;
    let key = z.tags.get(SERVICE_NAME_SOURCE).filter(|s| !s.is_empty()).map_or("service.name", String::as_str);
    let mut attributes = vec![string(key, name)];
    attributes.extend(z.tags.iter().filter(|(k, _)| is_resource_tag(k) && k.as_str() != key).map(|(k, v)| string(k, v)));
    Some(Resource { attributes, ..Default::default() })
}

/// The request for `spans`, grouped by local service, then by instrumentation library.
pub fn to_request(mut spans: Vec<ZipkinSpan>, parse_tags: bool) -> Result<ExportTraceServiceRequest, String> {
    spans.sort_by(|a, b| (service(a), library(a)).cmp(&(service(b), library(b))));
    let mut out = ExportTraceServiceRequest::default();
    let mut current: Option<(Option<String>, String)> = None;
    for z in &spans {
        let key = (service(z).map(str::to_string), library(z).to_string());
        let same_resource = current.as_ref().is_some_and(|c| c.0 == key.0);
        if !same_resource {
            out.resource_spans.push(ResourceSpans { resource: resource_of(z), ..Default::default() });
        }
        if !same_resource || current.as_ref().is_some_and(|c| c.1 != key.1) {
            let scope = (!key.1.is_empty()).then(|| InstrumentationScope {
                name: key.1.clone(),
                version: z.tags.get(LIBRARY_VERSION).cloned().unwrap_or_default(),
                ..Default::default()
            });
            if let Some(rs) = out.resource_spans.last_mut() {
                rs.scope_spans.push(ScopeSpans { scope, ..Default::default() });
            }
        }
        let span = to_span(z, z.tags.clone(), parse_tags)?;
        if let Some(ss) = out.resource_spans.last_mut().and_then(|rs| rs.scope_spans.last_mut()) {
            ss.spans.push(span);
        }
        current = Some(key);
    }
    Ok(out)
}

/// Zipkin v2 JSON: a list of span objects.
pub fn from_json(body: &[u8]) -> Result<Vec<ZipkinSpan>, String> {
    let v: serde_json::Value = serde_json::from_slice(body).map_err(|e| format!("invalid JSON: {e}"))?;
    let serde_json::Value::Array(items) = v else { return Err("expected a JSON list of spans".into()) };
    items.iter().enumerate().map(|(i, s)| json_span(s).map_err(|e| format!("span {i}: {e}"))).collect()
}

fn json_str<'a>(o: &'a serde_json::Map<String, serde_json::Value>, key: &str) -> Result<&'a str, String> {
    match o.get(key) {
        None | Some(serde_json::Value::Null) => Ok(""),
        Some(serde_json::Value::String(s)) => Ok(s),
        Some(other) => Err(format!("{key} must be a string, found {other}")),
    }
}

fn json_u64(o: &serde_json::Map<String, serde_json::Value>, key: &str) -> Result<Option<u64>, String> {
    match o.get(key) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v) => {
            v.as_u64().or_else(|| v.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)).map(Some).ok_or_else(|| format!("{key} must be a number, found {v}"))
        }
    }
}

fn json_endpoint(v: Option<&serde_json::Value>) -> Result<Option<Endpoint>, String> {
    let Some(serde_json::Value::Object(o)) = v else { return Ok(None) };
    let ip = |k: &str| json_str(o, k).map(|s| (!s.is_empty()).then(|| s.to_string()));
    Ok(Some(Endpoint {
        service_name: json_str(o, "serviceName")?.to_string(),
        ipv4: ip("ipv4")?,
        ipv6: ip("ipv6")?,
        port: json_u64(o, "port")?.unwrap_or(0) as i64,
    }))
}

/// A trace ID of 16 or 32 hex digits (a 64-bit ID fills the low half).
fn trace_id(s: &str) -> Result<[u8; 16], String> {
    match s.len() {
        16 => {
            let low = hex_id::<8>(s)?;
            let mut out = [0u8; 16];
            out[8..].copy_from_slice(&low);
            Ok(out)
        }
        32 => hex_id::<16>(s),
        _ => Err(format!("invalid trace ID {s:?}: expected 16 or 32 hex digits")),
    }
}

fn span_id(s: &str, what: &str) -> Result<[u8; 8], String> {
    if s.len() > 16 || s.is_empty() {
        return Err(format!("invalid {what} {s:?}: expected up to 16 hex digits"));
    }
    hex_id::<8>(&format!("{s:0>16}"))
}

fn json_span(v: &serde_json::Value) -> Result<ZipkinSpan, String> {
    let serde_json::Value::Object(o) = v else { return Err("not an object".into()) };
    let parent = json_str(o, "parentId")?;
    let annotations = match o.get("annotations") {
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .map(|a| {
                let serde_json::Value::Object(a) = a else { return Err("annotation must be an object".to_string()) };
                Ok((json_u64(a, "timestamp")?.unwrap_or(0), json_str(a, "value")?.to_string()))
            })
            .collect::<Result<_, _>>()?,
        _ => Vec::new(),
    };
    let tags = match o.get("tags") {
        Some(serde_json::Value::Object(t)) => t
            .iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => Ok((k.clone(), s.clone())),
                other => Err(format!("tag {k:?} must be a string, found {other}")),
            })
            .collect::<Result<_, _>>()?,
        _ => BTreeMap::new(),
    };
    Ok(ZipkinSpan {
        trace_id: trace_id(json_str(o, "traceId")?)?,
        id: span_id(json_str(o, "id")?, "span ID")?,
        parent_id: if parent.is_empty() { None } else { Some(span_id(parent, "parent ID")?) },
        kind: json_str(o, "kind")?.to_string(),
        name: json_str(o, "name")?.to_string(),
        timestamp: json_u64(o, "timestamp")?.filter(|t| *t > 0),
        duration: json_u64(o, "duration")?.unwrap_or(0),
        local: json_endpoint(o.get("localEndpoint"))?,
        remote: json_endpoint(o.get("remoteEndpoint"))?,
        annotations,
        tags,
    })
}

/// Zipkin's proto3 model (zipkin2/proto3/zipkin.proto), for `application/x-protobuf`.
mod proto {
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
        #[prost(map = "string, string", tag = "11")]
        pub tags: std::collections::HashMap<String, String>,
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
}

fn proto_endpoint(e: Option<proto::Endpoint>) -> Option<Endpoint> {
    let e = e?;
    let ipv4 = <[u8; 4]>::try_from(e.ipv4.as_slice()).ok().map(|b| std::net::Ipv4Addr::from(b).to_string());
    let ipv6 = <[u8; 16]>::try_from(e.ipv6.as_slice()).ok().map(|b| std::net::Ipv6Addr::from(b).to_string());
    Some(Endpoint { service_name: e.service_name, ipv4, ipv6, port: i64::from(e.port) })
}

fn fixed<const N: usize>(b: &[u8], what: &str) -> Result<[u8; N], String> {
    // A 64-bit trace ID fills the low half, as in JSON.
    if N == 16 && b.len() == 8 {
        let mut out = [0u8; N];
        out[8..].copy_from_slice(b);
        return Ok(out);
    }
    <[u8; N]>::try_from(b).map_err(|_| format!("invalid {what}: {} bytes", b.len()))
}

/// Zipkin v2 protobuf: a `ListOfSpans`.
pub fn from_proto(body: &[u8]) -> Result<Vec<ZipkinSpan>, String> {
    use prost::Message;
    let list = proto::ListOfSpans::decode(body).map_err(|e| format!("invalid protobuf: {e}"))?;
    list.spans
        .into_iter()
        .map(|s| {
            Ok(ZipkinSpan {
                trace_id: fixed::<16>(&s.trace_id, "trace ID")?,
                id: fixed::<8>(&s.id, "span ID")?,
                parent_id: if s.parent_id.is_empty() { None } else { Some(fixed::<8>(&s.parent_id, "parent ID")?) },
                kind: match s.kind {
                    1 => "CLIENT",
                    2 => "SERVER",
                    3 => "PRODUCER",
                    4 => "CONSUMER",
                    _ => "",
                }
                .to_string(),
                name: s.name,
                timestamp: (s.timestamp > 0).then_some(s.timestamp),
                duration: s.duration,
                local: proto_endpoint(s.local_endpoint),
                remote: proto_endpoint(s.remote_endpoint),
                annotations: s.annotations.into_iter().map(|a| (a.timestamp, a.value)).collect(),
                tags: s.tags.into_iter().collect(),
            })
        })
        .collect()
}

#[cfg(test)]
pub(crate) fn encode_proto_for_test(spans: &[ZipkinSpan]) -> Vec<u8> {
    use prost::Message;
    let to_ep = |e: &Endpoint| proto::Endpoint {
        service_name: e.service_name.clone(),
        ipv4: e.ipv4.as_ref().and_then(|s| s.parse::<std::net::Ipv4Addr>().ok()).map(|a| a.octets().to_vec()).unwrap_or_default(),
        ipv6: Vec::new(),
        port: e.port as i32,
    };
    proto::ListOfSpans {
        spans: spans
            .iter()
            .map(|s| proto::Span {
                trace_id: s.trace_id.to_vec(),
                parent_id: s.parent_id.map(|p| p.to_vec()).unwrap_or_default(),
                id: s.id.to_vec(),
                kind: match s.kind.as_str() {
                    "CLIENT" => 1,
                    "SERVER" => 2,
                    _ => 0,
                },
                name: s.name.clone(),
                timestamp: s.timestamp.unwrap_or(0),
                duration: s.duration,
                local_endpoint: s.local.as_ref().map(to_ep),
                remote_endpoint: s.remote.as_ref().map(to_ep),
                annotations: s.annotations.iter().map(|(t, v)| proto::Annotation { timestamp: *t, value: v.clone() }).collect(),
                tags: s.tags.clone().into_iter().collect(),
                debug: false,
                shared: false,
            })
            .collect(),
    }
    .encode_to_vec()
}
