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
        let mut starts = Vec::with_capacity(text.len() / 32 + 1);
        starts.push(0);
        starts.extend(memchr_newlines(text));
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

fn memchr_newlines(text: &[u8]) -> impl Iterator<Item = u32> + '_ {
    memchr::memchr_iter(b'\n', text).map(|i| i as u32 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_bytes() {
        let idx = LineIndex::new("ŝ٣ = 1\nb".as_bytes());
        assert_eq!(idx.line_col(5), LineCol { line: 1, col: 6 });
        assert_eq!(idx.line_col(9), LineCol { line: 2, col: 1 });
        assert_eq!(idx.line(8), 1);
    }
}
