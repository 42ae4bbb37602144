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
const ELEMENTS: &[(&str, El)] = &[
    ("January", El::MonthName),
    ("Monday", El::WeekdayName),
    ("2006", El::Year),
    ("-07:00:00", El::Offset { z: false, colon: true, minutes: true }),
    ("-07:00", El::Offset { z: false, colon: true, minutes: true }),
    ("-0700", El::Offset { z: false, colon: false, minutes: true }),
    ("-07", El::Offset { z: false, colon: false, minutes: false }),
    ("Z07:00:00", El::Offset { z: true, colon: true, minutes: true }),
    ("Z07:00", El::Offset { z: true, colon: true, minutes: true }),
    ("Z0700", El::Offset { z: true, colon: false, minutes: true }),
    ("Z07", El::Offset { z: true, colon: false, minutes: false }),
    ("Jan", El::MonthAbbrev),
    ("Mon", El::WeekdayAbbrev),
    ("MST", El::ZoneName),
    ("002", El::YearDay),
    ("01", El::Month { min: 2 }),
    ("02", El::Day { min: 2, space: false }),
    ("_2", El::Day { min: 1, space: true }),
    ("03", El::Hour { min: 2 }),
    ("04", El::Minute { min: 2 }),
    ("05", El::Second { min: 2 }),
    ("06", El::Year2),
    ("15", El::Hour { min: 2 }),
    ("PM", El::Pm),
    ("pm", El::Pm),
    ("1", El::Month { min: 1 }),
    ("2", El::Day { min: 1, space: false }),
    ("3", El::Hour { min: 1 }),
    ("4", El::Minute { min: 1 }),
    ("5", El::Second { min: 1 }),
];

/// What a layout element reads.
#[derive(Clone, Copy, Debug, PartialEq)]
enum El {
    Year,
    Year2,
    Month {
        min: usize,
    },
    MonthName,
    MonthAbbrev,
    WeekdayName,
    WeekdayAbbrev,
    Day {
        min: usize,
        space: bool,
    },
    YearDay,
    Hour {
        min: usize,
    },
    Minute {
        min: usize,
    },
    Second {
        min: usize,
    },
    Pm,
    ZoneName,
    /// `-07…` or `Z07…` (`z`: a `Z` in the value means UTC).
    Offset {
        z: bool,
        colon: bool,
        minutes: bool,
    },
}

/// One piece of a compiled layout.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Token {
    Literal(char),
    Element(El),
    /// `.000` (exactly `digits` digits) or `.999` (any number, or none): fractional seconds.
    Fraction {
        digits: usize,
        nines: bool,
    },
}

/// A Go reference layout, split into its pieces once so that parsing a value does not scan
/// the layout again.
#[derive(Clone, Debug)]
pub struct Layout {
    text: String,
    tokens: Vec<Token>,
}

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
    let p = Layout::new(layout).parse(s)?;
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

/// Digits of a fraction as nanoseconds (`"5"` → 500 000 000); digits past the ninth are ignored.
fn fraction_nanos(digits: &str) -> i64 {
    let mut n = 0i64;
    for (i, b) in digits.bytes().take(9).enumerate() {
        n += i64::from(b - b'0') * 10i64.pow(8 - i as u32);
    }
    n
}

impl Layout {
    pub fn new(layout: &str) -> Layout {
        let mut tokens = Vec::new();
        let mut l = layout;
        while !l.is_empty() {
            let b = l.as_bytes();
            if b.len() > 1 && matches!(b[0], b'.' | b',') && matches!(b[1], b'0' | b'9') {
                let n = l[1..].bytes().take_while(|c| *c == b[1]).count();
                tokens.push(Token::Fraction { digits: n, nines: b[1] == b'9' });
                l = &l[1 + n..];
            } else if let Some((text, el)) = ELEMENTS.iter().find(|(e, _)| l.starts_with(e)) {
                tokens.push(Token::Element(*el));
                l = &l[text.len()..];
            } else {
                let c = l.chars().next().unwrap_or(' ');
                tokens.push(Token::Literal(c));
                l = &l[c.len_utf8()..];
            }
        }
        Layout { text: layout.to_string(), tokens }
    }

