//! Text helpers shared by the text parsers: Go's `%q` quoting (error messages must read exactly
//! as Prometheus' do) and the exposition's backslash escapes.

use std::borrow::Cow;

/// `s` as Go's `strconv.Quote` prints it (invalid UTF-8 byte by byte as `\xNN`): the
/// syntax crate's quoting, which `alloy fmt` and the diagnostics use too.
pub use syntax::quote::go_quote_bytes as go_quote;

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
