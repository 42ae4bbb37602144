//! The OTLP/gRPC server, and the unary gRPC server it is built on (also serving Jaeger's
//! `PostSpans`). tonic does the gRPC framing, compression and size limit; the messages stay
//! encoded ([`RawCodec`]) so the generated prost services (which decode every request) are
//! not used.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::HeaderMap;
use tokio_util::sync::CancellationToken;
use tonic::codec::CompressionEncoding;
use tonic::{Code, Status};

use super::{metadata_of, GrpcConfig, Ingest};
use crate::component::{BoxFuture, ComponentError};
use crate::otelcol::auth::AuthHandler;
use crate::otelcol::consumer::ConsumeError;
use crate::otelcol::grpc_codec::{export_path, RawCodec};
use crate::otelcol::pdata::{Payload, Signal};

/// The status a refused request gets, as upstream maps consumer errors.
pub fn status_of(e: &ConsumeError) -> Status {
    match e {
        ConsumeError::Permanent(m) => Status::invalid_argument(m.clone()),
        ConsumeError::Unavailable(m) => Status::unavailable(m.clone()),
    }
}

/// A unary method's work: the request's metadata and encoded message in, the encoded
/// response out. The server checks `auth` before calling it.
pub type UnaryHandler = Arc<dyn Fn(HeaderMap, Bytes) -> BoxFuture<Result<Bytes, Status>> + Send + Sync>;

#[derive(Clone)]
struct Method {
    auth: Option<AuthHandler>,
    handler: UnaryHandler,
}

impl tonic::server::UnaryService<Bytes> for Method {
    type Response = Bytes;
    type Future = BoxFuture<Result<tonic::Response<Bytes>, Status>>;

    fn call(&mut self, request: tonic::Request<Bytes>) -> Self::Future {
        let (auth, handler) = (self.auth.clone(), self.handler.clone());
        Box::pin(async move {
            let (metadata, _, body) = request.into_parts();
            let headers = metadata.into_headers();
            if let Some(auth) = &auth {
                auth.authenticate(&headers).map_err(|e| Status::unauthenticated(e.to_string()))?;
            }
            handler(headers, body).await.map(tonic::Response::new)
        })
    }
}

async fn unary(method: Method, limit: usize, req: axum::extract::Request) -> axum::response::Response {
    let mut grpc = tonic::server::Grpc::new(RawCodec)
        .accept_compressed(CompressionEncoding::Gzip)
        .accept_compressed(CompressionEncoding::Zstd)
        .send_compressed(CompressionEncoding::Gzip)
        .send_compressed(CompressionEncoding::Zstd)
        .max_decoding_message_size(limit);
    let mut res = grpc.unary(method, req).await;
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

/// The OTLP export method of `signal`: checked, counted and delivered as received.
fn export_handler(config: &GrpcConfig, ingest: Arc<Ingest>, signal: Signal) -> UnaryHandler {
    let include_metadata = config.include_metadata;
    Arc::new(move |headers, body| {
        let ingest = ingest.clone();
        Box::pin(async move {
            let payload = Payload::from_request(signal, body.clone()).map_err(|e| {
                ingest.refuse_malformed(signal, &body);
                Status::invalid_argument(format!("malformed {} request: {e}", signal.name()))
            })?;
            let payload = if include_metadata { payload.with_metadata(metadata_of(&headers)) } else { payload };
            ingest.deliver_detached(payload).await.map_err(|e| status_of(&e))?;
            // An empty Export*ServiceResponse: no partial success to report.
            Ok(Bytes::new())
        })
    })
}

/// Binds the listener and returns its address and the serving future.
pub async fn serve(
    config: GrpcConfig,
    ingest: Arc<Ingest>,
    stop: CancellationToken,
) -> Result<(SocketAddr, BoxFuture<Result<(), ComponentError>>), ComponentError> {
    let methods = Signal::ALL.into_iter().map(|signal| (export_path(signal), export_handler(&config, ingest.clone(), signal))).collect();
    serve_methods(&config, "OTLP/gRPC", methods, stop).await
}

/// A gRPC server of unary `methods` (path, handler) with the `grpc` block's endpoint, TLS,
/// `auth` and message size limit; `what` names it in errors. Returns the bound address and
/// the serving future.
pub async fn serve_methods(
    config: &GrpcConfig,
    what: &str,
    methods: Vec<(&'static str, UnaryHandler)>,
    stop: CancellationToken,
) -> Result<(SocketAddr, BoxFuture<Result<(), ComponentError>>), ComponentError> {
    let tls = match &config.tls {
        Some(t) => {
            crate::tls::install_crypto_provider();
            Some(crate::tls::server_config(t).map_err(|e| ComponentError(format!("invalid gRPC TLS configuration: {}", e.0)))?)
        }
        None => None,
    };
    let (listener, local) = crate::otelcol::receiver::bind(&config.endpoint, what).await?;
    let limit = config.max_recv_msg_size;
    let mut router = axum::Router::new();
    for (path, handler) in methods {
        let method = Method { auth: config.auth.clone(), handler };
        router = router.route(path, axum::routing::post(move |req: axum::extract::Request| unary(method.clone(), limit, req)));
    }
    // Unknown methods answer `Unimplemented`, as tonic's server does.
    let router = tonic::service::Routes::from(router).prepare().into_axum_router();
    // The same HTTP/2 server as the HTTP receivers, with gRPC-Go's connection limits.
    let serving = crate::otelcol::receiver::otlp::http::serve_router(listener, tls, router, config.limits.clone(), stop, what)?;
    Ok((local, serving))
}
