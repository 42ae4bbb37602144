//! One endpoint's sender: batches entries per tenant, sends a batch when the next entry would
//! take it past `batch_size` or when it is `batch_wait` old, and retries 5xx, 429 (unless
//! `retry_on_http_429 = false`) and network errors with backoff from `min_backoff_period` to
//! `max_backoff_period`, `max_backoff_retries` times (0: until delivered). Other statuses drop
//! the batch, counted by reason.
//!
//! Fed from the WAL (`wal.rs`), a sender acknowledges each batch's records once the batch is
//! sent or dropped, and a batch it has not finished when it stops (retries cut short, the
//! drain timeout, a restart for new arguments) is neither acknowledged nor counted as dropped:
//! it is still in the WAL and is read and sent again at the next start.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use loki::push::encode_request;
use loki::Entry;
use tokio::sync::{mpsc, OwnedSemaphorePermit};
use tokio_util::sync::CancellationToken;

use super::args::Endpoint;
use super::batch::{entry_size, Batch};
use super::wal::Ack;
use crate::component::Context;
use crate::metrics::{Counter, Histogram};

/// An entry and the tenant it goes to (empty: none).
pub type Routed = (String, Entry);

/// Entries for an endpoint with their share of its `queue_config.capacity` (the permit's bytes
/// stay taken until the batch holding the entries is sent or dropped) and, read from the WAL,
/// the record they came from.
pub type Queued = (Vec<Routed>, OwnedSemaphorePermit, Option<Ack>);

/// Why entries were dropped, as upstream's `reason` label says.
const INGESTER_ERROR: &str = "ingester_error";
const RATE_LIMITED: &str = "rate_limited";
const STREAM_LIMITED: &str = "stream_limited";

/// `host:port` of an endpoint URL, the `host` label of its metrics.
fn host_of(url: &str) -> String {
    let host = reqwest::Url::parse(url).ok().and_then(|u| {
        u.host_str().map(|h| match u.port() {
            Some(p) => format!("{h}:{p}"),
            None => h.to_string(),
        })
    });
    host.unwrap_or_default()
}

/// An endpoint's sent-bytes, sent-entries and retries counters.
fn counters(ctx: &Context, host: &str) -> (Counter, Counter, Counter) {
    let l = [("host", host)];
    (
        ctx.counter("loki_write_sent_bytes_total", "Number of bytes sent.", &l),
        ctx.counter("loki_write_sent_entries_total", "Number of log entries sent to the ingester.", &l),
        ctx.counter("loki_write_batch_retries_total", "Number of times batches has had to be retried.", &l),
    )
}

/// Registers an endpoint's counters when the component is built, so they are there before
/// anything is sent.
pub fn register(ctx: &Context, endpoint: &Endpoint) {
    let _ = counters(ctx, &host_of(&endpoint.url));
}

pub struct Sender {
    pub ctx: Context,
    pub endpoint: Endpoint,
    pub max_streams: usize,
    pub client: reqwest::Client,
    host: String,
    sent_bytes: Counter,
    sent_entries: Counter,
    retries: Counter,
    duration: BTreeMap<u16, Histogram>,
    /// Fed from the WAL: batches not finished when stopping stay in it.
    wal: Option<WalStop>,
}

/// How a WAL-fed sender stops: `drain` (set before the stop token is cancelled) says whether
/// it sends what it holds first (component shutdown) or leaves it to the WAL (new arguments).
#[derive(Clone)]
pub struct WalStop {
    pub drain: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// What a failed send means for the batch.
enum Failure {
    Retry(String),
    Drop { reason: &'static str, message: String },
}

impl Sender {
    pub fn new(ctx: Context, endpoint: Endpoint, max_streams: usize) -> Result<Self, String> {
        let client = endpoint.client.client(Some(endpoint.remote_timeout), &crate::http_client::user_agent())?;
        let host = host_of(&endpoint.url);
        let (sent_bytes, sent_entries, retries) = counters(&ctx, &host);
        Ok(Sender { sent_bytes, sent_entries, retries, duration: BTreeMap::new(), ctx, endpoint, max_streams, client, host, wal: None })
    }

    /// A sender fed from the WAL.
    pub fn with_wal(mut self, stop: WalStop) -> Self {
        self.wal = Some(stop);
        self
    }

