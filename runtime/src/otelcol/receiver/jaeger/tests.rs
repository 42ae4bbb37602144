//! Batches decoded from bytes Apache Thrift's Python library wrote, malformed input, and the
//! servers on loopback.

use crate::otelcol::receiver::obj;
use bytes::Bytes;
use tonic::Code;

use super::model::{span_id, trace_id, Batch, Log, Process, RefType, Span, SpanRef, Tag, TagValue};
use super::thrift::{Binary, Compact, ThriftError};
use super::*;
use crate::otelcol::consumer::tests::{sink_handle, Sink};
use crate::otelcol::grpc_codec::RawCodec;

/// A `Batch` as `TBinaryProtocol` writes it (thrift 0.25, the Jaeger IDL's Python classes).
const BINARY_BATCH: &str = "0c00010b0001000000037376630f00020c000000020b000100000008686f73746e616d65080002000000000b0003000000026831000b0001000000016e080002000000030a0006000000000000000700000f00020c000000010a000100000000000000020a000200000000000000010a000300000000000000030a000400000000000000000b0005000000026f700f00060c00000001080001000000010a000200000000000000090a000300000000000000080a0004000000000000000500080007000000010a000800060a24181e40000a000900000000000005dc0f000a0c000000040b0001000000097370616e2e6b696e64080002000000000b000300000006736572766572000b0001000000056572726f720800020000000202000501000b000100000002706908000200000001040004c00c000000000000000b00010000000362696e080002000000040b00070000000200ff000f000b0c000000010a000100060a24181e40640f00020c000000020b0001000000056576656e74080002000000000b0003000000057265747279000b000100000007617474656d7074080002000000030a0006fffffffffffffffe00000000";
/// The same batch in the agent's one-way `emitBatch` message, compact and binary.
const COMPACT_EMIT_BATCH: &str = "82810009656d697442617463681c1c1803737663192c1808686f73746e616d651500180268310018016e1506460e0000191c160416021606160018026f70191c150216121610160a001502168080f2818389850616b817194c18097370616e2e6b696e64150018067365727665720018056572726f7215043100180270691502270000000000000cc000180362696e1508580200ff00191c16c881f28183898506192c18056576656e74150018057265747279001807617474656d7074150646030000000000";
const BINARY_EMIT_BATCH: &str = "8001000400000009656d69744261746368000000000c00010c00010b0001000000037376630f00020c000000020b000100000008686f73746e616d65080002000000000b0003000000026831000b0001000000016e080002000000030a0006000000000000000700000f00020c000000010a000100000000000000020a000200000000000000010a000300000000000000030a000400000000000000000b0005000000026f700f00060c00000001080001000000010a000200000000000000090a000300000000000000080a0004000000000000000500080007000000010a000800060a24181e40000a000900000000000005dc0f000a0c000000040b0001000000097370616e2e6b696e64080002000000000b000300000006736572766572000b0001000000056572726f720800020000000202000501000b000100000002706908000200000001040004c00c000000000000000b00010000000362696e080002000000040b00070000000200ff000f000b0c000000010a000100060a24181e40640f00020c000000020b0001000000056576656e74080002000000000b0003000000057265747279000b000100000007617474656d7074080002000000030a0006fffffffffffffffe0000000000";

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn tag(k: &str, v: TagValue) -> Tag {
    Tag { key: k.into(), value: v }
}

/// What the three encodings above carry.
fn expected() -> Batch {
    Batch {
        process: Some(Process { service_name: "svc".into(), tags: vec![tag("hostname", TagValue::Str("h1".into())), tag("n", TagValue::Long(7))] }),
        spans: vec![Span {
            trace_id: trace_id(1, 2),
            span_id: span_id(3),
            parent_span_id: [0; 8],
            operation_name: "op".into(),
            references: vec![SpanRef { ref_type: RefType::FollowsFrom, trace_id: trace_id(8, 9), span_id: span_id(5) }],
            flags: 1,
            start_unix_nano: 1_700_000_000_000_000_000,
            end_unix_nano: 1_700_000_000_001_500_000,
            tags: vec![
                tag("span.kind", TagValue::Str("server".into())),
                tag("error", TagValue::Bool(true)),
                tag("pi", TagValue::Double(-3.5)),
                tag("bin", TagValue::Binary(vec![0, 255])),
            ],
            logs: vec![Log {
                unix_nano: 1_700_000_000_000_100_000,
                fields: vec![tag("event", TagValue::Str("retry".into())), tag("attempt", TagValue::Long(-2))],
            }],
            process: None,
        }],
    }
}

