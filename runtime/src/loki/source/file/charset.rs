//! `encoding`: the character set a file is written in, decoded to UTF-8 line by line.
//!
//! Any name upstream accepts (the IANA registry's names and aliases, case-insensitive, for the
//! character sets Go's `ianaindex` decodes) is accepted ([`Charset::by_name`]). Lines are split on
//! the character set's own newline, so UTF-16 files (whose newline is two bytes) and EBCDIC ones
//! (whose newline is 0x25) split where their text does; positions stay byte offsets in the file.
//! A line's trailing carriage return goes too. Bytes that are not valid in the character set
//! become U+FFFD, as upstream's decoders make them.
//!
//! A byte order mark at the start of a file decides its encoding, whatever `encoding` says, as
//! upstream does: UTF-8's and UTF-16's (either order) switch to that encoding and are skipped;
//! UTF-32BE's is skipped only (upstream checks UTF-16LE's mark before UTF-32LE's, so a UTF-32LE
//! mark reads as UTF-16LE's).

use encoding_rs::Encoding;

use super::charset_tables::by_iana_name;

/// A character set `encoding` names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Charset {
    /// UTF-8, the default (no `encoding`).
    #[default]
    Utf8,
    Utf16Le,
    Utf16Be,
    /// A single-byte set encoding_rs has no decoder for: ASCII, ISO-8859-1 and -9 (whose bytes
    /// 0x80-0x9F are C1 controls, where encoding_rs reads windows-1252 and -1254), the IBM code
    /// pages (EBCDIC among them).
    Table(&'static Table),
    /// HZ-GB-2312 (RFC 1843: GB2312 between `~{` and `~}` in 7-bit text).
    Hz,
    /// The others, through encoding_rs; all of them write `\n` as the byte 0x0A, which never
    /// occurs inside a multi-byte character.
    Whatwg(&'static Encoding),
}

/// A single-byte character set: each byte's character (a UTF-16 unit), and its newline and
/// carriage-return bytes.
#[derive(Debug, PartialEq, Eq)]
pub struct Table {
    chars: [u16; 256],
    newline: [u8; 1],
    cr: [u8; 1],
}

impl Table {
    pub(super) const fn new(chars: [u16; 256]) -> Table {
        Table { newline: [byte_of(&chars, 0x0A)], cr: [byte_of(&chars, 0x0D)], chars }
    }
}

/// The byte that stands for `ch` (tables have one for both `\n` and `\r`).
const fn byte_of(chars: &[u16; 256], ch: u16) -> u8 {
    let mut i = 0;
    while i < 256 {
        if chars[i] == ch {
            return i as u8;
        }
        i += 1;
    }
    panic!("a character set without this control character")
}

/// A table that is ASCII below 0x80 and `high` above.
pub(super) const fn ascii_superset(high: [u16; 128]) -> [u16; 256] {
    let mut chars = [0u16; 256];
    let mut i = 0;
    while i < 128 {
        chars[i] = i as u16;
        chars[i + 128] = high[i];
        i += 1;
    }
    chars
}

/// US-ASCII: bytes above 0x7F are not characters (U+FFFD), as upstream decodes them.
pub(super) static US_ASCII: Table = Table::new(ascii_superset([0xFFFD; 128]));

/// ISO-8859-1: each byte is the code point of the same number.
pub(super) static ISO_8859_1: Table = Table::new(latin1());

const fn latin1() -> [u16; 256] {
    let mut chars = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        chars[i] = i as u16;
        i += 1;
    }
    chars
}

