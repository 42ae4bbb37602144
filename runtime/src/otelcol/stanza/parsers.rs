//! The parsers that turn a text field into a map: `json_parser`, `regex_parser`,
//! `key_value_parser`, `csv_parser`. Each reads `parse_from` (default `body`), merges the map
//! into `parse_to` (default `attributes`), then runs its optional `timestamp`, `severity`,
//! `trace` and `scope_name` sub-parsers on the result.

use std::collections::BTreeMap;

use super::config::Conf;
use super::entry::{Entry, Field, Val};
use super::scope::ScopeNameParser;
use super::severity::SeverityParser;
use super::time::TimeParser;
use super::trace::TraceParser;
use super::{edit, Apply, Edit, Operator};

/// What every parser shares.
pub struct Common {
    parse_from: Field,
    parse_to: Field,
    timestamp: Option<TimeParser>,
    severity: Option<SeverityParser>,
    trace: Option<TraceParser>,
    scope_name: Option<ScopeNameParser>,
}

impl Common {
    pub fn read(c: &mut Conf<'_>) -> Common {
        c.not_yet(&["body", "preserve_to"]);
        Common {
            parse_from: c.field_or("parse_from", Field::body()),
            parse_to: c.field_or("parse_to", Field::attributes()),
            timestamp: c.nested("timestamp", TimeParser::read),
            severity: c.nested("severity", SeverityParser::read),
            trace: c.nested("trace", TraceParser::read),
            scope_name: c.nested("scope_name", |c| ScopeNameParser::read(c, true)),
        }
    }

    /// The text at `parse_from`.
    pub fn text(&self, e: &Entry) -> Result<String, String> {
        match self.parse_from.get(e) {
            None => Err(format!("entry is missing the expected parse_from field {}", self.parse_from)),
            Some(v) => v.to_text().ok_or_else(|| format!("type {} cannot be parsed: {} holds no text", kind(v), self.parse_from)),
        }
    }

    /// Stores a parsed map and runs the sub-parsers.
    pub fn store(&self, e: &mut Entry, parsed: BTreeMap<String, Val>) -> Result<bool, String> {
        self.parse_to.set(e, Val::Map(parsed));
        if let Some(t) = &self.timestamp {
            t.apply(e)?;
        }
        if let Some(s) = &self.severity {
            s.apply(e)?;
        }
        if let Some(t) = &self.trace {
            t.apply(e)?;
        }
        if let Some(s) = &self.scope_name {
            s.apply(e)?;
        }
        Ok(true)
    }
}

fn kind(v: &Val) -> &'static str {
    match v {
        Val::Map(_) => "map",
        Val::List(_) => "list",
        Val::Null => "nil",
        _ => "scalar",
    }
}

struct Json {
    common: Common,
    parse_ints: bool,
}

pub fn json(c: &mut Conf<'_>) -> Box<dyn Operator> {
    edit(Json { common: Common::read(c), parse_ints: c.bool_or("parse_ints", false) })
}

/// A JSON value as the collector's decoder gives it: numbers are doubles unless `parse_ints`
/// asks for integers where they fit.
pub(super) fn from_json(v: serde_json::Value, parse_ints: bool) -> Val {
    match v {
        serde_json::Value::Null => Val::Null,
        serde_json::Value::Bool(b) => Val::Bool(b),
        serde_json::Value::Number(n) => match n.as_i64().filter(|_| parse_ints) {
            Some(i) => Val::Int(i),
            None => Val::Double(n.as_f64().unwrap_or(0.0)),
        },
        serde_json::Value::String(s) => Val::Str(s),
        serde_json::Value::Array(items) => Val::List(items.into_iter().map(|v| from_json(v, parse_ints)).collect()),
        serde_json::Value::Object(o) => Val::Map(o.into_iter().map(|(k, v)| (k, from_json(v, parse_ints))).collect()),
    }
}

impl Edit for Json {
    fn edit(&self, e: &mut Entry) -> Result<bool, String> {
        let text = self.common.text(e)?;
        // serde_json bounds its own recursion (128 levels).
        let parsed: serde_json::Value = serde_json::from_str(&text).map_err(|err| format!("parsing JSON: {err}"))?;
        let serde_json::Value::Object(_) = parsed else {
            return Err("parsing JSON: expected an object".into());
        };
        let Val::Map(map) = from_json(parsed, self.parse_ints) else { return Err("parsing JSON: expected an object".into()) };
        self.common.store(e, map)
    }
}

struct Regex {
    common: Common,
    /// `None` only in a configuration that was refused, which never runs.
    regex: Option<regex::Regex>,
}

pub fn regex(c: &mut Conf<'_>) -> Box<dyn Operator> {
    c.not_yet(&["cache"]);
    if !c.has("regex") {
        c.error("", "missing required field \"regex\" for operator type \"regex_parser\"");
    }
    let re = c.regex("regex");
    if re.as_ref().is_some_and(|re| re.capture_names().flatten().next().is_none()) {
        c.error("regex", "no named capture groups in regex");
    }
    let common = Common::read(c);
    edit(Regex { common, regex: re })
}

impl Edit for Regex {
    fn edit(&self, e: &mut Entry) -> Result<bool, String> {
        let re = self.regex.as_ref().ok_or("no regex configured")?;
        let text = self.common.text(e)?;
        let caps = re.captures(&text).ok_or("regex pattern does not match")?;
        let map = re.capture_names().enumerate().filter_map(|(i, name)| Some((name?.to_string(), Val::str(caps.get(i).map_or("", |m| m.as_str()))))).collect();
        self.common.store(e, map)
    }
}

