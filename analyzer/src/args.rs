//! Evaluating a block body into the arguments a component receives: attributes converted to
//! their catalogue types (strings, numbers, bools, secrets), nested blocks as objects (arrays
//! of objects when repeatable), catalogue defaults filled in.
//!
//! `alloy run` evaluates with the exports of the block's dependencies in scope
//! ([`evaluate_block`]); `alloy validate` and the language server evaluate what is known
//! without running anything ([`evaluate_block_lenient`]): an attribute that reads another
//! component's exports (or a declare's arguments, a foreach's item) is [`unknown`]. Both then
//! hand the value to the same component rules (see [`crate::rules`]), so a configuration
//! `run` refuses for its arguments is refused by `validate` with the same message, placed
//! by [`span_of`] at the same position.

use std::sync::Arc;

use crate::catalog::{Body, Catalog};
use crate::types::Ty;
use eval::convert;
use eval::{EvalError, Evaluator, Object, PathSeg, Scope, Type, Value, ValueError};
use syntax::ast::{Block, Expr, LiteralKind, Stmt};
use syntax::{LineIndex, Span};

/// Evaluates the body of `block` (a component or config block named `name`) in `scope`.
/// The first error stops the evaluation.
pub fn evaluate_block(name: &str, block: &Block, lines: &LineIndex, scope: &Scope) -> Result<Value, EvalError> {
    let mut ev = Evaluator::new(lines, scope);
    let schema = Catalog::get().lookup(name).map(|c| &c.body);
    let obj = evaluate_body(&mut ev, &block.body, Nest { schema, root: schema, inherit: false }, false)?;
    Ok(Value::object(obj))
}

/// Like [`evaluate_block`], but an attribute whose expression cannot be evaluated in `scope`
/// (it reads something only known at run time) becomes [`unknown`] instead of an error. A
/// known value that does not convert to its catalogue type is still an error.
pub fn evaluate_block_lenient(name: &str, block: &Block, lines: &LineIndex, scope: &Scope) -> Result<Value, EvalError> {
    let mut ev = Evaluator::new(lines, scope);
    let schema = Catalog::get().lookup(name).map(|c| &c.body);
    let obj = evaluate_body(&mut ev, &block.body, Nest { schema, root: schema, inherit: false }, true)?;
    Ok(Value::object(obj))
}

/// The stand-in for a value only known at run time.
#[derive(Debug)]
struct Unknown;

