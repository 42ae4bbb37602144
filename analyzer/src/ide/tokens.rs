//! Semantic tokens: what each name and literal is, for highlighting beyond a grammar.

use syntax::ast::{Expr, LiteralKind, Stmt};
use syntax::Span;

use super::walk;
use super::Snapshot;

/// Token types, in the order the language server announces them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TokenType {
    Namespace,
    Type,
    Property,
    Variable,
    Function,
    String,
    Number,
    Keyword,
    Comment,
    Operator,
}

impl TokenType {
    pub const ALL: [TokenType; 10] = [
        TokenType::Namespace,
        TokenType::Type,
        TokenType::Property,
        TokenType::Variable,
        TokenType::Function,
        TokenType::String,
        TokenType::Number,
        TokenType::Keyword,
        TokenType::Comment,
        TokenType::Operator,
    ];

    /// The protocol's standard name.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenType::Namespace => "namespace",
            TokenType::Type => "type",
            TokenType::Property => "property",
            TokenType::Variable => "variable",
            TokenType::Function => "function",
            TokenType::String => "string",
            TokenType::Number => "number",
            TokenType::Keyword => "keyword",
            TokenType::Comment => "comment",
            TokenType::Operator => "operator",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SemanticToken {
    pub span: Span,
    pub ty: TokenType,
}

impl Snapshot {
    /// The file's tokens in source order, without overlaps.
    /// Chunk by chunk (each chunk's parse is cached until it changes).
    pub fn semantic_tokens(&self, path: &str) -> Vec<SemanticToken> {
        let mut out: Vec<SemanticToken> = Vec::new();
        for (parsed, shift) in self.chunk_trees(path) {
            let mut chunk: Vec<SemanticToken> = parsed.tree.comments.iter().map(|c| SemanticToken { span: c.span, ty: TokenType::Comment }).collect();
            body(&parsed.tree.body, &mut chunk);
            out.extend(chunk.into_iter().map(|t| SemanticToken { span: Span::new(t.span.start + shift, t.span.end + shift), ..t }));
        }
        out.sort_by_key(|t| (t.span.start, t.span.end));
        let mut end = 0;
        out.retain(|t| {
            let keep = t.span.start >= end && !t.span.is_empty();
            if keep {
                end = t.span.end;
            }
            keep
        });
        out
    }
}

fn push(out: &mut Vec<SemanticToken>, span: Span, ty: TokenType) {
    out.push(SemanticToken { span, ty });
}

fn body(stmts: &[Stmt], out: &mut Vec<SemanticToken>) {
    for s in stmts {
        match s {
            Stmt::Attribute(a) => {
                push(out, a.name.span, TokenType::Property);
                expr(&a.value, out);
            }
            Stmt::Block(b) => {
                push(out, b.name_span, TokenType::Type);
                if let Some(l) = &b.label {
                    push(out, l.span, TokenType::String);
                }
                body(&b.body, out);
            }
        }
    }
}

fn expr(e: &Expr, out: &mut Vec<SemanticToken>) {
    match e {
        Expr::Literal(l) => {
            let ty = match l.kind {
                LiteralKind::String => TokenType::String,
                LiteralKind::Number | LiteralKind::Float => TokenType::Number,
                LiteralKind::Bool | LiteralKind::Null => TokenType::Keyword,
            };
            push(out, l.span, ty);
        }
        Expr::Ident(_) | Expr::Access(_) => {
            let mut parts = Vec::new();
            if walk::traversal(e, &mut parts) {
                for p in parts {
                    push(out, p.span, TokenType::Variable);
                }
            } else if let Expr::Access(a) = e {
                expr(&a.value, out);
                push(out, a.field.span, TokenType::Property);
            }
        }
        Expr::Array(a) => a.elements.iter().for_each(|x| expr(x, out)),
        Expr::Object(o) => {
            for f in &o.fields {
                push(out, f.key.span, if f.quoted { TokenType::String } else { TokenType::Property });
                expr(&f.value, out);
            }
        }
        Expr::Index(i) => {
            expr(&i.value, out);
            expr(&i.index, out);
        }
        Expr::Call(c) => {
            let mut parts = Vec::new();
            if walk::traversal(&c.callee, &mut parts) {
                if let Some((last, ns)) = parts.split_last() {
                    for p in ns {
                        push(out, p.span, TokenType::Namespace);
                    }
                    push(out, last.span, TokenType::Function);
                }
            } else {
                expr(&c.callee, out);
            }
            c.args.iter().for_each(|x| expr(x, out));
        }
        Expr::Unary(u) => {
            push(out, u.op_span, TokenType::Operator);
            expr(&u.operand, out);
        }
        Expr::Binary(b) => {
            expr(&b.left, out);
            push(out, b.op_span, TokenType::Operator);
            expr(&b.right, out);
        }
        Expr::Paren(p) => expr(&p.inner, out),
    }
}
