//! The table-driven part of the otelcol converter: a component's Alloy arguments described as
//! fields in Alloy struct order, each with where its value comes from in the collector YAML,
//! the collector's default (to compute the effective config) and Alloy's default (to leave the
//! field out, as upstream's builder does when the value equals the default or both are zero).

use crate::builder::{Block, Expr, Stmt};
use crate::values::{base2_bytes, go_duration};
use crate::yaml::{Kind, Node};

use super::Ctx;

/// How a field's value is read and printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    Str,
    Bool,
    Int,
    Float,
    /// A Go duration (`5s`, or an integer of nanoseconds), printed as `"5s"`/`"1m0s"`.
    Dur,
    /// A byte count printed as `units.Base2Bytes` (`"512KiB"`).
    Bytes,
    /// A count of MiB printed as bytes (`max_recv_msg_size_mib: 4` → `"4MiB"`).
    MiB,
    Strs,
    Ints,
    Floats,
    /// A map of strings, printed as an object with sorted keys.
    StrMap,
    /// Any YAML value, printed as the nearest Alloy value (maps sorted).
    Any,
    /// An extension reference: `name` becomes `<alloy>.<label>.handler`.
    Handler,
}

/// A hook for parts the tables cannot describe: it gets the field's YAML node (null when
/// absent) and appends statements.
pub type Hook = fn(&Node, &mut Ctx, &mut Vec<Stmt>);

#[derive(Clone, Debug)]
pub enum Shape {
    Attr(Ty),
    /// A nested block, printed when any of its fields is.
    Block(Vec<F>),
    /// A block that exists when its YAML key is present (even empty), printed then even empty.
    Present(Vec<F>),
    /// A block printed even when all its fields are defaults.
    Always(Vec<F>),
    /// One block per element of a YAML sequence.
    Blocks(Vec<F>),
    /// One block per entry of a YAML map, sorted by key; the key goes to the named attribute.
    KeyedBlocks(&'static str, Vec<F>),
    Hook(Hook),
}

/// One Alloy field.
#[derive(Clone, Debug)]
pub struct F {
    pub name: &'static str,
    /// The YAML path, `.`-separated; empty means the node itself (for hooks and squash).
    pub src: &'static str,
    pub shape: Shape,
    /// The collector's default as YAML text, used when the YAML has no value.
    pub otel: Option<&'static str>,
    /// Alloy's default as YAML text; `None` means the zero value.
    pub alloy: Option<&'static str>,
    pub required: bool,
    /// An empty YAML list counts as absent (the converter substitutes the default).
    pub nonempty: bool,
    /// For a block: its fields' Alloy defaults belong to the parent; once the block differs
    /// from them it is printed against its own type's defaults, which are zero (upstream's
    /// nested-block rule).
    pub zero_inner: bool,
}

impl F {
    pub fn zero_inner(mut self) -> F {
        self.zero_inner = true;
        self
    }

    pub fn nonempty(mut self) -> F {
        self.nonempty = true;
        self
    }

    /// The collector's default (when it differs from nothing).
    pub fn otel(mut self, d: &'static str) -> F {
        self.otel = Some(d);
        self
    }

    /// Alloy's default.
    pub fn alloy(mut self, d: &'static str) -> F {
        self.alloy = Some(d);
        self
    }

    /// The same default on both sides.
    pub fn d(self, d: &'static str) -> F {
        self.otel(d).alloy(d)
    }

    pub fn src(mut self, s: &'static str) -> F {
        self.src = s;
        self
    }

