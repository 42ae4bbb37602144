//! Shared pieces of the conformance runner: case results, the expected-failures list, and
//! helpers to walk a suite directory.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

pub struct CaseResult {
    pub name: String,
    /// `Err` carries a short description of the difference.
    pub outcome: Result<(), String>,
    /// Checked against our documented deviation from upstream (`deviations.txt`).
    pub deviated: bool,
}

impl CaseResult {
    pub fn new(name: impl Into<String>, outcome: Result<(), String>) -> Self {
        CaseResult { name: name.into(), outcome, deviated: false }
    }
}

/// `suite/case -- reason` lines; `#` starts a comment line (`expected-failures.txt`,
/// `deviations.txt`).
pub struct Listed(BTreeSet<String>);

impl Listed {
    pub fn load(path: &Path) -> Self {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let ids = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| l.split(" -- ").next().unwrap_or(l).trim().to_string())
            .collect();
        Listed(ids)
    }

    pub fn contains(&self, id: &str) -> bool {
        self.0.contains(id)
    }
}

/// Files directly in `dir` whose name ends with `suffix`, sorted.
pub fn files_with_suffix(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir).map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect()).unwrap_or_default();
    files.retain(|p| p.is_file() && p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(suffix)));
    files.sort();
    files
}

/// The file name without `suffix`.
pub fn stem(path: &Path, suffix: &str) -> String {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    name.strip_suffix(suffix).unwrap_or(name).to_string()
}

/// Runs `f`, turning a panic into a failed case.
pub fn guarded(f: impl FnOnce() -> Result<(), String> + std::panic::UnwindSafe) -> Result<(), String> {
    match std::panic::catch_unwind(f) {
        Ok(r) => r,
        Err(e) => {
            let msg = e.downcast_ref::<String>().cloned().or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default();
            Err(format!("panicked: {msg}"))
        }
    }
}

/// A compact description of the first difference between two texts.
pub fn first_difference(expected: &str, actual: &str) -> String {
    let (mut line, mut e_lines, mut a_lines) = (1, expected.split('\n'), actual.split('\n'));
    loop {
        match (e_lines.next(), a_lines.next()) {
            (None, None) => return "texts differ".into(),
            (e, a) if e == a => line += 1,
            (e, a) => return format!("line {line}: expected {:?}, got {:?}", e.unwrap_or("<end>"), a.unwrap_or("<end>")),
        }
    }
}

/// Runs every case of a JSON Lines suite (`dir/cases.jsonl`): `name` names a case from its
/// line number and object, `run` checks it. A line that is not JSON fails as that line.
pub fn jsonl_cases(
    dir: &std::path::Path,
    name: impl Fn(usize, &serde_json::Value) -> String,
    run: impl Fn(&serde_json::Value) -> Result<(), String> + std::panic::RefUnwindSafe,
) -> Vec<CaseResult> {
    let text = match std::fs::read_to_string(dir.join("cases.jsonl")) {
        Ok(t) => t,
        Err(e) => return vec![CaseResult::new("cases.jsonl", Err(format!("cannot read: {e}")))],
    };
    let mut results = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        match serde_json::from_str::<serde_json::Value>(line) {
            Ok(case) => results.push(CaseResult::new(name(i + 1, &case), guarded(|| run(&case)))),
            Err(e) => results.push(CaseResult::new(format!("line {}", i + 1), Err(format!("bad case: {e}")))),
        }
    }
    results
}

/// A case's `name`, else its line.
pub fn case_name(line: usize, case: &serde_json::Value) -> String {
    case["name"].as_str().map_or_else(|| format!("line {line}"), str::to_string)
}
