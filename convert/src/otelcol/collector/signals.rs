//! Which signals each collector component handles, and at what stability: the `status.stability`
//! of its `metadata.yaml` in OpenTelemetry Collector (core and contrib) v0.158.0, limited to the
//! signals this runtime carries (no profiles). `alloy otel components` lists it, and a pipeline
//! of a signal its component does not handle is refused as the collector refuses it.

/// A stability level as the collector prints it.
pub type Level = &'static str;

const STABLE: Level = "Stable";
const BETA: Level = "Beta";
const ALPHA: Level = "Alpha";
const DEVELOPMENT: Level = "Development";

/// (Alloy component, [(signal, stability)]): for connectors the signal is `in_to_out`, for
/// extensions `extension`.
const TABLE: &[(&str, &[(&str, Level)])] = &[
    ("otelcol.receiver.otlp", &[("logs", STABLE), ("metrics", STABLE), ("traces", STABLE)]),
    ("otelcol.receiver.zipkin", &[("traces", BETA)]),
    ("otelcol.receiver.jaeger", &[("traces", BETA)]),
    ("otelcol.receiver.filelog", &[("logs", BETA)]),
    ("otelcol.processor.attributes", &[("logs", BETA), ("metrics", BETA), ("traces", BETA)]),
    ("otelcol.processor.batch", &[("logs", BETA), ("metrics", BETA), ("traces", BETA)]),
    ("otelcol.processor.deltatocumulative", &[("metrics", ALPHA)]),
    ("otelcol.processor.filter", &[("logs", ALPHA), ("metrics", ALPHA), ("traces", ALPHA)]),
    ("otelcol.processor.groupbyattrs", &[("logs", BETA), ("metrics", BETA), ("traces", BETA)]),
    ("otelcol.processor.memory_limiter", &[("logs", BETA), ("metrics", BETA), ("traces", BETA)]),
    ("otelcol.processor.probabilistic_sampler", &[("logs", ALPHA), ("traces", BETA)]),
    ("otelcol.processor.redaction", &[("logs", ALPHA), ("metrics", ALPHA), ("traces", BETA)]),
    ("otelcol.processor.span", &[("traces", ALPHA)]),
    ("otelcol.processor.tail_sampling", &[("traces", BETA)]),
    ("otelcol.processor.transform", &[("logs", BETA), ("metrics", BETA), ("traces", BETA)]),
    ("otelcol.processor.resourcedetection", &[("logs", BETA), ("metrics", BETA), ("traces", BETA)]),
    ("otelcol.exporter.debug", &[("logs", ALPHA), ("metrics", ALPHA), ("traces", ALPHA)]),
    ("otelcol.exporter.file", &[("logs", ALPHA), ("metrics", ALPHA), ("traces", ALPHA)]),
    ("otelcol.exporter.loadbalancing", &[("logs", BETA), ("metrics", DEVELOPMENT), ("traces", BETA)]),
    ("otelcol.exporter.otlp", &[("logs", STABLE), ("metrics", STABLE), ("traces", STABLE)]),
    ("otelcol.exporter.otlphttp", &[("logs", STABLE), ("metrics", STABLE), ("traces", STABLE)]),
    ("otelcol.connector.count", &[("logs_to_metrics", ALPHA), ("metrics_to_metrics", ALPHA), ("traces_to_metrics", ALPHA)]),
    ("otelcol.connector.servicegraph", &[("traces_to_metrics", ALPHA)]),
    ("otelcol.connector.spanmetrics", &[("traces_to_metrics", ALPHA)]),
    ("otelcol.auth.basic", &[("extension", BETA)]),
    ("otelcol.auth.bearer", &[("extension", BETA)]),
    ("otelcol.storage.file", &[("extension", BETA)]),
    ("otelcol.auth.headers", &[("extension", ALPHA)]),
];

/// The signals (with stability) of the collector component an Alloy component runs.
pub fn of(alloy: &str) -> Option<&'static [(&'static str, Level)]> {
    TABLE.iter().find(|(name, _)| *name == alloy).map(|(_, s)| *s)
}

/// Whether a receiver, processor or exporter handles `signal`; a connector, whether it takes
/// `signal` in (`into`) or gives it out. Components without an entry are not limited.
pub fn handles(alloy: &str, signal: &str, into: bool) -> bool {
    let Some(entries) = of(alloy) else { return true };
    entries.iter().any(|(s, _)| match s.split_once("_to_") {
        Some((from, to)) => *(if into { from } else { to }) == *signal,
        None => *s == signal || *s == "extension",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_of_plain_components_and_connectors() {
        assert!(handles("otelcol.receiver.zipkin", "traces", true));
        assert!(!handles("otelcol.receiver.zipkin", "logs", true));
        assert!(handles("otelcol.connector.count", "logs", true) && !handles("otelcol.connector.count", "logs", false));
        assert!(handles("otelcol.connector.spanmetrics", "metrics", false) && !handles("otelcol.connector.spanmetrics", "metrics", true));
        assert!(handles("otelcol.exporter.not_in_table", "logs", true), "no entry, no limit");
    }
}
