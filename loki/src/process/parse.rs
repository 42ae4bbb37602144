//! Parsing stages: `stage.json`, `stage.logfmt`, `stage.regex`, `stage.cri`, `stage.docker`.

use std::collections::BTreeMap;

use prom::relabel::GoRegex;
use serde_json::Value;

use super::config::{CriConfig, JsonConfig, LogfmtConfig, RegexConfig};
use super::jmes::Expr;
use super::value::{flatten, get_string};
use super::{time, ConfigError, Item, Stage};

/// The text a parsing stage reads: the line, or a stringable extracted value.
pub(crate) fn input_of<'a>(item: &'a Item, source: Option<&str>) -> Option<std::borrow::Cow<'a, str>> {
    match source {
        None => Some(std::borrow::Cow::Borrowed(item.line.as_str())),
        Some(s) => item.extracted.get(s).and_then(get_string).map(std::borrow::Cow::Owned),
    }
}

fn compile(re: &str) -> Result<GoRegex, ConfigError> {
    GoRegex::new(re).map_err(|e| ConfigError::new(e.to_string()))
}

pub struct Json {
    expressions: Vec<(String, Expr)>,
    regex: Option<GoRegex>,
    source: Option<String>,
    drop_malformed: bool,
    /// Without `regex`, and when every path starts at a field: those fields (each once), the
    /// only ones read, and for each expression the index of its field among them.
    first_fields: Option<(Vec<String>, Vec<usize>)>,
}

impl Json {
    pub fn new(c: &JsonConfig) -> Result<Self, ConfigError> {
        if c.expressions.is_empty() && c.regex.as_deref().is_none_or(str::is_empty) {
            return Err(ConfigError::new("JMES expressions or regex is required"));
        }
        if c.source.as_deref() == Some("") {
            return Err(ConfigError::new("empty source"));
        }
        let expressions: Vec<(String, Expr)> = c
            .expressions
            .iter()
            .map(|(name, e)| {
                let text = if e.is_empty() { name.as_str() } else { e.as_str() };
                Expr::parse(text).map(|x| (name.clone(), x)).map_err(|e| ConfigError::new(format!("could not compile JMES expression: {e}")))
            })
            .collect::<Result<_, _>>()?;
        let regex = c.regex.as_deref().filter(|r| !r.is_empty()).map(compile).transpose()?;
        let first_fields = match regex {
            Some(_) => None,
            None => distinct_first_fields(&expressions),
        };
        Ok(Json { expressions, regex, source: c.source.clone(), drop_malformed: c.drop_malformed, first_fields })
    }
}

/// The fields the expressions start at, each once, and each expression's index among them;
/// `None` when an expression does not start at a field.
fn distinct_first_fields(expressions: &[(String, Expr)]) -> Option<(Vec<String>, Vec<usize>)> {
    let mut names: Vec<String> = Vec::new();
    let mut of_expression = Vec::with_capacity(expressions.len());
    for (_, e) in expressions {
        let f = e.first_field()?;
        let i = names.iter().position(|n| n == f).unwrap_or_else(|| {
            names.push(f.to_string());
            names.len() - 1
        });
        of_expression.push(i);
    }
    Some((names, of_expression))
}

impl Stage for Json {
    fn process(&mut self, mut item: Item, out: &mut Vec<Item>) {
        let Some(text) = input_of(&item, self.source.as_deref()) else {
            out.push(item);
            return;
        };
        if let Some((names, of_expression)) = &self.first_fields {
            let Some(values) = super::json_fields::top_level_fields(&text, names) else {
                if !self.drop_malformed {
                    out.push(item);
                }
                return;
            };
            for ((name, expr), &field) in self.expressions.iter().zip(of_expression) {
                let v = values[field].as_ref().map_or(Some(Value::Null), |v| expr.search_rest(v));
                if let Some(v) = v {
                    item.extracted.insert(name.clone(), flatten(v));
                }
            }
            out.push(item);
            return;
        }
        let doc = match serde_json::from_str::<Value>(&text) {
            Ok(v @ Value::Object(_)) => v,
            _ => {
                if !self.drop_malformed {
                    out.push(item);
                }
                return;
            }
        };
        for (name, expr) in &self.expressions {
            if let Some(v) = expr.search(&doc) {
                item.extracted.insert(name.clone(), flatten(v));
            }
        }
        if let (Some(re), Value::Object(map)) = (&self.regex, &doc) {
            for (k, v) in map {
                if re.is_match(k) {
                    item.extracted.insert(k.clone(), flatten(v.clone()));
                }
            }
        }
        out.push(item);
    }
}

