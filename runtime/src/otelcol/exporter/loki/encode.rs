//! OTLP log record → Loki entry, as the collector's Loki translator does it: labels from the
//! default resource attributes and the `loki.*` hints, the promoted and hint attributes
//! removed, then the line encoded as `json`, `logfmt` or `raw` (the `loki.format` hint).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use loki::Entry;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use prom::Labels;

use crate::otelcol::hex;
pub use crate::otelcol::value::{as_string, es6_float};
use crate::otelcol::value::{go_sprint_float, json_map, json_string, json_value, UnsupportedValue};

pub const HINT_ATTRIBUTES: &str = "loki.attribute.labels";
pub const HINT_RESOURCES: &str = "loki.resource.labels";
pub const HINT_TENANT: &str = "loki.tenant";
pub const HINT_FORMAT: &str = "loki.format";

fn get<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a AnyValue> {
    // A map keeps the last of duplicate keys; so do we.
    attrs.iter().rev().find(|kv| kv.key == key).map(|kv| kv.value.as_ref().unwrap_or(&EMPTY))
}

static EMPTY: AnyValue = AnyValue { value: None };

/// `a.b.c` as a path into map values, trying the longest attribute name first at each level.
fn nested<'a>(path: &str, attrs: &'a [KeyValue]) -> Option<&'a AnyValue> {
    let mut i = path.len();
    while let Some(dot) = path[..i].rfind('.') {
        if let Some(any_value::Value::KvlistValue(m)) = get(attrs, &path[..dot]).and_then(|v| v.value.as_ref()) {
            let rest = &path[dot + 1..];
            if let Some(v) = get(&m.values, rest).or_else(|| nested(rest, &m.values)) {
                return Some(v);
            }
        }
        i = dot;
    }
    None
}

/// The attribute names a hint lists: a comma-separated string or a list of values.
fn hint_names(hint: &AnyValue) -> Vec<String> {
    match &hint.value {
        Some(any_value::Value::StringValue(s)) => s.split(',').map(|n| n.trim().to_string()).collect(),
        Some(any_value::Value::ArrayValue(a)) => a.values.iter().map(|v| as_string(v).trim().to_string()).collect(),
        _ => Vec::new(),
    }
}

/// Labels for the attributes a hint names, in the hint's order.
fn hinted(attrs: &[KeyValue], hint: &AnyValue, out: &mut BTreeMap<String, String>) {
    for name in hint_names(hint) {
        if let Some(v) = get(attrs, &name).or_else(|| nested(&name, attrs)) {
            out.insert(name, as_string(v));
        }
    }
}

/// The labels before name normalisation, merged in the translator's order.
fn merged_labels(record: &[KeyValue], resource: &[KeyValue]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    out.insert("exporter".to_string(), "OTLP".to_string());
    if let Some(name) = get(resource, "service.name") {
        let job = match get(resource, "service.namespace") {
            Some(ns) => format!("{}/{}", as_string(ns), as_string(name)),
            None => as_string(name),
        };
        out.insert("job".into(), job);
    }
    if let Some(id) = get(resource, "service.instance.id") {
        out.insert("instance".into(), as_string(id));
    }
    if let Some(h) = get(resource, HINT_RESOURCES) {
        hinted(resource, h, &mut out);
    }
    if let Some(h) = get(record, HINT_RESOURCES) {
        hinted(resource, h, &mut out);
    }
    if let Some(h) = get(record, HINT_ATTRIBUTES) {
        hinted(record, h, &mut out);
    }
    match get(resource, HINT_TENANT) {
        Some(h) => hinted(resource, h, &mut out),
        None => {
            if let Some(h) = get(record, HINT_TENANT) {
                hinted(record, h, &mut out);
            }
        }
    }
    out
}

/// A Prometheus-valid label name: other characters become `_`, a leading digit gets `key_`.
pub fn normalize_label(name: &str) -> String {
    let mut s: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert_str(0, "key_");
    }
    s
}

/// Why a record could not be converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConvertError {
    #[error("invalid format {0}. Expected one of: json, logfmt, raw")]
    Format(String),
    #[error("json: unsupported value: {0}")]
    Json(String),
}

