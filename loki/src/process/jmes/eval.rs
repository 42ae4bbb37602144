//! Evaluating a parsed JMESPath expression against a JSON value. Values are borrowed from the
//! document (or the expression's literals) where they can be; runtime errors (a function
//! given the wrong types) are `Err`.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::lex::Cmp;
use super::parse::Node;
use super::{functions, truthy};

pub(super) static NULL: Value = Value::Null;

pub(super) type Res<'a> = Result<Cow<'a, Value>, String>;

pub(super) fn eval<'a>(n: &'a Node, v: &'a Value) -> Res<'a> {
    Ok(match n {
        Node::Current => Cow::Borrowed(v),
        Node::Field(name) => Cow::Borrowed(match v {
            Value::Object(m) => m.get(name).unwrap_or(&NULL),
            _ => &NULL,
        }),
        Node::Literal(x) => Cow::Borrowed(x),
        Node::Sub(left, right) => match eval(left, v)? {
            Cow::Borrowed(x) => eval(right, x)?,
            Cow::Owned(x) => Cow::Owned(eval(right, &x)?.into_owned()),
        },
        Node::Index(i) => Cow::Borrowed(match v {
            Value::Array(a) => index(a.len(), *i).and_then(|i| a.get(i)).unwrap_or(&NULL),
            _ => &NULL,
        }),
        Node::Slice(start, stop, step) => match v {
            Value::Array(a) => Cow::Owned(Value::Array(slice(a.len(), *start, *stop, *step).into_iter().map(|i| a[i].clone()).collect())),
            _ => Cow::Borrowed(&NULL),
        },
        Node::Projection(left, right) => {
            let base = eval(left, v)?;
            let Value::Array(items) = &*base else { return Ok(Cow::Borrowed(&NULL)) };
            Cow::Owned(project(items.iter(), right)?)
        }
        Node::ValueProjection(left, right) => {
            let base = eval(left, v)?;
            let Value::Object(m) = &*base else { return Ok(Cow::Borrowed(&NULL)) };
            Cow::Owned(project(m.values(), right)?)
        }
        Node::FilterProjection(left, right, cond) => {
            let base = eval(left, v)?;
            let Value::Array(items) = &*base else { return Ok(Cow::Borrowed(&NULL)) };
            let mut kept = Vec::new();
            for item in items {
                if truthy(&*eval(cond, item)?) {
                    kept.push(item);
                }
            }
            Cow::Owned(project(kept.into_iter(), right)?)
        }
        Node::Flatten(inner) => {
            let base = eval(inner, v)?;
            let Value::Array(items) = &*base else { return Ok(Cow::Borrowed(&NULL)) };
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Value::Array(nested) => out.extend(nested.iter().cloned()),
                    other => out.push(other.clone()),
                }
            }
            Cow::Owned(Value::Array(out))
        }
        Node::Compare(op, a, b) => compare(*op, &*eval(a, v)?, &*eval(b, v)?),
        Node::Or(a, b) => {
            let x = eval(a, v)?;
            if truthy(&x) {
                x
            } else {
                eval(b, v)?
            }
        }
        Node::And(a, b) => {
            let x = eval(a, v)?;
            if truthy(&x) {
                eval(b, v)?
            } else {
                x
            }
        }
        Node::Not(a) => Cow::Owned(Value::Bool(!truthy(&*eval(a, v)?))),
        Node::MultiList(items) => {
            if v.is_null() {
                return Ok(Cow::Borrowed(&NULL));
            }
            Cow::Owned(Value::Array(items.iter().map(|n| eval(n, v).map(Cow::into_owned)).collect::<Result<_, _>>()?))
        }
        Node::MultiHash(pairs) => {
            if v.is_null() {
                return Ok(Cow::Borrowed(&NULL));
            }
            let mut m = Map::new();
            for (k, n) in pairs {
                m.insert(k.clone(), eval(n, v)?.into_owned());
            }
            Cow::Owned(Value::Object(m))
        }
        Node::Call(f, args) => Cow::Owned(functions::call(*f, args, v)?),
        Node::ExpRef(_) => return Err("an expression reference (&expr) is only a function argument".into()),
    })
}

/// `right` over each item, the nulls left out.
fn project<'a>(items: impl Iterator<Item = &'a Value>, right: &Node) -> Result<Value, String> {
    let mut out = Vec::new();
    for item in items {
        let r = eval(right, item)?;
        if !r.is_null() {
            out.push(r.into_owned());
        }
    }
    Ok(Value::Array(out))
}

/// An index into a list of `len` (negative from the end).
fn index(len: usize, i: i64) -> Option<usize> {
    let i = if i < 0 { i.checked_add(i64::try_from(len).ok()?)? } else { i };
    usize::try_from(i).ok()
}

/// The indexes a slice selects, as the specification computes them.
fn slice(len: usize, start: Option<i64>, stop: Option<i64>, step: i64) -> Vec<usize> {
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    let cap = |v: i64| {
        if v < 0 {
            let v = v.saturating_add(len);
            if v < 0 {
                if step < 0 {
                    -1
                } else {
                    0
                }
            } else {
                v
            }
        } else if v >= len {
            if step < 0 {
                len - 1
            } else {
                len
            }
        } else {
            v
        }
    };
    let start = start.map_or(if step > 0 { 0 } else { len - 1 }, cap);
    let stop = stop.map_or(if step > 0 { len } else { -1 }, cap);
    let mut out = Vec::new();
    let mut i = start;
    while (step > 0 && i < stop) || (step < 0 && i > stop) {
        out.push(i as usize);
        i = match i.checked_add(step) {
            Some(n) => n,
            None => break,
        };
    }
    out
}

fn compare(op: Cmp, a: &Value, b: &Value) -> Cow<'static, Value> {
    let result = match op {
        Cmp::Eq => Some(json_eq(a, b)),
        Cmp::Ne => Some(!json_eq(a, b)),
        _ => match (a.as_f64().filter(|_| a.is_number()), b.as_f64().filter(|_| b.is_number())) {
            (Some(x), Some(y)) => Some(match op {
                Cmp::Lt => x < y,
                Cmp::Le => x <= y,
                Cmp::Gt => x > y,
                _ => x >= y,
            }),
            _ => None,
        },
    };
    Cow::Owned(result.map_or(Value::Null, Value::Bool))
}

/// JSON equality, numbers compared by value (`1 == 1.0`).
pub(super) fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b)),
        (Value::Object(x), Value::Object(y)) => x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w))),
        _ => a == b,
    }
}
