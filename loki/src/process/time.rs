//! Timestamps: RFC 3339 parsing and printing, Go reference layouts and the format names
//! `stage.timestamp` accepts (`RFC3339`, `Unix`, `UnixMs`, ...). Civil-date arithmetic is done
//! here (proleptic Gregorian, UTC or fixed offsets).

const NS: i64 = 1_000_000_000;

/// Days since 1970-01-01 of a civil date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `2006-01-02T15:04:05.999999999Z07:00` in UTC, as Go's `RFC3339Nano` prints it.
pub fn format_rfc3339(ns: i64) -> String {
    let (secs, frac) = (ns.div_euclid(NS), ns.rem_euclid(NS));
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    let mut s = format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}", sod / 3600, sod % 3600 / 60, sod % 60);
    if frac > 0 {
        let f = format!("{frac:09}");
        s.push('.');
        s.push_str(f.trim_end_matches('0'));
    }
    s.push('Z');
    s
}

/// RFC 3339 with optional fraction (Go's `RFC3339Nano` parse).
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    parse_layout("2006-01-02T15:04:05.999999999Z07:00", s, None).ok()
}

/// Go's named layouts.
pub fn named_layout(name: &str) -> Option<&'static str> {
    Some(match name {
        "ANSIC" => "Mon Jan _2 15:04:05 2006",
        "UnixDate" => "Mon Jan _2 15:04:05 MST 2006",
        "RubyDate" => "Mon Jan 02 15:04:05 -0700 2006",
        "RFC822" => "02 Jan 06 15:04 MST",
        "RFC822Z" => "02 Jan 06 15:04 -0700",
        "RFC850" => "Monday, 02-Jan-06 15:04:05 MST",
        "RFC1123" => "Mon, 02 Jan 2006 15:04:05 MST",
        "RFC1123Z" => "Mon, 02 Jan 2006 15:04:05 -0700",
        "RFC3339" => "2006-01-02T15:04:05Z07:00",
        "RFC3339Nano" => "2006-01-02T15:04:05.999999999Z07:00",
        _ => return None,
    })
}

const MONTHS: [&str; 12] = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const DAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/// Layout elements, longest first where one is a prefix of another.
const ELEMENTS: &[&str] = &[
    "January",
    "Monday",
    "2006",
    "-07:00:00",
    "-07:00",
    "-0700",
    "-07",
    "Z07:00:00",
    "Z07:00",
    "Z0700",
    "Z07",
    "Jan",
    "Mon",
    "MST",
    "002",
    "01",
    "02",
    "_2",
    "03",
    "04",
    "05",
    "06",
    "15",
    "PM",
    "pm",
    "1",
    "2",
    "3",
    "4",
    "5",
];

fn digits(s: &str, min: usize, max: usize) -> Option<(i64, &str)> {
    let n = s.bytes().take(max).take_while(u8::is_ascii_digit).count();
    if n < min {
        return None;
    }
    Some((s[..n].parse().ok()?, &s[n..]))
}

fn word<'a>(s: &'a str, names: &[&str], short: bool) -> Option<(usize, &'a str)> {
    names.iter().enumerate().find_map(|(i, n)| {
        let n = if short { &n[..3] } else { n };
        (s.len() >= n.len() && s[..n.len()].eq_ignore_ascii_case(n)).then(|| (i, &s[n.len()..]))
    })
}

/// The parts a layout read.
#[derive(Default)]
pub struct Parsed {
    pub year: Option<i64>,
    pub month: u32,
    pub day: u32,
    pub hour: i64,
    pub min: i64,
    pub sec: i64,
    pub nanos: i64,
    pub pm: Option<bool>,
    pub offset: Option<i64>,
}

/// Parses `s` with Go reference layout `layout`; `default_offset` (seconds east of UTC)
/// applies when the layout has no zone. Returns nanoseconds since the epoch.
pub fn parse_layout(layout: &str, s: &str, default_offset: Option<i64>) -> Result<i64, String> {
    let p = parse_parts(layout, s)?;
    let year = p.year.unwrap_or(0);
    to_nanos(&p, year, default_offset)
}

