//! Components that bring log entries into a pipeline.

pub mod api;
pub mod docker;
pub mod file;
pub mod gelf;
mod positions;
pub mod syslog;

#[cfg(test)]
mod python;
