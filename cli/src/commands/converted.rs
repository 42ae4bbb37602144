//! `alloy validate --config.format=otelcol|prometheus|promtail|static`: the configuration is
//! converted to Alloy first (as `alloy run` does), then the Alloy is checked.
//!
//! The converter's diagnostics carry no positions, only texts; most name a YAML line (`line 3:
//! field bogus not found`) or a YAML key (`the provided rule_files config`), so they are placed
//! there in the source file. The analyzer's diagnostics are positions in the converted text,
//! and say so.

use analyzer::FileReport;
use syntax::{Diagnostic, LineIndex, Span};

/// What converting a file gave: its own report (converter diagnostics placed in the source),
/// the Alloy text when it may be validated, and whether the conversion failed.
pub struct Converted {
    pub source: FileReport,
    pub alloy: Option<String>,
}

/// Converts `text` (the file `path`) from `format`. Like `alloy run`, a Critical diagnostic, or
/// an Error unless `bypass`, leaves nothing to validate.
pub fn convert(path: &str, text: &str, format: &str, bypass: bool, extra_args: &[String]) -> Converted {
    let result = convert::convert(text.as_bytes(), format, extra_args);
    let lines = LineIndex::new(text.as_bytes());
    // Info diagnostics only say what became what: no news for a validation.
    let problems = result.diagnostics.iter().filter(|d| d.severity != convert::Severity::Info);
    let diagnostics = problems.flat_map(|d| place(d, text, &lines, bypass)).collect();
    let alloy = if result.diagnostics.is_failure(bypass) { None } else { result.output };
    Converted { source: FileReport { path: path.to_string(), text: text.to_string(), lines, diagnostics }, alloy }
}

/// Marks the diagnostics of a converted configuration as positions in the converted text.
pub fn mark_converted(report: &mut FileReport, format: &str) {
    for d in &mut report.diagnostics {
        d.message.push_str(" (in the Alloy converted from this file)");
        d.notes.push(format!("print the converted configuration with `alloy convert --source-format={format} {}`", report.path));
    }
}

/// One converter diagnostic as diagnostics in the source text: one per YAML line it names when it
/// names several (a list of unmarshal errors), else at its YAML position when it has one, else at
/// the line it names, else at the first YAML key it names, else at the start of the file. Errors bypassed with `bypass` are warnings.
fn place(d: &convert::Diagnostic, text: &str, lines: &LineIndex, bypass: bool) -> Vec<Diagnostic> {
    let severity = match d.severity {
        convert::Severity::Critical => syntax::Severity::Error,
        convert::Severity::Error if !bypass => syntax::Severity::Error,
        convert::Severity::Error | convert::Severity::Warning | convert::Severity::Info => syntax::Severity::Warning,
    };
    let make = |span: Span, message: String| {
        let mut out = Diagnostic::error(span, message).with_code("convert");
        out.severity = severity;
        if !d.detail.is_empty() {
            out.notes.push(d.detail.clone());
        }
        if bypass && d.severity == convert::Severity::Error {
            out.notes.push("bypassed (--config.bypass-conversion-errors)".into());
        }
        out
    };
    let all = format!("{}\n{}", d.summary, d.detail);
    let named: Vec<(&str, u32, Option<u32>)> = all.lines().filter_map(|l| line_reference(l).map(|(n, c)| (l, n, c))).collect();
    // The converter's own position, where it has one and the text names no more than one line
    // (go-yaml's parser errors name the line before the token).
    if let (Some((line, col)), 0 | 1) = (d.at, named.len()) {
        let mut out = make(line_span(text, lines, line, Some(col)), d.summary.clone());
        out.notes.extend(d.notes.iter().cloned());
        return vec![out];
    }
    match named.as_slice() {
        [] => {
            let span = key_named(&d.summary, text, lines).unwrap_or_default();
            vec![make(span, d.summary.clone())]
        }
        [(_, line, col)] => vec![make(line_span(text, lines, *line, *col), d.summary.clone())],
        many => {
            let head = d.summary.lines().next().unwrap_or_default().trim_end_matches(':');
            many.iter().map(|(l, line, col)| make(line_span(text, lines, *line, *col), format!("{head}: {}", l.trim()))).collect()
        }
    }
}

/// `line N` (and `column M` right after it) in a converter message.
fn line_reference(s: &str) -> Option<(u32, Option<u32>)> {
    for (i, _) in s.match_indices("line ") {
        if i > 0 && s.as_bytes()[i - 1].is_ascii_alphanumeric() {
            continue;
        }
        let Some((line, rest)) = leading_number(&s[i + "line ".len()..]) else { continue };
        let rest = rest.strip_prefix(':').unwrap_or(rest).trim_start();
        let col = rest.strip_prefix("column ").and_then(leading_number).map(|(c, _)| c);
        return Some((line, col));
    }
    None
}

