//! The walker: the items upstream's printer emits for each node.
//!
//! Which tokens carry a position item and which do not is part of the observable behaviour
//! (it decides where comments land), so it follows upstream exactly: `=`, `,`, `.` and the
//! parentheses of calls and parenthesised expressions have none.
//!
//! Files are walked on the flat [`Tree`]; expressions can also be walked on the owned
//! [`ast`](crate::ast) (the evaluator prints them in error messages), through [`Syntax`].

use std::borrow::Cow;

use crate::ast::{self, LiteralKind};
use crate::quote::{go_quote, quotes_to_itself};
use crate::span::Span;
use crate::tree::{ExprView, FieldView, NodeId, Nodes, Seq, StmtView, Tree};

use super::printer::{Printer, Ws};

/// What the walker reads of an expression tree.
pub(super) trait Syntax<'t>: Copy {
    type Expr: Copy;
    type Exprs: Seq<Item = Self::Expr>;
    type Fields: Seq;
    fn view(self, e: Self::Expr) -> ExprView<'t, Self::Expr, Self::Exprs, Self::Fields>;
    fn field(self, f: <Self::Fields as Seq>::Item) -> FieldView<'t, Self::Expr>;
    /// Upstream's `StartPos` and inclusive `EndPos` of an expression.
    fn start(self, e: Self::Expr) -> u32;
    fn end(self, e: Self::Expr) -> u32;
    /// The source text of a token, when the tree has its source.
    fn source_text(self, span: Span) -> Option<Cow<'t, str>>;
}

/// `inner` quoted as Go quotes it, for a string token at `token` whose text between the quotes
/// is `inner`: usually the token's own text, which needs no new string.
fn quoted<'t, S: Syntax<'t>>(s: S, token: Span, inner: &str) -> Cow<'t, str> {
    match s.source_text(token) {
        Some(raw) if raw.starts_with('"') && quotes_to_itself(inner) => raw,
        _ => Cow::Owned(go_quote(inner)),
    }
}

impl<'t> Syntax<'t> for &'t Tree<'_> {
    type Expr = NodeId;
    type Exprs = Nodes<'t>;
    type Fields = Nodes<'t>;

    fn view(self, e: NodeId) -> ExprView<'t> {
        self.expr(e)
    }

    fn field(self, f: NodeId) -> FieldView<'t> {
        Tree::field(self, f)
    }

    fn start(self, e: NodeId) -> u32 {
        self.expr_start(e)
    }

    fn end(self, e: NodeId) -> u32 {
        self.expr_end(e)
    }

    fn source_text(self, span: Span) -> Option<Cow<'t, str>> {
        Some(self.text(span))
    }
}

/// The owned tree, read through [`Syntax`].
#[derive(Clone, Copy)]
pub(super) struct Owned;

impl<'t> Syntax<'t> for Owned {
    type Expr = &'t ast::Expr;
    type Exprs = &'t [ast::Expr];
    type Fields = &'t [ast::ObjectField];

    fn view(self, e: &'t ast::Expr) -> ExprView<'t, &'t ast::Expr, &'t [ast::Expr], &'t [ast::ObjectField]> {
        use std::borrow::Cow::Borrowed;
        match e {
            ast::Expr::Literal(l) => ExprView::Literal { kind: l.kind, text: Borrowed(&l.text), span: l.span },
            ast::Expr::Ident(i) => ExprView::Ident { name: Borrowed(&i.name), span: i.span },
            ast::Expr::Access(a) => ExprView::Access { value: &a.value, field: Borrowed(&a.field.name), field_span: a.field.span },
            ast::Expr::Index(i) => ExprView::Index { value: &i.value, index: &i.index, lbrack: i.lbrack, rbrack: i.rbrack },
            ast::Expr::Call(c) => ExprView::Call { callee: &c.callee, args: &c.args, lparen: c.lparen, rparen: c.rparen },
            ast::Expr::Unary(u) => ExprView::Unary { op: u.op, op_span: u.op_span, operand: &u.operand },
            ast::Expr::Binary(b) => ExprView::Binary { op: b.op, op_span: b.op_span, left: &b.left, right: &b.right },
            ast::Expr::Paren(p) => ExprView::Paren { inner: &p.inner, lparen: p.lparen, rparen: p.rparen },
            ast::Expr::Array(a) => ExprView::Array { elements: &a.elements, lbrack: a.lbrack, rbrack: a.rbrack },
            ast::Expr::Object(o) => ExprView::Object { fields: &o.fields, lcurly: o.lcurly, rcurly: o.rcurly },
        }
    }

    fn field(self, f: &'t ast::ObjectField) -> FieldView<'t, &'t ast::Expr> {
        FieldView { key: std::borrow::Cow::Borrowed(&f.key.name), key_span: f.key.span, quoted: f.quoted, value: &f.value }
    }

