//! The Zipkin mapping on hand-written v2 spans, and the server on loopback.

use std::io::Write as _;

use eval::Object;
use opentelemetry_proto::tonic::common::v1::any_value::Value as V;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::trace::v1::{span, status};

use super::translate::{self, START_TIME_ABSENT};
use super::*;
use crate::otelcol::consumer::tests::{sink_handle, Sink};

const TWO_SERVICES: &str = r#"[
  {"traceId": "5af7183fb1d4cf5f5af7183fb1d4cf5f", "id": "352bff9a74ca9ad2", "parentId": "6b221d5bc9e6496c",
   "kind": "SERVER", "name": "get /api", "timestamp": 1556604172355737, "duration": 1431,
   "localEndpoint": {"serviceName": "backend", "ipv4": "192.168.99.1", "port": 3306},
   "remoteEndpoint": {"serviceName": "frontend", "ipv6": "::1", "port": 58648},
   "annotations": [{"timestamp": 1556604172355800, "value": "retry|{\"attempt\":2,\"ok\":true}|1"}, {"timestamp": 1556604172355900, "value": "wr"}],
   "tags": {"http.method": "GET", "http.status_code": "503", "error": "true", "host.name": "box-1",
            "otel.library.name": "lib", "otel.library.version": "1.2", "ratio": "0.5", "flag": "true"}},
  {"traceId": "6b221d5bc9e6496c", "id": "6b221d5bc9e6496c", "name": "front",
   "localEndpoint": {"serviceName": "frontend"}, "duration": 10,
   "tags": {"otel.status_code": "STATUS_CODE_OK", "otel.status_description": "fine", "span.kind": "internal"}}
]"#;

fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a V> {
    attrs.iter().find(|a| a.key == key).and_then(|a| a.value.as_ref()).and_then(|v| v.value.as_ref())
}

fn s(v: &str) -> V {
    V::StringValue(v.into())
}

#[test]
fn v2_json_maps_to_resources_scopes_and_spans_as_the_collector_does() {
    let spans = translate::from_json(TWO_SERVICES.as_bytes()).unwrap();
    let req = translate::to_request(spans, false).unwrap();
    assert_eq!(req.resource_spans.len(), 2, "one resource per local service");
    // Sorted by service name: backend first.
    let backend = &req.resource_spans[0];
    let res = backend.resource.as_ref().unwrap();
    assert_eq!(attr(&res.attributes, "service.name"), Some(&s("backend")));
    assert_eq!(attr(&res.attributes, "host.name"), Some(&s("box-1")), "resource conventions move to the resource");
    let scope = backend.scope_spans[0].scope.as_ref().unwrap();
    assert_eq!((scope.name.as_str(), scope.version.as_str()), ("lib", "1.2"));
    let sp = &backend.scope_spans[0].spans[0];
    assert_eq!(sp.trace_id, hex("5af7183fb1d4cf5f5af7183fb1d4cf5f"));
    assert_eq!((sp.span_id.clone(), sp.parent_span_id.clone()), (hex("352bff9a74ca9ad2"), hex("6b221d5bc9e6496c")));
    assert_eq!(sp.kind, span::SpanKind::Server as i32);
    assert_eq!(sp.status.as_ref().map(|s| s.code), Some(status::StatusCode::Error as i32), "error=true");
    assert_eq!((sp.start_time_unix_nano, sp.end_time_unix_nano), (1556604172355737000, 1556604172357168000));
    let a = &sp.attributes;
    assert_eq!(attr(a, "http.status_code"), Some(&s("503")), "tags stay strings without parse_string_tags");
    assert_eq!(attr(a, "net.host.ip"), Some(&s("192.168.99.1")));
    assert_eq!(attr(a, "net.host.port"), Some(&V::IntValue(3306)));
    assert_eq!(attr(a, "peer.service"), Some(&s("frontend")));
    assert_eq!(attr(a, "net.peer.ip"), Some(&s("::1")));
    assert_eq!(attr(a, "net.peer.port"), Some(&V::IntValue(58648)));
    for gone in ["error", "host.name", "otel.library.name", "otel.library.version"] {
        assert_eq!(attr(a, gone), None, "{gone} is not a span attribute");
    }
    assert_eq!(sp.events.len(), 2);
    assert_eq!((sp.events[0].name.as_str(), sp.events[0].time_unix_nano, sp.events[0].dropped_attributes_count), ("retry", 1556604172355800000, 1));
    assert_eq!(attr(&sp.events[0].attributes, "attempt"), Some(&V::IntValue(2)));
    assert_eq!(attr(&sp.events[0].attributes, "ok"), Some(&V::BoolValue(true)));
    assert_eq!(sp.events[1].name, "wr");

    let front = &req.resource_spans[1].scope_spans[0].spans[0];
    assert_eq!(front.trace_id, hex("00000000000000006b221d5bc9e6496c"), "a 64-bit trace ID fills the low half");
    assert!(front.parent_span_id.is_empty());
    assert_eq!(front.kind, span::SpanKind::Internal as i32);
    let st = front.status.as_ref().unwrap();
    assert_eq!((st.code, st.message.as_str()), (status::StatusCode::Ok as i32, "fine"));
    assert_eq!((front.start_time_unix_nano, front.end_time_unix_nano), (0, 10_000), "no timestamp: the epoch plus the duration");
    assert_eq!(attr(&front.attributes, START_TIME_ABSENT), Some(&V::BoolValue(true)));
}

