//! Syslog message parsers: RFC 5424 (`<PRI>VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID
//! STRUCTURED-DATA [MSG]`) and RFC 3164 / BSD (`<PRI>Mmm dd hh:mm:ss [HOSTNAME] [TAG[PID]: ]MSG`),
//! following the grammars of the library upstream uses (leodido/go-syslog), and the RFC 5424
//! form upstream re-serializes for `use_rfc5424_message`.
//!
//! Where the grammars leave room this parser is lenient in the same direction as upstream's
//! best-effort mode only when upstream would have forwarded the message anyway: invalid UTF-8
//! is kept (replaced by U+FFFD in the line, which Loki needs as UTF-8), and an RFC 3164 message
//! may hold any bytes. A message that fails the grammar is an error, as upstream drops it.

use loki::process::time::days_from_civil;

/// RFC 5427's facility keywords (what upstream labels `__syslog_message_facility` with).
const FACILITIES: [&str; 24] = [
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp", "ntp", "security", "console", "cron2", "local0",
    "local1", "local2", "local3", "local4", "local5", "local6", "local7",
];

const SEVERITIES: [&str; 8] = ["emergency", "alert", "critical", "error", "warning", "notice", "informational", "debug"];

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

const NS: i128 = 1_000_000_000;

/// A timestamp as written: the civil time in the sender's offset (for re-serializing) and the
/// instant it names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timestamp {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// Microseconds (RFC 5424 allows six fraction digits).
    pub micros: u32,
    /// Offset east of UTC in minutes.
    pub offset_minutes: i32,
}

impl Timestamp {
    /// Nanoseconds since the epoch, saturating: RFC 3164's year 0 (upstream's default) lies
    /// before what 64-bit nanoseconds reach, and becomes their minimum.
    pub fn unix_nanos(&self) -> i64 {
        let days = i128::from(days_from_civil(self.year, self.month, self.day));
        let secs = days * 86_400 + i128::from(self.hour * 3600 + self.minute * 60 + self.second) - i128::from(self.offset_minutes) * 60;
        let ns = secs * NS + i128::from(self.micros) * 1000;
        i64::try_from(ns).unwrap_or(if ns < 0 { i64::MIN } else { i64::MAX })
    }

    /// `2006-01-02T15:04:05.999999Z07:00`, as Go formats it (trailing fraction zeros dropped,
    /// `Z` for a zero offset).
    pub fn format(&self) -> String {
        let mut s = format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", self.year, self.month, self.day, self.hour, self.minute, self.second);
        if self.micros > 0 {
            let f = format!("{:06}", self.micros);
            s.push('.');
            s.push_str(f.trim_end_matches('0'));
        }
        if self.offset_minutes == 0 {
            s.push('Z');
        } else {
            let sign = if self.offset_minutes < 0 { '-' } else { '+' };
            let m = self.offset_minutes.unsigned_abs();
            s.push_str(&format!("{sign}{:02}:{:02}", m / 60, m % 60));
        }
        s
    }
}

/// An SD-ELEMENT: its SD-ID and parameters, in the order written.
pub type SdElement = (String, Vec<(String, String)>);

/// One parsed message. Absent fields (and RFC 5424's `-`) are `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Message {
    pub priority: u8,
    /// RFC 5424 messages only.
    pub version: Option<u16>,
    pub timestamp: Option<Timestamp>,
    pub hostname: Option<String>,
    pub app_name: Option<String>,
    pub proc_id: Option<String>,
    pub msg_id: Option<String>,
    /// SD-ID → parameters, in the order written (RFC 5424 only).
    pub structured_data: Option<Vec<SdElement>>,
    pub message: Option<String>,
}

