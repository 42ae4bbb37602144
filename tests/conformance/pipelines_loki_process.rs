//! The `pipelines/loki_process` suite: upstream's stage tests as data. Each case's stage
//! blocks are evaluated and decoded as `loki.process` decodes them, the pipeline is built as
//! the component builds it, the input entries go through one at a time and the input is then
//! closed (buffering stages flush); the emitted entries are compared on the fields each
//! expected entry names.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};

use prom::Labels;
use runtime::component::args::{decode_checked, evaluated};
use runtime::loki::process::{pipeline, snapshots, time, Args, CustomMetrics, ExtractedValues, LogEntry, PipelineItem, PipelineObserver};
use serde_json::Value;

use crate::harness::{case_name, jsonl_cases, CaseResult};

pub fn run(dir: &Path) -> Vec<CaseResult> {
    // Repeated names get `#2`, `#3`; timing-sensitive cases (the limit stage) run too: the
    // input goes in well within a second.
    let seen = std::sync::Mutex::new(HashMap::<String, usize>::new());
    let name = |line: usize, case: &Value| {
        let name = case_name(line, case);
        let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
        let n = seen.entry(name.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            format!("{name} #{n}")
        } else {
            name
        }
    };
    jsonl_cases(dir, name, run_case)
}

/// The component's metrics as series text → value, and `stage.metrics`' families.
#[derive(Default)]
struct Metrics(Mutex<BTreeMap<String, f64>>, Arc<CustomMetrics>);

impl Metrics {
    fn add(&self, series: String, v: f64) {
        *self.0.lock().unwrap().entry(series).or_insert(0.0) += v;
    }
}

impl PipelineObserver for Metrics {
    fn dropped(&self, reason: &str) {
        self.add(format!("loki_process_dropped_lines_total{{reason={reason:?}}}"), 1.0);
    }
    fn dropped_by_label(&self, name: &str, value: &str) {
        self.add(format!("loki_process_dropped_lines_by_label_total{{label_name={name:?},label_value={value:?}}}"), 1.0);
    }
    fn cri_partial_flushed(&self, n: u64) {
        self.add("loki_process_cri_partial_lines_flushed_total".into(), n as f64);
    }
    fn cri_truncated(&self) {
        self.add("loki_process_cri_lines_truncated_total".into(), 1.0);
    }
    fn custom_metrics(&self) -> Option<Arc<CustomMetrics>> {
        Some(self.1.clone())
    }
}

fn build(config: &str, obs: Arc<Metrics>) -> Result<runtime::loki::process::Pipeline, String> {
    let v = evaluated(&format!("loki.process \"c\" {{\n  forward_to = []\n{config}\n}}\n"))?;
    let args: Args = decode_checked("loki.process", &v).map_err(|e| e.0)?;
    pipeline(&args.stages, obs).map_err(|e| e.0)
}

fn string_map(v: &Value) -> BTreeMap<String, String> {
    v.as_object().map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_string))).collect()).unwrap_or_default()
}

