//! Byte spans and line/column lookup.
//!
//! Columns count bytes, as upstream does (`ŝ٣ = 1` puts `=` at column 6).

/// A half-open byte range `start..end` into one source text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub const fn new(start: u32, end: u32) -> Self {
        Span { start, end }
    }

    /// An empty span at `offset`.
    pub const fn at(offset: u32) -> Self {
        Span { start: offset, end: offset }
    }

    pub fn len(self) -> u32 {
        self.end - self.start
    }

    pub fn is_empty(self) -> bool {
        self.start == self.end
    }

    /// The smallest span covering both.
    pub fn cover(self, other: Span) -> Span {
        Span { start: self.start.min(other.start), end: self.end.max(other.end) }
    }

    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    /// Offset of the last byte (upstream's inclusive `EndPos`); the start for empty spans.
    pub fn last_byte(self) -> u32 {
        if self.end > self.start {
            self.end - 1
        } else {
            self.start
        }
    }
}

/// A 1-based line and byte column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LineCol {
    pub line: u32,
    pub col: u32,
}

impl std::fmt::Display for LineCol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// Offsets at which each line starts; a line starts after every `\n`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineIndex {
    starts: Vec<u32>,
    len: u32,
}

impl LineIndex {
    pub fn new(text: &[u8]) -> Self {
        let mut starts = Vec::with_capacity(text.len() / 20 + 1);
        starts.push(0);
        push_line_ends(text, &mut starts);
        LineIndex { starts, len: text.len() as u32 }
    }

    /// 1-based line containing `offset`.
    pub fn line(&self, offset: u32) -> u32 {
        self.starts.partition_point(|&s| s <= offset) as u32
    }

    pub fn line_col(&self, offset: u32) -> LineCol {
        let line = self.line(offset);
        let start = self.starts[line as usize - 1];
        LineCol { line, col: offset - start + 1 }
    }

    /// Offset of the first byte of 1-based `line` (clamped to the end of the text).
    pub fn line_start(&self, line: u32) -> u32 {
        self.starts.get(line.saturating_sub(1) as usize).copied().unwrap_or(self.len)
    }

    pub fn line_count(&self) -> u32 {
        self.starts.len() as u32
    }

    pub fn text_len(&self) -> u32 {
        self.len
    }
}

/// Appends the offset just after each `\n`. Lines are short (25 bytes on average in a typical
/// configuration), so rather than searching for each newline, every 16-byte block is turned
/// into a bit mask of its newlines and the set bits are read.
fn push_line_ends(text: &[u8], out: &mut Vec<u32>) {
    let mut blocks = text.chunks_exact(16);
    let mut at = 0u32;
    for block in &mut blocks {
        let mut mask = newline_mask(block);
        while mask != 0 {
            out.push(at + mask.trailing_zeros() + 1);
            mask &= mask - 1;
        }
        at += 16;
    }
    for (i, &b) in blocks.remainder().iter().enumerate() {
        if b == b'\n' {
            out.push(at + i as u32 + 1);
        }
    }
}

/// Bit `i` is set when `block[i]` is a newline (`block` has 16 bytes).
#[cfg(target_arch = "x86_64")]
fn newline_mask(block: &[u8]) -> u32 {
    // SAFETY: SSE2 is part of the x86_64 baseline every x86_64 CPU implements, so the target
    // feature `sse2_newline_mask` requires is present; it touches no memory through pointers.
    unsafe { sse2_newline_mask(block) }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
fn sse2_newline_mask(block: &[u8]) -> u32 {
    use std::arch::x86_64::{_mm_cmpeq_epi8, _mm_movemask_epi8, _mm_set1_epi8, _mm_set_epi64x};
    let word = |range: std::ops::Range<usize>| {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&block[range]);
        i64::from_le_bytes(bytes)
    };
    let bytes = _mm_set_epi64x(word(8..16), word(0..8));
    _mm_movemask_epi8(_mm_cmpeq_epi8(bytes, _mm_set1_epi8(b'\n' as i8))) as u32
}

#[cfg(not(target_arch = "x86_64"))]
fn newline_mask(block: &[u8]) -> u32 {
    block.iter().enumerate().fold(0, |mask, (i, &b)| mask | (u32::from(b == b'\n') << i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_starts_follow_every_newline() {
        let mut text = Vec::new();
        for (i, len) in [0usize, 1, 7, 8, 9, 15, 16, 17, 0, 0, 31, 32, 33, 63, 3].into_iter().enumerate() {
            text.extend(std::iter::repeat_n(if i % 2 == 0 { b'a' } else { 0x8a }, len));
            text.push(b'\n');
        }
        text.extend_from_slice(b"tail\n\n");
        let expected: Vec<u32> = text.iter().enumerate().filter(|(_, &b)| b == b'\n').map(|(i, _)| i as u32 + 1).collect();
        for cut in 0..text.len() {
            let mut found = Vec::new();
            push_line_ends(&text[..cut], &mut found);
            let want: Vec<u32> = expected.iter().copied().filter(|&s| s <= cut as u32).collect();
            assert_eq!(found, want, "first {cut} bytes");
        }
    }

    #[test]
    fn columns_count_bytes() {
        let idx = LineIndex::new("ŝ٣ = 1\nb".as_bytes());
        assert_eq!(idx.line_col(5), LineCol { line: 1, col: 6 });
        assert_eq!(idx.line_col(9), LineCol { line: 2, col: 1 });
        assert_eq!(idx.line(8), 1);
    }
}
