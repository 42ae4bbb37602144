//! Fault tests against the real servers on loopback: bad input gets the right status and the
//! receiver keeps serving.

use std::io::Write as _;
use std::time::Duration;

use bytes::Bytes;
use eval::Object;
use prost::Message;
use tonic::Code;

use super::*;
use crate::otelcol::consumer::tests::{sink_handle, Sink};
use crate::otelcol::grpc_codec::{export_path, RawCodec};
use crate::otelcol::pdata::tests::traces;
use crate::otelcol::pdata::Signal;

struct Running {
    receiver: Arc<OtlpReceiver>,
    sink: Arc<Sink>,
    grpc: SocketAddr,
    http: SocketAddr,
    stop: CancellationToken,
}

fn obj(pairs: &[(&str, Value)]) -> Value {
    let mut o = Object::new();
    for (k, v) in pairs {
        o.insert(*k, v.clone());
    }
    Value::object(o)
}

async fn start() -> Running {
    let (sink, handle) = sink_handle();
    let all = Value::array(vec![handle.to_value()]);
    let args = obj(&[
        ("grpc", obj(&[("endpoint", Value::string("127.0.0.1:0")), ("max_recv_msg_size", Value::string("64KiB"))])),
        ("http", obj(&[("endpoint", Value::string("127.0.0.1:0")), ("max_request_body_size", Value::string("64KiB"))])),
        ("output", obj(&[("traces", all.clone()), ("metrics", all.clone()), ("logs", all)])),
    ]);
    let receiver = OtlpReceiver::new(crate::otelcol::detached_context("otelcol.receiver.otlp.t"), &args).unwrap();
    let stop = CancellationToken::new();
    tokio::spawn(receiver.clone().run(stop.clone()));
    for _ in 0..200 {
        let bound = *receiver.bound.lock().unwrap();
        if let (Some(grpc), Some(http)) = bound {
            return Running { receiver, sink, grpc, http, stop };
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("receiver did not start");
}

async fn grpc_send(addr: SocketAddr, body: Bytes) -> Result<(), tonic::Status> {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}")).unwrap().connect().await.unwrap();
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let path = ::http::uri::PathAndQuery::from_static(export_path(Signal::Traces));
    grpc.unary::<Bytes, Bytes, _>(tonic::Request::new(body), path, RawCodec).await.map(|_| ())
}

fn accepted(r: &Running, transport: &str) -> u64 {
    SignalCounters::new(&r.receiver.ctx, "otelcol_receiver_accepted", "", &[("receiver", "otlp"), ("transport", transport)]).get(Signal::Traces)
}

fn valid() -> Bytes {
    Bytes::from(traces(1, 3).encode_to_vec())
}

#[tokio::test]
async fn grpc_rejects_malformed_and_oversized_requests_and_keeps_serving() {
    let r = start().await;
    grpc_send(r.grpc, valid()).await.unwrap();
    let e = grpc_send(r.grpc, Bytes::from_static(b"\x0a\xff\xff\xff\x0f garbage")).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    let big = Bytes::from(traces(1, 5000).encode_to_vec());
    let e = grpc_send(r.grpc, big).await.unwrap_err();
    assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");
    grpc_send(r.grpc, valid()).await.unwrap();
    assert_eq!(r.sink.items(), 6);
    assert_eq!(accepted(&r, "grpc"), 6);
    r.stop.cancel();
}

#[tokio::test]
async fn grpc_reports_backpressure_as_unavailable_and_counts_refusals() {
    let r = start().await;
    *r.sink.refuse.lock().unwrap() = Some(ConsumeError::Unavailable("sending queue is full".into()));
    let e = grpc_send(r.grpc, valid()).await.unwrap_err();
    assert_eq!(e.code(), Code::Unavailable);
    let refused = SignalCounters::new(&r.receiver.ctx, "otelcol_receiver_refused", "", &[("receiver", "otlp"), ("transport", "grpc")]);
    assert_eq!(refused.get(Signal::Traces), 3);
    *r.sink.refuse.lock().unwrap() = Some(ConsumeError::Permanent("bad data".into()));
    assert_eq!(grpc_send(r.grpc, valid()).await.unwrap_err().code(), Code::InvalidArgument);
    r.stop.cancel();
}

async fn http_post(addr: SocketAddr, path: &str, content_type: &str, encoding: Option<&str>, body: Vec<u8>) -> (u16, Vec<u8>) {
    let mut req = reqwest::Client::new().post(format!("http://{addr}{path}")).header("content-type", content_type).body(body);
    if let Some(e) = encoding {
        req = req.header("content-encoding", e);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn http_accepts_protobuf_json_and_gzip_and_rejects_bad_input() {
    let r = start().await;
    let proto = traces(1, 2).encode_to_vec();
    assert_eq!(http_post(r.http, "/v1/traces", "application/x-protobuf", None, proto.clone()).await.0, 200);
    let json = br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"hi"}}]}]}]}"#.to_vec();
    let (status, body) = http_post(r.http, "/v1/logs", "application/json", None, json).await;
    assert_eq!((status, body.as_slice()), (200, b"{}".as_slice()));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&proto).unwrap();
    assert_eq!(http_post(r.http, "/v1/traces", "application/x-protobuf", Some("gzip"), gz.finish().unwrap()).await.0, 200);
    assert_eq!(r.sink.items(), 5);

    let (status, body) = http_post(r.http, "/v1/traces", "application/json", None, b"{\"resourceSpans\": [".to_vec()).await;
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&body).contains("malformed traces request"), "{}", String::from_utf8_lossy(&body));
    assert_eq!(http_post(r.http, "/v1/traces", "application/x-protobuf", None, b"\x0a\x09abc".to_vec()).await.0, 400);
    assert_eq!(http_post(r.http, "/v1/traces", "text/plain", None, proto.clone()).await.0, 415);
    assert_eq!(http_post(r.http, "/v1/traces", "application/x-protobuf", None, traces(1, 5000).encode_to_vec()).await.0, 413);
    // A zip bomb is measured after decompression.
    let mut bomb = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    bomb.write_all(&vec![0u8; 1 << 20]).unwrap();
    assert_eq!(http_post(r.http, "/v1/traces", "application/x-protobuf", Some("gzip"), bomb.finish().unwrap()).await.0, 413);

    *r.sink.refuse.lock().unwrap() = Some(ConsumeError::Unavailable("memory".into()));
    assert_eq!(http_post(r.http, "/v1/traces", "application/x-protobuf", None, proto.clone()).await.0, 503);
    *r.sink.refuse.lock().unwrap() = None;
    assert_eq!(http_post(r.http, "/v1/traces", "application/x-protobuf", None, proto).await.0, 200);
    assert_eq!(accepted(&r, "http"), 6);
    r.stop.cancel();
}

