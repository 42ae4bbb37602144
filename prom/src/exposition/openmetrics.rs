//! OpenMetrics 1.0 text (`application/openmetrics-text`), a faithful port of the grammar,
//! lexer rules and error texts of Prometheus' parser: `# EOF` required, `# UNIT`, timestamps
//! in seconds, one exemplar per sample after ` # `, and `_created` series.
//!
//! With [`ParserOptions::skip_created_series`](super::ParserOptions) a `_created` line of a
//! counter, summary or histogram is not reported; its value becomes the start timestamp of the
//! series it belongs to, found by looking ahead as Prometheus does (up to the end of the family
//! block). Lookahead results are remembered until the parser passes the line they stopped at,
//! so the whole input is still read a bounded number of times.

use crate::sample::{MetricType, NORMAL_NAN};

use super::escape::{go_quote, to_str, unescape, unescape_str};
use super::float::{parse_value, NumberError, NumberErrorKind};
use super::lex::{fast_line, Lexer, Span, State, Tok, LINE, LNAME, LNAME_START, NAME, NAME_START};
use super::text::unquote;
use super::{Entry, ExemplarLabels, ExemplarRef, LabelSource, ParseError, Series};

/// Anything but NUL, newline and space: values and timestamps.
static FIELD: [bool; 256] = {
    let mut t = [true; 256];
    t[0] = false;
    t[b'\n' as usize] = false;
    t[b' ' as usize] = false;
    t
};

/// The next token of the OpenMetrics lexer.
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
                        if lx.next() != b' ' {
                            return Tok::Invalid;
                        }
                        c = lx.next();
                        lx.state = State::Comment;
                        continue;
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
                    b'E' => {
                        if !lx.keyword(b"OF") {
                            return Tok::Invalid;
                        }
                        if lx.next() == b'\n' {
                            lx.next();
                        }
                        lx.state = State::Init;
                        return Tok::EofWord;
                    }
                    b'H' => lx.keyword(b"ELP ").then_some(Tok::Help),
                    b'T' => lx.keyword(b"YPE ").then_some(Tok::Type),
                    b'U' => lx.keyword(b"NIT ").then_some(Tok::Unit),
                    _ => None,
                };
                return match word {
                    Some(word) => {
                        lx.next();
                        lx.state = State::Meta1;
                        word
                    }
                    None => Tok::Invalid,
                };
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
                    c if NAME_START[c as usize] => {
                        lx.scan(&NAME);
                        lx.state = State::Meta2;
                        Tok::MName
                    }
                    _ => Tok::Invalid,
                };
            }
            State::Meta2 => {
                if c != b' ' {
                    return Tok::Invalid;
                }
                let mut c = lx.next();
                if LINE[c as usize] {
                    c = lx.scan(&LINE);
                }
                if c != b'\n' {
                    return Tok::Invalid;
                }
                lx.next();
                lx.state = State::Init;
                return Tok::Text;
            }
            State::Labels | State::Exemplar => {
                let exemplar = lx.state == State::Exemplar;
                return match c {
                    // Metric names and label names may hold newlines; exemplar ones may not.
                    b'"' => {
                        if lx.quoted(!exemplar) {
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
                        lx.state = if exemplar { State::EValue } else { State::LValue };
                        Tok::Equal
                    }
                    b'}' => {
                        lx.next();
                        lx.state = if exemplar { State::EValue } else { State::Value };
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
                if c == b'"' && lx.quoted(false) {
                    lx.state = State::Labels;
                    return Tok::LValue;
                }
                return Tok::Invalid;
            }
            State::Value => {
                return match c {
                    b' ' => {
                        if field(lx) {
                            lx.state = State::Timestamp;
                            Tok::Value
                        } else {
                            Tok::Invalid
                        }
                    }
                    b'{' => {
                        lx.next();
                        lx.state = State::Labels;
                        Tok::BraceOpen
                    }
                    _ => Tok::Invalid,
                };
            }
            State::Timestamp => {
                return match c {
                    b' ' => {
                        let c = lx.next();
                        if c == b'#' {
                            match lx.next() {
                                b' ' => {
                                    if lx.next() == b'{' {
                                        lx.next();
                                        lx.state = State::Exemplar;
                                        Tok::Comment
                                    } else {
                                        Tok::Invalid
                                    }
                                }
                                c if FIELD[c as usize] => {
                                    lx.scan(&FIELD);
                                    Tok::Timestamp
                                }
                                _ => Tok::Timestamp,
                            }
                        } else if FIELD[c as usize] {
                            lx.scan(&FIELD);
                            Tok::Timestamp
                        } else {
                            Tok::Invalid
                        }
                    }
                    b'\n' => {
                        lx.next();
                        lx.state = State::Init;
                        Tok::Linebreak
                    }
                    _ => Tok::Invalid,
                };
            }
            State::EValue => {
                return match c {
                    b' ' => {
                        if field(lx) {
                            lx.state = State::ETimestamp;
                            Tok::Value
                        } else {
                            Tok::Invalid
                        }
                    }
                    b'"' => {
                        if lx.quoted(false) {
                            lx.state = State::Exemplar;
                            Tok::LValue
                        } else {
                            Tok::Invalid
                        }
                    }
                    _ => Tok::Invalid,
                };
            }
            State::ETimestamp => {
                return match c {
                    b' ' => {
                        if field(lx) {
                            Tok::Timestamp
                        } else {
                            Tok::Invalid
                        }
                    }
                    b'\n' => {
                        lx.next();
                        lx.state = State::Init;
                        Tok::Linebreak
                    }
                    _ => Tok::Invalid,
                };
            }
        }
    }
}