impl eval::CapsuleValue for Unknown {
    fn type_name(&self) -> &str {
        "unknown"
    }
    fn equals(&self, _: &dyn eval::CapsuleValue) -> bool {
        false
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// A value only known at run time (see [`evaluate_block_lenient`]).
pub fn unknown() -> Value {
    Value::Capsule(eval::Capsule::new(Unknown))
}

pub fn is_unknown(v: &Value) -> bool {
    matches!(v, Value::Capsule(c) if c.downcast_ref::<Unknown>().is_some())
}

/// The key under which a body whose blocks run in sequence (one with an inheriting block, such
/// as `loki.process` and its `stage.match`) lists its block names in source order: blocks of
/// different names are separate keys, and their interleaving would otherwise be lost. `#` can
/// start no written name.
pub const BLOCK_ORDER: &str = "#order";

/// Where a body sits in its component's schema.
#[derive(Clone, Copy)]
struct Nest<'a> {
    schema: Option<&'a Body>,
    /// The component's top-level body: what an inheriting block also accepts.
    root: Option<&'a Body>,
    /// This body is an inheriting block's (`stage.match`).
    inherit: bool,
}

fn evaluate_body(ev: &mut Evaluator<'_>, body: &[Stmt], nest: Nest<'_>, lenient: bool) -> Result<Object, EvalError> {
    let schema = nest.schema;
    let mut attrs: Vec<(&str, Value)> = Vec::new();
    let mut blocks: Vec<(&str, Value, bool)> = Vec::new();
    for stmt in body {
        match stmt {
            Stmt::Attribute(a) => {
                let v = match ev.eval(&a.value) {
                    Ok(v) => v,
                    Err(_) if lenient => {
                        attrs.push((a.name.name.as_str(), unknown()));
                        continue;
                    }
                    Err(e) => return Err(e),
                };
                let ty = schema.and_then(|s| s.attr(&a.name.name)).map(|a| &a.ty);
                let v = match ty {
                    Some(ty) => coerce(&v, ty).map_err(|e| ev.attribute(Some(&a.value), &v, e, false))?,
                    None => v,
                };
                attrs.push((a.name.name.as_str(), v));
            }
            Stmt::Block(b) => {
                let inner = schema.and_then(|s| s.block(&b.name)).or_else(|| if nest.inherit { nest.root.and_then(|r| r.block(&b.name)) } else { None });
                let inner_nest = Nest { schema: inner.map(|s| &s.body), root: nest.root, inherit: inner.is_some_and(|s| s.inherit) };
                let mut obj = evaluate_body(ev, &b.body, inner_nest, lenient)?;
                if let Some(l) = &b.label {
                    obj.insert("label", Value::string(l.value.as_str()));
                }
                let repeatable = inner.is_some_and(|s| s.repeatable);
                blocks.push((b.name.as_str(), Value::object(obj), repeatable));
            }
        }
    }
    // Keys in catalogue order (attributes, then blocks), unknown names after them.
    let mut out = Object::ordered();
    if let Some(s) = schema {
        for a in &s.attrs {
            if let Some((_, v)) = attrs.iter().find(|(n, _)| *n == a.name) {
                out.insert(a.name.as_str(), v.clone());
            } else if let Some(d) = default_value(&a.default, &a.ty) {
                out.insert(a.name.as_str(), d);
            }
        }
    }
    for (n, v) in attrs {
        if !out.contains_key(n) {
            out.insert(n, v);
        }
    }
    let mut names: Vec<&str> = schema.map(|s| s.blocks.iter().map(|b| b.name.as_str()).collect()).unwrap_or_default();
    for (n, _, _) in &blocks {
        if !names.contains(n) {
            names.push(n);
        }
    }
    if nest.inherit || schema.is_some_and(|s| s.blocks.iter().any(|b| b.inherit)) {
        out.insert(BLOCK_ORDER, Value::array(blocks.iter().map(|(n, _, _)| Value::string(*n)).collect()));
    }
    for n in names {
        let mut found = blocks.iter().filter(|(b, _, _)| *b == n).peekable();
        let Some((_, first, repeatable)) = found.peek().cloned() else { continue };
        if *repeatable {
            out.insert(n, Value::array(found.map(|(_, v, _)| v.clone()).collect()));
        } else {
            out.insert(n, first.clone());
        }
    }
    Ok(out)
}

/// A catalogue default (an Alloy expression text) as a value; `None` for defaults that are
/// prose (`"__See below__"`) rather than expressions.
pub fn default_value(text: &Option<String>, ty: &Ty) -> Option<Value> {
    coerce(&catalogue_default(text.as_deref()?)?, ty).ok()
}

/// The value of a catalogue default's text (a constant expression), evaluated once per
/// process: blocks are evaluated on every load and dependant update, the API on every request.
pub fn catalogue_default(text: &str) -> Option<Value> {
    static CACHE: std::sync::OnceLock<std::sync::Mutex<std::collections::HashMap<String, Option<Value>>>> = std::sync::OnceLock::new();
    let mut cache = CACHE.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some(v) = cache.get(text) {
        return v.clone();
    }
    let v = eval::eval_source(text, &Scope::new()).ok().map(|(v, _)| v);
    cache.insert(text.to_string(), v.clone());
    v
}

/// The defaults of the nested block at `path` of component `name`, as an object.
pub fn block_defaults(name: &str, path: &[&str]) -> Value {
    let mut body = Catalog::get().lookup(name).map(|c| &c.body);
    for p in path {
        body = body.and_then(|b| b.block(p)).map(|b| &b.body);
    }
    body_defaults(body)
}

/// A value built by host code (tests, benchmarks) completed as [`evaluate_block`] would have
/// left it: catalogue defaults for the attributes of component `name` and of every block
/// present, recursively.
pub fn with_defaults(name: &str, v: &Value) -> Value {
    fill(Catalog::get().lookup(name).map(|c| &c.body), v)
}

fn fill(body: Option<&Body>, v: &Value) -> Value {
    let (Some(body), Some(obj)) = (body, v.as_object()) else { return v.clone() };
    let mut out = (*obj).clone();
    for a in &body.attrs {
        if !out.contains_key(&a.name) {
            if let Some(d) = default_value(&a.default, &a.ty) {
                out.insert(a.name.as_str(), d);
            }
        }
    }
    for b in &body.blocks {
        let filled = match out.get(&b.name) {
            Some(Value::Array(items)) => Value::array(items.iter().map(|i| fill(Some(&b.body), i)).collect()),
            Some(inner @ Value::Object(_)) => fill(Some(&b.body), inner),
            _ => continue,
        };
        out.insert(b.name.as_str(), filled);
    }
    Value::object(out)
}

/// The attribute defaults of a block body, as an object (what an absent block decodes from).
pub fn body_defaults(body: Option<&Body>) -> Value {
    let mut out = Object::ordered();
    for a in body.map(|b| b.attrs.as_slice()).unwrap_or_default() {
        if let Some(d) = default_value(&a.default, &a.ty) {
            out.insert(a.name.as_str(), d);
        }
    }
    Value::object(out)
}

/// Where an argument path (`.client.tls.ca_file`, `.rule[1].regex`) is written in `block`:
/// the attribute's value, or the nested block's name; an item that is not written (a default)
/// falls back to the innermost block that is.
pub fn span_of(block: &Block, path: &[PathSeg]) -> Span {
    locate(block, path).0
}

/// Where `path` is written in `block`; `None` when it is not (a default).
pub fn written_span(block: &Block, path: &[PathSeg]) -> Option<Span> {
    match locate(block, path) {
        (span, true) => Some(span),
        _ => None,
    }
}

/// Where the bytes `range` of the string value at `path` are written: `None` unless that
/// value is written as a string literal (a computed string has no source to point into).
pub fn string_span(block: &Block, path: &[PathSeg], range: std::ops::Range<usize>) -> Option<Span> {
    let Expr::Literal(lit) = written_expr(block, path)? else { return None };
    if lit.kind != LiteralKind::String {
        return None;
    }
    let start = crate::literal::source_offset(&lit.text, range.start)?;
    let end = crate::literal::source_offset(&lit.text, range.end.max(range.start))?;
    Some(Span::new(lit.span.start + start as u32, lit.span.start + end as u32))
}

/// The expression written at `path`: an attribute's value, or an element or field inside it.
fn written_expr<'a>(block: &'a Block, path: &[PathSeg]) -> Option<&'a Expr> {
    let mut body: &[Stmt] = &block.body;
    let mut i = 0;
    while i < path.len() {
        let PathSeg::Field(name) = &path[i] else { return None };
        i += 1;
        let attr = body.iter().find_map(|s| match s {
            Stmt::Attribute(a) if a.name.name == *name => Some(a),
            _ => None,
        });
        if let Some(a) = attr {
            return inside_expr(&a.value, &path[i..]);
        }
        let index = match path.get(i) {
            Some(PathSeg::Index(n)) => {
                i += 1;
                *n
            }
            _ => 0,
        };
        body = &body
            .iter()
            .filter_map(|s| match s {
                Stmt::Block(b) if b.name == *name => Some(b),
                _ => None,
            })
            .nth(index)?
            .body;
    }
    None
}

