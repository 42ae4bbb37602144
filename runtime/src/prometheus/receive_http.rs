//! `prometheus.receive_http`: a remote-write endpoint. `POST /api/v1/metrics/write` takes a
//! Snappy-compressed protobuf request, 1.0 (`prometheus.WriteRequest`) or, when
//! `accepted_remote_write_protobuf_messages` lists it, 2.0 (`io.prometheus.write.v2.Request`,
//! chosen by the `proto=` parameter of `Content-Type`), and appends its samples, native
//! histograms and exemplars to `forward_to`, series interned in the process' series store.
//!
//! Answers as Prometheus' write handler does: 204 when written; 415 for a content type,
//! message or encoding the server does not take; 400 for a body that does not decode and for
//! samples more than 10 minutes in the future or of series without a metric name (1.0 skips
//! such series, 2.0 writes the rest and says what it refused); 500 when `forward_to` refuses
//! the batch, so the sender retries. 2.0 answers carry the `X-Prometheus-Remote-Write-*-Written`
//! counts. Metadata is not forwarded (`append_metadata` is not supported).
//!
//! The port is bound when the component is built or its address changes, so a port in use
//! fails the load with the reason. A TLS change applies to new connections without a rebind.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use eval::Value;
use http::{header, HeaderMap, HeaderValue, StatusCode};
use prom::labels::Labels;
use prom::remote::{Message, MESSAGE_V1, MESSAGE_V2};
use prom::sample::{Batch, SeriesRef};
use tokio_util::sync::CancellationToken;

use crate::component::args::{decode_checked, types::Dur};
use crate::component::{Arguments, BoxFuture, Component, ComponentError, Context, Reader, Registration};
use crate::http_server::{HttpBlock, Listening, Server};
use crate::metrics::Counter;
use crate::prometheus::receiver::{Fanout, ReceiverHandle};

const NAME: &str = "prometheus.receive_http";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &[], build);

pub const PATH: &str = "/api/v1/metrics/write";

/// The largest request body taken, compressed and decompressed (upstream has no limit; a
/// sender's default batch is far below these).
const MAX_BODY: usize = 32 << 20;
const MAX_DECODED: usize = 256 << 20;

/// Samples further in the future than this are refused (upstream's `maxAheadTime`).
const MAX_AHEAD_MS: i64 = 10 * 60 * 1000;

const SAMPLES_WRITTEN: &str = "X-Prometheus-Remote-Write-Samples-Written";
const HISTOGRAMS_WRITTEN: &str = "X-Prometheus-Remote-Write-Histograms-Written";
const EXEMPLARS_WRITTEN: &str = "X-Prometheus-Remote-Write-Exemplars-Written";

#[derive(Default)]
pub struct Args {
    pub forward_to: Vec<ReceiverHandle>,
    pub accepted: Vec<Message>,
    pub server: Server,
    pub graceful_shutdown_timeout: Duration,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&["append_metadata", "enable_type_and_unit_labels", "grpc"]);
        let names: Vec<String> = r.get("accepted_remote_write_protobuf_messages");
        let mut accepted = Vec::new();
        for n in &names {
            match Message::parse(n) {
                Some(m) if !accepted.contains(&m) => accepted.push(m),
                Some(_) => {}
                None => r.error(
                    "accepted_remote_write_protobuf_messages",
                    format!("unknown remote write protobuf message {n:?}: expected {MESSAGE_V1:?} or {MESSAGE_V2:?}"),
                ),
            }
        }
        Args {
            forward_to: r.get("forward_to"),
            accepted,
            server: r.block_or_default::<HttpBlock>("http").0,
            graceful_shutdown_timeout: r.get::<Dur>("graceful_shutdown_timeout").0,
        }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        r.check(
            !self.accepted.is_empty(),
            &["accepted_remote_write_protobuf_messages"],
            "accepted_remote_write_protobuf_messages must name at least one message: every request would be refused",
        );
    }
}

/// What a request handler needs; shared by every server the component runs.
struct Handler {
    component_id: String,
    fanout: Arc<Fanout>,
    accepted: RwLock<Vec<Message>>,
    invalid_labels: Counter,
}

