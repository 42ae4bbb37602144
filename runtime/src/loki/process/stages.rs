//! `stage.<name>` blocks decoded into the `loki` crate's stage configurations, in the order
//! they are written (`stage.match` nests them). Each block's configuration is checked where it
//! is written, so `alloy validate` and `run` report a bad stage at its block.

use std::cell::Cell;
use std::collections::HashMap;

use loki::process::config::{
    CriConfig, DropConfig, JsonConfig, LabelsConfig, LimitConfig, LogfmtConfig, MatchConfig, MetricConfig, MetricKind, MetricsConfig, MultilineConfig,
    PackConfig, PatternConfig, RegexConfig, ReplaceConfig, SamplingConfig, StructuredMetadataConfig, TemplateConfig, TenantConfig, TimestampConfig,
};
use loki::process::StageConfig;

use crate::component::args::types::Dur;
use crate::component::{Arguments, Reader};

/// Stage blocks this runtime does not implement yet.
const UNSUPPORTED: &[&str] = &["stage.eventlogmessage", "stage.geoip", "stage.luhn", "stage.split_json", "stage.truncate", "stage.windowsevent"];

thread_local! {
    /// How deep in `stage.match` blocks decoding is (the nesting is bounded).
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// One decoded stage block: `None` when its attributes did not decode.
#[derive(Default)]
pub struct StageArgs(pub Option<StageConfig>);

/// Checks the configuration where its block is written.
fn checked(r: &mut Reader<'_>, c: StageConfig) -> StageArgs {
    if let Err(e) = loki::process::config::check(&c) {
        r.check(false, &[], e.0);
    }
    StageArgs(Some(c))
}

/// A duration whose catalogue default is `""` (not set).
#[derive(Default)]
struct MaybeDur(std::time::Duration);

impl eval::Decode for MaybeDur {
    fn decode(v: &eval::Value) -> Result<Self, eval::ValueError> {
        match v {
            eval::Value::String(s) if s.is_empty() => Ok(MaybeDur::default()),
            v => <Dur as eval::Decode>::decode(v).map(|d| MaybeDur(d.0)),
        }
    }
}

/// Reads a `regex`-typed attribute: a pattern that does not parse is refused at the attribute
/// with the analyzer's message (what `alloy validate` reports for it), and the stage is not
/// built from it.
fn regex_attr(r: &mut Reader<'_>, name: &'static str, ok: &mut bool) -> String {
    let v: String = r.get(name);
    if let Err(e) = analyzer::literal::check_regex(&v) {
        r.error(name, e);
        *ok = false;
    }
    v
}

/// An empty `source` (the catalogue default) means the line.
fn opt_source(s: String) -> Option<String> {
    Some(s).filter(|s| !s.is_empty())
}

macro_rules! stage {
    ($name:ident, |$r:ident| $body:expr) => {
        stage!($name, |$r, _ok| $body);
    };
    ($name:ident, |$r:ident, $ok:ident| $body:expr) => {
        #[derive(Default)]
        struct $name(StageArgs);
        impl Arguments for $name {
            fn decode($r: &mut Reader<'_>) -> Self {
                #[allow(unused_mut)]
                let mut $ok = true;
                let c: StageConfig = $body;
                $name(StageArgs(Some(c).filter(|_| $ok)))
            }
            fn validate(&self, r: &mut Reader<'_>) {
                if let Some(c) = &self.0 .0 {
                    let _ = checked(r, c.clone());
                }
            }
        }
    };
}

stage!(Json, |r| {
    let source = opt_source(r.get("source"));
    StageConfig::Json(JsonConfig { expressions: r.get("expressions"), regex: r.opt("regex"), source, drop_malformed: r.get("drop_malformed") })
});
stage!(Logfmt, |r| {
    let source = opt_source(r.get("source"));
    StageConfig::Logfmt(LogfmtConfig { mapping: r.get("mapping"), regex: r.opt("regex"), source })
});
stage!(Regex, |r, ok| {
    let source = opt_source(r.get("source"));
    StageConfig::Regex(RegexConfig { expression: regex_attr(r, "expression", &mut ok), source, labels_from_groups: r.get("labels_from_groups") })
});
stage!(Pattern, |r| {
    let source = opt_source(r.get("source"));
    StageConfig::Pattern(PatternConfig { pattern: r.get("pattern"), source, labels_from_groups: r.get("labels_from_groups") })
});
stage!(Labels, |r| StageConfig::Labels(LabelsConfig { values: r.get("values"), source_type: r.get("source_type") }));
stage!(LabelDrop, |r| StageConfig::LabelDrop(r.get("values")));
stage!(LabelKeep, |r| StageConfig::LabelKeep(r.get("values")));
stage!(StaticLabels, |r| StageConfig::StaticLabels(r.get("values")));
stage!(StructuredMetadata, |r| StageConfig::StructuredMetadata(StructuredMetadataConfig { values: r.get("values"), regex: r.get("regex") }));
stage!(StructuredMetadataDrop, |r| StageConfig::StructuredMetadataDrop(r.get("values")));
stage!(Output, |r| StageConfig::Output(r.get("source")));
stage!(Replace, |r, ok| {
    let source: Option<String> = r.opt("source");
    StageConfig::Replace(ReplaceConfig { expression: regex_attr(r, "expression", &mut ok), source, replace: r.get("replace") })
});
stage!(Drop, |r, ok| StageConfig::Drop(DropConfig {
    source: r.get("source"),
    separator: r.get("separator"),
    value: r.get("value"),
    expression: regex_attr(r, "expression", &mut ok),
    older_than: r.get::<MaybeDur>("older_than").0,
    longer_than: r.get("longer_than"),
    drop_counter_reason: r.get("drop_counter_reason"),
}));
stage!(Timestamp, |r| StageConfig::Timestamp(TimestampConfig {
    source: r.get("source"),
    format: r.get("format"),
    fallback_formats: r.get("fallback_formats"),
    location: r.get("location"),
    action_on_failure: r.get("action_on_failure"),
    action_on_duplicate_timestamp: r.get("action_on_duplicate_timestamp"),
}));
stage!(Template, |r| StageConfig::Template(TemplateConfig { source: r.get("source"), template: r.get("template") }));
stage!(Tenant, |r| StageConfig::Tenant(TenantConfig { label: r.get("label"), source: r.get("source"), value: r.get("value") }));
stage!(Pack, |r| StageConfig::Pack(PackConfig { labels: r.get("labels"), ingest_timestamp: r.get("ingest_timestamp") }));
stage!(Decolorize, |_r| StageConfig::Decolorize);
stage!(Docker, |_r| StageConfig::Docker);
stage!(Multiline, |r, ok| StageConfig::Multiline(MultilineConfig {
    firstline: regex_attr(r, "firstline", &mut ok),
    max_lines: r.get("max_lines"),
    max_wait_time: r.get::<Dur>("max_wait_time").0,
    trim_newlines: r.get("trim_newlines"),
}));
stage!(Cri, |r| StageConfig::Cri(CriConfig {
    max_partial_lines: r.get("max_partial_lines"),
    max_partial_line_size: r.get("max_partial_line_size"),
    max_partial_line_size_truncate: r.get("max_partial_line_size_truncate"),
}));
stage!(Limit, |r| StageConfig::Limit(LimitConfig {
    rate: r.get("rate"),
    burst: r.get("burst"),
    drop: r.get("drop"),
    by_label_name: r.get("by_label_name"),
    max_distinct_labels: r.get("max_distinct_labels"),
}));
stage!(Sampling, |r| StageConfig::Sampling(SamplingConfig { rate: r.get("rate"), drop_counter_reason: r.get("drop_counter_reason") }));

/// One `metric.<kind>` block.
#[derive(Default)]
struct Metric(Option<MetricConfig>);

fn metric(r: &mut Reader<'_>, kind: MetricKind) -> Metric {
    let value: String = r.get("value");
    Metric(Some(MetricConfig {
        kind,
        name: r.get("name"),
        description: r.get("description"),
        source: r.get("source"),
        prefix: r.get("prefix"),
        max_idle: r.get::<Dur>("max_idle_duration").0,
        value: Some(value).filter(|v| !v.is_empty()),
    }))
}

#[derive(Default)]
struct Counter(Metric);
impl Arguments for Counter {
    fn decode(r: &mut Reader<'_>) -> Self {
        let kind = MetricKind::Counter { action: r.get("action"), match_all: r.get("match_all"), count_entry_bytes: r.get("count_entry_bytes") };
        Counter(metric(r, kind))
    }
}

#[derive(Default)]
struct Gauge(Metric);
impl Arguments for Gauge {
    fn decode(r: &mut Reader<'_>) -> Self {
        let kind = MetricKind::Gauge { action: r.get("action") };
        Gauge(metric(r, kind))
    }
}

#[derive(Default)]
struct Histogram(Metric);
impl Arguments for Histogram {
    fn decode(r: &mut Reader<'_>) -> Self {
        let kind = MetricKind::Histogram { buckets: r.get("buckets") };
        Histogram(metric(r, kind))
    }
}

stage!(Metrics, |r| {
    let mut metrics: Vec<MetricConfig> = r.blocks::<Counter>("metric.counter").into_iter().filter_map(|m| m.0 .0).collect();
    metrics.extend(r.blocks::<Gauge>("metric.gauge").into_iter().filter_map(|m| m.0 .0));
    metrics.extend(r.blocks::<Histogram>("metric.histogram").into_iter().filter_map(|m| m.0 .0));
    StageConfig::Metrics(MetricsConfig { metrics })
});

/// `stage.match`: its own settings and the stages nested in it.
#[derive(Default)]
struct Match(StageArgs);

impl Arguments for Match {
    fn decode(r: &mut Reader<'_>) -> Self {
        let depth = DEPTH.with(|d| d.get());
        if depth >= loki::process::MAX_DEPTH {
            r.check(false, &[], format!("stage.match blocks nest deeper than {}", loki::process::MAX_DEPTH));
            return Match(StageArgs(None));
        }
        DEPTH.with(|d| d.set(depth + 1));
        let mut c = MatchConfig {
            selector: r.get("selector"),
            action: r.get("action"),
            pipeline_name: r.get("pipeline_name"),
            drop_counter_reason: r.get("drop_counter_reason"),
            stages: Vec::new(),
        };
        c.stages = read_stages(r);
        DEPTH.with(|d| d.set(depth));
        Match(StageArgs(Some(StageConfig::Match(c))))
    }

    fn validate(&self, r: &mut Reader<'_>) {
        if let Some(c) = &self.0 .0 {
            let _ = checked(r, c.clone());
        }
    }
}

fn take<T: Arguments>(r: &mut Reader<'_>, name: &'static str, out: &mut HashMap<&'static str, Vec<Option<StageConfig>>>, f: fn(T) -> StageArgs) {
    let list = r.blocks::<T>(name).into_iter().map(|t| f(t).0).collect();
    out.insert(name, list);
}

/// The stage blocks of a body (the component's, or a `stage.match`'s), in written order.
pub fn read_stages(r: &mut Reader<'_>) -> Vec<StageConfig> {
    r.unsupported(UNSUPPORTED);
    let mut by_name: HashMap<&'static str, Vec<Option<StageConfig>>> = HashMap::new();
    let m = &mut by_name;
    take::<Cri>(r, "stage.cri", m, |t| t.0);
    take::<Decolorize>(r, "stage.decolorize", m, |t| t.0);
    take::<Docker>(r, "stage.docker", m, |t| t.0);
    take::<Drop>(r, "stage.drop", m, |t| t.0);
    take::<Json>(r, "stage.json", m, |t| t.0);
    take::<LabelDrop>(r, "stage.label_drop", m, |t| t.0);
    take::<LabelKeep>(r, "stage.label_keep", m, |t| t.0);
    take::<Labels>(r, "stage.labels", m, |t| t.0);
    take::<Limit>(r, "stage.limit", m, |t| t.0);
    take::<Logfmt>(r, "stage.logfmt", m, |t| t.0);
    take::<Match>(r, "stage.match", m, |t| t.0);
    take::<Metrics>(r, "stage.metrics", m, |t| t.0);
    take::<Multiline>(r, "stage.multiline", m, |t| t.0);
    take::<Output>(r, "stage.output", m, |t| t.0);
    take::<Pack>(r, "stage.pack", m, |t| t.0);
    take::<Pattern>(r, "stage.pattern", m, |t| t.0);
    take::<Regex>(r, "stage.regex", m, |t| t.0);
    take::<Replace>(r, "stage.replace", m, |t| t.0);
    take::<Sampling>(r, "stage.sampling", m, |t| t.0);
    take::<StaticLabels>(r, "stage.static_labels", m, |t| t.0);
    take::<StructuredMetadata>(r, "stage.structured_metadata", m, |t| t.0);
    take::<StructuredMetadataDrop>(r, "stage.structured_metadata_drop", m, |t| t.0);
    take::<Template>(r, "stage.template", m, |t| t.0);
    take::<Tenant>(r, "stage.tenant", m, |t| t.0);
    take::<Timestamp>(r, "stage.timestamp", m, |t| t.0);
    let order = r.block_order();
    if order.is_empty() {
        // Values built by host code carry no order: one kind after another.
        let mut names: Vec<&&str> = by_name.keys().collect();
        names.sort();
        return names.into_iter().flat_map(|n| by_name[*n].iter().flatten().cloned()).collect();
    }
    order.iter().filter_map(|(name, i)| by_name.get(name.as_str()).and_then(|v| v.get(*i)).cloned().flatten()).collect()
}
