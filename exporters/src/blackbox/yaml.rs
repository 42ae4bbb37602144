//! The module file as a tree of YAML nodes with their line numbers (from `yaml-rust2`'s event parser), and the
//! strict typed reading upstream does with go-yaml's `UnmarshalStrict`: unknown fields and wrong types are
//! collected as `line N: ...` errors, as go-yaml words them.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// One YAML node and the line (1-based) it starts on.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub kind: Kind,
    pub line: usize,
}

#[derive(Clone, Debug)]
pub(crate) enum Kind {
    /// A scalar and whether it was written plain (unquoted): only plain scalars resolve to null, bool or int.
    Scalar(String, bool),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// go-yaml's name of the node's tag in `cannot unmarshal` errors.
    fn tag(&self) -> String {
        match &self.kind {
            Kind::Seq(_) => "!!seq".into(),
            Kind::Map(_) => "!!map".into(),
            Kind::Scalar(s, plain) => {
                let t = if !plain {
                    "!!str"
                } else if is_null(s) {
                    "!!null"
                } else if parse_bool(s).is_some() {
                    "!!bool"
                } else if s.parse::<i64>().is_ok() {
                    "!!int"
                } else if s.parse::<f64>().is_ok() {
                    "!!float"
                } else {
                    "!!str"
                };
                format!("{t} `{}`", shorten(s))
            }
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(&self.kind, Kind::Scalar(s, true) if is_null(s))
    }
}

fn is_null(s: &str) -> bool {
    matches!(s, "" | "~" | "null" | "Null" | "NULL")
}

/// YAML 1.1 booleans, as go-yaml v2 resolves them.
fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => Some(true),
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

fn shorten(s: &str) -> String {
    if s.chars().count() > 10 {
        let head: String = s.chars().take(7).collect();
        format!("{head}...")
    } else {
        s.to_string()
    }
}

enum Frame {
    Seq(Vec<Node>, usize, usize),
    Map(Vec<(Node, Node)>, Option<Node>, usize, usize),
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    docs: Vec<Node>,
    anchors: HashMap<usize, Node>,
}

impl Builder {
    fn push(&mut self, n: Node) {
        match self.stack.last_mut() {
            None => self.docs.push(n),
            Some(Frame::Seq(items, _, _)) => items.push(n),
            Some(Frame::Map(entries, key, _, _)) => match key.take() {
                None => *key = Some(n),
                Some(k) => entries.push((k, n)),
            },
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let line = mark.line();
        match ev {
            Event::Scalar(text, style, anchor, _) => {
                let n = Node { kind: Kind::Scalar(text, style == TScalarStyle::Plain), line };
                if anchor > 0 {
                    self.anchors.insert(anchor, n.clone());
                }
                self.push(n);
            }
            Event::Alias(id) => {
                let n = self.anchors.get(&id).cloned().unwrap_or(Node { kind: Kind::Scalar(String::new(), true), line });
                self.push(n);
            }
            Event::SequenceStart(anchor, _) => self.stack.push(Frame::Seq(Vec::new(), anchor, line)),
            Event::MappingStart(anchor, _) => self.stack.push(Frame::Map(Vec::new(), None, anchor, line)),
            Event::SequenceEnd | Event::MappingEnd => {
                let (n, anchor) = match self.stack.pop() {
                    Some(Frame::Seq(items, anchor, line)) => (Node { kind: Kind::Seq(items), line }, anchor),
                    Some(Frame::Map(entries, _, anchor, line)) => (Node { kind: Kind::Map(entries), line }, anchor),
                    None => return,
                };
                if anchor > 0 {
                    self.anchors.insert(anchor, n.clone());
                }
                self.push(n);
            }
            _ => {}
        }
    }
}

/// Parses the first document of `text` (`None` for an empty stream). Errors read as go-yaml's:
/// `yaml: line N: <problem>`.
pub(crate) fn parse(text: &str) -> Result<Option<Node>, String> {
    let mut b = Builder::default();
    let mut p = Parser::new_from_str(text);
    // An error at the end of the text is on its last line (the scanner counts one past it).
    let last_line = text.lines().count().max(1);
    p.load(&mut b, false).map_err(|e| format!("yaml: line {}: {}", e.marker().line().min(last_line), e.info()))?;
    Ok(b.docs.into_iter().next())
}

/// The errors of one typed reading: go-yaml's `unmarshal errors` list, and the first error a type's own validation
/// returned (which ends the reading, as an `UnmarshalYAML` error does in go-yaml).
#[derive(Default)]
pub(crate) struct Errors {
    pub unmarshal: Vec<String>,
    pub fatal: Option<String>,
}

impl Errors {
    pub fn at(&mut self, n: &Node, msg: impl std::fmt::Display) {
        self.unmarshal.push(format!("line {}: {msg}", n.line));
    }

