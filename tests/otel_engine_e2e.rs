//! `alloy otel` end to end with a real client. A collector configuration split over two
//! `--config` files, a `--set` value and environment references runs natively: the OTLP
//! receiver feeds a traces pipeline (batch → attributes → OTLP exporter), a second traces
//! pipeline (fan-out of the same receiver to a debug exporter) and metrics and logs pipelines
//! that fan in to the same OTLP exporter. The OpenTelemetry Python SDK (tests/e2e/send_otlp.py)
//! sends over gRPC and HTTP; an `alloy run` sink prints what arrives and the test checks every
//! item. Then one config file changes and `/-/reload` re-reads every source: the next traffic
//! carries the new attribute value.

use std::path::Path;
use std::process::{Command, Stdio};

mod support;
use support::*;

const SIGNALS: [&str; 3] = ["traces", "metrics", "logs"];

/// The sink: an `alloy run` printing everything it receives over OTLP/gRPC.
fn sink(dir: &Path, grpc: u16) -> Alloy {
    let outputs: String = SIGNALS.iter().map(|s| format!("    {s} = [otelcol.exporter.debug.sink.input]\n")).collect();
    let config = format!(
        "otelcol.receiver.otlp \"default\" {{\n  grpc {{\n    endpoint = \"127.0.0.1:{grpc}\"\n  }}\n  output {{\n{outputs}  }}\n}}\n\
         otelcol.exporter.debug \"sink\" {{\n  verbosity = \"detailed\"\n}}\n"
    );
    Alloy::start(dir, "sink", &config)
}

const BASE: &str = r#"
receivers:
  otlp/in:
    protocols:
      grpc:
        endpoint: ${env:FRONT_GRPC}
      http:
        endpoint: ${env:FRONT_HTTP}
processors:
  batch:
    timeout: 5s
  attributes/tag:
    actions:
      - key: pipeline
        value: ${env:TAG_VALUE:-otel-engine}
        action: insert
exporters:
  otlp/sink:
    endpoint: ${env:SINK_GRPC}
    tls:
      insecure: true
  debug/copy:
    verbosity: basic
service:
  telemetry:
    metrics:
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: ${env:TELEMETRY_PORT}
  pipelines:
    traces:
      receivers: [otlp/in]
      processors: [batch, attributes/tag]
      exporters: [otlp/sink]
    traces/copy:
      receivers: [otlp/in]
      exporters: [debug/copy]
    metrics:
      receivers: [otlp/in]
      processors: [attributes/tag]
      exporters: [otlp/sink]
    logs:
      receivers: [otlp/in]
      processors: [batch, attributes/tag]
      exporters: [otlp/sink]
"#;

/// Merged over BASE: a shorter batch timeout (the `--set` below shortens it again).
const OVERRIDE: &str = "processors:\n  batch:\n    timeout: 2s\n";

/// Every line the sink's debug exporter prints for what the script sent.
fn expected_lines(sent: &serde_json::Value) -> Vec<String> {
    let mut expected = Vec::new();
    for transport in ["grpc", "http"] {
        let names = |k: &str| sent[transport][k].as_array().cloned().unwrap_or_default().into_iter().filter_map(|v| v.as_str().map(str::to_string));
        expected.extend(names("spans").map(|s| format!("    Name           : {s}")));
        expected.extend(names("metrics").map(|m| format!("     -> Name: {m}")));
        expected.extend(names("logs").map(|l| format!("Body: Str({l})")));
    }
    expected
}

