//! Reading one operator's configuration (a map written in Alloy syntax) with every problem
//! recorded against the key at fault, and keys nobody read refused by name.

use std::collections::BTreeMap;
use std::ops::Range;

use eval::PathSeg;

use super::entry::{Field, Val};
use super::expr::Expr;

/// A problem in an operator's configuration: the keys (and list indices) leading to it inside
/// the operator's map, and, for an expression, the bytes of the string at fault.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigError {
    pub keys: Vec<PathSeg>,
    pub message: String,
    pub within: Option<Range<usize>>,
}

/// An eval value (the `operators` argument) as an entry value.
pub fn from_eval(v: &eval::Value) -> Val {
    match v {
        eval::Value::Null => Val::Null,
        eval::Value::Number(eval::Number::Float(f)) => Val::Double(*f),
        eval::Value::Number(n) => Val::Int(n.as_i64()),
        eval::Value::String(s) => Val::Str(s.to_string_lossy().into_owned()),
        eval::Value::Bool(b) => Val::Bool(*b),
        eval::Value::Array(items) => Val::List(items.iter().map(from_eval).collect()),
        eval::Value::Bytes(b) => Val::Str(String::from_utf8_lossy(b).into_owned()),
        eval::Value::Object(o) => Val::Map(o.iter().map(|(k, v)| (k.to_string(), from_eval(v))).collect()),
        eval::Value::Secret(s) => Val::Str(s.expose().to_string_lossy().into_owned()),
        eval::Value::OptionalSecret(s) => Val::Str(s.expose().to_string_lossy().into_owned()),
        eval::Value::Function(_) | eval::Value::Capsule(_) => Val::Null,
    }
}

/// One operator's map (or a nested one such as a parser's `timestamp`) being read.
pub struct Conf<'a> {
    map: &'a BTreeMap<String, Val>,
    prefix: Vec<PathSeg>,
    read: Vec<&'static str>,
    pub errors: Vec<ConfigError>,
}

impl<'a> Conf<'a> {
    pub fn new(map: &'a BTreeMap<String, Val>, prefix: Vec<PathSeg>) -> Self {
        Conf { map, prefix, read: Vec::new(), errors: Vec::new() }
    }

    pub fn error(&mut self, key: &str, message: impl Into<String>) {
        let mut keys = self.prefix.clone();
        if !key.is_empty() {
            keys.push(PathSeg::Field(key.into()));
        }
        self.errors.push(ConfigError { keys, message: message.into(), within: None });
    }

    pub fn has(&self, key: &str) -> bool {
        self.map.get(key).is_some_and(|v| *v != Val::Null)
    }

