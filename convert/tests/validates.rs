//! Every configuration the repository's converter fixtures produce validates: each
//! `fixtures/convert/<format>/*.yaml` converts to a config the analyzer accepts, or its
//! conversion fails with an Error or Critical diagnostic saying why; and every stored converted
//! config (`fixtures/convert/**/*.alloy`, the deviations from upstream included) validates.

use std::path::{Path, PathBuf};

use convert::verify::{verify_output, OutputProblem};
use convert::{convert, Severity};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/convert")
}

/// Files below `dir` (snapshots left out) whose name ends with `suffix`.
fn walk(dir: &Path, suffix: &str, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for p in rd.filter_map(Result::ok).map(|e| e.path()) {
        if p.is_dir() && !p.ends_with("snapshots") {
            walk(&p, suffix, out);
        } else if p.to_string_lossy().ends_with(suffix) {
            out.push(p);
        }
    }
}

fn problem(p: OutputProblem) -> String {
    match p {
        OutputProblem::Unparsable(d) => format!("does not parse: {d}"),
        OutputProblem::Unformatted(_) => "is not formatted".into(),
        OutputProblem::Rejected(errors) => format!("is rejected:\n  {}", errors.join("\n  ")),
    }
}

#[test]
fn every_converted_fixture_validates_or_says_why_not() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for format in ["otelcol", "prometheus", "promtail"] {
        let mut inputs = Vec::new();
        walk(&root().join(format), ".yaml", &mut inputs);
        for path in inputs {
            let src = std::fs::read(&path).unwrap_or_default();
            let c = convert(&src, format, &[]);
            let says_why = c.diagnostics.iter().any(|d| matches!(d.severity, Severity::Error | Severity::Critical));
            match (&c.output, says_why) {
                (_, true) => {}
                (None, false) => failures.push(format!("{}: no output and no error", path.display())),
                (Some(text), false) => {
                    if let Err(p) = verify_output(text) {
                        failures.push(format!("{}: the output {}", path.display(), problem(p)));
                    }
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 20, "only {checked} fixtures found");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_stored_converted_config_validates() {
    let mut files = Vec::new();
    walk(&root(), ".alloy", &mut files);
    assert!(files.iter().any(|p| p.to_string_lossy().contains("deviations")), "no stored deviation outputs found");
    let failures: Vec<String> = files
        .iter()
        .filter_map(|path| {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            verify_output(&text).err().map(|p| format!("{} {}", path.display(), problem(p)))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
