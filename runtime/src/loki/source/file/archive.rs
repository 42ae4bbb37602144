//! `decompression`: a compressed file read once, as upstream reads it. After `initial_delay`
//! (counted from when the file was first targeted: time for whoever writes it to finish) the
//! file is decompressed from its beginning, the first `offset` decompressed bytes are skipped
//! (positions of compressed files count decompressed bytes, upstream's meaning) and every line
//! after them is emitted, the last one even without a newline. Then the file is done: appended
//! data, rotation and truncation are not followed (upstream does not either).
//!
//! Formats: `gz` (gzip, concatenated members read one after another), `z` (zlib) and `bz2`
//! (bzip2, concatenated streams too) — upstream's list. A file that does not start like its
//! format's header gives an error saying so; a corrupt or truncated one gives the lines decoded
//! before the damage and then an error. Either way the file is done, and its position stays at
//! the end of the last line emitted. Decompression is streamed, so damage that the format only
//! detects by its checksum at the end (gzip's CRC) lets the garbled lines before that out, as
//! upstream's readers do.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::charset::{byte_order_mark, Charset};
use super::tailer::{split_lines, Polled, MAX_LINE};

/// The most decompressed per poll; when a file has more, the next poll comes right away.
const CHUNK: usize = 1 << 20;

/// One `read` call's buffer.
const READ: usize = 64 * 1024;

/// `decompression.format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Gzip,
    Zlib,
    Bzip2,
}

impl Format {
    /// Upstream's names.
    pub const NAMES: [&'static str; 3] = ["gz", "z", "bz2"];

    pub fn parse(name: &str) -> Option<Format> {
        match name {
            "gz" => Some(Format::Gzip),
            "z" => Some(Format::Zlib),
            "bz2" => Some(Format::Bzip2),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        Format::NAMES[self as usize]
    }

    fn describe(self) -> &'static str {
        match self {
            Format::Gzip => "gzip",
            Format::Zlib => "zlib",
            Format::Bzip2 => "bzip2",
        }
    }

    /// Whether `head` (the file's first bytes) starts like this format's header, checked as
    /// the format's readers check it.
    fn recognises(self, head: &[u8]) -> bool {
        match self {
            Format::Gzip => head.starts_with(&[0x1F, 0x8B]),
            // Deflate, a window of at most 32 KiB, and a header checksum.
            Format::Zlib => head.len() >= 2 && head[0] & 0x0F == 8 && head[0] >> 4 <= 7 && (u16::from(head[0]) << 8 | u16::from(head[1])) % 31 == 0,
            Format::Bzip2 => head.len() >= 4 && head.starts_with(b"BZh") && (b'1'..=b'9').contains(&head[3]),
        }
    }

    fn reader(self, file: File) -> Box<dyn Read + Send> {
        match self {
            Format::Gzip => Box::new(flate2::read::MultiGzDecoder::new(BufReader::new(file))),
            Format::Zlib => Box::new(Zlib { input: BufReader::new(file), state: flate2::Decompress::new(true), done: false }),
            Format::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(BufReader::new(file))),
        }
    }
}

enum Stage {
    /// Until `initial_delay` has passed, or while the file does not exist.
    Waiting,
    /// Decompressing; `skip` bytes are still to be skipped to reach the stored position.
    Reading {
        reader: Box<dyn Read + Send>,
        skip: u64,
    },
    Done,
}

pub struct Archive {
    pub path: PathBuf,
    format: Format,
    ready_at: Instant,
    stage: Stage,
    /// Decompressed bytes past the last complete line.
    partial: Vec<u8>,
    /// Decompressed bytes emitted (what the positions file keeps).
    pub offset: u64,
    configured: Charset,
    charset: Charset,
    max_line: usize,
}

impl Archive {
    pub fn new(path: PathBuf, offset: u64, charset: Charset, format: Format, initial_delay: Duration) -> Archive {
        Archive {
            path,
            format,
            ready_at: Instant::now() + initial_delay,
            stage: Stage::Waiting,
            partial: Vec::new(),
            offset,
            configured: charset,
            charset,
            max_line: MAX_LINE,
        }
    }

    /// Whether the file is still to be read (or being read).
    pub fn is_running(&self) -> bool {
        !matches!(self.stage, Stage::Done)
    }

