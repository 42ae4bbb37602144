//! Attribute values as the collector's pdata renders them, and the names it gives span
//! kinds and status codes.

use base64::Engine as _;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;

/// The value of `key` in an attribute list (the first, as pdata's `Get`).
pub fn get<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a AnyValue> {
    attrs.iter().find(|kv| kv.key == key).map(|kv| kv.value.as_ref().unwrap_or(&EMPTY))
}

static EMPTY: AnyValue = AnyValue { value: None };

/// Sets `key` in place when present (keeping its position), else appends: pdata's `Put*`.
pub fn put(attrs: &mut Vec<KeyValue>, key: &str, value: AnyValue) {
    match attrs.iter_mut().find(|kv| kv.key == key) {
        Some(kv) => kv.value = Some(value),
        None => attrs.push(KeyValue { key: key.to_string(), value: Some(value), ..Default::default() }),
    }
}

pub fn string(s: impl Into<String>) -> AnyValue {
    AnyValue { value: Some(any_value::Value::StringValue(s.into())) }
}

/// `SPAN_KIND_SERVER`, ...; an unknown number gives the empty string, as upstream's.
pub fn span_kind(kind: i32) -> &'static str {
    SpanKind::try_from(kind).map(|k| k.as_str_name()).unwrap_or("")
}

/// `STATUS_CODE_ERROR`, ...; an unknown number gives the empty string.
pub fn status_code(code: i32) -> &'static str {
    StatusCode::try_from(code).map(|c| c.as_str_name()).unwrap_or("")
}

/// An ID as pdata prints it: lower-case hex, the empty string for an all-zero (or absent) ID.
pub fn id_hex(id: &[u8]) -> String {
    if id.iter().all(|b| *b == 0) {
        return String::new();
    }
    crate::otelcol::hex(id)
}

/// A double as Go's JSON encoder (and pdata's `AsString`) writes it.
fn es6_float(f: f64) -> String {
    eval::json::json_float(f).unwrap_or_else(|e| e)
}

/// pdata's `AsString`: strings as they are, numbers and booleans as text, bytes as base64,
/// maps and lists as JSON (keys sorted, as Go marshals maps).
pub fn as_string(v: &AnyValue) -> String {
    use any_value::Value as V;
    match &v.value {
        None => String::new(),
        Some(V::StringValue(s)) => s.clone(),
        Some(V::BoolValue(b)) => b.to_string(),
        Some(V::IntValue(i)) => i.to_string(),
        Some(V::DoubleValue(d)) => es6_float(*d),
        Some(V::BytesValue(b)) => base64::engine::general_purpose::STANDARD.encode(b),
        Some(V::StringValueStrindex(i)) => i.to_string(),
        Some(_) => {
            let mut out = String::new();
            json(&mut out, v);
            out
        }
    }
}

fn json(out: &mut String, v: &AnyValue) {
    use any_value::Value as V;
    match &v.value {
        None => out.push_str("null"),
        Some(V::StringValue(s)) => eval::json::json_string(s.as_bytes(), out),
        Some(V::BoolValue(b)) => out.push_str(if *b { "true" } else { "false" }),
        Some(V::IntValue(i)) => out.push_str(&i.to_string()),
        Some(V::DoubleValue(d)) => out.push_str(&es6_float(*d)),
        Some(V::BytesValue(b)) => eval::json::json_string(base64::engine::general_purpose::STANDARD.encode(b).as_bytes(), out),
        Some(V::StringValueStrindex(i)) => out.push_str(&i.to_string()),
        Some(V::ArrayValue(a)) => {
            out.push('[');
            for (i, x) in a.values.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json(out, x);
            }
            out.push(']');
        }
        Some(V::KvlistValue(m)) => {
            let sorted: std::collections::BTreeMap<&str, &AnyValue> =
                m.values.iter().map(|kv| (kv.key.as_str(), kv.value.as_ref().unwrap_or(&EMPTY))).collect();
            out.push('{');
            for (i, (k, x)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                eval::json::json_string(k.as_bytes(), out);
                out.push(':');
                json(out, x);
            }
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::{ArrayValue, KeyValueList};

    #[test]
    fn names_and_text_forms_follow_pdata() {
        assert_eq!(span_kind(2), "SPAN_KIND_SERVER");
        assert_eq!(span_kind(99), "");
        assert_eq!(status_code(2), "STATUS_CODE_ERROR");
        assert_eq!(id_hex(&[0; 16]), "");
        assert_eq!(id_hex(&[0, 0xab]), "00ab");
        let d = |f| AnyValue { value: Some(any_value::Value::DoubleValue(f)) };
        assert_eq!(as_string(&d(1.5)), "1.5");
        assert_eq!(as_string(&d(1e21)), "1e+21");
        let list = AnyValue {
            value: Some(any_value::Value::ArrayValue(ArrayValue { values: vec![string("a"), AnyValue { value: Some(any_value::Value::IntValue(3)) }] })),
        };
        assert_eq!(as_string(&list), r#"["a",3]"#);
        let map = AnyValue {
            value: Some(any_value::Value::KvlistValue(KeyValueList {
                values: vec![
                    KeyValue { key: "z".into(), value: Some(string("1")), ..Default::default() },
                    KeyValue { key: "a".into(), value: None, ..Default::default() },
                ],
            })),
        };
        assert_eq!(as_string(&map), r#"{"a":null,"z":"1"}"#);
    }

    #[test]
    fn put_replaces_in_place() {
        let mut attrs = Vec::new();
        put(&mut attrs, "a", string("1"));
        put(&mut attrs, "b", string("2"));
        put(&mut attrs, "a", string("3"));
        assert_eq!(
            attrs.iter().map(|kv| (kv.key.as_str(), as_string(kv.value.as_ref().unwrap()))).collect::<Vec<_>>(),
            [("a", "3".to_string()), ("b", "2".to_string())]
        );
    }
}
