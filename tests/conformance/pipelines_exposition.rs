//! The `pipelines/exposition` suite: Prometheus' textparse tests as data. Each case parses
//! its input with the format its `Content-Type` names and compares the entries in order, or
//! the exact error text.

use std::collections::BTreeMap;
use std::path::Path;

use prom::exposition::{Entry, Format, Parser, ParserOptions};
use prom::LabelsBuilder;
use serde_json::Value;

use crate::harness::{case_name, jsonl_cases, CaseResult};

pub fn run(dir: &Path) -> Vec<CaseResult> {
    jsonl_cases(dir, case_name, run_case)
}

fn run_case(case: &Value) -> Result<(), String> {
    let format = case["content_type"].as_str().and_then(Format::from_content_type).or(match case["format"].as_str() {
        Some("prometheus") => Some(Format::PrometheusText),
        Some("openmetrics") => Some(Format::OpenMetrics),
        _ => None,
    });
    let format = format.ok_or("unknown format")?;
    let options = ParserOptions { skip_created_series: case["parser_options"]["skip_created_series"].as_bool().unwrap_or(false), ..Default::default() };
    let input = case["input"].as_str().ok_or("no input")?;

    let mut parser = Parser::with_options(format, input.as_bytes(), options);
    let mut got = Vec::new();
    let mut error = None;
    let mut builder = LabelsBuilder::default();
    while let Some(entry) = parser.next() {
        match entry {
            Ok(entry) => got.push(describe(&entry, &mut builder)),
            Err(e) => {
                error = Some(e.to_string());
                break;
            }
        }
    }

    if let Some(want) = case.get("error").and_then(Value::as_str) {
        return match error {
            Some(e) if e == want => Ok(()),
            Some(e) => Err(format!("error {e:?}, want {want:?}")),
            None => Err(format!("no error, want {want:?}")),
        };
    }
    if let Some(e) = error {
        return Err(format!("unexpected error {e:?}"));
    }
    if case.get("entries_ok").and_then(Value::as_bool) == Some(true) {
        return Ok(());
    }
    let want = case["entries"].as_array().ok_or("no entries")?;
    for (i, w) in want.iter().enumerate() {
        let g = got.get(i).ok_or_else(|| format!("entry {i}: missing, want {w}"))?;
        compare(w, g).map_err(|why| format!("entry {i}: {why} (got {g}, want {w})"))?;
    }
    if got.len() > want.len() {
        return Err(format!("{} extra entries, first {}", got.len() - want.len(), got[want.len()]));
    }
    Ok(())
}

/// An entry in the data's JSON shape.
fn describe(entry: &Entry<'_>, builder: &mut LabelsBuilder) -> Value {
    let mut o = serde_json::Map::new();
    let mut put = |k: &str, v: Value| {
        o.insert(k.to_string(), v);
    };
    match entry {
        Entry::Help { metric, text } => {
            put("kind", "help".into());
            put("metric", metric.as_ref().into());
            put("text", text.as_ref().into());
        }
        Entry::Type { metric, metric_type } => {
            put("kind", "type".into());
            put("metric", metric.as_ref().into());
            put("type", metric_type.as_str().into());
        }
        Entry::Unit { metric, unit } => {
            put("kind", "unit".into());
            put("metric", metric.as_ref().into());
            put("unit", unit.as_ref().into());
        }
        Entry::Comment(text) => {
            put("kind", "comment".into());
            put("text", String::from_utf8_lossy(text).into());
        }
        Entry::Series(s) => {
            put("kind", "series".into());
            put("series", String::from_utf8_lossy(s.series()).into());
            s.labels(builder);
            put("labels", label_map(builder));
            put("value", float(s.value()));
            if let Some(t) = s.timestamp_ms() {
                put("timestamp_ms", t.into());
            }
            if let Some(t) = s.start_timestamp_ms() {
                put("start_timestamp_ms", t.into());
            }
            if let Some(e) = s.exemplar() {
                let mut x = serde_json::Map::new();
                e.labels(builder);
                x.insert("labels".into(), label_map(builder));
                x.insert("value".into(), float(e.value()));
                if let Some(t) = e.timestamp_ms() {
                    x.insert("timestamp_ms".into(), t.into());
                }
                put("exemplars", Value::Array(vec![Value::Object(x)]));
            }
        }
        Entry::Histogram(h) => {
            put("kind", "histogram".into());
            put("series", String::from_utf8_lossy(h.series()).into());
        }
    }
    Value::Object(o)
}