impl From<UnsupportedValue> for ConvertError {
    fn from(e: UnsupportedValue) -> Self {
        ConvertError::Json(e.0)
    }
}

/// Converts one record; `now_ns` is the timestamp when the record has none.
pub fn to_entry(record: &LogRecord, resource: &[KeyValue], scope: Option<&InstrumentationScope>, now_ns: i64) -> Result<Entry, ConvertError> {
    let format = get(resource, HINT_FORMAT).or_else(|| get(&record.attributes, HINT_FORMAT)).map_or_else(|| "json".to_string(), as_string);
    let labels = merged_labels(&record.attributes, resource);
    let keep = |kv: &&KeyValue| ![HINT_ATTRIBUTES, HINT_RESOURCES, HINT_TENANT, HINT_FORMAT].contains(&kv.key.as_str()) && !labels.contains_key(&kv.key);
    let attrs: Vec<KeyValue> = record.attributes.iter().filter(keep).cloned().collect();
    let res: Vec<KeyValue> = resource.iter().filter(keep).cloned().collect();
    let scope = scope.filter(|s| !s.name.is_empty());
    let line = match format.as_str() {
        "json" => encode_json(record, &attrs, &res, scope)?,
        "logfmt" => encode_logfmt(record, &attrs, &res, scope),
        "raw" => record.body.as_ref().map_or_else(String::new, as_string),
        other => return Err(ConvertError::Format(other.to_string())),
    };
    let ts = if record.time_unix_nano != 0 {
        record.time_unix_nano as i64
    } else if record.observed_time_unix_nano != 0 {
        record.observed_time_unix_nano as i64
    } else {
        now_ns
    };
    Ok(Entry::new(Labels::new(labels.iter().map(|(k, v)| (normalize_label(k), v.as_str()))), ts, line))
}

/// `{"body":…,"traceid":…,"spanid":…,"severity":…,"flags":…,"attributes":{…},"resources":{…},
/// "instrumentation_scope":{"name":…,"version":…}}`, empty fields left out.
fn encode_json(r: &LogRecord, attrs: &[KeyValue], res: &[KeyValue], scope: Option<&InstrumentationScope>) -> Result<String, ConvertError> {
    let mut out = String::from("{");
    let field = |out: &mut String, name: &str| {
        if out.len() > 1 {
            out.push(',');
        }
        let _ = write!(out, "\"{name}\":");
    };
    if let Some(body) = r.body.as_ref().filter(|b| b.value.is_some()) {
        field(&mut out, "body");
        json_value(&mut out, body)?;
    }
    if r.trace_id.iter().any(|b| *b != 0) {
        field(&mut out, "traceid");
        json_string(&mut out, &hex(&r.trace_id));
    }
    if r.span_id.iter().any(|b| *b != 0) {
        field(&mut out, "spanid");
        json_string(&mut out, &hex(&r.span_id));
    }
    if !r.severity_text.is_empty() {
        field(&mut out, "severity");
        json_string(&mut out, &r.severity_text);
    }
    if r.flags != 0 {
        field(&mut out, "flags");
        out.push_str(&r.flags.to_string());
    }
    if !attrs.is_empty() {
        field(&mut out, "attributes");
        json_map(&mut out, attrs)?;
    }
    if !res.is_empty() {
        field(&mut out, "resources");
        json_map(&mut out, res)?;
    }
    if let Some(s) = scope {
        field(&mut out, "instrumentation_scope");
        out.push_str("{\"name\":");
        json_string(&mut out, &s.name);
        if !s.version.is_empty() {
            out.push_str(",\"version\":");
            json_string(&mut out, &s.version);
        }
        out.push('}');
    }
    out.push('}');
    Ok(out)
}

// ---- logfmt ----

/// One key/value of a logfmt line. Keys parsed from a string body never match the keys
/// the trace fields replace (upstream compares byte slices with strings).
struct Kv {
    key: String,
    value: String,
    replaceable: bool,
}

fn kv(key: impl Into<String>, value: impl Into<String>) -> Kv {
    Kv { key: key.into(), value: value.into(), replaceable: true }
}

