//! The reading side: a [`WalReader`] per sender tails the log from a saved position and
//! yields its data with labels resolved.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::hash::FxMap;
use super::record::*;
use super::segment::{self, checkpoint_path, segment_path, Frame, Next, SegmentReader, Unframer};
use super::tail::{warn, Plan, Step, Tail};
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

/// Tails the log for one sender. Not an iterator: [`WalReader::next`] returning `None` means
/// "nothing more yet"; call it again after the writer has appended.
pub struct WalReader {
    tail: Tail,
    st: Series,
}

/// What a reader knows besides its position: the series table and how it was built.
struct Series {
    dir: PathBuf,
    /// WAL ref → labels and the segment its series record was read from (the checkpoint's
    /// index for series read from one).
    series: FxMap<u64, (Labels, u32)>,
    /// Where decoded label sets are interned, so the reader shares the writer's copies.
    store: Option<&'static Store>,
    checkpoint: Option<u32>,
    warnings: Vec<Warning>,
    unframer: Unframer,
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
        let dir = dir.as_ref();
        let mut st = Series { dir: dir.to_path_buf(), series: FxMap::default(), store, checkpoint: None, warnings: Vec::new(), unframer: Unframer::new() };
        let mut tail = Tail::new(dir, start);
        let listing = segment::list(dir)?;
        if let Some(&k) = listing.checkpoints.last() {
            st.load_checkpoint(k)?;
        }
        let covered = st.checkpoint.map_or(0, |k| k.saturating_add(1));
        let segments: Vec<u32> = listing.segments.into_iter().filter(|&s| s >= covered).collect();
        match Tail::plan(&segments, covered, start, &mut st.warnings) {
            // Nothing written yet: start with the first segment that appears.
            Plan::Wait(first) => tail.wait_for(first),
            Plan::Begin(begin) => {
                for &s in segments.iter().filter(|&&s| s < begin.segment) {
                    st.scan_series(s)?;
                }
                let Series { series, store, unframer, warnings, .. } = &mut st;
                let mut adjusted = Vec::new();
                tail.seek(begin, &mut adjusted, |r, f| apply_series(series, *store, unframer, warnings, r, f))?;
                for w in adjusted {
                    warn(warnings, w);
                }
            }
        }
        Ok(WalReader { tail, st })
    }

    /// The position after the last item returned (or the start): what a sender that has
    /// sent everything it read saves.
    pub fn position(&self) -> Position {
        self.tail.position()
    }

    /// Series the reader can resolve.
    pub fn series_count(&self) -> usize {
        self.st.series.len()
    }

    /// What the reader recovered from since the last call (bad bytes skipped, data removed
    /// before it was read, refs without a series).
    pub fn take_warnings(&mut self) -> Vec<Warning> {
        std::mem::take(&mut self.st.warnings)
    }

    /// The next record's data, or `None` when the reader has caught up with the writer for
    /// now. Follows the writer into new segments; a record the writer is half way through
    /// writing is waited for, never taken for damage while its segment is the last one.
    #[allow(clippy::should_implement_trait)] // not an Iterator: `None` is "not yet", not "done"
    pub fn next(&mut self) -> io::Result<Option<ReadItem>> {
        loop {
            match self.tail.step(&mut self.st.warnings)? {
                Step::CaughtUp => return Ok(None),
                Step::Entering(index) => self.st.refresh_checkpoint(index)?,
                Step::Frame(f) => {
                    let Some(cur) = self.tail.reader() else { continue };
                    let st = &mut self.st;
                    let data = decode(cur, &f, &mut st.series, st.store, &mut st.unframer, &mut st.warnings);
                    if let Some(data) = data {
                        return Ok(Some(ReadItem { data, end: self.tail.position() }));
                    }
                }
            }
        }
    }
}

impl Series {
    /// When a newer checkpoint covers everything before segment `entering`, forgets the series
    /// the writer has dropped since: the new table is the checkpoint's plus those defined in
    /// segments after it.
    fn refresh_checkpoint(&mut self, entering: u32) -> io::Result<()> {
        let listing = segment::list(&self.dir)?;
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
        let bad = self.scan(&mut r)?;
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
        let bad = self.scan(&mut r)?;
        if let Some(reason) = bad {
            warn(&mut self.warnings, Warning::SegmentSkipped { segment: s, offset: r.offset(), reason });
        }
        Ok(())
    }

    /// Applies every series record of a file; what stopped it, if not its end.
    fn scan(&mut self, r: &mut SegmentReader) -> io::Result<Option<Corruption>> {
        loop {
            match r.next()? {
                Next::Frame(f) => apply_series(&mut self.series, self.store, &mut self.unframer, &mut self.warnings, r, &f),
                Next::End { partial: false } => return Ok(None),
                Next::End { partial: true } => return Ok(Some(Corruption::Torn)),
                Next::Corrupt(c) => return Ok(Some(c)),
            }
        }
    }
}

fn apply_series(
    series: &mut FxMap<u64, (Labels, u32)>,
    store: Option<&'static Store>,
    unframer: &mut Unframer,
    warnings: &mut Vec<Warning>,
    r: &SegmentReader,
    f: &Frame,
) {
    if f.ty & !segment::COMPRESSED != TYPE_SERIES {
        return;
    }
    let index = r.index;
    let res = match unframer.body(f.ty, r.stored_body(f)) {
        Ok((_, body)) => decode_series(body, |wal_ref, labels| {
            series.insert(wal_ref, (intern(store, labels), index));
        }),
        Err(reason) => Err(reason),
    };
    if let Err(reason) = res {
        warn(warnings, Warning::RecordSkipped { segment: index, offset: f.start, reason });
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
