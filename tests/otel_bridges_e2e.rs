//! The OpenTelemetry bridges end to end, with real clients and servers on loopback:
//! - traces from the OpenTelemetry Python SDK (tests/e2e/send_otel_bridges.py) go through
//!   `otelcol.receiver.otlp` → `otelcol.connector.spanmetrics` → `otelcol.exporter.prometheus`
//!   → `prometheus.remote_write` into Prometheus 2.42, which the test queries for the span
//!   metrics: one call series per (service, span name, kind, status) with the counts sent;
//! - logs from the SDK go through `otelcol.receiver.otlp` → `otelcol.exporter.loki` →
//!   `loki.write` into tests/e2e/loki_push_receiver.py, which decodes the pushes with code we
//!   did not write; every record arrives once, with the labels its hints promote.
//!
//! Missing outside programs skip the tests loudly, except under `CI=true`, where they fail.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

mod support;
use support::servers::*;
use support::*;

const SDK: &str = "opentelemetry.sdk, opentelemetry.exporter.otlp.proto.grpc";

/// Runs the sender in `mode` against an OTLP/gRPC endpoint; what it says it sent.
fn send(mode: &str, grpc_port: u16, alloy: &Alloy) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/e2e/send_otel_bridges.py");
    let out = Command::new("python3").arg(script).arg(mode).env("OTLP_GRPC", format!("127.0.0.1:{grpc_port}")).output().expect("python3 runs");
    assert!(
        out.status.success(),
        "the sender failed:\n{}{}\nalloy stderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        alloy.stderr()
    );
    serde_json::from_slice(&out.stdout).expect("the sender prints JSON")
}

fn otlp_receiver(grpc_port: u16, signal: &str, to: &str) -> String {
    format!("otelcol.receiver.otlp \"in\" {{\n  grpc {{\n    endpoint = \"127.0.0.1:{grpc_port}\"\n  }}\n  output {{\n    {signal} = [{to}]\n  }}\n}}\n")
}

#[test]
fn sdk_logs_reach_a_loki_endpoint_with_their_hinted_labels() {
    if !python_has("otel_bridges_e2e logs", &format!("{SDK}, cramjam, google.protobuf")) {
        return;
    }
    let dir = scratch("otel-bridges-logs");
    let (grpc, push) = (free_port(), free_port());
    let out = dir.join("received.jsonl");
    let _receiver = start_loki_receiver(push, &out, 0);
    let config = format!(
        "{}otelcol.exporter.loki \"bridge\" {{\n  forward_to = [loki.write.out.receiver]\n}}\n\
         loki.write \"out\" {{\n  endpoint {{\n    url = \"http://127.0.0.1:{push}/loki/api/v1/push\"\n    batch_wait = \"100ms\"\n  }}\n}}\n",
        otlp_receiver(grpc, "logs", "otelcol.exporter.loki.bridge.input")
    );
    let mut alloy = Alloy::start(&dir, "alloy", &config);
    let sent = send("logs", grpc, &alloy);
    let sent = sent.as_array().expect("a list of records");
    alloy.wait_for("every record at the Loki endpoint", |_| loki_received(&out).len() >= sent.len());
    std::thread::sleep(Duration::from_millis(300));
    let got = loki_received(&out);
    assert_eq!(got.len(), sent.len(), "each record arrives once: {got:#?}");
    for s in sent {
        let body = s["body"].as_str().expect("body");
        let entry = got
            .iter()
            .find(|g| serde_json::from_str::<serde_json::Value>(g["line"].as_str().unwrap_or("")).is_ok_and(|l| l["body"] == body))
            .unwrap_or_else(|| panic!("no entry with body {body:?} in {got:#?}"));
        let labels = entry["labels"].as_str().expect("labels");
        for want in ["exporter=\"OTLP\"", "job=\"shop\"", "deployment_environment=\"e2e\"", &format!("user=\"{}\"", s["user"].as_str().unwrap_or(""))] {
            assert!(labels.contains(want), "{want} missing from {labels}");
        }
        let line: serde_json::Value = serde_json::from_str(entry["line"].as_str().unwrap_or("")).expect("a JSON line");
        assert_eq!(line["severity"], "WARN", "{line}");
        // Promoted attributes and the hints themselves leave the line.
        let attrs = line["attributes"].as_object().cloned().unwrap_or_default();
        assert!(!attrs.contains_key("user") && !attrs.contains_key("loki.attribute.labels"), "{line}");
        assert!(entry["ts"].as_i64().is_some_and(|ts| ts > 0), "{entry}");
    }
}