impl Message {
    pub fn facility(&self) -> &'static str {
        FACILITIES.get(usize::from(self.priority / 8)).copied().unwrap_or_default()
    }

    pub fn severity(&self) -> &'static str {
        SEVERITIES[usize::from(self.priority % 8)]
    }

    /// The RFC 5424 text upstream forwards with `use_rfc5424_message`: the parsed fields
    /// written back, `-` for absent ones, structured data sorted by ID and parameter name.
    pub fn to_rfc5424(&self) -> String {
        let nil = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
        let ts = self.timestamp.as_ref().map(Timestamp::format).unwrap_or_else(|| "-".into());
        let mut sd = String::new();
        match &self.structured_data {
            None => sd.push('-'),
            Some(elements) => {
                let mut elements: Vec<&SdElement> = elements.iter().collect();
                elements.sort_by(|a, b| a.0.cmp(&b.0));
                for (id, params) in elements {
                    sd.push('[');
                    sd.push_str(id);
                    let mut params: Vec<&(String, String)> = params.iter().collect();
                    params.sort_by(|a, b| a.0.cmp(&b.0));
                    for (name, value) in params {
                        sd.push(' ');
                        sd.push_str(name);
                        sd.push_str("=\"");
                        for c in value.chars() {
                            if matches!(c, '"' | '\\' | ']') {
                                sd.push('\\');
                            }
                            sd.push(c);
                        }
                        sd.push('"');
                    }
                    sd.push(']');
                }
            }
        }
        let mut out = format!(
            "<{}>{} {ts} {} {} {} {} {sd}",
            self.priority,
            self.version.unwrap_or(1),
            nil(&self.hostname),
            nil(&self.app_name),
            nil(&self.proc_id),
            nil(&self.msg_id)
        );
        if let Some(m) = &self.message {
            out.push(' ');
            out.push_str(m);
        }
        out
    }
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn at_end(&self) -> bool {
        self.i >= self.b.len()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8, what: &str) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!("expecting {what} [col {}]", self.i))
        }
    }

    /// `n` ASCII digits as a number.
    fn digits(&mut self, n: usize, what: &str) -> Result<u32, String> {
        let start = self.i;
        let mut v = 0u32;
        for _ in 0..n {
            match self.peek() {
                Some(c @ b'0'..=b'9') => {
                    v = v * 10 + u32::from(c - b'0');
                    self.i += 1;
                }
                _ => return Err(format!("expecting {what} [col {start}]")),
            }
        }
        Ok(v)
    }

    /// Printable US-ASCII (`graph`) up to the next space or the end: 1 to `max` of them.
    fn graph_token(&mut self, max: usize, what: &str) -> Result<&'a str, String> {
        let start = self.i;
        while let Some(c) = self.peek() {
            if c == b' ' {
                break;
            }
            if !c.is_ascii_graphic() {
                return Err(format!("expecting {what} [col {}]", self.i));
            }
            self.i += 1;
        }
        let len = self.i - start;
        if len == 0 || len > max {
            return Err(format!("expecting {what} [col {start}]"));
        }
        // Graphic ASCII only, so this is valid UTF-8.
        Ok(std::str::from_utf8(&self.b[start..self.i]).unwrap_or_default())
    }

    fn rest(&self) -> &'a [u8] {
        &self.b[self.i.min(self.b.len())..]
    }
}

