//! Builds the owned [`ast`](crate::ast) from a flat [`Tree`], for the consumers that keep
//! nodes beyond the source's lifetime (the analyzer's database, the evaluator, the language
//! server).

use smol_str::SmolStr;

use crate::ast::*;
use crate::tree::{ExprView, NodeId, StmtView, Tree};

impl Tree<'_> {
    /// The owned tree of the whole file; the comments move over.
    pub fn into_file(self) -> File {
        let body = self.to_body(self.body());
        File { body, comments: self.comments, comment_groups: self.comment_groups }
    }

    fn to_body(&self, stmts: crate::tree::Nodes<'_>) -> Body {
        stmts.iter().map(|s| self.to_stmt(s)).collect()
    }

    fn to_stmt(&self, id: NodeId) -> Stmt {
        match self.stmt(id) {
            StmtView::Attribute { name, name_span, value } => {
                Stmt::Attribute(Attribute { name: Ident { name: SmolStr::new(name), span: name_span }, value: self.to_expr(value) })
            }
            StmtView::Block(b) => Stmt::Block(Block {
                name: SmolStr::new(b.name),
                name_span: b.name_span,
                label: b.label.map(|(value, span)| Label { value: SmolStr::new(value), span }),
                body: self.to_body(b.body),
                lcurly: b.lcurly,
                rcurly: b.rcurly,
            }),
        }
    }

    /// The owned expression rooted at `id`.
    pub fn to_expr(&self, id: NodeId) -> Expr {
        let exprs = |list: crate::tree::Nodes<'_>| list.iter().map(|e| self.to_expr(e)).collect::<Vec<_>>();
        match self.expr(id) {
            ExprView::Literal { kind, text, span } => Expr::Literal(Literal { kind, text: SmolStr::new(text), span }),
            ExprView::Ident { name, span } => Expr::Ident(Ident { name: SmolStr::new(name), span }),
            ExprView::Access { value, field, field_span } => {
                Expr::Access(Box::new(Access { value: self.to_expr(value), field: Ident { name: SmolStr::new(field), span: field_span } }))
            }
            ExprView::Index { value, index, lbrack, rbrack } => {
                Expr::Index(Box::new(Index { value: self.to_expr(value), index: self.to_expr(index), lbrack, rbrack }))
            }
            ExprView::Call { callee, args, lparen, rparen } => Expr::Call(Box::new(Call { callee: self.to_expr(callee), args: exprs(args), lparen, rparen })),
            ExprView::Unary { op, op_span, operand } => Expr::Unary(Box::new(Unary { op, op_span, operand: self.to_expr(operand) })),
            ExprView::Binary { op, op_span, left, right } => {
                Expr::Binary(Box::new(Binary { op, op_span, left: self.to_expr(left), right: self.to_expr(right) }))
            }
            ExprView::Paren { inner, lparen, rparen } => Expr::Paren(Box::new(Paren { inner: self.to_expr(inner), lparen, rparen })),
            ExprView::Array { elements, lbrack, rbrack } => Expr::Array(Array { elements: exprs(elements), lbrack, rbrack }),
            ExprView::Object { fields, lcurly, rcurly } => Expr::Object(Object {
                fields: fields
                    .iter()
                    .map(|f| {
                        let f = self.field(f);
                        ObjectField { key: Ident { name: SmolStr::new(f.key), span: f.key_span }, quoted: f.quoted, value: self.to_expr(f.value) }
                    })
                    .collect(),
                lcurly,
                rcurly,
            }),
        }
    }
}