fn label_map(b: &LabelsBuilder) -> Value {
    Value::Object(b.iter().map(|(n, v)| (n.to_string(), Value::from(v))).collect())
}

fn float(v: f64) -> Value {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        (if v > 0.0 { "+Inf" } else { "-Inf" }).into()
    } else {
        serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
    }
}

/// Compares an expected entry with a described one on the fields the data has.
fn compare(want: &Value, got: &Value) -> Result<(), String> {
    let kind = want["kind"].as_str().unwrap_or_default();
    if got["kind"].as_str() != Some(kind) {
        return Err("kind differs".into());
    }
    let fields: &[&str] = match kind {
        "help" => &["metric", "text"],
        "type" => &["metric", "type"],
        "unit" => &["metric", "unit"],
        "comment" => &["text"],
        _ => &["series"],
    };
    for f in fields {
        if want[*f] != got[*f] {
            return Err(format!("{f} differs"));
        }
    }
    if kind != "series" {
        return Ok(());
    }
    if labels(&want["labels"])? != labels(&got["labels"])? {
        return Err("labels differ".into());
    }
    if !same_number(&want["value"], &got["value"]) {
        return Err("value differs".into());
    }
    for f in ["timestamp_ms", "start_timestamp_ms"] {
        if want.get(f) != got.get(f) {
            return Err(format!("{f} differs"));
        }
    }
    let none = Vec::new();
    let (we, ge) = (want["exemplars"].as_array().unwrap_or(&none), got["exemplars"].as_array().unwrap_or(&none));
    if we.len() != ge.len() {
        return Err("exemplar count differs".into());
    }
    for (w, g) in we.iter().zip(ge) {
        if labels(&w["labels"])? != labels(&g["labels"])? || !same_number(&w["value"], &g["value"]) || w.get("timestamp_ms") != g.get("timestamp_ms") {
            return Err("exemplar differs".into());
        }
    }
    Ok(())
}

/// Numbers equal as floats; `"NaN"` equals any NaN.
fn same_number(want: &Value, got: &Value) -> bool {
    match (want, got) {
        (Value::String(w), Value::String(g)) => w == g,
        (Value::Number(w), Value::Number(g)) => w.as_f64() == g.as_f64(),
        _ => false,
    }
}

fn labels(v: &Value) -> Result<BTreeMap<String, String>, String> {
    let Some(map) = v.as_object() else { return Ok(BTreeMap::new()) };
    map.iter().map(|(k, v)| Ok((k.clone(), label_value(v)?))).collect()
}

/// A label value. A few values in the data are Go expressions the extraction left
/// unevaluated, as JSON trees: `string(model.MetricTypeCounter)` is
/// `["CALL", "string", [["SEL", ["IDENT", "model"], "MetricTypeCounter"]]]`. Those of that
/// shape are evaluated here (the `model` package's metric type names).
fn label_value(v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Array(a) => match a.as_slice() {
            [op, func, args] if op == "CALL" && func == "string" => match args.as_array().map(Vec::as_slice) {
                Some([arg]) => label_value(arg),
                _ => Err(format!("cannot evaluate {v}")),
            },
            [op, pkg, name] if op == "SEL" && pkg == &serde_json::json!(["IDENT", "model"]) => {
                let t = name.as_str().and_then(|n| n.strip_prefix("MetricType")).ok_or_else(|| format!("cannot evaluate {v}"))?;
                Ok(t.to_ascii_lowercase())
            }
            _ => Err(format!("cannot evaluate {v}")),
        },
        _ => Err(format!("cannot evaluate {v}")),
    }
}
