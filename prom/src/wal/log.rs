//! The record log under both write-ahead logs: numbered segment files of framed, checksummed
//! records (framing in `segment.rs`), appended by one writer and tailed by any number of
//! readers, each with its own saved [`Progress`](super::Progress).
//!
//! [`Wal`](super::Wal) (`prometheus.remote_write`) keeps a series table and checkpoints on top
//! of the same files, head segment ([`Head`]) and tailing ([`Tail`]). [`LogWriter`] and
//! [`LogReader`] are the layer without any of that, for logs whose records stand alone
//! (`loki.write`'s): a record is a type byte (1 to 127) and a body the caller encodes.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::segment::{self, segment_path, sync_dir, Framer, Next, SegmentReader, Unframer, COMPRESSED};
use super::tail::{warn, Plan, Step, Tail};
use super::{Corruption, Position, Warning};

fn create_segment(dir: &Path, index: u32) -> io::Result<File> {
    OpenOptions::new().append(true).create_new(true).open(segment_path(dir, index))
}

/// The segment being written.
pub(crate) struct Head {
    dir: PathBuf,
    segment_size: u64,
    file: File,
    seg: u32,
    size: u64,
    /// A failed write may have left part of a record in the segment: the next write starts
    /// a new one, so readers see the stray bytes as the torn end of a closed segment.
    broken: bool,
}

impl Head {
    /// Continues after what is on disk: in `last` (index and length of the last segment) if
    /// it is empty, else in the segment after it; in `first` when there is no segment.
    pub(crate) fn resume(dir: &Path, segment_size: u64, last: Option<(u32, u64)>, first: u32) -> io::Result<Head> {
        let (seg, file) = match last {
            Some((s, 0)) => (s, OpenOptions::new().append(true).open(segment_path(dir, s))?),
            Some((s, _)) => {
                let next = s.checked_add(1).ok_or_else(|| io::Error::other("WAL segment numbers exhausted"))?;
                (next, create_segment(dir, next)?)
            }
            None => (first, create_segment(dir, first)?),
        };
        sync_dir(dir)?;
        Ok(Head { dir: dir.to_path_buf(), segment_size, file, seg, size: 0, broken: false })
    }

    pub(crate) fn position(&self) -> Position {
        Position::new(self.seg, self.size)
    }

    pub(crate) fn index(&self) -> u32 {
        self.seg
    }

    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    /// Whether the segment holds anything (closing it would not leave an empty file behind).
    pub(crate) fn dirty(&self) -> bool {
        self.size > 0 || self.broken
    }

    /// Writes `bytes` (whole frames) in one `write`, in a new segment when they would take
    /// the current one past its size; returns the segment they went to.
    pub(crate) fn write(&mut self, bytes: &[u8]) -> io::Result<u32> {
        let len = bytes.len() as u64;
        if self.broken || (self.size > 0 && self.size + len > self.segment_size) {
            self.rotate()?;
        }
        if let Err(e) = self.file.write_all(bytes) {
            // Whatever part went out is not a record: cut it off (best effort) and move to a
            // new segment at the next write in case a reader saw it.
            let _ = self.file.set_len(self.size);
            self.broken = true;
            return Err(e);
        }
        self.size += len;
        Ok(self.seg)
    }

    /// Closes the current segment (fsynced) and starts the next.
    pub(crate) fn rotate(&mut self) -> io::Result<()> {
        self.file.sync_data()?;
        let next = self.seg.checked_add(1).ok_or_else(|| io::Error::other("WAL segment numbers exhausted"))?;
        let file = create_segment(&self.dir, next)?;
        sync_dir(&self.dir)?;
        self.file = file;
        self.seg = next;
        self.size = 0;
        self.broken = false;
        Ok(())
    }

    pub(crate) fn sync(&self) -> io::Result<()> {
        self.file.sync_data()
    }
}

impl Drop for Head {
    fn drop(&mut self) {
        // Best effort: `sync` reports the error.
        let _ = self.file.sync_data();
    }
}

/// Reads a segment's frames to the first bad byte; returns the length of the good part and
/// what stopped it, if not the end of the file.
pub(crate) fn scan(r: &mut SegmentReader, mut frame: impl FnMut(&SegmentReader, &segment::Frame)) -> io::Result<(u64, Option<Corruption>)> {
    let bad = loop {
        match r.next()? {
            Next::Frame(f) => frame(r, &f),
            Next::End { partial: false } => break None,
            Next::End { partial: true } => break Some(Corruption::Torn),
            Next::Corrupt(c) => break Some(c),
        }
    };
    Ok((r.offset(), bad))
}

