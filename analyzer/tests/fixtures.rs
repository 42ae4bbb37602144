//! One invalid configuration per error class under `fixtures/validate/`, with its expected
//! diagnostics as insta snapshots (`fixtures/validate/snapshots/`). `valid.alloy` must have none.

use std::fmt::Write as _;
use std::path::Path;

use analyzer::{Analysis, Options};

fn render(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("fixture is readable");
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
    let mut a = Analysis::new(Options::default());
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
            let out = render(path);
            if path.ends_with("valid.alloy") {
                assert_eq!(out, "", "valid.alloy must have no diagnostics");
            }
            insta::assert_snapshot!(out);
        });
    });
}
