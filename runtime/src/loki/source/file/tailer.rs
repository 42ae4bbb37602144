//! Follows one file: reads what was appended since the last poll, emits complete lines
//! (a trailing `\r` removed; an unterminated last line waits for its newline), and notices
//! truncation (the file is shorter than the offset: start again at 0) and rotation (the path
//! now names another file: drain the old one, over several polls if it has much unread,
//! including its unterminated last line, then read the new one from 0).
//!
//! Lines are split and decoded in the file's [`Charset`]: the configured one, unless the file
//! starts with a byte order mark, which is skipped and decides. The mark is looked for whenever
//! a file is opened (also when resuming mid-file, as upstream does); an empty file is opened
//! only once it has bytes, so a mark written just after the file was created is seen too.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
#[cfg(unix)]
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use super::charset::{byte_order_mark, Charset};

/// The most read per poll; when a file has more, the next poll comes right away.
const CHUNK: usize = 1 << 20;

/// One `read` call's buffer.
const READ: usize = 64 * 1024;

/// The longest line kept whole: longer ones (a file without newlines) go out in pieces of
/// this size, so memory stays bounded whatever the file holds.
pub const MAX_LINE: usize = 64 << 20;

/// How many of a file's first bytes identify its content: when they change under an open
/// file, it was truncated and written again (copy-truncate), even if it grew past the offset.
const SIGNATURE: usize = 64;

pub struct Tailer {
    pub path: PathBuf,
    file: Option<(File, u64)>,
    /// Bytes read past the last complete line.
    partial: Vec<u8>,
    /// The offset of the first byte not yet emitted (what the positions file keeps).
    pub offset: u64,
    /// The file's first bytes as last seen (up to [`SIGNATURE`]).
    head: Vec<u8>,
    /// [`MAX_LINE`], smaller in tests.
    pub(super) max_line: usize,
    /// The `encoding` configured, and the one of the open file (its byte order mark's).
    configured: Charset,
    charset: Charset,
}

/// What one poll found.
#[derive(Debug, Default, PartialEq)]
pub struct Polled {
    pub lines: Vec<String>,
    pub bytes: u64,
    /// The read stopped at [`CHUNK`]: there is more to read now.
    pub more: bool,
    /// The file's size when it was looked at, if it exists.
    pub size: Option<u64>,
    /// Why the file will not be read further (a compressed file that is not, or is corrupt).
    pub error: Option<String>,
    /// The path named another file since the last poll: the old one was read to its end
    /// (`otelcol.receiver.filelog` remembers that by the old file's fingerprint, so it does not
    /// read it again under its new name, and starts the new file's header afresh).
    pub rotated: Option<Rotation>,
}

/// Where a rotation left the old file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rotation {
    /// The old file's offset when it was let go (its end).
    pub end: u64,
    /// How many of the poll's first lines came from the old file.
    pub old_lines: usize,
}

fn identity(m: &std::fs::Metadata) -> u64 {
    #[cfg(unix)]
    {
        m.ino() ^ (m.dev() << 32)
    }
    #[cfg(not(unix))]
    {
        let _ = m;
        0
    }
}

/// The file's first `len` bytes (fewer when it is shorter), read without moving its offset.
pub(crate) fn read_head(f: &File, len: usize) -> Vec<u8> {
    let mut buf = vec![0u8; len];
    #[cfg(unix)]
    let n = std::os::unix::fs::FileExt::read_at(f, &mut buf, 0).unwrap_or(0);
    #[cfg(not(unix))]
    let n = {
        let _ = f;
        0
    };
    buf.truncate(n);
    buf
}

impl Tailer {
    pub fn new(path: PathBuf, offset: u64, charset: Charset) -> Self {
        Tailer { path, file: None, partial: Vec::new(), offset, head: Vec::new(), max_line: MAX_LINE, configured: charset, charset }
    }

    /// Splits lines longer than `max_line` bytes into pieces of that size.
    pub fn with_max_line(mut self, max_line: usize) -> Self {
        self.max_line = max_line.max(1);
        self
    }

    /// The first `len` bytes of the file being read (while a rotated file is drained, that
    /// one's, not the path's new file's); `None` when no file is open.
    pub fn head(&self, len: usize) -> Option<Vec<u8>> {
        self.file.as_ref().map(|(f, _)| read_head(f, len))
    }

    /// Whether bytes of an unterminated line are waiting for their newline.
    pub fn has_partial(&self) -> bool {
        !self.partial.is_empty()
    }