/// A plain-text error answer, as Go's `http.Error` writes it.
fn error(status: StatusCode, message: impl std::fmt::Display) -> Response {
    let mut resp = (status, format!("{message}\n")).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    resp
}

fn message_name(m: Message) -> &'static str {
    match m {
        Message::V1 => MESSAGE_V1,
        Message::V2 => MESSAGE_V2,
    }
}

/// The message a `Content-Type` asks for: no `proto=` parameter is 1.0.
fn message_of(content_type: &str) -> Result<Message, String> {
    let ct = content_type.trim();
    let mut parts = ct.split(';');
    if parts.next().map(str::trim) != Some("application/x-protobuf") {
        return Err(format!("expected application/x-protobuf as the first (media) part, got {ct} content-type"));
    }
    for p in parts {
        let pair: Vec<&str> = p.split('=').collect();
        if pair.len() != 2 {
            return Err(format!("expected parameters to be key-values, got {p} in {ct} content-type"));
        }
        if pair[0].trim() == "proto" {
            let name = pair[1].trim();
            return Message::parse(name).ok_or_else(|| format!("got {ct} content type; unknown remote write protobuf message {name}"));
        }
    }
    Ok(Message::V1)
}

fn has_name(l: &Labels) -> bool {
    l.metric_name().is_some_and(|n| !n.is_empty())
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// Gives every series of the batch its interned labels and ref (decoding leaves refs 0).
fn intern(batch: &mut Batch) {
    let store = crate::prometheus::series_store();
    let mut cache: HashMap<Labels, (SeriesRef, Labels)> = HashMap::new();
    let mut get = |l: &Labels| cache.entry(l.clone()).or_insert_with(|| store.intern(l.clone())).clone();
    for s in &mut batch.samples {
        (s.series, s.labels) = get(&s.labels);
    }
    for h in &mut batch.histograms {
        (h.series, h.labels) = get(&h.labels);
    }
    for e in &mut batch.exemplars {
        (e.series, e.labels) = get(&e.labels);
    }
}

/// Drops the items of series without a metric name (2.0), noting each such series once;
/// returns how many were dropped.
fn drop_unnamed<T>(items: &mut Vec<T>, labels: impl Fn(&T) -> &Labels, unnamed: &mut Vec<Labels>, bad: &mut Vec<String>) -> usize {
    let before = items.len();
    items.retain(|item| {
        let l = labels(item);
        if has_name(l) {
            return true;
        }
        if !unnamed.contains(l) {
            unnamed.push(l.clone());
            bad.push(format!("invalid metric name or labels, got {l}"));
        }
        false
    });
    before - items.len()
}

/// Drops the items stamped after `max` (2.0), each refusal noted.
fn drop_future<T>(items: &mut Vec<T>, at: impl Fn(&T) -> (i64, &Labels), max: i64, bad: &mut Vec<String>) {
    items.retain(|item| {
        let (t, l) = at(item);
        if t > max {
            bad.push(format!("out of bounds: timestamp is too far in the future for series {l}"));
        }
        t <= max
    });
}

impl Handler {
    async fn handle(&self, headers: &HeaderMap, body: axum::body::Body) -> Response {
        let content_type = headers.get(header::CONTENT_TYPE).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()).unwrap_or_default();
        let content_type = if content_type.is_empty() { "application/x-protobuf".to_string() } else { content_type };
        let message = match message_of(&content_type) {
            Ok(m) => m,
            Err(e) => return self.refuse(StatusCode::UNSUPPORTED_MEDIA_TYPE, e),
        };
        let accepted = self.accepted.read().unwrap_or_else(|e| e.into_inner()).clone();
        if !accepted.contains(&message) {
            let names: Vec<&str> = accepted.iter().map(|m| message_name(*m)).collect();
            let e = format!("{} protobuf message is not accepted by this server; accepted [{}]", message_name(message), names.join(" "));
            return self.refuse(StatusCode::UNSUPPORTED_MEDIA_TYPE, e);
        }
        let encoding = headers.get(header::CONTENT_ENCODING).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()).unwrap_or_default();
        if !encoding.is_empty() && !encoding.eq_ignore_ascii_case("snappy") {
            return self.refuse(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("{encoding} encoding (compression) is not accepted by this server; only snappy is acceptable"),
            );
        }
        let raw = match axum::body::to_bytes(body, MAX_BODY).await {
            Ok(b) => b,
            Err(e) => return self.refuse(StatusCode::BAD_REQUEST, format!("reading the request body (at most {MAX_BODY} bytes): {e}")),
        };
        let decoded = prom::remote::decompress(&raw, MAX_DECODED).and_then(|body| match message {
            Message::V1 => prom::remote::proto::decode_v1(&body),
            Message::V2 => prom::remote::proto::decode_v2(&body),
        });
        let batch = match decoded {
            Ok(b) => b,
            Err(e) => return self.refuse(StatusCode::BAD_REQUEST, e),
        };
        match message {
            Message::V1 => self.write_v1(batch),
            Message::V2 => self.write_v2(batch),
        }
    }

    fn refuse(&self, status: StatusCode, e: impl std::fmt::Display) -> Response {
        crate::prometheus::log(&self.component_id, tracing::Level::DEBUG, &format!("refusing a remote write request: {e}"));
        error(status, e)
    }

    /// 1.0: series without a metric name are skipped; a sample too far in the future
    /// refuses the whole request, nothing written.
    fn write_v1(&self, mut batch: Batch) -> Response {
        batch.metadata.clear();
        let before = batch.len();
        batch.samples.retain(|s| has_name(&s.labels));
        batch.histograms.retain(|h| has_name(&h.labels));
        batch.exemplars.retain(|e| has_name(&e.labels));
        let invalid = before - batch.len();
        if invalid > 0 {
            self.invalid_labels.add(invalid as u64);
            crate::prometheus::log(&self.component_id, tracing::Level::WARN, &format!("dropped {invalid} samples of series without a metric name"));
        }
        let max = now_ms() + MAX_AHEAD_MS;
        if batch.samples.iter().any(|s| s.t > max) || batch.histograms.iter().any(|h| h.t > max) {
            return error(StatusCode::BAD_REQUEST, "out of bounds: timestamp is too far in the future");
        }
        // Exemplar problems never fail a 1.0 request.
        batch.exemplars.retain(|e| e.exemplar.t <= max);
        intern(&mut batch);
        match self.fanout.append(&batch) {
            Ok(()) => StatusCode::NO_CONTENT.into_response(),
            Err(e) => self.failed(e),
        }
    }

    /// 2.0: what can be written is, and the answer says what was refused and why.
    fn write_v2(&self, mut batch: Batch) -> Response {
        batch.metadata.clear();
        let mut bad: Vec<String> = Vec::new();
        let mut unnamed: Vec<Labels> = Vec::new();
        let invalid = drop_unnamed(&mut batch.samples, |s| &s.labels, &mut unnamed, &mut bad)
            + drop_unnamed(&mut batch.histograms, |h| &h.labels, &mut unnamed, &mut bad);
        drop_unnamed(&mut batch.exemplars, |e| &e.labels, &mut unnamed, &mut bad);
        if invalid > 0 {
            self.invalid_labels.add(invalid as u64);
        }
        let max = now_ms() + MAX_AHEAD_MS;
        drop_future(&mut batch.samples, |s| (s.t, &s.labels), max, &mut bad);
        drop_future(&mut batch.histograms, |h| (h.t, &h.labels), max, &mut bad);
        drop_future(&mut batch.exemplars, |e| (e.exemplar.t, &e.labels), max, &mut bad);
        intern(&mut batch);
        let written = match self.fanout.append(&batch) {
            Ok(()) => (batch.samples.len(), batch.histograms.len(), batch.exemplars.len()),
            Err(e) => return with_counts(self.failed(e), (0, 0, 0)),
        };
        let resp = if bad.is_empty() { StatusCode::NO_CONTENT.into_response() } else { error(StatusCode::BAD_REQUEST, bad.join("\n")) };
        with_counts(resp, written)
    }

    fn failed(&self, e: crate::prometheus::receiver::AppendError) -> Response {
        crate::prometheus::log(&self.component_id, tracing::Level::ERROR, &format!("error appending remote write request: {e}"));
        error(StatusCode::INTERNAL_SERVER_ERROR, e)
    }
}

