//! `service.telemetry` → the `logging` block and the diagnostics for what Alloy has no
//! equivalent of. The collector's defaults sample logs and configure a metrics reader: those
//! two are Warnings when the YAML sets them, Infos when they are the defaults it does not
//! mention (upstream warns about the defaults too), and nothing when the YAML clears them.

use crate::builder::{Block, File};
use crate::diag::{Diagnostics, Severity};
use crate::yaml::{Kind, Node};

use super::schema::{at, text, value};

fn flag(n: &Node, path: &str) -> bool {
    value(n, path).is_some_and(|v| text(v) == "true")
}

/// A list setting that differs from the default `[stderr]` (false when absent or not a list).
fn not_stderr(n: &Node, path: &str) -> bool {
    match at(n, path).map(|v| &v.kind) {
        Some(Kind::Seq(items)) => !(items.len() == 1 && text(&items[0]) == "stderr"),
        _ => false,
    }
}

fn non_empty(n: &Node, path: &str) -> bool {
    match value(n, path).map(|v| &v.kind) {
        Some(Kind::Seq(items)) => !items.is_empty(),
        Some(Kind::Map(entries)) => !entries.is_empty(),
        Some(Kind::Scalar { .. }) => true,
        None => false,
    }
}

pub fn convert(t: &Node, file: &mut File, diags: &mut Diagnostics) {
    let level = value(t, "logs.level").map(text).unwrap_or_default().to_lowercase();
    let level = match level.as_str() {
        "debug" | "info" | "warn" | "error" => level,
        _ => "info".to_string(),
    };
    let encoding = value(t, "logs.encoding").map(text).unwrap_or_else(|| "console".to_string());
    let format = match encoding.as_str() {
        "json" => "json",
        "console" => {
            diags.add(Severity::Info, "console log format is not supported, using default log format");
            "logfmt"
        }
        _ => "logfmt",
    };
    if level != "info" || format != "logfmt" {
        let mut b = Block::new("logging", None);
        b.opt_str("level", &level, "info").opt_str("format", format, "logfmt");
        file.blocks.push(b);
    }

    let warn = |diags: &mut Diagnostics, what: &str| diags.add(Severity::Warning, format!("the service/telemetry/{what} configuration is not supported"));
    let critical = |diags: &mut Diagnostics, what: &str| diags.add(Severity::Critical, format!("the service/telemetry/{what} configuration is not supported"));
    for what in ["development", "disable_caller", "disable_stacktrace"] {
        if flag(t, &format!("logs.{what}")) {
            warn(diags, &format!("logs/{what}"));
        }
    }
    // Sampling is on by default; only an explicit null turns it off. The collector's default,
    // which the user did not write, is only an Info (upstream warns about it on every file).
    match at(t, "logs.sampling") {
        Some(n) if n.is_null() => {}
        Some(_) => warn(diags, "logs/sampling"),
        None => diags
            .add(Severity::Info, "the service/telemetry/logs/sampling configuration is not supported (the collector's default sampling, not set in the file)"),
    }
    if not_stderr(t, "logs.output_paths") && non_empty(t, "logs.output_paths") {
        critical(diags, "logs/output_paths");
    }
    if not_stderr(t, "logs.error_output_paths") {
        critical(diags, "logs/error_output_paths");
    }
    if non_empty(t, "logs.initial_fields") {
        critical(diags, "logs/initial_fields");
    }
    if non_empty(t, "logs.processors") {
        critical(diags, "logs/processors");
    }
    // A metrics reader is configured by default; an explicit empty list removes it.
    let readers_cleared =
        matches!(at(t, "metrics.readers").map(|n| &n.kind), Some(Kind::Seq(items)) if items.is_empty()) || at(t, "metrics.readers").is_some_and(Node::is_null);
    if !readers_cleared {
        // As for sampling: only a reader the user wrote is a Warning.
        let (severity, default) = if at(t, "metrics.readers").is_some() {
            (Severity::Warning, "")
        } else {
            (Severity::Info, " (the collector's default reader, not set in the file)")
        };
        diags.add(
            severity,
            format!("the service/telemetry/metrics/readers configuration is not supported - to gather Alloy's own telemetry refer to: https://grafana.com/docs/alloy/latest/collect/metamonitoring/{default}"),
        );
    }
    if non_empty(t, "traces.processors") {
        critical(diags, "traces/processors");
    }
    if non_empty(t, "traces.propagators") {
        critical(diags, "traces/propagators");
    }
}