#[test]
fn thrift_batches_from_apache_thrift_decode_in_both_protocols() {
    assert_eq!(thrift_batch::batch(&mut Binary::new(&unhex(BINARY_BATCH))).unwrap(), expected());
    assert_eq!(thrift_batch::agent_message(&mut Compact::new(&unhex(COMPACT_EMIT_BATCH))).unwrap(), expected());
    assert_eq!(thrift_batch::agent_message(&mut Binary::new(&unhex(BINARY_EMIT_BATCH))).unwrap(), expected());
}

#[test]
fn every_truncation_and_corruption_is_an_error_not_a_panic() {
    for (name, full) in [("binary", unhex(BINARY_BATCH)), ("compact", unhex(COMPACT_EMIT_BATCH))] {
        for n in 0..full.len() - 1 {
            let cut = &full[..n];
            let r = if name == "binary" { thrift_batch::batch(&mut Binary::new(cut)) } else { thrift_batch::agent_message(&mut Compact::new(cut)) };
            assert!(r.is_err(), "{name} cut at {n} decoded");
        }
        // Every byte flipped in turn: decoding may succeed or fail, never panic or hang.
        for i in 0..full.len() {
            let mut bad = full.clone();
            bad[i] ^= 0xa5;
            let _ = thrift_batch::batch(&mut Binary::new(&bad));
            let _ = thrift_batch::agent_message(&mut Compact::new(&bad));
        }
    }
}

#[test]
fn missing_required_fields_and_wrong_methods_are_named() {
    // A batch whose process has no service name: struct { 1: struct {} , 2: list<struct> [] }.
    let no_service = [12, 0, 1, 0, 15, 0, 2, 12, 0, 0, 0, 0, 0];
    let e = thrift_batch::batch(&mut Binary::new(&no_service)).unwrap_err();
    assert_eq!(e.to_string(), "required field Process.serviceName is not set");
    // Field 1 of the wrong type is skipped, so the process is then missing.
    let wrong_type = [8, 0, 1, 0, 0, 0, 1, 15, 0, 2, 12, 0, 0, 0, 0, 0];
    assert_eq!(thrift_batch::batch(&mut Binary::new(&wrong_type)).unwrap_err().to_string(), "required field Batch.process is not set");
    let zipkin = [0x82, 0x81, 0, 15, b'e', b'm', b'i', b't', b'Z', b'i', b'p', b'k', b'i', b'n', b'B', b'a', b't', b'c', b'h'];
    assert!(matches!(thrift_batch::agent_message(&mut Compact::new(&zipkin)), Err(ThriftError::Invalid(m)) if m.contains("emitZipkinBatch")));
}

#[test]
fn protobuf_batches_decode_and_bad_ids_are_refused() {
    let mut b = expected();
    b.spans[0].references[0].ref_type = RefType::ChildOf;
    b.spans[0].process = Some(Process { service_name: "own".into(), tags: vec![] });
    assert_eq!(proto::post_spans(&proto::encode_for_test::post_spans(&b)).unwrap(), b);
    assert!(proto::post_spans(b"\x0a\x05\x0a\x03\x0a\x01\x07").unwrap_err().contains("span 0: trace_id has 1 bytes, expected 16"));
    assert!(proto::post_spans(b"\x0a\xff\xff").unwrap_err().contains("invalid protobuf"));
    assert_eq!(proto::post_spans(b"").unwrap(), Batch::default(), "an empty request is an empty batch");
}

struct Running {
    receiver: Arc<JaegerReceiver>,
    sink: Arc<Sink>,
    bound: Bound,
    stop: CancellationToken,
}

fn local() -> Value {
    obj(&[("endpoint", Value::string("127.0.0.1:0"))])
}

