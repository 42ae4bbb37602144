//! Typed arguments: how a component reads the checked, defaulted value the controller
//! evaluated (see `analyzer/src/args.rs`) into its own struct, and states its rules.
//!
//! ```ignore
//! #[derive(Default)]
//! struct Args { size: usize, max: usize, keepalive: Option<Keepalive> }
//! impl Arguments for Args {
//!     fn decode(r: &mut Reader<'_>) -> Self {
//!         r.unsupported(&["compression"]);            // refused by name when set
//!         Args { size: r.get("size"), max: r.get("max"), keepalive: r.block("keepalive") }
//!     }
//!     fn validate(&self, r: &mut Reader<'_>) {
//!         r.check(self.max >= self.size, &["max", "size"], "max must be at least size");
//!     }
//! }
//! ```
//!
//! The reader never stops at the first problem: every field is read (a bad one decodes to
//! its `Default` and the error is recorded), so `alloy validate` reports all of them and the
//! catalogue test sees every name a component reads. Defaults come from the catalogue only:
//! an attribute with a catalogue default is always present; one without decodes to the
//! type's zero value, as upstream's decoder leaves Go fields. A key the component did not
//! read and that differs from its default is refused as not supported, so nothing a user
//! writes is ignored.

use std::collections::BTreeSet;
use std::sync::Arc;

use analyzer::catalog::{Body, Catalog};
use analyzer::rules::ArgError;
use eval::{Decode, Object, PathSeg, Value};

use crate::component::ComponentError;

/// A component's (or nested block's) typed arguments.
pub trait Arguments: Default {
    /// Reads every field through `r`; problems are recorded in `r`, not returned.
    fn decode(r: &mut Reader<'_>) -> Self;

    /// Cross-field rules, run when decoding this block found no problem.
    fn validate(&self, _r: &mut Reader<'_>) {}
}

/// What one decoding collects.
#[derive(Default)]
struct State {
    errors: Vec<ArgError>,
    /// Paths whose value is only known at run time (`alloy validate`).
    unknown: Vec<Vec<PathSeg>>,
    /// Dotted names read or declared unsupported (the catalogue test).
    seen: Option<BTreeSet<String>>,
    /// Attributes with a computed default read as plain values (their absence would decode
    /// to a zero value, not to what the default says); the catalogue test refuses them.
    misread: BTreeSet<String>,
}

/// Reads one object of arguments (the component's body or a nested block).
pub struct Reader<'s> {
    /// Shared with the argument value: readers at every level borrow, never copy, it.
    obj: Arc<Object>,
    schema: Option<&'static Body>,
    /// The component's top-level body, which an inheriting block (`stage.match`) also accepts.
    root: Option<&'static Body>,
    inherit: bool,
    path: Vec<PathSeg>,
    st: &'s mut State,
    read: Vec<&'static str>,
    errors_before: usize,
}

/// `path` followed by `name`; a dotted name (`tls.server_name`) is a path of its own.
fn field(path: &[PathSeg], name: &str) -> Vec<PathSeg> {
    let mut p = path.to_vec();
    p.extend(name.split('.').map(|n| PathSeg::Field(n.into())));
    p
}

impl<'s> Reader<'s> {
    fn new(v: &Value, schema: Option<&'static Body>, path: Vec<PathSeg>, st: &'s mut State) -> Self {
        let obj = match v {
            Value::Object(o) => o.clone(),
            _ => Arc::new(Object::new()),
        };
        let errors_before = st.errors.len();
        Reader { obj, schema, root: schema, inherit: false, path, st, read: Vec::new(), errors_before }
    }

    /// This block's path as names (indices left out).
    fn dotted(&self) -> Vec<&str> {
        self.path
            .iter()
            .filter_map(|p| match p {
                PathSeg::Field(f) => Some(f.as_str()),
                PathSeg::Index(_) => None,
            })
            .collect()
    }

    fn mark(&mut self, name: &'static str) {
        self.read.push(name);
        if self.st.seen.is_some() {
            let mut dotted = self.dotted();
            dotted.push(name);
            let joined = dotted.join(".");
            if let Some(seen) = &mut self.st.seen {
                seen.insert(joined);
            }
        }
    }

