//! Runtime values: OTLP `AnyValue`s plus times and durations, with the conversions,
//! comparisons and text forms the functions share.

use std::cmp::Ordering;

use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, ArrayValue, KeyValue, KeyValueList};

use super::EvalError;

#[derive(Clone, Debug, Default, PartialEq)]
pub enum Value {
    #[default]
    Nil,
    Bool(bool),
    Int(i64),
    Double(f64),
    Str(String),
    Bytes(Vec<u8>),
    List(Vec<Value>),
    /// Entries in order, as OTLP keeps them.
    Map(Vec<(String, Value)>),
    /// Nanoseconds since the epoch.
    Time(i64),
    /// Nanoseconds.
    Duration(i64),
}

impl Value {
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Double(_) => "double",
            Value::Str(_) => "string",
            Value::Bytes(_) => "bytes",
            Value::List(_) => "list",
            Value::Map(_) => "map",
            Value::Time(_) => "time",
            Value::Duration(_) => "duration",
        }
    }

    pub fn from_any(v: &AnyValue) -> Value {
        Value::from_opt(v.value.as_ref())
    }

    fn from_opt(v: Option<&any_value::Value>) -> Value {
        use any_value::Value as V;
        match v {
            None => Value::Nil,
            Some(V::StringValue(s)) => Value::Str(s.clone()),
            Some(V::BoolValue(b)) => Value::Bool(*b),
            Some(V::IntValue(i)) => Value::Int(*i),
            Some(V::DoubleValue(d)) => Value::Double(*d),
            Some(V::BytesValue(b)) => Value::Bytes(b.clone()),
            Some(V::ArrayValue(a)) => Value::List(a.values.iter().map(Value::from_any).collect()),
            Some(V::KvlistValue(kv)) => Value::from_kvs(&kv.values),
            // An index into a profile's string table: nothing a statement can read.
            Some(V::StringValueStrindex(_)) => Value::Nil,
        }
    }

    pub fn from_kvs(kvs: &[KeyValue]) -> Value {
        Value::Map(kvs.iter().map(|kv| (kv.key.clone(), kv.value.as_ref().map_or(Value::Nil, Value::from_any))).collect())
    }

    /// The OTLP form; times and durations have none.
    pub fn to_any(&self) -> Result<AnyValue, EvalError> {
        use any_value::Value as V;
        let value = match self {
            Value::Nil => None,
            Value::Bool(b) => Some(V::BoolValue(*b)),
            Value::Int(i) => Some(V::IntValue(*i)),
            Value::Double(d) => Some(V::DoubleValue(*d)),
            Value::Str(s) => Some(V::StringValue(s.clone())),
            Value::Bytes(b) => Some(V::BytesValue(b.clone())),
            Value::List(items) => Some(V::ArrayValue(ArrayValue { values: items.iter().map(Value::to_any).collect::<Result<_, _>>()? })),
            Value::Map(entries) => Some(V::KvlistValue(KeyValueList { values: to_kvs(entries)? })),
            Value::Time(_) | Value::Duration(_) => {
                return Err(EvalError(format!("a {} cannot be stored in telemetry; convert it with UnixNano or String first", self.type_name())))
            }
        };
        Ok(AnyValue { value })
    }

    /// Text as `String()` and string-like arguments see it: numbers in Go's shortest form,
    /// bytes in hex, maps and lists as JSON, nil as empty.
    pub fn text(&self) -> String {
        match self {
            Value::Nil => String::new(),
            Value::Str(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Double(d) => format_double(*d),
            Value::Bytes(b) => hex(b),
            Value::List(_) | Value::Map(_) => self.to_json().to_string(),
            Value::Time(t) => t.to_string(),
            Value::Duration(d) => format_duration(*d),
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Nil => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Double(d) => serde_json::Number::from_f64(*d).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.clone()),
            Value::Bytes(b) => J::String(hex(b)),
            Value::List(items) => J::Array(items.iter().map(Value::to_json).collect()),
            Value::Map(entries) => J::Object(entries.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()),
            Value::Time(_) | Value::Duration(_) => J::String(self.text()),
        }
    }

    /// JSON as upstream's ParseJSON reads it: every number a double.
    pub fn from_json(j: &serde_json::Value) -> Value {
        use serde_json::Value as J;
        match j {
            J::Null => Value::Nil,
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => Value::Double(n.as_f64().unwrap_or(f64::NAN)),
            J::String(s) => Value::Str(s.clone()),
            J::Array(items) => Value::List(items.iter().map(Value::from_json).collect()),
            J::Object(o) => Value::Map(o.iter().map(|(k, v)| (k.clone(), Value::from_json(v))).collect()),
        }
    }

    /// The entries of a map; empty for anything else.
    pub fn into_map(self) -> Vec<(String, Value)> {
        match self {
            Value::Map(entries) => entries,
            _ => Vec::new(),
        }
    }

    /// `self[key]`: a map entry by string, a list element by index; nil when absent.
    pub fn index(&self, key: &Value) -> Result<Value, EvalError> {
        match (self, key) {
            (Value::Map(entries), Value::Str(k)) => Ok(entries.iter().find(|(ek, _)| ek == k).map_or(Value::Nil, |(_, v)| v.clone())),
            (Value::List(items), Value::Int(i)) => {
                let at = usize::try_from(*i).ok().filter(|i| *i < items.len());
                at.map(|i| items[i].clone()).ok_or_else(|| EvalError(format!("index {i} out of bounds for a list of {}", items.len())))
            }
            (Value::Nil, _) => Ok(Value::Nil),
            (container, key) => Err(EvalError(format!("cannot index a {} with a {}", container.type_name(), key.type_name()))),
        }
    }

    /// Sets `self[keys...] = v`, creating maps for absent keys.
    pub fn set_in(&mut self, keys: &[Value], v: Value) -> Result<(), EvalError> {
        let Some((first, rest)) = keys.split_first() else {
            *self = v;
            return Ok(());
        };
        if matches!(self, Value::Nil) {
            *self = Value::Map(Vec::new());
        }
        let slot = match (&mut *self, first) {
            (Value::Map(entries), Value::Str(k)) => match entries.iter().position(|(ek, _)| ek == k) {
                Some(i) => &mut entries[i].1,
                None => {
                    entries.push((k.clone(), Value::Nil));
                    let last = entries.len() - 1;
                    &mut entries[last].1
                }
            },
            (Value::List(items), Value::Int(i)) => {
                let len = items.len();
                match usize::try_from(*i).ok().and_then(|i| items.get_mut(i)) {
                    Some(slot) => slot,
                    None => return Err(EvalError(format!("index {i} out of bounds for a list of {len}"))),
                }
            }
            (container, key) => return Err(EvalError(format!("cannot index a {} with a {}", container.type_name(), key.type_name()))),
        };
        slot.set_in(rest, v)
    }
}

