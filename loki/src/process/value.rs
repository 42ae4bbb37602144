//! Extracted values: JSON values keyed by name, and how a stage turns one into text.

use std::collections::BTreeMap;

use serde_json::Value;

pub type Extracted = BTreeMap<String, Value>;

/// The text of an extracted value, as stages that need one read it: strings as they are,
/// numbers in Go's shortest `'f'` form, booleans; null, arrays and objects have none.
pub fn get_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => n.as_f64().map(format_float),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Go's `strconv.FormatFloat(f, 'f', -1, 64)`: shortest round-trip digits, never an exponent.
pub fn format_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    // Rust's `Display` for f64 is the shortest round-trip form without an exponent.
    format!("{f}")
}

/// A JSON value as `stage.json` stores it: scalars as they are, arrays and objects as their
/// compact text.
pub fn flatten(v: Value) -> Value {
    match v {
        Value::Array(_) | Value::Object(_) => Value::String(v.to_string()),
        Value::Number(n) => n.as_f64().and_then(serde_json::Number::from_f64).map(Value::Number).unwrap_or(Value::Null),
        v => v,
    }
}
