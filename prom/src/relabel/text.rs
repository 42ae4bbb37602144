//! Go's text conventions the relabel engine must reproduce: `%q` quoting in messages, per-rune
//! (simple) case mapping of `strings.ToLower`/`ToUpper`, and label-name checks.

use std::sync::LazyLock;

use regex::Regex;

/// Go's `unicode.IsLetter || unicode.IsDigit` for non-ASCII runes (categories L and Nd).
static LETTER_OR_DIGIT: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"^[\p{L}\p{Nd}]$").ok());
/// Go's `strconv.IsPrint` for non-ASCII runes: L, M, N, P, S (no spaces other than U+0020).
static PRINTABLE: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"^[\p{L}\p{M}\p{N}\p{P}\p{S}]$").ok());

fn char_matches(re: &LazyLock<Option<Regex>>, c: char) -> bool {
    let mut buf = [0u8; 4];
    re.as_ref().is_some_and(|re| re.is_match(c.encode_utf8(&mut buf)))
}

pub(crate) fn is_go_letter_or_digit(c: char) -> bool {
    c.is_ascii_alphanumeric() || (!c.is_ascii() && char_matches(&LETTER_OR_DIGIT, c))
}

fn is_go_print(c: char) -> bool {
    if c.is_ascii() {
        (' '..='~').contains(&c)
    } else {
        char_matches(&PRINTABLE, c)
    }
}

/// Go's `strconv.Quote` (the `%q` verb), used verbatim in validation messages.
pub fn go_quote(s: &str) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if is_go_print(c) => out.push(c),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\x7f' => {
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
    out.push('"');
    out
}

/// Go's `unicode.ToLower` for one rune: the simple mapping (one rune to one rune).
fn lower_rune(c: char) -> char {
    let mut it = c.to_lowercase();
    // Only U+0130 has a longer full mapping ("i̇"); its simple mapping is the first rune.
    it.next().unwrap_or(c)
}

/// Go's `unicode.ToUpper` for one rune: where the full mapping has several runes, the simple
/// mapping is the rune itself except for the Greek letters with ypogegrammeni, which map to
/// their titlecase forms.
fn upper_rune(c: char) -> char {
    let mut it = c.to_uppercase();
    match (it.next(), it.next()) {
        (Some(u), None) => u,
        _ => {
            let n = c as u32;
            let simple = match n {
                0x1F80..=0x1F87 | 0x1F90..=0x1F97 | 0x1FA0..=0x1FA7 => n + 8,
                0x1FB3 | 0x1FC3 | 0x1FF3 => n + 9,
                _ => n,
            };
            char::from_u32(simple).unwrap_or(c)
        }
    }
}

/// Go's `strings.ToLower` (per-rune simple mapping; no final-sigma rule).
pub fn go_lower(s: &str) -> smol_str::SmolStr {
    map_runes(s, |b| b.to_ascii_lowercase(), lower_rune)
}

/// Go's `strings.ToUpper` (per-rune simple mapping; `ß` stays).
pub fn go_upper(s: &str) -> smol_str::SmolStr {
    map_runes(s, |b| b.to_ascii_uppercase(), upper_rune)
}

fn map_runes(s: &str, ascii: impl Fn(u8) -> u8, rune: impl Fn(char) -> char) -> smol_str::SmolStr {
    if s.bytes().all(|b| b.is_ascii() && ascii(b) == b) {
        return smol_str::SmolStr::new(s);
    }
    let mut b = smol_str::SmolStrBuilder::new();
    for c in s.chars() {
        b.push(if c.is_ascii() { char::from(ascii(c as u8)) } else { rune(c) });
    }
    b.finish()
}

/// The legacy Prometheus label-name form `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn is_legacy_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b == b'_' || b.is_ascii_alphabetic()) && bytes.all(|b| b == b'_' || b.is_ascii_alphanumeric())
}

/// Upstream's pattern for templated names, `^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$`: a
/// non-empty run of word characters and `$ref`/`${ref}` references that does not start with a
/// digit.
pub fn is_template_name(s: &str) -> bool {
    let b = s.as_bytes();
    let word = |c: u8| c == b'_' || c.is_ascii_alphanumeric();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' {
            i += 1;
            let braced = b.get(i) == Some(&b'{');
            let start = if braced { i + 1 } else { i };
            let mut end = start;
            while end < b.len() && word(b[end]) {
                end += 1;
            }
            if end == start {
                return false;
            }
            i = end;
            if braced {
                if b.get(i) != Some(&b'}') {
                    return false;
                }
                i += 1;
            }
        } else if word(b[i]) && !(i == 0 && b[i].is_ascii_digit()) {
            i += 1;
        } else {
            return false;
        }
    }
    !b.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_like_go() {
        assert_eq!(go_quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(go_quote("é\n\t\x01\x7f"), r#""é\n\t\x01\x7f""#);
        assert_eq!(go_quote("\u{a0}\u{200b}\u{1F600}\u{E0001}"), r#""\u00a0\u200b😀\U000e0001""#);
    }

    #[test]
    fn case_mapping_is_per_rune() {
        assert_eq!(go_lower("bAr123Foo"), "bar123foo");
        assert_eq!(go_upper("bAr123Foo"), "BAR123FOO");
        assert_eq!(go_upper("straße"), "STRAßE");
        assert_eq!(go_lower("İ"), "i");
        assert_eq!(go_lower("ΟΔΟΣ"), "οδοσ", "no final sigma");
        assert_eq!(go_upper("ᾳ"), "ᾼ");
        assert_eq!(go_upper("ǆ"), "Ǆ");
        assert_eq!(go_upper("ﬁ"), "ﬁ");
    }

    #[test]
    fn template_names() {
        for ok in ["${1}", "$1", "label${1}", "_${1}_", "foo${bar}foo", "a", "$a1", "x$1y${2}z"] {
            assert!(is_template_name(ok), "{ok}");
        }
        for bad in ["", "0${3}", "-${3}", "utf-8.label${1}", "${", "$", "${}", "-$1", "a$", "a${b", "a b"] {
            assert!(!is_template_name(bad), "{bad}");
        }
    }

    #[test]
    fn legacy_names() {
        assert!(is_legacy_name("_a9"));
        assert!(!is_legacy_name("9a"));
        assert!(!is_legacy_name(""));
        assert!(!is_legacy_name("utf-8.label"));
    }
}
