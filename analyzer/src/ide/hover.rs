//! Hover: what a component, block, argument, reference or stdlib function is.

use std::fmt::Write as _;

use syntax::ast::Ident;
use syntax::Span;

use super::schema::{self, BodySchema};
use super::walk::{self, Hit};
use super::Snapshot;
use crate::catalog::{BlockSchema, Catalog, Component, Kind, Stability};
use crate::model::{self, DeclareSig, NodeKind};

/// Markdown text about the item at a position, and the span it describes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hover {
    pub markdown: String,
    pub span: Span,
}

impl Snapshot {
    /// Hover at `offset`, from the parse of the chunk holding it.
    pub fn hover(&self, path: &str, offset: u32) -> Option<Hover> {
        let (parsed, shift) = self.chunk_tree_at(path, offset)?;
        let h = self.hover_in(parsed, offset - shift, path, shift)?;
        Some(Hover { span: Span::new(h.span.start + shift, h.span.end + shift), ..h })
    }

    /// Hover in one parsed chunk of `path` that starts at `shift`; positions relative to it.
    fn hover_in(&self, parsed: &syntax::Parsed<syntax::ast::File>, offset: u32, path: &str, shift: u32) -> Option<Hover> {
        if let Some(e) = super::ottl_strings::embedded_at(&parsed.tree.body, offset) {
            let (markdown, span) = super::ottl_strings::hover(&e, offset)?;
            return Some(Hover { markdown, span });
        }
        match walk::locate(&parsed.tree.body, offset)? {
            Hit::BlockName { path: blocks } | Hit::Label { path: blocks } => {
                let (b, outer) = blocks.split_last()?;
                let span = model::block_id_span(b);
                let (scope, inner) = self.scope_of(outer);
                if inner.is_empty() {
                    let markdown = match schema::top_schema(&scope.index, &b.name)? {
                        BodySchema::Catalog { comp, .. } => component_markdown(comp),
                        BodySchema::Custom(sig) => custom_markdown(&sig),
                    };
                    return Some(Hover { markdown, span });
                }
                let parent = schema::body_schema(&scope.index, inner.iter().map(|b| b.name.as_str()))?;
                let bs = parent.block(&b.name)?;
                let BodySchema::Catalog { comp, .. } = parent else { return None };
                Some(Hover { markdown: block_markdown(comp, bs), span: b.name_span })
            }
            Hit::AttrName { path: blocks, attr } => {
                let (scope, inner) = self.scope_of(&blocks);
                let schema = schema::body_schema(&scope.index, inner.iter().map(|b| b.name.as_str()))?;
                let a = schema.attr(&attr.name.name)?;
                let mut md = format!("```alloy\n{} = {}\n```\n", a.name, a.ty);
                md.push_str(if a.required { "\nrequired" } else { "\noptional" });
                if let Some(d) = a.default {
                    let _ = write!(md, ", default `{d}`");
                }
                if let Some(e) = a.enums {
                    let members: Vec<String> = e.iter().filter(|m| !m.is_empty()).map(|m| format!("`\"{m}\"`")).collect();
                    let _ = write!(md, "\n\none of {}", members.join(", "));
                }
                Some(Hover { markdown: md, span: attr.name.span })
            }
            Hit::Reference { path: blocks, parts, part, .. } => {
                let (scope, _) = self.scope_of(&blocks);
                if let Some((id, n)) = Self::resolve_node(&scope, &parts) {
                    let span = parts[0].span.cover(parts[part.max(n - 1)].span);
                    return Some(Hover { markdown: self.reference_markdown(&scope, path, &id, &parts[n..], shift), span });
                }
                let span = parts[0].span.cover(parts[part].span);
                stdlib_markdown(&parts[..=part]).map(|markdown| Hover { markdown, span })
            }
        }
    }