/// After a space: one or more field bytes.
fn field(lx: &mut Lexer<'_>) -> bool {
    let c = lx.next();
    if !FIELD[c as usize] {
        return false;
    }
    lx.scan(&FIELD);
    true
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Help,
    Type,
    Unit,
    Series,
}

/// What the parser knows about the current line.
#[derive(Debug, Default)]
struct Line {
    start: usize,
    name: Option<Span>,
    /// Label (name, value) spans, alternating, without quotes.
    pairs: Vec<Span>,
    series_end: usize,
    value: f64,
    ts: Option<i64>,
    /// Exemplar (name, value) spans and its value and timestamp.
    epairs: Vec<Span>,
    exemplar: Option<(f64, Option<i64>)>,
    meta_name: Span,
    text: Span,
}

/// Family state that outlives a line.
#[derive(Clone, Copy, Debug, Default)]
struct Family {
    mtype: MetricType,
    /// Length of the name of the last metadata line: the family name start timestamps are
    /// matched by.
    name_len: usize,
}

/// One line's parse, over either the parser's own state or a lookahead copy.
struct Cursor<'p, 'a> {
    lx: &'p mut Lexer<'a>,
    line: &'p mut Line,
    family: &'p mut Family,
    /// Lookahead mode: exemplars are stepped over, not parsed.
    ignore_exemplar: bool,
    skip_created: bool,
    fast: bool,
}

impl Cursor<'_, '_> {
    fn unexpected(&self, expected: impl Into<String>, got: Tok) -> ParseError {
        self.lx.unexpected(self.line.start, expected, got)
    }

    fn advance(&mut self) -> Result<Option<Kind>, ParseError> {
        loop {
            self.line.start = self.lx.i;
            self.line.pairs.clear();
            self.line.name = None;
            if !self.ignore_exemplar {
                self.line.epairs.clear();
                self.line.exemplar = None;
            }
            if self.fast && self.lx.state == State::Init && self.fast_series() {
                if self.skip_created && self.is_created() {
                    continue;
                }
                return Ok(Some(Kind::Series));
            }
            let t = lex(self.lx);
            match t {
                Tok::EofWord => {
                    if lex(self.lx) != Tok::Eof {
                        return Err(ParseError::DataAfterEof);
                    }
                    return Ok(None);
                }
                Tok::Eof => return Err(ParseError::MissingEof),
                Tok::Help | Tok::Type | Tok::Unit => return self.metadata(t).map(Some),
                Tok::BraceOpen => {
                    self.labels(false)?;
                    self.line.series_end = self.lx.i;
                    let t = lex(self.lx);
                    self.sample(t)?;
                }
                Tok::MName => {
                    self.line.name = Some(Span::new(self.line.start, self.lx.i));
                    self.line.series_end = self.lx.i;
                    let mut t = lex(self.lx);
                    if t == Tok::BraceOpen {
                        self.labels(false)?;
                        self.line.series_end = self.lx.i;
                        t = lex(self.lx);
                    }
                    self.sample(t)?;
                }
                t => return Err(self.unexpected("expected a valid start token", t)),
            }
            if self.skip_created && self.is_created() {
                continue;
            }
            return Ok(Some(Kind::Series));
        }
    }

