//! `otelcol.receiver.jaeger` end to end with clients we did not write, on loopback:
//! tests/e2e/send_jaeger.py sends spans through each protocol to `alloy run`, whose pipeline
//! ends in `otelcol.exporter.file` (OTLP/JSON lines); the test reads the file back and checks
//! every field that crosses against what the sender says it sent.
//! - the OpenTelemetry Python SDK's Jaeger Thrift exporter (Apache Thrift) to `thrift_http`
//!   (`POST /api/traces`, binary protocol) and to the agent's `thrift_compact` UDP port;
//! - a `PostSpansRequest` built with Google's protobuf runtime and sent with grpcio to `grpc`.
//!
//! Missing Python modules skip the tests loudly, except under `CI=true`, where they fail.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

mod support;
use support::*;

const THRIFT_CLIENT: &str = "opentelemetry.sdk, opentelemetry.exporter.jaeger.thrift, thrift";
const GRPC_CLIENT: &str = "grpc, google.protobuf";

fn send(mode: &str, port: u16, alloy: &Alloy) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/e2e/send_jaeger.py");
    let out = Command::new("python3").arg(script).arg(mode).arg(port.to_string()).output().expect("python3 runs");
    assert!(
        out.status.success(),
        "the {mode} sender failed:\n{}{}\nalloy stderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        alloy.stderr()
    );
    serde_json::from_slice(&out.stdout).expect("the sender prints JSON")
}

/// Alloy with a Jaeger receiver (`protocol` block) whose spans go to an OTLP/JSON file.
fn start(name: &str, protocol: &str, port: u16) -> (Alloy, PathBuf) {
    let dir = scratch(&format!("jaeger-e2e-{name}"));
    let file = dir.join("spans.jsonl");
    let config = format!(
        "otelcol.receiver.jaeger \"in\" {{\n  protocols {{\n    {protocol} {{\n      endpoint = \"127.0.0.1:{port}\"\n    }}\n  }}\n  output {{\n    traces = [otelcol.exporter.file.out.input]\n  }}\n}}\n\
         otelcol.exporter.file \"out\" {{\n  path           = \"{}\"\n  flush_interval = \"100ms\"\n}}\n",
        file.display()
    );
    (Alloy::start(&dir, "alloy", &config), file)
}

/// Every span in the file as (resource attributes, scope, span).
fn spans_in(file: &Path) -> Vec<(Value, Value, Value)> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let req: Value = serde_json::from_str(line).expect("an OTLP/JSON line");
        for rs in req["resourceSpans"].as_array().into_iter().flatten() {
            for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                for sp in ss["spans"].as_array().into_iter().flatten() {
                    out.push((rs["resource"]["attributes"].clone(), ss["scope"].clone(), sp.clone()));
                }
            }
        }
    }
    out
}

/// An attribute list as `key -> OTLP/JSON value`.
fn attrs(list: &Value) -> serde_json::Map<String, Value> {
    list.as_array().into_iter().flatten().map(|a| (a["key"].as_str().unwrap_or("").to_string(), a["value"].clone())).collect()
}

fn wait_for_spans(alloy: &mut Alloy, file: &Path, n: usize) -> Vec<(Value, Value, Value)> {
    alloy.wait_for(&format!("{n} spans in the file"), |_| spans_in(file).len() >= n);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let got = spans_in(file);
    assert_eq!(got.len(), n, "each span arrives once: {got:#?}");
    got
}

/// Thrift carries microseconds: the nanoseconds the SDK recorded, rounded as the exporter
/// rounds them.
fn round_us(ns: u64) -> u64 {
    (ns + 500) / 1000 * 1000
}

fn micros(ns: &Value) -> String {
    round_us(ns.as_u64().expect("a time")).to_string()
}

/// An SDK attribute value as OTLP/JSON writes it.
fn otlp_value(v: &Value) -> Value {
    match v {
        Value::Bool(b) => serde_json::json!({ "boolValue": b }),
        Value::Number(n) if n.is_i64() => serde_json::json!({ "intValue": n.to_string() }),
        Value::Number(n) => serde_json::json!({ "doubleValue": n }),
        other => serde_json::json!({ "stringValue": other }),
    }
}

