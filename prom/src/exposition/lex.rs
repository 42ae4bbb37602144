//! The cursor both text lexers share. Its stepping rules are those of the state machines
//! Prometheus generates for its lexers (golex), because error messages quote exactly the bytes
//! the machine had consumed when it gave up: `next` moves one byte on and, in label values,
//! help texts and comments, silently steps over NUL bytes; the end of input reads as byte 0.

use super::ParseError;

/// A lexer token; `name` is what error messages call it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tok {
    Invalid,
    Eof,
    Linebreak,
    Whitespace,
    Help,
    Type,
    Unit,
    EofWord,
    Text,
    Comment,
    MName,
    QString,
    BraceOpen,
    BraceClose,
    LName,
    LValue,
    Comma,
    Equal,
    Timestamp,
    Value,
}

impl Tok {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Tok::Invalid => "INVALID",
            Tok::Eof => "EOF",
            Tok::Linebreak => "LINEBREAK",
            Tok::Whitespace => "WHITESPACE",
            Tok::Help => "HELP",
            Tok::Type => "TYPE",
            Tok::Unit => "UNIT",
            Tok::EofWord => "EOFWORD",
            Tok::Text => "TEXT",
            Tok::Comment => "COMMENT",
            Tok::MName => "MNAME",
            Tok::QString => "QSTRING",
            Tok::BraceOpen => "BOPEN",
            Tok::BraceClose => "BCLOSE",
            Tok::LName => "LNAME",
            Tok::LValue => "LVALUE",
            Tok::Comma => "COMMA",
            Tok::Equal => "EQUAL",
            Tok::Timestamp => "TIMESTAMP",
            Tok::Value => "VALUE",
        }
    }
}

/// Lexer start conditions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    Init,
    Comment,
    Meta1,
    Meta2,
    Labels,
    LValue,
    Value,
    Timestamp,
    Exemplar,
    EValue,
    ETimestamp,
}

