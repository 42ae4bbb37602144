//! Numbers as Prometheus reads and writes them: Go's `strconv.ParseFloat` syntax (sample values
//! refuse hex floats and `_` up front, as Prometheus does), Go's `ParseInt` for text-format
//! timestamps, and OpenMetrics float formatting for `le`/`quantile` label values.
//!
//! Sample values take a fast exact path (Clinger's: at most 19 digits, mantissa ≤ 2^53, power
//! of ten ≤ 22, one correctly rounded IEEE operation); everything else is validated against
//! Go's grammar and converted by the standard library, which is also correctly rounded, so both
//! paths agree with Go bit for bit.

use std::fmt;
use std::fmt::Write as _;

/// Why a number did not parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumberErrorKind {
    /// `p`, `P` or `_` in a sample value ("unsupported character in float").
    Unsupported,
    /// Not Go float (or integer) syntax.
    Syntax,
    /// Syntactically fine but beyond the type's range.
    Range,
}

/// A number that failed to parse, printed as Go's `strconv` errors are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NumberError {
    pub kind: NumberErrorKind,
    /// True for the text format's integer timestamps (`strconv.ParseInt`).
    pub integer: bool,
    pub input: Vec<u8>,
}

impl fmt::Display for NumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let func = if self.integer { "ParseInt" } else { "ParseFloat" };
        match self.kind {
            NumberErrorKind::Unsupported => f.write_str("unsupported character in float"),
            NumberErrorKind::Syntax => write!(f, "strconv.{func}: parsing {}: invalid syntax", super::escape::go_quote(&self.input)),
            NumberErrorKind::Range => write!(f, "strconv.{func}: parsing {}: value out of range", super::escape::go_quote(&self.input)),
        }
    }
}

const POW10: [f64; 23] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

/// A sample value: Go float syntax without hex floats or underscores, plus `NaN`, `Inf`,
/// `+Inf`, `-Inf`, `Infinity` in any case. NaN is returned as parsed (callers canonicalise).
#[inline]
pub fn parse_value(s: &[u8]) -> Result<f64, NumberErrorKind> {
    if let Some(v) = fast_decimal(s) {
        return Ok(v);
    }
    if s.iter().any(|&c| matches!(c, b'p' | b'P' | b'_')) {
        return Err(NumberErrorKind::Unsupported);
    }
    parse_go_float(s)
}

/// Plain decimals that one IEEE multiplication or division converts exactly; `None` sends the
/// input to the general path (which also reports errors).
#[inline]
fn fast_decimal(s: &[u8]) -> Option<f64> {
    let mut i = 0;
    let neg = match s.first()? {
        b'-' => {
            i = 1;
            true
        }
        b'+' => {
            i = 1;
            false
        }
        _ => false,
    };
    let mut mant: u64 = 0;
    let mut digits = 0u32;
    let mut exp10: i32 = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        mant = mant.wrapping_mul(10).wrapping_add(u64::from(s[i] - b'0'));
        digits += 1;
        i += 1;
    }
    if i < s.len() && s[i] == b'.' {
        i += 1;
        while i < s.len() && s[i].is_ascii_digit() {
            mant = mant.wrapping_mul(10).wrapping_add(u64::from(s[i] - b'0'));
            digits += 1;
            exp10 -= 1;
            i += 1;
        }
    }
    if digits == 0 || digits > 19 {
        return None;
    }
    if i < s.len() && (s[i] == b'e' || s[i] == b'E') {
        i += 1;
        let eneg = match s.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let start = i;
        let mut e: i32 = 0;
        while i < s.len() && s[i].is_ascii_digit() {
            if e > 1000 {
                return None;
            }
            e = e * 10 + i32::from(s[i] - b'0');
            i += 1;
        }
        if i == start {
            return None;
        }
        exp10 += if eneg { -e } else { e };
    }
    if i != s.len() {
        return None;
    }
    let v = if mant == 0 {
        0.0
    } else {
        if mant > (1u64 << 53) || !(-22..=22).contains(&exp10) {
            return None;
        }
        let m = mant as f64;
        if exp10 >= 0 {
            m * POW10[exp10 as usize]
        } else {
            m / POW10[(-exp10) as usize]
        }
    };
    Some(if neg { -v } else { v })
}