    /// The common line shape without the token machine; false (nothing consumed) otherwise.
    #[inline]
    fn fast_series(&mut self) -> bool {
        let b = self.lx.b;
        let start = self.line.start;
        let Some(line) = fast_line(b, start, &mut self.line.pairs, false, true) else {
            self.line.pairs.clear();
            return false;
        };
        let ts = match line.timestamp.map(|t| parse_value(t.of(b))) {
            None => None,
            Some(Ok(ts)) if ts.is_finite() => Some((ts * 1000.0) as i64),
            // The slow path reports the error.
            Some(_) => {
                self.line.pairs.clear();
                return false;
            }
        };
        let Ok(value) = parse_value(line.value.of(b)) else {
            self.line.pairs.clear();
            return false;
        };
        self.line.name = Some(Span::new(start, line.name_end));
        self.line.series_end = line.series_end;
        self.line.value = if value.is_nan() { NORMAL_NAN } else { value };
        self.line.ts = ts;
        self.lx.i = line.end;
        self.lx.start = line.end - 1;
        true
    }

    fn is_created(&self) -> bool {
        let name = self.line.name.unwrap_or_default().of(self.lx.b);
        requires_start_timestamp(self.family.mtype) && name.ends_with(b"_created")
    }

    fn metadata(&mut self, t: Tok) -> Result<Kind, ParseError> {
        let t2 = lex(self.lx);
        if t2 != Tok::MName {
            return Err(self.unexpected(format!("expected metric name after {}", t.name()), t2));
        }
        let name = unquote(self.lx.b, self.lx.start, self.lx.i);
        self.family.name_len = name.len();
        self.line.meta_name = name;
        if lex(self.lx) != Tok::Text {
            return Err(ParseError::Invalid(format!("expected text in {}", t.name())));
        }
        // The text token is the separating space, the text and the newline.
        let tok = Span::new(self.lx.start, self.lx.i.min(self.lx.b.len()));
        self.line.text = if tok.len() > 1 { Span::new(tok.start + 1, tok.end - 1) } else { Span::new(tok.end, tok.end) };
        let b = self.lx.b;
        let text = self.line.text.of(b);
        Ok(match t {
            Tok::Type => {
                self.family.mtype = match text {
                    b"counter" => MetricType::Counter,
                    b"gauge" => MetricType::Gauge,
                    b"histogram" => MetricType::Histogram,
                    b"gaugehistogram" => MetricType::GaugeHistogram,
                    b"summary" => MetricType::Summary,
                    b"info" => MetricType::Info,
                    b"stateset" => MetricType::StateSet,
                    b"unknown" => MetricType::Unknown,
                    _ => return Err(ParseError::Invalid(format!("invalid metric type {}", go_quote(text)))),
                };
                Kind::Type
            }
            Tok::Help => {
                if std::str::from_utf8(text).is_err() {
                    return Err(ParseError::Invalid(format!("help text {} is not a valid utf8 string", go_quote(text))));
                }
                Kind::Help
            }
            _ => {
                let m = name.of(b);
                let suffix = m.len() > text.len() && m.ends_with(text) && b[name.end - text.len() - 1] == b'_';
                if !text.is_empty() && !suffix {
                    return Err(ParseError::Invalid(format!("unit {} not a suffix of metric {}", go_quote(text), go_quote(m))));
                }
                Kind::Unit
            }
        })
    }

