//! RFC 6587 framing of a syslog stream (a TCP connection, or one UDP datagram), decided by its
//! first byte as upstream does: `<` starts newline-terminated messages (non-transparent
//! framing), a digit starts octet counting (`LEN SP MSG`); anything else ends the stream.
//!
//! Memory is bounded by `max_message_length`: a longer newline-terminated message is dropped
//! up to its newline, and a longer octet-counted one is skipped by its length without being
//! held (upstream's octet-counting parser closes the connection on one, and its
//! non-transparent one has no limit). NUL bytes around a frame (RFC 6587's other trailer,
//! which Python's `SysLogHandler` and others append) are dropped; upstream keeps them in the
//! message or fails it.

/// What the decoder found.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    /// One message's bytes.
    Frame(Vec<u8>),
    /// A message that was skipped, and why (counted as a parsing error).
    Skipped(String),
}

#[derive(Debug)]
enum Mode {
    /// Before the first byte.
    Detect,
    /// Newline-terminated; `discarding` while skipping the rest of an over-long line.
    Lines { discarding: bool },
    /// Reading a MSG-LEN (`None` before its first digit).
    Length(Option<usize>),
    /// Reading (or, when too long, skipping) a counted message body.
    Body { left: usize, keep: bool },
    /// The framing broke: nothing more is read.
    Broken,
}

/// MSG-LEN values from this on are refused (upstream: "message length exceeds int limit").
const MAX_LEN: usize = 1_000_000_000;

pub struct Decoder {
    max: usize,
    mode: Mode,
    buf: Vec<u8>,
}

/// The frame without the NUL bytes around it; `None` when nothing is left.
fn trimmed(mut frame: Vec<u8>) -> Option<Vec<u8>> {
    let end = frame.iter().rposition(|&b| b != 0)? + 1;
    frame.truncate(end);
    let start = frame.iter().position(|&b| b != 0).unwrap_or(0);
    if start > 0 {
        frame.drain(..start);
    }
    Some(frame)
}

impl Decoder {
    pub fn new(max_message_length: usize) -> Self {
        Decoder { max: max_message_length.max(1), mode: Mode::Detect, buf: Vec::new() }
    }

    /// Feeds bytes; frames and skipped messages go to `out`. `Err` when the framing broke
    /// (the stream should be closed); what was found before is still in `out`.
    pub fn push(&mut self, mut data: &[u8], out: &mut Vec<Event>) -> Result<(), String> {
        while !data.is_empty() {
            match &mut self.mode {
                Mode::Broken => return Err("the stream's framing broke earlier".into()),
                Mode::Detect => {
                    self.mode = match data[0] {
                        b'<' => Mode::Lines { discarding: false },
                        b'0'..=b'9' => Mode::Length(None),
                        other => {
                            self.mode = Mode::Broken;
                            return Err(format!("invalid or unsupported framing. first byte: {:?}", char::from(other)));
                        }
                    };
                }
                Mode::Lines { discarding } => {
                    let (line, rest, ended) = match data.iter().position(|&b| b == b'\n') {
                        Some(n) => (&data[..n], &data[n + 1..], true),
                        None => (data, &data[data.len()..], false),
                    };
                    data = rest;
                    if !*discarding {
                        if self.buf.len() + line.len() > self.max {
                            *discarding = true;
                            self.buf.clear();
                            out.push(Event::Skipped(format!("message longer than max_message_length ({} bytes)", self.max)));
                        } else {
                            self.buf.extend_from_slice(line);
                        }
                    }
                    if ended {
                        if !*discarding {
                            if let Some(frame) = trimmed(std::mem::take(&mut self.buf)) {
                                out.push(Event::Frame(frame));
                            }
                        }
                        *discarding = false;
                    }
                }
                Mode::Length(value) => {
                    let c = data[0];
                    data = &data[1..];
                    match (c, *value) {
                        // Some senders end counted frames with a newline too.
                        (b'\n', None) => {}
                        (b'1'..=b'9', None) => *value = Some(usize::from(c - b'0')),
                        (b'0'..=b'9', Some(v)) => {
                            if v >= MAX_LEN / 10 {
                                self.mode = Mode::Broken;
                                return Err("message length exceeds int limit".into());
                            }
                            *value = Some(v * 10 + usize::from(c - b'0'));
                        }
                        (b' ', Some(v)) => {
                            let keep = v <= self.max;
                            if !keep {
                                out.push(Event::Skipped(format!("message too long to parse. was size {v}, max length {}", self.max)));
                            }
                            self.mode = Mode::Body { left: v, keep };
                        }
                        (other, None) => {
                            self.mode = Mode::Broken;
                            return Err(format!("found {:?}, expecting a message length", char::from(other)));
                        }
                        (other, Some(_)) => {
                            self.mode = Mode::Broken;
                            return Err(format!("found {:?}, expecting a space after the message length", char::from(other)));
                        }
                    }
                }
                Mode::Body { left, keep } => {
                    let n = (*left).min(data.len());
                    if *keep {
                        self.buf.extend_from_slice(&data[..n]);
                    }
                    data = &data[n..];
                    *left -= n;
                    if *left == 0 {
                        if *keep {
                            if let Some(frame) = trimmed(std::mem::take(&mut self.buf)) {
                                out.push(Event::Frame(frame));
                            }
                        }
                        self.mode = Mode::Length(None);
                    }
                }
            }
        }
        Ok(())
    }

    /// The end of the stream: a last newline-terminated message without its newline is a
    /// message; a counted one cut short is skipped.
    pub fn finish(&mut self, out: &mut Vec<Event>) {
        match std::mem::replace(&mut self.mode, Mode::Broken) {
            Mode::Lines { discarding: false } => {
                if let Some(frame) = trimmed(std::mem::take(&mut self.buf)) {
                    out.push(Event::Frame(frame));
                }
            }
            Mode::Body { left, keep: true } => {
                out.push(Event::Skipped(format!("the stream ended {left} bytes before the end of a counted message")));
            }
            Mode::Length(Some(_)) => out.push(Event::Skipped("the stream ended inside a message length".into())),
            _ => {}
        }
        self.buf.clear();
    }
}
