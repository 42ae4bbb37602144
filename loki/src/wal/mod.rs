//! The write-ahead log `loki.write` keeps under its data path when `wal.enabled` is set:
//! every entry the component receives is appended here before its producer's send returns,
//! and each endpoint tails the log from its own saved position.
//!
//! The files are `prometheus.remote_write`'s record log ([`prom::wal::LogWriter`]: numbered
//! segments of checksummed frames, a torn tail cut at open, progress files under
//! `progress/`) holding one record type of its own, so they are not upstream's files
//! (Prometheus' tsdb WAL pages with Loki's series and entries records) and neither side reads
//! the other's.
//!
//! An entries record stands alone (no series table to rebuild, so any segment can be removed
//! once every endpoint has passed it): a run of streams to the end of the body, each
//! `labels, n, (timestamp_ns, line, m, (name, value) × m) × n`, with the label set written
//! once per run of consecutive entries that share it. Integers are varints (timestamps
//! zigzag), strings length-prefixed UTF-8 ([`prom::wal::codec`]).

use std::io;
use std::path::Path;

use prom::wal::codec::{put_labels, put_str, put_uvarint, put_varint, Dec};
use prom::wal::{Corruption, LogOptions, LogReader, LogSegment, LogWriter, Position, Warning};
use prom::Labels;

use crate::Entry;

/// The record type of a run of entries.
pub const TYPE_ENTRIES: u8 = 1;

/// Records are cut after the entry that takes them past this many bytes. Progress is saved
/// per record, so this bounds what a restart after a crash may resend besides the batch in
/// flight (the part of the oldest unfinished record already sent); and one bad record costs
/// little.
const RECORD_TARGET: usize = 64 << 10;

/// Encodes entries as records, reusing its buffers.
#[derive(Default)]
pub struct Encoder {
    bodies: Vec<Vec<u8>>,
    used: usize,
    scratch: Vec<u8>,
}

impl Encoder {
    /// Encodes `entries` as records of at most about [`RECORD_TARGET`] bytes (an entry larger
    /// than that gets a record of its own); returns their bodies.
    pub fn encode(&mut self, entries: &[Entry]) -> &[Vec<u8>] {
        self.used = 0;
        let mut i = 0;
        while i < entries.len() {
            if self.used == self.bodies.len() {
                self.bodies.push(Vec::new());
            }
            let body = &mut self.bodies[self.used];
            body.clear();
            self.used += 1;
            while i < entries.len() && body.len() < RECORD_TARGET {
                let labels = &entries[i].labels;
                self.scratch.clear();
                let mut n = 0;
                for e in entries[i..].iter().take_while(|e| Labels::ptr_eq(&e.labels, labels) || e.labels == *labels) {
                    put_entry(&mut self.scratch, e);
                    n += 1;
                    if body.len() + self.scratch.len() >= RECORD_TARGET {
                        break;
                    }
                }
                put_labels(body, labels);
                put_uvarint(body, n as u64);
                body.extend_from_slice(&self.scratch);
                i += n;
            }
        }
        // Buffers of a burst are not kept for ever.
        if self.scratch.capacity() > 4 * RECORD_TARGET {
            self.scratch = Vec::new();
        }
        self.bodies.truncate(self.used.max(4));
        &self.bodies[..self.used]
    }
}

fn put_entry(buf: &mut Vec<u8>, e: &Entry) {
    put_varint(buf, e.timestamp_ns);
    put_str(buf, &e.line);
    put_uvarint(buf, e.structured_metadata.len() as u64);
    for (k, v) in &e.structured_metadata {
        put_str(buf, k);
        put_str(buf, v);
    }
}

