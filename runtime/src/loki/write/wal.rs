//! `loki.write`'s write-ahead log (`wal { enabled = true }`), in `<data path>/wal` (the
//! format: `loki::wal`).
//!
//! * Writing: every batch of entries the component receives is appended before its
//!   producer's send returns ([`Log::append`], the receiver's intake). An append is one
//!   `write` and not fsynced: it survives a killed process, not a power loss.
//! * Reading: per endpoint, a task ([`EndpointReader`]) tails the log from the endpoint's saved
//!   position, woken by each append and otherwise polling between `min_read_frequency` and
//!   `max_read_frequency`, and hands the entries to the endpoint's sender (`sender.rs`:
//!   batching, retries, drop counting as without the WAL). `queue_config.capacity` bounds how
//!   far a reader reads ahead of what its sender has finished.
//! * Progress: a [`Tracker`] per endpoint counts the entries of each record still held by the
//!   sender; when a batch is sent or dropped its records are acknowledged, and the end of the
//!   last record before the oldest one with entries still held is saved at once
//!   (`wal/progress/<endpoint name>`, written atomically, not fsynced). A restart, clean or
//!   after `kill -9`, resends from there, so nothing written to the WAL is lost and nothing
//!   an endpoint had not finished is skipped; what is sent twice is what the endpoint had
//!   sent past that point: the batch in flight when the process died (sent, its answer not yet
//!   recorded), and entries of later records (a record is at most about 64 KiB of one
//!   producer's send) already sent in batches while an older record still had entries
//!   waiting: the first part of a record split across two batches, and with several tenants
//!   the batches of one tenant sent while another's older batch waited. A clean stop sends
//!   what it can first (below), so it resends only what it could not.
//! * Removal: every `max_segment_age / 10` (at least every second) the segments last written
//!   more than `max_segment_age` ago that every endpoint has passed are removed (the one being
//!   written is closed first when it qualifies). Unlike upstream, which removes old segments
//!   whether or not they were sent, a segment an endpoint has not finished is kept, however
//!   old, so the WAL grows while an endpoint is down.
//! * Shutdown: endpoints read on for up to `wal.drain_timeout` to catch up with the log, then
//!   send what they hold for up to `queue_config.drain_timeout`; what is left is sent after
//!   the next start. New arguments restart the readers without draining.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use loki::wal::{Read, Reader, Writer};
use loki::Entry;
use prom::wal::{LogOptions, Position, Progress};
use tokio::sync::{mpsc, watch, Semaphore};
use tokio_util::sync::CancellationToken;

use super::args::WalConfig;
use super::batch::entry_size;
use super::sender::{Queued, Routed};
use crate::component::{log, ComponentError, Context};
use crate::metrics::{Counter, Gauge};

/// The WAL's directory under the component's data path (upstream's).
pub fn dir(ctx: &Context) -> PathBuf {
    ctx.data_path().join("wal")
}

/// Records a reader reads in one go before handing them on.
const READ_RECORDS: usize = 64;
/// …or this many bytes of entries.
const READ_BYTES: u64 = 4 << 20;

struct LogMetrics {
    last_written: Gauge,
    reclaimed: Counter,
    last_reclaimed: Gauge,
    segment_current: Gauge,
    writes_failed: Counter,
    corruptions: Counter,
}

/// The component's WAL: its writer, and a signal for readers after each append.
pub struct Log {
    id: String,
    dir: PathBuf,
    writer: Mutex<Writer>,
    appended: watch::Sender<u64>,
    m: LogMetrics,
}

fn seconds(ns: i64) -> f64 {
    ns.div_euclid(1_000_000_000) as f64
}