    /// A validation failure of the block starting at `n`.
    pub fn fail(&mut self, n: &Node, msg: impl std::fmt::Display) {
        if self.fatal.is_none() {
            self.fatal = Some(format!("line {}: {msg}", n.line));
        }
    }

    pub fn into_result(self) -> Result<(), String> {
        if let Some(f) = self.fatal {
            return Err(f);
        }
        if self.unmarshal.is_empty() {
            return Ok(());
        }
        Err(format!("yaml: unmarshal errors:\n  {}", self.unmarshal.join("\n  ")))
    }

    fn mismatch(&mut self, n: &Node, into: &str) {
        self.at(n, format!("cannot unmarshal {} into {into}", n.tag()));
    }

    pub fn string(&mut self, n: &Node) -> String {
        match &n.kind {
            Kind::Scalar(s, plain) if *plain && is_null(s) => String::new(),
            Kind::Scalar(s, _) => s.clone(),
            _ => {
                self.mismatch(n, "string");
                String::new()
            }
        }
    }

    pub fn bool(&mut self, n: &Node) -> bool {
        match &n.kind {
            Kind::Scalar(s, true) if is_null(s) => false,
            Kind::Scalar(s, true) if parse_bool(s).is_some() => parse_bool(s).unwrap_or_default(),
            _ => {
                self.mismatch(n, "bool");
                false
            }
        }
    }

    pub fn int(&mut self, n: &Node) -> i64 {
        match &n.kind {
            Kind::Scalar(s, true) if is_null(s) => 0,
            Kind::Scalar(s, true) => match parse_int(s) {
                Some(v) => v,
                None => {
                    self.mismatch(n, "int");
                    0
                }
            },
            _ => {
                self.mismatch(n, "int");
                0
            }
        }
    }

    /// A Go `time.Duration`: a duration string (`5s`, `1m30s`) or an integer of nanoseconds.
    pub fn duration(&mut self, n: &Node) -> std::time::Duration {
        if let Kind::Scalar(s, plain) = &n.kind {
            if *plain && is_null(s) {
                return std::time::Duration::ZERO;
            }
            if *plain {
                if let Some(ns) = parse_int(s) {
                    return std::time::Duration::from_nanos(ns.max(0) as u64);
                }
            }
            if let Some(d) = parse_go_duration(s) {
                return d;
            }
        }
        self.mismatch(n, "time.Duration");
        std::time::Duration::ZERO
    }

    pub fn strings(&mut self, n: &Node) -> Vec<String> {
        match &n.kind {
            Kind::Seq(items) => items.iter().map(|i| self.string(i)).collect(),
            _ if n.is_null() => Vec::new(),
            _ => {
                self.mismatch(n, "[]string");
                Vec::new()
            }
        }
    }

    pub fn ints(&mut self, n: &Node) -> Vec<i64> {
        match &n.kind {
            Kind::Seq(items) => items.iter().map(|i| self.int(i)).collect(),
            _ if n.is_null() => Vec::new(),
            _ => {
                self.mismatch(n, "[]int");
                Vec::new()
            }
        }
    }

    /// The items of a sequence (none for null).
    pub fn seq<'n>(&mut self, n: &'n Node, into: &str) -> &'n [Node] {
        match &n.kind {
            Kind::Seq(items) => items,
            _ => {
                if !n.is_null() {
                    self.mismatch(n, into);
                }
                &[]
            }
        }
    }

    /// A mapping of strings to strings, in document order.
    pub fn string_map(&mut self, n: &Node) -> Vec<(String, String)> {
        let entries = self.entries(n, "map[string]string");
        entries.iter().map(|(k, v)| (self.string(k), self.string(v))).collect()
    }