    /// `shift`: where the chunk of a `declare` in scope starts (its blocks' spans are relative).
    fn reference_markdown(&self, scope: &schema::Scope<'_>, file: &str, id: &str, rest: &[&Ident], shift: u32) -> String {
        let kind = scope.index.ids.get(id).cloned().unwrap_or(NodeKind::Unknown);
        let node = super::navigation::NodeRef {
            id: id.to_string(),
            scope: super::schema::Scope { index: std::borrow::Cow::Borrowed(&scope.index), declare: scope.declare },
            file,
        };
        let mut md = String::new();
        let exports = scope.index.node_exports(&kind).unwrap_or_default();
        let what = match &kind {
            NodeKind::Builtin(n) if Catalog::get().lookup(n).is_some() => format!("a `{n}` component"),
            NodeKind::Builtin(_) => String::new(),
            NodeKind::Local(_) | NodeKind::Imported(..) => "a custom component".into(),
            NodeKind::Argument => "a module argument".into(),
            _ => "a block".into(),
        };
        let _ = write!(md, "`{id}`: {what}");
        if let Some((f, b)) = self.node_block(&node) {
            if let Some(lines) = self.lines(f) {
                let at = b.name_span.start + if scope.declare.is_some() { shift } else { 0 };
                let _ = write!(md, ", declared at {}:{}", f, lines.line_col(at));
            }
        }
        if let Some(first) = rest.first() {
            match exports.iter().find(|(n, _)| *n == first.name) {
                Some((n, t)) => {
                    let _ = write!(md, "\n\n```alloy\n{id}.{n}: {t}\n```");
                }
                None => {
                    let _ = write!(md, "\n\nno export named `{}`", first.name);
                }
            }
        } else if !exports.is_empty() {
            md.push_str("\n\n**Exports**\n");
            for (n, t) in exports.iter() {
                let _ = writeln!(md, "- `{n}`: {t}");
            }
        }
        md
    }
}

fn stability(comp: &Component) -> &'static str {
    match comp.stability {
        None if comp.community => "community",
        None => "",
        Some(Stability::GenerallyAvailable) => "generally available",
        Some(Stability::PublicPreview) => "public preview",
        Some(Stability::Experimental) => "experimental",
    }
}

pub(crate) fn component_markdown(comp: &'static Component) -> String {
    let what = if comp.kind == Kind::Component { "component" } else { "configuration block" };
    let mut md = format!("**{}**: {what}", comp.name);
    let s = stability(comp);
    if !s.is_empty() {
        let _ = write!(md, ", {s}");
    }
    if comp.removed {
        md.push_str(", **removed from Alloy**");
    }
    let _ = write!(md, "\n\n{}\n", comp.doc);
    body_markdown(&mut md, &BodySchema::Catalog { comp, body: &comp.body, inherit: false });
    if !comp.exports.is_empty() {
        md.push_str("\n**Exports**\n");
        for (n, t) in &comp.exports {
            let _ = writeln!(md, "- `{n}`: {t}");
        }
    }
    md
}

fn block_markdown(comp: &'static Component, bs: &'static BlockSchema) -> String {
    let mut md = format!("**{}** block of `{}`", bs.name, comp.name);
    if bs.required {
        md.push_str(", required");
    }
    if bs.repeatable {
        md.push_str(", may be repeated");
    }
    md.push('\n');
    body_markdown(&mut md, &BodySchema::Catalog { comp, body: &bs.body, inherit: bs.inherit });
    md
}

fn custom_markdown(sig: &DeclareSig) -> String {
    let mut md = format!("**{}**: custom component\n", sig.name);
    body_markdown(&mut md, &BodySchema::Custom(sig.clone()));
    if !sig.exports.is_empty() {
        md.push_str("\n**Exports**\n");
        for e in &sig.exports {
            let _ = writeln!(md, "- `{e}`");
        }
    }
    md
}

