//! A log entry as stanza operators see it (body, attributes, resource, timestamps, severity,
//! trace context) and the field paths operators name (`body.x`, `attributes["a.b"]`,
//! `resource.x`).

use std::collections::BTreeMap;
use std::fmt;

/// A value inside an entry: what a parser produces and what ends up in an OTLP `AnyValue`.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Val {
    #[default]
    Null,
    Str(String),
    Int(i64),
    Double(f64),
    Bool(bool),
    Bytes(Vec<u8>),
    Map(BTreeMap<String, Val>),
    List(Vec<Val>),
}

impl Val {
    pub fn str(s: impl Into<String>) -> Val {
        Val::Str(s.into())
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value as text, as stanza turns scalars into strings (`fmt.Sprint`); maps and lists
    /// have none.
    pub fn to_text(&self) -> Option<String> {
        Some(match self {
            Val::Str(s) => s.clone(),
            Val::Int(i) => i.to_string(),
            Val::Double(d) => crate::otelcol::value::es6_float(*d),
            Val::Bool(b) => b.to_string(),
            Val::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
            Val::Null | Val::Map(_) | Val::List(_) => return None,
        })
    }

    /// The value as a number, when it is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Val::Int(i) => Some(*i as f64),
            Val::Double(d) => Some(*d),
            _ => None,
        }
    }
}

/// The severity levels of the OpenTelemetry log data model (1..=24; 0 unspecified).
pub type Severity = i32;

/// One log entry.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Entry {
    pub body: Val,
    pub attributes: BTreeMap<String, Val>,
    pub resource: BTreeMap<String, Val>,
    /// Nanoseconds since the epoch; 0 when no parser set it.
    pub timestamp: i64,
    pub observed: i64,
    pub severity: Severity,
    pub severity_text: String,
    pub trace_id: Vec<u8>,
    pub span_id: Vec<u8>,
    pub trace_flags: Vec<u8>,
    /// The instrumentation scope's name (`scope_name_parser`); empty when none was parsed.
    pub scope_name: String,
}

impl Entry {
    pub fn with_body(body: impl Into<String>) -> Entry {
        Entry { body: Val::Str(body.into()), ..Default::default() }
    }
}

/// Which part of an entry a field path starts at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Root {
    Body,
    Attributes,
    Resource,
}

/// A field path: a root and keys into nested maps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub root: Root,
    pub keys: Vec<String>,
}

/// The longest field path accepted: parsed maps nest, but paths are written by hand.
const MAX_KEYS: usize = 32;

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.root {
            Root::Body => "body",
            Root::Attributes => "attributes",
            Root::Resource => "resource",
        })?;
        for k in &self.keys {
            if k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                write!(f, ".{k}")?;
            } else {
                write!(f, "[{k:?}]")?;
            }
        }
        Ok(())
    }
}

impl Field {
    pub fn body() -> Field {
        Field { root: Root::Body, keys: Vec::new() }
    }

    pub fn attributes() -> Field {
        Field { root: Root::Attributes, keys: Vec::new() }
    }

    pub fn attribute(key: &str) -> Field {
        Field { root: Root::Attributes, keys: vec![key.to_string()] }
    }

