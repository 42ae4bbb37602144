//! JMESPath (<https://jmespath.org/specification.html>), which `stage.json` expressions are
//! written in: identifiers, sub-expressions, indexes and slices, wildcard, flatten and filter
//! projections, comparisons, `||` `&&` `!`, literals, multi-selects, pipes, `@`, and the
//! built-in functions with `&expr` references. Upstream evaluates them with go-jmespath.
//!
//! A plain path of names and indexes (`a.b[0]."c.d"`) is kept as its steps too, so the stage
//! can read only the top-level field it starts at (see `parse.rs` in the stage module).

mod eval;
mod functions;
mod lex;
mod parse;
#[cfg(test)]
mod tests;

use serde_json::Value;

use parse::Node;

/// How deep an expression may nest; deeper ones are refused when compiled (evaluation
/// recurses along the tree).
const MAX_DEPTH: usize = 100;

#[derive(Clone, Debug, PartialEq)]
enum Step {
    Field(String),
    Index(i64),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    node: Node,
    /// The steps of a plain path.
    path: Option<Vec<Step>>,
}

impl Expr {
    pub fn parse(s: &str) -> Result<Expr, String> {
        let node = parse::parse(s)?;
        let mut steps = Vec::new();
        let path = plain_path(&node, &mut steps).then_some(steps);
        Ok(Expr { node, path })
    }

    /// The field this expression starts with, when it is a plain path (names and indexes)
    /// that starts with one.
    pub fn first_field(&self) -> Option<&str> {
        match self.path.as_deref()?.first() {
            Some(Step::Field(f)) => Some(f),
            _ => None,
        }
    }

    /// The value at the rest of this path (after [`Expr::first_field`]) from `v`.
    pub fn search_rest(&self, v: &Value) -> Option<Value> {
        self.path.as_ref().map(|steps| walk(steps.get(1..).unwrap_or_default(), v))
    }

    /// The value this expression selects (null when nothing matches); `None` when evaluation
    /// fails (a function given the wrong types).
    pub fn search(&self, doc: &Value) -> Option<Value> {
        match &self.path {
            Some(steps) => Some(walk(steps, doc)),
            None => eval::eval(&self.node, doc).ok().map(std::borrow::Cow::into_owned),
        }
    }
}

/// Appends the steps of `n` when it is a plain path.
fn plain_path(n: &Node, steps: &mut Vec<Step>) -> bool {
    match n {
        Node::Field(f) => {
            steps.push(Step::Field(f.clone()));
            true
        }
        Node::Index(i) if !steps.is_empty() => {
            steps.push(Step::Index(*i));
            true
        }
        Node::Sub(a, b) => plain_path(a, steps) && plain_path(b, steps),
        _ => false,
    }
}

fn walk(steps: &[Step], doc: &Value) -> Value {
    let mut cur = doc;
    for step in steps {
        let next = match (step, cur) {
            (Step::Field(f), Value::Object(m)) => m.get(f),
            (Step::Index(n), Value::Array(a)) => {
                let idx = if *n < 0 { a.len() as i64 + n } else { *n };
                usize::try_from(idx).ok().and_then(|i| a.get(i))
            }
            _ => None,
        };
        match next {
            Some(v) => cur = v,
            None => return Value::Null,
        }
    }
    cur.clone()
}

/// JMESPath truthiness: false, null, and empty strings, arrays and objects are false.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
        Value::Number(_) => true,
    }
}