    pub fn req(mut self) -> F {
        self.required = true;
        self
    }
}

/// Every YAML path the fields read, `.`-separated from the component's node (for naming the
/// nearest known key when one is misspelt).
pub fn known_paths(fields: &[F]) -> Vec<String> {
    let mut out = Vec::new();
    collect_paths(fields, "", &mut out);
    out
}

fn collect_paths(fields: &[F], prefix: &str, out: &mut Vec<String>) {
    for f in fields {
        let path = match (prefix.is_empty(), f.src.is_empty()) {
            (_, true) => prefix.to_string(),
            (true, false) => f.src.to_string(),
            (false, false) => format!("{prefix}.{}", f.src),
        };
        match &f.shape {
            Shape::Block(inner) | Shape::Present(inner) | Shape::Always(inner) => collect_paths(inner, &path, out),
            // List items and map values: their keys are read below the list's own key.
            Shape::Blocks(inner) | Shape::KeyedBlocks(_, inner) => {
                out.push(path.clone());
                collect_paths(inner, &path, out);
            }
            Shape::Attr(_) | Shape::Hook(_) => out.push(path),
        }
    }
}

fn field(name: &'static str, shape: Shape) -> F {
    F { name, src: name, shape, otel: None, alloy: None, required: false, nonempty: false, zero_inner: false }
}

pub fn attr(name: &'static str, ty: Ty) -> F {
    field(name, Shape::Attr(ty))
}
pub fn s(name: &'static str) -> F {
    attr(name, Ty::Str)
}
pub fn b(name: &'static str) -> F {
    attr(name, Ty::Bool)
}
pub fn i(name: &'static str) -> F {
    attr(name, Ty::Int)
}
pub fn fl(name: &'static str) -> F {
    attr(name, Ty::Float)
}
pub fn dur(name: &'static str) -> F {
    attr(name, Ty::Dur)
}
pub fn strs(name: &'static str) -> F {
    attr(name, Ty::Strs)
}
pub fn map(name: &'static str) -> F {
    attr(name, Ty::StrMap)
}
pub fn block(name: &'static str, fields: Vec<F>) -> F {
    field(name, Shape::Block(fields))
}
pub fn present(name: &'static str, fields: Vec<F>) -> F {
    field(name, Shape::Present(fields))
}
pub fn always(name: &'static str, fields: Vec<F>) -> F {
    field(name, Shape::Always(fields))
}
pub fn blocks(name: &'static str, fields: Vec<F>) -> F {
    field(name, Shape::Blocks(fields))
}
pub fn keyed(name: &'static str, key: &'static str, fields: Vec<F>) -> F {
    field(name, Shape::KeyedBlocks(key, fields))
}
pub fn hook(name: &'static str, h: Hook) -> F {
    field(name, Shape::Hook(h))
}

/// A setting upstream's converter reads but does not carry over; listed so that it is not
/// reported as unconverted, since upstream drops it without a word (and the goldens say so).
pub fn dropped(src: &'static str) -> F {
    hook("", |_, _, _| {}).src(src)
}

/// The node at a `.`-separated path (the node itself for an empty path).
pub fn at<'a>(node: &'a Node, path: &str) -> Option<&'a Node> {
    let found = lookup(node, path);
    if let Some(n) = found {
        note_read(n);
    }
    found
}

fn lookup<'a>(node: &'a Node, path: &str) -> Option<&'a Node> {
    if path.is_empty() {
        return Some(node);
    }
    // Keys may contain dots themselves (`file.atime`): the longest matching key wins.
    if let Some(n) = node.get(path) {
        return Some(n);
    }
    let mut split = path.len();
    while let Some(dot) = path[..split].rfind('.') {
        if let Some(n) = node.get(&path[..dot]) {
            // A map on the way to a field is a block: its other keys must be read too.
            visit(n);
            if let Some(found) = lookup(n, &path[dot + 1..]) {
                note_read(n);
                return Some(found);
            }
        }
        split = dot;
    }
    None
}

thread_local! {
    /// The YAML nodes the tables and hooks looked up, while [`tracking`] runs.
    static READ: std::cell::RefCell<Option<std::collections::HashSet<usize>>> = const { std::cell::RefCell::new(None) };
    /// The blocks they looked up, whose keys are read one by one.
    static VISITED: std::cell::RefCell<Option<std::collections::HashSet<usize>>> = const { std::cell::RefCell::new(None) };
}

/// Looks up a block's YAML: the block is there, but its keys still have to be read one by
/// one (an unknown key inside it is reported).
fn container<'a>(node: &'a Node, path: &str) -> Option<&'a Node> {
    let found = lookup(node, path);
    if let Some(n) = found {
        visit(n);
    }
    found
}

fn visit(n: &Node) {
    VISITED.with(|r| {
        if let Some(set) = r.borrow_mut().as_mut() {
            set.insert(n as *const Node as usize);
        }
    });
}

