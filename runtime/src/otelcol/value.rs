//! pdata's text forms of attribute values (`AsString`) and the JSON Go's encoder writes for
//! them, shared by the bridges that turn attributes into labels or lines.

use std::collections::BTreeMap;

use base64::Engine as _;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};

static EMPTY: AnyValue = AnyValue { value: None };

/// A double JSON cannot hold (Go's `json: unsupported value: NaN`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("json: unsupported value: {0}")]
pub struct UnsupportedValue(pub String);

/// A double as Go's JSON encoder (and pdata's `AsString`) writes it: ES6 number form.
pub fn es6_float(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        // Rust writes `1e21` / `1e-7`; Go `1e+21` / `1e-07` trimmed to `1e-7`.
        let s = format!("{f:e}");
        match s.split_once('e') {
            Some((m, e)) if !e.starts_with('-') => format!("{m}e+{e}"),
            _ => s,
        }
    } else {
        format!("{f}")
    }
}

/// A double as Go's `fmt.Sprint` writes it (`%v`: shortest, exponent below 1e-4 or from 1e21).
pub fn go_sprint_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-4..1e21).contains(&abs) {
        let s = format!("{f:e}");
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let (sign, digits) = e.strip_prefix('-').map_or(("+", e), |d| ("-", d));
        format!("{m}e{sign}{digits:0>2}")
    } else {
        format!("{f}")
    }
}

/// pdata's `AsString`: strings as they are, maps and lists as JSON, bytes as base64.
pub fn as_string(v: &AnyValue) -> String {
    match &v.value {
        None => String::new(),
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::DoubleValue(d)) if !d.is_finite() => format!("json: unsupported value: {}", go_sprint_float(*d)),
        Some(any_value::Value::DoubleValue(d)) => es6_float(*d),
        Some(any_value::Value::BytesValue(b)) => base64::engine::general_purpose::STANDARD.encode(b),
        Some(any_value::Value::StringValueStrindex(i)) => i.to_string(),
        Some(_) => {
            let mut out = String::new();
            json_value(&mut out, v).unwrap_or_else(|e| out = e.to_string());
            out
        }
    }
}

/// A JSON string as Go's encoder writes it (HTML characters escaped too): the evaluator's
/// (`encoding.to_json`) encoding.
pub fn json_string(out: &mut String, s: &str) {
    eval::json::json_string(s.as_bytes(), out);
}

pub fn json_map(out: &mut String, kvs: &[KeyValue]) -> Result<(), UnsupportedValue> {
    // Go maps marshal with sorted keys; the last of duplicate keys wins.
    let sorted: BTreeMap<&str, &AnyValue> = kvs.iter().map(|kv| (kv.key.as_str(), kv.value.as_ref().unwrap_or(&EMPTY))).collect();
    out.push('{');
    for (i, (k, v)) in sorted.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json_string(out, k);
        out.push(':');
        json_value(out, v)?;
    }
    out.push('}');
    Ok(())
}

pub fn json_value(out: &mut String, v: &AnyValue) -> Result<(), UnsupportedValue> {
    match &v.value {
        None => out.push_str("null"),
        Some(any_value::Value::StringValue(s)) => json_string(out, s),
        Some(any_value::Value::BoolValue(b)) => out.push_str(if *b { "true" } else { "false" }),
        Some(any_value::Value::IntValue(i)) => out.push_str(&i.to_string()),
        Some(any_value::Value::DoubleValue(d)) if !d.is_finite() => return Err(UnsupportedValue(go_sprint_float(*d))),
        Some(any_value::Value::DoubleValue(d)) => out.push_str(&es6_float(*d)),
        Some(any_value::Value::BytesValue(b)) => json_string(out, &base64::engine::general_purpose::STANDARD.encode(b)),
        Some(any_value::Value::StringValueStrindex(i)) => out.push_str(&i.to_string()),
        Some(any_value::Value::ArrayValue(a)) => {
            out.push('[');
            for (i, x) in a.values.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_value(out, x)?;
            }
            out.push(']');
        }
        Some(any_value::Value::KvlistValue(m)) => json_map(out, &m.values)?,
    }
    Ok(())
}
