//! Spans per second through `otelcol.receiver.otlp` → `otelcol.processor.batch` →
//! `otelcol.exporter.otlp` → a gRPC sink, against a baseline that forwards the same gRPC
//! requests to the same sink without looking at them, and through the same pipeline with
//! `otelcol.processor.transform` in front of the batch processor running three typical
//! statements (set an attribute, delete a key, rename a span under a condition). Everything
//! runs in this process on loopback; the load generator sends one pre-encoded request (100
//! spans with attributes) over several concurrent streams.
//!
//! `cargo bench -p alloy-runtime --bench otlp_throughput` (env: SECONDS=10, CONCURRENCY=8)

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use eval::{Object, Value};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use runtime::otelcol::consumer::{ConsumeFuture, Consumer, ConsumerHandle};
use runtime::otelcol::grpc_codec::{export_path, RawCodec};
use runtime::otelcol::pdata::{Payload, Signal};
use runtime::otelcol::{detached_context, exporter, processor, receiver};
use runtime::Component;
use tokio_util::sync::CancellationToken;

const SPANS_PER_REQUEST: usize = 100;

fn request() -> Bytes {
    let attr =
        |k: &str, v: &str| KeyValue { key: k.into(), value: Some(AnyValue { value: Some(any_value::Value::StringValue(v.into())) }), ..Default::default() };
    let spans = (0..SPANS_PER_REQUEST)
        .map(|i| Span {
            trace_id: (0..16).map(|b| (b * 7 + i) as u8).collect(),
            span_id: (0..8).map(|b| (b * 3 + i) as u8).collect(),
            name: format!("GET /api/v1/items/{i}"),
            kind: 2,
            start_time_unix_nano: 1_700_000_000_000_000_000 + i as u64,
            end_time_unix_nano: 1_700_000_000_100_000_000 + i as u64,
            attributes: vec![
                attr("http.method", "GET"),
                attr("http.route", "/api/v1/items/{id}"),
                attr("http.status_code", "200"),
                attr("net.peer.name", "10.0.0.1"),
                attr("user_agent.original", "bench/1.0"),
            ],
            ..Default::default()
        })
        .collect();
    let req = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource { attributes: vec![attr("service.name", "bench"), attr("host.name", "bench-host")], ..Default::default() }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope { name: "bench".into(), ..Default::default() }),
                spans,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    };
    Bytes::from(req.encode_to_vec())
}

fn obj(pairs: &[(&str, Value)]) -> Value {
    let mut o = Object::new();
    for (k, v) in pairs {
        o.insert(*k, v.clone());
    }
    Value::object(o)
}

fn traces_output(to: &ConsumerHandle) -> Value {
    obj(&[("traces", Value::array(vec![to.to_value()]))])
}

/// Counts spans reaching the sink.
struct Counter(AtomicU64);

impl Consumer for Counter {
    fn consume(&self, data: Payload) -> ConsumeFuture<'_> {
        self.0.fetch_add(data.items() as u64, Ordering::Relaxed);
        Box::pin(async { Ok(()) })
    }
}

async fn start_receiver(id: &str, output: &ConsumerHandle, stop: &CancellationToken) -> SocketAddr {
    let args =
        obj(&[("grpc", obj(&[("endpoint", Value::string("127.0.0.1:0")), ("max_recv_msg_size", Value::string("64MiB"))])), ("output", traces_output(output))]);
    let args = analyzer::args::with_defaults("otelcol.receiver.otlp", &args);
    let r = receiver::otlp::OtlpReceiver::new(detached_context(id), &args).expect("receiver");
    tokio::spawn(r.clone().run(stop.clone()));
    r.wait_bound(|(grpc, _)| grpc.is_some()).await.and_then(|(grpc, _)| grpc).expect("the receiver did not bind within 5 s")
}

async fn client(addr: SocketAddr) -> tonic::client::Grpc<tonic::transport::Channel> {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}")).expect("uri").connect().await.expect("connect");
    tonic::client::Grpc::new(channel)
}

/// The baseline: a gRPC server that forwards each request's bytes to the sink unchanged.
async fn start_forwarder(sink: SocketAddr, stop: &CancellationToken) -> SocketAddr {
    let upstream = client(sink).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    #[derive(Clone)]
    struct Forward(tonic::client::Grpc<tonic::transport::Channel>);
    impl tonic::server::UnaryService<Bytes> for Forward {
        type Response = Bytes;
        type Future = runtime::BoxFuture<Result<tonic::Response<Bytes>, tonic::Status>>;
        fn call(&mut self, req: tonic::Request<Bytes>) -> Self::Future {
            let mut up = self.0.clone();
            Box::pin(async move {
                up.ready().await.map_err(|e| tonic::Status::unavailable(e.to_string()))?;
                let path = http::uri::PathAndQuery::from_static(export_path(Signal::Traces));
                up.unary(tonic::Request::new(req.into_inner()), path, RawCodec).await
            })
        }
    }
    let router = axum::Router::new().route(
        export_path(Signal::Traces),
        axum::routing::post(move |req: axum::extract::Request| {
            let fwd = Forward(upstream.clone());
            async move { tonic::server::Grpc::new(RawCodec).max_decoding_message_size(64 << 20).unary(fwd, req).await.map(axum::body::Body::new) }
        }),
    );
    let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
    let server = tonic::transport::Server::builder()
        .add_routes(tonic::service::Routes::from(router))
        .serve_with_incoming_shutdown(incoming, stop.clone().cancelled_owned());
    tokio::spawn(server);
    addr
}