/// A value in the form go-logfmt gives it (`fmt.Sprint` for numbers).
fn scalar(v: &AnyValue) -> Option<String> {
    Some(match &v.value {
        None => return None,
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::DoubleValue(d)) => go_sprint_float(*d),
        Some(any_value::Value::BytesValue(b)) => String::from_utf8_lossy(b).into_owned(),
        Some(any_value::Value::StringValueStrindex(i)) => i.to_string(),
        Some(_) => return None,
    })
}

/// Maps flatten to `key_sub`, lists to `key_<i>`.
fn value_kvs(key: &str, v: &AnyValue, out: &mut Vec<Kv>) {
    let prefix = if key.is_empty() { String::new() } else { format!("{key}_") };
    match &v.value {
        Some(any_value::Value::KvlistValue(m)) => {
            for x in &m.values {
                value_kvs(&format!("{prefix}{}", x.key), x.value.as_ref().unwrap_or(&EMPTY), out);
            }
        }
        Some(any_value::Value::ArrayValue(a)) => {
            for (i, x) in a.values.iter().enumerate() {
                value_kvs(&format!("{prefix}{i}"), x, out);
            }
        }
        _ => {
            if let Some(s) = scalar(v) {
                out.push(kv(key, s));
            }
        }
    }
}

fn body_kvs(body: Option<&AnyValue>) -> Vec<Kv> {
    let mut out = Vec::new();
    let Some(body) = body else { return out };
    match &body.value {
        None => {}
        Some(any_value::Value::StringValue(s)) => match parse_logfmt(s) {
            Some(pairs) => out.extend(pairs.into_iter().map(|(k, v)| Kv { key: k, value: v, replaceable: false })),
            None => out.push(kv("msg", s.clone())),
        },
        Some(any_value::Value::KvlistValue(_)) => value_kvs("", body, &mut out),
        Some(any_value::Value::ArrayValue(_)) => value_kvs("body", body, &mut out),
        Some(_) => out.push(kv("msg", scalar(body).unwrap_or_default())),
    }
    out
}

fn replace_or_append(kvs: &mut Vec<Kv>, key: &str, value: String) {
    match kvs.iter_mut().find(|k| k.replaceable && k.key == key) {
        Some(k) => k.value = value,
        None => kvs.push(kv(key, value)),
    }
}

fn encode_logfmt(r: &LogRecord, attrs: &[KeyValue], res: &[KeyValue], scope: Option<&InstrumentationScope>) -> String {
    let mut kvs = body_kvs(r.body.as_ref());
    if r.trace_id.iter().any(|b| *b != 0) {
        replace_or_append(&mut kvs, "traceID", hex(&r.trace_id));
    }
    if r.span_id.iter().any(|b| *b != 0) {
        replace_or_append(&mut kvs, "spanID", hex(&r.span_id));
    }
    if !r.severity_text.is_empty() {
        replace_or_append(&mut kvs, "severity", r.severity_text.clone());
    }
    if r.flags != 0 {
        replace_or_append(&mut kvs, "flags", r.flags.to_string());
    }
    for a in attrs {
        value_kvs(&format!("attribute_{}", a.key), a.value.as_ref().unwrap_or(&EMPTY), &mut kvs);
    }
    for a in res {
        value_kvs(&format!("resource_{}", a.key), a.value.as_ref().unwrap_or(&EMPTY), &mut kvs);
    }
    if let Some(s) = scope {
        kvs.push(kv("instrumentation_scope_name", s.name.clone()));
        if !s.version.is_empty() {
            kvs.push(kv("instrumentation_scope_version", s.version.clone()));
        }
    }
    let mut out = String::new();
    for k in kvs {
        // go-logfmt drops the characters a key cannot hold, and a key left empty.
        let key: String = k.key.chars().filter(|c| !crate::otelcol::connector::logfmt::invalid_rune(*c)).collect();
        if key.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&key);
        out.push('=');
        crate::otelcol::connector::logfmt::string_value(&mut out, &k.value);
    }
    out
}