#[test]
fn collector_config_runs_natively_and_reloads() {
    if !python_has("otel_engine_e2e", "opentelemetry.sdk, opentelemetry.exporter.otlp.proto.grpc, opentelemetry.exporter.otlp.proto.http") {
        return;
    }
    let dir = scratch("otel-engine-e2e");
    let sink_grpc = free_port();
    let mut sink = sink(&dir, sink_grpc);

    let (grpc, http, api, telemetry) = (free_port(), free_port(), free_port(), free_port());
    std::fs::write(dir.join("base.yaml"), BASE).expect("write base");
    std::fs::write(dir.join("override.yaml"), OVERRIDE).expect("write override");
    let child = Command::new(env!("CARGO_BIN_EXE_alloy"))
        .arg("otel")
        .arg(format!("--config={}", dir.join("base.yaml").display()))
        .arg(format!("--config=file:{}", dir.join("override.yaml").display()))
        .arg("--set=processors::batch::timeout=200ms")
        .args(["--server.http.listen-addr", &format!("127.0.0.1:{api}"), "--storage.path"])
        .arg(dir.join("front-data"))
        .env("FRONT_GRPC", format!("127.0.0.1:{grpc}"))
        .env("FRONT_HTTP", format!("127.0.0.1:{http}"))
        .env("SINK_GRPC", format!("127.0.0.1:{sink_grpc}"))
        .env("TELEMETRY_PORT", telemetry.to_string())
        .env_remove("TAG_VALUE")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("front.stderr")).expect("log file"))
        .spawn()
        .expect("alloy otel starts");
    let mut front = Alloy { child, api, log: dir.join("front.stderr") };
    front.wait_for("alloy otel to be ready", |a| get(a.api, "/-/ready").is_some_and(|(s, _)| s == 200));

    // The collector IDs are recognisable in the running components.
    let (_, list) = get(api, "/api/v0/web/components").expect("components API");
    let list: serde_json::Value = serde_json::from_str(&list).expect("JSON");
    let mut ids: Vec<&str> = list.as_array().expect("a list").iter().filter_map(|c| c["localID"].as_str()).collect();
    ids.sort_unstable();
    assert_eq!(
        ids,
        [
            "otelcol.exporter.debug.copy",
            "otelcol.exporter.otlp.sink",
            "otelcol.processor.attributes.logs__tag",
            "otelcol.processor.attributes.metrics__tag",
            "otelcol.processor.attributes.traces__tag",
            "otelcol.processor.batch.logs",
            "otelcol.processor.batch.traces",
            "otelcol.receiver.otlp.in",
        ],
        "one receiver and exporter per ID, one processor per pipeline"
    );
    assert!(front.stderr().contains("component=receiver/otlp/in runs_as=otelcol.receiver.otlp.in"), "{}", front.stderr());
    let origin = |id: &str| list.as_array().and_then(|a| a.iter().find(|c| c["localID"] == id)).and_then(|c| c["origin"].as_str()).map(str::to_string);
    assert_eq!(origin("otelcol.receiver.otlp.in").as_deref(), Some("receiver/otlp/in"));
    assert_eq!(origin("otelcol.processor.attributes.metrics__tag").as_deref(), Some("processor/attributes/tag (pipeline metrics)"));
    let (_, page) = get(api, "/").expect("the UI");
    assert!(page.contains("otelcol.exporter.otlp.sink</a> <span class=\"origin\">(exporter/otlp/sink)</span>"), "{page}");

    let sent = send_otlp(grpc, http, &front);
    let expected = expected_lines(&sent);
    assert_eq!(expected.len(), 2 * (5 + 1 + 3));
    sink.wait_for("every item at the sink", |s| expected.iter().all(|e| s.stderr().contains(e.as_str())));
    let text = sink.stderr();
    // The attributes processor of each pipeline ran on every span, data point and log record
    // (the default from `${env:TAG_VALUE:-otel-engine}`).
    assert_eq!(text.matches("     -> pipeline: Str(otel-engine)").count(), 10 + 4 + 6, "{text}");
    // The second traces pipeline got its own copy of every span, unprocessed.
    let copied = |f: &Alloy| -> usize {
        let text = f.stderr();
        let lines = text.lines().filter(|l| l.contains("component_id=otelcol.exporter.debug.copy"));
        lines.filter_map(|l| l.split(" spans=").last()?.split(['"', ' ']).next()?.parse::<usize>().ok()).sum()
    };
    front.wait_for("the copy pipeline's spans", |f| copied(f) >= 10);
    assert_eq!(copied(&front), 10, "{}", front.stderr());

    // The collector's own telemetry, with collector IDs as labels.
    let own = |name: &str, labels: &str| {
        let text = get(telemetry, "/metrics").map(|(_, b)| b).unwrap_or_default();
        text.lines().find(|l| l.starts_with(&format!("{name}{{{labels}}} "))).and_then(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
    };
    front.wait_for("the exporter's counters", |_| own("otelcol_exporter_sent_spans_total", "exporter=\"otlp/sink\"") == Some(10.0));
    assert_eq!(own("otelcol_receiver_accepted_spans_total", "receiver=\"otlp/in\",transport=\"grpc\""), Some(5.0));
    assert_eq!(own("otelcol_receiver_accepted_log_records_total", "receiver=\"otlp/in\",transport=\"http\""), Some(3.0));
    assert_eq!(own("otelcol_exporter_sent_log_records_total", "exporter=\"otlp/sink\""), Some(6.0));
    let text = get(telemetry, "/metrics").map(|(_, b)| b).unwrap_or_default();
    assert!(!text.contains("component_id") && !text.contains("alloy_"), "only the collector's families, with its labels:\n{text}");

    // A changed source is read again on reload.
    std::fs::write(
        dir.join("override.yaml"),
        format!("{OVERRIDE}  attributes/tag:\n    actions:\n      - key: pipeline\n        value: reloaded\n        action: insert\n"),
    )
    .expect("rewrite override");
    let (status, body) = get(api, "/-/reload").expect("reload answers");
    assert_eq!(status, 200, "reload answered {body}:\n{}", front.stderr());
    let sent = send_otlp(grpc, http, &front);
    let expected = expected_lines(&sent);
    sink.wait_for("the second round at the sink", |s| s.stderr().matches("     -> pipeline: Str(reloaded)").count() >= 20);
    let text = sink.stderr();
    assert_eq!(text.matches("     -> pipeline: Str(reloaded)").count(), 20, "{text}");
    assert!(expected.iter().all(|e| text.matches(e.as_str()).count() >= 2), "{text}");

    // A broken source makes the reload fail and keeps the running pipeline.
    std::fs::write(dir.join("override.yaml"), "processors:\n  batch:\n    send_batch_size: many\n").expect("rewrite override");
    let (status, body) = get(api, "/-/reload").expect("reload answers");
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains(
            "override.yaml:3:22: error decoding 'processors': error reading configuration for \"batch\": 'send_batch_size' expected type 'int', got unconvertible type 'string', value: 'many'"
        ),
        "{body}"
    );
    assert_eq!(get(api, "/-/ready").map(|(s, _)| s), Some(200));

    // The telemetry endpoint does not move while running: a reload asking for it is refused.
    let moved = format!("service:\n  telemetry:\n    metrics:\n      readers:\n        - pull:\n            exporter:\n              prometheus:\n                host: 127.0.0.1\n                port: {}\n", free_port());
    std::fs::write(dir.join("override.yaml"), format!("{OVERRIDE}{moved}")).expect("rewrite override");
    let (status, body) = get(api, "/-/reload").expect("reload answers");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("service::telemetry::metrics' address changed: restart alloy otel to apply it"), "{body}");
    front.terminate();
    sink.terminate();
}

