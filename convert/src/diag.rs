//! The converter's diagnostics: upstream's four severities, its `(Severity) summary` rendering
//! and its report file format.

use std::fmt;

/// Upstream's severities, in their numeric order (Info = 1 … Critical = 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Info,
    Warning,
    Error,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "Info",
            Severity::Warning => "Warning",
            Severity::Error => "Error",
            Severity::Critical => "Critical",
        }
    }
}

/// One diagnostic: a severity, a one-line summary and an optional (possibly multi-line) detail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub summary: String,
    pub detail: String,
    /// The YAML line and column (1-based) the diagnostic is about, when known. Kept out of
    /// `Display` (upstream's texts) and shown by [`Diagnostics::render`].
    pub at: Option<(u32, u32)>,
    /// Hints such as `did you mean "otlp"?`, shown by [`Diagnostics::render`].
    pub notes: Vec<String>,
}

impl fmt::Display for Diagnostic {
    /// `(Severity) summary`, then a newline and the detail when there is one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({}) {}", self.severity.as_str(), self.summary)?;
        if !self.detail.is_empty() {
            write!(f, "\n{}", self.detail)?;
        }
        Ok(())
    }
}

/// Diagnostics in the order the converter appended them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn new() -> Self {
        Diagnostics(Vec::new())
    }

    pub fn add(&mut self, severity: Severity, summary: impl Into<String>) {
        self.0.push(Diagnostic { severity, summary: summary.into(), detail: String::new(), at: None, notes: Vec::new() });
    }

    pub fn add_with_detail(&mut self, severity: Severity, summary: impl Into<String>, detail: impl Into<String>) {
        self.0.push(Diagnostic { severity, summary: summary.into(), detail: detail.into(), at: None, notes: Vec::new() });
    }

    /// A diagnostic about the YAML at `line`:`col`, with `notes` (hints) for the user.
    pub fn add_at(&mut self, severity: Severity, summary: impl Into<String>, at: Option<(u32, u32)>, notes: Vec<String>) {
        self.0.push(Diagnostic { severity, summary: summary.into(), detail: String::new(), at, notes });
    }

    /// The diagnostics as `alloy convert` shows them: upstream's text, then the YAML position
    /// and any hints on their own lines.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        for d in &self.0 {
            let mut text = d.to_string();
            if let Some((line, col)) = d.at {
                text.push_str(&format!("\n\tat line {line}, column {col}"));
            }
            for n in &d.notes {
                text.push_str(&format!("\n\t{n}"));
            }
            out.push(text);
        }
        out.join("\n")
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn has(&self, severity: Severity) -> bool {
        self.0.iter().any(|d| d.severity == severity)
    }

    /// Whether the conversion failed: any Critical, or any Error without `bypass`.
    pub fn is_failure(&self, bypass: bool) -> bool {
        self.has(Severity::Critical) || (!bypass && self.has(Severity::Error))
    }

    /// The report file's text: the kept diagnostics, then a footer; no trailing
    /// newline.
    pub fn report(&self, bypass: bool) -> String {
        let (min, footer) = if self.has(Severity::Critical) {
            (Severity::Critical, "A configuration file was not generated due to critical issues. Refer to the critical messages for more information.")
        } else if self.has(Severity::Error) && !bypass {
            (
                Severity::Error,
                "A configuration file was not generated due to errors. Refer to the error messages for more information.\n\nYou can bypass the errors by using the --bypass-errors flag. Bypassing errors isn't recommended for production environments.",
            )
        } else {
            (Severity::Info, "A configuration file was generated successfully.")
        };
        let keep = |d: &Diagnostic| d.severity >= min;
        let kept: Vec<String> = self.0.iter().filter(|d| keep(d)).map(ToString::to_string).collect();
        format!("{}\n\n{}", kept.join("\n"), footer)
    }
}

impl fmt::Display for Diagnostics {
    /// All diagnostics joined with `\n`, no trailing newline.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_detail_on_its_own_lines() {
        let mut d = Diagnostics::new();
        d.add_with_detail(Severity::Info, "Converted x into...", "\tA y component");
        d.add(Severity::Warning, "w");
        assert_eq!(d.to_string(), "(Info) Converted x into...\n\tA y component\n(Warning) w");
    }

    #[test]
    fn report_footers() {
        let empty = Diagnostics::new();
        assert_eq!(empty.report(false), "\n\nA configuration file was generated successfully.");
        let mut d = Diagnostics::new();
        d.add(Severity::Info, "i");
        d.add(Severity::Error, "e");
        assert!(d.report(false).starts_with("(Error) e\n\nA configuration file was not generated due to errors."));
        assert_eq!(d.report(true), "(Info) i\n(Error) e\n\nA configuration file was generated successfully.");
        d.add(Severity::Critical, "c");
        assert!(d.report(true).starts_with("(Critical) c\n\nA configuration file was not generated due to critical"));
    }
}
