//! The OTLP/HTTP server: POST protobuf or JSON to `/v1/traces`, `/v1/metrics`, `/v1/logs`
//! (paths configurable), optionally compressed (gzip, zstd, snappy, deflate, lz4). Errors answer with a
//! `google.rpc.Status` in the request's encoding, as the OTLP spec asks. With a `tls` block the
//! same routes are served over HTTPS (`runtime/src/tls.rs`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{header, HeaderMap, StatusCode};
use http_body_util::BodyExt;
use tokio_util::sync::CancellationToken;

use super::{metadata_of, HttpConfig, HttpServerConfig, Ingest};
use crate::component::{BoxFuture, ComponentError};
use crate::delivery::compression::DecodeError;
use crate::otelcol::consumer::ConsumeError;
use crate::otelcol::pdata::{Payload, Signal};

struct State {
    config: HttpConfig,
    ingest: Arc<Ingest>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Protobuf,
    Json,
}

impl Encoding {
    fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }
}

/// A failed request: HTTP status, gRPC code for the body, message.
struct Failure(StatusCode, i32, String);

impl Failure {
    fn into_response(self, enc: Encoding) -> Response {
        let Failure(status, code, message) = self;
        let body = match enc {
            Encoding::Json => serde_json::json!({ "code": code, "message": message }).to_string().into_bytes(),
            Encoding::Protobuf => encode_status(code, &message),
        };
        (status, [(header::CONTENT_TYPE, enc.content_type())], body).into_response()
    }
}

/// `google.rpc.Status { int32 code = 1; string message = 2; }`.
fn encode_status(code: i32, message: &str) -> Vec<u8> {
    use prost::encoding::{encode_key, encode_varint, WireType};
    let mut out = Vec::with_capacity(message.len() + 8);
    encode_key(1, WireType::Varint, &mut out);
    encode_varint(code as u64, &mut out);
    encode_key(2, WireType::LengthDelimited, &mut out);
    encode_varint(message.len() as u64, &mut out);
    out.extend_from_slice(message.as_bytes());
    out
}

fn request_encoding(headers: &HeaderMap) -> Option<Encoding> {
    let ct = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    match ct.split(';').next().map(str::trim).map(str::to_ascii_lowercase).as_deref() {
        Some("application/x-protobuf") | Some("application/protobuf") => Some(Encoding::Protobuf),
        Some("application/json") => Some(Encoding::Json),
        _ => None,
    }
}

fn too_large(limit: usize) -> Failure {
    Failure(StatusCode::PAYLOAD_TOO_LARGE, 8, format!("request body too large: the limit is {limit} bytes"))
}

/// Reads the body within the size limit and `read_timeout`, and undoes its content encoding
/// if `compression_algorithms` allows it.
async fn read_body(headers: &HeaderMap, body: axum::body::Body, server: &HttpServerConfig) -> Result<Bytes, Failure> {
    let limit = server.max_request_body_size;
    let encoding = headers.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("").trim().to_ascii_lowercase();
    if let Some(allowed) = &server.compression_algorithms {
        // As confighttp: an encoding outside the list is refused before the body is read.
        let known = if encoding == "identity" { "" } else { encoding.as_str() };
        if !allowed.iter().any(|a| a == known) {
            return Err(Failure(StatusCode::BAD_REQUEST, 3, format!("unsupported Content-Encoding: {encoding}")));
        }
    }
    if headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok()).is_some_and(|n| n > limit) {
        return Err(too_large(limit));
    }
    let collect = http_body_util::Limited::new(body, limit).collect();
    let collected = match server.read_timeout {
        None => collect.await,
        Some(t) => tokio::time::timeout(t, collect)
            .await
            .map_err(|_| Failure(StatusCode::REQUEST_TIMEOUT, 4, format!("the request body did not arrive within read_timeout ({t:?})")))?,
    };
    let raw = collected.map_err(|e| {
        if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() {
            too_large(limit)
        } else {
            Failure(StatusCode::BAD_REQUEST, 3, format!("failed to read the request body: {e}"))
        }
    })?;
    let raw = raw.to_bytes();
    if encoding.is_empty() || encoding == "identity" {
        return Ok(raw);
    }
    match crate::delivery::compression::decompress(&encoding, &raw, limit) {
        Ok(body) => Ok(Bytes::from(body)),
        Err(DecodeError::TooLarge) => Err(too_large(limit)),
        Err(DecodeError::Unsupported(m) | DecodeError::Corrupt(m)) => Err(Failure(StatusCode::BAD_REQUEST, 3, m)),
    }
}

