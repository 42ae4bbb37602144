//! Live debugging: what components send, shown while someone watches.
//!
//! Every controller owns one [`Hub`] (module components share their controller's, so they
//! publish under their global `MODULE/LOCAL` IDs). Components publish through a [`Tap`]
//! (their ID plus the hub): a count of items, the components the items went to, and a
//! record rendered only when a debug stream wants it. With nobody listening a publish costs
//! one atomic load.
//!
//! Two kinds of listeners: a debug stream for one component (`/api/v0/web/debug/{id}`,
//! [`DebugSink`]: sampling, a per-stream rate limit, a bounded buffer) and a graph stream for
//! one module (`/api/v0/web/graph`, [`GraphSink`]: counts only, so it works even when the
//! `livedebugging` block is off).

mod graph;
mod hub;
mod sink;

pub use graph::{GraphSink, Rate};
pub use hub::{Hub, Subscription, Tap};
pub use sink::{DebugSink, Filter, DEFAULT_RATE_LIMIT, MAX_RECORD_BYTES, STREAM_BUFFER};

/// What a record holds, named as upstream's UI expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataType {
    Target,
    PrometheusMetric,
    LokiLog,
    OtelMetric,
    OtelLog,
    OtelTrace,
}

impl DataType {
    pub const ALL: [DataType; 6] =
        [DataType::Target, DataType::PrometheusMetric, DataType::LokiLog, DataType::OtelMetric, DataType::OtelLog, DataType::OtelTrace];

    pub fn as_str(self) -> &'static str {
        match self {
            DataType::Target => "target",
            DataType::PrometheusMetric => "prometheus_metric",
            DataType::LokiLog => "loki_log",
            DataType::OtelMetric => "otel_metric",
            DataType::OtelLog => "otel_log",
            DataType::OtelTrace => "otel_trace",
        }
    }

    pub fn parse(s: &str) -> Option<DataType> {
        DataType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// The module a global component ID belongs to: `""` for the root, else what precedes the
/// last `/` (local IDs never contain one).
pub fn module_of(component_id: &str) -> &str {
    component_id.rsplit_once('/').map_or("", |(m, _)| m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_round_trip_and_modules_come_from_ids() {
        for t in DataType::ALL {
            assert_eq!(DataType::parse(t.as_str()), Some(t));
        }
        assert_eq!(DataType::parse("otel"), None);
        assert_eq!(module_of("loki.echo.a"), "");
        assert_eq!(module_of("outer.o/inner.i/loki.echo.a"), "outer.o/inner.i");
    }
}
