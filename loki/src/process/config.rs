//! Typed stage configurations, as the runtime decodes them from `stage.<name>` blocks, and
//! building a stage from one.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::{filter, labels, metrics, multiline, parse, pattern, transform, ConfigError, NoObserver, Observer, Stage};

#[derive(Clone, Debug, PartialEq)]
pub enum StageConfig {
    Json(JsonConfig),
    Logfmt(LogfmtConfig),
    Regex(RegexConfig),
    Labels(LabelsConfig),
    LabelDrop(Vec<String>),
    LabelKeep(Vec<String>),
    StaticLabels(BTreeMap<String, Option<String>>),
    StructuredMetadata(StructuredMetadataConfig),
    StructuredMetadataDrop(Vec<String>),
    Output(String),
    Replace(ReplaceConfig),
    Drop(DropConfig),
    Match(MatchConfig),
    Timestamp(TimestampConfig),
    Template(TemplateConfig),
    Tenant(TenantConfig),
    Pack(PackConfig),
    Decolorize,
    Multiline(MultilineConfig),
    Cri(CriConfig),
    Docker,
    Limit(LimitConfig),
    Sampling(SamplingConfig),
    Metrics(MetricsConfig),
    Pattern(PatternConfig),
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct PatternConfig {
    pub pattern: String,
    pub source: Option<String>,
    pub labels_from_groups: bool,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct MetricsConfig {
    pub metrics: Vec<MetricConfig>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum MetricKind {
    Counter { action: String, match_all: bool, count_entry_bytes: bool },
    Gauge { action: String },
    Histogram { buckets: Vec<f64> },
}

#[derive(Clone, Debug, PartialEq)]
pub struct MetricConfig {
    pub kind: MetricKind,
    pub name: String,
    pub description: String,
    /// Extracted key; empty: the name.
    pub source: String,
    pub prefix: String,
    pub max_idle: Duration,
    /// Only entries whose source value is this text count.
    pub value: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct JsonConfig {
    pub expressions: BTreeMap<String, String>,
    pub regex: Option<String>,
    /// `None`: the line.
    pub source: Option<String>,
    pub drop_malformed: bool,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct LogfmtConfig {
    pub mapping: BTreeMap<String, String>,
    pub regex: Option<String>,
    pub source: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct RegexConfig {
    pub expression: String,
    pub source: Option<String>,
    pub labels_from_groups: bool,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct LabelsConfig {
    pub values: BTreeMap<String, String>,
    pub source_type: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct StructuredMetadataConfig {
    pub values: BTreeMap<String, String>,
    pub regex: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReplaceConfig {
    pub expression: String,
    pub source: Option<String>,
    pub replace: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct DropConfig {
    pub source: String,
    pub separator: String,
    pub value: String,
    pub expression: String,
    pub older_than: Duration,
    pub longer_than: String,
    pub drop_counter_reason: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct MatchConfig {
    pub selector: String,
    pub action: String,
    pub pipeline_name: String,
    pub drop_counter_reason: String,
    pub stages: Vec<StageConfig>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct TimestampConfig {
    pub source: String,
    pub format: String,
    pub fallback_formats: Vec<String>,
    pub location: String,
    pub action_on_failure: String,
    pub action_on_duplicate_timestamp: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct TemplateConfig {
    pub source: String,
    pub template: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct TenantConfig {
    pub label: String,
    pub source: String,
    pub value: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct PackConfig {
    pub labels: Vec<String>,
    pub ingest_timestamp: bool,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct MultilineConfig {
    pub firstline: String,
    pub max_lines: u64,
    pub max_wait_time: Duration,
    pub trim_newlines: bool,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct CriConfig {
    pub max_partial_lines: i64,
    pub max_partial_line_size: u64,
    pub max_partial_line_size_truncate: bool,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct LimitConfig {
    pub rate: f64,
    pub burst: f64,
    pub drop: bool,
    pub by_label_name: String,
    pub max_distinct_labels: i64,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct SamplingConfig {
    pub rate: f64,
    pub drop_counter_reason: String,
}

/// Checks a configuration as building it would, without the stages a match nests (those are
/// checked where they are written).
pub fn check(c: &StageConfig) -> Result<(), ConfigError> {
    match c {
        StageConfig::Match(m) => filter::Match::check(m).map(|_| ()),
        other => build(other, Arc::new(NoObserver), 0).map(|_| ()),
    }
}

/// Builds the stage `c` describes (`depth`: how deep in match stages it sits).
pub(crate) fn build(c: &StageConfig, obs: Arc<dyn Observer>, depth: usize) -> Result<Box<dyn Stage>, ConfigError> {
    Ok(match c {
        StageConfig::Json(c) => Box::new(parse::Json::new(c)?),
        StageConfig::Logfmt(c) => Box::new(parse::Logfmt::new(c)?),
        StageConfig::Regex(c) => Box::new(parse::RegexStage::new(c)?),
        StageConfig::Pattern(c) => Box::new(pattern::Pattern::new(c)?),
        StageConfig::Cri(c) => Box::new(parse::Cri::new(c, obs)?),
        StageConfig::Docker => Box::new(parse::Docker),
        StageConfig::Labels(c) => Box::new(labels::LabelsStage::new(c)?),
        StageConfig::LabelDrop(v) => Box::new(labels::LabelDrop::new(v)?),
        StageConfig::LabelKeep(v) => Box::new(labels::LabelKeep::new(v)?),
        StageConfig::StaticLabels(v) => Box::new(labels::StaticLabels::new(v)?),
        StageConfig::StructuredMetadata(c) => Box::new(labels::StructuredMetadata::new(c)?),
        StageConfig::StructuredMetadataDrop(v) => Box::new(labels::StructuredMetadataDrop(v.clone())),
        StageConfig::Tenant(c) => Box::new(labels::Tenant::new(c)?),
        StageConfig::Pack(c) => Box::new(labels::Pack::new(c)),
        StageConfig::Output(s) => Box::new(labels::Output::new(s)?),
        StageConfig::Replace(c) => Box::new(transform::Replace::new(c)?),
        StageConfig::Template(c) => Box::new(transform::TemplateStage::new(c)?),
        StageConfig::Timestamp(c) => Box::new(transform::Timestamp::new(c)?),
        StageConfig::Decolorize => Box::new(transform::Decolorize::new()?),
        StageConfig::Multiline(c) => Box::new(multiline::Multiline::new(c)?),
        StageConfig::Drop(c) => Box::new(filter::Drop::new(c, obs)?),
        StageConfig::Match(c) => Box::new(filter::Match::new(c, obs, depth)?),
        StageConfig::Limit(c) => Box::new(filter::Limit::new(c, obs)?),
        StageConfig::Sampling(c) => Box::new(filter::Sampling::new(c, obs)?),
        StageConfig::Metrics(c) => {
            let store = obs.custom_metrics().unwrap_or_default();
            Box::new(metrics::Metrics::new(c, store)?)
        }
    })
}