    /// Marks a dotted name (`client.tls.ca_file`) as read, and its first part at this level.
    fn mark_dotted(&mut self, name: &'static str) {
        self.mark(name);
        let first = name.split('.').next().unwrap_or(name);
        if !self.read.contains(&first) {
            self.read.push(first);
        }
    }

    fn value(&mut self, name: &'static str) -> Option<Value> {
        self.mark(name);
        let v = self.obj.get(name).filter(|v| !v.is_null()).cloned()?;
        if analyzer::args::is_unknown(&v) {
            self.st.unknown.push(field(&self.path, name));
            return None;
        }
        Some(v)
    }

    /// An attribute; its catalogue default when not written, else the type's zero value.
    pub fn get<T: Decode + Default>(&mut self, name: &'static str) -> T {
        self.opt(name).unwrap_or_default()
    }

    /// An attribute that may be absent (no catalogue default and not written, or null).
    pub fn opt<T: Decode>(&mut self, name: &'static str) -> Option<T> {
        if self.schema.and_then(|s| s.attr(name)).is_some_and(|a| a.computed.is_some()) && self.st.seen.is_some() {
            let mut dotted = self.dotted();
            dotted.push(name);
            self.st.misread.insert(dotted.join("."));
        }
        self.read_value(name)
    }

    /// An attribute whose default the component computes (the catalogue's `computed`, such as
    /// `"20% of limit"`): `None` when it is not written, and the caller computes it.
    pub fn computed<T: Decode>(&mut self, name: &'static str) -> Option<T> {
        self.read_value(name)
    }

    fn read_value<T: Decode>(&mut self, name: &'static str) -> Option<T> {
        let v = self.value(name)?;
        match T::decode(&v) {
            Ok(t) => Some(t),
            Err(e) => {
                let mut path = field(&self.path, name);
                path.extend(e.path.iter().cloned());
                let message = eval::ValueError { path: Vec::new(), ..e }.plain_text();
                self.st.errors.push(ArgError::new(path, message));
                None
            }
        }
    }

    /// Whether the user wrote attribute or block `name` with something other than its default.
    pub fn is_set(&self, name: &str) -> bool {
        let Some(v) = self.obj.get(name) else { return false };
        if let Some(body) = self.block_schema(name) {
            // A block written with only default values changes nothing.
            return match v {
                Value::Array(items) => !items.is_empty(),
                Value::Object(_) => !eval::value::values_equal(v, &analyzer::args::body_defaults(Some(body))),
                _ => false,
            };
        }
        let default = self.schema.and_then(|s| s.attr(name)).and_then(|a| analyzer::args::default_value(&a.default, &a.ty));
        match default {
            Some(d) => !eval::value::values_equal(v, &d),
            None => !v.is_null(),
        }
    }

    /// Whether this block's schema has attribute or block `name` (shared block types read only
    /// what the block they decode has).
    pub fn has(&self, name: &str) -> bool {
        self.schema.is_none_or(|s| s.attr(name).is_some() || s.block(name).is_some())
    }

    /// Whether attribute `name` has a value known now (false for values only known at run time).
    pub fn known(&self, name: &str) -> bool {
        !self.obj.get(name).is_some_and(analyzer::args::is_unknown)
    }

    fn nested<T: Arguments>(&mut self, v: &Value, schema: Option<&'static Body>, path: Vec<PathSeg>) -> T {
        let inherit = path.iter().rev().find_map(|p| match p {
            PathSeg::Field(f) => Some(f.as_str()),
            PathSeg::Index(_) => None,
        });
        let inherit = inherit.and_then(|n| self.block_entry(n)).is_some_and(|b| b.inherit);
        let root = self.root;
        let mut r = Reader::new(v, schema, path, self.st);
        r.root = root;
        r.inherit = inherit;
        let t = T::decode(&mut r);
        if r.st.errors.len() == r.errors_before {
            t.validate(&mut r);
        }
        r.finish();
        t
    }

    fn block_entry(&self, name: &str) -> Option<&'static analyzer::catalog::BlockSchema> {
        let own = self.schema.and_then(|s| s.block(name));
        own.or_else(|| if self.inherit { self.root.and_then(|r| r.block(name)) } else { None })
    }

