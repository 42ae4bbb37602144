//! Receivers: where telemetry enters the pipeline.
#[cfg(feature = "loki")]
pub mod loki;
pub mod otlp;
pub mod zipkin;
