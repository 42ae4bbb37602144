//! The Prometheus pipeline end to end: `alloy run` scrapes a target the test serves with
//! known values, the Debian `prometheus-node-exporter` and its own exporters, relabels and
//! remote-writes to a real Prometheus 2.42 (`--web.enable-remote-write-receiver`); the tests
//! read the result back through Prometheus' HTTP API. Also: a Prometheus outage and a
//! `kill -9` of alloy during one (the WAL keeps every sample), `promtool check metrics` on
//! alloy's /metrics, and bad input (malformed, huge and hanging targets; a receiver that
//! answers 400, 500 and 429), with the receiver's bodies decoded by an independent Python
//! decoder (tests/e2e/decode_remote_write.py).
//!
//! Every test starts its own processes on loopback ports and scratch directories and kills
//! them on drop. A missing outside program (prometheus, promtool, node exporter, the Python
//! packages) skips the test loudly, except under `CI=true`, where it fails; `scripts/test`
//! installs them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

mod support;
use support::servers::*;
use support::*;

// ---------------------------------------------------------------------------------------
// Outside programs

#[derive(Clone, Copy, Debug)]
enum Need {
    Prometheus,
    Promtool,
    NodeExporter,
    Python,
}

fn runs(program: &str, args: &[&str]) -> bool {
    Command::new(program).args(args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// A test's start: its fresh scratch directory `prometheus-e2e-{name}`, or `None` when
/// something it needs is missing (see [`have`]), and the test returns early.
fn begin(test: &str, name: &str, needs: &[Need]) -> Option<PathBuf> {
    have(test, needs).then(|| scratch(&format!("prometheus-e2e-{name}")))
}

/// Whether everything `test` needs is installed; when not, says so loudly and the test
/// returns early (under `CI=true` it fails instead).
fn have(test: &str, needs: &[Need]) -> bool {
    for need in needs {
        let ok = match need {
            Need::Prometheus => runs("prometheus", &["--version"]),
            Need::Promtool => runs("promtool", &["--version"]),
            Need::NodeExporter => runs("prometheus-node-exporter", &["--version"]),
            Need::Python => runs("python3", &["-c", "import cramjam, google.protobuf"]),
        };
        if !ok {
            let msg = format!(
                "{need:?} is not installed (Debian packages `prometheus` and `prometheus-node-exporter`; \
                 Python packages from scripts/test-requirements.txt): run `bash scripts/test`"
            );
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{test}: {msg}");
            }
            eprintln!("\n!!!!!!!!!! SKIPPED prometheus_e2e::{test}: {msg} !!!!!!!!!!\n");
            return false;
        }
    }
    true
}

// ---------------------------------------------------------------------------------------
// Processes

/// Polls `cond` every 200 ms; on timeout panics with `context()` (logs).
fn wait(what: &str, secs: u64, mut cond: impl FnMut() -> bool, context: impl Fn() -> String) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(secs) {
        if cond() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("timed out after {secs}s waiting for {what}\n{}", context());
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

struct Alloy {
    proc: Proc,
    api: u16,
}

impl Alloy {
    fn start(dir: &Path, name: &str, config: &str, storage: &Path) -> Alloy {
        let api = free_port();
        let cfg = dir.join(format!("{name}.alloy"));
        std::fs::write(&cfg, config).expect("write config");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_alloy"));
        cmd.args(["run", "--server.http.listen-addr", &format!("127.0.0.1:{api}"), "--storage.path"]).arg(storage).arg(&cfg);
        let mut proc = Proc::spawn(&mut cmd, &dir.join(format!("{name}.log")));
        proc.wait_for(&format!("{name} to be ready"), 60, || get(api, "/-/ready").is_some_and(|(s, _)| s == 200));
        Alloy { proc, api }
    }

    fn metrics(&self) -> String {
        fetch(self.api, "/metrics").map(|(_, b)| b).unwrap_or_default()
    }

    /// The `debugInfo` target blocks of a `prometheus.scrape` component, as plain objects.
    fn scrape_targets(&self, id: &str) -> Vec<BTreeMap<String, serde_json::Value>> {
        let Some((200, body)) = fetch(self.api, &format!("/api/v0/web/components/{id}")) else { return Vec::new() };
        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("component JSON: {e}\n{body}"));
        let Some(info) = v["debugInfo"].as_array() else { return Vec::new() };
        let Some(targets) = info.iter().find(|b| b["name"] == "target") else { return Vec::new() };
        targets["value"]["value"].as_array().into_iter().flatten().map(|t| plain_object(&t["value"])).collect()
    }
}

/// `[{"key": k, "value": {"type": .., "value": v}}]` (the API's typed values) → {k: v}.
fn plain_object(v: &serde_json::Value) -> BTreeMap<String, serde_json::Value> {
    v.as_array()
        .into_iter()
        .flatten()
        .map(|kv| {
            let value = &kv["value"];
            let plain =
                if value["type"] == "object" { serde_json::to_value(plain_object(&value["value"])).unwrap_or_default() } else { value["value"].clone() };
            (kv["key"].as_str().unwrap_or_default().to_string(), plain)
        })
        .collect()
}

/// Sum of every series of `name` in a text exposition.
fn metric_sum(text: &str, name: &str) -> Option<f64> {
    let values: Vec<f64> = text
        .lines()
        .filter(|l| l.strip_prefix(name).is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' ')))
        .filter_map(|l| l.rsplit(' ').next()?.parse().ok())
        .collect();
    (!values.is_empty()).then(|| values.iter().sum())
}

struct NodeExporter {
    _proc: Proc,
    port: u16,
}

impl NodeExporter {
    fn start(dir: &Path) -> NodeExporter {
        let port = free_port();
        let mut cmd = Command::new("prometheus-node-exporter");
        cmd.arg(format!("--web.listen-address=127.0.0.1:{port}"));
        let mut proc = Proc::spawn(&mut cmd, &dir.join("node_exporter.log"));
        proc.wait_for("node exporter to serve /metrics", 30, || fetch(port, "/metrics").is_some_and(|(s, _)| s == 200));
        NodeExporter { _proc: proc, port }
    }
}

// ---------------------------------------------------------------------------------------
// HTTP servers the test controls

