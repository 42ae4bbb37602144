//! The Loki side of the runtime's pipelines, free of the runtime: the log entry every
//! `loki.*` component passes on ([`entry`]). Label sets are [`prom::Labels`], so `loki.relabel`
//! runs the same relabel engine as the Prometheus components.

pub mod entry;

pub use entry::Entry;
pub mod process;
pub mod push;
pub mod wal;
