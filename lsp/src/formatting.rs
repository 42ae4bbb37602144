//! Formatting results as minimal text edits: the formatter's output compared line by line with
//! the document, so that the editor keeps cursors and folds in untouched lines.
//!
//! The comparison is linear in the size of the document: lines common to the start and end are
//! trimmed, lines that occur once on both sides anchor the rest (their longest increasing run,
//! as patience diff does), and only the runs between anchors are diffed, each within a total work
//! budget proportional to the document; a run past the budget becomes one replacement. A plain
//! diff of two large texts that differ everywhere is quadratic (a 1 MB file took seconds).

use std::collections::HashMap;
use std::ops::Range;

use similar::{Algorithm, DiffOp};
use syntax::{LineIndex, Span};

/// The diff work (squared lengths of the diffed runs) allowed per line of the document, plus a
/// fixed allowance so that small documents always get a full diff.
const WORK_PER_LINE: usize = 64;
const WORK_FIXED: usize = 4_000_000;

/// Edits turning `old` (whose line index is `old_lines`) into `new`, one per changed run of
/// lines; with `lines` (0-based, inclusive), only those touching that range of `old`'s lines.
pub fn line_edits(old: &str, old_lines: &LineIndex, new: &str, lines: Option<(u32, u32)>) -> Vec<(Span, String)> {
    // The offset of 0-based line `l` (the end of the text past the last line).
    let line_offset = |l: usize| old_lines.line_start(l as u32 + 1);
    let old_split: Vec<&str> = old.split_inclusive('\n').collect();
    let new_split: Vec<&str> = new.split_inclusive('\n').collect();
    let mut out = Vec::new();
    for (old_range, new_range) in changed_runs(&old_split, &new_split) {
        if let Some((first, last)) = lines {
            let (a, b) = (old_range.start as u32, old_range.end as u32);
            let touches = if a == b { first <= a && a <= last + 1 } else { a <= last && b > first };
            if !touches {
                continue;
            }
        }
        let span = Span::new(line_offset(old_range.start), line_offset(old_range.end));
        let text: String = new_split.get(new_range).map(|l| l.concat()).unwrap_or_default();
        out.push((span, text));
    }
    out
}

/// The runs of lines that differ: `old[a]` becomes `new[b]`, in order, none adjacent to another.
fn changed_runs(old: &[&str], new: &[&str]) -> Vec<(Range<usize>, Range<usize>)> {
    let mut budget = WORK_FIXED.saturating_add(WORK_PER_LINE.saturating_mul(old.len() + new.len()));
    let mut runs: Vec<(Range<usize>, Range<usize>)> = Vec::new();
    let mut push = |o: Range<usize>, n: Range<usize>| {
        if o.is_empty() && n.is_empty() {
            return;
        }
        match runs.last_mut() {
            Some((lo, ln)) if lo.end == o.start && ln.end == n.start => {
                lo.end = o.end;
                ln.end = n.end;
            }
            _ => runs.push((o, n)),
        }
    };
    let mut at = (0, 0);
    for (ao, an) in anchors(old, new).into_iter().chain([(old.len(), new.len())]) {
        diff_gap(old, new, at.0..ao, at.1..an, &mut budget, &mut push);
        at = (ao + 1, an + 1);
    }
    runs
}

/// Pairs of indexes of lines that occur exactly once in `old` and once in `new`, the longest
/// run of them in the same order on both sides.
fn anchors(old: &[&str], new: &[&str]) -> Vec<(usize, usize)> {
    // (count in old, count in new, index in old, index in new)
    let mut seen: HashMap<&str, (u32, u32, usize, usize)> = HashMap::with_capacity(old.len());
    for (i, l) in old.iter().enumerate() {
        let e = seen.entry(l).or_insert((0, 0, i, 0));
        e.0 += 1;
    }
    for (j, l) in new.iter().enumerate() {
        if let Some(e) = seen.get_mut(l) {
            e.1 += 1;
            e.3 = j;
        }
    }
    let mut pairs: Vec<(usize, usize)> = seen.into_values().filter(|e| e.0 == 1 && e.1 == 1).map(|e| (e.2, e.3)).collect();
    pairs.sort_unstable();
    // Longest increasing subsequence of the `new` indexes (patience sorting, O(n log n)).
    let mut tails: Vec<usize> = Vec::new(); // index into `pairs` of the smallest tail per length
    let mut prev: Vec<Option<usize>> = vec![None; pairs.len()];
    for (i, &(_, n)) in pairs.iter().enumerate() {
        let len = tails.partition_point(|&t| pairs[t].1 < n);
        prev[i] = len.checked_sub(1).map(|l| tails[l]);
        if len == tails.len() {
            tails.push(i);
        } else {
            tails[len] = i;
        }
    }
    let mut out = Vec::with_capacity(tails.len());
    let mut cur = tails.last().copied();
    while let Some(i) = cur {
        out.push(pairs[i]);
        cur = prev[i];
    }
    out.reverse();
    out
}

