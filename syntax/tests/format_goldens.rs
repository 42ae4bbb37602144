//! Checks the formatter against upstream's golden files when they are available.
//!
//! The goldens live outside the repository (`$ALLOY_CONFORMANCE`, default
//! `../../shared/conformance` from this crate); without them this test does nothing. The
//! project's conformance runner (`tests/conformance`) is the official report; this one exists so
//! the formatter can be checked on its own with `cargo test -p alloy-syntax --test format_goldens`.

use std::path::{Path, PathBuf};

fn conformance_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("ALLOY_CONFORMANCE") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance"),
    };
    dir.join("syntax").is_dir().then_some(dir)
}

/// Runs one golden directory; returns the names of the failing cases.
///
/// `printer/` expectations carry stray trailing newlines (upstream's test trims them), so for
/// that directory trailing whitespace of the expected file is ignored.
fn run_dir(dir: &Path, cli_newline: bool, trim_expected: bool) -> (usize, Vec<String>) {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    names.retain(|p| p.extension().is_some_and(|e| e == "expect"));
    names.sort();
    let mut failed = Vec::new();
    for expect_path in &names {
        let name = expect_path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let input = std::fs::read(expect_path.with_extension("in")).unwrap_or_default();
        let mut expect = std::fs::read(expect_path).unwrap_or_default();
        if trim_expected {
            while expect.last().is_some_and(|b| b.is_ascii_whitespace()) {
                expect.pop();
            }
        }
        let got = match syntax::format::format_source(&input) {
            Ok(mut s) => {
                if cli_newline {
                    s.push('\n');
                }
                s.into_bytes()
            }
            Err(d) => format!("<parse error: {:?}>", d.first().map(|d| &d.message)).into_bytes(),
        };
        if got != expect {
            if std::env::var_os("FMT_GOLDEN_DIFF").is_some() {
                eprintln!("--- {name} expected\n{}\n--- got\n{}", String::from_utf8_lossy(&expect), String::from_utf8_lossy(&got));
            }
            failed.push(name);
        }
    }
    (names.len(), failed)
}

#[test]
fn formatter_matches_upstream_goldens() {
    let Some(root) = conformance_dir() else {
        eprintln!("conformance data not found; skipping");
        return;
    };
    let mut all_failed = Vec::new();
    let suites = [("printer", false, true), ("printer-extra", false, false), ("fmt-corpus", true, false), ("docs-snippets", true, false)];
    for (sub, cli_newline, trim_expected) in suites {
        let (total, failed) = run_dir(&root.join("syntax").join(sub), cli_newline, trim_expected);
        eprintln!("{sub}: {}/{total} passed", total - failed.len());
        for f in &failed {
            eprintln!("  FAIL {sub}/{f}");
        }
        all_failed.extend(failed.into_iter().map(|f| format!("{sub}/{f}")));
    }
    assert!(all_failed.is_empty(), "failing golden cases: {all_failed:?}");
}
