//! YAML as a tree of nodes that remember their line and column, and strict, typed reading of
//! that tree with go-yaml's error texts (`line N: field x not found in type T`).

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// A scalar's text; `quoted` for single- or double-quoted and block scalars.
    Scalar {
        text: String,
        quoted: bool,
    },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

/// A YAML node with its 1-based line and column, and which of several parsed sources it came
/// from (0 for a lone document; the collector engine merges several, `otelcol::collector`).
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub kind: Kind,
    pub line: usize,
    pub col: usize,
    pub source: u16,
}

/// Where a node is: its source, line and column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pos {
    pub source: u16,
    pub line: usize,
    pub col: usize,
}

impl Node {
    pub fn pos(&self) -> Pos {
        Pos { source: self.source, line: self.line, col: self.col }
    }

    pub fn null(line: usize, col: usize) -> Node {
        Node { kind: Kind::Scalar { text: String::new(), quoted: false }, line, col, source: 0 }
    }

    /// `~`, `null`, or nothing at all.
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, Kind::Scalar { text, quoted: false } if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    pub fn scalar(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// go-yaml's tag for messages: `!!str`, `!!int`, `!!seq`, …
    pub fn tag(&self) -> &'static str {
        match &self.kind {
            Kind::Seq(_) => "!!seq",
            Kind::Map(_) => "!!map",
            Kind::Scalar { text, quoted } => {
                if *quoted {
                    "!!str"
                } else if self.is_null() {
                    "!!null"
                } else if matches!(text.as_str(), "true" | "false" | "True" | "False" | "TRUE" | "FALSE") {
                    "!!bool"
                } else if text.parse::<i64>().is_ok() {
                    "!!int"
                } else if text.parse::<f64>().is_ok() {
                    "!!float"
                } else {
                    "!!str"
                }
            }
        }
    }

    /// The mapping's value for `key`.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            Kind::Map(entries) => entries.iter().find(|(k, _)| k.scalar() == Some(key)).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Where the key at the end of `path` is, below `node` (`["server", "log_level"]`), for
/// diagnostics about it; the last occurrence of a repeated key, which go-yaml keeps.
pub fn key_pos(node: &Node, path: &[&str]) -> Option<(u32, u32)> {
    let (last, parents) = path.split_last()?;
    let mut n = node;
    for p in parents {
        n = n.get(p)?;
    }
    match &n.kind {
        Kind::Map(entries) => entries.iter().rev().find(|(k, _)| k.scalar() == Some(last)).map(|(k, _)| (k.line as u32, k.col as u32)),
        _ => None,
    }
}

/// A YAML syntax error at its 1-based line and column (`Display`: `yaml: line N: column C:
/// problem`), with go-yaml v2's text for it in `upstream` (`yaml: line N: problem`, where the
/// line follows go-yaml's rules, see `yaml_errors`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("yaml: line {line}: column {col}: {problem}")]
pub struct SyntaxError {
    pub line: usize,
    pub col: usize,
    pub problem: String,
    pub upstream: String,
}

enum Frame {
    Seq(Vec<Node>, Marker, usize),
    Map(Vec<(Node, Node)>, Option<Node>, Marker, usize),
}

/// Aliases copy their anchor's node. A document that makes most of its nodes by aliasing (a
/// "billion laughs": anchors of anchors, each repeated) is refused as go-yaml refuses it, before
/// the copies are made: past 1000 nodes, when more than a ratio of them come from aliases (99%
/// up to 400 000 nodes, falling to 10% at 4 000 000).
fn allowed_alias_ratio(nodes: u64) -> f64 {
    const LOW: u64 = 400_000;
    const HIGH: u64 = 4_000_000;
    match nodes {
        n if n <= LOW => 0.99,
        n if n >= HIGH => 0.10,
        n => 0.99 - 0.89 * ((n - LOW) as f64 / (HIGH - LOW) as f64),
    }
}

/// The deepest nesting of sequences and mappings read. Every pass over a tree (the converters,
/// the collector's resolver, dropping it) recurses once per level; flow syntax nests without
/// indentation (`[a, : : : …]` opens a mapping per `:`), so a short line can nest thousands deep.
pub const MAX_DEPTH: usize = 128;

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    docs: Vec<Node>,
    /// Anchored nodes and their sizes (nodes in their subtree).
    anchors: std::collections::HashMap<usize, (Node, u64)>,
    /// Nodes made, and how many of them copies made by aliases.
    nodes: u64,
    aliased: u64,
    /// The first problem; the rest of the document is not built.
    error: Option<SyntaxError>,
}