fn note_read(n: &Node) {
    READ.with(|r| {
        if let Some(set) = r.borrow_mut().as_mut() {
            set.insert(n as *const Node as usize);
        }
    });
}

/// Runs `f`, then lists the settings under `root` that nothing looked up: `a.b` paths of
/// mapping keys whose values (and everything below them) were never read.
pub fn tracking<T>(root: &Node, f: impl FnOnce() -> T) -> (T, Vec<(String, crate::yaml::Pos)>) {
    READ.with(|r| *r.borrow_mut() = Some(std::collections::HashSet::new()));
    VISITED.with(|r| *r.borrow_mut() = Some(std::collections::HashSet::new()));
    let out = f();
    let read = READ.with(|r| r.borrow_mut().take()).unwrap_or_default();
    let visited = VISITED.with(|r| r.borrow_mut().take()).unwrap_or_default();
    let mut unread = Vec::new();
    unread_below(root, "", &Seen { read: &read, visited: &visited }, &mut unread);
    (out, unread)
}

/// What rendering looked at: values read whole, and blocks whose keys are read one by one.
struct Seen<'a> {
    read: &'a std::collections::HashSet<usize>,
    visited: &'a std::collections::HashSet<usize>,
}

impl Seen<'_> {
    fn read(&self, n: &Node) -> bool {
        self.read.contains(&(n as *const Node as usize))
    }

    fn visited(&self, n: &Node) -> bool {
        self.visited.contains(&(n as *const Node as usize))
    }

    fn any_read(&self, n: &Node) -> bool {
        self.read(n)
            || self.visited(n)
            || match &n.kind {
                Kind::Map(entries) => entries.iter().any(|(_, v)| self.any_read(v)),
                Kind::Seq(items) => items.iter().any(|i| self.any_read(i)),
                Kind::Scalar { .. } => false,
            }
    }

    /// Whether to look inside `v` for what was skipped: a block, or a value read field by field.
    fn look_inside(&self, v: &Node) -> bool {
        self.visited(v)
            || match &v.kind {
                Kind::Map(entries) => entries.iter().any(|(_, c)| self.any_read(c)),
                Kind::Seq(items) => items.iter().any(|i| self.any_read(i)),
                Kind::Scalar { .. } => false,
            }
    }
}

/// The paths below `n` that nothing read, each with where its key is.
fn unread_below(n: &Node, prefix: &str, seen: &Seen, out: &mut Vec<(String, crate::yaml::Pos)>) {
    match &n.kind {
        Kind::Map(entries) => {
            for (k, v) in entries {
                let path = if prefix.is_empty() { text(k) } else { format!("{prefix}.{}", text(k)) };
                if seen.look_inside(v) {
                    unread_below(v, &path, seen, out);
                } else if !seen.read(v) {
                    out.push((path, k.pos()));
                }
            }
        }
        Kind::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                if seen.look_inside(item) {
                    unread_below(item, &format!("{prefix}[{i}]"), seen, out);
                }
            }
        }
        Kind::Scalar { .. } => {}
    }
}

/// `at`, with null values counted as absent.
pub fn value<'a>(node: &'a Node, path: &str) -> Option<&'a Node> {
    at(node, path).filter(|n| !n.is_null())
}

/// Parses a default written as YAML text.
fn default_node(text: &str) -> Node {
    crate::yaml::parse(text.as_bytes()).unwrap_or_else(|_| Node::null(0, 0))
}

/// A typed value, compared to defaults by value as Go's `reflect.DeepEqual` would.
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    Str(String),
    Bool(bool),
    Int(i64),
    Float(f64),
    Dur(i64),
    Bytes(u64),
    List(Vec<Val>),
    Map(Vec<(String, Val)>),
    /// A raw expression (an extension handler).
    Raw(String),
}

impl Val {
    fn is_zero(&self) -> bool {
        match self {
            Val::Str(s) => s.is_empty(),
            Val::Bool(b) => !b,
            Val::Int(i) => *i == 0,
            Val::Float(f) => *f == 0.0,
            Val::Dur(d) => *d == 0,
            Val::Bytes(b) => *b == 0,
            Val::List(l) => l.is_empty(),
            Val::Map(m) => m.is_empty(),
            Val::Raw(r) => r.is_empty(),
        }
    }

