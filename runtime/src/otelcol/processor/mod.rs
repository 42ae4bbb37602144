//! Processors: consumers that transform telemetry and pass it on to their `output`.
pub mod attributes;
pub mod batch;
pub mod filter;
pub mod memory_limiter;
pub mod ottl_support;
pub mod transform;
