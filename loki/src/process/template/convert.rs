//! Go's conversions of template values: what a typed parameter (`string`, `int`, `bool`,
//! `float64`) accepts, spf13/cast's conversions behind sprig's `interface{}` parameters, and
//! the comparisons of Go's `eq` and `lt`.

use super::{fmt, TVal};

/// A value for a Go `string` parameter.
pub(super) fn string(v: &TVal) -> Result<&str, String> {
    match v {
        TVal::Str(s) => Ok(s),
        TVal::Nil => Err("invalid value; expected string".into()),
        other => Err(format!("wrong type for value; expected string; got {}", other.type_name())),
    }
}

/// A value for a Go `int` parameter (an integral float constant converts, as in Go).
pub(super) fn int(v: &TVal) -> Result<i64, String> {
    match v {
        TVal::Int(i) => Ok(*i),
        TVal::Float(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => Ok(*f as i64),
        TVal::Nil => Err("invalid value; expected int".into()),
        other => Err(format!("wrong type for value; expected int; got {}", other.type_name())),
    }
}

/// A value for a Go `bool` parameter.
pub(super) fn boolean(v: &TVal) -> Result<bool, String> {
    match v {
        TVal::Bool(b) => Ok(*b),
        TVal::Nil => Err("invalid value; expected bool".into()),
        other => Err(format!("wrong type for value; expected bool; got {}", other.type_name())),
    }
}

/// A value for a Go `float64` parameter.
pub(super) fn float(v: &TVal) -> Result<f64, String> {
    match v {
        TVal::Float(f) => Ok(*f),
        TVal::Int(i) => Ok(*i as f64),
        other => Err(format!("wrong type for value; expected float64; got {}", other.type_name())),
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)`: a sign, a `0x`/`0o`/`0b`/`0` prefix, `_` between digits.
pub(super) fn parse_go_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits, prefixed) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d, true)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d, true)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d, true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..], true)
    } else {
        (10, lower.as_str(), false)
    };
    // Underscores only between digits, or right after a prefix.
    let mut prev_digit = prefixed;
    for c in digits.chars() {
        if c == '_' {
            if !prev_digit {
                return None;
            }
            prev_digit = false;
        } else {
            prev_digit = true;
        }
    }
    if !prev_digit || digits.is_empty() {
        return None;
    }
    let n = i128::from_str_radix(&digits.replace('_', ""), radix).ok()?;
    i64::try_from(if neg { -n } else { n }).ok()
}

/// spf13/cast's `ToInt64` (sprig's numbers): strings parse as Go integers (a fraction is cut
/// off first), anything unconvertible is 0.
pub(super) fn to_i64(v: &TVal) -> i64 {
    match v {
        TVal::Int(i) => *i,
        TVal::Float(f) => *f as i64,
        TVal::Bool(b) => i64::from(*b),
        TVal::Str(s) if s.contains('.') => {
            let (int_part, frac) = s.split_once('.').unwrap_or((s, ""));
            let sign_len = usize::from(int_part.starts_with(['-', '+']));
            let plain = int_part[sign_len..].bytes().all(|b| b.is_ascii_digit()) && frac.bytes().all(|b| b.is_ascii_digit());
            if !plain {
                return 0;
            }
            let int_part = if int_part.len() == sign_len { format!("{int_part}0") } else { int_part.to_string() };
            parse_go_int(&int_part).unwrap_or(0)
        }
        TVal::Str(s) => parse_go_int(s).unwrap_or(0),
        _ => 0,
    }
}

/// spf13/cast's `ToFloat64`.
pub(super) fn to_f64(v: &TVal) -> f64 {
    match v {
        TVal::Int(i) => *i as f64,
        TVal::Float(f) => *f,
        TVal::Bool(b) => f64::from(u8::from(*b)),
        TVal::Str(s) => s.parse().unwrap_or(0.0),
        _ => 0.0,
    }
}

/// sprig's `strval`: a string as it is, anything else its `%v`.
pub(super) fn strval(v: &TVal) -> String {
    match v {
        TVal::Str(s) => s.clone(),
        other => fmt::value(other),
    }
}

/// sprig's `empty`: Go's zero values and empty collections.
pub(super) fn empty(v: &TVal) -> bool {
    !v.truthy()
}

pub(super) fn is_nil(v: &TVal) -> bool {
    matches!(v, TVal::Nil)
}

/// The kinds Go's comparison functions tell apart.
#[derive(PartialEq, Clone, Copy)]
enum Kind {
    Bool,
    Int,
    Float,
    Str,
    Nil,
    Other,
}

fn kind(v: &TVal) -> Kind {
    match v {
        TVal::Bool(_) => Kind::Bool,
        TVal::Int(_) => Kind::Int,
        TVal::Float(_) => Kind::Float,
        TVal::Str(_) => Kind::Str,
        TVal::Nil => Kind::Nil,
        _ => Kind::Other,
    }
}

/// Go's `eq` of two values: same basic kinds compare, nil equals only nil.
pub(super) fn equal(a: &TVal, b: &TVal) -> Result<bool, String> {
    let (ka, kb) = (kind(a), kind(b));
    if ka != kb {
        return if ka == Kind::Nil || kb == Kind::Nil { Ok(false) } else { Err("incompatible types for comparison".into()) };
    }
    Ok(match (a, b) {
        (TVal::Bool(x), TVal::Bool(y)) => x == y,
        (TVal::Int(x), TVal::Int(y)) => x == y,
        (TVal::Float(x), TVal::Float(y)) => x == y,
        (TVal::Str(x), TVal::Str(y)) => x == y,
        _ if ka == Kind::Nil => true,
        _ => return Err(format!("non-comparable type {}", a.type_name())),
    })
}

/// Go's `lt`: numbers and strings of the same kind.
pub(super) fn less(a: &TVal, b: &TVal) -> Result<bool, String> {
    let (ka, kb) = (kind(a), kind(b));
    if matches!(ka, Kind::Nil | Kind::Other | Kind::Bool) || matches!(kb, Kind::Nil | Kind::Other | Kind::Bool) {
        return Err("invalid type for comparison".into());
    }
    Ok(match (a, b) {
        (TVal::Int(x), TVal::Int(y)) => x < y,
        (TVal::Float(x), TVal::Float(y)) => x < y,
        (TVal::Str(x), TVal::Str(y)) => x < y,
        _ => return Err("incompatible types for comparison".into()),
    })
}