    /// Emits the unterminated line waiting for its newline as it is (a writer that never
    /// ends its last line); the offset moves past it.
    pub fn flush_partial(&mut self) -> Option<String> {
        if self.partial.is_empty() {
            return None;
        }
        let rest = std::mem::take(&mut self.partial);
        self.offset += rest.len() as u64;
        Some(self.charset.line_text(&rest))
    }

    /// Reads what is new. Errors opening the file (it does not exist yet) are not errors: the
    /// next poll tries again.
    pub fn poll(&mut self) -> Polled {
        let mut out = Polled::default();
        let current = std::fs::metadata(&self.path).ok();
        out.size = current.as_ref().map(std::fs::Metadata::len);
        if let Some((file, id)) = &self.file {
            let rotated = current.as_ref().is_none_or(|m| identity(m) != *id);
            if rotated {
                // Drain the old file, then let go of it.
                let mut f = file.try_clone().ok();
                if let Some(f) = f.as_mut() {
                    self.read_from(f, &mut out);
                }
                if out.more {
                    // More of the old file than one poll reads: the rest comes first next time.
                    return out;
                }
                if !self.partial.is_empty() {
                    let rest = std::mem::take(&mut self.partial);
                    self.emit(&rest, &mut out);
                }
                self.file = None;
                out.rotated = Some(Rotation { end: self.offset, old_lines: out.lines.len() });
                self.offset = 0;
            } else if current.as_ref().is_some_and(|m| m.len() < self.offset) || self.head_changed() {
                // Truncated (copy-truncate rotation): the new content starts at 0, opened anew
                // (its byte order mark, if any, is read again).
                self.partial.clear();
                self.file = None;
                self.offset = 0;
            }
        }
        if self.file.is_none() {
            let Some(m) = current else { return out };
            if m.len() == 0 {
                // Nothing to read yet, nor a byte order mark to see.
                return out;
            }
            let Ok(mut f) = File::open(&self.path) else { return out };
            if m.len() < self.offset {
                // The stored position is past the end: the file was replaced.
                self.offset = 0;
            }
            self.head = read_head(&f, SIGNATURE);
            let (mark, charset) = byte_order_mark(&self.head);
            self.charset = charset.unwrap_or(self.configured);
            self.offset = self.offset.max(mark);
            if f.seek(SeekFrom::Start(self.offset)).is_err() {
                return out;
            }
            self.partial.clear();
            self.file = Some((f, identity(&m)));
        }
        if let Some((f, _)) = self.file.as_mut() {
            let mut f = match f.try_clone() {
                Ok(f) => f,
                Err(_) => return out,
            };
            self.read_from(&mut f, &mut out);
        }
        out
    }

    /// Whether the open file's first bytes differ from those seen before.
    fn head_changed(&mut self) -> bool {
        let Some((f, _)) = &self.file else { return false };
        let now = read_head(f, SIGNATURE);
        let n = self.head.len().min(now.len());
        if now[..n] != self.head[..n] || now.len() < self.head.len() {
            return true;
        }
        self.head = now;
        false
    }

    /// Reads up to [`CHUNK`] bytes, emitting the complete lines; says in `out.more` when it
    /// stopped at the cap rather than at the end of the file.
    fn read_from(&mut self, f: &mut File, out: &mut Polled) {
        let mut total = 0;
        loop {
            if total >= CHUNK {
                out.more = true;
                return;
            }
            // Read straight after the bytes kept from the last read, which hold no newline.
            let kept = self.partial.len();
            self.partial.resize(kept + READ, 0);
            let n = match f.read(&mut self.partial[kept..]) {
                Ok(0) | Err(_) => 0,
                Ok(n) => n,
            };
            self.partial.truncate(kept + n);
            if n == 0 {
                return;
            }
            total += n;
            out.bytes += n as u64;
            let start = split_lines(self.charset, &self.partial, kept, self.max_line, &mut self.offset, &mut out.lines);
            self.partial.drain(..start);
        }
    }

    /// A line (with its newline if it had one) out; the offset moves past it.
    fn emit(&mut self, raw: &[u8], out: &mut Polled) {
        self.offset += raw.len() as u64;
        out.lines.push(self.charset.line_text(raw));
    }
}