/// [`read_body`] for other HTTP receivers: the body, or the status and message to answer.
pub(crate) async fn read_limited(headers: &HeaderMap, body: axum::body::Body, server: &HttpServerConfig) -> Result<Bytes, (StatusCode, String)> {
    read_body(headers, body, server).await.map_err(|Failure(status, _, message)| (status, message))
}

/// The HTTP status for a refused request, as the collector answers.
fn failure_of(e: &ConsumeError) -> Failure {
    match e {
        ConsumeError::Permanent(m) => Failure(StatusCode::BAD_REQUEST, 3, m.clone()),
        ConsumeError::Unavailable(m) => Failure(StatusCode::SERVICE_UNAVAILABLE, 14, m.clone()),
    }
}

async fn handle(state: Arc<State>, signal: Signal, headers: HeaderMap, body: axum::body::Body) -> Response {
    let Some(enc) = request_encoding(&headers) else {
        let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        return Failure(StatusCode::UNSUPPORTED_MEDIA_TYPE, 3, format!("unsupported content type {ct:?}: use application/x-protobuf or application/json"))
            .into_response(Encoding::Json);
    };
    if let Some(auth) = &state.config.server.auth {
        if let Err(e) = auth.authenticate(&headers) {
            return Failure(StatusCode::UNAUTHORIZED, 16, e.to_string()).into_response(enc);
        }
    }
    let body = match read_body(&headers, body, &state.config.server).await {
        Ok(b) => b,
        Err(f) => return f.into_response(enc),
    };
    let malformed =
        |e: crate::otelcol::pdata::PdataError| Failure(StatusCode::BAD_REQUEST, 3, format!("malformed {} request: {e}", signal.name())).into_response(enc);
    let payload = match enc {
        Encoding::Protobuf => match Payload::from_request(signal, body.clone()) {
            Ok(p) => p,
            Err(e) => {
                state.ingest.refuse_malformed(signal, &body);
                return malformed(e);
            }
        },
        Encoding::Json => {
            // Decoding JSON costs tens of times the body's size: only so much at once.
            let Ok(_permit) = JSON_BUDGET.acquire(body.len()).await else {
                return Failure(StatusCode::SERVICE_UNAVAILABLE, 14, "too many OTLP/JSON requests are being decoded, retry later".into()).into_response(enc);
            };
            // Seconds of CPU for a large body: off the threads that serve connections.
            match tokio::task::spawn_blocking(move || Payload::from_json(signal, body)).await {
                Ok(Ok(p)) => p,
                Ok(Err(e)) => return malformed(e),
                Err(e) => return Failure(StatusCode::INTERNAL_SERVER_ERROR, 13, format!("decoding the request failed: {e}")).into_response(enc),
            }
        }
    };
    let payload = if state.config.server.include_metadata { payload.with_metadata(metadata_of(&headers)) } else { payload };
    if let Err(e) = state.ingest.deliver_detached(payload).await {
        return failure_of(&e).into_response(enc);
    }
    // An empty Export*ServiceResponse.
    let body: &'static [u8] = match enc {
        Encoding::Protobuf => b"",
        Encoding::Json => b"{}",
    };
    (StatusCode::OK, [(header::CONTENT_TYPE, enc.content_type())], body).into_response()
}

