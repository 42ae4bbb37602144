//! Printer state: the output buffer, the whitespace queue, the source-position estimate and
//! comment injection.
//!
//! Upstream decides where comments go by comparing *estimated* source positions with comment
//! offsets, so the estimate is reproduced exactly, including its blind spots: tokens written
//! without a position item inherit the end of the previous token.

use std::ops::Range;

use crate::lexer::Comment;
use crate::span::{LineIndex, Span};

use super::tabwriter::Writer;

/// A queued whitespace item. The byte values of the printing ones are what gets emitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Ws {
    Ignore,
    Blank,
    VTab,
    Newline,
    Formfeed,
    Indent,
    Unindent,
}

impl Ws {
    fn byte(self) -> Option<u8> {
        match self {
            Ws::Blank => Some(b' '),
            Ws::VTab => Some(b'\x0b'),
            Ws::Newline => Some(b'\n'),
            Ws::Formfeed => Some(b'\x0c'),
            Ws::Ignore | Ws::Indent | Ws::Unindent => None,
        }
    }
}

/// The kind of the last item written, as far as the printer cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Last {
    /// Anything without a special rule (including "whitespace was queued").
    Other,
    Number,
    Slash,
}

/// An estimated source position. Line 0 means "invalid" (nothing printed yet).
#[derive(Clone, Copy, Debug)]
struct Pos {
    offset: u64,
    line: Line,
}

/// A position's line. Lines only matter where comments are placed, so a position item's line
/// is looked up when that happens, not for every token: the high half is the source offset
/// whose line to take ([`Line::KNOWN`] if the low half is the line itself), the low half the
/// lines to add. One word, so that it is stored and loaded whole.
#[derive(Clone, Copy, Debug)]
struct Line(u64);

impl Line {
    const KNOWN: u64 = u32::MAX as u64;

    const fn known(line: u32) -> Line {
        Line(Self::KNOWN << 32 | line as u64)
    }

    /// The line of source offset `of`.
    fn of(of: u32) -> Line {
        Line(u64::from(of) << 32)
    }

    fn add(self, n: u32) -> Line {
        Line(self.0 & !Self::KNOWN | u64::from((self.0 as u32).saturating_add(n)))
    }
}

const END: Pos = Pos { offset: u64::MAX, line: Line::known(u32::MAX) };

/// Finds lines for offsets; consecutive lookups are usually close, so the search starts from
/// the line found last.
struct LineCursor<'a> {
    lines: &'a LineIndex,
    line: u32,
    start: u32,
    end: u32,
}

impl<'a> LineCursor<'a> {
    fn new(lines: &'a LineIndex) -> Self {
        let mut c = LineCursor { lines, line: 1, start: 0, end: 0 };
        c.seek(1);
        c
    }

    fn seek(&mut self, line: u32) {
        self.line = line;
        self.start = self.lines.line_start(line);
        self.end = if line < self.lines.line_count() { self.lines.line_start(line + 1) } else { u32::MAX };
    }

    #[inline]
    fn line(&mut self, offset: u32) -> u32 {
        if offset >= self.start && offset < self.end {
            return self.line;
        }
        self.line_slow(offset)
    }

