//! The check every converted output must pass: it parses, it is formatted already, and the
//! analyzer accepts it (at the stability level and with the community components upstream's
//! tests load converted configs with).

/// Why a converted output fails the check.
#[derive(Debug)]
pub enum OutputProblem {
    /// The text does not parse (the parser's diagnostics, rendered).
    Unparsable(String),
    /// The text parses but formatting changes it; carries the formatted text.
    Unformatted(String),
    /// The analyzer's errors, as `line:col: message`.
    Rejected(Vec<String>),
}

pub fn verify_output(text: &str) -> Result<(), OutputProblem> {
    let formatted = syntax::format::format_source(text.as_bytes()).map_err(|d| OutputProblem::Unparsable(format!("{d:?}")))?;
    if formatted.trim_end() != text.trim_end() {
        return Err(OutputProblem::Unformatted(formatted));
    }
    let options = analyzer::Options { stability: analyzer::Stability::Experimental, community: true };
    let report = analyzer::check_text("converted.alloy", text, options);
    let errors: Vec<String> =
        report.diagnostics.iter().filter(|d| d.is_error()).map(|d| format!("{}: {}", report.lines.line_col(d.span.start), d.message)).collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(OutputProblem::Rejected(errors))
    }
}
