//! Prometheus conversions of the project's own fixtures (`fixtures/convert/prometheus/*.yaml`),
//! snapshotted with their diagnostics: among them every supported service discovery with its
//! defaults only (`sd_defaults`) and with other values (`sd_settings`). Every output converted
//! without Error or Critical diagnostics must parse, be formatted already, and pass the analyzer.

mod support;

#[test]
fn fixtures() {
    support::snapshot_fixtures("prometheus");
}

/// Truncated and mutated service discovery settings convert without panics.
#[test]
fn mutated_sd_settings_do_not_panic() {
    support::mutate_without_panics(&support::fixture("prometheus", "sd_settings.yaml"), "prometheus");
}
