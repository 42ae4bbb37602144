//! `encoding.from_yaml`: YAML parsed into events by `yaml-rust2`, then resolved with the
//! YAML 1.2 core rules as upstream's go-yaml v3 applies them.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::number::parse_uint_base0;
use crate::value::{Capsule, CapsuleValue, Object, Value};

/// A YAML mapping with non-string keys: opaque in Alloy, as upstream's
/// `map[interface {}]interface {}`.
#[derive(Debug, Clone)]
pub struct YamlMap(pub Vec<(Value, Value)>);

impl CapsuleValue for YamlMap {
    fn type_name(&self) -> &str {
        "map[interface {}]interface {}"
    }
    fn equals(&self, other: &dyn CapsuleValue) -> bool {
        other.as_any().downcast_ref::<YamlMap>().is_some_and(|o| {
            o.0.len() == self.0.len() && o.0.iter().zip(&self.0).all(|(a, b)| crate::value::values_equal(&a.0, &b.0) && crate::value::values_equal(&a.1, &b.1))
        })
    }
    fn is_zero(&self) -> bool {
        false
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

enum Frame {
    Seq(Vec<Value>, usize),
    Map(Vec<(Value, bool, Value)>, Option<(Value, bool)>, usize),
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    docs: Vec<Value>,
    anchors: HashMap<usize, Value>,
    in_doc: bool,
}

impl Builder {
    /// Adds a finished node; `is_str` tells whether it resolved to a string (for map keys).
    fn push(&mut self, v: Value, is_str: bool) {
        match self.stack.last_mut() {
            None => self.docs.push(v),
            Some(Frame::Seq(items, _)) => items.push(v),
            Some(Frame::Map(entries, key, _)) => match key.take() {
                None => *key = Some((v, is_str)),
                Some((k, kstr)) => entries.push((k, kstr, v)),
            },
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, _mark: Marker) {
        match ev {
            Event::DocumentStart => self.in_doc = true,
            Event::Scalar(text, style, anchor, tag) => {
                let v = resolve(&text, style, tag.as_ref());
                let is_str = matches!(v, Value::String(_));
                if anchor > 0 {
                    self.anchors.insert(anchor, v.clone());
                }
                self.push(v, is_str);
            }
            Event::Alias(id) => {
                let v = self.anchors.get(&id).cloned().unwrap_or_default();
                let is_str = matches!(v, Value::String(_));
                self.push(v, is_str);
            }
            Event::SequenceStart(anchor, _) => self.stack.push(Frame::Seq(Vec::new(), anchor)),
            Event::SequenceEnd => {
                if let Some(Frame::Seq(items, anchor)) = self.stack.pop() {
                    let v = Value::array(items);
                    if anchor > 0 {
                        self.anchors.insert(anchor, v.clone());
                    }
                    self.push(v, false);
                }
            }
            Event::MappingStart(anchor, _) => self.stack.push(Frame::Map(Vec::new(), None, anchor)),
            Event::MappingEnd => {
                if let Some(Frame::Map(entries, _, anchor)) = self.stack.pop() {
                    let v = if entries.iter().all(|(_, s, _)| *s) {
                        let mut o = Object::new();
                        for (k, _, v) in entries {
                            if let Value::String(k) = k {
                                o.insert(k.to_string_lossy().as_ref(), v);
                            }
                        }
                        Value::object(o)
                    } else {
                        Value::Capsule(Capsule::new(YamlMap(entries.into_iter().map(|(k, _, v)| (k, v)).collect())))
                    };
                    if anchor > 0 {
                        self.anchors.insert(anchor, v.clone());
                    }
                    self.push(v, false);
                }
            }
            _ => {}
        }
    }
}

/// Decodes the first document of a YAML stream (empty input is null).
pub fn decode(src: &[u8]) -> Result<Value, String> {
    let text = String::from_utf8_lossy(src);
    let mut b = Builder::default();
    let mut parser = Parser::new_from_str(&text);
    if let Err(e) = parser.load(&mut b, true) {
        let m = e.marker();
        // yaml-rust2 puts the end of input on a line of its own; libyaml does not.
        let at_eof_without_newline = m.index() >= text.chars().count() && !text.ends_with('\n');
        let line = if at_eof_without_newline && m.col() == 0 { m.line().saturating_sub(1) } else { m.line() };
        return Err(go_yaml_error(&e.to_string(), line));
    }
    Ok(b.docs.into_iter().next().unwrap_or_default())
}

/// Approximates libyaml's wording of common errors as go-yaml reports them.
fn go_yaml_error(info: &str, line: usize) -> String {
    let msg = info.split(" at byte ").next().unwrap_or(info);
    // "while parsing a node, did not find expected node content" → libyaml's problem text.
    let text = match msg.split_once(", ") {
        Some((ctx, problem)) if ctx.starts_with("while ") => problem,
        _ => msg,
    };
    format!("yaml: line {}: {}", line.max(1), text)
}

fn resolve(text: &str, style: TScalarStyle, tag: Option<&Tag>) -> Value {
    if let Some(tag) = tag {
        if tag.handle == "!!" || tag.handle == "tag:yaml.org,2002:" {
            match tag.suffix.as_str() {
                "str" => return Value::string(text),
                "null" => return Value::Null,
                "bool" | "int" | "float" => return resolve_plain(text).unwrap_or_else(|| Value::string(text)),
                "timestamp" => return timestamp(text).map(Value::string).unwrap_or_else(|| Value::string(text)),
                _ => {}
            }
        }
    }
    if style != TScalarStyle::Plain {
        return Value::string(text);
    }
    if let Some(ts) = timestamp(text) {
        return Value::string(ts);
    }
    resolve_plain(text).unwrap_or_else(|| Value::string(text))
}

fn resolve_plain(text: &str) -> Option<Value> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Value::Null),
        "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Some(Value::float(f64::INFINITY)),
        "-.inf" | "-.Inf" | "-.INF" => return Some(Value::float(f64::NEG_INFINITY)),
        ".nan" | ".NaN" | ".NAN" => return Some(Value::float(f64::NAN)),
        _ => {}
    }
    let first = text.as_bytes()[0];
    if first == b'.' {
        return text.parse::<f64>().ok().map(Value::float);
    }
    if !(first.is_ascii_digit() || first == b'+' || first == b'-') {
        return None;
    }
    let plain = text.replace('_', "");
    if let Some(i) = parse_int_base0(&plain) {
        return Some(Value::int(i));
    }
    if let Some(u) = parse_uint_base0(&plain) {
        return Some(Value::uint(u));
    }
    if is_yaml_float(&plain) {
        if let Ok(f) = plain.parse::<f64>() {
            return Some(Value::float(f));
        }
    }
    for (prefix, neg) in [("0b", false), ("-0b", true)] {
        if let Some(rest) = plain.strip_prefix(prefix) {
            if let Ok(u) = u64::from_str_radix(rest, 2) {
                return Some(if neg { Value::int((u as i64).wrapping_neg()) } else { Value::uint(u) });
            }
        }
    }
    if let Some(rest) = plain.strip_prefix("0o") {
        if let Ok(i) = i64::from_str_radix(rest, 8) {
            return Some(Value::int(i));
        }
    }
    None
}

fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let fs = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if int_digits == 0 && i == fs {
            return false;
        }
    } else if int_digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let es = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == es {
            return false;
        }
    }
    i == b.len()
}

/// Go's `strconv.ParseInt(s, 0, 64)`.
fn parse_int_base0(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let u = parse_uint_base0(body)?;
    if neg {
        if u <= i64::MAX as u64 + 1 {
            Some((u as i64).wrapping_neg())
        } else {
            None
        }
    } else {
        i64::try_from(u).ok()
    }
}

/// YAML timestamps as RFC 3339 text (dates become midnight UTC).
fn timestamp(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.len() < 8 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return None;
    }
    let (date, rest) = match s.find(['T', 't', ' ']) {
        Some(i) => (&s[..i], Some(s[i + 1..].trim_start())),
        None => (s, None),
    };
    let parts: Vec<&str> = date.split('-').collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty() || !p.bytes().all(|c| c.is_ascii_digit())) {
        return None;
    }
    let (y, m, d): (u32, u32, u32) = (parts[0].parse().ok()?, parts[1].parse().ok()?, parts[2].parse().ok()?);
    if parts[1].len() > 2 || parts[2].len() > 2 || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let Some(rest) = rest else {
        return Some(format!("{y:04}-{m:02}-{d:02}T00:00:00Z"));
    };
    // hh:mm:ss[.frac][Z|±hh:mm]
    let (time, zone) = match rest.find(['Z', 'z', '+', '-']) {
        Some(i) => (rest[..i].trim_end(), &rest[i..]),
        None => (rest.trim_end(), ""),
    };
    let (hms, frac) = match time.split_once('.') {
        Some((a, f)) => (a, f.trim_end_matches('0')),
        None => (time, ""),
    };
    let t: Vec<&str> = hms.split(':').collect();
    if t.len() != 3 || t.iter().any(|p| p.is_empty() || p.len() > 2 || !p.bytes().all(|c| c.is_ascii_digit())) {
        return None;
    }
    let frac = if frac.is_empty() { String::new() } else { format!(".{frac}") };
    let zone = match zone {
        "" | "Z" | "z" => "Z".to_string(),
        z => {
            let (sign, hm) = z.split_at(1);
            let (h, m) = hm.split_once(':').unwrap_or((hm, "00"));
            let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
            if h == 0 && m == 0 {
                "Z".into()
            } else {
                format!("{sign}{h:02}:{m:02}")
            }
        }
    };
    Some(format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{frac}{zone}", t[0].parse::<u32>().ok()?, t[1].parse::<u32>().ok()?, t[2].parse::<u32>().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars() {
        assert!(matches!(resolve_plain("017"), Some(Value::Number(crate::number::Number::Int(15)))));
        assert!(matches!(resolve_plain("1_000"), Some(Value::Number(crate::number::Number::Int(1000)))));
        assert!(matches!(resolve_plain("0x10"), Some(Value::Number(crate::number::Number::Int(16)))));
        assert!(resolve_plain("yes").is_none());
        assert_eq!(timestamp("2001-12-14").as_deref(), Some("2001-12-14T00:00:00Z"));
    }
}