/// Go's `strconv.ParseFloat(s, 64)`: decimal and hex floats (`0x1p-3`, exponent required),
/// `_` between digits, `inf`/`infinity` with an optional sign and unsigned `nan` in any case.
/// Overflow is a range error; underflow rounds to zero as in Go.
pub fn parse_go_float(s: &[u8]) -> Result<f64, NumberErrorKind> {
    if let Some(v) = fast_decimal(s) {
        return Ok(v);
    }
    if let Some(v) = special(s) {
        return v;
    }
    let mut cleaned = String::new();
    let hex = validate(s, &mut cleaned).ok_or(NumberErrorKind::Syntax)?;
    let v = if hex { hex_value(&cleaned) } else { cleaned.parse::<f64>().map_err(|_| NumberErrorKind::Syntax)? };
    if v.is_infinite() {
        return Err(NumberErrorKind::Range);
    }
    Ok(v)
}

/// `inf`, `infinity` (signed or not) and `nan`; `None` when `s` does not start like one.
fn special(s: &[u8]) -> Option<Result<f64, NumberErrorKind>> {
    let (sign, body) = match s.first()? {
        b'+' => (1.0, &s[1..]),
        b'-' => (-1.0, &s[1..]),
        b'i' | b'I' => (1.0, s),
        b'n' | b'N' => {
            return (s.len() >= 3 && s[..3].eq_ignore_ascii_case(b"nan")).then_some(if s.len() == 3 { Ok(f64::NAN) } else { Err(NumberErrorKind::Syntax) });
        }
        _ => return None,
    };
    let n = body.iter().zip(b"infinity").take_while(|(a, b)| a.to_ascii_lowercase() == **b).count();
    let n = match n {
        8 => 8,
        3..=7 => 3,
        _ => return None,
    };
    Some(if n == body.len() { Ok(sign * f64::INFINITY) } else { Err(NumberErrorKind::Syntax) })
}

/// Checks Go's float grammar and copies the number without underscores into `out`; returns
/// whether it is hexadecimal, or `None` for a syntax error.
fn validate(s: &[u8], out: &mut String) -> Option<bool> {
    let mut i = 0;
    if let Some(&c @ (b'+' | b'-')) = s.first() {
        out.push(c as char);
        i = 1;
    }
    let hex = i + 2 < s.len() && s[i] == b'0' && (s[i + 1] | 0x20) == b'x';
    if hex {
        out.push_str("0x");
        i += 2;
    }
    let is_digit = |c: u8| c.is_ascii_digit() || (hex && c.is_ascii_hexdigit());
    let (mut saw_dot, mut saw_digits, mut underscores) = (false, false, false);
    while i < s.len() {
        let c = s[i];
        if c == b'_' {
            underscores = true;
        } else if c == b'.' {
            if saw_dot {
                break;
            }
            saw_dot = true;
            out.push('.');
        } else if is_digit(c) {
            saw_digits = true;
            out.push(c as char);
        } else {
            break;
        }
        i += 1;
    }
    if !saw_digits {
        return None;
    }
    let exp_char = if hex { b'p' } else { b'e' };
    if i < s.len() && (s[i] | 0x20) == exp_char {
        out.push(exp_char as char);
        i += 1;
        if let Some(&c @ (b'+' | b'-')) = s.get(i) {
            out.push(c as char);
            i += 1;
        }
        if !s.get(i).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        while i < s.len() && (s[i].is_ascii_digit() || s[i] == b'_') {
            if s[i] == b'_' {
                underscores = true;
            } else {
                out.push(s[i] as char);
            }
            i += 1;
        }
    } else if hex {
        return None;
    }
    if i != s.len() || (underscores && !underscores_ok(s)) {
        return None;
    }
    Some(hex)
}