/// The arguments (required first) and blocks of a body as markdown lists.
fn body_markdown(md: &mut String, schema: &BodySchema) {
    let mut attrs = schema.attrs();
    attrs.sort_by_key(|a| !a.required);
    if !attrs.is_empty() {
        md.push_str("\n**Arguments**\n");
        for a in &attrs {
            let _ = write!(md, "- `{}`: {}", a.name, a.ty);
            if a.required {
                md.push_str(" (required)");
            } else if let Some(d) = a.default {
                let _ = write!(md, " = `{d}`");
            }
            md.push('\n');
        }
    }
    let blocks = schema.blocks();
    if !blocks.is_empty() {
        md.push_str("\n**Blocks**\n");
        for b in blocks {
            let _ = write!(md, "- `{}`", b.name);
            if b.required {
                md.push_str(" (required)");
            }
            if b.repeatable {
                md.push_str(" (repeatable)");
            }
            md.push('\n');
        }
    }
}

/// The stdlib value named by `parts`: a function's signature, or a namespace's members.
fn stdlib_markdown(parts: &[&Ident]) -> Option<String> {
    let first = parts[0].name.as_str();
    let mut value = eval::stdlib::lookup(first)?;
    let mut name = first.to_string();
    for p in &parts[1..] {
        value = match &value {
            eval::Value::Object(o) => o.get(&p.name)?.clone(),
            _ => return None,
        };
        name.push('.');
        name.push_str(&p.name);
    }
    let mut md = match &value {
        eval::Value::Function(f) => format!("```alloy\n{}\n```\nstandard library function", signature(&name, f)),
        eval::Value::Object(o) => {
            let mut keys: Vec<&str> = o.keys().map(|k| k.as_ref()).collect();
            keys.sort();
            format!("`{name}`: standard library namespace\n\n{}", keys.iter().map(|k| format!("`{name}.{k}`")).collect::<Vec<_>>().join(", "))
        }
        _ => format!("`{name}`: standard library constant"),
    };
    if parts.len() == 1 {
        if let Some(new) = eval::stdlib::deprecated_replacement(first) {
            let _ = write!(md, "\n\n**deprecated**: use `{new}` instead");
        }
    }
    Some(md)
}

/// `name(params) result` from a function's host signature, in the language's type names.
pub(crate) fn signature(name: &str, f: &eval::Function) -> String {
    let go = f.go_type();
    let Some(inner) = go.strip_prefix("func(") else { return format!("{name}(...any) any") };
    let Some(close) = inner.find(')') else { return format!("{name}(...)") };
    let params: Vec<String> = inner[..close].split(", ").filter(|p| !p.is_empty()).map(alloy_type).collect();
    let ret = inner[close + 1..].trim();
    let ret = ret.strip_prefix('(').map(|r| r.split(',').next().unwrap_or("")).unwrap_or(ret).trim();
    let ret = if ret.is_empty() { String::new() } else { format!(" {}", alloy_type(ret)) };
    format!("{name}({}){ret}", params.join(", "))
}

fn alloy_type(go: &str) -> String {
    if let Some(rest) = go.strip_prefix("...") {
        return format!("...{}", alloy_type(rest));
    }
    if let Some(rest) = go.strip_prefix("[]") {
        return if rest == "uint8" { "bytes".into() } else { format!("list({})", alloy_type(rest)) };
    }
    if let Some(rest) = go.strip_prefix("map[string]") {
        return format!("map({})", alloy_type(rest));
    }
    match go {
        "interface {}" => "any".into(),
        "alloytypes.Secret" => "secret".into(),
        "int" | "int64" | "float64" | "uint64" => "number".into(),
        other => other.to_string(),
    }
}

/// The stdlib functions by full name (`string.format`), each once.
pub(crate) fn stdlib_functions() -> Vec<(String, eval::Function)> {
    fn collect(prefix: &str, v: &eval::Value, out: &mut Vec<(String, eval::Function)>) {
        match v {
            eval::Value::Function(f) => out.push((prefix.to_string(), f.clone())),
            eval::Value::Object(o) => {
                for (k, v) in o.iter() {
                    collect(&format!("{prefix}.{k}"), v, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for name in eval::stdlib::names() {
        if let Some(v) = eval::stdlib::lookup(name) {
            collect(name, &v, &mut out);
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}
