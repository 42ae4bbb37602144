//! The scanner: bytes to tokens, with upstream's terminator insertion and error texts.
//!
//! A hand-written scanner: the first byte of a token selects what scans it, and runs of plain
//! bytes (identifier characters, the bodies of strings and comments) are skipped with 256-entry
//! byte tables. Whatever is not plain ASCII (non-ASCII identifiers, encoding errors, NUL,
//! escapes) takes a slower path character by character, because upstream's error positions and
//! recovery are part of the language's contract.
//!
//! The output keeps comments apart from the token stream (the parser never sees them), and each
//! scanner error remembers the index of the token that was current when upstream's lazy scanner
//! would have reported it, so errors can be merged with the parser's in upstream's order.

use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};

use crate::span::{LineIndex, Span};
use crate::token::{Token, TokenKind};

/// A comment as the formatter needs it: where it is, and its text with carriage returns removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    pub span: Span,
    pub text: Box<str>,
}

impl Comment {
    pub fn is_block(&self) -> bool {
        self.text.starts_with("/*")
    }
}

/// A scanner error, positioned at a byte offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanError {
    pub offset: u32,
    pub message: String,
    /// Index (in `Lexed::tokens`) of the token being produced when the error was found.
    pub token_index: u32,
}

/// The result of scanning one source text.
#[derive(Clone, Debug)]
pub struct Lexed {
    /// Every non-comment token, ending with exactly one `Eof`.
    pub tokens: Vec<Token>,
    pub comments: Vec<Comment>,
    /// Comment groups as index ranges into `comments`.
    pub comment_groups: Vec<std::ops::Range<u32>>,
    pub errors: Vec<ScanError>,
    pub lines: LineIndex,
}

const BOM: char = '\u{FEFF}';

/// A byte table: which bytes a loop may skip without a closer look.
type ByteSet = [bool; 256];

/// The set of the given bytes.
const fn byte_set(bytes: &[u8]) -> ByteSet {
    let mut set = [false; 256];
    let mut i = 0;
    while i < bytes.len() {
        set[bytes[i] as usize] = true;
        i += 1;
    }
    set
}

/// ASCII except NUL and `stops`: NUL and non-ASCII bytes are read as characters, as they can be
/// encoding errors.
const fn plain_ascii_except(stops: &[u8]) -> ByteSet {
    let mut set = [false; 256];
    let mut b = 1;
    while b < 0x80 {
        set[b] = true;
        b += 1;
    }
    let mut i = 0;
    while i < stops.len() {
        set[stops[i] as usize] = false;
        i += 1;
    }
    set
}

const IDENT_ASCII: ByteSet = byte_set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_0123456789");
const DOUBLE_QUOTED_PLAIN: ByteSet = plain_ascii_except(b"\"\\\n");
const SINGLE_QUOTED_PLAIN: ByteSet = plain_ascii_except(b"'\\\n");
/// Raw strings have no escapes and may span lines: only the backtick ends them.
const RAW_PLAIN: ByteSet = plain_ascii_except(b"`");
const LINE_COMMENT_PLAIN: ByteSet = plain_ascii_except(b"\n");
const BLOCK_COMMENT_PLAIN: ByteSet = plain_ascii_except(b"*");

/// Scans `src` completely.
pub fn lex(src: &[u8]) -> Lexed {
    let mut scanner = Scanner::new(src);
    // All at once: the buffer the parser drains a chunk at a time becomes the token vector.
    scanner.buffer = Vec::with_capacity(src.len() / 5 + 2);
    scanner.scan(usize::MAX);
    let tokens = std::mem::take(&mut scanner.buffer);
    scanner.finish(tokens)
}

/// How many tokens the scanner scans ahead of the parser.
const CHUNK: usize = 64;

