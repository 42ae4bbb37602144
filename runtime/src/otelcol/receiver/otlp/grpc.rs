//! The OTLP/gRPC server. tonic does the gRPC framing, compression and size limit; the
//! messages stay encoded ([`RawCodec`]) so the generated prost services (which decode every
//! request) are not used.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use tokio_util::sync::CancellationToken;
use tonic::codec::CompressionEncoding;
use tonic::{Code, Status};

use super::{metadata_of, parse_endpoint, GrpcConfig, Ingest};
use crate::component::{BoxFuture, ComponentError};
use crate::otelcol::consumer::ConsumeError;
use crate::otelcol::grpc_codec::{export_path, RawCodec};
use crate::otelcol::pdata::{Payload, Signal};

struct State {
    config: GrpcConfig,
    ingest: Arc<Ingest>,
}

/// The status a refused request gets, as upstream maps consumer errors.
pub fn status_of(e: &ConsumeError) -> Status {
    match e {
        ConsumeError::Permanent(m) => Status::invalid_argument(m.clone()),
        ConsumeError::Unavailable(m) => Status::unavailable(m.clone()),
    }
}

#[derive(Clone)]
struct ExportMethod {
    state: Arc<State>,
    signal: Signal,
}

impl tonic::server::UnaryService<Bytes> for ExportMethod {
    type Response = Bytes;
    type Future = BoxFuture<Result<tonic::Response<Bytes>, Status>>;

    fn call(&mut self, request: tonic::Request<Bytes>) -> Self::Future {
        let (state, signal) = (self.state.clone(), self.signal);
        Box::pin(async move {
            let (metadata, _, body) = request.into_parts();
            let headers = metadata.into_headers();
            if let Some(auth) = &state.config.auth {
                auth.authenticate(&headers).map_err(|e| Status::unauthenticated(e.to_string()))?;
            }
            let payload = Payload::from_request(signal, body).map_err(|e| Status::invalid_argument(format!("malformed {} request: {e}", signal.name())))?;
            let payload = if state.config.include_metadata { payload.with_metadata(metadata_of(&headers)) } else { payload };
            state.ingest.deliver(payload).await.map_err(|e| status_of(&e))?;
            // An empty Export*ServiceResponse: no partial success to report.
            Ok(tonic::Response::new(Bytes::new()))
        })
    }
}

async fn export(state: Arc<State>, signal: Signal, req: axum::extract::Request) -> axum::response::Response {
    let limit = state.config.max_recv_msg_size;
    let mut grpc = tonic::server::Grpc::new(RawCodec)
        .accept_compressed(CompressionEncoding::Gzip)
        .accept_compressed(CompressionEncoding::Zstd)
        .send_compressed(CompressionEncoding::Gzip)
        .send_compressed(CompressionEncoding::Zstd)
        .max_decoding_message_size(limit);
    let mut res = grpc.unary(ExportMethod { state, signal }, req).await;
    // tonic reports an oversized message as OutOfRange; gRPC servers (and upstream) say
    // ResourceExhausted, which clients treat as "too big", not as a bug.
    let headers = res.headers_mut();
    if headers.get("grpc-status").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<i32>().ok()) == Some(Code::OutOfRange as i32)
        && headers.get("grpc-message").and_then(|v| v.to_str().ok()).is_some_and(|m| m.contains("too%20large") || m.contains("too large"))
    {
        headers.insert("grpc-status", (Code::ResourceExhausted as i32).into());
    }
    res.map(axum::body::Body::new)
}

fn tls_config(t: &crate::tls::TlsServer) -> tonic::transport::ServerTlsConfig {
    let mut c = tonic::transport::ServerTlsConfig::new().identity(tonic::transport::Identity::from_pem(&t.cert_pem, &t.key_pem));
    if let (Some(ca), Some(auth)) = (&t.client_ca_pem, t.client_auth) {
        c = c.client_ca_root(tonic::transport::Certificate::from_pem(ca)).client_auth_optional(auth.optional());
    }
    c
}

/// Binds the listener and returns its address and the serving future.
pub async fn serve(
    config: GrpcConfig,
    ingest: Arc<Ingest>,
    stop: CancellationToken,
) -> Result<(SocketAddr, BoxFuture<Result<(), ComponentError>>), ComponentError> {
    let addr = parse_endpoint(&config.endpoint)?;
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| ComponentError(format!("failed to listen on {addr} for OTLP/gRPC: {e}")))?;
    let local = listener.local_addr()?;
    let mut builder = tonic::transport::Server::builder();
    if let Some(t) = &config.tls {
        if t.tls13_only {
            return Err(ComponentError("min_version \"TLS13\" is not supported on this runtime's gRPC server (it offers TLS 1.2 and 1.3)".into()));
        }
        crate::tls::install_crypto_provider();
        builder = builder.tls_config(tls_config(t)).map_err(|e| ComponentError(format!("invalid gRPC TLS configuration: {e}")))?;
    }
    let state = Arc::new(State { config, ingest });
    let mut router = axum::Router::new();
    for signal in Signal::ALL {
        let state = state.clone();
        router = router.route(export_path(signal), axum::routing::post(move |req: axum::extract::Request| export(state.clone(), signal, req)));
    }
    let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
    let server = builder.add_routes(tonic::service::Routes::from(router)).serve_with_incoming_shutdown(incoming, stop.cancelled_owned());
    Ok((local, Box::pin(async move { server.await.map_err(|e| ComponentError(format!("OTLP/gRPC server failed: {e}"))) })))
}
