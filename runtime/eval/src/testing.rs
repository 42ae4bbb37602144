//! Support for table-driven tests (the conformance suite and this crate's own tables): the
//! compact value notation of the evaluator tables, typed decoding by Go type name, and
//! scope bindings written as `name=<literal>`.
//!
//! This notation shows secrets' text (`secret("foo")`): it exists to compare decoded values
//! in tests, never for output a user sees.

use std::collections::BTreeMap;

use crate::decode::Decode;
use crate::error::ValueError;
use crate::number::{format_float_plain, Number};
use crate::value::{OptionalSecret, Secret, Str, Value};
use crate::{EvalFailure, Evaluator, Scope};

/// Compact notation: ints plain, floats always with a `.` (`12.0`, `+Inf`), strings
/// Go-quoted, `[a, b]`, `{k = v}` with sorted keys, `secret("…")`, `optional_secret("…", b)`.
pub fn compact(v: &Value) -> String {
    let mut out = String::new();
    write(v, &mut out);
    out
}

/// Floats always with a `.` or as `NaN`, `+Inf`, `-Inf`.
fn float_text(f: f64) -> String {
    let s = format_float_plain(f);
    if f.is_finite() && !s.contains('.') {
        format!("{s}.0")
    } else {
        s
    }
}

fn write(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(Number::Int(i)) => out.push_str(&i.to_string()),
        Value::Number(Number::Uint(u)) => out.push_str(&u.to_string()),
        Value::Number(Number::Float(f)) => out.push_str(&float_text(*f)),
        Value::String(s) => out.push_str(&syntax::quote::go_quote_bytes(s.as_bytes())),
        Value::Array(_) | Value::Bytes(_) => crate::render::write_list(v, out, write),
        Value::Object(o) => {
            out.push('{');
            let mut entries = o.entries();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&crate::render::render_key(k));
                out.push_str(" = ");
                write(v, out);
            }
            out.push('}');
        }
        Value::Function(_) => out.push_str("function"),
        Value::Capsule(c) => {
            out.push_str("capsule(");
            out.push_str(&syntax::quote::go_quote(c.type_name()));
            out.push(')');
        }
        Value::Secret(s) => {
            out.push_str("secret(");
            out.push_str(&syntax::quote::go_quote_bytes(s.expose().as_bytes()));
            out.push(')');
        }
        Value::OptionalSecret(os) => {
            out.push_str("optional_secret(");
            out.push_str(&syntax::quote::go_quote_bytes(os.expose().as_bytes()));
            out.push_str(&format!(", {})", os.is_secret));
        }
    }
}

fn go_kind(v: &Value) -> &'static str {
    match v {
        Value::Number(Number::Int(_)) => "int",
        Value::Number(Number::Uint(u)) if *u <= i64::MAX as u64 => "int",
        Value::Number(Number::Uint(_)) => "uint64",
        Value::Number(Number::Float(_)) => "float64",
        Value::String(_) => "string",
        Value::Bool(_) => "bool",
        Value::Null => "invalid",
        Value::Array(_) | Value::Bytes(_) => "slice",
        Value::Object(_) => "map",
        Value::Function(_) => "func",
        _ => "struct",
    }
}

