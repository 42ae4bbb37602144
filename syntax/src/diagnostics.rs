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

/// At most this many diagnostics of one file are rendered as reports; the rest are counted.
pub const MAX_RENDERED: usize = 100;
/// Labels this many lines apart or closer share one snippet; farther ones get their own.
const CLUSTER_GAP: u32 = 8;
/// A label spanning more lines is shown by its first ones.
const MAX_LABEL_LINES: u32 = 16;
/// A longer line is shown as a window of about this many bytes around its labels.
const MAX_LINE_WIDTH: usize = 240;

/// ariadne reports with a snippet of the source under each diagnostic, for the first
/// [`MAX_RENDERED`] diagnostics, then a count of the others.
///
/// The file is indexed once for all reports (ariadne indexes the source it is given, and did so
/// per diagnostic), each group of nearby labels is shown as its own section (so a report shows
/// only the lines around its labels, not those between far-apart ones), and a group on a very
/// long line is shown from a window of that line. Before, 16 000 NUL bytes on one line took
/// 46 s and 2 GB.
pub fn render_pretty(file: &str, src: &str, diagnostics: &[Diagnostic], color: bool) -> String {
    use std::io::Write as _;

    let lines = LineIndex::new(src.as_bytes());
    let full = ariadne::Source::from(src.to_string());
    let mut out = Vec::new();
    for d in diagnostics.iter().take(MAX_RENDERED) {
        render_one(&mut out, file, src, &lines, &full, d, color);
        for r in d.related.iter().filter(|r| r.file.is_some()) {
            let _ = writeln!(out, "   = related: {}: {}", r.file.as_deref().unwrap_or(file), r.message);
        }
    }
    let rest = diagnostics.get(MAX_RENDERED..).unwrap_or_default();
    if !rest.is_empty() {
        let what = if rest.iter().all(Diagnostic::is_error) { "errors" } else { "diagnostics" };
        let _ = writeln!(out, "{file}: and {} more {what}", rest.len());
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Lines `first..=last` (0-based) of the file with long ones cut to a window, for ariadne: the
/// text starts with `first` empty lines so that ariadne numbers the lines as the file does
/// (ariadne 0.6 ignores `with_display_line_offset` in the margin).
struct Snippet {
    first: u32,
    text: String,
    /// Per line: its offset in the file and in `text`, the window of the line shown (file
    /// offsets) and the length of the `…` before it.
    lines: Vec<SnippetLine>,
}

struct SnippetLine {
    window: std::ops::Range<usize>,
    at: usize,
    marker: usize,
}

impl Snippet {
    fn new(src: &str, lines: &LineIndex, first: u32, last: u32, focus: &[usize]) -> Snippet {
        let mut snippet = Snippet { first, text: "\n".repeat(first as usize), lines: Vec::new() };
        for l in first..=last {
            let start = lines.line_start(l + 1) as usize;
            let end = (lines.line_start(l + 2) as usize).min(src.len());
            let body_end = if src[start..end].ends_with('\n') { end - 1 } else { end };
            let (mut a, mut b) = (start, body_end);
            if body_end - start > MAX_LINE_WIDTH {
                // A window around the first label position on the line.
                let p = focus.iter().copied().filter(|&p| (start..=body_end).contains(&p)).min().unwrap_or(start);
                a = floor_boundary(src, p.saturating_sub(MAX_LINE_WIDTH / 4).max(start));
                b = floor_boundary(src, (a + MAX_LINE_WIDTH).min(body_end));
            }
            let marker = if a > start { "…" } else { "" };
            let at = snippet.text.len() + marker.len();
            snippet.text.push_str(marker);
            snippet.text.push_str(&src[a..b]);
            if b < body_end {
                snippet.text.push('…');
            }
            snippet.text.push_str(&src[body_end..end]);
            snippet.lines.push(SnippetLine { window: a..b, at, marker: marker.len() });
        }
        snippet
    }

    /// The offset in `text` of file offset `o` (clamped to what is shown of its line).
    fn map(&self, lines: &LineIndex, o: usize) -> usize {
        let l = (lines.line(o as u32) - 1).clamp(self.first, self.first + self.lines.len() as u32 - 1);
        let line = &self.lines[(l - self.first) as usize];
        if o < line.window.start {
            line.at - line.marker
        } else if o > line.window.end {
            // Past the window: the end of the shown line (or past it, for its newline).
            let past = self.lines.get((l - self.first) as usize + 1).map_or(self.text.len(), |n| n.at - n.marker);
            (line.at + line.window.len() + "…".len()).min(past)
        } else {
            line.at + (o - line.window.start)
        }
    }
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The ariadne report of `d`, with one snippet per group of nearby labels.
fn render_one(out: &mut Vec<u8>, file: &str, src: &str, lines: &LineIndex, full: &ariadne::Source<String>, d: &Diagnostic, color: bool) {
    use ariadne::{Config, IndexType, Label, Report, ReportKind};

    let len = src.len();
    let line_of = |o: usize| lines.line(o as u32) - 1;
    // (file range, message, primary), multi-line ranges cut to their first lines.
    let mut labels: Vec<(std::ops::Range<usize>, String, bool)> = Vec::new();
    let mut add = |s: Span, message: String, primary: bool| {
        let start = (s.start as usize).min(len);
        let mut end = (s.end as usize).clamp(start, len);
        let first = line_of(start);
        if line_of(end) > first + MAX_LABEL_LINES {
            end = (lines.line_start(first + MAX_LABEL_LINES + 1) as usize).saturating_sub(1).max(start);
        }
        labels.push((start..end, message, primary));
    };
    add(d.span, label_text(d), true);
    for r in d.related.iter().filter(|r| r.file.is_none()) {
        add(r.span, r.message.clone(), false);
    }
    // Group labels by lines: (first line, last line, label indexes).
    let mut order: Vec<usize> = (0..labels.len()).collect();
    order.sort_by_key(|&i| labels[i].0.start);
    let mut groups: Vec<(u32, u32, Vec<usize>)> = Vec::new();
    for i in order {
        let (a, b) = (line_of(labels[i].0.start), line_of(labels[i].0.end));
        match groups.last_mut() {
            Some(g) if a <= g.1 + CLUSTER_GAP => {
                g.1 = g.1.max(b);
                g.2.push(i);
            }
            _ => groups.push((a, b, vec![i])),
        }
    }
    // Per group: `None` for the whole file, else its snippet.
    let mut sources: Vec<Option<ariadne::Source<String>>> = Vec::new();
    let mut where_ = vec![(0usize, 0..0); labels.len()];
    for (g, (first, last, members)) in groups.iter().enumerate() {
        let long = (*first..=*last).any(|l| (lines.line_start(l + 2) - lines.line_start(l + 1)) as usize > MAX_LINE_WIDTH + 1);
        if !long {
            for &i in members {
                where_[i] = (g, labels[i].0.clone());
            }
            sources.push(None);
            continue;
        }
        let focus: Vec<usize> = members.iter().flat_map(|&i| [labels[i].0.start, labels[i].0.end]).collect();
        let snippet = Snippet::new(src, lines, *first, *last, &focus);
        for &i in members {
            let r = &labels[i].0;
            let a = snippet.map(lines, r.start);
            where_[i] = (g, a..snippet.map(lines, r.end).max(a));
        }
        sources.push(Some(ariadne::Source::from(snippet.text)));
    }
    let kind = match d.severity {
        Severity::Error => ReportKind::Error,
        Severity::Warning => ReportKind::Warning,
        Severity::Info | Severity::Hint => ReportKind::Advice,
    };
    let primary = where_[0].clone();
    let mut report =
        Report::build(kind, primary.clone()).with_config(Config::default().with_color(color).with_index_type(IndexType::Byte)).with_message(&d.message);
    // Labels in group order, so that each group's first label is the one its header names.
    let mut in_order: Vec<usize> = (0..labels.len()).collect();
    in_order.sort_by_key(|&i| (where_[i].0, !labels[i].2, labels[i].0.start));
    for &i in &in_order {
        report = report.with_label(Label::new(where_[i].clone()).with_message(&labels[i].1));
    }
    if let Some(code) = d.code {
        report = report.with_code(code);
    }
    for note in &d.notes {
        report = report.with_note(note);
    }
    let mut cache = Snippets { file, full, sources };
    let mut text = Vec::new();
    let _ = report.finish().write(&mut cache, &mut text);
    // ariadne names sections by the report's position, or a windowed snippet by its
    // placeholder and a position within the window: name each section by the file and the
    // position of the label on the first line it shows (its gutter numbers are the file's).
    let mut text = String::from_utf8_lossy(&text).into_owned();
    let mut from = 0;
    while let Some(open) = text[from..].find("─[ ").map(|i| from + i + "─[ ".len()) {
        let Some(close) = text[open..].find(" ]").map(|i| open + i) else { break };
        let shown = text[close..].lines().find_map(|l| l.split_once('│').and_then(|(n, _)| n.trim().parse::<u32>().ok()));
        let label_line = |i: usize| line_of(labels[i].0.start) + 1;
        let named = shown.and_then(|n| {
            let mut on_or_after: Vec<usize> = (0..labels.len()).filter(|&i| label_line(i) >= n).collect();
            on_or_after.sort_by_key(|&i| (label_line(i), !labels[i].2));
            on_or_after.first().copied()
        });
        let mut o = labels[named.unwrap_or(0)].0.start;
        // The end of a file that ends its last line is shown at the end of that line.
        if o == src.len() && src.ends_with('\n') {
            o -= 1;
        }
        let line = lines.line(o as u32);
        // Columns count bytes, as in the other formats.
        let col = o + 1 - lines.line_start(line) as usize;
        let name = format!("{file}:{line}:{col}");
        text.replace_range(open..close, &name);
        from = open + name.len();
    }
    out.extend_from_slice(text.as_bytes());
}

/// The sources of one report's label groups, named by placeholders (see [`render_one`]).
struct Snippets<'a> {
    file: &'a str,
    full: &'a ariadne::Source<String>,
    sources: Vec<Option<ariadne::Source<String>>>,
}

impl ariadne::Cache<usize> for Snippets<'_> {
    type Storage = String;

    fn fetch(&mut self, id: &usize) -> Result<&ariadne::Source<String>, impl std::fmt::Debug> {
        match self.sources.get(*id) {
            Some(Some(snippet)) => Ok(snippet),
            Some(None) => Ok(self.full),
            None => Err("no such group"),
        }
    }

    fn display<'a>(&self, id: &'a usize) -> Option<impl std::fmt::Display + 'a> {
        match self.sources.get(*id) {
            Some(Some(_)) => Some(format!("\u{1}{id}\u{1}")),
            _ => Some(self.file.to_string()),
        }
    }
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

    #[test]
    fn many_diagnostics_on_one_long_line_render_in_bounded_space() {
        // 16 000 errors on a 16 000-byte line: before, every report showed the whole line.
        let src = "\0".repeat(16_000);
        let diags: Vec<_> = (0..16_000).map(|i| Diagnostic::error(Span::new(i, i + 1), "illegal character NUL")).collect();
        let text = render_pretty("f.alloy", &src, &diags, false);
        assert_eq!(text.matches("Error: illegal character NUL").count(), MAX_RENDERED);
        assert!(text.ends_with("f.alloy: and 15900 more errors\n"), "{}", &text[text.len() - 200..]);
        assert!(text.len() < MAX_RENDERED * 3 * MAX_LINE_WIDTH, "{} bytes", text.len());
        // The windowed line keeps the file's position in the header.
        assert!(text.contains("f.alloy:1:100 ]"), "{text}");
        let text = render_pretty("f.alloy", &"x".repeat(16_000), &[Diagnostic::error(Span::new(8_000, 8_001), "here")], false);
        assert!(text.contains("f.alloy:1:8001 ]") && text.contains(" 1 │ …xxx"), "{text}");
        assert!(text.len() < 4 * MAX_LINE_WIDTH, "{text}");
    }

    #[test]
    fn far_apart_labels_show_only_their_own_lines() {
        let src: String = (0..5_000).map(|i| format!("line_{i} = {i}\n")).collect();
        let lines = LineIndex::new(src.as_bytes());
        let (first, second) = (lines.line_start(2), lines.line_start(4_001));
        let d = Diagnostic::error(Span::new(second, second + 4), "duplicate").with_related(Span::new(first, first + 4), "first defined here");
        let text = render_pretty("f.alloy", &src, &[d], false);
        assert!(text.contains("f.alloy:4001:1 ]") && text.contains("f.alloy:2:1 ]"), "{text}");
        assert!(text.contains("line_4000 = 4000") && text.contains("line_1 = 1"), "{text}");
        assert!(!text.contains("line_2 = 2") && text.lines().count() < 20, "{text}");
    }
}