    fn raw(&mut self, key: &'static str) -> Option<&'a Val> {
        self.read.push(key);
        self.map.get(key).filter(|v| **v != Val::Null)
    }

    /// A value written as text (numbers and bools are accepted as their text, as the
    /// collector's decoder converts them).
    pub fn string(&mut self, key: &'static str) -> Option<String> {
        let v = self.raw(key)?;
        match v.to_text() {
            Some(s) => Some(s),
            None => {
                self.error(key, format!("{key} must be a string"));
                None
            }
        }
    }

    pub fn string_or(&mut self, key: &'static str, default: &str) -> String {
        self.string(key).unwrap_or_else(|| default.to_string())
    }

    pub fn field(&mut self, key: &'static str) -> Option<Field> {
        let text = self.string(key)?;
        match Field::parse(&text) {
            Ok(f) => Some(f),
            Err(e) => {
                self.error(key, e);
                None
            }
        }
    }

    pub fn field_or(&mut self, key: &'static str, default: Field) -> Field {
        self.field(key).unwrap_or(default)
    }

    pub fn required_field(&mut self, key: &'static str, ty: &str) -> Field {
        if !self.has(key) {
            self.error("", format!("missing required field {key:?} for operator type {ty:?}"));
        }
        self.field_or(key, Field::body())
    }

    pub fn bool_or(&mut self, key: &'static str, default: bool) -> bool {
        match self.raw(key) {
            None => default,
            Some(Val::Bool(b)) => *b,
            Some(Val::Str(s)) if s == "true" || s == "false" => s == "true",
            Some(_) => {
                self.error(key, format!("{key} must be a bool"));
                default
            }
        }
    }

    pub fn number_or(&mut self, key: &'static str, default: f64) -> f64 {
        match self.raw(key) {
            None => default,
            Some(v) => match v.as_f64().or_else(|| v.as_str().and_then(|s| s.parse().ok())) {
                Some(n) => n,
                None => {
                    self.error(key, format!("{key} must be a number"));
                    default
                }
            },
        }
    }

    /// A duration written as Go writes them (`5s`, `100ms`).
    pub fn duration_or(&mut self, key: &'static str, default: std::time::Duration) -> std::time::Duration {
        let Some(text) = self.string(key) else { return default };
        match eval::decode::Duration::parse(&text).ok().and_then(|d| d.to_std()) {
            Some(d) => d,
            None => {
                self.error(key, format!("invalid duration {text:?}"));
                default
            }
        }
    }

    /// A byte size: a number of bytes or text such as `"1MiB"`.
    pub fn byte_size_or(&mut self, key: &'static str, default: usize) -> usize {
        match self.raw(key) {
            None => default,
            Some(Val::Int(i)) => (*i).max(0) as usize,
            Some(v) => match v.to_text().map(|t| eval::decode::ByteSize::parse(&t)) {
                Some(Ok(b)) => b.0 as usize,
                _ => {
                    self.error(key, format!("{key} is a byte size such as \"1MiB\""));
                    default
                }
            },
        }
    }

    pub fn regex(&mut self, key: &'static str) -> Option<regex::Regex> {
        let text = self.string(key)?;
        match regex::Regex::new(&text) {
            Ok(re) => Some(re),
            Err(e) => {
                self.error(key, format!("invalid regular expression: {e}"));
                None
            }
        }
    }

    pub fn expr(&mut self, key: &'static str) -> Option<Expr> {
        let text = self.string(key)?;
        match Expr::parse(&text) {
            Ok(x) => Some(x),
            Err(e) => {
                let mut keys = self.prefix.clone();
                keys.push(PathSeg::Field(key.into()));
                self.errors.push(ConfigError { keys, message: format!("invalid expression: {e}"), within: Some(e.range) });
                None
            }
        }
    }

    pub fn list_of_strings(&mut self, key: &'static str) -> Vec<String> {
        match self.raw(key) {
            None => Vec::new(),
            Some(Val::List(items)) => items.iter().filter_map(Val::to_text).collect(),
            Some(Val::Str(s)) => vec![s.clone()],
            Some(_) => {
                self.error(key, format!("{key} must be a list of strings"));
                Vec::new()
            }
        }
    }

    /// Any value, as written.
    pub fn value(&mut self, key: &'static str) -> Option<&'a Val> {
        self.raw(key)
    }

    /// A nested map (`timestamp = {...}`), read by `f` with its errors kept here.
    pub fn nested<T>(&mut self, key: &'static str, f: impl FnOnce(&mut Conf<'a>) -> T) -> Option<T> {
        let v = self.raw(key)?;
        let Val::Map(m) = v else {
            self.error(key, format!("{key} must be an object"));
            return None;
        };
        let mut prefix = self.prefix.clone();
        prefix.push(PathSeg::Field(key.into()));
        let mut sub = Conf::new(m, prefix);
        let out = f(&mut sub);
        self.errors.extend(sub.finish());
        Some(out)
    }

    /// A list of maps (`routes = [{...}, ...]`), each read by `f` with its errors kept here.
    pub fn nested_list<T>(&mut self, key: &'static str, mut f: impl FnMut(&mut Conf<'a>) -> T) -> Vec<T> {
        let items: &'a [Val] = match self.raw(key) {
            None => return Vec::new(),
            Some(Val::List(items)) => items,
            Some(_) => {
                self.error(key, format!("{key} must be a list of objects"));
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let mut prefix = self.prefix.clone();
            prefix.extend([PathSeg::Field(key.into()), PathSeg::Index(i)]);
            let Val::Map(m) = item else {
                self.errors.push(ConfigError { keys: prefix, message: format!("each of {key} is an object"), within: None });
                continue;
            };
            let mut sub = Conf::new(m, prefix);
            out.push(f(&mut sub));
            self.errors.extend(sub.finish());
        }
        out
    }

    /// Upstream fields this runtime does not implement: refused by name when written.
    pub fn not_yet(&mut self, keys: &[&'static str]) {
        for &k in keys {
            if self.raw(k).is_some() {
                self.error(k, format!("field {k:?} is not supported by this runtime yet"));
            }
        }
    }

    /// Keys written but not read are refused by name; returns every problem.
    pub fn finish(mut self) -> Vec<ConfigError> {
        let unread: Vec<String> = self.map.keys().filter(|k| !self.read.contains(&k.as_str())).cloned().collect();
        for k in unread {
            let known: Vec<&str> = self.read.clone();
            let hint = analyzer::suggest::did_you_mean(&k, known).map(|h| format!("; {h}")).unwrap_or_default();
            self.error(&k, format!("unknown field {k:?}{hint}"));
        }
        self.errors
    }
}
