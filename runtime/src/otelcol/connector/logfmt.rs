//! go-logfmt's `MarshalKeyvals` over pdata values (`Value.AsRaw()`), the encoding
//! `otelcol.connector.spanlogs` writes its log bodies with.

use std::fmt::Write as _;

use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue};

/// Why a line could not be written (go-logfmt's errors).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogfmtError {
    /// A key with nothing left once go-logfmt's invalid characters are removed.
    #[error("invalid key")]
    InvalidKey,
}

/// A character go-logfmt does not allow in a key, and quotes in a value.
pub fn invalid_rune(c: char) -> bool {
    c <= ' ' || c == '=' || c == '"' || c == '\u{fffd}'
}

/// The pairs as one logfmt line: `k=v` separated by spaces.
pub fn marshal<'a>(pairs: impl IntoIterator<Item = (&'a str, Option<&'a AnyValue>)>) -> Result<String, LogfmtError> {
    let mut out = String::new();
    for (k, v) in pairs {
        // go-logfmt drops the characters a key cannot hold.
        let key: String = k.chars().filter(|c| !invalid_rune(*c)).collect();
        if key.is_empty() {
            return Err(LogfmtError::InvalidKey);
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&key);
        out.push('=');
        value(&mut out, v.and_then(|v| v.value.as_ref()));
    }
    Ok(out)
}

fn value(out: &mut String, v: Option<&any_value::Value>) {
    use any_value::Value as V;
    match v {
        None => out.push_str("null"),
        Some(V::StringValue(s)) => string_value(out, s),
        Some(V::BoolValue(b)) => out.push_str(if *b { "true" } else { "false" }),
        Some(V::IntValue(i)) => out.push_str(&i.to_string()),
        Some(V::DoubleValue(d)) => text(out, &eval::gofmt::format_float(*d, eval::gofmt::FloatFmt::G, None)),
        Some(V::BytesValue(b)) => text(out, &String::from_utf8_lossy(b)),
        Some(V::StringValueStrindex(i)) => out.push_str(&i.to_string()),
        // Lists and maps are not logfmt values: go-logfmt writes its error in their place.
        Some(V::ArrayValue(_) | V::KvlistValue(_)) => out.push_str("\"unsupported value type\""),
    }
}

/// A string value; the text "null" is quoted so that it reads back as a string.
pub fn string_value(out: &mut String, s: &str) {
    if s == "null" {
        out.push_str("\"null\"");
    } else {
        text(out, s);
    }
}

/// A value, quoted with JSON-like escapes when it holds a space, `=`, `"`, a control
/// character or U+FFFD; an empty value is written as nothing.
fn text(out: &mut String, s: &str) {
    if !s.chars().any(invalid_rune) {
        out.push_str(s);
        return;
    }
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{fffd}' => out.push_str("\\ufffd"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otelcol::connector::values::string;

    fn v(x: any_value::Value) -> AnyValue {
        AnyValue { value: Some(x) }
    }

    #[test]
    fn quotes_only_what_needs_it() {
        let a = string("plain");
        let b = string("two words");
        let c = string("q\"u\\o\nte\u{1}");
        let d = string("");
        let e = string("null");
        let line = marshal([("a", Some(&a)), ("b", Some(&b)), ("c", Some(&c)), ("d", Some(&d)), ("e", Some(&e)), ("f", None)]).unwrap();
        assert_eq!(line, r#"a=plain b="two words" c="q\"u\\o\nte\u0001" d= e="null" f=null"#);
    }

    #[test]
    fn numbers_as_go_prints_them() {
        let i = v(any_value::Value::IntValue(-42));
        let f = v(any_value::Value::DoubleValue(1.5));
        let big = v(any_value::Value::DoubleValue(1234567.0));
        let b = v(any_value::Value::BoolValue(true));
        let l = v(any_value::Value::ArrayValue(Default::default()));
        let line = marshal([("i", Some(&i)), ("f", Some(&f)), ("big", Some(&big)), ("b", Some(&b)), ("l", Some(&l))]).unwrap();
        assert_eq!(line, r#"i=-42 f=1.5 big=1.234567e+06 b=true l="unsupported value type""#);
    }

    #[test]
    fn keys_lose_invalid_characters_and_an_empty_key_fails() {
        let a = string("1");
        assert_eq!(marshal([("a b=c", Some(&a))]).unwrap(), "abc=1");
        assert_eq!(marshal([(" ", Some(&a))]), Err(LogfmtError::InvalidKey));
    }
}