/// `<PRI>`: 0, or 1 to 191 without leading zeros.
fn priority(c: &mut Cursor<'_>) -> Result<u8, String> {
    c.expect(b'<', "a priority value within angle brackets")?;
    let start = c.i;
    while c.peek().is_some_and(|b| b.is_ascii_digit()) && c.i - start < 3 {
        c.i += 1;
    }
    let text = &c.b[start..c.i];
    let value = std::str::from_utf8(text).ok().and_then(|t| t.parse::<u16>().ok());
    match value {
        Some(v) if v <= 191 && !(text.len() > 1 && text[0] == b'0') => {
            c.expect(b'>', "a priority value within angle brackets")?;
            Ok(v as u8)
        }
        _ => Err(format!("expecting a priority value in the range 1-191 or equal to 0 [col {start}]")),
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `HH:MM:SS` with hour 00-23 and minute and second 00-59.
fn clock(c: &mut Cursor<'_>, what: &str) -> Result<(u32, u32, u32), String> {
    let at = c.i;
    let h = c.digits(2, what)?;
    c.expect(b':', what)?;
    let m = c.digits(2, what)?;
    c.expect(b':', what)?;
    let s = c.digits(2, what)?;
    if h > 23 || m > 59 || s > 59 {
        return Err(format!("expecting {what} [col {at}]"));
    }
    Ok((h, m, s))
}

/// RFC 5424's TIMESTAMP: RFC 3339 with at most six fraction digits, or `-`.
fn rfc3339(c: &mut Cursor<'_>) -> Result<Option<Timestamp>, String> {
    const WHAT: &str = "a RFC3339MICRO timestamp or a nil value";
    if c.peek() == Some(b'-') && matches!(c.b.get(c.i + 1), None | Some(b' ')) {
        c.i += 1;
        return Ok(None);
    }
    let at = c.i;
    let year = i64::from(c.digits(4, WHAT)?);
    c.expect(b'-', WHAT)?;
    let month = c.digits(2, WHAT)?;
    c.expect(b'-', WHAT)?;
    let day = c.digits(2, WHAT)?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return Err(format!("expecting {WHAT} [col {at}]"));
    }
    c.expect(b'T', WHAT)?;
    let (hour, minute, second) = clock(c, WHAT)?;
    let mut micros = 0;
    if c.eat(b'.') {
        let start = c.i;
        while c.peek().is_some_and(|b| b.is_ascii_digit()) {
            c.i += 1;
        }
        let frac = &c.b[start..c.i];
        if frac.is_empty() || frac.len() > 6 {
            return Err(format!("expecting {WHAT} [col {start}]"));
        }
        micros = frac.iter().fold(0u32, |v, d| v * 10 + u32::from(d - b'0')) * 10u32.pow(6 - frac.len() as u32);
    }
    let offset_minutes = match c.peek() {
        Some(b'Z') => {
            c.i += 1;
            0
        }
        Some(sign @ (b'+' | b'-')) => {
            c.i += 1;
            let oh = c.digits(2, WHAT)?;
            c.expect(b':', WHAT)?;
            let om = c.digits(2, WHAT)?;
            if oh > 23 || om > 59 {
                return Err(format!("expecting {WHAT} [col {at}]"));
            }
            let m = (oh * 60 + om) as i32;
            if sign == b'-' {
                -m
            } else {
                m
            }
        }
        _ => return Err(format!("expecting {WHAT} [col {}]", c.i)),
    };
    Ok(Some(Timestamp { year, month, day, hour, minute, second, micros, offset_minutes }))
}

/// A header field: `-` is nil.
fn nil_or(v: &str) -> Option<String> {
    (v != "-").then(|| v.to_string())
}

/// SD-NAME: 1 to 32 printable ASCII characters except `=`, space, `]` and `"`.
fn sd_name<'a>(c: &mut Cursor<'a>, what: &str) -> Result<&'a str, String> {
    let start = c.i;
    while let Some(b) = c.peek() {
        if !b.is_ascii_graphic() || matches!(b, b'=' | b']' | b'"') {
            break;
        }
        c.i += 1;
    }
    let len = c.i - start;
    if len == 0 || len > 32 {
        return Err(format!("expecting {what} [col {start}]"));
    }
    Ok(std::str::from_utf8(&c.b[start..c.i]).unwrap_or_default())
}

/// A PARAM-VALUE up to its closing quote: `\"`, `\\` and `\]` stand for the character; a
/// backslash before anything else is kept as written.
fn param_value(c: &mut Cursor<'_>) -> Result<String, String> {
    let mut out = Vec::new();
    loop {
        match c.peek() {
            None => return Err(format!("expecting a structured data parameter value closed by a quote [col {}]", c.i)),
            Some(b'"') => {
                c.i += 1;
                return Ok(String::from_utf8_lossy(&out).into_owned());
            }
            Some(b']') => return Err(format!("expecting chars `]`, `\"`, and `\\` to be escaped within param value [col {}]", c.i)),
            Some(b'\\') => {
                match c.b.get(c.i + 1) {
                    Some(&e @ (b'"' | b'\\' | b']')) => out.push(e),
                    Some(&other) => out.extend_from_slice(&[b'\\', other]),
                    None => return Err(format!("expecting a structured data parameter value closed by a quote [col {}]", c.i)),
                }
                c.i += 2;
            }
            Some(b) => {
                out.push(b);
                c.i += 1;
            }
        }
    }
}