fn at(kind: Kind, m: &Marker) -> Node {
    Node { kind, line: m.line(), col: m.col() + 1, source: 0 }
}

fn size(n: &Node) -> u64 {
    match &n.kind {
        Kind::Scalar { .. } => 1,
        Kind::Seq(items) => 1 + items.iter().map(size).sum::<u64>(),
        Kind::Map(entries) => 1 + entries.iter().map(|(k, v)| size(k) + size(v)).sum::<u64>(),
    }
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

    /// Records the first problem, at 1-based `line` and `col`; go-yaml's node builder reports
    /// these without a line.
    fn fail(&mut self, line: usize, col: usize, problem: &str) {
        if self.error.is_none() {
            self.error = Some(SyntaxError { line: line.max(1), col, problem: problem.to_string(), upstream: format!("yaml: {problem}") });
        }
    }

    fn anchor(&mut self, id: usize, n: &Node) {
        if id > 0 {
            self.anchors.insert(id, (n.clone(), size(n)));
        }
    }
}

/// A mapping with its merge keys (`<<: *base`, `<<: [*a, *b]`) applied as go-yaml applies them:
/// the merged mappings' entries are added where the `<<` key was, except keys the mapping sets
/// itself or an earlier merged mapping gave.
fn merge_keys(entries: Vec<(Node, Node)>) -> Result<Vec<(Node, Node)>, Node> {
    let is_merge = |k: &Node| matches!(&k.kind, Kind::Scalar { text, quoted: false } if text == "<<");
    if !entries.iter().any(|(k, _)| is_merge(k)) {
        return Ok(entries);
    }
    let mut taken: std::collections::HashSet<String> =
        entries.iter().filter(|(k, _)| !is_merge(k)).filter_map(|(k, _)| k.scalar().map(str::to_string)).collect();
    let mut out = Vec::with_capacity(entries.len());
    for (k, v) in entries {
        if !is_merge(&k) {
            out.push((k, v));
            continue;
        }
        let maps: Vec<Node> = match v.kind {
            Kind::Map(_) => vec![v],
            Kind::Seq(items) if items.iter().all(|i| matches!(i.kind, Kind::Map(_))) => items,
            _ => return Err(k),
        };
        for m in maps {
            if let Kind::Map(merged) = m.kind {
                for (mk, mv) in merged {
                    let name = mk.scalar().map(str::to_string);
                    if name.as_ref().is_none_or(|n| taken.insert(n.clone())) {
                        out.push((mk, mv));
                    }
                }
            }
        }
    }
    Ok(out)
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        match ev {
            Event::Scalar(text, style, anchor, _tag) => {
                let quoted = !matches!(style, TScalarStyle::Plain);
                let n = at(Kind::Scalar { text, quoted }, &mark);
                self.nodes += 1;
                self.anchor(anchor, &n);
                self.push(n);
            }
            Event::Alias(id) => {
                let Some((n, size)) = self.anchors.get(&id) else {
                    return self.fail(mark.line(), mark.col() + 1, "unknown anchor referenced");
                };
                let (nodes, aliased) = (self.nodes + size, self.aliased + size);
                if aliased > 100 && nodes > 1000 && aliased as f64 / nodes as f64 > allowed_alias_ratio(nodes) {
                    return self.fail(mark.line(), mark.col() + 1, "document contains excessive aliasing");
                }
                let n = n.clone();
                (self.nodes, self.aliased) = (nodes, aliased);
                self.push(n);
            }
            Event::SequenceStart(..) | Event::MappingStart(..) if self.stack.len() >= MAX_DEPTH => {
                self.fail(mark.line(), mark.col() + 1, &format!("exceeded max depth of {MAX_DEPTH}"));
            }
            Event::SequenceStart(anchor, _) => self.stack.push(Frame::Seq(Vec::new(), mark, anchor)),
            Event::SequenceEnd => {
                if let Some(Frame::Seq(items, m, anchor)) = self.stack.pop() {
                    let n = at(Kind::Seq(items), &m);
                    self.nodes += 1;
                    self.anchor(anchor, &n);
                    self.push(n);
                }
            }
            Event::MappingStart(anchor, _) => self.stack.push(Frame::Map(Vec::new(), None, mark, anchor)),
            Event::MappingEnd => {
                if let Some(Frame::Map(entries, _, m, anchor)) = self.stack.pop() {
                    let entries = match merge_keys(entries) {
                        Ok(entries) => entries,
                        Err(key) => return self.fail(key.line, key.col, "map merge requires map or sequence of maps as the value"),
                    };
                    let n = at(Kind::Map(entries), &m);
                    self.nodes += 1;
                    self.anchor(anchor, &n);
                    self.push(n);
                }
            }
            _ => {}
        }
    }
}