struct Request {
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

type Handler = Arc<dyn Fn(&Request) -> Reply + Send + Sync>;

/// A tiny HTTP/1.1 server on a loopback port: one thread per connection (so a handler may
/// hang), every answer closes the connection.
struct Server {
    port: u16,
    stop: Arc<AtomicBool>,
}

impl Server {
    fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Handler = Arc::new(handler);
        let flag = stop.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                let h = handler.clone();
                std::thread::spawn(move || serve(conn, &*h));
            }
        });
        Server { port, stop }
    }

    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(mut conn: TcpStream, handler: &dyn Fn(&Request) -> Reply) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let path = lines.next().and_then(|l| l.split_whitespace().nth(1)).unwrap_or("/").to_string();
    let headers: Vec<(String, String)> = lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string())).collect();
    let len: usize = headers.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    let reply = handler(&Request { path, headers, body });
    let reason = match reply.status {
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        _ => "Status",
    };
    let mut out = format!("HTTP/1.1 {} {reason}\r\nContent-Length: {}\r\nConnection: close\r\n", reply.status, reply.body.len());
    for (k, v) in &reply.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let _ = conn.write_all(out.as_bytes());
    let _ = conn.write_all(&reply.body);
}

fn text_reply(body: String) -> Reply {
    Reply { status: 200, headers: vec![("Content-Type", "text/plain; version=0.0.4; charset=utf-8".into())], body: body.into_bytes() }
}

/// The target with known values: `e2e_scrapes_total` counts the scrapes served (this one
/// included), so a missing sample downstream shows as a gap; `e2e_requests_total` is set by
/// the test.
struct Known {
    server: Server,
    served: Arc<AtomicU64>,
    requests: Arc<AtomicU64>,
    last: Arc<Mutex<Option<Request>>>,
}

/// Series in one scrape of the known target, before relabelling.
const KNOWN_SAMPLES: usize = 11;

fn known_exposition(served: u64, requests: f64) -> String {
    format!(
        r#"# HELP e2e_requests_total Requests handled, as set by the test.
# TYPE e2e_requests_total counter
e2e_requests_total{{code="200",method="GET"}} {requests}
# HELP e2e_scrapes_total Scrapes served, this one included.
# TYPE e2e_scrapes_total counter
e2e_scrapes_total {served}
# HELP e2e_temperature_celsius A gauge whose label value needs escaping.
# TYPE e2e_temperature_celsius gauge
e2e_temperature_celsius{{room="kitchen",path="C:\\dir \"x\"\nnext"}} -3.25
# HELP e2e_latency_seconds A classic histogram.
# TYPE e2e_latency_seconds histogram
e2e_latency_seconds_bucket{{le="0.1"}} 3
e2e_latency_seconds_bucket{{le="1"}} 5
e2e_latency_seconds_bucket{{le="+Inf"}} 6
e2e_latency_seconds_sum 2.5
e2e_latency_seconds_count 6
# TYPE e2e_dropped_bytes gauge
e2e_dropped_bytes 7
e2e_own_cluster{{cluster="own"}} 1
e2e_conflict{{job="exposed",instance="other"}} 2
"#
    )
}

impl Known {
    fn start() -> Known {
        let served = Arc::new(AtomicU64::new(0));
        let requests = Arc::new(AtomicU64::new(0f64.to_bits()));
        let last = Arc::new(Mutex::new(None));
        let (s, r, l) = (served.clone(), requests.clone(), last.clone());
        let server = Server::start(move |req| {
            let n = s.fetch_add(1, Ordering::SeqCst) + 1;
            let reply = text_reply(known_exposition(n, f64::from_bits(r.load(Ordering::SeqCst))));
            *l.lock().unwrap_or_else(|e| e.into_inner()) = Some(Request { path: req.path.clone(), headers: req.headers.clone(), body: Vec::new() });
            reply
        });
        Known { server, served, requests, last }
    }

    fn addr(&self) -> String {
        self.server.addr()
    }

    fn served(&self) -> u64 {
        self.served.load(Ordering::SeqCst)
    }

    fn set_requests(&self, v: f64) {
        self.requests.store(v.to_bits(), Ordering::SeqCst);
    }
}

/// A fake remote-write receiver: records every request and answers with the status (and
/// `Retry-After`) the test sets.
struct Receiver {
    server: Server,
    state: Arc<Mutex<ReceiverState>>,
}

struct ReceiverState {
    status: u16,
    retry_after: Option<&'static str>,
    requests: Vec<Recorded>,
}

#[derive(Clone)]
struct Recorded {
    at: Instant,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    status: u16,
}

impl Recorded {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

impl Receiver {
    fn start(status: u16) -> Receiver {
        let state = Arc::new(Mutex::new(ReceiverState { status, retry_after: None, requests: Vec::new() }));
        let st = state.clone();
        let server = Server::start(move |req| {
            let mut s = st.lock().unwrap_or_else(|e| e.into_inner());
            let status = s.status;
            s.requests.push(Recorded { at: Instant::now(), headers: req.headers.clone(), body: req.body.clone(), status });
            let mut headers = Vec::new();
            if let Some(after) = s.retry_after.filter(|_| status != 204) {
                headers.push(("Retry-After", after.to_string()));
            }
            let body = if status == 204 { Vec::new() } else { format!("e2e receiver answers {status}\n").into_bytes() };
            Reply { status, headers, body }
        });
        Receiver { server, state }
    }

    fn url(&self) -> String {
        format!("http://{}/api/v1/write", self.server.addr())
    }

    fn answer(&self, status: u16, retry_after: Option<&'static str>) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.status = status;
        s.retry_after = retry_after;
    }

    fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).requests.clone()
    }

    /// Every request so far, and their bodies as the Python decoder reads them.
    fn decoded(&self, dir: &Path) -> (Vec<Recorded>, Vec<Vec<Series>>) {
        let requests = self.requests();
        let bodies: Vec<&[u8]> = requests.iter().map(|r| r.body.as_slice()).collect();
        let decoded = decode(dir, &bodies);
        (requests, decoded)
    }

    fn count(&self, status: u16) -> usize {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).requests.iter().filter(|r| r.status == status).count()
    }
}

// ---------------------------------------------------------------------------------------
// The independent decoder

#[derive(Debug, Clone)]
struct Series {
    labels: Vec<(String, String)>,
    samples: Vec<(i64, f64)>,
}

