//! OpenTelemetry Collector conversions of the project's own fixtures
//! (`fixtures/convert/otelcol/*.yaml`), snapshotted with their diagnostics. Every output
//! converted without Error or Critical diagnostics must parse, be formatted already, and pass
//! the analyzer.

mod support;

use convert::{convert, convert_without_validation, Severity};

fn criticals(c: &convert::Conversion) -> Vec<String> {
    c.diagnostics.iter().filter(|d| d.severity == Severity::Critical).map(ToString::to_string).collect()
}

#[test]
fn fixtures() {
    support::snapshot_fixtures("otelcol");
}

#[test]
fn the_default_telemetry_is_only_info_and_says_how_it_converted_each_component() {
    let c = convert(
        b"receivers: {otlp: {protocols: {grpc: }}}\nexporters: {debug: }\nservice: {pipelines: {traces: {receivers: [otlp], exporters: [debug]}}}\n",
        "otelcol",
        &[],
    );
    let all: Vec<String> = c.diagnostics.iter().map(ToString::to_string).collect();
    assert_eq!(
        all,
        [
            "(Info) console log format is not supported, using default log format",
            "(Info) the service/telemetry/logs/sampling configuration is not supported (the collector's default sampling, not set in the file)",
            "(Info) the service/telemetry/metrics/readers configuration is not supported - to gather Alloy's own telemetry refer to: https://grafana.com/docs/alloy/latest/collect/metamonitoring/ (the collector's default reader, not set in the file)",
            "(Info) Converted receiver/otlp into otelcol.receiver.otlp.default",
            "(Info) Converted exporter/debug into otelcol.exporter.debug.default",
        ]
    );
}

#[test]
fn unknown_top_level_keys_are_critical() {
    let c = convert(b"receivers: {otlp: }\nbad-key: 1\nanother: 2\n", "otelcol", &[]);
    assert!(c.output.is_none());
    assert_eq!(
        criticals(&c),
        ["(Critical) failed to get otelcol config: cannot unmarshal the configuration: decoding failed due to the following error(s):\n\n'otelcol.configSettings' has invalid keys: another, bad-key"]
    );
}

#[test]
fn unknown_component_types_list_the_valid_ones() {
    let c = convert(&support::fixture("otelcol", "unsupported_component.yaml"), "otelcol", &[]);
    let text = criticals(&c).join("\n");
    assert!(text.contains("error decoding 'receivers': unknown type: \"prometheus\" for id: \"prometheus\" (valid values: ["), "{text}");
    assert!(text.contains(" otlp "), "{text}");
    let c = convert(b"exporters: {logging: }\n", "otelcol", &[]);
    assert!(criticals(&c)[0].ends_with("the logging exporter has been deprecated, use the debug exporter instead"));
}

#[test]
fn broken_yaml_names_line_and_column() {
    let c = convert(&support::fixture("otelcol", "broken_yaml.yaml"), "otelcol", &[]);
    assert!(c.output.is_none());
    let text = criticals(&c).join("\n");
    assert!(text.starts_with("(Critical) failed to get otelcol config: cannot resolve the configuration: yaml: line "), "{text}");
    assert!(text.contains("column "), "{text}");
}

#[test]
fn other_reference_schemes_are_critical() {
    let c = convert(b"receivers: {otlp: {protocols: {grpc: {endpoint: '${file:/x}'}}}}\n", "otelcol", &[]);
    assert_eq!(
        criticals(&c),
        ["(Critical) failed to get otelcol config: cannot resolve the configuration: scheme \"file\" is not supported for uri \"file:/x\""]
    );
}

#[test]
fn the_collectors_validation_runs_unless_skipped() {
    let src = support::fixture("otelcol", "undefined_reference.yaml");
    let c = convert(&src, "otelcol", &[]);
    assert_eq!(criticals(&c), ["(Critical) failed to validate config: service::pipelines::traces: references exporter \"otlp\" which is not configured"]);
    // Without validation the dangling exporter is simply not emitted.
    let c = convert_without_validation(&src, "otelcol");
    assert!(criticals(&c).is_empty());
    assert!(c.output.is_some_and(|o| o.contains("otelcol.receiver.otlp \"default\"")));
}

#[test]
fn an_extension_missing_from_the_service_is_critical_not_a_panic() {
    let c = convert(&support::fixture("otelcol", "missing_extension.yaml"), "otelcol", &[]);
    assert!(c.output.is_none());
    assert_eq!(criticals(&c), ["(Critical) exporter/otlp: extension \"basicauth\" is referenced but not enabled in service::extensions"]);
}

