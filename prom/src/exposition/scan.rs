//! The line scanning both text parsers share: a series' metric name and label set, its value,
//! the name and text of a metadata line, the checks and error texts that go with them, and the
//! entries built from a line. Where the two formats differ (which tokens carry the separating
//! space, whether a comma must follow a label, the type names, timestamps in milliseconds or
//! seconds) the parser's [`Dialect`] says how; the scanner is generic over it, so each parser
//! gets its own copy of the hot path with the choices made at compile time.

use std::marker::PhantomData;

use crate::sample::{MetricType, NORMAL_NAN};

use super::escape::{go_quote, to_str, unescape, unescape_str};
use super::float::{parse_int, parse_value, NumberError, NumberErrorKind};
use super::lex::{fast_line, Lexer, Span, State, Tok};
use super::{Entry, ExemplarLabels, ExemplarRef, LabelSource, ParseError, Series};

/// What sets the Prometheus text format and OpenMetrics apart, as far as the shared scanning
/// is concerned: the one flag, and what follows from it, by name.
pub(crate) trait Dialect {
    /// OpenMetrics, or else the Prometheus text format.
    const OPENMETRICS: bool;

    /// Whether the input reads as if a newline were appended (text) rather than needing one at
    /// the end of its last line (OpenMetrics).
    const APPENDED_NEWLINE: bool = !Self::OPENMETRICS;
    /// Bytes a value or timestamp token holds before the number (OpenMetrics' start with the
    /// separating space).
    const FIELD_START: usize = Self::OPENMETRICS as usize;
    /// Bytes a metadata text token holds after the text (OpenMetrics' end with the newline).
    const TEXT_TRAILER: usize = Self::OPENMETRICS as usize;
    /// Whether a pair must be followed by a comma or `}` (text also takes a missing comma).
    const COMMA_REQUIRED: bool = Self::OPENMETRICS;
    /// Whether a help text keeps `\"` as written (text).
    const HELP_KEEPS_QUOTES: bool = !Self::OPENMETRICS;
    /// Whether samples may carry exemplars (OpenMetrics).
    const EXEMPLARS: bool = Self::OPENMETRICS;

    /// The dialect's lexer: the token that starts at the cursor, on `c` (not at the end of the
    /// input). Blanks make tokens of their own only in the text format.
    fn lex(lx: &mut Lexer<'_>, c: u8) -> Tok;
}

/// What an entry is, once its line is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Help,
    Type,
    /// OpenMetrics only.
    Unit,
    /// Prometheus text only.
    Comment,
    Series,
}

/// What the parser knows about the current line.
#[derive(Debug, Default)]
pub(crate) struct Line {
    pub start: usize,
    pub name: Option<Span>,
    /// Label (name, value) spans, alternating, without quotes.
    pub pairs: Vec<Span>,
    pub series_end: usize,
    pub value: f64,
    pub ts: Option<i64>,
    /// Exemplar (name, value) spans and its value and timestamp (OpenMetrics).
    pub epairs: Vec<Span>,
    pub exemplar: Option<(f64, Option<i64>)>,
    pub meta_name: Span,
    /// A metadata line's text, or the whole of a comment line.
    pub text: Span,
}

/// A lexer over the input and the line being read, in one dialect.
pub(crate) struct Scanner<'a, D> {
    pub lx: Lexer<'a>,
    pub line: Line,
    /// Off only in tests that compare the fast path with the state machine.
    pub fast: bool,
    dialect: PhantomData<D>,
}

impl<'a, D: Dialect> Scanner<'a, D> {
    pub fn new(b: &'a [u8]) -> Self {
        Scanner { lx: Lexer::new(b, D::APPENDED_NEWLINE), line: Line { pairs: Vec::with_capacity(16), ..Line::default() }, fast: true, dialect: PhantomData }
    }

    /// A second scanner at the same place in the input, reading into `line`: a lookahead.
    pub fn fork(&self, line: Line) -> Self {
        Scanner { lx: self.lx, line, fast: self.fast, dialect: PhantomData }
    }

    /// The next token that is not a blank.
    #[inline]
    pub fn token(&mut self) -> Tok {
        loop {
            let lx = &mut self.lx;
            if lx.i >= lx.n {
                return Tok::Eof;
            }
            lx.start = lx.i;
            let t = D::lex(lx, lx.at(lx.i));
            if t != Tok::Whitespace {
                return t;
            }
        }
    }

    pub fn unexpected(&self, expected: impl Into<String>, got: Tok) -> ParseError {
        self.lx.unexpected(self.line.start, expected, got)
    }

    /// `{what} while parsing: "{the line so far}"`.
    fn invalid(&self, what: &str) -> ParseError {
        ParseError::Invalid(format!("{what} while parsing: {}", go_quote(&self.lx.context(self.line.start))))
    }