impl Log {
    /// Opens (creating) the WAL; a torn or corrupt tail is cut off with a warning.
    pub fn open(ctx: &Context) -> Result<Arc<Log>, ComponentError> {
        let dir = dir(ctx);
        let (writer, warnings) = Writer::open(&dir, LogOptions::default()).map_err(|e| ComponentError(format!("opening the WAL at {}: {e}", dir.display())))?;
        let m = LogMetrics {
            last_written: ctx.gauge("loki_write_wal_writer_last_written_timestamp", "Latest timestamp that was written to the WAL", &[]),
            reclaimed: ctx.counter_exact("loki_write_wal_writer_reclaimed_space", "Number of bytes reclaimed from storage.", &[]),
            last_reclaimed: ctx.gauge("loki_write_wal_writer_last_reclaimed_segment", "Last reclaimed segment number", &[]),
            segment_current: ctx.gauge("prometheus_tsdb_wal_segment_current", "Write log segment index that TSDB is currently writing to.", &[]),
            writes_failed: ctx.counter("prometheus_tsdb_wal_writes_failed_total", "Total number of write log writes that failed.", &[]),
            corruptions: ctx.counter("prometheus_tsdb_wal_corruptions_total", "Total number of WAL corruptions.", &[]),
        };
        for w in &warnings {
            m.corruptions.inc();
            log(ctx.id(), tracing::Level::WARN, &w.to_string());
        }
        m.segment_current.set(f64::from(writer.position().segment));
        Ok(Arc::new(Log { id: ctx.id().to_string(), dir, writer: Mutex::new(writer), appended: watch::channel(0).0, m }))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the next append goes.
    pub fn position(&self) -> Position {
        self.writer.lock().unwrap_or_else(|e| e.into_inner()).position()
    }

    /// Appends the entries (one `write`) and wakes the readers. A failed write is logged and
    /// counted: its entries are lost, as upstream's.
    pub fn append(&self, entries: &[Entry]) {
        if entries.is_empty() {
            return;
        }
        let mut w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        match w.append(entries) {
            Ok(pos) => {
                drop(w);
                self.appended.send_modify(|g| *g = g.wrapping_add(1));
                self.m.segment_current.set(f64::from(pos.segment));
                if let Some(e) = entries.last() {
                    self.m.last_written.set(seconds(e.timestamp_ns));
                }
            }
            Err(e) => {
                drop(w);
                self.m.writes_failed.inc();
                log(&self.id, tracing::Level::ERROR, &format!("failed to write {} entries to the WAL: {e}", entries.len()));
            }
        }
    }

    fn subscribe(&self) -> watch::Receiver<u64> {
        self.appended.subscribe()
    }

    /// Removes the segments last written more than `max_age` ago that every position in
    /// `needed` (the endpoints' saved progress; empty: nobody needs anything) has passed,
    /// closing the segment being written first when it qualifies. Returns the removed indexes.
    pub fn clean(&self, needed: &[Position], max_age: Duration) -> Vec<u32> {
        let mut w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let head = w.position();
        let min = needed.iter().copied().min().unwrap_or(head);
        let old = |modified: SystemTime| modified.elapsed().is_ok_and(|a| a > max_age);
        let mut removed = Vec::new();
        let res = (|| -> std::io::Result<()> {
            let mut segments = w.segments()?;
            // A quiet log: the segment being written is old and sent; close it so it goes.
            if head.offset > 0 && min >= head && segments.last().is_some_and(|s| s.index == head.segment && old(s.modified)) {
                w.rotate()?;
                segments = w.segments()?;
                self.m.segment_current.set(f64::from(w.position().segment));
            }
            let current = w.position().segment;
            for s in segments.iter().filter(|s| s.index < current) {
                let passed = min.segment > s.index || (min.segment == s.index && min.offset >= s.size);
                if passed && old(s.modified) {
                    w.remove(s.index)?;
                    self.m.reclaimed.add(s.size);
                    self.m.last_reclaimed.set(f64::from(s.index));
                    removed.push(s.index);
                }
            }
            Ok(())
        })();
        if let Err(e) = res {
            log(&self.id, tracing::Level::ERROR, &format!("removing old WAL segments: {e}"));
        }
        removed
    }

    /// Flushes appends to disk (at shutdown).
    pub fn sync(&self) {
        if let Err(e) = self.writer.lock().unwrap_or_else(|e| e.into_inner()).sync() {
            log(&self.id, tracing::Level::WARN, &format!("syncing the WAL: {e}"));
        }
    }
}

/// An endpoint's saved progress: `wal/progress/<name>`.
pub fn progress(log: &Log, endpoint: &str) -> Progress {
    Progress::new(log.dir(), endpoint)
}

/// Makes sure an endpoint has saved progress before anything is appended for it: one seen
/// for the first time starts at the log's end (it is not sent what was written before it was
/// configured), and from then on a restart resumes where it got to.
pub fn ensure_progress(log: &Log, endpoint: &str) {
    let p = progress(log, endpoint);
    if let Ok(None) = p.load() {
        if let Err(e) = p.save(log.position()) {
            crate::component::log(&log.id, tracing::Level::ERROR, &format!("saving WAL progress of endpoint {endpoint}: {e}"));
        }
    }
}

/// Removes old segments every `max_segment_age / 10` (at least every second) until `stop`;
/// forgets the progress of endpoints no longer configured, so they do not hold the log.
pub async fn clean(log: Arc<Log>, endpoints: Vec<String>, max_age: Duration, stop: CancellationToken) {
    let every = (max_age / 10).max(Duration::from_secs(1));
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        let log = log.clone();
        let endpoints = endpoints.clone();
        let _ = tokio::task::spawn_blocking(move || {
            for (name, _) in Progress::list(log.dir()).unwrap_or_default() {
                if !endpoints.contains(&name) {
                    let _ = progress(&log, &name).remove();
                }
            }
            // Unreadable progress resends the whole log: it holds everything.
            let needed: Vec<Position> = endpoints.iter().map(|n| progress(&log, n).load().ok().flatten().unwrap_or_default()).collect();
            log.clean(&needed, max_age)
        })
        .await;
    }
}