#[tokio::test]
async fn server_auth_rejects_requests_without_the_bearer_token() {
    let (sink, handle) = sink_handle();
    let bearer = crate::otelcol::auth::AuthHandler::new("otelcol.auth.bearer.t", Arc::new(crate::otelcol::auth::BearerAuth::from_args(&obj(&[("token", Value::secret("tok"))])).unwrap()));
    let auth = Value::Capsule(eval::Capsule::new(bearer));
    let args = obj(&[
        ("grpc", obj(&[("endpoint", Value::string("127.0.0.1:0")), ("auth", auth.clone())])),
        ("http", obj(&[("endpoint", Value::string("127.0.0.1:0")), ("auth", auth)])),
        ("output", obj(&[("traces", Value::array(vec![handle.to_value()]))])),
    ]);
    let receiver = OtlpReceiver::new(crate::otelcol::detached_context("otelcol.receiver.otlp.auth"), &args).unwrap();
    let stop = CancellationToken::new();
    tokio::spawn(receiver.clone().run(stop.clone()));
    let (grpc, http) = loop {
        let bound = *receiver.bound.lock().unwrap();
        if let (Some(g), Some(h)) = bound {
            break (g, h);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(grpc_send(grpc, valid()).await.unwrap_err().code(), Code::Unauthenticated);
    assert_eq!(http_post(http, "/v1/traces", "application/x-protobuf", None, valid().to_vec()).await.0, 401);
    let ok = reqwest::Client::new()
        .post(format!("http://{http}/v1/traces"))
        .header("content-type", "application/x-protobuf")
        .header("authorization", "Bearer tok")
        .body(valid().to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    assert_eq!(sink.items(), 3);
    stop.cancel();
}
