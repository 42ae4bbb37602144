//! Stages that rewrite values: `replace`, `template`, `timestamp`, `decolorize`.

use std::collections::{BTreeMap, HashMap};

use prom::relabel::GoRegex;
use serde_json::Value;

use super::config::{ReplaceConfig, TemplateConfig, TimestampConfig};
use super::template::{TVal, Template};
use super::tz::Zone;
use super::value::get_string;
use super::{now_ns, time, ConfigError, Item, Stage};

/// The template data every template sees: the stringable extracted values.
fn template_data(item: &Item) -> BTreeMap<String, TVal> {
    item.extracted.iter().filter_map(|(k, v)| get_string(v).map(|s| (k.clone(), TVal::Str(s)))).collect()
}

pub struct Replace {
    re: GoRegex,
    source: Option<String>,
    template: Template,
}

impl Replace {
    pub fn new(c: &ReplaceConfig) -> Result<Self, ConfigError> {
        if c.expression.is_empty() {
            return Err(ConfigError::new("expression is required"));
        }
        if c.source.as_deref() == Some("") {
            return Err(ConfigError::new("empty source"));
        }
        let re = GoRegex::new(&c.expression).map_err(|e| ConfigError::new(format!("could not compile regular expression: {e}")))?;
        let template = Template::parse(&c.replace).map_err(ConfigError::new)?;
        Ok(Replace { re, source: c.source.clone(), template })
    }
}

impl Stage for Replace {
    fn process(&mut self, mut item: Item, out: &mut Vec<Item>) {
        let Some(input) = super::parse::input_of(&item, self.source.as_deref()) else {
            out.push(item);
            return;
        };
        let names: Vec<Option<String>> = self.re.names().map(|n| n.map(str::to_string)).collect();
        let mut result = String::new();
        let mut last = 0;
        let mut matched = false;
        let mut named: Vec<(String, String)> = Vec::new();
        for caps in self.re.regex().captures_iter(&input) {
            matched = true;
            for (i, name) in names.iter().enumerate().skip(1) {
                let Some(m) = caps.get(i) else { continue };
                let mut data = template_data(&item);
                data.insert("Value".into(), TVal::Str(m.as_str().to_string()));
                let Ok(rendered) = self.template.execute(data) else { continue };
                if let Some(n) = name {
                    named.push((n.clone(), rendered.clone()));
                }
                // A group nested in one already replaced is part of that replacement.
                if m.start() < last {
                    continue;
                }
                result.push_str(&input[last..m.start()]);
                result.push_str(&rendered);
                last = m.end();
            }
        }
        if !matched {
            out.push(item);
            return;
        }
        result.push_str(&input[last..]);
        for (n, v) in named {
            item.extracted.insert(n, Value::String(v));
        }
        match &self.source {
            Some(s) => {
                item.extracted.insert(s.clone(), Value::String(result));
            }
            None => item.line = result,
        }
        out.push(item);
    }
}

pub struct TemplateStage {
    source: String,
    template: Template,
}

impl TemplateStage {
    pub fn new(c: &TemplateConfig) -> Result<Self, ConfigError> {
        if c.source.is_empty() {
            return Err(ConfigError::new("template source value is required"));
        }
        let template = Template::parse(&c.template).map_err(ConfigError::new)?;
        Ok(TemplateStage { source: c.source.clone(), template })
    }
}

impl Stage for TemplateStage {
    fn process(&mut self, mut item: Item, out: &mut Vec<Item>) {
        let mut data = template_data(&item);
        if let Some(v) = item.extracted.get(&self.source).and_then(get_string) {
            data.insert("Value".into(), TVal::Str(v));
        }
        data.insert("Entry".into(), TVal::Str(item.line.clone()));
        if let Ok(text) = self.template.execute(data) {
            if text.is_empty() {
                item.extracted.remove(&self.source);
            } else {
                item.extracted.insert(self.source.clone(), Value::String(text));
            }
        }
        out.push(item);
    }
}

enum Format {
    Unix(String),
    Layout(time::Layout),
}

pub struct Timestamp {
    source: String,
    formats: Vec<Format>,
    /// For layouts without a zone.
    zone: Zone,
    fudge_failures: bool,
    fudge_duplicates: bool,
    /// By stream: the last parsed time and the time last given to an entry.
    last: HashMap<super::StreamKey, (i64, i64)>,
}