/// An endpoint's progress through the log: the records read and handed to its sender, in
/// order, with the count of their entries the sender still holds. The saved position is the
/// end of the last record before the oldest one with entries held.
pub struct Tracker {
    progress: Progress,
    id: String,
    marked: Gauge,
    st: Mutex<TrackerState>,
}

struct TrackerState {
    /// Sequence number of `pending[0]`.
    base: u64,
    pending: VecDeque<(Position, u32)>,
    done: Position,
    saved: Position,
}

impl Tracker {
    fn new(progress: Progress, id: String, marked: Gauge, start: Position) -> Tracker {
        marked.set(f64::from(start.segment));
        Tracker { progress, id, marked, st: Mutex::new(TrackerState { base: 0, pending: VecDeque::new(), done: start, saved: start }) }
    }

    /// Notes a record read (ending at `end`) whose `n` entries go to the sender; its sequence
    /// number for [`Tracker::finish`].
    fn read(&self, end: Position, n: u32) -> u64 {
        let mut st = self.st.lock().unwrap_or_else(|e| e.into_inner());
        let seq = st.base + st.pending.len() as u64;
        st.pending.push_back((end, n));
        self.settle(&mut st);
        seq
    }

    /// `n` entries of record `seq` were sent or dropped.
    fn finish(&self, seq: u64, n: u32) {
        let mut st = self.st.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = seq.checked_sub(st.base) {
            if let Some(p) = st.pending.get_mut(i as usize) {
                p.1 = p.1.saturating_sub(n);
            }
        }
        self.settle(&mut st);
    }

    /// Moves past finished records and saves the new position.
    fn settle(&self, st: &mut TrackerState) {
        while let Some(&(end, 0)) = st.pending.front() {
            st.pending.pop_front();
            st.base += 1;
            st.done = end;
        }
        if st.done != st.saved {
            match self.progress.save(st.done) {
                Ok(()) => {
                    st.saved = st.done;
                    self.marked.set(f64::from(st.done.segment));
                }
                Err(e) => log(&self.id, tracing::Level::WARN, &format!("saving WAL progress: {e}")),
            }
        }
    }
}

/// The record entries came from: the sender acknowledges them when their batch is finished.
pub struct Ack {
    tracker: Arc<Tracker>,
    seq: u64,
}

impl Ack {
    /// `n` of the record's entries are finished with (dropped before batching).
    pub fn finish(&self, n: u32) {
        self.tracker.finish(self.seq, n);
    }
}

/// The records a batch's entries came from, as runs of (record, entries).
#[derive(Default)]
pub struct Acks {
    tracker: Option<Arc<Tracker>>,
    runs: Vec<(u64, u32)>,
}

impl Acks {
    pub fn add(&mut self, ack: &Ack, n: u32) {
        self.tracker.get_or_insert_with(|| ack.tracker.clone());
        match self.runs.last_mut() {
            Some((seq, count)) if *seq == ack.seq => *count += n,
            _ => self.runs.push((ack.seq, n)),
        }
    }

    /// The batch was sent or dropped.
    pub fn finish(self) {
        if let Some(t) = self.tracker {
            for (seq, n) in self.runs {
                t.finish(seq, n);
            }
        }
    }
}

/// The `loki_write_wal_watcher_*` metrics of an endpoint's reader (upstream's names, `id`
/// the endpoint's name).
#[derive(Clone)]
pub struct WatcherMetrics {
    records_read: Counter,
    decode_failures: Counter,
    read_by_timer: Counter,
    read_by_notification: Counter,
    current_segment: Gauge,
    running: Gauge,
    last_marked: Gauge,
    last_read_timestamp: Gauge,
}

