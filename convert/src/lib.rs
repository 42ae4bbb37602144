//! `alloy convert`: OpenTelemetry Collector, Prometheus and Promtail configurations to Alloy.
//!
//! Each converter reads its source YAML into a typed model (with the source tool's defaults and
//! strict field checking), builds an Alloy tree ([`builder`]), and prints it with the project's
//! formatter. Diagnostics follow upstream's model ([`diag`]): four severities, the
//! `(Severity) summary` rendering and the report file.
//!
//! No input panics: keyword job names and similar inputs that crash upstream give a Critical.

pub mod builder;
pub mod diag;
pub mod otelcol;
pub mod prometheus;
pub mod promtail;
pub mod values;
pub mod verify;
pub mod yaml;
mod yaml_errors;

mod defaults;
mod http;

pub use diag::{Diagnostic, Diagnostics, Severity};

/// A source format `alloy convert` knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Otelcol,
    Prometheus,
    Promtail,
    Static,
}

impl Format {
    /// The exact, case-sensitive names upstream accepts.
    pub fn parse(s: &str) -> Option<Format> {
        Some(match s {
            "otelcol" => Format::Otelcol,
            "prometheus" => Format::Prometheus,
            "promtail" => Format::Promtail,
            "static" => Format::Static,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Otelcol => "otelcol",
            Format::Prometheus => "prometheus",
            Format::Promtail => "promtail",
            Format::Static => "static",
        }
    }
}

/// The result of a conversion: the Alloy text (absent on failure or when nothing was
/// converted) and every diagnostic, in upstream's order.
#[derive(Clone, Debug, Default)]
pub struct Conversion {
    pub output: Option<String>,
    pub diagnostics: Diagnostics,
}

/// `--extra-args` split as upstream does.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid flag found: {0}")]
pub struct InvalidFlag(pub String);

pub fn parse_extra_args(s: &str) -> Result<Vec<String>, InvalidFlag> {
    let mut out = Vec::new();
    for field in s.split_whitespace() {
        if !field.starts_with('-') {
            if field.contains('=') {
                return Err(InvalidFlag(field.to_string()));
            }
            out.push(field.to_string());
            continue;
        }
        match field.split_once('=') {
            Some((k, v)) => {
                out.push(k.to_string());
                if !v.is_empty() {
                    out.push(v.to_string());
                }
            }
            None => out.push(field.to_string()),
        }
    }
    Ok(out)
}

/// Converts `input` from the source format named `kind`.
pub fn convert(input: &[u8], kind: &str, extra_args: &[String]) -> Conversion {
    let mut diags = Diagnostics::new();
    let Some(format) = Format::parse(kind) else {
        diags.add(Severity::Critical, format!("unrecognized kind {kind:?} given to the config converter"));
        return Conversion { output: None, diagnostics: diags };
    };
    if !extra_args.is_empty() && format != Format::Static {
        diags.add(Severity::Critical, format!("extra arguments are not supported for the {} converter: [{}]", format.as_str(), extra_args.join(" ")));
        return Conversion { output: None, diagnostics: diags };
    }
    match format {
        Format::Prometheus => prometheus::convert(input),
        Format::Promtail => promtail::convert(input),
        Format::Otelcol => otelcol::convert(input, true),
        Format::Static => {
            diags.add(Severity::Critical, format!("the {} converter is not implemented yet", format.as_str()));
            Conversion { output: None, diagnostics: diags }
        }
    }
}

/// Converts without the otelcol converter's validation and environment-variable rewrite
/// (upstream's `ConvertWithoutValidation`); other formats convert as usual.
pub fn convert_without_validation(input: &[u8], kind: &str) -> Conversion {
    if kind == "otelcol" {
        return otelcol::convert(input, false);
    }
    convert(input, kind, &[])
}

/// Reads `input` as YAML and converts it with `build`, which reads the tree strictly into
/// `errs`. A syntax or reading error is one Critical, `failed to parse <tool> config: …`; an
/// `Err` from `build` is a Critical with its own text. Otherwise the file is rendered.
pub(crate) fn convert_yaml(
    input: &[u8],
    tool: &str,
    build: impl FnOnce(&yaml::Node, &mut yaml::Errors) -> Result<(builder::File, Diagnostics), String>,
) -> Conversion {
    let mut diags = Diagnostics::new();
    let critical = |mut diags: Diagnostics, msg: String| {
        diags.add(Severity::Critical, msg);
        Conversion { output: None, diagnostics: diags }
    };
    let root = match yaml::parse(input) {
        Ok(n) => n,
        Err(e) => {
            // go-yaml v2's text, as upstream's loaders report it; the position goes alongside.
            let at = Some((e.line as u32, e.col as u32));
            diags.add_at(Severity::Critical, format!("failed to parse {tool} config: {}", e.upstream), at, Vec::new());
            return Conversion { output: None, diagnostics: diags };
        }
    };
    let mut errs = yaml::Errors::default();
    let out = build(&root, &mut errs);
    if let Some(msg) = errs.message() {
        // Where the first problem is, and near misses of known keys, alongside upstream's text
        // (a custom unmarshaller's hard error has neither).
        let (at, hints) = if errs.hard.is_some() { (None, Vec::new()) } else { (errs.position(), errs.hints()) };
        diags.add_at(Severity::Critical, format!("failed to parse {tool} config: {msg}"), at, hints);
        return Conversion { output: None, diagnostics: diags };
    }
    let (file, d) = match out {
        Ok(x) => x,
        Err(msg) => return critical(diags, msg),
    };
    diags.extend(d);
    let output = finish(&file, &mut diags);
    Conversion { output, diagnostics: diags }
}

/// Renders a finished file: duplicate-label Criticals, then the formatter's output (a print
/// failure is an Error and leaves the raw text). Appends to `diags`.
pub(crate) fn finish(file: &builder::File, diags: &mut Diagnostics) -> Option<String> {
    finish_with(file, diags, str::to_string)
}

/// [`finish`], with `rewrite` applied to the raw text before it is printed.
pub(crate) fn finish_with(file: &builder::File, diags: &mut Diagnostics, rewrite: impl FnOnce(&str) -> String) -> Option<String> {
    let mut seen = std::collections::HashSet::new();
    for b in &file.blocks {
        let name = b.full_name();
        if !seen.insert(name.clone()) {
            diags.add(
                Severity::Critical,
                format!("duplicate label after conversion {name:?}. this is due to how valid Alloy labels are assembled and can be avoided by updating named properties in the source config."),
            );
        }
    }
    let raw = file.raw_text();
    if raw.is_empty() {
        return None;
    }
    let raw = rewrite(&raw);
    match builder::pretty_print(&raw) {
        Ok(text) => Some(text),
        Err(e) => {
            diags.add(Severity::Error, e);
            Some(raw)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_args_split() {
        assert_eq!(
            parse_extra_args("-enable-features=integrations-next -config.expand-env").unwrap(),
            ["-enable-features", "integrations-next", "-config.expand-env"]
        );
        assert_eq!(parse_extra_args("--key=\"foo=bar\"").unwrap(), ["--key", "\"foo=bar\""]);
        assert_eq!(parse_extra_args("--key=").unwrap(), ["--key"]);
        assert_eq!(parse_extra_args("key").unwrap(), ["key"]);
        assert_eq!(parse_extra_args("key=value").unwrap_err().to_string(), "invalid flag found: key=value");
    }

    #[test]
    fn unknown_format_and_extra_args_are_critical() {
        let c = convert(b"", "alloy", &[]);
        assert_eq!(c.diagnostics.to_string(), "(Critical) unrecognized kind \"alloy\" given to the config converter");
        let c = convert(b"", "prometheus", &["a".into(), "b".into()]);
        assert_eq!(c.diagnostics.to_string(), "(Critical) extra arguments are not supported for the prometheus converter: [a b]");
    }
}