/// A scanner that hands out one token at a time, so the parser needs no token vector: the
/// comments, comment groups, errors and line index are collected beside and taken by
/// [`Scanner::finish`].
pub(crate) struct Scanner<'a> {
    src: &'a [u8],
    /// Where scanning continues.
    pos: u32,
    insert_term: bool,
    /// Tokens scanned but not yet handed out, from `next`. The scanner fills a chunk at a
    /// time, so handing a token to the parser is a bounds check and a copy.
    buffer: Vec<Token>,
    next: usize,
    /// How many tokens were handed out and cleared from `buffer` by refills.
    cleared: u32,
    /// Whether the end has been reached (the `Eof` token is produced).
    at_end: bool,
    comments: Vec<Comment>,
    comment_groups: Vec<std::ops::Range<u32>>,
    /// Start of the comment group being collected, if any.
    open_group: Option<u32>,
    /// How many tokens had been produced when the last comment was added: a token since then
    /// closes the group (checked at the next comment, so producing a token costs nothing).
    group_tokens: u32,
    /// Where the last comment of the open group ends.
    group_end: u32,
    errors: Vec<ScanError>,
    /// Encoding errors are reported once per character, as upstream's reader reads each
    /// character once: characters before this offset have been checked already.
    checked_upto: u32,
    lines: LineIndex,
}

impl<'a> Scanner<'a> {
    pub(crate) fn new(src: &'a [u8]) -> Self {
        // A byte-order mark is skipped only as the very first character.
        let pos = if src.starts_with("\u{FEFF}".as_bytes()) { 3 } else { 0 };
        Scanner {
            src,
            pos,
            insert_term: false,
            buffer: Vec::with_capacity(CHUNK + 2),
            next: 0,
            cleared: 0,
            at_end: false,
            comments: Vec::new(),
            comment_groups: Vec::new(),
            open_group: None,
            group_tokens: 0,
            group_end: 0,
            errors: Vec::new(),
            checked_upto: 0,
            lines: LineIndex::new(src),
        }
    }

    /// The next token; `Eof` once the text is exhausted, and again on every later call.
    #[inline]
    pub(crate) fn next_token(&mut self) -> Token {
        if let Some(&token) = self.buffer.get(self.next) {
            self.next += 1;
            return token;
        }
        self.refill()
    }

    #[cold]
    fn refill(&mut self) -> Token {
        self.cleared += self.buffer.len() as u32;
        self.buffer.clear();
        self.next = 0;
        self.scan(CHUNK);
        match self.buffer.first() {
            Some(&token) => {
                self.next = 1;
                token
            }
            None => Token { kind: TokenKind::Eof, span: Span::at(self.src.len() as u32) },
        }
    }

    pub(crate) fn lines(&self) -> &LineIndex {
        &self.lines
    }

    /// Scans whatever is left (for its comments and errors) and returns the side products with
    /// the given token vector.
    pub(crate) fn finish(mut self, tokens: Vec<Token>) -> Lexed {
        self.scan(usize::MAX);
        self.close_group();
        Lexed { tokens, comments: self.comments, comment_groups: self.comment_groups, errors: self.errors, lines: self.lines }
    }

    /// Scans until `buffer` holds `limit` tokens or the end has been produced.
    ///
    /// The rare cases (the end, comments, numbers, illegal characters, non-ASCII identifiers,
    /// single-quoted strings) are `inline(never)`: kept out of this loop, they leave its
    /// registers to the common tokens.
    fn scan(&mut self, limit: usize) {
        // The offset lives in a register while scanning, in `pos` between calls.
        let mut at = self.pos;
        while self.buffer.len() < limit && !self.at_end {
            at = self.step(at);
        }
        self.pos = at;
    }

    /// Scans one token from `start` (a comment produces none, or a terminator before it; the
    /// end two) and returns where scanning continues.
    // Inlined into the loop of `scan`: most tokens are short, so the call would cost as much
    // as the token.
    #[inline(always)]
    fn step(&mut self, mut start: u32) -> u32 {
        use TokenKind as K;
        // Blanks a byte at a time: most tokens follow one or none.
        let b = loop {
            let Some(&b) = self.src.get(start as usize) else {
                return self.end_of_input();
            };
            if !matches!(b, b' ' | b'\t' | b'\r') {
                break b;
            }
            start += 1;
        };
        let (kind, end) = match b {
            b'\n' => return self.newline(start),
            b'A'..=b'Z' | b'a'..=b'z' | b'_' => self.ascii_identifier(start),
            b'0'..=b'9' => self.number(start),
            b'.' if self.is_digit(start + 1) => self.number(start),
            b'"' => (K::String, self.double_quoted(start)),
            b'`' => (K::String, self.scan_string(start, start + 1, &RAW_PLAIN)),
            b'\'' => return self.single_quoted(start),
            b'/' if matches!(self.byte(start + 1), Some(b'/' | b'*')) => return self.comment(start),
            b'|' => self.doubled(start, K::Or, "missing second | in ||"),
            b'&' => self.doubled(start, K::And, "missing second & in &&"),
            b'!' => self.maybe_equals(start, K::Not, K::Neq),
            b'=' => self.maybe_equals(start, K::Assign, K::Eq),
            b'<' => self.maybe_equals(start, K::Lt, K::Lte),
            b'>' => self.maybe_equals(start, K::Gt, K::Gte),
            b'+' => (K::Add, start + 1),
            b'-' => (K::Sub, start + 1),
            b'*' => (K::Mul, start + 1),
            b'/' => (K::Div, start + 1),
            b'%' => (K::Mod, start + 1),
            b'^' => (K::Pow, start + 1),
            b'{' => (K::LCurly, start + 1),
            b'}' => (K::RCurly, start + 1),
            b'(' => (K::LParen, start + 1),
            b')' => (K::RParen, start + 1),
            b'[' => (K::LBrack, start + 1),
            b']' => (K::RBrack, start + 1),
            b',' => (K::Comma, start + 1),
            b'.' => (K::Dot, start + 1),
            _ => return self.unknown_char(start),
        };
        self.token(kind, start, end)
    }