/// The transform processor's statements: the three of the benchmark's description.
const STATEMENTS: [&str; 3] = [
    r#"set(attributes["deployment.environment"], "production")"#,
    r#"delete_key(attributes, "user_agent.original")"#,
    r#"set(name, "GET /api/v1/items/{id}") where attributes["http.route"] == "/api/v1/items/{id}""#,
];

/// The pipeline under test, returning the receiver's address; with `transform`, the
/// transform processor runs before the batch processor.
async fn start_pipeline(sink: SocketAddr, stop: &CancellationToken, transform: bool) -> SocketAddr {
    let exporter_args = obj(&[(
        "client",
        obj(&[
            ("endpoint", Value::string(format!("127.0.0.1:{}", sink.port()))),
            ("compression", Value::string("none")),
            ("tls", obj(&[("insecure", Value::Bool(true))])),
        ]),
    )]);
    let exporter_args = analyzer::args::with_defaults("otelcol.exporter.otlp", &exporter_args);
    let exp = exporter::pipeline::NetworkExporter::build(detached_context("otelcol.exporter.otlp.bench"), &exporter_args, exporter::otlp::make_sender)
        .expect("exporter");
    tokio::spawn(exp.clone().run(stop.clone()));
    let exp_input = ConsumerHandle::new("otelcol.exporter.otlp.bench", exp.pipeline().clone());
    let batch_args = obj(&[
        ("send_batch_size", Value::int(8192)),
        ("send_batch_max_size", Value::int(0)),
        ("timeout", Value::string("200ms")),
        ("output", traces_output(&exp_input)),
    ]);
    let batch_args = analyzer::args::with_defaults("otelcol.processor.batch", &batch_args);
    let batch = processor::batch::BatchProcessor::new(detached_context("otelcol.processor.batch.bench"), &batch_args).expect("batch");
    tokio::spawn(batch.clone().run(stop.clone()));
    if !transform {
        return start_receiver("otelcol.receiver.otlp.bench", &batch.input(), stop).await;
    }
    let statements = Value::array(STATEMENTS.iter().map(|s| Value::string(*s)).collect());
    let transform_args = obj(&[
        ("trace_statements", Value::array(vec![obj(&[("context", Value::string("span")), ("statements", statements)])])),
        ("output", traces_output(&batch.input())),
    ]);
    let transform_args = analyzer::args::with_defaults("otelcol.processor.transform", &transform_args);
    let t = processor::transform::TransformProcessor::new(detached_context("otelcol.processor.transform.bench"), &transform_args).expect("transform");
    start_receiver("otelcol.receiver.otlp.bench.t", &t.input(), stop).await
}

/// Process CPU time (user + system), in seconds.
fn cpu_seconds() -> f64 {
    runtime::process::cpu_seconds().unwrap_or(0.0)
}

/// Drives `target` for `seconds` and returns (spans/s at the sink, spans per CPU-second).
async fn measure(name: &str, target: SocketAddr, sink: &Arc<Counter>, seconds: u64, concurrency: usize) -> (f64, f64) {
    let body = request();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let mut c = client(target).await;
        let (body, stop) = (body.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                if c.ready().await.is_err() {
                    break;
                }
                let path = http::uri::PathAndQuery::from_static(export_path(Signal::Traces));
                if c.unary::<Bytes, Bytes, _>(tonic::Request::new(body.clone()), path, RawCodec).await.is_err() {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
        }));
    }
    // Warm up, then measure a window.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (start_spans, start_cpu, start) = (sink.0.load(Ordering::Relaxed), cpu_seconds(), Instant::now());
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let (spans, cpu, secs) = (sink.0.load(Ordering::Relaxed) - start_spans, cpu_seconds() - start_cpu, start.elapsed().as_secs_f64());
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rate = spans as f64 / secs;
    let per_cpu = if cpu > 0.0 { spans as f64 / cpu } else { f64::NAN };
    println!("{name:<9} {rate:>12.0} spans/s   {cpu:>6.2} CPU-s over {secs:.1} s   {per_cpu:>12.0} spans per CPU-second (whole process: load generator, pipeline and sink)");
    (rate, per_cpu)
}

fn main() {
    let seconds: u64 = std::env::var("SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(10);
    let concurrency: usize = std::env::var("CONCURRENCY").ok().and_then(|s| s.parse().ok()).unwrap_or(8);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let stop = CancellationToken::new();
        let counter = Arc::new(Counter(AtomicU64::new(0)));
        let sink = start_receiver("otelcol.receiver.otlp.sink", &ConsumerHandle::new("sink", counter.clone()), &stop).await;
        let forwarder = start_forwarder(sink, &stop).await;
        let pipeline = start_pipeline(sink, &stop, false).await;
        let transformed = start_pipeline(sink, &stop, true).await;
        println!(
            "{} cores, {SPANS_PER_REQUEST} spans/request ({} bytes), {concurrency} concurrent streams, {seconds} s per run",
            std::thread::available_parallelism().map_or(0, |n| n.get()),
            request().len()
        );
        let (base, _) = measure("baseline", forwarder, &counter, seconds, concurrency).await;
        let (pipe, pipe_cpu) = measure("pipeline", pipeline, &counter, seconds, concurrency).await;
        let (_, transform_cpu) = measure("transform", transformed, &counter, seconds, concurrency).await;
        println!("pipeline / baseline = {:.0}%", 100.0 * pipe / base);
        println!("transform / pipeline = {:.0}% of the spans per CPU-second", 100.0 * transform_cpu / pipe_cpu);
        stop.cancel();
    });
}
