//! strftime-style formats as OTTL's `Time` and `FormatTime` read them (`%Y-%m-%dT%H:%M:%S`),
//! over nanoseconds since the epoch in UTC or a written `%z` offset.

const MONTHS: [&str; 12] = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const DAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/// The directives understood, each a letter after `%`.
const DIRECTIVES: &str = "YymdeHIlpMSLfszZbhBaAFTDR%";

/// The first directive of `format` this module does not know, if any.
pub fn unsupported_directive(format: &str) -> Option<String> {
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c == '%' {
            match chars.next() {
                Some(d) if DIRECTIVES.contains(d) => {}
                Some(d) => return Some(format!("%{d}")),
                None => return Some("%".into()),
            }
        }
    }
    None
}

/// Days from 1970-01-01 to the civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count from 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

struct Cursor<'s> {
    s: &'s str,
    at: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, min: usize, max: usize, what: &str) -> Result<i64, String> {
        let n = self.s[self.at..].bytes().take(max).take_while(u8::is_ascii_digit).count();
        if n < min {
            return Err(format!("expected {what} at offset {}", self.at));
        }
        let v = self.s[self.at..self.at + n].parse().map_err(|_| format!("invalid {what}"))?;
        self.at += n;
        Ok(v)
    }

    /// One of `names` (or its three-letter abbreviation), case-insensitively; its index.
    fn name(&mut self, names: &[&str], what: &str) -> Result<usize, String> {
        let rest = &self.s[self.at..];
        for (i, n) in names.iter().enumerate() {
            for cand in [*n, &n[..3]] {
                if rest.len() >= cand.len() && rest.is_char_boundary(cand.len()) && rest[..cand.len()].eq_ignore_ascii_case(cand) {
                    self.at += cand.len();
                    return Ok(i);
                }
            }
        }
        Err(format!("expected {what} at offset {}", self.at))
    }

    fn literal(&mut self, c: char) -> Result<(), String> {
        if self.s[self.at..].starts_with(c) {
            self.at += c.len_utf8();
            Ok(())
        } else {
            Err(format!("expected {c:?} at offset {}", self.at))
        }
    }
}

/// `s` read with `format`: nanoseconds since the epoch.
pub fn parse(s: &str, format: &str) -> Result<i64, String> {
    let expanded = format.replace("%F", "%Y-%m-%d").replace("%T", "%H:%M:%S").replace("%D", "%m/%d/%y").replace("%R", "%H:%M");
    let (mut y, mut mo, mut d, mut h, mut mi, mut sec, mut nanos, mut offset) = (1970, 1, 1, 0, 0, 0, 0_i64, 0_i64);
    let mut pm: Option<bool> = None;
    let mut c = Cursor { s, at: 0 };
    let mut f = expanded.chars();
    while let Some(ch) = f.next() {
        if ch != '%' {
            c.literal(ch)?;
            continue;
        }
        match f.next() {
            Some('Y') => y = c.digits(4, 4, "a four-digit year")?,
            Some('y') => {
                let yy = c.digits(2, 2, "a two-digit year")?;
                y = if yy >= 69 { 1900 + yy } else { 2000 + yy };
            }
            Some('m') => mo = c.digits(1, 2, "a month")?,
            Some('d') => d = c.digits(1, 2, "a day")?,
            Some('e') => {
                if c.s[c.at..].starts_with(' ') {
                    c.at += 1;
                }
                d = c.digits(1, 2, "a day")?;
            }
            Some('H') => h = c.digits(1, 2, "an hour")?,
            Some('I' | 'l') => h = c.digits(1, 2, "an hour")?,
            Some('p') => {
                let rest = c.s[c.at..].get(..2).unwrap_or("");
                pm = Some(match rest.to_ascii_uppercase().as_str() {
                    "AM" => false,
                    "PM" => true,
                    _ => return Err(format!("expected AM or PM at offset {}", c.at)),
                });
                c.at += 2;
            }
            Some('M') => mi = c.digits(1, 2, "minutes")?,
            Some('S') => sec = c.digits(1, 2, "seconds")?,
            Some('L') => nanos = c.digits(3, 3, "milliseconds")? * 1_000_000,
            Some('f') => nanos = c.digits(6, 6, "microseconds")? * 1_000,
            Some('s') => nanos = c.digits(9, 9, "nanoseconds")?,
            Some('z') => {
                if c.s[c.at..].starts_with('Z') {
                    c.at += 1;
                    continue;
                }
                let sign = match c.s[c.at..].chars().next() {
                    Some('+') => 1,
                    Some('-') => -1,
                    _ => return Err(format!("expected a UTC offset such as +0200 at offset {}", c.at)),
                };
                c.at += 1;
                let hh = c.digits(2, 2, "offset hours")?;
                if c.s[c.at..].starts_with(':') {
                    c.at += 1;
                }
                let mm = c.digits(2, 2, "offset minutes")?;
                offset = sign * (hh * 3600 + mm * 60);
            }
            Some('Z') => {
                let name: String = c.s[c.at..].chars().take_while(char::is_ascii_alphabetic).collect();
                if !matches!(name.as_str(), "UTC" | "GMT" | "Z") {
                    return Err(format!("time zone {name:?} is not supported: only UTC, GMT or a %z offset"));
                }
                c.at += name.len();
            }
            Some('b' | 'h' | 'B') => mo = i64::try_from(c.name(&MONTHS, "a month name")?).unwrap_or(0) + 1,
            Some('a' | 'A') => {
                c.name(&DAYS, "a weekday name")?;
            }
            Some('%') => c.literal('%')?,
            Some(other) => return Err(format!("unsupported directive %{other}")),
            None => return Err("the format ends with a lone %".into()),
        }
    }
    if c.at != s.len() {
        return Err(format!("unexpected text {:?} after the time", &s[c.at..]));
    }
    if let Some(pm) = pm {
        if !(1..=12).contains(&h) {
            return Err(format!("hour {h} is out of range for a 12-hour clock"));
        }
        h = h % 12 + if pm { 12 } else { 0 };
    }
    if !(1..=12).contains(&mo) || !(1..=days_in_month(y, mo)).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return Err(format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{sec:02} is not a valid time"));
    }
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offset;
    secs.checked_mul(1_000_000_000).and_then(|n| n.checked_add(nanos)).ok_or_else(|| "the time is out of range".to_string())
}

