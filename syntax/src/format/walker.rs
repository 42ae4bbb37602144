//! The walker: the items upstream's printer emits for each node.
//!
//! Which tokens carry a position item and which do not is part of the observable behaviour
//! (it decides where comments land), so it follows upstream exactly: `=`, `,`, `.` and the
//! parentheses of calls and parenthesised expressions have none.

use crate::ast::*;
use crate::quote::go_quote;

use super::printer::{Printer, Ws};

/// Upstream's `StartPos` of an expression (found without recursion: left operands nest deeply).
fn start_pos(mut e: &Expr) -> u32 {
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

/// Upstream's inclusive `EndPos` of an expression.
fn end_pos(mut e: &Expr) -> u32 {
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

fn stmt_end(s: &Stmt) -> u32 {
    match s {
        Stmt::Attribute(a) => end_pos(&a.value),
        Stmt::Block(b) => b.rcurly.start,
    }
}

/// A key's end is computed from its unquoted text, so it is two bytes short for quoted keys.
fn key_end(key: &Ident) -> u32 {
    key.span.start + (key.name.len() as u32).saturating_sub(1)
}

impl Printer<'_> {
    /// Number of source lines an expression spans.
    fn expr_lines(&mut self, e: &Expr) -> u32 {
        let end = self.line(end_pos(e));
        end.saturating_sub(self.line(start_pos(e))) + 1
    }

    pub(super) fn file(&mut self, file: &File) {
        self.statements(&file.body);
    }

    fn statements(&mut self, body: &[Stmt]) {
        let mut prev_end = 0;
        for (i, s) in body.iter().enumerate() {
            let start = match s {
                Stmt::Attribute(a) => a.name.span.start,
                Stmt::Block(b) => b.name_span.start,
            };
            let start_line = self.line(start);
            // Every block after the first statement gets a blank line before it; an attribute
            // keeps one blank line if the source had any.
            if i > 0 && (matches!(s, Stmt::Block(_)) || start_line.saturating_sub(self.line(prev_end)) > 1) {
                self.ws(Ws::Formfeed);
            }
            self.statement(s);
            let end = stmt_end(s);
            let multi_line = self.line(end) > start_line;
            self.ws(if multi_line { Ws::Formfeed } else { Ws::Newline });
            prev_end = end;
        }
    }

    fn statement(&mut self, s: &Stmt) {
        match s {
            Stmt::Attribute(a) => {
                self.pos(a.name.span.start);
                self.ident(&a.name.name);
                self.ws(Ws::VTab);
                self.tok("=");
                self.ws(Ws::Blank);
                self.expr(&a.value);
            }
            Stmt::Block(b) => self.block(b),
        }
    }

    fn block(&mut self, b: &Block) {
        self.pos(b.name_span.start);
        self.ident(&b.name);
        if let Some(label) = b.label.as_ref().filter(|l| !l.value.is_empty()) {
            self.ws(Ws::Blank);
            self.pos(label.span.start);
            self.lit(&go_quote(&label.value), false, None);
        }
        self.ws(Ws::Blank);
        self.pos(b.lcurly.start);
        self.tok("{");
        self.ws(Ws::Indent);
        if b.body.is_empty() {
            self.ws(Ws::Blank);
        } else {
            self.ws(Ws::Formfeed);
            self.statements(&b.body);
        }
        self.ws(Ws::Unindent);
        self.pos(b.rcurly.start);
        self.tok("}");
    }

    pub(super) fn expr(&mut self, e: &Expr) {
        match e {
            Expr::Literal(l) => {
                self.pos(l.span.start);
                self.lit(&l.text, l.kind == LiteralKind::Number, Some(l.span));
            }
            Expr::Ident(i) => {
                self.pos(i.span.start);
                self.ident(&i.name);
            }
            Expr::Access(a) => {
                self.expr(&a.value);
                self.tok(".");
                self.ident(&a.field.name);
            }
            Expr::Index(ix) => {
                self.expr(&ix.value);
                self.pos(ix.lbrack.start);
                self.tok("[");
                self.expr(&ix.index);
                self.pos(ix.rbrack.start);
                self.tok("]");
            }
            Expr::Call(c) => self.call(c),
            Expr::Unary(u) => {
                self.pos(u.op_span.start);
                self.tok(u.op.as_str());
                self.expr(&u.operand);
            }
            Expr::Binary(b) => {
                self.expr(&b.left);
                self.ws(Ws::Blank);
                self.pos(b.op_span.start);
                self.tok(b.op.as_str());
                self.ws(Ws::Blank);
                self.expr(&b.right);
            }
            Expr::Paren(p) => {
                self.tok("(");
                self.expr(&p.inner);
                self.tok(")");
            }
            Expr::Array(a) => self.array(a),
            Expr::Object(o) => self.object(o),
        }
    }

    fn array(&mut self, a: &Array) {
        self.pos(a.lbrack.start);
        self.tok("[");
        let mut prev = a.lbrack.start;
        let n = a.elements.len();
        for (i, e) in a.elements.iter().enumerate() {
            let mut nl = false;
            if self.line(prev) != self.line(start_pos(e)) {
                self.ws(Ws::Indent);
                self.ws(Ws::Formfeed);
                nl = true;
            } else if i > 0 {
                self.ws(Ws::Blank);
            }
            prev = end_pos(e);
            self.expr(e);
            if i + 1 < n {
                self.tok(",");
            }
            if nl {
                self.ws(Ws::Unindent);
            }
        }
        if n > 0 && self.line(prev) != self.line(a.rbrack.start) {
            self.tok(",");
            self.ws(Ws::Indent);
            self.ws(Ws::Formfeed);
            self.ws(Ws::Unindent);
        }
        self.pos(a.rbrack.start);
        self.tok("]");
    }

    fn object(&mut self, o: &Object) {
        self.pos(o.lcurly.start);
        self.tok("{");
        self.ws(Ws::Indent);
        let mut prev = o.lcurly.start;
        let n = o.fields.len();
        for (i, f) in o.fields.iter().enumerate() {
            if self.line(prev) != self.line(f.key.span.start) {
                // A multi-line value ends the alignment run of the fields before it.
                let prev_single = i > 0 && self.expr_lines(&o.fields[i - 1].value) == 1;
                self.ws(if prev_single { Ws::Newline } else { Ws::Formfeed });
            } else if i > 0 {
                self.ws(Ws::Blank);
            }
            prev = key_end(&f.key);
            self.pos(f.key.span.start);
            if f.quoted {
                self.lit(&go_quote(&f.key.name), false, None);
            } else {
                self.ident(&f.key.name);
            }
            self.ws(Ws::VTab);
            self.tok("=");
            self.ws(Ws::Blank);
            self.expr(&f.value);
            if i + 1 < n {
                self.tok(",");
            }
        }
        if n > 0 && self.line(prev) != self.line(o.rcurly.start) {
            self.tok(",");
            self.ws(Ws::Formfeed);
        }
        self.ws(Ws::Unindent);
        self.pos(o.rcurly.start);
        self.tok("}");
    }

    fn call(&mut self, c: &Call) {
        self.expr(&c.callee);
        self.tok("(");
        let mut prev = c.lparen.start;
        let n = c.args.len();
        for (i, a) in c.args.iter().enumerate() {
            let mut nl = false;
            if self.line(prev) != self.line(start_pos(a)) {
                // Unlike array elements, upstream queues the indent *after* the line break, so a
                // comment before an argument is not indented by it.
                self.ws(Ws::Formfeed);
                self.ws(Ws::Indent);
                nl = true;
            }
            self.expr(a);
            prev = end_pos(a);
            if i + 1 < n {
                self.tok(",");
                self.ws(Ws::Blank);
            }
            if nl {
                self.ws(Ws::Unindent);
            }
        }
        // Upstream adds the comma even when there are no arguments.
        if self.line(prev) != self.line(c.rparen.start) {
            self.tok(",");
            self.ws(Ws::Formfeed);
        }
        self.tok(")");
    }
}
