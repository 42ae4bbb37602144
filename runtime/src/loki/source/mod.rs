//! Components that bring log entries into a pipeline.

pub mod api;
pub mod file;
