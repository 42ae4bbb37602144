//! The `eval` suite: every row of `eval/vm-cases.tsv`. Each row's expression is
//! evaluated with its scope bound, decoded into the row's Go type, and compared with the
//! expected compact rendering or error text. Rows marked UNORDERED compare as multisets.

use std::path::Path;

use ::eval::testing::{parse_binding, run_case};
use ::eval::Scope;

use crate::harness::CaseResult;

pub fn run(dir: &Path) -> Vec<CaseResult> {
    let path = dir.join("vm-cases.tsv");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => return vec![CaseResult::new("vm-cases.tsv", Err(format!("cannot read {}: {e}", path.display())))],
    };
    let mut results = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let name = format!("vm-cases.tsv:{}", i + 1);
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 5 {
            results.push(CaseResult::new(name, Err("malformed row".into())));
            continue;
        }
        let outcome = crate::harness::guarded(|| check_row(cols[0], cols[1], cols[2], cols[3], cols[4]));
        results.push(CaseResult::new(name, outcome));
    }
    results
}

fn check_row(expr: &str, expected: &str, decode_as: &str, scope_text: &str, source: &str) -> Result<(), String> {
    let mut scope = Scope::new();
    if scope_text != "-" {
        for binding in scope_text.split("; ") {
            let (name, value) = binding.split_once('=').ok_or_else(|| format!("bad binding {binding}"))?;
            if let Some(var) = name.strip_prefix("env:") {
                std::env::set_var(var, value);
                continue;
            }
            scope.set(name.trim(), parse_binding(value)?);
        }
    }
    let actual = match run_case(expr, decode_as, &scope) {
        Ok(v) => v,
        Err(e) => format!("ERROR {}", e.replace('\n', "\\n").replace('\t', "\\t")),
    };
    let same = if source.contains("UNORDERED") && !actual.starts_with("ERROR") {
        let mut a = top_level_items(&actual);
        let mut b = top_level_items(expected);
        a.sort();
        b.sort();
        a == b
    } else {
        actual == expected
    };
    if same {
        Ok(())
    } else {
        Err(format!("{expr}\n    expected: {expected}\n    actual:   {actual}"))
    }
}

/// The top-level elements of a compact `[a, b]` rendering.
fn top_level_items(s: &str) -> Vec<String> {
    let inner = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')).unwrap_or(s);
    let mut items = Vec::new();
    let (mut depth, mut in_str, mut escaped, mut start) = (0i32, false, false, 0usize);
    let bytes = inner.as_bytes();
    for (i, &c) in bytes.iter().enumerate() {
        if in_str {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            b'"' => in_str = true,
            b'[' | b'{' | b'(' => depth += 1,
            b']' | b'}' | b')' => depth -= 1,
            b',' if depth == 0 => {
                items.push(inner[start..i].trim().to_string());
                start = i + 1;
            }
            _ => {}
        }
    }
    if !inner[start..].trim().is_empty() {
        items.push(inner[start..].trim().to_string());
    }
    items
}
