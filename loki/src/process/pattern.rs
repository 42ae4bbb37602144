//! `stage.pattern`: LogQL's pattern parser (`<ip> - <_> [<ts>] "<method> <path>"`): literals
//! anchor the text between captures; `<_>` captures without a name.

use serde_json::Value;

use super::config::PatternConfig;
use super::parse::input_of;
use super::{ConfigError, Item, Stage};

#[derive(Clone, Debug, PartialEq)]
enum Part {
    Literal(String),
    /// `None`: `<_>`.
    Capture(Option<String>),
}

fn is_capture_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn parse(pattern: &str) -> Result<Vec<Part>, String> {
    let mut parts: Vec<Part> = Vec::new();
    let mut rest = pattern;
    while !rest.is_empty() {
        let capture = rest.strip_prefix('<').and_then(|r| r.find('>').map(|end| &r[..end])).filter(|name| is_capture_name(name));
        match capture {
            Some(name) => {
                if matches!(parts.last(), Some(Part::Capture(_))) {
                    return Err("consecutive capture".into());
                }
                let named = (name != "_").then(|| name.to_string());
                if named.as_ref().is_some_and(|n| parts.contains(&Part::Capture(Some(n.clone())))) {
                    return Err(format!("duplicate capture name ({name})"));
                }
                parts.push(Part::Capture(named));
                rest = &rest[name.len() + 2..];
            }
            None => {
                let c = rest.chars().next().unwrap_or('<');
                match parts.last_mut() {
                    Some(Part::Literal(l)) => l.push(c),
                    _ => parts.push(Part::Literal(c.to_string())),
                }
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    if !parts.iter().any(|p| matches!(p, Part::Capture(Some(_)))) {
        return Err("at least one capture is required".into());
    }
    Ok(parts)
}

/// The named captures of `input`; a literal that is not found ends the match, the capture
/// before it taking the rest.
fn matches<'a>(parts: &'a [Part], input: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut out = Vec::new();
    let mut input = input;
    let mut parts = parts;
    if input.is_empty() {
        return out;
    }
    if let Some(Part::Literal(l)) = parts.first() {
        let Some(rest) = input.strip_prefix(l.as_str()) else { return out };
        input = rest;
        parts = &parts[1..];
    }
    while let Some(Part::Capture(name)) = parts.first() {
        let Some(Part::Literal(lit)) = parts.get(1) else {
            if let Some(n) = name {
                out.push((n.as_str(), input));
            }
            return out;
        };
        parts = &parts[2..];
        match input.find(lit.as_str()) {
            None => {
                if let Some(n) = name {
                    out.push((n.as_str(), input));
                }
                return out;
            }
            Some(i) => {
                if let Some(n) = name {
                    out.push((n.as_str(), &input[..i]));
                }
                input = &input[i + lit.len()..];
            }
        }
    }
    out
}

pub struct Pattern {
    parts: Vec<Part>,
    source: Option<String>,
    labels_from_groups: bool,
}

impl Pattern {
    pub fn new(c: &PatternConfig) -> Result<Self, ConfigError> {
        if c.pattern.is_empty() {
            return Err(ConfigError::new("pattern is required"));
        }
        let parts = parse(&c.pattern).map_err(|e| ConfigError::new(format!("could not parse pattern: {e}")))?;
        Ok(Pattern { parts, source: c.source.clone(), labels_from_groups: c.labels_from_groups })
    }
}

impl Stage for Pattern {
    fn process(&mut self, mut item: Item, out: &mut Vec<Item>) {
        if let Some(text) = input_of(&item, self.source.as_deref()).map(std::borrow::Cow::into_owned) {
            for (name, v) in matches(&self.parts, &text) {
                if self.labels_from_groups && prom::relabel::is_legacy_name(name) {
                    item.labels.insert(name.to_string(), v.to_string());
                }
                item.extracted.insert(name.to_string(), Value::String(v.to_string()));
            }
        }
        out.push(item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_run_up_to_the_next_literal() {
        let p = parse("<ip> - <_> [<ts>] \"<method> <path> <_>\" <status>").expect("parses");
        let got = matches(&p, "1.2.3.4 - frank [25/Jan/2000:14:00:01 -0500] \"GET /x HTTP/1.1\" 200");
        assert_eq!(got, [("ip", "1.2.3.4"), ("ts", "25/Jan/2000:14:00:01 -0500"), ("method", "GET"), ("path", "/x"), ("status", "200")]);
        assert_eq!(parse("<a><b>"), Err("consecutive capture".into()));
        assert_eq!(parse("<_> x"), Err("at least one capture is required".into()));
        assert_eq!(matches(&p, "no"), [("ip", "no")], "a literal not found ends the match");
    }
}
