//! The syntax tree. Every node carries its byte range in the statement text; the checker
//! fills in what names resolve to (`Path::resolved`, `Call::function`, `Enum` values).

use std::ops::Range;

use crate::catalog::{Field, FunctionDoc};
use crate::Context;

/// `editor(args) where condition`.
#[derive(Clone, Debug)]
pub struct Statement {
    pub editor: Call,
    pub condition: Option<Expr>,
    pub span: Range<usize>,
}

/// A boolean expression on its own (filter conditions, transform `conditions`).
#[derive(Clone, Debug)]
pub struct Condition {
    pub expr: Expr,
}

/// An editor or converter invocation, with optional keys on a converter's result.
#[derive(Clone, Debug)]
pub struct Call {
    pub name: String,
    pub name_span: Range<usize>,
    pub args: Vec<Arg>,
    pub keys: Vec<Expr>,
    pub span: Range<usize>,
    /// The function, once checked.
    pub function: Option<&'static FunctionDoc>,
}

#[derive(Clone, Debug)]
pub struct Arg {
    /// `name = value`.
    pub name: Option<(String, Range<usize>)>,
    pub value: Expr,
    /// A literal pattern argument, compiled once by the checker.
    pub regex: Option<regex::Regex>,
}

#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Range<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MathOp {
    Add,
    Sub,
    Mul,
    Div,
}

#[derive(Clone, Debug)]
pub enum ExprKind {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    List(Vec<Expr>),
    Map(Vec<(String, Expr)>),
    /// `SPAN_KIND_SERVER`; the value once checked.
    Enum(String, Option<i64>),
    Path(Path),
    Call(Call),
    Neg(Box<Expr>),
    Math(MathOp, Box<Expr>, Box<Expr>),
    Compare(CompareOp, Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

/// `resource.attributes["k"]["sub"]`: dotted names, then keys.
#[derive(Clone, Debug)]
pub struct Path {
    pub parts: Vec<(String, Range<usize>)>,
    pub keys: Vec<Expr>,
    pub span: Range<usize>,
    /// The context owning the field and the field, once checked.
    pub resolved: Option<(Context, Field)>,
}

impl Path {
    pub fn dotted(&self) -> String {
        self.parts.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>().join(".")
    }
}
