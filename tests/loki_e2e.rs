//! The Loki pipeline end to end with a real client: python-logging-loki
//! (tests/e2e/send_loki.py) pushes JSON log lines to a first `alloy run`
//! (`loki.source.api` → `loki.process` → `loki.write`), which pushes to a second one
//! (`loki.source.api` → `loki.echo`); the test reads what the second printed. Without the
//! client the test is skipped loudly, except under `CI=true`, where it fails.

use std::path::Path;
use std::process::Command;

mod support;
use support::*;

fn client_available() -> bool {
    Command::new("python3").args(["-c", "import logging_loki"]).output().is_ok_and(|o| o.status.success())
}

/// The `received log entry` records of a JSON-logging alloy's stderr.
fn echoed(stderr: &str) -> Vec<serde_json::Value> {
    stderr.lines().filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok()).filter(|v| v["msg"] == "received log entry").collect()
}

#[test]
fn client_pushes_flow_through_process_and_write_into_a_second_alloy() {
    if !client_available() {
        let msg = "python-logging-loki is not installed: run `pip install -r scripts/test-requirements.txt` (or `bash scripts/test`)";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{msg}");
        }
        eprintln!("\n!!!!!!!!!! SKIPPED loki_e2e: {msg} !!!!!!!!!!\n");
        return;
    }
    let dir = scratch("loki-e2e");
    let sink_port = free_port();
    let sink_config = format!(
        "logging {{\n  format = \"json\"\n}}\n\
         loki.source.api \"in\" {{\n  forward_to = [loki.echo.out.receiver]\n  use_incoming_timestamp = true\n  http {{\n    listen_address = \"127.0.0.1\"\n    listen_port = {sink_port}\n  }}\n}}\n\
         loki.echo \"out\" {{ }}\n"
    );
    let mut sink = Alloy::start(&dir, "sink", &sink_config);

    let front_port = free_port();
    let front_config = format!(
        "loki.source.api \"in\" {{\n  forward_to = [loki.process.p.receiver]\n  labels = {{ pipeline = \"e2e\" }}\n  http {{\n    listen_address = \"127.0.0.1\"\n    listen_port = {front_port}\n  }}\n}}\n\
         loki.process \"p\" {{\n  forward_to = [loki.write.out.receiver]\n\n  stage.json {{\n    expressions = {{ level = \"level\", msg = \"msg\" }}\n  }}\n\n  stage.drop {{\n    source = \"level\"\n    value  = \"debug\"\n  }}\n\n  stage.labels {{\n    values = {{ level = \"\" }}\n  }}\n\n  stage.output {{\n    source = \"msg\"\n  }}\n}}\n\
         loki.write \"out\" {{\n  endpoint {{\n    url = \"http://127.0.0.1:{sink_port}/loki/api/v1/push\"\n    batch_wait = \"100ms\"\n  }}\n  external_labels = {{ cluster = \"e2e\" }}\n}}\n"
    );
    let front = Alloy::start(&dir, "front", &front_config);

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/e2e/send_loki.py");
    let out = Command::new("python3").arg(&script).env("LOKI_URL", format!("http://127.0.0.1:{front_port}/loki/api/v1/push")).output().expect("python3 runs");
    assert!(
        out.status.success(),
        "the client failed:\n{}{}\nfront stderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        front.stderr()
    );
    let sent: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("the script prints JSON");
    let kept: Vec<&serde_json::Value> = sent.iter().filter(|s| s["level"] != "debug").collect();

    sink.wait_for("the entries at the sink", |a| echoed(&a.stderr()).len() >= kept.len());
    std::thread::sleep(std::time::Duration::from_millis(500));
    let got = echoed(&sink.stderr());
    assert_eq!(got.len(), kept.len(), "the debug line is dropped and nothing arrives twice:\n{}", sink.stderr());
    let mut lines: Vec<String> = got.iter().map(|g| g["entry"].as_str().unwrap_or_default().to_string()).collect();
    lines.sort();
    let mut want: Vec<String> = kept
        .iter()
        .map(|s| {
            serde_json::from_str::<serde_json::Value>(s["line"].as_str().unwrap_or_default())
                .map(|v| v["msg"].as_str().unwrap_or_default().to_string())
                .unwrap_or_default()
        })
        .collect();
    want.sort();
    assert_eq!(lines, want, "stage.output replaced each line with its msg");
    for g in &got {
        let labels = g["labels"].as_str().unwrap_or_default();
        for needle in ["app=\"e2e\"", "cluster=\"e2e\"", "pipeline=\"e2e\"", "logger=\"e2e-client\""] {
            assert!(labels.contains(needle), "{needle} missing from {labels}");
        }
        assert!(labels.contains("level=\"info\"") || labels.contains("level=\"warning\""), "{labels}");
    }
}
