//! `otelcol.exporter.otlp`: OTLP/gRPC client. The encoded payload is sent as the request
//! message as is ([`RawCodec`]); only the small response is decoded, for partial success.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use eval::decode::StructDecoder;
use eval::Value;
use http::uri::PathAndQuery;
use prost::Message;
use tonic::codec::CompressionEncoding;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic::{Code, Status};

use super::pipeline::{NetworkExporter, SendFuture, Sender};
use super::retry::SendError;
use crate::component::{Component, ComponentError, Context, Registration};
use crate::otelcol::auth::AuthHandler;
use crate::otelcol::block;
use crate::otelcol::grpc_codec::{export_path, RawCodec};
use crate::otelcol::pdata::Payload;
use crate::tls::pem_or_file;

/// The client `tls` block (PEM material read at build).
#[derive(Clone, Debug, Default)]
pub struct TlsClient {
    pub insecure: bool,
    pub insecure_skip_verify: bool,
    pub ca_pem: Option<String>,
    pub cert_pem: Option<String>,
    pub key_pem: Option<String>,
    pub server_name: Option<String>,
}

impl TlsClient {
    pub fn decode(v: Option<&Value>) -> Result<TlsClient, ComponentError> {
        let Some(v) = v else { return Ok(TlsClient::default()) };
        let mut d = StructDecoder::new(v)?;
        Ok(TlsClient {
            insecure: d.optional("insecure")?.unwrap_or(false),
            insecure_skip_verify: d.optional("insecure_skip_verify")?.unwrap_or(false),
            ca_pem: pem_or_file(&mut d, "ca_pem", "ca_file")?,
            cert_pem: pem_or_file(&mut d, "cert_pem", "cert_file")?,
            key_pem: pem_or_file(&mut d, "key_pem", "key_file")?,
            server_name: d.optional::<String>("server_name")?.filter(|s| !s.is_empty()),
        })
    }
}

/// Client settings shared by both OTLP exporters.
pub struct ClientCommon {
    pub endpoint: String,
    pub compression: String,
    pub headers: Vec<(http::HeaderName, http::HeaderValue)>,
    pub auth: Option<AuthHandler>,
    pub tls: TlsClient,
}

impl ClientCommon {
    pub fn decode(client: &Value) -> Result<ClientCommon, ComponentError> {
        let mut d = StructDecoder::new(client)?;
        let endpoint: String = d.required("endpoint")?;
        let compression: String = d.optional("compression")?.unwrap_or_else(|| "gzip".into());
        let headers: std::collections::BTreeMap<String, String> = d.optional("headers")?.unwrap_or_default();
        let headers = headers
            .into_iter()
            .map(|(k, v)| {
                let name = http::HeaderName::from_bytes(k.to_ascii_lowercase().as_bytes()).map_err(|_| ComponentError(format!("invalid header name {k:?}")))?;
                let value = http::HeaderValue::from_str(&v).map_err(|_| ComponentError(format!("invalid value for header {k:?}")))?;
                Ok((name, value))
            })
            .collect::<Result<Vec<_>, ComponentError>>()?;
        let auth = AuthHandler::decode_optional(client.as_object().as_ref().and_then(|o| o.get("auth")))?;
        Ok(ClientCommon { endpoint, compression, headers, auth, tls: TlsClient::decode(block(client, "tls"))? })
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
    let message = format!("rpc error: code = {:?} desc = {}", status.code(), status.message());
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
            let mut grpc = tonic::client::Grpc::new(self.channel.clone());
            if let Some(c) = self.compression {
                grpc = grpc.send_compressed(c);
            }
            grpc = grpc.accept_compressed(CompressionEncoding::Gzip).accept_compressed(CompressionEncoding::Zstd);
            grpc.ready().await.map_err(|e| SendError::retryable(format!("connection not ready: {e}")))?;
            let mut req = tonic::Request::new(data.bytes().clone());
            req.set_timeout(self.timeout);
            for (k, v) in self.common.request_headers()? {
                req.metadata_mut().as_mut().insert(k, v);
            }
            let path = PathAndQuery::from_static(export_path(data.signal()));
            let resp = grpc.unary(req, path, RawCodec).await.map_err(|s| send_error(&s))?;
            if let Some((n, msg)) = partial_rejections(data.signal(), resp.get_ref()) {
                // The server took the request but dropped some items: not retryable.
                return Err(SendError::permanent(format!("partial success: {n} items rejected: {msg}")));
            }
            Ok(())
        })
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

