//! A container's log stream as the daemon sends it, turned into lines.
//!
//! Without a TTY the stream is multiplexed: frames of an 8-byte header (the stream: 0 stdin,
//! 1 stdout, 2 stderr, 3 an error from the daemon; three zero bytes; the payload length,
//! big-endian `u32`) and the payload. With a TTY it is the raw bytes, all stdout. Frames may be
//! cut anywhere across reads. A line the daemon split into 16 KiB messages (each with its own
//! timestamp, all but the last without a newline) is put back together, the continuation
//! messages' timestamps removed, as upstream does. Lines are split on `\n` (a `\r` before it is
//! dropped) per stream; a line longer than [`MAX_LINE`] is skipped to its end.
//!
//! Bad input never panics: an unknown stream type, a frame longer than [`MAX_FRAME`] or an
//! error frame end the stream (the tailer reconnects from its position later); a frame cut
//! short by the end of the stream and an over-long line are reported as problems.

/// Which stream a line came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Stdout,
    Stderr,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Stdout => "stdout",
            Kind::Stderr => "stderr",
        }
    }

    fn index(self) -> usize {
        match self {
            Kind::Stdout => 0,
            Kind::Stderr => 1,
        }
    }
}

/// The size of the daemon's log messages; longer lines come in several.
const CHUNK: usize = 16 * 1024;
/// The longest line kept (upstream's scanner limit).
pub const MAX_LINE: usize = 64 * CHUNK;
/// The longest frame accepted; a longer one means the stream is not what it should be.
pub const MAX_FRAME: usize = MAX_LINE + 1024;

/// What one read gave: complete lines and the problems met.
#[derive(Debug, Default, PartialEq)]
pub struct Output {
    pub lines: Vec<(Kind, Vec<u8>)>,
    pub problems: Vec<String>,
}

/// A leading RFC 3339 timestamp and the rest of the line after its space.
pub fn split_timestamp(line: &[u8]) -> Result<(i64, &[u8]), String> {
    let Some(space) = line.iter().position(|b| *b == b' ') else { return Err("no timestamp in the line".into()) };
    let text = std::str::from_utf8(&line[..space]).map_err(|_| "the timestamp is not text".to_string())?;
    let ns = loki::process::time::parse_rfc3339(text).ok_or_else(|| format!("could not parse timestamp {text:?}"))?;
    Ok((ns, &line[space + 1..]))
}

/// One stream's bytes on their way to lines.
#[derive(Default)]
struct Lines {
    /// A long line's messages so far (the first with its timestamp).
    joining: Option<Vec<u8>>,
    pending: Vec<u8>,
    /// Dropping the rest of an over-long line.
    skipping: bool,
}

impl Lines {
    /// A message (a frame's payload): long lines are joined first.
    fn message(&mut self, kind: Kind, p: &[u8], out: &mut Output) {
        let complete = p.last() == Some(&b'\n');
        match self.joining.take() {
            None if p.len() < CHUNK || complete => self.bytes(kind, p, out),
            None => self.joining = Some(p.to_vec()),
            Some(mut joined) => {
                match split_timestamp(p) {
                    Ok((_, rest)) => joined.extend_from_slice(rest),
                    Err(_) => joined.extend_from_slice(p),
                }
                if complete {
                    self.bytes(kind, &joined, out);
                } else if joined.len() > MAX_LINE {
                    // Bounded: pass it on to be skipped as over-long.
                    self.bytes(kind, &joined, out);
                } else {
                    self.joining = Some(joined);
                }
            }
        }
    }

    fn bytes(&mut self, kind: Kind, mut b: &[u8], out: &mut Output) {
        while !b.is_empty() {
            let (piece, ends) = match b.iter().position(|c| *c == b'\n') {
                Some(i) => (&b[..i], Some(i)),
                None => (b, None),
            };
            if !self.skipping {
                self.pending.extend_from_slice(piece);
                if self.pending.len() > MAX_LINE {
                    out.problems.push(format!("a line of {} is over {MAX_LINE} bytes, skipped", kind.as_str()));
                    self.pending.clear();
                    self.skipping = true;
                }
            }
            match ends {
                Some(i) => {
                    if !self.skipping {
                        let mut line = std::mem::take(&mut self.pending);
                        if line.last() == Some(&b'\r') {
                            line.pop();
                        }
                        out.lines.push((kind, line));
                    }
                    self.skipping = false;
                    b = &b[i + 1..];
                }
                None => break,
            }
        }
    }