    /// The path of block `name` of this one: a block whose own name has dots (`stage.json`)
    /// is one step, as the source writes it.
    fn child(&self, name: &str) -> Vec<PathSeg> {
        if self.block_entry(name).is_some() {
            let mut p = self.path.clone();
            p.push(PathSeg::Field(name.into()));
            p
        } else {
            field(&self.path, name)
        }
    }

    fn block_schema(&self, name: &str) -> Option<&'static Body> {
        self.block_entry(name).map(|b| &b.body)
    }

    /// The blocks of a body whose blocks run in sequence (see `analyzer::args::BLOCK_ORDER`), in
    /// source order: each block's name and its index among the blocks of that name.
    pub fn block_order(&self) -> Vec<(String, usize)> {
        let Some(Value::Array(names)) = self.obj.get(analyzer::args::BLOCK_ORDER) else { return Vec::new() };
        let mut seen: Vec<(String, usize)> = Vec::new();
        names
            .iter()
            .filter_map(|n| match n {
                Value::String(s) => Some(s.to_string_lossy().into_owned()),
                _ => None,
            })
            .map(|n| {
                let i = seen.iter().filter(|(s, _)| *s == n).count();
                seen.push((n.clone(), i));
                (n, i)
            })
            .collect()
    }

    /// An optional block that means something by being there (`grpc`, `tls`): `None` when absent.
    pub fn block<T: Arguments>(&mut self, name: &'static str) -> Option<T> {
        self.mark(name);
        let v = self.obj.get(name).filter(|v| !v.is_null())?.clone();
        let v = match v {
            // A repeatable block read as one: the first.
            Value::Array(items) => items.first().cloned()?,
            v => v,
        };
        let schema = self.block_schema(name);
        Some(self.nested(&v, schema, self.child(name)))
    }

    /// An optional block whose absence means its catalogue defaults (`sending_queue`).
    pub fn block_or_default<T: Arguments>(&mut self, name: &'static str) -> T {
        let schema = self.block_schema(name);
        match self.block(name) {
            Some(t) => t,
            None => {
                let defaults = analyzer::args::body_defaults(schema);
                self.nested(&defaults, schema, self.child(name))
            }
        }
    }

    /// A repeatable block, in source order.
    pub fn blocks<T: Arguments>(&mut self, name: &'static str) -> Vec<T> {
        self.mark(name);
        let items: Vec<Value> = match self.obj.get(name) {
            Some(Value::Array(items)) => items.to_vec(),
            Some(Value::Object(o)) => vec![Value::Object(o.clone())],
            _ => Vec::new(),
        };
        let schema = self.block_schema(name);
        items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let mut path = self.child(name);
                path.push(PathSeg::Index(i));
                self.nested(v, schema, path)
            })
            .collect()
    }

    /// This whole object decoded at once by `f`, for rules that read several fields together.
    /// `names` are the fields `f` reads; dotted names (`attribute.key`) name the fields of
    /// nested blocks it reads. `f`'s error names the field at fault (`""`: the block).
    pub fn whole_at<T: Default>(&mut self, names: &[&'static str], f: impl FnOnce(&Value) -> Result<T, (&'static str, ComponentError)>) -> T {
        for &n in names {
            self.mark_dotted(n);
        }
        if self.obj.iter().any(|(_, v)| analyzer::args::is_unknown(v)) {
            // Decoded again at run time, when every value is known.
            return T::default();
        }
        match f(&Value::Object(self.obj.clone())) {
            Ok(t) => t,
            Err((at, e)) => {
                let path = if at.is_empty() { self.path.clone() } else { field(&self.path, at) };
                self.st.errors.push(ArgError::new(path, e.0));
                T::default()
            }
        }
    }

    /// Arguments and blocks the runtime does not implement yet: refused by name when set.
    /// Dotted names (`client.keepalive`) reach into nested blocks.
    pub fn unsupported(&mut self, names: &[&'static str]) {
        for &name in names {
            // Some blocks have dots in their own names (`stage.json`): those are not paths.
            let whole = self.schema.is_some_and(|s| s.attr(name).is_some()) || self.block_entry(name).is_some();
            if whole {
                self.mark(name);
                if self.is_set(name) {
                    let kind = if self.block_schema(name).is_some() { "block" } else { "argument" };
                    let msg = format!("{kind} {} is not supported by this runtime yet", syntax::quote::go_quote(name));
                    let mut path = self.path.clone();
                    path.push(PathSeg::Field(name.into()));
                    self.st.errors.push(ArgError::new(path, msg));
                }
                continue;
            }
            if !self.has(name.split('.').next().unwrap_or(name)) {
                continue;
            }
            self.mark_dotted(name);
            let (first, rest) = name.split_once('.').unwrap_or((name, ""));
            // Walk down to the block holding the leaf: the first written block at each step.
            let mut obj = self.obj.clone();
            let mut schema = self.schema;
            let mut path = self.path.clone();
            let mut leaf = first;
            let mut rest = rest;
            while !rest.is_empty() {
                let v = match obj.get(leaf) {
                    Some(Value::Array(items)) => items.first().cloned(),
                    Some(v @ Value::Object(_)) => Some(v.clone()),
                    _ => None,
                };
                let Some(Value::Object(o)) = v else { break };
                path.push(PathSeg::Field(leaf.into()));
                schema = schema.and_then(|s| s.block(leaf)).map(|b| &b.body);
                obj = o;
                let (f, r) = rest.split_once('.').unwrap_or((rest, ""));
                leaf = f;
                rest = r;
            }
            if !rest.is_empty() {
                continue;
            }
            let probe =
                Reader { obj, schema, root: self.root, inherit: false, path: path.clone(), st: &mut State::default(), read: Vec::new(), errors_before: 0 };
            if probe.is_set(leaf) {
                let kind = if probe.block_schema(leaf).is_some() { "block" } else { "argument" };
                let msg = format!("{kind} {} is not supported by this runtime yet", syntax::quote::go_quote(leaf));
                self.st.errors.push(ArgError::new(field(&path, leaf), msg));
            }
        }
    }

    /// This block's path from the component's body (`.trace_statements[0]`), for errors
    /// that point inside a value (a list element).
    pub fn path(&self) -> &[PathSeg] {
        &self.path
    }

    /// An error whose path the component built (see [`Reader::path`]).
    pub fn push_error(&mut self, e: ArgError) {
        self.st.errors.push(e);
    }

    /// A problem with field `name` of this block.
    pub fn error(&mut self, name: &str, message: impl Into<String>) {
        self.st.errors.push(ArgError::new(field(&self.path, name), message));
    }

    /// A rule over `fields` (the first is where a failure is shown): skipped when one of them
    /// is only known at run time.
    pub fn check(&mut self, ok: bool, fields: &[&str], message: impl Into<String>) {
        if ok || !fields.iter().all(|f| self.known(f)) {
            return;
        }
        let at = fields.first().copied().unwrap_or_default();
        let mut e = ArgError::new(if at.is_empty() { self.path.clone() } else { field(&self.path, at) }, message);
        e.also = fields.iter().skip(1).map(|f| field(&self.path, f)).collect();
        self.st.errors.push(e);
    }

    /// Refuses keys nobody read whose value differs from the default.
    fn finish(self) {
        // `label` is the block's label (see `analyzer::args`) unless the schema has such an attribute.
        let label_is_attr = self.schema.is_some_and(|s| s.attr("label").is_some());
        let unread: Vec<String> = self
            .obj
            .keys()
            .filter(|k| !self.read.contains(&k.as_str()) && (label_is_attr || k.as_str() != "label") && k.as_str() != analyzer::args::BLOCK_ORDER)
            .map(|k| k.to_string())
            .collect();
        for k in unread {
            if self.is_set(&k) {
                let kind = if self.block_schema(&k).is_some() { "block" } else { "argument" };
                let msg = format!("{kind} {} is not supported by this runtime yet", syntax::quote::go_quote(&k));
                self.st.errors.push(ArgError::new(field(&self.path, &k), msg));
            }
        }
    }
}

