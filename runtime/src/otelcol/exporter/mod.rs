//! Exporters: consumers that send telemetry out of the process.
pub mod debug;
pub mod otlp;
pub mod otlphttp;
pub mod pipeline;
