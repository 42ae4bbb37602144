//! Live debugging end to end: a controller with pipelines, its HTTP server, debug and graph
//! streams read over plain TCP (they are endless chunked bodies).

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{eventually, Config};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `loki.source.api` → `loki.relabel` (adds `env="test"`) → `loki.echo`, and an OTLP
/// receiver → batch processor → debug exporter.
fn pipelines(loki: u16, otlp: u16, enabled: bool) -> String {
    format!(
        r#"livedebugging {{
  enabled = {enabled}
}}

loki.source.api "in" {{
  http {{
    listen_address = "127.0.0.1"
    listen_port    = {loki}
  }}
  forward_to = [loki.relabel.r.receiver]
}}

loki.relabel "r" {{
  forward_to = [loki.echo.out.receiver]
  rule {{
    target_label = "env"
    replacement  = "test"
  }}
}}

loki.echo "out" {{ }}

otelcol.receiver.otlp "in" {{
  http {{
    endpoint = "127.0.0.1:{otlp}"
  }}
  output {{
    logs = [otelcol.processor.batch.b.input]
  }}
}}

otelcol.processor.batch "b" {{
  timeout = "10ms"
  output {{
    logs = [otelcol.exporter.debug.out.input]
  }}
}}

otelcol.exporter.debug "out" {{ }}

remote.http "plain" {{
  url = "http://example.com"
}}
"#
    )
}

struct Running {
    cfg: Config,
    controller: runtime::Controller,
    addr: SocketAddr,
    loki: u16,
    otlp: u16,
    _stop: CancellationToken,
}

async fn start(enabled: bool) -> Running {
    let (loki, otlp) = (free_port(), free_port());
    let cfg = Config::new(&pipelines(loki, otlp, enabled));
    // otelcol.exporter.debug is experimental.
    let controller = cfg.experimental_controller();
    controller.load().await.expect("loads");
    let stop = CancellationToken::new();
    let (addr, _) = runtime::http::serve("127.0.0.1:0", controller.clone(), stop.clone()).await.expect("binds");
    Running { cfg, controller, addr, loki, otlp, _stop: stop }
}

/// An open response: status, and the connection to read the body from.
struct Response {
    status: u16,
    head: String,
    conn: TcpStream,
    /// Raw bytes after the head.
    raw: Vec<u8>,
}

async fn get(addr: SocketAddr, path: &str) -> Response {
    let mut conn = TcpStream::connect(addr).await.expect("connect");
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    conn.write_all(req.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = tokio::time::timeout(Duration::from_secs(5), conn.read(&mut chunk)).await.expect("head in time").expect("read");
        assert!(n > 0, "connection closed before the head");
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    Response { status, head, conn, raw: buf[end + 4..].to_vec() }
}

impl Response {
    /// The whole body of a non-streaming response.
    async fn text(mut self) -> String {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.conn.read_to_end(&mut self.raw)).await;
        let body = String::from_utf8_lossy(&self.raw).into_owned();
        if self.head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
            dechunk(&body).0
        } else {
            body
        }
    }

    /// Reads the stream until its text satisfies `done` or `wait` passes; the text so far.
    async fn read_until(&mut self, wait: Duration, done: impl Fn(&str) -> bool) -> String {
        let deadline = tokio::time::Instant::now() + wait;
        let mut chunk = [0u8; 65536];
        loop {
            let (text, _) = dechunk(&String::from_utf8_lossy(&self.raw));
            if done(&text) {
                return text;
            }
            match tokio::time::timeout_at(deadline, self.conn.read(&mut chunk)).await {
                Ok(Ok(n)) if n > 0 => self.raw.extend_from_slice(&chunk[..n]),
                _ => return text,
            }
        }
    }

    /// Whether the server ended the body (the last chunk arrived).
    async fn ended(&mut self, wait: Duration) -> bool {
        let _ = self.read_until(wait, |_| false).await;
        dechunk(&String::from_utf8_lossy(&self.raw)).1
    }
}