/// Integers are decoded strictly (`eval::decode::with_strict_integers`): a number that does
/// not fit its field is an error at the value, not a wrapped-around count.
fn run<A: Arguments>(name: &str, args: &Value, st: &mut State) -> A {
    eval::decode::with_strict_integers(|| {
        let schema = Catalog::get().lookup(name).map(|c| &c.body);
        let mut r = Reader::new(args, schema, Vec::new(), st);
        let a = A::decode(&mut r);
        if r.st.errors.len() == r.errors_before {
            a.validate(&mut r);
        }
        r.finish();
        a
    })
}

/// Decodes and checks the arguments of component `name`; every problem, in reading order.
pub fn decode<A: Arguments>(name: &str, args: &Value) -> Result<A, Vec<ArgError>> {
    let mut st = State::default();
    let a = run::<A>(name, args, &mut st);
    if st.errors.is_empty() {
        Ok(a)
    } else {
        Err(st.errors)
    }
}

/// Decodes a value that is no component's whole arguments (a nested block in a test).
pub fn decode_value<A: Arguments>(v: &Value) -> Result<A, Vec<ArgError>> {
    decode_nested(v, None)
}

/// The catalogue defaults of the block at `path` of `component`, decoded (tests).
pub fn block_defaults<A: Arguments>(component: &str, path: &[&str]) -> Result<A, Vec<ArgError>> {
    let mut body = Catalog::get().lookup(component).map(|c| &c.body);
    for p in path {
        body = body.and_then(|b| b.block(p)).map(|b| &b.body);
    }
    decode_nested(&analyzer::args::body_defaults(body), body)
}