    pub fn expr(&self) -> Expr {
        match self {
            Val::Str(s) => Expr::Str(s.clone()),
            Val::Bool(b) => Expr::Bool(*b),
            Val::Int(i) => Expr::Int(*i),
            Val::Float(f) => Expr::Float(*f),
            Val::Dur(d) => Expr::Str(go_duration(*d)),
            Val::Bytes(b) => Expr::Str(base2_bytes(*b)),
            Val::List(l) => Expr::Array(l.iter().map(Val::expr).collect()),
            Val::Map(m) => Expr::Object(m.iter().map(|(k, v)| (k.clone(), v.expr())).collect()),
            Val::Raw(r) => Expr::Raw(r.clone()),
        }
    }
}

/// A scalar's text ("" for null and collections).
pub fn text(n: &Node) -> String {
    n.scalar().filter(|_| !n.is_null()).unwrap_or_default().to_string()
}

/// Parses a Go duration (`1m30s`) or a plain integer of nanoseconds.
pub fn parse_dur(s: &str) -> Option<i64> {
    if let Ok(n) = s.parse::<i64>() {
        return Some(n);
    }
    eval::decode::Duration::parse(s).ok().map(|d| d.nanos)
}

fn parse_bool(s: &str) -> bool {
    matches!(s, "true" | "True" | "TRUE")
}

/// Go's zero value of a field type.
fn zero(ty: Ty) -> Val {
    match ty {
        Ty::Str | Ty::Handler => Val::Str(String::new()),
        Ty::Bool => Val::Bool(false),
        Ty::Int => Val::Int(0),
        Ty::Float => Val::Float(0.0),
        Ty::Dur => Val::Dur(0),
        Ty::Bytes | Ty::MiB => Val::Bytes(0),
        Ty::Strs | Ty::Ints | Ty::Floats => Val::List(Vec::new()),
        Ty::StrMap | Ty::Any => Val::Map(Vec::new()),
    }
}

/// A scalar that does not read as its field's type (reading it then gives the zero value,
/// which upstream's converter never meets: the collector refuses such a config first).
#[derive(Clone, Debug, PartialEq)]
pub struct Invalid {
    pub text: String,
    pub ty: Ty,
    /// Go's name of what was found: `string`, `[]interface {}`, `map[string]interface {}`.
    pub found: &'static str,
}

impl Invalid {
    /// The collector's (mapstructure's) words for it, for the setting `key`.
    pub fn message(&self, key: &str) -> String {
        let go_type = match self.ty {
            Ty::Dur if self.found == "string" => return format!("'{key}' time: invalid duration {:?}", self.text),
            Ty::Bytes if self.found == "string" => return format!("'{key}' units: invalid byte size {:?}", self.text),
            Ty::Bool => "bool",
            Ty::Float => "float64",
            Ty::Int | Ty::MiB => "int",
            Ty::Dur => "time.Duration",
            _ => "string",
        };
        format!("'{key}' expected type '{go_type}', got unconvertible type '{}', value: '{}'", self.found, self.text)
    }
}

/// The key whose value (or list item) is at `at`, for naming an invalid value.
pub fn key_at(n: &Node, at: crate::yaml::Pos) -> Option<String> {
    let holds = |v: &Node| v.pos() == at || matches!(&v.kind, Kind::Seq(items) if items.iter().any(|i| i.pos() == at));
    match &n.kind {
        Kind::Scalar { .. } => None,
        Kind::Seq(items) => items.iter().find_map(|i| key_at(i, at)),
        Kind::Map(entries) => entries.iter().find_map(|(k, v)| if holds(v) { k.scalar().map(str::to_string) } else { key_at(v, at) }),
    }
}