    fn start(self, mut e: &'t ast::Expr) -> u32 {
        use ast::Expr;
        loop {
            e = match e {
                Expr::Access(a) => &a.value,
                Expr::Index(i) => &i.value,
                Expr::Call(c) => &c.callee,
                Expr::Binary(b) => &b.left,
                Expr::Literal(l) => return l.span.start,
                Expr::Ident(i) => return i.span.start,
                Expr::Array(a) => return a.lbrack.start,
                Expr::Object(o) => return o.lcurly.start,
                Expr::Unary(u) => return u.op_span.start,
                Expr::Paren(p) => return p.lparen.start,
            };
        }
    }

    fn end(self, mut e: &'t ast::Expr) -> u32 {
        use ast::Expr;
        loop {
            e = match e {
                Expr::Unary(u) => &u.operand,
                Expr::Binary(b) => &b.right,
                Expr::Literal(l) => return l.span.last_byte(),
                Expr::Ident(i) => return i.span.last_byte(),
                Expr::Access(a) => return a.field.span.last_byte(),
                Expr::Array(a) => return a.rbrack.start,
                Expr::Object(o) => return o.rcurly.start,
                Expr::Index(i) => return i.rbrack.start,
                Expr::Call(c) => return c.rparen.start,
                Expr::Paren(p) => return p.rparen.start,
            };
        }
    }

    fn source_text(self, _: Span) -> Option<Cow<'t, str>> {
        None
    }
}

fn stmt_end(tree: &Tree<'_>, s: &StmtView<'_>) -> u32 {
    match s {
        StmtView::Attribute { value, .. } => tree.expr_end(*value),
        StmtView::Block(b) => b.rcurly.start,
    }
}

