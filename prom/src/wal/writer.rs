//! The writing side: [`Wal`] appends batches, rotates segments, repairs the log at open and
//! truncates it behind the slowest sender.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::hash::FxMap;
use super::log::{cut_tail, scan, Head};
use super::record::*;
use super::segment::{self, checkpoint_path, checkpoint_tmp_path, remove_if_exists, segment_path, sync_dir, Framer, SegmentReader, Unframer};
use super::{Corruption, Position, Warning};
use crate::labels::Labels;
use crate::sample::{Batch, SeriesRef};

/// Records are cut at about this many bytes: a reader's item stays small and one bad record
/// costs little.
const RECORD_TARGET: usize = 1 << 20;
/// …or at this many entries, whichever comes first.
const MAX_ENTRIES: usize = 16_384;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalOptions {
    /// A segment is closed when the next append would take it past this size (an append
    /// larger than this gets a segment of its own).
    pub segment_size: u64,
    /// Snappy-compress record bodies (where that makes them smaller).
    pub compress: bool,
}

impl Default for WalOptions {
    fn default() -> Self {
        WalOptions { segment_size: 128 << 20, compress: true }
    }
}

/// What the writer knows about a series, for the keep decision of [`Wal::truncate`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeriesStats {
    /// The ref data records use for it (also `Sample::series` of what a reader yields).
    pub wal_ref: SeriesRef,
    /// The newest sample, histogram or exemplar timestamp written for it (ms; `i64::MIN`
    /// when none was).
    pub last_t: i64,
    /// Wall-clock ms of the last append that touched it (the open time for series recovered
    /// from disk).
    pub last_append_ms: i64,
    /// The newest segment holding data of it.
    pub last_segment: u32,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TruncateStats {
    pub segments_removed: usize,
    pub series_dropped: usize,
    pub series_kept: usize,
    /// The checkpoint written (it covers segments up to this index), if segments were removed.
    pub checkpoint: Option<u32>,
}

/// A segment file and the sample timestamps it holds (known for segments written or replayed
/// by this writer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegmentInfo {
    pub index: u32,
    pub size: u64,
    pub min_t: Option<i64>,
    pub max_t: Option<i64>,
}

/// The `wal` block's keepalive bounds: data newer than `min` is never truncated; data older
/// than `max` is, whether or not every sender has sent it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Keepalive {
    pub min: Duration,
    pub max: Duration,
}

impl Keepalive {
    /// The `keep_series` of [`Wal::truncate`] that upstream's keepalive amounts to: a series
    /// without data left in the kept segments survives while it was written (by sample time
    /// or by wall clock) within `min` of `now_ms`.
    pub fn keep_series(&self, now_ms: i64) -> impl Fn(&Labels, &SeriesStats) -> bool {
        let cutoff = now_ms.saturating_sub(i64::try_from(self.min.as_millis()).unwrap_or(i64::MAX));
        move |_, s| s.last_t >= cutoff || s.last_append_ms >= cutoff
    }
}

impl Default for Keepalive {
    fn default() -> Self {
        Keepalive { min: Duration::from_secs(5 * 60), max: Duration::from_secs(8 * 3600) }
    }
}

#[derive(Clone, Copy, Debug)]
struct TimeRange {
    min: i64,
    max: i64,
}

impl TimeRange {
    fn add(range: &mut Option<TimeRange>, t: i64) {
        match range {
            Some(r) => {
                r.min = r.min.min(t);
                r.max = r.max.max(t);
            }
            None => *range = Some(TimeRange { min: t, max: t }),
        }
    }

    fn merge(into: &mut BTreeMap<u32, TimeRange>, seg: u32, r: TimeRange) {
        into.entry(seg)
            .and_modify(|e| {
                e.min = e.min.min(r.min);
                e.max = e.max.max(r.max);
            })
            .or_insert(r);
    }
}

struct Entry {
    wal_ref: u64,
    labels: Labels,
    last_t: i64,
    last_append_ms: i64,
    last_segment: u32,
}

impl Entry {
    fn touch(&mut self, t: Option<i64>, now: i64, seg: u32) {
        if let Some(t) = t {
            self.last_t = self.last_t.max(t);
        }
        self.last_append_ms = now;
        self.last_segment = seg;
    }

    fn stats(&self) -> SeriesStats {
        SeriesStats { wal_ref: SeriesRef(self.wal_ref), last_t: self.last_t, last_append_ms: self.last_append_ms, last_segment: self.last_segment }
    }
}