fn inside_expr<'a>(mut e: &'a Expr, path: &[PathSeg]) -> Option<&'a Expr> {
    for seg in path {
        e = match (e, seg) {
            (Expr::Array(a), PathSeg::Index(n)) => a.elements.get(*n)?,
            (Expr::Object(o), PathSeg::Field(f)) => &o.fields.iter().find(|x| x.key.name == *f)?.value,
            _ => return None,
        };
    }
    Some(e)
}

/// The span for `path`, and whether all of it is written.
fn locate(block: &Block, path: &[PathSeg]) -> (Span, bool) {
    let mut body: &[Stmt] = &block.body;
    let mut at = block.name_span;
    let mut i = 0;
    while i < path.len() {
        let PathSeg::Field(name) = &path[i] else { return (at, false) };
        let after_name = i + 1;
        let index = match path.get(i + 1) {
            Some(PathSeg::Index(n)) => {
                i += 1;
                *n
            }
            _ => 0,
        };
        i += 1;
        let attr = body.iter().find_map(|s| match s {
            Stmt::Attribute(a) if a.name.name == *name => Some(a),
            _ => None,
        });
        if let Some(a) = attr {
            // An element or field inside the value when it is written there (an operator of a
            // list of objects), else the whole value.
            if after_name < path.len() {
                if let Some(inner) = inside_expr(&a.value, &path[after_name..]) {
                    return (inner.span(), true);
                }
            }
            return (a.value.span(), i == path.len());
        }
        let nested = body.iter().filter_map(|s| match s {
            Stmt::Block(b) if b.name == *name => Some(b),
            _ => None,
        });
        match nested.clone().nth(index).or_else(|| nested.clone().next_back()) {
            Some(b) => {
                at = b.name_span;
                body = &b.body;
            }
            None => return (at, false),
        }
    }
    (at, true)
}

