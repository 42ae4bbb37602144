//! The JMESPath built-in functions. Unknown names and wrong argument counts are refused when
//! the expression is compiled; wrong argument types are runtime errors, as the specification
//! has them.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::{Map, Number, Value};

use super::eval::{eval, json_eq};
use super::parse::Node;

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Func {
    Abs,
    Avg,
    Ceil,
    Contains,
    EndsWith,
    Floor,
    Join,
    Keys,
    Length,
    Map,
    Max,
    MaxBy,
    Merge,
    Min,
    MinBy,
    NotNull,
    Reverse,
    Sort,
    SortBy,
    StartsWith,
    Sum,
    ToArray,
    ToNumber,
    ToString,
    Type,
    Values,
}

/// Name, function, number of arguments, and whether more may follow.
const TABLE: &[(&str, Func, usize, bool)] = &[
    ("abs", Func::Abs, 1, false),
    ("avg", Func::Avg, 1, false),
    ("ceil", Func::Ceil, 1, false),
    ("contains", Func::Contains, 2, false),
    ("ends_with", Func::EndsWith, 2, false),
    ("floor", Func::Floor, 1, false),
    ("join", Func::Join, 2, false),
    ("keys", Func::Keys, 1, false),
    ("length", Func::Length, 1, false),
    ("map", Func::Map, 2, false),
    ("max", Func::Max, 1, false),
    ("max_by", Func::MaxBy, 2, false),
    ("merge", Func::Merge, 1, true),
    ("min", Func::Min, 1, false),
    ("min_by", Func::MinBy, 2, false),
    ("not_null", Func::NotNull, 1, true),
    ("reverse", Func::Reverse, 1, false),
    ("sort", Func::Sort, 1, false),
    ("sort_by", Func::SortBy, 2, false),
    ("starts_with", Func::StartsWith, 2, false),
    ("sum", Func::Sum, 1, false),
    ("to_array", Func::ToArray, 1, false),
    ("to_number", Func::ToNumber, 1, false),
    ("to_string", Func::ToString, 1, false),
    ("type", Func::Type, 1, false),
    ("values", Func::Values, 1, false),
];

impl Func {
    pub(super) fn named(name: &str) -> Option<Func> {
        TABLE.iter().find(|(n, ..)| *n == name).map(|(_, f, ..)| *f)
    }

