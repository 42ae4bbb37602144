//! `otelcol.receiver.zipkin`: Zipkin v2 spans (JSON, or protobuf with `Content-Type:
//! application/x-protobuf`) POSTed to `endpoint` (any path, as upstream: the whole server is
//! the handler) become OTLP traces for `output.traces` (`translate`). Bodies may be
//! gzip/deflate/zlib/zstd/snappy/lz4 compressed; the answer is 202 Accepted, 400 for a body
//! that is not Zipkin v2 or data a consumer refuses for good, 503 when it may be retried.
//! Zipkin v1 (`/api/v1/spans`) is answered 400 as not supported.

mod translate;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use eval::Value;
use http::{header, HeaderMap, StatusCode, Uri};
use http_body_util::BodyExt;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::component::args::{decode_checked, types::Bytes as Size};
use crate::component::{Arguments, BoxFuture, Component, ComponentError, Context, HealthState, Reader, Registration};
use crate::delivery::compression::DecodeError;
use crate::otelcol::auth::AuthHandler;
use crate::otelcol::consumer::{ConsumeError, Fanout, Output};
use crate::otelcol::pdata::{Payload, Signal};
use crate::otelcol::receiver::otlp::{metadata_of, parse_endpoint};
use crate::otelcol::SignalCounters;
use crate::tls::{ClientAuth, TlsServer, TlsServerArgs};
pub use translate::{proto_to_traces, to_traces, ZipkinError};

const NAME: &str = "otelcol.receiver.zipkin";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &[], build);

#[derive(Clone, Debug, Default)]
pub struct Config {
    pub endpoint: String,
    pub max_request_body_size: usize,
    pub include_metadata: bool,
    pub parse_string_tags: bool,
    pub auth: Option<AuthHandler>,
    pub tls: Option<TlsServer>,
}

#[derive(Default)]
pub struct Args {
    config: Config,
    output: Output,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&[
            "compression_algorithms",
            "cors",
            "idle_timeout",
            "keep_alives_enabled",
            "read_header_timeout",
            "read_timeout",
            "write_timeout",
            "debug_metrics",
        ]);
        let config = Config {
            endpoint: r.get("endpoint"),
            max_request_body_size: r.get::<Size>("max_request_body_size").0 as usize,
            include_metadata: r.get("include_metadata"),
            parse_string_tags: r.get("parse_string_tags"),
            auth: r.opt("auth"),
            // A client CA alone means client certificates are required, as in the collector.
            tls: r.block::<TlsServerArgs>("tls").and_then(|t| t.resolve(ClientAuth::RequireAndVerifyClientCert)),
        };
        Args { config, output: r.block_or_default("output") }
    }
}

struct State {
    config: Config,
    fanout: Arc<Fanout>,
    accepted: SignalCounters,
    refused: SignalCounters,
}

fn answer(status: StatusCode, message: impl Into<String>) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], message.into()).into_response()
}

async fn read_body(headers: &HeaderMap, body: axum::body::Body, limit: usize) -> Result<Bytes, Response> {
    let too_large = || answer(StatusCode::PAYLOAD_TOO_LARGE, format!("request body too large: the limit is {limit} bytes"));
    let raw = http_body_util::Limited::new(body, limit).collect().await.map_err(|e| {
        if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() {
            too_large()
        } else {
            answer(StatusCode::BAD_REQUEST, format!("failed to read the request body: {e}"))
        }
    })?;
    let raw = raw.to_bytes();
    let encoding = headers.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("").trim().to_ascii_lowercase();
    if encoding.is_empty() || encoding == "identity" {
        return Ok(raw);
    }
    match crate::delivery::compression::decompress(&encoding, &raw, limit) {
        Ok(b) => Ok(Bytes::from(b)),
        Err(DecodeError::TooLarge) => Err(too_large()),
        Err(DecodeError::Unsupported(m) | DecodeError::Corrupt(m)) => Err(answer(StatusCode::BAD_REQUEST, m)),
    }
}

