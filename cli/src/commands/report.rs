//! Printing diagnostics: snippets for a person at a terminal, `FILE:LINE:COL: message` lines
//! (upstream's format) for tools and pipes.

use std::io::IsTerminal;

use syntax::{diagnostics, Diagnostic, LineIndex};

/// Prints `diags` of `file` to standard error.
pub fn diagnostics(file: &str, src: &str, lines: &LineIndex, diags: &[Diagnostic]) {
    let stderr = std::io::stderr();
    if stderr.is_terminal() && std::env::var_os("ALLOY_PLAIN_DIAGNOSTICS").is_none() {
        eprint!("{}", diagnostics::render_pretty(file, src, diags, true));
    } else {
        eprint!("{}", diagnostics::render_short(file, lines, diags));
    }
}
