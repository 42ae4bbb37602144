//! Segment files and record framing.
//!
//! A frame is a 9-byte header, `type: u8` (bit 7 set when the body is Snappy block
//! compressed), `length: u32 LE` (of the stored body), `crc: u32 LE` (CRC-32/IEEE over the
//! type, the length and the stored body), then the body. Type 0 is never written, so a run of
//! zeros (a file extended but not written before a power loss) is recognised as bad bytes.
//! The checksum covers the header so a damaged length is caught too.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::Corruption;

pub(crate) const HEADER_LEN: usize = 9;
pub(crate) const COMPRESSED: u8 = 0x80;
/// No frame is longer (the writer cuts records at about 1 MiB), so a larger length is damage.
pub(crate) const MAX_RECORD_LEN: usize = 64 << 20;
/// Records smaller than this are stored uncompressed (Snappy gains nothing on them).
const MIN_COMPRESS_LEN: usize = 64;

pub(crate) fn segment_path(dir: &Path, index: u32) -> PathBuf {
    dir.join(format!("{index:08}"))
}

pub(crate) fn checkpoint_path(dir: &Path, index: u32) -> PathBuf {
    dir.join(format!("checkpoint.{index:08}"))
}

pub(crate) fn checkpoint_tmp_path(dir: &Path, index: u32) -> PathBuf {
    dir.join(format!("checkpoint.{index:08}.tmp"))
}

/// What a WAL directory holds, sorted by index.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    pub(crate) segments: Vec<u32>,
    pub(crate) checkpoints: Vec<u32>,
    /// Checkpoints a crash left half written.
    pub(crate) temps: Vec<PathBuf>,
}

fn parse_index(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

pub(crate) fn list(dir: &Path) -> io::Result<Listing> {
    let mut l = Listing::default();
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(l),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        if !entry.file_type()?.is_file() {
            continue;
        }
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(i) = parse_index(name) {
            l.segments.push(i);
        } else if let Some(rest) = name.strip_prefix("checkpoint.") {
            if let Some(i) = parse_index(rest) {
                l.checkpoints.push(i);
            } else if rest.strip_suffix(".tmp").and_then(parse_index).is_some() {
                l.temps.push(entry.path());
            }
        }
    }
    l.segments.sort_unstable();
    l.checkpoints.sort_unstable();
    Ok(l)
}

/// Makes created, renamed and removed entries durable (a no-op where directories cannot be
/// opened).
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

pub(crate) fn remove_if_exists(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Frames record bodies, compressing them when asked and when it pays.
pub(crate) struct Framer {
    compress: bool,
    snappy: snap::raw::Encoder,
    scratch: Vec<u8>,
}

impl Framer {
    pub(crate) fn new(compress: bool) -> Self {
        Framer { compress, snappy: snap::raw::Encoder::new(), scratch: Vec::new() }
    }

    /// Appends the frame of `body` (of record type `ty`) to `out`.
    pub(crate) fn frame(&mut self, ty: u8, body: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
        if body.len() > MAX_RECORD_LEN {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("WAL record of {} bytes exceeds {MAX_RECORD_LEN}", body.len())));
        }
        let mut ty = ty;
        let mut stored = body;
        if self.compress && body.len() >= MIN_COMPRESS_LEN {
            self.scratch.resize(snap::raw::max_compress_len(body.len()), 0);
            // Compression of an in-memory buffer only fails on inputs too large for Snappy,
            // which the length check below refuses anyway: store such bodies as they are.
            if let Ok(n) = self.snappy.compress(body, &mut self.scratch) {
                if n < body.len() {
                    stored = &self.scratch[..n];
                    ty |= COMPRESSED;
                }
            }
        }
        let mut header = [0u8; HEADER_LEN];
        header[0] = ty;
        header[1..5].copy_from_slice(&(stored.len() as u32).to_le_bytes());
        let mut crc = crc32fast::Hasher::new();
        crc.update(&header[..5]);
        crc.update(stored);
        header[5..].copy_from_slice(&crc.finalize().to_le_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(stored);
        Ok(())
    }
}

/// Decompresses a stored body when its type says so.
pub(crate) struct Unframer {
    snappy: snap::raw::Decoder,
    scratch: Vec<u8>,
}

impl Unframer {
    pub(crate) fn new() -> Self {
        Unframer { snappy: snap::raw::Decoder::new(), scratch: Vec::new() }
    }

    /// The record type (without the compression bit) and its plain body.
    pub(crate) fn body<'a>(&'a mut self, ty: u8, stored: &'a [u8]) -> Result<(u8, &'a [u8]), Corruption> {
        match self.prepare(ty, stored)? {
            Some(n) => Ok((ty & !COMPRESSED, &self.scratch[..n])),
            None => Ok((ty, stored)),
        }
    }

    /// Decompresses a compressed body into the scratch buffer (`Some(length)`, see
    /// [`Unframer::decompressed`]); `None` when the stored body is the plain one.
    pub(crate) fn prepare(&mut self, ty: u8, stored: &[u8]) -> Result<Option<usize>, Corruption> {
        if ty & COMPRESSED == 0 {
            return Ok(None);
        }
        let n = snap::raw::decompress_len(stored).map_err(|_| Corruption::Snappy)?;
        // The writer never frames a plain body longer than this; a larger claim is damage.
        if n > MAX_RECORD_LEN {
            return Err(Corruption::Snappy);
        }
        self.scratch.resize(n, 0);
        let n = self.snappy.decompress(stored, &mut self.scratch).map_err(|_| Corruption::Snappy)?;
        Ok(Some(n))
    }

    /// The body [`Unframer::prepare`] decompressed.
    pub(crate) fn decompressed(&self, n: usize) -> &[u8] {
        &self.scratch[..n]
    }
}

