//! The trimmer: drops `ESC` bytes and trailing blanks, the last stage of the printer.
//!
//! Upstream's trimmer is a byte-level state machine that holds blanks back until something
//! other than a line break follows. The same result comes cheaper by copying runs of bytes and
//! cutting trailing blanks off when a line ends: blanks are cut back to, never past, the end of
//! the last escaped segment (comment text, including its own trailing spaces, is verbatim).
//! VT outside an escape counts as a blank and is written as HT, FF as LF, as upstream does.
//! Upstream's trimmer also restarts blank-holding at the end of every chunk it is handed; as the
//! aligner never splits an escaped segment across chunks, that changes nothing, so chunks are
//! not distinguished here.

use super::tabwriter::{Sink, ESC};

pub struct Trimmer {
    out: Vec<u8>,
    in_escape: bool,
    /// Blanks before this offset of `out` are kept (end of the last escape or line break).
    keep: usize,
}

impl Trimmer {
    pub fn with_capacity(n: usize) -> Self {
        Trimmer { out: Vec::with_capacity(n), in_escape: false, keep: 0 }
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.cut_blanks();
        self.out
    }

    fn cut_blanks(&mut self) {
        let mut len = self.out.len();
        while len > self.keep && matches!(self.out[len - 1], b' ' | b'\t') {
            len -= 1;
        }
        self.out.truncate(len);
    }
}

/// Bytes that need attention outside escapes: LF, VT, FF and `ESC`.
static SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    t[b'\n' as usize] = true;
    t[0x0b] = true;
    t[0x0c] = true;
    t[ESC as usize] = true;
    t
};

fn is_special(b: u8) -> bool {
    SPECIAL[b as usize]
}

impl Sink for Trimmer {
    fn write(&mut self, data: &[u8]) {
        let mut rest = data;
        while !rest.is_empty() {
            if self.in_escape {
                match rest.iter().position(|&b| b == ESC) {
                    Some(i) => {
                        self.out.extend_from_slice(&rest[..i]);
                        self.in_escape = false;
                        self.keep = self.out.len();
                        rest = &rest[i + 1..];
                    }
                    None => {
                        self.out.extend_from_slice(rest);
                        return;
                    }
                }
                continue;
            }
            let i = rest.iter().position(|&b| is_special(b)).unwrap_or(rest.len());
            self.out.extend_from_slice(&rest[..i]);
            let Some(&b) = rest.get(i) else { return };
            match b {
                ESC => self.in_escape = true,
                0x0b => self.out.push(b'\t'),
                _ => {
                    self.cut_blanks();
                    self.out.push(b'\n');
                    self.keep = self.out.len();
                }
            }
            rest = &rest[i + 1..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trim(chunks: &[&[u8]]) -> Vec<u8> {
        let mut t = Trimmer::with_capacity(0);
        for c in chunks {
            t.write(c);
        }
        t.finish()
    }

    #[test]
    fn drops_trailing_blanks() {
        assert_eq!(trim(&[b"a = 1  \t\n\t\t\nb \t"]), b"a = 1\n\nb");
    }

    #[test]
    fn keeps_blanks_before_text() {
        assert_eq!(trim(&[b"\ta", b"   ", b"b\n"]), b"\ta   b\n");
    }

    #[test]
    fn escapes_are_verbatim_and_removed() {
        assert_eq!(trim(&[b"a \xff// c  \xff  \n"]), b"a // c  \n");
        assert_eq!(trim(&[b"\xff/* x\x0b\n  y */\xff"]), b"/* x\x0b\n  y */");
    }

    /// Upstream's trimmer, transcribed as a byte-level state machine, as the reference.
    struct Reference {
        state: u8, // 0 space, 1 escape, 2 text
        space: Vec<u8>,
        out: Vec<u8>,
    }

    impl Sink for Reference {
        fn write(&mut self, data: &[u8]) {
            let mut m = 0;
            for (n, &b) in data.iter().enumerate() {
                let b = if b == 0x0b { b'\t' } else { b };
                match (self.state, b) {
                    (0, b'\t' | b' ') => self.space.push(b),
                    (0, b'\n' | 0x0c) => {
                        self.space.clear();
                        self.out.push(b'\n');
                    }
                    (0, ESC) => {
                        self.out.append(&mut self.space);
                        self.state = 1;
                        m = n + 1;
                    }
                    (0, _) => {
                        self.out.append(&mut self.space);
                        self.state = 2;
                        m = n;
                    }
                    (1, ESC) => {
                        self.out.extend_from_slice(&data[m..n]);
                        self.state = 0;
                    }
                    (2, b'\t' | b' ') => {
                        self.out.extend_from_slice(&data[m..n]);
                        self.state = 0;
                        self.space.push(b);
                    }
                    (2, b'\n' | 0x0c) => {
                        self.out.extend_from_slice(&data[m..n]);
                        self.state = 0;
                        self.out.push(b'\n');
                    }
                    (2, ESC) => {
                        self.out.extend_from_slice(&data[m..n]);
                        self.state = 1;
                        m = n + 1;
                    }
                    _ => {}
                }
            }
            if self.state != 0 {
                self.out.extend_from_slice(&data[m..]);
                self.state = 0;
                self.space.clear();
            }
        }
    }

    proptest::proptest! {
        /// On printer-shaped buffers (balanced escapes) run through the aligner, the run-based
        /// trimmer matches upstream's state machine.
        #[test]
        fn matches_upstream_state_machine(parts in proptest::collection::vec(
            proptest::sample::select(vec!["a", "é", " ", "  ", "\t", "\x0b", "\n", "\x0c", "\u{ff}// c  \u{ff}", "\u{ff}/* x\n\t y */\u{ff}", "\u{ff}\u{ff}"]),
            0..40,
        )) {
            // `\u{ff}` stands for ESC; swap it in at the byte level.
            let text: String = parts.concat();
            let mut input = Vec::new();
            for c in text.chars() {
                if c == '\u{ff}' { input.push(ESC) } else { input.extend_from_slice(c.to_string().as_bytes()) }
            }
            let mut reference = Reference { state: 0, space: Vec::new(), out: Vec::new() };
            super::super::tabwriter::TabWriter::new().run(&input, &mut reference);
            let mut ours = Trimmer::with_capacity(0);
            super::super::tabwriter::TabWriter::new().run(&input, &mut ours);
            proptest::prop_assert_eq!(ours.finish(), reference.out);
        }
    }

    #[test]
    fn form_feed_becomes_newline() {
        assert_eq!(trim(&[b"a\x0c\x0cb"]), b"a\n\nb");
    }
}