impl Series {
    fn label(&self, name: &str) -> Option<&str> {
        self.labels.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn name(&self) -> &str {
        self.label("__name__").unwrap_or_default()
    }
}

static DECODES: AtomicUsize = AtomicUsize::new(0);

/// Decodes remote-write bodies with tests/e2e/decode_remote_write.py (cramjam + protobuf).
fn decode(dir: &Path, bodies: &[&[u8]]) -> Vec<Vec<Series>> {
    let n = DECODES.fetch_add(1, Ordering::SeqCst);
    let out_dir = dir.join(format!("bodies-{n}"));
    std::fs::create_dir_all(&out_dir).expect("bodies dir");
    let files: Vec<PathBuf> = bodies
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let f = out_dir.join(format!("{i:05}.bin"));
            std::fs::write(&f, b).expect("write body");
            f
        })
        .collect();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/e2e/decode_remote_write.py");
    let out = Command::new("python3").arg(&script).args(&files).output().expect("python3 runs");
    assert!(out.status.success(), "the decoder rejected a body (not Snappy block format + WriteRequest?):\n{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("decoder JSON");
    let str_of = |v: &serde_json::Value| v.as_str().expect("string").to_string();
    v.as_array()
        .expect("array")
        .iter()
        .map(|req| {
            req["timeseries"]
                .as_array()
                .expect("timeseries")
                .iter()
                .map(|ts| Series {
                    labels: ts["labels"].as_array().expect("labels").iter().map(|l| (str_of(&l[0]), str_of(&l[1]))).collect(),
                    samples: ts["samples"]
                        .as_array()
                        .expect("samples")
                        .iter()
                        .map(|s| (s[0].as_i64().expect("ts"), f64::from_bits(u64::from_str_radix(s[1].as_str().expect("bits"), 16).expect("hex"))))
                        .collect(),
                })
                .collect()
        })
        .collect()
}

/// Upstream's remote-write 1.0 headers, and every series' labels sorted with `__name__`.
fn assert_wire_format(requests: &[Recorded], decoded: &[Vec<Series>]) {
    for (r, series) in requests.iter().zip(decoded) {
        assert_eq!(r.header("content-encoding"), Some("snappy"));
        assert_eq!(r.header("content-type"), Some("application/x-protobuf"));
        assert_eq!(r.header("x-prometheus-remote-write-version"), Some("0.1.0"));
        assert!(r.header("user-agent").is_some_and(|ua| ua.starts_with("Alloy/")), "{:?}", r.header("user-agent"));
        for s in series {
            assert!(s.labels.windows(2).all(|w| w[0].0 < w[1].0), "labels not sorted: {:?}", s.labels);
            assert!(!s.name().is_empty(), "no __name__: {:?}", s.labels);
        }
    }
}

/// The checks on `e2e_scrapes_total` values: since the target counts the scrapes it
/// served, every value 1..=max must be there exactly once, in timestamp order, except those
/// in `may_miss` (scrapes served but possibly not yet in the WAL when alloy was killed).
fn assert_no_scrape_lost(samples: &[(i64, f64)], may_miss: &[u64]) {
    let values: Vec<u64> = samples.iter().map(|s| s.1 as u64).collect();
    assert!(values.windows(2).all(|w| w[0] < w[1]), "values not increasing with time (duplicates or disorder): {values:?}");
    let max = *values.last().expect("some samples");
    let have: BTreeSet<u64> = values.iter().copied().collect();
    let missing: Vec<u64> = (1..=max).filter(|v| !have.contains(v)).collect();
    assert!(missing.iter().all(|v| may_miss.contains(v)), "scrapes lost: {missing:?} (allowed {may_miss:?}); got {values:?}");
}

// ---------------------------------------------------------------------------------------
// Configurations

fn static_targets(addrs: &[&str]) -> String {
    let list: Vec<String> = addrs.iter().map(|a| format!("{{\"__address__\" = \"{a}\"}}")).collect();
    format!("[{}]", list.join(", "))
}

/// A `prometheus.scrape` block that scrapes `targets` every second with `timeout`, with the
/// attribute lines `extra` (indented, each ending in a newline), forwarding to `to`.
fn scrape(name: &str, targets: &str, timeout: &str, extra: &str, to: &str) -> String {
    format!(
        r#"prometheus.scrape "{name}" {{
  targets         = {targets}
  scrape_interval = "1s"
  scrape_timeout  = "{timeout}"
{extra}  forward_to      = [{to}]
}}
"#
    )
}

/// A `prometheus.remote_write` block with one endpoint, to `url`: `queue` holds the lines of
/// its `queue_config`, `more` any further lines of the endpoint (indented, each ending in a
/// newline).
fn remote_write(name: &str, url: &str, queue: &str, more: &str) -> String {
    format!(
        r#"prometheus.remote_write "{name}" {{
  endpoint {{
    url = "{url}"
    queue_config {{
{queue}    }}
{more}  }}
}}
"#
    )
}

/// scrape (every 1s) → relabel (adds `pipeline="e2e"`, drops `e2e_dropped_*`) →
/// remote_write (`cluster="e2e"`) to `url`.
fn pipeline(targets: &str, url: &str) -> String {
    let scrape = scrape("e2e", targets, "800ms", "", "prometheus.relabel.e2e.receiver");
    format!(
        r#"{scrape}
prometheus.relabel "e2e" {{
  rule {{
    target_label = "pipeline"
    replacement  = "e2e"
  }}
  rule {{
    source_labels = ["__name__"]
    regex         = "e2e_dropped_.*"
    action        = "drop"
  }}
  forward_to = [prometheus.remote_write.out.receiver]
}}

prometheus.remote_write "out" {{
  external_labels = {{cluster = "e2e"}}
  endpoint {{
    url = "{url}"
    queue_config {{
      batch_send_deadline = "1s"
    }}
  }}
}}
"#
    )
}

fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok().map(|h| h.trim().to_string()))
        .unwrap_or_else(|| "unknown".into())
}

/// One exposition line `name{a="b",…} value` (no timestamp) → (name, labels, value).
fn parse_line(line: &str) -> Option<(String, BTreeMap<String, String>, f64)> {
    let (series, value) = line.rsplit_once(' ')?;
    let value = value.parse().ok()?;
    let Some((name, rest)) = series.split_once('{') else { return Some((series.to_string(), BTreeMap::new(), value)) };
    let mut labels = BTreeMap::new();
    let mut chars = rest.chars();
    loop {
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        let key = key.trim_start_matches(',').trim().to_string();
        if key.is_empty() || key.starts_with('}') {
            break;
        }
        chars.next(); // opening quote
        let mut v = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('n') => v.push('\n'),
                    Some(o) => v.push(o),
                    None => {}
                },
                '"' => break,
                c => v.push(c),
            }
        }
        labels.insert(key, v);
    }
    Some((name.to_string(), labels, value))
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

// ---------------------------------------------------------------------------------------
// Tests