    /// Appends a token and returns its end; a newline after it ends the statement if the kind
    /// says so.
    #[inline(always)]
    fn token(&mut self, kind: TokenKind, start: u32, end: u32) -> u32 {
        self.insert_term = kind.inserts_terminator();
        self.push(kind, Span::new(start, end));
        end
    }

    /// A newline, which ends the statement if the token before asks for it. The indentation
    /// after it (spaces and tabs; a `\r` goes back through the dispatch) is skipped here, where
    /// a long run of blanks is likely.
    #[inline(always)]
    fn newline(&mut self, start: u32) -> u32 {
        if self.insert_term {
            self.token(TokenKind::Terminator, start, start + 1);
        }
        let mut at = start + 1;
        while matches!(self.byte(at), Some(b' ' | b'\t')) {
            at += 1;
        }
        at
    }

    /// The end of the text: a pending terminator, then `Eof`.
    #[inline(never)]
    fn end_of_input(&mut self) -> u32 {
        let end = self.src.len() as u32;
        if self.insert_term {
            self.insert_term = false;
            self.push(TokenKind::Terminator, Span::at(end));
        }
        self.push(TokenKind::Eof, Span::at(end));
        self.at_end = true;
        end
    }

    /// `||` or `&&`; a single `|` or `&` is an error but still scanned as the operator.
    fn doubled(&mut self, start: u32, kind: TokenKind, missing: &str) -> (TokenKind, u32) {
        if self.byte(start + 1) == self.byte(start) {
            return (kind, start + 2);
        }
        self.error(start + 1, missing);
        (kind, start + 1)
    }

    /// An operator that becomes `with_equals` when followed by `=`.
    #[inline(always)]
    fn maybe_equals(&self, start: u32, alone: TokenKind, with_equals: TokenKind) -> (TokenKind, u32) {
        if self.byte(start + 1) == Some(b'=') {
            (with_equals, start + 2)
        } else {
            (alone, start + 1)
        }
    }

    /// A single-quoted string is an error, but scanned as a string (it ends a statement).
    #[inline(never)]
    fn single_quoted(&mut self, start: u32) -> u32 {
        self.error(start, "illegal single-quoted string; use double quotes");
        let end = self.scan_string(start, start + 1, &SINGLE_QUOTED_PLAIN);
        self.insert_term = true;
        self.push(TokenKind::Illegal, Span::new(start, end));
        end
    }

    /// Appends a token.
    #[inline]
    fn push(&mut self, kind: TokenKind, span: Span) {
        self.buffer.push(Token { kind, span });
    }

    /// How many tokens have been produced so far (the index of the next one).
    fn produced(&self) -> u32 {
        self.cleared + self.buffer.len() as u32
    }

    fn close_group(&mut self) {
        if let Some(first) = self.open_group.take() {
            self.comment_groups.push(first..self.comments.len() as u32);
        }
    }

    fn error(&mut self, offset: u32, message: impl Into<String>) {
        let token_index = self.produced();
        self.errors.push(ScanError { offset, message: message.into(), token_index });
    }