#[test]
fn parse_string_tags_types_numbers_and_booleans() {
    let spans = translate::from_json(TWO_SERVICES.as_bytes()).unwrap();
    let req = translate::to_request(spans, true).unwrap();
    let a = &req.resource_spans[0].scope_spans[0].spans[0].attributes;
    assert_eq!(attr(a, "http.status_code"), Some(&V::IntValue(503)));
    assert_eq!(attr(a, "ratio"), Some(&V::DoubleValue(0.5)));
    assert_eq!(attr(a, "flag"), Some(&V::BoolValue(true)));
    assert_eq!(attr(a, "http.method"), Some(&s("GET")));
}

#[test]
fn protobuf_carries_the_same_spans_as_json() {
    let spans = translate::from_json(TWO_SERVICES.as_bytes()).unwrap();
    let decoded = translate::from_proto(&translate::encode_proto_for_test(&spans)).unwrap();
    // The test encoder does not write IPv6 addresses.
    let mut want = spans.clone();
    want[0].remote.as_mut().unwrap().ipv6 = None;
    assert_eq!(decoded, want);
}

#[test]
fn malformed_spans_say_what_is_wrong() {
    let cases = [
        ("{}", "expected a JSON list of spans"),
        (r#"[{"traceId": "xyz", "id": "1"}]"#, "span 0: invalid trace ID \"xyz\""),
        (r#"[{"traceId": "0000000000000001", "id": "zz"}]"#, "span 0: cannot unmarshal ID"),
        (r#"[{"traceId": "0000000000000001", "id": "1", "tags": {"a": 1}}]"#, "tag \"a\" must be a string"),
        ("[", "invalid JSON"),
    ];
    for (body, want) in cases {
        let e = translate::from_json(body.as_bytes()).unwrap_err();
        assert!(e.contains(want), "{body}: {e}");
    }
    assert!(translate::from_proto(b"\x0a\x05\x0a\x03abc").unwrap_err().contains("invalid trace ID"));
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

async fn start() -> (Arc<ZipkinReceiver>, Arc<Sink>, SocketAddr, CancellationToken) {
    let (sink, handle) = sink_handle();
    let mut o = Object::new();
    o.insert("endpoint", Value::string("127.0.0.1:0"));
    let mut out = Object::new();
    out.insert("traces", Value::array(vec![handle.to_value()]));
    o.insert("output", Value::object(out));
    let args = analyzer::args::with_defaults(NAME, &Value::object(o));
    let r = ZipkinReceiver::new(crate::otelcol::detached_context("otelcol.receiver.zipkin.t"), &args).unwrap();
    let stop = CancellationToken::new();
    tokio::spawn(r.clone().run(stop.clone()));
    for _ in 0..500 {
        let bound = *r.bound.lock().unwrap();
        if let Some(addr) = bound {
            return (r, sink, addr, stop);
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the receiver did not bind");
}

async fn post(addr: SocketAddr, path: &str, content_type: &str, gzip: bool, body: Vec<u8>) -> (u16, String) {
    let mut req = reqwest::Client::new().post(format!("http://{addr}{path}")).header("content-type", content_type);
    let body = if gzip {
        req = req.header("content-encoding", "gzip");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&body).unwrap();
        enc.finish().unwrap()
    } else {
        body
    };
    let resp = req.body(body).send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test]
async fn the_server_accepts_json_and_protobuf_and_refuses_bad_requests() {
    let (_r, sink, addr, stop) = start().await;
    assert_eq!(post(addr, "/api/v2/spans", "application/json", true, TWO_SERVICES.as_bytes().to_vec()).await.0, 202);
    let proto = translate::encode_proto_for_test(&translate::from_json(TWO_SERVICES.as_bytes()).unwrap());
    assert_eq!(post(addr, "/api/v2/spans", "application/x-protobuf", false, proto).await.0, 202);
    assert_eq!(sink.items(), 4);
    assert_eq!(post(addr, "/", "application/json", false, TWO_SERVICES.as_bytes().to_vec()).await.0, 202, "any path takes v2");
    assert_eq!(sink.items(), 6);

    let (status, text) = post(addr, "/api/v2/spans", "application/json", false, b"[{\"traceId\": 5}]".to_vec()).await;
    assert_eq!(status, 400);
    assert!(text.contains("traceId must be a string"), "{text}");
    let (status, text) = post(addr, "/api/v1/spans", "application/x-thrift", false, b"x".to_vec()).await;
    assert_eq!(status, 415);
    assert!(text.contains("Zipkin v1"), "{text}");
    assert_eq!(post(addr, "/api/v2/spans", "text/plain", false, b"x".to_vec()).await.0, 415);
    assert_eq!(sink.items(), 6, "nothing from the refused requests");
    stop.cancel();
}