pub struct Logfmt {
    /// logfmt key → extracted names.
    mapping: BTreeMap<String, Vec<String>>,
    regex: Option<GoRegex>,
    source: Option<String>,
}

impl Logfmt {
    pub fn new(c: &LogfmtConfig) -> Result<Self, ConfigError> {
        if c.mapping.is_empty() && c.regex.as_deref().is_none_or(str::is_empty) {
            return Err(ConfigError::new("logfmt mapping or regex is required"));
        }
        if c.source.as_deref() == Some("") {
            return Err(ConfigError::new("empty source"));
        }
        let mut mapping: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (name, key) in &c.mapping {
            let key = if key.is_empty() { name } else { key };
            mapping.entry(key.clone()).or_default().push(name.clone());
        }
        let regex = c.regex.as_deref().filter(|r| !r.is_empty()).map(compile).transpose()?;
        Ok(Logfmt { mapping, regex, source: c.source.clone() })
    }
}

impl Stage for Logfmt {
    fn process(&mut self, mut item: Item, out: &mut Vec<Item>) {
        if let Some(text) = input_of(&item, self.source.as_deref()) {
            for (k, v) in logfmt_pairs(&text) {
                if let Some(names) = self.mapping.get(&k) {
                    for n in names {
                        item.extracted.insert(n.clone(), Value::String(v.clone()));
                    }
                }
                if self.regex.as_ref().is_some_and(|re| re.is_match(&k)) {
                    item.extracted.insert(k, Value::String(v));
                }
            }
        }
        out.push(item);
    }
}

/// logfmt's key/value pairs up to the first syntax error (pairs before it are kept).
pub(crate) fn logfmt_pairs(s: &str) -> Vec<(String, String)> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    loop {
        while i < b.len() && b[i] <= b' ' {
            i += 1;
        }
        if i >= b.len() {
            return out;
        }
        let start = i;
        while i < b.len() && b[i] > b' ' && b[i] != b'=' && b[i] != b'"' {
            i += 1;
        }
        if i == start || (i < b.len() && b[i] == b'"') {
            return out;
        }
        let key = s[start..i].to_string();
        if i >= b.len() || b[i] != b'=' {
            out.push((key, String::new()));
            continue;
        }
        i += 1;
        if i < b.len() && b[i] == b'"' {
            // A quoted value: JSON-style escapes.
            let vstart = i;
            i += 1;
            let mut escaped = false;
            while i < b.len() {
                match b[i] {
                    b'\\' if !escaped => escaped = true,
                    b'"' if !escaped => break,
                    _ => escaped = false,
                }
                i += 1;
            }
            if i >= b.len() {
                return out;
            }
            i += 1;
            let Ok(v) = serde_json::from_str::<String>(&s[vstart..i]) else { return out };
            out.push((key, v));
            if i < b.len() && b[i] > b' ' {
                return out;
            }
        } else {
            let vstart = i;
            while i < b.len() && b[i] > b' ' {
                if b[i] == b'"' || b[i] == b'=' {
                    return out;
                }
                i += 1;
            }
            out.push((key, s[vstart..i].to_string()));
        }
    }
}

pub struct RegexStage {
    re: GoRegex,
    source: Option<String>,
    labels_from_groups: bool,
}

impl RegexStage {
    pub fn new(c: &RegexConfig) -> Result<Self, ConfigError> {
        if c.expression.is_empty() {
            return Err(ConfigError::new("expression is required"));
        }
        if c.source.as_deref() == Some("") {
            return Err(ConfigError::new("empty source"));
        }
        let re = compile(&c.expression).map_err(|e| ConfigError::new(format!("could not compile regular expression: {e}")))?;
        Ok(RegexStage { re, source: c.source.clone(), labels_from_groups: c.labels_from_groups })
    }
}

