use std::time::Duration;

use opentelemetry_proto::tonic::common::v1::{any_value, KeyValue};
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;

use super::*;
use crate::otelcol::connector::values::as_string;
use crate::otelcol::consumer::tests::sink_handle;

/// A client span of `frontend` and its server span in `backend`, as a Zipkin tracer sends
/// them, with resource, library, status and typed tags.
const TWO_SPANS: &str = r#"[
  {
    "traceId": "5b8efff798038103d269b633813fc60c",
    "id": "eee19b7ec3c1b174",
    "name": "get /api",
    "kind": "CLIENT",
    "timestamp": 1700000000000000,
    "duration": 2500,
    "localEndpoint": {"serviceName": "frontend", "ipv4": "10.0.0.1", "port": 8080},
    "remoteEndpoint": {"serviceName": "backend", "ipv4": "10.0.0.2", "port": 9000},
    "annotations": [{"timestamp": 1700000000001000, "value": "retry|{\"attempt\":2,\"why\":\"timeout\"}|1"}],
    "tags": {"http.method": "GET", "http.status_code": "200", "host.name": "web-1", "otel.library.name": "lib", "otel.library.version": "1.2", "error": "true"}
  },
  {
    "traceId": "5b8efff798038103d269b633813fc60c",
    "parentId": "eee19b7ec3c1b174",
    "id": "1",
    "name": "api",
    "kind": "SERVER",
    "duration": 1000,
    "localEndpoint": {"serviceName": "backend"},
    "tags": {"otel.status_code": "STATUS_CODE_OK", "otel.status_description": "fine", "span.kind": "internal"}
  }
]"#;

fn attrs(a: &[KeyValue]) -> Vec<(String, String)> {
    a.iter().map(|kv| (kv.key.clone(), kv.value.as_ref().map(as_string).unwrap_or_default())).collect()
}

fn p(k: &str, v: &str) -> (String, String) {
    (k.to_string(), v.to_string())
}

#[test]
fn v2_json_maps_to_resources_scopes_and_spans() {
    let req = to_traces(TWO_SPANS.as_bytes(), false).unwrap();
    // Sorted by service: backend first.
    assert_eq!(req.resource_spans.len(), 2);
    let backend = &req.resource_spans[0];
    assert_eq!(attrs(&backend.resource.as_ref().unwrap().attributes), [p("service.name", "backend")]);
    let server = &backend.scope_spans[0].spans[0];
    assert_eq!(server.span_id, vec![0, 0, 0, 0, 0, 0, 0, 1], "short IDs are right-aligned");
    assert_eq!(server.parent_span_id, vec![0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74]);
    assert_eq!(server.kind, SpanKind::Server as i32);
    let status = server.status.as_ref().unwrap();
    assert_eq!((status.code, status.message.as_str()), (1, "fine"));
    // No timestamp: the epoch, marked; the span.kind tag stays since the kind was given.
    assert_eq!((server.start_time_unix_nano, server.end_time_unix_nano), (0, 1_000_000));
    assert_eq!(attrs(&server.attributes), [p("span.kind", "internal"), p("otel.zipkin.absentField.startTime", "true")]);

    let frontend = &req.resource_spans[1];
    assert_eq!(attrs(&frontend.resource.as_ref().unwrap().attributes), [p("service.name", "frontend"), p("host.name", "web-1")]);
    let scope = frontend.scope_spans[0].scope.as_ref().unwrap();
    assert_eq!((scope.name.as_str(), scope.version.as_str()), ("lib", "1.2"));
    let client = &frontend.scope_spans[0].spans[0];
    assert_eq!(client.trace_id[0], 0x5b);
    assert_eq!(client.kind, SpanKind::Client as i32);
    assert_eq!(client.status.as_ref().unwrap().code, 2, "error=true");
    assert_eq!((client.start_time_unix_nano, client.end_time_unix_nano), (1_700_000_000_000_000_000, 1_700_000_000_002_500_000));
    assert_eq!(
        attrs(&client.attributes),
        [
            p("http.method", "GET"),
            p("http.status_code", "200"),
            p("net.host.ip", "10.0.0.1"),
            p("net.host.port", "8080"),
            p("peer.service", "backend"),
            p("net.peer.ip", "10.0.0.2"),
            p("net.peer.port", "9000"),
        ]
    );
    let event = &client.events[0];
    assert_eq!((event.name.as_str(), event.time_unix_nano, event.dropped_attributes_count), ("retry", 1_700_000_000_001_000_000, 1));
    let mut ev = attrs(&event.attributes);
    ev.sort();
    assert_eq!(ev, [p("attempt", "2"), p("why", "timeout")]);
    assert!(matches!(
        event.attributes.iter().find(|kv| kv.key == "attempt").and_then(|kv| kv.value.as_ref()).and_then(|v| v.value.clone()),
        Some(any_value::Value::IntValue(2))
    ));
}

