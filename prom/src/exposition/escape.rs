//! Text helpers shared by the text parsers: Go's `%q` quoting (error messages must read exactly
//! as Prometheus' do) and the exposition's backslash escapes.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `s` as Go's `strconv.Quote` prints it: double-quoted, `\"` and `\\` escaped, printable
/// characters kept, control characters as `\n`, `\x00`, `\u00a0`…, and every byte of invalid
/// UTF-8 as `\xNN`.
pub fn go_quote(s: &[u8]) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut rest = s;
    while !rest.is_empty() {
        match std::str::from_utf8(rest) {
            Ok(valid) => {
                quote_str(&mut out, valid);
                break;
            }
            Err(e) => {
                let (valid, bad) = rest.split_at(e.valid_up_to());
                // The prefix was just checked.
                quote_str(&mut out, std::str::from_utf8(valid).unwrap_or_default());
                // Go decodes an invalid sequence one byte at a time.
                let _ = write!(out, "\\x{:02x}", bad[0]);
                rest = &bad[1..];
            }
        }
    }
    out.push('"');
    out
}

fn quote_str(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if is_go_printable(c) => out.push(c),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) < 0x10000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
}

/// Go's `strconv.IsPrint`, exact for Latin-1 and approximated above it by the spaces, format
/// characters and private-use ranges Go does not print (only error texts depend on it).
fn is_go_printable(c: char) -> bool {
    let u = c as u32;
    if u < 0x80 {
        return (0x20..0x7f).contains(&u);
    }
    if u < 0x100 {
        return u >= 0xa1 && u != 0xad;
    }
    !matches!(u,
        0x0600..=0x0605 | 0x061c | 0x06dd | 0x070f | 0x08e2 | 0x1680 | 0x180e
        | 0x2000..=0x200f | 0x2028..=0x202f | 0x205f..=0x2064 | 0x2066..=0x206f | 0x3000
        | 0xd800..=0xf8ff | 0xfeff | 0xfff9..=0xfffb | 0xfffe | 0xffff
        | 0x110bd | 0x110cd | 0x13430..=0x1343f | 0x1bca0..=0x1bca3 | 0x1d173..=0x1d17a
        | 0xe0001 | 0xe0020..=0xe007f | 0xf0000..)
}

/// Undoes the exposition escapes: `\\`, `\n` and (unless `help`) `\"`. Any other backslash
/// stays as written, like Prometheus' replacer (`\x` is kept as `\x`).
pub fn unescape(s: &[u8], help: bool) -> Cow<'_, [u8]> {
    if !s.contains(&b'\\') {
        return Cow::Borrowed(s);
    }
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c == b'\\' && i + 1 < s.len() {
            let r = match s[i + 1] {
                b'\\' => Some(b'\\'),
                b'n' => Some(b'\n'),
                b'"' if !help => Some(b'"'),
                _ => None,
            };
            if let Some(r) = r {
                out.push(r);
                i += 2;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    Cow::Owned(out)
}

/// Bytes as text, replacing invalid UTF-8 (only quoted names can hold it: label values and
/// help texts are checked while parsing).
pub fn to_str(b: Cow<'_, [u8]>) -> Cow<'_, str> {
    match b {
        Cow::Borrowed(b) => match std::str::from_utf8(b) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => String::from_utf8_lossy(b),
        },
        Cow::Owned(v) => match String::from_utf8(v) {
            Ok(s) => Cow::Owned(s),
            Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
        },
    }
}

/// An escaped exposition string, unescaped, as text.
pub fn unescape_str(s: &[u8]) -> Cow<'_, str> {
    to_str(unescape(s, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_like_go() {
        assert_eq!(go_quote(b"a{b='"), r#""a{b='""#);
        assert_eq!(go_quote(b"\"\x00\n"), r#""\"\x00\n""#);
        assert_eq!(go_quote(b"\\"), r#""\\""#);
        assert_eq!(go_quote(b"\t\x7f\xff\xe2\x82"), r#""\t\x7f\xff\xe2\x82""#);
        assert_eq!(go_quote("Heizöl €\u{a0}\u{200b}".as_bytes()), "\"Heizöl €\\u00a0\\u200b\"");
        assert_eq!(go_quote("\u{10ffff}".as_bytes()), r#""\U0010ffff""#);
    }

    #[test]
    fn unescapes_like_the_replacer() {
        assert_eq!(&*unescape(br#"escape \ \n \\ \" \x chars"#, false), b"escape \\ \n \\ \" \\x chars");
        assert_eq!(&*unescape(br#"a\"b\\"#, true), b"a\\\"b\\");
        assert_eq!(&*unescape(b"end\\", false), b"end\\");
        assert!(matches!(unescape(b"plain", false), Cow::Borrowed(_)));
    }
}