/// Feeds the first document's events to the builder, one at a time. (The parser's own `load`
/// recurses once per nesting level, so deep input overflowed the stack before the builder
/// could refuse it; this loop stops at the builder's first problem.)
fn read_first_document(parser: &mut Parser<std::str::Chars<'_>>, b: &mut Builder) -> Result<(), yaml_rust2::ScanError> {
    while b.error.is_none() {
        let (event, mark) = parser.next_token()?;
        let last = matches!(event, Event::DocumentEnd | Event::StreamEnd);
        b.on_event(event, mark);
        if last {
            break;
        }
    }
    Ok(())
}

/// Parses the first document; an empty document is a null node.
pub fn parse(src: &[u8]) -> Result<Node, SyntaxError> {
    let text = String::from_utf8_lossy(src);
    let mut b = Builder::default();
    let mut parser = Parser::new_from_str(&text);
    if let Err(e) = read_first_document(&mut parser, &mut b) {
        let m = e.marker();
        let chars: Vec<char> = text.chars().collect();
        let at_eof_without_newline = m.index() >= chars.len() && !text.ends_with('\n');
        let line = if at_eof_without_newline && m.col() == 0 { m.line().saturating_sub(1) } else { m.line() };
        let info = e.info();
        let problem = match info.split_once(", ") {
            Some((ctx, problem)) if ctx.starts_with("while ") => problem.to_string(),
            _ => info.to_string(),
        };
        let upstream = crate::yaml_errors::go_yaml_v2(&chars, m.index(), line.max(1), &problem);
        return Err(SyntaxError { line: line.max(1), col: m.col() + 1, problem, upstream });
    }
    if let Some(e) = b.error {
        return Err(e);
    }
    Ok(b.docs.into_iter().next().unwrap_or_else(|| Node::null(1, 1)))
}

/// Parses the first document of source number `source`, marking every node with it.
pub fn parse_source(src: &[u8], source: u16) -> Result<Node, SyntaxError> {
    let mut root = parse(src)?;
    root.set_source(source);
    Ok(root)
}

impl Node {
    fn set_source(&mut self, source: u16) {
        self.source = source;
        match &mut self.kind {
            Kind::Scalar { .. } => {}
            Kind::Seq(items) => items.iter_mut().for_each(|n| n.set_source(source)),
            Kind::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
                k.set_source(source);
                v.set_source(source);
            }),
        }
    }
}

/// Errors met while reading a tree into typed values. Soft errors are collected as go-yaml
/// collects its "unmarshal errors"; a hard error (a custom unmarshaller's) stops at once.
#[derive(Clone, Debug, Default)]
pub struct Errors {
    /// (line, message): reported in document order, as go-yaml decodes.
    pub soft: Vec<(usize, String)>,
    pub hard: Option<String>,
    /// Where soft errors are (line, column) and a hint for each where there is one
    /// (`did you mean "x"?`), for the diagnostic rather than upstream's text.
    pub located: Vec<(usize, usize, Option<String>)>,
}

