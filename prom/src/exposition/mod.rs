//! The scrape formats: Prometheus text (0.0.4 and 1.0.0), OpenMetrics 1.0 text and the
//! delimited protobuf `MetricFamily` stream, behind one pull parser.
//!
//! Built for the scraper's hot path: a [`Series`] hands out the series text exactly as written
//! ([`Series::series`]), which the scraper uses as a cache key, so a series seen before costs
//! no label parsing; the label set is only built on request ([`Series::labels`]). The text
//! parsers allocate nothing per line. Grammar, leniencies and error texts follow Prometheus'
//! parsers (`model/textparse`), whose messages the conformance data checks verbatim.

mod escape;
mod float;
mod lex;
mod openmetrics;
pub mod proto;
mod protocols;
mod scan;
mod text;

use std::borrow::Cow;
use std::fmt;

use crate::labels::{LabelsBuilder, METRIC_NAME};
use crate::sample::{Exemplar, Histogram, MetricType};
use crate::Labels;

pub use escape::go_quote;
pub use float::{format_openmetrics_float, parse_go_float, NumberError, NumberErrorKind};
pub use openmetrics::OpenMetricsParser;
pub use proto::ProtobufParser;
pub use protocols::{accept_header, select_format, validate_fallback_protocol, validate_scrape_protocols, ScrapeProtocol, DEFAULT_SCRAPE_PROTOCOLS};
pub use text::TextParser;

use lex::Span;

/// A scrape body's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    PrometheusText,
    OpenMetrics,
    Protobuf,
}

impl Format {
    /// The format a `Content-Type` names, by media type; `None` for anything else (and for
    /// protobuf of another message than `io.prometheus.client.MetricFamily`).
    pub fn from_content_type(content_type: &str) -> Option<Format> {
        let mut parts = content_type.split(';');
        let media = parts.next()?.trim();
        if media.eq_ignore_ascii_case("text/plain") {
            Some(Format::PrometheusText)
        } else if media.eq_ignore_ascii_case("application/openmetrics-text") {
            Some(Format::OpenMetrics)
        } else if media.eq_ignore_ascii_case("application/vnd.google.protobuf") {
            let other_message = parts
                .filter_map(|p| p.split_once('='))
                .any(|(k, v)| k.trim().eq_ignore_ascii_case("proto") && v.trim().trim_matches('"') != "io.prometheus.client.MetricFamily");
            (!other_message).then_some(Format::Protobuf)
        } else {
            None
        }
    }
}

/// Parser behaviour switches; all off by default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ParserOptions {
    /// OpenMetrics: report a counter/summary/histogram `_created` line as the start timestamp
    /// of its series ([`Series::start_timestamp_ms`]) instead of as a series of its own.
    pub skip_created_series: bool,
    /// Protobuf: read histograms as classic ones even when they carry native buckets.
    pub ignore_native_histograms: bool,
    /// Protobuf: for a native histogram that also has classic buckets, report the classic
    /// series too (after the native one).
    pub parse_classic_histograms: bool,
}

