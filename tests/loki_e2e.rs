//! The Loki pipeline end to end, on loopback:
//! - a real client, python-logging-loki (tests/e2e/send_loki.py), pushes JSON log lines to a
//!   first `alloy run` (`loki.source.api` → `loki.process` → `loki.write`), which pushes to a
//!   second one (`loki.source.api` → `loki.echo`); the test reads what the second printed;
//! - a log file written by the test, rotated by rename and by copy-truncate, with `alloy run`
//!   stopped and started again half-way, goes through `loki.source.file` → `loki.process` →
//!   `loki.write` into a push endpoint in Python (tests/e2e/loki_push_receiver.py) that decodes
//!   the protobuf with code we did not write; every line must arrive exactly once.
//!
//! Without the Python packages the tests are skipped loudly, except under `CI=true`, where
//! they fail.

use std::io::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

mod support;
use support::servers::*;
use support::*;

/// The `received log entry` records of a JSON-logging alloy's stderr.
fn echoed(stderr: &str) -> Vec<serde_json::Value> {
    stderr.lines().filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok()).filter(|v| v["msg"] == "received log entry").collect()
}

#[test]
fn client_pushes_flow_through_process_and_write_into_a_second_alloy() {
    if !python_has("loki_e2e client test", "logging_loki") {
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

// ---------------------------------------------------------------------------------------------
// A tailed file through rotations and a restart

const LEVELS: [&str; 4] = ["info", "warn", "error", "debug"];
/// Line `seq` is timestamped 2026-12-05T00:00:00Z + seq ms.
const BASE_NS: i64 = 1_796_428_800_000_000_000;

fn level(seq: u64) -> &'static str {
    LEVELS[(seq % 4) as usize]
}

fn timestamp_ns(seq: u64) -> i64 {
    BASE_NS + seq as i64 * 1_000_000
}

/// Lines `from..to`, each a JSON object with its own timestamp.
fn lines(from: u64, to: u64) -> String {
    (from..to)
        .map(|seq| {
            let ms = seq % 1000;
            let secs = seq / 1000;
            format!(
                "{{\"ts\":\"2026-12-05T00:{:02}:{:02}.{ms:03}Z\",\"level\":\"{}\",\"seq\":{seq},\"msg\":\"line {seq} ünïcode\"}}\n",
                secs / 60,
                secs % 60,
                level(seq)
            )
        })
        .collect()
}

fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).expect("open the log file");
    f.write_all(text.as_bytes()).expect("append");
}

fn seq_of(record: &serde_json::Value) -> Option<u64> {
    serde_json::from_str::<serde_json::Value>(record["line"].as_str()?).ok()?["seq"].as_u64()
}

/// Waits until every kept line below `to` arrived (at least once).
fn wait_for_lines(out: &Path, to: u64, alloy: &mut Alloy) {
    let want = (0..to).filter(|s| level(*s) != "debug").count();
    alloy.wait_for(&format!("the {want} kept lines below {to} at the receiver"), |_| {
        let got: std::collections::BTreeSet<u64> = loki_received(out).iter().filter_map(seq_of).filter(|s| *s < to).collect();
        got.len() >= want
    });
}

#[test]
fn a_rotated_file_a_restart_and_failed_pushes_deliver_every_line_exactly_once() {
    if !python_has("loki_e2e file test", "cramjam, google.protobuf") {
        return;
    }
    let dir = scratch("loki-e2e-file");
    let (receiver_port, out) = (free_port(), dir.join("received.jsonl"));
    // The first two pushes fail with 500: loki.write must retry them.
    let _receiver = start_loki_receiver(receiver_port, &out, 2);
    let log = dir.join("app.log");
    let config = format!(
        r#"loki.source.file "app" {{
  targets    = [{{"__path__" = "{log}", "job" = "e2e"}}]
  forward_to = [loki.process.app.receiver]
  file_watch {{
    min_poll_frequency = "50ms"
    max_poll_frequency = "50ms"
  }}
}}

