//! Completion: component names, argument and block names, enum values, references to exports
//! of the expected type, and stdlib functions.

use syntax::ast::{Block, Stmt};
use syntax::Span;

use super::context::{self, Context, Nest};
use super::hover::{component_markdown, signature, stdlib_functions};
use super::schema::{self, AttrInfo, BodySchema};
use super::Snapshot;
use crate::catalog::{Catalog, Kind};
use crate::model::{self, NodeKind};
use crate::types::{assignable, Ty};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CompletionKind {
    Component,
    Block,
    Attribute,
    EnumValue,
    Reference,
    Function,
    Keyword,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompletionItem {
    pub label: String,
    pub kind: CompletionKind,
    pub detail: Option<String>,
    pub documentation: Option<String>,
    /// The text replacing `replace`; a snippet with `${1:…}` placeholders when `snippet`.
    pub insert: String,
    pub snippet: bool,
    /// Orders items: required arguments and blocks come first.
    pub sort: String,
    pub replace: Span,
}

impl Snapshot {
    pub fn completions(&self, path: &str, offset: u32) -> Vec<CompletionItem> {
        let (Some(text), Some(parsed)) = (self.text(path), self.parsed(path)) else { return Vec::new() };
        if let Some(e) = super::ottl_strings::embedded_at(&parsed.tree.body, offset) {
            return super::ottl_strings::completions(&e, offset);
        }
        // Scan from the top-level statement around the cursor, found lexically from the start
        // of the chunk that holds it (chunks start on statement boundaries).
        let chunk_start = self.chunk_start(path, offset);
        let start = context::statement_start(text, chunk_start as usize, offset as usize) as u32;
        let Some((ctx, word)) = context::context_at(text, start as usize, offset as usize) else { return Vec::new() };
        let ast_blocks = enclosing_blocks(&parsed.tree.body, offset);
        let blocks = match &ctx {
            Context::Statement { blocks } | Context::Value { blocks, .. } => blocks.clone(),
        };
        // The syntax tree's blocks, when they agree with the lexical scan.
        let tree: Vec<&Block> = if ast_blocks.iter().map(|b| b.name.as_str()).eq(blocks.iter().map(String::as_str)) { ast_blocks } else { Vec::new() };
        let (scope, inner_names) = match blocks.iter().rposition(|b| b == "declare") {
            Some(i) => {
                let decl: &[&Block] = tree.get(..=i).unwrap_or_default();
                (self.scope_of(decl).0, &blocks[i + 1..])
            }
            None => (self.scope_of(&[]).0, &blocks[..]),
        };
        let inner_tree: Option<&Block> = if tree.is_empty() { None } else { tree.last().copied() };
        let mut out = match ctx {
            Context::Statement { .. } if inner_names.is_empty() => top_level_items(&scope.index, text, word, scope.declare.is_some()),
            Context::Statement { .. } => {
                let Some(schema) = schema::body_schema(&scope.index, inner_names.iter().map(String::as_str)) else { return Vec::new() };
                body_items(&schema, inner_tree.map(|b| b.body.as_slice()).unwrap_or(&[]), offset, word)
            }
            Context::Value { attr, nesting, in_string, .. } => {
                let Some(schema) = schema::body_schema(&scope.index, inner_names.iter().map(String::as_str)) else { return stdlib_items(word) };
                let Some(a) = schema.attr(&attr) else { return Vec::new() };
                // The node being edited may not refer to itself.
                let own_id = tree.first().filter(|_| scope.declare.is_none()).map(|b| model::block_id(b).0);
                // A value being typed (`[otelcol.]`) breaks the parse, and the parser's
                // recovery may lose the components after it: index the file as it will read
                // once a name is there.
                let patched = (parsed.has_errors() && scope.declare.is_none() && !in_string).then(|| self.index_with_placeholder(path, offset)).flatten();
                value_items(patched.as_ref().unwrap_or(&scope.index), &a, &nesting, in_string, own_id.as_deref(), word)
            }
        };
        out.sort_by(|a, b| (&a.sort, &a.label).cmp(&(&b.sort, &b.label)));
        out
    }
}

/// The blocks whose braces enclose `offset`, outermost first.
fn enclosing_blocks(body: &[Stmt], offset: u32) -> Vec<&Block> {
    let mut out = Vec::new();
    let mut body = body;
    'outer: loop {
        for s in body {
            if let Stmt::Block(b) = s {
                if b.lcurly.end <= offset && offset <= b.rcurly.start && b.rcurly.start > b.lcurly.start {
                    out.push(b);
                    body = &b.body;
                    continue 'outer;
                }
            }
        }
        return out;
    }
}