impl Stage for RegexStage {
    fn process(&mut self, mut item: Item, out: &mut Vec<Item>) {
        if let Some(text) = input_of(&item, self.source.as_deref()).map(std::borrow::Cow::into_owned) {
            if let Some(caps) = self.re.regex().captures(&text) {
                for (i, name) in self.re.names().enumerate() {
                    let Some(name) = name else { continue };
                    let v = caps.get(i).map_or("", |m| m.as_str()).to_string();
                    if self.labels_from_groups && prom::relabel::is_legacy_name(name) {
                        item.labels.insert(name.to_string(), v.clone());
                    }
                    item.extracted.insert(name.to_string(), Value::String(v));
                }
            }
        }
        out.push(item);
    }
}

/// A CRI line's parts.
struct CriLine<'a> {
    time: &'a str,
    stream: &'a str,
    flag: &'a str,
    content: &'a str,
}

fn parse_cri(line: &str) -> Option<CriLine<'_>> {
    let (time, rest) = line.split_once(|c: char| c.is_whitespace())?;
    let (stream, rest) = rest.split_once(' ')?;
    if stream != "stdout" && stream != "stderr" {
        return None;
    }
    let (flag, content) = match rest.as_bytes().first() {
        Some(b'P' | b'F') if rest.len() == 1 || rest.as_bytes()[1] == b' ' => (&rest[..1], rest.get(2..).unwrap_or("")),
        _ => ("", rest),
    };
    Some(CriLine { time, stream, flag, content })
}

pub struct Cri {
    max_partial_lines: usize,
    max_line_size: usize,
    truncate: bool,
    /// Partial lines waiting for their `F` line, by stream, in arrival order.
    partial: Vec<(super::StreamKey, Item)>,
    obs: std::sync::Arc<dyn super::Observer>,
}

impl Cri {
    pub fn new(c: &CriConfig, obs: std::sync::Arc<dyn super::Observer>) -> Result<Self, ConfigError> {
        if c.max_partial_lines <= 0 {
            return Err(ConfigError::new("max_partial_lines must be greater than 0"));
        }
        Ok(Cri {
            max_partial_lines: c.max_partial_lines as usize,
            max_line_size: c.max_partial_line_size as usize,
            truncate: c.max_partial_line_size_truncate,
            partial: Vec::new(),
            obs,
        })
    }

    fn cut(&self, item: &mut Item) {
        if self.truncate && self.max_line_size > 0 && item.line.len() > self.max_line_size {
            self.obs.cri_truncated();
            let mut n = self.max_line_size;
            while !item.line.is_char_boundary(n) {
                n -= 1;
            }
            item.line.truncate(n);
        }
    }
}

impl Stage for Cri {
    fn process(&mut self, mut item: Item, out: &mut Vec<Item>) {
        let Some(p) = parse_cri(&item.line) else {
            out.push(item);
            return;
        };
        let (flag, stream, content) = (p.flag.to_string(), p.stream.to_string(), p.content.to_string());
        if let Some(ns) = time::parse_rfc3339(p.time) {
            item.timestamp_ns = ns;
        }
        let time_text = p.time.to_string();
        for (k, v) in [("flags", &flag), ("stream", &stream), ("content", &content), ("time", &time_text)] {
            item.extracted.insert(k.to_string(), Value::String(v.clone()));
        }
        item.labels.insert("stream".into(), stream);
        item.line = content;
        let key = item.stream_key();
        let held = self.partial.iter().position(|(k, _)| *k == key);
        if flag == "P" {
            match held {
                Some(i) => {
                    let mut held = std::mem::replace(&mut self.partial[i].1, item);
                    held.line.push_str(&self.partial[i].1.line);
                    self.cut(&mut held);
                    self.partial[i].1 = held;
                }
                None => {
                    if self.partial.len() >= self.max_partial_lines {
                        self.obs.cri_partial_flushed(self.partial.len() as u64);
                        out.extend(self.partial.drain(..).map(|(_, i)| i));
                    }
                    self.partial.push((key, item));
                }
            }
            return;
        }
        if let Some(i) = held {
            let (_, prev) = self.partial.remove(i);
            item.line = prev.line + &item.line;
            self.cut(&mut item);
        }
        out.push(item);
    }

    fn flush(&mut self, out: &mut Vec<Item>) {
        out.extend(self.partial.drain(..).map(|(_, i)| i));
    }
}

pub struct Docker;

