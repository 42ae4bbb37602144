//! JMESPath tokens, as the reference lexer (jmespath.py) splits an expression.

use serde_json::Value;

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Tok {
    Ident(String),
    Quoted(String),
    Number(i64),
    /// A `` `json` `` literal or a `'raw string'`.
    Literal(Value),
    Dot,
    Star,
    /// `[]`
    Flatten,
    /// `[?`
    Filter,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    LParen,
    RParen,
    Comma,
    Colon,
    /// `@`
    Current,
    /// `&` before an expression.
    Expref,
    And,
    Or,
    Pipe,
    Not,
    Cmp(Cmp),
    Eof,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Tok {
    /// The left binding power of the token (the reference parser's table).
    pub(super) fn binding_power(&self) -> u8 {
        match self {
            Tok::Pipe => 1,
            Tok::Or => 2,
            Tok::And => 3,
            Tok::Cmp(_) => 5,
            Tok::Flatten => 9,
            Tok::Star => 20,
            Tok::Filter => 21,
            Tok::Dot => 40,
            Tok::Not => 45,
            Tok::LBrace => 50,
            Tok::LBracket => 55,
            Tok::LParen => 60,
            _ => 0,
        }
    }
}

pub(super) fn syntax_error(expr: &str, pos: usize, msg: &str) -> String {
    format!("SyntaxError: {msg} at position {pos} in {}", quoted(expr))
}

/// The expression quoted for a message, a long one shortened.
pub(super) fn quoted(expr: &str) -> String {
    const MAX: usize = 120;
    match expr.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{:?}...", &expr[..cut]),
        None => format!("{expr:?}"),
    }
}

/// The tokens of `s`, each with its byte offset, ending with [`Tok::Eof`].
pub(super) fn tokenize(s: &str) -> Result<Vec<(Tok, usize)>, String> {
    let b = s.as_bytes();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        let next = b.get(i + 1).copied();
        let (tok, len) = match b[i] {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'.' => (Tok::Dot, 1),
            b'*' => (Tok::Star, 1),
            b']' => (Tok::RBracket, 1),
            b'{' => (Tok::LBrace, 1),
            b'}' => (Tok::RBrace, 1),
            b'(' => (Tok::LParen, 1),
            b')' => (Tok::RParen, 1),
            b',' => (Tok::Comma, 1),
            b':' => (Tok::Colon, 1),
            b'@' => (Tok::Current, 1),
            b'[' => match next {
                Some(b']') => (Tok::Flatten, 2),
                Some(b'?') => (Tok::Filter, 2),
                _ => (Tok::LBracket, 1),
            },
            b'&' if next == Some(b'&') => (Tok::And, 2),
            b'&' => (Tok::Expref, 1),
            b'|' if next == Some(b'|') => (Tok::Or, 2),
            b'|' => (Tok::Pipe, 1),
            b'<' if next == Some(b'=') => (Tok::Cmp(Cmp::Le), 2),
            b'<' => (Tok::Cmp(Cmp::Lt), 1),
            b'>' if next == Some(b'=') => (Tok::Cmp(Cmp::Ge), 2),
            b'>' => (Tok::Cmp(Cmp::Gt), 1),
            b'=' if next == Some(b'=') => (Tok::Cmp(Cmp::Eq), 2),
            b'!' if next == Some(b'=') => (Tok::Cmp(Cmp::Ne), 2),
            b'!' => (Tok::Not, 1),
            b'"' => {
                let raw = until(s, i, b'"')?;
                let name: String =
                    serde_json::from_str(&format!("\"{raw}\"")).map_err(|e| syntax_error(s, start, &format!("invalid quoted identifier: {e}")))?;
                (Tok::Quoted(name), raw.len() + 2)
            }
            b'\'' => {
                let raw = until(s, i, b'\'')?;
                (Tok::Literal(Value::String(raw.replace("\\'", "'"))), raw.len() + 2)
            }
            b'`' => {
                let raw = until(s, i, b'`')?;
                let v: Value = serde_json::from_str(&raw.replace("\\`", "`")).map_err(|e| syntax_error(s, start, &format!("invalid JSON literal: {e}")))?;
                (Tok::Literal(v), raw.len() + 2)
            }
            c if c == b'-' || c.is_ascii_digit() => {
                let mut j = i + 1;
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
                let n = s[i..j].parse::<i64>().map_err(|_| syntax_error(s, start, "invalid number"))?;
                (Tok::Number(n), j - i)
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let mut j = i + 1;
                while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                    j += 1;
                }
                (Tok::Ident(s[i..j].to_string()), j - i)
            }
            _ => {
                let c = s[i..].chars().next().unwrap_or_default();
                return Err(syntax_error(s, start, &format!("unexpected character {c:?}")));
            }
        };
        toks.push((tok, start));
        i += len;
    }
    toks.push((Tok::Eof, s.len()));
    Ok(toks)
}

/// The text between the delimiter at `start` and the next unescaped one (a backslash escapes
/// the character after it; both are kept).
fn until(s: &str, start: usize, delim: u8) -> Result<&str, String> {
    let b = s.as_bytes();
    let mut j = start + 1;
    while j < b.len() && b[j] != delim {
        j += if b[j] == b'\\' { 2 } else { 1 };
    }
    if j >= b.len() {
        return Err(syntax_error(s, start, &format!("unterminated {}", delim as char)));
    }
    Ok(&s[start + 1..j])
}
