//! OTTL inside Alloy strings: the statements and conditions of `otelcol.processor.transform`,
//! `otelcol.processor.filter`, `otelcol.connector.count` and tail sampling's `ottl_condition`
//! policies. Hover explains the path, function or enum under the cursor; completion offers
//! the editors where a statement starts and the context's paths, converters and enums
//! elsewhere. (Checking is the components' argument rules: see `ArgError::within`.)

use std::ops::Range;

use ottl::catalog::{self, FunctionKind};
use ottl::lexer::Tok;
use ottl::Context as C;
use syntax::ast::{Block, Expr, Literal, LiteralKind, Stmt};
use syntax::Span;

use super::completion::{CompletionItem, CompletionKind};
use crate::literal::{source_offset, value_offset};

const TRACE: &[C] = &[C::Resource, C::Scope, C::Span, C::SpanEvent];
const METRIC: &[C] = &[C::Resource, C::Scope, C::Metric, C::DataPoint];
const LOG: &[C] = &[C::Resource, C::Scope, C::Log];

const COMPONENTS: [&str; 4] = ["otelcol.processor.transform", "otelcol.processor.filter", "otelcol.connector.count", "otelcol.processor.tail_sampling"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Statement,
    Condition,
}

/// How an attribute's strings get their context.
#[derive(Clone, Copy, Debug)]
enum Contexts {
    Fixed(C),
    /// From the block's `context` attribute, else inferred among these.
    Sibling(&'static [C]),
    /// From the paths' prefixes, among these (outermost first).
    Infer(&'static [C]),
}

/// Whether attribute `attr` of the block path `inner` inside `component` holds OTTL.
fn slot(component: &str, inner: &[&str], attr: &str) -> Option<(Kind, Contexts)> {
    use Contexts::*;
    use Kind::*;
    let signal = |block: &str| match block {
        "trace_statements" | "trace_conditions" => Some(TRACE),
        "metric_statements" | "metric_conditions" => Some(METRIC),
        "log_statements" | "log_conditions" => Some(LOG),
        _ => None,
    };
    Some(match (component, inner, attr) {
        ("otelcol.processor.transform", [b], "statements") => (Statement, Sibling(signal(b)?)),
        ("otelcol.processor.transform", [b], "conditions") => (Condition, Sibling(signal(b)?)),
        ("otelcol.processor.transform", ["statements"], signal) => (
            Statement,
            Infer(match signal {
                "trace" => TRACE,
                "metric" => METRIC,
                "log" => LOG,
                _ => return None,
            }),
        ),
        ("otelcol.processor.filter", [b], "conditions") => (Condition, Sibling(signal(b)?)),
        ("otelcol.processor.filter", ["traces"], "span") => (Condition, Fixed(C::Span)),
        ("otelcol.processor.filter", ["traces"], "spanevent") => (Condition, Fixed(C::SpanEvent)),
        ("otelcol.processor.filter", ["metrics"], "metric") => (Condition, Fixed(C::Metric)),
        ("otelcol.processor.filter", ["metrics"], "datapoint") => (Condition, Fixed(C::DataPoint)),
        ("otelcol.processor.filter", ["logs"], "log_record") => (Condition, Fixed(C::Log)),
        ("otelcol.connector.count", [b], "conditions") => (
            Condition,
            Fixed(match *b {
                "spans" => C::Span,
                "spanevents" => C::SpanEvent,
                "metrics" => C::Metric,
                "datapoints" => C::DataPoint,
                "logs" => C::Log,
                _ => return None,
            }),
        ),
        ("otelcol.processor.tail_sampling", [.., "ottl_condition"], "span") => (Condition, Fixed(C::Span)),
        ("otelcol.processor.tail_sampling", [.., "ottl_condition"], "spanevent") => (Condition, Fixed(C::SpanEvent)),
        _ => return None,
    })
}

/// An OTTL string under the cursor.
pub struct Embedded<'a> {
    lit: &'a Literal,
    /// The string's value (escapes decoded).
    value: String,
    kind: Kind,
    ctx: C,
    /// Inside `otelcol.processor.filter`, where the filter-only converters work.
    filter: bool,
}

impl Embedded<'_> {
    /// The source span of the value bytes `r`.
    fn span(&self, r: Range<usize>) -> Option<Span> {
        let start = source_offset(&self.lit.text, r.start)?;
        let end = source_offset(&self.lit.text, r.end)?;
        Some(Span::new(self.lit.span.start + start as u32, self.lit.span.start + end as u32))
    }