/// Converts a value to a catalogue type, as upstream's decoder would before the component
/// sees it. Types the runtime cannot check further pass through.
pub fn coerce(v: &Value, ty: &Ty) -> Result<Value, ValueError> {
    Ok(match ty {
        Ty::Any | Ty::Null | Ty::Function => v.clone(),
        _ if v.is_null() => v.clone(),
        Ty::String | Ty::Duration | Ty::Size | Ty::Url | Ty::Regex => match v {
            Value::String(_) => v.clone(),
            _ => Value::String(convert::to_str(v)?),
        },
        Ty::Number => Value::Number(convert::to_number(v)?),
        Ty::Bool => Value::Bool(convert::to_bool(v)?),
        Ty::Secret => Value::Secret(convert::to_secret(v)?),
        Ty::OptSecret => Value::OptionalSecret(convert::to_optional_secret(v)?),
        Ty::Object | Ty::Map(_) => {
            let Some(o) = v.as_object() else { return Err(ValueError::type_error(Type::Object, v.ty())) };
            match ty {
                Ty::Map(inner) => {
                    let mut out = Object::new();
                    for (k, x) in o.iter() {
                        out.insert(k.clone(), coerce(x, inner).map_err(|e| e.inside(PathSeg::Field(k.clone())))?);
                    }
                    Value::object(out)
                }
                _ => v.clone(),
            }
        }
        Ty::List(inner) => {
            let items = convert::to_list(v)?;
            let mut out = Vec::with_capacity(items.len());
            for (i, x) in items.iter().enumerate() {
                out.push(coerce(x, inner).map_err(|e| e.inside(PathSeg::Index(i)))?);
            }
            Value::Array(Arc::from(out))
        }
        Ty::Capsule(c) => match v {
            Value::Capsule(cap) if cap.type_name() == c.as_str() || capsule_alias(cap.type_name(), c.as_str()) => v.clone(),
            Value::Capsule(cap) => {
                return Err(ValueError::message(format!(
                    "expected capsule({}), got capsule({})",
                    syntax::quote::go_quote(c.as_str()),
                    syntax::quote::go_quote(cap.type_name())
                )))
            }
            _ => return Err(ValueError::type_error(Type::Capsule, v.ty())),
        },
    })
}