/// The complete chunks' text, and whether the terminating chunk was seen.
fn dechunk(mut s: &str) -> (String, bool) {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else { break };
        if n == 0 {
            return (out, true);
        }
        if rest.len() < n + 2 {
            break;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
    (out, false)
}

async fn push_logs(port: u16, lines: &[&str]) {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let values: Vec<serde_json::Value> = lines.iter().map(|l| serde_json::json!([now.to_string(), l])).collect();
    let body = serde_json::json!({"streams": [{"stream": {"job": "t"}, "values": values}]});
    let resp = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/loki/api/v1/push"))
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("pushed");
    assert_eq!(resp.status().as_u16(), 204, "{:?}", resp.text().await);
}

async fn push_otlp_log(port: u16, body: &str) {
    let json = format!(r#"{{"resourceLogs":[{{"scopeLogs":[{{"logRecords":[{{"body":{{"stringValue":"{body}"}}}}]}}]}}]}}"#);
    let resp = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/v1/logs"))
        .header("Content-Type", "application/json")
        .body(json)
        .send()
        .await
        .expect("pushed");
    assert_eq!(resp.status().as_u16(), 200);
}

/// Waits until the component's debug stream is registered, so data sent next is seen.
async fn listening(r: &Running, n: usize) {
    let hub = r.controller.live_debugging();
    eventually("the stream to register", || hub.listeners() == n).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_debug_stream_shows_what_a_loki_component_sends() {
    let r = start(true).await;
    let mut s = get(r.addr, "/api/v0/web/debug/loki.relabel.r").await;
    assert_eq!(s.status, 200, "{}", s.head);
    assert!(s.head.to_ascii_lowercase().contains("transfer-encoding: chunked"), "{}", s.head);
    listening(&r, 1).await;
    push_logs(r.loki, &["hello", "world"]).await;
    let text = s.read_until(Duration::from_secs(5), |t| t.contains("world")).await;
    let records: Vec<&str> = text.split("|;|").filter(|x| !x.is_empty()).collect();
    assert_eq!(records.len(), 1, "one batch, one record: {text:?}");
    let lines: Vec<&str> = records[0].lines().collect();
    assert_eq!(lines.len(), 2, "{text:?}");
    assert!(lines[0].ends_with(r#" {env="test", job="t"} hello"#), "{text:?}");
    assert!(lines[1].ends_with(r#" {env="test", job="t"} world"#), "{text:?}");
    // RFC 3339 timestamp first.
    assert!(lines[0].split(' ').next().is_some_and(|t| t.ends_with('Z') && t.contains('T')), "{text:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_debug_stream_shows_otel_payloads_at_processors_and_exporters() {
    let r = start(true).await;
    let mut batch = get(r.addr, "/api/v0/web/debug/otelcol.processor.batch.b").await;
    let mut exporter = get(r.addr, "/api/v0/web/debug/otelcol.exporter.debug.out").await;
    assert_eq!((batch.status, exporter.status), (200, 200));
    listening(&r, 2).await;
    push_otlp_log(r.otlp, "hi there").await;
    for s in [&mut batch, &mut exporter] {
        let text = s.read_until(Duration::from_secs(5), |t| t.contains("|;|")).await;
        assert!(text.starts_with("Logs resource logs=1 log records=1\n") || text.contains("log records=1"), "{text:?}");
        assert!(text.contains("Body: Str(hi there)"), "{text:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_types_filter_and_sample_zero_keep_records_out() {
    let r = start(true).await;
    let mut zero = get(r.addr, "/api/v0/web/debug/loki.relabel.r?sampleProb=0").await;
    let mut other_type = get(r.addr, "/api/v0/web/debug/loki.relabel.r?types=otel_log,otel_trace").await;
    let mut all = get(r.addr, "/api/v0/web/debug/loki.relabel.r?sampleProb=1&types=loki_log").await;
    assert_eq!((zero.status, other_type.status, all.status), (200, 200, 200));
    listening(&r, 3).await;
    push_logs(r.loki, &["x"]).await;
    assert!(all.read_until(Duration::from_secs(5), |t| t.contains("|;|")).await.contains(" x|;|"));
    // Both had a flush since the record was published.
    assert_eq!(zero.read_until(Duration::from_millis(1500), |t| !t.is_empty()).await, "");
    assert_eq!(other_type.read_until(Duration::from_millis(100), |t| !t.is_empty()).await, "");
    let bad = get(r.addr, "/api/v0/web/debug/loki.relabel.r?types=otel").await;
    assert_eq!(bad.status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_use_upstreams_texts() {
    let r = start(false).await;
    let off = get(r.addr, "/api/v0/web/debug/loki.relabel.r").await;
    assert_eq!(off.status, 500);
    assert_eq!(off.text().await, "the live debugging service is disabled. Check the documentation to find out how to enable it\n");

    r.cfg.write(&pipelines(r.loki, r.otlp, true));
    r.controller.load().await.expect("reloads");
    let unsupported = get(r.addr, "/api/v0/web/debug/remote.http.plain").await;
    assert_eq!(unsupported.status, 500);
    assert_eq!(unsupported.text().await, "the component \"remote.http\" does not support live debugging\n");
    let unknown = get(r.addr, "/api/v0/web/debug/loki.relabel.nope").await;
    assert_eq!(unknown.status, 404);
    assert_eq!(r.controller.live_debugging().listeners(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_goes_away_takes_its_listener_with_it() {
    let r = start(true).await;
    let debug = get(r.addr, "/api/v0/web/debug/loki.relabel.r").await;
    let graph = get(r.addr, "/api/v0/web/graph?window=1").await;
    assert_eq!((debug.status, graph.status), (200, 200));
    listening(&r, 2).await;
    drop(debug);
    listening(&r, 1).await;
    drop(graph);
    listening(&r, 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_that_turns_live_debugging_off_ends_debug_streams_but_not_the_graph() {
    let r = start(true).await;
    let mut debug = get(r.addr, "/api/v0/web/debug/loki.relabel.r").await;
    let mut graph = get(r.addr, "/api/v0/web/graph?window=1").await;
    listening(&r, 2).await;
    r.cfg.write(&pipelines(r.loki, r.otlp, false));
    r.controller.load().await.expect("reloads");
    assert!(debug.ended(Duration::from_secs(3)).await, "the debug stream ends");
    assert_eq!(r.controller.live_debugging().listeners(), 1);
    // The graph keeps counting with live debugging off.
    push_logs(r.loki, &["a", "b", "c"]).await;
    let text = graph.read_until(Duration::from_secs(5), |t| t.contains("loki.relabel.r")).await;
    assert!(text.contains(r#""componentID":"loki.relabel.r""#), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_graph_stream_gives_rates_and_targets_per_component() {
    let r = start(true).await;
    let mut graph = get(r.addr, "/api/v0/web/graph?window=1").await;
    assert_eq!(graph.status, 200);
    listening(&r, 1).await;
    push_logs(r.loki, &["1", "2", "3", "4"]).await;
    let text = graph.read_until(Duration::from_secs(5), |t| t.contains("loki.echo.out") && t.contains("loki.relabel.r")).await;
    let window = text.split("|;|").find(|w| w.contains("loki.relabel.r")).expect("a window with the pipeline");
    let rates: Vec<serde_json::Value> = serde_json::from_str(window).expect("a JSON array");
    let find = |id: &str| rates.iter().find(|r| r["componentID"] == id).cloned().unwrap_or_else(|| panic!("{id} in {window}"));
    let source = find("loki.source.api.in");
    assert_eq!(source["targetComponentIDs"], serde_json::json!(["loki.relabel.r"]));
    assert_eq!(source["type"], "loki_log");
    assert_eq!(source["rate"], 4.0);
    assert_eq!(find("loki.relabel.r")["targetComponentIDs"], serde_json::json!(["loki.echo.out"]));
    assert_eq!(find("loki.echo.out")["targetComponentIDs"], serde_json::json!([]));
    // Bad windows are refused.
    assert_eq!(get(r.addr, "/api/v0/web/graph?window=61").await.status, 400);
    assert_eq!(get(r.addr, "/api/v0/web/graph/nope.x").await.status, 500);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_component_api_says_which_components_publish() {
    let r = start(false).await;
    let body = get(r.addr, "/api/v0/web/components").await.text().await;
    let list: Vec<serde_json::Value> = serde_json::from_str(&body).expect("JSON");
    let enabled = |id: &str| list.iter().find(|c| c["localID"] == id).map(|c| c["liveDebuggingEnabled"].clone());
    for id in ["loki.source.api.in", "loki.relabel.r", "loki.echo.out", "otelcol.receiver.otlp.in", "otelcol.processor.batch.b", "otelcol.exporter.debug.out"] {
        assert_eq!(enabled(id), Some(serde_json::json!(true)), "{id}");
    }
    assert_eq!(enabled("remote.http.plain"), Some(serde_json::json!(false)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn module_components_publish_under_their_global_ids() {
    let port = free_port();
    let cfg = Config::new(&format!(
        r#"livedebugging {{
  enabled = true
}}

declare "pipe" {{
  argument "port" {{ }}

  loki.source.api "in" {{
    http {{
      listen_address = "127.0.0.1"
      listen_port    = argument.port.value
    }}
    forward_to = [loki.echo.out.receiver]
  }}

  loki.echo "out" {{ }}
}}

pipe "a" {{
  port = {port}
}}
"#
    ));
    let controller = cfg.controller();
    controller.load().await.expect("loads");
    let (addr, _) = runtime::http::serve("127.0.0.1:0", controller.clone(), CancellationToken::new()).await.expect("binds");
    let mut debug = get(addr, "/api/v0/web/debug/pipe.a/loki.source.api.in").await;
    let mut graph = get(addr, "/api/v0/web/graph/pipe.a?window=1").await;
    let mut root = get(addr, "/api/v0/web/graph?window=1").await;
    assert_eq!((debug.status, graph.status, root.status), (200, 200, 200));
    let hub = controller.live_debugging();
    eventually("the streams to register", || hub.listeners() == 3).await;
    push_logs(port, &["m"]).await;
    assert!(debug.read_until(Duration::from_secs(5), |t| t.contains("|;|")).await.ends_with(r#"{job="t"} m|;|"#));
    let text = graph.read_until(Duration::from_secs(5), |t| t.contains("loki.source.api")).await;
    assert!(text.contains(r#""componentID":"pipe.a/loki.source.api.in","targetComponentIDs":["pipe.a/loki.echo.out"]"#), "{text}");
    // The root module's graph does not count the module's components.
    let text = root.read_until(Duration::from_millis(2500), |t| t.matches("|;|").count() >= 2).await;
    assert!(!text.contains("loki.source.api"), "{text}");
}
