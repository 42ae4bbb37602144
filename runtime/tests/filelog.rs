//! `otelcol.receiver.filelog` loaded by a controller: lines appended to a file reach an
//! `otelcol.exporter.file` as OTLP/JSON records parsed by the operators; a reload with new
//! arguments reads on from where the receiver was (nothing twice), and the receiver's
//! accepted-records counter follows.

mod common;

use std::io::Write as _;

use common::{eventually, Config};

fn append(path: &std::path::Path, text: &str) {
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).expect("open");
    f.write_all(text.as_bytes()).expect("write");
}

/// (body, severity text, attribute `v`) of every record the file exporter wrote.
fn records(path: &std::path::Path) -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut out = Vec::new();
    for line in text.lines() {
        let Ok(req) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        for rl in req["resourceLogs"].as_array().into_iter().flatten() {
            for sl in rl["scopeLogs"].as_array().into_iter().flatten() {
                for r in sl["logRecords"].as_array().into_iter().flatten() {
                    let attr = |k: &str| {
                        r["attributes"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .find(|a| a["key"] == k)
                            .and_then(|a| a["value"]["stringValue"].as_str())
                            .unwrap_or("")
                            .to_string()
                    };
                    out.push((r["body"]["stringValue"].as_str().unwrap_or("").to_string(), r["severityText"].as_str().unwrap_or("").to_string(), attr("v")));
                }
            }
        }
    }
    out
}

fn config(version: &str) -> String {
    format!(
        r#"
otelcol.receiver.filelog "app" {{
  include       = ["$DIR/app.log"]
  start_at      = "beginning"
  poll_interval = "20ms"
  attributes    = {{ v = "{version}" }}
  operators     = [
    {{ type = "json_parser", parse_to = "attributes.parsed" }},
    {{ type = "severity_parser", parse_from = "attributes.parsed.level" }},
    {{ type = "move", from = "attributes.parsed.msg", to = "body" }},
    {{ type = "remove", field = "attributes.parsed" }},
  ]
  output {{
    logs = [otelcol.exporter.file.out.input]
  }}
}}

otelcol.exporter.file "out" {{
  path           = "$DIR/out.json"
  flush_interval = "20ms"
}}
"#
    )
}

fn rec(body: &str, sev: &str, v: &str) -> (String, String, String) {
    (body.to_string(), sev.to_string(), v.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lines_reach_the_exporter_parsed_and_a_reload_reads_on() {
    let cfg = Config::new(&config("1"));
    let log = cfg.file("app.log");
    let out = cfg.file("out.json");
    append(&log, "{\"level\":\"info\",\"msg\":\"one\"}\n");
    let c = cfg.experimental_controller();
    c.load().await.expect("loads");
    append(&log, "{\"level\":\"error\",\"msg\":\"two\"}\n");
    eventually("two records", || records(&out).len() >= 2).await;
    assert_eq!(records(&out), [rec("one", "info", "1"), rec("two", "error", "1")]);

    cfg.write(&config("2"));
    c.load().await.expect("reloads");
    append(&log, "{\"level\":\"warn\",\"msg\":\"three\"}\n");
    eventually("the third record", || records(&out).len() >= 3).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(records(&out), [rec("one", "info", "1"), rec("two", "error", "1"), rec("three", "warn", "2")], "nothing read twice after the reload");
    let metrics = c.registry().render();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("otelcol_receiver_accepted_log_records_total") && l.contains("otelcol.receiver.filelog.app") && l.ends_with(" 3")),
        "{metrics}"
    );
    c.shutdown().await;
}
