//! Evaluating expressions, conditions and paths of checked statements.

use crate::ast::{Arg, Call, CompareOp, Expr, ExprKind, MathOp, Path};

use super::item::Item;
use super::value::{equal, order, Value};
use super::{functions, EvalError};

pub fn value(e: &Expr, item: &Item) -> Result<Value, EvalError> {
    Ok(match &e.kind {
        ExprKind::Nil => Value::Nil,
        ExprKind::Bool(b) => Value::Bool(*b),
        ExprKind::Int(i) => Value::Int(*i),
        ExprKind::Float(f) => Value::Double(*f),
        ExprKind::Str(s) => Value::Str(s.clone()),
        ExprKind::Bytes(b) => Value::Bytes(b.clone()),
        ExprKind::List(items) => Value::List(items.iter().map(|i| value(i, item)).collect::<Result<_, _>>()?),
        ExprKind::Map(entries) => Value::Map(entries.iter().map(|(k, v)| Ok((k.clone(), value(v, item)?))).collect::<Result<_, EvalError>>()?),
        ExprKind::Enum(name, v) => Value::Int(v.ok_or_else(|| EvalError(format!("enum {name} was not checked")))?),
        ExprKind::Path(p) => path_get(p, item)?,
        ExprKind::Call(c) => {
            let v = functions::converter(c, item)?;
            index_all(v, &c.keys, item)?
        }
        ExprKind::Neg(inner) => match value(inner, item)? {
            Value::Int(i) => Value::Int(i.checked_neg().ok_or_else(|| EvalError("integer overflow".into()))?),
            Value::Double(d) => Value::Double(-d),
            Value::Duration(d) => Value::Duration(-d),
            other => return Err(EvalError(format!("cannot negate a {}", other.type_name()))),
        },
        ExprKind::Math(op, l, r) => math(*op, value(l, item)?, value(r, item)?)?,
        ExprKind::Compare(..) | ExprKind::Not(_) | ExprKind::And(..) | ExprKind::Or(..) => Value::Bool(truth(e, item)?),
    })
}

/// A condition's truth; `and`/`or` stop at the first operand that decides.
pub fn truth(e: &Expr, item: &Item) -> Result<bool, EvalError> {
    match &e.kind {
        ExprKind::Not(inner) => Ok(!truth(inner, item)?),
        ExprKind::And(l, r) => Ok(truth(l, item)? && truth(r, item)?),
        ExprKind::Or(l, r) => Ok(truth(l, item)? || truth(r, item)?),
        ExprKind::Compare(op, l, r) => Ok(compare(*op, &value(l, item)?, &value(r, item)?)),
        _ => match value(e, item)? {
            Value::Bool(b) => Ok(b),
            other => Err(EvalError(format!("condition is a {}, not a bool", other.type_name()))),
        },
    }
}

fn compare(op: CompareOp, a: &Value, b: &Value) -> bool {
    match op {
        CompareOp::Eq => equal(a, b),
        CompareOp::Ne => !equal(a, b),
        CompareOp::Lt => order(a, b).is_some_and(|o| o.is_lt()),
        CompareOp::Le => order(a, b).is_some_and(|o| o.is_le()),
        CompareOp::Gt => order(a, b).is_some_and(|o| o.is_gt()),
        CompareOp::Ge => order(a, b).is_some_and(|o| o.is_ge()),
    }
}

