//! Processors: consumers that transform telemetry and pass it on to their `output`.
pub mod attributes;
pub mod batch;
pub mod deltatocumulative;
pub mod filter;
pub mod groupbyattrs;
pub mod memory_limiter;
pub mod ottl_support;
pub mod probabilistic_sampler;
pub mod redaction;
pub mod resourcedetection;
pub mod rewrite;
pub mod span;
pub mod tail_sampling;
pub mod transform;