    /// The entries of a mapping (none for null).
    pub fn entries<'n>(&mut self, n: &'n Node, into: &str) -> &'n [(Node, Node)] {
        match &n.kind {
            Kind::Map(entries) => entries,
            _ => {
                if !n.is_null() {
                    self.mismatch(n, into);
                }
                &[]
            }
        }
    }

    /// Calls `f` with each field of a struct mapping; a field `f` does not know (returns false for) is an error
    /// naming `type_name`, as `UnmarshalStrict` reports it.
    pub fn fields(&mut self, n: &Node, type_name: &str, mut f: impl FnMut(&mut Errors, &str, &Node) -> bool) {
        let entries = self.entries(n, type_name);
        for (k, v) in entries {
            let key = match &k.kind {
                Kind::Scalar(s, _) => s.clone(),
                _ => {
                    self.mismatch(k, "string");
                    continue;
                }
            };
            if !f(self, &key, v) {
                self.at(k, format!("field {key} not found in type {type_name}"));
            }
        }
    }
}

/// go-yaml's integer forms: decimal, `0x`, `0o`, `0b`, with `_` separators.
fn parse_int(s: &str) -> Option<i64> {
    let t = s.replace('_', "");
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r.to_string()),
        None => (false, t.strip_prefix('+').unwrap_or(&t).to_string()),
    };
    let v = if let Some(h) = t.strip_prefix("0x") {
        i64::from_str_radix(h, 16).ok()?
    } else if let Some(o) = t.strip_prefix("0o") {
        i64::from_str_radix(o, 8).ok()?
    } else if let Some(b) = t.strip_prefix("0b") {
        i64::from_str_radix(b, 2).ok()?
    } else {
        t.parse::<i64>().ok()?
    };
    Some(if neg { -v } else { v })
}

/// Go's `time.ParseDuration` (negative durations are not durations a probe can use: refused).
pub(crate) fn parse_go_duration(s: &str) -> Option<std::time::Duration> {
    if s == "0" {
        return Some(std::time::Duration::ZERO);
    }
    let mut rest = s.strip_prefix('+').unwrap_or(s);
    if rest.is_empty() {
        return None;
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        if num_len == 0 {
            return None;
        }
        let num: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += num * scale;
    }
    std::time::Duration::try_from_secs_f64(total).ok()
}

/// `units.Base2Bytes` as alecthomas/units parses it: a number and a unit where `KB` and `KiB` both mean 1024.
pub(crate) fn parse_base2_bytes(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let n: u64 = s[..split].parse().ok()?;
    let mult: u64 = match &s[split..] {
        "" | "B" => 1,
        "K" | "KB" | "KiB" => 1 << 10,
        "M" | "MB" | "MiB" => 1 << 20,
        "G" | "GB" | "GiB" => 1 << 30,
        "T" | "TB" | "TiB" => 1 << 40,
        "P" | "PB" | "PiB" => 1 << 50,
        "E" | "EB" | "EiB" => 1 << 60,
        _ => return None,
    };
    n.checked_mul(mult)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_as_go_parses_them() {
        assert_eq!(parse_go_duration("5s"), Some(std::time::Duration::from_secs(5)));
        assert_eq!(parse_go_duration("1m30s"), Some(std::time::Duration::from_secs(90)));
        assert_eq!(parse_go_duration("500ms"), Some(std::time::Duration::from_millis(500)));
        assert_eq!(parse_go_duration("1.5s"), Some(std::time::Duration::from_millis(1500)));
        assert_eq!(parse_go_duration("5"), None);
        assert_eq!(parse_go_duration("5x"), None);
    }

    #[test]
    fn syntax_errors_carry_the_line() {
        let e = parse("modules:\n  a: [1, 2\n").unwrap_err();
        assert!(e.starts_with("yaml: line "), "{e}");
        let e = parse("{ modules: { http_2xx: { prober: http, timeout: 5s }").unwrap_err();
        assert!(e.starts_with("yaml: line 1: "), "{e}");
    }

    #[test]
    fn base2_bytes() {
        assert_eq!(parse_base2_bytes("10MB"), Some(10 << 20));
        assert_eq!(parse_base2_bytes("1KiB"), Some(1024));
        assert_eq!(parse_base2_bytes("12"), Some(12));
        assert_eq!(parse_base2_bytes("x"), None);
    }
}
