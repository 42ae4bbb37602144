//! Calendar dates from day counts, for timestamps printed as Go prints them (the logger,
//! `loki.echo`, the debug exporter).

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day) (Howard Hinnant's
/// algorithm).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Go's `time.Time.String()` in UTC: `2006-01-02 15:04:05.999999999 +0000 UTC` (trailing zeros
/// of the fraction dropped, the dot too when it is zero).
pub fn go_time(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let frac = ns.rem_euclid(1_000_000_000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let mut out = format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60);
    if frac > 0 {
        out.push_str(format!(".{frac:09}").trim_end_matches('0'));
    }
    out.push_str(" +0000 UTC");
    out
}

/// RFC 3339 in UTC with the fraction's trailing zeros dropped (Go's `RFC3339Nano`):
/// `2006-01-02T15:04:05.999999999Z`.
pub fn rfc3339_nanos(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let frac = ns.rem_euclid(1_000_000_000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    let mut out = format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60);
    if frac > 0 {
        out.push_str(format!(".{frac:09}").trim_end_matches('0'));
    }
    out.push('Z');
    out
}

#[cfg(test)]
mod go_time_tests {
    use super::go_time;

    #[test]
    fn rfc3339_like_go() {
        assert_eq!(super::rfc3339_nanos(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339_nanos(1_500_000_000), "1970-01-01T00:00:01.5Z");
    }

    #[test]
    fn prints_like_go() {
        assert_eq!(go_time(0), "1970-01-01 00:00:00 +0000 UTC");
        assert_eq!(go_time(-1), "1969-12-31 23:59:59.999999999 +0000 UTC");
        assert_eq!(go_time(951_782_400_000_000_000), "2000-02-29 00:00:00 +0000 UTC");
        assert_eq!(go_time(1_700_000_000_120_000_000), "2023-11-14 22:13:20.12 +0000 UTC");
    }
}