    /// Decodes the character at `offset`, reporting the encoding errors upstream's
    /// character reader reports (once per character). Returns the character and its width;
    /// `None` at EOF.
    fn read_char(&mut self, offset: u32) -> Option<(char, u32)> {
        let rest = self.src.get(offset as usize..)?;
        let &b = rest.first()?;
        let (c, width, error) = match b {
            0 => ('\0', 1, Some("illegal character NUL")),
            0x01..=0x7F => (b as char, 1, None),
            _ => match decode_utf8(rest) {
                Some((c, w)) if c == BOM && offset > 0 => (c, w, Some("illegal byte order mark")),
                Some((c, w)) => (c, w, None),
                None => (char::REPLACEMENT_CHARACTER, 1, Some("illegal UTF-8 encoding")),
            },
        };
        if offset >= self.checked_upto {
            self.checked_upto = offset + width;
            if let Some(message) = error {
                self.error(offset, message);
            }
        }
        Some((c, width))
    }

    /// An identifier (or keyword) starting with an ASCII letter or `_`.
    #[inline(always)]
    fn ascii_identifier(&self, start: u32) -> (TokenKind, u32) {
        let mut end = self.skip(&IDENT_ASCII, start + 1);
        if self.byte(end).is_some_and(|b| !b.is_ascii()) {
            end = self.finish_identifier(end);
        }
        (word_kind(&self.src[start as usize..end as usize]), end)
    }

    /// Extends an identifier past non-ASCII letters and digits; returns its end.
    #[inline(never)]
    fn finish_identifier(&self, mut end: u32) -> u32 {
        while let Some(&b) = self.src.get(end as usize) {
            if IDENT_ASCII[b as usize] {
                end += 1;
                continue;
            }
            if b.is_ascii() {
                break;
            }
            match decode_utf8(&self.src[end as usize..]) {
                Some((c, w)) if is_letter(c) || is_unicode_digit(c) => end += w,
                _ => break,
            }
        }
        end
    }

    /// A byte no token starts with: a non-ASCII identifier start or an illegal character.
    #[inline(never)]
    fn unknown_char(&mut self, start: u32) -> u32 {
        let (c, width) = self.read_char(start).unwrap_or((char::REPLACEMENT_CHARACTER, 1));
        if is_letter(c) {
            // Never a keyword: those are ASCII.
            let end = self.finish_identifier(start + width);
            return self.token(TokenKind::Ident, start, end);
        }
        if c != BOM {
            self.error(start, format!("illegal character {}", go_sharp_u(c)));
        }
        // An illegal character keeps the previous terminator state.
        self.push(TokenKind::Illegal, Span::new(start, start + width));
        start + width
    }

    fn byte(&self, offset: u32) -> Option<u8> {
        self.src.get(offset as usize).copied()
    }

    fn is_digit(&self, offset: u32) -> bool {
        self.byte(offset).is_some_and(|b| b.is_ascii_digit())
    }

    /// The first offset from `at` whose byte is not in `plain` (or the end of the text).
    #[inline(always)]
    fn skip(&self, plain: &ByteSet, at: u32) -> u32 {
        let Some(rest) = self.src.get(at as usize..) else { return at };
        at + run_length(rest, plain) as u32
    }

    fn digits(&self, mut at: u32) -> u32 {
        while self.is_digit(at) {
            at += 1;
        }
        at
    }

    #[inline(never)]
    fn number(&mut self, start: u32) -> (TokenKind, u32) {
        let mut kind = TokenKind::Number;
        let mut at = start;
        if self.byte(at) != Some(b'.') {
            at = self.digits(at);
        }
        if self.byte(at) == Some(b'.') {
            kind = TokenKind::Float;
            at = self.digits(at + 1);
        }
        if matches!(self.byte(at), Some(b'e' | b'E')) {
            kind = TokenKind::Float;
            at += 1;
            if matches!(self.byte(at), Some(b'+' | b'-')) {
                at += 1;
            }
            let end = self.digits(at);
            if end == at {
                self.error(start, "exponent has no digits");
            }
            at = end;
        }
        (kind, at)
    }

    /// A double-quoted string. Most hold only plain ASCII and end here; the others are finished
    /// by [`Scanner::scan_string`].
    #[inline(always)]
    fn double_quoted(&mut self, start: u32) -> u32 {
        let end = self.skip(&DOUBLE_QUOTED_PLAIN, start + 1);
        if self.byte(end) == Some(b'"') {
            return end + 1;
        }
        self.scan_string(start, end, &DOUBLE_QUOTED_PLAIN)
    }