/// Equal label sets; interned ones (the usual case) are told equal by address alone.
fn same_labels(a: &Labels, b: &Labels) -> bool {
    Labels::ptr_eq(a, b) || a == b
}

/// The series the log holds a record of. Slots keep the per-sample work of an append to
/// vector indexing; `by_proc` maps the caller's interned refs to slots so a known series
/// costs one integer lookup and a pointer compare, not a label-set hash.
#[derive(Default)]
struct SeriesTable {
    slab: Vec<Option<Entry>>,
    free: Vec<u32>,
    by_labels: FxMap<Labels, u32>,
    by_proc: FxMap<u64, u32>,
    live: usize,
}

impl SeriesTable {
    fn get(&self, slot: u32) -> Option<&Entry> {
        self.slab.get(slot as usize).and_then(Option::as_ref)
    }

    fn get_mut(&mut self, slot: u32) -> Option<&mut Entry> {
        self.slab.get_mut(slot as usize).and_then(Option::as_mut)
    }

    fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.slab.iter().flatten()
    }

    fn insert(&mut self, e: Entry) -> u32 {
        let labels = e.labels.clone();
        let slot = match self.free.pop() {
            Some(s) => {
                self.slab[s as usize] = Some(e);
                s
            }
            None => {
                self.slab.push(Some(e));
                (self.slab.len() - 1) as u32
            }
        };
        self.by_labels.insert(labels, slot);
        self.live += 1;
        slot
    }

    fn remove(&mut self, slot: u32) {
        let Some(e) = self.slab.get_mut(slot as usize).and_then(Option::take) else { return };
        if self.by_labels.get(&e.labels) == Some(&slot) {
            self.by_labels.remove(&e.labels);
        }
        self.free.push(slot);
        self.live -= 1;
    }

    /// Loads the slots of known series ahead of resolving them one by one, so the lookups'
    /// cache misses overlap (see `crate::labels::warm`).
    fn warm(&self, procs: impl Iterator<Item = SeriesRef>) {
        let mut acc = 0u64;
        for p in procs {
            if let Some(e) = self.by_proc.get(&p.0).and_then(|&slot| self.get(slot)) {
                acc ^= e.wal_ref;
            }
        }
        std::hint::black_box(acc);
    }

    /// The slot and WAL ref of a series, adding it (and noting it in `new`) if unknown.
    fn resolve(&mut self, proc: SeriesRef, labels: &Labels, seg: u32, next_ref: &mut u64, new: &mut Vec<u32>) -> (u32, u64) {
        if proc.0 != 0 {
            if let Some(&slot) = self.by_proc.get(&proc.0) {
                if let Some(e) = self.get(slot) {
                    if same_labels(&e.labels, labels) {
                        return (slot, e.wal_ref);
                    }
                }
            }
        }
        let (slot, r) = match self.by_labels.get(labels).and_then(|&s| Some((s, self.get(s)?.wal_ref))) {
            Some(found) => found,
            None => {
                let r = *next_ref;
                *next_ref += 1;
                let slot = self.insert(Entry { wal_ref: r, labels: labels.clone(), last_t: i64::MIN, last_append_ms: 0, last_segment: seg });
                new.push(slot);
                (slot, r)
            }
        };
        if proc.0 != 0 {
            self.by_proc.insert(proc.0, slot);
        }
        (slot, r)
    }

    /// Drops the series with no data at or after `keep_seg` that `keep` does not want.
    fn gc(&mut self, keep_seg: u32, keep: &impl Fn(&Labels, &SeriesStats) -> bool) -> usize {
        let mut dropped = 0;
        for slot in 0..self.slab.len() as u32 {
            let drop = self.get(slot).is_some_and(|e| e.last_segment < keep_seg && !keep(&e.labels, &e.stats()));
            if drop {
                self.remove(slot);
                dropped += 1;
            }
        }
        let slab = &self.slab;
        self.by_proc.retain(|_, s| matches!(slab.get(*s as usize), Some(Some(_))));
        if dropped > self.live {
            self.by_labels.shrink_to_fit();
            self.by_proc.shrink_to_fit();
        }
        dropped
    }
}

/// Record bodies being built and the frames they end up in.
struct Encoder {
    framer: Framer,
    body: Vec<u8>,
    out: Vec<u8>,
    entries: usize,
}

impl Encoder {
    fn new(compress: bool) -> Self {
        Encoder { framer: Framer::new(compress), body: Vec::new(), out: Vec::new(), entries: 0 }
    }

