//! The paths under test, each started on the runtime it is called in: the raw gRPC
//! pass-through proxy, and the Alloy pipeline (with or without the transform processor);
//! also the sink they all send to.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use eval::{Object, Value};
use runtime::otelcol::consumer::ConsumerHandle;
use runtime::otelcol::grpc_codec::{export_path, RawCodec};
use runtime::otelcol::pdata::Signal;
use runtime::otelcol::{detached_context, exporter, processor, receiver};
use runtime::Component;
use tokio_util::sync::CancellationToken;

use crate::child::Batch;
use crate::load::{client, Sink};

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

async fn start_receiver(id: &str, output: &ConsumerHandle, stop: &CancellationToken) -> SocketAddr {
    let args =
        obj(&[("grpc", obj(&[("endpoint", Value::string("127.0.0.1:0")), ("max_recv_msg_size", Value::string("64MiB"))])), ("output", traces_output(output))]);
    let args = analyzer::args::with_defaults("otelcol.receiver.otlp", &args);
    let r = receiver::otlp::OtlpReceiver::new(detached_context(id), &args).expect("receiver");
    tokio::spawn(r.clone().run(stop.clone()));
    r.wait_bound(|(grpc, _)| grpc.is_some()).await.and_then(|(grpc, _)| grpc).expect("the receiver did not bind within 5 s")
}

/// The sink: an OTLP receiver counting spans.
pub async fn start_sink(sink: Arc<Sink>, stop: &CancellationToken) -> SocketAddr {
    start_receiver("otelcol.receiver.otlp.sink", &ConsumerHandle::new("sink", sink), stop).await
}

/// The baseline: a gRPC server that forwards each request's bytes to the sink over one
/// upstream connection, as a raw proxy would: no decoding, no checking, no batching.
pub async fn start_forwarder(sink: SocketAddr, stop: &CancellationToken) -> SocketAddr {
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
    // Without TCP_NODELAY (which gRPC servers set, as the receiver does) the responses would
    // wait for delayed ACKs and pace the proxy.
    let incoming = futures_util::StreamExt::map(tokio_stream::wrappers::TcpListenerStream::new(listener), |s| {
        s.inspect(|s| {
            let _ = s.set_nodelay(true);
        })
    });
    let server = tonic::transport::Server::builder()
        .add_routes(tonic::service::Routes::from(router))
        .serve_with_incoming_shutdown(incoming, stop.clone().cancelled_owned());
    tokio::spawn(server);
    addr
}

/// The transform processor's statements: set an attribute, delete a key, rename a span
/// under a condition.
const STATEMENTS: [&str; 3] = [
    r#"set(attributes["deployment.environment"], "production")"#,
    r#"delete_key(attributes, "user_agent.original")"#,
    r#"set(name, "GET /api/v1/items/{id}") where attributes["http.route"] == "/api/v1/items/{id}""#,
];

/// The pipeline under test, returning the receiver's address; with `transform`, the
/// transform processor runs before the batch processor.
pub async fn start_pipeline(sink: SocketAddr, stop: &CancellationToken, transform: bool, batch: &Batch) -> SocketAddr {
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
        ("send_batch_size", Value::int(batch.send_batch_size as i64)),
        ("send_batch_max_size", Value::int(0)),
        ("timeout", Value::string(format!("{}ms", batch.timeout_ms))),
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
