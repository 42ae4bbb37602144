//! The converters: functions that compute a value.

use base64::Engine as _;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;

use super::text::{capitalise, go_format, parse_key_value, words};
use super::{base64_engine, err, fnv1a, hash, Args};
use crate::ast::Call;
use crate::eval::item::Item;
use crate::eval::value::{format_double, hex, parse_duration, Value};
use crate::eval::EvalError;

pub fn converter(c: &Call, item: &Item) -> Result<Value, EvalError> {
    let a = Args::new(c)?;
    Ok(match c.name.as_str() {
        "Concat" => {
            let parts: Vec<String> = a.values(0, item)?.iter().map(|v| if matches!(v, Value::Nil) { "<nil>".to_string() } else { v.text() }).collect();
            Value::Str(parts.join(&a.string(1, item)?))
        }
        "ConvertCase" => {
            let s = a.string(0, item)?;
            Value::Str(match a.lit_str(1).unwrap_or("") {
                "lower" => s.to_lowercase(),
                "upper" => s.to_uppercase(),
                "snake" => words(&s).iter().map(|w| w.to_lowercase()).collect::<Vec<_>>().join("_"),
                "camel" => words(&s).iter().map(|w| capitalise(w)).collect(),
                other => return err(format!("ConvertCase: unknown case {other:?}")),
            })
        }
        "Int" => match a.value(0, item)? {
            Value::Int(i) => Value::Int(i),
            Value::Double(d) if d.is_finite() => Value::Int(d.trunc() as i64),
            Value::Bool(b) => Value::Int(i64::from(b)),
            Value::Str(s) => s.trim().parse().map_or(Value::Nil, Value::Int),
            _ => Value::Nil,
        },
        "Double" => match a.value(0, item)? {
            Value::Int(i) => Value::Double(i as f64),
            Value::Double(d) => Value::Double(d),
            Value::Bool(b) => Value::Double(if b { 1.0 } else { 0.0 }),
            Value::Str(s) => s.trim().parse().map_or(Value::Nil, Value::Double),
            _ => Value::Nil,
        },
        "String" => match a.value(0, item)? {
            Value::Nil => Value::Nil,
            v => Value::Str(v.text()),
        },
        "Bool" => match a.value(0, item)? {
            Value::Bool(b) => Value::Bool(b),
            Value::Int(i) => Value::Bool(i != 0),
            Value::Double(d) => Value::Bool(d != 0.0),
            Value::Str(s) => match s.as_str() {
                "1" | "t" | "T" | "TRUE" | "true" | "True" => Value::Bool(true),
                "0" | "f" | "F" | "FALSE" | "false" | "False" => Value::Bool(false),
                _ => Value::Nil,
            },
            _ => Value::Nil,
        },
        "IsMatch" => match a.value(0, item)? {
            Value::Nil => Value::Bool(false),
            v => Value::Bool(a.regex(1)?.is_match(&v.text())),
        },
        "IsString" => Value::Bool(matches!(a.value(0, item)?, Value::Str(_))),
        "IsInt" => Value::Bool(matches!(a.value(0, item)?, Value::Int(_))),
        "IsDouble" => Value::Bool(matches!(a.value(0, item)?, Value::Double(_))),
        "IsBool" => Value::Bool(matches!(a.value(0, item)?, Value::Bool(_))),
        "IsMap" => Value::Bool(matches!(a.value(0, item)?, Value::Map(_))),
        "IsList" => Value::Bool(matches!(a.value(0, item)?, Value::List(_))),
        "Len" => Value::Int(
            i64::try_from(match a.value(0, item)? {
                Value::Str(s) => s.len(),
                Value::List(l) => l.len(),
                Value::Map(m) => m.len(),
                Value::Bytes(b) => b.len(),
                other => return err(format!("Len: a {} has no length", other.type_name())),
            })
            .unwrap_or(i64::MAX),
        ),
        "ParseJSON" => {
            let s = a.string(0, item)?;
            let j: serde_json::Value = serde_json::from_str(&s).map_err(|e| EvalError(format!("ParseJSON: {e}")))?;
            match j {
                serde_json::Value::Object(_) | serde_json::Value::Array(_) => Value::from_json(&j),
                _ => return err("ParseJSON: expected a JSON object or array"),
            }
        }
        "ParseKeyValue" => parse_key_value(&a.string(0, item)?, a.lit_str(1).unwrap_or("="), a.lit_str(2).unwrap_or(" "))?,
        "SHA1" | "SHA256" | "SHA512" | "MD5" => Value::Str(hash(&c.name, &a.string(0, item)?)),
        "FNV" => Value::Int(fnv1a(a.string(0, item)?.as_bytes())),
        "Split" => {
            let s = a.string(0, item)?;
            match a.lit_str(1).unwrap_or(",") {
                // Go splits at every character then.
                "" => Value::List(s.chars().map(|c| Value::Str(c.to_string())).collect()),
                d => Value::List(s.split(d).map(|p| Value::Str(p.to_string())).collect()),
            }
        }
        "Substring" => {
            let s = a.string(0, item)?;
            let (start, len) = (a.int(1, item)?, a.int(2, item)?);
            let range = usize::try_from(start).ok().zip(usize::try_from(len).ok()).filter(|(_, l)| *l > 0).map(|(st, l)| st..st.saturating_add(l));
            match range.and_then(|r| s.get(r)) {
                Some(sub) => Value::Str(sub.to_string()),
                None => return err(format!("Substring: start {start} and length {len} are out of range for a string of {} bytes", s.len())),
            }
        }
        "ToLowerCase" => Value::Str(a.string(0, item)?.to_lowercase()),
        "ToUpperCase" => Value::Str(a.string(0, item)?.to_uppercase()),
        "Trim" => {
            let cut: Vec<char> = a.lit_str(1).unwrap_or(" ").chars().collect();
            Value::Str(a.string(0, item)?.trim_matches(|c| cut.contains(&c)).to_string())
        }
        "HasPrefix" => Value::Bool(a.string(0, item)?.starts_with(&a.string(1, item)?)),
        "HasSuffix" => Value::Bool(a.string(0, item)?.ends_with(&a.string(1, item)?)),
        "TraceID" | "SpanID" => {
            let want = if c.name == "TraceID" { 16 } else { 8 };
            match a.value(0, item)? {
                Value::Bytes(b) if b.len() == want => Value::Bytes(b),
                other => return err(format!("{}: expected {want} bytes, got {}", c.name, other.text())),
            }
        }
        "Now" => {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_err(|e| EvalError(e.to_string()))?;
            Value::Time(i64::try_from(now.as_nanos()).unwrap_or(i64::MAX))
        }
        "Time" => Value::Time(crate::timefmt::parse(&a.string(0, item)?, a.lit_str(1).unwrap_or("")).map_err(|e| EvalError(format!("Time: {e}")))?),
        "FormatTime" => Value::Str(crate::timefmt::format(a.time(0, item)?, a.lit_str(1).unwrap_or("")).map_err(|e| EvalError(format!("FormatTime: {e}")))?),
        "Year" | "Month" | "Day" | "Hour" | "Minute" | "Second" | "Nanosecond" | "Weekday" => {
            let [y, mo, d, h, mi, s, ns, wd] = crate::timefmt::parts(a.time(0, item)?);
            Value::Int(match c.name.as_str() {
                "Year" => y,
                "Month" => mo,
                "Day" => d,
                "Hour" => h,
                "Minute" => mi,
                "Second" => s,
                "Nanosecond" => ns,
                _ => wd,
            })
        }
        "Hours" | "Minutes" | "Seconds" | "Milliseconds" | "Microseconds" | "Nanoseconds" => {
            let d = match a.value(0, item)? {
                Value::Duration(d) => d,
                other => return err(format!("{}: expected a duration, got a {}", c.name, other.type_name())),
            };
            match c.name.as_str() {
                "Hours" => Value::Double(d as f64 / 3_600e9),
                "Minutes" => Value::Double(d as f64 / 60e9),
                "Seconds" => Value::Double(d as f64 / 1e9),
                "Milliseconds" => Value::Int(d / 1_000_000),
                "Microseconds" => Value::Int(d / 1_000),
                _ => Value::Int(d),
            }
        }
        "UnixNano" => Value::Int(a.time(0, item)?),
        "UnixMilli" => Value::Int(a.time(0, item)?.div_euclid(1_000_000)),
        "UnixSeconds" => Value::Int(a.time(0, item)?.div_euclid(1_000_000_000)),
        "Unix" => {
            let secs = a.int(0, item)?;
            let nanos = if a.arg(1).is_some() { a.int(1, item)? } else { 0 };
            let t = secs.checked_mul(1_000_000_000).and_then(|s| s.checked_add(nanos));
            Value::Time(t.ok_or_else(|| EvalError("Unix: the time overflows".into()))?)
        }
        "Duration" => Value::Duration(parse_duration(&a.string(0, item)?)?),
        "Hex" => Value::Str(match a.value(0, item)? {
            Value::Bytes(b) => hex(&b),
            Value::Str(s) => hex(s.as_bytes()),
            Value::Int(i) => hex(&i.to_be_bytes()),
            Value::Double(d) => hex(&d.to_bits().to_be_bytes()),
            Value::Bool(b) => hex(&[u8::from(b)]),
            other => return err(format!("Hex: cannot encode a {}", other.type_name())),
        }),
        "Format" => Value::Str(go_format(a.lit_str(0).unwrap_or(""), &a.values(1, item)?)?),
        "Log" => {
            let x = a.double(0, item)?;
            if x <= 0.0 {
                return err(format!("Log: the logarithm of {} is undefined", format_double(x)));
            }
            Value::Double(x.ln())
        }
        "ExtractPatterns" => {
            let s = a.string(0, item)?;
            let re = a.regex(1)?;
            let mut out = Vec::new();
            if let Some(caps) = re.captures(&s) {
                for name in re.capture_names().flatten() {
                    if let Some(m) = caps.name(name) {
                        out.push((name.to_string(), Value::Str(m.as_str().to_string())));
                    }
                }
            }
            Value::Map(out)
        }
        "Base64Decode" | "Decode" => {
            let variant = if c.name == "Decode" { a.lit_str(1).unwrap_or("base64") } else { "base64" };
            let bytes = base64_engine(variant).decode(a.string(0, item)?).map_err(|e| EvalError(format!("{}: {e}", c.name)))?;
            Value::Str(String::from_utf8_lossy(&bytes).into_owned())
        }
        "Base64Encode" => Value::Str(base64_engine(a.lit_str(1).unwrap_or("base64")).encode(a.string(0, item)?)),
        "HasAttrKeyOnDatapoint" | "HasAttrOnDatapoint" => {
            let key = a.lit_str(0).unwrap_or("");
            let want = a.lit_str(1);
            let matches = |attrs: &[KeyValue]| {
                attrs.iter().any(|kv| {
                    kv.key == key
                        && want.is_none_or(|w| matches!(kv.value.as_ref().and_then(|v| v.value.as_ref()), Some(opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(s)) if s == w))
                })
            };
            let data = item.metric.as_ref().and_then(|m| m.data.as_ref());
            Value::Bool(match data {
                Some(Data::Gauge(g)) => g.data_points.iter().any(|p| matches(&p.attributes)),
                Some(Data::Sum(s)) => s.data_points.iter().any(|p| matches(&p.attributes)),
                Some(Data::Histogram(h)) => h.data_points.iter().any(|p| matches(&p.attributes)),
                Some(Data::ExponentialHistogram(h)) => h.data_points.iter().any(|p| matches(&p.attributes)),
                Some(Data::Summary(s)) => s.data_points.iter().any(|p| matches(&p.attributes)),
                None => false,
            })
        }
        "IsRootSpan" => Value::Bool(item.span.as_ref().is_some_and(|s| s.parent_span_id.is_empty())),
        other => return err(format!("{other} is not a converter")),
    })
}