/// Everything `make_sender` decides from the arguments, without connecting (`alloy
/// validate` runs this too).
struct Prepared {
    endpoint: Endpoint,
    common: ClientCommon,
    compression: Option<CompressionEncoding>,
    timeout: Duration,
}

pub fn make_sender(args: &Value) -> Result<Arc<dyn Sender>, ComponentError> {
    let Prepared { endpoint, common, compression, timeout } = prepare(args)?;
    // Lazy: a downstream that is down at start is retried, not a load error.
    let channel = endpoint.connect_timeout(timeout).connect_lazy();
    Ok(Arc::new(GrpcSender { channel, common, compression, timeout }))
}

fn prepare(args: &Value) -> Result<Prepared, ComponentError> {
    let mut d = StructDecoder::new(args)?;
    let timeout = d.optional::<eval::decode::Duration>("timeout")?.and_then(|t| t.to_std()).unwrap_or(Duration::from_secs(5));
    let client = block(args, "client").ok_or_else(|| ComponentError("missing required block \"client\"".into()))?;
    let common = ClientCommon::decode(client)?;
    let compression = match common.compression.as_str() {
        "gzip" => Some(CompressionEncoding::Gzip),
        "zstd" => Some(CompressionEncoding::Zstd),
        "" | "none" => None,
        other => {
            return Err(ComponentError(format!(
                "compression {other:?} is not supported by this runtime's OTLP/gRPC exporter: use \"gzip\", \"zstd\" or \"none\""
            )))
        }
    };
    let uri = endpoint_uri(&common.endpoint, &common.tls);
    let mut endpoint = Endpoint::from_shared(uri.clone()).map_err(|e| ComponentError(format!("invalid endpoint {:?}: {e}", common.endpoint)))?;
    if uri.starts_with("https://") {
        if common.tls.insecure_skip_verify {
            return Err(ComponentError("tls.insecure_skip_verify is not supported by this runtime; give the server's CA with ca_file or ca_pem".into()));
        }
        crate::tls::install_crypto_provider();
        let mut tls = ClientTlsConfig::new().with_native_roots();
        if let Some(ca) = &common.tls.ca_pem {
            tls = tls.ca_certificate(Certificate::from_pem(ca));
        }
        if let (Some(c), Some(k)) = (&common.tls.cert_pem, &common.tls.key_pem) {
            tls = tls.identity(Identity::from_pem(c, k));
        }
        if let Some(n) = &common.tls.server_name {
            tls = tls.domain_name(n.clone());
        }
        endpoint = endpoint.tls_config(tls).map_err(|e| ComponentError(format!("invalid TLS configuration: {e}")))?;
    }
    Ok(Prepared { endpoint, common, compression, timeout })
}

/// Checks everything the exporter reads, as a build would, without connecting.
fn check(args: &Value) -> Result<(), ComponentError> {
    prepare(args)?;
    super::pipeline::check_args(args)
}

crate::whole_arguments!(
    Args,
    (),
    check,
    [
        "timeout",
        "client.endpoint",
        "client.compression",
        "client.headers",
        "client.auth",
        "client.tls.insecure", "client.tls.insecure_skip_verify", "client.tls.ca_pem", "client.tls.ca_file", "client.tls.cert_pem", "client.tls.cert_file", "client.tls.key_pem", "client.tls.key_file", "client.tls.server_name",
        "sending_queue",
        "retry_on_failure"
    ],
    unsupported [
        "client.authority",
        "client.balancer_name",
        "client.keepalive",
        "client.read_buffer_size",
        "client.wait_for_ready",
        "client.write_buffer_size",
        "client.tls.cipher_suites", "client.tls.curve_preferences", "client.tls.include_insecure_cipher_suites", "client.tls.include_system_ca_certs_pool", "client.tls.max_version", "client.tls.min_version", "client.tls.reload_interval", "client.tls.tpm",
        "debug_metrics"
    ]
);

pub const REGISTRATION: Registration = Registration::component::<Args>("otelcol.exporter.otlp", &["input"], build);

pub fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    Ok(NetworkExporter::build(ctx, &args, make_sender)?)
}