    /// Scans a string whose opening quote is at `start`, from `at` on (the bytes before it are
    /// plain); `plain` is what its body may contain without a closer look, and its closing
    /// quote is the opening one. Returns its end. Double- and single-quoted strings take
    /// escapes and end at a newline; raw (backtick) strings do neither.
    #[inline(never)]
    fn scan_string(&mut self, start: u32, mut at: u32, plain: &ByteSet) -> u32 {
        let quote = self.src[start as usize];
        let raw = quote == b'`';
        loop {
            at = self.skip(plain, at);
            let Some(b) = self.byte(at) else {
                self.error(start, "string literal not terminated");
                return at;
            };
            // ASCII, so `read_char` would find nothing to report.
            if b == quote {
                return at + 1;
            }
            if b == b'\n' && !raw {
                self.error(start, "string literal not terminated");
                return at;
            }
            let (_, w) = self.read_char(at).unwrap_or(('\0', 1));
            at += w;
            if b == b'\\' && !raw {
                at = self.scan_escape(at);
            }
        }
    }

    /// Validates the escape whose first character (after the backslash) is at `at`; returns
    /// where scanning continues. On an error it stops at the offending character.
    fn scan_escape(&mut self, at: u32) -> u32 {
        let (n, base, max, mut pos) = match self.byte(at) {
            Some(b'a' | b'b' | b'f' | b'n' | b'r' | b't' | b'v' | b'\\' | b'"') => return at + 1,
            Some(b'0'..=b'7') => (3, 8, 255u32, at),
            Some(b'x') => (2, 16, 255, at + 1),
            Some(b'u') => (4, 16, 0x10FFFF, at + 1),
            Some(b'U') => (8, 16, 0x10FFFF, at + 1),
            None => {
                self.error(at, "escape sequence not terminated");
                return at;
            }
            Some(_) => {
                // The offending character is read (and its encoding checked) by the caller.
                self.error(at, "unknown escape sequence");
                return at;
            }
        };
        // Upstream reads each character as it consumes the previous one, so an encoding error
        // in a digit position comes before the escape error.
        if pos > at {
            self.read_char(pos);
        }
        let mut value: u32 = 0;
        for _ in 0..n {
            let Some(b) = self.byte(pos) else {
                self.error(at, "escape sequence not terminated");
                return pos;
            };
            let digit = (b as char).to_digit(16).filter(|&d| d < base);
            let Some(d) = digit.filter(|_| b.is_ascii()) else {
                let c = decode_utf8(&self.src[pos as usize..]).map(|(c, _)| c).unwrap_or('\u{FFFD}');
                self.error(at, format!("illegal character {} in escape sequence", go_sharp_u(c)));
                return pos;
            };
            value = value.wrapping_mul(base).wrapping_add(d);
            pos += 1;
            if self.byte(pos).is_some() {
                self.read_char(pos);
            }
        }
        if value > max || (0xD800..0xE000).contains(&value) {
            self.error(at, "escape sequence is invalid Unicode code point");
        }
        pos
    }

    /// A comment starting at `start` (`//` or `/*`); returns its end.
    #[inline(never)]
    fn comment(&mut self, start: u32) -> u32 {
        // Upstream's look-ahead reads ahead and then rewinds its reader, so the characters it
        // looked at are read (and their encoding errors reported) a second time.
        let checked = self.checked_upto;
        let reaches_end = self.insert_term && self.comment_reaches_line_end(start);
        self.checked_upto = checked;
        if reaches_end {
            // The statement ends here; the comment is scanned after the terminator.
            self.insert_term = false;
            self.push(TokenKind::Terminator, Span::at(start));
        }
        let block = self.byte(start + 1) == Some(b'*');
        let end = if block { self.block_comment_end(start) } else { self.line_comment_end(start) };
        self.insert_term = false;
        let raw = &self.src[start as usize..end as usize];
        let text = comment_text(raw, block);
        self.add_comment(Comment { span: Span::new(start, end), text });
        end
    }

    /// The end of the line comment at `start`: the newline (or the end of the text).
    fn line_comment_end(&mut self, start: u32) -> u32 {
        let mut at = start + 2;
        loop {
            at = self.skip(&LINE_COMMENT_PLAIN, at);
            if matches!(self.byte(at), None | Some(b'\n')) {
                return at;
            }
            let (_, w) = self.read_char(at).unwrap_or(('\0', 1));
            at += w;
        }
    }