impl Errors {
    pub fn soft(&mut self, line: usize, msg: impl std::fmt::Display) {
        self.soft.push((line, format!("line {line}: {msg}")));
    }

    /// A soft error about the node at `line`:`col`, with an optional hint.
    pub fn soft_at(&mut self, line: usize, col: usize, msg: impl std::fmt::Display, hint: Option<String>) {
        self.soft(line, msg);
        self.located.push((line, col, hint));
    }

    /// The first located soft error's position, in document order.
    pub fn position(&self) -> Option<(u32, u32)> {
        self.located.iter().min_by_key(|(line, col, _)| (*line, *col)).map(|(line, col, _)| (*line as u32, *col as u32))
    }

    /// The hints, each with the line it is about, in document order.
    pub fn hints(&self) -> Vec<String> {
        let mut located: Vec<_> = self.located.iter().filter_map(|(line, _, hint)| hint.as_ref().map(|h| (*line, h))).collect();
        located.sort_by_key(|(line, _)| *line);
        located.into_iter().map(|(line, hint)| format!("line {line}: {hint}")).collect()
    }

    pub fn hard(&mut self, msg: impl Into<String>) {
        if self.hard.is_none() {
            self.hard = Some(msg.into());
        }
    }

    /// go-yaml's text: the hard error, or `yaml: unmarshal errors:` and one indented line each.
    pub fn message(&self) -> Option<String> {
        if let Some(h) = &self.hard {
            return Some(h.clone());
        }
        if self.soft.is_empty() {
            return None;
        }
        let mut soft = self.soft.clone();
        soft.sort_by_key(|(line, _)| *line);
        let mut s = String::from("yaml: unmarshal errors:");
        for (_, e) in &soft {
            s.push_str("\n  ");
            s.push_str(e);
        }
        Some(s)
    }
}

/// Strict reading of one mapping: every key must be asked for before [`Fields::finish`],
/// which reports the others as `field K not found in type T`.
pub struct Fields<'a> {
    entries: &'a [(Node, Node)],
    used: Vec<bool>,
    ty: &'static str,
    /// Every key asked for, present or not: the candidates for `did you mean`.
    asked: Vec<String>,
}

static EMPTY: [(Node, Node); 0] = [];

impl<'a> Fields<'a> {
    /// Reads `node` as a mapping of Go type `ty`; a null node is an empty mapping.
    pub fn new(node: &'a Node, ty: &'static str, errs: &mut Errors) -> Fields<'a> {
        let entries: &'a [(Node, Node)] = match &node.kind {
            Kind::Map(e) => e,
            _ => {
                if !node.is_null() {
                    errs.soft_at(node.line, node.col, format!("cannot unmarshal {} into {ty}", node.tag()), None);
                }
                &EMPTY
            }
        };
        Fields { entries, used: vec![false; entries.len()], ty, asked: Vec::new() }
    }

    /// The value of `key` (null values count as absent).
    pub fn get(&mut self, key: &str) -> Option<&'a Node> {
        if !self.asked.iter().any(|k| k == key) {
            self.asked.push(key.to_string());
        }
        let mut found = None;
        for (i, (k, v)) in self.entries.iter().enumerate() {
            if k.scalar() == Some(key) {
                self.used[i] = true;
                found = Some(v);
            }
        }
        found.filter(|v| !v.is_null())
    }

    /// The string value of `key`, empty when absent.
    pub fn string(&mut self, key: &str, errs: &mut Errors) -> String {
        self.string_or(key, "", errs)
    }

    /// The string value of `key`, `default` when absent.
    pub fn string_or(&mut self, key: &str, default: &str, errs: &mut Errors) -> String {
        self.get(key).map_or_else(|| default.to_string(), |n| string(n, errs))
    }

    /// The boolean value of `key`, `default` when absent.
    pub fn boolean(&mut self, key: &str, default: bool, errs: &mut Errors) -> bool {
        self.get(key).map(|n| boolean(n, errs)).unwrap_or(default)
    }

    /// Where `key` is (its last occurrence, which go-yaml keeps), for diagnostics about it.
    pub fn key_at(&self, key: &str) -> Option<(u32, u32)> {
        self.entries.iter().rev().find(|(k, _)| k.scalar() == Some(key)).map(|(k, _)| (k.line as u32, k.col as u32))
    }

    /// Marks `key` as known without reading it.
    pub fn ignore(&mut self, key: &str) {
        let _ = self.get(key);
    }

    /// The keys not yet asked for, in order (for inline maps).
    pub fn rest(&mut self) -> Vec<&'a (Node, Node)> {
        let mut out = Vec::new();
        for (i, e) in self.entries.iter().enumerate() {
            if !self.used[i] {
                self.used[i] = true;
                out.push(e);
            }
        }
        out
    }

    pub fn finish(self, errs: &mut Errors) {
        for (i, (k, _)) in self.entries.iter().enumerate() {
            if !self.used[i] {
                let name = k.scalar().unwrap_or("?");
                let hint = analyzer::suggest::did_you_mean(name, self.asked.iter().map(String::as_str));
                errs.soft_at(k.line, k.col, format!("field {name} not found in type {}", self.ty), hint);
            } else if let Some(name) = k.scalar() {
                // go-yaml's strict decoding refuses a field given twice, at each repeat.
                if self.entries[..i].iter().any(|(earlier, _)| earlier.scalar() == Some(name)) {
                    errs.soft_at(k.line, k.col, format!("field {name} already set in type {}", self.ty), None);
                }
            }
        }
    }
}

