//! What one metrics component hands the next: a [`Batch`] of samples, native histograms,
//! exemplars and metadata, each tied to its series by labels and [`SeriesRef`]. A batch is
//! what upstream's appender commits at once (one scrape of one target, one remote-write
//! request): receivers take it whole or refuse it whole.

use std::sync::Arc;

use crate::labels::Labels;

/// A series' identity within this process (see [`crate::labels::Store`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesRef(pub u64);

/// The bit pattern Prometheus writes to mark a series stale ("StaleNaN"). Compare bits with
/// [`is_stale`], never with `is_nan`.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;
pub const STALE_NAN: f64 = f64::from_bits(STALE_NAN_BITS);
/// The NaN an exposition's `NaN` parses to.
pub const NORMAL_NAN_BITS: u64 = 0x7ff8_0000_0000_0001;
pub const NORMAL_NAN: f64 = f64::from_bits(NORMAL_NAN_BITS);

pub fn is_stale(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub series: SeriesRef,
    pub labels: Labels,
    /// Milliseconds since the Unix epoch.
    pub t: i64,
    pub v: f64,
}

impl Sample {
    pub fn is_stale(&self) -> bool {
        is_stale(self.v)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Exemplar {
    pub labels: Labels,
    pub value: f64,
    /// Milliseconds; the sample's timestamp when the exposition gave none.
    pub t: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ExemplarSample {
    pub series: SeriesRef,
    pub labels: Labels,
    pub exemplar: Exemplar,
}

/// A run of consecutive buckets in a native histogram.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BucketSpan {
    pub offset: i32,
    pub length: u32,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ResetHint {
    #[default]
    Unknown,
    Yes,
    No,
    Gauge,
}

/// A native (sparse) histogram. Bucket counts are absolute (not delta-encoded); `is_float`
/// says whether they are float counts or integer counts held as floats.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Histogram {
    pub schema: i32,
    pub zero_threshold: f64,
    pub zero_count: f64,
    pub count: f64,
    pub sum: f64,
    pub positive_spans: Vec<BucketSpan>,
    pub positive: Vec<f64>,
    pub negative_spans: Vec<BucketSpan>,
    pub negative: Vec<f64>,
    pub is_float: bool,
    pub reset_hint: ResetHint,
    /// Bucket boundaries of custom-bucket histograms (schema -53).
    pub custom_values: Vec<f64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct HistogramSample {
    pub series: SeriesRef,
    pub labels: Labels,
    pub t: i64,
    pub histogram: Arc<Histogram>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum MetricType {
    #[default]
    Unknown,
    Counter,
    Gauge,
    Histogram,
    GaugeHistogram,
    Summary,
    Info,
    StateSet,
}

impl MetricType {
    /// The name an exposition's `# TYPE` line uses.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Unknown => "unknown",
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::GaugeHistogram => "gaugehistogram",
            MetricType::Summary => "summary",
            MetricType::Info => "info",
            MetricType::StateSet => "stateset",
        }
    }

    pub fn parse(s: &str) -> Option<MetricType> {
        Some(match s {
            "unknown" | "untyped" => MetricType::Unknown,
            "counter" => MetricType::Counter,
            "gauge" => MetricType::Gauge,
            "histogram" => MetricType::Histogram,
            "gaugehistogram" => MetricType::GaugeHistogram,
            "summary" => MetricType::Summary,
            "info" => MetricType::Info,
            "stateset" => MetricType::StateSet,
            _ => return None,
        })
    }
}

/// A metric family's metadata.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Metadata {
    pub metric_family: String,
    pub metric_type: MetricType,
    pub help: String,
    pub unit: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MetadataUpdate {
    pub series: SeriesRef,
    pub labels: Labels,
    pub metadata: Arc<Metadata>,
}

/// Everything one append commits.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Batch {
    pub samples: Vec<Sample>,
    pub histograms: Vec<HistogramSample>,
    pub exemplars: Vec<ExemplarSample>,
    pub metadata: Vec<MetadataUpdate>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty() && self.histograms.is_empty() && self.exemplars.is_empty() && self.metadata.is_empty()
    }

    /// Samples plus histogram samples: what "samples" counts in self-metrics.
    pub fn len(&self) -> usize {
        self.samples.len() + self.histograms.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_marker_is_told_apart_from_ordinary_nan() {
        assert!(is_stale(STALE_NAN));
        assert!(STALE_NAN.is_nan());
        assert!(!is_stale(NORMAL_NAN));
        assert!(!is_stale(f64::NAN));
    }
}
