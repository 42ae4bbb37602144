//! The string work behind sprig's functions, as sprig (and the Go functions it wraps) does it:
//! byte offsets where Go slices bytes, goutils' byte-at-a-time loops, Go's regexp `All` rules.

use prom::relabel::GoRegex;

/// Go's `unicode.IsSpace`.
fn is_space(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{85}' | '\u{a0}') || (c as u32 > 0xff && c.is_whitespace())
}

/// Go's `strings.Title`: the first letter of each word upper-cased.
pub(super) fn title(s: &str) -> String {
    let is_separator = |c: char| {
        if c.is_ascii() {
            return !(c.is_ascii_alphanumeric() || c == '_');
        }
        if c.is_alphanumeric() {
            return false;
        }
        is_space(c)
    };
    let mut prev = ' ';
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if is_separator(prev) {
            let mut up = c.to_uppercase();
            match (up.next(), up.next()) {
                (Some(u), None) => out.push(u),
                _ => out.push(c),
            }
        } else {
            out.push(c);
        }
        prev = c;
    }
    out
}

/// goutils' `Uncapitalize`: the first letter of each whitespace-separated word lower-cased.
pub(super) fn untitle(s: &str) -> String {
    let mut next = true;
    s.chars()
        .map(|c| {
            if is_space(c) {
                next = true;
                c
            } else if std::mem::take(&mut next) {
                let mut low = c.to_lowercase();
                match (low.next(), low.next()) {
                    (Some(l), None) => l,
                    _ => c,
                }
            } else {
                c
            }
        })
        .collect()
}

/// goutils' `DeleteWhiteSpace`, which reads the string a byte at a time (each byte as the
/// code point of its value).
pub(super) fn nospace(s: &str) -> String {
    if !s.bytes().any(|b| is_space(char::from(b))) {
        return s.to_string();
    }
    s.bytes().map(char::from).filter(|c| !is_space(*c)).collect()
}