    /// Gallops from the cached line towards `offset`, then bisects: the walker's misses are
    /// mostly a few lines away, where a search of the whole index would miss the cache.
    fn line_slow(&mut self, offset: u32) -> u32 {
        let start = |l: u32| self.lines.line_start(l);
        // The answer is the last line `l` with `start(l) <= offset`, in `lo..hi`.
        let (mut lo, mut hi);
        if offset >= self.end {
            let count = self.lines.line_count();
            lo = self.line + 1;
            let mut step = 1;
            hi = lo + step;
            while hi <= count && start(hi) <= offset {
                lo = hi;
                step *= 2;
                hi = lo.saturating_add(step);
            }
            hi = hi.min(count + 1);
        } else {
            // Line 1 starts at 0, so `offset < self.start` means `self.line > 1`.
            hi = self.line;
            let mut step = 1;
            lo = hi - step;
            while lo > 1 && start(lo) > offset {
                hi = lo;
                step *= 2;
                lo = hi.saturating_sub(step).max(1);
            }
        }
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if start(mid) <= offset {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        self.seek(lo);
        lo
    }
}

pub(super) struct Printer<'a> {
    out: Writer,
    indent: i32,
    last_tok: Last,
    ws: Vec<Ws>,
    comments: &'a [Comment],
    groups: &'a [Range<u32>],
    /// Index of the current comment group in `groups`.
    group: usize,
    /// Start offset of the current group's first comment.
    cpos: Option<u32>,
    /// The estimated position of the next token, as two fields: it is written often and read
    /// right after, which is fastest word by word.
    pos_offset: u64,
    pos_line: Line,
    /// The line right after the last token or comment written.
    last: Line,
    /// Whether the output is at the start of a line (upstream's `outCol == 1`).
    at_line_start: bool,
    lines: LineCursor<'a>,
    /// Spans of literals to print as `"(secret)"` (sorted by start).
    secrets: &'a [Span],
}

impl<'a> Printer<'a> {
    pub(super) fn new(lines: &'a LineIndex, size_hint: usize, secrets: &'a [Span]) -> Self {
        Printer {
            out: Writer::with_capacity(size_hint + size_hint / 4),
            indent: 0,
            last_tok: Last::Other,
            ws: Vec::with_capacity(16),
            comments: &[],
            groups: &[],
            group: 0,
            cpos: None,
            pos_offset: 0,
            pos_line: Line::known(1),
            last: Line::known(0),
            at_line_start: true,
            lines: LineCursor::new(lines),
            secrets,
        }
    }

    pub(super) fn set_comments(&mut self, comments: &'a [Comment], groups: &'a [Range<u32>]) {
        self.comments = comments;
        self.groups = groups;
        self.group = 0;
        self.cpos = None;
        self.seek_group(0);
    }

    /// Makes the first non-empty group at or after `g` current.
    fn seek_group(&mut self, mut g: usize) {
        while let Some(r) = self.groups.get(g) {
            if r.start < r.end {
                if let Some(c) = self.comments.get(r.start as usize) {
                    self.group = g;
                    self.cpos = Some(c.span.start);
                    return;
                }
            }
            g += 1;
        }
        self.group = g;
        self.cpos = None;
    }

    /// Source line of a byte offset.
    pub(super) fn line(&mut self, offset: u32) -> u32 {
        self.lines.line(offset)
    }

    /// The line of an estimated position.
    fn line_of(&mut self, line: Line) -> u32 {
        let (of, extra) = ((line.0 >> 32) as u32, line.0 as u32);
        if u64::from(of) == Line::KNOWN {
            extra
        } else {
            self.lines.line(of).saturating_add(extra)
        }
    }

    // ---- items ----

    pub(super) fn ws(&mut self, w: Ws) {
        if w != Ws::Ignore {
            self.ws.push(w);
        }
        self.last_tok = Last::Other;
    }

    /// A position item: the next token starts at `offset` in the source.
    pub(super) fn pos(&mut self, offset: u32) {
        self.pos_offset = offset as u64;
        self.pos_line = Line::of(offset);
    }

    pub(super) fn ident(&mut self, text: &str) {
        self.last_tok = Last::Other;
        self.text(text.as_bytes());
    }

    /// A literal; `span` identifies it for secret redaction.
    pub(super) fn lit(&mut self, text: &str, is_number: bool, span: Option<Span>) {
        self.last_tok = if is_number { Last::Number } else { Last::Other };
        let secret = span.is_some_and(|s| self.secrets.binary_search_by(|x| x.start.cmp(&s.start)).is_ok());
        if secret {
            self.text(b"\"(secret)\"");
        } else {
            self.text(text.as_bytes());
        }
    }

