//! Printing diagnostics: snippets for a person at a terminal, `FILE:LINE:COL: message` lines
//! (upstream's format) for tools and pipes.

use std::io::IsTerminal;

use syntax::{diagnostics, Diagnostic, LineIndex};

/// `--stability.level` (shared by `run` and `validate`).
pub fn parse_stability(s: &str) -> Result<analyzer::Stability, String> {
    analyzer::Stability::parse(s).ok_or_else(|| format!("invalid stability level {s:?} (expected experimental, public-preview or generally-available)"))
}

/// Prints `diags` of `file` to standard error.
pub fn diagnostics(file: &str, src: &str, lines: &LineIndex, diags: &[Diagnostic]) {
    let stderr = std::io::stderr();
    if stderr.is_terminal() && std::env::var_os("ALLOY_PLAIN_DIAGNOSTICS").is_none() {
        super::output::stderr(&diagnostics::render_pretty(file, src, diags, true));
    } else {
        super::output::stderr(&diagnostics::render_short(file, lines, diags));
    }
}

/// Prints the diagnostics of checked files to standard error with source snippets
/// (`alloy validate`'s text output, `alloy run`'s load errors), in colour at a terminal
/// unless `NO_COLOR` is set.
pub fn file_reports(reports: &[analyzer::FileReport]) {
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    for r in reports {
        if !r.diagnostics.is_empty() {
            super::output::stderr(&diagnostics::render_pretty(&r.path, &r.text, &r.diagnostics, color));
        }
    }
}