struct KeyValue {
    common: Common,
    delimiter: String,
    pair_delimiter: Option<String>,
}

pub fn key_value(c: &mut Conf<'_>) -> Box<dyn Operator> {
    let delimiter = c.string_or("delimiter", "=");
    let pair_delimiter = c.string("pair_delimiter");
    if delimiter.is_empty() {
        c.error("delimiter", "delimiter is a required parameter");
    }
    if pair_delimiter.as_deref() == Some("") {
        c.error("pair_delimiter", "pair_delimiter cannot be set to an empty string");
    }
    if pair_delimiter.as_deref() == Some(delimiter.as_str()) {
        c.error("pair_delimiter", "delimiter and pair_delimiter cannot be the same value");
    }
    edit(KeyValue { common: Common::read(c), delimiter, pair_delimiter })
}

/// Splits on runs of whitespace outside double or single quotes.
fn split_whitespace_quoted(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut quote = None;
    let mut start = None;
    for (i, ch) in s.char_indices() {
        match (quote, ch) {
            (None, '"' | '\'') => {
                quote = Some(ch);
                start.get_or_insert(i);
            }
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if let Some(st) = start.take() {
                    out.push(&s[st..i]);
                }
            }
            _ => {
                start.get_or_insert(i);
            }
        }
    }
    if let Some(st) = start {
        out.push(&s[st..]);
    }
    out
}

fn unquote(s: &str) -> &str {
    let s = s.trim();
    for q in ['"', '\''] {
        if s.len() >= 2 && s.starts_with(q) && s.ends_with(q) {
            return &s[1..s.len() - 1];
        }
    }
    s
}

impl Edit for KeyValue {
    fn edit(&self, e: &mut Entry) -> Result<bool, String> {
        let text = self.common.text(e)?;
        let pairs: Vec<&str> = match &self.pair_delimiter {
            None => split_whitespace_quoted(&text),
            Some(d) => text.split(d.as_str()).map(str::trim).filter(|p| !p.is_empty()).collect(),
        };
        let mut map = BTreeMap::new();
        for pair in pairs {
            let Some((k, v)) = pair.split_once(self.delimiter.as_str()) else {
                return Err(format!("cannot split {pair:?} into 2 items, got 1 item(s)"));
            };
            map.insert(unquote(k).to_string(), Val::str(unquote(v)));
        }
        self.common.store(e, map)
    }
}

struct Csv {
    common: Common,
    header: Vec<String>,
    delimiter: char,
    lazy_quotes: bool,
    ignore_quotes: bool,
}

fn one_char(c: &mut Conf<'_>, key: &'static str, text: &str) -> char {
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(ch), None) => ch,
        _ => {
            c.error(key, format!("invalid '{key}': {text:?} is not one character"));
            ','
        }
    }
}

pub fn csv(c: &mut Conf<'_>) -> Box<dyn Operator> {
    c.not_yet(&["header_attribute"]);
    let delimiter = c.string_or("delimiter", ",");
    let delimiter = one_char(c, "delimiter", &delimiter);
    let header_delimiter = c.string("header_delimiter").map(|d| one_char(c, "header_delimiter", &d)).unwrap_or(delimiter);
    if !c.has("header") {
        c.error("", "missing required field \"header\" for operator type \"csv_parser\"");
    }
    let header: Vec<String> = c.string_or("header", "").split(header_delimiter).map(str::to_string).collect();
    let lazy_quotes = c.bool_or("lazy_quotes", false);
    let ignore_quotes = c.bool_or("ignore_quotes", false);
    if lazy_quotes && ignore_quotes {
        c.error("ignore_quotes", "only one of 'ignore_quotes' or 'lazy_quotes' can be true");
    }
    edit(Csv { common: Common::read(c), header, delimiter, lazy_quotes, ignore_quotes })
}

/// One CSV record: fields split at `delim`, double quotes around a field (with `""` for a
/// quote) unless `ignore_quotes`; a stray quote is an error unless `lazy`.
fn csv_fields(line: &str, delim: char, lazy: bool, ignore_quotes: bool) -> Result<Vec<String>, String> {
    if ignore_quotes {
        return Ok(line.split(delim).map(str::to_string).collect());
    }
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    None if lazy => break,
                    None => return Err("parse error: extraneous or missing \" in quoted-field".into()),
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => match chars.peek() {
                        None => break,
                        Some(c) if *c == delim => break,
                        Some(_) if lazy => field.push('"'),
                        Some(_) => return Err("parse error: extraneous or missing \" in quoted-field".into()),
                    },
                    Some(c) => field.push(c),
                }
            }
        }
        loop {
            match chars.peek() {
                None => break,
                Some(c) if *c == delim => break,
                Some('"') if !lazy => return Err("parse error: bare \" in non-quoted-field".into()),
                Some(_) => field.extend(chars.next()),
            }
        }
        fields.push(field);
        if chars.next().is_none() {
            return Ok(fields);
        }
    }
}

impl Edit for Csv {
    fn edit(&self, e: &mut Entry) -> Result<bool, String> {
        let text = self.common.text(e)?;
        let fields = csv_fields(&text, self.delimiter, self.lazy_quotes, self.ignore_quotes)?;
        if fields.len() != self.header.len() {
            return Err(format!("wrong number of fields: expected {}, found {}", self.header.len(), fields.len()));
        }
        let map = self.header.iter().cloned().zip(fields.into_iter().map(Val::Str)).collect();
        self.common.store(e, map)
    }
}