/// The entries of a record body. Bad bytes are a [`Corruption`], never a panic.
pub fn decode(body: &[u8]) -> Result<Vec<Entry>, Corruption> {
    let mut d = Dec::new(body, "entries");
    let mut out = Vec::new();
    while !d.is_empty() {
        let labels = d.labels()?;
        // An entry takes at least 3 bytes (timestamp, line length, metadata count).
        let n = d.count(3)?;
        out.reserve(n);
        for _ in 0..n {
            let timestamp_ns = d.varint()?;
            let line = d.str()?.to_string();
            let m = d.count(2)?;
            let mut structured_metadata = Vec::with_capacity(m);
            for _ in 0..m {
                let k = d.str()?.to_string();
                let v = d.str()?.to_string();
                structured_metadata.push((k, v));
            }
            out.push(Entry { labels: labels.clone(), timestamp_ns, line, structured_metadata });
        }
    }
    Ok(out)
}

/// Appends entries to the log.
pub struct Writer {
    log: LogWriter,
    encoder: Encoder,
}

impl Writer {
    /// Opens (creating) the log in `dir`; a torn or corrupt tail of the last segment is cut
    /// off and reported.
    pub fn open(dir: impl AsRef<Path>, opts: LogOptions) -> io::Result<(Writer, Vec<Warning>)> {
        let (log, warnings) = LogWriter::open(dir, opts)?;
        Ok((Writer { log, encoder: Encoder::default() }, warnings))
    }

    /// Appends the entries in one `write` (a killed process keeps all or none of them);
    /// returns the position after them. Not fsynced (see [`Writer::sync`]).
    pub fn append(&mut self, entries: &[Entry]) -> io::Result<Position> {
        let bodies = self.encoder.encode(entries);
        self.log.append(bodies.iter().map(|b| (TYPE_ENTRIES, b.as_slice())))
    }

    pub fn position(&self) -> Position {
        self.log.position()
    }

    pub fn dir(&self) -> &Path {
        self.log.dir()
    }

    pub fn sync(&mut self) -> io::Result<()> {
        self.log.sync()
    }

    /// Closes the segment being written if it holds anything.
    pub fn rotate(&mut self) -> io::Result<()> {
        self.log.rotate()
    }

    /// The segments on disk, oldest first (the last is the one being written).
    pub fn segments(&self) -> io::Result<Vec<LogSegment>> {
        self.log.segments()
    }

    /// Removes a closed segment.
    pub fn remove(&mut self, index: u32) -> io::Result<()> {
        self.log.remove(index)
    }
}

/// One record's entries and the position just after it.
#[derive(Clone, Debug, PartialEq)]
pub struct Read {
    pub entries: Vec<Entry>,
    pub end: Position,
}

/// Tails the log for one endpoint.
pub struct Reader {
    log: LogReader,
    warnings: Vec<Warning>,
    /// Records that did not decode (checksums matched, so a bug or a foreign record type).
    pub decode_failures: u64,
}

impl Reader {
    /// A reader yielding what follows `start` (a [`Read::end`], or [`Position::default`] for
    /// everything on disk); a start no longer on disk is moved with a warning (see
    /// [`LogReader::open`]).
    pub fn open(dir: impl AsRef<Path>, start: Position) -> io::Result<Reader> {
        Ok(Reader { log: LogReader::open(dir, start)?, warnings: Vec::new(), decode_failures: 0 })
    }

    pub fn position(&self) -> Position {
        self.log.position()
    }

    /// What the reader skipped or recovered from since the last call.
    pub fn take_warnings(&mut self) -> Vec<Warning> {
        let mut w = self.log.take_warnings();
        w.append(&mut self.warnings);
        w
    }

    /// The next record's entries, or `None` when caught up with the writer for now. A record
    /// that does not decode is skipped with a warning.
    #[allow(clippy::should_implement_trait)] // not an Iterator: `None` is "not yet", not "done"
    pub fn next(&mut self) -> io::Result<Option<Read>> {
        loop {
            let Some(rec) = self.log.next()? else { return Ok(None) };
            let (start, end) = (rec.start, rec.end);
            let decoded = if rec.ty == TYPE_ENTRIES { decode(rec.body) } else { Err(Corruption::Type(rec.ty)) };
            match decoded {
                Ok(entries) => return Ok(Some(Read { entries, end })),
                Err(reason) => {
                    self.decode_failures += 1;
                    self.warnings.push(Warning::RecordSkipped { segment: start.segment, offset: start.offset, reason });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