/// STRUCTURED-DATA: `-` or one or more `[ID name="value" ...]`; an ID may appear once.
fn structured_data(c: &mut Cursor<'_>) -> Result<Option<Vec<SdElement>>, String> {
    if c.peek() == Some(b'-') {
        c.i += 1;
        return Ok(None);
    }
    if c.peek() != Some(b'[') {
        return Err(format!("expecting a structured data section containing one or more elements (`[id( key=\"value\")*]+`) or a nil value [col {}]", c.i));
    }
    let mut elements: Vec<SdElement> = Vec::new();
    while c.eat(b'[') {
        let at = c.i;
        let id = sd_name(c, "a structured data element id (from 1 to max 32 US-ASCII characters; except `=`, ` `, `]`, and `\"`")?.to_string();
        if elements.iter().any(|(e, _)| *e == id) {
            return Err(format!("duplicate structured data element id [col {at}]"));
        }
        let mut params: Vec<(String, String)> = Vec::new();
        while c.eat(b' ') {
            let name = sd_name(c, "a structured data parameter name")?.to_string();
            c.expect(b'=', "a structured data parameter (`key=\"value\"`)")?;
            c.expect(b'"', "a structured data parameter (`key=\"value\"`)")?;
            let value = param_value(c)?;
            match params.iter_mut().find(|(n, _)| *n == name) {
                Some(p) => p.1 = value,
                None => params.push((name, value)),
            }
        }
        c.expect(b']', "a structured data element closed by `]`")?;
        elements.push((id, params));
    }
    Ok(Some(elements))
}

/// An RFC 5424 message (one frame, without its framing).
pub fn rfc5424(input: &[u8]) -> Result<Message, String> {
    let mut c = Cursor { b: input, i: 0 };
    let priority = priority(&mut c)?;
    let at = c.i;
    let version = match c.peek() {
        Some(b'1'..=b'9') => {
            let start = c.i;
            while c.peek().is_some_and(|b| b.is_ascii_digit()) && c.i - start < 3 {
                c.i += 1;
            }
            std::str::from_utf8(&c.b[start..c.i]).ok().and_then(|v| v.parse::<u16>().ok())
        }
        _ => None,
    };
    let Some(version) = version else { return Err(format!("expecting a version value in the range 1-999 [col {at}]")) };
    c.expect(b' ', "a space after the version")?;
    let timestamp = rfc3339(&mut c)?;
    c.expect(b' ', "a space after the timestamp")?;
    let hostname = nil_or(c.graph_token(255, "an hostname (from 1 to max 255 US-ASCII characters) or a nil value")?);
    c.expect(b' ', "a space after the hostname")?;
    let app_name = nil_or(c.graph_token(48, "an app-name (from 1 to max 48 US-ASCII characters) or a nil value")?);
    c.expect(b' ', "a space after the app-name")?;
    let proc_id = nil_or(c.graph_token(128, "a procid (from 1 to max 128 US-ASCII characters) or a nil value")?);
    c.expect(b' ', "a space after the procid")?;
    let msg_id = nil_or(c.graph_token(32, "a msgid (from 1 to max 32 US-ASCII characters) or a nil value")?);
    c.expect(b' ', "a space after the msgid")?;
    let structured_data = structured_data(&mut c)?;
    let message = if c.at_end() {
        None
    } else {
        c.expect(b' ', "a space before the message")?;
        Some(String::from_utf8_lossy(c.rest()).into_owned()).filter(|m| !m.is_empty())
    };
    Ok(Message { priority, version: Some(version), timestamp, hostname, app_name, proc_id, msg_id, structured_data, message })
}

/// What RFC 3164 parsing needs to know that the message does not say.
#[derive(Clone, Copy, Debug, Default)]
pub struct Rfc3164Year {
    /// `rfc3164_default_to_current_year`: the current (year, month); else the year is 0, as
    /// upstream leaves it.
    pub current: Option<(i64, u32)>,
}