    fn flush(&mut self, ty: u8) -> io::Result<()> {
        if !self.body.is_empty() {
            self.framer.frame(ty, &self.body, &mut self.out)?;
            self.body.clear();
        }
        self.entries = 0;
        Ok(())
    }

    /// Counts the entry just put; cuts the record when it is big enough (true when it did).
    fn entry(&mut self, ty: u8) -> io::Result<bool> {
        self.entries += 1;
        if self.body.len() >= RECORD_TARGET || self.entries >= MAX_ENTRIES {
            self.flush(ty)?;
            return Ok(true);
        }
        Ok(false)
    }
}

fn encode_batch(enc: &mut Encoder, series: &SeriesTable, new: &[u32], refs: &[u64], batch: &Batch) -> io::Result<()> {
    enc.out.clear();
    enc.body.clear();
    enc.entries = 0;
    for e in new.iter().filter_map(|&s| series.get(s)) {
        put_series(&mut enc.body, e.wal_ref, &e.labels);
        enc.entry(TYPE_SERIES)?;
    }
    enc.flush(TYPE_SERIES)?;
    let (sample_refs, rest) = refs.split_at(batch.samples.len());
    let (hist_refs, rest) = rest.split_at(batch.histograms.len());
    let (ex_refs, meta_refs) = rest.split_at(batch.exemplars.len());
    let mut delta = SampleDelta::default();
    for (s, &r) in batch.samples.iter().zip(sample_refs) {
        put_sample(&mut enc.body, &mut delta, r, s.t, s.v);
        if enc.entry(TYPE_SAMPLES)? {
            delta.reset();
        }
    }
    enc.flush(TYPE_SAMPLES)?;
    for (h, &r) in batch.histograms.iter().zip(hist_refs) {
        put_histogram(&mut enc.body, r, h.t, &h.histogram);
        enc.entry(TYPE_HISTOGRAMS)?;
    }
    enc.flush(TYPE_HISTOGRAMS)?;
    for (e, &r) in batch.exemplars.iter().zip(ex_refs) {
        put_exemplar(&mut enc.body, r, &e.exemplar);
        enc.entry(TYPE_EXEMPLARS)?;
    }
    enc.flush(TYPE_EXEMPLARS)?;
    for (m, &r) in batch.metadata.iter().zip(meta_refs) {
        put_metadata(&mut enc.body, r, &m.metadata);
        enc.entry(TYPE_METADATA)?;
    }
    enc.flush(TYPE_METADATA)
}

/// The write-ahead log's writer. One per directory (nothing stops a second process: the
/// component owns its data path).
pub struct Wal {
    dir: PathBuf,
    opts: WalOptions,
    head: Head,
    enc: Encoder,
    series: SeriesTable,
    next_ref: u64,
    times: BTreeMap<u32, TimeRange>,
    slots: Vec<u32>,
    refs: Vec<u64>,
    new_slots: Vec<u32>,
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

impl Wal {
    /// Opens (creating) the log in `dir`: finishes an interrupted truncation, rebuilds the
    /// series table from the checkpoint and the segments, cuts a torn or corrupt tail off the
    /// last segment, and starts a new segment. Bad bytes are reported as warnings; only I/O
    /// errors fail.
    pub fn open(dir: impl AsRef<Path>, opts: WalOptions) -> io::Result<(Wal, Vec<Warning>)> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir)?;
        let mut warnings = Vec::new();
        let listing = segment::list(&dir)?;
        for t in &listing.temps {
            remove_if_exists(t)?;
        }
        let mut rp = Replay { state: ReplayState { now: now_ms(), next_ref: 1, ..ReplayState::default() }, unframer: Unframer::new() };
        let ckpt = listing.checkpoints.last().copied();
        if let Some(k) = ckpt {
            for &c in listing.checkpoints.iter().filter(|&&c| c < k) {
                remove_if_exists(&checkpoint_path(&dir, c))?;
            }
            // A crash between writing the checkpoint and removing what it replaces.
            for &s in listing.segments.iter().filter(|&&s| s <= k) {
                remove_if_exists(&segment_path(&dir, s))?;
            }
            rp.replay(&checkpoint_path(&dir, k), k, Role::Checkpoint, &mut warnings)?;
        }
        let segments: Vec<u32> = listing.segments.into_iter().filter(|&s| ckpt.is_none_or(|k| s > k)).collect();
        let mut last_len = 0;
        for (i, &s) in segments.iter().enumerate() {
            let role = if i + 1 == segments.len() { Role::Last } else { Role::Middle };
            last_len = rp.replay(&segment_path(&dir, s), s, role, &mut warnings)?;
        }
        let head = Head::resume(&dir, opts.segment_size, segments.last().map(|&s| (s, last_len)), ckpt.map_or(0, |k| k.saturating_add(1)))?;
        let state = rp.state;
        let wal = Wal {
            dir,
            enc: Encoder::new(opts.compress),
            opts,
            head,
            series: state.series,
            next_ref: state.next_ref,
            times: state.times,
            slots: Vec::new(),
            refs: Vec::new(),
            new_slots: Vec::new(),
        };
        Ok((wal, warnings))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the next append goes: the end of what has been written.
    pub fn position(&self) -> Position {
        self.head.position()
    }