/// Cuts a segment at `good` (its bad tail) and says so.
pub(crate) fn cut_tail(path: &Path, index: u32, good: u64, reason: Corruption) -> io::Result<Warning> {
    let file = OpenOptions::new().write(true).open(path)?;
    let len = file.metadata()?.len();
    file.set_len(good)?;
    file.sync_all()?;
    Ok(Warning::TailTruncated { segment: index, offset: good, dropped: len.saturating_sub(good), reason })
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogOptions {
    /// A segment is closed when the next append would take it past this size (an append
    /// larger than this gets a segment of its own).
    pub segment_size: u64,
    /// Snappy-compress record bodies (where that makes them smaller).
    pub compress: bool,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions { segment_size: 128 << 20, compress: true }
    }
}

/// A segment file on disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogSegment {
    pub index: u32,
    pub size: u64,
    /// When it was last written to.
    pub modified: SystemTime,
}

/// Appends records to a log directory. One per directory (nothing stops a second process:
/// the component owns its data path).
pub struct LogWriter {
    head: Head,
    framer: Framer,
    out: Vec<u8>,
}

impl LogWriter {
    /// Opens (creating) the log in `dir`: cuts a torn or corrupt tail off the last segment
    /// (reported as a warning; only I/O errors fail) and starts a new segment after it.
    /// Earlier segments are not read: readers skip what is bad in them.
    pub fn open(dir: impl AsRef<Path>, opts: LogOptions) -> io::Result<(LogWriter, Vec<Warning>)> {
        let dir = dir.as_ref();
        fs::create_dir_all(dir)?;
        let mut warnings = Vec::new();
        let listing = segment::list(dir)?;
        let mut last = None;
        if let Some(&s) = listing.segments.last() {
            let path = segment_path(dir, s);
            let (good, bad) = scan(&mut SegmentReader::open(&path, s)?, |_, _| {})?;
            if let Some(reason) = bad {
                warnings.push(cut_tail(&path, s, good, reason)?);
            }
            last = Some((s, good));
        }
        let head = Head::resume(dir, opts.segment_size, last, 0)?;
        Ok((LogWriter { head, framer: Framer::new(opts.compress), out: Vec::new() }, warnings))
    }

    pub fn dir(&self) -> &Path {
        &self.head.dir
    }

    /// Where the next append goes: the end of what has been written.
    pub fn position(&self) -> Position {
        self.head.position()
    }

    /// Appends records (type 1 to 127, body) in one `write`, so a killed process loses
    /// none or all of them; returns the position after them. Not fsynced: see
    /// [`LogWriter::sync`]. A body over 64 MiB is refused (and nothing is written).
    pub fn append<'a>(&mut self, records: impl IntoIterator<Item = (u8, &'a [u8])>) -> io::Result<Position> {
        self.out.clear();
        for (ty, body) in records {
            if ty == 0 || ty & COMPRESSED != 0 {
                return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("WAL record type {ty} out of range")));
            }
            self.framer.frame(ty, body, &mut self.out)?;
        }
        if !self.out.is_empty() {
            self.head.write(&self.out)?;
        }
        Ok(self.position())
    }

    /// Closes the current segment, when it holds anything, and starts a new one (so the
    /// closed one can be removed once every reader is past it).
    pub fn rotate(&mut self) -> io::Result<()> {
        if self.head.dirty() {
            self.head.rotate()?;
        }
        Ok(())
    }

    /// Makes everything appended so far durable against power loss (appends alone survive a
    /// killed process, not a crashed machine).
    pub fn sync(&mut self) -> io::Result<()> {
        self.head.sync()
    }

    /// The segments on disk, oldest first (the last is the one being written).
    pub fn segments(&self) -> io::Result<Vec<LogSegment>> {
        let mut out = Vec::new();
        for index in segment::list(&self.head.dir)?.segments {
            match fs::metadata(segment_path(&self.head.dir, index)) {
                Ok(m) => {
                    let size = if index == self.head.index() { self.head.size() } else { m.len() };
                    out.push(LogSegment { index, size, modified: m.modified()? });
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Removes a closed segment (never the one being written); readers still in it read on
    /// from their open file and then skip to the next segment.
    pub fn remove(&mut self, index: u32) -> io::Result<()> {
        if index >= self.head.index() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("WAL segment {index:08} is being written")));
        }
        segment::remove_if_exists(&segment_path(&self.head.dir, index))?;
        sync_dir(&self.head.dir)
    }
}

/// A record read from the log: its type, its (decompressed) body and where it starts and
/// ends: once it is dealt with, `end` is what the reader's owner saves as its progress.
#[derive(Debug)]
pub struct LogRecord<'a> {
    pub ty: u8,
    pub body: &'a [u8],
    pub start: Position,
    pub end: Position,
}