fn format_of(f: &str) -> Format {
    match f {
        "Unix" | "UnixMs" | "UnixUs" | "UnixNs" => Format::Unix(f.to_string()),
        _ => Format::Layout(time::Layout::new(time::named_layout(f).unwrap_or(f))),
    }
}

impl Timestamp {
    pub fn new(c: &TimestampConfig) -> Result<Self, ConfigError> {
        if c.source.is_empty() {
            return Err(ConfigError::new("timestamp source value is required if timestamp is specified"));
        }
        if c.format.is_empty() {
            return Err(ConfigError::new("timestamp format is required"));
        }
        let zone = Zone::load(&c.location).map_err(|e| ConfigError::new(format!("invalid location specified: {e}")))?;
        let fudge_failures = match c.action_on_failure.as_str() {
            "" | "fudge" => true,
            "skip" => false,
            _ => return Err(ConfigError::new("invalid action on failure (supported values are [skip fudge])")),
        };
        let fudge_duplicates = match c.action_on_duplicate_timestamp.as_str() {
            "" | "fudge" => true,
            "keep" => false,
            _ => return Err(ConfigError::new("invalid action on duplicate timestamp (supported values are [keep fudge])")),
        };
        let formats = std::iter::once(&c.format).chain(&c.fallback_formats).map(|f| format_of(f)).collect();
        Ok(Timestamp { source: c.source.clone(), formats, zone, fudge_failures, fudge_duplicates, last: HashMap::new() })
    }

    fn parse(&self, s: &str) -> Option<i64> {
        self.formats.iter().find_map(|f| match f {
            Format::Unix(name) => time::parse_unix(name, s).and_then(Result::ok),
            Format::Layout(l) => parse_with_layout(l, s, &self.zone),
        })
    }
}

/// A layout without a year gets the year that puts the time closest to now; a time without a
/// zone is in `zone`.
fn parse_with_layout(layout: &time::Layout, s: &str, zone: &Zone) -> Option<i64> {
    let p = layout.parse(s).ok()?;
    let at = |year: i64| -> Option<i64> {
        let offset = match p.offset {
            Some(o) => o,
            None => zone.offset_for_local(time::to_nanos(&p, year, Some(0)).ok()?.div_euclid(1_000_000_000)),
        };
        time::to_nanos(&p, year, Some(offset)).ok()
    };
    if let Some(y) = p.year {
        return at(y);
    }
    let now = now_ns();
    let (this_year, _, _) = time::civil_from_days(now.div_euclid(86_400 * 1_000_000_000));
    [this_year - 1, this_year, this_year + 1].iter().filter_map(|y| at(*y)).min_by_key(|t| (t - now).unsigned_abs())
}

impl Stage for Timestamp {
    fn process(&mut self, mut item: Item, out: &mut Vec<Item>) {
        let key = item.stream_key();
        let parsed = item.extracted.get(&self.source).and_then(get_string).and_then(|s| self.parse(&s));
        match parsed {
            Some(t) => {
                let given = match self.last.get(&key) {
                    Some(&(parsed_last, given_last)) if self.fudge_duplicates && parsed_last == t => given_last.saturating_add(1),
                    _ => t,
                };
                item.timestamp_ns = given;
                self.last.insert(key, (t, given));
            }
            None if self.fudge_failures => {
                if let Some(entry) = self.last.get_mut(&key) {
                    entry.1 = entry.1.saturating_add(1);
                    item.timestamp_ns = entry.1;
                }
            }
            None => {}
        }
        out.push(item);
    }
}

pub struct Decolorize(regex::Regex);

impl Decolorize {
    pub fn new() -> Result<Self, ConfigError> {
        let re = regex::Regex::new(r"[\x1B\x{9B}][\[\]()#;?]*(?:(?:(?:[a-zA-Z\d]*(?:;[a-zA-Z\d]*)*)?\x07)|(?:(?:\d{1,4}(?:;\d{0,4})*)?[\dA-PRZcf-ntqry=><~]))")
            .map_err(|e| ConfigError::new(e.to_string()))?;
        Ok(Decolorize(re))
    }
}

impl Stage for Decolorize {
    fn process(&mut self, mut item: Item, out: &mut Vec<Item>) {
        if let std::borrow::Cow::Owned(s) = self.0.replace_all(&item.line, "") {
            item.line = s;
        }
        out.push(item);
    }
}