/// The OTLP/JSON bodies decoded at once, process-wide. Decoding goes through the prost types,
/// which take tens of times the body's size (an 18 MB body of small attributes about 1 GB), so
/// at most [`JSON_BUDGET_BYTES`] of JSON is being decoded at any moment: others wait up to
/// [`JSON_BUDGET_WAIT`], then get 503 (retryable). A body larger than the whole budget is
/// decoded alone.
pub const JSON_BUDGET_BYTES: usize = 32 << 20;
pub const JSON_BUDGET_WAIT: Duration = Duration::from_secs(5);

static JSON_BUDGET: Budget = Budget::new(JSON_BUDGET_BYTES, JSON_BUDGET_WAIT);

/// A budget of bytes being worked on at once, in KiB permits.
pub(crate) struct Budget {
    permits: tokio::sync::Semaphore,
    capacity_kib: usize,
    wait: Duration,
}

/// The budget stayed exhausted for the whole wait.
#[derive(Debug)]
pub(crate) struct Busy;

impl Budget {
    pub(crate) const fn new(bytes: usize, wait: Duration) -> Self {
        let capacity_kib = if bytes / 1024 == 0 { 1 } else { bytes / 1024 };
        Budget { permits: tokio::sync::Semaphore::const_new(capacity_kib), capacity_kib, wait }
    }

    /// Waits for room for `len` bytes (all of the budget for bodies larger than it).
    pub(crate) async fn acquire(&self, len: usize) -> Result<tokio::sync::SemaphorePermit<'_>, Busy> {
        let kib = len.div_ceil(1024).clamp(1, self.capacity_kib);
        let kib = u32::try_from(kib).unwrap_or(u32::MAX);
        match tokio::time::timeout(self.wait, self.permits.acquire_many(kib)).await {
            Ok(Ok(permit)) => Ok(permit),
            // Timed out (the semaphore is never closed).
            _ => Err(Busy),
        }
    }
}

/// Binds the listener and returns its address and the serving future.
pub async fn serve(
    config: HttpConfig,
    ingest: Arc<Ingest>,
    stop: CancellationToken,
) -> Result<(SocketAddr, BoxFuture<Result<(), ComponentError>>), ComponentError> {
    let tls = config.server.tls.as_ref().map(crate::tls::server_config).transpose()?;
    let (listener, local) = crate::otelcol::receiver::bind(&config.server.endpoint, "OTLP/HTTP").await?;
    let paths =
        [(Signal::Traces, config.traces_url_path.clone()), (Signal::Metrics, config.metrics_url_path.clone()), (Signal::Logs, config.logs_url_path.clone())];
    let limits = config.server.limits.clone();
    let state = Arc::new(State { config, ingest });
    let mut router = axum::Router::new();
    for (signal, path) in paths {
        let state = state.clone();
        router = router.route(&path, axum::routing::post(move |headers: HeaderMap, body: axum::body::Body| handle(state.clone(), signal, headers, body)));
    }
    Ok((local, serve_router(listener, tls, router, limits, stop, "OTLP/HTTP")?))
}

/// Serves `router` on `listener`, over TLS when `tls` is given, until `stop`; `what` names
/// the server in errors.
pub(crate) fn serve_router(
    listener: tokio::net::TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    router: axum::Router,
    limits: crate::server::Limits,
    stop: CancellationToken,
    what: &str,
) -> Result<BoxFuture<Result<(), ComponentError>>, ComponentError> {
    let what = what.to_string();
    let failed = move |e: std::io::Error| ComponentError(format!("{what} server failed: {e}"));
    Ok(match tls {
        None => {
            let listener = crate::server::BackoffListener::new(listener);
            Box::pin(async move { crate::server::serve(listener, router, limits, stop).await.map_err(failed) })
        }
        Some(tls) => {
            let listener = crate::tls::TlsListener::fixed(listener, tls)?;
            Box::pin(async move { crate::server::serve(listener, router, limits, stop).await.map_err(failed) })
        }
    })
}
