//! Formatting results as minimal text edits: the formatter's output compared line by line with
//! the document, so that the editor keeps cursors and folds in untouched lines.

use similar::{DiffOp, TextDiff};
use syntax::{LineIndex, Span};

/// Edits turning `old` (whose line index is `old_lines`) into `new`, one per changed run of
/// lines; with `lines` (0-based, inclusive), only those touching that range of `old`'s lines.
pub fn line_edits(old: &str, old_lines: &LineIndex, new: &str, lines: Option<(u32, u32)>) -> Vec<(Span, String)> {
    // The offset of 0-based line `l` (the end of the text past the last line).
    let line_offset = |l: usize| old_lines.line_start(l as u32 + 1);
    let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
    let diff = TextDiff::from_lines(old, new);
    let mut out = Vec::new();
    for op in diff.ops() {
        let (old_range, new_range) = match *op {
            DiffOp::Equal { .. } => continue,
            DiffOp::Delete { old_index, old_len, new_index } => (old_index..old_index + old_len, new_index..new_index),
            DiffOp::Insert { old_index, new_index, new_len } => (old_index..old_index, new_index..new_index + new_len),
            DiffOp::Replace { old_index, old_len, new_index, new_len } => (old_index..old_index + old_len, new_index..new_index + new_len),
        };
        if let Some((first, last)) = lines {
            let (a, b) = (old_range.start as u32, old_range.end as u32);
            let touches = if a == b { first <= a && a <= last + 1 } else { a <= last && b > first };
            if !touches {
                continue;
            }
        }
        let span = Span::new(line_offset(old_range.start), line_offset(old_range.end));
        let text: String = new_lines.get(new_range).map(|l| l.concat()).unwrap_or_default();
        out.push((span, text));
    }
    out
}

/// The formatted text as the editor should hold it. `alloy fmt` ends a file with one newline;
/// an editor that keeps the final newline outside the buffer's text (Neovim, for a file opened
/// without one: 'noeol', and 'fixeol' writes it back) must not get it as text too, or the
/// file is saved with two.
pub fn final_newline(old: &str, mut formatted: String, newline_outside_text: bool) -> String {
    if newline_outside_text && !old.ends_with('\n') && formatted.ends_with('\n') {
        formatted.pop();
    }
    formatted
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`super::line_edits`] with the line index built here.
    fn line_edits(old: &str, new: &str, lines: Option<(u32, u32)>) -> Vec<(Span, String)> {
        super::line_edits(old, &LineIndex::new(old.as_bytes()), new, lines)
    }

    fn apply(old: &str, edits: &[(Span, String)]) -> String {
        let mut s = old.to_string();
        for (span, text) in edits.iter().rev() {
            s.replace_range(span.range(), text);
        }
        s
    }

    #[test]
    fn whole_and_ranged() {
        let old = "a {\nx=1\n}\nb {\ny=2\n}\n";
        let new = "a {\n\tx = 1\n}\nb {\n\ty = 2\n}\n";
        let all = line_edits(old, new, None);
        assert_eq!(apply(old, &all), new);
        let first = line_edits(old, new, Some((0, 2)));
        assert_eq!(apply(old, &first), "a {\n\tx = 1\n}\nb {\ny=2\n}\n");
        // A document without a final newline gets one.
        assert_eq!(apply("a {}", &line_edits("a {}", "a {}\n", None)), "a {}\n");
    }

    #[test]
    fn the_final_newline_stays_outside_where_the_editor_keeps_it() {
        assert_eq!(super::final_newline("a {}", "a {}\n".into(), true), "a {}");
        assert_eq!(super::final_newline("a {}\n", "a {}\n".into(), true), "a {}\n");
        assert_eq!(super::final_newline("a {}", "a {}\n".into(), false), "a {}\n");
    }
}