fn top_level_items(index: &model::ModuleIndex, text: &str, word: Span, in_declare: bool) -> Vec<CompletionItem> {
    let typed = &text[word.range()];
    // Once a namespace is typed (`otelcol.`), only its members.
    let namespace = typed.rfind('.').map(|i| &typed[..=i]).unwrap_or("");
    let mut out = Vec::new();
    for c in &Catalog::get().components {
        if c.removed || !c.name.starts_with(namespace) {
            continue;
        }
        let allowed_here = match c.name.as_str() {
            "argument" | "export" => in_declare,
            "logging" | "tracing" | "http" | "remotecfg" | "livedebugging" | "labelstore" => !in_declare,
            _ => true,
        };
        if !allowed_here {
            continue;
        }
        let kind = if c.kind == Kind::Component { CompletionKind::Component } else { CompletionKind::Keyword };
        out.push(CompletionItem {
            label: c.name.clone(),
            kind,
            detail: Some(c.doc.clone()),
            documentation: Some(component_markdown(c)),
            insert: block_snippet(&c.name, c.label_required, &required_attr_lines(&BodySchema::Catalog { comp: c, body: &c.body, inherit: false })),
            snippet: true,
            sort: if c.kind == Kind::Component { "1".into() } else { "2".into() },
            replace: word,
        });
    }
    for (name, sig) in &index.declares {
        if name.starts_with(namespace) {
            out.push(CompletionItem {
                label: name.to_string(),
                kind: CompletionKind::Component,
                detail: Some("custom component".into()),
                documentation: None,
                insert: block_snippet(name, true, &required_attr_lines(&BodySchema::Custom(sig.clone()))),
                snippet: true,
                sort: "0".into(),
                replace: word,
            });
        }
    }
    for (ns, decls) in &index.imports {
        let model::ImportDecls::Known(decls) = decls else { continue };
        for sig in decls {
            let name = format!("{ns}.{}", sig.name);
            if name.starts_with(namespace) {
                out.push(CompletionItem {
                    label: name.clone(),
                    kind: CompletionKind::Component,
                    detail: Some("imported custom component".into()),
                    documentation: None,
                    insert: block_snippet(&name, true, &required_attr_lines(&BodySchema::Custom(sig.clone()))),
                    snippet: true,
                    sort: "0".into(),
                    replace: word,
                });
            }
        }
    }
    out
}

/// `name "label" {\n\t…\n}` with the required arguments filled with placeholders.
fn block_snippet(name: &str, label: bool, required: &[String]) -> String {
    let mut s = String::from(name);
    let mut n = 1;
    if label {
        s.push_str(" \"${1:default}\"");
        n = 2;
    }
    s.push_str(" {\n");
    for line in required {
        s.push('\t');
        s.push_str(&line.replace("${1", &format!("${{{n}")));
        s.push('\n');
        n += 1;
    }
    s.push_str("\t$0\n}");
    s
}

fn required_attr_lines(schema: &BodySchema) -> Vec<String> {
    schema.attrs().iter().filter(|a| a.required).map(|a| format!("{} = {}", a.name, placeholder(a, 1))).collect()
}

/// A snippet placeholder for a value of an attribute's type.
fn placeholder(a: &AttrInfo<'_>, n: usize) -> String {
    if let Some(e) = a.enums {
        let members: Vec<&str> = e.iter().map(String::as_str).filter(|m| !m.is_empty()).collect();
        if !members.is_empty() {
            return format!("\"${{{n}|{}|}}\"", members.join(","));
        }
    }
    // The catalogue's default, when it is a plain number or string, is the text to start from.
    let default = a.default.map(str::trim).filter(|d| !d.is_empty() && *d != "null");
    match (&a.ty, default) {
        (Ty::Bool, Some("false")) => return format!("${{{n}|false,true|}}"),
        (Ty::Number, Some(d)) if d.parse::<f64>().is_ok() => return format!("${{{n}:{d}}}"),
        (t, Some(d)) if t.is_stringish() && d.len() > 2 && d.starts_with('"') && d.ends_with('"') => {
            let inner = d[1..d.len() - 1].replace('\\', "\\\\").replace('$', "\\$").replace('}', "\\}");
            return format!("\"${{{n}:{inner}}}\"");
        }
        _ => {}
    }
    match &a.ty {
        Ty::Bool => format!("${{{n}|true,false|}}"),
        Ty::Number => format!("${{{n}:0}}"),
        Ty::List(_) => format!("[${{{n}}}]"),
        Ty::Map(_) | Ty::Object => format!("{{${{{n}}}}}"),
        Ty::Capsule(_) | Ty::Any | Ty::Function => format!("${{{n}}}"),
        t if t.is_stringish() || matches!(t, Ty::Secret | Ty::OptSecret) => format!("\"${{{n}}}\""),
        _ => format!("${{{n}}}"),
    }
}