/// A byte order mark: how many bytes it takes and the encoding it says, if it says one.
pub fn byte_order_mark(head: &[u8]) -> (u64, Option<Charset>) {
    // Upstream's order: UTF-8, UTF-16BE, UTF-16LE, UTF-32BE (UTF-32LE's mark starts like
    // UTF-16LE's, so it never gets that far).
    if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        (3, Some(Charset::Utf8))
    } else if head.starts_with(&[0xFE, 0xFF]) {
        (2, Some(Charset::Utf16Be))
    } else if head.starts_with(&[0xFF, 0xFE]) {
        (2, Some(Charset::Utf16Le))
    } else if head.starts_with(&[0x00, 0x00, 0xFE, 0xFF]) {
        (4, None)
    } else {
        (0, None)
    }
}

impl Charset {
    /// The character set an `encoding` value names (surrounding spaces and case do not
    /// matter); `None` for a name that is not one upstream decodes. The empty name is UTF-8.
    pub fn by_name(name: &str) -> Option<Charset> {
        if name.is_empty() {
            return Some(Charset::Utf8);
        }
        by_iana_name(&name.trim().to_ascii_lowercase())
    }

    /// The newline as this character set writes it.
    fn newline(&self) -> &[u8] {
        match self {
            Charset::Utf16Le => b"\n\0",
            Charset::Utf16Be => b"\0\n",
            Charset::Table(t) => &t.newline,
            Charset::Utf8 | Charset::Hz | Charset::Whatwg(_) => b"\n",
        }
    }

    fn carriage_return(&self) -> &[u8] {
        match self {
            Charset::Utf16Le => b"\r\0",
            Charset::Utf16Be => b"\0\r",
            Charset::Table(t) => &t.cr,
            Charset::Utf8 | Charset::Hz | Charset::Whatwg(_) => b"\r",
        }
    }

    /// The size of a code unit: a newline only counts where a character starts.
    pub fn unit(&self) -> usize {
        match self {
            Charset::Utf16Le | Charset::Utf16Be => 2,
            _ => 1,
        }
    }

    /// Where the first line of `buf` (which starts where a line starts) ends, past its
    /// newline; `from` is where bytes not searched yet start.
    pub fn line_end(&self, buf: &[u8], from: usize) -> Option<usize> {
        match self {
            Charset::Utf16Le | Charset::Utf16Be => {
                let le = matches!(self, Charset::Utf16Le);
                // Newlines only count on a code unit's boundary: 0A 00 at an even offset (LE),
                // 00 0A at an odd one's 0A (BE).
                let mut at = from & !1;
                loop {
                    let i = at + memchr::memchr(b'\n', buf.get(at..)?)?;
                    if le && i.is_multiple_of(2) {
                        match buf.get(i + 1) {
                            Some(0) => return Some(i + 2),
                            Some(_) => {}
                            // The unit's second byte is not there yet.
                            None => return None,
                        }
                    } else if !le && i % 2 == 1 && buf[i - 1] == 0 {
                        return Some(i + 1);
                    }
                    at = i + 1;
                }
            }
            _ => {
                let nl = self.newline()[0];
                memchr::memchr(nl, buf.get(from..)?).map(|i| from + i + 1)
            }
        }
    }

    /// A line's text, without its newline and carriage return, decoded.
    pub fn line_text(&self, raw: &[u8]) -> String {
        let unit = self.unit();
        let strip = |line: &[u8], suffix: &[u8]| -> usize {
            if line.ends_with(suffix) && (line.len() - suffix.len()).is_multiple_of(unit) {
                line.len() - suffix.len()
            } else {
                line.len()
            }
        };
        let mut line = &raw[..strip(raw, self.newline())];
        line = &line[..strip(line, self.carriage_return())];
        self.decode(line)
    }

    /// `bytes` in UTF-8; what is not valid in the character set becomes U+FFFD.
    pub fn decode(&self, bytes: &[u8]) -> String {
        match self {
            Charset::Utf8 => String::from_utf8_lossy(bytes).into_owned(),
            Charset::Utf16Le => encoding_rs::UTF_16LE.decode_without_bom_handling(bytes).0.into_owned(),
            Charset::Utf16Be => encoding_rs::UTF_16BE.decode_without_bom_handling(bytes).0.into_owned(),
            Charset::Whatwg(e) => e.decode_without_bom_handling(bytes).0.into_owned(),
            Charset::Table(t) => bytes.iter().map(|b| char::from_u32(u32::from(t.chars[*b as usize])).unwrap_or(char::REPLACEMENT_CHARACTER)).collect(),
            Charset::Hz => decode_hz(bytes),
        }
    }
}

