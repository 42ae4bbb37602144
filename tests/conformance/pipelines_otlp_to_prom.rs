//! The `pipelines/otlp_to_prom` suite: Alloy's converter tests as data. Each case's OTLP JSON
//! goes through `otelcol.exporter.prometheus`'s converter with the case's arguments; what it
//! appends is compared with the expected series (a multiset of name, labels, value, and the
//! timestamp and exemplar where given), and the exposition's `# TYPE`/`# HELP` lines with the
//! metadata it forwards.

use std::collections::BTreeMap;
use std::path::Path;

use prom::sample::Batch;
use runtime::otelcol::exporter::prometheus::convert::{Converter, Options};
use runtime::otelcol::pdata::{Payload, Signal};
use serde_json::Value;

use crate::harness::{case_name, jsonl_cases, CaseResult};

pub fn run(dir: &Path) -> Vec<CaseResult> {
    jsonl_cases(dir, case_name, run_case)
}

/// The cases use pdata's JSON (snake_case keys); the OTLP JSON decoder reads camelCase.
fn camel_keys(v: &Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| {
                    let mut key = String::new();
                    let mut upper = false;
                    for c in k.chars() {
                        if c == '_' {
                            upper = true;
                        } else if upper {
                            key.extend(c.to_uppercase());
                            upper = false;
                        } else {
                            key.push(c);
                        }
                    }
                    (key, camel_keys(v))
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(camel_keys).collect()),
        other => other.clone(),
    }
}

fn options(case: &Value) -> Options {
    let a = &case["arguments"];
    let flag = |k: &str| a[k].as_bool().unwrap_or(false);
    Options {
        include_target_info: flag("include_target_info"),
        include_scope_info: flag("include_scope_info"),
        include_scope_labels: flag("include_scope_labels"),
        add_metric_suffixes: flag("add_metric_suffixes"),
        resource_to_telemetry_conversion: flag("resource_to_telemetry_conversion"),
        keep_identifying_resource_attributes: flag("keep_identifying_resource_attributes"),
        honor_metadata: case["honor_metadata"].as_bool().unwrap_or(false),
        start_timestamp_zero_ingestion: false,
    }
}

fn run_case(case: &Value) -> Result<(), String> {
    let body = serde_json::to_vec(&camel_keys(&case["otlp_json"])).map_err(|e| e.to_string())?;
    let req = Payload::from_json(Signal::Metrics, &body).and_then(|p| p.decode_metrics()).map_err(|e| format!("OTLP JSON: {e}"))?;
    let batch = Converter::new("conformance", options(case)).convert(&req, 0);
    compare_series(case, &batch)?;
    compare_metadata(case, &batch)
}

/// A series as compared: name, labels (the `le`/`quantile` values as numbers, since the
/// OpenMetrics exposition prints `1` as `1.0`), value, timestamp and exemplar as text.
#[derive(Debug, PartialEq, Clone)]
struct Row {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
    timestamp_s: Option<f64>,
    exemplar: Option<(BTreeMap<String, String>, f64)>,
}

fn normal_labels(pairs: impl Iterator<Item = (String, String)>) -> BTreeMap<String, String> {
    pairs
        .map(|(k, v)| {
            let v = if k == "le" || k == "quantile" { parse_float(&v).map_or(v, |f| f.to_string()) } else { v };
            (k, v)
        })
        .collect()
}

fn parse_float(s: &str) -> Option<f64> {
    match s {
        "+Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        _ => s.parse().ok(),
    }
}

/// `{a="b",c="d"} 0.3` as written after `#` in the exposition.
fn parse_exemplar(s: &str) -> Result<(BTreeMap<String, String>, f64), String> {
    let (labels, value) = s.trim().strip_prefix('{').and_then(|r| r.split_once('}')).ok_or_else(|| format!("bad exemplar {s:?}"))?;
    let mut out = BTreeMap::new();
    for pair in labels.split(',').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').ok_or_else(|| format!("bad exemplar label {pair:?}"))?;
        out.insert(k.trim().to_string(), v.trim().trim_matches('"').to_string());
    }
    let value = value.split_whitespace().next().and_then(parse_float).ok_or_else(|| format!("bad exemplar value in {s:?}"))?;
    Ok((out, value))
}