fn leading_number(s: &str) -> Option<(u32, &str)> {
    let digits = s.len() - s.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    Some((s[..digits].parse().ok()?, &s[digits..]))
}

/// The span of line `line` from column `col` (or from its first non-blank byte) to the end of
/// that word (or of the line's text).
pub fn line_span(text: &str, lines: &LineIndex, line: u32, col: Option<u32>) -> Span {
    let start = lines.line_start(line) as usize;
    let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let content = &text[start..end];
    let from = match col {
        Some(c) => (c.saturating_sub(1) as usize).min(content.len()),
        None => content.len() - content.trim_start().len(),
    };
    let rest = &content[from..];
    let len = match col {
        Some(_) => rest.find(|c: char| c.is_whitespace() || c == ':').unwrap_or(rest.len()),
        None => rest.trim_end().len(),
    };
    Span::new((start + from) as u32, (start + from + len.max(usize::from(!rest.is_empty()))) as u32)
}

/// The first YAML key (`key:` at the start of a line or a list item) that the message names:
/// quoted names first, then other words.
fn key_named(message: &str, text: &str, lines: &LineIndex) -> Option<Span> {
    const COMMON: &[&str] = &[
        "the",
        "converter",
        "does",
        "support",
        "supported",
        "converting",
        "provided",
        "config",
        "configuration",
        "field",
        "found",
        "type",
        "failed",
        "parse",
        "yaml",
        "line",
        "column",
        "with",
        "will",
        "been",
        "have",
        "this",
        "that",
        "value",
        "values",
    ];
    let quoted = message.split('"').skip(1).step_by(2);
    let words =
        message.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|w| w.len() >= 4 && !COMMON.contains(&w.to_ascii_lowercase().as_str()));
    for word in quoted.chain(words).filter(|w| !w.is_empty()) {
        for line in 1..=lines.line_count() {
            let start = lines.line_start(line) as usize;
            let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
            let content = &text[start..end];
            let key = content.trim_start().trim_start_matches("- ");
            if key.strip_prefix(word).is_some_and(|r| r.starts_with(':')) {
                let from = start + (content.len() - key.len());
                return Some(Span::new(from as u32, (from + word.len()) as u32));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;
    use std::path::Path;

    use super::*;

    /// Validates a fixture as `alloy validate --config.format=F` does (F from the file name's
    /// first word; errors bypassed when the name says `bypassed`) and renders every diagnostic.
    fn render(path: &Path) -> String {
        let text = std::fs::read_to_string(path).expect("fixture is readable");
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let format = name.split('_').next().unwrap_or_default();
        let bypass = name.contains("bypassed");
        let reports = super::super::validate::check_converted(name, &text, format, bypass, &[], analyzer::Options::default());
        let mut out = String::new();
        for r in &reports {
            for d in &r.diagnostics {
                let (s, e) = (r.lines.line_col(d.span.start), r.lines.line_col(d.span.end));
                let _ = writeln!(out, "{}:{s}-{e} {}[{}]: {}", r.path, d.severity.as_str(), d.code.unwrap_or("-"), d.message);
                for n in &d.notes {
                    let _ = writeln!(out, "    note: {n}");
                }
            }
        }
        out
    }

    #[test]
    fn fixtures() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/validate/convert");
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(dir.join("snapshots"));
        settings.set_prepend_module_to_snapshot(false);
        settings.bind(|| {
            insta::glob!(&dir, "*.yaml", |path| {
                insta::assert_snapshot!(render(path));
            });
        });
    }

    #[test]
    fn lines_and_columns_of_converter_messages() {
        assert_eq!(line_reference("yaml: line 3: column 7: did not find"), Some((3, Some(7))));
        assert_eq!(line_reference("  line 12: field bogus not found"), Some((12, None)));
        assert_eq!(line_reference("no position"), None);
        let text = "a:\n  - job_name: x\n    bogus: 1\n";
        let lines = LineIndex::new(text.as_bytes());
        assert_eq!(&text[line_span(text, &lines, 3, None).range()], "bogus: 1");
        assert_eq!(&text[line_span(text, &lines, 2, Some(5)).range()], "job_name");
        assert_eq!(key_named("unsupported job_name here", text, &lines).map(|s| &text[s.range()]), Some("job_name"));
    }
}
