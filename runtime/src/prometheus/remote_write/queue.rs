//! One endpoint's sender (upstream's queue manager): a reader thread tails the WAL from the
//! endpoint's saved progress, applies `write_relabel_config`, and hands every sample to the
//! shard its series hashes to; each shard batches up to `max_samples_per_send` or
//! `batch_send_deadline` and sends one request at a time, retrying 5xx, 429 (when allowed)
//! and network errors with backoff until they succeed, so a receiver outage backs up into
//! the WAL instead of losing data. Progress (the oldest record some shard still holds) is
//! saved every second, so a restart resends at most that second.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime};

use prom::labels::Labels;
use prom::relabel::{process_labels, NameValidation};
use prom::remote::{compress, encode_v1, encode_v2, Message, SeriesBatch};
use prom::sample::{Exemplar, Histogram, Metadata, SeriesRef};
use prom::wal::{Position, Progress, ReadData, WalReader};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::args::Endpoint;
use super::client::Client;
use crate::component::Context;
use crate::delivery::retry::{with_retry, RetryConfig, SendError};
use crate::metrics::{Counter, Gauge};
use crate::prometheus::scrape::cache::FxMap;

/// Wakes readers when the WAL has grown.
#[derive(Default)]
pub struct Appended {
    generation: Mutex<u64>,
    cond: Condvar,
}

impl Appended {
    pub fn notify(&self) {
        *self.generation.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.cond.notify_all();
    }

    /// Waits until a notification after `seen`, or `timeout`; returns the current generation.
    fn wait(&self, seen: u64, timeout: Duration) -> u64 {
        let g = self.generation.lock().unwrap_or_else(|e| e.into_inner());
        let (g, _) = self.cond.wait_timeout_while(g, timeout, |g| *g == seen).unwrap_or_else(|e| e.into_inner());
        *g
    }