pub fn to_nanos(p: &Parsed, year: i64, default_offset: Option<i64>) -> Result<i64, String> {
    let mut hour = p.hour;
    match p.pm {
        Some(true) if hour < 12 => hour += 12,
        Some(false) if hour == 12 => hour = 0,
        _ => {}
    }
    let (month, day) = (p.month.max(1), p.day.max(1));
    if day > 31 || month > 12 || hour > 23 || p.min > 59 || p.sec > 59 {
        return Err("value out of range".into());
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + p.min * 60 + p.sec - p.offset.or(default_offset).unwrap_or(0);
    secs.checked_mul(NS).and_then(|n| n.checked_add(p.nanos)).ok_or_else(|| "time out of range".into())
}

pub fn parse_parts(layout: &str, s: &str) -> Result<Parsed, String> {
    let bad = || format!("parsing time {s:?} as {layout:?}: cannot parse");
    let mut p = Parsed { month: 1, day: 1, ..Parsed::default() };
    let (mut l, mut v) = (layout, s);
    while !l.is_empty() {
        // Fractional seconds: `.000` / `.999` (or with a comma).
        if (l.starts_with(".0") || l.starts_with(".9") || l.starts_with(",0") || l.starts_with(",9"))
            && l[1..].bytes().take_while(|b| *b == l.as_bytes()[1]).count() > 0
        {
            let n = l[1..].bytes().take_while(|b| *b == l.as_bytes()[1]).count();
            let nines = l.as_bytes()[1] == b'9';
            l = &l[1 + n..];
            if v.starts_with(['.', ',']) {
                let k = v[1..].bytes().take_while(u8::is_ascii_digit).count();
                if k == 0 || (!nines && k != n) {
                    return Err(bad());
                }
                let frac = &v[1..1 + k.min(9)];
                p.nanos = format!("{frac:0<9}").parse().map_err(|_| bad())?;
                v = &v[1 + k..];
            } else if !nines {
                return Err(bad());
            }
            continue;
        }
        let Some(el) = ELEMENTS.iter().find(|e| l.starts_with(**e)) else {
            let c = l.chars().next().unwrap_or(' ');
            if !v.starts_with(c) {
                return Err(bad());
            }
            l = &l[c.len_utf8()..];
            v = &v[c.len_utf8()..];
            continue;
        };
        l = &l[el.len()..];
        let rest;
        match *el {
            "2006" => {
                let (y, r) = digits(v, 4, 4).ok_or_else(bad)?;
                p.year = Some(y);
                rest = r;
            }
            "06" => {
                let (y, r) = digits(v, 2, 2).ok_or_else(bad)?;
                p.year = Some(if y >= 69 { 1900 + y } else { 2000 + y });
                rest = r;
            }
            "01" | "1" => {
                let (m, r) = digits(v, if *el == "01" { 2 } else { 1 }, 2).ok_or_else(bad)?;
                p.month = m as u32;
                rest = r;
            }
            "January" | "Jan" => {
                let (i, r) = word(v, &MONTHS, *el == "Jan").ok_or_else(bad)?;
                p.month = i as u32 + 1;
                rest = r;
            }
            "Monday" | "Mon" => {
                let (_, r) = word(v, &DAYS, *el == "Mon").ok_or_else(bad)?;
                rest = r;
            }
            "02" | "2" | "_2" => {
                let v2 = if *el == "_2" { v.strip_prefix(' ').unwrap_or(v) } else { v };
                let (d, r) = digits(v2, if *el == "02" { 2 } else { 1 }, 2).ok_or_else(bad)?;
                p.day = d as u32;
                rest = r;
            }
            "002" => {
                let (_, r) = digits(v, 3, 3).ok_or_else(bad)?;
                rest = r;
            }
            "15" | "03" | "3" => {
                let (h, r) = digits(v, if *el == "3" { 1 } else { 2 }, 2).ok_or_else(bad)?;
                p.hour = h;
                rest = r;
            }
            "04" | "4" => {
                let (m, r) = digits(v, if *el == "4" { 1 } else { 2 }, 2).ok_or_else(bad)?;
                p.min = m;
                rest = r;
            }
            "05" | "5" => {
                let (sec, r) = digits(v, if *el == "5" { 1 } else { 2 }, 2).ok_or_else(bad)?;
                p.sec = sec;
                rest = r;
                // Go accepts a fraction after seconds even when the layout has none.
                if (r.starts_with('.') || r.starts_with(',')) && !(l.starts_with('.') || l.starts_with(',')) {
                    let k = r[1..].bytes().take_while(u8::is_ascii_digit).count();
                    if k > 0 {
                        p.nanos = format!("{:0<9}", &r[1..1 + k.min(9)]).parse().map_err(|_| bad())?;
                        v = &r[1 + k..];
                        continue;
                    }
                }
            }
            "PM" | "pm" => {
                let up = v.get(..2).map(str::to_ascii_uppercase).ok_or_else(bad)?;
                p.pm = Some(match up.as_str() {
                    "PM" => true,
                    "AM" => false,
                    _ => return Err(bad()),
                });
                rest = &v[2..];
            }
            "MST" => {
                let n = v.bytes().take_while(|b| b.is_ascii_uppercase()).count();
                if n < 3 {
                    return Err(bad());
                }
                if &v[..n] == "UTC" || &v[..n] == "GMT" {
                    p.offset = Some(0);
                }
                rest = &v[n..];
            }
            z => {
                if z.starts_with('Z') && v.starts_with('Z') {
                    p.offset = Some(0);
                    rest = &v[1..];
                } else {
                    let sign = match v.as_bytes().first() {
                        Some(b'+') => 1,
                        Some(b'-') => -1,
                        _ => return Err(bad()),
                    };
                    let colon = z.contains(':');
                    let (h, r) = digits(&v[1..], 2, 2).ok_or_else(bad)?;
                    let mut r = r;
                    let mut m = 0;
                    if !z.ends_with("07") {
                        if colon {
                            r = r.strip_prefix(':').ok_or_else(bad)?;
                        }
                        let (mm, r2) = digits(r, 2, 2).ok_or_else(bad)?;
                        m = mm;
                        r = r2;
                    }
                    p.offset = Some(sign * (h * 3600 + m * 60));
                    rest = r;
                }
            }
        }
        v = rest;
    }
    if !v.is_empty() {
        return Err(format!("parsing time {s:?}: extra text: {v:?}"));
    }
    Ok(p)
}

/// `Unix` (seconds with an optional fraction), `UnixMs`, `UnixUs`, `UnixNs`.
pub fn parse_unix(format: &str, s: &str) -> Option<Result<i64, String>> {
    let bad = || format!("strconv.ParseInt: parsing {s:?}: invalid syntax");
    Some(match format {
        "Unix" => {
            let (int, frac) = s.split_once('.').unwrap_or((s, ""));
            int.parse::<i64>().map_err(|_| bad()).and_then(|secs| {
                let nanos = if frac.is_empty() {
                    0
                } else {
                    if !frac.bytes().all(|b| b.is_ascii_digit()) {
                        return Err(bad());
                    }
                    format!("{:0<9}", &frac[..frac.len().min(9)]).parse::<i64>().map_err(|_| bad())?
                };
                secs.checked_mul(NS).and_then(|n| n.checked_add(nanos)).ok_or_else(bad)
            })
        }
        "UnixMs" => s.parse::<i64>().map_err(|_| bad()).map(|v| v.saturating_mul(1_000_000)),
        "UnixUs" => s.parse::<i64>().map_err(|_| bad()).map(|v| v.saturating_mul(1_000)),
        "UnixNs" => s.parse::<i64>().map_err(|_| bad()),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips() {
        let ns = parse_rfc3339("2019-01-01T01:00:00.000000001Z").expect("parses");
        assert_eq!(format_rfc3339(ns), "2019-01-01T01:00:00.000000001Z");
        assert_eq!(parse_rfc3339("2106-01-02T23:04:05-04:00").map(format_rfc3339).as_deref(), Some("2106-01-03T03:04:05Z"));
        assert_eq!(parse_layout("Jan _2 15:04:05 2006", "Feb  3 10:00:00 2020", None).map(format_rfc3339).as_deref(), Ok("2020-02-03T10:00:00Z"));
    }
}