/// Decodes `v` into the Go type named `decode_as` and renders the result compactly.
pub fn decode_as(v: &Value, decode_as: &str) -> Result<String, ValueError> {
    fn int<T: Decode + ToString>(v: &Value) -> Result<String, ValueError> {
        T::decode(v).map(|x| x.to_string())
    }
    Ok(match decode_as {
        "any" => compact(&Value::decode(v)?),
        "kind" => go_kind(&Value::decode(v)?).to_string(),
        "int" | "int64" => int::<i64>(v)?,
        "int8" => int::<i8>(v)?,
        "int16" => int::<i16>(v)?,
        "int32" => int::<i32>(v)?,
        "uint" | "uint64" => int::<u64>(v)?,
        "uint8" => int::<u8>(v)?,
        "uint16" => int::<u16>(v)?,
        "uint32" => int::<u32>(v)?,
        "float64" => float_text(f64::decode(v)?),
        "float32" => {
            let f = f32::decode(v)?;
            let s = format!("{f}");
            if s.contains('.') || s.contains("inf") || s.contains("NaN") {
                s
            } else {
                format!("{s}.0")
            }
        }
        "string" => syntax::quote::go_quote_bytes(Str::decode(v)?.as_bytes()),
        "bool" => bool::decode(v)?.to_string(),
        "[]int" => compact(&Value::array(Vec::<i64>::decode(v)?.into_iter().map(Value::int).collect())),
        "[]bool" => compact(&Value::array(Vec::<bool>::decode(v)?.into_iter().map(Value::Bool).collect())),
        "[]string" => compact(&Value::array(Vec::<Str>::decode(v)?.into_iter().map(Value::String).collect())),
        "[]any" => compact(&Value::array(Vec::<Value>::decode(v)?)),
        "map[string]int" => {
            let m = BTreeMap::<String, i64>::decode(v)?;
            compact(&Value::object(m.into_iter().map(|(k, v)| (k.into(), Value::int(v))).collect()))
        }
        "map[string]any" => {
            let m = BTreeMap::<String, Value>::decode(v)?;
            compact(&Value::object(m.into_iter().map(|(k, v)| (k.into(), v)).collect()))
        }
        "[]map[string]any" => {
            let items = Vec::<BTreeMap<String, Value>>::decode(v)?;
            compact(&Value::array(items.into_iter().map(|m| Value::object(m.into_iter().map(|(k, v)| (k.into(), v)).collect())).collect()))
        }
        "alloytypes.Secret" => compact(&Value::Secret(Secret::decode(v)?)),
        "alloytypes.OptionalSecret" => compact(&Value::OptionalSecret(OptionalSecret::decode(v)?)),
        other => return Err(ValueError::message(format!("test support: unknown decode target {other}"))),
    })
}

/// Evaluates `src` with `scope`, decodes into `decode_as` and renders compactly; errors are
/// upstream's error strings.
pub fn run_case(src: &str, decode_as_ty: &str, scope: &Scope) -> Result<String, String> {
    let parsed = syntax::parse_expression(src.as_bytes());
    if parsed.has_errors() {
        return Err(EvalFailure::Parse { diagnostics: parsed.diagnostics, lines: parsed.lines }.render(""));
    }
    let mut ev = Evaluator::new(&parsed.lines, scope);
    let v = ev.eval(&parsed.tree).map_err(|e| e.render("", &parsed.lines))?;
    decode_as(&v, decode_as_ty).map_err(|e| ev.attribute(Some(&parsed.tree), &v, e, false).render("", &parsed.lines))
}

/// Parses one binding value: an Alloy literal expression, `uint64(N)`, `secret("…")` or
/// `optional_secret("…", bool)`.
pub fn parse_binding(text: &str) -> Result<Value, String> {
    let t = text.trim();
    if let Some(inner) = t.strip_prefix("uint64(").and_then(|r| r.strip_suffix(')')) {
        return inner.trim().parse::<u64>().map(Value::uint).map_err(|e| e.to_string());
    }
    if let Some(inner) = t.strip_prefix("secret(").and_then(|r| r.strip_suffix(')')) {
        return match literal(inner)? {
            Value::String(s) => Ok(Value::Secret(Secret::new(s))),
            _ => Err(format!("bad secret binding {t}")),
        };
    }
    if let Some(inner) = t.strip_prefix("optional_secret(").and_then(|r| r.strip_suffix(')')) {
        let (s, flag) = inner.rsplit_once(',').ok_or_else(|| format!("bad binding {t}"))?;
        let flag = flag.trim() == "true";
        return match literal(s)? {
            Value::String(s) => Ok(Value::OptionalSecret(OptionalSecret::new(s, flag))),
            _ => Err(format!("bad optional secret binding {t}")),
        };
    }
    literal(t)
}

fn literal(src: &str) -> Result<Value, String> {
    crate::eval_source(src, &Scope::new()).map(|(v, _)| v).map_err(|e| e.render(""))
}