/// The 2.0 response headers, present in every 2.0 answer that got this far.
fn with_counts(mut resp: Response, (samples, histograms, exemplars): (usize, usize, usize)) -> Response {
    let h = resp.headers_mut();
    h.insert(SAMPLES_WRITTEN, HeaderValue::from(samples));
    h.insert(HISTOGRAMS_WRITTEN, HeaderValue::from(histograms));
    h.insert(EXEMPLARS_WRITTEN, HeaderValue::from(exemplars));
    resp
}

async fn write(State(h): State<Arc<Handler>>, headers: HeaderMap, body: axum::body::Body) -> Response {
    h.handle(&headers, body).await
}

pub struct ReceiveHttp {
    ctx: Context,
    handler: Arc<Handler>,
    listening: Listening,
}

fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    Ok(ReceiveHttp::new(ctx, &args)?)
}

impl ReceiveHttp {
    pub fn new(ctx: Context, args: &Value) -> Result<Arc<ReceiveHttp>, ComponentError> {
        let args: Args = decode_checked(NAME, args)?;
        let listening = Listening::new(args.server, args.graceful_shutdown_timeout)?;
        let invalid_labels = ctx.counter(
            "prometheus_api_remote_write_invalid_labels_samples_total",
            "The total number of received remote write samples and histogram samples which were rejected due to invalid labels.",
            &[],
        );
        let handler = Arc::new(Handler {
            component_id: ctx.id().to_string(),
            fanout: Arc::new(Fanout::new(args.forward_to).tapped(&ctx)),
            accepted: RwLock::new(args.accepted),
            invalid_labels,
        });
        Ok(Arc::new(ReceiveHttp { ctx, handler, listening }))
    }

