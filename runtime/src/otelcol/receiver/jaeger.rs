//! `otelcol.receiver.jaeger`: Jaeger's collector and agent protocols, each served when its
//! block under `protocols` is present, as upstream:
//!
//! - `grpc`: `jaeger.api_v2.CollectorService/PostSpans` ([`proto`]) on the unary gRPC server
//!   the OTLP receiver uses (TLS, `auth`, compression, `max_recv_msg_size`);
//! - `thrift_http`: `POST /api/traces` with a Thrift binary `Batch` body
//!   (`application/x-thrift` or `application/vnd.apache.thrift.binary`), answered 202
//!   ([`http`]);
//! - `thrift_compact` / `thrift_binary`: the agent's UDP ports, one `emitBatch` message per
//!   datagram ([`udp`]).
//!
//! Every protocol decodes into one [`model`] and is translated to OTLP by [`translate`].
//! A request that does not decode is refused (HTTP 400, gRPC `InvalidArgument`, a UDP packet
//! dropped) and counted in `otelcol_receiver_malformed_requests_total`.

mod http;
mod model;
mod proto;
#[cfg(test)]
mod tests;
mod thrift;
mod thrift_batch;
mod translate;
mod udp;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use eval::Value;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::otlp::grpc::{serve_methods, status_of, UnaryHandler};
use super::otlp::{metadata_of, GrpcConfig, HttpServerConfig, Ingest};
use crate::component::args::types::Bytes as ByteSize;
use crate::component::{Arguments, BoxFuture, Component, ComponentError, Context, HealthState, Reader, Registration};
use crate::metrics::Counter;
use crate::otelcol::consumer::{ConsumeError, Fanout, Output};
use crate::otelcol::pdata::{Metadata, Payload};

const NAME: &str = "otelcol.receiver.jaeger";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &[], build);

/// The `thrift_compact` and `thrift_binary` blocks (the agent's UDP servers).
#[derive(Clone, Debug, Default)]
pub struct UdpConfig {
    endpoint: String,
    queue_size: usize,
    max_packet_size: usize,
    workers: usize,
}

impl Arguments for UdpConfig {
    fn decode(r: &mut Reader<'_>) -> Self {
        // Setting SO_RCVBUF needs a socket option this runtime does not set yet.
        r.unsupported(&["socket_buffer_size"]);
        UdpConfig {
            endpoint: r.get("endpoint"),
            queue_size: r.get::<i64>("queue_size").max(0) as usize,
            max_packet_size: r.get::<ByteSize>("max_packet_size").0 as usize,
            workers: r.get::<i64>("workers").max(0) as usize,
        }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        super::check_endpoint(r, &self.endpoint);
        r.check(self.workers > 0, &["workers"], "workers must be greater than 0");
        r.check(self.max_packet_size > 0, &["max_packet_size"], "max_packet_size must be greater than 0");
    }
}

#[derive(Clone, Debug, Default)]
pub struct Protocols {
    grpc: Option<GrpcConfig>,
    thrift_http: Option<HttpServerConfig>,
    thrift_binary: Option<UdpConfig>,
    thrift_compact: Option<UdpConfig>,
}

impl Arguments for Protocols {
    fn decode(r: &mut Reader<'_>) -> Self {
        Protocols {
            grpc: r.block("grpc"),
            thrift_http: r.block("thrift_http"),
            thrift_binary: r.block("thrift_binary"),
            thrift_compact: r.block("thrift_compact"),
        }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        let any = self.grpc.is_some() || self.thrift_http.is_some() || self.thrift_binary.is_some() || self.thrift_compact.is_some();
        r.check(any, &[], "at least one protocol must be enabled");
    }
}

/// The component's arguments.
#[derive(Default)]
pub struct Args {
    protocols: Protocols,
    output: Output,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&["debug_metrics"]);
        Args { protocols: r.block_or_default("protocols"), output: r.block_or_default("output") }
    }
}

fn decode_args(args: &Value) -> Result<(Protocols, Output), ComponentError> {
    let a: Args = crate::component::args::decode_checked(NAME, args)?;
    Ok((a.protocols, a.output))
}

/// One transport's way into the pipeline: the receiver's counters under upstream's transport
/// name, and the count of requests refused because they did not decode.
pub(crate) struct Transport {
    ingest: Ingest,
    malformed: Counter,
}

impl Transport {
    fn new(ctx: &Context, fanout: Arc<Fanout>, transport: &str) -> Self {
        Transport {
            ingest: Ingest::new(ctx, fanout, "jaeger", transport),
            malformed: ctx.counter(
                "otelcol_receiver_malformed_requests",
                "Requests refused because they did not decode",
                &[("receiver", "jaeger"), ("transport", transport)],
            ),
        }
    }

    /// Counts a request that did not decode and passes its error on.
    fn malformed<E>(&self, e: E) -> E {
        self.malformed.add(1);
        e
    }