loki.process "app" {{
  forward_to = [loki.write.out.receiver]

  stage.json {{
    expressions = {{ ts = "", level = "" }}
  }}

  stage.drop {{
    source = "level"
    value  = "debug"
  }}

  stage.labels {{
    values = {{ level = "" }}
  }}

  stage.match {{
    selector = "{{level=\"error\"}}"

    stage.static_labels {{
      values = {{ severity = "high" }}
    }}
  }}

  stage.timestamp {{
    source = "ts"
    format = "RFC3339Nano"
  }}
}}

loki.write "out" {{
  endpoint {{
    url        = "http://127.0.0.1:{receiver_port}/loki/api/v1/push"
    batch_wait = "100ms"
  }}
}}
"#,
        log = log.display()
    );
    let mut alloy = Alloy::start(&dir, "tail", &config);

    append(&log, &lines(0, 100));
    // (A file created and rotated away within one poll is never seen, by any tailer.)
    wait_for_lines(&out, 100, &mut alloy);
    // Rename rotation: lines written just before the rename are read from the renamed file.
    append(&log, &lines(100, 150));
    std::fs::rename(&log, dir.join("app.log.1")).expect("rename");
    append(&log, &lines(150, 250));
    wait_for_lines(&out, 250, &mut alloy);

    // Copy-truncate rotation (after everything was read: lines written between the copy and the
    // truncation are lost with any tailer).
    std::fs::copy(&log, dir.join("app.log.2")).expect("copy");
    std::fs::OpenOptions::new().write(true).open(&log).and_then(|f| f.set_len(0)).expect("truncate");
    append(&log, &lines(250, 350));

    // (A file truncated and refilled while alloy is down cannot be told from one that grew:
    // the positions file holds only an offset, as upstream's does.)
    wait_for_lines(&out, 350, &mut alloy);

    // A restart in the middle of writing: stopped right after lines were appended, lines
    // appended while it is down, more after it is back.
    append(&log, &lines(350, 400));
    alloy.terminate();
    append(&log, &lines(400, 500));
    let mut alloy = Alloy::start(&dir, "tail", &config);
    append(&log, &lines(500, 600));
    wait_for_lines(&out, 600, &mut alloy);
    // Late duplicates would arrive by now.
    std::thread::sleep(Duration::from_millis(1500));

    let records = loki_received(&out);
    let mut seen = std::collections::BTreeMap::<u64, usize>::new();
    for r in &records {
        let seq = seq_of(r).unwrap_or_else(|| panic!("an unexpected line arrived: {r}"));
        *seen.entry(seq).or_default() += 1;
        let labels = r["labels"].as_str().unwrap_or_default();
        assert_ne!(level(seq), "debug", "debug lines are dropped: {r}");
        for needle in ["job=\"e2e\"".to_string(), format!("level=\"{}\"", level(seq)), format!("filename=\"{}\"", log.display())] {
            assert!(labels.contains(&needle), "{needle} missing from {labels}");
        }
        assert_eq!(labels.contains("severity=\"high\""), level(seq) == "error", "stage.match labels error lines only: {labels}");
        assert_eq!(r["ts"].as_i64(), Some(timestamp_ns(seq)), "stage.timestamp took the line's time: {r}");
        assert!(r["line"].as_str().unwrap_or_default().contains("ünïcode"), "lines arrive unchanged: {r}");
    }
    let twice: Vec<u64> = seen.iter().filter(|(_, n)| **n > 1).map(|(s, _)| *s).collect();
    assert!(twice.is_empty(), "lines that arrived more than once: {twice:?}");
    let missing: Vec<u64> = (0..600).filter(|s| level(*s) != "debug" && !seen.contains_key(s)).collect();
    assert!(missing.is_empty(), "lines that never arrived: {missing:?}");
    assert!(!dir.join("received.jsonl.errors").exists(), "every push decoded");
}
