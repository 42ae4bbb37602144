//! `otelcol.exporter.otlp`: OTLP/gRPC client. The encoded payload is sent as the request
//! message as is ([`RawCodec`]); only the small response is decoded, for partial success.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use eval::Value;
use http::uri::PathAndQuery;
use prost::Message;
use tonic::codec::CompressionEncoding;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic::{Code, Status};

use super::pipeline::{Delivery, ExporterParts, NetworkExporter, SendFuture, Sender};
use crate::component::args::{decode_checked, types::Dur};
use crate::component::{Arguments, Component, ComponentError, Context, Reader, Registration};
use crate::delivery::retry::SendError;
use crate::otelcol::auth::AuthHandler;
use crate::otelcol::grpc_codec::{export_path, RawCodec};
use crate::otelcol::pdata::Payload;
use crate::tls::TlsClient;

/// Client settings shared by both OTLP exporters (read from their `client` block).
#[derive(Clone, Default)]
pub struct ClientCommon {
    pub endpoint: String,
    pub compression: String,
    pub headers: Vec<(http::HeaderName, http::HeaderValue)>,
    pub auth: Option<AuthHandler>,
    pub tls: TlsClient,
}

impl ClientCommon {
    /// Reads the fields both exporters' `client` blocks have.
    pub fn read(r: &mut Reader<'_>) -> ClientCommon {
        let headers: std::collections::BTreeMap<String, String> = r.get("headers");
        let mut parsed = Vec::with_capacity(headers.len());
        for (k, v) in headers {
            match (http::HeaderName::from_bytes(k.to_ascii_lowercase().as_bytes()), http::HeaderValue::from_str(&v)) {
                (Ok(name), Ok(value)) => parsed.push((name, value)),
                (Err(_), _) => r.error("headers", format!("invalid header name {k:?}")),
                (_, Err(_)) => r.error("headers", format!("invalid value for header {k:?}")),
            }
        }
        // The load-balancing exporter's client has no endpoint: its resolver supplies them.
        let endpoint = if r.has("endpoint") { r.get("endpoint") } else { String::new() };
        ClientCommon { endpoint, compression: r.get("compression"), headers: parsed, auth: r.opt("auth"), tls: r.block_or_default("tls") }
    }

    /// Static headers plus the auth extension's.
    pub fn request_headers(&self) -> Result<Vec<(http::HeaderName, http::HeaderValue)>, SendError> {
        let mut h = self.headers.clone();
        if let Some(a) = &self.auth {
            h.extend(a.client_headers().map_err(|e| SendError::permanent(format!("auth: {e}")))?);
        }
        Ok(h)
    }
}

struct GrpcSender {
    channel: Channel,
    common: ClientCommon,
    compression: Option<CompressionEncoding>,
    timeout: Duration,
}

/// Upstream's retry policy for gRPC codes: transient failures only; ResourceExhausted only
/// when the server says when to come back.
fn send_error(status: &Status) -> SendError {
    let retryable = match status.code() {
        Code::Cancelled | Code::DeadlineExceeded | Code::Aborted | Code::OutOfRange | Code::Unavailable | Code::DataLoss => true,
        Code::ResourceExhausted => !status.details().is_empty(),
        _ => false,
    };
    // A transport failure's cause (refused, reset, DNS) is in the status's source.
    let cause = std::error::Error::source(status).map(|e| format!(": {}", crate::error_chain::error_chain(e))).unwrap_or_default();
    let message = format!("rpc error: code = {:?} desc = {}{cause}", status.code(), status.message());
    SendError { message, retryable, retry_after: None }
}

fn partial_rejections(signal: crate::otelcol::pdata::Signal, body: &Bytes) -> Option<(i64, String)> {
    use opentelemetry_proto::tonic::collector::{logs::v1 as l, metrics::v1 as m, trace::v1 as t};
    match signal {
        crate::otelcol::pdata::Signal::Traces => {
            t::ExportTraceServiceResponse::decode(body.clone()).ok()?.partial_success.map(|p| (p.rejected_spans, p.error_message))
        }
        crate::otelcol::pdata::Signal::Metrics => {
            m::ExportMetricsServiceResponse::decode(body.clone()).ok()?.partial_success.map(|p| (p.rejected_data_points, p.error_message))
        }
        crate::otelcol::pdata::Signal::Logs => {
            l::ExportLogsServiceResponse::decode(body.clone()).ok()?.partial_success.map(|p| (p.rejected_log_records, p.error_message))
        }
    }
    .filter(|(n, _)| *n > 0)
}

impl Sender for GrpcSender {
    fn send<'a>(&'a self, data: &'a Payload) -> SendFuture<'a> {
        Box::pin(async move {
            let not_ready = |e: tonic::transport::Error| SendError::retryable(format!("connection not ready: {}", crate::error_chain::error_chain(&e)));
            let mut req = tonic::Request::new(());
            req.set_timeout(self.timeout);
            for (k, v) in self.common.request_headers()? {
                req.metadata_mut().as_mut().insert(k, v);
            }
            let (metadata, _, ()) = req.into_parts();
            let path = export_path(data.signal());
            let resp = match self.compression {
                // Uncompressed, a batch's buffers are written as they are.
                None => {
                    let mut channel = self.channel.clone();
                    super::grpc_unary::ready(&mut channel).await.map_err(not_ready)?;
                    super::grpc_unary::call(channel, path, metadata, data.segments()).await
                }
                Some(c) => {
                    let mut grpc = tonic::client::Grpc::new(self.channel.clone())
                        .send_compressed(c)
                        .accept_compressed(CompressionEncoding::Gzip)
                        .accept_compressed(CompressionEncoding::Zstd);
                    grpc.ready().await.map_err(not_ready)?;
                    let req = tonic::Request::from_parts(metadata, Default::default(), data.bytes());
                    grpc.unary(req, PathAndQuery::from_static(path), RawCodec).await.map(tonic::Response::into_inner)
                }
            }
            .map_err(|s| send_error(&s))?;
            if let Some((n, msg)) = partial_rejections(data.signal(), &resp) {
                // The server took the request but dropped some items: not retryable.
                return Err(SendError::permanent(format!("partial success: {n} items rejected: {msg}")));
            }
            Ok(())
        })
    }