    fn current(&self) -> u64 {
        *self.generation.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One thing a shard sends, with the WAL position of the record it came from.
enum Data {
    Sample(Labels, i64, f64),
    Histogram(Labels, i64, Arc<Histogram>),
    Exemplar(Labels, Exemplar),
}

/// An element's data without its labels (moved into the request's series).
enum Payload {
    Sample(i64, f64),
    Histogram(i64, Arc<Histogram>),
    Exemplar(Exemplar),
}

struct Element {
    data: Data,
    /// The series' metadata, sent inline by remote write 2.0.
    metadata: Option<Arc<Metadata>>,
}

/// The metadata of a sample's family: by its name, else by the name without a suffix a
/// family's series carry (`_total`, `_bucket`, `_sum`, `_count`, `_created`, `_info`).
fn family_metadata(metadata: &HashMap<String, Arc<Metadata>>, labels: &Labels) -> Option<Arc<Metadata>> {
    let name = labels.metric_name()?;
    metadata.get(name).cloned().or_else(|| {
        ["_total", "_bucket", "_sum", "_count", "_created", "_info"].iter().find_map(|s| name.strip_suffix(s).and_then(|f| metadata.get(f)).cloned())
    })
}

#[derive(Clone)]
pub struct QueueMetrics {
    pub samples: Counter,
    pub histograms: Counter,
    pub exemplars: Counter,
    pub metadata: Counter,
    pub failed: Counter,
    pub retried: Counter,
    pub dropped: Counter,
    pub bytes: Counter,
    pub pending: Gauge,
    pub shards: Gauge,
    pub highest_sent: Gauge,
}

impl QueueMetrics {
    pub fn new(ctx: &Context, e: &Endpoint) -> Self {
        let labels = [("remote_name", e.name.as_str()), ("url", e.url.as_str())];
        let c = |n: &str, h: &str| ctx.counter(n, h, &labels);
        let g = |n: &str, h: &str| ctx.gauge(n, h, &labels);
        QueueMetrics {
            samples: c("prometheus_remote_storage_samples_total", "Total number of samples sent to remote storage."),
            histograms: c("prometheus_remote_storage_histograms_total", "Total number of histograms sent to remote storage."),
            exemplars: c("prometheus_remote_storage_exemplars_total", "Total number of exemplars sent to remote storage."),
            metadata: c("prometheus_remote_storage_metadata_total", "Total number of metadata entries sent to remote storage."),
            failed: c("prometheus_remote_storage_samples_failed_total", "Total number of samples which failed on send to remote storage, non-recoverable errors."),
            retried: c("prometheus_remote_storage_samples_retried_total", "Total number of samples which failed on send to remote storage but were retried because the send error was recoverable."),
            dropped: c("prometheus_remote_storage_samples_dropped_total", "Total number of samples which were dropped after being read from the WAL before being sent via remote write, either via relabelling, due to being too old or unintentionally because of an unknown reference ID."),
            bytes: c("prometheus_remote_storage_bytes_total", "The total number of bytes of data (not metadata) sent by the queue after compression."),
            pending: g("prometheus_remote_storage_samples_pending", "The number of samples pending in the queues shards to be sent to the remote storage."),
            shards: g("prometheus_remote_storage_shards", "The number of shards used for parallel sending to the remote storage."),
            highest_sent: g("prometheus_remote_storage_queue_highest_sent_timestamp_seconds", "Timestamp from a WAL sample, the highest timestamp successfully sent by this queue, in seconds since epoch."),
        }
    }
}

/// Per shard, the WAL records it holds elements of, oldest first, as (record start, count):
/// the front is the oldest position the shard still needs.
type Watermarks = Arc<Mutex<Vec<VecDeque<(Position, usize)>>>>;

/// Forgets the `n` oldest elements of a shard's record list.
fn release(w: &mut VecDeque<(Position, usize)>, mut n: usize) {
    while n > 0 {
        let Some(front) = w.front_mut() else { return };
        if front.1 > n {
            front.1 -= n;
            return;
        }
        n -= front.1;
        w.pop_front();
    }
}

pub struct Queue {
    pub endpoint: Arc<Endpoint>,
    pub external: Labels,
    pub wal_dir: std::path::PathBuf,
    pub appended: Arc<Appended>,
    pub metrics: QueueMetrics,
    pub component_id: String,
    /// Where to start when the endpoint has no saved progress (the WAL's end at start-up).
    pub fresh_start: Position,
}

impl Queue {
    pub fn progress(&self) -> Progress {
        Progress::new(&self.wal_dir, &progress_name(&self.endpoint.name))
    }

    /// Runs until `stop`; then flushes what shards hold within a few seconds.
    pub async fn run(self, stop: CancellationToken) {
        let client = match Client::new(&self.endpoint) {
            Ok(c) => Arc::new(c),
            Err(e) => {
                crate::prometheus::log(&self.component_id, tracing::Level::ERROR, &format!("remote_write endpoint {}: {e}", self.endpoint.name));
                return;
            }
        };
        let progress = self.progress();
        let start = match progress.load() {
            Ok(saved) => saved.unwrap_or(self.fresh_start),
            Err(e) => {
                // Unreadable (a save cut short by a power loss): resend everything on disk
                // rather than lose what was not yet sent.
                crate::prometheus::log(&self.component_id, tracing::Level::WARN, &format!("reading remote_write progress: {e}; sending the whole WAL again"));
                Position::default()
            }
        };
        let common = ShardCommon {
            endpoint: self.endpoint.clone(),
            external: self.external.clone(),
            client,
            metrics: self.metrics.clone(),
            watermarks: Arc::new(Mutex::new(Vec::new())),
            component_id: self.component_id.clone(),
            stats: Arc::new(SendStats::default()),
        };
        let factory = ShardFactory { common: Arc::new(common), stop: stop.clone(), runtime: tokio::runtime::Handle::current() };
        let reading_stopped = Arc::new(AtomicBool::new(false));
        let reader = {
            let q = ReaderThread {
                dir: self.wal_dir.clone(),
                start,
                endpoint: self.endpoint.clone(),
                appended: self.appended.clone(),
                shards: factory,
                progress,
                stop: reading_stopped.clone(),
                metrics: self.metrics.clone(),
                component_id: self.component_id.clone(),
            };
            std::thread::Builder::new().name(format!("remote-write-{}", self.endpoint.name)).spawn(move || q.run())
        };
        stop.cancelled().await;
        reading_stopped.store(true, Ordering::SeqCst);
        self.appended.notify();
        if let Ok(handle) = reader {
            let _ = tokio::task::spawn_blocking(move || handle.join()).await;
        }
    }
}

/// What shards report for resharding: samples sent and the time their sends took.
#[derive(Default)]
struct SendStats {
    samples: std::sync::atomic::AtomicU64,
    nanos: std::sync::atomic::AtomicU64,
}

/// What every shard of an endpoint shares.
struct ShardCommon {
    endpoint: Arc<Endpoint>,
    external: Labels,
    client: Arc<Client>,
    metrics: QueueMetrics,
    watermarks: Watermarks,
    component_id: String,
    stats: Arc<SendStats>,
}

/// Starts and stops shard sets; the reader thread owns it.
struct ShardFactory {
    common: Arc<ShardCommon>,
    stop: CancellationToken,
    runtime: tokio::runtime::Handle,
}

/// The running shards: where the reader sends, and their tasks.
struct ShardSet {
    /// Elements go in chunks of at most `max_samples_per_send`, in WAL order.
    senders: Vec<mpsc::Sender<Vec<Element>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl ShardFactory {
    fn start(&self, n: usize) -> ShardSet {
        let c = &self.common;
        *c.watermarks.lock().unwrap_or_else(|e| e.into_inner()) = vec![VecDeque::new(); n];
        c.metrics.shards.set(n as f64);
        let per_shard = (c.endpoint.queue.capacity / n).max(c.endpoint.queue.max_samples_per_send);
        let mut set = ShardSet { senders: Vec::with_capacity(n), tasks: Vec::with_capacity(n) };
        for index in 0..n {
            // The queue holds about `per_shard` elements, in chunks of up to a request's worth.
            let chunks = (per_shard / c.endpoint.queue.max_samples_per_send.max(1)).max(2);
            let (tx, rx) = mpsc::channel::<Vec<Element>>(chunks);
            set.senders.push(tx);
            let shard = Shard { index, common: c.clone() };
            set.tasks.push(self.runtime.spawn(shard.run(rx, self.stop.clone())));
        }
        set
    }

    /// Closes the shards' queues and waits until they have sent what they hold (or the
    /// component stops): a series must not be in two shards at once, or its samples could
    /// arrive out of order.
    fn drain(&self, set: ShardSet) {
        drop(set.senders);
        self.runtime.block_on(async {
            for t in set.tasks {
                let _ = tokio::time::timeout(Duration::from_secs(30), t).await;
            }
        });
    }
}

/// Upstream's shard calculation, simplified: enough shards to send what comes in, plus 5 %
/// of the backlog per second, at the measured time per sample; changes under 30 % are
/// ignored.
fn desired_shards(current: usize, min: usize, max: usize, in_rate: f64, pending: f64, seconds_per_sample: f64) -> usize {
    if seconds_per_sample <= 0.0 {
        return current;
    }
    let desired = (seconds_per_sample * (in_rate + 0.05 * pending)).ceil() as usize;
    let desired = desired.clamp(min.max(1), max.max(min.max(1)));
    let (lo, hi) = (current as f64 * 0.7, current as f64 * 1.3);
    if (desired as f64) > lo && (desired as f64) < hi {
        current
    } else {
        desired
    }
}

/// The progress file name of an endpoint (its name, made safe for a file name).
pub fn progress_name(endpoint: &str) -> String {
    endpoint.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

struct ReaderThread {
    dir: std::path::PathBuf,
    start: Position,
    endpoint: Arc<Endpoint>,
    appended: Arc<Appended>,
    shards: ShardFactory,
    progress: Progress,
    stop: Arc<AtomicBool>,
    metrics: QueueMetrics,
    component_id: String,
}

impl ReaderThread {
    fn log(&self, level: tracing::Level, msg: &str) {
        crate::prometheus::log(&self.component_id, level, msg);
    }

    fn run(self) {
        let mut reader = match WalReader::open_interning(&self.dir, self.start, Some(crate::prometheus::series_store())) {
            Ok(r) => r,
            Err(e) => {
                self.log(tracing::Level::ERROR, &format!("cannot read the WAL for endpoint {}: {e}", self.endpoint.name));
                return;
            }
        };
        // Per WAL series: its labels after write_relabel_config (None: dropped) and its shard
        // hash, computed once.
        let mut resolved: FxMap<SeriesRef, Option<(Labels, u64)>> = FxMap::default();
        let mut metadata: HashMap<String, Arc<Metadata>> = HashMap::new();
        // Nothing saved yet: the first save writes the start itself, so a restart before
        // anything was sent resumes there rather than at the log's end.
        let mut last_saved = (Instant::now() - Duration::from_secs(2), None);
        let mut last_metadata = Instant::now();
        let mut generation = self.appended.current();
        let q = &self.endpoint.queue;
        let mut set = self.shards.start(q.min_shards.max(1));
        let v2 = self.endpoint.message == Message::V2;
        let (mut dispatched, mut last_check) = (0u64, Instant::now());
        let (mut sent_before, mut nanos_before, mut dispatched_before) = (0u64, 0u64, 0u64);
        while !self.stop.load(Ordering::SeqCst) {
            if last_check.elapsed() >= Duration::from_secs(10) {
                let dt = last_check.elapsed().as_secs_f64();
                let sent = self.shards.common.stats.samples.load(Ordering::Relaxed);
                let nanos = self.shards.common.stats.nanos.load(Ordering::Relaxed);
                let per_sample = if sent > sent_before { (nanos - nanos_before) as f64 / 1e9 / (sent - sent_before) as f64 } else { 0.0 };
                let in_rate = (dispatched - dispatched_before) as f64 / dt;
                let pending = self.metrics.pending.get().max(0.0);
                let n = set.senders.len();
                let want = desired_shards(n, q.min_shards, q.max_shards, in_rate, pending, per_sample);
                if want != n {
                    self.log(tracing::Level::INFO, &format!("remote_write endpoint {}: resharding from {n} to {want}", self.endpoint.name));
                    self.shards.drain(set);
                    set = self.shards.start(want);
                }
                (sent_before, nanos_before, dispatched_before, last_check) = (sent, nanos, dispatched, Instant::now());
            }
            let before = reader.position();
            let item = match reader.next() {
                Ok(i) => i,
                Err(e) => {
                    self.log(tracing::Level::ERROR, &format!("reading the WAL: {e}"));
                    std::thread::sleep(Duration::from_secs(1));
                    continue;
                }
            };
            for w in reader.take_warnings() {
                self.log(tracing::Level::WARN, &w.to_string());
            }
            let Some(item) = item else {
                // Caught up (after every append): still at most one save a second.
                self.save_progress(&reader, &mut last_saved, false);
                self.send_metadata(&mut metadata, &mut last_metadata);
                generation = self.appended.wait(generation, Duration::from_secs(1));
                continue;
            };
            if resolved.len() > 2 * reader.series_count() + 1024 {
                // Series truncated from the WAL: start the cache afresh.
                resolved.clear();
            }
            let rules = &self.endpoint.write_relabel;
            // Without write_relabel_config a series goes out as read and its shard follows
            // from its WAL ref (as Prometheus shards): no per-series state. With rules, the
            // result and the shard (by the output labels, so series the rules merge stay in
            // one shard) are computed once per series.
            let mut relabel = |r: SeriesRef, l: Labels| -> Option<(Labels, u64)> {
                if rules.is_empty() {
                    return Some((l, r.0.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 16));
                }
                let (out, hash) = resolved
                    .entry(r)
                    .or_insert_with(|| {
                        process_labels(rules, &l, NameValidation::Legacy).filter(|l| !l.is_empty()).map(|l| {
                            let h = l.stable_hash();
                            (l, h)
                        })
                    })
                    .as_ref()?;
                Some((out.clone(), *hash))
            };
            let mut out: Vec<(u64, Element)> = Vec::new();
            match item.data {
                ReadData::Samples(samples) => {
                    for s in samples {
                        match relabel(s.series, s.labels) {
                            Some((l, hash)) => {
                                out.push((hash, Element { metadata: v2.then(|| family_metadata(&metadata, &l)).flatten(), data: Data::Sample(l, s.t, s.v) }))
                            }
                            None => self.metrics.dropped.inc(),
                        }
                    }
                }
                ReadData::Histograms(hs) => {
                    for h in hs {
                        if !self.endpoint.send_native_histograms {
                            continue;
                        }
                        if let Some((l, hash)) = relabel(h.series, h.labels) {
                            out.push((
                                hash,
                                Element { metadata: v2.then(|| family_metadata(&metadata, &l)).flatten(), data: Data::Histogram(l, h.t, h.histogram) },
                            ));
                        }
                    }
                }
                ReadData::Exemplars(es) => {
                    for e in es {
                        if !self.endpoint.send_exemplars {
                            continue;
                        }
                        if let Some((l, hash)) = relabel(e.series, e.labels) {
                            out.push((hash, Element { metadata: None, data: Data::Exemplar(l, e.exemplar) }));
                        }
                    }
                }
                ReadData::Metadata(ms) => {
                    for m in ms {
                        metadata.insert(m.metadata.metric_family.clone(), m.metadata);
                    }
                }
            }
            let shards = set.senders.len();
            let routed: Vec<(usize, Element)> = out.into_iter().map(|(hash, el)| ((hash % shards as u64) as usize, el)).collect();
            dispatched += routed.len() as u64;
            {
                // Recorded before sending, so a saved progress never passes queued data.
                let mut counts = vec![0usize; shards];
                for (shard, _) in &routed {
                    counts[*shard] += 1;
                }
                let mut w = self.shards.common.watermarks.lock().unwrap_or_else(|e| e.into_inner());
                for (shard, n) in counts.into_iter().enumerate().filter(|(_, n)| *n > 0) {
                    w[shard].push_back((before, n));
                }
            }
            self.metrics.pending.add(routed.len() as f64);
            let chunk = self.endpoint.queue.max_samples_per_send.max(1);
            let mut per_shard: Vec<Vec<Element>> = (0..shards).map(|_| Vec::new()).collect();
            for (shard, el) in routed {
                per_shard[shard].push(el);
            }
            for (shard, mut els) in per_shard.into_iter().enumerate() {
                while !els.is_empty() {
                    let rest = if els.len() > chunk { els.split_off(chunk) } else { Vec::new() };
                    // Blocks while the shard's queue is full: the WAL holds the rest.
                    if set.senders[shard].blocking_send(els).is_err() {
                        return;
                    }
                    els = rest;
                }
            }
            self.save_progress(&reader, &mut last_saved, false);
        }
        self.save_progress(&reader, &mut last_saved, true);
        // The stop token ends the shards; what they could not send stays in the WAL.
        self.shards.drain(set);
    }

    /// Saves the oldest position some shard still needs (at most once a second unless
    /// `force`).
    fn save_progress(&self, reader: &WalReader, last: &mut (Instant, Option<Position>), force: bool) {
        if !force && last.0.elapsed() < Duration::from_secs(1) {
            return;
        }
        let held = self.shards.common.watermarks.lock().unwrap_or_else(|e| e.into_inner()).iter().filter_map(|w| w.front().map(|f| f.0)).min();
        let safe = held.map_or(reader.position(), |h| h.min(reader.position()));
        if last.1 != Some(safe) {
            if let Err(e) = self.progress.save(safe) {
                self.log(tracing::Level::WARN, &format!("saving remote_write progress: {e}"));
            }
        }
        *last = (Instant::now(), Some(safe));
    }

    /// Remote write 1.0 sends metadata in requests of its own, every `send_interval`.
    fn send_metadata(&self, metadata: &mut HashMap<String, Arc<Metadata>>, last: &mut Instant) {
        let m = &self.endpoint.metadata;
        if !m.send || self.endpoint.message != Message::V1 || metadata.is_empty() || last.elapsed() < m.send_interval {
            return;
        }
        *last = Instant::now();
        let all: Vec<Metadata> = metadata.values().map(|m| (**m).clone()).collect();
        let endpoint = self.endpoint.clone();
        let metrics = self.metrics.clone();
        let id = self.component_id.clone();
        let chunk = m.max_samples_per_send.max(1);
        let handle = tokio::runtime::Handle::try_current();
        let task = async move {
            let Ok(client) = Client::new(&endpoint) else { return };
            for part in all.chunks(chunk) {
                let mut body = Vec::new();
                encode_v1(&mut body, &[], &Labels::empty(), part);
                match client.send(&endpoint, compress(&body), 0).await {
                    Ok(()) => metrics.metadata.add(part.len() as u64),
                    Err(e) => crate::prometheus::log(&id, tracing::Level::WARN, &format!("sending metadata: {e}")),
                }
            }
        };
        if let Ok(h) = handle {
            h.spawn(task);
        }
    }
}

struct Shard {
    index: usize,
    common: Arc<ShardCommon>,
}

impl std::ops::Deref for Shard {
    type Target = ShardCommon;

    fn deref(&self) -> &ShardCommon {
        &self.common
    }
}

impl Shard {
    async fn run(self, mut rx: mpsc::Receiver<Vec<Element>>, stop: CancellationToken) {
        let q = &self.endpoint.queue;
        let max = q.max_samples_per_send.max(1);
        let mut pending: Vec<Element> = Vec::with_capacity(max);
        let mut scratch: Vec<SeriesBatch> = Vec::new();
        let mut closed = false;
        loop {
            // The first element of a batch starts its deadline.
            if pending.is_empty() {
                if closed {
                    return;
                }
                tokio::select! {
                    chunk = rx.recv() => match chunk {
                        Some(chunk) => pending.extend(chunk),
                        None => return,
                    },
                    _ = stop.cancelled() => return,
                }
            }
            let deadline = tokio::time::Instant::now() + q.batch_send_deadline;
            while pending.len() < max && !closed {
                match tokio::time::timeout_at(deadline, rx.recv()).await {
                    Ok(Some(chunk)) => pending.extend(chunk),
                    Ok(None) => closed = true,
                    Err(_) => break,
                }
            }
            let batch: Vec<Element> = if pending.len() > max { pending.drain(..max).collect() } else { std::mem::take(&mut pending) };
            let started = Instant::now();
            let n = batch.len();
            if !self.send(batch, &mut scratch, &stop).await {
                // Interrupted by shutdown: the batch stays in the WAL for the next start.
                return;
            }
            self.stats.samples.fetch_add(n as u64, Ordering::Relaxed);
            self.stats.nanos.fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
            release(&mut self.watermarks.lock().unwrap_or_else(|e| e.into_inner())[self.index], n);
            self.metrics.pending.add(-(n as f64));
            if stop.is_cancelled() {
                return;
            }
        }
    }

    /// Sends a batch; false when shutdown interrupted it before it was delivered or given up.
    async fn send(&self, batch: Vec<Element>, series: &mut Vec<SeriesBatch>, stop: &CancellationToken) -> bool {
        let e = &self.endpoint;
        let now_ms = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
        let age_limit = e.queue.sample_age_limit;
        let too_old = |t: i64| !age_limit.is_zero() && t < now_ms - age_limit.as_millis() as i64;
        // A series appears once per scrape, so a batch rarely holds two samples of one series:
        // only neighbours are merged, which needs no index.
        // Reused from the last request (its vectors keep their allocations); `used` are this one's.
        let mut used = 0usize;
        prom::labels::warm(batch.iter().map(|el| match &el.data {
            Data::Sample(l, ..) | Data::Histogram(l, ..) | Data::Exemplar(l, _) => l,
        }));
        let (mut samples, mut histograms, mut exemplars, mut highest) = (0u64, 0u64, 0u64, i64::MIN);
        for el in batch {
            let t = match &el.data {
                Data::Sample(_, t, _) | Data::Histogram(_, t, _) => *t,
                Data::Exemplar(_, ex) => ex.t,
            };
            if too_old(t) {
                self.metrics.dropped.inc();
                continue;
            }
            let (labels, data) = match el.data {
                Data::Sample(l, t, v) => (l, Payload::Sample(t, v)),
                Data::Histogram(l, t, h) => (l, Payload::Histogram(t, h)),
                Data::Exemplar(l, ex) => (l, Payload::Exemplar(ex)),
            };
            if used == 0 || series[used - 1].labels != labels {
                if used == series.len() {
                    series.push(SeriesBatch::default());
                }
                let s = &mut series[used];
                (s.labels, s.metadata) = (labels, el.metadata);
                s.samples.clear();
                s.histograms.clear();
                s.exemplars.clear();
                used += 1;
            }
            let last = &mut series[used - 1];
            match data {
                Payload::Sample(t, v) => {
                    last.samples.push((t, v));
                    samples += 1;
                    highest = highest.max(t);
                }
                Payload::Histogram(t, h) => {
                    last.histograms.push((t, h));
                    histograms += 1;
                    highest = highest.max(t);
                }
                Payload::Exemplar(ex) => {
                    last.exemplars.push(ex);
                    exemplars += 1;
                }
            }
        }
        if used == 0 {
            return true;
        }
        let series = &series[..used];
        let mut body = Vec::with_capacity(64 * series.len());
        match e.message {
            Message::V1 => encode_v1(&mut body, series, &self.external, &[]),
            Message::V2 => encode_v2(&mut body, series, &self.external),
        }
        let body = compress(&body);
        let bytes = body.len() as u64;
        let retry = RetryConfig {
            enabled: true,
            initial_interval: e.queue.min_backoff,
            max_interval: e.queue.max_backoff,
            max_elapsed_time: Duration::ZERO,
            multiplier: 2.0,
            randomization_factor: 0.0,
        };
        let attempt = std::sync::atomic::AtomicU32::new(0);
        let result = with_retry(&retry, stop, || {
            let n = attempt.fetch_add(1, Ordering::SeqCst);
            if n > 0 {
                self.metrics.retried.add(samples + histograms);
            }
            let body = body.clone();
            async move {
                let r = self.client.send(e, body, n).await;
                if let Err(err) = &r {
                    if err.retryable {
                        crate::prometheus::log(&self.component_id, tracing::Level::WARN, &format!("failed to send batch, retrying: {err}"));
                    }
                }
                r
            }
        })
        .await;
        match result {
            Ok(()) => {
                self.metrics.samples.add(samples);
                self.metrics.histograms.add(histograms);
                self.metrics.exemplars.add(exemplars);
                self.metrics.bytes.add(bytes);
                if highest > i64::MIN {
                    self.metrics.highest_sent.set(highest as f64 / 1000.0);
                }
                true
            }
            Err(SendError { retryable: true, .. }) => false,
            Err(SendError { message, .. }) => {
                self.metrics.failed.add(samples + histograms);
                crate::prometheus::log(
                    &self.component_id,
                    tracing::Level::ERROR,
                    &format!("non-recoverable error while sending {} samples: {message}", samples + histograms),
                );
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_follow_the_load_within_bounds() {
        // 10 000 samples/s at 1 ms per 1 000 samples: 10 ms of sending per second, one shard.
        assert_eq!(desired_shards(4, 1, 50, 10_000.0, 0.0, 1e-6), 1);
        // 1 M samples/s at 10 µs each: 10 shards.
        assert_eq!(desired_shards(1, 1, 50, 1_000_000.0, 0.0, 1e-5), 10);
        assert_eq!(desired_shards(1, 1, 4, 1_000_000.0, 0.0, 1e-5), 4, "max_shards caps");
        assert_eq!(desired_shards(10, 1, 50, 1_000_000.0, 100_000.0, 1.1e-5), 10, "within 30 %: no change");
        assert_eq!(desired_shards(3, 2, 50, 0.0, 0.0, 1e-6), 2, "min_shards floors");
        assert_eq!(desired_shards(3, 1, 50, 5.0, 0.0, 0.0), 3, "no sends measured yet");
    }

    #[test]
    fn release_forgets_the_oldest_elements() {
        let mut w: VecDeque<(Position, usize)> = [(Position::new(0, 10), 2), (Position::new(0, 20), 3)].into_iter().collect();
        release(&mut w, 3);
        assert_eq!(w.iter().copied().collect::<Vec<_>>(), [(Position::new(0, 20), 2)]);
        release(&mut w, 5);
        assert!(w.is_empty());
    }
}
