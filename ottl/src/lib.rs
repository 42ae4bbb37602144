//! The OpenTelemetry Transformation Language (OTTL) as the collector's `transform` and
//! `filter` processors use it.
//!
//! * [`lexer`] and [`parser`]: statements (`editor(args) where condition`) and conditions into
//!   the tree of [`ast`], every node with its byte range;
//! * [`catalog`]: the paths of each context, enums, editors and converters, as data;
//! * [`check_statement`] / [`check_condition`]: parse and type-check against a [`Context`];
//! * `eval` (feature `eval`): runs checked statements over decoded OTLP requests.

pub mod ast;
pub mod catalog;
mod check;
pub mod lexer;
pub mod parser;
mod suggest;
pub mod timefmt;

#[cfg(feature = "eval")]
pub mod eval;

pub use ast::{Condition, Statement};

/// Where statements run: the kind of item they see, and so which paths they can use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Context {
    Resource,
    Scope,
    Span,
    SpanEvent,
    Metric,
    DataPoint,
    Log,
}

impl Context {
    pub const ALL: [Context; 7] = [Context::Resource, Context::Scope, Context::Span, Context::SpanEvent, Context::Metric, Context::DataPoint, Context::Log];

    pub fn from_name(s: &str) -> Option<Context> {
        Context::ALL.into_iter().find(|c| c.name() == s)
    }

    pub fn name(self) -> &'static str {
        match self {
            Context::Resource => "resource",
            Context::Scope => "scope",
            Context::Span => "span",
            Context::SpanEvent => "spanevent",
            Context::Metric => "metric",
            Context::DataPoint => "datapoint",
            Context::Log => "log",
        }
    }
}

/// A problem in a statement or condition: its byte range in the text and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub span: std::ops::Range<usize>,
    pub message: String,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diagnostic {}

/// Parses and type-checks one statement for `ctx`.
pub fn check_statement(src: &str, ctx: Context) -> Result<Statement, Diagnostic> {
    let mut s = parser::parse_statement(src)?;
    check::statement(&mut s, ctx)?;
    Ok(s)
}

/// Parses and type-checks one condition for `ctx`.
pub fn check_condition(src: &str, ctx: Context) -> Result<Condition, Diagnostic> {
    let mut c = parser::parse_condition(src)?;
    check::condition(&mut c, ctx, false)?;
    Ok(c)
}

/// [`check_condition`] for `otelcol.processor.filter`, which also has `HasAttrOnDatapoint`
/// and `HasAttrKeyOnDatapoint`.
pub fn check_filter_condition(src: &str, ctx: Context) -> Result<Condition, Diagnostic> {
    let mut c = parser::parse_condition(src)?;
    check::condition(&mut c, ctx, true)?;
    Ok(c)
}

/// The context a statement asks for, as upstream infers it: the most specific of `candidates`
/// (which go from the outermost, `resource`, inwards) that its path prefixes name
/// (`span.name` → span), moved further in when a function or enum it uses needs that
/// (`IsRootSpan()` → span). `Ok(None)` when nothing names a context.
pub fn infer_statement_context(src: &str, candidates: &[Context]) -> Result<Option<Context>, Diagnostic> {
    let s = parser::parse_statement(src)?;
    let mut names = Names::default();
    names.call(&s.editor);
    if let Some(c) = &s.condition {
        names.expr(c);
    }
    Ok(check::infer_context(&names, candidates))
}

/// [`infer_statement_context`] for a condition.
pub fn infer_condition_context(src: &str, candidates: &[Context]) -> Result<Option<Context>, Diagnostic> {
    let c = parser::parse_condition(src)?;
    let mut names = Names::default();
    names.expr(&c.expr);
    Ok(check::infer_context(&names, candidates))
}

/// One context for a whole list, as upstream infers it for a group without a `context`: the
/// names of every statement and condition count together. A text that does not parse is
/// reported with its index (statements first, then conditions).
pub fn infer_group_context(statements: &[&str], conditions: &[&str], candidates: &[Context]) -> Result<Option<Context>, (usize, Diagnostic)> {
    let mut names = Names::default();
    for (i, src) in statements.iter().enumerate() {
        let s = parser::parse_statement(src).map_err(|d| (i, d))?;
        names.call(&s.editor);
        if let Some(c) = &s.condition {
            names.expr(c);
        }
    }
    for (i, src) in conditions.iter().enumerate() {
        let c = parser::parse_condition(src).map_err(|d| (statements.len() + i, d))?;
        names.expr(&c.expr);
    }
    Ok(check::infer_context(&names, candidates))
}

/// The paths, functions and enums a statement or condition names, for context inference.
#[derive(Default)]
pub(crate) struct Names {
    pub paths: Vec<String>,
    pub functions: Vec<String>,
    pub enums: Vec<String>,
}

impl Names {
    fn call(&mut self, c: &ast::Call) {
        self.functions.push(c.name.clone());
        for a in &c.args {
            self.expr(&a.value);
        }
        for k in &c.keys {
            self.expr(k);
        }
    }

    fn expr(&mut self, e: &ast::Expr) {
        use ast::ExprKind as K;
        match &e.kind {
            K::Path(p) => {
                self.paths.push(p.dotted());
                p.keys.iter().for_each(|k| self.expr(k));
            }
            K::Call(c) => self.call(c),
            K::Enum(name, _) => self.enums.push(name.clone()),
            K::List(items) => items.iter().for_each(|i| self.expr(i)),
            K::Map(entries) => entries.iter().for_each(|(_, v)| self.expr(v)),
            K::Neg(x) | K::Not(x) => self.expr(x),
            K::Math(_, l, r) | K::Compare(_, l, r) | K::And(l, r) | K::Or(l, r) => {
                self.expr(l);
                self.expr(r);
            }
            _ => {}
        }
    }
}