fn expected_rows(case: &Value) -> Result<Vec<Row>, String> {
    let show_ts = case["show_timestamps"].as_bool().unwrap_or(false);
    let series = case["expected_series"].as_array().ok_or("no expected_series")?;
    series
        .iter()
        .map(|s| {
            let labels = s["labels"].as_object().ok_or("labels")?.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()));
            Ok(Row {
                name: s["name"].as_str().ok_or("name")?.to_string(),
                labels: normal_labels(labels),
                value: s["value"].as_str().and_then(parse_float).ok_or("value")?,
                timestamp_s: if show_ts { s["timestamp"].as_str().and_then(parse_float) } else { None },
                exemplar: s["exemplar"].as_str().map(parse_exemplar).transpose()?,
            })
        })
        .collect()
}

fn actual_rows(batch: &Batch, with_ts: bool) -> Vec<Row> {
    batch
        .samples
        .iter()
        .map(|s| {
            let name = s.labels.metric_name().unwrap_or_default().to_string();
            let labels = normal_labels(s.labels.iter().filter(|(k, _)| *k != "__name__").map(|(k, v)| (k.to_string(), v.to_string())));
            let exemplar = batch
                .exemplars
                .iter()
                .find(|e| e.series == s.series)
                .map(|e| (e.exemplar.labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(), e.exemplar.value));
            Row { name, labels, value: s.v, timestamp_s: with_ts.then(|| s.t as f64 / 1000.0), exemplar }
        })
        .collect()
}

fn compare_series(case: &Value, batch: &Batch) -> Result<(), String> {
    let want = expected_rows(case)?;
    let mut got = actual_rows(batch, case["show_timestamps"].as_bool().unwrap_or(false));
    // The Prometheus text format has no exemplars, so those cases cannot show them.
    if case["expected_format"].as_str() == Some("prometheus-text") {
        got.iter_mut().for_each(|g| g.exemplar = None);
    } else if batch.exemplars.len() != want.iter().filter(|r| r.exemplar.is_some()).count() {
        return Err(format!("{} exemplars, want {}", batch.exemplars.len(), want.iter().filter(|r| r.exemplar.is_some()).count()));
    }
    for w in &want {
        let i = got.iter().position(|g| g == w).ok_or_else(|| format!("missing {w:?}; got {got:?}"))?;
        got.remove(i);
    }
    match got.first() {
        Some(extra) => Err(format!("unexpected {extra:?}")),
        None => Ok(()),
    }
}

/// Every `# TYPE` (and `# HELP`) family of the exposition has forwarded metadata of that type
/// (and help). The OpenMetrics exposition names a counter family without its `_total`.
fn compare_metadata(case: &Value, batch: &Batch) -> Result<(), String> {
    if !case["honor_metadata"].as_bool().unwrap_or(false) {
        return if batch.metadata.is_empty() { Ok(()) } else { Err("metadata forwarded without honor_metadata".into()) };
    }
    let exposition = case["expected_exposition"].as_str().unwrap_or_default();
    let openmetrics = case["expected_format"].as_str() == Some("openmetrics");
    let find = |family: &str, counter: bool| {
        batch.metadata.iter().find(|m| m.metadata.metric_family == family || (openmetrics && counter && m.metadata.metric_family == format!("{family}_total")))
    };
    for line in exposition.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (family, ty) = rest.split_once(' ').ok_or("bad TYPE line")?;
            let md = find(family, ty == "counter").ok_or_else(|| format!("no metadata for {family}"))?;
            if md.metadata.metric_type.as_str() != ty {
                return Err(format!("{family}: type {}, want {ty}", md.metadata.metric_type.as_str()));
            }
        } else if let Some(rest) = line.strip_prefix("# HELP ") {
            let (family, help) = rest.split_once(' ').unwrap_or((rest, ""));
            let md = find(family, true).ok_or_else(|| format!("no metadata for {family}"))?;
            if md.metadata.help != help {
                return Err(format!("{family}: help {:?}, want {help:?}", md.metadata.help));
            }
        }
    }
    Ok(())
}