    /// The value byte the cursor is at.
    fn at(&self, offset: u32) -> Option<usize> {
        value_offset(&self.lit.text, offset.checked_sub(self.lit.span.start)? as usize)
    }
}

/// The OTTL string literal that `offset` is inside of, if any.
pub fn embedded_at(body: &[Stmt], offset: u32) -> Option<Embedded<'_>> {
    let inside = |s: Span| s.start < offset && offset < s.end;
    let mut chain: Vec<&Block> = Vec::new();
    let mut stmts: &[Stmt] = body;
    while let Some(b) = stmts.iter().find_map(|s| match s {
        Stmt::Block(b) if inside(b.span()) => Some(b),
        _ => None,
    }) {
        chain.push(b);
        stmts = &b.body;
    }
    let attr = stmts.iter().find_map(|s| match s {
        Stmt::Attribute(a) if a.value.span().start <= offset && offset <= a.value.span().end => Some(a),
        _ => None,
    })?;
    let lit = match &attr.value {
        Expr::Array(a) => a.elements.iter().find_map(|e| string_at(e, offset)),
        e => string_at(e, offset),
    }?;
    let c = chain.iter().rposition(|b| COMPONENTS.contains(&b.name.as_str()))?;
    let inner: Vec<&str> = chain[c + 1..].iter().map(|b| b.name.as_str()).collect();
    let (kind, contexts) = slot(&chain[c].name, &inner, &attr.name.name)?;
    let value = String::from_utf8(eval::eval::unquote(&lit.text).ok()?).ok()?;
    let ctx = match contexts {
        Contexts::Fixed(c) => c,
        Contexts::Sibling(cands) => sibling_context(stmts).filter(|c| cands.contains(c)).unwrap_or_else(|| infer(&value, kind, cands)),
        Contexts::Infer(cands) => infer(&value, kind, cands),
    };
    let filter = chain[c].name == "otelcol.processor.filter";
    Some(Embedded { lit, value, kind, ctx, filter })
}

/// `e` when it is a string literal with `offset` strictly inside its quotes.
fn string_at(e: &Expr, offset: u32) -> Option<&Literal> {
    match e {
        Expr::Literal(l) if l.kind == LiteralKind::String && l.span.start < offset && offset < l.span.end => Some(l),
        _ => None,
    }
}

/// The block's `context = "..."`, when written as a literal.
fn sibling_context(stmts: &[Stmt]) -> Option<C> {
    stmts.iter().find_map(|s| match s {
        Stmt::Attribute(a) if a.name.name == "context" => match &a.value {
            Expr::Literal(l) if l.kind == LiteralKind::String => C::from_name(&String::from_utf8(eval::eval::unquote(&l.text).ok()?).ok()?),
            _ => None,
        },
        _ => None,
    })
}

/// The context the paths ask for; else the signal's item context (span, metric, log).
fn infer(value: &str, kind: Kind, cands: &'static [C]) -> C {
    let inferred = match kind {
        Kind::Statement => ottl::infer_statement_context(value, cands),
        Kind::Condition => ottl::infer_condition_context(value, cands),
    };
    inferred.ok().flatten().unwrap_or(cands[2])
}

fn function_markdown(f: &catalog::FunctionDoc) -> String {
    let kind = match f.kind {
        FunctionKind::Editor => "editor",
        FunctionKind::Converter => "converter",
    };
    format!("```ottl\n{}\n```\n{}\n\nOTTL {kind}", f.signature, f.doc)
}

/// Markdown about the path, function or enum under the cursor, and its span.
pub fn hover(e: &Embedded<'_>, offset: u32) -> Option<(String, Span)> {
    let at = e.at(offset)?;
    let toks = ottl::lexer::lex(&e.value).ok()?;
    let i = toks.iter().position(|t| t.span.start <= at && at < t.span.end)?;
    let Tok::Ident(name) = &toks[i].tok else { return None };
    if toks.get(i + 1).is_some_and(|t| t.tok == Tok::LParen) {
        let f = catalog::function(name)?;
        return Some((function_markdown(f), e.span(toks[i].span.clone())?));
    }
    if let Some(en) = catalog::ENUMS.iter().find(|en| en.name == name) {
        return Some((format!("```ottl\n{} = {}\n```\nOTTL enum", en.name, en.value), e.span(toks[i].span.clone())?));
    }
    // The dotted path around the name: `resource.attributes` from either part.
    let ident = |j: usize| matches!(toks.get(j).map(|t| &t.tok), Some(Tok::Ident(_)));
    let dot = |j: usize| toks.get(j).is_some_and(|t| t.tok == Tok::Dot);
    let mut first = i;
    while first >= 2 && dot(first - 1) && ident(first - 2) {
        first -= 2;
    }
    let mut last = i;
    while dot(last + 1) && ident(last + 2) {
        last += 2;
    }
    let text = |a: usize, b: usize| e.value[toks[a].span.start..toks[b].span.end].to_string();
    let paths = catalog::paths(e.ctx);
    let (doc, end) = [last, i].into_iter().find_map(|end| paths.iter().find(|p| p.name == text(first, end)).map(|p| (p, end)))?;
    let md = format!("```ottl\n{}: {}\n```\n{}\n\nOTTL path in the `{}` context", doc.name, doc.ty, doc.doc, e.ctx.name());
    Some((md, e.span(toks[first].span.start..toks[end].span.end)?))
}

