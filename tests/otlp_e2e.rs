//! The OpenTelemetry pipeline end to end with a real client: two `alloy run` processes on
//! loopback. The first receives OTLP (gRPC and HTTP), batches, edits attributes and exports
//! over OTLP/gRPC to the second, which prints everything with the debug exporter. The
//! OpenTelemetry Python SDK (tests/e2e/send_otlp.py) sends traces, metrics and logs over
//! both protocols; the test checks every item arrived with its attributes and that both
//! processes counted them on /metrics. Without the SDK the test is skipped loudly, except
//! under `CI=true`, where it fails.

use std::process::Command;

mod support;
use support::*;

fn sdk_available() -> bool {
    Command::new("python3")
        .args(["-c", "import opentelemetry.sdk, opentelemetry.exporter.otlp.proto.grpc, opentelemetry.exporter.otlp.proto.http"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The value of the series of `name` whose labels contain every `labels` pair.
fn metric(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines().filter(|l| l.starts_with(&format!("{name}{{"))).find(|l| labels.iter().all(|x| l.contains(x)))?.rsplit(' ').next()?.parse().ok()
}

const SIGNALS: [&str; 3] = ["traces", "metrics", "logs"];

fn output(to: &str) -> String {
    let list: String = SIGNALS.iter().map(|s| format!("    {s} = [{to}]\n")).collect();
    format!("  output {{\n{list}  }}\n")
}

#[test]
fn sdk_traffic_flows_through_two_alloy_processes() {
    if !sdk_available() {
        let msg = "the OpenTelemetry Python SDK is not installed: run `pip install -r scripts/test-requirements.txt` (or `bash scripts/test`)";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{msg}");
        }
        eprintln!("\n!!!!!!!!!! SKIPPED otlp_e2e: {msg} !!!!!!!!!!\n");
        return;
    }
    let dir = scratch("otlp-e2e");
    let (sink_grpc, sink_http) = (free_port(), free_port());
    let sink_config = format!(
        "otelcol.receiver.otlp \"default\" {{\n  grpc {{\n    endpoint = \"127.0.0.1:{sink_grpc}\"\n  }}\n  http {{\n    endpoint = \"127.0.0.1:{sink_http}\"\n  }}\n{}}}\n\
         otelcol.exporter.debug \"sink\" {{\n  verbosity = \"detailed\"\n}}\n",
        output("otelcol.exporter.debug.sink.input")
    );
    let mut sink = Alloy::start(&dir, "sink", &sink_config);

    let (grpc, http) = (free_port(), free_port());
    let front_config = format!(
        "otelcol.receiver.otlp \"default\" {{\n  grpc {{\n    endpoint = \"127.0.0.1:{grpc}\"\n  }}\n  http {{\n    endpoint = \"127.0.0.1:{http}\"\n  }}\n{}}}\n\
         otelcol.processor.batch \"default\" {{\n  timeout = \"200ms\"\n{}}}\n\
         otelcol.processor.attributes \"default\" {{\n  action {{\n    key = \"pipeline\"\n    value = \"e2e\"\n    action = \"insert\"\n  }}\n  action {{\n    key = \"secret\"\n    action = \"hash\"\n  }}\n{}}}\n\
         otelcol.exporter.otlp \"next\" {{\n  client {{\n    endpoint = \"127.0.0.1:{sink_grpc}\"\n    tls {{\n      insecure = true\n    }}\n  }}\n}}\n",
        output("otelcol.processor.batch.default.input"),
        output("otelcol.processor.attributes.default.input"),
        output("otelcol.exporter.otlp.next.input"),
    );
    let mut front = Alloy::start(&dir, "front", &front_config);

    let sent = send_otlp(grpc, http, &front);

    let mut expected = Vec::new();
    for transport in ["grpc", "http"] {
        for s in sent[transport]["spans"].as_array().expect("spans") {
            expected.push(format!("    Name           : {}", s.as_str().expect("name")));
        }
        for m in sent[transport]["metrics"].as_array().expect("metrics") {
            expected.push(format!("     -> Name: {}", m.as_str().expect("name")));
        }
        for l in sent[transport]["logs"].as_array().expect("logs") {
            expected.push(format!("Body: Str({})", l.as_str().expect("body")));
        }
        expected.push(format!("     -> service.name: Str(e2e-{transport})"));
    }
    assert_eq!(expected.len(), 2 * (5 + 1 + 3 + 1));
    sink.wait_for("every item at the sink", |s| {
        let text = s.stderr();
        expected.iter().all(|e| text.contains(e.as_str()))
    });
    let text = sink.stderr();
    // The attributes processor of the first process ran on every span, log and data point.
    assert_eq!(text.matches("     -> pipeline: Str(e2e)").count(), 10 + 6 + 4, "{text}");
    // sha1("s3cr3t"), never the secret itself.
    assert_eq!(text.matches("     -> secret: Str(25ab86bed149ca6ca9c1c0d5db7c9a91388ddeab)").count(), 10, "{text}");
    assert!(!text.contains("s3cr3t"));
    assert!(text.contains("     -> idx: Int(4)"));

    // Both processes counted what they accepted, per transport; the first one's exporter
    // sent everything.
    let recv = "otelcol_receiver_accepted_spans_total";
    // A counter moves when the sink answers, which may be after the sink printed the data.
    front.wait_for("the exporter's counters", |f| {
        let m = f.metrics();
        metric(&m, "otelcol_exporter_sent_spans_total", &[]) == Some(10.0) && metric(&m, "otelcol_exporter_sent_log_records_total", &[]) == Some(6.0)
    });
    let fm = front.metrics();
    assert_eq!(metric(&fm, recv, &["transport=\"grpc\""]), Some(5.0), "{fm}");
    assert_eq!(metric(&fm, recv, &["transport=\"http\""]), Some(5.0), "{fm}");
    assert_eq!(metric(&fm, "otelcol_receiver_accepted_log_records_total", &["transport=\"http\""]), Some(3.0), "{fm}");
    assert_eq!(metric(&fm, "otelcol_receiver_accepted_metric_points_total", &["transport=\"grpc\""]), Some(2.0), "{fm}");
    assert_eq!(metric(&fm, "otelcol_exporter_sent_log_records_total", &[]), Some(6.0), "{fm}");
    assert_eq!(metric(&fm, "otelcol_exporter_send_failed_spans_total", &[]), Some(0.0), "{fm}");
    let sm = sink.metrics();
    assert_eq!(metric(&sm, recv, &["transport=\"grpc\""]), Some(10.0), "{sm}");
    assert_eq!(metric(&sm, "otelcol_receiver_accepted_metric_points_total", &["transport=\"grpc\""]), Some(4.0), "{sm}");
}
