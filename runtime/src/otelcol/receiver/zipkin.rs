//! `otelcol.receiver.zipkin`: an HTTP server taking Zipkin v2 spans — JSON
//! (`application/json`) or protobuf (`application/x-protobuf`), optionally compressed — on
//! `POST /api/v2/spans` (or any path but the v1 one, as upstream) and sending them as OTLP traces to `output.traces` ([`translate`]).
//! Zipkin v1 (`/api/v1/spans`, JSON or Thrift) is answered with a clear refusal.

#[cfg(test)]
mod tests;
mod translate;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::response::{IntoResponse, Response};
use eval::Value;
use http::{header, HeaderMap, StatusCode};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::otlp::http::{read_limited, serve_router};
use super::otlp::{metadata_of, HttpServerConfig, Ingest};
use crate::component::{Arguments, BoxFuture, Component, ComponentError, Context, HealthState, Reader, Registration};
use crate::otelcol::consumer::{ConsumeError, Fanout, Output};
use crate::otelcol::pdata::Payload;

const NAME: &str = "otelcol.receiver.zipkin";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &[], build);

#[derive(Clone, Debug, Default)]
struct Config {
    server: HttpServerConfig,
    parse_string_tags: bool,
}

/// The component's arguments.
#[derive(Default)]
pub struct Args {
    config: Config,
    output: Output,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&["debug_metrics"]);
        let config = Config { server: HttpServerConfig::decode(r), parse_string_tags: r.get("parse_string_tags") };
        Args { config, output: r.block_or_default("output") }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        self.config.server.validate(r);
    }
}

fn decode_args(args: &Value) -> Result<(Config, Output), ComponentError> {
    let a: Args = crate::component::args::decode_checked(NAME, args)?;
    Ok((a.config, a.output))
}

pub struct ZipkinReceiver {
    ctx: Context,
    fanout: Arc<Fanout>,
    config: watch::Sender<Config>,
    /// The bound address (for tests that listen on port 0).
    pub bound: Mutex<Option<SocketAddr>>,
}

pub fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    Ok(ZipkinReceiver::new(ctx, &args)?)
}

struct State {
    config: Config,
    ingest: Ingest,
}

fn reply(status: StatusCode, message: impl Into<String>) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], message.into()).into_response()
}

async fn spans_v2(state: Arc<State>, headers: HeaderMap, body: axum::body::Body) -> Response {
    if let Some(auth) = &state.config.server.auth {
        if let Err(e) = auth.authenticate(&headers) {
            return reply(StatusCode::UNAUTHORIZED, e.to_string());
        }
    }
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("application/json");
    let proto = match ct.split(';').next().map(str::trim).map(str::to_ascii_lowercase).as_deref() {
        Some("application/json") | Some("") => false,
        Some("application/x-protobuf") | Some("application/protobuf") => true,
        _ => return reply(StatusCode::UNSUPPORTED_MEDIA_TYPE, format!("unsupported content type {ct:?}: use application/json or application/x-protobuf")),
    };
    let body = match read_limited(&headers, body, &state.config.server).await {
        Ok(b) => b,
        Err((status, message)) => return reply(status, message),
    };
    let spans = if proto { translate::from_proto(&body) } else { translate::from_json(&body) };
    let request = match spans.and_then(|s| translate::to_request(s, state.config.parse_string_tags)) {
        Ok(r) => r,
        Err(e) => return reply(StatusCode::BAD_REQUEST, format!("malformed Zipkin spans: {e}")),
    };
    let payload = Payload::from_traces(&request);
    let payload = if state.config.server.include_metadata { payload.with_metadata(metadata_of(&headers)) } else { payload };
    match state.ingest.deliver(payload).await {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(ConsumeError::Permanent(m)) => reply(StatusCode::BAD_REQUEST, m),
        Err(ConsumeError::Unavailable(m)) => reply(StatusCode::SERVICE_UNAVAILABLE, m),
    }
}

impl ZipkinReceiver {
    pub fn new(ctx: Context, args: &Value) -> Result<Arc<ZipkinReceiver>, ComponentError> {
        let (config, output) = decode_args(args)?;
        Ok(Arc::new(ZipkinReceiver { fanout: Arc::new(Fanout::new(output).tapped(&ctx)), ctx, config: watch::channel(config).0, bound: Mutex::new(None) }))
    }

    async fn serve(&self, config: Config, stop: CancellationToken) -> Result<(), ComponentError> {
        let tls = config.server.tls.as_ref().map(crate::tls::server_config).transpose()?;
        let (listener, local) = super::bind(&config.server.endpoint, "Zipkin").await?;
        *self.bound.lock().unwrap_or_else(|e| e.into_inner()) = Some(local);
        let limits = config.server.limits.clone();
        let state = Arc::new(State { ingest: Ingest::new(&self.ctx, self.fanout.clone(), "zipkin", "http"), config });
        let v2 = axum::routing::post(move |h: HeaderMap, b: axum::body::Body| spans_v2(state.clone(), h, b));
        let v1 = axum::routing::post(|| async {
            reply(StatusCode::UNSUPPORTED_MEDIA_TYPE, "Zipkin v1 spans are not supported by this runtime yet: send v2 to /api/v2/spans")
        });
        // Upstream takes v2 on any path but the v1 one.
        let router = axum::Router::new().route("/", v2.clone()).route("/{*path}", v2).route("/api/v1/spans", v1);
        self.ctx.set_health(HealthState::Healthy, "started");
        serve_router(listener, tls, router, limits, stop, "Zipkin")?.await
    }
}

impl Component for ZipkinReceiver {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        super::apply(&self.fanout, &self.config, decode_args(&args)?);
        Ok(())
    }

    fn run(self: Arc<Self>, shutdown: CancellationToken) -> BoxFuture<Result<(), ComponentError>> {
        Box::pin(async move { super::serve_configs(&self.ctx, &self.config, shutdown, |c, stop| self.serve(c, stop)).await })
    }
}