    /// The inside of `{…}` of a series (a quoted metric name allowed) or of an exemplar.
    fn labels(&mut self, exemplar: bool) -> Result<(), ParseError> {
        let mut t = lex(self.lx);
        loop {
            let (mut name_start, mut name_end) = (self.lx.start, self.lx.i);
            let quoted = match t {
                Tok::BraceClose => return Ok(()),
                Tok::LName => false,
                Tok::QString => true,
                _ => return Err(self.unexpected("expected label name", t)),
            };
            t = lex(self.lx);
            if quoted && (t == Tok::Comma || t == Tok::BraceClose) {
                if exemplar {
                    return Err(self.unexpected("expected label name", t));
                }
                if self.line.name.is_some() {
                    return Err(ParseError::Invalid(format!("metric name already set while parsing: {}", go_quote(&self.lx.context(self.line.start)))));
                }
                self.line.name = Some(Span::new(name_start + 1, name_end - 1));
                if t == Tok::BraceClose {
                    return Ok(());
                }
                t = lex(self.lx);
                continue;
            }
            if self.lx.b.get(name_start) == Some(&b'"') {
                name_start += 1;
                name_end -= 1;
            }
            if t != Tok::Equal {
                return Err(self.unexpected("expected equal", t));
            }
            let t2 = lex(self.lx);
            if t2 != Tok::LValue {
                return Err(self.unexpected("expected label value", t2));
            }
            let value = self.lx.token();
            if std::str::from_utf8(value).is_err() {
                return Err(ParseError::Invalid(format!("invalid UTF-8 label value: {}", go_quote(value))));
            }
            let pairs = if exemplar { &mut self.line.epairs } else { &mut self.line.pairs };
            pairs.push(Span::new(name_start, name_end));
            pairs.push(Span::new(self.lx.start + 1, self.lx.i - 1));
            t = lex(self.lx);
            if t == Tok::Comma {
                t = lex(self.lx);
            } else if t != Tok::BraceClose {
                return Err(self.unexpected("expected comma or brace close", t));
            }
        }
    }

    /// Value, optional timestamp and optional exemplar after the series.
    fn sample(&mut self, t: Tok) -> Result<(), ParseError> {
        if self.line.name.is_none() {
            return Err(ParseError::Invalid(format!("metric name not set while parsing: {}", go_quote(&self.lx.context(self.line.start)))));
        }
        self.line.value = self.float(t, "metric")?;
        self.line.ts = None;
        match lex(self.lx) {
            Tok::Eof => return Err(ParseError::MissingEof),
            Tok::Comment => self.exemplar()?,
            Tok::Timestamp => {
                self.line.ts = Some(self.timestamp("timestamp")?);
                match lex(self.lx) {
                    Tok::Linebreak => {}
                    Tok::Comment => self.exemplar()?,
                    t => return Err(self.unexpected("expected next entry after timestamp", t)),
                }
            }
            // Upstream accepts the line here and reports the leftovers with the next one.
            _ => {}
        }
        Ok(())
    }

    /// A value token as a float.
    fn float(&self, t: Tok, after: &str) -> Result<f64, ParseError> {
        if t != Tok::Value {
            return Err(self.unexpected(format!("expected value after {after}"), t));
        }
        let tok = self.lx.token();
        let v = parse_value(tok.get(1..).unwrap_or_default()).map_err(|kind| self.number_error(kind, tok))?;
        Ok(if v.is_nan() { NORMAL_NAN } else { v })
    }

    /// A timestamp token (seconds) as milliseconds.
    fn timestamp(&self, what: &str) -> Result<i64, ParseError> {
        let tok = self.lx.token();
        let ts = parse_value(tok.get(1..).unwrap_or_default()).map_err(|kind| self.number_error(kind, tok))?;
        if !ts.is_finite() {
            let shown = if ts.is_nan() {
                "NaN"
            } else if ts > 0.0 {
                "+Inf"
            } else {
                "-Inf"
            };
            return Err(ParseError::Invalid(format!("invalid {what} {shown}")));
        }
        Ok((ts * 1000.0) as i64)
    }

    fn number_error(&self, kind: NumberErrorKind, tok: &[u8]) -> ParseError {
        let input = tok.get(1..).unwrap_or_default().to_vec();
        ParseError::Number { error: NumberError { kind, integer: false, input }, context: self.lx.context(self.line.start) }
    }

