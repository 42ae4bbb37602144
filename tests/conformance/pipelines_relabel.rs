//! The `pipelines/relabel` suite: `rule` blocks as data. Each case builds its rules (an error
//! must be the exact validation message), then relabels the input as `prometheus.relabel` does
//! (legacy names for expanded targets) and, where the case says so or by default, as
//! `discovery.relabel` does (UTF-8 names); label sets are compared as maps.

use std::collections::BTreeMap;
use std::path::Path;

use prom::relabel::{process_labels, Action, NameValidation, Rule, RuleConfig};
use prom::Labels;
use serde_json::Value;

use crate::harness::{jsonl_cases, CaseResult};

pub fn run(dir: &Path) -> Vec<CaseResult> {
    jsonl_cases(dir, |line, case| format!("line {line:02} {}", source_tag(case["source"].as_str().unwrap_or(""))), run_case)
}

/// The test and row of `source`, e.g. `TestRelabel[12]` (the part after the Go file).
fn source_tag(source: &str) -> String {
    let tag = source.split_once(".go ").map_or(source, |(_, t)| t);
    tag.chars().take(48).collect()
}

fn run_case(case: &Value) -> Result<(), String> {
    let rules = build_rules(case["rules"].as_array().ok_or("no rules")?);
    if let Some(want) = case.get("error").and_then(Value::as_str) {
        return match rules {
            Err(e) if e == want => Ok(()),
            Err(e) => Err(format!("error {e:?}, want {want:?}")),
            Ok(_) => Err(format!("rules accepted, want error {want:?}")),
        };
    }
    let rules = rules.map_err(|e| format!("unexpected error {e:?}"))?;
    let input = Labels::new(labels_of(&case["input"])?);
    let component = case["component"].as_str();

    let mut got = process_labels(&rules, &input, NameValidation::Legacy);
    if component == Some("loki.relabel") && got.as_ref().is_some_and(Labels::is_empty) {
        // loki.relabel drops an entry left without labels.
        got = None;
    }
    compare("output", &case["output"], got.as_ref())?;

    if component != Some("loki.relabel") {
        let want = case.get("discovery_output").unwrap_or(&case["output"]);
        compare("discovery_output", want, process_labels(&rules, &input, NameValidation::Utf8).as_ref())?;
    }
    Ok(())
}

/// Rules as written in Alloy: absent fields take the defaults.
fn build_rules(rules: &[Value]) -> Result<Vec<Rule>, String> {
    rules
        .iter()
        .map(|r| {
            let mut c = RuleConfig::default();
            if let Some(v) = r.get("source_labels") {
                c.source_labels = v.as_array().ok_or("source_labels")?.iter().map(|s| s.as_str().unwrap_or_default().to_string()).collect();
            }
            let text = |key: &str| r.get(key).and_then(Value::as_str).map(str::to_string);
            c.separator = text("separator").unwrap_or(c.separator);
            c.regex = text("regex").unwrap_or(c.regex);
            c.target_label = text("target_label").unwrap_or(c.target_label);
            c.replacement = text("replacement").unwrap_or(c.replacement);
            c.modulus = r.get("modulus").and_then(Value::as_u64).unwrap_or(c.modulus);
            if let Some(a) = text("action") {
                c.action = Action::parse(&a)?;
            }
            Rule::new(c)
        })
        .collect()
}

fn labels_of(v: &Value) -> Result<Vec<(String, String)>, String> {
    let obj = v.as_object().ok_or_else(|| format!("not a label map: {v}"))?;
    obj.iter().map(|(k, v)| Ok((k.clone(), v.as_str().ok_or_else(|| format!("label {k} is not a string"))?.to_string()))).collect()
}

/// `want` is a label map, or null for a dropped set.
fn compare(what: &str, want: &Value, got: Option<&Labels>) -> Result<(), String> {
    let got: Option<BTreeMap<String, String>> = got.map(|l| l.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect());
    let want: Option<BTreeMap<String, String>> = if want.is_null() { None } else { Some(labels_of(want)?.into_iter().collect()) };
    if got == want {
        Ok(())
    } else {
        let show = |m: &Option<BTreeMap<String, String>>| m.as_ref().map_or_else(|| "dropped".to_string(), |m| format!("{m:?}"));
        Err(format!("{what}: got {}, want {}", show(&got), show(&want)))
    }
}
