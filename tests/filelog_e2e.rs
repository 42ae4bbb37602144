//! `otelcol.receiver.filelog` end to end: `alloy run` follows a log file the test writes with
//! plain file writes (appends, a rename rotation, lines written while Alloy is stopped), parses
//! each line with stanza operators (regex_parser with its timestamp and severity sub-parsers,
//! filter, move, remove) and sends the records with `otelcol.exporter.otlphttp` to
//! tests/e2e/otlp_logs_sink.py, which decodes them with opentelemetry-proto. Every record must
//! arrive exactly once, with its body, timestamp, severity, attributes and resource; offsets
//! kept in an `otelcol.storage.file` directory make a restart read on where it stopped.
//!
//! Without python3 and opentelemetry-proto the test skips loudly, except under `CI=true`.

use std::io::Write as _;
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod support;
use support::*;

struct Sink(Child);

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_sink(port: u16, out: &Path) -> Sink {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/e2e/otlp_logs_sink.py");
    let child = Command::new("python3").arg(script).arg(port.to_string()).arg(out).stdout(Stdio::null()).spawn().expect("python3 runs");
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < Duration::from_secs(20), "the sink did not listen within 20 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    Sink(child)
}

fn received(out: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(out).unwrap_or_default().lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}

fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).expect("open");
    f.write_all(text.as_bytes()).expect("write");
}

fn config(logs: &Path, storage: &Path, sink: u16) -> String {
    format!(
        r#"otelcol.storage.file "offsets" {{
  directory        = "{storage}"
  create_directory = true
}}

otelcol.receiver.filelog "app" {{
  include           = ["{logs}/app.log"]
  start_at          = "beginning"
  poll_interval     = "50ms"
  include_file_path = true
  storage           = otelcol.storage.file.offsets.handler
  attributes        = {{ team = "shop" }}
  resource          = {{ "service.name" = "checkout" }}
  operators = [
    {{
      type      = "regex_parser",
      regex     = "^(?P<time>\\S+) (?P<sev>[A-Z]+) (?P<msg>.*)$",
      timestamp = {{ parse_from = "attributes.time", layout = "%Y-%m-%dT%H:%M:%S%z" }},
      severity  = {{ parse_from = "attributes.sev" }},
    }},
    {{ type = "filter", expr = "attributes.sev == 'DEBUG'" }},
    {{ type = "move", from = "attributes.msg", to = "body" }},
    {{ type = "remove", field = "attributes.time" }},
  ]

  output {{
    logs = [otelcol.exporter.otlphttp.sink.input]
  }}
}}

otelcol.exporter.otlphttp "sink" {{
  client {{
    endpoint = "http://127.0.0.1:{sink}"
  }}
}}
"#,
        logs = logs.display(),
        storage = storage.display(),
    )
}

/// A log line at second `n` of 2024-05-06 07:08 in UTC+02:00, and the record it must become.
fn line(n: u32, sev: &str, msg: &str) -> (String, Option<(String, i64, i32, String)>) {
    let text = format!("2024-05-06T07:08:{n:02}+0200 {sev} {msg}\n");
    // 2024-05-06T05:08:00Z
    let ts = (1_714_972_080 + i64::from(n)) * 1_000_000_000;
    let number = match sev {
        "INFO" => 9,
        "WARN" => 13,
        "ERROR" => 17,
        _ => return (text, None),
    };
    (text, Some((msg.to_string(), ts, number, sev.to_string())))
}

/// Writes the lines to `path`; the records they must give.
fn write(path: &Path, lines: &[(u32, &str, &str)]) -> Vec<(String, i64, i32, String)> {
    let mut want = Vec::new();
    for (n, sev, msg) in lines {
        let (text, record) = line(*n, sev, msg);
        append(path, &text);
        want.extend(record);
    }
    want
}

fn check(got: &[serde_json::Value], want: &[(String, i64, i32, String)], log: &Path) {
    let bodies: Vec<&str> = got.iter().map(|r| r["body"].as_str().unwrap_or("?")).collect();
    let wanted: Vec<&str> = want.iter().map(|w| w.0.as_str()).collect();
    assert_eq!(bodies, wanted, "every record once, in order, DEBUG lines filtered out");
    for (r, (msg, ts, number, sev)) in got.iter().zip(want) {
        assert_eq!(r["time"].as_u64(), Some(*ts as u64), "{msg}: {r}");
        assert_eq!(r["severity_number"].as_i64(), Some(i64::from(*number)), "{msg}: {r}");
        assert_eq!(r["severity_text"].as_str(), Some(sev.as_str()), "{msg}: {r}");
        assert!(r["observed"].as_u64().is_some_and(|o| o > 1_700_000_000_000_000_000), "{msg}: observed now: {r}");
        let attrs = r["attributes"].as_object().cloned().unwrap_or_default();
        let expected = serde_json::json!({
            "team": "shop",
            "sev": sev,
            "log.file.name": "app.log",
            "log.file.path": log.display().to_string(),
        });
        assert_eq!(serde_json::Value::Object(attrs), expected, "{msg}: {r}");
        assert_eq!(r["resource"], serde_json::json!({"service.name": "checkout"}), "{msg}: {r}");
    }
}

#[test]
fn file_lines_become_parsed_records_across_rotation_and_restart() {
    if !python_has("filelog_e2e", "opentelemetry.proto.collector.logs.v1.logs_service_pb2, google.protobuf") {
        return;
    }
    let dir = scratch("filelog-e2e");
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).expect("logs dir");
    let log = logs.join("app.log");
    let sink_port = free_port();
    let out = dir.join("received.jsonl");
    let _sink = start_sink(sink_port, &out);

    // Written before Alloy starts: `start_at = "beginning"` reads them.
    let mut want = write(&log, &[(1, "INFO", "service started"), (2, "DEBUG", "noise")]);
    let cfg = config(&logs, &dir.join("storage"), sink_port);
    let mut alloy = Alloy::start(&dir, "alloy", &cfg);
    alloy.wait_for("the first record", |_| received(&out).len() >= want.len());

    want.extend(write(&log, &[(3, "WARN", "disk at 91%"), (4, "ERROR", "payment \"42\" failed")]));
    // Rotation by rename: the rest of the old file, then the new file from its start.
    want.extend(write(&log, &[(5, "INFO", "last line before rotation")]));
    std::fs::rename(&log, logs.join("app.log.1")).expect("rotate");
    want.extend(write(&log, &[(6, "INFO", "first line after rotation"), (7, "DEBUG", "more noise"), (8, "WARN", "cache cold")]));
    alloy.wait_for("the records written while running", |_| received(&out).len() >= want.len());
    alloy.terminate();

    // Written while stopped: after the restart only these arrive.
    want.extend(write(&log, &[(9, "ERROR", "written while stopped")]));
    let mut alloy = Alloy::start(&dir, "alloy", &cfg);
    want.extend(write(&log, &[(10, "INFO", "after restart")]));
    alloy.wait_for("the records after the restart", |_| received(&out).len() >= want.len());
    std::thread::sleep(Duration::from_millis(300));
    alloy.terminate();
    assert!(!dir.join("received.jsonl.errors").exists(), "the sink could not decode a request");
    check(&received(&out), &want, &log);
}