pub fn to_kvs(entries: &[(String, Value)]) -> Result<Vec<KeyValue>, EvalError> {
    entries.iter().map(|(k, v)| Ok(KeyValue { key: k.clone(), value: Some(v.to_any()?), ..Default::default() })).collect()
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Go's `strconv.FormatFloat(d, 'f', -1, 64)`: shortest digits, no exponent.
pub fn format_double(d: f64) -> String {
    if d.is_nan() {
        "NaN".into()
    } else if d.is_infinite() {
        if d > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{d}")
    }
}

/// Go's `time.Duration.String()`: `1h2m3.5s`, `250ms`, `0s`.
pub fn format_duration(ns: i64) -> String {
    if ns == 0 {
        return "0s".into();
    }
    let sign = if ns < 0 { "-" } else { "" };
    let u = ns.unsigned_abs();
    if u < 1_000 {
        return format!("{sign}{u}ns");
    }
    if u < 1_000_000 {
        return format!("{sign}{}µs", trim_fraction(u, 1_000));
    }
    if u < 1_000_000_000 {
        return format!("{sign}{}ms", trim_fraction(u, 1_000_000));
    }
    let (h, rest) = (u / 3_600_000_000_000, u % 3_600_000_000_000);
    let (m, rest) = (rest / 60_000_000_000, rest % 60_000_000_000);
    let secs = trim_fraction(rest, 1_000_000_000);
    match (h, m) {
        (0, 0) => format!("{sign}{secs}s"),
        (0, m) => format!("{sign}{m}m{secs}s"),
        (h, m) => format!("{sign}{h}h{m}m{secs}s"),
    }
}

fn trim_fraction(v: u64, unit: u64) -> String {
    let (whole, frac) = (v / unit, v % unit);
    if frac == 0 {
        return whole.to_string();
    }
    let digits = unit.ilog10() as usize;
    let f = format!("{frac:0digits$}");
    format!("{whole}.{}", f.trim_end_matches('0'))
}

/// Equality as OTTL compares: numbers across int and double, otherwise same type and value.
pub fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Int(x), Value::Double(y)) | (Value::Double(y), Value::Int(x)) => (*x as f64) == *y,
        _ => a == b,
    }
}

