//! Receivers: where telemetry enters the pipeline.
pub mod otlp;