enum Parsed {
    Frame {
        ty: u8,
        len: usize,
    },
    /// More bytes are needed: this many from the start of the frame.
    Incomplete(usize),
    Corrupt(Corruption),
}

fn parse(buf: &[u8]) -> Parsed {
    let Some(header) = buf.first_chunk::<HEADER_LEN>() else {
        return Parsed::Incomplete(HEADER_LEN);
    };
    let ty = header[0];
    if ty & !COMPRESSED == 0 {
        return Parsed::Corrupt(Corruption::Type(ty));
    }
    let len = u32::from_le_bytes([header[1], header[2], header[3], header[4]]) as usize;
    if len > MAX_RECORD_LEN {
        return Parsed::Corrupt(Corruption::Length(len as u64));
    }
    let Some(body) = buf.get(HEADER_LEN..HEADER_LEN + len) else {
        return Parsed::Incomplete(HEADER_LEN + len);
    };
    let mut crc = crc32fast::Hasher::new();
    crc.update(&header[..5]);
    crc.update(body);
    if crc.finalize().to_le_bytes() != header[5..] {
        return Parsed::Corrupt(Corruption::Checksum);
    }
    Parsed::Frame { ty, len }
}

/// One frame read from a segment: its stored type, where it starts and ends in the file.
pub(crate) struct Frame {
    pub(crate) ty: u8,
    pub(crate) start: u64,
    pub(crate) end: u64,
    body: Range<usize>,
}

pub(crate) enum Next {
    Frame(Frame),
    /// No complete frame after the last one; `partial` when some bytes of one are there.
    End {
        partial: bool,
    },
    /// Bad bytes at [`SegmentReader::offset`].
    Corrupt(Corruption),
}

/// Reads frames from one segment (or checkpoint) file sequentially. At the end of the file it
/// keeps what it has and reads on from there at the next call, so it can tail a segment the
/// writer is still appending to.
pub(crate) struct SegmentReader {
    pub(crate) index: u32,
    file: File,
    buf: Vec<u8>,
    /// Index in `buf` of the next frame.
    head: usize,
    /// File offset of `buf[0]`.
    base: u64,
}

const READ_CHUNK: usize = 256 << 10;

impl SegmentReader {
    pub(crate) fn open(path: &Path, index: u32) -> io::Result<Self> {
        Ok(SegmentReader { index, file: File::open(path)?, buf: Vec::new(), head: 0, base: 0 })
    }

    /// The file offset of the next frame.
    pub(crate) fn offset(&self) -> u64 {
        self.base + self.head as u64
    }

    pub(crate) fn next(&mut self) -> io::Result<Next> {
        loop {
            match parse(&self.buf[self.head..]) {
                Parsed::Frame { ty, len } => {
                    let start = self.offset();
                    let body = self.head + HEADER_LEN..self.head + HEADER_LEN + len;
                    self.head = body.end;
                    return Ok(Next::Frame(Frame { ty, start, end: self.offset(), body }));
                }
                Parsed::Incomplete(need) => {
                    let missing = need - (self.buf.len() - self.head);
                    if self.fill(missing)? == 0 {
                        return Ok(Next::End { partial: self.head < self.buf.len() });
                    }
                }
                Parsed::Corrupt(c) => return Ok(Next::Corrupt(c)),
            }
        }
    }

    pub(crate) fn stored_body(&self, f: &Frame) -> &[u8] {
        &self.buf[f.body.clone()]
    }

    /// Makes `f` (the frame just returned) the next one again.
    pub(crate) fn unread(&mut self, f: &Frame) {
        self.head = (f.start - self.base) as usize;
    }

    /// Forgets the buffered bytes from the next frame on and reads them again from the file
    /// at the next call (bytes seen while the writer was mid-write may have changed since).
    pub(crate) fn reload(&mut self) -> io::Result<()> {
        let off = self.offset();
        self.file.seek(SeekFrom::Start(off))?;
        self.buf.clear();
        self.head = 0;
        self.base = off;
        Ok(())
    }

    /// Reads at least `missing` more bytes if the file has them; returns how many it read.
    fn fill(&mut self, missing: usize) -> io::Result<usize> {
        if self.head > 0 {
            self.buf.drain(..self.head);
            self.base += self.head as u64;
            self.head = 0;
        }
        let want = missing.max(READ_CHUNK);
        let before = self.buf.len();
        // `read_to_end` on a `Take` reads into spare capacity without zeroing it first and
        // stops at the end of the file, which is what tailing needs.
        (&mut self.file).take(want as u64).read_to_end(&mut self.buf)?;
        Ok(self.buf.len() - before)
    }
}