/// Go's rule: an underscore only between digits, or between a base prefix and a digit.
fn underscores_ok(s: &[u8]) -> bool {
    let s = match s.first() {
        Some(b'+' | b'-') => &s[1..],
        _ => s,
    };
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if s.len() >= 2 && s[0] == b'0' && matches!(s[1] | 0x20, b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = s[1] | 0x20 == b'x';
    }
    while i < s.len() {
        let c = s[i];
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

/// A validated hex float (`[-+]0x` mantissa `p` exponent) to the nearest double.
fn hex_value(s: &str) -> f64 {
    let b = s.as_bytes();
    let (neg, b) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    let b = &b[2..];
    let mut mant: u64 = 0;
    let mut exp: i64 = 0;
    let mut sticky = false;
    let mut i = 0;
    let mut after_dot = false;
    while i < b.len() && b[i] != b'p' {
        let c = b[i];
        i += 1;
        if c == b'.' {
            after_dot = true;
            continue;
        }
        let d = u64::from((c as char).to_digit(16).unwrap_or(0));
        if mant >> 56 == 0 {
            mant = mant << 4 | d;
            if after_dot {
                exp -= 4;
            }
        } else {
            // Keep 60 significant bits; the rest only decides rounding.
            sticky |= d != 0;
            if !after_dot {
                exp += 4;
            }
        }
    }
    let pexp: i64 = std::str::from_utf8(&b[(i + 1).min(b.len())..]).ok().and_then(|e| e.parse::<i64>().ok()).unwrap_or(0);
    let mut e = exp.saturating_add(pexp.clamp(-100_000, 100_000));
    if sticky {
        mant |= 1;
    }
    let mut v = mant as f64;
    // Scale in steps that stay exact while the value is normal.
    while e > 0 && v.is_finite() && v != 0.0 {
        let k = e.min(1000) as i32;
        v *= 2f64.powi(k);
        e -= i64::from(k);
    }
    while e < 0 && v != 0.0 {
        let k = (-e).min(1000) as i32;
        v /= 2f64.powi(k);
        e += i64::from(k);
    }
    if neg {
        -v
    } else {
        v
    }
}

/// Go's `strconv.ParseInt(s, 10, 64)` for the text format's timestamps (the lexer only lets
/// digits through, so only overflow can fail).
pub fn parse_int(s: &[u8]) -> Result<i64, NumberErrorKind> {
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        return Err(NumberErrorKind::Syntax);
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return Err(NumberErrorKind::Syntax);
        }
        v = v.checked_mul(10).and_then(|v| v.checked_add(u64::from(c - b'0'))).ok_or(NumberErrorKind::Range)?;
    }
    if neg {
        if v > 1 << 63 {
            return Err(NumberErrorKind::Range);
        }
        Ok((v as i64).wrapping_neg())
    } else {
        i64::try_from(v).map_err(|_| NumberErrorKind::Range)
    }
}

/// Prometheus' `FormatOpenMetricsFloat`: Go's shortest `%g`, with `.0` added to integers,
/// and `+Inf`, `-Inf`, `NaN` spelled out.
pub fn format_openmetrics_float(f: f64) -> String {
    let mut s = String::new();
    write_openmetrics_float(&mut s, f);
    s
}

/// [`format_openmetrics_float`] appending to `out`.
pub fn write_openmetrics_float(out: &mut String, f: f64) {
    if f.is_nan() {
        out.push_str("NaN");
    } else if f.is_infinite() {
        out.push_str(if f > 0.0 { "+Inf" } else { "-Inf" });
    } else if f == 0.0 {
        out.push_str("0.0");
    } else {
        let start = out.len();
        let a = f.abs();
        if (1e-4..1e6).contains(&a) {
            // Go prints these without exponent, with the shortest digits: as Rust's Display.
            let _ = write!(out, "{f}");
        } else {
            write_go_shortest_g(out, f);
        }
        if !out[start..].contains(['.', 'e']) {
            out.push_str(".0");
        }
    }
}

/// [`format_openmetrics_float`] without allocating: `with` gets the text.
pub(crate) fn with_openmetrics_float<R>(f: f64, with: impl FnOnce(&str) -> R) -> R {
    if (1e-4..1e6).contains(&f.abs()) {
        let mut buf = StackStr::default();
        if write!(buf, "{f}").is_ok() && (buf.as_str().contains('.') || buf.push_str(".0").is_ok()) {
            return with(buf.as_str());
        }
    }
    with(&format_openmetrics_float(f))
}

/// A short string on the stack; writing more than fits fails.
#[derive(Default)]
struct StackStr {
    buf: [u8; 32],
    len: usize,
}

impl StackStr {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }

    fn push_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        self.buf.get_mut(self.len..end).ok_or(fmt::Error)?.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