    /// The address the server listens on (port 0 resolved).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listening.local_addr()
    }
}

impl Component for ReceiveHttp {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        let args: Args = decode_checked(NAME, &args)?;
        // As upstream: receivers and messages change even when the server cannot.
        self.handler.fanout.set(args.forward_to);
        *self.handler.accepted.write().unwrap_or_else(|e| e.into_inner()) = args.accepted;
        self.listening.update(args.server, args.graceful_shutdown_timeout)
    }

    fn run(self: Arc<Self>, shutdown: CancellationToken) -> BoxFuture<Result<(), ComponentError>> {
        Box::pin(async move {
            let handler = self.handler.clone();
            let router = move || axum::Router::new().route(PATH, axum::routing::post(write)).with_state(handler.clone());
            self.listening.run(&self.ctx, shutdown, router, "remote write server").await
        })
    }

    fn debug_info(&self) -> Option<Value> {
        let mut o = eval::Object::ordered();
        o.insert("listen_address", Value::string(self.local_addr().map(|a| a.to_string()).unwrap_or_default()));
        Some(Value::object(o))
    }
}

#[cfg(test)]
mod tests {
    use prom::remote::{compress, encode_v1, encode_v2, SeriesBatch};
    use prom::sample::Exemplar;

    use super::*;
    use crate::prometheus::receiver::{AppendError, Appendable, Collect};

    const V2: &str = "application/x-protobuf;proto=io.prometheus.write.v2.Request";

    fn args(body: &str, receivers: &[ReceiverHandle]) -> Value {
        let text = format!("prometheus.receive_http \"t\" {{\n  forward_to = []\n{body}\n}}\n");
        let mut v = crate::component::args::evaluated(&text).unwrap();
        if let Value::Object(o) = &mut v {
            Arc::make_mut(o).insert("forward_to", Value::array(receivers.iter().map(|r| r.to_value()).collect()));
        }
        v
    }

    const LOCAL: &str = "  http {\n    listen_address = \"127.0.0.1\"\n    listen_port = 0\n  }";

    struct Running {
        c: Arc<ReceiveHttp>,
        stop: CancellationToken,
        task: tokio::task::JoinHandle<Result<(), ComponentError>>,
    }

    impl Running {
        fn url(&self) -> String {
            format!("http://{}{PATH}", self.c.local_addr().unwrap())
        }

        async fn stop(self) {
            self.stop.cancel();
            let _ = self.task.await;
        }
    }