    /// Translates `batches` and sends the spans down the pipeline.
    async fn deliver(&self, batches: Vec<model::Batch>, metadata: Option<Metadata>) -> Result<(), ConsumeError> {
        let request = translate::to_request(batches);
        if request.resource_spans.is_empty() {
            return Ok(());
        }
        let payload = Payload::from_traces(&request);
        let payload = match metadata {
            Some(m) => payload.with_metadata(m),
            None => payload,
        };
        self.ingest.deliver(payload).await
    }
}

/// `PostSpans`: the batch decoded, translated and delivered; an empty response.
fn post_spans_handler(transport: Arc<Transport>, include_metadata: bool) -> UnaryHandler {
    Arc::new(move |headers, body| {
        let t = transport.clone();
        Box::pin(async move {
            let batch = proto::post_spans(&body).map_err(|e| t.malformed(tonic::Status::invalid_argument(format!("malformed PostSpans request: {e}"))))?;
            let metadata = include_metadata.then(|| metadata_of(&headers));
            t.deliver(vec![batch], metadata).await.map_err(|e| status_of(&e))?;
            Ok(Bytes::new())
        })
    })
}

/// The addresses the servers bound (for tests that listen on port 0).
#[derive(Clone, Copy, Debug, Default)]
pub struct Bound {
    pub grpc: Option<SocketAddr>,
    pub thrift_http: Option<SocketAddr>,
    pub thrift_binary: Option<SocketAddr>,
    pub thrift_compact: Option<SocketAddr>,
}

pub struct JaegerReceiver {
    ctx: Context,
    fanout: Arc<Fanout>,
    config: watch::Sender<Protocols>,
    pub bound: Mutex<Bound>,
}

pub fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    Ok(JaegerReceiver::new(ctx, &args)?)
}

impl JaegerReceiver {
    pub fn new(ctx: Context, args: &Value) -> Result<Arc<JaegerReceiver>, ComponentError> {
        let (config, output) = decode_args(args)?;
        Ok(Arc::new(JaegerReceiver {
            fanout: Arc::new(Fanout::new(output).tapped(&ctx)),
            ctx,
            config: watch::channel(config).0,
            bound: Mutex::new(Bound::default()),
        }))
    }

    fn transport(&self, name: &str) -> Arc<Transport> {
        Arc::new(Transport::new(&self.ctx, self.fanout.clone(), name))
    }

    fn set_bound(&self, f: impl FnOnce(&mut Bound)) {
        f(&mut self.bound.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// Runs the servers of one configuration until it changes or shutdown. Every transport's
    /// metrics are registered before the first server binds, so they appear together.
    async fn serve_config(&self, config: Protocols, stop: CancellationToken) -> Result<(), ComponentError> {
        let grpc = config.grpc.map(|g| (g, self.transport("grpc")));
        let thrift_http = config.thrift_http.map(|h| (h, self.transport("collector_http")));
        let udp_binary = config.thrift_binary.map(|u| (u, udp::Encoding::Binary, self.transport("udp_thrift_binary")));
        let udp_compact = config.thrift_compact.map(|u| (u, udp::Encoding::Compact, self.transport("udp_thrift_compact")));
        let udp_binary = udp_binary.map(|(u, e, t)| (u, e, udp::dropped_counter(&self.ctx, e), t));
        let udp_compact = udp_compact.map(|(u, e, t)| (u, e, udp::dropped_counter(&self.ctx, e), t));
        let mut servers = Vec::new();
        if let Some((g, transport)) = grpc {
            let handler = post_spans_handler(transport, g.include_metadata);
            let (addr, fut) = serve_methods(&g, "Jaeger gRPC", vec![(proto::POST_SPANS_PATH, handler)], stop.clone()).await?;
            self.set_bound(|b| b.grpc = Some(addr));
            servers.push(fut);
        }
        if let Some((h, transport)) = thrift_http {
            let (addr, fut) = http::serve(h, transport, stop.clone()).await?;
            self.set_bound(|b| b.thrift_http = Some(addr));
            servers.push(fut);
        }
        for (u, encoding, dropped, transport) in udp_binary.into_iter().chain(udp_compact) {
            let (addr, fut) = udp::serve(&self.ctx, u, encoding, dropped, transport, stop.clone()).await?;
            self.set_bound(|b| match encoding {
                udp::Encoding::Binary => b.thrift_binary = Some(addr),
                udp::Encoding::Compact => b.thrift_compact = Some(addr),
            });
            servers.push(fut);
        }
        self.ctx.set_health(HealthState::Healthy, "started");
        super::join_servers(servers, &stop).await
    }
}

impl Component for JaegerReceiver {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        super::apply(&self.fanout, &self.config, decode_args(&args)?);
        Ok(())
    }

    fn run(self: Arc<Self>, shutdown: CancellationToken) -> BoxFuture<Result<(), ComponentError>> {
        Box::pin(async move { super::serve_configs(&self.ctx, &self.config, shutdown, |c, stop| self.serve_config(c, stop)).await })
    }
}
