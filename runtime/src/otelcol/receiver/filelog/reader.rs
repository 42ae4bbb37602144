//! How one file is read: followed as it grows (the Loki file source's [`Tailer`]), or, when
//! `compression` says it is gzip, decompressed once from its beginning (the Loki file
//! source's [`Archive`]; offsets then count decompressed bytes). A compressed file that
//! `start_at = "end"` skips is not read at all.

use std::path::PathBuf;
use std::time::Duration;

use crate::loki::source::file::archive::{Archive, Format};
use crate::loki::source::file::charset::Charset;
use crate::loki::source::file::tailer::{Polled, Tailer};

/// `compression`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Compression {
    #[default]
    None,
    Gzip,
    /// Gzip for names ending in `.gz`.
    Auto,
}

impl Compression {
    pub fn parse(name: &str) -> Option<Compression> {
        Some(match name {
            "" => Compression::None,
            "gzip" => Compression::Gzip,
            "auto" => Compression::Auto,
            _ => return None,
        })
    }

    pub fn applies_to(self, path: &std::path::Path) -> bool {
        match self {
            Compression::None => false,
            Compression::Gzip => true,
            Compression::Auto => path.extension().is_some_and(|x| x == "gz"),
        }
    }
}

pub enum Reader {
    Plain(Tailer),
    Gzip(Archive),
    /// Left unread (`start_at = "end"` on a compressed file).
    Skipped,
}

impl Reader {
    /// A reader for the file at `path` from `offset`; `None` offset: skip a compressed file.
    pub fn new(path: PathBuf, offset: Option<u64>, compressed: bool, charset: Charset, max_line: usize) -> Reader {
        match (compressed, offset) {
            (false, offset) => Reader::Plain(Tailer::new(path, offset.unwrap_or(0), charset).with_max_line(max_line)),
            (true, Some(offset)) => Reader::Gzip(Archive::new(path, offset, charset, Format::Gzip, Duration::ZERO)),
            (true, None) => Reader::Skipped,
        }
    }

    pub fn poll(&mut self) -> Polled {
        match self {
            Reader::Plain(t) => t.poll(),
            Reader::Gzip(a) => a.poll(),
            Reader::Skipped => Polled::default(),
        }
    }

    pub fn offset(&self) -> u64 {
        match self {
            Reader::Plain(t) => t.offset,
            Reader::Gzip(a) => a.offset,
            Reader::Skipped => 0,
        }
    }

    /// Whether the file was read to its end for good (a compressed file is read once).
    pub fn finished(&self) -> bool {
        match self {
            Reader::Plain(_) => false,
            Reader::Gzip(a) => !a.is_running(),
            Reader::Skipped => true,
        }
    }

    /// The first `len` bytes of the file this reader reads, when it holds it open.
    pub fn head(&self, len: usize) -> Option<Vec<u8>> {
        match self {
            Reader::Plain(t) => t.head(len),
            Reader::Gzip(_) | Reader::Skipped => None,
        }
    }

    pub fn has_partial(&self) -> bool {
        matches!(self, Reader::Plain(t) if t.has_partial())
    }

    pub fn flush_partial(&mut self) -> Option<String> {
        match self {
            Reader::Plain(t) => t.flush_partial(),
            Reader::Gzip(_) | Reader::Skipped => None,
        }
    }
}
