//! Fault tests against the real servers on loopback: bad input gets the right status and the
//! receiver keeps serving.

use std::io::Write as _;

use crate::otelcol::receiver::obj;
use bytes::Bytes;
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

async fn start() -> Running {
    start_with("otelcol.receiver.otlp.t", |all| {
        vec![
            ("grpc", obj(&[("endpoint", Value::string("127.0.0.1:0")), ("max_recv_msg_size", Value::string("64KiB"))])),
            ("http", obj(&[("endpoint", Value::string("127.0.0.1:0")), ("max_request_body_size", Value::string("64KiB"))])),
            ("output", obj(&[("traces", all.clone()), ("metrics", all.clone()), ("logs", all)])),
        ]
    })
    .await
}

/// Starts a receiver with the arguments `args` builds around the sink's consumer list, and
/// waits until both servers are bound.
async fn start_with(id: &str, args: impl FnOnce(Value) -> Vec<(&'static str, Value)>) -> Running {
    let (sink, handle) = sink_handle();
    let args = analyzer::args::with_defaults("otelcol.receiver.otlp", &obj(&args(Value::array(vec![handle.to_value()]))));
    let receiver = OtlpReceiver::new(crate::otelcol::detached_context(id), &args).unwrap();
    let stop = CancellationToken::new();
    tokio::spawn(receiver.clone().run(stop.clone()));
    match receiver.wait_bound(|b| b.0.is_some() && b.1.is_some()).await {
        Some((Some(grpc), Some(http))) => Running { receiver, sink, grpc, http, stop },
        _ => panic!("receiver did not start"),
    }
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
    for c in ["zstd", "snappy", "lz4", "deflate"] {
        let packed = crate::delivery::compression::Compression::parse(c).unwrap().unwrap().compress(&proto).unwrap();
        assert_eq!(http_post(r.http, "/v1/traces", "application/x-protobuf", Some(c), packed).await.0, 200, "{c}");
    }
    assert_eq!(http_post(r.http, "/v1/traces", "application/x-protobuf", Some("zstd"), b"not zstd".to_vec()).await.0, 400);
    assert_eq!(http_post(r.http, "/v1/traces", "application/x-protobuf", Some("br"), proto.clone()).await.0, 400);
    assert_eq!(r.sink.items(), 13);

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
    assert_eq!(accepted(&r, "http"), 14);
    r.stop.cancel();
}

#[tokio::test]
async fn server_auth_rejects_requests_without_the_bearer_token() {
    let bearer = crate::otelcol::auth::AuthHandler::new(
        "otelcol.auth.bearer.t",
        Arc::new(crate::otelcol::auth::BearerAuth::from_args(&obj(&[("token", Value::secret("tok"))])).unwrap()),
    );
    let auth = Value::Capsule(eval::Capsule::new(bearer));
    let Running { sink, grpc, http, stop, .. } = start_with("otelcol.receiver.otlp.auth", |all| {
        vec![
            ("grpc", obj(&[("endpoint", Value::string("127.0.0.1:0")), ("auth", auth.clone())])),
            ("http", obj(&[("endpoint", Value::string("127.0.0.1:0")), ("auth", auth)])),
            ("output", obj(&[("traces", all)])),
        ]
    })
    .await;
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

/// A CA, a server certificate for 127.0.0.1 and localhost, and a client certificate, all PEM.
struct Pki {
    ca: String,
    server: (String, String),
    client: (String, String),
}

fn pki() -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf = |names: Vec<String>| {
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(names).unwrap().signed_by(&key, &issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    };
    Pki { ca: ca.pem(), server: leaf(vec!["127.0.0.1".into(), "localhost".into()]), client: leaf(vec!["client".into()]) }
}

fn tls_block(pki: &Pki, client_ca_file: Option<&std::path::Path>) -> Value {
    let mut pairs = vec![("cert_pem", Value::string(pki.server.0.as_str())), ("key_pem", Value::secret(pki.server.1.as_str()))];
    if let Some(f) = client_ca_file {
        pairs.push(("client_ca_file", Value::string(f.to_string_lossy().as_ref())));
    }
    obj(&pairs)
}

async fn start_tls(tls: Value) -> Running {
    start_with("otelcol.receiver.otlp.tls", |all| {
        vec![
            ("grpc", obj(&[("endpoint", Value::string("127.0.0.1:0")), ("tls", tls.clone())])),
            ("http", obj(&[("endpoint", Value::string("127.0.0.1:0")), ("tls", tls)])),
            ("output", obj(&[("traces", all)])),
        ]
    })
    .await
}

fn https_client(pki: &Pki, identity: bool) -> reqwest::Client {
    let mut b = reqwest::Client::builder().tls_certs_only([reqwest::Certificate::from_pem(pki.ca.as_bytes()).unwrap()]);
    if identity {
        b = b.identity(reqwest::Identity::from_pem(format!("{}{}", pki.client.0, pki.client.1).as_bytes()).unwrap());
    }
    b.build().unwrap()
}

async fn https_post(client: &reqwest::Client, addr: SocketAddr) -> Result<u16, reqwest::Error> {
    let resp = client.post(format!("https://{addr}/v1/traces")).header("content-type", "application/x-protobuf").body(valid().to_vec()).send().await?;
    Ok(resp.status().as_u16())
}

#[tokio::test]
async fn tls_serves_https_and_grpc_with_the_configured_certificate() {
    let pki = pki();
    let r = start_tls(tls_block(&pki, None)).await;
    assert_eq!(https_post(&https_client(&pki, false), r.http).await.unwrap(), 200);
    // A plain-text client on the TLS port gets no answer from the handler, and the server lives on.
    let plain = reqwest::Client::new()
        .post(format!("http://{}/v1/traces", r.http))
        .header("content-type", "application/x-protobuf")
        .body(valid().to_vec())
        .send()
        .await;
    assert!(plain.is_err() || plain.unwrap().status().as_u16() != 200);
    // A client that does not trust the CA fails its handshake.
    let stranger = reqwest::Client::builder().tls_certs_only(Vec::new()).build().unwrap();
    assert!(https_post(&stranger, r.http).await.is_err());
    assert_eq!(https_post(&https_client(&pki, false), r.http).await.unwrap(), 200);

    let tls = tonic::transport::ClientTlsConfig::new().ca_certificate(tonic::transport::Certificate::from_pem(&pki.ca)).domain_name("localhost");
    let channel = tonic::transport::Endpoint::from_shared(format!("https://{}", r.grpc)).unwrap().tls_config(tls).unwrap().connect().await.unwrap();
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let path = ::http::uri::PathAndQuery::from_static(export_path(Signal::Traces));
    grpc.unary::<Bytes, Bytes, _>(tonic::Request::new(valid()), path, RawCodec).await.unwrap();

    assert_eq!(r.sink.items(), 9);
    assert_eq!(accepted(&r, "http"), 6);
    assert_eq!(accepted(&r, "grpc"), 3);
    r.stop.cancel();
}

#[tokio::test]
async fn tls_with_a_client_ca_requires_a_client_certificate() {
    let pki = pki();
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &pki.ca).unwrap();
    let r = start_tls(tls_block(&pki, Some(&ca_file))).await;
    assert!(https_post(&https_client(&pki, false), r.http).await.is_err(), "a client without a certificate was let in");
    assert_eq!(https_post(&https_client(&pki, true), r.http).await.unwrap(), 200);
    assert_eq!(r.sink.items(), 3);
    r.stop.cancel();
}

#[test]
fn bad_tls_material_fails_the_build_with_what_is_wrong() {
    let pki = pki();
    let (_sink, handle) = sink_handle();
    let args = |tls: Value| {
        obj(&[
            ("http", obj(&[("endpoint", Value::string("127.0.0.1:0")), ("tls", tls)])),
            ("output", obj(&[("traces", Value::array(vec![handle.to_value()]))])),
        ])
    };
    let build = |tls| OtlpReceiver::new(crate::otelcol::detached_context("otelcol.receiver.otlp.badtls"), &args(tls)).err().map(|e| e.to_string());
    let no_key = obj(&[("cert_pem", Value::string(pki.server.0.as_str())), ("key_pem", Value::secret("not a key"))]);
    assert!(build(no_key).is_some_and(|e| e.contains("invalid TLS key")));
    let no_cert = obj(&[("cert_pem", Value::string("garbage")), ("key_pem", Value::secret(pki.server.1.as_str()))]);
    assert!(build(no_cert).is_some_and(|e| e.contains("invalid TLS cert")));
    // A key that does not belong to the certificate.
    let wrong_key = obj(&[("cert_pem", Value::string(pki.server.0.as_str())), ("key_pem", Value::secret(pki.client.1.as_str()))]);
    assert!(
        build(wrong_key).is_some_and(|e| e.contains("invalid TLS cert or key")),
        "{:?}",
        build(obj(&[("cert_pem", Value::string(pki.server.0.as_str())), ("key_pem", Value::secret(pki.client.1.as_str()))]))
    );
    let missing = obj(&[("cert_file", Value::string("/nonexistent/cert.pem")), ("key_pem", Value::secret(pki.server.1.as_str()))]);
    assert!(build(missing).is_some_and(|e| e.contains("/nonexistent/cert.pem")));
}

/// One client's span with a non-UTF-8 name is refused alone: the other client's data, batched
/// by the same processor, reaches the exporter and decodes.
#[tokio::test]
async fn a_bad_span_is_refused_alone_and_does_not_spoil_the_batch() {
    use crate::otelcol::processor::batch::BatchProcessor;
    let (sink, handle) = sink_handle();
    let batch_args = obj(&[
        ("timeout", Value::string("50ms")),
        ("send_batch_size", Value::int(1000)),
        ("output", obj(&[("traces", Value::array(vec![handle.to_value()]))])),
    ]);
    let batch = BatchProcessor::new(
        crate::otelcol::detached_context("otelcol.processor.batch.b"),
        &analyzer::args::with_defaults("otelcol.processor.batch", &batch_args),
    )
    .unwrap();
    let stop_batch = CancellationToken::new();
    let batching = tokio::spawn(batch.clone().run(stop_batch.clone()));
    let input = Value::array(vec![batch.input().to_value()]);
    let r = start_with("otelcol.receiver.otlp.bad", |_| {
        vec![
            ("grpc", obj(&[("endpoint", Value::string("127.0.0.1:0"))])),
            ("http", obj(&[("endpoint", Value::string("127.0.0.1:0"))])),
            ("output", obj(&[("traces", input)])),
        ]
    })
    .await;
    let mut bad = traces(1, 2).encode_to_vec();
    let at = bad.windows(4).position(|w| w == b"r0s1").unwrap();
    bad[at..at + 2].copy_from_slice(&[0xc3, 0x28]);
    let (bad_http, good_grpc, bad_grpc) = tokio::join!(
        http_post(r.http, "/v1/traces", "application/x-protobuf", None, bad.clone()),
        grpc_send(r.grpc, valid()),
        grpc_send(r.grpc, Bytes::from(bad))
    );
    assert_eq!(bad_http.0, 400, "{}", String::from_utf8_lossy(&bad_http.1));
    assert!(String::from_utf8_lossy(&bad_http.1).contains("not valid UTF-8"));
    good_grpc.unwrap();
    assert_eq!(bad_grpc.unwrap_err().code(), Code::InvalidArgument);
    stop_batch.cancel();
    batching.await.unwrap().unwrap();
    assert_eq!(sink.items(), 3, "only the good client's spans are delivered");
    for p in sink.received.lock().unwrap().iter() {
        p.decode_traces().expect("the delivered batch decodes");
    }
    let refused = |t| SignalCounters::new(&r.receiver.ctx, "otelcol_receiver_refused", "", &[("receiver", "otlp"), ("transport", t)]).get(Signal::Traces);
    assert_eq!((refused("http"), refused("grpc")), (2, 2), "the bad requests' spans count as refused");
    r.stop.cancel();
}

/// The JSON decoding budget: bodies share it by size, wait for room, give up after the wait,
/// and a body larger than the whole budget runs alone.
#[tokio::test]
async fn json_budget_bounds_the_bytes_decoded_at_once() {
    use super::http::Budget;
    use std::time::Duration;
    let budget = Budget::new(10 * 1024, Duration::from_millis(100));
    let a = budget.acquire(6 * 1024).await.unwrap();
    let b = budget.acquire(4 * 1024).await.unwrap();
    assert!(budget.acquire(1).await.is_err(), "the budget is spent: the third waits, then gives up");
    drop(b);
    let c = budget.acquire(3 * 1024).await.unwrap();
    assert!(budget.acquire(2 * 1024).await.is_err());
    drop((a, c));
    // Larger than the budget: admitted once it has everything to itself.
    let huge = budget.acquire(1 << 30).await.unwrap();
    assert!(budget.acquire(1).await.is_err());
    // A waiter is admitted as soon as room frees up.
    let (got, ()) = tokio::join!(budget.acquire(9 * 1024), async move {
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(huge);
    });
    assert!(got.is_ok());
}

/// The `http` block's server settings take effect: an encoding outside
/// `compression_algorithms` is refused, and an idle connection is closed after `idle_timeout`.
#[tokio::test]
async fn http_server_settings_are_applied() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let r = start_with("otelcol.receiver.otlp.limits", |all| {
        let algorithms = Value::array(vec![Value::string(""), Value::string("gzip")]);
        vec![
            ("grpc", obj(&[("endpoint", Value::string("127.0.0.1:0")), ("max_concurrent_streams", Value::int(2))])),
            ("http", obj(&[("endpoint", Value::string("127.0.0.1:0")), ("idle_timeout", Value::string("300ms")), ("compression_algorithms", algorithms)])),
            ("output", obj(&[("traces", all)])),
        ]
    })
    .await;
    let proto = traces(1, 2).encode_to_vec();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&proto).unwrap();
    assert_eq!(http_post(r.http, "/v1/traces", "application/x-protobuf", Some("gzip"), gz.finish().unwrap()).await.0, 200);
    let zstd = crate::delivery::compression::Compression::parse("zstd").unwrap().unwrap().compress(&proto).unwrap();
    let (status, body) = http_post(r.http, "/v1/traces", "application/x-protobuf", Some("zstd"), zstd).await;
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&body).contains("unsupported Content-Encoding: zstd"));
    assert_eq!(http_post(r.http, "/v1/traces", "application/x-protobuf", None, proto).await.0, 200);

    let mut idle = tokio::net::TcpStream::connect(r.http).await.unwrap();
    let t = std::time::Instant::now();
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), idle.read(&mut buf)).await;
    assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "the idle connection was closed");
    assert!(t.elapsed() < std::time::Duration::from_secs(5), "{:?}", t.elapsed());
    // gRPC still serves, with its settings.
    grpc_send(r.grpc, valid()).await.unwrap();
    let _ = idle.write_all(b"x").await;
    r.stop.cancel();
}