fn invalid_scalar(n: &Node, t: &str, ty: Ty) -> Option<Invalid> {
    let scalar_field = matches!(ty, Ty::Str | Ty::Bool | Ty::Int | Ty::Float | Ty::Dur | Ty::Bytes | Ty::MiB);
    match &n.kind {
        Kind::Seq(_) if scalar_field => return Some(Invalid { text: flow_text(n), ty, found: "[]interface {}" }),
        Kind::Map(_) if scalar_field => return Some(Invalid { text: flow_text(n), ty, found: "map[string]interface {}" }),
        _ if n.is_null() || !matches!(n.kind, Kind::Scalar { .. }) => return None,
        _ => {}
    }
    let ok = match ty {
        Ty::Bool => matches!(t, "true" | "false" | "True" | "False" | "TRUE" | "FALSE"),
        Ty::Int => t.parse::<i64>().is_ok() || t.parse::<f64>().is_ok_and(|f| f.fract() == 0.0),
        Ty::Float => t.parse::<f64>().is_ok(),
        Ty::Dur => parse_dur(t).is_some(),
        Ty::Bytes => t.parse::<u64>().is_ok() || eval::decode::ByteSize::parse(t).is_ok(),
        Ty::MiB => t.parse::<u64>().is_ok(),
        _ => true,
    };
    (!ok).then(|| Invalid { text: t.to_string(), ty, found: "string" })
}

/// A short flow-style rendering of a value, for messages.
fn flow_text(n: &Node) -> String {
    match &n.kind {
        Kind::Scalar { .. } => text(n),
        Kind::Seq(items) => format!("[{}]", items.iter().map(flow_text).collect::<Vec<_>>().join(" ")),
        Kind::Map(entries) => format!("map[{}]", entries.iter().map(|(k, v)| format!("{}:{}", text(k), flow_text(v))).collect::<Vec<_>>().join(" ")),
    }
}

/// Reads `n` as a value of type `ty`.
pub fn typed(n: &Node, ty: Ty, ctx: &mut Ctx) -> Val {
    let t = text(n);
    if let Some(problem) = invalid_scalar(n, &t, ty) {
        ctx.invalid.push((problem, n.pos()));
    }
    match ty {
        Ty::Str => Val::Str(t),
        Ty::Bool => Val::Bool(parse_bool(&t)),
        Ty::Int => Val::Int(t.parse::<i64>().ok().or_else(|| t.parse::<f64>().ok().map(|f| f as i64)).unwrap_or(0)),
        Ty::Float => Val::Float(t.parse().unwrap_or(0.0)),
        Ty::Dur => Val::Dur(parse_dur(&t).unwrap_or(0)),
        Ty::Bytes => Val::Bytes(t.parse().ok().or_else(|| eval::decode::ByteSize::parse(&t).ok().map(|b| b.0)).unwrap_or(0)),
        Ty::MiB => Val::Bytes(t.parse::<u64>().unwrap_or(0) << 20),
        Ty::Strs => list(n, Ty::Str, ctx),
        Ty::Ints => list(n, Ty::Int, ctx),
        Ty::Floats => list(n, Ty::Float, ctx),
        Ty::StrMap => match &n.kind {
            Kind::Map(entries) => {
                let mut m: Vec<(String, Val)> = entries.iter().map(|(k, v)| (text(k), Val::Str(text(v)))).collect();
                m.sort_by(|a, b| a.0.cmp(&b.0));
                Val::Map(m)
            }
            _ => Val::Map(Vec::new()),
        },
        Ty::Any => any(n),
        Ty::Handler => Val::Raw(ctx.handler(&t)),
    }
}

fn list(n: &Node, ty: Ty, ctx: &mut Ctx) -> Val {
    match &n.kind {
        Kind::Seq(items) => Val::List(items.iter().map(|i| typed(i, ty, ctx)).collect()),
        _ if n.is_null() => Val::List(Vec::new()),
        // A single scalar where a list is expected (mapstructure's weak decoding).
        _ => Val::List(vec![typed(n, ty, ctx)]),
    }
}

/// A YAML value as the nearest Alloy value: YAML 1.1 scalars by their plain form.
pub fn any(n: &Node) -> Val {
    match &n.kind {
        Kind::Seq(items) => Val::List(items.iter().map(any).collect()),
        Kind::Map(entries) => {
            let mut m: Vec<(String, Val)> = entries.iter().map(|(k, v)| (text(k), any(v))).collect();
            m.sort_by(|a, b| a.0.cmp(&b.0));
            Val::Map(m)
        }
        Kind::Scalar { text, quoted } => {
            if *quoted {
                return Val::Str(text.clone());
            }
            match n.tag() {
                "!!bool" => Val::Bool(parse_bool(text)),
                "!!int" => Val::Int(text.parse().unwrap_or(0)),
                "!!float" => Val::Float(text.parse().unwrap_or(0.0)),
                _ => Val::Str(text.clone()),
            }
        }
    }
}