    /// A punctuation or operator token.
    pub(super) fn tok(&mut self, text: &'static str) {
        // Keep `1 .x` and `/ *` from re-lexing differently.
        if (self.last_tok == Last::Number && text.starts_with('.')) || (self.last_tok == Last::Slash && text.starts_with('*')) {
            self.ws(Ws::Blank);
        }
        self.last_tok = if text == "/" { Last::Slash } else { Last::Other };
        self.text(text.as_bytes());
    }

    fn text(&mut self, s: &[u8]) {
        let next = Pos { offset: self.pos_offset, line: self.pos_line };
        // Comments due before this token take the queued whitespace into account.
        if self.cpos.is_some_and(|c| c as u64 <= next.offset) {
            self.inject_comments(next, false);
        } else if !self.ws.is_empty() {
            self.apply_ws(self.ws.len());
        }
        self.emit_token(next, s);
    }

    /// Writes the comments left after the last token and produces the final text.
    pub(super) fn finish(mut self) -> String {
        if self.cpos.is_some() {
            self.inject_comments(END, true);
        }
        match String::from_utf8(self.out.finish()) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }
    }

    // ---- primitives ----
    //
    // Whitespace does not move the position estimate: upstream advances it, but the next token
    // or comment always overwrites it with its own position before it is read.

    fn emit_indent(&mut self) {
        let n = self.indent.max(0) as usize;
        if n > 0 {
            self.out.tabs(n);
            self.at_line_start = false;
        }
    }

    /// `n` whitespace bytes, indented as one.
    fn emit_ws_byte(&mut self, ch: u8, n: usize) {
        if self.at_line_start {
            self.emit_indent();
        }
        for _ in 0..n {
            self.out.blank(ch);
        }
        if ch == b'\n' || ch == b'\x0c' {
            self.at_line_start = true;
        } else if n > 0 {
            self.at_line_start = false;
        }
    }

    /// `emit_ws_byte(ch, 1)`.
    #[inline]
    fn emit_ws(&mut self, ch: u8) {
        if self.at_line_start {
            self.emit_indent();
        }
        self.out.blank(ch);
        self.at_line_start = ch == b'\n' || ch == b'\x0c';
    }

    /// A token's text. Identifiers and punctuation are almost always simple; literals (and
    /// identifiers of recovered trees) may hold line breaks.
    fn emit_token(&mut self, p: Pos, s: &[u8]) {
        if self.at_line_start {
            self.emit_indent();
        }
        if self.out.text(s) {
            self.pos_offset = p.offset.saturating_add(s.len() as u64);
            self.pos_line = p.line;
            self.at_line_start &= s.is_empty();
            self.last = p.line;
        } else {
            self.advance(p, s);
        }
    }

    fn emit_comment(&mut self, p: Pos, s: &[u8]) {
        if self.at_line_start {
            self.emit_indent();
        }
        self.out.escaped(s);
        self.advance(p, s);
    }

    /// Moves the position estimate past text `s` written at `p`.
    fn advance(&mut self, p: Pos, s: &[u8]) {
        let mut line = p.line;
        let mut breaks = 0u32;
        let mut last_break = 0usize;
        for (i, &b) in s.iter().enumerate() {
            if b == b'\n' || b == b'\x0c' {
                breaks += 1;
                last_break = i;
            }
        }
        self.pos_offset = p.offset.saturating_add(s.len() as u64);
        if breaks > 0 {
            line = line.add(breaks);
            self.at_line_start = last_break + 1 == s.len();
        } else if !s.is_empty() {
            self.at_line_start = false;
        }
        self.pos_line = line;
        self.last = line;
    }

    /// Applies the first `n` queued whitespace items.
    fn apply_ws(&mut self, n: usize) {
        for i in 0..n {
            match self.ws[i] {
                Ws::Indent => self.indent += 1,
                Ws::Unindent => self.indent -= 1,
                w => {
                    if let Some(b) = w.byte() {
                        self.emit_ws(b);
                    }
                }
            }
        }
        if n == self.ws.len() {
            self.ws.clear();
        } else {
            self.ws.drain(..n);
        }
    }

    // ---- comments ----

    #[cold]
    fn inject_comments(&mut self, next: Pos, eof: bool) {
        let comments = self.comments;
        let mut last_comment: Option<&Comment> = None;
        while let Some(cpos) = self.cpos {
            if cpos as u64 > next.offset {
                break;
            }
            let range = self.groups[self.group].clone();
            for c in comments.get(range.start as usize..range.end as usize).unwrap_or(&[]) {
                let line = self.lines.line(c.span.start);
                let p = Pos { offset: c.span.start as u64, line: Line::known(line) };
                self.comment_prefix(next, line);
                self.emit_comment(p, c.text.as_bytes());
                last_comment = Some(c);
            }
            self.seek_group(self.group + 1);
        }
        self.comment_suffix(next, eof, last_comment);
    }

    /// Whitespace before a comment starting on source line `cl`.
    fn comment_prefix(&mut self, next: Pos, cl: u32) {
        if self.out.is_empty() {
            return;
        }
        let last_line = self.line_of(self.last);
        if cl == last_line {
            // The comment trails the last token: a space if the next token follows on the same
            // line, else a tab so that trailing comments align.
            let same = cl == self.line_of(next.line);
            self.emit_ws_byte(if same { b' ' } else { b'\t' }, 1);
            return;
        }
        // Apply leading (un)indents so the comment gets the right indentation; drop the first
        // printing whitespace (line breaks are recomputed from the source below).
        let mut k = 0;
        for (i, w) in self.ws.iter_mut().enumerate() {
            match w {
                Ws::Indent | Ws::Unindent => continue,
                Ws::Blank | Ws::VTab | Ws::Newline | Ws::Formfeed => *w = Ws::Ignore,
                Ws::Ignore => {}
            }
            k = i;
            break;
        }
        self.apply_ws(k);
        let d = if last_line == 0 { 0 } else { cl as i64 - last_line as i64 };
        if d > 0 {
            self.emit_ws_byte(b'\x0c', d.min(2) as usize);
        }
    }

    fn comment_suffix(&mut self, next: Pos, eof: bool, last_comment: Option<&Comment>) {
        if eof {
            return;
        }
        let next_line = self.line_of(next.line);
        if let Some(c) = last_comment {
            if c.is_block() {
                let end = c.span.start + (c.text.len() as u32).saturating_sub(1);
                if next_line == self.lines.line(end) {
                    self.emit_ws_byte(b' ', 1);
                }
            }
        }
        let d = next_line as i64 - self.line_of(self.last) as i64;
        let mut dropped_ff = false;
        for w in self.ws.iter_mut() {
            match w {
                Ws::Blank | Ws::VTab | Ws::Newline => *w = Ws::Ignore,
                Ws::Formfeed => {
                    *w = Ws::Ignore;
                    dropped_ff = true;
                }
                Ws::Indent | Ws::Unindent | Ws::Ignore => {}
            }
        }
        self.apply_ws(self.ws.len());
        if d > 0 {
            self.emit_ws_byte(if dropped_ff { b'\x0c' } else { b'\n' }, d.min(2) as usize);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The cursor finds the line a search of the whole index finds, whatever the order of
        /// the lookups.
        #[test]
        fn line_cursor_matches_index(
            line_lengths in proptest::collection::vec(0usize..12, 0..80),
            trailing in 0usize..5,
            lookups in proptest::collection::vec(0u32..1000, 1..60),
        ) {
            let mut text = String::new();
            for n in line_lengths {
                text.push_str(&"x".repeat(n));
                text.push('\n');
            }
            text.push_str(&"y".repeat(trailing));
            let lines = LineIndex::new(text.as_bytes());
            let mut cursor = LineCursor::new(&lines);
            for offset in lookups {
                let offset = offset % (text.len() as u32 + 1);
                proptest::prop_assert_eq!(cursor.line(offset), lines.line(offset).max(1));
            }
        }
    }
}