fn type_error(n: &Node, target: &str, errs: &mut Errors) {
    let text = n.scalar().map(|t| format!(" `{t}`")).unwrap_or_default();
    errs.soft_at(n.line, n.col, format!("cannot unmarshal {}{text} into {target}", n.tag()), None);
}

pub fn string(n: &Node, errs: &mut Errors) -> String {
    match &n.kind {
        Kind::Scalar { text, .. } => {
            if n.is_null() {
                String::new()
            } else {
                text.clone()
            }
        }
        _ => {
            type_error(n, "string", errs);
            String::new()
        }
    }
}

pub fn boolean(n: &Node, errs: &mut Errors) -> bool {
    match n.scalar() {
        Some("true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "y" | "Y") if !is_quoted(n) => true,
        Some("false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "n" | "N") if !is_quoted(n) => false,
        _ => {
            type_error(n, "bool", errs);
            false
        }
    }
}

fn is_quoted(n: &Node) -> bool {
    matches!(n.kind, Kind::Scalar { quoted: true, .. })
}

pub fn int(n: &Node, target: &str, errs: &mut Errors) -> i64 {
    let parsed = n.scalar().filter(|_| !is_quoted(n)).and_then(|t| {
        let t = t.replace('_', "");
        if let Some(h) = t.strip_prefix("0x") {
            i64::from_str_radix(h, 16).ok()
        } else {
            t.parse::<i64>().ok()
        }
    });
    match parsed {
        Some(v) => v,
        None => {
            type_error(n, target, errs);
            0
        }
    }
}

pub fn uint(n: &Node, target: &str, errs: &mut Errors) -> u64 {
    let v = int(n, target, errs);
    if v < 0 {
        type_error(n, target, errs);
        0
    } else {
        v as u64
    }
}

pub fn float(n: &Node, errs: &mut Errors) -> f64 {
    match n.scalar().filter(|_| !is_quoted(n)).and_then(|t| t.parse::<f64>().ok()) {
        Some(v) => v,
        None => {
            type_error(n, "float64", errs);
            0.0
        }
    }
}

pub fn strings(n: &Node, errs: &mut Errors) -> Vec<String> {
    match &n.kind {
        Kind::Seq(items) => items.iter().map(|i| string(i, errs)).collect(),
        _ if n.is_null() => Vec::new(),
        _ => {
            type_error(n, "[]string", errs);
            Vec::new()
        }
    }
}

pub fn seq<'a>(n: &'a Node, target: &str, errs: &mut Errors) -> &'a [Node] {
    match &n.kind {
        Kind::Seq(items) => items,
        _ => {
            if !n.is_null() {
                type_error(n, target, errs);
            }
            &[]
        }
    }
}

