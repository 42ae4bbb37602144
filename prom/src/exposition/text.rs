//! The Prometheus text format, versions 0.0.4 and 1.0.0 (quoted UTF-8 names).
//!
//! A faithful port of the grammar and lexer rules of Prometheus' parser, including its
//! leniencies (blanks around tokens inside braces, a trailing comma, a missing comma between
//! labels) and its error texts. The input is read as if it ended with a newline, as upstream
//! appends one, without copying it.

use crate::sample::{MetricType, NORMAL_NAN};

use super::escape::{go_quote, to_str, unescape, unescape_str};
use super::float::{parse_int, parse_value, NumberError};
use super::lex::{fast_line, Lexer, Span, State, Tok, BLANK, DIGIT, LINE, LNAME, LNAME_START, NAME, NAME_START};
use super::{Entry, LabelSource, ParseError, Series};

/// Everything but NUL, tab, newline, space and `{`: a sample value.
static VALUE: [bool; 256] = {
    let mut t = [true; 256];
    t[0] = false;
    t[b'\t' as usize] = false;
    t[b'\n' as usize] = false;
    t[b' ' as usize] = false;
    t[b'{' as usize] = false;
    t
};

/// Help text: anything but NUL, tab, newline and space (first byte); then [`LINE`].
static TEXT_START: [bool; 256] = {
    let mut t = [true; 256];
    t[0] = false;
    t[b'\t' as usize] = false;
    t[b'\n' as usize] = false;
    t[b' ' as usize] = false;
    t
};

/// The next token of the Prometheus text lexer.
fn lex(lx: &mut Lexer<'_>) -> Tok {
    if lx.i >= lx.n {
        return Tok::Eof;
    }
    let mut c = lx.at(lx.i);
    lx.start = lx.i;
    loop {
        match lx.state {
            State::Init => {
                return match c {
                    b'#' => {
                        c = lx.next();
                        if BLANK[c as usize] {
                            c = lx.scan(&BLANK);
                            lx.state = State::Comment;
                            continue;
                        }
                        consume_comment(lx)
                    }
                    b'\n' => {
                        lx.next();
                        Tok::Linebreak
                    }
                    b' ' | b'\t' => {
                        lx.scan(&BLANK);
                        Tok::Whitespace
                    }
                    0 => {
                        lx.next();
                        Tok::Eof
                    }
                    b'{' => {
                        lx.next();
                        lx.state = State::Labels;
                        Tok::BraceOpen
                    }
                    c if NAME_START[c as usize] => {
                        lx.scan(&NAME);
                        lx.state = State::Value;
                        Tok::MName
                    }
                    _ => Tok::Invalid,
                };
            }
            State::Comment => {
                let word = match c {
                    b'H' => lx.keyword(b"ELP").then_some(Tok::Help),
                    b'T' => lx.keyword(b"YPE").then_some(Tok::Type),
                    b' ' | b'\t' => {
                        lx.scan(&BLANK);
                        return Tok::Whitespace;
                    }
                    _ => None,
                };
                if let Some(word) = word {
                    if BLANK[lx.next() as usize] {
                        lx.scan(&BLANK);
                        lx.state = State::Meta1;
                        return word;
                    }
                }
                // Anything else starting with `# ` is a comment.
                return consume_comment(lx);
            }
            State::Meta1 => {
                return match c {
                    b'"' => {
                        if lx.quoted(true) {
                            lx.state = State::Meta2;
                            Tok::MName
                        } else {
                            Tok::Invalid
                        }
                    }
                    b' ' | b'\t' => {
                        lx.scan(&BLANK);
                        Tok::Whitespace
                    }
                    c if NAME_START[c as usize] => {
                        lx.scan(&NAME);
                        lx.state = State::Meta2;
                        Tok::MName
                    }
                    _ => Tok::Invalid,
                };
            }
            State::Meta2 => {
                if BLANK[c as usize] {
                    c = lx.scan(&BLANK);
                    if !TEXT_START[c as usize] {
                        return Tok::Whitespace;
                    }
                }
                if TEXT_START[c as usize] {
                    lx.scan(&LINE);
                }
                lx.state = State::Init;
                return Tok::Text;
            }
            State::Labels => {
                return match c {
                    b'"' => {
                        if lx.quoted(true) {
                            Tok::QString
                        } else {
                            Tok::Invalid
                        }
                    }
                    b',' => {
                        lx.next();
                        Tok::Comma
                    }
                    b'=' => {
                        lx.next();
                        lx.state = State::LValue;
                        Tok::Equal
                    }
                    b' ' | b'\t' => {
                        lx.scan(&BLANK);
                        Tok::Whitespace
                    }
                    b'}' => {
                        lx.next();
                        lx.state = State::Value;
                        Tok::BraceClose
                    }
                    c if LNAME_START[c as usize] => {
                        lx.scan(&LNAME);
                        Tok::LName
                    }
                    _ => Tok::Invalid,
                };
            }
            State::LValue => {
                return match c {
                    b'"' => {
                        if lx.quoted(true) {
                            lx.state = State::Labels;
                            Tok::LValue
                        } else {
                            Tok::Invalid
                        }
                    }
                    b' ' | b'\t' => {
                        lx.scan(&BLANK);
                        Tok::Whitespace
                    }
                    _ => Tok::Invalid,
                };
            }
            State::Value => {
                return match c {
                    b' ' | b'\t' => {
                        lx.scan(&BLANK);
                        Tok::Whitespace
                    }
                    b'{' => {
                        lx.next();
                        lx.state = State::Labels;
                        Tok::BraceOpen
                    }
                    c if VALUE[c as usize] => {
                        lx.scan(&VALUE);
                        lx.state = State::Timestamp;
                        Tok::Value
                    }
                    _ => Tok::Invalid,
                };
            }
            State::Timestamp => {
                return match c {
                    b'\n' => {
                        lx.next();
                        lx.state = State::Init;
                        Tok::Linebreak
                    }
                    b' ' | b'\t' => {
                        lx.scan(&BLANK);
                        Tok::Whitespace
                    }
                    c if c.is_ascii_digit() => {
                        lx.scan(&DIGIT);
                        Tok::Timestamp
                    }
                    _ => Tok::Invalid,
                };
            }
            // OpenMetrics-only states never occur here.
            State::Exemplar | State::EValue | State::ETimestamp => return Tok::Invalid,
        }
    }
}

