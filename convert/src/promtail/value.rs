//! Promtail's loosely typed values: pipeline stages are decoded from `interface{}` trees (as
//! go-yaml v2 resolves plain scalars), and their messages print those trees with Go's `%v`.

use crate::yaml::{Kind, Node};

/// A plain scalar as go-yaml v2 resolves it into `interface{}`.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

pub fn resolve(n: &Node) -> Option<Scalar> {
    let Kind::Scalar { text, quoted } = &n.kind else { return None };
    if *quoted {
        return Some(Scalar::Str(text.clone()));
    }
    if n.is_null() {
        return Some(Scalar::Null);
    }
    Some(match text.as_str() {
        "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "y" | "Y" => Scalar::Bool(true),
        "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "n" | "N" => Scalar::Bool(false),
        t => {
            let plain = t.replace('_', "");
            if let Ok(i) = plain.parse::<i64>() {
                Scalar::Int(i)
            } else if let Some(i) = plain.strip_prefix("0x").and_then(|h| i64::from_str_radix(h, 16).ok()) {
                Scalar::Int(i)
            } else if let Some(f) = go_float_literal(&plain) {
                Scalar::Float(f)
            } else {
                Scalar::Str(t.to_string())
            }
        }
    })
}

fn go_float_literal(t: &str) -> Option<f64> {
    match t {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => Some(f64::NAN),
        _ if t.chars().any(|c| c.is_ascii_digit()) && !t.contains(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E') => t.parse::<f64>().ok(),
        _ => None,
    }
}

/// Go's `%T` of the decoded value.
pub fn go_type(n: &Node) -> &'static str {
    match &n.kind {
        Kind::Map(_) => "map[interface {}]interface {}",
        Kind::Seq(_) => "[]interface {}",
        Kind::Scalar { .. } => match resolve(n) {
            Some(Scalar::Null) | None => "<nil>",
            Some(Scalar::Bool(_)) => "bool",
            Some(Scalar::Int(_)) => "int",
            Some(Scalar::Float(_)) => "float64",
            Some(Scalar::Str(_)) => "string",
        },
    }
}

/// Go's `%v` of the decoded value (maps print with sorted keys).
pub fn go_fmt(n: &Node) -> String {
    match &n.kind {
        Kind::Map(entries) => {
            let mut items: Vec<(String, String)> = entries.iter().map(|(k, v)| (go_fmt(k), go_fmt(v))).collect();
            items.sort_by(|a, b| a.0.cmp(&b.0));
            let inner: Vec<String> = items.into_iter().map(|(k, v)| format!("{k}:{v}")).collect();
            format!("map[{}]", inner.join(" "))
        }
        Kind::Seq(items) => format!("[{}]", items.iter().map(go_fmt).collect::<Vec<_>>().join(" ")),
        Kind::Scalar { text, .. } => match resolve(n) {
            Some(Scalar::Null) | None => "<nil>".into(),
            Some(Scalar::Bool(b)) => b.to_string(),
            Some(Scalar::Int(i)) => i.to_string(),
            Some(Scalar::Float(f)) => go_fmt_float(f),
            Some(Scalar::Str(_)) => text.clone(),
        },
    }
}

/// `%v` of a float64: shortest representation, exponent form for large or small magnitudes.
fn go_fmt_float(f: f64) -> String {
    if f.is_infinite() {
        return if f > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    if f.is_nan() {
        return "NaN".into();
    }
    let exp = if f == 0.0 { 0 } else { f.abs().log10().floor() as i32 };
    if !(-4..21).contains(&exp) {
        let s = format!("{f:e}");
        let (mant, e) = s.split_once('e').unwrap_or((&s, "0"));
        let e: i32 = e.parse().unwrap_or(0);
        let sign = if e < 0 { '-' } else { '+' };
        return format!("{mant}e{sign}{:02}", e.abs());
    }
    format!("{f}")
}

/// `datasize.ByteSize.UnmarshalText` on the upper-cased text, as Loki's `flagext.ByteSize`
/// parses sizes (`1KB` and `1kb` are 1024 bytes).
pub fn parse_byte_size(s: &str) -> Result<u64, String> {
    let upper = s.to_uppercase();
    let syntax = || format!("strconv.UnmarshalText: parsing {:?}: invalid syntax", upper);
    let range = || format!("strconv.UnmarshalText: parsing {:?}: value out of range", upper);
    let digits = upper.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Err(syntax());
    }
    let val: u64 = upper[..digits].parse().map_err(|_| range())?;
    let unit = upper[digits..].trim().to_lowercase();
    let shift = match unit.as_str() {
        "" | "b" | "byte" => 0,
        "k" | "kb" | "kilo" | "kilobyte" | "kilobytes" => 10,
        "m" | "mb" | "mega" | "megabyte" | "megabytes" => 20,
        "g" | "gb" | "giga" | "gigabyte" | "gigabytes" => 30,
        "t" | "tb" | "tera" | "terabyte" | "terabytes" => 40,
        "p" | "pb" | "peta" | "petabyte" | "petabytes" => 50,
        "e" | "eb" | "exa" | "exabyte" | "exabytes" => 60,
        _ => return Err(syntax()),
    };
    val.checked_mul(1u64 << shift).ok_or_else(range)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sizes_are_base_two_and_case_insensitive() {
        assert_eq!(parse_byte_size("1KB"), Ok(1024));
        assert_eq!(parse_byte_size("1kB"), Ok(1024));
        assert_eq!(parse_byte_size("2048"), Ok(2048));
        assert_eq!(parse_byte_size("1MB"), Ok(1 << 20));
        assert_eq!(parse_byte_size("1.21GigaWatts").unwrap_err(), "strconv.UnmarshalText: parsing \"1.21GIGAWATTS\": invalid syntax");
    }

    #[test]
    fn go_formatting_of_decoded_values() {
        let n = crate::yaml::parse(b"b: [1, x]\na: {z: 1.5, w: ~}\n").unwrap();
        assert_eq!(go_fmt(&n), "map[a:map[w:<nil> z:1.5] b:[1 x]]");
        assert_eq!(go_type(&n), "map[interface {}]interface {}");
        assert_eq!(go_fmt_float(1e21), "1e+21");
    }
}