/// Tails a log from a position. Not an iterator: [`LogReader::next`] returning `None` means
/// "nothing more yet"; call it again after the writer has appended.
pub struct LogReader {
    tail: Tail,
    unframer: Unframer,
    warnings: Vec<Warning>,
}

impl LogReader {
    /// Opens a reader that yields records from `start` on (a position a record's `end` gave,
    /// or [`Position::default`] for "everything on disk"). A start that is no longer on disk,
    /// past the end or not at a record boundary is moved (to resend rather than lose) with a
    /// warning.
    pub fn open(dir: impl AsRef<Path>, start: Position) -> io::Result<LogReader> {
        let dir = dir.as_ref();
        let mut warnings = Vec::new();
        let mut tail = Tail::new(dir, start);
        let segments = segment::list(dir)?.segments;
        match Tail::plan(&segments, 0, start, &mut warnings) {
            Plan::Wait(first) => tail.wait_for(first),
            Plan::Begin(begin) => tail.seek(begin, &mut warnings, |_, _| {})?,
        }
        Ok(LogReader { tail, unframer: Unframer::new(), warnings })
    }

    /// The position after the last record returned (or the start).
    pub fn position(&self) -> Position {
        self.tail.position()
    }

    /// What the reader recovered from since the last call (bad bytes skipped, data removed
    /// before it was read).
    pub fn take_warnings(&mut self) -> Vec<Warning> {
        std::mem::take(&mut self.warnings)
    }

    /// The next record, or `None` when the reader has caught up with the writer for now.
    /// Follows the writer into new segments; a record the writer is half way through writing
    /// is waited for, never taken for damage while its segment is the last one. A record
    /// whose body does not decompress is skipped with a warning.
    #[allow(clippy::should_implement_trait)] // not an Iterator: `None` is "not yet", not "done"
    pub fn next(&mut self) -> io::Result<Option<LogRecord<'_>>> {
        let (f, end, decompressed) = loop {
            let f = match self.tail.step(&mut self.warnings)? {
                Step::CaughtUp => return Ok(None),
                Step::Entering(_) => continue,
                Step::Frame(f) => f,
            };
            let Some(cur) = self.tail.reader() else { continue };
            let end = self.tail.position();
            match self.unframer.prepare(f.ty, cur.stored_body(&f)) {
                Ok(decompressed) => break (f, end, decompressed),
                Err(reason) => warn(&mut self.warnings, Warning::RecordSkipped { segment: end.segment, offset: f.start, reason }),
            }
        };
        // The frame just returned is in the open segment.
        let Some(cur) = self.tail.reader() else { return Ok(None) };
        let body = match decompressed {
            Some(n) => self.unframer.decompressed(n),
            None => cur.stored_body(&f),
        };
        Ok(Some(LogRecord { ty: f.ty & !COMPRESSED, body, start: Position::new(end.segment, f.start), end }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(segment_size: u64) -> LogOptions {
        LogOptions { segment_size, compress: true }
    }

    fn body(i: usize) -> Vec<u8> {
        // Compressible past 64 bytes, so both stored forms occur.
        format!("record {i} {}", "x".repeat(i % 200)).into_bytes()
    }

    fn read_all(r: &mut LogReader) -> Vec<(u8, Vec<u8>, Position)> {
        let mut out = Vec::new();
        while let Some(rec) = r.next().expect("read") {
            out.push((rec.ty, rec.body.to_vec(), rec.end));
        }
        out
    }

    #[test]
    fn records_round_trip_across_rotations_and_resume_at_an_end() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (mut w, warnings) = LogWriter::open(dir.path(), opts(1024)).expect("open");
        assert_eq!(warnings, vec![]);
        let mut r = LogReader::open(dir.path(), Position::default()).expect("reader");
        let mut ends = Vec::new();
        for i in 0..100 {
            let b = body(i);
            ends.push(w.append([(1 + (i % 3) as u8, b.as_slice())]).expect("append"));
        }
        let got = read_all(&mut r);
        assert_eq!(got.len(), 100);
        for (i, (ty, b, end)) in got.iter().enumerate() {
            assert_eq!((*ty, b.as_slice(), *end), (1 + (i % 3) as u8, body(i).as_slice(), ends[i]));
        }
        assert!(w.segments().expect("segments").len() > 3, "small segments rotate");
        assert_eq!(r.take_warnings(), vec![]);
        // A reader opened at a record's end yields what follows it.
        let mut r = LogReader::open(dir.path(), ends[49]).expect("reader");
        let got = read_all(&mut r);
        assert_eq!(got.first().map(|g| g.1.clone()), Some(body(50)));
        assert_eq!(got.len(), 50);
    }

    #[test]
    fn several_records_are_one_write_and_bad_types_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (mut w, _) = LogWriter::open(dir.path(), opts(1 << 20)).expect("open");
        assert!(w.append([(1, &b"a"[..]), (0, &b"b"[..])]).is_err());
        assert!(w.append([(0x81, &b"b"[..])]).is_err());
        assert_eq!(w.position(), Position::new(0, 0), "nothing of a refused append is written");
        let end = w.append([(1, &b"a"[..]), (2, &b"b"[..])]).expect("append");
        let mut r = LogReader::open(dir.path(), Position::default()).expect("reader");
        let got = read_all(&mut r);
        assert_eq!(got.iter().map(|g| (g.0, g.1.clone())).collect::<Vec<_>>(), [(1, b"a".to_vec()), (2, b"b".to_vec())]);
        assert_eq!(got[1].2, end);
    }