/// POSTs a JSON body over HTTP/1.1 on loopback; the status.
fn post_json(port: u16, path: &str, body: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(5))).ok()?;
    write!(s, "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())
        .ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    buf.split_whitespace().nth(1)?.parse().ok()
}

fn log_body(text: &str) -> String {
    format!(r#"{{"resourceLogs":[{{"resource":{{}},"scopeLogs":[{{"logRecords":[{{"body":{{"stringValue":"{text}"}}}}]}}]}}]}}"#)
}

/// The `alloyengine` extension: an Alloy file runs beside the collector pipeline in the same
/// process, controller and API; each pipeline gets only its own traffic.
#[test]
fn alloyengine_runs_an_alloy_config_in_the_same_process() {
    let dir = scratch("otel-engine-alloyengine");
    let (collector_http, alloy_http, api) = (free_port(), free_port(), free_port());
    let alloy = format!(
        "otelcol.receiver.otlp \"from_alloy\" {{\n  http {{\n    endpoint = \"127.0.0.1:{alloy_http}\"\n  }}\n  output {{\n    logs = [otelcol.exporter.debug.from_alloy.input]\n  }}\n}}\n\
         otelcol.exporter.debug \"from_alloy\" {{\n  verbosity = \"detailed\"\n}}\n"
    );
    std::fs::write(dir.join("side.alloy"), alloy).expect("write alloy");
    let yaml = format!(
        "extensions:\n  alloyengine:\n    config:\n      path: {}\n    flags:\n      stability.level: experimental\n      server.http.listen-addr: 127.0.0.1:{api}\n\
         receivers:\n  otlp:\n    protocols:\n      http:\n        endpoint: 127.0.0.1:{collector_http}\nexporters:\n  debug:\n    verbosity: detailed\n\
         service:\n  extensions: [alloyengine]\n  pipelines:\n    logs:\n      receivers: [otlp]\n      exporters: [debug]\n",
        dir.join("side.alloy").display()
    );
    std::fs::write(dir.join("collector.yaml"), yaml).expect("write yaml");
    let child = Command::new(env!("CARGO_BIN_EXE_alloy"))
        .arg("otel")
        .arg(format!("--config={}", dir.join("collector.yaml").display()))
        .arg("--storage.path")
        .arg(dir.join("data"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("otel.stderr")).expect("log file"))
        .spawn()
        .expect("alloy otel starts");
    let mut otel = Alloy { child, api, log: dir.join("otel.stderr") };
    otel.wait_for("the API on the extension's listen address", |a| get(a.api, "/-/ready").is_some_and(|(s, _)| s == 200));
    let (_, list) = get(api, "/api/v0/web/components").expect("components API");
    for id in ["otelcol.receiver.otlp.default", "otelcol.exporter.debug.default", "otelcol.receiver.otlp.from_alloy", "otelcol.exporter.debug.from_alloy"] {
        assert!(list.contains(&format!("\"localID\":\"{id}\"")), "{id} missing from {list}");
    }
    assert_eq!(post_json(collector_http, "/v1/logs", &log_body("to-the-collector")), Some(200));
    assert_eq!(post_json(alloy_http, "/v1/logs", &log_body("to-alloy")), Some(200));
    otel.wait_for("both records printed", |a| {
        let t = a.stderr();
        t.contains("Body: Str(to-the-collector)") && t.contains("Body: Str(to-alloy)")
    });
    let text = otel.stderr();
    // Which debug exporter printed a record: the component of the log line before it.
    let printed_by = |body: &str| {
        let before: Vec<&str> = text.lines().take_while(|l| !l.contains(&format!("Body: Str({body})"))).collect();
        before.iter().rev().find_map(|l| l.split("component_id=").nth(1)).map(str::to_string)
    };
    assert_eq!(printed_by("to-the-collector").as_deref(), Some("otelcol.exporter.debug.default"), "{text}");
    assert_eq!(printed_by("to-alloy").as_deref(), Some("otelcol.exporter.debug.from_alloy"), "{text}");
    otel.terminate();
}