#[test]
fn unknown_pipeline_signals_are_critical() {
    let c = convert(b"receivers: {otlp: }\nexporters: {debug: }\nservice: {pipelines: {profiles: {receivers: [otlp], exporters: [debug]}}}\n", "otelcol", &[]);
    assert_eq!(criticals(&c), ["(Critical) failed to interpret config: unknown pipeline type \"profiles\""]);
}

#[test]
fn no_input_panics() {
    for name in ["pipelines.yaml", "extensions.yaml", "processors.yaml", "receivers.yaml", "env.yaml"] {
        support::mutate_without_panics(&support::fixture("otelcol", name), "otelcol");
    }
}

#[test]
fn settings_no_converter_reads_are_warnings() {
    let c = convert(&support::fixture("otelcol", "unconverted_settings.yaml"), "otelcol", &[]);
    let warnings: Vec<String> =
        c.diagnostics.iter().filter(|d| d.severity == Severity::Warning && d.summary.contains("is not converted")).map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [
            "(Warning) receiver/otlp: the setting \"protocols.grpc.max_recv_msg_size_mb\" is not converted",
            "(Warning) exporter/otlphttp: the setting \"traces_endpoint\" is not converted",
        ]
    );
    assert!(c.output.is_some());
}

#[test]
fn values_of_the_wrong_type_are_errors_at_their_key() {
    let c = convert(
        b"receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpoint: [host:4317]\nprocessors:\n  batch:\n    timeout: soon\n    send_batch_size: lots\nexporters:\n  debug:\nservice:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      processors: [batch]\n      exporters: [debug]\n",
        "otelcol",
        &[],
    );
    let errors: Vec<String> = c.diagnostics.iter().filter(|d| d.severity == Severity::Error).map(ToString::to_string).collect();
    assert_eq!(
        errors,
        [
            "(Error) receiver/otlp: line 5: column 19: 'endpoint' expected type 'string', got unconvertible type '[]interface {}', value: '[host:4317]'",
            "(Error) processor/batch: line 8: column 14: 'timeout' time: invalid duration \"soon\"",
            "(Error) processor/batch: line 9: column 22: 'send_batch_size' expected type 'int', got unconvertible type 'string', value: 'lots'",
        ]
    );
    assert!(c.diagnostics.is_failure(false), "the conversion fails unless errors are bypassed");
}

#[test]
fn pipelines_without_receivers_or_exporters_are_refused_as_the_collector_refuses_them() {
    let cases: [(&str, &str); 4] = [
        ("service: {pipelines: {traces: {exporters: [debug]}}}", "service::pipelines::traces: must have at least one receiver"),
        ("service: {pipelines: {traces/x: {receivers: [otlp]}}}", "service::pipelines::traces/x: must have at least one exporter"),
        ("service: {pipelines: {traces: {receivers: [], exporters: []}}}", "service::pipelines::traces: must have at least one receiver"),
        ("service: {pipelines: {}}", "service::pipelines: service must have at least one pipeline"),
    ];
    for (service, message) in cases {
        let src = format!("receivers: {{otlp: {{protocols: {{grpc: }}}}}}\nexporters: {{debug: }}\n{service}\n");
        let c = convert(src.as_bytes(), "otelcol", &[]);
        assert!(c.output.is_none(), "{service}");
        assert_eq!(criticals(&c), [format!("(Critical) failed to validate config: {message}")], "{service}");
    }
}

/// A config of `n` receivers in one pipeline, and how long converting it takes (the best of
/// three runs).
fn convert_receivers(n: usize) -> std::time::Duration {
    let mut src = String::from("receivers:\n");
    for i in 0..n {
        src.push_str(&format!("  otlp/r{i}:\n    protocols: {{grpc: {{endpoint: \"0.0.0.0:{}\"}}}}\n", 1000 + i % 60000));
    }
    let ids: Vec<String> = (0..n).map(|i| format!("otlp/r{i}")).collect();
    src.push_str(&format!("exporters:\n  debug: {{}}\nservice:\n  pipelines:\n    traces:\n      receivers: [{}]\n      exporters: [debug]\n", ids.join(", ")));
    (0..3)
        .map(|_| {
            let start = std::time::Instant::now();
            let c = convert(src.as_bytes(), "otelcol", &[]);
            assert!(criticals(&c).is_empty(), "{:?}", criticals(&c));
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

#[test]
fn conversion_time_grows_linearly_with_the_number_of_components() {
    // Four times the receivers: about four times the time when linear, sixteen when quadratic
    // (as it was: 100 000 receivers took 49 s). The bound leaves room for noise.
    let small = convert_receivers(3_000);
    let large = convert_receivers(12_000);
    assert!(large < small * 9, "3 000 receivers: {small:?}, 12 000: {large:?}");
}