/// HZ (RFC 1843): 7-bit text where `~{` starts GB2312 (each character two bytes 0x21-0x7E,
/// GB2312's bytes without their high bit), `~}` ends it, `~~` is a tilde and `~` before a
/// newline continues the line. Anything else is U+FFFD, as upstream's decoder has it.
fn decode_hz(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    let mut gb = false;
    // GB2312 bytes (high bit set again) waiting to be decoded as GBK, which includes GB2312.
    let mut pending: Vec<u8> = Vec::new();
    let flush = |pending: &mut Vec<u8>, out: &mut String| {
        if !pending.is_empty() {
            out.push_str(&encoding_rs::GBK.decode_without_bom_handling(pending).0);
            pending.clear();
        }
    };
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c >= 0x80 {
            flush(&mut pending, &mut out);
            out.push(char::REPLACEMENT_CHARACTER);
            i += 1;
            continue;
        }
        if c == b'~' {
            flush(&mut pending, &mut out);
            match bytes.get(i + 1) {
                Some(b'{') => gb = true,
                Some(b'}') => gb = false,
                Some(b'~') => out.push('~'),
                Some(b'\n') => {}
                Some(_) => out.push(char::REPLACEMENT_CHARACTER),
                None => {
                    out.push(char::REPLACEMENT_CHARACTER);
                    break;
                }
            }
            i += 2;
            continue;
        }
        if !gb {
            out.push(c as char);
            i += 1;
            continue;
        }
        match bytes.get(i + 1) {
            Some(&d) if (0x21..0x7E).contains(&c) && (0x21..0x7F).contains(&d) => {
                pending.extend_from_slice(&[c | 0x80, d | 0x80]);
            }
            Some(&d) => {
                flush(&mut pending, &mut out);
                out.push(char::REPLACEMENT_CHARACTER);
                if d >= 0x80 {
                    // A byte that is not 7-bit counts alone.
                    i += 1;
                    continue;
                }
            }
            None => {
                flush(&mut pending, &mut out);
                out.push(char::REPLACEMENT_CHARACTER);
            }
        }
        i += 2;
    }
    flush(&mut pending, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
    }

    fn utf16be(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(|u| u.to_be_bytes()).collect()
    }

    #[test]
    fn names_are_upstreams_iana_names_and_aliases_in_any_case() {
        assert_eq!(Charset::by_name(""), Some(Charset::Utf8));
        assert_eq!(Charset::by_name("UTF-16LE"), Some(Charset::Utf16Le));
        assert_eq!(Charset::by_name(" utf-16 "), Some(Charset::Utf16Be), "UTF-16 without a byte order mark is big-endian");
        assert_eq!(Charset::by_name("Shift_JIS"), Some(Charset::Whatwg(encoding_rs::SHIFT_JIS)));
        assert_eq!(Charset::by_name("GBK"), Some(Charset::Whatwg(encoding_rs::GBK)));
        assert_eq!(Charset::by_name("latin1"), Some(Charset::Table(&ISO_8859_1)));
        assert_eq!(Charset::by_name("ISO-8859-1"), Some(Charset::Table(&ISO_8859_1)));
        assert_eq!(Charset::by_name("windows-1252"), Some(Charset::Whatwg(encoding_rs::WINDOWS_1252)));
        assert!(Charset::by_name("IBM437").is_some() && Charset::by_name("ebcdic-cp-us").is_some() && Charset::by_name("HZ-GB-2312").is_some());
        // Not IANA names (utf8), or IANA names Go has no decoder for (UTF-7, UTF-32).
        for bad in ["utf8", "UTF-7", "UTF-32", "klingon"] {
            assert_eq!(Charset::by_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn iso_8859_1_and_9_keep_c1_controls_where_windows_sets_have_letters() {
        assert_eq!(Charset::Table(&ISO_8859_1).decode(b"caf\xe9 \x80"), "café \u{80}");
        assert_eq!(Charset::Whatwg(encoding_rs::WINDOWS_1252).decode(b"caf\xe9 \x80"), "café €");
        assert_eq!(Charset::by_name("ISO-8859-9").map(|c| c.decode(b"\xd0\xdd\xde\xf0\xfd\xfe \x80")), Some("ĞİŞğış \u{80}".to_string()));
        assert_eq!(Charset::by_name("US-ASCII").map(|c| c.decode(b"ok\xe9")), Some("ok\u{FFFD}".to_string()));
    }

    #[test]
    fn ebcdic_lines_end_at_its_newline() {
        let c = Charset::by_name("IBM037").expect("known");
        // "Hi" CR NL "yo" NL in code page 037.
        let text = [0xC8, 0x89, 0x0D, 0x25, 0xA8, 0x96, 0x25];
        let end = c.line_end(&text, 0).expect("a line");
        assert_eq!((end, c.line_text(&text[..end])), (4, "Hi".to_string()));
        assert_eq!(c.line_text(&text[end..]), "yo");
    }

    #[test]
    fn utf16_newlines_count_only_on_unit_boundaries() {
        // U+0A0A is 0A 0A in either order and U+0D0A is 0A 0D (LE) / 0D 0A (BE): neither is a
        // newline, and a misaligned 0A 00 / 00 0A neither.
        let le = utf16le("\u{0A0A}\u{2600}a\r\nb\n");
        let end = Charset::Utf16Le.line_end(&le, 0).expect("a line");
        assert_eq!(Charset::Utf16Le.line_text(&le[..end]), "\u{0A0A}\u{2600}a");
        assert_eq!(Charset::Utf16Le.line_end(&le[..end - 1], 0), None, "half a newline is no newline");
        assert_eq!(Charset::Utf16Be.line_end(&utf16be("\u{0D0A}\u{0A00}"), 0), None);
        let be = utf16be("x\u{0A00}y\n");
        let end = Charset::Utf16Be.line_end(&be, 0).expect("a line");
        assert_eq!((end, Charset::Utf16Be.line_text(&be[..end])), (be.len(), "x\u{0A00}y".to_string()));
    }

    #[test]
    fn byte_order_marks_as_upstream_reads_them() {
        assert_eq!(byte_order_mark(b"\xEF\xBB\xBFx"), (3, Some(Charset::Utf8)));
        assert_eq!(byte_order_mark(b"\xFE\xFF\0x"), (2, Some(Charset::Utf16Be)));
        assert_eq!(byte_order_mark(b"\xFF\xFEx\0"), (2, Some(Charset::Utf16Le)));
        assert_eq!(byte_order_mark(b"\xFF\xFE\0\0"), (2, Some(Charset::Utf16Le)), "UTF-32LE's mark reads as UTF-16LE's");
        assert_eq!(byte_order_mark(b"\0\0\xFE\xFF"), (4, None));
        assert_eq!(byte_order_mark(b"abc"), (0, None));
    }

    #[test]
    fn hz_switches_between_ascii_and_gb2312() {
        // "中文" is D6D0 CEC4 in GB2312: 56 50 4E 44 without the high bits.
        assert_eq!(Charset::Hz.decode(b"a~{VPND~}b~~c"), "a中文b~c");
        assert_eq!(Charset::Hz.decode(b"x~"), "x\u{FFFD}");
        assert_eq!(Charset::Hz.decode(b"~{V"), "\u{FFFD}");
    }
}