    /// The end of the block comment at `start`: after its `*/` (or the end of the text).
    fn block_comment_end(&mut self, start: u32) -> u32 {
        let mut at = start + 2;
        loop {
            at = self.skip(&BLOCK_COMMENT_PLAIN, at);
            let Some(b) = self.byte(at) else {
                self.error(start, "block comment not terminated");
                return at;
            };
            let (_, w) = self.read_char(at).unwrap_or(('\0', 1));
            at += w;
            if b == b'*' && self.byte(at) == Some(b'/') {
                return at + 1;
            }
        }
    }

    /// Adds a comment to the open group, or starts a group when a token or a line without a
    /// comment separates it from the group's last comment.
    fn add_comment(&mut self, comment: Comment) {
        let index = self.comments.len() as u32;
        if self.open_group.is_some() && (self.produced() != self.group_tokens || self.blank_line_before(comment.span.start)) {
            self.close_group();
        }
        if self.open_group.is_none() {
            self.open_group = Some(index);
        }
        self.group_end = comment.span.end;
        self.group_tokens = self.produced();
        self.comments.push(comment);
    }

    /// Whether two newlines separate the group's last comment from a comment at `start`:
    /// then a line lies between them. (Counting them is cheaper than finding both lines.)
    fn blank_line_before(&self, start: u32) -> bool {
        let gap = self.src.get(self.group_end as usize..start as usize).unwrap_or_default();
        gap.iter().filter(|&&b| b == b'\n').nth(1).is_some()
    }

    /// Upstream's look-ahead: does this comment (and any block comments following it on the
    /// same line) run to the end of the line?
    fn comment_reaches_line_end(&mut self, start: u32) -> bool {
        let mut at = start + 1;
        while matches!(self.byte(at), Some(b'/' | b'*')) {
            if self.byte(at) == Some(b'/') {
                return true;
            }
            at += 1;
            let mut finished = false;
            while let Some(b) = self.byte(at) {
                if b == b'\n' {
                    return true;
                }
                let (_, w) = self.read_char(at).unwrap_or(('\0', 1));
                at += w;
                if b == b'*' && self.byte(at) == Some(b'/') {
                    at += 1;
                    finished = true;
                    break;
                }
            }
            if !finished {
                return true;
            }
            while matches!(self.byte(at), Some(b' ' | b'\t' | b'\r')) {
                at += 1;
            }
            match self.byte(at) {
                None | Some(b'\n') => return true,
                Some(b'/') => at += 1,
                Some(_) => return false,
            }
        }
        false
    }
}

/// How many bytes at the start of `bytes` are in `set`.
#[inline(always)]
fn run_length(bytes: &[u8], set: &ByteSet) -> usize {
    // Two bytes a round: half the loop tests (identifiers average 7 bytes, strings 11).
    let mut pairs = bytes.chunks_exact(2);
    let mut n = 0;
    for pair in &mut pairs {
        if !set[pair[0] as usize] {
            return n;
        }
        if !set[pair[1] as usize] {
            return n + 1;
        }
        n += 2;
    }
    n + pairs.remainder().iter().take_while(|&&b| set[b as usize]).count()
}

/// `true`, `false` and `null` are literals; every other word is an identifier.
fn word_kind(word: &[u8]) -> TokenKind {
    // Most words are not 4 or 5 bytes long: one comparison settles them.
    if !matches!(word.len(), 4 | 5) {
        return TokenKind::Ident;
    }
    match word {
        b"true" | b"false" => TokenKind::Bool,
        b"null" => TokenKind::Null,
        _ => TokenKind::Ident,
    }
}

/// The comment's text with carriage returns removed as upstream does.
fn comment_text(raw: &[u8], block: bool) -> Box<str> {
    let mut cr = raw.iter().filter(|&&b| b == b'\r').count();
    let mut lit = raw;
    if cr > 0 && lit.last() == Some(&b'\r') {
        lit = &lit[..lit.len() - 1];
        cr -= 1;
    }
    if cr == 0 {
        return text_lossy(lit);
    }
    let mut out: Vec<u8> = Vec::with_capacity(lit.len());
    for (j, &b) in lit.iter().enumerate() {
        let keep_cr = block && out.len() > 2 && out.last() == Some(&b'*') && lit.get(j + 1) == Some(&b'/');
        if b != b'\r' || keep_cr {
            out.push(b);
        }
    }
    text_lossy(&out)
}