fn math(op: MathOp, a: Value, b: Value) -> Result<Value, EvalError> {
    let overflow = || EvalError("integer overflow".into());
    Ok(match (a, b) {
        (Value::Int(x), Value::Int(y)) => Value::Int(match op {
            MathOp::Add => x.checked_add(y).ok_or_else(overflow)?,
            MathOp::Sub => x.checked_sub(y).ok_or_else(overflow)?,
            MathOp::Mul => x.checked_mul(y).ok_or_else(overflow)?,
            MathOp::Div if y == 0 => return Err(EvalError("division by zero".into())),
            MathOp::Div => x / y,
        }),
        (x @ (Value::Int(_) | Value::Double(_)), y @ (Value::Int(_) | Value::Double(_))) => {
            let (x, y) = (as_f64(&x), as_f64(&y));
            Value::Double(match op {
                MathOp::Add => x + y,
                MathOp::Sub => x - y,
                MathOp::Mul => x * y,
                MathOp::Div if y == 0.0 => return Err(EvalError("division by zero".into())),
                MathOp::Div => x / y,
            })
        }
        (Value::Time(x), Value::Time(y)) if op == MathOp::Sub => Value::Duration(x.checked_sub(y).ok_or_else(overflow)?),
        (Value::Time(x), Value::Duration(y)) if op == MathOp::Add => Value::Time(x.checked_add(y).ok_or_else(overflow)?),
        (Value::Time(x), Value::Duration(y)) if op == MathOp::Sub => Value::Time(x.checked_sub(y).ok_or_else(overflow)?),
        (Value::Duration(x), Value::Duration(y)) if op == MathOp::Add => Value::Duration(x.checked_add(y).ok_or_else(overflow)?),
        (Value::Duration(x), Value::Duration(y)) if op == MathOp::Sub => Value::Duration(x.checked_sub(y).ok_or_else(overflow)?),
        (a, b) => return Err(EvalError(format!("cannot apply {op:?} to a {} and a {}", a.type_name(), b.type_name()))),
    })
}

fn as_f64(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Double(d) => *d,
        _ => f64::NAN,
    }
}

fn keys(ks: &[Expr], item: &Item) -> Result<Vec<Value>, EvalError> {
    ks.iter().map(|k| value(k, item)).collect()
}

fn index_all(mut v: Value, ks: &[Expr], item: &Item) -> Result<Value, EvalError> {
    for k in keys(ks, item)? {
        v = v.index(&k)?;
    }
    Ok(v)
}

pub fn path_get(p: &Path, item: &Item) -> Result<Value, EvalError> {
    let (owner, field) = p.resolved.ok_or_else(|| EvalError(format!("path {} was not checked", p.dotted())))?;
    // Attributes are read by key without converting the whole map.
    if let (crate::catalog::Field::Attributes, Some(first)) = (field, p.keys.first()) {
        if let Value::Str(k) = value(first, item)? {
            if let Some(v) = item.attribute(owner, &k)? {
                return index_all(v, &p.keys[1..], item);
            }
            return Ok(Value::Nil);
        }
    }
    index_all(item.get(owner, field)?, &p.keys, item)
}

pub fn path_set(p: &Path, item: &mut Item, v: Value) -> Result<(), EvalError> {
    let (owner, field) = p.resolved.ok_or_else(|| EvalError(format!("path {} was not checked", p.dotted())))?;
    if p.keys.is_empty() {
        return item.set(owner, field, v);
    }
    let ks = keys(&p.keys, item)?;
    // `attributes["k"] = v`: the one attribute is written in place.
    if let (crate::catalog::Field::Attributes, [Value::Str(k)]) = (field, ks.as_slice()) {
        if !matches!(v, Value::Nil) {
            let any = v.to_any()?;
            let attrs = item.attributes_mut(owner)?;
            match attrs.iter_mut().find(|kv| kv.key == *k) {
                Some(kv) => kv.value = Some(any),
                None => attrs.push(opentelemetry_proto::tonic::common::v1::KeyValue { key: k.clone(), value: Some(any), ..Default::default() }),
            }
            return Ok(());
        }
    }
    let mut whole = item.get(owner, field)?;
    whole.set_in(&ks, v)?;
    item.set(owner, field, whole)
}

/// The arguments of a checked call in parameter order (named ones moved to their slot).
pub fn args(c: &Call) -> Result<Vec<Option<&Arg>>, EvalError> {
    let f = c.function.ok_or_else(|| EvalError(format!("function {} was not checked", c.name)))?;
    let mut out = vec![None; f.params.len()];
    for (i, a) in c.args.iter().enumerate() {
        let slot = match &a.name {
            None => i,
            Some((n, _)) => f.params.iter().position(|p| p.name == n).unwrap_or(i),
        };
        if let Some(s) = out.get_mut(slot) {
            *s = Some(a);
        }
    }
    Ok(out)
}