/// The changed runs between `old[o]` and `new[n]` (two runs with no anchor inside).
fn diff_gap(old: &[&str], new: &[&str], mut o: Range<usize>, mut n: Range<usize>, budget: &mut usize, push: &mut impl FnMut(Range<usize>, Range<usize>)) {
    while !o.is_empty() && !n.is_empty() && old[o.start] == new[n.start] {
        o.start += 1;
        n.start += 1;
    }
    while !o.is_empty() && !n.is_empty() && old[o.end - 1] == new[n.end - 1] {
        o.end -= 1;
        n.end -= 1;
    }
    if o.is_empty() || n.is_empty() {
        push(o, n);
        return;
    }
    // Myers' diff costs up to (N + M)²: within the budget it finds the minimal edits,
    // past it the run is replaced whole.
    let work = (o.len() + n.len()).saturating_pow(2);
    if work > *budget {
        push(o, n);
        return;
    }
    *budget -= work;
    for op in similar::capture_diff_slices(Algorithm::Myers, &old[o.clone()], &new[n.clone()]) {
        let (a, b) = match op {
            DiffOp::Equal { .. } => continue,
            DiffOp::Delete { old_index, old_len, new_index } => (old_index..old_index + old_len, new_index..new_index),
            DiffOp::Insert { old_index, new_index, new_len } => (old_index..old_index, new_index..new_index + new_len),
            DiffOp::Replace { old_index, old_len, new_index, new_len } => (old_index..old_index + old_len, new_index..new_index + new_len),
        };
        push(o.start + a.start..o.start + a.end, n.start + b.start..n.start + b.end);
    }
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
    fn small_changes_in_a_large_document_stay_small_edits() {
        // 200 000 lines (3 MB): a plain diff of texts that differ everywhere would not finish.
        let old: String = (0..200_000).map(|i| format!("a_{i}={i}\n")).collect();
        let mut new = old.replacen("a_10=10\n", "a_10 = 10\n", 1);
        new = new.replacen("a_150000=150000\n", "", 1);
        let edits = line_edits(&old, &new, None);
        assert_eq!(edits.len(), 2, "{edits:?}");
        assert_eq!(apply(&old, &edits), new);
    }

    #[test]
    fn a_large_document_that_changes_everywhere_is_one_edit() {
        // Every line changes and the repeated lines give no anchor: past the work budget, the
        // whole run is one replacement (a full diff here is quadratic: minutes).
        let old: String = "a {\nx=1\n}\n".repeat(100_000);
        let new: String = "a {\n\tx = 1\n}\n".repeat(100_000);
        let edits = line_edits(&old, &new, None);
        assert_eq!(edits.len(), 1);
        assert_eq!(apply(&old, &edits), new);
        // A small one still gets an edit per changed line.
        let edits = line_edits(&old[..10 * 10], &new[..13 * 10], None);
        assert_eq!(edits.len(), 10, "{edits:?}");
    }

    #[test]
    fn edits_rebuild_the_formatted_text() {
        let cases = [
            ("", "a = 1\n"),
            ("a = 1\n", ""),
            ("x\ny\nz\n", "z\ny\nx\n"),
            ("a\nb\nc\nd\ne\n", "a\nB\nc\nD\ne\nf\n"),
            ("}\n}\n}\na\n}\n", "}\na\n}\n}\n"),
            ("no newline", "no newline\n"),
        ];
        for (old, new) in cases {
            assert_eq!(apply(old, &line_edits(old, new, None)), new, "{old:?} -> {new:?}");
        }
    }

    #[test]
    fn the_final_newline_stays_outside_where_the_editor_keeps_it() {
        assert_eq!(super::final_newline("a {}", "a {}\n".into(), true), "a {}");
        assert_eq!(super::final_newline("a {}\n", "a {}\n".into(), true), "a {}\n");
        assert_eq!(super::final_newline("a {}", "a {}\n".into(), false), "a {}\n");
    }
}
