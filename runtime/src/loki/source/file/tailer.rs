//! Follows one file: reads what was appended since the last poll, emits complete lines
//! (a trailing `\r` removed; an unterminated last line waits for its newline), and notices
//! truncation (the file is shorter than the offset: start again at 0) and rotation (the path
//! now names another file: drain the old one, including its unterminated last line, then read
//! the new one from 0).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
#[cfg(unix)]
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

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
    max_line: usize,
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

/// The file's first bytes, read without moving its offset.
fn read_head(f: &File) -> Vec<u8> {
    let mut buf = vec![0u8; SIGNATURE];
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
    pub fn new(path: PathBuf, offset: u64) -> Self {
        Tailer { path, file: None, partial: Vec::new(), offset, head: Vec::new(), max_line: MAX_LINE }
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
                if !self.partial.is_empty() {
                    let rest = std::mem::take(&mut self.partial);
                    self.emit(&rest, &mut out);
                }
                self.file = None;
                self.offset = 0;
            } else if current.as_ref().is_some_and(|m| m.len() < self.offset) || self.head_changed() {
                // Truncated (copy-truncate rotation): the new content starts at 0.
                self.partial.clear();
                self.head.clear();
                self.offset = 0;
                if let Some((f, _)) = self.file.as_mut() {
                    let _ = f.seek(SeekFrom::Start(0));
                }
            }
        }
        if self.file.is_none() {
            let Some(m) = current else { return out };
            let Ok(mut f) = File::open(&self.path) else { return out };
            if m.len() < self.offset {
                // The stored position is past the end: the file was replaced.
                self.offset = 0;
            }
            if f.seek(SeekFrom::Start(self.offset)).is_err() {
                return out;
            }
            self.partial.clear();
            self.head = read_head(&f);
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
        let now = read_head(f);
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
            let mut start = 0;
            let mut from = kept;
            while let Some(i) = memchr::memchr(b'\n', &self.partial[from..]) {
                let end = from + i + 1;
                self.offset += (end - start) as u64;
                out.lines.push(line_text(&self.partial[start..end]));
                (start, from) = (end, end);
            }
            while self.partial.len() - start >= self.max_line {
                // No newline in sight: let the line go in pieces rather than grow without end.
                let end = start + self.max_line;
                self.offset += self.max_line as u64;
                out.lines.push(line_text(&self.partial[start..end]));
                start = end;
            }
            self.partial.drain(..start);
        }
    }

    /// A line (with its newline if it had one) out; the offset moves past it.
    fn emit(&mut self, raw: &[u8], out: &mut Polled) {
        self.offset += raw.len() as u64;
        out.lines.push(line_text(raw));
    }
}

/// A line's text without its newline (and `\r`); bytes that are not UTF-8 become U+FFFD.
fn line_text(raw: &[u8]) -> String {
    let mut line = raw.strip_suffix(b"\n").unwrap_or(raw);
    line = line.strip_suffix(b"\r").unwrap_or(line);
    String::from_utf8_lossy(line).into_owned()
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
        let mut t = Tailer::new(p.clone(), 0);
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
        let mut t = Tailer::new(p.clone(), 4);
        assert_eq!(t.poll().lines, ["new"]);
        let mut t = Tailer::new(p.clone(), 100);
        assert_eq!(t.poll().lines, ["old", "new"], "a position past the end starts over");
    }

    #[test]
    fn copy_truncate_and_rename_rotations_lose_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("a.log");
        append(&p, "1\n2\n");
        let mut t = Tailer::new(p.clone(), 0);
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

    #[test]
    fn long_lines_arrive_whole_and_endless_ones_in_pieces() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("a.log");
        // 10 MB: ten polls' worth, read across many reads.
        let long = "x".repeat(10_000_000);
        append(&p, &format!("a\n{long}\nb\n"));
        let mut t = Tailer::new(p.clone(), 0);
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
        let mut t = Tailer::new(q, 0);
        t.max_line = 1000;
        let got = t.poll();
        assert_eq!(got.lines.len(), 4);
        assert!(got.lines.iter().all(|l| l.chars().count() <= 1000), "pieces of at most max_line bytes (invalid UTF-8 becomes U+FFFD)");
        assert!(t.partial.len() < 1000);
        assert_eq!(t.offset + t.partial.len() as u64, 4000);
    }
}