/// The field's effective value: the YAML's, else the collector default, else none.
fn effective(f: &F, node: &Node, ty: Ty, ctx: &mut Ctx) -> Option<Val> {
    if let Some(n) = value(node, f.src) {
        let empty_list = matches!(&n.kind, Kind::Seq(items) if items.is_empty());
        if !(f.nonempty && empty_list) {
            return Some(typed(n, ty, ctx));
        }
    }
    // An explicitly empty list or map stays empty rather than taking the default.
    f.otel.map(|d| typed(&default_node(d), ty, ctx))
}

/// Renders `fields` read from `node` into statements, in table order.
pub fn render(fields: &[F], node: &Node, ctx: &mut Ctx) -> Vec<Stmt> {
    render_body(fields, node, ctx).0
}

/// The statements, and whether any value differs from Alloy's default (a block whose fields
/// are all defaults is left out, even when it has required attributes).
fn render_body(fields: &[F], node: &Node, ctx: &mut Ctx) -> (Vec<Stmt>, bool) {
    let mut out = Vec::new();
    let mut changed = false;
    for f in fields {
        changed |= render_field(f, node, ctx, &mut out);
    }
    (out, changed)
}

/// Appends the unlabelled block `name { body }`.
pub fn push_block(out: &mut Vec<Stmt>, name: &str, body: Vec<Stmt>) {
    out.push(Stmt::Block(Block { name: name.to_string(), label: None, body }));
}

