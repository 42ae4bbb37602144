use super::*;
use crate::otelcol::collector::{resolve, Host};

fn engine(yaml: &str, runs: &dyn Fn(&str) -> bool) -> Result<Engine, Vec<String>> {
    let text = yaml.to_string();
    let read = move |_: &str| Ok(text.clone().into_bytes());
    let host = Host { env: &|_| None, read_file: &read };
    let resolved = resolve(&["c.yaml".to_string()], &[], &host).map_err(|f| vec![f.error.render(&f.sources)])?;
    build(&resolved, runs).map_err(|errs| errs.iter().map(|e| e.render(&resolved.sources)).collect())
}

fn all(_: &str) -> bool {
    true
}

/// The `output` lines of the generated Alloy, one per component.
fn wiring(e: &Engine) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in e.alloy.lines() {
        if !line.starts_with([' ', '\t']) && line.ends_with('{') {
            current = line.trim_end_matches(" {").replace('"', "");
        }
        let t = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if ["metrics = ", "logs = ", "traces = "].iter().any(|p| t.starts_with(p)) && t.contains(".input") {
            out.push(format!("{current}: {t}"));
        }
    }
    out
}

#[test]
fn receivers_fan_out_processors_per_pipeline_exporters_fan_in() {
    let yaml = r#"
receivers:
  otlp/in:
    protocols:
      grpc:
        endpoint: 127.0.0.1:4317
processors:
  batch:
exporters:
  debug:
  otlphttp/a:
    endpoint: http://127.0.0.1:9999
service:
  pipelines:
    traces:
      receivers: [otlp/in]
      processors: [batch]
      exporters: [debug, otlphttp/a]
    traces/raw:
      receivers: [otlp/in]
      exporters: [otlphttp/a]
    logs:
      receivers: [otlp/in]
      processors: [batch]
      exporters: [debug]
"#;
    let e = engine(yaml, &all).expect("builds");
    assert_eq!(
        wiring(&e),
        [
            "otelcol.receiver.otlp in: logs = [otelcol.processor.batch.logs.input]",
            "otelcol.receiver.otlp in: traces = [otelcol.processor.batch.traces.input, otelcol.exporter.otlphttp.a.input]",
            "otelcol.processor.batch logs: logs = [otelcol.exporter.debug.default.input]",
            "otelcol.processor.batch traces: traces = [otelcol.exporter.debug.default.input, otelcol.exporter.otlphttp.a.input]",
        ]
    );
    let ids: Vec<String> = e.components.iter().map(Mapped::collector_name).collect();
    assert_eq!(ids, ["receiver/otlp/in", "processor/batch (pipeline logs)", "processor/batch (pipeline traces)", "exporter/debug", "exporter/otlphttp/a"]);
    assert_eq!(e.by_alloy_id("otelcol.processor.batch.traces").map(|m| m.at.line), Some(8), "the processor's ID line");
    assert_eq!(e.alloy.matches("otelcol.receiver.otlp \"in\"").count(), 1, "one receiver however many pipelines use it");
}

#[test]
fn connectors_join_pipelines() {
    let yaml = r#"
receivers:
  otlp:
    protocols:
      http:
processors:
  batch/m:
connectors:
  spanmetrics:
exporters:
  debug:
  debug/m:
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [spanmetrics, debug]
    metrics/spans:
      receivers: [spanmetrics]
      processors: [batch/m]
      exporters: [debug/m]
"#;
    let e = engine(yaml, &all).expect("builds");
    assert_eq!(
        wiring(&e),
        [
            "otelcol.receiver.otlp default: traces = [otelcol.connector.spanmetrics.default.input, otelcol.exporter.debug.default.input]",
            "otelcol.processor.batch metrics_spans__m: metrics = [otelcol.exporter.debug.m.input]",
            "otelcol.connector.spanmetrics default: metrics = [otelcol.processor.batch.metrics_spans__m.input]",
        ]
    );
}

