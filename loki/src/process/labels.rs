//! Stages that set labels, structured metadata and the line from extracted values:
//! `labels`, `label_drop`, `label_keep`, `static_labels`, `structured_metadata(_drop)`,
//! `tenant`, `pack`, `output`.

use std::collections::BTreeMap;

use prom::relabel::{is_legacy_name, GoRegex};

use super::config::{LabelsConfig, PackConfig, StructuredMetadataConfig, TenantConfig};
use super::value::get_string;
use super::{now_ns, ConfigError, Item, Stage};

/// The reserved label `loki.write` sends as `X-Scope-OrgID`.
pub const TENANT_LABEL: &str = "__tenant_id__";

fn check_names<'a>(names: impl Iterator<Item = &'a String>) -> Result<(), ConfigError> {
    for n in names {
        if !is_legacy_name(n) {
            return Err(ConfigError::new(format!("invalid label name: {n}")));
        }
    }
    Ok(())
}

pub struct LabelsStage {
    /// label → source key.
    values: Vec<(String, String)>,
    from_metadata: bool,
}

impl LabelsStage {
    pub fn new(c: &LabelsConfig) -> Result<Self, ConfigError> {
        check_names(c.values.keys())?;
        let from_metadata = match c.source_type.as_str() {
            "" | "extracted" => false,
            "structured_metadata" => true,
            other => return Err(ConfigError::new(format!("invalid labels source_type: {other}. Can only be 'extracted' or 'structured_metadata'"))),
        };
        let values = c.values.iter().map(|(n, s)| (n.clone(), if s.is_empty() { n.clone() } else { s.clone() })).collect();
        Ok(LabelsStage { values, from_metadata })
    }
}

impl Stage for LabelsStage {
    fn process(&mut self, mut item: Item, out: &mut Vec<Item>) {
        for (name, src) in &self.values {
            let v = if self.from_metadata {
                item.structured_metadata.iter().find(|(n, _)| n == src).map(|(_, v)| v.clone())
            } else {
                item.extracted.get(src).and_then(get_string)
            };
            if let Some(v) = v {
                item.labels.insert(name.clone(), v);
            }
        }
        out.push(item);
    }
}

pub struct LabelDrop(Vec<String>);

impl LabelDrop {
    pub fn new(v: &[String]) -> Result<Self, ConfigError> {
        if v.is_empty() {
            return Err(ConfigError::new("labeldrop stage config cannot be empty"));
        }
        Ok(LabelDrop(v.to_vec()))
    }
}

impl Stage for LabelDrop {
    fn process(&mut self, mut item: Item, out: &mut Vec<Item>) {
        for n in &self.0 {
            item.labels.remove(n);
        }
        out.push(item);
    }
}

pub struct LabelKeep(Vec<String>);

impl LabelKeep {
    pub fn new(v: &[String]) -> Result<Self, ConfigError> {
        if v.is_empty() {
            return Err(ConfigError::new("labelallow stage config cannot be empty"));
        }
        Ok(LabelKeep(v.to_vec()))
    }
}

impl Stage for LabelKeep {
    fn process(&mut self, mut item: Item, out: &mut Vec<Item>) {
        item.labels.retain(|n, _| self.0.contains(n));
        out.push(item);
    }
}

pub struct StaticLabels(Vec<(String, String)>);

impl StaticLabels {
    pub fn new(v: &BTreeMap<String, Option<String>>) -> Result<Self, ConfigError> {
        check_names(v.keys())?;
        Ok(StaticLabels(v.iter().filter_map(|(n, v)| v.as_ref().filter(|v| !v.is_empty()).map(|v| (n.clone(), v.clone()))).collect()))
    }
}

impl Stage for StaticLabels {
    fn process(&mut self, mut item: Item, out: &mut Vec<Item>) {
        for (n, v) in &self.0 {
            item.labels.insert(n.clone(), v.clone());
        }
        out.push(item);
    }
}

pub struct StructuredMetadata {
    values: Vec<(String, String)>,
    regex: Option<GoRegex>,
}

impl StructuredMetadata {
    pub fn new(c: &StructuredMetadataConfig) -> Result<Self, ConfigError> {
        let regex =
            if c.regex.is_empty() { None } else { Some(GoRegex::new(&c.regex).map_err(|e| ConfigError::new(format!("failed to compile regex: {e}")))?) };
        let values = c.values.iter().map(|(n, s)| (n.clone(), if s.is_empty() { n.clone() } else { s.clone() })).collect();
        Ok(StructuredMetadata { values, regex })
    }
}

