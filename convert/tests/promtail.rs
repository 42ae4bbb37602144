//! Promtail conversions of the project's own fixtures (`fixtures/convert/promtail/*.yaml`),
//! snapshotted with their diagnostics. Every output converted without Error or Critical
//! diagnostics must parse, be formatted already, and pass the analyzer.

use std::fmt::Write;
use std::path::Path;

use convert::{convert, Severity};

fn render(path: &Path) -> String {
    let src = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let c = convert(&src, "promtail", &[]);
    let mut out = String::from("--- diagnostics\n");
    for d in c.diagnostics.iter().filter(|d| d.severity != Severity::Info) {
        let _ = writeln!(out, "{d}");
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

fn round_trip(path: &Path, text: &str) {
    let formatted = syntax::format::format_source(text.as_bytes()).unwrap_or_else(|d| panic!("{}: output does not parse: {d:?}", path.display()));
    assert_eq!(formatted.trim_end(), text.trim_end(), "{}: output is not formatted", path.display());
    let options = analyzer::Options { stability: analyzer::Stability::Experimental, community: true };
    let report = analyzer::check_text("converted.alloy", text, options);
    let errors: Vec<String> = report.diagnostics.iter().filter(|d| d.is_error()).map(|d| format!("{}: {}", report.lines.line_col(d.span.start), d.message)).collect();
    assert!(errors.is_empty(), "{}: the analyzer rejects the output:\n{}\n{text}", path.display(), errors.join("\n"));
}

#[test]
fn fixtures() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/convert/promtail");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(dir.join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        insta::glob!(&dir, "*.yaml", |path| {
            insta::assert_snapshot!(render(path));
        });
    });
}

#[test]
fn unknown_keys_name_their_line() {
    let c = convert(include_bytes!("../../fixtures/convert/promtail/unknown_field.yaml"), "promtail", &[]);
    assert!(c.output.is_none());
    assert_eq!(
        c.diagnostics.to_string(),
        "(Critical) failed to parse Promtail config: yaml: unmarshal errors:\n  line 3: field batch_size not found in type client.raw\n  line 8: field pipline_stages not found in type scrapeconfig.plain"
    );
}

#[test]
fn broken_yaml_names_line_and_column() {
    let c = convert(include_bytes!("../../fixtures/convert/promtail/broken_yaml.yaml"), "promtail", &[]);
    assert!(c.output.is_none());
    let text = c.diagnostics.to_string();
    assert!(text.starts_with("(Critical) failed to parse Promtail config: yaml: line "), "{text}");
    assert!(text.contains("column "), "{text}");
}

#[test]
fn defaults_warn_about_metrics_and_tracing() {
    let c = convert(b"clients: [{url: http://x}]\n", "promtail", &[]);
    let warnings: Vec<String> = c.diagnostics.iter().map(ToString::to_string).collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings[0].starts_with("(Warning) If you have a tracing set up for Promtail"));
    assert!(warnings[1].starts_with("(Warning) Alloy's metrics are different"));
}

#[test]
fn no_input_panics() {
    for name in ["sources.yaml", "stages.yaml", "limits.yaml", "push_server_unsupported.yaml"] {
        let seed = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/convert/promtail").join(name)).unwrap_or_default();
        for cut in (0..seed.len()).step_by(3) {
            let _ = convert(&seed[..cut], "promtail", &[]);
        }
        for i in (0..seed.len()).step_by(5) {
            for b in [b':', b'-', b'[', b'{', b' ', b'\n', b'~'] {
                let mut m = seed.clone();
                m[i] = b;
                let _ = convert(&m, "promtail", &[]);
            }
        }
    }
}