    fn endpoint(&self) -> String {
        self.common.endpoint.clone()
    }
}

/// `host:port` gets a scheme from the TLS settings; an explicit scheme wins.
pub fn endpoint_uri(endpoint: &str, tls: &TlsClient) -> String {
    if endpoint.contains("://") {
        endpoint.to_string()
    } else if tls.insecure {
        format!("http://{endpoint}")
    } else {
        format!("https://{endpoint}")
    }
}

/// The `client` block.
#[derive(Default)]
pub struct GrpcClient {
    common: ClientCommon,
}

impl GrpcClient {
    fn compression(&self) -> Result<Option<CompressionEncoding>, String> {
        match self.common.compression.as_str() {
            "gzip" => Ok(Some(CompressionEncoding::Gzip)),
            "zstd" => Ok(Some(CompressionEncoding::Zstd)),
            "" | "none" => Ok(None),
            other => Err(format!("compression {other:?} is not supported by this runtime's OTLP/gRPC exporter: use \"gzip\", \"zstd\" or \"none\"")),
        }
    }

    /// The channel's endpoint with its TLS settings, not connected. The error names the
    /// field at fault. `system_roots` loads the system's trusted roots, which only a build
    /// needs (it reads the certificate store: too slow for `validate`'s every block).
    fn endpoint(&self, timeout: Duration, system_roots: bool) -> Result<Endpoint, (&'static str, String)> {
        let c = &self.common;
        let uri = endpoint_uri(&c.endpoint, &c.tls);
        let mut endpoint = Endpoint::from_shared(uri.clone()).map_err(|e| ("endpoint", format!("invalid endpoint {:?}: {e}", c.endpoint)))?;
        if uri.starts_with("https://") {
            if c.tls.insecure_skip_verify {
                let msg = "tls.insecure_skip_verify is not supported by this runtime; give the server's CA with ca_file or ca_pem";
                return Err(("tls.insecure_skip_verify", msg.into()));
            }
            crate::tls::install_crypto_provider();
            let mut tls = ClientTlsConfig::new();
            if system_roots {
                tls = tls.with_native_roots();
            }
            if let Some(ca) = &c.tls.ca_pem {
                tls = tls.ca_certificate(Certificate::from_pem(ca));
            }
            if let (Some(cert), Some(key)) = (&c.tls.cert_pem, &c.tls.key_pem) {
                tls = tls.identity(Identity::from_pem(cert, key));
            }
            if let Some(n) = &c.tls.server_name {
                tls = tls.domain_name(n.clone());
            }
            endpoint = endpoint.tls_config(tls).map_err(|e| ("tls", format!("invalid TLS configuration: {e}")))?;
        }
        Ok(endpoint.connect_timeout(timeout))
    }
}

impl Arguments for GrpcClient {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&["authority", "balancer_name", "keepalive", "read_buffer_size", "wait_for_ready", "write_buffer_size"]);
        GrpcClient { common: ClientCommon::read(r) }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        if let Err(e) = self.compression() {
            r.check(false, &["compression"], e);
        }
        if r.has("endpoint") {
            if let Err((at, e)) = self.endpoint(Duration::ZERO, false) {
                r.check(false, &[at], e);
            }
        }
    }
}

impl GrpcClient {
    /// A sender to `endpoint` (`host:port`) with these settings, connected lazily: the
    /// load-balancing exporter's backends.
    pub fn sender_to(&self, endpoint: &str, timeout: Duration) -> Result<Arc<dyn super::pipeline::Sender>, ComponentError> {
        let client = GrpcClient { common: ClientCommon { endpoint: endpoint.to_string(), ..self.common.clone() } };
        let compression = client.compression().map_err(ComponentError)?;
        let channel = client.endpoint(timeout, true).map_err(|(_, e)| ComponentError(e))?.connect_lazy();
        Ok(Arc::new(GrpcSender { channel, common: client.common, compression, timeout }))
    }
}

/// The component's arguments.
#[derive(Default)]
pub struct Args {
    timeout: Duration,
    client: GrpcClient,
    delivery: Delivery,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        Args { timeout: r.get::<Dur>("timeout").0, client: r.block_or_default("client"), delivery: Delivery::read(r) }
    }
}

const NAME: &str = "otelcol.exporter.otlp";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["input"], build);

pub fn make_sender(args: &Value) -> Result<ExporterParts, ComponentError> {
    let Args { timeout, client, delivery } = decode_checked(NAME, args)?;
    let compression = client.compression().map_err(ComponentError)?;
    let endpoint = client.endpoint(timeout, true).map_err(|(_, e)| ComponentError(e))?;
    // Lazy: a downstream that is down at start is retried, not a load error.
    let channel = endpoint.connect_lazy();
    let sender = Arc::new(GrpcSender { channel, common: client.common, compression, timeout });
    Ok(ExporterParts { sender, delivery })
}

pub fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    Ok(NetworkExporter::build(ctx, &args, make_sender)?)
}