    /// The oldest position still on disk (where a sender with no saved progress starts).
    pub fn first_position(&self) -> io::Result<Position> {
        let seg = self.head.index();
        let first = segment::list(&self.dir)?.segments.first().copied().unwrap_or(seg);
        Ok(Position::new(first.min(seg), 0))
    }

    /// Series the writer holds a record of (the `active series` of the WAL metrics).
    pub fn series_count(&self) -> usize {
        self.series.live
    }

    /// Appends a batch: the records of series not yet in the log, then the batch's data, all
    /// in one `write` (so a killed process loses nothing this returned for). Returns the
    /// position after it. Not fsynced: see [`Wal::sync`].
    pub fn append(&mut self, batch: &Batch) -> io::Result<Position> {
        if batch.is_empty() {
            return Ok(self.position());
        }
        self.slots.clear();
        self.refs.clear();
        self.new_slots.clear();
        self.series.warm(batch.samples.iter().map(|s| s.series));
        let (series, next_ref, new, seg) = (&mut self.series, &mut self.next_ref, &mut self.new_slots, self.head.index());
        let all = batch.samples.iter().map(|s| (s.series, &s.labels));
        let all = all.chain(batch.histograms.iter().map(|h| (h.series, &h.labels)));
        let all = all.chain(batch.exemplars.iter().map(|e| (e.series, &e.labels)));
        let all = all.chain(batch.metadata.iter().map(|m| (m.series, &m.labels)));
        for (proc, labels) in all {
            let (slot, r) = series.resolve(proc, labels, seg, next_ref, new);
            self.slots.push(slot);
            self.refs.push(r);
        }
        let written = encode_batch(&mut self.enc, &self.series, &self.new_slots, &self.refs, batch).and_then(|()| self.head.write(&self.enc.out));
        match written {
            Ok(seg) => {
                self.commit(batch, seg);
                Ok(self.position())
            }
            Err(e) => {
                // Their records are not on disk: forget them so the next append writes them.
                for &slot in &self.new_slots {
                    self.series.remove(slot);
                }
                Err(e)
            }
        }
    }

    fn commit(&mut self, batch: &Batch, seg: u32) {
        let now = now_ms();
        let mut range = None;
        let mut slots = self.slots.iter();
        let series = &mut self.series;
        let mut touch = |t: Option<i64>| {
            if let Some(e) = slots.next().and_then(|&s| series.get_mut(s)) {
                e.touch(t, now, seg);
            }
        };
        for s in &batch.samples {
            touch(Some(s.t));
            TimeRange::add(&mut range, s.t);
        }
        for h in &batch.histograms {
            touch(Some(h.t));
            TimeRange::add(&mut range, h.t);
        }
        for e in &batch.exemplars {
            touch(Some(e.exemplar.t));
        }
        for _ in &batch.metadata {
            touch(None);
        }
        if let Some(r) = range {
            TimeRange::merge(&mut self.times, seg, r);
        }
    }

    /// Makes everything appended so far durable against power loss (appends alone survive a
    /// killed process, not a crashed machine).
    pub fn sync(&mut self) -> io::Result<()> {
        self.head.sync()
    }

    /// Syncs and closes; dropping does the same but cannot report a failure.
    pub fn close(self) -> io::Result<()> {
        self.head.sync()
    }

    /// The segments on disk, oldest first.
    pub fn segments(&self) -> io::Result<Vec<SegmentInfo>> {
        let mut out = Vec::new();
        for s in segment::list(&self.dir)?.segments {
            let size = if s == self.head.index() {
                self.head.size()
            } else {
                match fs::metadata(segment_path(&self.dir, s)) {
                    Ok(m) => m.len(),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(e),
                }
            };
            let range = self.times.get(&s);
            out.push(SegmentInfo { index: s, size, min_t: range.map(|r| r.min), max_t: range.map(|r| r.max) });
        }
        Ok(out)
    }