impl Stage for Docker {
    fn process(&mut self, mut item: Item, out: &mut Vec<Item>) {
        let parsed = serde_json::from_str::<Value>(&item.line).ok();
        let log = parsed.as_ref().and_then(|v| v.get("log")).and_then(Value::as_str).filter(|s| !s.is_empty());
        if let (Some(doc), Some(log)) = (&parsed, log) {
            let stream = doc.get("stream").and_then(Value::as_str).unwrap_or("").to_string();
            let ts = doc.get("time").and_then(Value::as_str).unwrap_or("").to_string();
            item.extracted.insert("output".into(), Value::String(log.to_string()));
            item.extracted.insert("stream".into(), Value::String(stream.clone()));
            item.extracted.insert("timestamp".into(), Value::String(ts.clone()));
            item.labels.insert("stream".into(), stream);
            if let Some(ns) = time::parse_rfc3339(&ts) {
                item.timestamp_ns = ns;
            }
            item.line = log.to_string();
        }
        out.push(item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logfmt_stops_at_the_first_error() {
        let pairs = logfmt_pairs("a=1 b=\"x y\" flag c=\"q\\\"d\" d=\"z\"\" e=5");
        let keys: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(keys, [("a", "1"), ("b", "x y"), ("flag", ""), ("c", "q\"d"), ("d", "z")]);
    }

    /// Reading only the fields the expressions start at must give what a full parse gives,
    /// also when several expressions start at the same field.
    #[test]
    fn json_reads_shared_first_fields_for_every_expression() {
        let expressions = [("i", "numeric.integer"), ("s", "numeric.string"), ("n", "numeric"), ("a", "arr[1]"), ("missing", "nope.x"), ("first", "arr")];
        let cfg = JsonConfig { expressions: expressions.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(), ..JsonConfig::default() };
        let mut stage = Json::new(&cfg).expect("stage");
        assert!(stage.first_fields.is_some(), "every path starts at a field");
        let entry =
            crate::Entry::new(prom::Labels::new([("job", "x")]), 0, r#"{"numeric":{"integer":123,"string":"7"},"arr":[1,"two"],"other":[{}]}"#.to_string());
        let mut out = Vec::new();
        stage.process(Item::new(entry, Default::default()), &mut out);
        let got = &out[0].extracted;
        let text = |k: &str| got.get(k).map(|v| v.to_string());
        assert_eq!(text("i").as_deref(), Some("123.0"));
        assert_eq!(text("s").as_deref(), Some(r#""7""#));
        assert_eq!(text("n").as_deref(), Some(r#""{\"integer\":123,\"string\":\"7\"}""#));
        assert_eq!(text("a").as_deref(), Some(r#""two""#));
        assert_eq!(text("missing").as_deref(), Some("null"));
        assert_eq!(text("first").as_deref(), Some(r#""[1,\"two\"]""#));
    }

    /// An expression that is not a plain path makes the stage parse the whole line and run
    /// the JMESPath evaluator; one that fails at runtime extracts nothing.
    #[test]
    fn json_evaluates_full_jmespath() {
        let expressions = [("names", "items[?n > `1`].name"), ("count", "length(items)"), ("first", "items[0].name"), ("bad", "abs(items)")];
        let cfg = JsonConfig { expressions: expressions.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(), ..JsonConfig::default() };
        let mut stage = Json::new(&cfg).expect("stage");
        assert!(stage.first_fields.is_none());
        let entry = crate::Entry::new(prom::Labels::new([("job", "x")]), 0, r#"{"items":[{"name":"a","n":2},{"name":"b","n":1}]}"#.to_string());
        let mut out = Vec::new();
        stage.process(Item::new(entry, Default::default()), &mut out);
        let got = &out[0].extracted;
        let text = |k: &str| got.get(k).map(|v| v.to_string());
        assert_eq!(text("names").as_deref(), Some(r#""[\"a\"]""#));
        assert_eq!(text("count").as_deref(), Some("2.0"));
        assert_eq!(text("first").as_deref(), Some(r#""a""#));
        assert_eq!(text("bad"), None);
        let err = Json::new(&JsonConfig { expressions: [("x".to_string(), "nope(a)".to_string())].into_iter().collect(), ..JsonConfig::default() }).err();
        assert!(err.is_some_and(|e| e.to_string().starts_with("could not compile JMES expression: unknown function")));
    }

    #[test]
    fn cri_lines() {
        let p = parse_cri("2019-01-01T01:00:00.000000001Z stdout P part ").expect("cri");
        assert_eq!((p.stream, p.flag, p.content), ("stdout", "P", "part "));
        assert!(parse_cri("2019 stdin F x").is_none());
    }
}
