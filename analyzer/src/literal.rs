//! Checks of literal strings against the host types that parse them: durations, byte sizes,
//! URLs and regular expressions. Messages quote values as Go does.

use syntax::quote::go_quote;

/// Accepts Go durations (`"1h30m"`, `"1.5s"`, `"-2ms"`, `"0"`) and Prometheus durations
/// (`"1d"`, `"2w"`, `"1y"`); both are in use across components.
pub fn check_duration(s: &str) -> Result<(), String> {
    if eval::decode::Duration::parse(s).is_ok() || prometheus_duration(s) {
        Ok(())
    } else {
        Err(format!("time: invalid duration {}", go_quote(s)))
    }
}

fn prometheus_duration(s: &str) -> bool {
    if s == "0" {
        return true;
    }
    let b = s.as_bytes();
    let mut i = 0;
    if b.is_empty() {
        return false;
    }
    while i < b.len() {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return false;
        }
        let u = i;
        while i < b.len() && b[i].is_ascii_alphabetic() {
            i += 1;
        }
        match &s[u..i] {
            "ms" | "s" | "m" | "h" | "d" | "w" | "y" => {}
            _ => return false,
        }
    }
    true
}

/// Byte sizes as `units.Base2Bytes` parses them: a number followed by a unit such as `B`,
/// `KB`, `KiB`, `MB`, `MiB`, `GB`, … (`MB` means MiB); several terms may follow each other.
pub fn check_size(s: &str) -> Result<(), String> {
    let err = || Err(format!("invalid byte size {}", go_quote(s)));
    let b = s.as_bytes();
    if b.is_empty() {
        return err();
    }
    let mut i = 0;
    while i < b.len() {
        let start = i;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
            i += 1;
        }
        if i == start {
            return err();
        }
        let u = i;
        while i < b.len() && b[i].is_ascii_alphabetic() {
            i += 1;
        }
        let unit = &s[u..i];
        let ok = matches!(unit, "B" | "b" | "")
            || ["K", "M", "G", "T", "P", "E", "k"].iter().any(|p| unit.strip_prefix(p).is_some_and(|rest| matches!(rest, "" | "B" | "iB" | "ib" | "b")));
        if !ok {
            return err();
        }
    }
    Ok(())
}

/// A URL the components will dial: it needs a scheme (`http://…`) and no spaces.
pub fn check_url(s: &str) -> Result<(), String> {
    let Some((scheme, rest)) = s.split_once("://") else {
        return Err(format!("URL {} has no scheme (for example \"http://\")", go_quote(s)));
    };
    let scheme_ok =
        scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok {
        return Err(format!("URL {} has an invalid scheme {}", go_quote(s), go_quote(scheme)));
    }
    if rest.is_empty() {
        return Err(format!("URL {} has no host", go_quote(s)));
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("URL {} contains white space", go_quote(s)));
    }
    Ok(())
}