/// Emits the complete lines at the front of `buf` (which starts where a line starts; bytes
/// from `from` on were not searched yet), moving `offset` past them; returns how many bytes
/// they took. A line of `max_line` bytes without a newline goes out in pieces of that size,
/// so memory stays bounded whatever the file holds.
pub(super) fn split_lines(charset: Charset, buf: &[u8], from: usize, max_line: usize, offset: &mut u64, lines: &mut Vec<String>) -> usize {
    let mut start = 0;
    let mut from = from;
    while let Some(end) = charset.line_end(&buf[start..], from - start).map(|e| start + e) {
        *offset += (end - start) as u64;
        lines.push(charset.line_text(&buf[start..end]));
        (start, from) = (end, end);
    }
    // Whole code units, so a piece never splits one.
    let piece = (max_line - max_line % charset.unit()).max(charset.unit());
    while buf.len() - start >= piece {
        let end = start + piece;
        *offset += piece as u64;
        lines.push(charset.line_text(&buf[start..end]));
        start = end;
    }
    start
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn append(path: &std::path::Path, text: &str) {
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).expect("open");
        f.write_all(text.as_bytes()).expect("write");
    }

    #[test]
    fn complete_lines_only_and_the_offset_follows_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("a.log");
        let mut t = Tailer::new(p.clone(), 0, Charset::Utf8);
        assert_eq!(t.poll().lines, Vec::<String>::new(), "no file yet");
        append(&p, "one\r\ntwo\nthr");
        assert_eq!(t.poll().lines, ["one", "two"]);
        assert_eq!(t.offset, 9);
        append(&p, "ee\n");
        assert_eq!(t.poll().lines, ["three"]);
        assert_eq!(t.offset, 15);
    }

    #[test]
    fn resumes_at_an_offset_and_restarts_when_the_file_is_shorter() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("a.log");
        append(&p, "old\nnew\n");
        let mut t = Tailer::new(p.clone(), 4, Charset::Utf8);
        assert_eq!(t.poll().lines, ["new"]);
        let mut t = Tailer::new(p.clone(), 100, Charset::Utf8);
        assert_eq!(t.poll().lines, ["old", "new"], "a position past the end starts over");
    }

    #[test]
    fn copy_truncate_and_rename_rotations_lose_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("a.log");
        append(&p, "1\n2\n");
        let mut t = Tailer::new(p.clone(), 0, Charset::Utf8);
        assert_eq!(t.poll().lines, ["1", "2"]);
        // copy-truncate: the file shrinks, new lines start at 0.
        std::fs::write(&p, "").expect("truncate");
        append(&p, "3\n");
        assert_eq!(t.poll().lines, ["3"]);
        // rename: the old file gets its last lines (even unterminated), then the new one is read.
        append(&p, "4\n5");
        std::fs::rename(&p, dir.path().join("a.log.1")).expect("rename");
        append(&p, "6\n");
        assert_eq!(t.poll().lines, ["4", "5", "6"]);
        assert_eq!(t.offset, 2);
    }

    fn append_bytes(path: &std::path::Path, bytes: &[u8]) {
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).expect("open");
        f.write_all(bytes).expect("write");
    }

    fn utf16le(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
    }

    fn charset(name: &str) -> Charset {
        Charset::by_name(name).expect("a known encoding")
    }

    #[test]
    fn utf16le_with_a_byte_order_mark_splits_at_its_newlines_and_resumes_at_the_byte() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("w.log");
        // No `encoding`: the mark says UTF-16LE. Half a character written so far waits.
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(utf16le("Grüße\r\n日本\n"));
        bytes.extend(&utf16le("x")[..1]);
        append_bytes(&p, &bytes);
        let mut t = Tailer::new(p.clone(), 0, Charset::Utf8);
        assert_eq!(t.poll().lines, ["Grüße", "日本"]);
        assert_eq!(t.offset, 2 + 14 + 6, "the mark and two lines, in the file's bytes");

        // A restart at that offset still sees the mark (UTF-16LE) and reads on from the byte.
        append_bytes(&p, &utf16le("x")[1..]);
        append_bytes(&p, &utf16le("yz\n"));
        let mut t = Tailer::new(p.clone(), 22, Charset::Utf8);
        assert_eq!(t.poll().lines, ["xyz"]);
        assert_eq!(t.offset, std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0));
    }

    #[test]
    fn configured_encodings_decode_lines() {
        let dir = tempfile::tempdir().expect("tempdir");
        let latin1 = dir.path().join("l.log");
        append_bytes(&latin1, b"caf\xe9\r\nna\xefve\n");
        let mut t = Tailer::new(latin1, 0, charset("ISO-8859-1"));
        assert_eq!(t.poll().lines, ["café", "naïve"]);
        assert_eq!(t.offset, 12);

        let sjis = dir.path().join("s.log");
        let text = "ログ：起動しました\n表示\n";
        let (encoded, _, lossy) = encoding_rs::SHIFT_JIS.encode(text);
        assert!(!lossy);
        // 表 is 95 5C in Shift_JIS: its second byte is a backslash, not a line end.
        append_bytes(&sjis, &encoded);
        let mut t = Tailer::new(sjis, 0, charset("shift_jis"));
        assert_eq!(t.poll().lines, ["ログ：起動しました", "表示"]);
        assert_eq!(t.offset, encoded.len() as u64);

        let be = dir.path().join("be.log");
        append_bytes(&be, &"one\ntwo\n".encode_utf16().flat_map(|u| u.to_be_bytes()).collect::<Vec<u8>>());
        let mut t = Tailer::new(be, 0, charset("UTF-16BE"));
        assert_eq!(t.poll().lines, ["one", "two"]);

        // A UTF-8 mark is skipped whatever `encoding` says.
        let marked = dir.path().join("m.log");
        append_bytes(&marked, b"\xEF\xBB\xBFhello\n");
        let mut t = Tailer::new(marked, 0, charset("windows-1252"));
        assert_eq!(t.poll().lines, ["hello"]);
    }

    #[test]
    fn a_mark_written_after_the_file_was_created_or_truncated_is_seen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("w.log");
        std::fs::write(&p, "").expect("create");
        let mut t = Tailer::new(p.clone(), 0, Charset::Utf8);
        assert!(t.poll().lines.is_empty());
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(utf16le("a\n"));
        append_bytes(&p, &bytes);
        assert_eq!(t.poll().lines, ["a"]);
        // Copy-truncate, then a new UTF-16 text with its mark.
        std::fs::write(&p, "").expect("truncate");
        assert!(t.poll().lines.is_empty());
        append_bytes(&p, &bytes);
        append_bytes(&p, &utf16le("b\n"));
        assert_eq!(t.poll().lines, ["a", "b"]);
    }

    #[test]
    fn a_rotated_file_with_more_than_a_poll_unread_is_drained_before_the_new_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("a.log");
        append(&p, "start\n");
        let mut t = Tailer::new(p.clone(), 0, Charset::Utf8);
        assert_eq!(t.poll().lines, ["start"]);
        // 3 MB written, then the file is renamed away before anyone read it.
        let line = format!("{}\n", "x".repeat(999));
        append(&p, &line.repeat(3000));
        std::fs::rename(&p, dir.path().join("a.log.1")).expect("rename");
        append(&p, "new\n");
        let mut lines = Vec::new();
        let mut rotations = 0;
        for _ in 0..10 {
            let got = t.poll();
            rotations += usize::from(got.rotated.is_some());
            lines.extend(got.lines);
            if !got.more && lines.last().is_some_and(|l| l == "new") {
                break;
            }
        }
        assert_eq!(lines.len(), 3001, "every old line, then the new file's");
        assert_eq!(lines.last().map(String::as_str), Some("new"));
        assert_eq!(rotations, 1);
    }

    #[test]
    fn long_lines_arrive_whole_and_endless_ones_in_pieces() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("a.log");
        // 10 MB: ten polls' worth, read across many reads.
        let long = "x".repeat(10_000_000);
        append(&p, &format!("a\n{long}\nb\n"));
        let mut t = Tailer::new(p.clone(), 0, Charset::Utf8);
        let mut lines = Vec::new();
        loop {
            let got = t.poll();
            lines.extend(got.lines);
            if !got.more {
                break;
            }
        }
        assert_eq!(lines.len(), 3);
        assert_eq!((lines[0].as_str(), lines[1].len(), lines[2].as_str()), ("a", long.len(), "b"));
        assert_eq!(t.offset, 10_000_005);

        // A file without newlines (binary data) does not grow the buffer past max_line.
        let q = dir.path().join("b.bin");
        std::fs::write(&q, [0u8, 159, 146, 150].repeat(1000)).expect("write");
        let mut t = Tailer::new(q, 0, Charset::Utf8);
        t.max_line = 1000;
        let got = t.poll();
        assert_eq!(got.lines.len(), 4);
        assert!(got.lines.iter().all(|l| l.chars().count() <= 1000), "pieces of at most max_line bytes (invalid UTF-8 becomes U+FFFD)");
        assert!(t.partial.len() < 1000);
        assert_eq!(t.offset + t.partial.len() as u64, 4000);
    }
}