    fn entry(self) -> &'static (&'static str, Func, usize, bool) {
        TABLE.iter().find(|(_, f, ..)| *f == self).unwrap_or(&TABLE[0])
    }

    pub(super) fn check_arity(self, given: usize) -> Result<(), String> {
        let (name, _, n, variadic) = *self.entry();
        if given == n || (variadic && given > n) {
            return Ok(());
        }
        let want = if variadic { format!("at least {n}") } else { n.to_string() };
        Err(format!("invalid arity: {name}() takes {want} argument(s), given {given}"))
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn invalid(f: Func, v: &Value, want: &str) -> String {
    format!("invalid type: {}() expects {want}, got {}", f.entry().0, type_name(v))
}

/// A JSON number from a computed float: integral values as integers (as Go's encoder prints
/// them), NaN and infinities (which JSON lacks) as null.
pub(super) fn number(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 {
        return Value::Number(Number::from(f as i64));
    }
    Number::from_f64(f).map_or(Value::Null, Value::Number)
}

pub(super) fn call(f: Func, args: &[Node], current: &Value) -> Result<Value, String> {
    // Expression references are passed unevaluated; everything else is evaluated first.
    let expref = |i: usize| match args.get(i) {
        Some(Node::ExpRef(e)) => Ok(&**e),
        _ => Err(format!("invalid type: {}() expects an expression reference (&expr) as argument {}", f.entry().0, i + 1)),
    };
    let mut vals: Vec<Cow<Value>> = Vec::with_capacity(args.len());
    for (i, a) in args.iter().enumerate() {
        let by_reference = matches!((f, i), (Func::Map, 0) | (Func::MaxBy | Func::MinBy | Func::SortBy, 1));
        vals.push(if by_reference { Cow::Borrowed(&super::eval::NULL) } else { eval(a, current)? });
    }
    let arg = |i: usize| -> &Value { &vals[i] };
    let num = |i: usize| arg(i).as_f64().filter(|_| arg(i).is_number()).ok_or_else(|| invalid(f, arg(i), "a number"));
    let string = |i: usize| arg(i).as_str().ok_or_else(|| invalid(f, arg(i), "a string"));
    let array = |i: usize| arg(i).as_array().ok_or_else(|| invalid(f, arg(i), "an array"));
    let object = |i: usize| arg(i).as_object().ok_or_else(|| invalid(f, arg(i), "an object"));
    let numbers = |i: usize| -> Result<Vec<f64>, String> {
        array(i)?.iter().map(|v| v.as_f64().filter(|_| v.is_number()).ok_or_else(|| invalid(f, arg(i), "an array of numbers"))).collect()
    };
    Ok(match f {
        Func::Abs => number(num(0)?.abs()),
        Func::Ceil => number(num(0)?.ceil()),
        Func::Floor => number(num(0)?.floor()),
        Func::Avg => {
            let ns = numbers(0)?;
            if ns.is_empty() {
                Value::Null
            } else {
                number(ns.iter().sum::<f64>() / ns.len() as f64)
            }
        }
        Func::Sum => number(numbers(0)?.iter().sum()),
        Func::Contains => match arg(0) {
            Value::String(s) => Value::Bool(arg(1).as_str().is_some_and(|x| s.contains(x))),
            Value::Array(a) => Value::Bool(a.iter().any(|x| json_eq(x, arg(1)))),
            other => return Err(invalid(f, other, "an array or a string")),
        },
        Func::StartsWith => Value::Bool(string(0)?.starts_with(string(1)?)),
        Func::EndsWith => Value::Bool(string(0)?.ends_with(string(1)?)),
        Func::Join => {
            let sep = string(0)?;
            let parts = array(1)?.iter().map(|v| v.as_str().ok_or_else(|| invalid(f, arg(1), "an array of strings"))).collect::<Result<Vec<_>, _>>()?;
            Value::String(parts.join(sep))
        }
        Func::Keys => Value::Array(object(0)?.keys().map(|k| Value::String(k.clone())).collect()),
        Func::Values => Value::Array(object(0)?.values().cloned().collect()),
        Func::Length => match arg(0) {
            Value::String(s) => Value::from(s.chars().count()),
            Value::Array(a) => Value::from(a.len()),
            Value::Object(m) => Value::from(m.len()),
            other => return Err(invalid(f, other, "a string, an array or an object")),
        },
        Func::Map => {
            let e = expref(0)?;
            let items = array(1)?;
            Value::Array(items.iter().map(|v| eval(e, v).map(Cow::into_owned)).collect::<Result<_, _>>()?)
        }
        Func::Max | Func::Min => {
            let items = array(0)?;
            let keys: Vec<&Value> = items.iter().collect();
            let want = if f == Func::Max { Ordering::Greater } else { Ordering::Less };
            match best(f, &keys, want)? {
                Some(i) => items[i].clone(),
                None => Value::Null,
            }
        }
        Func::MaxBy | Func::MinBy => {
            let items = array(0)?;
            let e = expref(1)?;
            let keys = items.iter().map(|v| eval(e, v)).collect::<Result<Vec<_>, _>>()?;
            let keys: Vec<&Value> = keys.iter().map(|k| &**k).collect();
            let want = if f == Func::MaxBy { Ordering::Greater } else { Ordering::Less };
            match best(f, &keys, want)? {
                Some(i) => items[i].clone(),
                None => Value::Null,
            }
        }
        Func::Sort => {
            let items = array(0)?;
            let keys: Vec<&Value> = items.iter().collect();
            sorted(f, items, &keys)?
        }
        Func::SortBy => {
            let items = array(0)?;
            let e = expref(1)?;
            let keys = items.iter().map(|v| eval(e, v)).collect::<Result<Vec<_>, _>>()?;
            let keys: Vec<&Value> = keys.iter().map(|k| &**k).collect();
            sorted(f, items, &keys)?
        }
        Func::Merge => {
            let mut out = Map::new();
            for i in 0..vals.len() {
                for (k, v) in object(i)? {
                    out.insert(k.clone(), v.clone());
                }
            }
            Value::Object(out)
        }
        Func::NotNull => vals.iter().find(|v| !v.is_null()).map_or(Value::Null, |v| v.clone().into_owned()),
        Func::Reverse => match arg(0) {
            Value::String(s) => Value::String(s.chars().rev().collect()),
            Value::Array(a) => Value::Array(a.iter().rev().cloned().collect()),
            other => return Err(invalid(f, other, "an array or a string")),
        },
        Func::ToArray => match arg(0) {
            Value::Array(_) => arg(0).clone(),
            other => Value::Array(vec![other.clone()]),
        },
        Func::ToString => match arg(0) {
            Value::String(_) => arg(0).clone(),
            other => Value::String(other.to_string()),
        },
        Func::ToNumber => match arg(0) {
            Value::Number(_) => arg(0).clone(),
            Value::String(s) => parse_number(s),
            _ => Value::Null,
        },
        Func::Type => Value::String(type_name(arg(0)).to_string()),
    })
}

/// A number in a string: JSON's syntax, or what Go's `strconv.ParseFloat` (upstream's parser)
/// accepts; null when neither.
fn parse_number(s: &str) -> Value {
    if let Ok(n) = serde_json::from_str::<Number>(s) {
        if s.trim() == s {
            return Value::Number(n);
        }
    }
    match s.parse::<f64>() {
        Ok(f) if f.is_finite() && !s.contains(char::is_whitespace) => number(f),
        _ => Value::Null,
    }
}

/// How two sort keys of the same kind order; `None` when they are not both numbers or both
/// strings.
fn order(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// Checks the keys are all numbers or all strings.
fn same_kind(f: Func, keys: &[&Value]) -> Result<(), String> {
    let Some(first) = keys.first() else { return Ok(()) };
    if !matches!(first, Value::Number(_) | Value::String(_)) {
        return Err(invalid(f, first, "numbers or strings to compare"));
    }
    match keys.iter().find(|k| std::mem::discriminant(**k) != std::mem::discriminant(*first)) {
        Some(k) => Err(invalid(f, k, &format!("{}s throughout", type_name(first)))),
        None => Ok(()),
    }
}

/// The index of the first greatest (or least) key.
fn best(f: Func, keys: &[&Value], want: Ordering) -> Result<Option<usize>, String> {
    same_kind(f, keys)?;
    let mut best: Option<usize> = None;
    for (i, k) in keys.iter().enumerate() {
        if best.is_none_or(|b| order(k, keys[b]) == Some(want)) {
            best = Some(i);
        }
    }
    Ok(best)
}

/// `items` stably sorted by `keys`.
fn sorted(f: Func, items: &[Value], keys: &[&Value]) -> Result<Value, String> {
    same_kind(f, keys)?;
    let mut idx: Vec<usize> = (0..items.len()).collect();
    idx.sort_by(|&a, &b| order(keys[a], keys[b]).unwrap_or(Ordering::Equal));
    Ok(Value::Array(idx.into_iter().map(|i| items[i].clone()).collect()))
}