/// A regular expression in Go's RE2 syntax (checked with a parser of the same family).
pub fn check_regex(s: &str) -> Result<(), String> {
    match regex_syntax::ParserBuilder::new().build().parse(s) {
        Ok(_) => Ok(()),
        Err(e) => {
            let text = e.to_string();
            // The parser's message ends with its own one-line summary ("error: …").
            let summary = text.lines().rev().find_map(|l| l.trim().strip_prefix("error: ")).unwrap_or("invalid syntax");
            Err(format!("invalid regular expression {}: {summary}", go_quote(s)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        for ok in ["1s", "1m30s", "1.5h", "-2ms", "0", "100us", "1d", "2w", "1y", "5m", "0s"] {
            assert!(check_duration(ok).is_ok(), "{ok}");
        }
        for bad in ["", "1", "5 minutes", "1x", "s", "1.5d"] {
            assert!(check_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sizes() {
        for ok in ["4MiB", "512KiB", "1MB", "10GB", "100B", "1KB512B"] {
            assert!(check_size(ok).is_ok(), "{ok}");
        }
        for bad in ["", "big", "1XB"] {
            assert!(check_size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn urls_and_regexes() {
        assert!(check_url("http://localhost:9090/api/v1/write").is_ok());
        assert!(check_url("localhost:9090").is_err());
        assert!(check_url("http://a b").is_err());
        assert!(check_regex("(.*)").is_ok());
        assert!(check_regex("__meta_(.+)").is_ok());
        let e = check_regex("(unclosed").unwrap_err();
        assert!(e.contains("unclosed"), "{e}");
    }
}

/// The pieces of a string literal's body: (source offset, source width, value bytes it
/// produces) for each character or escape; raw strings drop carriage returns.
fn pieces(literal: &str) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
    let b = literal.as_bytes();
    let raw = b.first() == Some(&b'`');
    let body_end = literal.len().saturating_sub(1);
    let mut at = 1;
    std::iter::from_fn(move || {
        if at >= body_end {
            return None;
        }
        let (width, bytes) = if raw {
            (1, usize::from(b[at] != b'\r'))
        } else if b[at] == b'\\' {
            escape_extent(&b[at..])
        } else {
            (1, 1)
        };
        let piece = (at, width, bytes);
        at += width;
        Some(piece)
    })
}

/// The offset in a string literal's source text (quotes included) where byte `decoded` of its
/// value begins; `decoded` equal to the value's length gives the closing quote. Escapes map
/// every byte they produce to the escape's first character. `None` past the end.
pub fn source_offset(literal: &str, decoded: usize) -> Option<usize> {
    let body_end = literal.len().checked_sub(1)?;
    let mut produced = 0;
    for (at, _, bytes) in pieces(literal) {
        if bytes > 0 && decoded < produced + bytes {
            return Some(at);
        }
        produced += bytes;
    }
    (decoded == produced).then_some(body_end)
}

/// The inverse of [`source_offset`]: the byte of the value that the source offset `source`
/// (inside the quotes) writes; the value's length at the closing quote. `None` outside.
pub fn value_offset(literal: &str, source: usize) -> Option<usize> {
    let body_end = literal.len().checked_sub(1)?;
    if source == 0 || source > body_end {
        return None;
    }
    let mut produced = 0;
    for (at, width, bytes) in pieces(literal) {
        if source < at + width {
            return Some(produced);
        }
        produced += bytes;
    }
    Some(produced)
}

/// How many source bytes the escape at the start of `s` spans, and how many value bytes it
/// produces.
fn escape_extent(s: &[u8]) -> (usize, usize) {
    let utf8_len = |v: u32| char::from_u32(v).map_or(1, char::len_utf8);
    let hex =
        |from: usize, n: usize| s.get(from..from + n).and_then(|d| std::str::from_utf8(d).ok()).and_then(|d| u32::from_str_radix(d, 16).ok()).unwrap_or(0);
    match s.get(1) {
        Some(b'x') => (4, 1),
        Some(b'0'..=b'7') => (4, 1),
        Some(b'u') => (6, utf8_len(hex(2, 4))),
        Some(b'U') => (10, utf8_len(hex(2, 8))),
        Some(_) => (2, 1),
        None => (1, 1),
    }
}

#[cfg(test)]
mod source_offset_tests {
    use super::source_offset;

    /// Every byte of the decoded value maps back to where it is written.
    #[test]
    fn maps_value_bytes_to_source() {
        // value: a"b\n<é>c   (é written as \u00e9: two value bytes)
        let lit = r#""a\"b\n\u00e9c""#;
        let value = eval::eval::unquote(lit).unwrap();
        assert_eq!(value, "a\"b\néc".as_bytes());
        let expect = [1, 2, 4, 5, 7, 7, 13];
        for (i, want) in expect.iter().enumerate() {
            assert_eq!(source_offset(lit, i), Some(*want), "byte {i}");
        }
        assert_eq!(source_offset(lit, value.len()), Some(lit.len() - 1));
        assert_eq!(source_offset(lit, value.len() + 1), None);
    }

    #[test]
    fn raw_strings_skip_carriage_returns() {
        let lit = "`a\r\nb`";
        assert_eq!(source_offset(lit, 0), Some(1));
        assert_eq!(source_offset(lit, 1), Some(3));
        assert_eq!(source_offset(lit, 2), Some(4));
        assert_eq!(source_offset(lit, 3), Some(5));
    }
}

#[cfg(test)]
mod value_offset_tests {
    use super::{source_offset, value_offset};

    /// Every value byte's source offset maps back to it (escapes map to their first byte).
    #[test]
    fn inverts_source_offset() {
        let lit = r#""a\"b\n\u00e9c""#;
        for i in 0..7 {
            let s = source_offset(lit, i).unwrap();
            let back = value_offset(lit, s).unwrap();
            // Both bytes of the escaped é point at the escape, which maps to its first byte.
            assert_eq!(back, if i == 5 { 4 } else { i }, "byte {i}");
        }
        assert_eq!(value_offset(lit, lit.len() - 1), Some(7));
        assert_eq!(value_offset(lit, 0), None);
        assert_eq!(value_offset(lit, 9), Some(4), "inside an escape");
    }
}