    fn finish(&mut self, kind: Kind, out: &mut Output) {
        if let Some(joined) = self.joining.take() {
            self.bytes(kind, &joined, out);
        }
        if !self.pending.is_empty() && !self.skipping {
            let mut line = std::mem::take(&mut self.pending);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            out.lines.push((kind, line));
        }
    }
}

/// Turns a log stream's reads into lines.
pub struct Decoder {
    tty: bool,
    /// Unconsumed frame bytes (multiplexed streams).
    buf: Vec<u8>,
    streams: [Lines; 2],
}

impl Decoder {
    pub fn new(tty: bool) -> Self {
        Decoder { tty, buf: Vec::new(), streams: [Lines::default(), Lines::default()] }
    }

    /// The next read. An error means the stream cannot be read further.
    pub fn push(&mut self, bytes: &[u8], out: &mut Output) -> Result<(), String> {
        if self.tty {
            self.streams[0].bytes(Kind::Stdout, bytes, out);
            return Ok(());
        }
        self.buf.extend_from_slice(bytes);
        let mut at = 0;
        let result = loop {
            let rest = &self.buf[at..];
            if rest.len() < 8 {
                break Ok(());
            }
            let len = u32::from_be_bytes([rest[4], rest[5], rest[6], rest[7]]) as usize;
            let kind = match rest[0] {
                0 | 1 => Kind::Stdout,
                2 => Kind::Stderr,
                3 => {
                    let message = String::from_utf8_lossy(&rest[8..(8 + len).min(rest.len())]).trim().to_string();
                    break Err(format!("the daemon reported an error in the log stream: {message}"));
                }
                other => break Err(format!("unrecognized stream type {other} in a frame header: the log stream is corrupt")),
            };
            if len > MAX_FRAME {
                break Err(format!("a frame of {len} bytes is over the {MAX_FRAME}-byte limit: the log stream is corrupt"));
            }
            if rest.len() < 8 + len {
                break Ok(());
            }
            let payload = rest[8..8 + len].to_vec();
            at += 8 + len;
            self.streams[kind.index()].message(kind, &payload, out);
        };
        self.buf.drain(..at);
        result
    }