/// Why parsing stopped. `Display` gives Prometheus' message for the same input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// `{expected}, got "{got}" ("{token}") while parsing: "{context}"`.
    Unexpected { expected: String, got: Vec<u8>, token: &'static str, context: Vec<u8> },
    /// A bad number: `{error} while parsing: "{context}"`.
    Number { error: NumberError, context: Vec<u8> },
    /// OpenMetrics input without its closing `# EOF`.
    MissingEof,
    /// Anything after OpenMetrics' `# EOF`.
    DataAfterEof,
    /// Every other message, complete.
    Invalid(String),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Unexpected { expected, got, token, context } => {
                write!(f, "{expected}, got {} ({}) while parsing: {}", go_quote(got), go_quote(token.as_bytes()), go_quote(context))
            }
            ParseError::Number { error, context } => write!(f, "{error} while parsing: {}", go_quote(context)),
            ParseError::MissingEof => f.write_str("data does not end with # EOF"),
            ParseError::DataAfterEof => f.write_str("unexpected data after # EOF"),
            ParseError::Invalid(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for ParseError {}

/// One item of an exposition. Borrowed from the parser until its next call.
#[derive(Clone, Debug)]
pub enum Entry<'a> {
    Help {
        metric: Cow<'a, str>,
        text: Cow<'a, str>,
    },
    Type {
        metric: Cow<'a, str>,
        metric_type: MetricType,
    },
    Unit {
        metric: Cow<'a, str>,
        unit: Cow<'a, str>,
    },
    /// A comment line as written, `#` included (Prometheus text only).
    Comment(&'a [u8]),
    Series(Series<'a>),
    /// A native histogram (protobuf only).
    Histogram(NativeHistogram<'a>),
}

/// A float sample.
#[derive(Clone, Copy, Debug)]
pub struct Series<'a> {
    pub(crate) series: &'a [u8],
    pub(crate) value: f64,
    pub(crate) timestamp_ms: Option<i64>,
    pub(crate) start_timestamp_ms: Option<i64>,
    pub(crate) metric_type: MetricType,
    pub(crate) labels: LabelSource<'a>,
    pub(crate) exemplar: Option<ExemplarRef<'a>>,
}

/// The accessors [`Series`] and [`NativeHistogram`] share, over their fields of the same names.
macro_rules! sample_accessors {
    () => {
        /// The series as written (metric name and label part of the line), or for protobuf a
        /// key built from the name and the sorted label pairs: equal for the same series within
        /// one format, so it can key a cache of parsed label sets.
        pub fn series(&self) -> &'a [u8] {
            self.series
        }

        /// The sample's own timestamp, in milliseconds.
        pub fn timestamp_ms(&self) -> Option<i64> {
            self.timestamp_ms
        }

        /// The start ("created") timestamp, in milliseconds, when the exposition gives one.
        pub fn start_timestamp_ms(&self) -> Option<i64> {
            self.start_timestamp_ms
        }

        /// The type of the family in force (the last `# TYPE` line for the text formats;
        /// `Histogram` or `GaugeHistogram` for a native histogram).
        pub fn metric_type(&self) -> MetricType {
            self.metric_type
        }

        /// Replaces `into` with the series' labels, `__name__` included, escapes undone and, in
        /// histogram and summary families of the text formats, `le`/`quantile` values in
        /// OpenMetrics float form.
        pub fn labels(&self, into: &mut LabelsBuilder) {
            self.labels.fill(self.metric_type, into);
        }

        /// The metric name, escapes undone.
        pub fn metric_name(&self) -> Cow<'a, str> {
            self.labels.metric_name()
        }
    };
}

impl<'a> Series<'a> {
    sample_accessors!();

    pub fn value(&self) -> f64 {
        self.value
    }

    pub fn exemplar(&self) -> Option<ExemplarRef<'a>> {
        self.exemplar
    }

    /// The label set as [`Labels`] (allocates; [`Series::labels`] reuses a builder).
    pub fn to_labels(&self) -> Labels {
        let mut b = LabelsBuilder::default();
        self.labels(&mut b);
        b.into_labels()
    }
}

/// A native histogram sample (protobuf).
#[derive(Clone, Copy, Debug)]
pub struct NativeHistogram<'a> {
    pub(crate) series: &'a [u8],
    pub(crate) timestamp_ms: Option<i64>,
    pub(crate) start_timestamp_ms: Option<i64>,
    pub(crate) metric_type: MetricType,
    pub(crate) histogram: &'a Histogram,
    pub(crate) labels: LabelSource<'a>,
    pub(crate) exemplars: &'a [Exemplar],
}

impl<'a> NativeHistogram<'a> {
    sample_accessors!();

    pub fn histogram(&self) -> &'a Histogram {
        self.histogram
    }

    /// Exemplars that carry a timestamp (upstream drops the others for native histograms).
    pub fn exemplars(&self) -> &'a [Exemplar] {
        self.exemplars
    }
}

/// An exemplar attached to a sample.
#[derive(Clone, Copy, Debug)]
pub struct ExemplarRef<'a> {
    pub(crate) value: f64,
    pub(crate) timestamp_ms: Option<i64>,
    pub(crate) labels: ExemplarLabels<'a>,
}

impl ExemplarRef<'_> {
    pub fn value(&self) -> f64 {
        self.value
    }

    pub fn timestamp_ms(&self) -> Option<i64> {
        self.timestamp_ms
    }

    /// Replaces `into` with the exemplar's labels.
    pub fn labels(&self, into: &mut LabelsBuilder) {
        into.clear();
        match self.labels {
            ExemplarLabels::Text { buf, pairs } => {
                for p in pairs.chunks_exact(2) {
                    into.set(&*escape::unescape_str(p[0].of(buf)), &*escape::unescape_str(p[1].of(buf)));
                }
            }
            ExemplarLabels::Proto(pairs) => {
                for p in pairs {
                    into.set(p.name.as_str(), p.value.as_str());
                }
            }
        }
    }

    /// As an owned exemplar; one without a timestamp gets `sample_t` (the sample's).
    pub fn to_exemplar(&self, sample_t: i64) -> Exemplar {
        let mut b = LabelsBuilder::default();
        self.labels(&mut b);
        Exemplar { labels: b.into_labels(), value: self.value, t: self.timestamp_ms.unwrap_or(sample_t) }
    }
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum ExemplarLabels<'a> {
    /// Spans into the exposition: (name, value) alternating, still escaped.
    Text {
        buf: &'a [u8],
        pairs: &'a [Span],
    },
    Proto(&'a [proto::LabelPair]),
}