    /// After ` # {`: the exemplar's labels, value and optional timestamp.
    fn exemplar(&mut self) -> Result<(), ParseError> {
        if self.ignore_exemplar {
            loop {
                let before = self.lx.i;
                match lex(self.lx) {
                    Tok::Linebreak => return Ok(()),
                    Tok::Eof => return Err(ParseError::MissingEof),
                    // Upstream would spin here forever; a lookahead just gives up.
                    Tok::Invalid if self.lx.i == before => return Err(self.unexpected("expected next entry", Tok::Invalid)),
                    _ => {}
                }
            }
        }
        self.labels(true)?;
        let t = lex(self.lx);
        let value = self.float(t, "exemplar labels")?;
        let ts = match lex(self.lx) {
            Tok::Eof => return Err(ParseError::MissingEof),
            Tok::Linebreak => None,
            Tok::Timestamp => {
                let ts = self.timestamp("exemplar timestamp")?;
                let t = lex(self.lx);
                if t != Tok::Linebreak {
                    return Err(self.unexpected("expected next entry after exemplar timestamp", t));
                }
                Some(ts)
            }
            t => return Err(self.unexpected("expected timestamp or comment", t)),
        };
        self.line.exemplar = Some((value, ts));
        Ok(())
    }
}

/// Families whose series may have a `_created` start timestamp.
fn requires_start_timestamp(t: MetricType) -> bool {
    matches!(t, MetricType::Counter | MetricType::Summary | MetricType::Histogram)
}

/// Where a lookahead for a `_created` line stopped and what it found there.
#[derive(Debug, Default)]
struct Lookahead {
    /// Valid for lines starting in `from..until`.
    from: usize,
    until: usize,
    /// The `_created` line's matching key and start timestamp.
    found: Option<i64>,
    key: Vec<u8>,
}

/// A pull parser over one OpenMetrics exposition.
pub struct OpenMetricsParser<'a> {
    lx: Lexer<'a>,
    line: Line,
    family: Family,
    skip_created: bool,
    done: bool,
    /// Start timestamp of the current series.
    start_ts: Option<i64>,
    /// The last start timestamp found and the key it was found for.
    cached: Option<i64>,
    cached_key: Vec<u8>,
    lookahead: Option<Lookahead>,
    scratch: Line,
    key: Vec<u8>,
    /// Off only in tests that compare the fast path with the state machine.
    fast: bool,
}

impl<'a> OpenMetricsParser<'a> {
    /// `skip_created`: report `_created` lines as start timestamps instead of series.
    pub fn new(b: &'a [u8], skip_created: bool) -> Self {
        OpenMetricsParser {
            lx: Lexer::new(b, false),
            line: Line { pairs: Vec::with_capacity(16), ..Line::default() },
            family: Family::default(),
            skip_created,
            done: false,
            start_ts: None,
            cached: None,
            cached_key: Vec::new(),
            lookahead: None,
            scratch: Line::default(),
            key: Vec::new(),
            fast: true,
        }
    }

    #[cfg(test)]
    pub(crate) fn without_fast_path(mut self) -> Self {
        self.fast = false;
        self
    }

    /// The next entry; `None` at the end (after `# EOF`) and after an error.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<Result<Entry<'_>, ParseError>> {
        if self.done {
            return None;
        }
        let mut cursor = Cursor {
            lx: &mut self.lx,
            line: &mut self.line,
            family: &mut self.family,
            ignore_exemplar: false,
            skip_created: self.skip_created,
            fast: self.fast,
        };
        match cursor.advance() {
            Ok(Some(kind)) => {
                self.start_ts = if kind == Kind::Series && self.skip_created { self.start_timestamp() } else { None };
                Some(Ok(self.entry(kind)))
            }
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
        let line = &self.line;
        match kind {
            Kind::Help => Entry::Help { metric: unescape_str(line.meta_name.of(b)), text: to_str(unescape(line.text.of(b), false)) },
            Kind::Type => Entry::Type { metric: unescape_str(line.meta_name.of(b)), metric_type: self.family.mtype },
            Kind::Unit => Entry::Unit { metric: unescape_str(line.meta_name.of(b)), unit: String::from_utf8_lossy(line.text.of(b)) },
            Kind::Series => Entry::Series(Series {
                series: Span::new(line.start, line.series_end).of(b),
                value: line.value,
                timestamp_ms: line.ts,
                start_timestamp_ms: self.start_ts,
                metric_type: self.family.mtype,
                labels: LabelSource::Text { buf: b, name: line.name.unwrap_or_default(), pairs: &line.pairs },
                exemplar: line.exemplar.map(|(value, timestamp_ms)| ExemplarRef {
                    value,
                    timestamp_ms,
                    labels: ExemplarLabels::Text { buf: b, pairs: &line.epairs },
                }),
            }),
        }
    }