/// goutils' `Initials`: the first byte of each whitespace-separated word.
pub(super) fn initials(s: &str) -> String {
    let mut out = String::new();
    let mut gap = true;
    for c in s.bytes().map(char::from) {
        if is_space(c) {
            gap = true;
        } else if gap {
            out.push(c);
            gap = false;
        }
    }
    out
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Go's `base64.StdEncoding.EncodeToString`.
pub(super) fn b64enc(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let v = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(B64[(v >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// sprig's `b64dec`: Go's `base64.StdEncoding.DecodeString`, or its error's text.
pub(super) fn b64dec(s: &str) -> String {
    match b64decode(s.as_bytes()) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(at) => format!("illegal base64 data at input byte {at}"),
    }
}

/// Go's decoder, quantum by quantum (newlines skipped, padding required); the error is the
/// offset Go reports.
fn b64decode(src: &[u8]) -> Result<Vec<u8>, usize> {
    let value = |c: u8| B64.iter().position(|b| *b == c).map(|p| p as u32);
    let mut out = Vec::with_capacity(src.len() / 4 * 3);
    let mut si = 0;
    loop {
        let mut buf = [0u32; 4];
        let mut len = 4;
        let mut j = 0;
        while j < 4 {
            if si == src.len() {
                if j == 0 {
                    return Ok(out);
                }
                return Err(si - j);
            }
            let c = src[si];
            si += 1;
            if let Some(v) = value(c) {
                buf[j] = v;
                j += 1;
                continue;
            }
            if c == b'\n' || c == b'\r' {
                continue;
            }
            if c != b'=' {
                return Err(si - 1);
            }
            match j {
                0 | 1 => return Err(si - 1),
                2 => {
                    while si < src.len() && matches!(src[si], b'\n' | b'\r') {
                        si += 1;
                    }
                    if si == src.len() {
                        return Err(src.len());
                    }
                    if src[si] != b'=' {
                        return Err(si - 1);
                    }
                    si += 1;
                }
                _ => {}
            }
            while si < src.len() && matches!(src[si], b'\n' | b'\r') {
                si += 1;
            }
            if si < src.len() {
                return Err(si);
            }
            len = j;
            break;
        }
        let v = buf[0] << 18 | buf[1] << 12 | buf[2] << 6 | buf[3];
        let bytes = [(v >> 16) as u8, (v >> 8) as u8, v as u8];
        out.extend_from_slice(&bytes[..len - 1]);
        if len < 4 {
            return Ok(out);
        }
    }
}

/// Go's `hash/adler32`.
pub(super) fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65521;
        b = (b + a) % 65521;
    }
    b << 16 | a
}

/// Go's `regexp.QuoteMeta`.
pub(super) fn quote_meta(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `s[from..to]` by bytes, as Go slices (a cut through a character becomes U+FFFD here).
fn bytes_of(s: &str, from: usize, to: usize) -> String {
    String::from_utf8_lossy(&s.as_bytes()[from..to]).into_owned()
}

/// sprig's `substr`, with Go's slice-bounds failures.
pub(super) fn substr(start: i64, end: i64, s: &str) -> Result<String, String> {
    let len = s.len() as i64;
    let oob = || format!("runtime error: slice bounds out of range [{start}:{end}]");
    if start < 0 {
        if !(0..=len).contains(&end) {
            return Err(oob());
        }
        return Ok(bytes_of(s, 0, end as usize));
    }
    if end < 0 || end > len {
        if start > len {
            return Err(oob());
        }
        return Ok(bytes_of(s, start as usize, s.len()));
    }
    if start > end {
        return Err(oob());
    }
    Ok(bytes_of(s, start as usize, end as usize))
}

/// sprig's `trunc`: the first `c` bytes, or with a negative `c` the last `-c`.
pub(super) fn trunc(c: i64, s: &str) -> String {
    let len = s.len() as i64;
    if c < 0 && len + c > 0 {
        return bytes_of(s, (len + c) as usize, s.len());
    }
    if c >= 0 && len > c {
        return bytes_of(s, 0, c as usize);
    }
    s.to_string()
}

/// goutils' `AbbreviateFull` (errors, which sprig drops, as "").
pub(super) fn abbreviate(s: &str, offset: i64, width: i64) -> String {
    let len = s.len() as i64;
    if s.is_empty() {
        return String::new();
    }
    if width < 4 {
        return String::new();
    }
    if len <= width {
        return s.to_string();
    }
    let mut offset = offset.min(len);
    if len - offset < width - 3 {
        offset = len - (width - 3);
    }
    if offset <= 4 {
        return bytes_of(s, 0, (width - 3) as usize) + "...";
    }
    if width < 7 {
        return String::new();
    }
    if offset + width - 3 < len {
        let rest = bytes_of(s, offset as usize, s.len());
        return format!("...{}", abbreviate(&rest, 0, width - 3));
    }
    format!("...{}", bytes_of(s, (len - (width - 3)) as usize, s.len()))
}

/// Go's `Regexp.FindAllStringIndex(s, n)`: an empty match right after a match is skipped.
pub(super) fn find_all(re: &GoRegex, s: &str, n: i64) -> Vec<(usize, usize)> {
    let limit = if n < 0 { s.len() + 1 } else { n as usize };
    let mut out = Vec::new();
    let (mut pos, mut prev_end) = (0, None);
    while out.len() < limit && pos <= s.len() {
        let Some(m) = re.regex().find_at(s, pos) else { break };
        let mut accept = true;
        if m.end() == m.start() {
            if Some(m.start()) == prev_end {
                accept = false;
            }
            pos = m.end() + s[m.end()..].chars().next().map_or(1, char::len_utf8);
        } else {
            pos = m.end();
        }
        prev_end = Some(m.end());
        if accept {
            out.push((m.start(), m.end()));
        }
    }
    out
}

/// Go's `Regexp.Split(s, n)`.
pub(super) fn regex_split(re: &GoRegex, s: &str, n: i64) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    if !re.as_str().is_empty() && s.is_empty() {
        return vec![String::new()];
    }
    let mut parts = Vec::new();
    let (mut beg, mut end) = (0, 0);
    for (start, stop) in find_all(re, s, n) {
        if n > 0 && parts.len() as i64 == n - 1 {
            break;
        }
        end = start;
        if stop != 0 {
            parts.push(s[beg..end].to_string());
        }
        beg = stop;
    }
    if end != s.len() {
        parts.push(s[beg..].to_string());
    }
    parts
}

/// Go's `strings.SplitN(s, sep, n)` (`n < 0`: all of them).
pub(super) fn split(s: &str, sep: &str, n: i64) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    if sep.is_empty() {
        let chars: Vec<&str> = s.char_indices().map(|(i, c)| &s[i..i + c.len_utf8()]).collect();
        let n = if n < 0 || n as usize > chars.len() { chars.len() } else { n as usize };
        let mut out: Vec<String> = chars[..n.saturating_sub(1)].iter().map(|c| c.to_string()).collect();
        if n > 0 {
            out.push(chars[n - 1..].concat());
        }
        return out;
    }
    if n < 0 {
        s.split(sep).map(str::to_string).collect()
    } else {
        s.splitn(n as usize, sep).map(str::to_string).collect()
    }
}

/// sprig's `atoi`: Go's `strconv.Atoi`, 0 when it fails (out of range: the nearest bound).
pub(super) fn atoi(s: &str) -> i64 {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    s.parse::<i64>().unwrap_or(if s.starts_with('-') { i64::MIN } else { i64::MAX })
}

/// sprig's `round`: to `places` decimals, up from `round_on` of the next digit.
pub(super) fn round(v: f64, places: i64, round_on: f64) -> f64 {
    let pow = 10f64.powi(places.clamp(-400, 400) as i32);
    let digit = pow * v;
    let r = if digit.fract() >= round_on { digit.ceil() } else { digit.floor() };
    r / pow
}
