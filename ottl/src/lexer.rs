//! Tokens of an OTTL statement, each with its byte range in the source.

use std::ops::Range;

use crate::Diagnostic;

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    /// A name: editor, converter, path segment, enum or keyword (`where`, `and`, `nil`, ...).
    Ident(String),
    Str(String),
    Int(i64),
    Float(f64),
    Bytes(Vec<u8>),
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Comma,
    Dot,
    Colon,
    Assign,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Plus,
    Minus,
    Star,
    Slash,
    Eof,
}

impl Tok {
    /// How a message names the token.
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("\"{s}\""),
            Tok::Str(s) => format!("string {s:?}"),
            Tok::Int(i) => format!("number {i}"),
            Tok::Float(f) => format!("number {f}"),
            Tok::Bytes(_) => "bytes literal".into(),
            Tok::Eof => "end of input".into(),
            other => format!("\"{}\"", other.symbol()),
        }
    }

    fn symbol(&self) -> &'static str {
        match self {
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::LBracket => "[",
            Tok::RBracket => "]",
            Tok::LBrace => "{",
            Tok::RBrace => "}",
            Tok::Comma => ",",
            Tok::Dot => ".",
            Tok::Colon => ":",
            Tok::Assign => "=",
            Tok::Eq => "==",
            Tok::Ne => "!=",
            Tok::Lt => "<",
            Tok::Le => "<=",
            Tok::Gt => ">",
            Tok::Ge => ">=",
            Tok::Plus => "+",
            Tok::Minus => "-",
            Tok::Star => "*",
            Tok::Slash => "/",
            _ => "",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub span: Range<usize>,
}

fn err(span: Range<usize>, message: impl Into<String>) -> Diagnostic {
    Diagnostic { span, message: message.into() }
}

/// The tokens of `src`, ending with `Eof`.
pub fn lex(src: &str) -> Result<Vec<Token>, Diagnostic> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let two = |b: u8| bytes.get(i + 1) == Some(&b);
        let (tok, len) = match c {
            b'(' => (Tok::LParen, 1),
            b')' => (Tok::RParen, 1),
            b'[' => (Tok::LBracket, 1),
            b']' => (Tok::RBracket, 1),
            b'{' => (Tok::LBrace, 1),
            b'}' => (Tok::RBrace, 1),
            b',' => (Tok::Comma, 1),
            b'.' => (Tok::Dot, 1),
            b':' => (Tok::Colon, 1),
            b'+' => (Tok::Plus, 1),
            b'-' => (Tok::Minus, 1),
            b'*' => (Tok::Star, 1),
            b'/' => (Tok::Slash, 1),
            b'=' if two(b'=') => (Tok::Eq, 2),
            b'=' => (Tok::Assign, 1),
            b'!' if two(b'=') => (Tok::Ne, 2),
            b'<' if two(b'=') => (Tok::Le, 2),
            b'<' => (Tok::Lt, 1),
            b'>' if two(b'=') => (Tok::Ge, 2),
            b'>' => (Tok::Gt, 1),
            b'"' => {
                let (s, end) = string(src, i)?;
                out.push(Token { tok: Tok::Str(s), span: start..end });
                i = end;
                continue;
            }
            b'0'..=b'9' => {
                let (tok, end) = number(src, i)?;
                out.push(Token { tok, span: start..end });
                i = end;
                continue;
            }
            c if c == b'_' || c.is_ascii_alphabetic() => {
                let end = i + bytes[i..].iter().take_while(|b| **b == b'_' || b.is_ascii_alphanumeric()).count();
                out.push(Token { tok: Tok::Ident(src[i..end].to_string()), span: start..end });
                i = end;
                continue;
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or('?');
                return Err(err(i..i + ch.len_utf8(), format!("unexpected character {ch:?}")));
            }
        };
        out.push(Token { tok, span: start..start + len });
        i += len;
    }
    out.push(Token { tok: Tok::Eof, span: src.len()..src.len() });
    Ok(out)
}