impl WatcherMetrics {
    pub fn new(ctx: &Context, endpoint: &str) -> Self {
        let id = [("id", endpoint)];
        let read = |reason: &str| {
            ctx.counter(
                "loki_write_wal_watcher_segment_read_total",
                "Number of segment reads triggered by the backup timer firing.",
                &[("id", endpoint), ("reason", reason)],
            )
        };
        WatcherMetrics {
            records_read: ctx.counter("loki_write_wal_watcher_records_read_total", "Number of records read by the WAL watcher from the WAL.", &id),
            decode_failures: ctx.counter(
                "loki_write_wal_watcher_record_decode_failures_total",
                "Number of records read by the WAL watcher that resulted in an error when decoding.",
                &id,
            ),
            read_by_timer: read("timer"),
            read_by_notification: read("notification"),
            current_segment: ctx.gauge("loki_write_wal_watcher_current_segment", "Current segment the WAL watcher is reading records from.", &id),
            running: ctx.gauge("loki_write_wal_watcher_running", "Number of WAL watchers running.", &[]),
            last_marked: ctx.gauge("loki_write_wal_marker_last_marked_segment", "Last marked WAL segment.", &id),
            last_read_timestamp: ctx.gauge("loki_write_last_read_timestamp", "Latest timestamp read from the WAL", &id),
        }
    }
}

/// How readers stop: at once, or (component shutdown, `drain` set before `stop` is
/// cancelled) after catching up with the log or `wal.drain_timeout`, whichever comes first.
struct Halt {
    stop: CancellationToken,
    drain: Arc<AtomicBool>,
    drain_timeout: Duration,
    deadline: Option<tokio::time::Instant>,
}

impl Halt {
    fn stopping(&self) -> bool {
        self.stop.is_cancelled()
    }

    fn deadline(&mut self) -> tokio::time::Instant {
        let after = if self.drain.load(Ordering::SeqCst) { self.drain_timeout } else { Duration::ZERO };
        *self.deadline.get_or_insert_with(|| tokio::time::Instant::now() + after)
    }

    /// Resolves when reading must end.
    async fn wait(&mut self) {
        self.stop.cancelled().await;
        let d = self.deadline();
        tokio::time::sleep_until(d).await;
    }

    fn expired(&mut self) -> bool {
        self.stopping() && tokio::time::Instant::now() >= self.deadline()
    }
}

/// Tails the log for one endpoint and hands what it reads to the endpoint's sender.
pub struct EndpointReader {
    pub log: Arc<Log>,
    pub endpoint: String,
    pub tenant: String,
    pub external: Vec<(String, String)>,
    pub tx: mpsc::Sender<Queued>,
    pub room: Arc<Semaphore>,
    pub capacity: u32,
    pub cfg: WalConfig,
    pub metrics: WatcherMetrics,
    pub stop: CancellationToken,
    pub drain: Arc<AtomicBool>,
    /// Cancelled when the readers and senders of the previous arguments have ended (they
    /// save the same progress files).
    pub after: Option<CancellationToken>,
    /// Cancelled when this reader ends: the sender's stop.
    pub sender_stop: CancellationToken,
}

/// A record's entries and where it ends, read in a blocking task.
type Chunk = (Reader, Vec<Read>, Vec<String>, u64, Option<std::io::Error>);