    /// The parts `s` holds, read as this layout says.
    pub fn parse(&self, s: &str) -> Result<Parsed, String> {
        let bad = || format!("parsing time {s:?} as {:?}: cannot parse", self.text);
        let mut p = Parsed { month: 1, day: 1, ..Parsed::default() };
        let mut v = s;
        for (i, token) in self.tokens.iter().enumerate() {
            let el = match *token {
                Token::Literal(c) => {
                    v = v.strip_prefix(c).ok_or_else(bad)?;
                    continue;
                }
                Token::Fraction { digits, nines } => {
                    if v.starts_with(['.', ',']) {
                        let k = v[1..].bytes().take_while(u8::is_ascii_digit).count();
                        if k == 0 || (!nines && k != digits) {
                            return Err(bad());
                        }
                        p.nanos = fraction_nanos(&v[1..1 + k]);
                        v = &v[1 + k..];
                    } else if !nines {
                        return Err(bad());
                    }
                    continue;
                }
                Token::Element(el) => el,
            };
            v = match el {
                El::Year => {
                    let (y, r) = digits(v, 4, 4).ok_or_else(bad)?;
                    p.year = Some(y);
                    r
                }
                El::Year2 => {
                    let (y, r) = digits(v, 2, 2).ok_or_else(bad)?;
                    p.year = Some(if y >= 69 { 1900 + y } else { 2000 + y });
                    r
                }
                El::Month { min } => {
                    let (m, r) = digits(v, min, 2).ok_or_else(bad)?;
                    p.month = m as u32;
                    r
                }
                El::MonthName | El::MonthAbbrev => {
                    let (m, r) = word(v, &MONTHS, el == El::MonthAbbrev).ok_or_else(bad)?;
                    p.month = m as u32 + 1;
                    r
                }
                El::WeekdayName | El::WeekdayAbbrev => word(v, &DAYS, el == El::WeekdayAbbrev).ok_or_else(bad)?.1,
                El::Day { min, space } => {
                    let v2 = if space { v.strip_prefix(' ').unwrap_or(v) } else { v };
                    let (d, r) = digits(v2, min, 2).ok_or_else(bad)?;
                    p.day = d as u32;
                    r
                }
                El::YearDay => digits(v, 3, 3).ok_or_else(bad)?.1,
                El::Hour { min } => {
                    let (h, r) = digits(v, min, 2).ok_or_else(bad)?;
                    p.hour = h;
                    r
                }
                El::Minute { min } => {
                    let (m, r) = digits(v, min, 2).ok_or_else(bad)?;
                    p.min = m;
                    r
                }
                El::Second { min } => {
                    let (sec, r) = digits(v, min, 2).ok_or_else(bad)?;
                    p.sec = sec;
                    // Go accepts a fraction after seconds even when the layout has none.
                    let layout_has_fraction = matches!(self.tokens.get(i + 1), Some(Token::Fraction { .. } | Token::Literal('.' | ',')));
                    let k = if r.starts_with(['.', ',']) { r[1..].bytes().take_while(u8::is_ascii_digit).count() } else { 0 };
                    if k > 0 && !layout_has_fraction {
                        p.nanos = fraction_nanos(&r[1..1 + k]);
                        &r[1 + k..]
                    } else {
                        r
                    }
                }
                El::Pm => {
                    let up = v.get(..2).ok_or_else(bad)?;
                    p.pm = Some(if up.eq_ignore_ascii_case("PM") {
                        true
                    } else if up.eq_ignore_ascii_case("AM") {
                        false
                    } else {
                        return Err(bad());
                    });
                    &v[2..]
                }
                El::ZoneName => {
                    let n = v.bytes().take_while(|b| b.is_ascii_uppercase()).count();
                    if n < 3 {
                        return Err(bad());
                    }
                    if &v[..n] == "UTC" || &v[..n] == "GMT" {
                        p.offset = Some(0);
                    }
                    &v[n..]
                }
                El::Offset { z, colon, minutes } => {
                    if z && v.starts_with('Z') {
                        p.offset = Some(0);
                        &v[1..]
                    } else {
                        let sign = match v.as_bytes().first() {
                            Some(b'+') => 1,
                            Some(b'-') => -1,
                            _ => return Err(bad()),
                        };
                        let (h, mut r) = digits(&v[1..], 2, 2).ok_or_else(bad)?;
                        let mut m = 0;
                        if minutes {
                            if colon {
                                r = r.strip_prefix(':').ok_or_else(bad)?;
                            }
                            let (mm, r2) = digits(r, 2, 2).ok_or_else(bad)?;
                            m = mm;
                            r = r2;
                        }
                        p.offset = Some(sign * (h * 3600 + m * 60));
                        r
                    }
                }
            };
        }
        if !v.is_empty() {
            return Err(format!("parsing time {s:?}: extra text: {v:?}"));
        }
        Ok(p)
    }
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
