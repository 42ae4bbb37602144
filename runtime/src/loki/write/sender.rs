//! One endpoint's sender: batches entries per tenant, sends a batch when the next entry would
//! take it past `batch_size` or when it is `batch_wait` old, and retries 5xx, 429 (unless
//! `retry_on_http_429 = false`) and network errors with backoff from `min_backoff_period` to
//! `max_backoff_period`, `max_backoff_retries` times (0: until delivered). Other statuses drop
//! the batch, counted by reason.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use loki::push::encode_request;
use loki::Entry;
use tokio::sync::{mpsc, OwnedSemaphorePermit};
use tokio_util::sync::CancellationToken;

use super::args::Endpoint;
use super::batch::{entry_size, Batch};
use crate::component::Context;
use crate::metrics::{Counter, Histogram};

/// An entry and the tenant it goes to (empty: none).
pub type Routed = (String, Entry);

/// Entries for an endpoint with their share of its `queue_config.capacity`: the permit's bytes
/// stay taken until the batch holding the entries is sent or dropped.
pub type Queued = (Vec<Routed>, OwnedSemaphorePermit);

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
        Ok(Sender { sent_bytes, sent_entries, retries, duration: BTreeMap::new(), ctx, endpoint, max_streams, client, host })
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

    /// Runs until `stop`, then sends what it holds (giving up on retries after the queue's
    /// `drain_timeout`).
    pub async fn run(mut self, mut rx: mpsc::Receiver<Queued>, stop: CancellationToken) {
        let mut batches: BTreeMap<String, Batch> = BTreeMap::new();
        let tick = (self.endpoint.batch_wait / 10).clamp(Duration::from_millis(10), Duration::from_secs(1));
        let mut ticker = tokio::time::interval(tick);
        let never = CancellationToken::new();
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                got = rx.recv() => match got {
                    Some((entries, permit)) => self.add_all(&mut batches, entries, permit, &never).await,
                    None => break,
                },
                _ = ticker.tick() => {
                    let due: Vec<String> = batches.iter().filter(|(_, b)| b.age() >= self.endpoint.batch_wait).map(|(t, _)| t.clone()).collect();
                    for tenant in due {
                        if let Some(b) = batches.remove(&tenant) {
                            self.send(&tenant, b, &never).await;
                        }
                    }
                }
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
        while let Ok((entries, permit)) = rx.try_recv() {
            self.add_all(&mut batches, entries, permit, &drain).await;
        }
        for (tenant, b) in std::mem::take(&mut batches) {
            self.send(&tenant, b, &drain).await;
        }
        guard.abort();
    }

    /// Adds queued entries, each batch keeping its entries' share of the permit.
    async fn add_all(&mut self, batches: &mut BTreeMap<String, Batch>, entries: Vec<Routed>, permit: OwnedSemaphorePermit, stop: &CancellationToken) {
        let mut permit = Some(permit);
        let last = entries.len().saturating_sub(1);
        for (i, (tenant, e)) in entries.into_iter().enumerate() {
            let share = if i == last { permit.take() } else { permit.as_mut().and_then(|p| p.split((entry_size(&e) as usize).min(p.num_permits()))) };
            self.add(batches, tenant, e, share, stop).await;
        }
    }

    async fn add(&mut self, batches: &mut BTreeMap<String, Batch>, tenant: String, e: Entry, share: Option<OwnedSemaphorePermit>, stop: &CancellationToken) {
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
            return;
        }
        b.add(e);
        if let Some(p) = share {
            b.hold(p);
        }
    }

    async fn send(&mut self, tenant: &str, batch: Batch, stop: &CancellationToken) {
        let (entries, bytes) = (batch.entries(), batch.bytes());
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
                    return;
                }
                Some(Failure::Drop { reason, message }) => {
                    self.log(&format!("final error sending batch, dropping it: {message}"));
                    self.dropped(reason, tenant, entries, bytes);
                    return;
                }
                Some(Failure::Retry(message)) => message,
            };
            attempt += 1;
            let retries = self.endpoint.max_backoff_retries;
            if (retries > 0 && attempt > retries) || stop.is_cancelled() {
                self.log(&format!("final error sending batch, no retries left: {message}"));
                let reason = if status == Some(429) { RATE_LIMITED } else { INGESTER_ERROR };
                self.dropped(reason, tenant, entries, bytes);
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