/// The calendar parts of `ns` since the epoch in UTC: year, month, day, hour, minute,
/// second, nanosecond and weekday (0 = Sunday).
pub fn parts(ns: i64) -> [i64; 8] {
    let (secs, nanos) = (ns.div_euclid(1_000_000_000), ns.rem_euclid(1_000_000_000));
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, mo, d) = civil_from_days(days);
    [y, mo, d, sod / 3600, sod % 3600 / 60, sod % 60, nanos, (days + 4).rem_euclid(7)]
}

/// `ns` (since the epoch, UTC) written with `format`.
pub fn format(ns: i64, format: &str) -> Result<String, String> {
    let (secs, nanos) = (ns.div_euclid(1_000_000_000), ns.rem_euclid(1_000_000_000));
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, mo, d) = civil_from_days(days);
    let (h, mi, s) = (sod / 3600, sod % 3600 / 60, sod % 60);
    let month = usize::try_from(mo - 1).ok().and_then(|i| MONTHS.get(i)).copied().unwrap_or("");
    let weekday = usize::try_from((days + 4).rem_euclid(7)).ok().and_then(|i| DAYS.get(i)).copied().unwrap_or("");
    let mut out = String::new();
    let expanded = format.replace("%F", "%Y-%m-%d").replace("%T", "%H:%M:%S").replace("%D", "%m/%d/%y").replace("%R", "%H:%M");
    let mut f = expanded.chars();
    while let Some(ch) = f.next() {
        if ch != '%' {
            out.push(ch);
            continue;
        }
        let h12 = if h % 12 == 0 { 12 } else { h % 12 };
        match f.next() {
            Some('Y') => out.push_str(&format!("{y:04}")),
            Some('y') => out.push_str(&format!("{:02}", y.rem_euclid(100))),
            Some('m') => out.push_str(&format!("{mo:02}")),
            Some('d') => out.push_str(&format!("{d:02}")),
            Some('e') => out.push_str(&format!("{d:>2}")),
            Some('H') => out.push_str(&format!("{h:02}")),
            Some('I') => out.push_str(&format!("{h12:02}")),
            Some('l') => out.push_str(&format!("{h12:>2}")),
            Some('p') => out.push_str(if h < 12 { "AM" } else { "PM" }),
            Some('M') => out.push_str(&format!("{mi:02}")),
            Some('S') => out.push_str(&format!("{s:02}")),
            Some('L') => out.push_str(&format!("{:03}", nanos / 1_000_000)),
            Some('f') => out.push_str(&format!("{:06}", nanos / 1_000)),
            Some('s') => out.push_str(&format!("{nanos:09}")),
            Some('z') => out.push_str("+0000"),
            Some('Z') => out.push_str("UTC"),
            Some('b' | 'h') => out.push_str(month.get(..3).unwrap_or("")),
            Some('B') => out.push_str(month),
            Some('a') => out.push_str(weekday.get(..3).unwrap_or("")),
            Some('A') => out.push_str(weekday),
            Some('%') => out.push('%'),
            Some(other) => return Err(format!("unsupported directive %{other}")),
            None => return Err("the format ends with a lone %".into()),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_layouts() {
        assert_eq!(parse("2023-11-14T22:13:20", "%Y-%m-%dT%H:%M:%S"), Ok(1_700_000_000 * 1_000_000_000));
        assert_eq!(parse("2023-11-14 22:13:20.250 +0100", "%F %T.%L %z"), Ok((1_700_000_000 - 3600) * 1_000_000_000 + 250_000_000));
        assert_eq!(parse("14/Nov/2023:10:13:20 PM", "%d/%b/%Y:%I:%M:%S %p"), Ok(1_700_000_000 * 1_000_000_000));
        assert_eq!(parse("1969-12-31", "%Y-%m-%d"), Ok(-86_400 * 1_000_000_000));
        assert_eq!(parse("2024-02-29", "%F"), Ok(days_from_civil(2024, 2, 29) * 86_400 * 1_000_000_000));
        assert!(parse("2023-02-29", "%F").is_err());
        assert!(parse("2023-11-14x", "%F").is_err());
        assert!(parse("2023-11-14", "%Y-%m-%d %H").is_err());
        assert!(parse("12:00 CET", "%H:%M %Z").is_err());
        assert_eq!(unsupported_directive("%Y-%Q"), Some("%Q".into()));
        assert_eq!(unsupported_directive("%F %T%%"), None);
    }

    #[test]
    fn formats_and_round_trips() {
        let t = 1_700_000_000 * 1_000_000_000 + 5_000_000;
        assert_eq!(format(t, "%A %d %B %Y %I:%M:%S.%L %p").unwrap(), "Tuesday 14 November 2023 10:13:20.005 PM");
        for days in [-800_000, -1, 0, 59, 11_016, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(parse(&format(t, "%F %T.%s").unwrap(), "%F %T.%s"), Ok(t));
        assert_eq!(parts(t), [2023, 11, 14, 22, 13, 20, 5_000_000, 2]);
    }
}
