//! Conformance runner: checks the project against upstream's behaviour captured as data.
//!
//! Reads `$ALLOY_CONFORMANCE_DIR`, or `../shared/conformance` beside the repository when it
//! exists, and otherwise says it skipped. Prints a table of suites with passed/total, and fails
//! on any failing case not listed in `expected-failures.txt`, and on any listed case that now
//! passes (so the list only shrinks). Cases in `deviations.txt` are where upstream's output is
//! wrong and ours deliberately differs; they are checked against our own expected output and
//! counted as passed, with the number noted per suite.
//!
//! Each suite is a module with `pub fn run(dir: &Path) -> Vec<CaseResult>`.

mod convert;
mod eval;
mod harness;
mod pipelines_exposition;
mod pipelines_loki_process;
mod pipelines_otlp_to_prom;
mod pipelines_relabel;
mod syntax_suites;
mod validate;

use std::path::PathBuf;
use std::process::ExitCode;

use harness::{CaseResult, Listed};

/// The suites, in the order they are reported.
/// A suite's runner.
type Suite = fn(&std::path::Path) -> Vec<CaseResult>;

const SUITES: &[(&str, Suite)] = &[
    ("syntax/printer", syntax_suites::printer),
    ("syntax/printer-extra", syntax_suites::printer_extra),
    ("syntax/fmt-corpus", syntax_suites::fmt_corpus),
    ("syntax/docs-snippets", syntax_suites::docs_snippets),
    ("syntax/parser", syntax_suites::parser),
    ("eval", eval::run),
    ("convert/otelcol", convert::otelcol),
    ("convert/prometheus", convert::prometheus),
    ("convert/promtail", convert::promtail),
    ("validate", validate::run),
    ("pipelines/relabel", pipelines_relabel::run),
    ("pipelines/exposition", pipelines_exposition::run),
    ("pipelines/loki_process", pipelines_loki_process::run),
    ("pipelines/otlp_to_prom", pipelines_otlp_to_prom::run),
];

fn conformance_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("ALLOY_CONFORMANCE_DIR") {
        return Some(PathBuf::from(dir));
    }
    let beside = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance");
    beside.is_dir().then_some(beside)
}

fn main() -> ExitCode {
    let Some(dir) = conformance_dir() else {
        println!("conformance: skipped (set ALLOY_CONFORMANCE_DIR or put shared/conformance beside the repository)");
        return ExitCode::SUCCESS;
    };
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let expected = Listed::load(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/conformance/expected-failures.txt"));

    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let (mut total_passed, mut total_failed, mut total_known) = (0usize, 0usize, 0usize);
    for (suite, run) in SUITES {
        if filter.as_deref().is_some_and(|f| !suite.contains(f)) {
            continue;
        }
        // `validate` reads configs of other suites, so it starts at the root.
        let suite_dir = if *suite == "validate" { dir.clone() } else { dir.join(suite) };
        if !suite_dir.is_dir() {
            rows.push(format!("{suite:<28} (missing)"));
            continue;
        }
        let results = run(&suite_dir);
        let passed = results.iter().filter(|r| r.outcome.is_ok()).count();
        let deviated = results.iter().filter(|r| r.deviated && r.outcome.is_ok()).count();
        let mut expected_fail = 0;
        for r in &results {
            let id = format!("{suite}/{}", r.name);
            match (&r.outcome, expected.contains(&id)) {
                (Ok(()), true) => problems.push(format!("{id}: passes now; remove it from expected-failures.txt")),
                (Err(why), false) => problems.push(format!("{id}: {why}")),
                (Err(_), true) => expected_fail += 1,
                (Ok(()), false) => {}
            }
        }
        total_passed += passed;
        total_failed += results.len() - passed - expected_fail;
        total_known += expected_fail;
        let mut notes = Vec::new();
        if expected_fail > 0 {
            notes.push(format!("{expected_fail} expected failures"));
        }
        if deviated > 0 {
            notes.push(format!("{deviated} checked against our deviation from upstream"));
        }
        let note = if notes.is_empty() { String::new() } else { format!(" ({})", notes.join(", ")) };
        rows.push(format!("{suite:<28} {passed:>5}/{:<5}{note}", results.len()));
    }

    println!("\nconformance suites ({})", dir.display());
    for row in &rows {
        println!("  {row}");
    }
    if !problems.is_empty() {
        println!("\nunexpected results:");
        for p in &problems {
            println!("--- {p}");
        }
    }
    // Cases listed in expected-failures.txt are reported as skipped: known, reasoned gaps.
    println!("\nconformance: {total_passed} passed, {total_failed} failed, {total_known} skipped");
    if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