    /// The start timestamp of the current series from a later `_created` line of the same
    /// family block, matched (as upstream) on the family name and the labels other than
    /// `quantile`/`le`.
    fn start_timestamp(&mut self) -> Option<i64> {
        let mtype = self.family.mtype;
        if !requires_start_timestamp(mtype) {
            self.cached = None;
            return None;
        }
        let b = self.lx.b;
        self.key.clear();
        push_label_key(&mut self.key, b, &self.line.pairs, mtype);
        self.key.extend_from_slice(family_name(b, &self.line, self.family.name_len));
        if let Some(st) = self.cached {
            if st > 0 && self.key == self.cached_key {
                return Some(st);
            }
        }
        let fresh = self.lookahead.as_ref().is_some_and(|l| (l.from..l.until).contains(&self.line.start));
        if !fresh {
            self.look_ahead();
        }
        let found = self.lookahead.as_ref().and_then(|l| l.found.filter(|_| l.key == self.key));
        match found {
            Some(st) => {
                self.cached = Some(st);
                std::mem::swap(&mut self.cached_key, &mut self.key);
                (st != 0).then_some(st)
            }
            None => {
                self.cached = None;
                None
            }
        }
    }

    /// Reads on from the current line to the first `_created` series, or to the end of the
    /// family block (any other entry, an error, the end).
    fn look_ahead(&mut self) {
        let mut lx = self.lx;
        let mtype = self.family.mtype;
        let mut result = self.lookahead.take().unwrap_or_default();
        result.from = self.line.start;
        result.found = None;
        result.key.clear();
        let mut cursor = Cursor { lx: &mut lx, line: &mut self.scratch, family: &mut self.family, ignore_exemplar: true, skip_created: false, fast: self.fast };
        result.until = loop {
            let line_start = cursor.lx.i;
            match cursor.advance() {
                Ok(Some(Kind::Series)) => {
                    let name = cursor.line.name.unwrap_or_default().of(cursor.lx.b);
                    let Some(family) = name.strip_suffix(b"_created") else { continue };
                    push_label_key(&mut result.key, cursor.lx.b, &cursor.line.pairs, mtype);
                    result.key.extend_from_slice(family);
                    result.found = Some((cursor.line.value * 1000.0) as i64);
                    break line_start;
                }
                _ => break line_start,
            }
        };
        // Metadata lines met on the way change the family name length (as upstream, whose
        // lookahead does not restore it) but not the type.
        self.family.mtype = mtype;
        self.lookahead = Some(result);
    }
}

/// The label part of a start-timestamp key: names and raw values, without `quantile` for
/// summaries and `le` for histograms.
fn push_label_key(key: &mut Vec<u8>, b: &[u8], pairs: &[Span], mtype: MetricType) {
    for p in pairs.chunks_exact(2) {
        let name = p[0].of(b);
        if (mtype == MetricType::Summary && name == b"quantile") || (mtype == MetricType::Histogram && name == b"le") {
            continue;
        }
        key.extend_from_slice(name);
        key.extend_from_slice(p[1].of(b));
    }
}

/// The family name of the current series as upstream takes it: as many bytes of the series
/// as the last metadata line's name had, from the metric name on.
fn family_name<'b>(b: &'b [u8], line: &Line, len: usize) -> &'b [u8] {
    let name = line.name.unwrap_or_default();
    let utf8 = b.get(line.start) == Some(&b'{') && b.get(line.start + 1) == Some(&b'"');
    let begin = name.start;
    let end = line.start + if utf8 { len + 2 } else { len };
    Span::new(begin, end.min(b.len())).of(b)
}