    /// Parses `body`, `body.a.b`, `attributes["a.b"]`, `resource.x`.
    pub fn parse(text: &str) -> Result<Field, String> {
        let bad = |why: &str| format!("invalid field {text:?}: {why}");
        let head_len = text.find(['.', '[']).unwrap_or(text.len());
        let root = match &text[..head_len] {
            "body" => Root::Body,
            "attributes" => Root::Attributes,
            "resource" => Root::Resource,
            _ => return Err(bad("a field starts with body, attributes or resource")),
        };
        let mut keys = Vec::new();
        let mut rest = &text[head_len..];
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix('.') {
                let end = r.find(['.', '[', ']']).unwrap_or(r.len());
                if end == 0 {
                    return Err(bad("empty key"));
                }
                keys.push(r[..end].to_string());
                rest = &r[end..];
            } else if let Some(r) = rest.strip_prefix('[') {
                let quote = r.chars().next().filter(|c| *c == '"' || *c == '\'').ok_or_else(|| bad("a bracketed key is quoted"))?;
                let inner = &r[1..];
                let end = inner.find(quote).ok_or_else(|| bad("unterminated quote"))?;
                keys.push(inner[..end].to_string());
                rest = inner[end + 1..].strip_prefix(']').ok_or_else(|| bad("expected ] after a quoted key"))?;
            } else {
                return Err(bad("expected . or ["));
            }
            if keys.len() > MAX_KEYS {
                return Err(bad("too many keys"));
            }
        }
        Ok(Field { root, keys })
    }

    fn root_map<'e>(&self, e: &'e Entry) -> Option<&'e BTreeMap<String, Val>> {
        match self.root {
            Root::Attributes => Some(&e.attributes),
            Root::Resource => Some(&e.resource),
            Root::Body => match &e.body {
                Val::Map(m) => Some(m),
                _ => None,
            },
        }
    }

    pub fn get<'e>(&self, e: &'e Entry) -> Option<&'e Val> {
        let Some((last, parents)) = self.keys.split_last() else {
            return match self.root {
                Root::Body => Some(&e.body),
                // The whole map is not a value operators read.
                Root::Attributes | Root::Resource => None,
            };
        };
        let mut map = self.root_map(e)?;
        for k in parents {
            match map.get(k)? {
                Val::Map(m) => map = m,
                _ => return None,
            }
        }
        map.get(last)
    }

    /// The map holding this field's last key, created along the way; `None` when a value
    /// on the way is not a map.
    fn parent_mut<'e>(&self, e: &'e mut Entry, create: bool) -> Option<&'e mut BTreeMap<String, Val>> {
        let mut map = match self.root {
            Root::Attributes => &mut e.attributes,
            Root::Resource => &mut e.resource,
            Root::Body => {
                if !matches!(e.body, Val::Map(_)) {
                    if !create {
                        return None;
                    }
                    e.body = Val::Map(BTreeMap::new());
                }
                match &mut e.body {
                    Val::Map(m) => m,
                    _ => return None,
                }
            }
        };
        for k in &self.keys[..self.keys.len().saturating_sub(1)] {
            if create && !matches!(map.get(k), Some(Val::Map(_))) {
                map.insert(k.clone(), Val::Map(BTreeMap::new()));
            }
            match map.get_mut(k) {
                Some(Val::Map(m)) => map = m,
                _ => return None,
            }
        }
        Some(map)
    }

    /// Sets the field; a map set on a map merges into it (as stanza's `Set` does).
    pub fn set(&self, e: &mut Entry, value: Val) {
        let Some(last) = self.keys.last() else {
            match (self.root, value) {
                (Root::Body, v) => e.body = v,
                (Root::Attributes, Val::Map(m)) => e.attributes.extend(m),
                (Root::Resource, Val::Map(m)) => e.resource.extend(m),
                // A scalar cannot be the whole attribute map: nothing to merge.
                (Root::Attributes | Root::Resource, _) => {}
            }
            return;
        };
        if let Some(map) = self.parent_mut(e, true) {
            match (map.get_mut(last), value) {
                (Some(Val::Map(old)), Val::Map(new)) => old.extend(new),
                (_, v) => {
                    map.insert(last.clone(), v);
                }
            }
        }
    }

    /// Removes the field and returns its value.
    pub fn delete(&self, e: &mut Entry) -> Option<Val> {
        let Some(last) = self.keys.last() else {
            return match self.root {
                Root::Body => Some(std::mem::take(&mut e.body)),
                Root::Attributes => Some(Val::Map(std::mem::take(&mut e.attributes))),
                Root::Resource => Some(Val::Map(std::mem::take(&mut e.resource))),
            };
        };
        self.parent_mut(e, false)?.remove(last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_and_print_back() {
        for text in ["body", "body.a.b", "attributes.x", "resource.host", r#"attributes["log.file.name"]"#] {
            let f = Field::parse(text).expect(text);
            assert_eq!(f.to_string(), text);
        }
        assert_eq!(Field::parse("attributes['a b']").map(|f| f.keys), Ok(vec!["a b".to_string()]));
        for bad in ["", "bodyx", "labels.a", "body.", "body..a", "attributes[a]", "attributes[\"a\"", "body.a]"] {
            assert!(Field::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn set_creates_maps_merges_maps_and_delete_takes_values() {
        let mut e = Entry::with_body("line");
        Field::parse("body.a.b").unwrap().set(&mut e, Val::Int(1));
        assert_eq!(Field::parse("body.a.b").unwrap().get(&e), Some(&Val::Int(1)), "a string body becomes a map");
        let mut m = BTreeMap::new();
        m.insert("c".to_string(), Val::Bool(true));
        Field::parse("body.a").unwrap().set(&mut e, Val::Map(m));
        assert_eq!(Field::parse("body.a.b").unwrap().get(&e), Some(&Val::Int(1)), "merged, not replaced");
        assert_eq!(Field::parse("body.a.c").unwrap().delete(&mut e), Some(Val::Bool(true)));
        assert_eq!(Field::parse("body.a.c").unwrap().get(&e), None);
        assert_eq!(Field::parse("attributes.x.y").unwrap().delete(&mut e), None);
    }
}
