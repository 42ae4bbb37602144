//! Go's `text/template`, as the `template` and `replace` stages use it: text and `{{ }}`
//! actions with `-` trimming and comments; pipelines (`a | f`), fields of the data and of
//! variables (`.name`, `$x.name`, `$`), literals (strings, raw strings, characters, numbers,
//! booleans, `nil`), parenthesised pipelines; `if`/`else if`/`else`, `with`/`else with`,
//! `range` (lists, maps, integers; `$i, $e :=`; `break`, `continue`), variables (`$x := ...`,
//! `$x = ...`). `define`, `template` and `block` are refused.
//!
//! Functions are Go's builtins (`printf`, `print`, `println`, `len`, `index`, `eq` ... `ge`,
//! `and`, `or`, `not`), upstream's overrides (`ToLower`, `Replace`, `Sha2Hash`, ...) and a
//! subset of sprig's (see [`funcs::FUNCTIONS`]); any other name is refused when the template
//! is parsed, as Go refuses an undefined function.

mod convert;
mod exec;
mod fmt;
mod funcs;
mod parse;
mod sprig;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

/// Nesting of blocks and parentheses accepted.
const MAX_NESTING: usize = 64;

#[derive(Clone, Debug, PartialEq)]
pub struct Template(Vec<parse::Node>);

/// A value during execution, standing for the Go value a template would see.
#[derive(Clone, Debug, PartialEq)]
pub enum TVal {
    /// Nothing: a missing map entry, or a nil interface a function returned (both Go's
    /// invalid value once a pipeline has it): prints `<no value>`, as an operand `<nil>`.
    Nil,
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// A slice (`[]string` from `splitList`, `[]interface{}` from `list`).
    List(Vec<TVal>),
    /// A `map[string]interface{}`: the data (`.`).
    Map(BTreeMap<String, TVal>),
    /// A `map[string]string` (what `split` returns).
    StrMap(BTreeMap<String, String>),
}

impl TVal {
    /// Go's truth (`if`, `with`, `and`, `or`, `not`): false, 0, nil and empty values are false.
    fn truthy(&self) -> bool {
        match self {
            TVal::Nil => false,
            TVal::Str(s) => !s.is_empty(),
            TVal::Int(i) => *i != 0,
            TVal::Float(f) => *f != 0.0,
            TVal::Bool(b) => *b,
            TVal::List(l) => !l.is_empty(),
            TVal::Map(m) => !m.is_empty(),
            TVal::StrMap(m) => !m.is_empty(),
        }
    }

    /// The Go type, as messages name it.
    fn type_name(&self) -> &'static str {
        match self {
            TVal::Nil => "<nil>",
            TVal::Str(_) => "string",
            TVal::Int(_) => "int",
            TVal::Float(_) => "float64",
            TVal::Bool(_) => "bool",
            TVal::List(l) if l.iter().all(|v| matches!(v, TVal::Str(_))) => "[]string",
            TVal::List(_) => "[]interface {}",
            TVal::Map(_) => "map[string]interface {}",
            TVal::StrMap(_) => "map[string]string",
        }
    }
}

impl Template {
    pub fn parse(src: &str) -> Result<Template, String> {
        parse::parse(src).map(Template)
    }

    /// The template's output for `data` (the dot, a `map[string]interface{}`); Go's error
    /// when execution fails.
    pub fn execute(&self, data: BTreeMap<String, TVal>) -> Result<String, String> {
        exec::execute(&self.0, TVal::Map(data))
    }
}
