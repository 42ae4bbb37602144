//! `time_parser` and the parsers' `timestamp` sub-block: reads `parse_from` with
//! `layout_type` `strptime` (default; directives translated to a Go layout, as upstream does),
//! `gotime` (a Go reference layout) or `epoch` (`s`, `ms`, `us`, `ns`, `s.ms`, `s.us`, `s.ns`),
//! in `location` (default UTC) when the text names no zone, and sets the entry's timestamp.

use loki::process::time::{to_nanos, Layout};
use loki::process::tz::Zone;

use super::config::Conf;
use super::entry::{Entry, Field, Val};
use super::{standalone, Apply, Operator};

enum Kind {
    Layout(Layout),
    Epoch(&'static str),
}

pub struct TimeParser {
    parse_from: Field,
    kind: Kind,
    zone: Zone,
}

/// strptime directives and the Go layout text each stands for.
const STRPTIME: &[(char, &str)] = &[
    ('Y', "2006"),
    ('y', "06"),
    ('m', "01"),
    ('o', "_1"),
    ('q', "1"),
    ('b', "Jan"),
    ('h', "Jan"),
    ('B', "January"),
    ('d', "02"),
    ('e', "_2"),
    ('g', "2"),
    ('a', "Mon"),
    ('A', "Monday"),
    ('H', "15"),
    ('I', "03"),
    ('l', "3"),
    ('p', "PM"),
    ('M', "04"),
    ('S', "05"),
    ('L', "999"),
    ('f', "999999"),
    ('s', "999999999"),
    ('Z', "MST"),
    ('z', "-0700"),
    ('w', "-07:00"),
    ('i', "-07"),
    ('j', "002"),
    ('D', "01/02/2006"),
    ('F', "2006-01-02"),
    ('T', "15:04:05"),
    ('r', "03:04:05 pm"),
    ('R', "15:04"),
    ('c', "Mon Jan _2 15:04:05 2006"),
    ('x', "01/02/06"),
    ('X', "15:04:05"),
    ('%', "%"),
];

/// A strptime layout as a Go layout; an unknown directive is an error.
pub fn strptime_to_go(layout: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = layout.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let d = chars.next().ok_or("layout ends with a lone %")?;
        let go = STRPTIME.iter().find(|(k, _)| *k == d).map(|(_, g)| *g).ok_or_else(|| format!("unsupported directive %{d}"))?;
        out.push_str(go);
    }
    Ok(out)
}

const EPOCH: [&str; 7] = ["s", "ms", "us", "ns", "s.ms", "s.us", "s.ns"];

impl TimeParser {
    pub fn read(c: &mut Conf<'_>) -> TimeParser {
        if !c.has("parse_from") {
            c.error("", "missing required configuration parameter `parse_from`");
        }
        let parse_from = c.field_or("parse_from", Field::attribute("time"));
        let layout_type = c.string_or("layout_type", "strptime");
        let layout = c.string("layout");
        let location = c.string_or("location", "UTC");
        let zone = Zone::load(&location).unwrap_or_else(|e| {
            c.error("location", format!("failed to load location {location}: {e}"));
            Zone::utc()
        });
        let Some(layout) = layout else {
            c.error("", "missing required configuration parameter `layout`");
            return TimeParser { parse_from, kind: Kind::Epoch("s"), zone };
        };
        let kind = match layout_type.as_str() {
            "strptime" => match strptime_to_go(&layout) {
                Ok(go) => Kind::Layout(Layout::new(&go)),
                Err(e) => {
                    c.error("layout", format!("parse strptime layout: {e}"));
                    Kind::Epoch("s")
                }
            },
            "gotime" => Kind::Layout(Layout::new(&layout)),
            "epoch" => match EPOCH.iter().find(|e| **e == layout) {
                Some(e) => Kind::Epoch(e),
                None => {
                    c.error("layout", format!("invalid layout {layout:?} for epoch: expected one of {}", EPOCH.join(", ")));
                    Kind::Epoch("s")
                }
            },
            other => {
                c.error("layout_type", format!("unsupported layout_type {other:?}: expected \"strptime\", \"gotime\" or \"epoch\""));
                Kind::Epoch("s")
            }
        };
        TimeParser { parse_from, kind, zone }
    }

    /// Nanoseconds since the epoch for `v`.
    fn parse(&self, v: &Val) -> Result<i64, String> {
        match &self.kind {
            Kind::Epoch(unit) => epoch(unit, v),
            Kind::Layout(layout) => {
                let text = v.to_text().ok_or("a time layout parses text")?;
                parse_in_zone(layout, &text, &self.zone)
            }
        }
    }
}

impl Apply for TimeParser {
    fn apply(&self, e: &mut Entry) -> Result<(), String> {
        let v = self.parse_from.get(e).ok_or_else(|| format!("entry is missing the expected parse_from field {}", self.parse_from))?;
        e.timestamp = self.parse(v)?;
        Ok(())
    }
}

/// Nanoseconds since the epoch of `text` read with `layout`, in `zone` when it names none;
/// a layout without a year means the current one, as upstream has it.
pub fn parse_in_zone(layout: &Layout, text: &str, zone: &Zone) -> Result<i64, String> {
    let p = layout.parse(text)?;
    let year = p.year.unwrap_or_else(current_year);
    match p.offset {
        Some(_) => to_nanos(&p, year, None),
        None => {
            let local = to_nanos(&p, year, Some(0))?;
            let offset = zone.offset_for_local(local.div_euclid(1_000_000_000));
            Ok(local - offset * 1_000_000_000)
        }
    }
}

fn current_year() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    loki::process::time::civil_from_days(now.div_euclid(86_400)).0
}

/// An epoch value (a number, or its text) in `unit`.
fn epoch(unit: &str, v: &Val) -> Result<i64, String> {
    let f = match v {
        Val::Int(i) => *i as f64,
        Val::Double(d) => *d,
        other => {
            let text = other.to_text().ok_or("an epoch is a number")?;
            if !unit.contains('.') {
                let i: i64 = text.trim().parse().map_err(|_| format!("invalid value {text:?} for epoch layout {unit:?}"))?;
                return Ok(scale(unit, i));
            }
            text.trim().parse::<f64>().map_err(|_| format!("invalid value {text:?} for epoch layout {unit:?}"))?
        }
    };
    let per = match unit {
        "s" | "s.ms" | "s.us" | "s.ns" => 1e9,
        "ms" => 1e6,
        "us" => 1e3,
        _ => 1.0,
    };
    let ns = f * per;
    if !ns.is_finite() || ns.abs() > 9.2e18 {
        return Err(format!("epoch value {f} is out of range"));
    }
    Ok(ns.round() as i64)
}

fn scale(unit: &str, i: i64) -> i64 {
    match unit {
        "s" => i.saturating_mul(1_000_000_000),
        "ms" => i.saturating_mul(1_000_000),
        "us" => i.saturating_mul(1_000),
        _ => i,
    }
}

pub fn build(c: &mut Conf<'_>) -> Box<dyn Operator> {
    standalone(TimeParser::read(c))
}