impl fmt::Write for StackStr {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push_str(s)
    }
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 64)` for finite non-zero `f`.
fn write_go_shortest_g(out: &mut String, f: f64) {
    // Rust's `{:e}` prints the shortest round-tripping digits, as Go's shortest mode does.
    let e = format!("{:e}", f.abs());
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).collect();
    if f < 0.0 {
        out.push('-');
    }
    // Go switches to the exponent form below 1e-4 and, in shortest mode, from 1e6 up.
    if !(-4..6).contains(&exp) {
        out.push(digits[0] as char);
        if digits.len() > 1 {
            out.push('.');
            out.extend(digits[1..].iter().map(|&d| d as char));
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let a = exp.unsigned_abs();
        if a < 10 {
            out.push('0');
        }
        out.push_str(&a.to_string());
        return;
    }
    // %f with exactly the significant digits.
    let dp = exp + 1;
    if dp <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-dp) as usize));
        out.extend(digits.iter().map(|&d| d as char));
    } else {
        let dp = dp as usize;
        for k in 0..dp {
            out.push(digits.get(k).map_or('0', |&d| d as char));
        }
        if digits.len() > dp {
            out.push('.');
            out.extend(digits[dp..].iter().map(|&d| d as char));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_values() {
        assert_eq!(parse_value(b"4.9351e-05"), Ok(4.9351e-05));
        assert_eq!(parse_value(b"7.424100000000001e-05"), Ok(7.424100000000001e-05));
        assert_eq!(parse_value(b"-0"), Ok(-0.0));
        assert!(parse_value(b"-0").is_ok_and(|v| v.is_sign_negative()));
        assert_eq!(parse_value(b"1."), Ok(1.0));
        assert_eq!(parse_value(b".5"), Ok(0.5));
        assert_eq!(parse_value(b"+Inf"), Ok(f64::INFINITY));
        assert_eq!(parse_value(b"-inf"), Ok(f64::NEG_INFINITY));
        assert_eq!(parse_value(b"Infinity"), Ok(f64::INFINITY));
        assert!(parse_value(b"NaN").is_ok_and(f64::is_nan));
        assert!(parse_value(b"nan").is_ok_and(f64::is_nan));
        assert_eq!(parse_value(b"+nan"), Err(NumberErrorKind::Syntax));
        assert_eq!(parse_value(b"infin"), Err(NumberErrorKind::Syntax));
        assert_eq!(parse_value(b"1_2"), Err(NumberErrorKind::Unsupported));
        assert_eq!(parse_value(b"0x1P-3"), Err(NumberErrorKind::Unsupported));
        assert_eq!(parse_value(b"0x1"), Err(NumberErrorKind::Syntax));
        assert_eq!(parse_value(b"1z"), Err(NumberErrorKind::Syntax));
        assert_eq!(parse_value(b"true"), Err(NumberErrorKind::Syntax));
        assert_eq!(parse_value(b"."), Err(NumberErrorKind::Syntax));
        assert_eq!(parse_value(b"1e"), Err(NumberErrorKind::Syntax));
        assert_eq!(parse_value(b"1e400"), Err(NumberErrorKind::Range));
        assert_eq!(parse_value(b"1e-400"), Ok(0.0));
        assert_eq!(parse_value(b"123456789012345678901234567890"), Ok(1.2345678901234568e29));
    }

    #[test]
    fn full_go_syntax() {
        assert_eq!(parse_go_float(b"0x1p-3"), Ok(0.125));
        assert_eq!(parse_go_float(b"0x1.8P+1"), Ok(3.0));
        assert_eq!(parse_go_float(b"-0x_1p0"), Ok(-1.0));
        assert_eq!(parse_go_float(b"1_000.5"), Ok(1000.5));
        assert_eq!(parse_go_float(b"1__0"), Err(NumberErrorKind::Syntax));
        assert_eq!(parse_go_float(b"_1"), Err(NumberErrorKind::Syntax));
        assert_eq!(parse_go_float(b"1_"), Err(NumberErrorKind::Syntax));
        assert_eq!(parse_go_float(b"1e1_0"), Ok(1e10));
    }

    #[test]
    fn integers() {
        assert_eq!(parse_int(b"123123"), Ok(123123));
        assert_eq!(parse_int(b"9223372036854775807"), Ok(i64::MAX));
        assert_eq!(parse_int(b"9223372036854775808"), Err(NumberErrorKind::Range));
    }

    #[test]
    fn openmetrics_floats() {
        for (f, s) in [
            (1.0, "1.0"),
            (0.0, "0.0"),
            (-0.0, "0.0"),
            (2.0, "2.0"),
            (0.25, "0.25"),
            (100000.0, "100000.0"),
            (1e6, "1e+06"),
            (1234567.0, "1.234567e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-300, "1.5e-300"),
            (-2.5, "-2.5"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
        ] {
            assert_eq!(format_openmetrics_float(f), s, "{f}");
            assert_eq!(with_openmetrics_float(f, str::to_string), s, "{f}");
        }
    }
}
