//! Go-compatible quoting, as upstream's messages and formatter use it (`%q`, `%#U`).

use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};

/// Go's `unicode.IsPrint`: letters, marks, numbers, punctuation, symbols and the ASCII space.
pub fn is_go_printable(c: char) -> bool {
    if c.is_ascii() {
        return (' '..='~').contains(&c);
    }
    matches!(
        c.general_category_group(),
        GeneralCategoryGroup::Letter
            | GeneralCategoryGroup::Mark
            | GeneralCategoryGroup::Number
            | GeneralCategoryGroup::Punctuation
            | GeneralCategoryGroup::Symbol
    )
}

/// Go's `strconv.Quote` (`%q` of a string) over raw bytes: invalid UTF-8 becomes `\xNN`.
pub fn go_quote_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    let mut rest = bytes;
    while !rest.is_empty() {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                push_quoted_str(&mut out, s);
                break;
            }
            Err(e) => {
                let (valid, bad) = rest.split_at(e.valid_up_to());
                push_quoted_str(&mut out, std::str::from_utf8(valid).unwrap_or_default());
                // Go escapes each byte of an invalid sequence on its own.
                out.push_str(&format!("\\x{:02x}", bad[0]));
                rest = &bad[1..];
            }
        }
    }
    out.push('"');
    out
}

/// Whether [`go_quote`] only adds the two quotes: printable ASCII without `"` and `\`.
pub fn quotes_to_itself(s: &str) -> bool {
    s.bytes().all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\')
}

/// Go's `strconv.Quote`.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    push_quoted_str(&mut out, s);
    out.push('"');
    out
}

fn push_quoted_str(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if is_go_printable(c) => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_like_go() {
        assert_eq!(go_quote("a\"b"), r#""a\"b""#);
        assert_eq!(go_quote("a\\\"b"), r#""a\\\"b""#);
        assert_eq!(go_quote("\t\x01\u{ad}é"), r#""\t\x01\u00adé""#);
        assert_eq!(go_quote_bytes(b"\xffa"), r#""\xffa""#);
        // The check may say no where quoting happens to change nothing (`é`), never the reverse.
        for (s, plain) in [("plain text", true), ("~ !", true), ("a\"b", false), ("a\\b", false), ("tab\t", false), ("é", false)] {
            assert_eq!(quotes_to_itself(s), plain, "{s}");
            if plain {
                assert_eq!(go_quote(s), format!("\"{s}\""));
            }
        }
    }
}