    fn start(body: &str, receivers: &[ReceiverHandle]) -> Running {
        let c = ReceiveHttp::new(crate::component::detached_context("prometheus.receive_http.t"), &args(body, receivers)).unwrap();
        let stop = CancellationToken::new();
        let task = tokio::spawn(c.clone().run(stop.clone()));
        Running { c, stop, task }
    }

    fn series(name: &str, t: i64, v: f64) -> SeriesBatch {
        let labels = if name.is_empty() { Labels::new([("job", "j")]) } else { Labels::new([("__name__", name), ("job", "j")]) };
        SeriesBatch { labels, samples: vec![(t, v)], ..SeriesBatch::default() }
    }

    fn v1(series: &[SeriesBatch]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_v1(&mut out, series, &Labels::empty(), &[]);
        compress(&out)
    }

    fn v2(series: &[SeriesBatch]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_v2(&mut out, series, &Labels::empty());
        compress(&out)
    }

    async fn post(url: &str, content_type: Option<&str>, body: Vec<u8>) -> reqwest::Response {
        let mut req = reqwest::Client::new().post(url).header("Content-Encoding", "snappy");
        if let Some(ct) = content_type {
            req = req.header("Content-Type", ct);
        }
        req.body(body).send().await.unwrap()
    }

    fn header(resp: &reqwest::Response, name: &str) -> String {
        resp.headers().get(name).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
    }

    #[tokio::test]
    async fn a_v1_request_reaches_forward_to_with_interned_series() {
        let (collect, handle) = Collect::handle();
        let srv = start(LOCAL, &[handle]);
        let now = now_ms();
        let mut a = series("a_total", now, 1.5);
        a.exemplars.push(Exemplar { labels: Labels::new([("trace_id", "t1")]), value: 1.0, t: now });
        let resp = post(&srv.url(), Some("application/x-protobuf"), v1(&[a, series("b", now, 2.0), series("", now, 3.0)])).await;
        assert_eq!(resp.status(), 204);
        let batches = collect.take();
        assert_eq!(batches.len(), 1);
        let b = &batches[0];
        let names: Vec<(&str, f64)> = b.samples.iter().map(|s| (s.labels.metric_name().unwrap(), s.v)).collect();
        assert_eq!(names, [("a_total", 1.5), ("b", 2.0)], "the series without a name is skipped");
        for s in &b.samples {
            assert_ne!(s.series, SeriesRef(0));
            assert_eq!(crate::prometheus::series_store().get(&s.labels), Some(s.series));
        }
        assert_eq!(b.exemplars.len(), 1);
        assert_eq!(b.exemplars[0].series, b.samples[0].series);
        assert_eq!(srv.c.handler.invalid_labels.get(), 1);
        // Without a content type, 1.0 is assumed.
        assert_eq!(post(&srv.url(), None, v1(&[series("c", now, 1.0)])).await.status(), 204);
        srv.stop().await;
    }

    #[tokio::test]
    async fn v2_is_taken_only_when_accepted_and_answers_with_counts() {
        let (collect, handle) = Collect::handle();
        let srv = start(LOCAL, std::slice::from_ref(&handle));
        let now = now_ms();
        let resp = post(&srv.url(), Some(V2), v2(&[series("a", now, 1.0)])).await;
        assert_eq!(resp.status(), 415);
        let text = resp.text().await.unwrap();
        assert!(text.contains("io.prometheus.write.v2.Request protobuf message is not accepted by this server; accepted [prometheus.WriteRequest]"), "{text}");
        srv.stop().await;

        let srv = start(&format!("{LOCAL}\n  accepted_remote_write_protobuf_messages = [\"io.prometheus.write.v2.Request\"]"), &[handle]);
        let mut a = series("a", now, 1.0);
        a.samples.push((now + 1, 2.0));
        a.exemplars.push(Exemplar { labels: Labels::new([("trace_id", "t1")]), value: 1.0, t: now });
        let resp = post(&srv.url(), Some(V2), v2(&[a])).await;
        assert_eq!(resp.status(), 204);
        assert_eq!((header(&resp, SAMPLES_WRITTEN), header(&resp, HISTOGRAMS_WRITTEN), header(&resp, EXEMPLARS_WRITTEN)), ("2".into(), "0".into(), "1".into()));
        assert_eq!(collect.take()[0].samples.len(), 2);
        assert_eq!(post(&srv.url(), None, v1(&[series("a", now, 1.0)])).await.status(), 415, "1.0 is not accepted now");

        // A partial write: the good sample is written, the rest is refused with reasons.
        let resp = post(&srv.url(), Some(V2), v2(&[series("ok", now, 1.0), series("late", now + 3_600_000, 1.0), series("", now, 1.0)])).await;
        assert_eq!(resp.status(), 400);
        assert_eq!(header(&resp, SAMPLES_WRITTEN), "1");
        let text = resp.text().await.unwrap();
        assert!(text.contains("timestamp is too far in the future for series {__name__=\"late\", job=\"j\"}"), "{text}");
        assert!(text.contains("invalid metric name or labels, got {job=\"j\"}"), "{text}");
        assert_eq!(collect.take()[0].samples[0].labels.metric_name(), Some("ok"));
        srv.stop().await;
    }

