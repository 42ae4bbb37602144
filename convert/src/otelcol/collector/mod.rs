//! The collector engine behind `alloy otel`: collector YAML read with the collector's own
//! configuration rules ([`confmap`]) and laid out as a graph of Alloy components with the
//! collector's semantics ([`graph`]): one receiver, exporter and connector per ID, one processor
//! per pipeline that lists it, fan-out and fan-in as the pipelines say. Every error names the
//! YAML position it is about; [`print`] writes the merged configuration back out.

pub mod alloyengine;
pub mod confmap;
pub mod graph;
pub mod print;
pub mod signals;

pub use crate::yaml::Pos;
pub use confmap::{resolve, Failed, Host, Resolved, Source};
pub use graph::{build, Engine, Mapped};

/// A configuration error: the collector's message, and where in which source it is when a
/// node is to blame.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ConfigError {
    pub message: String,
    pub at: Option<Pos>,
}

impl ConfigError {
    pub fn new(message: impl Into<String>) -> ConfigError {
        ConfigError { message: message.into(), at: None }
    }

    pub fn at(message: impl Into<String>, at: Pos) -> ConfigError {
        ConfigError { message: message.into(), at: Some(at) }
    }

    /// `SOURCE:LINE:COL: message` (or the message alone) with the source's name.
    pub fn render(&self, sources: &[Source]) -> String {
        match self.at.and_then(|p| sources.get(usize::from(p.source)).map(|s| (s, p))) {
            Some((s, p)) if p.line > 0 && s.is_file => format!("{}:{}:{}: {}", s.name, p.line, p.col, self.message),
            Some((s, _)) => format!("{}: {}", s.name, self.message),
            _ => self.message.clone(),
        }
    }
}
