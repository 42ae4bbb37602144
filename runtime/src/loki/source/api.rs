//! `loki.source.api`: the Loki push API on its own port. `POST /loki/api/v1/push` (and
//! `/api/v1/push`) takes a snappy protobuf `PushRequest`, or JSON when `Content-Type` is
//! `application/json`, optionally gzip- or deflate-compressed; `POST /loki/api/v1/raw` (and
//! `/api/v1/raw`) takes plain text, a line an entry; `GET /ready` answers `ready`.
//!
//! Each stream's labels get the component's `labels`, then `relabel_rules`; a stream left
//! without labels is dropped, labels starting with `__` are removed, and `X-Scope-OrgID`
//! becomes `__tenant_id__`. Timestamps are the time of receipt unless
//! `use_incoming_timestamp`. Answers 204 when forwarded, 400 with the reason for a body that
//! does not decode (the streams that did decode are still forwarded), 413 for a body over
//! `max_send_message_size`.

use std::collections::BTreeMap;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use eval::{Object, Value};
use http::{HeaderMap, StatusCode};
use loki::push::{decode_json, decode_request, parse_labels, WireStream};
use loki::Entry;
use prom::relabel::{process_labels, NameValidation, Rule};
use prom::Labels;
use tokio_util::sync::CancellationToken;

use super::super::receiver::{Fanout, LogsReceiver};
use crate::component::args::decode_checked;
use crate::component::args::types::{Bytes, Dur};
use crate::component::{Arguments, BoxFuture, Component, ComponentError, Context, Reader, Registration};
use crate::http_server::{HttpBlock, Listening, Server};
use crate::relabel_rules::RulesHandle;

const NAME: &str = "loki.source.api";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &[], build);

const TENANT_LABEL: &str = "__tenant_id__";

#[derive(Default)]
pub struct Args {
    pub forward_to: Vec<LogsReceiver>,
    pub labels: BTreeMap<String, String>,
    pub relabel_rules: Vec<Rule>,
    pub use_incoming_timestamp: bool,
    pub max_send_message_size: u64,
    pub server: Server,
    pub graceful_shutdown_timeout: Duration,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&["grpc"]);
        Args {
            forward_to: r.get("forward_to"),
            labels: r.get("labels"),
            relabel_rules: r.computed::<RulesHandle>("relabel_rules").map(|h| h.0.to_vec()).unwrap_or_default(),
            use_incoming_timestamp: r.get("use_incoming_timestamp"),
            max_send_message_size: r.get::<Bytes>("max_send_message_size").0,
            server: r.block_or_default::<HttpBlock>("http").0,
            graceful_shutdown_timeout: r.get::<Dur>("graceful_shutdown_timeout").0,
        }
    }
}

/// What the request handlers share; replaced whole on update.
struct Settings {
    labels: Vec<(String, String)>,
    rules: Vec<Rule>,
    use_incoming_timestamp: bool,
    max_body: usize,
}

struct Handler {
    component_id: String,
    fanout: Fanout,
    settings: RwLock<Arc<Settings>>,
}

fn settings(args: &Args) -> Arc<Settings> {
    Arc::new(Settings {
        labels: args.labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        rules: args.relabel_rules.clone(),
        use_incoming_timestamp: args.use_incoming_timestamp,
        max_body: usize::try_from(args.max_send_message_size).unwrap_or(usize::MAX),
    })
}

