//! The one diagnostic type used across the project, and its renderings.
//!
//! * [`render_short`]: `FILE:LINE:COL: message`, upstream-compatible lines for tools;
//! * [`render_pretty`]: ariadne reports with source snippets, for people.

use std::fmt::Write as _;
use std::sync::Arc;

use crate::span::{LineIndex, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
    Info,
    Hint,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
            Severity::Hint => "hint",
        }
    }
}

/// A secondary location: "first defined here", "this edge of the cycle", …
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Related {
    /// The file the span is in, when it is not the diagnostic's own file.
    pub file: Option<Arc<str>>,
    pub span: Span,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    pub severity: Severity,
    pub span: Span,
    pub message: String,
    /// A stable machine-readable code (`parse`, `unknown-component`, …).
    pub code: Option<&'static str>,
    pub notes: Vec<String>,
    pub related: Vec<Related>,
}

impl Diagnostic {
    pub fn error(span: Span, message: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Error, span, message: message.into(), code: None, notes: Vec::new(), related: Vec::new() }
    }

    pub fn warning(span: Span, message: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::error(span, message) }
    }

    pub fn with_code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn with_related(mut self, span: Span, message: impl Into<String>) -> Self {
        self.related.push(Related { file: None, span, message: message.into() });
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// `FILE:LINE:COL: message` per diagnostic, one per line (just `LINE:COL: message` when
/// `file` is empty), as upstream prints them.
pub fn render_short(file: &str, lines: &LineIndex, diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let pos = lines.line_col(d.span.start);
        if file.is_empty() {
            let _ = writeln!(out, "{pos}: {}", d.message);
        } else {
            let _ = writeln!(out, "{file}:{pos}: {}", d.message);
        }
    }
    out
}

/// Like [`render_short`] with the severity spelled out: `FILE:LINE:COL: error: message`.
pub fn render_short_with_severity(file: &str, lines: &LineIndex, diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let pos = lines.line_col(d.span.start);
        let _ = writeln!(out, "{file}:{pos}: {}: {}", d.severity.as_str(), d.message);
    }
    out
}

/// ariadne reports with a snippet of the source under each diagnostic.
pub fn render_pretty(file: &str, src: &str, diagnostics: &[Diagnostic], color: bool) -> String {
    use ariadne::{Config, IndexType, Label, Report, ReportKind, Source};
    use std::io::Write as _;

    let mut out = Vec::new();
    let len = src.len();
    let clamp = |s: Span| {
        let start = (s.start as usize).min(len);
        let end = (s.end as usize).clamp(start, len);
        start..end
    };
    for d in diagnostics {
        let kind = match d.severity {
            Severity::Error => ReportKind::Error,
            Severity::Warning => ReportKind::Warning,
            Severity::Info | Severity::Hint => ReportKind::Advice,
        };
        let primary = clamp(d.span);
        let mut report = Report::build(kind, (file, primary.clone()))
            .with_config(Config::default().with_color(color).with_index_type(IndexType::Byte))
            .with_message(&d.message)
            .with_label(Label::new((file, primary)).with_message(label_text(d)));
        if let Some(code) = d.code {
            report = report.with_code(code);
        }
        for r in d.related.iter().filter(|r| r.file.is_none()) {
            report = report.with_label(Label::new((file, clamp(r.span))).with_message(&r.message));
        }
        for note in &d.notes {
            report = report.with_note(note);
        }
        let _ = report.finish().write((file, Source::from(src)), &mut out);
        for r in d.related.iter().filter(|r| r.file.is_some()) {
            let _ = writeln!(out, "   = related: {}: {}", r.file.as_deref().unwrap_or(file), r.message);
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn label_text(d: &Diagnostic) -> String {
    match d.severity {
        Severity::Error => "here".to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_rendering_matches_upstream_layout() {
        let src = "a = 1\nb = ?";
        let lines = LineIndex::new(src.as_bytes());
        let d = Diagnostic::error(Span::new(10, 11), "illegal character U+003F '?'");
        assert_eq!(render_short("f.alloy", &lines, std::slice::from_ref(&d)), "f.alloy:2:5: illegal character U+003F '?'\n");
        assert_eq!(render_short("", &lines, &[d]), "2:5: illegal character U+003F '?'\n");
    }

    #[test]
    fn pretty_rendering_shows_the_line() {
        let src = "a = 1\nb = ?\n";
        let d = Diagnostic::error(Span::new(10, 11), "illegal character U+003F '?'");
        let text = render_pretty("f.alloy", src, &[d], false);
        assert!(text.contains("illegal character U+003F '?'"), "{text}");
        assert!(text.contains("b = ?"), "{text}");
        assert!(text.contains("f.alloy:2:5"), "{text}");
    }
}
