//! The `thrift_http` collector endpoint: `POST /api/traces` with a Thrift binary `Batch`,
//! optionally compressed, answered as the Jaeger collector answers: 202 with no body, 400
//! for a body or content type it cannot take (`Unsupported content type: …`, `Unable to
//! process request body: …`), 413 over `max_request_body_size`, 503 when the pipeline is
//! full.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use http::{header, HeaderMap, StatusCode};
use tokio_util::sync::CancellationToken;

use super::thrift::Binary;
use super::{thrift_batch, Transport};
use crate::component::{BoxFuture, ComponentError};
use crate::otelcol::consumer::ConsumeError;
use crate::otelcol::receiver::otlp::http::{read_limited, serve_router};
use crate::otelcol::receiver::otlp::{metadata_of, HttpServerConfig};

/// The content types the collector takes a Thrift batch in.
const THRIFT_TYPES: [&str; 2] = ["application/x-thrift", "application/vnd.apache.thrift.binary"];

struct State {
    config: HttpServerConfig,
    transport: Arc<Transport>,
}

fn reply(status: StatusCode, message: impl Into<String>) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], message.into()).into_response()
}

/// The media type without parameters, or why there is none.
fn media_type(headers: &HeaderMap) -> Result<String, String> {
    let raw = headers.get(header::CONTENT_TYPE).map(|v| v.to_str().map_err(|_| "Cannot parse content type: not text".to_string())).transpose()?;
    let media = raw.unwrap_or("").split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if media.is_empty() {
        return Err("Cannot parse content type: no media type".into());
    }
    Ok(media)
}

async fn post_traces(state: Arc<State>, headers: HeaderMap, body: axum::body::Body) -> Response {
    if let Some(auth) = &state.config.auth {
        if let Err(e) = auth.authenticate(&headers) {
            return reply(StatusCode::UNAUTHORIZED, e.to_string());
        }
    }
    let t = &state.transport;
    match media_type(&headers) {
        Ok(m) if THRIFT_TYPES.contains(&m.as_str()) => {}
        Ok(m) => return t.malformed(reply(StatusCode::BAD_REQUEST, format!("Unsupported content type: {m}"))),
        Err(message) => return t.malformed(reply(StatusCode::BAD_REQUEST, message)),
    }
    let body = match read_limited(&headers, body, &state.config).await {
        Ok(b) => b,
        Err((status, message)) => return reply(status, message),
    };
    let batch = match thrift_batch::batch(&mut Binary::new(&body)) {
        Ok(b) => b,
        Err(e) => return t.malformed(reply(StatusCode::BAD_REQUEST, format!("Unable to process request body: {e}"))),
    };
    let metadata = state.config.include_metadata.then(|| metadata_of(&headers));
    match t.deliver(vec![batch], metadata).await {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(ConsumeError::Permanent(m)) => reply(StatusCode::BAD_REQUEST, format!("Cannot submit Jaeger batch: {m}")),
        Err(ConsumeError::Unavailable(m)) => reply(StatusCode::SERVICE_UNAVAILABLE, format!("Cannot submit Jaeger batch: {m}")),
    }
}

/// Binds the listener and returns its address and the serving future.
pub async fn serve(
    config: HttpServerConfig,
    transport: Arc<Transport>,
    stop: CancellationToken,
) -> Result<(SocketAddr, BoxFuture<Result<(), ComponentError>>), ComponentError> {
    let tls = config.tls.as_ref().map(crate::tls::server_config).transpose()?;
    let (listener, local) = crate::otelcol::receiver::bind(&config.endpoint, "Jaeger Thrift HTTP").await?;
    let limits = config.limits.clone();
    let state = Arc::new(State { config, transport });
    let router = axum::Router::new().route("/api/traces", axum::routing::post(move |h: HeaderMap, b: axum::body::Body| post_traces(state.clone(), h, b)));
    Ok((local, serve_router(listener, tls, router, limits, stop, "Jaeger Thrift HTTP")?))
}