async fn handle(state: Arc<State>, uri: Uri, headers: HeaderMap, body: axum::body::Body) -> Response {
    if let Some(auth) = &state.config.auth {
        if let Err(e) = auth.authenticate(&headers) {
            return answer(StatusCode::UNAUTHORIZED, e.to_string());
        }
    }
    if uri.path().contains("api/v1/spans") {
        return answer(StatusCode::BAD_REQUEST, "Zipkin v1 spans are not supported by this runtime yet");
    }
    let body = match read_body(&headers, body, state.config.max_request_body_size).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    // Protobuf when it says so, as upstream; JSON otherwise.
    let protobuf = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) == Some("application/x-protobuf");
    let parsed = if protobuf { proto_to_traces(&body, state.config.parse_string_tags) } else { to_traces(&body, state.config.parse_string_tags) };
    let traces = match parsed {
        Ok(t) => t,
        Err(e) => return answer(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let payload = Payload::from_traces(&traces);
    let payload = if state.config.include_metadata { payload.with_metadata(metadata_of(&headers)) } else { payload };
    let n = payload.items();
    match state.fanout.consume(payload).await {
        Ok(()) => {
            state.accepted.add(Signal::Traces, n);
            StatusCode::ACCEPTED.into_response()
        }
        Err(e) => {
            state.refused.add(Signal::Traces, n);
            let status = if matches!(e, ConsumeError::Permanent(_)) { StatusCode::BAD_REQUEST } else { StatusCode::SERVICE_UNAVAILABLE };
            answer(status, e.to_string())
        }
    }
}

pub struct ZipkinReceiver {
    ctx: Context,
    fanout: Arc<Fanout>,
    config: watch::Sender<Config>,
    /// The bound address, for tests that listen on port 0.
    pub bound: Mutex<Option<SocketAddr>>,
}

pub fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    Ok(ZipkinReceiver::new(ctx, &args)?)
}

impl ZipkinReceiver {
    pub fn new(ctx: Context, args: &Value) -> Result<Arc<ZipkinReceiver>, ComponentError> {
        let Args { config, output } = decode_checked(NAME, args)?;
        Ok(Arc::new(ZipkinReceiver { ctx, fanout: Arc::new(Fanout::new(output)), config: watch::channel(config).0, bound: Mutex::new(None) }))
    }

    /// Serves one configuration until `stop`.
    async fn serve(&self, config: Config, stop: CancellationToken) -> Result<(), ComponentError> {
        let tls = config.tls.as_ref().map(crate::tls::server_config).transpose()?;
        let addr = parse_endpoint(&config.endpoint)?;
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| ComponentError(format!("failed to listen on {addr} for Zipkin: {e}")))?;
        *self.bound.lock().unwrap_or_else(|e| e.into_inner()) = Some(listener.local_addr()?);
        let labels = [("receiver", "zipkin"), ("transport", "http")];
        let state = Arc::new(State {
            config,
            fanout: self.fanout.clone(),
            accepted: SignalCounters::new(&self.ctx, "otelcol_receiver_accepted", "Number of items successfully pushed into the pipeline", &labels),
            refused: SignalCounters::new(&self.ctx, "otelcol_receiver_refused", "Number of items that could not be pushed into the pipeline", &labels),
        });
        let router = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: axum::body::Body| handle(state.clone(), uri, headers, body));
        self.ctx.set_health(HealthState::Healthy, "started");
        let failed = |e: std::io::Error| ComponentError(format!("Zipkin server failed: {e}"));
        match tls {
            None => axum::serve(listener, router).with_graceful_shutdown(stop.cancelled_owned()).await.map_err(failed),
            Some(tls) => {
                let listener = crate::tls::TlsListener::fixed(listener, tls)?;
                axum::serve(listener, router).with_graceful_shutdown(stop.cancelled_owned()).await.map_err(failed)
            }
        }
    }
}

impl Component for ZipkinReceiver {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        let Args { config, output } = decode_checked(NAME, &args)?;
        self.fanout.set(output);
        self.config.send_replace(config);
        Ok(())
    }

    fn run(self: Arc<Self>, shutdown: CancellationToken) -> BoxFuture<Result<(), ComponentError>> {
        Box::pin(async move {
            let mut changes = self.config.subscribe();
            loop {
                let config = changes.borrow_and_update().clone();
                let stop = shutdown.child_token();
                let serving = self.serve(config, stop.clone());
                tokio::pin!(serving);
                tokio::select! {
                    r = &mut serving => {
                        if let Err(e) = &r {
                            self.ctx.set_health(HealthState::Unhealthy, e.to_string());
                        }
                        return r;
                    }
                    changed = changes.changed() => {
                        stop.cancel();
                        let _ = serving.await;
                        if changed.is_err() {
                            return Ok(());
                        }
                    }
                }
            }
        })
    }
}

#[cfg(test)]
mod tests;