#[test]
fn scraped_series_reach_prometheus_with_exact_labels_and_values() {
    let started = Instant::now();
    let Some(dir) = begin("scraped_series_reach_prometheus_with_exact_labels_and_values", "pipeline", &[Need::Prometheus, Need::NodeExporter]) else { return };
    let prom = Prometheus::start(&dir);
    let node = NodeExporter::start(&dir);
    let known = Known::start();
    known.set_requests(1000.0);
    let (k, ne) = (known.addr(), format!("127.0.0.1:{}", node.port));
    let targets =
        format!("array.concat({}, prometheus.exporter.self.alloy.targets, prometheus.exporter.unix.node.targets)", static_targets(&[k.as_str(), ne.as_str()]));
    let config = format!("prometheus.exporter.self \"alloy\" {{}}\n\nprometheus.exporter.unix \"node\" {{}}\n\n{}", pipeline(&targets, &prom.write_url()));
    let mut alloy = Alloy::start(&dir, "alloy", &config, &dir.join("data"));
    let logs = || format!("{}\n--- prometheus ---\n{}", alloy_log(&dir), prom.log());

    // A value the test set arrives exactly; then a new one replaces it.
    let sel = format!("e2e_requests_total{{instance=\"{k}\"}}");
    wait("the known target's counter in Prometheus", 60, || prom.value(&sel) == Some(1000.0), logs);
    known.set_requests(1234.5);
    wait("the changed counter in Prometheus", 30, || prom.value(&sel) == Some(1234.5), logs);

    // Every series of the known target, with every label: job and instance from the target,
    // `pipeline` from prometheus.relabel, `cluster` from external_labels unless the series
    // has its own, exposed job/instance kept as exported_*, `le` normalised, the dropped
    // metric absent.
    let job = "prometheus.scrape.e2e";
    let series = |name: &str, extra: &[(&str, &str)]| {
        let mut l = labels(&[("__name__", name), ("job", job), ("instance", k.as_str()), ("pipeline", "e2e"), ("cluster", "e2e")]);
        l.extend(labels(extra));
        l
    };
    let mut expected: BTreeSet<BTreeMap<String, String>> = BTreeSet::new();
    expected.insert(series("e2e_requests_total", &[("code", "200"), ("method", "GET")]));
    expected.insert(series("e2e_scrapes_total", &[]));
    expected.insert(series("e2e_temperature_celsius", &[("room", "kitchen"), ("path", "C:\\dir \"x\"\nnext")]));
    for le in ["0.1", "1.0", "+Inf"] {
        expected.insert(series("e2e_latency_seconds_bucket", &[("le", le)]));
    }
    expected.insert(series("e2e_latency_seconds_sum", &[]));
    expected.insert(series("e2e_latency_seconds_count", &[]));
    expected.insert(series("e2e_own_cluster", &[("cluster", "own")]));
    expected.insert(series("e2e_conflict", &[("exported_job", "exposed"), ("exported_instance", "other")]));
    for report in ["up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling", "scrape_series_added"] {
        expected.insert(series(report, &[]));
    }
    let got = prom.series(&format!("{{instance=\"{k}\"}}"));
    let show = |s: &BTreeSet<BTreeMap<String, String>>| s.iter().map(|l| format!("{l:?}")).collect::<Vec<_>>().join("\n");
    assert_eq!(got, expected, "\ngot:\n{}\nexpected:\n{}", show(&got), show(&expected));
    assert!(prom.series("{__name__=~\"e2e_dropped.*\"}").is_empty(), "the relabel rule's drop did not apply");

    let v = |q: &str| prom.value(&format!("{q}{{instance=\"{k}\"}}"));
    assert_eq!(v("e2e_temperature_celsius"), Some(-3.25));
    assert_eq!(prom.value(&format!("e2e_latency_seconds_bucket{{instance=\"{k}\",le=\"1.0\"}}")), Some(5.0));
    assert_eq!(prom.value(&format!("e2e_latency_seconds_bucket{{instance=\"{k}\",le=\"+Inf\"}}")), Some(6.0));
    assert_eq!(v("e2e_latency_seconds_sum"), Some(2.5));
    assert_eq!(v("e2e_latency_seconds_count"), Some(6.0));
    assert_eq!(v("e2e_conflict"), Some(2.0));
    assert_eq!(v("up"), Some(1.0));
    assert_eq!(v("scrape_samples_scraped"), Some(KNOWN_SAMPLES as f64));
    assert_eq!(v("scrape_samples_post_metric_relabeling"), Some(KNOWN_SAMPLES as f64));
    // New series are counted in the first scrape only.
    let added: Vec<f64> = prom.samples(&format!("scrape_series_added{{instance=\"{k}\"}}"), "10m").iter().map(|s| s.1).collect();
    assert!(added.len() >= 2 && added[0] == KNOWN_SAMPLES as f64 && added[1..].iter().all(|v| *v == 0.0), "scrape_series_added {added:?}");
    let duration = v("scrape_duration_seconds").expect("scrape_duration_seconds");
    assert!(duration > 0.0 && duration < 0.8, "{duration}");

    // The scrape request as upstream sends it.
    let last = known.last.lock().unwrap_or_else(|e| e.into_inner()).take().expect("a scrape request");
    assert_eq!(last.path, "/metrics");
    assert_eq!(
        last.header("accept"),
        Some(
            "application/openmetrics-text;version=1.0.0;escaping=underscores;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,\
             text/plain;version=1.0.0;escaping=underscores;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
        )
    );
    assert_eq!(last.header("x-prometheus-scrape-timeout-seconds"), Some("0.8"));
    assert!(last.header("user-agent").is_some_and(|u| u.starts_with("Alloy/")), "{:?}", last.header("user-agent"));

    // Node exporter: up, the main series with the pipeline's labels, values equal to what
    // node exporter itself serves.
    let nv = |q: &str| prom.value(&format!("{q}{{instance=\"{ne}\"}}"));
    wait("node exporter's series", 30, || nv("node_boot_time_seconds").is_some(), logs);
    assert_eq!(nv("up"), Some(1.0));
    let (_, direct) = fetch(node.port, "/metrics").expect("node exporter answers");
    let direct_value = |name: &str| direct.lines().find_map(|l| parse_line(l).filter(|p| p.0 == name)).map(|p| p.2);
    assert_eq!(nv("node_boot_time_seconds"), direct_value("node_boot_time_seconds"));
    let load1 = prom.series(&format!("node_load1{{instance=\"{ne}\"}}"));
    assert_eq!(
        load1,
        BTreeSet::from([labels(&[("__name__", "node_load1"), ("job", job), ("instance", ne.as_str()), ("pipeline", "e2e"), ("cluster", "e2e")])])
    );
    let (_, uname, _) = direct.lines().find_map(|l| parse_line(l).filter(|p| p.0 == "node_uname_info")).expect("node_uname_info");
    let mut uname_expected = uname.clone();
    uname_expected.extend(labels(&[("__name__", "node_uname_info"), ("job", job), ("instance", ne.as_str()), ("pipeline", "e2e"), ("cluster", "e2e")]));
    assert_eq!(prom.series(&format!("node_uname_info{{instance=\"{ne}\"}}")), BTreeSet::from([uname_expected]));
    let idle_direct = direct.lines().filter(|l| l.starts_with("node_cpu_seconds_total{") && l.contains("mode=\"idle\"")).count();
    let idle = prom.query(&format!("node_cpu_seconds_total{{instance=\"{ne}\",mode=\"idle\"}}"));
    assert!(idle_direct > 0 && idle.len() == idle_direct, "{} idle CPU series in Prometheus, {idle_direct} served", idle.len());
    assert!(idle.iter().all(|s| s["metric"]["cpu"].is_string() && s["value"][1].as_str().and_then(|v| v.parse::<f64>().ok()).is_some_and(|v| v > 0.0)));
    let served = direct.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).count() as f64;
    let scraped = nv("scrape_samples_scraped").expect("scrape_samples_scraped for node exporter");
    assert!((scraped - served).abs() <= served * 0.1, "scrape_samples_scraped {scraped}, node exporter serves {served} samples");

    // prometheus.exporter.self and prometheus.exporter.unix, scraped in-process.
    let host = hostname();
    let unix_up = format!("up{{job=\"integrations/unix\",instance=\"{host}\"}}");
    wait("prometheus.exporter.unix's up", 30, || prom.value(&unix_up).is_some(), logs);
    assert_eq!(prom.value(&unix_up), Some(1.0));
    assert_eq!(prom.value(&format!("up{{job=\"integrations/self\",instance=\"{host}\"}}")), Some(1.0));
    let sent = "prometheus_remote_storage_samples_total{job=\"integrations/self\",component_id=\"prometheus.remote_write.out\"}";
    wait("alloy's own remote_write counter in Prometheus", 30, || prom.value(sent).is_some_and(|v| v > 0.0), logs);
    assert!(prom.value(&format!("node_load1{{job=\"integrations/unix\",instance=\"{host}\"}}")).is_some());
    assert!(prom.value(&format!("scrape_samples_scraped{{job=\"integrations/unix\",instance=\"{host}\"}}")).is_some_and(|v| v > 50.0));

    let m = alloy.metrics();
    assert_eq!(metric_sum(&m, "prometheus_remote_storage_samples_failed_total"), Some(0.0), "{m}");
    assert!(alloy.proc.exited().is_none());
    eprintln!("scraped_series_reach_prometheus_with_exact_labels_and_values took {:?}", started.elapsed());
}

