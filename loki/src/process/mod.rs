//! `loki.process`'s stage engine, free of the runtime: typed stage configurations
//! ([`config`]), the entry as stages see it ([`Item`]), and the pipeline that runs the stages
//! in order ([`Pipeline`]). Stages may drop an entry, emit several, or hold entries back
//! (multiline, cri) until a later entry or the end of input releases them.

pub mod config;
mod filter;
mod jmes;
mod json_fields;
mod labels;
mod logql;
pub mod metrics;
mod multiline;
mod parse;
mod pattern;
mod template;
pub mod time;
mod transform;
pub mod tz;
mod value;

use std::collections::BTreeMap;

use prom::Labels;

use crate::Entry;
pub use config::StageConfig;
pub use value::{format_float as value_text, get_string, Extracted};

/// Match stages nest pipelines; deeper configurations are refused rather than recursed into.
pub const MAX_DEPTH: usize = 32;

/// A configuration a stage cannot be built from; the text is upstream's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl ConfigError {
    pub fn new(msg: impl Into<String>) -> Self {
        ConfigError(msg.into())
    }
}

/// See [`Item::stream_key`].
pub type StreamKey = u64;

/// One entry going through the stages.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub labels: BTreeMap<String, String>,
    pub structured_metadata: Vec<(String, String)>,
    pub timestamp_ns: i64,
    pub line: String,
    /// Values the stages extracted; starts with every stream label.
    pub extracted: Extracted,
}

impl Item {
    /// An entry entering the pipeline, with `seed` extracted values under its labels.
    pub fn new(entry: Entry, seed: Extracted) -> Self {
        let labels: BTreeMap<String, String> = entry.labels.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
        let mut extracted = seed;
        for (n, v) in &labels {
            extracted.insert(n.clone(), serde_json::Value::String(v.clone()));
        }
        Item { labels, structured_metadata: entry.structured_metadata, timestamp_ns: entry.timestamp_ns, line: entry.line, extracted }
    }

    pub fn into_entry(self) -> Entry {
        // An empty value is no label.
        let pairs: Vec<(&str, &str)> = self.labels.iter().filter(|(_, v)| !v.is_empty()).map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let labels = Labels::from_sorted_pairs(&pairs);
        Entry { labels, timestamp_ns: self.timestamp_ns, line: self.line, structured_metadata: self.structured_metadata }
    }

    /// The stream identity stages key their state on: a hash of the label set, as Loki
    /// fingerprints streams (computed per entry, so it must be cheap).
    pub fn stream_key(&self) -> StreamKey {
        use std::hash::{Hash, Hasher};
        let mut h = rustc_hash::FxHasher::default();
        for (n, v) in &self.labels {
            n.hash(&mut h);
            v.hash(&mut h);
        }
        h.finish()
    }

    pub fn set_metadata(&mut self, name: &str, value: String) {
        match self.structured_metadata.iter_mut().find(|(n, _)| n == name) {
            Some(pair) => pair.1 = value,
            None => self.structured_metadata.push((name.to_string(), value)),
        }
    }
}

/// Why a stage dropped an entry (upstream's `reason` label values).
pub type DropReason = String;

/// Where stages report what they do, for the component's metrics.
pub trait Observer: Send + Sync {
    fn dropped(&self, _reason: &str) {}
    /// A rate-limited entry dropped for its `by_label_name` label's value.
    fn dropped_by_label(&self, _name: &str, _value: &str) {}
    /// Held partial CRI lines flushed because too many streams were held.
    fn cri_partial_flushed(&self, _n: u64) {}
    fn cri_truncated(&self) {}
    /// Where `stage.metrics` records; `None`: nowhere anyone reads.
    fn custom_metrics(&self) -> Option<std::sync::Arc<metrics::CustomMetrics>> {
        None
    }
}

/// An observer that records nothing.
pub struct NoObserver;
impl Observer for NoObserver {}

/// One stage: takes an entry, emits zero or more.
pub trait Stage: Send {
    fn process(&mut self, item: Item, out: &mut Vec<Item>);
    /// End of input: emits what the stage holds back.
    fn flush(&mut self, _out: &mut Vec<Item>) {}
    /// Called now and then: stages that hold entries for a time (multiline) release them.
    fn tick(&mut self, _out: &mut Vec<Item>) {}
}

/// Stages in order.
pub struct Pipeline {
    stages: Vec<Box<dyn Stage>>,
}

impl Pipeline {
    /// Builds every stage; the first configuration error stops the build.
    pub fn new(configs: &[StageConfig], obs: std::sync::Arc<dyn Observer>) -> Result<Pipeline, ConfigError> {
        Self::nested(configs, obs, 0)
    }

    pub(crate) fn nested(configs: &[StageConfig], obs: std::sync::Arc<dyn Observer>, depth: usize) -> Result<Pipeline, ConfigError> {
        if depth > MAX_DEPTH {
            return Err(ConfigError::new(format!("match stages nest deeper than {MAX_DEPTH}")));
        }
        let stages = configs.iter().map(|c| config::build(c, obs.clone(), depth)).collect::<Result<_, _>>()?;
        Ok(Pipeline { stages })
    }

    pub fn is_empty(&self) -> bool {
        self.stages.is_empty()
    }

    /// Runs `items` through every stage.
    pub fn run(&mut self, items: Vec<Item>) -> Vec<Item> {
        let mut cur = items;
        for stage in &mut self.stages {
            let mut next = Vec::with_capacity(cur.len());
            for item in cur {
                stage.process(item, &mut next);
            }
            cur = next;
        }
        cur
    }

    /// Releases what stages held for too long; what they release goes through the rest.
    pub fn tick(&mut self) -> Vec<Item> {
        let mut carry: Vec<Item> = Vec::new();
        for stage in &mut self.stages {
            let mut next = Vec::new();
            for item in carry {
                stage.process(item, &mut next);
            }
            stage.tick(&mut next);
            carry = next;
        }
        carry
    }

    /// End of input: each stage releases what it holds, and what it releases goes through the
    /// stages after it.
    pub fn flush(&mut self) -> Vec<Item> {
        let mut carry: Vec<Item> = Vec::new();
        for stage in &mut self.stages {
            let mut next = Vec::new();
            for item in carry {
                stage.process(item, &mut next);
            }
            stage.flush(&mut next);
            carry = next;
        }
        carry
    }
}

/// Nanoseconds since the epoch, now.
pub(crate) fn now_ns() -> i64 {
    Entry::nanos_of(std::time::SystemTime::now())
}
