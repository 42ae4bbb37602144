//! The write-ahead log `prometheus.remote_write` keeps under its data path: every committed
//! [`Batch`](crate::Batch) is appended to disk before any endpoint sends it, and one
//! [`WalReader`] per endpoint tails the log, so a restart, a `kill -9` or a long receiver
//! outage loses nothing the log still holds.
//!
//! The layer under it (segments of framed records, the head segment, tailing, progress) is
//! also usable alone: [`LogWriter`] and [`LogReader`] append and tail records the caller
//! encodes (`loki.write`'s WAL, whose records need no series table), with the same framing,
//! repair and corruption handling.
//!
//! Layout of `<dir>`:
//! * `00000000`, `00000001`, …: segments, each a run of framed records (framing in `segment.rs`); a
//!   segment is closed (fsynced) once the next append would take it past
//!   [`WalOptions::segment_size`]; at open the writer repairs the last segment and starts a
//!   new one.
//! * `checkpoint.NNNNNNNN`: the series still live when segments `..=NNNNNNNN` were removed,
//!   so readers starting later still resolve refs (see [`Wal::truncate`]).
//! * `progress/<name>`: where each sender has got to ([`Progress`]).
//!
//! Records (bodies in `record.rs`): series (WAL ref → labels, written once per series), samples,
//! native histograms, exemplars, metadata. Data records carry WAL refs; the reader resolves
//! them and yields items with [`Labels`](crate::Labels).
//!
//! The code is synchronous and std-only: the runtime calls it from blocking threads.

mod hash;
pub mod log;
pub mod progress;
pub mod reader;
mod record;
mod segment;
mod tail;
pub mod writer;

#[cfg(test)]
mod tests;

use std::fmt;

/// The encoding of record bodies: LEB128 varints (signed ones zigzag), length-prefixed UTF-8
/// strings, label sets; [`codec::Dec`] reads them back with every read bounds-checked.
pub mod codec {
    pub use super::record::{put_labels, put_str, put_uvarint, put_varint, Dec};
}

pub use log::{LogOptions, LogReader, LogRecord, LogSegment, LogWriter};
pub use progress::Progress;
pub use reader::{ReadData, ReadItem, WalReader};
pub use writer::{Keepalive, SegmentInfo, SeriesStats, TruncateStats, Wal, WalOptions};

/// A place in the log: a segment and a byte offset in it. Positions order as the log does;
/// the offset just past a record is where the next one starts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    pub segment: u32,
    pub offset: u64,
}

impl Position {
    pub const fn new(segment: u32, offset: u64) -> Position {
        Position { segment, offset }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08}:{}", self.segment, self.offset)
    }
}

/// Why bytes in a segment could not be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Corruption {
    #[error("record cut short")]
    Torn,
    #[error("checksum mismatch")]
    Checksum,
    #[error("record length {0} out of range")]
    Length(u64),
    #[error("invalid record type {0:#04x}")]
    Type(u8),
    #[error("snappy body does not decompress")]
    Snappy,
    #[error("malformed {0} record: {1}")]
    Decode(&'static str, &'static str),
}

/// Something the log recovered from (bad bytes, data removed before it was read). Opening and
/// reading never fail because of these; they are reported so the component can log and count
/// them.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Warning {
    #[error("WAL segment {segment:08}: {reason} at offset {offset}; truncated {dropped} bytes from the end")]
    TailTruncated { segment: u32, offset: u64, dropped: u64, reason: Corruption },
    #[error("WAL segment {segment:08}: {reason} at offset {offset}; the rest of the segment is skipped")]
    SegmentSkipped { segment: u32, offset: u64, reason: Corruption },
    #[error("WAL segment {segment:08}: {reason} at offset {offset} in the segment being written; waiting for the writer to move on")]
    TailStalled { segment: u32, offset: u64, reason: Corruption },
    #[error("WAL segment {segment:08}: record at offset {offset} skipped: {reason}")]
    RecordSkipped { segment: u32, offset: u64, reason: Corruption },
    #[error("WAL checkpoint {index:08}: {reason} at offset {offset}; the rest is skipped")]
    CheckpointCorrupt { index: u32, offset: u64, reason: Corruption },
    #[error("WAL segments {from:08} to {to:08} were removed before this reader got to them; their data is lost to it")]
    SegmentsMissing { from: u32, to: u32 },
    #[error("WAL segment {segment:08}: {count} items at offset {offset} refer to unknown series (first WAL ref {first_ref}); dropped")]
    UnknownSeries { segment: u32, offset: u64, count: usize, first_ref: u64 },
    #[error("WAL start position {requested} {reason}; starting at {actual}")]
    StartAdjusted { requested: Position, actual: Position, reason: &'static str },
}