/// A byte range of the input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub(crate) fn new(start: usize, end: usize) -> Span {
        Span { start, end: end.max(start) }
    }

    pub(crate) fn len(self) -> usize {
        self.end - self.start
    }

    /// The bytes of `b` in this span (empty when out of range, which spans never are).
    pub(crate) fn of(self, b: &[u8]) -> &[u8] {
        b.get(self.start..self.end).unwrap_or_default()
    }
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Lexer<'a> {
    pub b: &'a [u8],
    /// Input length, plus one when the input reads as if a newline were appended (the
    /// Prometheus text format does that, without copying here).
    pub n: usize,
    pub i: usize,
    pub start: usize,
    pub state: State,
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(b: &'a [u8], trailing_newline: bool) -> Self {
        Lexer { b, n: b.len() + usize::from(trailing_newline), i: 0, start: 0, state: State::Init }
    }

    /// The byte at `i < n` (the appended newline past the real input).
    #[inline]
    pub(crate) fn at(&self, i: usize) -> u8 {
        match self.b.get(i) {
            Some(&c) => c,
            None => b'\n',
        }
    }

    /// The byte under the cursor, 0 at the end.
    #[inline]
    pub(crate) fn cur(&self) -> u8 {
        if self.i < self.n {
            self.at(self.i)
        } else {
            0
        }
    }

    /// Moves one byte on (skipping NULs where the grammar allows them) and returns it; 0 at
    /// the end.
    #[inline]
    pub(crate) fn next(&mut self) -> u8 {
        self.i += 1;
        if self.i >= self.n {
            return 0;
        }
        let mut c = self.at(self.i);
        if c == 0 && matches!(self.state, State::LValue | State::Meta2 | State::Comment) {
            while c == 0 {
                self.i += 1;
                if self.i >= self.n {
                    return 0;
                }
                c = self.at(self.i);
            }
        }
        c
    }

    /// With the byte under the cursor accepted, steps over every following byte in `class`
    /// and returns the first one outside it (the cursor on it). Same result as calling `next`
    /// in a loop; the inner loop is the fast path for ordinary bytes.
    #[inline]
    pub(crate) fn scan(&mut self, class: &[bool; 256]) -> u8 {
        loop {
            let b = self.b;
            let mut j = self.i + 1;
            while j < b.len() && class[b[j] as usize] {
                j += 1;
            }
            self.i = j - 1;
            let c = self.next();
            if !class[c as usize] {
                return c;
            }
        }
    }

    /// With the cursor on an opening `"`, consumes a quoted string; false when it does not
    /// close (the cursor on the offending byte). `newlines` says whether raw newlines may
    /// appear inside.
    #[inline]
    pub(crate) fn quoted(&mut self, newlines: bool) -> bool {
        loop {
            let b = self.b;
            let mut j = self.i + 1;
            while j < b.len() && !QUOTE_STOP[b[j] as usize] {
                j += 1;
            }
            self.i = j - 1;
            match self.next() {
                b'"' => {
                    self.next();
                    return true;
                }
                b'\\' => {
                    let c = self.next();
                    if c == 0 || c == b'\n' {
                        return false;
                    }
                }
                0 => return false,
                b'\n' if !newlines => return false,
                _ => {}
            }
        }
    }

    /// Steps through `word` byte by byte; false at the first mismatch (cursor on it).
    pub(crate) fn keyword(&mut self, word: &[u8]) -> bool {
        word.iter().all(|&w| self.next() == w)
    }

    /// Consumes the byte under the cursor as `tok`, then lexes on in `state`.
    #[inline]
    pub(crate) fn single(&mut self, state: State, tok: Tok) -> Tok {
        self.next();
        self.state = state;
        tok
    }

    /// Consumes the run of `class` bytes from the cursor on as `tok`, then lexes on in `state`.
    #[inline]
    pub(crate) fn run(&mut self, class: &[bool; 256], state: State, tok: Tok) -> Tok {
        self.scan(class);
        self.state = state;
        tok
    }

    /// Consumes blanks: a whitespace token (only the text format has them).
    #[inline]
    pub(crate) fn blanks(&mut self) -> Tok {
        self.scan(&BLANK);
        Tok::Whitespace
    }

    /// With the cursor on `"`: the quoted string as `tok`, then `state`; `Invalid` (the state
    /// kept) when it does not close. `newlines` as for [`Lexer::quoted`].
    #[inline]
    pub(crate) fn string(&mut self, newlines: bool, state: State, tok: Tok) -> Tok {
        if self.quoted(newlines) {
            self.state = state;
            tok
        } else {
            Tok::Invalid
        }
    }

    /// At the start of a line that is not a comment, `c` under the cursor: the `{` or the
    /// metric name that starts a series.
    #[inline]
    pub(crate) fn series_start(&mut self, c: u8) -> Tok {
        match c {
            b'{' => self.single(State::Labels, Tok::BraceOpen),
            c if NAME_START[c as usize] => self.run(&NAME, State::Value, Tok::MName),
            _ => Tok::Invalid,
        }
    }

    /// In `Meta1`, `c` under the cursor: the metric name of a metadata line, plain or quoted.
    #[inline]
    pub(crate) fn meta_name(&mut self, c: u8) -> Tok {
        match c {
            b'"' => self.string(true, State::Meta2, Tok::MName),
            c if NAME_START[c as usize] => self.run(&NAME, State::Meta2, Tok::MName),
            _ => Tok::Invalid,
        }
    }

    /// Inside braces, `c` under the cursor: a label name (plain, or quoted with raw newlines
    /// inside when `newlines`), a comma, `=` (then `value`) or `}` (then `after`).
    #[inline]
    pub(crate) fn label_token(&mut self, c: u8, newlines: bool, value: State, after: State) -> Tok {
        let state = self.state;
        match c {
            b'"' => self.string(newlines, state, Tok::QString),
            b',' => self.single(state, Tok::Comma),
            b'=' => self.single(value, Tok::Equal),
            b'}' => self.single(after, Tok::BraceClose),
            c if LNAME_START[c as usize] => self.run(&LNAME, state, Tok::LName),
            _ => Tok::Invalid,
        }
    }

    /// The current token's span, within the real input.
    #[inline]
    pub(crate) fn token_span(&self) -> Span {
        Span::new(self.start, self.i.min(self.b.len()))
    }

    /// The current token's bytes, within the real input.
    #[inline]
    pub(crate) fn token(&self) -> &'a [u8] {
        self.token_span().of(self.b)
    }

    /// Bytes `from..to` including the appended newline, for error messages.
    pub(crate) fn quote_range(&self, from: usize, to: usize) -> Vec<u8> {
        (from..to.min(self.n)).map(|i| self.at(i)).collect()
    }

    /// Prometheus' parse error: what was expected, the current token plus one byte, and the
    /// line so far plus one byte.
    pub(crate) fn unexpected(&self, line_start: usize, expected: impl Into<String>, got: Tok) -> ParseError {
        let e = self.n.min(self.i + 1);
        ParseError::Unexpected { expected: expected.into(), got: self.quote_range(self.start, e), token: got.name(), context: self.quote_range(line_start, e) }
    }

    /// `while parsing: "<line so far>"` contexts.
    pub(crate) fn context(&self, line_start: usize) -> Vec<u8> {
        self.quote_range(line_start, self.i)
    }
}

/// A byte class as a lookup table, built at compile time.
macro_rules! class {
    (|$c:ident| $e:expr) => {{
        let mut t = [false; 256];
        let mut i = 0;
        while i < 256 {
            let $c = i as u8;
            t[i] = $e;
            i += 1;
        }
        t
    }};
}
pub(crate) use class;

