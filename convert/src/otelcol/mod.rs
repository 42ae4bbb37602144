//! OpenTelemetry Collector → Alloy: load the collector config as confmap does,
//! convert `service.telemetry`, then emit the listed extensions and, per pipeline group, the
//! receivers, processors, exporters and connectors with their `output` wiring.
//!
//! Components are described by tables ([`schema`]), one module per family under
//! [`components`].

pub mod collector;
mod components;
mod config;
mod env;
mod pipeline;
pub(crate) mod schema;
mod telemetry;

pub(crate) use pipeline::label as pipeline_label;

use std::collections::HashMap;

use crate::builder::File;
use crate::diag::{Diagnostics, Severity};
use crate::Conversion;

/// What a component's tables and hooks can reach while rendering.
pub struct Ctx<'a> {
    /// Extension ID → its Alloy `name.label` (only those in `service.extensions`).
    pub extensions: &'a HashMap<String, String>,
    /// `kind/id` of the component being converted, for messages.
    pub instance: String,
    pub diags: Diagnostics,
    /// Values that do not read as their field's type, and where they are (the collector
    /// engine refuses them; the converter keeps upstream's output).
    pub invalid: Vec<(schema::Invalid, crate::yaml::Pos)>,
}

impl Ctx<'_> {
    /// The `handler` export of the extension `id`; one that is not enabled in
    /// `service.extensions` (where upstream panics) is a Critical.
    pub fn handler(&mut self, id: &str) -> String {
        match self.extensions.get(id) {
            Some(full) => format!("{full}.handler"),
            None => {
                self.diags.add(Severity::Critical, format!("{}: extension {id:?} is referenced but not enabled in service::extensions", self.instance));
                String::new()
            }
        }
    }

    pub fn warn(&mut self, msg: impl Into<String>) {
        self.diags.add(Severity::Warning, msg);
    }
}

/// Converts a collector config; `validate` is false for upstream's `ConvertWithoutValidation`,
/// which also skips the environment-variable rewrite.
pub fn convert(input: &[u8], validate: bool) -> Conversion {
    let mut diags = Diagnostics::new();
    let cfg = match config::load(input, validate) {
        Ok(cfg) => cfg,
        Err(e) => {
            diags.add_at(Severity::Critical, e.message, e.at.map(|p| (p.line as u32, p.col as u32)), e.notes);
            return Conversion { output: None, diagnostics: diags };
        }
    };
    let mut file = File::default();
    telemetry::convert(&cfg.telemetry, &mut file, &mut diags);
    if let Err(e) = pipeline::emit(&cfg, &mut file, &mut diags) {
        diags.add(Severity::Critical, e);
        return Conversion { output: None, diagnostics: diags };
    }
    if diags.has(Severity::Critical) {
        return Conversion { output: None, diagnostics: diags };
    }
    let output = crate::finish_with(&file, &mut diags, |raw| if validate { env::rewrite(raw) } else { raw.to_string() });
    Conversion { output, diagnostics: diags }
}
