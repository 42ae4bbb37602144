//! Value formatting and parsing shared by the converters: Go durations, Prometheus durations,
//! floats, byte sizes and label sanitising.

use syntax::lexer::{is_letter, is_unicode_digit, is_valid_identifier};

/// Go's `time.Duration.String()`: `"0s"`, `"1.5s"`, `"1m0s"`, `"100ms"`, `"2µs"`.
pub fn go_duration(nanos: i64) -> String {
    eval::decode::Duration { nanos }.to_string()
}

/// Prometheus `model.Duration` text (`1d`, `1m30s`, `500ms`, `0`) to nanoseconds.
pub fn parse_prom_duration(s: &str) -> Option<i64> {
    if s == "0" {
        return Some(0);
    }
    if s.is_empty() {
        return None;
    }
    const UNITS: [(&str, i64); 7] = [
        ("y", 365 * 24 * 3600 * 1_000_000_000),
        ("w", 7 * 24 * 3600 * 1_000_000_000),
        ("d", 24 * 3600 * 1_000_000_000),
        ("h", 3600 * 1_000_000_000),
        ("m", 60 * 1_000_000_000),
        ("s", 1_000_000_000),
        ("ms", 1_000_000),
    ];
    let mut rest = s;
    let mut total: i64 = 0;
    let mut next_unit = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let n: i64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let idx = UNITS.iter().position(|(u, _)| *u == unit)?;
        if idx < next_unit {
            return None;
        }
        next_unit = idx + 1;
        total = total.checked_add(n.checked_mul(UNITS[idx].1)?)?;
    }
    Some(total)
}

/// Go's `strconv.FormatFloat(f, 'f', -1, 64)`-like shortest form without an exponent.
pub fn go_float(f: f64) -> String {
    if f.is_finite() {
        format!("{f}")
    } else if f.is_nan() {
        "NaN".to_string()
    } else if f > 0.0 {
        "+Inf".to_string()
    } else {
        "-Inf".to_string()
    }
}

/// `units.Base2Bytes` as Alloy prints it: `"1KiB"`, `"4MiB786KiB832B"`, `"0B"`.
pub fn base2_bytes(mut v: u64) -> String {
    if v == 0 {
        return "0B".to_string();
    }
    const UNITS: [(&str, u64); 7] = [("EiB", 1 << 60), ("PiB", 1 << 50), ("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10), ("B", 1)];
    let mut out = String::new();
    for (name, size) in UNITS {
        if v >= size {
            out.push_str(&format!("{}{name}", v / size));
            v %= size;
        }
    }
    out
}

/// Why a label cannot be made an identifier.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot turn {0:?} into an Alloy identifier: it is a keyword")]
pub struct KeywordLabel(pub String);

/// Upstream's label sanitiser: a valid identifier is kept; otherwise every rune that is not a
/// letter, digit or `_` becomes `_`, and a leading digit gets a `_` prefix. The keywords
/// `true`, `false` and `null` (where upstream panics) are an error.
pub fn sanitize_identifier(s: &str) -> Result<String, KeywordLabel> {
    if matches!(s, "true" | "false" | "null") {
        return Err(KeywordLabel(s.to_string()));
    }
    if is_valid_identifier(s) {
        return Ok(s.to_string());
    }
    let mut out = String::with_capacity(s.len() + 1);
    if s.chars().next().is_some_and(is_unicode_digit) {
        out.push('_');
    }
    out.extend(s.chars().map(|c| if is_letter(c) || is_unicode_digit(c) { c } else { '_' }));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(go_duration(0), "0s");
        assert_eq!(go_duration(5_000_000_000), "5s");
        assert_eq!(go_duration(100_000_000), "100ms");
        assert_eq!(go_duration(60_000_000_000), "1m0s");
        assert_eq!(go_duration(3_600_000_000_000), "1h0m0s");
        assert_eq!(go_duration(100_000_000_000), "1m40s");
        assert_eq!(go_duration(1_500_000_000), "1.5s");
        assert_eq!(go_duration(2_000), "2µs");
        assert_eq!(parse_prom_duration("1d").map(go_duration).as_deref(), Some("24h0m0s"));
        assert_eq!(parse_prom_duration("1m30s"), Some(90_000_000_000));
        assert_eq!(parse_prom_duration("1x"), None);
    }

    #[test]
    fn bytes_and_labels() {
        assert_eq!(base2_bytes(1024), "1KiB");
        assert_eq!(base2_bytes(5_000_000), "4MiB786KiB832B");
        assert_eq!(sanitize_identifier("prometheus-1").unwrap(), "prometheus_1");
        assert_eq!(sanitize_identifier("2").unwrap(), "_2");
        assert!(sanitize_identifier("true").is_err());
        assert_eq!(go_float(0.0000001), "0.0000001");
        assert_eq!(go_float(1.0), "1");
    }
}
