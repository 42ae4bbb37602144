//! OpenMetrics 1.0 text (`application/openmetrics-text`), a faithful port of the grammar,
//! lexer rules and error texts of Prometheus' parser: `# EOF` required, `# UNIT`, timestamps
//! in seconds, one exemplar per sample after ` # `, and `_created` series. The scanning it
//! shares with the Prometheus text format is in [`scan`](super::scan).
//!
//! With [`ParserOptions::skip_created_series`](super::ParserOptions) a `_created` line of a
//! counter, summary or histogram is not reported; its value becomes the start timestamp of the
//! series it belongs to, found by looking ahead as Prometheus does (up to the end of the family
//! block). Lookahead results are remembered until the parser passes the line they stopped at,
//! so the whole input is still read a bounded number of times.

use crate::sample::MetricType;

use super::escape::go_quote;
use super::float::parse_value;
use super::lex::{class, Lexer, Span, State, Tok, LINE};
use super::scan::{seconds_to_ms, Dialect, Kind, Line, Scanner};
use super::{Entry, ParseError};

/// Anything but NUL, newline and space: values and timestamps.
static FIELD: [bool; 256] = class!(|c| !matches!(c, 0 | b'\n' | b' '));

/// OpenMetrics' side of the shared scanning.
pub(crate) struct OpenMetrics;

impl Dialect for OpenMetrics {
    const OPENMETRICS: bool = true;

    /// The next token of the OpenMetrics lexer, from `c` under the cursor.
    fn lex(lx: &mut Lexer<'_>, c: u8) -> Tok {
        match lx.state {
            State::Init => match c {
                b'#' => {
                    if lx.next() != b' ' {
                        return Tok::Invalid;
                    }
                    let c = lx.next();
                    comment(lx, c)
                }
                c => lx.series_start(c),
            },
            State::Comment => comment(lx, c),
            State::Meta1 => lx.meta_name(c),
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
                lx.single(State::Init, Tok::Text)
            }
            // Metric names and label names may hold newlines; exemplar ones may not.
            State::Labels => lx.label_token(c, true, State::LValue, State::Value),
            State::Exemplar => lx.label_token(c, false, State::EValue, State::EValue),
            State::LValue => match c {
                b'"' => lx.string(false, State::Labels, Tok::LValue),
                _ => Tok::Invalid,
            },
            State::Value => match c {
                b' ' => field(lx, State::Timestamp, Tok::Value),
                b'{' => lx.single(State::Labels, Tok::BraceOpen),
                _ => Tok::Invalid,
            },
            State::Timestamp => match c {
                b' ' => {
                    let c = lx.next();
                    if c == b'#' {
                        match lx.next() {
                            b' ' => {
                                if lx.next() == b'{' {
                                    lx.single(State::Exemplar, Tok::Comment)
                                } else {
                                    Tok::Invalid
                                }
                            }
                            c if FIELD[c as usize] => lx.run(&FIELD, State::Timestamp, Tok::Timestamp),
                            _ => Tok::Timestamp,
                        }
                    } else if FIELD[c as usize] {
                        lx.run(&FIELD, State::Timestamp, Tok::Timestamp)
                    } else {
                        Tok::Invalid
                    }
                }
                b'\n' => lx.single(State::Init, Tok::Linebreak),
                _ => Tok::Invalid,
            },
            State::EValue => match c {
                b' ' => field(lx, State::ETimestamp, Tok::Value),
                b'"' => lx.string(false, State::Exemplar, Tok::LValue),
                _ => Tok::Invalid,
            },
            State::ETimestamp => match c {
                b' ' => field(lx, State::ETimestamp, Tok::Timestamp),
                b'\n' => lx.single(State::Init, Tok::Linebreak),
                _ => Tok::Invalid,
            },
        }
    }
}

/// After `# `, `c` under the cursor (state `Comment`): `# EOF`, or `HELP`, `TYPE` or `UNIT`
/// and the space after it.
fn comment(lx: &mut Lexer<'_>, c: u8) -> Tok {
    lx.state = State::Comment;
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
    match word {
        Some(word) => lx.single(State::Meta1, word),
        None => Tok::Invalid,
    }
}

