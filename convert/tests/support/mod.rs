//! Helpers the converter's fixture tests share: a conversion rendered with its diagnostics for
//! a snapshot, and the round trip every successful output must pass.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use convert::{convert, Severity};

/// `--- diagnostics` (Info left out) and `--- output` of converting `path` from `format`;
/// a successful output is also round-tripped.
pub fn render(path: &Path, format: &str) -> String {
    let src = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let c = convert(&src, format, &[]);
    let mut out = String::from("--- diagnostics\n");
    // As `alloy convert` shows them: with the YAML position and hints.
    let shown = convert::Diagnostics(c.diagnostics.iter().filter(|d| d.severity != Severity::Info).cloned().collect());
    if !shown.is_empty() {
        let _ = writeln!(out, "{}", shown.render());
    }
    out.push_str("--- output\n");
    if let Some(text) = &c.output {
        out.push_str(text);
        if !c.diagnostics.is_failure(false) {
            round_trip(path, text);
        }
    }
    out
}

/// The output parses, is formatted already and passes the analyzer.
pub fn round_trip(path: &Path, text: &str) {
    use convert::verify::OutputProblem;
    match convert::verify::verify_output(text) {
        Ok(()) => {}
        Err(OutputProblem::Unparsable(d)) => panic!("{}: output does not parse: {d}", path.display()),
        Err(OutputProblem::Unformatted(formatted)) => assert_eq!(formatted.trim_end(), text.trim_end(), "{}: output is not formatted", path.display()),
        Err(OutputProblem::Rejected(errors)) => panic!("{}: the analyzer rejects the output:\n{}\n{text}", path.display(), errors.join("\n")),
    }
}

/// `fixtures/convert/<format>/`.
fn fixture_dir(format: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/convert").join(format)
}

/// The bytes of `fixtures/convert/<format>/<name>`; a missing fixture fails the test rather
/// than leaving it nothing to check.
pub fn fixture(format: &str, name: &str) -> Vec<u8> {
    let path = fixture_dir(format).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Snapshots `render` of every `*.yaml` in `fixtures/convert/<format>/`.
pub fn snapshot_fixtures(format: &str) {
    let dir = fixture_dir(format);
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(dir.join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "no fixtures in {}", dir.display());
    settings.bind(|| {
        for path in &inputs {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            insta::assert_snapshot!(format!("fixtures@{name}"), render(path, format));
        }
    });
}

/// Converts truncations and byte mutations of `seed`; none may panic.
pub fn mutate_without_panics(seed: &[u8], format: &str) {
    for cut in (0..seed.len()).step_by(3) {
        let _ = convert(&seed[..cut], format, &[]);
    }
    for i in (0..seed.len()).step_by(5) {
        for b in [b':', b'-', b'[', b'{', b' ', b'\n', b'~', b'$'] {
            let mut m = seed.to_vec();
            m[i] = b;
            let _ = convert(&m, format, &[]);
        }
    }
}