fn decode_nested<A: Arguments>(v: &Value, schema: Option<&'static Body>) -> Result<A, Vec<ArgError>> {
    let mut st = State::default();
    let a = eval::decode::with_strict_integers(|| {
        let mut r = Reader::new(v, schema, Vec::new(), &mut st);
        let a = A::decode(&mut r);
        if r.st.errors.len() == r.errors_before {
            a.validate(&mut r);
        }
        r.finish();
        a
    });
    if st.errors.is_empty() {
        Ok(a)
    } else {
        Err(st.errors)
    }
}

/// [`decode`] for a component's `build`/`update`: the controller checked the arguments
/// already, so an error here is a bug; it still fails cleanly.
pub fn decode_checked<A: Arguments>(name: &str, args: &Value) -> Result<A, ComponentError> {
    decode(name, args).map_err(|errs| ComponentError::new(errs.iter().map(describe).collect::<Vec<_>>().join("; ")))
}

/// `.a.b: message` for logs and errors that have no source position.
pub fn describe(e: &ArgError) -> String {
    let path: String = e.path.iter().map(|p| p.to_string()).collect();
    if path.is_empty() {
        e.message.clone()
    } else {
        format!("{}: {}", path.trim_start_matches('.'), e.message)
    }
}

/// The arguments of a component with nothing written: the catalogue's defaults (tests,
/// benchmarks; a component with required arguments fails).
pub fn defaults<A: Arguments>(name: &str) -> Result<A, Vec<ArgError>> {
    decode(name, &analyzer::args::body_defaults(Catalog::get().lookup(name).map(|c| &c.body)))
}

/// The arguments of the first block of an Alloy text, evaluated as the controller does with
/// nothing in scope (tests and benchmarks).
pub fn evaluated(src: &str) -> Result<Value, String> {
    let parsed = syntax::parse_file(src.as_bytes());
    let Some(syntax::ast::Stmt::Block(b)) = parsed.tree.body.first() else { return Err("no block".into()) };
    analyzer::args::evaluate_block(&b.name, b, &parsed.lines, &eval::Scope::new()).map_err(|e| e.render("test.alloy", &parsed.lines))
}

/// The problems [`decode`] finds (used by `alloy validate` through the registry).
pub fn check<A: Arguments>(name: &str, args: &Value) -> Vec<ArgError> {
    let mut st = State::default();
    run::<A>(name, args, &mut st);
    st.errors
}

/// What the catalogue test looks at: the dotted names decoding reads or declares
/// unsupported, and the attributes with computed defaults it read as plain values.
#[derive(Debug, Default)]
pub struct Coverage {
    pub seen: BTreeSet<String>,
    pub misread: BTreeSet<String>,
}

pub fn coverage<A: Arguments>(name: &str, args: &Value) -> Coverage {
    let mut st = State { seen: Some(BTreeSet::new()), ..State::default() };
    run::<A>(name, args, &mut st);
    Coverage { seen: st.seen.unwrap_or_default(), misread: st.misread }
}

/// Decoders for the value types components share.
pub mod types {
    use std::time::Duration;

    use eval::{Decode, Value, ValueError};