/// Ordering for `< <= > >=`: numbers, strings, times and durations; `None` otherwise (the
/// comparison is then false).
pub fn order(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Int(x), Value::Double(y)) => (*x as f64).partial_cmp(y),
        (Value::Double(x), Value::Int(y)) => x.partial_cmp(&(*y as f64)),
        (Value::Double(x), Value::Double(y)) => x.partial_cmp(y),
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        (Value::Time(x), Value::Time(y)) | (Value::Duration(x), Value::Duration(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// Go's `time.ParseDuration`: a sequence of decimal numbers with units ns, us/µs, ms, s, m, h.
pub fn parse_duration(s: &str) -> Result<i64, EvalError> {
    let bad = || EvalError(format!("invalid duration {s:?}"));
    let (neg, mut rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(bad)?;
        let n: f64 = rest[..num_len].parse().map_err(|_| bad())?;
        rest = &rest[num_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(bad()),
        };
        total += n * scale;
        rest = &rest[unit_len..];
    }
    let ns = if neg { -total } else { total };
    if ns.abs() > i64::MAX as f64 {
        return Err(EvalError(format!("duration {s:?} overflows")));
    }
    Ok(ns as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_and_print_like_go() {
        assert_eq!(parse_duration("1h30m").unwrap(), 5_400_000_000_000);
        assert_eq!(parse_duration("1.5s").unwrap(), 1_500_000_000);
        assert_eq!(parse_duration("-250ms").unwrap(), -250_000_000);
        assert!(parse_duration("5 minutes").is_err());
        assert!(parse_duration("").is_err());
        assert_eq!(format_duration(5_400_000_000_000), "1h30m0s");
        assert_eq!(format_duration(1_500_000_000), "1.5s");
        assert_eq!(format_duration(250_000_000), "250ms");
        assert_eq!(format_duration(0), "0s");
    }

    #[test]
    fn nested_set_creates_maps_and_round_trips_to_otlp() {
        let mut v = Value::Nil;
        v.set_in(&[Value::Str("a".into()), Value::Str("b".into())], Value::Int(1)).unwrap();
        assert_eq!(v, Value::Map(vec![("a".into(), Value::Map(vec![("b".into(), Value::Int(1))]))]));
        assert_eq!(Value::from_any(&v.to_any().unwrap()), v);
        assert!(Value::Time(1).to_any().is_err());
        assert!(v.set_in(&[Value::Int(0)], Value::Nil).is_err());
    }

    #[test]
    fn text_and_comparisons() {
        assert_eq!(Value::Double(100.0).text(), "100");
        assert_eq!(Value::Double(1.25).text(), "1.25");
        assert_eq!(Value::Bytes(vec![1, 255]).text(), "01ff");
        assert_eq!(Value::Map(vec![("a".into(), Value::List(vec![Value::Int(1)]))]).text(), r#"{"a":[1]}"#);
        assert!(equal(&Value::Int(1), &Value::Double(1.0)));
        assert!(!equal(&Value::Int(1), &Value::Str("1".into())));
        assert_eq!(order(&Value::Str("a".into()), &Value::Int(1)), None);
    }
}
