//! `prometheus.remote_write`: every batch given to `receiver` is appended to a write-ahead
//! log under `<storage.path>/<component id>/wal` first; one queue per `endpoint`
//! (`queue.rs`) tails the log and sends remote-write requests (`client.rs`). The log is
//! truncated every `wal.truncate_frequency` behind the slowest endpoint, within the keepalive
//! bounds.

pub mod args;
pub mod client;
pub mod queue;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use eval::{Object, Value};
use prom::sample::Batch;
use prom::wal::{Keepalive, Progress, Wal, WalOptions};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::receiver::{AppendError, Appendable, ReceiverHandle};
use crate::component::args::decode_checked;
use crate::component::{BoxFuture, Component, ComponentError, Context, Registration};
use crate::metrics::{Counter, Gauge};
use args::Args;
use queue::{progress_name, Appended, Queue, QueueMetrics};

const NAME: &str = "prometheus.remote_write";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["receiver"], build);

struct WalMetrics {
    samples_appended: Counter,
    exemplars_appended: Counter,
    histograms_appended: Counter,
    active_series: Gauge,
    highest_timestamp: Gauge,
    segment_current: Gauge,
    truncations: Counter,
    corruptions: Counter,
}

struct Writer {
    wal: Mutex<Wal>,
    appended: Arc<Appended>,
    metrics: WalMetrics,
    id: String,
}

impl Appendable for Writer {
    fn append(&self, batch: &Batch) -> Result<(), AppendError> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut wal = self.wal.lock().unwrap_or_else(|e| e.into_inner());
        let pos = wal.append(batch).map_err(|e| AppendError(format!("writing the WAL: {e}")))?;
        let series = wal.series_count();
        drop(wal);
        self.appended.notify();
        let m = &self.metrics;
        m.samples_appended.add(batch.samples.len() as u64);
        m.histograms_appended.add(batch.histograms.len() as u64);
        m.exemplars_appended.add(batch.exemplars.len() as u64);
        m.active_series.set(series as f64);
        m.segment_current.set(f64::from(pos.segment));
        if let Some(t) = batch.samples.iter().map(|s| s.t).chain(batch.histograms.iter().map(|h| h.t)).max() {
            if t as f64 / 1000.0 > m.highest_timestamp.get() {
                m.highest_timestamp.set(t as f64 / 1000.0);
            }
        }
        Ok(())
    }
}

pub struct RemoteWrite {
    ctx: Context,
    writer: Arc<Writer>,
    args: watch::Sender<Arc<Args>>,
}

fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    let args: Args = decode_checked(NAME, &args)?;
    Ok(RemoteWrite::new(ctx, args)?)
}

impl RemoteWrite {
    fn new(ctx: Context, args: Args) -> Result<Arc<RemoteWrite>, ComponentError> {
        let dir = ctx.data_path().join("wal");
        // An older layout kept the log in `wal/<component id>`; upstream deletes it at start.
        let old = dir.join(ctx.id());
        if old.is_dir() {
            let _ = std::fs::remove_dir_all(&old);
        }
        let (wal, warnings) = Wal::open(&dir, WalOptions::default()).map_err(|e| ComponentError(format!("opening the WAL at {}: {e}", dir.display())))?;
        let c = |n: &str, h: &str| ctx.counter(n, h, &[]);
        let metrics = WalMetrics {
            samples_appended: c("prometheus_remote_write_wal_samples_appended_total", "Total number of samples appended to the WAL"),
            exemplars_appended: c("prometheus_remote_write_wal_exemplars_appended_total", "Total number of exemplars appended to the WAL"),
            histograms_appended: c("prometheus_remote_write_wal_histograms_appended_total", "Total number of histograms appended to the WAL"),
            active_series: ctx.gauge(
                "prometheus_remote_write_wal_storage_active_series",
                "Current number of active series being tracked by the WAL storage",
                &[],
            ),
            highest_timestamp: ctx.gauge(
                "prometheus_remote_storage_highest_timestamp_in_seconds",
                "Highest timestamp that has come into the remote storage via the Appender interface, in seconds since epoch.",
                &[],
            ),
            segment_current: ctx.gauge("prometheus_tsdb_wal_segment_current", "Write log segment index that TSDB is currently writing to.", &[]),
            truncations: c("prometheus_tsdb_wal_truncations_total", "Total number of write log truncations attempted."),
            corruptions: c("prometheus_tsdb_wal_corruptions_total", "Total number of WAL corruptions."),
        };
        for w in &warnings {
            metrics.corruptions.inc();
            crate::prometheus::log(ctx.id(), tracing::Level::WARN, &w.to_string());
        }
        metrics.active_series.set(wal.series_count() as f64);
        // The queues register theirs when they start; doing it now makes /metrics complete at once.
        for e in &args.endpoints {
            QueueMetrics::new(&ctx, e);
        }
        let writer = Arc::new(Writer { wal: Mutex::new(wal), appended: Arc::new(Appended::default()), metrics, id: ctx.id().to_string() });
        let mut exports = Object::new();
        exports.insert("receiver", ReceiverHandle::new(ctx.id(), writer.clone()).tapped(&ctx).to_value());
        ctx.set_exports(Value::object(exports));
        let (tx, _) = watch::channel(Arc::new(args));
        Ok(Arc::new(RemoteWrite { ctx, writer, args: tx }))
    }