async fn start() -> Running {
    let (sink, handle) = sink_handle();
    let protocols = obj(&[("grpc", local()), ("thrift_http", local()), ("thrift_compact", local()), ("thrift_binary", local())]);
    let args = obj(&[("protocols", protocols), ("output", obj(&[("traces", Value::array(vec![handle.to_value()]))]))]);
    let args = analyzer::args::with_defaults(NAME, &args);
    let receiver = JaegerReceiver::new(crate::otelcol::detached_context("otelcol.receiver.jaeger.t"), &args).unwrap();
    let stop = CancellationToken::new();
    tokio::spawn(receiver.clone().run(stop.clone()));
    for _ in 0..500 {
        let bound = *receiver.bound.lock().unwrap();
        if bound.grpc.is_some() && bound.thrift_http.is_some() && bound.thrift_compact.is_some() && bound.thrift_binary.is_some() {
            return Running { receiver, sink, bound, stop };
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the receiver did not bind");
}

impl Running {
    fn counter(&self, name: &str, transport: &str) -> u64 {
        self.receiver.ctx.counter(name, "", &[("receiver", "jaeger"), ("transport", transport)]).get()
    }

    /// The service names and span names received so far.
    fn received(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for p in self.sink.received.lock().unwrap().iter() {
            for rs in p.decode_traces().unwrap().resource_spans {
                let service = rs.resource.iter().flat_map(|r| &r.attributes).find(|a| a.key == "service.name").map(|a| format!("{:?}", a.value));
                for ss in rs.scope_spans {
                    out.extend(ss.spans.into_iter().map(|s| (service.clone().unwrap_or_default(), s.name)));
                }
            }
        }
        out
    }

    async fn wait_items(&self, n: usize) {
        for _ in 0..500 {
            if self.sink.items() >= n {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("{n} spans did not arrive, got {}", self.sink.items());
    }
}

async fn post(addr: SocketAddr, path: &str, content_type: Option<&str>, body: Vec<u8>) -> (u16, String) {
    let mut req = reqwest::Client::new().post(format!("http://{addr}{path}")).body(body);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test]
async fn thrift_http_takes_binary_batches_and_refuses_what_it_cannot_read() {
    let r = start().await;
    let addr = r.bound.thrift_http.unwrap();
    assert_eq!(post(addr, "/api/traces", Some("application/x-thrift"), unhex(BINARY_BATCH)).await, (202, String::new()));
    assert_eq!(post(addr, "/api/traces", Some("application/vnd.apache.thrift.binary; charset=x"), unhex(BINARY_BATCH)).await.0, 202);
    assert_eq!(r.sink.items(), 2);
    let sp = &r.sink.received.lock().unwrap()[0].decode_traces().unwrap().resource_spans[0].scope_spans[0].spans[0];
    assert_eq!((sp.name.as_str(), sp.kind, sp.start_time_unix_nano), ("op", 2, 1_700_000_000_000_000_000));

    let (status, text) = post(addr, "/api/traces", Some("application/json"), b"[]".to_vec()).await;
    assert_eq!((status, text.as_str()), (400, "Unsupported content type: application/json"));
    assert_eq!(post(addr, "/api/traces", None, unhex(BINARY_BATCH)).await.0, 400);
    let cut = unhex(BINARY_BATCH)[..40].to_vec();
    let (status, text) = post(addr, "/api/traces", Some("application/x-thrift"), cut).await;
    assert_eq!(status, 400);
    assert!(text.starts_with("Unable to process request body: "), "{text}");
    assert_eq!(post(addr, "/api/other", Some("application/x-thrift"), unhex(BINARY_BATCH)).await.0, 404);
    assert_eq!(r.counter("otelcol_receiver_malformed_requests", "collector_http"), 3);
    assert_eq!(r.counter("otelcol_receiver_accepted_spans", "collector_http"), 2);

    *r.sink.refuse.lock().unwrap() = Some(ConsumeError::Unavailable("queue full".into()));
    let (status, text) = post(addr, "/api/traces", Some("application/x-thrift"), unhex(BINARY_BATCH)).await;
    assert_eq!((status, text.as_str()), (503, "Cannot submit Jaeger batch: queue full"));
    assert_eq!(r.counter("otelcol_receiver_refused_spans", "collector_http"), 1);
    r.stop.cancel();
}

async fn post_spans(addr: SocketAddr, body: Vec<u8>) -> Result<Bytes, tonic::Status> {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}")).unwrap().connect().await.unwrap();
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let path = ::http::uri::PathAndQuery::from_static(proto::POST_SPANS_PATH);
    grpc.unary::<Bytes, Bytes, _>(tonic::Request::new(Bytes::from(body)), path, RawCodec).await.map(|r| r.into_inner())
}

#[tokio::test]
async fn grpc_post_spans_regroups_processes_and_refuses_malformed_requests() {
    let r = start().await;
    let addr = r.bound.grpc.unwrap();
    let mut b = expected();
    let mut own = b.spans[0].clone();
    own.operation_name = "elsewhere".into();
    own.process = Some(Process { service_name: "other".into(), tags: vec![] });
    b.spans.push(own);
    assert_eq!(post_spans(addr, proto::encode_for_test::post_spans(&b)).await.unwrap(), Bytes::new(), "an empty PostSpansResponse");
    assert_eq!(
        r.received(),
        [
            ("Some(AnyValue { value: Some(StringValue(\"svc\")) })".to_string(), "op".to_string()),
            ("Some(AnyValue { value: Some(StringValue(\"other\")) })".to_string(), "elsewhere".to_string())
        ]
    );
    let e = post_spans(addr, b"\x0a\x05\x0a\x03\x0a\x01\x07".to_vec()).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().contains("trace_id has 1 bytes"), "{e:?}");
    assert_eq!(r.counter("otelcol_receiver_malformed_requests", "grpc"), 1);
    assert_eq!(r.counter("otelcol_receiver_accepted_spans", "grpc"), 2);
    *r.sink.refuse.lock().unwrap() = Some(ConsumeError::Unavailable("queue full".into()));
    assert_eq!(post_spans(addr, proto::encode_for_test::post_spans(&b)).await.unwrap_err().code(), Code::Unavailable);
    r.stop.cancel();
}

#[tokio::test]
async fn the_agent_ports_take_one_emit_batch_per_datagram() {
    let r = start().await;
    let client = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    client.send_to(&unhex(COMPACT_EMIT_BATCH), r.bound.thrift_compact.unwrap()).await.unwrap();
    client.send_to(&unhex(BINARY_EMIT_BATCH), r.bound.thrift_binary.unwrap()).await.unwrap();
    r.wait_items(2).await;
    assert_eq!(r.counter("otelcol_receiver_accepted_spans", "udp_thrift_compact"), 1);
    assert_eq!(r.counter("otelcol_receiver_accepted_spans", "udp_thrift_binary"), 1);
    // A binary packet on the compact port does not decode; the server keeps serving.
    client.send_to(&unhex(BINARY_EMIT_BATCH), r.bound.thrift_compact.unwrap()).await.unwrap();
    client.send_to(&unhex(COMPACT_EMIT_BATCH), r.bound.thrift_compact.unwrap()).await.unwrap();
    r.wait_items(3).await;
    assert_eq!(r.counter("otelcol_receiver_malformed_requests", "udp_thrift_compact"), 1);
    r.stop.cancel();
}

#[test]
fn arguments_need_a_protocol_and_refuse_what_is_not_implemented() {
    let check = |protocols: Value| {
        let args = obj(&[("protocols", protocols), ("output", obj(&[]))]);
        crate::component::args::check::<Args>(NAME, &analyzer::args::with_defaults(NAME, &args))
            .iter()
            .map(crate::component::args::describe)
            .collect::<Vec<_>>()
    };
    assert_eq!(check(obj(&[])), ["protocols: at least one protocol must be enabled"]);
    let udp = obj(&[("socket_buffer_size", Value::string("1MiB"))]);
    assert!(check(obj(&[("thrift_compact", udp)]))[0].contains("argument \"socket_buffer_size\" is not supported by this runtime yet"));
    let workers = obj(&[("workers", Value::from(0i64))]);
    assert!(check(obj(&[("thrift_binary", workers)]))[0].contains("workers must be greater than 0"));
    let bad = obj(&[("endpoint", Value::string("nowhere"))]);
    assert!(check(obj(&[("thrift_http", bad)]))[0].contains("invalid endpoint"));
    assert!(check(obj(&[("grpc", local()), ("thrift_http", local())])).is_empty());
}
