//! Prometheus' duration text (`1h30m`, `500ms`, `1d`): labels `__scrape_interval__` and
//! `__scrape_timeout__` carry it.

use std::time::Duration;

const UNITS: [(&str, u64); 7] = [("y", 365 * 86_400_000), ("w", 7 * 86_400_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)];

/// The shortest form: `1m`, `1h30m`, `10s`, `500ms`; zero is `0s`.
pub fn format_duration(d: Duration) -> String {
    let mut ms = d.as_millis() as u64;
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, size) in UNITS {
        if ms >= size {
            out.push_str(&format!("{}{unit}", ms / size));
            ms %= size;
        }
    }
    out
}

/// Parses the form [`format_duration`] writes (units in decreasing order, each at most once).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("not a valid duration string: {s:?}");
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    if s.is_empty() {
        return Err(bad());
    }
    let (mut rest, mut total, mut last_unit) = (s, 0u64, usize::MAX);
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        // `ms` before `m`: the longer unit name first.
        let (i, (unit, size)) = UNITS.iter().enumerate().filter(|(_, (u, _))| rest.starts_with(u)).max_by_key(|(_, (u, _))| u.len()).ok_or_else(bad)?;
        if last_unit != usize::MAX && i <= last_unit {
            return Err(bad());
        }
        last_unit = i;
        rest = &rest[unit.len()..];
        total = n.checked_mul(*size).and_then(|v| total.checked_add(v)).ok_or_else(bad)?;
    }
    Ok(Duration::from_millis(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for (text, ms) in [("1m", 60_000), ("10s", 10_000), ("1h30m", 5_400_000), ("500ms", 500), ("1d", 86_400_000), ("1m0s5ms", 60_005)] {
            let d = parse_duration(text).expect(text);
            assert_eq!(d.as_millis() as u64, ms, "{text}");
        }
        assert_eq!(format_duration(Duration::from_millis(5_400_000)), "1h30m");
        assert_eq!(format_duration(Duration::from_millis(60_005)), "1m5ms");
        assert!(parse_duration("5").is_err() && parse_duration("1s1m").is_err() && parse_duration("x").is_err());
    }
}