/// Bytes that end the fast path of a quoted string.
static QUOTE_STOP: [bool; 256] = class!(|c| matches!(c, b'"' | b'\\' | 0 | b'\n'));

/// `[a-zA-Z_:]`.
pub(crate) static NAME_START: [bool; 256] = class!(|c| c.is_ascii_alphabetic() || c == b'_' || c == b':');
/// `[a-zA-Z0-9_:]`.
pub(crate) static NAME: [bool; 256] = class!(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b':');
/// `[a-zA-Z_]`.
pub(crate) static LNAME_START: [bool; 256] = class!(|c| c.is_ascii_alphabetic() || c == b'_');
/// `[a-zA-Z0-9_]`.
pub(crate) static LNAME: [bool; 256] = class!(|c| c.is_ascii_alphanumeric() || c == b'_');
/// `[ \t]`.
pub(crate) static BLANK: [bool; 256] = class!(|c| c == b' ' || c == b'\t');
/// `[0-9]`.
pub(crate) static DIGIT: [bool; 256] = class!(|c| c.is_ascii_digit());
/// Anything but NUL and newline.
pub(crate) static LINE: [bool; 256] = class!(|c| c != 0 && c != b'\n');

/// Anything but NUL, blank, newline and `{`: a sample value in the text format, and a value or
/// timestamp in the fast path.
pub(crate) static VALUE: [bool; 256] = class!(|c| !matches!(c, 0 | b' ' | b'\t' | b'\n' | b'{'));

/// A series line read by [`fast_line`].
pub(crate) struct FastLine {
    pub name_end: usize,
    pub series_end: usize,
    pub value: Span,
    pub timestamp: Option<Span>,
    /// Just past the line's newline.
    pub end: usize,
}

/// Reads the common shape of a series line, `name{l="v",…} value[ timestamp]\n` (plain
/// label names, no blanks inside braces, single spaces between fields), straight from the
/// bytes instead of token by token. Every line it accepts lexes to the same spans through the
/// full state machine; on anything else it returns `None` and the caller reads the line the
/// slow way (which also produces the error messages). `timestamp_digits` limits timestamps
/// to digits (text format); `newline_required` refuses a last line without newline
/// (OpenMetrics) instead of reading the end as one.
pub(crate) fn fast_line(b: &[u8], start: usize, pairs: &mut Vec<Span>, timestamp_digits: bool, newline_required: bool) -> Option<FastLine> {
    let n = b.len();
    let mut i = start;
    if !NAME_START[*b.get(i)? as usize] {
        return None;
    }
    i += 1;
    while i < n && NAME[b[i] as usize] {
        i += 1;
    }
    let name_end = i;
    if b.get(i) == Some(&b'{') {
        i += 1;
        loop {
            let c = *b.get(i)?;
            if c == b'}' {
                i += 1;
                break;
            }
            if !LNAME_START[c as usize] {
                return None;
            }
            let name_start = i;
            i += 1;
            while i < n && LNAME[b[i] as usize] {
                i += 1;
            }
            let name_end = i;
            if b.get(i..i + 2) != Some(b"=\"") {
                return None;
            }
            i += 2;
            let value_start = i;
            let mut high = 0u8;
            loop {
                let c = *b.get(i)?;
                if QUOTE_STOP[c as usize] {
                    match c {
                        b'"' => break,
                        b'\\' => {
                            let e = *b.get(i + 1)?;
                            if e == 0 || e == b'\n' {
                                return None;
                            }
                            high |= e;
                            i += 2;
                            continue;
                        }
                        _ => return None,
                    }
                }
                high |= c;
                i += 1;
            }
            if high >= 0x80 && std::str::from_utf8(&b[value_start..i]).is_err() {
                return None;
            }
            pairs.push(Span::new(name_start, name_end));
            pairs.push(Span::new(value_start, i));
            i += 1;
            match b.get(i) {
                Some(b',') => i += 1,
                Some(b'}') => {}
                _ => return None,
            }
        }
    }
    let series_end = i;
    if b.get(i) != Some(&b' ') {
        return None;
    }
    i += 1;
    let value_start = i;
    while i < n && VALUE[b[i] as usize] {
        i += 1;
    }
    if i == value_start {
        return None;
    }
    let value = Span::new(value_start, i);
    let mut timestamp = None;
    if b.get(i) == Some(&b' ') {
        i += 1;
        let ts_start = i;
        let class = if timestamp_digits { &DIGIT } else { &VALUE };
        while i < n && class[b[i] as usize] {
            i += 1;
        }
        if i == ts_start {
            return None;
        }
        timestamp = Some(Span::new(ts_start, i));
    }
    match b.get(i) {
        Some(b'\n') => {}
        None if !newline_required => {}
        _ => return None,
    }
    Some(FastLine { name_end, series_end, value, timestamp, end: i + 1 })
}