fn text(status: StatusCode, message: impl std::fmt::Display) -> Response {
    (status, [(http::header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{message}\n")).into_response()
}

fn now_ns() -> i64 {
    Entry::nanos_of(SystemTime::now())
}

impl Handler {
    fn current(&self) -> Arc<Settings> {
        self.settings.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The body, decompressed as `Content-Encoding` says and within the size limit.
    async fn body(&self, headers: &HeaderMap, body: Body, limit: usize) -> Result<Vec<u8>, Response> {
        let raw = axum::body::to_bytes(body, limit).await.map_err(|e| text(StatusCode::PAYLOAD_TOO_LARGE, format!("reading the request body: {e}")))?;
        let encoding = headers.get(http::header::CONTENT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or_default().to_ascii_lowercase();
        let mut out = Vec::new();
        let read = match encoding.as_str() {
            "" | "snappy" => return Ok(raw.to_vec()),
            "gzip" => flate2::read::GzDecoder::new(&raw[..]).take(limit as u64 + 1).read_to_end(&mut out),
            "deflate" => flate2::read::ZlibDecoder::new(&raw[..]).take(limit as u64 + 1).read_to_end(&mut out),
            other => return Err(text(StatusCode::BAD_REQUEST, format!("Content-Encoding {other:?} not supported"))),
        };
        read.map_err(|e| text(StatusCode::BAD_REQUEST, format!("decompressing the request body: {e}")))?;
        if out.len() > limit {
            return Err(text(StatusCode::PAYLOAD_TOO_LARGE, "the decompressed request body is over max_send_message_size"));
        }
        Ok(out)
    }

    /// A stream's labels as forwarded, or `None` when nothing is left of them.
    fn labels(&self, s: &Settings, base: Labels, tenant: Option<&str>) -> Option<Labels> {
        let mut b = base.builder();
        for (k, v) in &s.labels {
            b.set(k.as_str(), v.as_str());
        }
        let relabelled = if s.rules.is_empty() { b.labels() } else { process_labels(&s.rules, &b.labels(), NameValidation::Legacy)? };
        if relabelled.is_empty() {
            return None;
        }
        let mut b = relabelled.builder();
        b.retain(|n| !n.starts_with("__"));
        if let Some(t) = tenant {
            b.set(TENANT_LABEL, t);
        }
        Some(b.labels()).filter(|l| !l.is_empty())
    }

    async fn push(&self, headers: HeaderMap, body: Body) -> Response {
        let s = self.current();
        let body = match self.body(&headers, body, s.max_body).await {
            Ok(b) => b,
            Err(resp) => return resp,
        };
        let Some(content_type) = headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
            return text(StatusCode::BAD_REQUEST, "mime: no media type");
        };
        let media = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        let decoded = if media == "application/json" { decode_json(&body) } else { decode_request(&body) };
        let streams: Vec<WireStream> = match decoded {
            Ok(s) => s,
            Err(e) => return text(StatusCode::BAD_REQUEST, e),
        };
        let tenant = headers.get("x-scope-orgid").and_then(|v| v.to_str().ok()).filter(|t| !t.is_empty());
        let received = now_ns();
        let mut entries = Vec::new();
        let mut first_error = None;
        for stream in streams {
            let base = match parse_labels(&stream.labels) {
                Ok(l) => l,
                Err(e) => {
                    first_error.get_or_insert(e.to_string());
                    continue;
                }
            };
            let Some(labels) = self.labels(&s, base, tenant) else { continue };
            for e in stream.entries {
                let timestamp_ns = if s.use_incoming_timestamp { e.timestamp_ns } else { received };
                entries.push(Entry { labels: labels.clone(), timestamp_ns, line: e.line, structured_metadata: e.structured_metadata });
            }
        }
        if let Err(e) = self.fanout.send(entries).await {
            crate::component::log(&self.component_id, tracing::Level::WARN, &e.to_string());
        }
        match first_error {
            Some(e) => text(StatusCode::BAD_REQUEST, e),
            None => StatusCode::NO_CONTENT.into_response(),
        }
    }

    async fn raw(&self, headers: HeaderMap, body: Body) -> Response {
        let s = self.current();
        let body = match self.body(&headers, body, s.max_body).await {
            Ok(b) => b,
            Err(resp) => return resp,
        };
        let tenant = headers.get("x-scope-orgid").and_then(|v| v.to_str().ok()).filter(|t| !t.is_empty());
        let Some(labels) = self.labels(&s, Labels::empty(), tenant) else { return StatusCode::NO_CONTENT.into_response() };
        let received = now_ns();
        let entries: Vec<Entry> = String::from_utf8_lossy(&body)
            .split('\n')
            .map(|l| l.trim_end_matches('\r'))
            .filter(|l| !l.is_empty())
            .map(|l| Entry::new(labels.clone(), received, l))
            .collect();
        if let Err(e) = self.fanout.send(entries).await {
            crate::component::log(&self.component_id, tracing::Level::WARN, &e.to_string());
        }
        StatusCode::NO_CONTENT.into_response()
    }
}

async fn push(State(h): State<Arc<Handler>>, headers: HeaderMap, body: Body) -> Response {
    h.push(headers, body).await
}

async fn raw(State(h): State<Arc<Handler>>, headers: HeaderMap, body: Body) -> Response {
    h.raw(headers, body).await
}

async fn ready() -> Response {
    (StatusCode::OK, "ready").into_response()
}

pub struct SourceApi {
    ctx: Context,
    handler: Arc<Handler>,
    listening: Listening,
}

fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    Ok(SourceApi::new(ctx, &args)?)
}

impl SourceApi {
    pub fn new(ctx: Context, args: &Value) -> Result<Arc<SourceApi>, ComponentError> {
        let args: Args = decode_checked(NAME, args)?;
        let handler = Arc::new(Handler {
            component_id: ctx.id().to_string(),
            fanout: Fanout::new(args.forward_to.clone()).tapped(&ctx),
            settings: RwLock::new(settings(&args)),
        });
        let listening = Listening::new(args.server, args.graceful_shutdown_timeout)?;
        ctx.set_exports(Value::object(Object::new()));
        Ok(Arc::new(SourceApi { ctx, handler, listening }))
    }

    /// The address the server listens on (port 0 resolved).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listening.local_addr()
    }
}

impl Component for SourceApi {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        let args: Args = decode_checked(NAME, &args)?;
        self.handler.fanout.set(args.forward_to.clone());
        *self.handler.settings.write().unwrap_or_else(|e| e.into_inner()) = settings(&args);
        self.listening.update(args.server, args.graceful_shutdown_timeout)
    }

    fn run(self: Arc<Self>, shutdown: CancellationToken) -> BoxFuture<Result<(), ComponentError>> {
        Box::pin(async move {
            let handler = self.handler.clone();
            let router = move || {
                axum::Router::new()
                    .route("/loki/api/v1/push", axum::routing::post(push))
                    .route("/api/v1/push", axum::routing::post(push))
                    .route("/loki/api/v1/raw", axum::routing::post(raw))
                    .route("/api/v1/raw", axum::routing::post(raw))
                    .route("/ready", axum::routing::get(ready))
                    .with_state(handler.clone())
            };
            self.listening.run(&self.ctx, shutdown, router, "loki push API server").await
        })
    }

    fn debug_info(&self) -> Option<Value> {
        let mut o = eval::Object::ordered();
        o.insert("listen_address", Value::string(self.local_addr().map(|a| a.to_string()).unwrap_or_default()));
        Some(Value::object(o))
    }
}

#[cfg(test)]
mod tests;