    /// Decompresses up to [`CHUNK`] bytes, emitting the complete lines.
    pub fn poll(&mut self) -> Polled {
        let mut out = Polled::default();
        if matches!(self.stage, Stage::Waiting) {
            if Instant::now() < self.ready_at {
                return out;
            }
            match self.open() {
                Ok(Some(stage)) => self.stage = stage,
                // Not there yet: the next poll looks again.
                Ok(None) => return out,
                Err(e) => {
                    self.stage = Stage::Done;
                    out.error = Some(e);
                    return out;
                }
            }
        }
        let Stage::Reading { reader, skip } = &mut self.stage else { return out };
        let mut total = 0;
        loop {
            if total >= CHUNK {
                out.more = true;
                return out;
            }
            let kept = self.partial.len();
            self.partial.resize(kept + READ, 0);
            let n = match reader.read(&mut self.partial[kept..]) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => 0,
                Err(e) => {
                    // What came before the damage went out; the unterminated rest does not.
                    self.partial.clear();
                    self.stage = Stage::Done;
                    out.error = Some(format!("decompressing {} ({}): {e}", self.path.display(), self.format.describe()));
                    return out;
                }
            };
            self.partial.truncate(kept + n);
            if n == 0 {
                if *skip > 0 {
                    // The stored position is past the end: another file has the name now.
                    // Start over, as a plain file does.
                    self.offset = 0;
                    self.stage = Stage::Waiting;
                    out.more = true;
                    return out;
                }
                // The end: the last line goes out even without its newline.
                if !self.partial.is_empty() {
                    let rest = std::mem::take(&mut self.partial);
                    self.offset += rest.len() as u64;
                    out.lines.push(self.charset.line_text(&rest));
                }
                self.stage = Stage::Done;
                return out;
            }
            total += n;
            if *skip > 0 {
                // Sent before a restart.
                let gone = (*skip).min(n as u64) as usize;
                self.partial.drain(kept..kept + gone);
                *skip -= gone as u64;
                if *skip > 0 {
                    continue;
                }
            }
            out.bytes += (self.partial.len() - kept) as u64;
            let start = split_lines(self.charset, &self.partial, kept, self.max_line, &mut self.offset, &mut out.lines);
            self.partial.drain(..start);
        }
    }

    /// Opens the file and starts decompressing it: `None` while it does not exist.
    fn open(&mut self) -> Result<Option<Stage>, String> {
        let mut file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("opening {}: {e}", self.path.display())),
        };
        let mut magic = Vec::new();
        (&mut file).take(4).read_to_end(&mut magic).map_err(|e| format!("reading {}: {e}", self.path.display()))?;
        if !self.format.recognises(&magic) {
            return Err(format!(
                "{} is not {}-compressed: it does not start with a {} header (decompression.format = {:?})",
                self.path.display(),
                self.format.describe(),
                self.format.describe(),
                self.format.name(),
            ));
        }
        std::io::Seek::rewind(&mut file).map_err(|e| format!("reading {}: {e}", self.path.display()))?;
        let mut reader = self.format.reader(file);
        // The decompressed text's byte order mark decides its encoding, as a plain file's does.
        let mut head = Vec::new();
        (&mut reader).take(4).read_to_end(&mut head).map_err(|e| format!("decompressing {} ({}): {e}", self.path.display(), self.format.describe()))?;
        let (mark, charset) = byte_order_mark(&head);
        self.charset = charset.unwrap_or(self.configured);
        self.offset = self.offset.max(mark);
        let skip = self.offset.saturating_sub(head.len() as u64);
        // The head's bytes past the position are read again, ahead of the rest.
        let rest = head.get(self.offset as usize..).unwrap_or_default().to_vec();
        self.partial.clear();
        Ok(Some(Stage::Reading { reader: Box::new(std::io::Cursor::new(rest).chain(reader)), skip }))
    }
}

/// A zlib stream. flate2's reader takes a stream cut short for a complete one; this one
/// says it was cut short, as upstream's does.
struct Zlib<R> {
    input: R,
    state: flate2::Decompress,
    done: bool,
}

