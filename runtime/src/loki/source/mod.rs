//! Components that bring log entries into a pipeline.

pub mod api;
pub mod docker;
pub mod file;
mod positions;