/// After a space: one or more field bytes as `tok`, then `state`; `Invalid` when there are none.
fn field(lx: &mut Lexer<'_>, state: State, tok: Tok) -> Tok {
    if !FIELD[lx.next() as usize] {
        return Tok::Invalid;
    }
    lx.run(&FIELD, state, tok)
}

/// Family state that outlives a line.
#[derive(Clone, Copy, Debug, Default)]
struct Family {
    mtype: MetricType,
    /// Length of the name of the last metadata line: the family name start timestamps are
    /// matched by.
    name_len: usize,
}

/// One line's parse, over either the parser's own scanner or the lookahead's.
struct Cursor<'p, 'a> {
    s: &'p mut Scanner<'a, OpenMetrics>,
    family: &'p mut Family,
    /// Lookahead mode: exemplars are stepped over, not parsed.
    ignore_exemplar: bool,
    skip_created: bool,
}

impl Cursor<'_, '_> {
    fn advance(&mut self) -> Result<Option<Kind>, ParseError> {
        loop {
            self.s.begin_line();
            if !self.ignore_exemplar {
                self.s.line.epairs.clear();
                self.s.line.exemplar = None;
            }
            if self.s.fast_series() {
                if self.skip_created && self.is_created() {
                    continue;
                }
                return Ok(Some(Kind::Series));
            }
            let t = self.s.token();
            match t {
                Tok::EofWord => {
                    if self.s.token() != Tok::Eof {
                        return Err(ParseError::DataAfterEof);
                    }
                    return Ok(None);
                }
                Tok::Eof => return Err(ParseError::MissingEof),
                Tok::Help | Tok::Type | Tok::Unit => return self.metadata(t).map(Some),
                Tok::BraceOpen | Tok::MName => {
                    let t = self.s.series(t)?;
                    self.sample(t)?;
                }
                t => return Err(self.s.unexpected("expected a valid start token", t)),
            }
            if self.skip_created && self.is_created() {
                continue;
            }
            return Ok(Some(Kind::Series));
        }
    }

    fn is_created(&self) -> bool {
        let name = self.s.line.name.unwrap_or_default().of(self.s.lx.b);
        requires_start_timestamp(self.family.mtype) && name.ends_with(b"_created")
    }

    fn metadata(&mut self, t: Tok) -> Result<Kind, ParseError> {
        let name = self.s.meta_name(t)?;
        self.family.name_len = name.len();
        Ok(match self.s.meta_text(t)? {
            Some(mtype) => {
                self.family.mtype = mtype;
                Kind::Type
            }
            None if t == Tok::Help => Kind::Help,
            None => {
                let b = self.s.lx.b;
                let (m, text) = (name.of(b), self.s.line.text.of(b));
                let suffix = m.len() > text.len() && m.ends_with(text) && b[name.end - text.len() - 1] == b'_';
                if !text.is_empty() && !suffix {
                    return Err(ParseError::Invalid(format!("unit {} not a suffix of metric {}", go_quote(text), go_quote(m))));
                }
                Kind::Unit
            }
        })
    }

    /// Value, optional timestamp and optional exemplar after the series.
    fn sample(&mut self, t: Tok) -> Result<(), ParseError> {
        self.s.sample_value(t)?;
        match self.s.token() {
            Tok::Eof => return Err(ParseError::MissingEof),
            Tok::Comment => self.exemplar()?,
            Tok::Timestamp => {
                self.s.line.ts = Some(self.timestamp("timestamp")?);
                match self.s.token() {
                    Tok::Linebreak => {}
                    Tok::Comment => self.exemplar()?,
                    t => return Err(self.s.unexpected("expected next entry after timestamp", t)),
                }
            }
            // Upstream accepts the line here and reports the leftovers with the next one.
            _ => {}
        }
        Ok(())
    }

    /// A timestamp token (seconds) as milliseconds.
    fn timestamp(&self, what: &str) -> Result<i64, ParseError> {
        let field = self.s.field();
        let ts = parse_value(field).map_err(|kind| self.s.number_error(kind, false, field))?;
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
        Ok(seconds_to_ms(ts))
    }