fn render_field(f: &F, node: &Node, ctx: &mut Ctx, out: &mut Vec<Stmt>) -> bool {
    let null = Node::null(0, 0);
    match &f.shape {
        Shape::Attr(ty) => {
            // The effective value: the YAML's, else the collector default, else Go's zero.
            let v = effective(f, node, *ty, ctx).unwrap_or_else(|| zero(*ty));
            let default = f.alloy.map(|d| typed(&default_node(d), *ty, ctx));
            let differs = match &default {
                Some(d) => v != *d && !(v.is_zero() && d.is_zero()),
                None => !v.is_zero(),
            };
            if differs || f.required {
                out.push(Stmt::Attr(f.name.to_string(), v.expr()));
            }
            differs
        }
        Shape::Block(fields) | Shape::Always(fields) => {
            let inner = container(node, f.src).unwrap_or(&null);
            let (mut body, changed) = render_body(fields, inner, ctx);
            if changed && f.zero_inner {
                let zeroed: Vec<F> = fields
                    .iter()
                    .cloned()
                    .map(|mut g| {
                        g.alloy = None;
                        g
                    })
                    .collect();
                body = render_body(&zeroed, inner, ctx).0;
            }
            if changed || matches!(f.shape, Shape::Always(_)) {
                push_block(out, f.name, body);
            }
            changed
        }
        Shape::Present(fields) => match container(node, f.src) {
            Some(inner) => {
                let (body, _) = render_body(fields, inner, ctx);
                push_block(out, f.name, body);
                true
            }
            None => false,
        },
        Shape::Blocks(fields) => {
            let mut any = false;
            if let Some(Kind::Seq(items)) = container(node, f.src).map(|n| &n.kind) {
                for item in items {
                    visit(item);
                    let (body, _) = render_body(fields, item, ctx);
                    push_block(out, f.name, body);
                    any = true;
                }
            }
            any
        }
        Shape::KeyedBlocks(key, fields) => {
            let mut any = false;
            if let Some(Kind::Map(entries)) = container(node, f.src).map(|n| &n.kind) {
                let mut entries: Vec<&(Node, Node)> = entries.iter().collect();
                entries.sort_by_key(|(k, _)| text(k));
                for (k, v) in entries {
                    visit(v);
                    let mut body = vec![Stmt::Attr(key.to_string(), Expr::Str(text(k)))];
                    body.extend(render_body(fields, v, ctx).0);
                    push_block(out, f.name, body);
                    any = true;
                }
            }
            any
        }
        Shape::Hook(h) => {
            let inner = at(node, f.src).unwrap_or(&null);
            let before = out.len();
            h(inner, ctx, out);
            out.len() > before
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::File;
    use std::collections::HashMap;

    fn convert(fields: Vec<F>, yaml: &str) -> String {
        let node = crate::yaml::parse(yaml.as_bytes()).expect("test YAML parses");
        let extensions = HashMap::from([("basicauth".to_string(), "otelcol.auth.basic.default".to_string())]);
        let mut ctx = Ctx { extensions: &extensions, instance: "receiver/x".into(), diags: Default::default(), invalid: Vec::new() };
        let mut b = Block::new("c", None);
        b.body = render(&fields, &node, &mut ctx);
        let raw = File { blocks: vec![b] }.raw_text();
        raw.strip_prefix("c {\n").and_then(|r| r.strip_suffix("}\n")).unwrap_or(&raw).to_string()
    }

    #[test]
    fn values_equal_to_alloys_defaults_are_left_out() {
        let fields = || vec![s("endpoint").otel("localhost:1").alloy("0.0.0.0:1"), dur("timeout").d("5s"), i("n")];
        // The collector's default differs from Alloy's, so it shows; the others do not.
        assert_eq!(convert(fields(), "{}"), "endpoint = \"localhost:1\"\n");
        assert_eq!(convert(fields(), "{endpoint: 0.0.0.0:1, timeout: 5000ms, n: 0}"), "");
        assert_eq!(convert(fields(), "{timeout: 90s, n: 3}"), "endpoint = \"localhost:1\"\ntimeout = \"1m30s\"\nn = 3\n");
    }

    #[test]
    fn a_zero_value_shows_when_alloys_default_is_not_zero() {
        assert_eq!(convert(vec![dur("idle_timeout").alloy("1m")], "{}"), "idle_timeout = \"0s\"\n");
        assert_eq!(convert(vec![s("x").req()], "{}"), "x = \"\"\n");
    }

    #[test]
    fn blocks_show_when_something_in_them_differs() {
        let fields = || vec![block("retry", vec![b("enabled").d("true"), i("max").d("3")]), present("tls", vec![b("insecure")])];
        assert_eq!(convert(fields(), "{retry: {enabled: true}}"), "");
        assert_eq!(convert(fields(), "{retry: {max: 4}, tls: }"), "retry {\nmax = 4\n}\ntls {\n}\n");
    }

    #[test]
    fn nested_rule_prints_fields_against_the_blocks_own_zero_defaults() {
        let fields = || vec![block("m", vec![b("enabled").d("true"), i("size").d("10")]).zero_inner()];
        assert_eq!(convert(fields(), "{m: {enabled: true}}"), "");
        assert_eq!(convert(fields(), "{m: {size: 5}}"), "m {\nenabled = true\nsize = 5\n}\n");
    }

    #[test]
    fn dotted_keys_handlers_and_maps() {
        let fields = vec![block("metrics", vec![b("file.size")]), attr("auth", Ty::Handler).src("auth.authenticator"), map("headers")];
        assert_eq!(
            convert(fields, "{metrics: {file.size: true}, auth: {authenticator: basicauth}, headers: {b: '2', a: '1'}}"),
            "metrics {\nfile.size = true\n}\nauth = otelcol.auth.basic.default.handler\nheaders = {\na = \"1\",\nb = \"2\",\n}\n"
        );
    }

    #[test]
    fn unread_settings_are_listed_by_path() {
        let node = crate::yaml::parse(b"{a: 1, b: {c: 2, d: 3}, e: [{f: 1}]}").expect("parses");
        let ((), unread) = tracking(&node, || {
            let _ = value(&node, "a");
            let _ = value(&node, "b.c");
        });
        let paths: Vec<(&str, usize)> = unread.iter().map(|(p, at)| (p.as_str(), at.col)).collect();
        assert_eq!(paths, [("b.d", 18), ("e", 25)], "each path with its key's column");
    }
}
