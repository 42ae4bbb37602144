//! One invalid configuration per error class under `fixtures/validate/`, with its expected
//! diagnostics as insta snapshots (`fixtures/validate/snapshots/`). `valid.alloy` must have none.

use std::fmt::Write as _;
use std::path::Path;

use analyzer::{Analysis, Options};

/// The diagnostics of a fixture, with the file cut into chunks of about `chunk_target` bytes
/// (0: the default size, which keeps each fixture in one chunk).
fn render(path: &Path, chunk_target: u32) -> String {
    let text = std::fs::read_to_string(path).expect("fixture is readable");
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
    let mut a = Analysis::new(Options::default());
    a.set_chunk_target(chunk_target);
    a.set_files(vec![(name, text)]);
    let mut out = String::new();
    for r in a.diagnostics() {
        for d in &r.diagnostics {
            let (s, e) = (r.lines.line_col(d.span.start), r.lines.line_col(d.span.end));
            let _ = writeln!(out, "{s}-{e} {}[{}]: {}", d.severity.as_str(), d.code.unwrap_or("-"), d.message);
            for n in &d.notes {
                let _ = writeln!(out, "    note: {n}");
            }
            for rel in &d.related {
                let pos = match &rel.file {
                    None => r.lines.line_col(rel.span.start).to_string(),
                    Some(f) => format!("{f}@{}", rel.span.start),
                };
                let _ = writeln!(out, "    related {pos}: {}", rel.message);
            }
        }
    }
    out
}

#[test]
fn fixtures() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/validate");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(dir.join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        insta::glob!(&dir, "*.alloy", |path| {
            let out = render(path, 0);
            if path.ends_with("valid.alloy") {
                assert_eq!(out, "", "valid.alloy must have no diagnostics");
            }
            insta::assert_snapshot!(out);
        });
    });
}

/// Checking a file chunk by chunk (here one top-level block a chunk) finds exactly what
/// checking it whole finds.
#[test]
fn chunked_checks_equal_whole_file_checks() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/validate");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("fixture directory") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "alloy") {
            assert_eq!(render(&path, 1), render(&path, 0), "{}", path.display());
            seen += 1;
        }
    }
    assert!(seen > 10);
}
