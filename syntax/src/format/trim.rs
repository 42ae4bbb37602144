//! The trimmer: drops `ESC` bytes and trailing blanks, the last stage of the printer.
//!
//! Upstream's trimmer is a byte-level state machine fed with the aligner's output chunks (cell
//! text, padding, newline); it holds blanks back until something other than a line break
//! follows. The aligner here tells it what each piece is instead, which makes the same result
//! cheap: text and padding are copied as they come, and trailing blanks are cut off when a
//! line ends, back to, never past, the end of the last escaped segment (comment text,
//! including its own trailing spaces, is verbatim).
//!
//! Outside escapes, cell text holds neither line breaks nor VT (they end cells), so upstream's
//! rewriting of VT to HT and FF to LF only ever applies inside escapes, where it writes the
//! bytes verbatim anyway. Upstream also ends an escape left open at the end of a chunk; as a
//! cell is one chunk, an escape left open in a cell ends with it here too. The aligner's tests
//! check all this against a transcription of upstream's state machine.

use super::tabwriter::ESC;

pub struct Trimmer {
    out: Vec<u8>,
    /// Blanks before this offset of `out` are kept (end of the last escape or line break).
    keep: usize,
}

impl Trimmer {
    pub fn with_capacity(n: usize) -> Self {
        Trimmer { out: Vec::with_capacity(n), keep: 0 }
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.cut_blanks();
        self.out
    }

    /// Cell text without escapes.
    pub fn text(&mut self, s: &[u8]) {
        self.out.extend_from_slice(s);
    }

    /// Cell text that may hold escaped segments: the `ESC` bytes go, the segments are kept.
    pub fn escaped(&mut self, s: &[u8]) {
        let mut rest = s;
        while let Some(open) = memchr::memchr(ESC, rest) {
            self.out.extend_from_slice(&rest[..open]);
            rest = &rest[open + 1..];
            let close = memchr::memchr(ESC, rest).unwrap_or(rest.len());
            self.out.extend_from_slice(&rest[..close]);
            self.keep = self.out.len();
            rest = rest.get(close + 1..).unwrap_or(&[]);
        }
        self.out.extend_from_slice(rest);
    }

    /// Padding: `n` spaces or tabs.
    pub fn blanks(&mut self, b: u8, n: usize) {
        self.out.resize(self.out.len() + n, b);
    }

    pub fn newline(&mut self) {
        self.cut_blanks();
        self.out.push(b'\n');
        self.keep = self.out.len();
    }

    fn cut_blanks(&mut self) {
        let kept = self.out[self.keep..].iter().rposition(|&b| b != b' ' && b != b'\t').map_or(self.keep, |i| self.keep + i + 1);
        self.out.truncate(kept);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_trailing_blanks() {
        let mut t = Trimmer::with_capacity(0);
        t.text(b"a = 1");
        t.blanks(b' ', 2);
        t.newline();
        t.blanks(b'\t', 2);
        t.newline();
        t.text(b"b \t");
        assert_eq!(t.finish(), b"a = 1\n\nb");
    }

    #[test]
    fn keeps_blanks_before_text() {
        let mut t = Trimmer::with_capacity(0);
        t.text(b"\ta");
        t.blanks(b' ', 3);
        t.text(b"b");
        t.newline();
        assert_eq!(t.finish(), b"\ta   b\n");
    }

    #[test]
    fn escapes_are_verbatim_and_removed() {
        let mut t = Trimmer::with_capacity(0);
        t.escaped(b"a \xff// c  \xff  ");
        t.newline();
        t.escaped(b"\xff/* x\x0b\n  y */\xff");
        assert_eq!(t.finish(), b"a // c  \n/* x\x0b\n  y */");
    }

    #[test]
    fn blanks_before_an_empty_escape_are_kept() {
        let mut t = Trimmer::with_capacity(0);
        t.escaped(b"a  \xff\xff ");
        t.newline();
        assert_eq!(t.finish(), b"a  \n");
    }

    #[test]
    fn an_escape_left_open_ends_with_its_cell() {
        let mut t = Trimmer::with_capacity(0);
        t.escaped(b"a\xff b  ");
        t.blanks(b' ', 2);
        t.newline();
        assert_eq!(t.finish(), b"a b  \n");
    }
}