    /// A bad number: `input`, the value or timestamp field that did not parse.
    pub fn number_error(&self, kind: NumberErrorKind, integer: bool, input: &[u8]) -> ParseError {
        ParseError::Number { error: NumberError { kind, integer, input: input.to_vec() }, context: self.lx.context(self.line.start) }
    }

    /// Starts a line at the cursor.
    #[inline]
    pub fn begin_line(&mut self) {
        self.line.start = self.lx.i;
        self.line.pairs.clear();
        self.line.name = None;
    }

    /// Reads a series line of the common shape without the token machine ([`fast_line`]);
    /// false, with nothing consumed, for anything else, which the caller then reads the slow
    /// way (which also reports the errors).
    #[inline]
    pub fn fast_series(&mut self) -> bool {
        if !self.fast || self.lx.state != State::Init {
            return false;
        }
        let b = self.lx.b;
        let start = self.line.start;
        let Some(line) = fast_line(b, start, &mut self.line.pairs, !D::OPENMETRICS, !D::APPENDED_NEWLINE) else {
            self.line.pairs.clear();
            return false;
        };
        let value = parse_value(line.value.of(b));
        let ts = match line.timestamp {
            Some(ts) => fast_timestamp::<D>(ts.of(b)).map(Some),
            None => Some(None),
        };
        let (Ok(value), Some(ts)) = (value, ts) else {
            // The slow path reports the error.
            self.line.pairs.clear();
            return false;
        };
        self.line.name = Some(Span::new(start, line.name_end));
        self.line.series_end = line.series_end;
        self.line.value = normal_nan(value);
        self.line.ts = ts;
        self.lx.i = line.end;
        self.lx.start = line.end - 1;
        true
    }

    /// After a line's first token, a metric name or `{`: the series (name and label set, into
    /// the line); returns the token after it.
    pub fn series(&mut self, first: Tok) -> Result<Tok, ParseError> {
        let mut t = first;
        if t == Tok::MName {
            self.line.name = Some(Span::new(self.line.start, self.lx.i));
            self.line.series_end = self.lx.i;
            t = self.token();
        }
        if t == Tok::BraceOpen {
            self.labels(false)?;
            self.line.series_end = self.lx.i;
            t = self.token();
        }
        Ok(t)
    }