#[test]
fn py_zipkin_spans_arrive_as_otlp_spans() {
    if !python_has("otel_bridges_e2e zipkin", "py_zipkin, google.protobuf") {
        return;
    }
    let dir = scratch("otel-bridges-zipkin");
    let port = free_port();
    let config = format!(
        "otelcol.receiver.zipkin \"in\" {{\n  endpoint = \"127.0.0.1:{port}\"\n  output {{\n    traces = [otelcol.exporter.debug.out.input]\n  }}\n}}\n\
         otelcol.exporter.debug \"out\" {{\n  verbosity = \"detailed\"\n}}\n"
    );
    let mut alloy = Alloy::start(&dir, "alloy", &config);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/e2e/send_zipkin.py");
    for encoding in ["V2_JSON", "V2_PROTO3"] {
        let out = Command::new("python3").arg(&script).arg(port.to_string()).arg(encoding).output().expect("python3 runs");
        assert!(out.status.success(), "py_zipkin failed:\n{}\nalloy:\n{}", String::from_utf8_lossy(&out.stderr), alloy.stderr());
        let sent: serde_json::Value = serde_json::from_slice(&out.stdout).expect("the script prints JSON");
        let trace = sent["trace_id"].as_str().expect("trace id").to_string();
        alloy.wait_for(&format!("the {encoding} spans in the debug output"), |a| a.stderr().matches(&format!("Trace ID       : {trace}")).count() >= 2);
    }
    let text = alloy.stderr();
    for want in [
        "     -> service.name: Str(checkout)",
        "    Name           : POST /order",
        "    Kind           : Server",
        "    Name           : charge card",
        "    Kind           : Client",
        "     -> order.id: Str(42)",
        "SpanEvent #0\n     -> Name: charged",
    ] {
        assert_eq!(text.matches(want).count(), 2, "{want:?} once per encoding in:\n{text}");
    }
}
#[test]
fn sdk_spans_become_span_metrics_in_prometheus() {
    if !python_has("otel_bridges_e2e span metrics", SDK) || !prometheus_installed("otel_bridges_e2e span metrics") {
        return;
    }
    let dir = scratch("otel-bridges-spanmetrics");
    let prometheus = Prometheus::start(&dir);
    let grpc = free_port();
    let config = format!(
        "{}otelcol.connector.spanmetrics \"m\" {{\n  metrics_flush_interval = \"1s\"\n  histogram {{\n    explicit {{ }}\n  }}\n  output {{\n    metrics = [otelcol.exporter.prometheus.p.input]\n  }}\n}}\n\
         otelcol.exporter.prometheus \"p\" {{\n  forward_to = [prometheus.remote_write.out.receiver]\n}}\n\
         prometheus.remote_write \"out\" {{\n  endpoint {{\n    url = \"{}\"\n    queue_config {{\n      batch_send_deadline = \"200ms\"\n    }}\n  }}\n}}\n",
        otlp_receiver(grpc, "traces", "otelcol.connector.spanmetrics.m.input"),
        prometheus.write_url()
    );
    let alloy = Alloy::start(&dir, "alloy", &config);
    let sent = send("traces", grpc, &alloy);
    let sent: BTreeMap<String, u64> = serde_json::from_value(sent).expect("counts per series");

    let calls = |name: &str, kind: &str, status: &str| {
        prometheus
            .value(&format!("traces_span_metrics_calls_total{{service_name=\"shop\",span_name=\"{name}\",span_kind=\"{kind}\",status_code=\"{status}\"}}"))
    };
    let start = Instant::now();
    loop {
        let all = sent.iter().all(|(key, n)| {
            let parts: Vec<&str> = key.split('|').collect();
            calls(parts[0], parts[1], parts[2]) == Some(*n as f64)
        });
        if all {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "span metrics did not reach Prometheus: sent {sent:?}; Prometheus has {:#?}\nalloy:\n{}",
            prometheus.query("{__name__=~\"traces_span_metrics_.*\"}"),
            alloy.stderr()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    // The duration histogram counts the same calls, in milliseconds buckets.
    let server_ok = sent["GET /cart|SPAN_KIND_SERVER|STATUS_CODE_UNSET"] as f64;
    let count =
        prometheus.value("traces_span_metrics_duration_milliseconds_count{service_name=\"shop\",span_name=\"GET /cart\",status_code=\"STATUS_CODE_UNSET\"}");
    assert_eq!(count, Some(server_ok));
    let inf = prometheus
        .value("traces_span_metrics_duration_milliseconds_bucket{service_name=\"shop\",span_name=\"GET /cart\",status_code=\"STATUS_CODE_UNSET\",le=\"+Inf\"}");
    assert_eq!(inf, Some(server_ok));
    // The resource becomes target_info, keyed by job.
    assert!(!prometheus.query("target_info{job=\"shop\"}").is_empty(), "no target_info for the service");
}