impl<R: std::io::BufRead> Read for Zlib<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        use std::io::{Error, ErrorKind};
        if self.done || out.is_empty() {
            return Ok(0);
        }
        loop {
            let input = self.input.fill_buf()?;
            let end = input.is_empty();
            let (before_in, before_out) = (self.state.total_in(), self.state.total_out());
            let flush = if end { flate2::FlushDecompress::Finish } else { flate2::FlushDecompress::None };
            let status = self.state.decompress(input, out, flush).map_err(|e| Error::new(ErrorKind::InvalidData, e))?;
            let used = (self.state.total_in() - before_in) as usize;
            let made = (self.state.total_out() - before_out) as usize;
            self.input.consume(used);
            if status == flate2::Status::StreamEnd {
                self.done = true;
                return Ok(made);
            }
            if made > 0 {
                return Ok(made);
            }
            if end {
                return Err(Error::new(ErrorKind::UnexpectedEof, "the zlib stream ends early"));
            }
            if used == 0 {
                return Err(Error::new(ErrorKind::InvalidData, "the zlib stream makes no progress"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    /// Polls until the archive is done; its lines, and the errors it gave.
    fn drain(a: &mut Archive) -> (Vec<String>, Vec<String>) {
        let (mut lines, mut errors) = (Vec::new(), Vec::new());
        for _ in 0..1000 {
            let got = a.poll();
            lines.extend(got.lines);
            errors.extend(got.error);
            if !a.is_running() {
                break;
            }
        }
        (lines, errors)
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).expect("compress");
        e.finish().expect("compress")
    }

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).expect("compress");
        e.finish().expect("compress")
    }

    fn bzip2(data: &[u8]) -> Vec<u8> {
        // 100 kB blocks: a damaged file still has whole blocks before the damage.
        let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        e.write_all(data).expect("compress");
        e.finish().expect("compress")
    }

    fn archive(dir: &tempfile::TempDir, name: &str, bytes: &[u8], format: Format, offset: u64) -> Archive {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).expect("write");
        Archive::new(p, offset, Charset::Utf8, format, Duration::ZERO)
    }

    const TEXT: &[u8] = b"one\r\ntwo\nthree";

    #[test]
    fn gz_z_and_bz2_files_are_read_once_to_the_end_and_not_again() {
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, bytes, format) in [("a.gz", gzip(TEXT), Format::Gzip), ("a.z", zlib(TEXT), Format::Zlib), ("a.bz2", bzip2(TEXT), Format::Bzip2)] {
            let mut a = archive(&dir, name, &bytes, format, 0);
            let (lines, errors) = drain(&mut a);
            assert_eq!((lines, errors), (vec!["one".to_string(), "two".into(), "three".into()], vec![]), "{name}");
            assert_eq!(a.offset, TEXT.len() as u64, "{name}: the position counts decompressed bytes");
            // A restart at the stored position sends nothing again.
            let mut again = Archive::new(a.path.clone(), a.offset, Charset::Utf8, format, Duration::ZERO);
            let (lines, errors) = drain(&mut again);
            assert!(lines.is_empty() && errors.is_empty(), "{name}: {lines:?} {errors:?}");
            // Appended data is not followed.
            std::fs::OpenOptions::new().append(true).open(&a.path).and_then(|mut f| f.write_all(&bytes)).expect("append");
            assert_eq!(a.poll(), Polled::default());
        }
    }

    #[test]
    fn a_restart_mid_archive_resumes_after_the_last_line_sent() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut a = archive(&dir, "a.gz", &gzip(TEXT), Format::Gzip, 5);
        assert_eq!(drain(&mut a).0, ["two", "three"]);
        // Concatenated members (what `cat a.gz b.gz` makes) are one text.
        let mut two = gzip(b"a\nb\n");
        two.extend(gzip(b"c\n"));
        let mut a = archive(&dir, "b.gz", &two, Format::Gzip, 2);
        assert_eq!(drain(&mut a).0, ["b", "c"]);
    }

    #[test]
    fn a_file_written_by_gzip_itself_is_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("sys.log");
        std::fs::write(&p, "from\ngzip\n").expect("write");
        let made = std::process::Command::new("gzip").arg("-9").arg(&p).status().map(|s| s.success()).unwrap_or(false)
            || std::process::Command::new("python3").args(["-m", "gzip"]).arg(&p).status().map(|s| s.success()).unwrap_or(false);
        if !made {
            eprintln!("neither gzip nor python3 here: skipped");
            return;
        }
        let mut a = Archive::new(dir.path().join("sys.log.gz"), 0, Charset::Utf8, Format::Gzip, Duration::ZERO);
        assert_eq!(drain(&mut a), (vec!["from".to_string(), "gzip".into()], vec![]));
    }

    #[test]
    fn corrupt_and_truncated_archives_give_their_lines_then_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        // Enough text that the damage comes after some whole lines decompressed.
        let text: String = (0..20_000).map(|i| format!("line {i} {}\n", i * 7919 % 10007)).collect();
        for (name, bytes, format) in
            [("t.gz", gzip(text.as_bytes()), Format::Gzip), ("t.bz2", bzip2(text.as_bytes()), Format::Bzip2), ("t.z", zlib(text.as_bytes()), Format::Zlib)]
        {
            let truncated = &bytes[..bytes.len() * 2 / 3];
            let mut a = archive(&dir, name, truncated, format, 0);
            let (lines, errors) = drain(&mut a);
            assert_eq!(errors.len(), 1, "{name}: {errors:?}");
            assert!(errors[0].contains(name), "{name}: the error names the file: {errors:?}");
            assert!(!lines.is_empty() && lines.len() < 20_000, "{name}: {} lines", lines.len());
            assert!(text.starts_with(&lines.iter().map(|l| format!("{l}\n")).collect::<String>()), "{name}: whole lines, in order");
            assert_eq!(a.offset as usize, lines.iter().map(|l| l.len() + 1).sum::<usize>(), "{name}: the position is after the last line sent");

            // Garbage in the middle.
            let mut corrupt = bytes.clone();
            let mid = corrupt.len() / 2;
            corrupt[mid..mid + 64].iter_mut().for_each(|b| *b = !*b);
            let mut a = archive(&dir, name, &corrupt, format, 0);
            let (lines, errors) = drain(&mut a);
            assert_eq!(errors.len(), 1, "{name}: {errors:?}");
            assert!(lines.len() < 20_000, "{name}");
            assert!(!a.is_running());
        }
    }

    #[test]
    fn a_file_that_is_not_compressed_says_so() {
        let dir = tempfile::tempdir().expect("tempdir");
        for format in [Format::Gzip, Format::Zlib, Format::Bzip2] {
            let mut a = archive(&dir, "plain.log", b"just text\n", format, 0);
            let (lines, errors) = drain(&mut a);
            assert!(lines.is_empty());
            assert_eq!(errors.len(), 1);
            assert!(errors[0].contains("plain.log is not") && errors[0].contains("-compressed"), "{}", errors[0]);
        }
    }

    #[test]
    fn initial_delay_and_a_missing_file_wait() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("late.gz");
        let mut a = Archive::new(p.clone(), 0, Charset::Utf8, Format::Gzip, Duration::from_millis(150));
        std::fs::write(&p, gzip(b"x\n")).expect("write");
        assert_eq!(a.poll(), Polled::default(), "waits for initial_delay");
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(drain(&mut a).0, ["x"]);

        let q = dir.path().join("missing.gz");
        let mut a = Archive::new(q.clone(), 0, Charset::Utf8, Format::Gzip, Duration::ZERO);
        assert_eq!(a.poll(), Polled::default());
        assert!(a.is_running(), "a file not there yet is looked for again");
        std::fs::write(&q, gzip(b"y\n")).expect("write");
        assert_eq!(drain(&mut a).0, ["y"]);
    }

    #[test]
    fn the_decompressed_text_is_decoded_and_its_byte_order_mark_decides() {
        let dir = tempfile::tempdir().expect("tempdir");
        let utf16: Vec<u8> = [0xFF, 0xFE].into_iter().chain("é\r\nü".encode_utf16().flat_map(|u| u.to_le_bytes())).collect();
        let mut a = archive(&dir, "u.gz", &gzip(&utf16), Format::Gzip, 0);
        assert_eq!(drain(&mut a).0, ["é", "ü"]);
        assert_eq!(a.offset, utf16.len() as u64);
        // Resuming: the mark is skipped again and the position is in decompressed bytes.
        let mut a = Archive::new(a.path.clone(), 8, Charset::Utf8, Format::Gzip, Duration::ZERO);
        assert_eq!(drain(&mut a).0, ["ü"]);

        let p = dir.path().join("l.bz2");
        std::fs::write(&p, bzip2(b"caf\xe9\n")).expect("write");
        let mut a = Archive::new(p, 0, Charset::by_name("ISO-8859-1").expect("known"), Format::Bzip2, Duration::ZERO);
        assert_eq!(drain(&mut a).0, ["café"]);
    }
}
