//! `loki.source.api` on loopback, driven by plain HTTP requests.

use std::io::Write;

use loki::push::{encode_request, WireEntry};
use tokio::sync::mpsc;

use super::*;
use crate::loki::receiver::{channel, Entries};

struct Running {
    c: Arc<SourceApi>,
    stop: CancellationToken,
    out: mpsc::Receiver<Entries>,
}

impl Running {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.c.local_addr().expect("bound"))
    }

    async fn entries(&mut self) -> Vec<Entry> {
        tokio::time::timeout(Duration::from_secs(5), self.out.recv()).await.ok().flatten().unwrap_or_default()
    }
}

async fn start(body: &str) -> Running {
    let text = format!("loki.source.api \"t\" {{\n  forward_to = []\n  http {{\n    listen_address = \"127.0.0.1\"\n    listen_port = 0\n  }}\n{body}\n}}\n");
    let mut v = crate::component::args::evaluated(&text).expect("evaluates");
    let (handle, out) = channel("test.out", 8);
    if let Value::Object(o) = &mut v {
        Arc::make_mut(o).insert("forward_to", Value::array(vec![handle.to_value()]));
    }
    let c = SourceApi::new(crate::component::detached_context("loki.source.api.t"), &v).expect("builds");
    let stop = CancellationToken::new();
    tokio::spawn(c.clone().run(stop.clone()));
    Running { c, stop, out }
}

fn stream(labels: &str, entries: &[(i64, &str)]) -> WireStream {
    WireStream {
        labels: labels.into(),
        entries: entries.iter().map(|(t, l)| WireEntry { timestamp_ns: *t, line: (*l).into(), structured_metadata: vec![] }).collect(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protobuf_pushes_get_labels_tenant_and_receipt_time() {
    let mut r = start("  labels = { source = \"api\", job = \"configured\" }").await;
    let body = encode_request(&[stream(r#"{job="app", __internal="x", level="info"}"#, &[(5, "hello")])]);
    let before = now_ns();
    let resp = reqwest::Client::new()
        .post(r.url("/loki/api/v1/push"))
        .header("Content-Type", "application/x-protobuf")
        .header("X-Scope-OrgID", "team-a")
        .body(body)
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 204);
    let got = r.entries().await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].labels, Labels::new([("job", "configured"), ("level", "info"), ("source", "api"), ("__tenant_id__", "team-a")]));
    assert_eq!(got[0].line, "hello");
    assert!(got[0].timestamp_ns >= before, "the time of receipt, not the pushed one");
    r.stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_pushes_keep_incoming_timestamps_when_asked_and_gzip_is_read() {
    let mut r = start("  use_incoming_timestamp = true").await;
    let json = br#"{"streams":[{"stream":{"job":"j"},"values":[["1700000000000000001","one",{"trace_id":"t"}]]}]}"#;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(json).expect("gzip");
    let resp = reqwest::Client::new()
        .post(r.url("/api/v1/push"))
        .header("Content-Type", "application/json")
        .header("Content-Encoding", "gzip")
        .body(gz.finish().expect("gzip"))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 204);
    let got = r.entries().await;
    assert_eq!((got[0].timestamp_ns, got[0].line.as_str()), (1_700_000_000_000_000_001, "one"));
    assert_eq!(got[0].metadata("trace_id"), Some("t"));
    r.stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_lines_become_entries_and_ready_answers() {
    let mut r = start("  labels = { job = \"raw\" }").await;
    let resp = reqwest::Client::new().post(r.url("/loki/api/v1/raw")).body("first\r\n\nsecond\n").send().await.expect("sent");
    assert_eq!(resp.status(), 204);
    let got = r.entries().await;
    assert_eq!(got.iter().map(|e| e.line.as_str()).collect::<Vec<_>>(), ["first", "second"]);
    assert_eq!(got[0].labels, Labels::new([("job", "raw")]));
    let ready = reqwest::get(r.url("/ready")).await.expect("sent");
    assert_eq!((ready.status().as_u16(), ready.text().await.unwrap_or_default()), (200, "ready".to_string()));
    r.stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_say_why_and_good_streams_still_go_through() {
    let mut r = start("  max_send_message_size = \"1KiB\"").await;
    let client = reqwest::Client::new();
    let post = |path: &str| client.post(r.url(path));
    let resp =
        post("/loki/api/v1/push").header("Content-Type", "application/x-protobuf").header("Content-Encoding", "br").body("x").send().await.expect("sent");
    assert_eq!((resp.status().as_u16(), resp.text().await.unwrap_or_default()), (400, "Content-Encoding \"br\" not supported\n".to_string()));
    let resp = post("/loki/api/v1/push").body(encode_request(&[])).send().await.expect("sent");
    assert_eq!(resp.status(), 400, "no Content-Type");
    let resp = post("/loki/api/v1/push").header("Content-Type", "application/x-protobuf").body("not snappy").send().await.expect("sent");
    assert_eq!(resp.status(), 400);
    let resp = post("/loki/api/v1/push").header("Content-Type", "application/x-protobuf").body(vec![b'x'; 4096]).send().await.expect("sent");
    assert_eq!(resp.status(), 413);
    let mixed = encode_request(&[stream("{job=", &[(1, "lost")]), stream(r#"{job="ok"}"#, &[(1, "kept")])]);
    let resp = post("/loki/api/v1/push").header("Content-Type", "application/x-protobuf").body(mixed).send().await.expect("sent");
    assert_eq!(resp.status(), 400);
    assert!(resp.text().await.unwrap_or_default().starts_with("invalid stream labels"));
    let got = r.entries().await;
    assert_eq!(got.iter().map(|e| e.line.as_str()).collect::<Vec<_>>(), ["kept"]);
    r.stop.cancel();
}

#[test]
fn server_timeouts_are_read_from_the_http_block() {
    let text = "loki.source.api \"t\" {\n  forward_to = []\n  http {\n    listen_port = 0\n    server_idle_timeout = \"5s\"\n    server_write_timeout = \"0s\"\n  }\n}\n";
    let v = crate::component::args::evaluated(text).expect("evaluates");
    let args: Args = crate::component::args::decode_checked("loki.source.api", &v).expect("valid");
    let want = crate::http_server::Timeouts { read: Duration::from_secs(30), write: Duration::ZERO, idle: Duration::from_secs(5) };
    assert_eq!(args.server.timeouts, want, "set values are read, the unset one keeps its default");
}