/// A `map[string]string`, in YAML order.
pub fn string_map(n: &Node, errs: &mut Errors) -> Vec<(String, String)> {
    match &n.kind {
        Kind::Map(entries) => {
            let mut out: Vec<(String, String)> = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                let key = string(k, errs);
                // go-yaml's strict decoding refuses a repeated key.
                if out.iter().any(|(seen, _)| *seen == key) {
                    errs.soft_at(k.line, k.col, format!("key {key:?} already set in map"), None);
                    continue;
                }
                out.push((key, string(v, errs)));
            }
            out
        }
        _ => {
            if !n.is_null() {
                type_error(n, "map[string]string", errs);
            }
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_name_the_line() {
        let e = parse(b"a: 1\nb: [1, 2\nc: 3\n").unwrap_err();
        assert!(e.line >= 2, "{e}");
        assert!(e.to_string().starts_with("yaml: line "), "{e}");
    }

    #[test]
    fn aliases_copy_mappings_and_sequences_and_merge_keys_merge() {
        let n = parse(b"a: &m {x: 1, y: 2}\nb: &s [1, 2]\nc: *m\nd: *s\ne: {<<: *m, y: 3, z: 4}\nf: {<<: [{p: 1}, {p: 2, q: 2}], r: 0}\n").unwrap();
        assert_eq!(n.get("c"), n.get("a"));
        assert_eq!(n.get("d").map(|d| matches!(&d.kind, Kind::Seq(items) if items.len() == 2)), Some(true));
        let keys = |k: &str| match &n.get(k).unwrap().kind {
            Kind::Map(entries) => entries.iter().map(|(k, v)| format!("{}={}", k.scalar().unwrap(), v.scalar().unwrap())).collect::<Vec<_>>(),
            _ => panic!("{k} is a mapping"),
        };
        // The mapping's own keys win over merged ones; earlier merged mappings over later.
        assert_eq!(keys("e"), ["x=1", "y=3", "z=4"]);
        assert_eq!(keys("f"), ["p=1", "q=2", "r=0"]);
        let e = parse(b"a: {<<: 1}\n").unwrap_err();
        assert_eq!(e.to_string(), "yaml: line 1: column 5: map merge requires map or sequence of maps as the value");
    }

    #[test]
    fn excessive_aliasing_is_refused_before_expanding() {
        let mut s = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            s.push_str(&format!("a{i}: &a{i} [{}]\n", vec![format!("*a{}", i - 1); 10].join(", ")));
        }
        let e = parse(s.as_bytes()).unwrap_err();
        assert!(e.to_string().ends_with("document contains excessive aliasing"), "{e}");
        assert_eq!(e.line, 4, "{e}");
        // Ordinary reuse stays allowed.
        let ok: String = std::iter::once("base: &b {k: v}\n".to_string()).chain((0..500).map(|i| format!("n{i}: *b\n"))).collect();
        assert!(parse(ok.as_bytes()).is_ok());
    }

    #[test]
    fn deep_nesting_is_refused_where_it_goes_too_deep() {
        let ok = format!("a: {}x{}\n", "[".repeat(MAX_DEPTH - 1), "]".repeat(MAX_DEPTH - 1));
        assert!(parse(ok.as_bytes()).is_ok());
        let deep = format!("a: {}x{}\n", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        let e = parse(deep.as_bytes()).unwrap_err();
        assert_eq!((e.line, e.col, e.problem.as_str()), (1, 3 + MAX_DEPTH, "exceeded max depth of 128"));
        // Flow mappings opened by `:` alone, on one line, as a fuzzer found them.
        let colons = format!("a: [b, {}]\n", ": ".repeat(50_000));
        assert_eq!(parse(colons.as_bytes()).unwrap_err().problem, "exceeded max depth of 128");
    }

    #[test]
    fn unknown_fields_are_reported_with_their_line() {
        let n = parse(b"a: 1\n\nzzz: 2\n").unwrap();
        let mut errs = Errors::default();
        let mut f = Fields::new(&n, "config.plain", &mut errs);
        let _ = f.get("a");
        f.finish(&mut errs);
        assert_eq!(errs.message().unwrap(), "yaml: unmarshal errors:\n  line 3: field zzz not found in type config.plain");
    }
}
