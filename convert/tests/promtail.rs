//! Promtail conversions of the project's own fixtures (`fixtures/convert/promtail/*.yaml`),
//! snapshotted with their diagnostics. Every output converted without Error or Critical
//! diagnostics must parse, be formatted already, and pass the analyzer.

mod support;

use convert::convert;

#[test]
fn fixtures() {
    support::snapshot_fixtures("promtail");
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
fn broken_yaml_names_the_line_as_go_yaml() {
    let c = convert(include_bytes!("../../fixtures/convert/promtail/broken_yaml.yaml"), "promtail", &[]);
    assert!(c.output.is_none());
    assert_eq!(c.diagnostics.to_string(), "(Critical) failed to parse Promtail config: yaml: line 5: did not find expected node content");
    assert_eq!(c.diagnostics.0[0].at, Some((6, 7)));
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
        support::mutate_without_panics(&support::fixture("promtail", name), "promtail");
    }
}