    fn dropped(&self, reason: &str, tenant: &str, entries: u64, bytes: u64) {
        let l = [("host", self.host.as_str()), ("reason", reason), ("tenant", tenant)];
        self.ctx
            .counter("loki_write_dropped_entries_total", "Number of log entries dropped because failed to be sent to the ingester after all retries.", &l)
            .add(entries);
        self.ctx
            .counter("loki_write_dropped_bytes_total", "Number of bytes dropped because failed to be sent to the ingester after all retries.", &l)
            .add(bytes);
    }

    fn observe(&mut self, status: u16, seconds: f64) {
        let (ctx, host) = (&self.ctx, self.host.as_str());
        let code = status.to_string();
        self.duration
            .entry(status)
            .or_insert_with(|| {
                ctx.histogram(
                    "loki_write_request_duration_seconds",
                    "Duration of send requests.",
                    &[("status_code", code.as_str()), ("host", host)],
                    &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0],
                )
            })
            .observe(seconds);
    }

    /// Runs until `stop` (or until its queue closes), then sends what it holds (giving up on
    /// retries after the queue's `drain_timeout`). Fed from the WAL, retries end at `stop`
    /// too, and without `drain` it returns at once, leaving what it holds to the WAL.
    pub async fn run(mut self, mut rx: mpsc::Receiver<Queued>, stop: CancellationToken) {
        let mut batches: BTreeMap<String, Batch> = BTreeMap::new();
        let tick = (self.endpoint.batch_wait / 10).clamp(Duration::from_millis(10), Duration::from_secs(1));
        let mut ticker = tokio::time::interval(tick);
        // Without the WAL a batch being retried is seen through (it exists nowhere else).
        let never = CancellationToken::new();
        let retry_until = if self.wal.is_some() { stop.clone() } else { never };
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                got = rx.recv() => match got {
                    Some((entries, permit, ack)) => self.add_all(&mut batches, entries, permit, ack, &retry_until).await,
                    None => break,
                },
                _ = ticker.tick() => {
                    let due: Vec<String> = batches.iter().filter(|(_, b)| b.age() >= self.endpoint.batch_wait).map(|(t, _)| t.clone()).collect();
                    for tenant in due {
                        if let Some(b) = batches.remove(&tenant) {
                            self.send(&tenant, b, &retry_until).await;
                        }
                    }
                }
            }
        }
        if let Some(w) = &self.wal {
            if !w.drain.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
        }
        // Draining: what is queued, then every batch; retries end with the drain timeout.
        let drain = CancellationToken::new();
        let guard = {
            let drain = drain.clone();
            let after = self.endpoint.queue.drain_timeout;
            tokio::spawn(async move {
                tokio::time::sleep(after).await;
                drain.cancel();
            })
        };
        while let Ok((entries, permit, ack)) = rx.try_recv() {
            self.add_all(&mut batches, entries, permit, ack, &drain).await;
        }
        for (tenant, b) in std::mem::take(&mut batches) {
            self.send(&tenant, b, &drain).await;
        }
        guard.abort();
    }

    /// Adds queued entries, each batch keeping its entries' share of the permit.
    async fn add_all(
        &mut self,
        batches: &mut BTreeMap<String, Batch>,
        entries: Vec<Routed>,
        permit: OwnedSemaphorePermit,
        ack: Option<Ack>,
        stop: &CancellationToken,
    ) {
        let mut permit = Some(permit);
        let last = entries.len().saturating_sub(1);
        for (i, (tenant, e)) in entries.into_iter().enumerate() {
            let share = if i == last { permit.take() } else { permit.as_mut().and_then(|p| p.split((entry_size(&e) as usize).min(p.num_permits()))) };
            self.add(batches, tenant, e, share, ack.as_ref(), stop).await;
        }
    }

    async fn add(
        &mut self,
        batches: &mut BTreeMap<String, Batch>,
        tenant: String,
        e: Entry,
        share: Option<OwnedSemaphorePermit>,
        ack: Option<&Ack>,
        stop: &CancellationToken,
    ) {
        let size = entry_size(&e);
        if let Some(b) = batches.get(&tenant) {
            if !b.is_empty() && b.bytes() + size > self.endpoint.batch_size {
                if let Some(full) = batches.remove(&tenant) {
                    self.send(&tenant, full, stop).await;
                }
            }
        }
        let b = batches.entry(tenant.clone()).or_insert_with(Batch::new);
        if self.max_streams > 0 && b.is_new_stream(&e.labels) && b.streams() >= self.max_streams {
            self.dropped(STREAM_LIMITED, &tenant, 1, size);
            if let Some(a) = ack {
                a.finish(1);
            }
            return;
        }
        b.add(e);
        if let Some(p) = share {
            b.hold(p);
        }
        if let Some(a) = ack {
            b.ack(a);
        }
    }

    async fn send(&mut self, tenant: &str, mut batch: Batch, stop: &CancellationToken) {
        if self.wal.is_some() && stop.is_cancelled() {
            // Stopping: left to the WAL without an attempt.
            return;
        }
        let (entries, bytes) = (batch.entries(), batch.bytes());
        // Released (and acknowledged) when this returns, sent or dropped.
        let (_permits, acks) = batch.take_holds();
        let body = encode_request(&batch.into_streams());
        let mut attempt: i64 = 0;
        let mut delay = self.endpoint.min_backoff;
        loop {
            let started = Instant::now();
            let result = self.attempt(tenant, body.clone()).await;
            let (status, failure) = match result {
                Ok(status) => (Some(status), None),
                Err((status, f)) => (status, Some(f)),
            };
            if let Some(s) = status {
                self.observe(s, started.elapsed().as_secs_f64());
            }
            let message = match failure {
                None => {
                    self.sent_bytes.add(bytes);
                    self.sent_entries.add(entries);
                    acks.finish();
                    return;
                }
                Some(Failure::Drop { reason, message }) => {
                    self.log(&format!("final error sending batch, dropping it: {message}"));
                    self.dropped(reason, tenant, entries, bytes);
                    acks.finish();
                    return;
                }
                Some(Failure::Retry(message)) => message,
            };
            attempt += 1;
            let retries = self.endpoint.max_backoff_retries;
            let exhausted = retries > 0 && attempt > retries;
            if !exhausted && stop.is_cancelled() && self.wal.is_some() {
                self.log(&format!("error sending batch, stopping: it stays in the WAL and is sent again at the next start: {message}"));
                return;
            }
            if exhausted || stop.is_cancelled() {
                self.log(&format!("final error sending batch, no retries left: {message}"));
                let reason = if status == Some(429) { RATE_LIMITED } else { INGESTER_ERROR };
                self.dropped(reason, tenant, entries, bytes);
                acks.finish();
                return;
            }
            self.retries.inc();
            self.log(&format!("error sending batch, will retry: {message}"));
            tokio::select! {
                _ = stop.cancelled() => {}
                _ = tokio::time::sleep(delay) => {}
            }
            delay = (delay * 2).min(self.endpoint.max_backoff);
        }
    }

    fn log(&self, msg: &str) {
        crate::component::log(self.ctx.id(), tracing::Level::WARN, msg);
    }

    /// One request; the status it got, if any.
    async fn attempt(&self, tenant: &str, body: Vec<u8>) -> Result<u16, (Option<u16>, Failure)> {
        let e = &self.endpoint;
        let mut req = self.client.post(&e.url).header("Content-Type", "application/x-protobuf").header("Content-Encoding", "snappy").body(body);
        if !tenant.is_empty() {
            req = req.header("X-Scope-OrgID", tenant);
        }
        for (k, v) in &e.headers {
            req = req.header(k, v);
        }
        match e.client.authorization_header() {
            Ok(Some(auth)) => req = req.header("Authorization", auth),
            Ok(None) => {}
            Err(err) => return Err((None, Failure::Retry(err))),
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(err) => return Err((None, Failure::Retry(format!("Post {:?}: {}", e.url, crate::http_client::describe_error(&err))))),
        };
        let status = resp.status();
        if status.is_success() {
            return Ok(status.as_u16());
        }
        let body = resp.bytes().await.unwrap_or_default();
        let first_line = String::from_utf8_lossy(&body[..body.len().min(1024)]).lines().next().unwrap_or_default().to_string();
        let message = format!("server returned HTTP status {} ({}): {first_line}", status_text(status), status.as_u16());
        let code = Some(status.as_u16());
        if status.is_server_error() || (status.as_u16() == 429 && e.retry_on_http_429) {
            Err((code, Failure::Retry(message)))
        } else if status.as_u16() == 429 {
            Err((code, Failure::Drop { reason: RATE_LIMITED, message }))
        } else {
            Err((code, Failure::Drop { reason: INGESTER_ERROR, message }))
        }
    }
}

fn status_text(s: reqwest::StatusCode) -> String {
    format!("{} {}", s.as_u16(), s.canonical_reason().unwrap_or(""))
}