/// The SDK's spans, sent with the Jaeger Thrift exporter, arrive with every field they carry.
fn check_sdk_spans(sent: &Value, got: &[(Value, Value, Value)]) {
    let kinds = [("SERVER", 2), ("CLIENT", 3)];
    for want in sent["spans"].as_array().expect("spans") {
        let name = want["name"].as_str().expect("name");
        let (resource, scope, sp) = got.iter().find(|(_, _, s)| s["name"] == name).unwrap_or_else(|| panic!("no span {name} in {got:#?}"));
        assert_eq!(attrs(resource)["service.name"], serde_json::json!({"stringValue": sent["service"]}), "the process is the resource");
        assert_eq!((&scope["name"], &scope["version"]), (&sent["scope"][0], &sent["scope"][1]), "otel.scope.* tags are the scope");
        assert_eq!(sp["traceId"], want["trace_id"]);
        assert_eq!(sp["spanId"], want["span_id"]);
        assert_eq!(sp["parentSpanId"].as_str().unwrap_or(""), want["parent_span_id"]);
        assert_eq!(sp["startTimeUnixNano"], micros(&want["start"]), "{name}");
        // The exporter sends the start and the duration, each rounded.
        let (start, end) = (want["start"].as_u64().expect("start"), want["end"].as_u64().expect("end"));
        assert_eq!(sp["endTimeUnixNano"], (round_us(start) + round_us(end - start)).to_string(), "{name}");
        let kind = kinds.iter().find(|(k, _)| want["kind"] == *k).map(|(_, n)| *n).expect("a known kind");
        assert_eq!(sp["kind"], kind, "span.kind is the kind");

        let a = attrs(&sp["attributes"]);
        for (k, v) in want["attributes"].as_object().expect("attributes") {
            assert_eq!(a.get(k), Some(&otlp_value(v)), "attribute {k} of {name}");
        }
        for gone in ["span.kind", "otel.status_code", "otel.status_description", "error", "otel.scope.name", "otel.scope.version"] {
            assert!(!a.contains_key(gone), "{gone} is not an attribute of {name}: {a:?}");
        }
        let (code, message) = (&want["status"][0], &want["status"][1]);
        if code == "ERROR" {
            assert_eq!((&sp["status"]["code"], &sp["status"]["message"]), (&serde_json::json!(2), message), "{name}");
        } else {
            assert!(sp["status"].get("code").is_none(), "an unset status stays unset: {sp}");
        }

        let events = sp["events"].as_array().cloned().unwrap_or_default();
        let want_events = want["events"].as_array().expect("events");
        assert_eq!(events.len(), want_events.len(), "{name}");
        for (e, w) in events.iter().zip(want_events) {
            assert_eq!(e["timeUnixNano"], micros(&w["time"]));
            let ea = attrs(&e["attributes"]);
            // The exporter writes the event name under `message`; the collector names events
            // by their `event` field, so the name stays an attribute.
            assert_eq!(ea.get("message"), Some(&serde_json::json!({"stringValue": w["name"]})));
            for (k, v) in w["attributes"].as_object().expect("event attributes") {
                assert_eq!(ea.get(k), Some(&otlp_value(v)), "event attribute {k}");
            }
        }
        let links: Vec<(Value, Value, Value)> = sp["links"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|l| (l["traceId"].clone(), l["spanId"].clone(), attrs(&l["attributes"]).get("opentracing.ref_type").cloned().unwrap_or_default()))
            .collect();
        let want_links: Vec<(Value, Value, Value)> =
            want["links"].as_array().expect("links").iter().map(|l| (l[0].clone(), l[1].clone(), serde_json::json!({"stringValue": "follows_from"}))).collect();
        assert_eq!(links, want_links, "links of {name}");
    }
}

/// The SDK's spans through `protocol` with the exporter in `mode`; the receiver's counters.
fn sdk_spans_through(protocol: &str, mode: &str) -> Option<String> {
    if !python_has(&format!("jaeger_e2e {mode}"), THRIFT_CLIENT) {
        return None;
    }
    let port = free_port();
    let (mut alloy, file) = start(mode, protocol, port);
    let sent = send(mode, port, &alloy);
    let got = wait_for_spans(&mut alloy, &file, 2);
    check_sdk_spans(&sent, &got);
    Some(alloy.metrics())
}

fn accepted_line(metrics: &str, transport: &str) -> Option<String> {
    metrics.lines().find(|l| l.starts_with("otelcol_receiver_accepted_spans_total") && l.contains(&format!("transport=\"{transport}\""))).map(str::to_string)
}