/// The first line of `s` as logfmt pairs (a bare key has an empty value), or `None` on a
/// syntax error (go-logfmt's decoder rules).
pub fn parse_logfmt(s: &str) -> Option<Vec<(String, String)>> {
    let line = s.split('\n').next().unwrap_or("").as_bytes();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let mut out = Vec::new();
    let mut pos = 0;
    loop {
        while pos < line.len() && line[pos] <= b' ' {
            pos += 1;
        }
        if pos >= line.len() {
            return Some(out);
        }
        let start = pos;
        while pos < line.len() && line[pos] > b' ' && line[pos] != b'=' {
            if line[pos] == b'"' {
                return None;
            }
            pos += 1;
        }
        let key = &line[start..pos];
        if key.is_empty() || String::from_utf8_lossy(key).contains('\u{fffd}') {
            return None;
        }
        if pos >= line.len() || line[pos] != b'=' {
            out.push((text(key), String::new()));
            continue;
        }
        pos += 1;
        if pos >= line.len() || line[pos] <= b' ' {
            out.push((text(key), String::new()));
            continue;
        }
        if line[pos] == b'"' {
            let mut value = Vec::new();
            pos += 1;
            loop {
                match line.get(pos)? {
                    b'"' => break,
                    b'\\' => {
                        pos += 1;
                        match line.get(pos)? {
                            b'"' => value.push(b'"'),
                            b'\\' => value.push(b'\\'),
                            b'/' => value.push(b'/'),
                            b'b' => value.push(8),
                            b'f' => value.push(12),
                            b'n' => value.push(b'\n'),
                            b'r' => value.push(b'\r'),
                            b't' => value.push(b'\t'),
                            b'u' => {
                                let hex = std::str::from_utf8(line.get(pos + 1..pos + 5)?).ok()?;
                                let c = char::from_u32(u32::from_str_radix(hex, 16).ok()?).unwrap_or('\u{fffd}');
                                value.extend_from_slice(c.to_string().as_bytes());
                                pos += 4;
                            }
                            _ => return None,
                        }
                    }
                    b => value.push(*b),
                }
                pos += 1;
            }
            pos += 1;
            out.push((text(key), text(&value)));
            continue;
        }
        let vstart = pos;
        while pos < line.len() && line[pos] > b' ' {
            if line[pos] == b'=' || line[pos] == b'"' {
                return None;
            }
            pos += 1;
        }
        out.push((text(key), text(&line[vstart..pos])));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otelcol::pdata::tests::kv as skv;
    use opentelemetry_proto::tonic::common::v1::{ArrayValue, KeyValueList};

    fn any(v: any_value::Value) -> Option<AnyValue> {
        Some(AnyValue { value: Some(v) })
    }

    fn kvv(k: &str, v: any_value::Value) -> KeyValue {
        KeyValue { key: k.into(), value: any(v), ..Default::default() }
    }

    fn str_body(s: &str) -> Option<AnyValue> {
        any(any_value::Value::StringValue(s.into()))
    }

    fn record(body: Option<AnyValue>, attrs: Vec<KeyValue>) -> LogRecord {
        LogRecord { body, attributes: attrs, time_unix_nano: 5, ..Default::default() }
    }

    fn labels(e: &Entry) -> Vec<(String, String)> {
        e.labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn default_labels_come_from_the_service_attributes() {
        let res = vec![skv("service.name", "api"), skv("service.namespace", "shop"), skv("service.instance.id", "i-1")];
        let e = to_entry(&record(str_body("x"), vec![]), &res, None, 0).unwrap();
        assert_eq!(labels(&e), pairs(&[("exporter", "OTLP"), ("instance", "i-1"), ("job", "shop/api")]));
        // The service attributes are not promoted, so they stay in the line.
        assert_eq!(e.line, r#"{"body":"x","resources":{"service.instance.id":"i-1","service.name":"api","service.namespace":"shop"}}"#);
        let e = to_entry(&record(None, vec![]), &[skv("service.name", "api")], None, 0).unwrap();
        assert_eq!(labels(&e), pairs(&[("exporter", "OTLP"), ("job", "api")]));
        let e = to_entry(&record(None, vec![]), &[skv("service.namespace", "shop")], None, 0).unwrap();
        assert_eq!(labels(&e), pairs(&[("exporter", "OTLP")]), "no job without service.name");
    }

    #[test]
    fn resource_hints_from_the_resource_and_from_the_record() {
        let res = vec![skv("k8s.pod", "p"), skv("region", "eu"), skv("loki.resource.labels", "k8s.pod, missing")];
        let rec =
            record(str_body("x"), vec![kvv("loki.resource.labels", any_value::Value::ArrayValue(ArrayValue { values: vec![str_body("region").unwrap()] }))]);
        let e = to_entry(&rec, &res, None, 0).unwrap();
        assert_eq!(labels(&e), pairs(&[("exporter", "OTLP"), ("k8s_pod", "p"), ("region", "eu")]));
        assert_eq!(e.line, r#"{"body":"x"}"#, "promoted and hint attributes are removed");
    }

    #[test]
    fn attribute_hints_take_record_attributes_and_nested_paths() {
        let nested = any_value::Value::KvlistValue(KeyValueList { values: vec![kvv("code", any_value::Value::IntValue(200))] });
        let rec = record(str_body("x"), vec![skv("level", "info"), kvv("http", nested), skv("other", "o"), skv("loki.attribute.labels", "level,http.code")]);
        let e = to_entry(&rec, &[], None, 0).unwrap();
        assert_eq!(labels(&e), pairs(&[("exporter", "OTLP"), ("http_code", "200"), ("level", "info")]));
        // `http` itself is not a label name, so the map stays.
        assert_eq!(e.line, r#"{"body":"x","attributes":{"http":{"code":200},"other":"o"}}"#);
    }

    #[test]
    fn the_tenant_hint_prefers_the_resource() {
        let res = vec![skv("tenant.id", "r"), skv("loki.tenant", "tenant.id")];
        let rec = record(None, vec![skv("tenant.id", "a"), skv("loki.tenant", "tenant.id")]);
        let e = to_entry(&rec, &res, None, 0).unwrap();
        assert_eq!(e.labels.get("tenant_id"), Some("r"));
        let e = to_entry(&rec, &[], None, 0).unwrap();
        assert_eq!(e.labels.get("tenant_id"), Some("a"));
        assert_eq!(e.line, "{}");
    }

    #[test]
    fn json_lines_keep_the_field_order_and_go_escaping() {
        let rec = LogRecord {
            body: str_body("a <b> & \"c\"\n"),
            trace_id: vec![0xab; 16],
            span_id: vec![0x01; 8],
            severity_text: "WARN".into(),
            flags: 1,
            attributes: vec![skv("z", "1"), kvv("a", any_value::Value::DoubleValue(1.0)), kvv("f", any_value::Value::DoubleValue(1e21))],
            ..Default::default()
        };
        let scope = InstrumentationScope { name: "lib".into(), version: "1.2".into(), ..Default::default() };
        let e = to_entry(&rec, &[skv("host", "h")], Some(&scope), 9).unwrap();
        assert_eq!(
            e.line,
            format!(
                "{{\"body\":\"a \\u003cb\\u003e \\u0026 \\\"c\\\"\\n\",\"traceid\":\"{}\",\"spanid\":\"0101010101010101\",\"severity\":\"WARN\",\"flags\":1,\"attributes\":{{\"a\":1,\"f\":1e+21,\"z\":\"1\"}},\"resources\":{{\"host\":\"h\"}},\"instrumentation_scope\":{{\"name\":\"lib\",\"version\":\"1.2\"}}}}",
                "ab".repeat(16)
            )
        );
        let map_body = any(any_value::Value::KvlistValue(KeyValueList { values: vec![skv("b", "2"), skv("a", "1")] }));
        assert_eq!(to_entry(&record(map_body, vec![]), &[], None, 0).unwrap().line, r#"{"body":{"a":"1","b":"2"}}"#);
        let nan = record(any(any_value::Value::DoubleValue(f64::NAN)), vec![]);
        assert_eq!(to_entry(&nan, &[], None, 0).unwrap_err().to_string(), "json: unsupported value: NaN");
    }

    #[test]
    fn logfmt_lines_keep_the_field_order() {
        let rec = LogRecord {
            body: str_body("msg=\"hello world\" status=200 traceID=x"),
            trace_id: vec![0xab; 16],
            span_id: vec![0x01; 8],
            severity_text: "INFO".into(),
            flags: 1,
            attributes: vec![skv("k", "v w"), kvv("n", any_value::Value::DoubleValue(1e-5)), skv("loki.format", "logfmt")],
            ..Default::default()
        };
        let scope = InstrumentationScope { name: "lib".into(), version: "1.2".into(), ..Default::default() };
        let e = to_entry(&rec, &[skv("host", "h")], Some(&scope), 0).unwrap();
        assert_eq!(
            e.line,
            format!("msg=\"hello world\" status=200 traceID=x traceID={} spanID=0101010101010101 severity=INFO flags=1 attribute_k=\"v w\" attribute_n=1e-05 resource_host=h instrumentation_scope_name=lib instrumentation_scope_version=1.2", "ab".repeat(16))
        );
        let fmt = || skv("loki.format", "logfmt");
        // A body that is not logfmt becomes `msg`; a map body flattens and its keys are replaced.
        assert_eq!(to_entry(&record(str_body("a=\"unterminated"), vec![fmt()]), &[], None, 0).unwrap().line, "msg=\"a=\\\"unterminated\"");
        assert_eq!(to_entry(&record(str_body("plain text"), vec![fmt()]), &[], None, 0).unwrap().line, "plain= text=");
        let map_body = any(any_value::Value::KvlistValue(KeyValueList {
            values: vec![skv("severity", "x"), kvv("m", any_value::Value::KvlistValue(KeyValueList { values: vec![kvv("i", any_value::Value::IntValue(3))] }))],
        }));
        let rec = LogRecord { body: map_body, severity_text: "ERROR".into(), attributes: vec![fmt()], ..Default::default() };
        assert_eq!(to_entry(&rec, &[], None, 0).unwrap().line, "severity=ERROR m_i=3");
        let list_body = any(any_value::Value::ArrayValue(ArrayValue { values: vec![str_body("a").unwrap(), str_body("null").unwrap()] }));
        assert_eq!(to_entry(&record(list_body, vec![fmt()]), &[], None, 0).unwrap().line, "body_0=a body_1=\"null\"");
    }

    #[test]
    fn raw_lines_are_the_body_string() {
        let raw = || skv("loki.format", "raw");
        assert_eq!(to_entry(&record(str_body("as is"), vec![raw()]), &[], None, 0).unwrap().line, "as is");
        let map_body = any(any_value::Value::KvlistValue(KeyValueList { values: vec![kvv("a", any_value::Value::BoolValue(true))] }));
        assert_eq!(to_entry(&record(map_body, vec![]), &[raw()], None, 0).unwrap().line, r#"{"a":true}"#, "resource hint");
        assert_eq!(to_entry(&record(any(any_value::Value::DoubleValue(2.5)), vec![raw()]), &[], None, 0).unwrap().line, "2.5");
    }

    #[test]
    fn an_unknown_format_is_an_error() {
        let err = to_entry(&record(str_body("x"), vec![skv("loki.format", "xml")]), &[], None, 0).unwrap_err();
        assert_eq!(err.to_string(), "invalid format xml. Expected one of: json, logfmt, raw");
    }

    #[test]
    fn timestamps_fall_back_to_observed_then_now() {
        let mut r = record(None, vec![]);
        assert_eq!(to_entry(&r, &[], None, 99).unwrap().timestamp_ns, 5);
        r.time_unix_nano = 0;
        r.observed_time_unix_nano = 7;
        assert_eq!(to_entry(&r, &[], None, 99).unwrap().timestamp_ns, 7);
        r.observed_time_unix_nano = 0;
        assert_eq!(to_entry(&r, &[], None, 99).unwrap().timestamp_ns, 99);
    }

    #[test]
    fn float_forms() {
        assert_eq!([1.0, 0.5, 1e21, 1e-7, 123456789.0].map(es6_float), ["1", "0.5", "1e+21", "1e-7", "123456789"]);
        assert_eq!([1e-5, 1e21, 1e20, 0.0001].map(go_sprint_float), ["1e-05", "1e+21", "100000000000000000000", "0.0001"]);
    }

    #[test]
    fn logfmt_parsing_follows_go_logfmt() {
        let p = |s| parse_logfmt(s).map(|v| v.into_iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>());
        assert_eq!(p("a=1 b=\"x \\\"y\\\"\" c= d\nsecond=line"), Some(vec!["a=1".into(), "b=x \"y\"".into(), "c=".into(), "d=".into()]));
        assert_eq!(p("=x"), None);
        assert_eq!(p("a=b=c"), None);
        assert_eq!(p("a\"b=1"), None);
    }
}
