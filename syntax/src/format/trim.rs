//! The trimmer: drops `ESC` bytes and trailing blanks, the last stage of the printer.
//!
//! It sees the aligner's output chunk by chunk, exactly like Go's `trimmer` writer. State
//! carries over between chunks, except that text (or an escape) still open at the end of a
//! chunk is written out and blank-holding restarts — a rule we keep because it is what the
//! upstream writer does, even though the aligner never splits an escape across chunks.

use super::tabwriter::{Sink, ESC};

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// Blanks seen since the last text are held back in `space`.
    Space,
    /// Between `ESC` bytes: written verbatim.
    Escape,
    Text,
}

pub struct Trimmer {
    state: State,
    space: Vec<u8>,
    out: Vec<u8>,
}

impl Trimmer {
    pub fn with_capacity(n: usize) -> Self {
        Trimmer { state: State::Space, space: Vec::new(), out: Vec::with_capacity(n) }
    }

    pub fn finish(self) -> Vec<u8> {
        self.out
    }

    fn reset_space(&mut self) {
        self.state = State::Space;
        self.space.clear();
    }
}

impl Sink for Trimmer {
    fn write(&mut self, data: &[u8]) {
        // `data[m..n]` is text not yet written while in `Text` or `Escape`.
        let mut m = 0;
        for (n, &b) in data.iter().enumerate() {
            // VT counts as HT (it only survives inside escapes, where it is kept as is).
            let b = if b == b'\x0b' { b'\t' } else { b };
            match self.state {
                State::Space => match b {
                    b'\t' | b' ' => self.space.push(b),
                    b'\n' | b'\x0c' => {
                        self.reset_space();
                        self.out.push(b'\n');
                    }
                    ESC => {
                        self.out.extend_from_slice(&self.space);
                        self.state = State::Escape;
                        m = n + 1;
                    }
                    _ => {
                        self.out.extend_from_slice(&self.space);
                        self.state = State::Text;
                        m = n;
                    }
                },
                State::Escape => {
                    if b == ESC {
                        self.out.extend_from_slice(&data[m..n]);
                        self.reset_space();
                    }
                }
                State::Text => match b {
                    b'\t' | b' ' => {
                        self.out.extend_from_slice(&data[m..n]);
                        self.reset_space();
                        self.space.push(b);
                    }
                    b'\n' | b'\x0c' => {
                        self.out.extend_from_slice(&data[m..n]);
                        self.reset_space();
                        self.out.push(b'\n');
                    }
                    ESC => {
                        self.out.extend_from_slice(&data[m..n]);
                        self.state = State::Escape;
                        m = n + 1;
                    }
                    _ => {}
                },
            }
        }
        if self.state != State::Space {
            self.out.extend_from_slice(&data[m..]);
            self.reset_space();
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

    #[test]
    fn form_feed_becomes_newline() {
        assert_eq!(trim(&[b"a\x0c\x0cb"]), b"a\n\nb");
    }
}