#[test]
fn sdk_spans_through_thrift_http_arrive_whole() {
    if let Some(metrics) = sdk_spans_through("thrift_http", "thrift_http") {
        assert!(accepted_line(&metrics, "collector_http").is_some_and(|l| l.ends_with(" 2")), "{metrics}");
    }
}

#[test]
fn sdk_spans_through_the_compact_agent_port_arrive_whole() {
    if let Some(metrics) = sdk_spans_through("thrift_compact", "udp_compact") {
        assert!(accepted_line(&metrics, "udp_thrift_compact").is_some_and(|l| l.ends_with(" 2")), "{metrics}");
    }
}

#[test]
fn protobuf_post_spans_over_grpc_arrive_translated() {
    if !python_has("jaeger_e2e grpc", GRPC_CLIENT) {
        return;
    }
    let port = free_port();
    let (mut alloy, file) = start("grpc", "grpc", port);
    let sent = send("grpc", port, &alloy);
    let got = wait_for_spans(&mut alloy, &file, 2);
    let start = sent["start"].as_u64().expect("start");
    let str_v = |s: &str| serde_json::json!({ "stringValue": s });

    let (resource, scope, server) = got.iter().find(|(_, _, s)| s["name"] == "reserve").expect("the server span");
    let r = attrs(resource);
    assert_eq!(r["service.name"], str_v("inventory"));
    assert_eq!(r["host.name"], str_v("db-host"), "hostname is renamed");
    assert_eq!(r["opencensus.exporterversion"], str_v("Jaeger-Go-2.30.0"));
    assert_eq!(r["pod.index"], serde_json::json!({"intValue": "7"}));
    assert_eq!((scope["name"].as_str(), scope["version"].as_str()), (Some("inventory.lib"), Some("0.4")));
    assert_eq!(server["traceId"], sent["trace_id"]);
    assert_eq!(server["spanId"], sent["server"]);
    assert!(server["parentSpanId"].as_str().unwrap_or("").is_empty());
    assert_eq!(server["kind"], 2);
    assert_eq!(server["traceState"], "vendor=abc");
    assert_eq!(
        (server["startTimeUnixNano"].as_str(), server["endTimeUnixNano"].clone()),
        (Some(start.to_string().as_str()), Value::from((start + 2_500_000).to_string()))
    );
    let a = attrs(&server["attributes"]);
    assert_eq!(a["retries"], serde_json::json!({"intValue": "2"}));
    assert_eq!(a["ratio"], serde_json::json!({"doubleValue": 0.25}));
    assert_eq!(a["cached"], serde_json::json!({"boolValue": false}));
    assert_eq!(a["blob"], serde_json::json!({"bytesValue": "AAH+"}), "binary tags are bytes");
    assert_eq!(a["http.status_code"], serde_json::json!({"intValue": "503"}));
    assert_eq!(server["status"]["code"], 2, "HTTP 503 fails the span");
    for gone in ["span.kind", "otel.scope.name", "otel.scope.version", "w3c.tracestate"] {
        assert!(!a.contains_key(gone), "{gone}: {a:?}");
    }
    let event = &server["events"][0];
    assert_eq!((event["name"].as_str(), event["timeUnixNano"].clone()), (Some("stock checked"), Value::from((start + 1_000_000).to_string())));
    assert_eq!(attrs(&event["attributes"]).get("sku"), Some(&str_v("A-1")));

    let (resource, _, client) = got.iter().find(|(_, _, s)| s["name"] == "UPDATE stock").expect("the client span");
    let r = attrs(resource);
    assert_eq!((r["service.name"].clone(), r["db.system"].clone()), (str_v("stock-db"), str_v("postgresql")), "the span's own process");
    assert_eq!(client["parentSpanId"], sent["server"], "the CHILD_OF reference is the parent");
    assert_eq!(client["kind"], 3);
    assert_eq!((client["status"]["code"].clone(), client["status"]["message"].as_str()), (Value::from(2), Some("deadlock")));
    let links = client["links"].as_array().expect("links");
    assert_eq!(links.len(), 1, "only the FOLLOWS_FROM reference is a link");
    assert_eq!((links[0]["traceId"].as_str(), links[0]["spanId"].as_str()), (Some("00000000000000000000000000000009"), Some("0000000000000005")));
    assert_eq!(attrs(&links[0]["attributes"])["opentracing.ref_type"], str_v("follows_from"));
}
