//! The Prometheus text format, versions 0.0.4 and 1.0.0 (quoted UTF-8 names).
//!
//! A faithful port of the grammar and lexer rules of Prometheus' parser, including its
//! leniencies (blanks around tokens inside braces, a trailing comma, a missing comma between
//! labels) and its error texts. The input is read as if it ended with a newline, as upstream
//! appends one, without copying it. The scanning it shares with OpenMetrics is in
//! [`scan`](super::scan).

use crate::sample::MetricType;

use super::float::parse_int;
use super::lex::{class, Lexer, State, Tok, BLANK, DIGIT, LINE, VALUE};
use super::scan::{Dialect, Kind, Scanner};
use super::{Entry, ParseError};

/// Help text: anything but NUL, tab, newline and space (first byte); then [`LINE`].
static TEXT_START: [bool; 256] = class!(|c| !matches!(c, 0 | b'\t' | b'\n' | b' '));

/// The Prometheus text format's side of the shared scanning.
pub(crate) struct PrometheusText;

impl Dialect for PrometheusText {
    const OPENMETRICS: bool = false;

    /// The next token of the Prometheus text lexer, from `c` under the cursor.
    fn lex(lx: &mut Lexer<'_>, c: u8) -> Tok {
        // Blanks make a token of their own, except where a help or type text starts.
        if BLANK[c as usize] && lx.state != State::Meta2 {
            return lx.blanks();
        }
        match lx.state {
            State::Init => match c {
                b'\n' => lx.single(State::Init, Tok::Linebreak),
                0 => lx.single(State::Init, Tok::Eof),
                b'#' => {
                    let c = lx.next();
                    if !BLANK[c as usize] {
                        return consume_comment(lx);
                    }
                    let c = lx.scan(&BLANK);
                    comment(lx, c)
                }
                c => lx.series_start(c),
            },
            State::Comment => comment(lx, c),
            State::Meta1 => lx.meta_name(c),
            State::Meta2 => {
                let mut c = c;
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
                Tok::Text
            }
            State::Labels => lx.label_token(c, true, State::LValue, State::Value),
            State::LValue => match c {
                b'"' => lx.string(true, State::Labels, Tok::LValue),
                _ => Tok::Invalid,
            },
            State::Value => match c {
                b'{' => lx.single(State::Labels, Tok::BraceOpen),
                c if VALUE[c as usize] => lx.run(&VALUE, State::Timestamp, Tok::Value),
                _ => Tok::Invalid,
            },
            State::Timestamp => match c {
                b'\n' => lx.single(State::Init, Tok::Linebreak),
                c if c.is_ascii_digit() => lx.run(&DIGIT, State::Timestamp, Tok::Timestamp),
                _ => Tok::Invalid,
            },
            // OpenMetrics-only states never occur here.
            State::Exemplar | State::EValue | State::ETimestamp => Tok::Invalid,
        }
    }
}

/// After `#` and blanks, `c` under the cursor (state `Comment`): `HELP` or `TYPE` and the
/// blanks after it, or else a comment.
fn comment(lx: &mut Lexer<'_>, c: u8) -> Tok {
    lx.state = State::Comment;
    let word = match c {
        b'H' => lx.keyword(b"ELP").then_some(Tok::Help),
        b'T' => lx.keyword(b"YPE").then_some(Tok::Type),
        _ => None,
    };
    if let Some(word) = word {
        if BLANK[lx.next() as usize] {
            return lx.run(&BLANK, State::Meta1, word);
        }
    }
    // Anything else starting with `# ` is a comment.
    consume_comment(lx)
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

/// A pull parser over one Prometheus text exposition.
pub struct TextParser<'a> {
    pub(super) s: Scanner<'a, PrometheusText>,
    /// The family type of the last `# TYPE` line.
    mtype: MetricType,
    done: bool,
}

impl<'a> TextParser<'a> {
    pub fn new(b: &'a [u8]) -> Self {
        TextParser { s: Scanner::new(b), mtype: MetricType::Unknown, done: false }
    }

    /// The next entry; `None` at the end and after an error.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<Result<Entry<'_>, ParseError>> {
        if self.done {
            return None;
        }
        let kind = match self.advance() {
            Ok(Some(kind)) => kind,
            end => {
                self.done = true;
                return end.err().map(Err);
            }
        };
        Some(Ok(self.s.entry(kind, self.mtype, None)))
    }

    fn advance(&mut self) -> Result<Option<Kind>, ParseError> {
        loop {
            self.s.begin_line();
            if self.s.fast_series() {
                return Ok(Some(Kind::Series));
            }
            let t = self.s.token();
            match t {
                Tok::Eof => return Ok(None),
                Tok::Linebreak => continue,
                Tok::Help | Tok::Type => return self.metadata(t).map(Some),
                Tok::Comment => {
                    self.s.line.text = self.s.lx.token_span();
                    let t = self.s.token();
                    if t != Tok::Linebreak {
                        return Err(self.s.unexpected("linebreak expected after comment", t));
                    }
                    return Ok(Some(Kind::Comment));
                }
                Tok::BraceOpen | Tok::MName => {
                    let t = self.s.series(t)?;
                    self.sample(t)?;
                    return Ok(Some(Kind::Series));
                }
                t => return Err(self.s.unexpected("expected a valid start token", t)),
            }
        }
    }

    fn metadata(&mut self, t: Tok) -> Result<Kind, ParseError> {
        self.s.meta_name(t)?;
        let kind = match self.s.meta_text(t)? {
            Some(mtype) => {
                self.mtype = mtype;
                Kind::Type
            }
            None => Kind::Help,
        };
        let t = self.s.token();
        if t != Tok::Linebreak {
            return Err(self.s.unexpected("linebreak expected after metadata", t));
        }
        Ok(kind)
    }

    /// Value and optional timestamp after the series.
    fn sample(&mut self, t: Tok) -> Result<(), ParseError> {
        self.s.sample_value(t)?;
        match self.s.token() {
            Tok::Linebreak => {}
            Tok::Timestamp => {
                let field = self.s.field();
                self.s.line.ts = Some(parse_int(field).map_err(|kind| self.s.number_error(kind, true, field))?);
                let t = self.s.token();
                if t != Tok::Linebreak {
                    return Err(self.s.unexpected("expected next entry after timestamp", t));
                }
            }
            t => return Err(self.s.unexpected("expected timestamp or new record", t)),
        }
        Ok(())
    }
}
