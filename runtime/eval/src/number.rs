//! Numbers: upstream's three kinds and their arithmetic.

use std::cmp::Ordering;

use syntax::ast::BinaryOp;

/// A number of one of three kinds. Arithmetic unifies kinds (uint < int < float) and wraps.
#[derive(Clone, Copy, Debug)]
pub enum Number {
    Int(i64),
    Uint(u64),
    Float(f64),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Uint,
    Int,
    Float,
}

impl Number {
    pub fn kind(self) -> Kind {
        match self {
            Number::Int(_) => Kind::Int,
            Number::Uint(_) => Kind::Uint,
            Number::Float(_) => Kind::Float,
        }
    }

    /// As int64: uint reinterprets its bits, floats truncate toward zero (saturating).
    pub fn as_i64(self) -> i64 {
        match self {
            Number::Int(i) => i,
            Number::Uint(u) => u as i64,
            Number::Float(f) => float_to_i64(f),
        }
    }

    /// As uint64: int reinterprets its bits, floats truncate.
    pub fn as_u64(self) -> u64 {
        match self {
            Number::Int(i) => i as u64,
            Number::Uint(u) => u,
            Number::Float(f) => float_to_u64(f),
        }
    }

    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Uint(u) => u as f64,
            Number::Float(f) => f,
        }
    }

    pub fn is_zero(self) -> bool {
        match self {
            Number::Int(i) => i == 0,
            Number::Uint(u) => u == 0,
            Number::Float(f) => f == 0.0,
        }
    }

    pub fn equals(self, other: Number) -> bool {
        match self.kind().max(other.kind()) {
            Kind::Uint => self.as_u64() == other.as_u64(),
            Kind::Int => self.as_i64() == other.as_i64(),
            Kind::Float => self.as_f64() == other.as_f64(),
        }
    }

    pub fn compare(self, other: Number) -> Option<Ordering> {
        match self.kind().max(other.kind()) {
            Kind::Uint => Some(self.as_u64().cmp(&other.as_u64())),
            Kind::Int => Some(self.as_i64().cmp(&other.as_i64())),
            Kind::Float => self.as_f64().partial_cmp(&other.as_f64()),
        }
    }

    /// `+ - * / % ^` on unified kinds (wrapping); `None` for the other operators. The caller
    /// has checked the divisor for zero.
    pub fn arith(self, op: BinaryOp, other: Number) -> Option<Number> {
        use BinaryOp::*;
        Some(match self.kind().max(other.kind()) {
            Kind::Uint => {
                let (a, b) = (self.as_u64(), other.as_u64());
                Number::Uint(match op {
                    Add => a.wrapping_add(b),
                    Sub => a.wrapping_sub(b),
                    Mul => a.wrapping_mul(b),
                    Div => a.checked_div(b).unwrap_or(0),
                    Mod => a.checked_rem(b).unwrap_or(0),
                    Pow => uint_pow(a, b),
                    _ => return None,
                })
            }
            Kind::Int => {
                let (a, b) = (self.as_i64(), other.as_i64());
                Number::Int(match op {
                    Add => a.wrapping_add(b),
                    Sub => a.wrapping_sub(b),
                    Mul => a.wrapping_mul(b),
                    Div => {
                        if b == 0 {
                            0
                        } else {
                            a.wrapping_div(b)
                        }
                    }
                    Mod => {
                        if b == 0 {
                            0
                        } else {
                            a.wrapping_rem(b)
                        }
                    }
                    Pow => int_pow(a, b),
                    _ => return None,
                })
            }
            Kind::Float => {
                let (a, b) = (self.as_f64(), other.as_f64());
                Number::Float(match op {
                    Add => a + b,
                    Sub => a - b,
                    Mul => a * b,
                    Div => a / b,
                    Mod => a % b,
                    Pow => go_pow(a, b),
                    _ => return None,
                })
            }
        })
    }

    /// Unary minus: ints and uints give `-(x as i64)` (wrapping), floats negate.
    pub fn negate(self) -> Number {
        match self {
            Number::Int(i) => Number::Int(i.wrapping_neg()),
            Number::Uint(u) => Number::Int((u as i64).wrapping_neg()),
            Number::Float(f) => Number::Float(-f),
        }
    }

    /// Decimal text as used by number → string conversion: integers in decimal, floats in
    /// the shortest round-trip form without exponent (Go `'f'`, precision -1).
    pub fn to_text(self) -> String {
        match self {
            Number::Int(i) => i.to_string(),
            Number::Uint(u) => u.to_string(),
            Number::Float(f) => format_float_plain(f),
        }
    }
}

/// Go's float64 → int64 conversion on amd64 gives MinInt64 for out-of-range values.
fn float_to_i64(f: f64) -> i64 {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0; // 2^63
    if f.is_nan() || !(-LIMIT..LIMIT).contains(&f) {
        i64::MIN
    } else {
        f as i64
    }
}

fn float_to_u64(f: f64) -> u64 {
    if f < 0.0 {
        float_to_i64(f) as u64
    } else if f.is_nan() || f >= 1.844_674_407_370_955_2e19 {
        1u64 << 63
    } else {
        f as u64
    }
}

/// Upstream's integer power: 1 for exponent 0, the base for exponents below 2, otherwise the
/// base multiplied by itself `b - 1` times (wrapping; two's complement makes this the
/// unsigned product).
fn int_pow(a: i64, b: i64) -> i64 {
    if b < 0 {
        return a;
    }
    uint_pow(a as u64, b as u64) as i64
}