/// The rest of a comment line: a comment token ending before the newline, or EOF at a NUL.
fn consume_comment(lx: &mut Lexer<'_>) -> Tok {
    let mut c = lx.cur();
    loop {
        match c {
            0 => return Tok::Eof,
            b'\n' => {
                lx.state = State::Init;
                return Tok::Comment;
            }
            _ => c = lx.next(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Help,
    Type,
    Comment,
    Series,
}

/// A pull parser over one Prometheus text exposition.
pub struct TextParser<'a> {
    lx: Lexer<'a>,
    /// Where the current line started.
    start: usize,
    name: Option<Span>,
    /// Label (name, value) spans, alternating, without quotes.
    pairs: Vec<Span>,
    series_end: usize,
    value: f64,
    ts: Option<i64>,
    /// The family type of the last `# TYPE` line.
    mtype: MetricType,
    meta_name: Span,
    text: Span,
    done: bool,
    /// Off only in tests that compare the fast path with the state machine.
    fast: bool,
}

impl<'a> TextParser<'a> {
    pub fn new(b: &'a [u8]) -> Self {
        TextParser {
            lx: Lexer::new(b, true),
            start: 0,
            name: None,
            pairs: Vec::with_capacity(16),
            series_end: 0,
            value: 0.0,
            ts: None,
            mtype: MetricType::Unknown,
            meta_name: Span::default(),
            text: Span::default(),
            done: false,
            fast: true,
        }
    }

    #[cfg(test)]
    pub(crate) fn without_fast_path(mut self) -> Self {
        self.fast = false;
        self
    }

    /// The next entry; `None` at the end and after an error.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<Result<Entry<'_>, ParseError>> {
        if self.done {
            return None;
        }
        match self.advance() {
            Ok(Some(kind)) => Some(Ok(self.entry(kind))),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }

    fn entry(&self, kind: Kind) -> Entry<'_> {
        let b = self.lx.b;
        match kind {
            Kind::Help => Entry::Help { metric: unescape_str(self.meta_name.of(b)), text: to_str(unescape(self.text.of(b), true)) },
            Kind::Type => Entry::Type { metric: unescape_str(self.meta_name.of(b)), metric_type: self.mtype },
            Kind::Comment => Entry::Comment(self.text.of(b)),
            Kind::Series => Entry::Series(Series {
                series: Span::new(self.start, self.series_end).of(b),
                value: self.value,
                timestamp_ms: self.ts,
                start_timestamp_ms: None,
                metric_type: self.mtype,
                labels: LabelSource::Text { buf: b, name: self.name.unwrap_or_default(), pairs: &self.pairs },
                exemplar: None,
            }),
        }
    }

    /// The next non-blank token.
    #[inline]
    fn token(&mut self) -> Tok {
        loop {
            let t = lex(&mut self.lx);
            if t != Tok::Whitespace {
                return t;
            }
        }
    }

    fn unexpected(&self, expected: impl Into<String>, got: Tok) -> ParseError {
        self.lx.unexpected(self.start, expected, got)
    }

    fn advance(&mut self) -> Result<Option<Kind>, ParseError> {
        loop {
            self.start = self.lx.i;
            self.pairs.clear();
            self.name = None;
            if self.fast && self.lx.state == State::Init && self.fast_series() {
                return Ok(Some(Kind::Series));
            }
            let t = self.token();
            match t {
                Tok::Eof => return Ok(None),
                Tok::Linebreak => continue,
                Tok::Help | Tok::Type => return self.metadata(t).map(Some),
                Tok::Comment => {
                    self.text = Span::new(self.lx.start, self.lx.i.min(self.lx.b.len()));
                    let t = self.token();
                    if t != Tok::Linebreak {
                        return Err(self.unexpected("linebreak expected after comment", t));
                    }
                    return Ok(Some(Kind::Comment));
                }
                Tok::BraceOpen => {
                    self.labels()?;
                    self.series_end = self.lx.i;
                    let t = self.token();
                    self.sample(t)?;
                    return Ok(Some(Kind::Series));
                }
                Tok::MName => {
                    self.name = Some(Span::new(self.start, self.lx.i));
                    self.series_end = self.lx.i;
                    let mut t = self.token();
                    if t == Tok::BraceOpen {
                        self.labels()?;
                        self.series_end = self.lx.i;
                        t = self.token();
                    }
                    self.sample(t)?;
                    return Ok(Some(Kind::Series));
                }
                t => return Err(self.unexpected("expected a valid start token", t)),
            }
        }
    }

    /// The common line shape without the token machine; false (nothing consumed) otherwise.
    #[inline]
    fn fast_series(&mut self) -> bool {
        let b = self.lx.b;
        let Some(line) = fast_line(b, self.start, &mut self.pairs, true, false) else {
            self.pairs.clear();
            return false;
        };
        let (Ok(value), Ok(ts)) = (parse_value(line.value.of(b)), line.timestamp.map(|t| parse_int(t.of(b))).transpose()) else {
            // The slow path reports the error.
            self.pairs.clear();
            return false;
        };
        self.name = Some(Span::new(self.start, line.name_end));
        self.series_end = line.series_end;
        self.value = if value.is_nan() { NORMAL_NAN } else { value };
        self.ts = ts;
        self.lx.i = line.end;
        self.lx.start = line.end - 1;
        true
    }

    fn metadata(&mut self, t: Tok) -> Result<Kind, ParseError> {
        let t2 = self.token();
        if t2 != Tok::MName {
            return Err(self.unexpected(format!("expected metric name after {}", t.name()), t2));
        }
        self.meta_name = unquote(self.lx.b, self.lx.start, self.lx.i);
        let t3 = self.token();
        if t3 != Tok::Text {
            return Err(ParseError::Invalid(format!("expected text in {}, got {}", t.name(), t3.name())));
        }
        let tok = Span::new(self.lx.start, self.lx.i.min(self.lx.b.len()));
        // The text token starts with the blank that separates it from the name.
        self.text = if tok.len() > 1 { Span::new(tok.start + 1, tok.end) } else { Span::new(tok.end, tok.end) };
        let text = self.text.of(self.lx.b);
        let kind = if t == Tok::Type {
            self.mtype = match text {
                b"counter" => MetricType::Counter,
                b"gauge" => MetricType::Gauge,
                b"histogram" => MetricType::Histogram,
                b"summary" => MetricType::Summary,
                b"untyped" => MetricType::Unknown,
                _ => return Err(ParseError::Invalid(format!("invalid metric type {}", go_quote(text)))),
            };
            Kind::Type
        } else {
            if std::str::from_utf8(text).is_err() {
                return Err(ParseError::Invalid(format!("help text {} is not a valid utf8 string", go_quote(text))));
            }
            Kind::Help
        };
        let t = self.token();
        if t != Tok::Linebreak {
            return Err(self.unexpected("linebreak expected after metadata", t));
        }
        Ok(kind)
    }

    /// The inside of `{…}`: labels, and in 1.0.0 a quoted metric name.
    fn labels(&mut self) -> Result<(), ParseError> {
        let mut t = self.token();
        loop {
            let (mut name_start, mut name_end) = (self.lx.start, self.lx.i);
            let quoted = match t {
                Tok::BraceClose => return Ok(()),
                Tok::LName => false,
                Tok::QString => true,
                _ => return Err(self.unexpected("expected label name", t)),
            };
            t = self.token();
            // A quoted string followed by a comma or brace is the metric name.
            if quoted && (t == Tok::Comma || t == Tok::BraceClose) {
                if self.name.is_some() {
                    return Err(ParseError::Invalid(format!("metric name already set while parsing: {}", go_quote(&self.lx.context(self.start)))));
                }
                self.name = Some(Span::new(name_start + 1, name_end - 1));
                if t == Tok::BraceClose {
                    return Ok(());
                }
                t = self.token();
                continue;
            }
            if self.lx.b.get(name_start) == Some(&b'"') {
                name_start += 1;
                name_end -= 1;
            }
            if t != Tok::Equal {
                return Err(self.unexpected("expected equal", t));
            }
            let t2 = self.token();
            if t2 != Tok::LValue {
                return Err(self.unexpected("expected label value", t2));
            }
            let value = self.lx.token();
            if std::str::from_utf8(value).is_err() {
                return Err(ParseError::Invalid(format!("invalid UTF-8 label value: {}", go_quote(value))));
            }
            self.pairs.push(Span::new(name_start, name_end));
            self.pairs.push(Span::new(self.lx.start + 1, self.lx.i - 1));
            // A trailing comma is allowed, and (a known leniency) so is no comma at all.
            t = self.token();
            if t == Tok::Comma {
                t = self.token();
            }
        }
    }

    /// Value and optional timestamp after the series.
    fn sample(&mut self, t: Tok) -> Result<(), ParseError> {
        if self.name.is_none() {
            return Err(ParseError::Invalid(format!("metric name not set while parsing: {}", go_quote(&self.lx.context(self.start)))));
        }
        if t != Tok::Value {
            return Err(self.unexpected("expected value after metric", t));
        }
        let tok = self.lx.token();
        let v = parse_value(tok).map_err(|kind| self.number_error(kind, false, tok))?;
        self.value = if v.is_nan() { NORMAL_NAN } else { v };
        self.ts = None;
        match self.token() {
            Tok::Linebreak => {}
            Tok::Timestamp => {
                let tok = self.lx.token();
                self.ts = Some(parse_int(tok).map_err(|kind| self.number_error(kind, true, tok))?);
                let t2 = self.token();
                if t2 != Tok::Linebreak {
                    return Err(self.unexpected("expected next entry after timestamp", t2));
                }
            }
            t => return Err(self.unexpected("expected timestamp or new record", t)),
        }
        Ok(())
    }

    fn number_error(&self, kind: super::float::NumberErrorKind, integer: bool, input: &[u8]) -> ParseError {
        ParseError::Number { error: NumberError { kind, integer, input: input.to_vec() }, context: self.lx.context(self.start) }
    }
}

/// A metric name token without its quotes.
pub(crate) fn unquote(b: &[u8], start: usize, end: usize) -> Span {
    let end = end.min(b.len());
    if end >= start + 2 && b[start] == b'"' && b[end - 1] == b'"' {
        Span::new(start + 1, end - 1)
    } else {
        Span::new(start, end)
    }
}
