//! Value formatting and parsing shared by the converters: Go durations, Prometheus durations,
//! floats, byte sizes and label sanitising.

/// Go's `time.Duration.String()`: `"0s"`, `"1.5s"`, `"1m0s"`, `"100ms"`, `"2µs"`.
pub fn go_duration(nanos: i64) -> String {
    if nanos == 0 {
        return "0s".to_string();
    }
    let neg = nanos < 0;
    let u = nanos.unsigned_abs();
    let mut out = String::new();
    if u < 1_000_000_000 {
        let (unit, scale) = if u < 1_000 {
            ("ns", 1u64)
        } else if u < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        out.push_str(&fraction(u, scale));
        out.push_str(unit);
    } else {
        let h = u / 3_600_000_000_000;
        let rem = u % 3_600_000_000_000;
        let m = rem / 60_000_000_000;
        let s = rem % 60_000_000_000;
        if h > 0 {
            out.push_str(&format!("{h}h"));
        }
        if h > 0 || m > 0 {
            out.push_str(&format!("{m}m"));
        }
        out.push_str(&fraction(s, 1_000_000_000));
        out.push('s');
    }
    if neg {
        format!("-{out}")
    } else {
        out
    }
}

/// `v / scale` with the fractional digits Go prints (trailing zeros dropped).
fn fraction(v: u64, scale: u64) -> String {
    let whole = v / scale;
    let frac = v % scale;
    if frac == 0 {
        return whole.to_string();
    }
    let width = scale.to_string().len() - 1;
    let digits = format!("{frac:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
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

/// Go's `time.ParseDuration`: `1h30m`, `1.5s`, `300ms`, `2us`, `0`.
pub fn parse_go_duration(s: &str) -> Option<i64> {
    let (neg, mut rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let num_len = rest.bytes().take_while(|b| b.is_ascii_digit() || *b == b'.').count();
        if num_len == 0 {
            return None;
        }
        let n: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest.char_indices().find(|(_, c)| c.is_ascii_digit() || *c == '.').map(|(i, _)| i).unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let scale: f64 = match unit {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        total += n * scale;
    }
    let v = total.round() as i64;
    Some(if neg { -v } else { v })
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
    const UNITS: [(&str, u64); 7] =
        [("EiB", 1 << 60), ("PiB", 1 << 50), ("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10), ("B", 1)];
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
    let valid = s.chars().next().is_some_and(|c| c == '_' || c.is_alphabetic()) && s.chars().all(|c| c == '_' || c.is_alphanumeric());
    if valid {
        return Ok(s.to_string());
    }
    let mut out = String::with_capacity(s.len() + 1);
    if s.chars().next().is_some_and(|c| c.is_numeric()) {
        out.push('_');
    }
    for c in s.chars() {
        out.push(if c == '_' || c.is_alphanumeric() { c } else { '_' });
    }
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
        assert_eq!(parse_go_duration("1.5s"), Some(1_500_000_000));
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