/// A double-quoted string starting at `start`: its value and the offset after the closing quote.
fn string(src: &str, start: usize) -> Result<(String, usize), Diagnostic> {
    let mut out = String::new();
    let mut chars = src[start + 1..].char_indices().map(|(o, c)| (o + start + 1, c));
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return Ok((out, at + 1)),
            '\\' => {
                let Some((eat, e)) = chars.next() else { break };
                match e {
                    '"' => out.push('"'),
                    '\\' => out.push('\\'),
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'u' => {
                        let hex: String = chars.by_ref().take(4).map(|(_, c)| c).collect();
                        let ch = u32::from_str_radix(&hex, 16).ok().filter(|_| hex.len() == 4).and_then(char::from_u32);
                        match ch {
                            Some(ch) => out.push(ch),
                            None => return Err(err(at..eat + 1 + hex.len(), "invalid \\u escape: expected four hex digits")),
                        }
                    }
                    other => {
                        return Err(err(
                            at..eat + other.len_utf8(),
                            format!("invalid escape \"\\{other}\" in string: expected \\\", \\\\, \\n, \\t, \\r or \\uXXXX"),
                        ))
                    }
                }
            }
            c => out.push(c),
        }
    }
    Err(err(start..src.len(), "unterminated string: expected a closing '\"'"))
}

/// An integer, a float or a `0x` bytes literal starting at `start`.
fn number(src: &str, start: usize) -> Result<(Tok, usize), Diagnostic> {
    let b = src.as_bytes();
    if b[start] == b'0' && matches!(b.get(start + 1), Some(b'x' | b'X')) {
        let digits = b[start + 2..].iter().take_while(|c| c.is_ascii_alphanumeric()).count();
        let end = start + 2 + digits;
        let hex = &src[start + 2..end];
        if hex.is_empty() || !hex.len().is_multiple_of(2) || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(err(start..end, "invalid bytes literal: expected an even number of hex digits after 0x"));
        }
        let bytes = (0..hex.len()).step_by(2).filter_map(|k| u8::from_str_radix(&hex[k..k + 2], 16).ok()).collect();
        return Ok((Tok::Bytes(bytes), end));
    }
    let mut end = start + b[start..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut float = false;
    if b.get(end) == Some(&b'.') && b.get(end + 1).is_some_and(u8::is_ascii_digit) {
        float = true;
        end += 1 + b[end + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
    }
    if matches!(b.get(end), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(b.get(end + 1), Some(b'+' | b'-')));
        let digits = b[end + 1 + sign..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits > 0 {
            float = true;
            end += 1 + sign + digits;
        }
    }
    let text = &src[start..end];
    if b.get(end).is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_') {
        let tail = b[end..].iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'_').count();
        return Err(err(start..end + tail, format!("invalid number {:?}", &src[start..end + tail])));
    }
    let tok = if float {
        Tok::Float(text.parse().map_err(|_| err(start..end, format!("invalid number {text:?}")))?)
    } else {
        Tok::Int(text.parse().map_err(|_| err(start..end, format!("integer {text} does not fit in 64 bits")))?)
    };
    Ok((tok, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn lexes_literals_and_operators() {
        assert_eq!(
            toks(r#"set(x, "a\"b\u0041") where 1.5e2 >= 0x0aff != -3"#),
            vec![
                Tok::Ident("set".into()),
                Tok::LParen,
                Tok::Ident("x".into()),
                Tok::Comma,
                Tok::Str("a\"bA".into()),
                Tok::RParen,
                Tok::Ident("where".into()),
                Tok::Float(150.0),
                Tok::Ge,
                Tok::Bytes(vec![0x0a, 0xff]),
                Tok::Ne,
                Tok::Minus,
                Tok::Int(3),
                Tok::Eof
            ]
        );
    }

    #[test]
    fn reports_bad_tokens_where_they_are() {
        assert_eq!(lex(r#"set(x, "abc"#).unwrap_err().span, 7..11);
        assert_eq!(lex("a # b").unwrap_err().span, 2..3);
        assert!(lex("0x123").unwrap_err().message.contains("even number"));
        assert!(lex(r#""\q""#).unwrap_err().message.contains("invalid escape"));
        assert!(lex("99999999999999999999").unwrap_err().message.contains("64 bits"));
    }
}
