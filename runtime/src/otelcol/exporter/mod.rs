//! Exporters: consumers that send telemetry out of the process.
pub mod debug;
pub mod file;
#[cfg(feature = "loki")]
pub mod loki;
pub mod otlp;
pub mod otlphttp;
pub mod pipeline;
