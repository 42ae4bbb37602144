//! Connectors: consumers of one signal that emit another to their `output` (spans to logs,
//! spans to metrics, anything to counts). Their inputs are decoded, since they look at every
//! span, and their outputs are built as OTLP requests.

pub mod count;
pub mod logfmt;
pub mod lru;
pub mod servicegraph;
pub mod spanlogs;
pub mod spanmetrics;
pub mod values;