/// Argument and block names a body may still take: required ones first.
pub(crate) fn body_items(schema: &BodySchema, present: &[Stmt], offset: u32, word: Span) -> Vec<CompletionItem> {
    let has_attr = |n: &str| present.iter().any(|s| matches!(s, Stmt::Attribute(a) if a.name.name == n && !super::walk::touches(a.name.span, offset)));
    let has_block = |n: &str| present.iter().any(|s| matches!(s, Stmt::Block(b) if b.name == n && !super::walk::touches(b.name_span, offset)));
    let mut out = Vec::new();
    for a in schema.attrs() {
        if has_attr(a.name) {
            continue;
        }
        let mut detail = a.ty.to_string();
        if a.required {
            detail.push_str(" (required)");
        } else if let Some(d) = a.default {
            detail.push_str(&format!(" = {d}"));
        }
        out.push(CompletionItem {
            label: a.name.to_string(),
            kind: CompletionKind::Attribute,
            detail: Some(detail),
            documentation: None,
            insert: format!("{} = {}", a.name, placeholder(&a, 1)),
            snippet: true,
            sort: if a.required { "0".into() } else { "2".into() },
            replace: word,
        });
    }
    for b in schema.blocks() {
        if !b.repeatable && has_block(&b.name) {
            continue;
        }
        let required: Vec<String> =
            b.body.attrs.iter().filter(|a| a.required).map(|a| format!("{} = {}", a.name, placeholder(&schema::attr_info(a), 1))).collect();
        out.push(CompletionItem {
            label: b.name.clone(),
            kind: CompletionKind::Block,
            detail: Some(if b.required { "block (required)".into() } else { "block".into() }),
            documentation: None,
            insert: block_snippet(&b.name, b.label, &required),
            snippet: true,
            sort: if b.required { "1".into() } else { "3".into() },
            replace: word,
        });
    }
    out
}

/// Values for an attribute: enum members, booleans, references to exports of the expected
/// type, and stdlib functions.
fn value_items(index: &model::ModuleIndex, a: &AttrInfo<'_>, nesting: &[Nest], in_string: bool, own_id: Option<&str>, word: Span) -> Vec<CompletionItem> {
    let mut expected = a.ty.clone();
    for n in nesting {
        expected = match n {
            Nest::Array | Nest::Object => expected.element(),
            Nest::Paren => Ty::Any,
        };
    }
    let enums: Vec<&str> = if nesting.is_empty() { a.enums.unwrap_or(&[]).iter().map(String::as_str).filter(|m| !m.is_empty()).collect() } else { Vec::new() };
    let mut out = Vec::new();
    if in_string {
        for m in enums {
            out.push(item(m, CompletionKind::EnumValue, None, m.to_string(), false, "0", word));
        }
        return out;
    }
    for m in &enums {
        out.push(item(&format!("\"{m}\""), CompletionKind::EnumValue, None, format!("\"{m}\""), false, "0", word));
    }
    if matches!(expected, Ty::Bool | Ty::Any) {
        for b in ["true", "false"] {
            out.push(item(b, CompletionKind::Keyword, None, b.to_string(), false, "2", word));
        }
    }
    // A list value offered one element at a time: `[ref]` outside brackets.
    let (element, wrap) = match (&expected, nesting.last()) {
        (Ty::List(el), None) => ((**el).clone(), true),
        _ => (expected.clone(), false),
    };
    let mut ids: Vec<(&String, &NodeKind)> = index.ids.iter().collect();
    ids.sort_by(|a, b| a.0.cmp(b.0));
    for (id, kind) in ids {
        if Some(id.as_str()) == own_id {
            continue;
        }
        let Some(exports) = index.node_exports(kind) else { continue };
        for (e, t) in exports.iter() {
            let direct = fits(t, &expected);
            if !(direct || (wrap && fits(t, &element))) {
                continue;
            }
            let reference = format!("{id}.{e}");
            let insert = if direct { reference.clone() } else { format!("[{reference}]") };
            out.push(item(&reference, CompletionKind::Reference, Some(t.to_string()), insert, false, "1", word));
        }
    }
    // Functions produce no capsules: they are noise where a receiver is expected.
    if !matches!(element, Ty::Capsule(_)) {
        out.extend(stdlib_items(word));
    }
    out
}

/// Whether an export of type `found` is worth offering where `expected` is wanted: capsules
/// must match exactly; anything fits where anything is expected.
fn fits(found: &Ty, expected: &Ty) -> bool {
    match (found, expected) {
        (_, Ty::Any) => true,
        (Ty::Any, Ty::Capsule(_) | Ty::List(_)) => false,
        (f, e) => assignable(f, e).is_ok(),
    }
}

fn stdlib_items(word: Span) -> Vec<CompletionItem> {
    stdlib_functions()
        .into_iter()
        .map(|(name, f)| {
            let mut it = item(&name, CompletionKind::Function, Some(signature(&name, &f)), format!("{name}($1)"), true, "4", word);
            if let Some(new) = eval::stdlib::deprecated_replacement(&name) {
                it.detail = Some(format!("deprecated: use {new}"));
                it.sort = "5".into();
            }
            it
        })
        .collect()
}

fn item(label: &str, kind: CompletionKind, detail: Option<String>, insert: String, snippet: bool, sort: &str, replace: Span) -> CompletionItem {
    CompletionItem { label: label.to_string(), kind, detail, documentation: None, insert, snippet, sort: sort.to_string(), replace }
}
