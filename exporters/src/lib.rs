//! In-process Prometheus exporters (being written).