    /// The end of the stream: what is left becomes lines; a cut frame is a problem.
    pub fn finish(&mut self, out: &mut Output) {
        if !self.buf.is_empty() {
            out.problems.push(format!("the log stream ended inside a frame ({} bytes left unread)", self.buf.len()));
            self.buf.clear();
        }
        self.streams[0].finish(Kind::Stdout, out);
        self.streams[1].finish(Kind::Stderr, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(stream: u8, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![stream, 0, 0, 0];
        f.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    fn text(out: &Output) -> Vec<(Kind, String)> {
        out.lines.iter().map(|(k, l)| (*k, String::from_utf8_lossy(l).into_owned())).collect()
    }

    #[test]
    fn frames_cut_anywhere_give_the_same_lines() {
        let mut all = frame(1, b"2024-01-01T00:00:00Z out one\n");
        all.extend(frame(2, b"2024-01-01T00:00:01Z err one\r\n"));
        all.extend(frame(1, b"2024-01-01T00:00:02Z out "));
        all.extend(frame(1, b"two\n"));
        let expected = vec![
            (Kind::Stdout, "2024-01-01T00:00:00Z out one".to_string()),
            (Kind::Stderr, "2024-01-01T00:00:01Z err one".into()),
            (Kind::Stdout, "2024-01-01T00:00:02Z out two".into()),
        ];
        for step in [1, 3, 7, 8, 9, all.len()] {
            let mut d = Decoder::new(false);
            let mut out = Output::default();
            for piece in all.chunks(step) {
                d.push(piece, &mut out).expect("decodes");
            }
            d.finish(&mut out);
            assert_eq!(text(&out), expected, "read {step} bytes at a time");
            assert!(out.problems.is_empty());
        }
    }

    #[test]
    fn a_tty_stream_is_raw_stdout() {
        let mut d = Decoder::new(true);
        let mut out = Output::default();
        d.push(b"2024-01-01T00:00:00Z a\n2024-01-01T00:00:00Z b", &mut out).expect("decodes");
        d.finish(&mut out);
        assert_eq!(text(&out), [(Kind::Stdout, "2024-01-01T00:00:00Z a".to_string()), (Kind::Stdout, "2024-01-01T00:00:00Z b".to_string())]);
    }

    #[test]
    fn long_lines_split_by_the_daemon_are_joined() {
        let first = format!("2024-01-01T00:00:00.1Z {}", "a".repeat(CHUNK));
        let second = format!("2024-01-01T00:00:00.2Z {}", "b".repeat(CHUNK));
        let mut all = frame(1, first.as_bytes());
        all.extend(frame(1, second.as_bytes()));
        all.extend(frame(1, b"2024-01-01T00:00:00.3Z end\n"));
        let mut d = Decoder::new(false);
        let mut out = Output::default();
        d.push(&all, &mut out).expect("decodes");
        assert_eq!(out.lines.len(), 1);
        let line = String::from_utf8_lossy(&out.lines[0].1).into_owned();
        assert_eq!(line, format!("2024-01-01T00:00:00.1Z {}{}end", "a".repeat(CHUNK), "b".repeat(CHUNK)));
    }

    #[test]
    fn bad_input_is_reported_not_panicked_on() {
        let mut out = Output::default();
        let mut huge = vec![1, 0, 0, 0];
        huge.extend_from_slice(&u32::MAX.to_be_bytes());
        assert!(Decoder::new(false).push(&huge, &mut out).unwrap_err().contains("over the"));
        assert!(Decoder::new(false).push(&[9, 0, 0, 0, 0, 0, 0, 1, b'x'], &mut out).unwrap_err().contains("unrecognized stream type 9"));
        let mut err = frame(3, b"boom\n");
        err.extend(frame(1, b"x\n"));
        assert_eq!(Decoder::new(false).push(&err, &mut out).unwrap_err(), "the daemon reported an error in the log stream: boom");

        let mut d = Decoder::new(false);
        let mut out = Output::default();
        let mut cut = frame(1, b"2024-01-01T00:00:00Z whole\n");
        cut.extend_from_slice(&frame(2, b"2024-01-01T00:00:00Z cut short\n")[..12]);
        d.push(&cut, &mut out).expect("decodes what is whole");
        d.finish(&mut out);
        assert_eq!(text(&out), [(Kind::Stdout, "2024-01-01T00:00:00Z whole".to_string())]);
        assert_eq!(out.problems, ["the log stream ended inside a frame (12 bytes left unread)"]);

        let mut d = Decoder::new(true);
        let mut out = Output::default();
        d.push(&vec![b'x'; MAX_LINE + 10], &mut out).expect("decodes");
        d.push(b"still the long line\nnext\n", &mut out).expect("decodes");
        assert_eq!(text(&out), [(Kind::Stdout, "next".to_string())]);
        assert_eq!(out.problems.len(), 1);
    }

    #[test]
    fn timestamps() {
        assert_eq!(split_timestamp(b"2024-01-01T00:00:00.5Z hello world"), Ok((1_704_067_200_500_000_000, &b"hello world"[..])));
        assert_eq!(split_timestamp(b"2024-01-01T01:00:00+01:00 x"), Ok((1_704_067_200_000_000_000, &b"x"[..])));
        assert!(split_timestamp(b"no-timestamp here").is_err());
        assert!(split_timestamp(b"nospace").is_err());
        assert!(split_timestamp(b"\xff\xfe x").is_err());
    }
}
