//! The reading side: a [`WalReader`] per sender tails the log from a saved position and
//! yields its data with labels resolved.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::hash::FxMap;
use super::record::*;
use super::segment::{self, checkpoint_path, segment_path, Frame, Listing, Next, SegmentReader, Unframer};
use super::{Corruption, Position, Warning};
use crate::labels::{Labels, Store};
use crate::sample::{Batch, ExemplarSample, HistogramSample, MetadataUpdate, Sample, SeriesRef};

/// The data of one record. `series` of each element is the WAL ref of its series (stable
/// across restarts of the writer, so usable as a sharding or caching key), `labels` the
/// series' labels.
#[derive(Clone, Debug, PartialEq)]
pub enum ReadData {
    Samples(Vec<Sample>),
    Histograms(Vec<HistogramSample>),
    Exemplars(Vec<ExemplarSample>),
    Metadata(Vec<MetadataUpdate>),
}

impl ReadData {
    pub fn len(&self) -> usize {
        match self {
            ReadData::Samples(v) => v.len(),
            ReadData::Histograms(v) => v.len(),
            ReadData::Exemplars(v) => v.len(),
            ReadData::Metadata(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Moves the elements into `batch`.
    pub fn append_to(self, batch: &mut Batch) {
        match self {
            ReadData::Samples(mut v) => batch.samples.append(&mut v),
            ReadData::Histograms(mut v) => batch.histograms.append(&mut v),
            ReadData::Exemplars(mut v) => batch.exemplars.append(&mut v),
            ReadData::Metadata(mut v) => batch.metadata.append(&mut v),
        }
    }
}

/// One record's data and the position just after it: once everything up to and including
/// this item is sent, `end` is what the sender saves as its progress.
#[derive(Clone, Debug, PartialEq)]
pub struct ReadItem {
    pub data: ReadData,
    pub end: Position,
}

/// Warnings kept between two [`WalReader::take_warnings`] (a reader nobody drains must not
/// grow without bound).
const MAX_WARNINGS: usize = 1024;

fn warn(warnings: &mut Vec<Warning>, w: Warning) {
    if warnings.len() < MAX_WARNINGS {
        warnings.push(w);
    }
}

/// Tails the log for one sender. Not an iterator: [`WalReader::next`] returning `None` means
/// "nothing more yet"; call it again after the writer has appended.
pub struct WalReader {
    dir: PathBuf,
    /// WAL ref → labels and the segment its series record was read from (the checkpoint's
    /// index for series read from one).
    series: FxMap<u64, (Labels, u32)>,
    /// Where decoded label sets are interned, so the reader shares the writer's copies.
    store: Option<&'static Store>,
    checkpoint: Option<u32>,
    cur: Option<SegmentReader>,
    /// The current segment has a successor, so its end is final (a partial record there is
    /// damage, not a write in progress).
    cur_final: bool,
    /// The segment to open when there is no current one.
    want: u32,
    pos: Position,
    /// Bad bytes at the tail of the segment being written: retried, warned about once.
    stalled: Option<(u32, u64, bool)>,
    warnings: Vec<Warning>,
    unframer: Unframer,
}

/// Whether segment `index` will get no more appends: a later segment exists.
fn is_final(dir: &Path, index: u32) -> io::Result<bool> {
    if segment_path(dir, index.saturating_add(1)).try_exists()? {
        return Ok(true);
    }
    if segment_path(dir, index).try_exists()? {
        return Ok(false);
    }
    // Removed by a truncation: any later segment means the writer has moved on.
    Ok(segment::list(dir)?.segments.iter().any(|&s| s > index))
}

impl WalReader {
    /// Opens a reader that yields data from `start` on (a position an item's `end` gave, or
    /// [`Position::default`] for "everything on disk"). It first learns the series defined
    /// before `start` (checkpoint and earlier segments). A start that is no longer on disk,
    /// past the end or not at a record boundary is moved (to resend rather than lose) with a
    /// warning.
    pub fn open(dir: impl AsRef<Path>, start: Position) -> io::Result<WalReader> {
        Self::open_interning(dir, start, None)
    }

    /// [`WalReader::open`], interning the label sets it decodes in `store` (the writer's), so
    /// a series' labels are held once in the process rather than once more per reader.
    pub fn open_interning(dir: impl AsRef<Path>, start: Position, store: Option<&'static Store>) -> io::Result<WalReader> {
        let mut rd = WalReader {
            dir: dir.as_ref().to_path_buf(),
            series: FxMap::default(),
            store,
            checkpoint: None,
            cur: None,
            cur_final: false,
            want: 0,
            pos: start,
            stalled: None,
            warnings: Vec::new(),
            unframer: Unframer::new(),
        };
        let listing = segment::list(&rd.dir)?;
        if let Some(&k) = listing.checkpoints.last() {
            rd.load_checkpoint(k)?;
        }
        let covered = rd.checkpoint.map_or(0, |k| k.saturating_add(1));
        let segments: Vec<u32> = listing.segments.into_iter().filter(|&s| s >= covered).collect();
        let (Some(&first), Some(&last)) = (segments.first(), segments.last()) else {
            // Nothing written yet: start with the first segment that appears.
            rd.want = covered;
            rd.pos = Position::new(covered, 0);
            return Ok(rd);
        };
        let mut begin = start;
        if start.segment < first {
            if start != Position::default() {
                warn(&mut rd.warnings, Warning::SegmentsMissing { from: start.segment, to: first - 1 });
            }
            begin = Position::new(first, 0);
        } else if start.segment > last {
            begin = Position::new(first, 0);
            warn(&mut rd.warnings, Warning::StartAdjusted { requested: start, actual: begin, reason: "is past the end of the WAL" });
        } else if let Some(&s) = segments.iter().find(|&&s| s >= start.segment).filter(|&&s| s != start.segment) {
            warn(&mut rd.warnings, Warning::SegmentsMissing { from: start.segment, to: s - 1 });
            begin = Position::new(s, 0);
        }
        for &s in segments.iter().filter(|&&s| s < begin.segment) {
            rd.scan_series(s)?;
        }
        rd.seek(begin)?;
        Ok(rd)
    }

    /// The position after the last item returned (or the start): what a sender that has
    /// sent everything it read saves.
    pub fn position(&self) -> Position {
        self.pos
    }

    /// Series the reader can resolve.
    pub fn series_count(&self) -> usize {
        self.series.len()
    }

    /// What the reader recovered from since the last call (bad bytes skipped, data removed
    /// before it was read, refs without a series).
    pub fn take_warnings(&mut self) -> Vec<Warning> {
        std::mem::take(&mut self.warnings)
    }

    /// The next record's data, or `None` when the reader has caught up with the writer for
    /// now. Follows the writer into new segments; a record the writer is half way through
    /// writing is waited for, never taken for damage while its segment is the last one.
    #[allow(clippy::should_implement_trait)] // not an Iterator: `None` is "not yet", not "done"
    pub fn next(&mut self) -> io::Result<Option<ReadItem>> {
        loop {
            let Some(cur) = self.cur.as_mut() else {
                if !self.advance()? {
                    return Ok(None);
                }
                continue;
            };
            let index = cur.index;
            match cur.next()? {
                Next::Frame(f) => {
                    self.stalled = None;
                    let end = Position::new(index, f.end);
                    let data = decode(cur, &f, &mut self.series, self.store, &mut self.unframer, &mut self.warnings);
                    self.pos = end;
                    if let Some(data) = data {
                        return Ok(Some(ReadItem { data, end }));
                    }
                }
                Next::End { partial } => {
                    if self.cur_final {
                        if partial {
                            warn(&mut self.warnings, Warning::SegmentSkipped { segment: index, offset: cur.offset(), reason: Corruption::Torn });
                        }
                        self.leave_segment(index);
                    } else if is_final(&self.dir, index)? {
                        // Read once more: the last appends may have landed after we looked.
                        self.cur_final = true;
                    } else {
                        return Ok(None);
                    }
                }
                Next::Corrupt(reason) => {
                    let offset = cur.offset();
                    if self.cur_final {
                        warn(&mut self.warnings, Warning::SegmentSkipped { segment: index, offset, reason });
                        self.leave_segment(index);
                        continue;
                    }
                    // Read those bytes afresh next time: they may have been caught mid-write.
                    cur.reload()?;
                    if is_final(&self.dir, index)? {
                        self.cur_final = true;
                        continue;
                    }
                    match &mut self.stalled {
                        Some((s, o, warned)) if *s == index && *o == offset => {
                            if !*warned {
                                *warned = true;
                                warn(&mut self.warnings, Warning::TailStalled { segment: index, offset, reason });
                            }
                        }
                        stalled => *stalled = Some((index, offset, false)),
                    }
                    return Ok(None);
                }
            }
        }
    }

    fn leave_segment(&mut self, index: u32) {
        self.cur = None;
        self.cur_final = false;
        self.stalled = None;
        self.want = index.saturating_add(1);
    }

    /// Opens the next segment if there is one (false when the writer has not started it).
    fn advance(&mut self) -> io::Result<bool> {
        let listing = segment::list(&self.dir)?;
        let Some(&index) = listing.segments.iter().find(|&&s| s >= self.want) else {
            return Ok(false);
        };
        if index > self.want {
            warn(&mut self.warnings, Warning::SegmentsMissing { from: self.want, to: index - 1 });
        }
        self.refresh_checkpoint(&listing, index)?;
        match SegmentReader::open(&segment_path(&self.dir, index), index) {
            Ok(r) => {
                self.cur = Some(r);
                self.cur_final = false;
                self.pos = self.pos.max(Position::new(index, 0));
            }
            // Removed meanwhile: the next call finds what follows.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        Ok(true)
    }

    /// When a newer checkpoint covers everything before segment `entering`, forgets the series
    /// the writer has dropped since: the new table is the checkpoint's plus those defined in
    /// segments after it.
    fn refresh_checkpoint(&mut self, listing: &Listing, entering: u32) -> io::Result<()> {
        let Some(&k) = listing.checkpoints.last() else { return Ok(()) };
        if self.checkpoint.is_some_and(|c| c >= k) || k >= entering {
            return Ok(());
        }
        let old = std::mem::take(&mut self.series);
        self.load_checkpoint(k)?;
        for (r, v) in old.into_iter().filter(|(_, (_, s))| *s > k) {
            self.series.insert(r, v);
        }
        Ok(())
    }

    fn load_checkpoint(&mut self, k: u32) -> io::Result<()> {
        let mut r = match SegmentReader::open(&checkpoint_path(&self.dir, k), k) {
            Ok(r) => r,
            // Replaced by a newer one meanwhile; segments are read regardless.
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        self.checkpoint = Some(k);
        let bad = loop {
            match r.next()? {
                Next::Frame(f) => self.apply_series(&r, &f),
                Next::End { partial: false } => break None,
                Next::End { partial: true } => break Some(Corruption::Torn),
                Next::Corrupt(c) => break Some(c),
            }
        };
        if let Some(reason) = bad {
            warn(&mut self.warnings, Warning::CheckpointCorrupt { index: k, offset: r.offset(), reason });
        }
        Ok(())
    }

    /// Takes the series records of a segment before the start position.
    fn scan_series(&mut self, s: u32) -> io::Result<()> {
        let mut r = match SegmentReader::open(&segment_path(&self.dir, s), s) {
            Ok(r) => r,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        let bad = loop {
            match r.next()? {
                Next::Frame(f) => self.apply_series(&r, &f),
                Next::End { partial: false } => break None,
                Next::End { partial: true } => break Some(Corruption::Torn),
                Next::Corrupt(c) => break Some(c),
            }
        };
        if let Some(reason) = bad {
            warn(&mut self.warnings, Warning::SegmentSkipped { segment: s, offset: r.offset(), reason });
        }
        Ok(())
    }

    fn apply_series(&mut self, r: &SegmentReader, f: &Frame) {
        if f.ty & !segment::COMPRESSED != TYPE_SERIES {
            return;
        }
        let index = r.index;
        let res = match self.unframer.body(f.ty, r.stored_body(f)) {
            Ok((_, body)) => decode_series(body, |wal_ref, labels| {
                self.series.insert(wal_ref, (intern(self.store, labels), index));
            }),
            Err(reason) => Err(reason),
        };
        if let Err(reason) = res {
            warn(&mut self.warnings, Warning::RecordSkipped { segment: index, offset: f.start, reason });
        }
    }

    /// Positions the reader at `p` in its segment, taking the series records before it.
    fn seek(&mut self, p: Position) -> io::Result<()> {
        self.pos = p;
        let mut r = match SegmentReader::open(&segment_path(&self.dir, p.segment), p.segment) {
            Ok(r) => r,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.want = p.segment;
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        while r.offset() < p.offset {
            match r.next()? {
                Next::Frame(f) if f.end <= p.offset => self.apply_series(&r, &f),
                Next::Frame(f) => {
                    r.unread(&f);
                    let actual = Position::new(p.segment, f.start);
                    warn(&mut self.warnings, Warning::StartAdjusted { requested: p, actual, reason: "is not at a record boundary" });
                    self.pos = actual;
                    break;
                }
                Next::End { .. } => {
                    let actual = Position::new(p.segment, r.offset());
                    warn(&mut self.warnings, Warning::StartAdjusted { requested: p, actual, reason: "is past the end of its segment" });
                    self.pos = actual;
                    break;
                }
                // `next` reports the bad bytes and moves on.
                Next::Corrupt(_) => {
                    self.pos = Position::new(p.segment, r.offset());
                    break;
                }
            }
        }
        self.cur = Some(r);
        self.cur_final = false;
        Ok(())
    }
}

#[derive(Default)]
struct Unknown {
    count: usize,
    first: u64,
}

impl Unknown {
    fn add(&mut self, r: u64) {
        if self.count == 0 {
            self.first = r;
        }
        self.count += 1;
    }
}

/// A record's data with refs resolved; `None` for series and bookkeeping records (taken into
/// `series`) and for records that yield nothing.
fn intern(store: Option<&'static Store>, labels: Labels) -> Labels {
    match store {
        Some(s) => s.intern(labels).1,
        None => labels,
    }
}

fn decode(
    r: &SegmentReader,
    f: &Frame,
    series: &mut FxMap<u64, (Labels, u32)>,
    store: Option<&'static Store>,
    unframer: &mut Unframer,
    warnings: &mut Vec<Warning>,
) -> Option<ReadData> {
    let index = r.index;
    let (ty, body) = match unframer.body(f.ty, r.stored_body(f)) {
        Ok(x) => x,
        Err(reason) => {
            warn(warnings, Warning::RecordSkipped { segment: index, offset: f.start, reason });
            return None;
        }
    };
    let mut unknown = Unknown::default();
    let labels = |r: u64, unknown: &mut Unknown, series: &FxMap<u64, (Labels, u32)>| match series.get(&r) {
        Some((l, _)) => Some(l.clone()),
        None => {
            unknown.add(r);
            None
        }
    };
    let res = match ty {
        TYPE_SERIES => decode_series(body, |wal_ref, l| {
            series.insert(wal_ref, (intern(store, l), index));
        })
        .map(|()| None),
        TYPE_SAMPLES => {
            // A first pass loads every sample's series (map slot and labels) at once, so the
            // clones below do not each wait for memory.
            let mut acc = 0u8;
            let _ = decode_samples(body, |r, _, _| {
                if let Some((l, _)) = series.get(&r) {
                    acc ^= l.touch();
                }
            });
            std::hint::black_box(acc);
            let mut v = Vec::with_capacity(body.len() / 10);
            decode_samples(body, |r, t, val| {
                if let Some(labels) = labels(r, &mut unknown, series) {
                    v.push(Sample { series: SeriesRef(r), labels, t, v: val });
                }
            })
            .map(|()| Some(ReadData::Samples(v)))
        }
        TYPE_HISTOGRAMS => {
            let mut v = Vec::new();
            decode_histograms(body, |r, t, h| {
                if let Some(labels) = labels(r, &mut unknown, series) {
                    v.push(HistogramSample { series: SeriesRef(r), labels, t, histogram: Arc::new(h) });
                }
            })
            .map(|()| Some(ReadData::Histograms(v)))
        }
        TYPE_EXEMPLARS => {
            let mut v = Vec::new();
            decode_exemplars(body, |r, exemplar| {
                if let Some(labels) = labels(r, &mut unknown, series) {
                    v.push(ExemplarSample { series: SeriesRef(r), labels, exemplar });
                }
            })
            .map(|()| Some(ReadData::Exemplars(v)))
        }
        TYPE_METADATA => {
            let mut v = Vec::new();
            decode_metadata(body, |r, m| {
                if let Some(labels) = labels(r, &mut unknown, series) {
                    v.push(MetadataUpdate { series: SeriesRef(r), labels, metadata: Arc::new(m) });
                }
            })
            .map(|()| Some(ReadData::Metadata(v)))
        }
        TYPE_WATERMARK | TYPE_LAST_T => Ok(None),
        _ => Err(Corruption::Type(f.ty)),
    };
    if unknown.count > 0 {
        warn(warnings, Warning::UnknownSeries { segment: index, offset: f.start, count: unknown.count, first_ref: unknown.first });
    }
    match res {
        Ok(data) => data.filter(|d| !d.is_empty()),
        Err(reason) => {
            warn(warnings, Warning::RecordSkipped { segment: index, offset: f.start, reason });
            None
        }
    }
}