    #[tokio::test]
    async fn bad_requests_are_refused_with_the_right_status() {
        let (collect, handle) = Collect::handle();
        let srv = start(LOCAL, &[handle]);
        let url = srv.url();
        assert_eq!(post(&url, None, b"not snappy at all".to_vec()).await.status(), 400);
        assert_eq!(post(&url, None, compress(b"\xff\xff\xff not protobuf")).await.status(), 400);
        let resp = post(&url, Some("text/plain"), v1(&[series("a", 1, 1.0)])).await;
        assert_eq!(resp.status(), 415);
        assert!(resp.text().await.unwrap().contains("expected application/x-protobuf as the first (media) part"));
        assert_eq!(post(&url, Some("application/x-protobuf;proto=nope"), v1(&[series("a", 1, 1.0)])).await.status(), 415);
        let gz = reqwest::Client::new().post(&url).header("Content-Encoding", "gzip").body(v1(&[series("a", 1, 1.0)])).send().await.unwrap();
        assert_eq!(gz.status(), 415);
        assert_eq!(reqwest::get(&url).await.unwrap().status(), 405);
        let late = post(&url, None, v1(&[series("a", 1, 1.0), series("b", now_ms() + 3_600_000, 1.0)])).await;
        assert_eq!(late.status(), 400, "1.0 refuses a request with a sample far in the future");
        assert!(collect.take().is_empty(), "nothing was written");
        srv.stop().await;
    }

    struct Refuse;

    impl Appendable for Refuse {
        fn append(&self, _: &Batch) -> Result<(), AppendError> {
            Err(AppendError("queue full".into()))
        }
    }

    #[tokio::test]
    async fn a_refused_append_is_a_server_error() {
        let handle = ReceiverHandle::new("test.refuse", Arc::new(Refuse));
        let srv = start(
            &format!("{LOCAL}\n  accepted_remote_write_protobuf_messages = [\"prometheus.WriteRequest\", \"io.prometheus.write.v2.Request\"]"),
            &[handle],
        );
        let resp = post(&srv.url(), None, v1(&[series("a", now_ms(), 1.0)])).await;
        assert_eq!(resp.status(), 500);
        assert!(resp.text().await.unwrap().contains("queue full"));
        let resp = post(&srv.url(), Some(V2), v2(&[series("a", now_ms(), 1.0)])).await;
        assert_eq!(resp.status(), 500);
        assert_eq!(header(&resp, SAMPLES_WRITTEN), "0");
        srv.stop().await;
    }

    #[tokio::test]
    async fn a_port_in_use_fails_the_build_and_an_update_moves_the_server() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let body = format!("  http {{\n    listen_address = \"127.0.0.1\"\n    listen_port = {port}\n  }}");
        let err = ReceiveHttp::new(crate::component::detached_context("prometheus.receive_http.b"), &args(&body, &[])).err().unwrap();
        assert!(err.0.starts_with(&format!("failed to listen on 127.0.0.1:{port}: ")), "{}", err.0);