/// RFC 3164's `Mmm dd hh:mm:ss` (day ` 8`, `08` or `8`), in UTC.
fn stamp(c: &mut Cursor<'_>, year: Rfc3164Year) -> Result<Timestamp, String> {
    const WHAT: &str = "a Stamp timestamp";
    let at = c.i;
    let month = MONTHS.iter().position(|m| c.b[c.i..].starts_with(m.as_bytes())).ok_or_else(|| format!("expecting {WHAT} [col {at}]"))? as u32 + 1;
    c.i += 3;
    c.expect(b' ', WHAT)?;
    c.eat(b' ');
    let day_at = c.i;
    let mut day = c.digits(1, WHAT)?;
    if c.peek().is_some_and(|b| b.is_ascii_digit()) {
        day = day * 10 + c.digits(1, WHAT)?;
    }
    c.expect(b' ', WHAT)?;
    let (hour, minute, second) = clock(c, WHAT)?;
    // Go parses the stamp in year 0 (a leap year) and then moves it.
    if day == 0 || day > days_in_month(0, month) {
        return Err(format!("parsing time: day out of range [col {day_at}]"));
    }
    let y = match year.current {
        None => 0,
        // Around New Year a December stamp received in January is last year's, and the other
        // way round.
        Some((now_y, 1)) if month == 12 => now_y - 1,
        Some((now_y, 12)) if month == 1 => now_y + 1,
        Some((now_y, _)) => now_y,
    };
    // Go moves the year with AddDate, which normalizes 29 February of a common year to 1 March.
    let (y, month, day) = if month == 2 && day == 29 && !is_leap(y) { (y, 3, 1) } else { (y, month, day) };
    Ok(Timestamp { year: y, month, day, hour, minute, second, micros: 0, offset_minutes: 0 })
}

/// TAG (1 to 48 printable characters other than space, `:` and `[`), an optional `[CONTENT]`,
/// then `: `: the tag, the content and where the message starts.
fn tag(rest: &[u8]) -> Option<(&str, &str, usize)> {
    let end = rest.iter().position(|&b| !(b.is_ascii_graphic() && b != b':' && b != b'['))?;
    if end == 0 || end > 48 {
        return None;
    }
    let mut i = end;
    let mut content = "";
    if rest[i] == b'[' {
        let len = rest[i + 1..].iter().position(|&b| !(b.is_ascii_graphic() && b != b'[' && b != b']'))?;
        if rest.get(i + 1 + len) != Some(&b']') {
            return None;
        }
        content = std::str::from_utf8(&rest[i + 1..i + 1 + len]).ok()?;
        i += len + 2;
    }
    if rest.get(i) != Some(&b':') || rest.get(i + 1) != Some(&b' ') || i + 2 >= rest.len() {
        return None;
    }
    Some((std::str::from_utf8(&rest[..end]).ok()?, content, i + 2))
}

/// An RFC 3164 message (one frame, without its framing).
pub fn rfc3164(input: &[u8], year: Rfc3164Year) -> Result<Message, String> {
    let input = input.strip_suffix(b"\n").unwrap_or(input);
    let mut c = Cursor { b: input, i: 0 };
    let priority = priority(&mut c)?;
    while c.eat(b' ') {}
    let timestamp = Some(stamp(&mut c, year)?);
    let mut msg = Message { priority, timestamp, ..Message::default() };
    if c.at_end() {
        return Ok(msg);
    }
    if c.peek() != Some(b' ') {
        return Err(format!("parsing error [col {}]", c.i));
    }
    while c.eat(b' ') {}
    let mut rest = c.rest();
    // HOSTNAME: a first word without `:` followed by more.
    if let Some(sp) = rest.iter().position(|&b| b == b' ') {
        let word = &rest[..sp];
        let after = rest[sp..].iter().position(|&b| b != b' ').map(|n| sp + n);
        if let Some(after) = after {
            if sp <= 255 && word.iter().all(|&b| b.is_ascii_graphic() && b != b':') {
                let host = std::str::from_utf8(word).unwrap_or_default();
                msg.hostname = nil_or(host);
                rest = &rest[after..];
            }
        }
    }
    if let Some((app, content, start)) = tag(rest) {
        msg.app_name = nil_or(app);
        msg.proc_id = Some(content).filter(|c| !c.is_empty() && *c != "-").map(String::from);
        rest = &rest[start..];
    }
    msg.message = Some(String::from_utf8_lossy(rest).into_owned()).filter(|m| !m.is_empty());
    Ok(msg)
}