    fn queues(&self, args: &Args, stop: &CancellationToken) -> Vec<tokio::task::JoinHandle<()>> {
        let wal_dir = self.ctx.data_path().join("wal");
        let fresh_start = self.writer.wal.lock().unwrap_or_else(|e| e.into_inner()).position();
        args.endpoints
            .iter()
            .map(|e| {
                let q = Queue {
                    endpoint: Arc::new(e.clone()),
                    external: args.external_labels.clone(),
                    wal_dir: wal_dir.clone(),
                    appended: self.writer.appended.clone(),
                    metrics: QueueMetrics::new(&self.ctx, e),
                    component_id: self.ctx.id().to_string(),
                    fresh_start,
                };
                tokio::spawn(q.run(stop.child_token()))
            })
            .collect()
    }

    /// Cuts the WAL behind the slowest endpoint, within the keepalive bounds.
    fn truncate(&self, args: &Args) {
        let wal_dir = self.ctx.data_path().join("wal");
        let names: Vec<String> = args.endpoints.iter().map(|e| progress_name(&e.name)).collect();
        let needed = names.iter().filter_map(|n| Progress::new(&wal_dir, n).load().ok().flatten()).min();
        // Progress of endpoints that are gone must not hold the log.
        for (name, _) in Progress::list(&wal_dir).unwrap_or_default() {
            if !names.contains(&name) {
                let _ = Progress::new(&wal_dir, &name).remove();
            }
        }
        let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
        let keepalive = Keepalive { min: args.wal.min_keepalive_time, max: args.wal.max_keepalive_time };
        let min_keep = now - args.wal.min_keepalive_time.as_millis() as i64;
        let mut wal = self.writer.wal.lock().unwrap_or_else(|e| e.into_inner());
        let point = wal.truncation_point(if names.is_empty() { None } else { needed }, now, keepalive);
        self.writer.metrics.truncations.inc();
        match wal.truncate(point, |_, s| s.last_append_ms >= min_keep) {
            Ok(stats) => {
                self.writer.metrics.active_series.set(wal.series_count() as f64);
                crate::prometheus::log(&self.writer.id, tracing::Level::DEBUG, &format!("WAL truncated: {stats:?}"));
            }
            Err(e) => crate::prometheus::log(&self.writer.id, tracing::Level::WARN, &format!("truncating the WAL: {e}")),
        }
    }
}

impl Component for RemoteWrite {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        let args: Args = decode_checked(NAME, &args)?;
        self.args.send_replace(Arc::new(args));
        Ok(())
    }

    fn run(self: Arc<Self>, shutdown: CancellationToken) -> BoxFuture<Result<(), ComponentError>> {
        Box::pin(async move {
            let mut rx = self.args.subscribe();
            loop {
                let args = rx.borrow_and_update().clone();
                let stop = CancellationToken::new();
                let queues = self.queues(&args, &stop);
                let mut truncate = tokio::time::interval(args.wal.truncate_frequency.max(Duration::from_secs(1)));
                truncate.tick().await;
                let done = loop {
                    tokio::select! {
                        _ = shutdown.cancelled() => break true,
                        changed = rx.changed() => break changed.is_err(),
                        _ = truncate.tick() => self.truncate(&args),
                    }
                };
                stop.cancel();
                for q in queues {
                    let _ = q.await;
                }
                if done {
                    break;
                }
            }
            let _ = self.writer.wal.lock().unwrap_or_else(|e| e.into_inner()).sync();
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests;
