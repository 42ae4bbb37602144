//! Finding what is under the cursor in a syntax tree, and visiting every reference of a body.

use syntax::ast::{Attribute, Block, Expr, Ident, Stmt};
use syntax::Span;

/// What the cursor is on. `path` is the chain of blocks enclosing the item, outermost first
/// (for a block's own name it ends with that block).
#[derive(Debug)]
pub(crate) enum Hit<'a> {
    BlockName {
        path: Vec<&'a Block>,
    },
    Label {
        path: Vec<&'a Block>,
    },
    AttrName {
        path: Vec<&'a Block>,
        attr: &'a Attribute,
    },
    /// A traversal `a.b.c`; `part` is the index of the identifier under the cursor.
    Reference {
        path: Vec<&'a Block>,
        parts: Vec<&'a Ident>,
        part: usize,
    },
}

/// Whether `offset` touches `span` (a cursor right after a name is still on it).
pub(crate) fn touches(span: Span, offset: u32) -> bool {
    span.start <= offset && offset <= span.end
}

pub(crate) fn locate(body: &[Stmt], offset: u32) -> Option<Hit<'_>> {
    let mut path = Vec::new();
    locate_in(body, offset, &mut path)
}

fn locate_in<'a>(body: &'a [Stmt], offset: u32, path: &mut Vec<&'a Block>) -> Option<Hit<'a>> {
    for stmt in body {
        if !touches(stmt.span(), offset) {
            continue;
        }
        match stmt {
            Stmt::Attribute(a) => {
                if touches(a.name.span, offset) {
                    return Some(Hit::AttrName { path: path.clone(), attr: a });
                }
                if let Some((parts, part)) = reference_at(&a.value, offset) {
                    return Some(Hit::Reference { path: path.clone(), parts, part });
                }
            }
            Stmt::Block(b) => {
                path.push(b);
                if touches(b.name_span, offset) {
                    return Some(Hit::BlockName { path: path.clone() });
                }
                if b.label.as_ref().is_some_and(|l| touches(l.span, offset)) {
                    return Some(Hit::Label { path: path.clone() });
                }
                if let Some(hit) = locate_in(&b.body, offset, path) {
                    return Some(hit);
                }
                path.pop();
            }
        }
    }
    None
}

pub(crate) use crate::check::traversal;

/// The traversal under the cursor inside an expression: its parts and the index of the part
/// under the cursor.
fn reference_at(e: &Expr, offset: u32) -> Option<(Vec<&Ident>, usize)> {
    if !touches(e.span(), offset) {
        return None;
    }
    let mut parts = Vec::new();
    if traversal(e, &mut parts) {
        let part = parts.iter().position(|p| touches(p.span, offset))?;
        return Some((parts, part));
    }
    match e {
        Expr::Literal(_) | Expr::Ident(_) => None,
        Expr::Array(a) => a.elements.iter().find_map(|x| reference_at(x, offset)),
        Expr::Object(o) => o.fields.iter().find_map(|f| reference_at(&f.value, offset)),
        Expr::Access(a) => reference_at(&a.value, offset),
        Expr::Index(i) => reference_at(&i.value, offset).or_else(|| reference_at(&i.index, offset)),
        Expr::Call(c) => reference_at(&c.callee, offset).or_else(|| c.args.iter().find_map(|x| reference_at(x, offset))),
        Expr::Unary(u) => reference_at(&u.operand, offset),
        Expr::Binary(b) => reference_at(&b.left, offset).or_else(|| reference_at(&b.right, offset)),
        Expr::Paren(p) => reference_at(&p.inner, offset),
    }
}

/// Calls `f` with every traversal of an expression (callees of calls included).
pub(crate) fn visit_traversals<'e>(e: &'e Expr, f: &mut impl FnMut(&[&'e Ident])) {
    let mut parts = Vec::new();
    if traversal(e, &mut parts) {
        f(&parts);
        return;
    }
    match e {
        Expr::Literal(_) | Expr::Ident(_) => {}
        Expr::Array(a) => a.elements.iter().for_each(|x| visit_traversals(x, f)),
        Expr::Object(o) => o.fields.iter().for_each(|x| visit_traversals(&x.value, f)),
        Expr::Access(a) => visit_traversals(&a.value, f),
        Expr::Index(i) => {
            visit_traversals(&i.value, f);
            visit_traversals(&i.index, f);
        }
        Expr::Call(c) => {
            let mut parts = Vec::new();
            if traversal(&c.callee, &mut parts) {
                f(&parts);
            } else {
                visit_traversals(&c.callee, f);
            }
            c.args.iter().for_each(|x| visit_traversals(x, f));
        }
        Expr::Unary(u) => visit_traversals(&u.operand, f),
        Expr::Binary(b) => {
            visit_traversals(&b.left, f);
            visit_traversals(&b.right, f);
        }
        Expr::Paren(p) => visit_traversals(&p.inner, f),
    }
}

/// Every traversal of a module body, not descending into nested `declare` bodies (which are
/// modules of their own).
pub fn module_traversals<'e>(body: &'e [Stmt], f: &mut impl FnMut(&[&'e Ident])) {
    for stmt in body {
        match stmt {
            Stmt::Attribute(a) => visit_traversals(&a.value, f),
            Stmt::Block(b) if b.name == "declare" => {}
            Stmt::Block(b) => module_traversals(&b.body, f),
        }
    }
}