/// Where a series' labels come from, parsed only when asked for.
#[derive(Clone, Copy, Debug)]
pub(crate) enum LabelSource<'a> {
    /// Spans into the exposition: the metric name and (name, value) pairs alternating, still
    /// escaped.
    Text { buf: &'a [u8], name: Span, pairs: &'a [Span] },
    /// A protobuf metric: its family name (with the `_bucket`/`_sum`/`_count` suffix), label
    /// pairs, and the `le`/`quantile` label of a flattened histogram or summary.
    Proto { name: &'a str, pairs: &'a [proto::LabelPair], extra: Option<(&'static str, &'a str)> },
}

impl<'a> LabelSource<'a> {
    fn metric_name(&self) -> Cow<'a, str> {
        match *self {
            LabelSource::Text { buf, name, .. } => escape::unescape_str(name.of(buf)),
            LabelSource::Proto { name, .. } => Cow::Borrowed(name),
        }
    }

    fn fill(&self, mtype: MetricType, into: &mut LabelsBuilder) {
        into.clear();
        match *self {
            LabelSource::Text { buf, name, pairs } => {
                into.set(METRIC_NAME, &*escape::unescape_str(name.of(buf)));
                for p in pairs.chunks_exact(2) {
                    let name = escape::unescape_str(p[0].of(buf));
                    let value = escape::unescape_str(p[1].of(buf));
                    let normalise = match mtype {
                        MetricType::Summary => name == "quantile",
                        MetricType::Histogram => name == "le",
                        _ => false,
                    };
                    match normalise.then(|| parse_go_float(value.as_bytes()).ok()).flatten() {
                        Some(f) => float::with_openmetrics_float(f, |v| into.set(&*name, v)),
                        None => into.set(&*name, &*value),
                    }
                }
            }
            LabelSource::Proto { name, pairs, extra } => {
                into.set(METRIC_NAME, name);
                for p in pairs {
                    if p.name != METRIC_NAME {
                        into.set(p.name.as_str(), p.value.as_str());
                    }
                }
                if let Some((n, v)) = extra {
                    into.set(n, v);
                }
            }
        }
    }
}

/// A pull parser for any of the formats.
pub enum Parser<'a> {
    PrometheusText(TextParser<'a>),
    OpenMetrics(OpenMetricsParser<'a>),
    Protobuf(ProtobufParser<'a>),
}

impl<'a> Parser<'a> {
    pub fn new(format: Format, body: &'a [u8]) -> Self {
        Parser::with_options(format, body, ParserOptions::default())
    }

    pub fn with_options(format: Format, body: &'a [u8], options: ParserOptions) -> Self {
        match format {
            Format::PrometheusText => Parser::PrometheusText(TextParser::new(body)),
            Format::OpenMetrics => Parser::OpenMetrics(OpenMetricsParser::new(body, options.skip_created_series)),
            Format::Protobuf => Parser::Protobuf(ProtobufParser::new(body, options)),
        }
    }

    /// The same parser with the text formats' fast path off: every line through the state
    /// machine (tests compare the two).
    #[cfg(test)]
    pub(crate) fn without_fast_path(mut self) -> Self {
        match &mut self {
            Parser::PrometheusText(p) => p.s.fast = false,
            Parser::OpenMetrics(p) => p.s.fast = false,
            Parser::Protobuf(_) => {}
        }
        self
    }

    /// The next entry; `None` at the end of the input and after an error.
    #[allow(clippy::should_implement_trait)]
    #[inline]
    pub fn next(&mut self) -> Option<Result<Entry<'_>, ParseError>> {
        match self {
            Parser::PrometheusText(p) => p.next(),
            Parser::OpenMetrics(p) => p.next(),
            Parser::Protobuf(p) => p.next(),
        }
    }
}

#[cfg(test)]
mod tests;