    /// Where [`Wal::truncate`] should cut, given the oldest position any sender still needs
    /// (`None` when there are no senders): never past data newer than `now - keepalive.min`,
    /// and at least past segments whose samples are all older than `now - keepalive.max`
    /// (those are given up even if a sender has not sent them, as upstream does).
    pub fn truncation_point(&self, needed: Option<Position>, now_ms: i64, keepalive: Keepalive) -> Position {
        let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        let end = self.position();
        let mut cut = needed.map_or(end, |p| p.min(end));
        let forced_t = now_ms.saturating_sub(ms(keepalive.max));
        let seg = self.head.index();
        let forced = self.times.range(..seg).find(|(_, r)| r.max >= forced_t).map_or(seg, |(&s, _)| s);
        cut = cut.max(Position::new(forced, 0));
        let protect_t = now_ms.saturating_sub(ms(keepalive.min));
        if let Some((&s, _)) = self.times.range(..=seg).find(|(_, r)| r.max >= protect_t) {
            cut = cut.min(Position::new(s, 0));
        }
        cut
    }

    /// Removes the segments wholly before `keep_from` (the oldest position a sender still
    /// needs, see [`Wal::truncation_point`]) after writing `checkpoint.NNNNNNNN` with every
    /// series still held, so readers starting later resolve the refs of what is left.
    ///
    /// Series with data at or after `keep_from`'s segment are always kept (dropping them would
    /// make that data unreadable); the others are kept when `keep_series` says so, e.g.
    /// `|_, s| s.last_t >= now - min_keepalive`. A dropped series that comes back is written
    /// again under a new ref. The current segment is closed first (when it holds anything)
    /// so a quiet log can be truncated at the next call.
    pub fn truncate(&mut self, keep_from: Position, keep_series: impl Fn(&Labels, &SeriesStats) -> bool) -> io::Result<TruncateStats> {
        if self.head.dirty() {
            self.head.rotate()?;
        }
        let seg = self.head.index();
        let listing = segment::list(&self.dir)?;
        let first = listing.segments.first().copied().unwrap_or(seg);
        let mut keep = keep_from.min(self.position()).max(Position::new(first, 0));
        // The end of a closed segment is the start of the next.
        while keep.segment < seg {
            let len = match fs::metadata(segment_path(&self.dir, keep.segment)) {
                Ok(m) => m.len(),
                Err(e) if e.kind() == io::ErrorKind::NotFound => 0,
                Err(e) => return Err(e),
            };
            if keep.offset < len {
                break;
            }
            keep = Position::new(keep.segment + 1, 0);
        }
        let keep_seg = keep.segment;
        let series_dropped = self.series.gc(keep_seg, &keep_series);
        let mut stats = TruncateStats { series_dropped, series_kept: self.series.live, ..TruncateStats::default() };
        if first < keep_seg {
            let k = keep_seg - 1;
            self.write_checkpoint(k)?;
            for &s in listing.segments.iter().filter(|&&s| s < keep_seg) {
                remove_if_exists(&segment_path(&self.dir, s))?;
                stats.segments_removed += 1;
            }
            for &c in listing.checkpoints.iter().filter(|&&c| c < k) {
                remove_if_exists(&checkpoint_path(&self.dir, c))?;
            }
            sync_dir(&self.dir)?;
            self.times = self.times.split_off(&keep_seg);
            stats.checkpoint = Some(k);
        }
        Ok(stats)
    }

    fn write_checkpoint(&self, k: u32) -> io::Result<()> {
        let tmp = checkpoint_tmp_path(&self.dir, k);
        let res = self.write_checkpoint_file(&tmp).and_then(|()| fs::rename(&tmp, checkpoint_path(&self.dir, k)));
        if res.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        res
    }