    #[test]
    fn a_torn_tail_is_cut_at_open_and_writing_goes_on_in_a_new_segment() {
        let dir = tempfile::tempdir().expect("tempdir");
        let end = {
            let (mut w, _) = LogWriter::open(dir.path(), opts(1 << 20)).expect("open");
            w.append([(1, &b"kept"[..])]).expect("append")
        };
        // Half a record: a header promising more than follows.
        let seg = segment_path(dir.path(), 0);
        let mut f = OpenOptions::new().append(true).open(&seg).expect("segment");
        f.write_all(&[1, 200, 0, 0, 0, 1, 2, 3, 4, b'p']).expect("garbage");
        drop(f);
        let (mut w, warnings) = LogWriter::open(dir.path(), opts(1 << 20)).expect("reopen");
        assert!(matches!(warnings.as_slice(), [Warning::TailTruncated { segment: 0, reason: Corruption::Torn, dropped: 10, .. }]), "{warnings:?}");
        assert_eq!(fs::metadata(&seg).expect("meta").len(), end.offset);
        assert_eq!(w.position(), Position::new(1, 0));
        w.append([(1, &b"after"[..])]).expect("append");
        let mut r = LogReader::open(dir.path(), Position::default()).expect("reader");
        assert_eq!(read_all(&mut r).into_iter().map(|g| g.1).collect::<Vec<_>>(), [b"kept".to_vec(), b"after".to_vec()]);
        assert_eq!(r.take_warnings(), vec![]);
    }

    #[test]
    fn a_reader_started_in_a_removed_segment_skips_to_the_first_left() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (mut w, _) = LogWriter::open(dir.path(), opts(1 << 20)).expect("open");
        let early = w.append([(1, &b"0"[..])]).expect("append");
        w.rotate().expect("rotate");
        w.append([(1, &b"1"[..])]).expect("append");
        w.rotate().expect("rotate");
        w.rotate().expect("an empty head is not rotated");
        assert_eq!(w.position(), Position::new(2, 0));
        assert!(w.remove(2).is_err(), "the head is never removed");
        w.remove(0).expect("remove");
        assert_eq!(w.segments().expect("segments").iter().map(|s| s.index).collect::<Vec<_>>(), [1, 2]);
        let mut r = LogReader::open(dir.path(), early).expect("reader");
        assert_eq!(read_all(&mut r).into_iter().map(|g| g.1).collect::<Vec<_>>(), [b"1".to_vec()]);
        assert!(matches!(r.take_warnings().as_slice(), [Warning::SegmentsMissing { from: 0, to: 0 }]));
    }

    #[test]
    fn a_reader_waits_for_a_half_written_record_and_for_new_segments() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut r = LogReader::open(dir.path(), Position::default()).expect("reader before the writer");
        assert!(r.next().expect("read").is_none());
        let (mut w, _) = LogWriter::open(dir.path(), opts(1 << 20)).expect("open");
        w.append([(1, &b"one"[..])]).expect("append");
        // The writer's next record, caught half way.
        let mut frame = Vec::new();
        Framer::new(false).frame(1, b"two", &mut frame).expect("frame");
        let seg = segment_path(dir.path(), 0);
        let mut f = OpenOptions::new().append(true).open(&seg).expect("segment");
        f.write_all(&frame[..5]).expect("half");
        assert_eq!(read_all(&mut r).into_iter().map(|g| g.1).collect::<Vec<_>>(), [b"one".to_vec()]);
        f.write_all(&frame[5..]).expect("rest");
        assert_eq!(read_all(&mut r).into_iter().map(|g| g.1).collect::<Vec<_>>(), [b"two".to_vec()]);
        assert_eq!(r.take_warnings(), vec![]);
    }
}