#[test]
fn errors_name_the_component_and_key_where_they_are() {
    let yaml = "receivers:\n  otlp:\n    protocols:\n      grcp:\n        endpoint: x\n      http:\nexporters:\n  debug:\n    verbosty: basic\nservice:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [debug]\n";
    let errs = engine(yaml, &all).expect_err("refused");
    assert_eq!(
        errs,
        [
            "c.yaml:4:7: error decoding 'receivers': error reading configuration for \"otlp\": 'protocols' has invalid keys: grcp",
            "c.yaml:9:5: error decoding 'exporters': error reading configuration for \"debug\": '' has invalid keys: verbosty",
        ]
    );
    let errs = engine(
        "receivers:\n  otlp:\nexporters:\n  debug:\nservice:\n  pipelines:\n    traces:\n      receivers: [otlp, zipkin]\n      exporters: [debug]\n",
        &all,
    )
    .err();
    assert_eq!(
        errs.expect("refused"),
        ["c.yaml:8:25: failed to validate config: service::pipelines::traces: references receiver \"zipkin\" which is not configured"]
    );
    let errs =
        engine("receivers:\n  otlp:\nexporters:\n  debug:\nservice:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [debug]\n", &|n| {
            n != "otelcol.exporter.debug"
        });
    assert_eq!(errs.expect_err("refused"), ["c.yaml:4:3: error decoding 'exporters': \"debug\" (otelcol.exporter.debug) is not supported by this build"]);
}

#[test]
fn a_connector_needs_both_sides() {
    let yaml = "receivers:\n  otlp:\nconnectors:\n  count:\nexporters:\n  debug:\nservice:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [count]\n";
    let errs = engine(yaml, &all).expect_err("refused");
    assert_eq!(errs, ["c.yaml:4:3: connectors::count: connector \"count\" used as exporter in a pipeline but not used in any supported receiver pipeline"]);
}

#[test]
fn pipelines_only_hold_components_of_their_signal() {
    let yaml = "receivers:\n  zipkin:\nprocessors:\n  span:\n    name:\n      to_attributes:\n        rules: ['x']\nconnectors:\n  spanmetrics:\nexporters:\n  debug:\nservice:\n  pipelines:\n    logs:\n      receivers: [zipkin]\n      processors: [span]\n      exporters: [debug]\n    traces:\n      receivers: [spanmetrics]\n      exporters: [debug]\n    metrics:\n      receivers: [zipkin]\n      exporters: [spanmetrics]\n";
    let errs = engine(yaml, &all).expect_err("refused");
    assert_eq!(
        errs,
        [
            "c.yaml:15:19: service::pipelines::logs: receiver \"zipkin\" does not support logs (it handles traces)",
            "c.yaml:16:20: service::pipelines::logs: processor \"span\" does not support logs (it handles traces)",
            "c.yaml:22:19: service::pipelines::metrics: receiver \"zipkin\" does not support metrics (it handles traces)",
            "c.yaml:23:19: service::pipelines::metrics: connector \"spanmetrics\" as exporter does not support metrics (it handles traces_to_metrics)",
            "c.yaml:19:19: service::pipelines::traces: connector \"spanmetrics\" as receiver does not support traces (it handles traces_to_metrics)",
        ]
    );
}

#[test]
fn telemetry_settings_the_runtime_does_not_act_on_are_refused() {
    let base =
        "receivers:\n  otlp:\nexporters:\n  debug:\nservice:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [debug]\n  telemetry:\n";
    let errs =
        engine(&format!("{base}    metrics:\n      level: detailed\n      views: []\n    resource:\n      service.name: x\n"), &all).expect_err("refused");
    assert_eq!(
        errs,
        [
            "c.yaml:14:5: service::telemetry::resource: not supported by this build",
            "c.yaml:13:7: service::telemetry::metrics::views: not supported by this build",
            "c.yaml:12:14: service::telemetry::metrics::level: \"detailed\" is not supported by this build (normal and none are)",
        ]
    );
    let e = engine(&format!("{base}    metrics:\n      level: normal\n      address: 127.0.0.1:8888\n"), &all).expect("normal is the runtime's");
    assert_eq!(e.telemetry_addr.map(|(a, _)| a).as_deref(), Some("127.0.0.1:8888"));
    assert!(engine(&format!("{base}    metrics:\n      level: none\n      address: 127.0.0.1:8888\n"), &all).expect("none").telemetry_addr.is_none());
}
