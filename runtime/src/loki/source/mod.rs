//! Components that bring log entries into a pipeline.

pub mod api;
pub mod file;
pub mod gelf;
pub mod syslog;

#[cfg(test)]
mod python;