fn read_chunk(mut r: Reader) -> Chunk {
    let mut out = Vec::new();
    let mut bytes = 0;
    let before = r.decode_failures;
    let err = loop {
        match r.next() {
            Ok(Some(read)) => {
                bytes += read.entries.iter().map(entry_size).sum::<u64>();
                out.push(read);
                if out.len() >= READ_RECORDS || bytes >= READ_BYTES {
                    break None;
                }
            }
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    let warnings = r.take_warnings().iter().map(ToString::to_string).collect();
    let failures = r.decode_failures - before;
    (r, out, warnings, failures, err)
}

impl EndpointReader {
    fn log(&self, level: tracing::Level, msg: &str) {
        log(&self.log.id, level, &format!("endpoint {}: {msg}", self.endpoint));
    }

    pub async fn run(self) {
        self.metrics.running.add(1.0);
        self.read().await;
        self.metrics.running.add(-1.0);
        self.sender_stop.cancel();
    }

    async fn read(&self) {
        let mut halt = Halt { stop: self.stop.clone(), drain: self.drain.clone(), drain_timeout: self.cfg.drain_timeout, deadline: None };
        if let Some(after) = &self.after {
            tokio::select! {
                _ = after.cancelled() => {}
                _ = self.stop.cancelled() => return,
            }
        }
        let progress = progress(&self.log, &self.endpoint);
        let start = match progress.load() {
            Ok(Some(p)) => p,
            Ok(None) => self.log.position(),
            Err(e) => {
                // Unreadable (a save cut short by a power loss): resend everything on disk
                // rather than skip what was not sent.
                self.log(tracing::Level::WARN, &format!("reading WAL progress: {e}; sending the whole WAL again"));
                Position::default()
            }
        };
        let dir = self.log.dir().to_path_buf();
        let opened = tokio::task::spawn_blocking(move || Reader::open(dir, start)).await;
        let mut reader = match opened {
            Ok(Ok(r)) => Some(r),
            Ok(Err(e)) => {
                self.log(tracing::Level::ERROR, &format!("cannot read the WAL: {e}"));
                return;
            }
            Err(e) => {
                self.log(tracing::Level::ERROR, &format!("cannot read the WAL: {e}"));
                return;
            }
        };
        let tracker = Arc::new(Tracker::new(progress, self.log.id.clone(), self.metrics.last_marked.clone(), start));
        let mut appended = self.log.subscribe();
        let (min, max) = (self.cfg.min_read_frequency, self.cfg.max_read_frequency.max(self.cfg.min_read_frequency));
        let mut wait = min;
        loop {
            if halt.expired() {
                return;
            }
            let Some(r) = reader.take() else { return };
            let (r, reads, warnings, failures, err) = match tokio::task::spawn_blocking(move || read_chunk(r)).await {
                Ok(chunk) => chunk,
                Err(e) => {
                    self.log(tracing::Level::ERROR, &format!("reading the WAL: {e}"));
                    return;
                }
            };
            reader = Some(r);
            for w in warnings {
                self.log(tracing::Level::WARN, &w);
            }
            self.metrics.decode_failures.add(failures);
            if let Some(e) = err {
                self.log(tracing::Level::ERROR, &format!("reading the WAL: {e}"));
            }
            if reads.is_empty() {
                if halt.stopping() {
                    // Caught up while draining: nothing more will be appended.
                    return;
                }
                tokio::select! {
                    _ = halt.wait() => return,
                    _ = self.stop.cancelled() => {}
                    changed = appended.changed() => {
                        if changed.is_ok() {
                            self.metrics.read_by_notification.inc();
                        }
                        wait = min;
                    }
                    _ = tokio::time::sleep(wait) => {
                        self.metrics.read_by_timer.inc();
                        wait = (wait * 2).min(max);
                    }
                }
                continue;
            }
            wait = min;
            for read in reads {
                if !self.hand_on(read, &tracker, &mut halt).await {
                    return;
                }
            }
        }
    }

    /// Hands a record's entries to the sender, waiting for room in its capacity; false when
    /// reading must end first (the record stays unacknowledged, so it is read again).
    async fn hand_on(&self, read: Read, tracker: &Arc<Tracker>, halt: &mut Halt) -> bool {
        self.metrics.records_read.inc();
        self.metrics.current_segment.set(f64::from(read.end.segment));
        if let Some(t) = read.entries.iter().map(|e| e.timestamp_ns).max() {
            self.metrics.last_read_timestamp.set(seconds(t));
        }
        let n = u32::try_from(read.entries.len()).unwrap_or(u32::MAX);
        let seq = tracker.read(read.end, n);
        if n == 0 {
            return true;
        }
        let routed: Vec<Routed> = read.entries.into_iter().map(|e| super::route(e, &self.external, &self.tenant)).collect();
        let bytes: u64 = routed.iter().map(|(_, e)| entry_size(e)).sum();
        let want = u32::try_from(bytes).unwrap_or(u32::MAX).clamp(1, self.capacity);
        let permit = tokio::select! {
            p = self.room.clone().acquire_many_owned(want) => match p {
                Ok(p) => p,
                Err(_) => return false,
            },
            _ = halt.wait() => return false,
        };
        let ack = Ack { tracker: tracker.clone(), seq };
        // The sender stops only after this reader, so a full queue empties unless the
        // sender is stuck retrying: then reading ends with the halt.
        tokio::select! {
            sent = self.tx.send((routed, permit, Some(ack))) => sent.is_ok(),
            _ = halt.wait() => false,
        }
    }
}
