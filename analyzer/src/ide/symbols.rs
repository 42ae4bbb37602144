//! Document outline, workspace symbols and folding ranges.

use syntax::ast::{Expr, Stmt};
use syntax::Span;

use super::{FileSpan, Snapshot};
use crate::catalog::{Catalog, Kind};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SymbolKind {
    Component,
    Module,
    Config,
    Block,
    Attribute,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbol {
    pub name: String,
    pub detail: Option<String>,
    pub kind: SymbolKind,
    /// The whole block or attribute.
    pub span: Span,
    /// The part naming it.
    pub selection: Span,
    pub children: Vec<Symbol>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FoldKind {
    Region,
    Comment,
}

/// Lines to fold (1-based, inclusive): from the line of an opening bracket to the line
/// before its closing one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fold {
    pub start_line: u32,
    pub end_line: u32,
    pub kind: FoldKind,
}

impl Snapshot {
    /// The outline, chunk by chunk (each chunk's parse is cached until it changes).
    pub fn document_symbols(&self, path: &str) -> Vec<Symbol> {
        let mut out = Vec::new();
        for (parsed, shift) in self.chunk_trees(path) {
            out.extend(body_symbols(&parsed.tree.body, true).into_iter().map(|s| shifted(s, shift)));
        }
        out
    }

    /// Top-level blocks of every file whose ID contains `query` (case-insensitively).
    pub fn workspace_symbols(&self, query: &str) -> Vec<(FileSpan, Symbol)> {
        let q = query.to_lowercase();
        let mut out = Vec::new();
        for (path, parsed) in self.trees() {
            for s in body_symbols(&parsed.tree.body, false) {
                if s.name.to_lowercase().contains(&q) {
                    out.push((FileSpan { path: path.to_string(), span: s.selection }, s));
                }
            }
        }
        out
    }

    /// Folds, chunk by chunk, placed with the file's line index.
    pub fn folding_ranges(&self, path: &str) -> Vec<Fold> {
        let Some(lines) = self.lines(path) else { return Vec::new() };
        let mut out = Vec::new();
        for (parsed, shift) in self.chunk_trees(path) {
            chunk_folds(parsed, shift, lines, &mut out);
        }
        out.sort_by_key(|f| (f.start_line, f.end_line));
        out
    }
}

/// A symbol (and its children) moved by `by` bytes.
fn shifted(s: Symbol, by: u32) -> Symbol {
    let mv = |sp: Span| Span::new(sp.start + by, sp.end + by);
    Symbol { span: mv(s.span), selection: mv(s.selection), children: s.children.into_iter().map(|c| shifted(c, by)).collect(), ..s }
}

/// The folds of one parsed chunk starting at byte `shift` of a file with line index `lines`.
fn chunk_folds(parsed: &syntax::Parsed<syntax::ast::File>, shift: u32, lines: &syntax::LineIndex, out: &mut Vec<Fold>) {
    let mut push = |open: Span, close: Span, kind| {
        let (a, b) = (lines.line(open.start + shift), lines.line(close.start + shift));
        if b > a + 1 || (b > a && kind == FoldKind::Comment) {
            out.push(Fold { start_line: a, end_line: if kind == FoldKind::Comment { b } else { b - 1 }, kind });
        }
    };
    fn body(stmts: &[Stmt], push: &mut impl FnMut(Span, Span, FoldKind)) {
        for s in stmts {
            match s {
                Stmt::Block(b) => {
                    push(b.lcurly, b.rcurly, FoldKind::Region);
                    body(&b.body, push);
                }
                Stmt::Attribute(a) => expr(&a.value, push),
            }
        }
    }
    fn expr(e: &Expr, push: &mut impl FnMut(Span, Span, FoldKind)) {
        match e {
            Expr::Array(a) => {
                push(a.lbrack, a.rbrack, FoldKind::Region);
                a.elements.iter().for_each(|x| expr(x, push));
            }
            Expr::Object(o) => {
                push(o.lcurly, o.rcurly, FoldKind::Region);
                o.fields.iter().for_each(|f| expr(&f.value, push));
            }
            Expr::Call(c) => {
                push(c.lparen, c.rparen, FoldKind::Region);
                c.args.iter().for_each(|x| expr(x, push));
            }
            _ => {}
        }
    }
    body(&parsed.tree.body, &mut push);
    let comments = &parsed.tree.comments;
    for g in &parsed.tree.comment_groups {
        let (Some(first), Some(last)) = (comments.get(g.start as usize), comments.get(g.end.saturating_sub(1) as usize)) else { continue };
        let end = Span::at(last.span.end.saturating_sub(1));
        push(first.span, end, FoldKind::Comment);
    }
}

fn body_symbols(body: &[Stmt], with_children: bool) -> Vec<Symbol> {
    let catalog = Catalog::get();
    body.iter()
        .filter_map(|s| match s {
            Stmt::Block(b) => {
                let kind = match b.name.as_str() {
                    "declare" => SymbolKind::Module,
                    n if n.starts_with("import.") => SymbolKind::Module,
                    n => match catalog.lookup(n) {
                        Some(c) if c.kind == Kind::Config => SymbolKind::Config,
                        _ if with_children && b.label.is_none() => SymbolKind::Block,
                        _ => SymbolKind::Component,
                    },
                };
                let children = if with_children { body_symbols(&b.body, true) } else { Vec::new() };
                Some(Symbol {
                    name: b.full_name(),
                    detail: b.label.as_ref().map(|_| b.name.to_string()),
                    kind,
                    span: b.span(),
                    selection: crate::model::block_id(b).1,
                    children,
                })
            }
            Stmt::Attribute(a) if with_children => Some(Symbol {
                name: a.name.name.to_string(),
                detail: None,
                kind: SymbolKind::Attribute,
                span: a.span(),
                selection: a.name.span,
                children: Vec::new(),
            }),
            Stmt::Attribute(_) => None,
        })
        .collect()
}