    /// A duration written as `"1m30s"`: `std::time::Duration`; negative is an error.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct Dur(pub Duration);

    impl Decode for Dur {
        fn decode(v: &Value) -> Result<Self, ValueError> {
            let d = eval::decode::Duration::decode(v)?;
            d.to_std().map(Dur).ok_or_else(|| ValueError::message(format!("duration must not be negative, got {d}")))
        }
    }

    /// The text of a secret (or of a plain string where a secret is accepted).
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct SecretText(pub String);

    impl Decode for SecretText {
        fn decode(v: &Value) -> Result<Self, ValueError> {
            Ok(SecretText(match v {
                Value::Secret(s) => s.expose().to_string_lossy().into_owned(),
                Value::OptionalSecret(s) => s.expose().to_string_lossy().into_owned(),
                v => String::decode(v)?,
            }))
        }
    }

    /// A size written as `"4MiB"` or a number of bytes.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct Bytes(pub u64);

    impl Decode for Bytes {
        fn decode(v: &Value) -> Result<Self, ValueError> {
            Ok(Bytes(eval::decode::ByteSize::decode(v)?.0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `timeout` of `otelcol.processor.batch` and nothing else.
    #[derive(Default)]
    struct TimeoutOnly(std::time::Duration);

    impl Arguments for TimeoutOnly {
        fn decode(r: &mut Reader<'_>) -> Self {
            r.unsupported(&["metadata_keys"]);
            TimeoutOnly(r.get::<types::Dur>("timeout").0)
        }

        fn validate(&self, r: &mut Reader<'_>) {
            r.check(self.0.as_millis() >= 100, &["timeout"], "timeout too short");
        }
    }

    fn batch(src: &str) -> Value {
        evaluated(&format!("otelcol.processor.batch \"b\" {{\n{src}\n  output {{}}\n}}\n")).unwrap()
    }

    fn messages(errs: Vec<ArgError>) -> Vec<String> {
        errs.iter().map(describe).collect()
    }

    #[test]
    fn what_nobody_reads_is_refused_unless_it_is_the_default() {
        let ok = decode::<TimeoutOnly>("otelcol.processor.batch", &batch("send_batch_size = 2000"));
        assert!(ok.is_ok(), "the default value changes nothing");
        let err = decode::<TimeoutOnly>("otelcol.processor.batch", &batch("send_batch_size = 10")).err().unwrap();
        assert_eq!(messages(err), ["send_batch_size: argument \"send_batch_size\" is not supported by this runtime yet"]);
        let err = decode::<TimeoutOnly>("otelcol.processor.batch", &batch("metadata_keys = [\"a\"]")).err().unwrap();
        assert_eq!(messages(err), ["metadata_keys: argument \"metadata_keys\" is not supported by this runtime yet"]);
    }

    #[test]
    fn rules_run_on_decoded_values_and_skip_unknown_ones() {
        let err = decode::<TimeoutOnly>("otelcol.processor.batch", &batch("timeout = \"10ms\"")).err().unwrap();
        assert_eq!(messages(err), ["timeout: timeout too short"]);
        let mut v = batch("");
        if let Value::Object(o) = &mut v {
            std::sync::Arc::make_mut(o).insert("timeout", analyzer::args::unknown());
        }
        assert!(check::<TimeoutOnly>("otelcol.processor.batch", &v).is_empty(), "a run-time value is not judged early");
    }

    /// Refuses `stage.json`, a block whose name has a dot.
    #[derive(Default)]
    struct NoJson;

    impl Arguments for NoJson {
        fn decode(r: &mut Reader<'_>) -> Self {
            r.unsupported(&["stage.json"]);
            let _: Vec<Value> = r.get("forward_to");
            NoJson
        }
    }

    #[test]
    fn block_names_with_dots_are_names_not_paths() {
        let v = evaluated("loki.process \"p\" {\n  forward_to = []\n  stage.json {\n    expressions = {}\n  }\n}\n").unwrap();
        let err = decode::<NoJson>("loki.process", &v).err().unwrap();
        assert_eq!(err[0].path, vec![PathSeg::Field("stage.json".into())]);
        assert_eq!(err[0].message, "block \"stage.json\" is not supported by this runtime yet");
    }
}