fn uint_pow(a: u64, b: u64) -> u64 {
    if b == 0 {
        return 1;
    }
    if b < 2 {
        return a;
    }
    let (mut result, mut base, mut e) = (1u64, a, b);
    while e > 0 {
        if e & 1 == 1 {
            result = result.wrapping_mul(base);
        }
        base = base.wrapping_mul(base);
        e >>= 1;
    }
    result
}

/// Go's `math.Pow` agrees with `powf` except for a few special cases.
fn go_pow(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        return 1.0;
    }
    if a == 1.0 {
        return 1.0;
    }
    a.powf(b)
}

/// Shortest round-trip decimal without exponent. Infinities and NaN print as Go does.
pub fn format_float_plain(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    // Rust's `Display` for f64 is the shortest round-trip digits, never in exponent form.
    format!("{f}")
}

/// Parses a NUMBER literal the way upstream does (`strconv.ParseInt(text, 0, 64)`, then
/// unsigned, then float; a leading `0` means octal).
pub fn parse_number_literal(text: &str) -> Number {
    if let Some(i) = parse_int_base0(text) {
        return Number::Int(i);
    }
    if let Some(u) = parse_uint_base0(text) {
        return Number::Uint(u);
    }
    Number::Float(text.parse::<f64>().unwrap_or(f64::INFINITY))
}

fn base0(text: &str) -> (u32, &str) {
    let b = text.as_bytes();
    if b.len() > 1 && b[0] == b'0' {
        match b[1] {
            b'x' | b'X' => (16, &text[2..]),
            b'o' | b'O' => (8, &text[2..]),
            b'b' | b'B' => (2, &text[2..]),
            _ => (8, &text[1..]),
        }
    } else {
        (10, text)
    }
}

/// Go's `strconv.ParseUint(text, 0, 64)` without sign, underscores or errors.
pub(crate) fn parse_uint_base0(text: &str) -> Option<u64> {
    let (radix, digits) = base0(text);
    if digits.is_empty() || !digits.bytes().all(|c| (c as char).is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

fn parse_int_base0(text: &str) -> Option<i64> {
    let u = parse_uint_base0(text)?;
    i64::try_from(u).ok()
}

/// Error text of Go's `strconv.ParseFloat` for an out-of-range literal.
pub fn parse_float_literal(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(f) if f.is_infinite() => Err(format!("strconv.ParseFloat: parsing {}: value out of range", syntax::quote::go_quote(text))),
        Ok(f) => Ok(f),
        Err(_) => Err(format!("strconv.ParseFloat: parsing {}: invalid syntax", syntax::quote::go_quote(text))),
    }
}

/// Go's `strconv.ParseFloat(s, 64)` syntax (decimal, hex floats, `inf`, `nan`, underscores
/// only with a base prefix). Returns `None` on syntax errors; out of range gives ±Inf.
pub fn go_parse_float(s: &str) -> Option<f64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let v = match lower.as_str() {
        "inf" | "infinity" => f64::INFINITY,
        "nan" => f64::NAN,
        _ if lower.starts_with("0x") => parse_hex_float(&lower[2..])?,
        _ => {
            if body.is_empty()
                || !body.bytes().all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'))
                || !body.bytes().any(|c| c.is_ascii_digit())
            {
                return None;
            }
            body.parse::<f64>().ok()?
        }
    };
    Some(if neg { -v } else { v })
}

fn parse_hex_float(s: &str) -> Option<f64> {
    let (mant, exp) = match s.find('p') {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let exp = exp?; // Go requires the p exponent for hex floats
    let exp: i32 = exp.parse().ok()?;
    let (int_part, frac_part) = match mant.find('.') {
        Some(i) => (&mant[..i], &mant[i + 1..]),
        None => (mant, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let mut v = 0f64;
    for c in int_part.chars() {
        v = v * 16.0 + c.to_digit(16)? as f64;
    }
    let mut scale = 1.0 / 16.0;
    for c in frac_part.chars() {
        v += c.to_digit(16)? as f64 * scale;
        scale /= 16.0;
    }
    Some(v * 2f64.powi(exp))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals() {
        assert!(matches!(parse_number_literal("010"), Number::Int(8)));
        assert!(matches!(parse_number_literal("08"), Number::Float(f) if f == 8.0));
        assert!(matches!(parse_number_literal("9223372036854775808"), Number::Uint(9223372036854775808)));
        assert!(matches!(parse_number_literal("18446744073709551616"), Number::Float(_)));
        assert!(matches!(parse_number_literal("00"), Number::Int(0)));
    }

    #[test]
    fn plain_floats() {
        assert_eq!(format_float_plain(1e21), "1000000000000000000000");
        assert_eq!(format_float_plain(1e-7), "0.0000001");
        assert_eq!(format_float_plain(1.0), "1");
        assert_eq!(format_float_plain(0.1 + 0.2), "0.30000000000000004");
    }

    #[test]
    fn powers() {
        assert_eq!(int_pow(2, -1), 2);
        assert_eq!(int_pow(0, -1), 0);
        assert_eq!(int_pow(0, 0), 1);
        assert_eq!(int_pow(2, 63), i64::MIN);
        assert_eq!(int_pow(2, 64), 0);
        assert_eq!(int_pow(3, 5), 243);
        assert_eq!(go_parse_float("0x1.8p1"), Some(3.0));
    }
}