#[test]
fn parse_string_tags_types_the_values() {
    let body = r#"[{"traceId":"1","id":"2","name":"x","tags":{"n":"-42","d":"1.5","b":"true","s":"1.5.1"}}]"#;
    let req = to_traces(body.as_bytes(), true).unwrap();
    let span = &req.resource_spans[0].scope_spans[0].spans[0];
    let value = |k: &str| span.attributes.iter().find(|kv| kv.key == k).and_then(|kv| kv.value.clone()).and_then(|v| v.value);
    assert_eq!(value("n"), Some(any_value::Value::IntValue(-42)));
    assert_eq!(value("d"), Some(any_value::Value::DoubleValue(1.5)));
    assert_eq!(value("b"), Some(any_value::Value::BoolValue(true)));
    assert_eq!(value("s"), Some(any_value::Value::StringValue("1.5.1".into())));
    assert!(req.resource_spans[0].resource.as_ref().unwrap().attributes.is_empty(), "no local service name, no resource attributes");
}

#[test]
fn links_come_back_from_their_tags() {
    let body = r#"[{"traceId":"1","id":"2","tags":{"otlp.link.0":"0102030405060708090a0b0c0d0e0f10|0102030405060708|k=v|{\"a\":\"b|c\"}|3"}}]"#;
    let req = to_traces(body.as_bytes(), false).unwrap();
    let span = &req.resource_spans[0].scope_spans[0].spans[0];
    assert!(span.attributes.iter().all(|kv| kv.key != "otlp.link.0"));
    let link = &span.links[0];
    assert_eq!((link.trace_id[15], link.span_id[7], link.trace_state.as_str(), link.dropped_attributes_count), (0x10, 8, "k=v", 3));
    assert_eq!(attrs(&link.attributes), [p("a", "b|c")]);
}

#[test]
fn v2_protobuf_maps_like_json() {
    use prost::Message as _;
    let span = translate_proto_span();
    let body = ListOfSpansForTest { spans: vec![span] }.encode_to_vec();
    let req = proto_to_traces(&body, false).unwrap();
    let rs = &req.resource_spans[0];
    assert_eq!(attrs(&rs.resource.as_ref().unwrap().attributes), [p("service.name", "svc")]);
    let s = &rs.scope_spans[0].spans[0];
    assert_eq!((s.name.as_str(), s.kind, s.start_time_unix_nano, s.end_time_unix_nano), ("op", SpanKind::Server as i32, 5_000, 7_000));
    assert_eq!(s.trace_id[15], 9);
    assert_eq!(attrs(&s.attributes), [p("k", "v"), p("net.host.ip", "10.1.2.3"), p("net.host.port", "80")]);
    let mut bad = translate_proto_span();
    bad.id = vec![1; 4];
    let body = ListOfSpansForTest { spans: vec![bad] }.encode_to_vec();
    assert_eq!(proto_to_traces(&body, false).unwrap_err().to_string(), "invalid SpanID: has length 4 yet wanted length 8");
    assert!(proto_to_traces(b"\xff\xff", false).is_err());
}

