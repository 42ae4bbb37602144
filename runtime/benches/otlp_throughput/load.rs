//! The load generator, the sink's counter, and one measurement: spans through a path per
//! second and per CPU-second, and whether every acknowledged span arrived.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use runtime::otelcol::consumer::{ConsumeFuture, Consumer};
use runtime::otelcol::grpc_codec::{export_path, RawCodec};
use runtime::otelcol::pdata::{Payload, Signal};

use crate::Settings;

/// One export request of `spans` spans with typical HTTP-server attributes.
pub fn request(spans: usize) -> Bytes {
    let attr =
        |k: &str, v: &str| KeyValue { key: k.into(), value: Some(AnyValue { value: Some(any_value::Value::StringValue(v.into())) }), ..Default::default() };
    let spans = (0..spans)
        .map(|i| Span {
            trace_id: (0..16).map(|b| (b * 7 + i) as u8).collect(),
            span_id: (0..8).map(|b| (b * 3 + i) as u8).collect(),
            name: format!("GET /api/v1/items/{i}"),
            kind: 2,
            start_time_unix_nano: 1_700_000_000_000_000_000 + i as u64,
            end_time_unix_nano: 1_700_000_000_100_000_000 + i as u64,
            attributes: vec![
                attr("http.method", "GET"),
                attr("http.route", "/api/v1/items/{id}"),
                attr("http.status_code", "200"),
                attr("net.peer.name", "10.0.0.1"),
                attr("user_agent.original", "bench/1.0"),
            ],
            ..Default::default()
        })
        .collect();
    let req = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource { attributes: vec![attr("service.name", "bench"), attr("host.name", "bench-host")], ..Default::default() }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope { name: "bench".into(), ..Default::default() }),
                spans,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    };
    Bytes::from(req.encode_to_vec())
}

/// Counts the spans reaching the sink.
#[derive(Default)]
pub struct Sink(AtomicU64);

impl Sink {
    pub fn spans(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl Consumer for Sink {
    fn consume(&self, data: Payload) -> ConsumeFuture<'_> {
        self.0.fetch_add(data.items() as u64, Ordering::Relaxed);
        Box::pin(async { Ok(()) })
    }
}

pub async fn client(addr: SocketAddr) -> tonic::client::Grpc<tonic::transport::Channel> {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}")).expect("uri").connect().await.expect("connect");
    tonic::client::Grpc::new(channel)
}

/// What one path did.
#[derive(Debug, Default)]
pub struct Measured {
    /// Spans that reached the sink in the window, and the window's length.
    pub window_spans: u64,
    pub window_seconds: f64,
    /// CPU time in the window: the path's own threads (or process), and this whole process.
    pub path_cpu: f64,
    pub process_cpu: f64,
    /// Spans the path acknowledged over the whole run, and what reached the sink once drained.
    pub acked: u64,
    pub delivered: u64,
    pub errors: u64,
    pub first_error: Option<String>,
}

impl Measured {
    pub fn spans_per_second(&self) -> f64 {
        self.window_spans as f64 / self.window_seconds
    }

    pub fn per_path_cpu(&self) -> f64 {
        self.window_spans as f64 / self.path_cpu
    }

    pub fn per_process_cpu(&self) -> f64 {
        self.window_spans as f64 / self.process_cpu
    }

    /// What makes the run's figures untrustworthy; `own_threads` when the path runs in this
    /// process (its CPU is then a part of the process's).
    pub fn problems(&self, own_threads: bool) -> Vec<String> {
        let mut out = Vec::new();
        if self.errors > 0 {
            out.push(format!("{} requests failed, the first with: {}", self.errors, self.first_error.as_deref().unwrap_or("?")));
        }
        if self.acked == 0 {
            out.push("no request was acknowledged".into());
        }
        if self.delivered != self.acked {
            out.push(format!("{} spans acknowledged but {} reached the sink", self.acked, self.delivered));
        }
        if self.path_cpu.is_nan() || self.path_cpu <= 0.0 || (own_threads && self.path_cpu > self.process_cpu) {
            out.push(format!("implausible CPU time: {:.3} s for the path, {:.3} s for the process", self.path_cpu, self.process_cpu));
        }
        out
    }
}

/// The load generator's shared tallies.
#[derive(Default)]
struct Tally {
    stop: AtomicBool,
    acked_requests: AtomicU64,
    errors: AtomicU64,
    first_error: Mutex<Option<String>>,
}

/// Drives `target` with `s.concurrency` streams (a connection each) sending `body`: warm-up,
/// a measured window, then stops and waits for the path to deliver what it acknowledged.
/// `path_cpu` reads the path's CPU seconds so far.
pub async fn measure(target: SocketAddr, body: &Bytes, sink: &Sink, s: &Settings, path_cpu: impl Fn() -> f64) -> Measured {
    let spans_per_request = s.spans_per_request as u64;
    let sink_before = sink.spans();
    let tally = Arc::new(Tally::default());
    let mut streams = Vec::new();
    // With an offered rate, each stream starts a request every `period` (or as soon as the
    // last is answered, if that is later).
    let period = s.rate.map(|r| Duration::from_secs_f64(s.concurrency as f64 * spans_per_request as f64 / r));
    for _ in 0..s.concurrency {
        let mut c = client(target).await;
        let (body, tally) = (body.clone(), tally.clone());
        streams.push(tokio::spawn(async move {
            let mut ticks = period.map(|p| {
                let mut t = tokio::time::interval(p);
                t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                t
            });
            while !tally.stop.load(Ordering::Relaxed) {
                if let Some(t) = &mut ticks {
                    t.tick().await;
                }
                let path = http::uri::PathAndQuery::from_static(export_path(Signal::Traces));
                let sent = match c.ready().await {
                    Ok(()) => c.unary::<Bytes, Bytes, _>(tonic::Request::new(body.clone()), path, RawCodec).await.map(drop),
                    Err(e) => Err(tonic::Status::unavailable(e.to_string())),
                };
                match sent {
                    Ok(()) => {
                        tally.acked_requests.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(status) => {
                        tally.errors.fetch_add(1, Ordering::Relaxed);
                        tally.first_error.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert_with(|| status.to_string());
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                }
            }
        }));
    }
    tokio::time::sleep(s.warmup).await;
    let cpu = || runtime::process::cpu_seconds().unwrap_or(f64::NAN);
    let (spans0, path0, process0, start) = (sink.spans(), path_cpu(), cpu(), Instant::now());
    tokio::time::sleep(s.window).await;
    let (spans1, path1, process1, window) = (sink.spans(), path_cpu(), cpu(), start.elapsed());
    tally.stop.store(true, Ordering::Relaxed);
    for t in streams {
        let _ = t.await;
    }
    // Drain: the batch processor's timeout and the exporter's queue let go of the rest.
    let acked = tally.acked_requests.load(Ordering::Relaxed) * spans_per_request;
    let deadline = Instant::now() + Duration::from_secs(10);
    while sink.spans() - sink_before < acked && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Anything beyond what was acknowledged (a duplicate) would arrive now.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let first_error = tally.first_error.lock().unwrap_or_else(|e| e.into_inner()).clone();
    Measured {
        window_spans: spans1 - spans0,
        window_seconds: window.as_secs_f64(),
        path_cpu: path1 - path0,
        process_cpu: process1 - process0,
        acked,
        delivered: sink.spans() - sink_before,
        errors: tally.errors.load(Ordering::Relaxed),
        first_error,
    }
}