/// The bytes as text, invalid UTF-8 replaced; checked by the fast validator first because
/// almost every comment is valid.
fn text_lossy(bytes: &[u8]) -> Box<str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.into(),
        Err(_) => String::from_utf8_lossy(bytes).into(),
    }
}

/// Decodes one UTF-8 character; `None` for an invalid sequence.
fn decode_utf8(bytes: &[u8]) -> Option<(char, u32)> {
    let len = match bytes.first()? {
        0x00..=0x7F => 1,
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return None,
    };
    let s = std::str::from_utf8(bytes.get(..len)?).ok()?;
    s.chars().next().map(|c| (c, len as u32))
}

/// Upstream's identifier letters: ASCII letters, `_`, and Unicode category L.
pub fn is_letter(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || (!c.is_ascii() && c.general_category_group() == GeneralCategoryGroup::Letter)
}

/// Unicode decimal digits (category Nd), as Go's `unicode.IsDigit`.
pub fn is_unicode_digit(c: char) -> bool {
    c.is_ascii_digit() || (!c.is_ascii() && c.general_category() == unicode_properties::GeneralCategory::DecimalNumber)
}

/// Go's `%#U` format: `U+0041 'A'`, or just `U+0007` when not printable.
pub fn go_sharp_u(c: char) -> String {
    let code = format!("U+{:04X}", c as u32);
    if crate::quote::is_go_printable(c) {
        format!("{code} '{c}'")
    } else {
        code
    }
}