/// What may be written at the cursor: editors where a statement starts, else the context's
/// paths, converters and enums; filtered by the word being typed.
pub fn completions(e: &Embedded<'_>, offset: u32) -> Vec<CompletionItem> {
    let Some(at) = e.at(offset) else { return Vec::new() };
    let Some(before) = e.value.get(..at) else { return Vec::new() };
    let word_start = before.char_indices().rev().take_while(|(_, c)| c.is_alphanumeric() || *c == '_' || *c == '.').last().map_or(at, |(i, _)| i);
    let word = &before[word_start..];
    let Some(replace) = e.span(word_start..at) else { return Vec::new() };
    let statement_start = e.kind == Kind::Statement && before[..word_start].trim().is_empty();
    let item = |label: String, kind, detail: String, documentation: Option<String>, rank: char| CompletionItem {
        sort: format!("{rank}{label}"),
        insert: label.clone(),
        label,
        kind,
        detail: Some(detail),
        documentation,
        snippet: false,
        replace,
    };
    // Filter-only converters (`HasAttrOnDatapoint`) are offered in filter conditions only.
    let fits = |f: &catalog::FunctionDoc| (f.contexts.is_empty() || f.contexts.contains(&e.ctx)) && (!f.filter_only || e.filter);
    let mut out = Vec::new();
    for f in catalog::functions().iter().filter(|f| fits(f)) {
        let wanted = if statement_start { f.kind == FunctionKind::Editor } else { f.kind == FunctionKind::Converter };
        if wanted {
            out.push(item(f.name.to_string(), CompletionKind::Function, f.signature.to_string(), Some(function_markdown(f)), 'b'));
        }
    }
    if !statement_start {
        for p in catalog::paths(e.ctx) {
            let doc = format!("{}\n\nOTTL path in the `{}` context", p.doc, e.ctx.name());
            out.push(item(p.name.clone(), CompletionKind::Reference, p.ty.to_string(), Some(doc), 'a'));
        }
        for en in catalog::ENUMS.iter().filter(|en| en.contexts.contains(&e.ctx)) {
            out.push(item(en.name.to_string(), CompletionKind::EnumValue, format!("= {}", en.value), None, 'c'));
        }
    }
    let lower = word.to_ascii_lowercase();
    out.retain(|i| i.label.to_ascii_lowercase().starts_with(&lower));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(src: &str, marker: &str) -> u32 {
        src.find(marker).map(|i| i as u32).expect("marker")
    }

    const TRANSFORM: &str = r#"otelcol.processor.transform "t" {
  trace_statements {
    context    = "span"
    statements = [
      "set(attributes[\"env\"], resource.attributes[\"deployment.environment\"]) where kind == SPAN_KIND_SERVER",
      "se",
    ]
  }
  statements {
    log = ["set(log.body, \"x\")"]
  }
}
filter "x" {
  y = ["set(name, \"q\")"]
}
"#;

    fn embedded(src: &str, offset: u32) -> Option<(Kind, C, String)> {
        let parsed = syntax::parse_file(src.as_bytes());
        let body: &'static [Stmt] = Box::leak(parsed.tree.body.clone().into_boxed_slice());
        embedded_at(body, offset).map(|e| (e.kind, e.ctx, e.value.clone()))
    }

    #[test]
    fn finds_ottl_strings_and_their_context() {
        let (kind, ctx, value) = embedded(TRANSFORM, find(TRANSFORM, "set(attributes") + 2).expect("statement");
        assert_eq!((kind, ctx), (Kind::Statement, C::Span));
        assert!(value.starts_with("set(attributes[\"env\"]"));
        let (_, ctx, _) = embedded(TRANSFORM, find(TRANSFORM, "set(log.body") + 2).expect("flat form");
        assert_eq!(ctx, C::Log, "inferred from the log. prefix");
        assert!(embedded(TRANSFORM, find(TRANSFORM, "set(name") + 2).is_none(), "not an OTTL attribute");
        assert!(embedded(TRANSFORM, find(TRANSFORM, "\"span\"") + 2).is_none(), "the context attribute is not OTTL");
    }

    fn hover_at(src: &str, marker: &str, delta: u32) -> Option<(String, String)> {
        let parsed = syntax::parse_file(src.as_bytes());
        let offset = find(src, marker) + delta;
        let e = embedded_at(&parsed.tree.body, offset)?;
        let (md, span) = hover(&e, offset)?;
        Some((md, src[span.start as usize..span.end as usize].to_string()))
    }

    #[test]
    fn hover_names_paths_functions_and_enums_with_their_source_span() {
        let (md, text) = hover_at(TRANSFORM, "set(attributes", 1).expect("function");
        assert_eq!(text, "set");
        assert!(md.contains("set(target, value)") && md.contains("OTTL editor"), "{md}");

        let (md, text) = hover_at(TRANSFORM, "resource.attributes", 2).expect("path");
        assert_eq!(text, "resource.attributes");
        assert!(md.contains("resource.attributes: map") && md.contains("`span` context"), "{md}");

        let (md, text) = hover_at(TRANSFORM, "kind ==", 1).expect("own path");
        assert_eq!(text, "kind");
        assert!(md.starts_with("```ottl\nkind: "), "{md}");

        let (md, text) = hover_at(TRANSFORM, "SPAN_KIND_SERVER", 3).expect("enum");
        assert_eq!(text, "SPAN_KIND_SERVER");
        assert!(md.contains("SPAN_KIND_SERVER = 2"), "{md}");
    }

    #[test]
    fn completion_offers_editors_first_then_paths_converters_and_enums() {
        let parsed = syntax::parse_file(TRANSFORM.as_bytes());
        let offset = find(TRANSFORM, "\"se\"") + 3;
        let e = embedded_at(&parsed.tree.body, offset).expect("embedded");
        let items = completions(&e, offset);
        let labels: Vec<&str> = items.iter().map(|i| i.label.as_str()).collect();
        assert!(labels.contains(&"set"), "{labels:?}");
        assert!(items.iter().all(|i| i.kind == CompletionKind::Function), "only editors start a statement: {labels:?}");
        assert_eq!(&TRANSFORM[items[0].replace.start as usize..items[0].replace.end as usize], "se");

        let offset = find(TRANSFORM, "kind ==") + 2;
        let e = embedded_at(&parsed.tree.body, offset).expect("embedded");
        let labels: Vec<String> = completions(&e, offset).into_iter().map(|i| i.label).collect();
        assert!(labels.contains(&"kind".to_string()), "{labels:?}");
        assert!(labels.iter().all(|l| l.to_ascii_lowercase().starts_with("ki")), "{labels:?}");

        let offset = find(TRANSFORM, "SPAN_KIND_SERVER") + 9;
        let e = embedded_at(&parsed.tree.body, offset).expect("embedded");
        let labels: Vec<String> = completions(&e, offset).into_iter().map(|i| i.label).collect();
        assert!(labels.contains(&"SPAN_KIND_SERVER".to_string()) && labels.contains(&"SPAN_KIND_CLIENT".to_string()), "{labels:?}");
    }

    #[test]
    fn filter_only_converters_are_offered_in_filter_conditions_only() {
        let labels = |src: &str| {
            let parsed = syntax::parse_file(src.as_bytes());
            let offset = find(src, "HasA") + 4;
            let e = embedded_at(&parsed.tree.body, offset).expect("embedded");
            completions(&e, offset).into_iter().map(|i| i.label).collect::<Vec<_>>()
        };
        let filter = "otelcol.processor.filter \"f\" {\n  metrics {\n    metric = [\"HasA\"]\n  }\n}\n";
        assert!(labels(filter).iter().any(|l| l == "HasAttrOnDatapoint"), "{:?}", labels(filter));
        let transform = "otelcol.processor.transform \"t\" {\n  metric_statements {\n    context = \"metric\"\n    statements = [\"set(name, \\\"x\\\") where HasA\"]\n  }\n}\n";
        assert!(labels(transform).iter().all(|l| !l.starts_with("HasAttr")), "{:?}", labels(transform));
    }
}
