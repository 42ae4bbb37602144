//! The syntax tree. Every node carries the byte spans the formatter and diagnostics need;
//! comments live beside the tree, on the [`File`].

use smol_str::SmolStr;

use crate::lexer::Comment;
use crate::span::Span;
use crate::token::TokenKind;

/// A parsed file: its statements and its comments (grouped as upstream groups them).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct File {
    pub body: Body,
    pub comments: Vec<Comment>,
    /// Comment groups as index ranges into `comments`.
    pub comment_groups: Vec<std::ops::Range<u32>>,
}

pub type Body = Vec<Stmt>;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stmt {
    Attribute(Attribute),
    Block(Block),
}

impl Stmt {
    pub fn span(&self) -> Span {
        match self {
            Stmt::Attribute(a) => a.span(),
            Stmt::Block(b) => b.span(),
        }
    }
}

/// `name = value`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attribute {
    pub name: Ident,
    pub value: Expr,
}

impl Attribute {
    pub fn span(&self) -> Span {
        self.name.span.cover(self.value.span())
    }
}

/// `a.b.c "label" { body }`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// The name fragments joined with `.`.
    pub name: SmolStr,
    /// From the first fragment's start to the last fragment's end.
    pub name_span: Span,
    pub label: Option<Label>,
    pub body: Body,
    pub lcurly: Span,
    pub rcurly: Span,
}

impl Block {
    pub fn span(&self) -> Span {
        self.name_span.cover(self.rcurly)
    }

    /// The component-style identity `name.label` (or just `name`).
    pub fn full_name(&self) -> String {
        match &self.label {
            Some(label) => format!("{}.{}", self.name, label.value),
            None => self.name.to_string(),
        }
    }
}

/// A block label: the text between the quotes (no escapes are interpreted) and the span of the
/// whole string token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub value: SmolStr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ident {
    pub name: SmolStr,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LiteralKind {
    String,
    Number,
    Float,
    Bool,
    Null,
}

/// A literal exactly as written (strings keep their quotes and escapes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Literal {
    pub kind: LiteralKind,
    pub text: SmolStr,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    Not,
    Neg,
}

impl UnaryOp {
    pub fn as_str(self) -> &'static str {
        match self {
            UnaryOp::Not => "!",
            UnaryOp::Neg => "-",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    Neq,
    Lt,
    Lte,
    Gt,
    Gte,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
}

impl BinaryOp {
    pub fn from_token(kind: TokenKind) -> Option<BinaryOp> {
        use BinaryOp::*;
        Some(match kind {
            TokenKind::Or => Or,
            TokenKind::And => And,
            TokenKind::Eq => Eq,
            TokenKind::Neq => Neq,
            TokenKind::Lt => Lt,
            TokenKind::Lte => Lte,
            TokenKind::Gt => Gt,
            TokenKind::Gte => Gte,
            TokenKind::Add => Add,
            TokenKind::Sub => Sub,
            TokenKind::Mul => Mul,
            TokenKind::Div => Div,
            TokenKind::Mod => Mod,
            TokenKind::Pow => Pow,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        use BinaryOp::*;
        match self {
            Or => "||",
            And => "&&",
            Eq => "==",
            Neq => "!=",
            Lt => "<",
            Lte => "<=",
            Gt => ">",
            Gte => ">=",
            Add => "+",
            Sub => "-",
            Mul => "*",
            Div => "/",
            Mod => "%",
            Pow => "^",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    Literal(Literal),
    Ident(Ident),
    Array(Array),
    Object(Object),
    Access(Box<Access>),
    Index(Box<Index>),
    Call(Box<Call>),
    Unary(Box<Unary>),
    Binary(Box<Binary>),
    Paren(Box<Paren>),
}

impl Expr {
    /// From the first byte of the expression to just after its last byte.
    pub fn span(&self) -> Span {
        match self {
            Expr::Literal(l) => l.span,
            Expr::Ident(i) => i.span,
            Expr::Array(a) => a.lbrack.cover(a.rbrack),
            Expr::Object(o) => o.lcurly.cover(o.rcurly),
            Expr::Access(a) => a.value.span().cover(a.field.span),
            Expr::Index(i) => i.value.span().cover(i.rbrack),
            Expr::Call(c) => c.callee.span().cover(c.rparen),
            Expr::Unary(u) => u.op_span.cover(u.operand.span()),
            Expr::Binary(b) => b.left.span().cover(b.right.span()),
            Expr::Paren(p) => p.lparen.cover(p.rparen),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Array {
    pub elements: Vec<Expr>,
    pub lbrack: Span,
    pub rbrack: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Object {
    pub fields: Vec<ObjectField>,
    pub lcurly: Span,
    pub rcurly: Span,
}

/// `key = value` inside an object literal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectField {
    /// The key: an identifier, or the raw text between a string key's quotes (escapes are not
    /// interpreted). The span is the key token's.
    pub key: Ident,
    /// Whether the key was written as a string (the empty string `""` is not flagged).
    pub quoted: bool,
    pub value: Expr,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Access {
    pub value: Expr,
    pub field: Ident,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Index {
    pub value: Expr,
    pub index: Expr,
    pub lbrack: Span,
    pub rbrack: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    pub callee: Expr,
    pub args: Vec<Expr>,
    pub lparen: Span,
    pub rparen: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unary {
    pub op: UnaryOp,
    pub op_span: Span,
    pub operand: Expr,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binary {
    pub op: BinaryOp,
    pub op_span: Span,
    pub left: Expr,
    pub right: Expr,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Paren {
    pub inner: Expr,
    pub lparen: Span,
    pub rparen: Span,
}