/// Capsule host names the runtime may spell differently from the catalogue's short names.
fn capsule_alias(host: &str, catalogue: &str) -> bool {
    host.ends_with(catalogue) || catalogue.ends_with(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error inside one statement of a list lands on those characters of the literal,
    /// through nested blocks, list indices and escapes.
    #[test]
    fn string_span_points_into_the_written_literal() {
        let src = "c \"x\" {\n  s { v = [\"a\", \"set(\\\"k\\\", 1) zz\"] }\n  s { v = \"q\" }\n}\n";
        let parsed = syntax::parse_file(src.as_bytes());
        let Some(Stmt::Block(block)) = parsed.tree.body.first() else { panic!("no block") };
        let path = [PathSeg::Field("s".into()), PathSeg::Index(0), PathSeg::Field("v".into()), PathSeg::Index(1)];
        // The value is `set("k", 1) zz`; bytes 12..14 are `zz`.
        let span = string_span(block, &path, 12..14).expect("span");
        assert_eq!(&src[span.start as usize..span.end as usize], "zz");
        // `"k"` is written with escapes: value bytes 4..7 cover `\"k\"` in the source.
        let span = string_span(block, &path, 4..7).expect("span");
        assert_eq!(&src[span.start as usize..span.end as usize], r#"\"k\""#);
        // The second `s` block's `v` is a plain string, not a list.
        let second = [PathSeg::Field("s".into()), PathSeg::Index(1), PathSeg::Field("v".into())];
        let span = string_span(block, &second, 0..1).expect("span");
        assert_eq!(&src[span.start as usize..span.end as usize], "q");
        // A path that is not written has no span.
        assert_eq!(string_span(block, &[PathSeg::Field("w".into())], 0..1), None);
    }

    /// Every catalogue default is an expression that evaluates and converts to its type; one
    /// that cannot (prose) must be marked computed instead, never dropped silently.
    #[test]
    fn every_catalogue_default_is_a_usable_value() {
        fn walk(name: &str, path: &str, body: &Body, bad: &mut Vec<String>) {
            for a in &body.attrs {
                if let Some(text) = &a.default {
                    let ok = catalogue_default(text).is_some_and(|v| coerce(&v, &a.ty).is_ok());
                    if !ok {
                        bad.push(format!("{name} {path}{}: {text:?} as {}", a.name, a.ty));
                    }
                }
            }
            for b in &body.blocks {
                walk(name, &format!("{path}{}.", b.name), &b.body, bad);
            }
        }
        let mut bad = Vec::new();
        for c in &Catalog::get().components {
            walk(&c.name, "", &c.body, &mut bad);
        }
        assert!(bad.is_empty(), "defaults that are not values:\n{}", bad.join("\n"));
    }

    #[test]
    fn lenient_evaluation_keeps_what_is_known() {
        let parsed = syntax::parse_file(b"otelcol.processor.batch \"b\" {\n  timeout = \"1s\"\n  send_batch_size = local.file.x.content\n}\n");
        let Some(Stmt::Block(b)) = parsed.tree.body.first() else { panic!("no block") };
        let v = evaluate_block_lenient(&b.name, b, &parsed.lines, &Scope::new()).unwrap();
        let o = v.as_object().unwrap();
        assert!(is_unknown(o.get("send_batch_size").unwrap()));
        assert_eq!(eval::render::render(o.get("timeout").unwrap()), "\"1s\"");
        assert!(evaluate_block(&b.name, b, &parsed.lines, &Scope::new()).is_err());
    }

    #[test]
    fn paths_are_placed_on_what_is_written() {
        let src = "c \"x\" {\n  a = 1\n  b { x = 2 }\n  b { x = 3 }\n}\n";
        let parsed = syntax::parse_file(src.as_bytes());
        let Some(Stmt::Block(b)) = parsed.tree.body.first() else { panic!("no block") };
        let text = |p: &[PathSeg]| {
            let s = span_of(b, p);
            src[s.start as usize..s.end as usize].to_string()
        };
        assert_eq!(text(&[PathSeg::Field("a".into())]), "1");
        assert_eq!(text(&[PathSeg::Field("b".into()), PathSeg::Index(1), PathSeg::Field("x".into())]), "3");
        assert_eq!(text(&[PathSeg::Field("b".into()), PathSeg::Field("y".into())]), "b");
        assert_eq!(text(&[PathSeg::Field("z".into())]), "c");
    }

    fn eval_block(src: &str, scope: &Scope) -> Result<Value, String> {
        let parsed = syntax::parse_file(src.as_bytes());
        let Some(Stmt::Block(b)) = parsed.tree.body.first() else { panic!("no block") };
        evaluate_block(&b.name, b, &parsed.lines, scope).map_err(|e| e.render("a.alloy", &parsed.lines))
    }

    #[test]
    fn defaults_are_filled_and_secrets_converted() {
        let v = eval_block("local.file \"x\" {\n  filename = \"/tmp/x\"\n  is_secret = true\n}\n", &Scope::new()).unwrap();
        assert_eq!(
            eval::render::render(&v),
            "{\n\tfilename       = \"/tmp/x\",\n\tdetector       = \"fsnotify\",\n\tis_secret      = true,\n\tpoll_frequency = \"1m\",\n}"
        );
    }

    #[test]
    fn type_errors_name_the_expression() {
        let mut scope = Scope::new();
        scope.set("n", Value::array(vec![]));
        let err = eval_block("local.file \"x\" {\n  filename = n\n}\n", &scope).unwrap_err();
        assert_eq!(err, "a.alloy:2:14: n should be string, got array");
    }

    #[test]
    fn repeatable_blocks_become_arrays() {
        let v = eval_block("otelcol.processor.batch \"b\" {\n  output {\n    traces = []\n  }\n}\n", &Scope::new()).unwrap();
        let o = v.as_object().unwrap();
        assert!(matches!(o.get("output"), Some(Value::Object(_))), "output is a single block: {v:?}");
        assert_eq!(eval::render::render(o.get("timeout").unwrap()), "\"200ms\"");
        assert!(o.get("debug_metrics").is_none());
    }
}
