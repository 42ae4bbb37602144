//! Tailing the segments of a log: where a reader starts, how it follows the writer into new
//! segments, and what it does with bad bytes. Shared by [`WalReader`](super::WalReader) (which
//! decodes Prometheus records and keeps a series table on top) and
//! [`LogReader`](super::LogReader) (raw records, for logs whose records stand alone).

use std::io;
use std::path::{Path, PathBuf};

use super::segment::{self, segment_path, Frame, Next, SegmentReader};
use super::{Corruption, Position, Warning};

/// Warnings kept between two `take_warnings` calls (a reader nobody drains must not grow
/// without bound).
const MAX_WARNINGS: usize = 1024;

pub(crate) fn warn(warnings: &mut Vec<Warning>, w: Warning) {
    if warnings.len() < MAX_WARNINGS {
        warnings.push(w);
    }
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

/// What [`Tail::step`] found.
pub(crate) enum Step {
    /// The next frame of the current segment (its bytes: [`Tail::reader`]).
    Frame(Frame),
    /// Segment `index` is about to be opened (the next step opens it): a caller with state
    /// tied to segments (checkpoints) updates it first.
    Entering(u32),
    /// Nothing more for now.
    CaughtUp,
}

/// Where a reader starts, from what is on disk.
pub(crate) enum Plan {
    /// No segment yet: wait for this one to appear.
    Wait(u32),
    /// Start at this position; segments before it are skipped.
    Begin(Position),
}

/// The position and open segment of one reader.
pub(crate) struct Tail {
    dir: PathBuf,
    cur: Option<SegmentReader>,
    /// The current segment has a successor, so its end is final (a partial record there is
    /// damage, not a write in progress).
    cur_final: bool,
    /// The segment to open when there is no current one.
    want: u32,
    /// The segment [`Step::Entering`] was last reported for.
    announced: Option<u32>,
    pos: Position,
    /// Bad bytes at the tail of the segment being written: retried, warned about once.
    stalled: Option<(u32, u64, bool)>,
}

impl Tail {
    pub(crate) fn new(dir: &Path, start: Position) -> Tail {
        Tail { dir: dir.to_path_buf(), cur: None, cur_final: false, want: start.segment, announced: None, pos: start, stalled: None }
    }

    /// The position after the last frame returned (or the start).
    pub(crate) fn position(&self) -> Position {
        self.pos
    }

    /// The open segment (the one the last [`Step::Frame`] came from).
    pub(crate) fn reader(&self) -> Option<&SegmentReader> {
        self.cur.as_ref()
    }

    /// Where to start reading for `start` (a position an item's `end` gave, or
    /// [`Position::default`] for "everything on disk"), given the segments on disk from
    /// `covered` on (segments below it are replaced by a checkpoint, or none). A start that is
    /// no longer on disk or past the end is moved (to resend rather than lose) with a warning.
    pub(crate) fn plan(segments: &[u32], covered: u32, start: Position, warnings: &mut Vec<Warning>) -> Plan {
        let (Some(&first), Some(&last)) = (segments.first(), segments.last()) else {
            return Plan::Wait(covered);
        };
        let mut begin = start;
        if start.segment < first {
            if start != Position::default() {
                warn(warnings, Warning::SegmentsMissing { from: start.segment, to: first - 1 });
            }
            begin = Position::new(first, 0);
        } else if start.segment > last {
            begin = Position::new(first, 0);
            warn(warnings, Warning::StartAdjusted { requested: start, actual: begin, reason: "is past the end of the WAL" });
        } else if let Some(&s) = segments.iter().find(|&&s| s >= start.segment).filter(|&&s| s != start.segment) {
            warn(warnings, Warning::SegmentsMissing { from: start.segment, to: s - 1 });
            begin = Position::new(s, 0);
        }
        Plan::Begin(begin)
    }

    /// Waits for segment `index` to appear (nothing on disk yet).
    pub(crate) fn wait_for(&mut self, index: u32) {
        self.cur = None;
        self.want = index;
        self.pos = Position::new(index, 0);
    }

    /// Positions the tail at `p` in its segment; `before` sees each frame that ends at or
    /// before `p.offset`. A position that is not at a record boundary, or past the end of its
    /// segment, is moved back with a warning.
    pub(crate) fn seek(&mut self, p: Position, warnings: &mut Vec<Warning>, mut before: impl FnMut(&SegmentReader, &Frame)) -> io::Result<()> {
        self.pos = p;
        self.stalled = None;
        let mut r = match SegmentReader::open(&segment_path(&self.dir, p.segment), p.segment) {
            Ok(r) => r,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.cur = None;
                self.want = p.segment;
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        while r.offset() < p.offset {
            match r.next()? {
                Next::Frame(f) if f.end <= p.offset => before(&r, &f),
                Next::Frame(f) => {
                    r.unread(&f);
                    let actual = Position::new(p.segment, f.start);
                    warn(warnings, Warning::StartAdjusted { requested: p, actual, reason: "is not at a record boundary" });
                    self.pos = actual;
                    break;
                }
                Next::End { .. } => {
                    let actual = Position::new(p.segment, r.offset());
                    warn(warnings, Warning::StartAdjusted { requested: p, actual, reason: "is past the end of its segment" });
                    self.pos = actual;
                    break;
                }
                // `step` reports the bad bytes and moves on.
                Next::Corrupt(_) => {
                    self.pos = Position::new(p.segment, r.offset());
                    break;
                }
            }
        }
        self.cur = Some(r);
        self.cur_final = false;
        self.want = p.segment;
        Ok(())
    }

    /// The next frame, or what stands in its way. Follows the writer into new segments; a
    /// record the writer is half way through writing is waited for, never taken for damage
    /// while its segment is the last one.
    pub(crate) fn step(&mut self, warnings: &mut Vec<Warning>) -> io::Result<Step> {
        loop {
            let Some(cur) = self.cur.as_mut() else {
                match self.advance(warnings)? {
                    Some(step) => return Ok(step),
                    None => continue,
                }
            };
            let index = cur.index;
            match cur.next()? {
                Next::Frame(f) => {
                    self.stalled = None;
                    self.pos = Position::new(index, f.end);
                    return Ok(Step::Frame(f));
                }
                Next::End { partial } => {
                    if self.cur_final {
                        if partial {
                            warn(warnings, Warning::SegmentSkipped { segment: index, offset: cur.offset(), reason: Corruption::Torn });
                        }
                        self.leave_segment(index);
                    } else if is_final(&self.dir, index)? {
                        // Read once more: the last appends may have landed after we looked.
                        self.cur_final = true;
                    } else {
                        return Ok(Step::CaughtUp);
                    }
                }
                Next::Corrupt(reason) => {
                    let offset = cur.offset();
                    if self.cur_final {
                        warn(warnings, Warning::SegmentSkipped { segment: index, offset, reason });
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
                                warn(warnings, Warning::TailStalled { segment: index, offset, reason });
                            }
                        }
                        stalled => *stalled = Some((index, offset, false)),
                    }
                    return Ok(Step::CaughtUp);
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

    /// Opens the next segment if there is one; `Some` when the caller must be told something
    /// first (the segment about to be entered, or that there is none yet).
    fn advance(&mut self, warnings: &mut Vec<Warning>) -> io::Result<Option<Step>> {
        let listing = segment::list(&self.dir)?;
        let Some(&index) = listing.segments.iter().find(|&&s| s >= self.want) else {
            return Ok(Some(Step::CaughtUp));
        };
        if self.announced != Some(index) {
            self.announced = Some(index);
            return Ok(Some(Step::Entering(index)));
        }
        if index > self.want {
            warn(warnings, Warning::SegmentsMissing { from: self.want, to: index - 1 });
        }
        match SegmentReader::open(&segment_path(&self.dir, index), index) {
            Ok(r) => {
                self.cur = Some(r);
                self.cur_final = false;
                self.want = index;
                self.pos = self.pos.max(Position::new(index, 0));
            }
            // Removed meanwhile: the next call finds what follows.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        Ok(None)
    }
}