    /// After ` # {`: the exemplar's labels, value and optional timestamp.
    fn exemplar(&mut self) -> Result<(), ParseError> {
        if self.ignore_exemplar {
            loop {
                let before = self.s.lx.i;
                match self.s.token() {
                    Tok::Linebreak => return Ok(()),
                    Tok::Eof => return Err(ParseError::MissingEof),
                    // Upstream would spin here forever; a lookahead just gives up.
                    Tok::Invalid if self.s.lx.i == before => return Err(self.s.unexpected("expected next entry", Tok::Invalid)),
                    _ => {}
                }
            }
        }
        self.s.labels(true)?;
        let t = self.s.token();
        let value = self.s.value(t, "exemplar labels")?;
        let ts = match self.s.token() {
            Tok::Eof => return Err(ParseError::MissingEof),
            Tok::Linebreak => None,
            Tok::Timestamp => {
                let ts = self.timestamp("exemplar timestamp")?;
                let t = self.s.token();
                if t != Tok::Linebreak {
                    return Err(self.s.unexpected("expected next entry after exemplar timestamp", t));
                }
                Some(ts)
            }
            t => return Err(self.s.unexpected("expected timestamp or comment", t)),
        };
        self.s.line.exemplar = Some((value, ts));
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
    pub(super) s: Scanner<'a, OpenMetrics>,
    family: Family,
    skip_created: bool,
    done: bool,
    /// Start timestamp of the current series.
    start_ts: Option<i64>,
    /// The last start timestamp found and the key it was found for.
    cached: Option<i64>,
    cached_key: Vec<u8>,
    lookahead: Option<Lookahead>,
    /// The lookahead's line.
    scratch: Line,
    key: Vec<u8>,
}

impl<'a> OpenMetricsParser<'a> {
    /// `skip_created`: report `_created` lines as start timestamps instead of series.
    pub fn new(b: &'a [u8], skip_created: bool) -> Self {
        OpenMetricsParser {
            s: Scanner::new(b),
            family: Family::default(),
            skip_created,
            done: false,
            start_ts: None,
            cached: None,
            cached_key: Vec::new(),
            lookahead: None,
            scratch: Line::default(),
            key: Vec::new(),
        }
    }

    /// The next entry; `None` at the end (after `# EOF`) and after an error.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<Result<Entry<'_>, ParseError>> {
        if self.done {
            return None;
        }
        let mut cursor = Cursor { s: &mut self.s, family: &mut self.family, ignore_exemplar: false, skip_created: self.skip_created };
        let kind = match cursor.advance() {
            Ok(Some(kind)) => kind,
            end => {
                self.done = true;
                return end.err().map(Err);
            }
        };
        self.start_ts = if kind == Kind::Series && self.skip_created { self.start_timestamp() } else { None };
        Some(Ok(self.s.entry(kind, self.family.mtype, self.start_ts)))
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
        let b = self.s.lx.b;
        self.key.clear();
        push_label_key(&mut self.key, b, &self.s.line.pairs, mtype);
        self.key.extend_from_slice(family_name(b, &self.s.line, self.family.name_len));
        if let Some(st) = self.cached {
            if st > 0 && self.key == self.cached_key {
                return Some(st);
            }
        }
        let fresh = self.lookahead.as_ref().is_some_and(|l| (l.from..l.until).contains(&self.s.line.start));
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
        let mut ahead = self.s.fork(std::mem::take(&mut self.scratch));
        let mtype = self.family.mtype;
        let mut result = self.lookahead.take().unwrap_or_default();
        result.from = self.s.line.start;
        result.found = None;
        result.key.clear();
        let mut cursor = Cursor { s: &mut ahead, family: &mut self.family, ignore_exemplar: true, skip_created: false };
        result.until = loop {
            let line_start = cursor.s.lx.i;
            match cursor.advance() {
                Ok(Some(Kind::Series)) => {
                    let (b, line) = (cursor.s.lx.b, &cursor.s.line);
                    let name = line.name.unwrap_or_default().of(b);
                    let Some(family) = name.strip_suffix(b"_created") else { continue };
                    push_label_key(&mut result.key, b, &line.pairs, mtype);
                    result.key.extend_from_slice(family);
                    result.found = Some(seconds_to_ms(line.value));
                    break line_start;
                }
                _ => break line_start,
            }
        };
        // Metadata lines met on the way change the family name length (as upstream, whose
        // lookahead does not restore it) but not the type.
        self.family.mtype = mtype;
        self.lookahead = Some(result);
        self.scratch = ahead.line;
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