    fn write_checkpoint_file(&self, path: &Path) -> io::Result<()> {
        let mut file = File::create(path)?;
        let mut enc = Encoder::new(self.opts.compress);
        put_watermark(&mut enc.body, self.next_ref);
        enc.flush(TYPE_WATERMARK)?;
        for e in self.series.entries() {
            put_series(&mut enc.body, e.wal_ref, &e.labels);
            enc.entry(TYPE_SERIES)?;
            if enc.out.len() >= RECORD_TARGET {
                file.write_all(&enc.out)?;
                enc.out.clear();
            }
        }
        enc.flush(TYPE_SERIES)?;
        for e in self.series.entries().filter(|e| e.last_t != i64::MIN) {
            put_last_t(&mut enc.body, e.wal_ref, e.last_t);
            enc.entry(TYPE_LAST_T)?;
        }
        enc.flush(TYPE_LAST_T)?;
        file.write_all(&enc.out)?;
        file.sync_all()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Checkpoint,
    Middle,
    Last,
}

#[derive(Default)]
struct ReplayState {
    series: SeriesTable,
    /// WAL ref → slot.
    refs: FxMap<u64, u32>,
    next_ref: u64,
    times: BTreeMap<u32, TimeRange>,
    now: i64,
}

impl ReplayState {
    fn define(&mut self, r: u64, labels: Labels, index: u32) {
        self.next_ref = self.next_ref.max(r.saturating_add(1));
        if let Some(&slot) = self.refs.get(&r) {
            if self.series.get(slot).is_some_and(|e| e.labels == labels) {
                return;
            }
            // A ref reused for other labels (only if a watermark was lost): the newer wins.
            self.series.remove(slot);
            self.refs.remove(&r);
        }
        let slot = match self.series.by_labels.get(&labels).copied() {
            Some(slot) => {
                // The writer dropped the series and wrote it again under a newer ref.
                if let Some(e) = self.series.get_mut(slot) {
                    e.wal_ref = r;
                }
                slot
            }
            None => self.series.insert(Entry { wal_ref: r, labels, last_t: i64::MIN, last_append_ms: self.now, last_segment: index }),
        };
        self.refs.insert(r, slot);
    }

    fn data(&mut self, r: u64, t: Option<i64>, index: u32, range: &mut Option<TimeRange>) {
        if let Some(t) = t {
            TimeRange::add(range, t);
        }
        if let Some(e) = self.refs.get(&r).and_then(|&s| self.series.get_mut(s)) {
            e.last_segment = e.last_segment.max(index);
            if let Some(t) = t {
                e.last_t = e.last_t.max(t);
            }
        }
    }

    fn last_t(&mut self, r: u64, t: i64) {
        if let Some(e) = self.refs.get(&r).and_then(|&s| self.series.get_mut(s)) {
            e.last_t = e.last_t.max(t);
        }
    }
}

struct Replay {
    state: ReplayState,
    unframer: Unframer,
}

impl Replay {
    /// Reads one file into the state; returns the length of its good part (after cutting a
    /// bad tail off the last segment).
    fn replay(&mut self, path: &Path, index: u32, role: Role, warnings: &mut Vec<Warning>) -> io::Result<u64> {
        let mut r = match SegmentReader::open(path, index) {
            Ok(r) => r,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        let mut range = None;
        let (good, bad) = scan(&mut r, |r, f| self.apply(r, f, index, role, &mut range, warnings))?;
        if let (Some(range), false) = (range, role == Role::Checkpoint) {
            TimeRange::merge(&mut self.state.times, index, range);
        }
        let Some(reason) = bad else { return Ok(good) };
        warnings.push(match role {
            Role::Checkpoint => Warning::CheckpointCorrupt { index, offset: good, reason },
            Role::Middle => Warning::SegmentSkipped { segment: index, offset: good, reason },
            Role::Last => cut_tail(path, index, good, reason)?,
        });
        Ok(good)
    }

    fn apply(&mut self, r: &SegmentReader, f: &segment::Frame, index: u32, role: Role, range: &mut Option<TimeRange>, warnings: &mut Vec<Warning>) {
        let (ty, body) = match self.unframer.body(f.ty, r.stored_body(f)) {
            Ok(x) => x,
            Err(reason) => {
                warnings.push(record_warning(role, index, f.start, reason));
                return;
            }
        };
        let st = &mut self.state;
        let res = match ty {
            TYPE_SERIES => decode_series(body, |r, labels| st.define(r, labels, index)),
            TYPE_WATERMARK => decode_watermark(body).map(|w| st.next_ref = st.next_ref.max(w)),
            TYPE_LAST_T => decode_last_t(body, |r, t| st.last_t(r, t)),
            _ => decode_refs(ty, body, |r, t| st.data(r, t, index, range)),
        };
        if let Err(reason) = res {
            warnings.push(record_warning(role, index, f.start, reason));
        }
    }
}

fn record_warning(role: Role, index: u32, offset: u64, reason: Corruption) -> Warning {
    match role {
        Role::Checkpoint => Warning::CheckpointCorrupt { index, offset, reason },
        Role::Middle | Role::Last => Warning::RecordSkipped { segment: index, offset, reason },
    }
}