/// The wire messages, written here independently of the decoder's.
#[derive(Clone, PartialEq, prost::Message)]
struct ListOfSpansForTest {
    #[prost(message, repeated, tag = "1")]
    spans: Vec<ProtoSpanForTest>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ProtoSpanForTest {
    #[prost(bytes = "vec", tag = "1")]
    trace_id: Vec<u8>,
    #[prost(bytes = "vec", tag = "3")]
    id: Vec<u8>,
    #[prost(int32, tag = "4")]
    kind: i32,
    #[prost(string, tag = "5")]
    name: String,
    #[prost(fixed64, tag = "6")]
    timestamp: u64,
    #[prost(uint64, tag = "7")]
    duration: u64,
    #[prost(message, optional, tag = "8")]
    local_endpoint: Option<ProtoEndpointForTest>,
    #[prost(btree_map = "string, string", tag = "11")]
    tags: std::collections::BTreeMap<String, String>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ProtoEndpointForTest {
    #[prost(string, tag = "1")]
    service_name: String,
    #[prost(bytes = "vec", tag = "2")]
    ipv4: Vec<u8>,
    #[prost(int32, tag = "4")]
    port: i32,
}

fn translate_proto_span() -> ProtoSpanForTest {
    ProtoSpanForTest {
        trace_id: vec![9; 16],
        id: vec![1; 8],
        kind: 2,
        name: "op".into(),
        timestamp: 5,
        duration: 2,
        local_endpoint: Some(ProtoEndpointForTest { service_name: "svc".into(), ipv4: vec![10, 1, 2, 3], port: 80 }),
        tags: [("k".to_string(), "v".to_string())].into_iter().collect(),
    }
}

#[test]
fn malformed_bodies_are_refused_with_a_reason() {
    assert_eq!(to_traces(br#"[{"traceId":"1","id":"0"}]"#, false).unwrap_err(), ZipkinError::SpanId);
    assert_eq!(to_traces(br#"[{"traceId":"xyz","id":"1"}]"#, false).unwrap_err(), ZipkinError::TraceId);
    assert!(matches!(to_traces(b"{not json", false), Err(ZipkinError::Json(_))));
    assert!(matches!(to_traces(br#"{"traceId":"1","id":"1"}"#, false), Err(ZipkinError::Json(_))), "a body is an array of spans");
}

#[tokio::test]
async fn a_zipkin_client_posts_json_over_http() {
    let (sink, handle) = sink_handle();
    let mut out = eval::Object::new();
    out.insert("traces", Value::array(vec![handle.to_value()]));
    let mut args = eval::Object::new();
    args.insert("endpoint", Value::string("127.0.0.1:0"));
    args.insert("output", Value::object(out));
    let r =
        ZipkinReceiver::new(crate::otelcol::detached_context("otelcol.receiver.zipkin.t"), &analyzer::args::with_defaults(NAME, &Value::object(args))).unwrap();
    let stop = CancellationToken::new();
    let run = tokio::spawn(r.clone().run(stop.clone()));
    let mut addr = None;
    for _ in 0..500 {
        addr = *r.bound.lock().unwrap();
        if addr.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let addr = addr.expect("bound");
    let client = reqwest::Client::new();
    let post = |path: &str, body: &'static str, ct: &str| client.post(format!("http://{addr}{path}")).header("Content-Type", ct.to_string()).body(body).send();
    let ok = post("/api/v2/spans", TWO_SPANS, "application/json").await.unwrap();
    assert_eq!(ok.status(), 202);
    let bad = post("/api/v2/spans", "[{\"id\":\"1\"}]", "application/json").await.unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(bad.text().await.unwrap(), "valid traceId required");
    let v1 = post("/api/v1/spans", "[]", "application/json").await.unwrap();
    assert_eq!(v1.status(), 400);
    use prost::Message as _;
    let proto = ListOfSpansForTest { spans: vec![translate_proto_span()] }.encode_to_vec();
    let sent = client.post(format!("http://{addr}/api/v2/spans")).header("Content-Type", "application/x-protobuf").body(proto).send().await.unwrap();
    assert_eq!(sent.status(), 202);
    stop.cancel();
    run.await.unwrap().unwrap();
    assert_eq!(sink.items(), 3);
    let req = sink.received.lock().unwrap()[0].decode_traces().unwrap();
    assert_eq!(req.resource_spans.len(), 2);
}