/// Whether `s` is exactly one identifier token.
pub fn is_valid_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if is_letter(c) => {}
        _ => return false,
    }
    if !chars.all(|c| is_letter(c) || is_unicode_digit(c)) {
        return false;
    }
    !matches!(s, "true" | "false" | "null")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<TokenKind> {
        lex(src.as_bytes()).tokens.iter().map(|t| t.kind).collect()
    }

    fn errors(src: &str) -> Vec<(u32, String)> {
        lex(src.as_bytes()).errors.into_iter().map(|e| (e.offset, e.message)).collect()
    }

    #[test]
    fn terminators_follow_value_tokens() {
        use TokenKind::*;
        assert_eq!(kinds("a = 1\nb"), vec![Ident, Assign, Number, Terminator, Ident, Terminator, Eof]);
        assert_eq!(kinds("a = 1 +\n2"), vec![Ident, Assign, Number, Add, Number, Terminator, Eof]);
        assert_eq!(kinds("[\n1,\n]"), vec![LBrack, Number, Comma, RBrack, Terminator, Eof]);
    }

    #[test]
    fn comment_lookahead_inserts_terminator_first() {
        use TokenKind::*;
        let lexed = lex(b"a = 1 // c\nb = 2");
        assert_eq!(lexed.tokens[3].kind, Terminator);
        assert_eq!(lexed.tokens[3].span.start, 6);
        assert_eq!(lexed.comments.len(), 1);
        assert_eq!(kinds("a /* x */ = 1"), vec![Ident, Assign, Number, Terminator, Eof]);
        assert_eq!(kinds("a /* x */\n= 1"), vec![Ident, Terminator, Assign, Number, Terminator, Eof]);
    }

    #[test]
    fn numbers() {
        use TokenKind::*;
        assert_eq!(kinds("1."), vec![Float, Terminator, Eof]);
        assert_eq!(kinds(".5"), vec![Float, Terminator, Eof]);
        assert_eq!(kinds("1..2"), vec![Float, Float, Terminator, Eof]);
        assert_eq!(kinds("0x10"), vec![Number, Ident, Terminator, Eof]);
        assert_eq!(kinds("1ex"), vec![Float, Ident, Terminator, Eof]);
        assert_eq!(errors("a = 10E"), vec![(4, "exponent has no digits".into())]);
    }

    #[test]
    fn identifiers_and_keywords() {
        use TokenKind::*;
        assert_eq!(kinds("ŝfoo a۰۱۸ true null"), vec![Ident, Ident, Bool, Null, Terminator, Eof]);
        assert_eq!(errors("٣x"), vec![(0, "illegal character U+0663 '٣'".into())]);
        assert!(is_valid_identifier("foo६४"));
        assert!(!is_valid_identifier("true"));
        assert!(!is_valid_identifier("a b"));
    }

    #[test]
    fn string_errors() {
        assert_eq!(errors(r#""\'""#), vec![(2, "unknown escape sequence".into())]);
        assert_eq!(errors(r#""\xg1""#), vec![(2, "illegal character U+0067 'g' in escape sequence".into())]);
        assert_eq!(errors(r#""\uD800""#), vec![(2, "escape sequence is invalid Unicode code point".into())]);
        assert_eq!(errors("\"abc\nd"), vec![(0, "string literal not terminated".into())]);
        assert_eq!(errors("'a'"), vec![(0, "illegal single-quoted string; use double quotes".into())]);
        assert!(errors(r#""\a\b\f\n\r\t\v\\\" \101 \x41 \u0041 \U00000041""#).is_empty());
    }

    #[test]
    fn operator_errors() {
        assert_eq!(errors("a | b"), vec![(3, "missing second | in ||".into())]);
        assert_eq!(errors("# x"), vec![(0, "illegal character U+0023 '#'".into())]);
        assert_eq!(errors("/* x"), vec![(0, "block comment not terminated".into())]);
        assert_eq!(errors("\0"), vec![(0, "illegal character NUL".into()), (0, "illegal character U+0000".into())]);
    }

    #[test]
    fn encoding_errors_are_reported_once_per_character() {
        assert_eq!(errors("a = \"\\x41\u{FEFF}\""), vec![(9, "illegal byte order mark".into())]);
        let messages = |src: &[u8]| -> Vec<(u32, String)> { lex(src).errors.into_iter().map(|e| (e.offset, e.message)).collect() };
        assert_eq!(messages(b"a = \"\\x41\xff\""), vec![(9, "illegal UTF-8 encoding".into())]);
        // Upstream's comment look-ahead rewinds and re-reads, reporting the character again.
        assert_eq!(messages(b"a /* \xff */\n"), vec![(5, "illegal UTF-8 encoding".into()), (5, "illegal UTF-8 encoding".into())]);
    }

    #[test]
    fn bom_is_skipped_only_at_start() {
        assert!(errors("\u{FEFF}a = 1").is_empty());
        assert_eq!(errors("a\u{FEFF}"), vec![(1, "illegal byte order mark".into())]);
    }

    #[test]
    fn comment_groups_split_on_blank_lines_and_tokens() {
        let lexed = lex(b"// a\n// b\n\n// c\nx = 1 // d\n// e");
        assert_eq!(lexed.comment_groups, vec![0..2, 2..3, 3..5]);
        let lexed = lex(b"a = 1\r\n// x\r\n");
        assert_eq!(&*lexed.comments[0].text, "// x");
    }

    #[test]
    fn comment_groups_count_lines_inside_and_between_comments() {
        // A block comment's own lines do not separate it from the next comment.
        assert_eq!(lex(b"/* a\n b */\n// c\n\n// d").comment_groups, vec![0..2, 2..3]);
        // A line of blanks (or a lone carriage return) is a blank line.
        assert_eq!(lex(b"// a\n \t\n// b").comment_groups, vec![0..1, 1..2]);
        assert_eq!(lex(b"// a\r\n\r\n// b").comment_groups, vec![0..1, 1..2]);
        assert_eq!(lex(b"// a\n/* b */ /* c */").comment_groups, vec![0..3]);
    }

    #[test]
    fn strings_past_their_plain_prefix() {
        use TokenKind::*;
        let lexed = lex(b"\"abc\\x41def\" \"ab\xc3\xa9\"");
        assert!(lexed.errors.is_empty());
        let spans: Vec<Span> = lexed.tokens.iter().map(|t| t.span).collect();
        assert_eq!(spans[..2], [Span::new(0, 12), Span::new(13, 19)]);
        assert_eq!(errors("\"ab\0c\""), vec![(3, "illegal character NUL".into())]);
        assert_eq!(errors("x = \"abc"), vec![(4, "string literal not terminated".into())]);
        assert_eq!(kinds("`a\nb\\`\n"), vec![String, Terminator, Eof]);
        assert_eq!(kinds("a = 1\n\t  \r\nb"), vec![Ident, Assign, Number, Terminator, Ident, Terminator, Eof]);
    }
}