impl Printer<'_> {
    /// Number of source lines an expression spans.
    fn expr_lines<'t, S: Syntax<'t>>(&mut self, s: S, e: S::Expr) -> u32 {
        let end = self.line(s.end(e));
        end.saturating_sub(self.line(s.start(e))) + 1
    }

    pub(super) fn file(&mut self, tree: &Tree<'_>) {
        self.statements(tree, tree.body());
    }

    fn statements(&mut self, tree: &Tree<'_>, body: Nodes<'_>) {
        let mut prev_end = 0;
        for (i, id) in body.iter().enumerate() {
            let s = tree.stmt(id);
            let (start, is_block) = match &s {
                StmtView::Attribute { name_span, .. } => (name_span.start, false),
                StmtView::Block(b) => (b.name_span.start, true),
            };
            let start_line = self.line(start);
            // Every block after the first statement gets a blank line before it; an attribute
            // keeps one blank line if the source had any.
            if i > 0 && (is_block || start_line.saturating_sub(self.line(prev_end)) > 1) {
                self.ws(Ws::Formfeed);
            }
            let end = stmt_end(tree, &s);
            self.statement(tree, s);
            let multi_line = self.line(end) > start_line;
            self.ws(if multi_line { Ws::Formfeed } else { Ws::Newline });
            prev_end = end;
        }
    }

    fn statement(&mut self, tree: &Tree<'_>, s: StmtView<'_>) {
        match s {
            StmtView::Attribute { name, name_span, value } => {
                self.pos(name_span.start);
                self.ident(&name);
                self.ws(Ws::VTab);
                self.tok("=");
                self.ws(Ws::Blank);
                self.expr(tree, value);
            }
            StmtView::Block(b) => {
                self.pos(b.name_span.start);
                self.ident(&b.name);
                if let Some((label, span)) = &b.label {
                    self.ws(Ws::Blank);
                    self.pos(span.start);
                    self.lit(&quoted(tree, *span, label), false, None);
                }
                self.ws(Ws::Blank);
                self.pos(b.lcurly.start);
                self.tok("{");
                self.ws(Ws::Indent);
                if b.body.is_empty() {
                    self.ws(Ws::Blank);
                } else {
                    self.ws(Ws::Formfeed);
                    self.statements(tree, b.body);
                }
                self.ws(Ws::Unindent);
                self.pos(b.rcurly.start);
                self.tok("}");
            }
        }
    }

    pub(super) fn expr<'t, S: Syntax<'t>>(&mut self, s: S, e: S::Expr) {
        match s.view(e) {
            ExprView::Literal { kind, text, span } => {
                self.pos(span.start);
                self.lit(&text, kind == LiteralKind::Number, Some(span));
            }
            ExprView::Ident { name, span } => {
                self.pos(span.start);
                self.ident(&name);
            }
            ExprView::Access { value, field, .. } => {
                self.expr(s, value);
                self.tok(".");
                self.ident(&field);
            }
            ExprView::Index { value, index, lbrack, rbrack } => {
                self.expr(s, value);
                self.pos(lbrack.start);
                self.tok("[");
                self.expr(s, index);
                self.pos(rbrack.start);
                self.tok("]");
            }
            ExprView::Call { callee, args, rparen, lparen } => {
                self.expr(s, callee);
                self.call_args(s, args, lparen.start, rparen.start);
            }
            ExprView::Unary { op, op_span, operand } => {
                self.pos(op_span.start);
                self.tok(op.as_str());
                self.expr(s, operand);
            }
            ExprView::Binary { op, op_span, left, right } => {
                self.expr(s, left);
                self.ws(Ws::Blank);
                self.pos(op_span.start);
                self.tok(op.as_str());
                self.ws(Ws::Blank);
                self.expr(s, right);
            }
            ExprView::Paren { inner, .. } => {
                self.tok("(");
                self.expr(s, inner);
                self.tok(")");
            }
            ExprView::Array { elements, lbrack, rbrack } => self.array(s, elements, lbrack.start, rbrack.start),
            ExprView::Object { fields, lcurly, rcurly } => self.object(s, fields, lcurly.start, rcurly.start),
        }
    }

    fn array<'t, S: Syntax<'t>>(&mut self, s: S, elements: S::Exprs, lbrack: u32, rbrack: u32) {
        self.pos(lbrack);
        self.tok("[");
        let mut prev = lbrack;
        let n = elements.count();
        for i in 0..n {
            let e = elements.at(i);
            let mut nl = false;
            if self.line(prev) != self.line(s.start(e)) {
                self.ws(Ws::Indent);
                self.ws(Ws::Formfeed);
                nl = true;
            } else if i > 0 {
                self.ws(Ws::Blank);
            }
            prev = s.end(e);
            self.expr(s, e);
            if i + 1 < n {
                self.tok(",");
            }
            if nl {
                self.ws(Ws::Unindent);
            }
        }
        if n > 0 && self.line(prev) != self.line(rbrack) {
            self.tok(",");
            self.ws(Ws::Indent);
            self.ws(Ws::Formfeed);
            self.ws(Ws::Unindent);
        }
        self.pos(rbrack);
        self.tok("]");
    }

    fn object<'t, S: Syntax<'t>>(&mut self, s: S, fields: S::Fields, lcurly: u32, rcurly: u32) {
        self.pos(lcurly);
        self.tok("{");
        self.ws(Ws::Indent);
        let mut prev = lcurly;
        let mut prev_value = None;
        let n = fields.count();
        for i in 0..n {
            let f = s.field(fields.at(i));
            if self.line(prev) != self.line(f.key_span.start) {
                // A multi-line value ends the alignment run of the fields before it.
                let prev_single = prev_value.is_some_and(|v| self.expr_lines(s, v) == 1);
                self.ws(if prev_single { Ws::Newline } else { Ws::Formfeed });
            } else if i > 0 {
                self.ws(Ws::Blank);
            }
            // A key's end is computed from its unquoted text, so it is two bytes short for
            // quoted keys.
            prev = f.key_span.start + (f.key.len() as u32).saturating_sub(1);
            self.pos(f.key_span.start);
            if f.quoted {
                self.lit(&quoted(s, f.key_span, &f.key), false, None);
            } else {
                self.ident(&f.key);
            }
            self.ws(Ws::VTab);
            self.tok("=");
            self.ws(Ws::Blank);
            self.expr(s, f.value);
            prev_value = Some(f.value);
            if i + 1 < n {
                self.tok(",");
            }
        }
        if n > 0 && self.line(prev) != self.line(rcurly) {
            self.tok(",");
            self.ws(Ws::Formfeed);
        }
        self.ws(Ws::Unindent);
        self.pos(rcurly);
        self.tok("}");
    }

    fn call_args<'t, S: Syntax<'t>>(&mut self, s: S, args: S::Exprs, lparen: u32, rparen: u32) {
        self.tok("(");
        let mut prev = lparen;
        let n = args.count();
        for i in 0..n {
            let a = args.at(i);
            let mut nl = false;
            if self.line(prev) != self.line(s.start(a)) {
                // Unlike array elements, upstream queues the indent *after* the line break, so a
                // comment before an argument is not indented by it.
                self.ws(Ws::Formfeed);
                self.ws(Ws::Indent);
                nl = true;
            }
            self.expr(s, a);
            prev = s.end(a);
            if i + 1 < n {
                self.tok(",");
                self.ws(Ws::Blank);
            }
            if nl {
                self.ws(Ws::Unindent);
            }
        }
        // Upstream adds the comma even when there are no arguments.
        if self.line(prev) != self.line(rparen) {
            self.tok(",");
            self.ws(Ws::Formfeed);
        }
        self.tok(")");
    }
}