/// A request abandoned by `write_timeout` while its data is on the way downstream: the
/// delivery is not cut off (it could be flushing other clients' batch).
#[tokio::test]
async fn a_request_cut_off_by_write_timeout_still_finishes_its_delivery() {
    struct Slow(Arc<Sink>);
    impl crate::otelcol::consumer::Consumer for Slow {
        fn consume(&self, data: Payload) -> crate::otelcol::consumer::ConsumeFuture<'_> {
            Box::pin(async move {
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                self.0.consume(data).await
            })
        }
    }
    let sink = Arc::new(Sink::default());
    let slow = crate::otelcol::consumer::ConsumerHandle::new("test.slow", Arc::new(Slow(sink.clone())));
    let r = start_with("otelcol.receiver.otlp.wt", |_| {
        vec![
            ("grpc", obj(&[("endpoint", Value::string("127.0.0.1:0"))])),
            ("http", obj(&[("endpoint", Value::string("127.0.0.1:0")), ("write_timeout", Value::string("100ms"))])),
            ("output", obj(&[("traces", Value::array(vec![slow.to_value()]))])),
        ]
    })
    .await;
    let sent = reqwest::Client::new()
        .post(format!("http://{}/v1/traces", r.http))
        .header("content-type", "application/x-protobuf")
        .body(valid().to_vec())
        .send()
        .await;
    assert!(sent.is_err(), "the response was not ready within write_timeout: {sent:?}");
    for _ in 0..200 {
        if sink.items() == 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(sink.items(), 3, "the delivery ran to its end");
    r.stop.cancel();
}
