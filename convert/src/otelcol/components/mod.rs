//! Every collector component upstream converts, one module per family. Each entry
//! names the collector type(s), the Alloy component and the field table.

mod common;
mod connectors;
mod datadog;
mod exporters;
mod extensions;
mod processors;
mod receivers;
mod stanza;

use std::sync::OnceLock;

use crate::builder::Block;
use crate::yaml::Node;

use super::schema::F;
use super::Ctx;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CKind {
    Receiver,
    Processor,
    Exporter,
    Connector,
    Extension,
}

impl CKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CKind::Receiver => "receiver",
            CKind::Processor => "processor",
            CKind::Exporter => "exporter",
            CKind::Connector => "connector",
            CKind::Extension => "extension",
        }
    }
}

/// Whether the Alloy component gets the pipeline's `output` block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    None,
    Wired,
}

pub struct Conv {
    pub kind: CKind,
    /// The collector type and its deprecated aliases.
    pub types: &'static [&'static str],
    pub alloy: &'static str,
    pub fields: fn() -> Vec<F>,
    pub output: Output,
    /// Diagnostics for settings that cannot be converted.
    pub check: Option<fn(&Node, &mut Ctx)>,
    /// Blocks emitted just before the component (the bearer token's `local.file`).
    pub before: Option<fn(&Node, &str) -> Vec<Block>>,
    /// For each `output` attribute (metrics, logs, traces), the pipeline signal whose
    /// destinations fill it (upstream swaps some and leaves out unsupported ones).
    pub signals: [Option<usize>; 3],
    /// Where this converter's output deliberately differs from upstream's (README,
    /// differences), said as an Info diagnostic on each conversion.
    pub deviation: Option<&'static str>,
}

impl Conv {
    pub fn new(kind: CKind, types: &'static [&'static str], alloy: &'static str, fields: fn() -> Vec<F>) -> Conv {
        let output = match kind {
            CKind::Receiver | CKind::Processor | CKind::Connector => Output::Wired,
            CKind::Exporter | CKind::Extension => Output::None,
        };
        Conv { kind, types, alloy, fields, output, check: None, before: None, signals: [Some(0), Some(1), Some(2)], deviation: None }
    }

    pub fn deviation(mut self, note: &'static str) -> Conv {
        self.deviation = Some(note);
        self
    }

    pub fn signals(mut self, s: [Option<usize>; 3]) -> Conv {
        self.signals = s;
        self
    }

    pub fn check(mut self, c: fn(&Node, &mut Ctx)) -> Conv {
        self.check = Some(c);
        self
    }

    pub fn before(mut self, b: fn(&Node, &str) -> Vec<Block>) -> Conv {
        self.before = Some(b);
        self
    }
}

fn all() -> &'static [Conv] {
    static ALL: OnceLock<Vec<Conv>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut v = receivers::list();
        v.extend(processors::list());
        v.extend(exporters::list());
        v.extend(connectors::list());
        v.extend(extensions::list());
        v
    })
}

/// The converter for a collector type of `kind`.
pub fn lookup(kind: CKind, ty: &str) -> Option<&'static Conv> {
    all().iter().find(|c| c.kind == kind && c.types.contains(&ty))
}

/// The types `kind` accepts, sorted (upstream prints them in map order).
pub fn types(kind: CKind) -> Vec<&'static str> {
    let mut v: Vec<&str> = all().iter().filter(|c| c.kind == kind).flat_map(|c| c.types.iter().copied()).collect();
    v.sort_unstable();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_upstream_converter_is_registered() {
        assert_eq!(all().len(), 59);
        for kind in [CKind::Receiver, CKind::Processor, CKind::Exporter, CKind::Connector, CKind::Extension] {
            let mut names = types(kind);
            let n = names.len();
            names.dedup();
            assert_eq!(names.len(), n, "a {} type is registered twice", kind.as_str());
        }
        assert_eq!(lookup(CKind::Exporter, "otlp_grpc").map(|c| c.alloy), Some("otelcol.exporter.otlp"));
        assert_eq!(lookup(CKind::Connector, "service_graph").map(|c| c.alloy), Some("otelcol.connector.servicegraph"));
    }
}