fn run_case(case: &Value) -> Result<(), String> {
    let config = case["config"].as_str().ok_or("no config")?;
    let metrics = Arc::new(Metrics::default());
    let built = build(config, metrics.clone());
    if let Some(want) = case.get("error").and_then(Value::as_str) {
        return match built {
            Err(e) if e.contains(want) => Ok(()),
            Err(e) => Err(format!("error {e:?}, want one containing {want:?}")),
            Ok(_) => Err(format!("pipeline built, want error {want:?}")),
        };
    }
    let mut p = built.map_err(|e| format!("unexpected error {e:?}"))?;
    let inputs = case["input"].as_array().ok_or("no input")?;
    let mut got: Vec<PipelineItem> = Vec::new();
    let mut input_ts = Vec::new();
    for input in inputs {
        let ts = time::parse_rfc3339(input["timestamp"].as_str().unwrap_or("")).ok_or("bad input timestamp")?;
        input_ts.push(ts);
        let labels = Labels::new(string_map(&input["labels"]));
        let mut entry = LogEntry::new(labels, ts, input["line"].as_str().unwrap_or(""));
        entry.structured_metadata = string_map(&input["structured_metadata"]).into_iter().collect();
        let seed: ExtractedValues = input["extracted"].as_object().map(|o| o.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default();
        got.extend(p.run(vec![PipelineItem::new(entry, seed)]));
    }
    got.extend(p.flush());

    let want = case["output"].as_array().ok_or("no output")?;
    match case["output_count_range"].as_array() {
        Some(r) => {
            let (lo, hi) = (r[0].as_u64().unwrap_or(0) as usize, r[1].as_u64().unwrap_or(u64::MAX) as usize);
            if got.len() < lo || got.len() > hi {
                return Err(format!("{} entries, want {lo}..={hi}", got.len()));
            }
        }
        None if got.len() != want.len() => {
            return Err(format!("{} entries, want {}: {:?}", got.len(), want.len(), got.iter().map(|g| &g.line).collect::<Vec<_>>()))
        }
        None => {}
    }
    if case["sort_output_by_timestamp"].as_bool() == Some(true) {
        got.sort_by_key(|g| g.timestamp_ns);
    }
    let json_metadata = case["compare_structured_metadata_as_json"].as_bool() == Some(true);
    let first_input = input_ts.first().copied().unwrap_or(0);
    if case["unordered"].as_bool() == Some(true) {
        let mut left: Vec<&PipelineItem> = got.iter().collect();
        for (i, w) in want.iter().enumerate() {
            let pos =
                left.iter().position(|g| compare(w, g, first_input, json_metadata).is_ok()).ok_or_else(|| format!("expected entry {i} not found: {w}"))?;
            left.remove(pos);
        }
    } else if case["output_count_range"].is_null() {
        for (i, (w, g)) in want.iter().zip(&got).enumerate() {
            compare(w, g, input_ts.get(i).copied().unwrap_or(first_input), json_metadata).map_err(|e| format!("entry {i}: {e}"))?;
        }
    }
    if let Some(m) = case["metrics"].as_object() {
        let have = metrics.0.lock().unwrap().clone();
        for (series, v) in m {
            let got = have.get(series).copied().unwrap_or(0.0);
            if Some(got) != v.as_f64() {
                return Err(format!("metric {series} = {got}, want {v}"));
            }
        }
    }
    if let Some(want) = case.get("metrics_text").and_then(Value::as_str) {
        // The registry's exposition, as /metrics serves it less the component labels.
        let registry = runtime::metrics::Registry::new();
        let store = metrics.1.clone();
        registry.register_collector(move || snapshots(&store, &[]));
        let have = registry.render();
        if have != want {
            return Err(format!("metrics text {have:?}, want {want:?}"));
        }
    }
    Ok(())
}

/// JSON text in a canonical form (keys sorted), or the text itself when it is no JSON.
fn canonical(s: &str) -> String {
    serde_json::from_str::<Value>(s).map(|v| v.to_string()).unwrap_or_else(|_| s.to_string())
}

fn numbers_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn compare(want: &Value, got: &PipelineItem, input_ts: i64, json_metadata: bool) -> Result<(), String> {
    if let Some(line) = want.get("line").and_then(Value::as_str) {
        if got.line != line {
            return Err(format!("line {:?}, want {line:?}", got.line));
        }
    }
    if let Some(labels) = want.get("labels") {
        let have: BTreeMap<String, String> = got.labels.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| (k.clone(), v.clone())).collect();
        if have != string_map(labels) {
            return Err(format!("labels {have:?}, want {labels}"));
        }
    }
    if let Some(ts) = want.get("timestamp").and_then(Value::as_str) {
        let w = time::parse_rfc3339(ts).ok_or("bad expected timestamp")?;
        if got.timestamp_ns != w {
            return Err(format!("timestamp {}, want {ts}", time::format_rfc3339(got.timestamp_ns)));
        }
    }
    if want.get("timestamp_after_input").and_then(Value::as_bool) == Some(true) && got.timestamp_ns <= input_ts {
        return Err("timestamp not after the input's".into());
    }
    if let Some(md) = want.get("structured_metadata") {
        let norm = |v: &str| if json_metadata { canonical(v) } else { v.to_string() };
        let have: BTreeMap<String, String> = got.structured_metadata.iter().map(|(k, v)| (k.clone(), norm(v))).collect();
        let w: BTreeMap<String, String> = string_map(md).into_iter().map(|(k, v)| (k, norm(&v))).collect();
        if have != w {
            return Err(format!("structured_metadata {have:?}, want {w:?}"));
        }
    }
    if let Some(ex) = want.get("extracted").and_then(Value::as_object) {
        let same = ex.len() == got.extracted.len() && ex.iter().all(|(k, v)| got.extracted.get(k).is_some_and(|g| numbers_equal(g, v)));
        if !same {
            return Err(format!("extracted {:?}, want {ex:?}", got.extracted));
        }
    }
    Ok(())
}