impl Stage for StructuredMetadata {
    fn process(&mut self, mut item: Item, out: &mut Vec<Item>) {
        // A stream label named as a source moves to metadata (and wins over an extracted value).
        for (name, src) in &self.values {
            if let Some(v) = item.labels.remove(src) {
                item.set_metadata(name, v);
            } else if let Some(v) = item.extracted.get(src).and_then(get_string) {
                item.set_metadata(name, v);
            }
        }
        if let Some(re) = &self.regex {
            let from_extracted: Vec<(String, String)> =
                item.extracted.iter().filter(|(k, _)| re.is_match(k)).filter_map(|(k, v)| get_string(v).map(|v| (k.clone(), v))).collect();
            for (k, v) in from_extracted {
                item.set_metadata(&k, v);
            }
            let from_labels: Vec<String> = item.labels.keys().filter(|k| re.is_match(k)).cloned().collect();
            for k in from_labels {
                if let Some(v) = item.labels.remove(&k) {
                    item.set_metadata(&k, v);
                }
            }
        }
        out.push(item);
    }
}

pub struct StructuredMetadataDrop(pub Vec<String>);

impl Stage for StructuredMetadataDrop {
    fn process(&mut self, mut item: Item, out: &mut Vec<Item>) {
        item.structured_metadata.retain(|(n, _)| !self.0.contains(n));
        out.push(item);
    }
}

enum TenantFrom {
    Label(String),
    Source(String),
    Value(String),
}

pub struct Tenant(TenantFrom);

impl Tenant {
    pub fn new(c: &TenantConfig) -> Result<Self, ConfigError> {
        let set = [!c.label.is_empty(), !c.source.is_empty(), !c.value.is_empty()].iter().filter(|b| **b).count();
        if set == 0 {
            return Err(ConfigError::new("label, source or value config are required"));
        }
        if set > 1 {
            return Err(ConfigError::new("label, source and value are mutually exclusive: you should set source, value or label but not all"));
        }
        Ok(Tenant(if !c.label.is_empty() {
            TenantFrom::Label(c.label.clone())
        } else if !c.source.is_empty() {
            TenantFrom::Source(c.source.clone())
        } else {
            TenantFrom::Value(c.value.clone())
        }))
    }
}

impl Stage for Tenant {
    fn process(&mut self, mut item: Item, out: &mut Vec<Item>) {
        let v = match &self.0 {
            TenantFrom::Label(l) => item.labels.get(l).cloned(),
            TenantFrom::Source(s) => item.extracted.get(s).and_then(get_string),
            TenantFrom::Value(v) => Some(v.clone()),
        };
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            item.labels.insert(TENANT_LABEL.into(), v);
        }
        out.push(item);
    }
}

pub struct Pack {
    labels: Vec<String>,
    ingest_timestamp: bool,
}

impl Pack {
    pub fn new(c: &PackConfig) -> Self {
        let mut labels = c.labels.clone();
        labels.sort();
        labels.dedup();
        Pack { labels, ingest_timestamp: c.ingest_timestamp }
    }
}

/// A JSON string as Go's encoder writes it (`<`, `>`, `&` escaped too).
pub(crate) fn go_json_string(s: &str) -> String {
    let text = serde_json::Value::String(s.to_string()).to_string();
    text.replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026").replace('\u{2028}', "\\u2028").replace('\u{2029}', "\\u2029")
}

impl Stage for Pack {
    fn process(&mut self, mut item: Item, out: &mut Vec<Item>) {
        let mut json = String::from("{");
        for name in &self.labels {
            let Some(v) = item.extracted.get(name).and_then(get_string) else { continue };
            item.labels.remove(name);
            json.push_str(&go_json_string(name));
            json.push(':');
            json.push_str(&go_json_string(&v));
            json.push(',');
        }
        json.push_str("\"_entry\":");
        json.push_str(&go_json_string(&item.line));
        json.push('}');
        item.line = json;
        if self.ingest_timestamp {
            item.timestamp_ns = now_ns();
        }
        out.push(item);
    }
}

pub struct Output(String);

impl Output {
    pub fn new(source: &str) -> Result<Self, ConfigError> {
        if source.is_empty() {
            return Err(ConfigError::new("output source value is required if output is specified"));
        }
        Ok(Output(source.to_string()))
    }
}

impl Stage for Output {
    fn process(&mut self, mut item: Item, out: &mut Vec<Item>) {
        if let Some(v) = item.extracted.get(&self.0).and_then(get_string) {
            item.line = v;
        }
        out.push(item);
    }
}