        let (collect, handle) = Collect::handle();
        let srv = start(LOCAL, std::slice::from_ref(&handle));
        let old = srv.url();
        assert_eq!(srv.c.update(args(&body, std::slice::from_ref(&handle))).unwrap_err().0, err.0, "the update fails like the build");
        assert_eq!(post(&old, None, v1(&[series("a", now_ms(), 1.0)])).await.status(), 204, "the old server goes on");
        drop(taken);
        srv.c.update(args(&body, &[handle])).unwrap();
        let new = srv.url();
        assert_ne!(old, new);
        let mut status = 0;
        for _ in 0..50 {
            if let Ok(r) = reqwest::Client::new().post(&new).header("Content-Encoding", "snappy").body(v1(&[series("a", now_ms(), 1.0)])).send().await {
                status = r.status().as_u16();
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(status, 204);
        assert_eq!(collect.take().len(), 2);
        srv.stop().await;
    }

    #[tokio::test]
    async fn tls_is_served_when_configured() {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap().self_signed(&key).unwrap();
        let tls = format!(
            "  http {{\n    listen_address = \"127.0.0.1\"\n    listen_port = 0\n    tls {{\n      cert_pem = {:?}\n      key_pem = {:?}\n    }}\n  }}",
            cert.pem(),
            key.serialize_pem()
        );
        let (collect, handle) = Collect::handle();
        let srv = start(&tls, &[handle]);
        crate::tls::install_crypto_provider();
        let client = reqwest::Client::builder().add_root_certificate(reqwest::Certificate::from_pem(cert.pem().as_bytes()).unwrap()).build().unwrap();
        let url = srv.url().replace("http://", "https://");
        let resp = client.post(&url).header("Content-Encoding", "snappy").body(v1(&[series("a", now_ms(), 1.0)])).send().await.unwrap();
        assert_eq!(resp.status(), 204);
        assert_eq!(collect.take().len(), 1);
        srv.stop().await;
    }

    #[test]
    fn rules() {
        let errs = |body: &str| -> Vec<String> {
            crate::component::args::check::<Args>(NAME, &args(body, &[])).iter().map(crate::component::args::describe).collect()
        };
        assert!(errs(LOCAL).is_empty());
        assert_eq!(
            errs("  accepted_remote_write_protobuf_messages = [\"v3\"]"),
            ["accepted_remote_write_protobuf_messages: unknown remote write protobuf message \"v3\": expected \"prometheus.WriteRequest\" or \"io.prometheus.write.v2.Request\""]
        );
        assert!(errs("  accepted_remote_write_protobuf_messages = []")[0].contains("must name at least one message"));
        assert_eq!(errs("  http {\n    conn_limit = 10\n  }"), ["http.conn_limit: argument \"conn_limit\" is not supported by this runtime yet"]);
        assert!(errs("  http {\n    server_idle_timeout = \"5s\"\n    server_read_timeout = \"0s\"\n  }").is_empty());
        assert!(errs("  http {\n    server_write_timeout = \"-1s\"\n  }")[0].contains("duration must not be negative"));
        assert_eq!(errs("  append_metadata = true"), ["append_metadata: argument \"append_metadata\" is not supported by this runtime yet"]);
        assert!(errs("  http {\n    listen_port = 70000\n  }")[0].contains("listen_port must be between 0 and 65535"));
        let tls = errs("  http {\n    tls {\n      cert_pem = \"x\"\n      client_auth_type = \"RequireAndVerifyClientCert\"\n    }\n  }");
        assert!(tls.iter().any(|e| e.contains("no key was given")), "{tls:?}");
        assert!(tls.iter().any(|e| e.contains("needs the CA")), "{tls:?}");
        assert!(
            errs("  http {\n    tls {\n      cert_pem = \"x\"\n      key_pem = \"y\"\n      min_version = \"TLS11\"\n    }\n  }")[0].contains("not supported")
        );
    }

    #[test]
    fn content_types() {
        assert_eq!(message_of("application/x-protobuf").unwrap(), Message::V1);
        assert_eq!(message_of("application/x-protobuf;proto=prometheus.WriteRequest").unwrap(), Message::V1);
        assert_eq!(message_of(V2).unwrap(), Message::V2);
        assert_eq!(message_of("application/x-protobuf; charset=utf-8; proto=io.prometheus.write.v2.Request").unwrap(), Message::V2);
        assert!(message_of("application/x-protobuf;proto").unwrap_err().contains("key-values"));
        assert!(message_of("application/json").is_err());
    }
}