fn alloy_log(dir: &Path) -> String {
    let mut out = String::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "log") {
            out.push_str(&format!("--- {} ---\n{}\n", p.display(), std::fs::read_to_string(&p).unwrap_or_default()));
        }
    }
    out
}

/// What the two outage tests share: Prometheus, the known target and the pipeline between
/// them, alloy's storage in `dir/data`.
struct Outage {
    started: Instant,
    dir: PathBuf,
    prom: Prometheus,
    known: Known,
    config: String,
    /// The known target's scrape counter.
    sel: String,
}

impl Outage {
    /// Everything started (the first alloy as `alloy-1`) and the first samples in
    /// Prometheus; `None` when the test is skipped.
    fn begin(test: &str, name: &str) -> Option<(Outage, Alloy)> {
        let started = Instant::now();
        let dir = begin(test, name, &[Need::Prometheus])?;
        let prom = Prometheus::start(&dir);
        let known = Known::start();
        let config = pipeline(&static_targets(&[&known.addr()]), &prom.write_url());
        let sel = format!("e2e_scrapes_total{{instance=\"{}\"}}", known.addr());
        let outage = Outage { started, dir, prom, known, config, sel };
        let alloy = outage.alloy("alloy-1");
        wait("the first samples in Prometheus", 60, || outage.prom.value(&outage.sel).is_some_and(|v| v >= 3.0), || alloy_log(&outage.dir));
        Some((outage, alloy))
    }

