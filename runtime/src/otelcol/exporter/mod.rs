//! Exporters: consumers that send telemetry out of the process.
pub mod debug;
pub mod file;
mod grpc_unary;
pub mod loadbalancing;
#[cfg(feature = "loki")]
pub mod loki;
pub mod otlp;
pub mod otlphttp;
pub mod pipeline;
#[cfg(feature = "prometheus")]
pub mod prometheus;