    /// The inside of `{…}` of a series (where a quoted string alone is the metric name) or of
    /// an exemplar, up to and including the `}`; the pairs go to the line.
    pub fn labels(&mut self, exemplar: bool) -> Result<(), ParseError> {
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
                if exemplar {
                    return Err(self.unexpected("expected label name", t));
                }
                if self.line.name.is_some() {
                    return Err(self.invalid("metric name already set"));
                }
                self.line.name = Some(Span::new(name_start + 1, name_end - 1));
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
            let pairs = if exemplar { &mut self.line.epairs } else { &mut self.line.pairs };
            pairs.push(Span::new(name_start, name_end));
            pairs.push(Span::new(self.lx.start + 1, self.lx.i - 1));
            // A trailing comma is allowed; the text format also takes (a known leniency) no
            // comma at all.
            t = self.token();
            if t == Tok::Comma {
                t = self.token();
            } else if D::COMMA_REQUIRED && t != Tok::BraceClose {
                return Err(self.unexpected("expected comma or brace close", t));
            }
        }
    }

    /// After the series, with `t` the next token: the sample value, into the line (the
    /// timestamp reset). A series needs its metric name by now.
    pub fn sample_value(&mut self, t: Tok) -> Result<(), ParseError> {
        if self.line.name.is_none() {
            return Err(self.invalid("metric name not set"));
        }
        self.line.value = self.value(t, "metric")?;
        self.line.ts = None;
        Ok(())
    }

    /// A value token as a float, NaN as the normal NaN; `after` is what it follows, for the
    /// error.
    pub fn value(&self, t: Tok, after: &str) -> Result<f64, ParseError> {
        if t != Tok::Value {
            return Err(self.unexpected(format!("expected value after {after}"), t));
        }
        let field = self.field();
        let v = parse_value(field).map_err(|kind| self.number_error(kind, false, field))?;
        Ok(normal_nan(v))
    }

    /// The number of the current value or timestamp token.
    pub fn field(&self) -> &'a [u8] {
        self.lx.token().get(D::FIELD_START..).unwrap_or_default()
    }

    /// After `# HELP`, `# TYPE` or `# UNIT` (`keyword`): the metric name, into the line.
    pub fn meta_name(&mut self, keyword: Tok) -> Result<Span, ParseError> {
        let t = self.token();
        if t != Tok::MName {
            return Err(self.unexpected(format!("expected metric name after {}", keyword.name()), t));
        }
        self.line.meta_name = unquote(self.lx.b, self.lx.start, self.lx.i);
        Ok(self.line.meta_name)
    }

    /// After the metric name: the text, into the line. A help text must be UTF-8; a type is
    /// returned, and must be one the dialect knows.
    pub fn meta_text(&mut self, keyword: Tok) -> Result<Option<MetricType>, ParseError> {
        let t = self.token();
        if t != Tok::Text {
            return Err(ParseError::Invalid(if D::OPENMETRICS {
                format!("expected text in {}", keyword.name())
            } else {
                format!("expected text in {}, got {}", keyword.name(), t.name())
            }));
        }
        // The token starts with the blank that separates it from the name.
        let tok = self.lx.token_span();
        self.line.text = if tok.len() > 1 { Span::new(tok.start + 1, tok.end - D::TEXT_TRAILER) } else { Span::new(tok.end, tok.end) };
        let text = self.line.text.of(self.lx.b);
        match keyword {
            Tok::Type => match metric_type::<D>(text) {
                Some(mtype) => Ok(Some(mtype)),
                None => Err(ParseError::Invalid(format!("invalid metric type {}", go_quote(text)))),
            },
            Tok::Help if std::str::from_utf8(text).is_err() => Err(ParseError::Invalid(format!("help text {} is not a valid utf8 string", go_quote(text)))),
            _ => Ok(None),
        }
    }

    /// The entry the line read makes: `mtype` is the family type in force, `start_ts` the
    /// series' start timestamp.
    pub fn entry(&self, kind: Kind, mtype: MetricType, start_ts: Option<i64>) -> Entry<'_> {
        let b = self.lx.b;
        let line = &self.line;
        match kind {
            Kind::Help => Entry::Help { metric: unescape_str(line.meta_name.of(b)), text: to_str(unescape(line.text.of(b), D::HELP_KEEPS_QUOTES)) },
            Kind::Type => Entry::Type { metric: unescape_str(line.meta_name.of(b)), metric_type: mtype },
            Kind::Unit => Entry::Unit { metric: unescape_str(line.meta_name.of(b)), unit: String::from_utf8_lossy(line.text.of(b)) },
            Kind::Comment => Entry::Comment(line.text.of(b)),
            Kind::Series => Entry::Series(Series {
                series: Span::new(line.start, line.series_end).of(b),
                value: line.value,
                timestamp_ms: line.ts,
                start_timestamp_ms: start_ts,
                metric_type: mtype,
                labels: LabelSource::Text { buf: b, name: line.name.unwrap_or_default(), pairs: &line.pairs },
                // (Known never to be there in the text format.)
                exemplar: line.exemplar.filter(|_| D::EXEMPLARS).map(|(value, timestamp_ms)| ExemplarRef {
                    value,
                    timestamp_ms,
                    labels: ExemplarLabels::Text { buf: b, pairs: &line.epairs },
                }),
            }),
        }
    }
}

/// The type a `# TYPE` line names: the text format has `untyped`, OpenMetrics `unknown`,
/// `gaugehistogram`, `info` and `stateset`.
fn metric_type<D: Dialect>(word: &[u8]) -> Option<MetricType> {
    let om = D::OPENMETRICS;
    Some(match word {
        b"counter" => MetricType::Counter,
        b"gauge" => MetricType::Gauge,
        b"histogram" => MetricType::Histogram,
        b"summary" => MetricType::Summary,
        b"untyped" if !om => MetricType::Unknown,
        b"unknown" if om => MetricType::Unknown,
        b"gaugehistogram" if om => MetricType::GaugeHistogram,
        b"info" if om => MetricType::Info,
        b"stateset" if om => MetricType::StateSet,
        _ => return None,
    })
}

/// A timestamp field as the fast path reads it, in milliseconds (text: an integer of
/// milliseconds; OpenMetrics: a finite float of seconds); `None` for anything the slow path
/// has to look at (and report).
#[inline]
fn fast_timestamp<D: Dialect>(field: &[u8]) -> Option<i64> {
    if D::OPENMETRICS {
        parse_value(field).ok().filter(|ts| ts.is_finite()).map(seconds_to_ms)
    } else {
        parse_int(field).ok()
    }
}

/// An OpenMetrics timestamp (seconds) in milliseconds.
pub(crate) fn seconds_to_ms(ts: f64) -> i64 {
    (ts * 1000.0) as i64
}

/// Every NaN read as the one NaN Prometheus stores (not the stale marker).
#[inline]
fn normal_nan(v: f64) -> f64 {
    if v.is_nan() {
        NORMAL_NAN
    } else {
        v
    }
}

/// A metric name token without its quotes.
fn unquote(b: &[u8], start: usize, end: usize) -> Span {
    let end = end.min(b.len());
    if end >= start + 2 && b[start] == b'"' && b[end - 1] == b'"' {
        Span::new(start + 1, end - 1)
    } else {
        Span::new(start, end)
    }
}