    fn storage(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// An alloy running the pipeline on the shared storage.
    fn alloy(&self, name: &str) -> Alloy {
        Alloy::start(&self.dir, name, &self.config, &self.storage())
    }

    /// Kills Prometheus; returns when (ms).
    fn stop_prometheus(&mut self) -> i64 {
        let at = now_ms();
        self.prom.stop();
        at
    }

    /// Starts Prometheus again on its data and waits until it holds the scrapes served so
    /// far and `more`; returns when it was up (ms).
    fn restart_prometheus(&mut self, what: &str, more: u64) -> i64 {
        self.prom.spawn();
        let up_at = now_ms();
        let until = self.known.served() + more;
        let prom = &self.prom;
        wait(what, 60, || prom.value(&self.sel).is_some_and(|v| v >= until as f64), || format!("{}\n{}", alloy_log(&self.dir), prom.log()));
        up_at
    }

    /// The rule below: no scrape lost but those in `may_miss`; at least 90 % of one sample
    /// per second in `window` (ms, from..to), which `what` names; `alloy` failed no sample.
    /// Returns `alloy`'s metrics.
    fn assert_delivered(&self, alloy: &Alloy, may_miss: &[u64], window: (i64, i64), what: &str) -> String {
        let samples = self.prom.samples(&self.sel, "10m");
        assert_no_scrape_lost(&samples, may_miss);
        let (from, to) = window;
        let in_window = samples.iter().filter(|s| s.0 > from && s.0 < to).count() as i64;
        let expected = (to - from) / 1000;
        assert!(in_window * 10 >= expected * 9, "{in_window} samples in the {expected} s {what}");
        let m = alloy.metrics();
        assert_eq!(metric_sum(&m, "prometheus_remote_storage_samples_failed_total"), Some(0.0), "{m}");
        eprintln!("{in_window} samples in the {expected} s {what}, {} in all; took {:?}", samples.len(), self.started.elapsed());
        m
    }
}

/// Prometheus is down for 20 s while alloy scrapes every second; after it restarts on the
/// same data directory, every sample of the outage is there.
///
/// Rule: the known target counts the scrapes it served, so "nothing lost" is exact: the
/// values 1..=max are all in Prometheus, once each, in time order. Besides, the outage
/// window (from the kill to Prometheus being ready again) holds at least 90 % of one sample
/// per second: scraping went on through the outage (10 % for the scrape loop's phase and
/// a slow debug build on a busy two-core machine).
#[test]
fn samples_scraped_during_a_prometheus_outage_arrive_from_the_wal() {
    let Some((mut outage, alloy)) = Outage::begin("samples_scraped_during_a_prometheus_outage_arrive_from_the_wal", "outage") else { return };
    let down_at = outage.stop_prometheus();
    std::thread::sleep(Duration::from_secs(20));
    let up_at = outage.restart_prometheus("the outage's backlog in Prometheus", 2);
    let m = outage.assert_delivered(&alloy, &[], (down_at, up_at), "outage");
    assert!(metric_sum(&m, "prometheus_remote_storage_samples_retried_total").is_some_and(|v| v > 0.0), "the outage caused no retry:\n{m}");
}

/// Prometheus down; alloy is killed with SIGKILL 10 s into the outage and started again on
/// the same --storage.path; then Prometheus comes back: the samples in the WAL arrive.
/// Rule: as above, except that the scrapes served between just before and just after the
/// kill may be missing (served, but maybe not in the WAL yet).
#[test]
fn samples_in_the_wal_survive_kill_9_during_an_outage() {
    let Some((mut outage, mut first)) = Outage::begin("samples_in_the_wal_survive_kill_9_during_an_outage", "kill9") else { return };
    let down_at = outage.stop_prometheus();
    std::thread::sleep(Duration::from_secs(10));
    let before_kill = outage.known.served();
    first.proc.kill();
    let at_kill = outage.known.served();
    let killed_at = now_ms();
    assert!(outage.storage().join("prometheus.remote_write.out/wal").is_dir(), "no WAL under --storage.path/<component id>/wal");
    drop(first);

    let second = outage.alloy("alloy-2");
    std::thread::sleep(Duration::from_secs(3));
    outage.restart_prometheus("the WAL's samples in Prometheus", 1);
    outage.assert_delivered(&second, &(before_kill..=at_kill).collect::<Vec<_>>(), (down_at, killed_at), "before the kill");
}

/// promtool 2.42 exits 1 with `error while linting: …` when the exposition does not parse
/// and 3 when it only has lint remarks (e.g. upstream Alloy's own
/// `alloy_prometheus_relabel_metrics_processed` is a counter without `_total`). Upstream's
/// accepted state is "parses": exit 0 or 3, no error line, every line a `<metric> <remark>`.
#[test]
fn promtool_accepts_alloys_own_metrics() {
    let Some(dir) = begin("promtool_accepts_alloys_own_metrics", "promtool", &[Need::Promtool]) else { return };
    let known = Known::start();
    let sink = Receiver::start(204);
    let targets = format!("array.concat({}, prometheus.exporter.self.alloy.targets)", static_targets(&[&known.addr()]));
    let config = format!("prometheus.exporter.self \"alloy\" {{}}\n\n{}", pipeline(&targets, &sink.url()));
    let alloy = Alloy::start(&dir, "alloy", &config, &dir.join("data"));
    // Wait until the remote-write families have values, so they are checked too.
    wait("samples sent", 30, || metric_sum(&alloy.metrics(), "prometheus_remote_storage_samples_total").is_some_and(|v| v > 0.0), || alloy_log(&dir));
    let metrics = alloy.metrics();
    assert!(metrics.contains("prometheus_remote_storage_samples_total{"), "{metrics}");
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool starts");
    child.stdin.take().expect("stdin").write_all(metrics.as_bytes()).expect("write to promtool");
    let out = child.wait_with_output().expect("promtool runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let code = out.status.code();
    assert!(code == Some(0) || code == Some(3), "promtool check metrics exited {code:?}:\n{text}\n--- input ---\n{metrics}");
    let remark = regex::Regex::new(r"^[a-zA-Z_:][a-zA-Z0-9_:]* \S.*$").expect("regex");
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        assert!(!line.to_ascii_lowercase().contains("error"), "promtool: {line}\n--- input ---\n{metrics}");
        assert!(remark.is_match(line), "not a lint remark: {line}");
    }
    if !text.trim().is_empty() {
        eprintln!("promtool lint remarks (not parse errors):\n{text}");
    }
}

/// Malformed, huge and hanging targets: each is down with the reason in the component's
/// debug info and `up == 0` downstream; the loops go on and alloy keeps running. The
/// downstream side is a fake receiver whose bodies the Python decoder reads.
#[test]
fn bad_targets_are_down_with_the_reason_and_scraping_goes_on() {
    let Some(dir) = begin("bad_targets_are_down_with_the_reason_and_scraping_goes_on", "bad-targets", &[Need::Python]) else { return };
    // (bad line, the parser's message). Each body starts with good lines, which must not
    // arrive: a failed scrape appends nothing.
    let cases: Vec<(&str, &str)> = vec![
        ("a{b='c'} 1", r#"expected label value, got "'" ("INVALID") while parsing: "a{b='""#),
        ("foo 1_2", r#"unsupported character in float while parsing: "foo 1_2""#),
        (r#"{a="ok"} 1"#, r#"metric name not set while parsing: "{a=\"ok\"} 1""#),
        (r#"empty_label_name{=""} 0"#, r#"expected label name, got "=\"" ("EQUAL") while parsing: "empty_label_name{=\"""#),
        ("foo 0 1_2", r#"expected next entry after timestamp, got "_" ("INVALID") while parsing: "foo 0 1_""#),
    ];
    let hits: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
    let bad_lines: Vec<String> = cases.iter().map(|c| c.0.to_string()).collect();
    let h = hits.clone();
    let bad = Server::start(move |req| {
        let n = {
            let mut hits = h.lock().unwrap_or_else(|e| e.into_inner());
            let n = hits.entry(req.path.clone()).or_default();
            *n += 1;
            *n
        };
        if req.path == "/flip" {
            // Good twice, then malformed: the series of the last good scrape go stale.
            let bad = if n > 2 { "foo 1_2\n" } else { "" };
            return text_reply(format!("flip_metric 1\n{bad}"));
        }
        if let Some(i) = req.path.strip_prefix("/case/").and_then(|i| i.parse::<usize>().ok()) {
            return text_reply(format!("# TYPE good_before_error gauge\ngood_before_error{{case=\"{i}\"}} 1\n{}\n", bad_lines[i]));
        }
        match req.path.as_str() {
            "/huge" => text_reply((0..2000).map(|i| format!("huge_metric{{i=\"{i}\"}} {i}\n")).collect()),
            _ => {
                // Far longer than scrape_timeout; the answer would be fine.
                std::thread::sleep(Duration::from_secs(3));
                text_reply("hang_metric 1\n".into())
            }
        }
    });
    let sink = Receiver::start(204);
    let b = bad.addr();
    let malformed: Vec<String> =
        (0..cases.len()).map(|i| format!("{{\"__address__\" = \"{b}\", \"__metrics_path__\" = \"/case/{i}\", \"case\" = \"{i}\"}}")).collect();
    let to_sink = "prometheus.remote_write.sink.receiver";
    let path = |p: &str| format!("[{{\"__address__\" = \"{b}\", \"__metrics_path__\" = \"{p}\"}}]");
    let huge_limits = "  body_size_limit = 4096\n  extra_metrics   = true\n";
    let scrapes = [
        scrape("malformed", &format!("[{}]", malformed.join(", ")), "500ms", "", to_sink),
        scrape("huge", &path("/huge"), "500ms", huge_limits, to_sink),
        scrape("flip", &path("/flip"), "500ms", "", to_sink),
        scrape("hang", &path("/hang"), "500ms", "", to_sink),
    ];
    let sink_block = remote_write("sink", &sink.url(), "      batch_send_deadline = \"500ms\"\n", "");
    let config = format!("{}\n{sink_block}", scrapes.join("\n"));
    let mut alloy = Alloy::start(&dir, "alloy", &config, &dir.join("data"));
    let hang_hits = || hits.lock().unwrap_or_else(|e| e.into_inner()).get("/hang").copied().unwrap_or(0);
    let flip_hits = || hits.lock().unwrap_or_else(|e| e.into_inner()).get("/flip").copied().unwrap_or(0);
    alloy.proc.wait_for("four scrapes of the hanging target", 30, || hang_hits() >= 4 && flip_hits() >= 4);
    std::thread::sleep(Duration::from_secs(1));

    let targets = alloy.scrape_targets("prometheus.scrape.malformed");
    assert_eq!(targets.len(), cases.len(), "{targets:?}");
    for t in &targets {
        let case: usize = t["labels"]["case"].as_str().and_then(|c| c.parse().ok()).unwrap_or_else(|| panic!("{t:?}"));
        assert_eq!(t["health"], "down", "{t:?}");
        assert_eq!(t["last_error"].as_str(), Some(cases[case].1), "case {case} ({:?})", cases[case].0);
    }
    let huge = alloy.scrape_targets("prometheus.scrape.huge");
    assert_eq!(huge.len(), 1, "{huge:?}");
    assert_eq!((huge[0]["health"].as_str(), huge[0]["last_error"].as_str()), (Some("down"), Some("body size limit exceeded")));
    let hang = alloy.scrape_targets("prometheus.scrape.hang");
    assert_eq!(hang.len(), 1, "{hang:?}");
    assert_eq!(hang[0]["health"], "down");
    assert!(hang[0]["last_error"].as_str().is_some_and(|e| e.contains("context deadline exceeded")), "{hang:?}");

    let (requests, decoded) = sink.decoded(&dir);
    assert_wire_format(&requests, &decoded);
    let all: Vec<&Series> = decoded.iter().flatten().collect();
    assert!(all.iter().all(|s| s.name() != "good_before_error" && s.name() != "huge_metric"), "samples of a failed scrape were sent");
    let points = |name: &str, path: &str| -> Vec<(i64, f64)> {
        let mut v: Vec<(i64, f64)> = all
            .iter()
            .filter(|s| s.name() == name && s.label("instance") == Some(b.as_str()))
            .filter(|s| target_path(s, path))
            .flat_map(|s| s.samples.clone())
            .collect();
        v.sort_by_key(|p| p.0);
        v
    };
    for (i, _) in cases.iter().enumerate() {
        let up = points("up", &format!("/case/{i}"));
        assert!(!up.is_empty() && up.iter().all(|p| p.1 == 0.0), "case {i}: up {up:?}");
    }
    let up = points("up", "/huge");
    assert!(!up.is_empty() && up.iter().all(|p| p.1 == 0.0), "huge: up {up:?}");
    let size = points("scrape_body_size_bytes", "/huge");
    assert!(!size.is_empty() && size.iter().all(|p| p.1 == -1.0), "scrape_body_size_bytes {size:?}");
    let up = points("up", "/hang");
    assert!(up.len() >= 3 && up.iter().all(|p| p.1 == 0.0), "hang: up {up:?}");
    assert!(up.windows(2).all(|w| w[1].0 - w[0].0 >= 500), "the hanging target's scrapes are not spaced by the interval: {up:?}");
    let durations = points("scrape_duration_seconds", "/hang");
    assert!(durations.iter().all(|p| p.1 >= 0.45 && p.1 < 1.0), "scrape_duration_seconds of the hanging target: {durations:?}");
    // A target that turns bad: its series get one staleness marker (the StaleNaN bit
    // pattern, not any NaN) at the first failed scrape, then nothing.
    let up = points("up", "/flip");
    let flip: Vec<(i64, u64)> = points("flip_metric", "/flip").iter().map(|p| (p.0, p.1.to_bits())).collect();
    assert_eq!(up.iter().map(|p| p.1).take(3).collect::<Vec<_>>(), [1.0, 1.0, 0.0], "flip: up {up:?}");
    assert_eq!(flip.iter().map(|p| p.1).collect::<Vec<_>>(), [1f64.to_bits(), 1f64.to_bits(), 0x7ff0_0000_0000_0002], "flip_metric {flip:?}");
    assert_eq!(flip[2].0, up[2].0, "the staleness marker is not at the failed scrape's timestamp");
    assert!(alloy.proc.exited().is_none(), "alloy died:\n{}", alloy.proc.log());
    assert_eq!(get(alloy.api, "/-/ready").map(|r| r.0), Some(200));
}

/// Targets of one component differ by their `case` label; report series carry it too.
fn target_path(s: &Series, path: &str) -> bool {
    match path.strip_prefix("/case/") {
        Some(i) => s.label("case") == Some(i),
        None => s.label("case").is_none() && s.label("job") == Some(&format!("prometheus.scrape.{}", &path[1..])),
    }
}

/// A receiver that answers 400 makes alloy drop the batch and count it in
/// `prometheus_remote_storage_samples_failed_total` (each batch is seen once); 500 and 429
/// are retried with `Retry-Attempt` (and 429's `Retry-After` honoured) while later samples
/// wait in the WAL; once it answers 204 the stuck batch and everything after it arrive.
#[test]
fn remote_write_drops_on_400_and_retries_500_and_429() {
    let Some(dir) = begin("remote_write_drops_on_400_and_retries_500_and_429", "receiver-errors", &[Need::Python]) else { return };
    let known = Known::start();
    let sink = Receiver::start(400);
    let queue = r#"      batch_send_deadline = "1s"
      min_backoff         = "100ms"
      max_backoff         = "400ms"
"#;
    let no_metadata = "    metadata_config {\n      send = false\n    }\n";
    let config = format!(
        "{}\n{}",
        scrape("e2e", &static_targets(&[&known.addr()]), "800ms", "", "prometheus.remote_write.out.receiver"),
        remote_write("out", &sink.url(), queue, no_metadata)
    );
    let mut alloy = Alloy::start(&dir, "alloy", &config, &dir.join("data"));
    alloy.proc.wait_for("three batches answered 400", 30, || sink.count(400) >= 3);
    sink.answer(500, None);
    alloy.proc.wait_for("four attempts answered 500", 30, || sink.count(500) >= 4);
    sink.answer(429, Some("1"));
    alloy.proc.wait_for("three attempts answered 429", 30, || sink.count(429) >= 3);
    let failed_before_recovery = metric_sum(&alloy.metrics(), "prometheus_remote_storage_samples_failed_total");
    let retried = metric_sum(&alloy.metrics(), "prometheus_remote_storage_samples_retried_total");
    sink.answer(204, None);
    let served_at_recovery = known.served();

    // Decode until the receiver has every scrape served before the recovery.
    let scrapes = |decoded: &[Vec<Series>], requests: &[Recorded], status: u16| -> Vec<(i64, f64)> {
        let mut v: Vec<(i64, f64)> = requests
            .iter()
            .zip(decoded)
            .filter(|(r, _)| r.status == status)
            .flat_map(|(_, s)| s.iter().filter(|s| s.name() == "e2e_scrapes_total").flat_map(|s| s.samples.clone()))
            .collect();
        v.sort_by_key(|p| p.0);
        v
    };
    let start = Instant::now();
    let (requests, decoded) = loop {
        std::thread::sleep(Duration::from_secs(2));
        let (requests, decoded) = sink.decoded(&dir);
        if scrapes(&decoded, &requests, 204).last().is_some_and(|p| p.1 >= served_at_recovery as f64) {
            break (requests, decoded);
        }
        assert!(start.elapsed() < Duration::from_secs(40), "the backlog did not arrive after the receiver recovered:\n{}", alloy.proc.log());
    };
    assert_wire_format(&requests, &decoded);
    let samples_in = |r: &[Series]| r.iter().map(|s| s.samples.len()).sum::<usize>();
    let keys = |r: &[Series]| r.iter().flat_map(|s| s.samples.iter().map(|p| (format!("{:?}", s.labels), p.0))).collect::<Vec<_>>();

    // 400: dropped, counted, never retried nor sent again.
    let rejected: Vec<usize> = (0..requests.len()).filter(|i| requests[*i].status == 400).collect();
    assert!(rejected.iter().all(|i| requests[*i].header("retry-attempt").is_none()), "a batch answered 400 was retried");
    let rejected_keys: Vec<(String, i64)> = rejected.iter().flat_map(|i| keys(&decoded[*i])).collect();
    assert_eq!(rejected_keys.iter().collect::<BTreeSet<_>>().len(), rejected_keys.len(), "a sample answered 400 was sent twice");
    let later: BTreeSet<(String, i64)> = (0..requests.len()).filter(|i| requests[*i].status != 400).flat_map(|i| keys(&decoded[i])).collect();
    assert!(rejected_keys.iter().all(|k| !later.contains(k)), "a sample answered 400 was sent again");
    let rejected_samples: usize = rejected.iter().map(|i| samples_in(&decoded[*i])).sum();
    assert!(rejected_samples > 0);
    assert_eq!(failed_before_recovery, Some(rejected_samples as f64), "samples_failed_total vs samples answered 400");
    assert_eq!(metric_sum(&alloy.metrics(), "prometheus_remote_storage_samples_failed_total"), Some(rejected_samples as f64));

    // 500 then 429: the same batch, byte for byte, with Retry-Attempt 1, 2, 3, …, until
    // the 204 that takes it.
    let first_500 = requests.iter().position(|r| r.status == 500).expect("a 500");
    let stuck = &requests[first_500].body;
    assert_eq!(requests[first_500].header("retry-attempt"), None);
    let retries: Vec<&Recorded> = requests[first_500 + 1..].iter().take_while(|r| r.status != 204).collect();
    assert!(retries.iter().all(|r| r.status == 500 || r.status == 429), "a 400 after the first 500?");
    for (n, r) in retries.iter().enumerate() {
        assert!(r.body == *stuck, "retry {} is not the same batch", n + 1);
        assert_eq!(r.header("retry-attempt"), Some((n + 1).to_string().as_str()));
    }
    let recovered = &requests[first_500 + 1 + retries.len()];
    assert!(recovered.status == 204 && recovered.body == *stuck, "the first request after the recovery is not the stuck batch");
    assert_eq!(recovered.header("retry-attempt"), Some((retries.len() + 1).to_string().as_str()));
    let after_429: Vec<Duration> = retries.windows(2).filter(|w| w[0].status == 429).map(|w| w[1].at - w[0].at).collect();
    let recovery_gap = recovered.at - retries.last().expect("retries").at;
    assert!(after_429.iter().chain([&recovery_gap]).all(|d| *d >= Duration::from_millis(900)), "Retry-After: 1 not honoured: {after_429:?} {recovery_gap:?}");
    assert!(retried.is_some_and(|v| v >= retries.len() as f64), "samples_retried_total {retried:?}");

    // Everything scraped after the 400s arrived once, none lost: the WAL held it.
    let mut all: Vec<(i64, f64)> = scrapes(&decoded, &requests, 400);
    all.extend(scrapes(&decoded, &requests, 204));
    all.sort_by_key(|p| p.0);
    assert_no_scrape_lost(&all, &[]);
    let delivered: Vec<(String, i64)> = (0..requests.len()).filter(|i| requests[*i].status == 204).flat_map(|i| keys(&decoded[i])).collect();
    assert_eq!(delivered.iter().collect::<BTreeSet<_>>().len(), delivered.len(), "a sample was delivered twice");
}
