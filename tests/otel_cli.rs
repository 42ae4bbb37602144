//! `alloy otel`'s subcommands as a user runs them: `validate`'s exit status and placed errors,
//! `print-config` (merged, expanded, redacted), `components`, flags before or after the
//! subcommand, and `alloy run --config.format=otelcol` taking the same path.

use std::path::Path;
use std::process::{Command, Output, Stdio};

mod support;
use support::*;

fn alloy(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_alloy"));
    c.args(args).env("ALLOY_PLAIN_DIAGNOSTICS", "1").stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("alloy runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const CONFIG: &str = "receivers:\n  otlp:\n    protocols:\n      http:\n        endpoint: ${env:OTEL_CLI_ENDPOINT}\nexporters:\n  otlphttp:\n    endpoint: http://127.0.0.1:1\n    headers:\n      Authorization: Bearer s3cr3t\nservice:\n  pipelines:\n    logs:\n      receivers: [otlp]\n      exporters: [otlphttp]\n";

fn write(dir: &Path, name: &str, body: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, body).expect("write config");
    p.display().to_string()
}

#[test]
fn validate_print_config_and_components() {
    let dir = scratch("otel-cli");
    let good = write(&dir, "good.yaml", CONFIG);
    let env = [("OTEL_CLI_ENDPOINT", "127.0.0.1:4999")];
    // Flags go before or after the subcommand.
    for args in [vec!["otel", "validate", "--config", &good], vec!["otel", &format!("--config={good}"), "validate"]] {
        let out = alloy(&args, &env);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    }

    let bad = write(&dir, "bad.yaml", &CONFIG.replace("      http:\n", "      htp:\n"));
    let out = alloy(&["otel", "validate", "--config", &bad], &env);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!("{bad}:4:7: error decoding 'receivers': error reading configuration for \"otlp\": 'protocols' has invalid keys: htp\nError: invalid configuration\n")
    );

    let out = alloy(&["otel", "print-config", "--config", &good, "--set", "exporters::otlphttp::compression=none"], &env);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    assert!(printed.contains("endpoint: \"127.0.0.1:4999\""), "expanded: {printed}");
    assert!(printed.contains("Authorization: \"[REDACTED]\"") && !printed.contains("s3cr3t"), "redacted: {printed}");
    assert!(printed.contains("compression: none"), "--set applied: {printed}");
    let out = alloy(&["otel", "print-config", "--mode=unredacted", "--config", &good], &env);
    assert!(text(&out.stdout).contains("Authorization: Bearer s3cr3t"));
    let out = alloy(&["otel", "print-config", "--format=alloy", "--config", &good], &env);
    assert!(text(&out.stdout).contains("otelcol.receiver.otlp \"default\" {"), "{}", text(&out.stdout));

    let out = alloy(&["otel", "components"], &[]);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("  - name: otlp\n    alloy: otelcol.receiver.otlp\n    stability:\n      logs: Stable\n"), "{}", text(&out.stdout));

    let out = alloy(&["otel", "validate"], &[]);
    assert_eq!(text(&out.stderr), "at least one config flag must be provided\nError: invalid configuration\n");
    let out = alloy(&["otel", "validate", "--config", &good, "--feature-gates=+exporter.otlp.something"], &env);
    assert!(text(&out.stderr).contains("feature gate \"exporter.otlp.something\" is not supported by this build"), "{}", text(&out.stderr));
}

#[test]
fn the_bundled_example_is_valid() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/examples/collector.yaml");
    let out = alloy(&["otel", "validate", &format!("--config={}", example.display())], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn run_with_the_otelcol_format_takes_the_engine_path() {
    let dir = scratch("otel-cli-run");
    let bad = write(&dir, "bad.yaml", &CONFIG.replace("endpoint: http://127.0.0.1:1", "endpoint: http://127.0.0.1:1\n    bogus: 1"));
    let out = alloy(&["run", "--config.format=otelcol", &bad], &[("OTEL_CLI_ENDPOINT", "127.0.0.1:4999")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains(&format!("{bad}:9:5: error decoding 'exporters': error reading configuration for \"otlphttp\": '' has invalid keys: bogus")),
        "{}",
        text(&out.stderr)
    );
    let out = alloy(&["validate", "--config.format=otelcol", "--format=short", &bad], &[("OTEL_CLI_ENDPOINT", "127.0.0.1:4999")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains(&format!("{bad}:9:5: error: error decoding 'exporters'")), "{}", text(&out.stdout));
}
