//! Conversions to typed targets, used by builtin parameters and by [`crate::decode`].

use crate::error::{PathSeg, ValueError};
use crate::function::Param;
use crate::number::{go_parse_float, Number};
use crate::value::{OptionalSecret, Secret, Str, Type, Value};

pub const SECRET_TO_STRING: &str = "secrets may not be converted into strings";

fn type_error(expected: Type, v: &Value) -> ValueError {
    ValueError::type_error(expected, v.ty())
}

/// Converts to a string: numbers format, byte arrays give their bytes, `null` is `""`,
/// non-secret optional secrets give their text.
pub fn to_str(v: &Value) -> Result<Str, ValueError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Null => Ok(Str::default()),
        Value::Number(n) => Ok(Str::from(n.to_text())),
        Value::Bytes(b) => Ok(Str::from(&b[..])),
        Value::OptionalSecret(os) if !os.is_secret => Ok(os.expose().clone()),
        Value::OptionalSecret(_) | Value::Secret(_) => Err(ValueError::message(SECRET_TO_STRING)),
        _ => Err(type_error(Type::String, v)),
    }
}

/// Converts a string to a number with upstream's rules.
pub fn parse_number_text(s: &[u8]) -> Option<Number> {
    let s = std::str::from_utf8(s).ok()?;
    if s.is_empty() {
        return None;
    }
    if let Some(digits) = s.strip_prefix('-') {
        if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        return s.parse::<i64>().ok().map(Number::Int);
    }
    if s.contains(['.', 'e', 'E']) {
        let f = go_parse_float(s)?;
        if f.is_infinite() && !s.to_ascii_lowercase().contains("inf") {
            return None; // out of range
        }
        return Some(Number::Float(f));
    }
    if !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse::<u64>().ok().map(Number::Uint)
}

/// Converts to a number: strings and non-secret texts are parsed, `null` is 0.
pub fn to_number(v: &Value) -> Result<Number, ValueError> {
    match v {
        Value::Number(n) => Ok(*n),
        Value::Null => Ok(Number::Int(0)),
        Value::String(s) => parse_number_text(s.as_bytes()).ok_or_else(|| type_error(Type::Number, v)),
        Value::OptionalSecret(os) if !os.is_secret => parse_number_text(os.expose().as_bytes()).ok_or_else(|| type_error(Type::Number, v)),
        _ => Err(type_error(Type::Number, v)),
    }
}

pub fn to_bool(v: &Value) -> Result<bool, ValueError> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::Null => Ok(false),
        _ => Err(type_error(Type::Bool, v)),
    }
}

/// Converts to a secret: strings, numbers (through their text, as a string target would
/// not apply here: upstream rejects them) and optional secrets of either flag.
pub fn to_secret(v: &Value) -> Result<Secret, ValueError> {
    match v {
        Value::Secret(s) => Ok(s.clone()),
        Value::String(s) => Ok(Secret::new(s.clone())),
        Value::OptionalSecret(os) => Ok(Secret::new(os.expose().clone())),
        Value::Null => Ok(Secret::new("")),
        _ => Err(type_error(Type::Capsule, v)),
    }
}

pub fn to_optional_secret(v: &Value) -> Result<OptionalSecret, ValueError> {
    match v {
        Value::OptionalSecret(os) => Ok(os.clone()),
        Value::Secret(s) => Ok(OptionalSecret::new(s.expose().clone(), true)),
        Value::String(s) => Ok(OptionalSecret::new(s.clone(), false)),
        Value::Null => Ok(OptionalSecret::new("", false)),
        _ => Err(type_error(Type::Capsule, v)),
    }
}

/// Elements of an array (bytes give numbers); `null` is an empty list.
pub fn to_list(v: &Value) -> Result<Vec<Value>, ValueError> {
    match v {
        Value::Null => Ok(Vec::new()),
        _ => v.array_items().ok_or_else(|| type_error(Type::Array, v)),
    }
}

/// "Decode to any": uint numbers that fit become ints; everything else is unchanged.
pub fn to_any(v: &Value) -> Value {
    match v {
        Value::Number(Number::Uint(u)) if *u <= i64::MAX as u64 => Value::int(*u as i64),
        Value::Array(items) => Value::array(items.iter().map(to_any).collect()),
        Value::Object(o) => Value::object(o.iter().map(|(k, v)| (k.clone(), to_any(v))).collect()),
        other => other.clone(),
    }
}

/// Converts a builtin argument to its parameter type.
pub fn to_param(v: &Value, p: Param) -> Result<Value, ValueError> {
    match p {
        Param::Any => Ok(v.clone()),
        Param::String => to_str(v).map(Value::String),
        Param::Secret => to_secret(v).map(Value::Secret),
        Param::ListString => {
            let items = to_list(v)?;
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                out.push(Value::String(to_str(item).map_err(|e| e.inside(PathSeg::Index(i)))?));
            }
            Ok(Value::array(out))
        }
    }
}
