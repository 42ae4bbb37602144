//! Outside programs the end-to-end tests start and talk to: a child process with its output in
//! a log file, killed on drop, and Prometheus 2.42 as a remote-write receiver queried through
//! its HTTP API.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{free_port, get};

/// A child process with stdout and stderr appended to a log file; killed on drop.
pub struct Proc {
    pub child: Child,
    pub log: PathBuf,
}

impl Proc {
    pub fn spawn(cmd: &mut Command, log: &Path) -> Proc {
        let out = File::options().create(true).append(true).open(log).expect("log file");
        let err = out.try_clone().expect("log file");
        let child = cmd.stdin(Stdio::null()).stdout(out).stderr(err).spawn().unwrap_or_else(|e| panic!("starting {cmd:?}: {e}"));
        Proc { child, log: log.to_path_buf() }
    }

    pub fn log(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        // The end says why; the start is mostly banners.
        let cut = text.len().saturating_sub(20_000);
        let cut = (cut..text.len()).find(|i| text.is_char_boundary(*i)).unwrap_or(text.len());
        format!("--- {} ---\n{}", self.log.display(), &text[cut..])
    }

    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// SIGKILL, then reap.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Polls `cond` until it holds; panics with the log when the process exits or time runs out.
    pub fn wait_for(&mut self, what: &str, secs: u64, mut cond: impl FnMut() -> bool) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(secs) {
            if cond() {
                return;
            }
            if let Some(status) = self.exited() {
                panic!("process exited ({status}) while waiting for {what}:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("timed out after {secs}s waiting for {what}:\n{}", self.log());
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// GET over HTTP/1.0, so that no server answers with chunked encoding.
pub fn fetch(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n").ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).ok()?;
    let buf = String::from_utf8_lossy(&buf);
    let (head, body) = buf.split_once("\r\n\r\n")?;
    Some((head.split_whitespace().nth(1)?.parse().ok()?, body.to_string()))
}

/// Percent-encodes a query parameter.
pub fn enc(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

pub struct Prometheus {
    pub proc: Option<Proc>,
    pub port: u16,
    pub dir: PathBuf,
}

impl Prometheus {
    pub fn start(dir: &Path) -> Prometheus {
        let dir = dir.join("prometheus");
        std::fs::create_dir_all(&dir).expect("prometheus dir");
        // No scrape configs: everything it holds came by remote write.
        std::fs::write(dir.join("prometheus.yml"), "global:\n  scrape_interval: 1h\n").expect("prometheus.yml");
        let mut p = Prometheus { proc: None, port: free_port(), dir };
        p.spawn();
        p
    }

    /// Starts (again) on the same port and data directory.
    pub fn spawn(&mut self) {
        let mut cmd = Command::new("prometheus");
        cmd.arg(format!("--config.file={}", self.dir.join("prometheus.yml").display()))
            .arg(format!("--storage.tsdb.path={}", self.dir.join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{}", self.port))
            .arg("--web.enable-remote-write-receiver");
        let mut proc = Proc::spawn(&mut cmd, &self.dir.join("prometheus.log"));
        let port = self.port;
        proc.wait_for("prometheus to be ready", 60, || get(port, "/-/ready").is_some_and(|(s, _)| s == 200));
        self.proc = Some(proc);
    }

    pub fn stop(&mut self) {
        if let Some(mut p) = self.proc.take() {
            p.kill();
        }
    }

    pub fn write_url(&self) -> String {
        format!("http://127.0.0.1:{}/api/v1/write", self.port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("prometheus.log")).unwrap_or_default()
    }

    pub fn api(&self, path: &str) -> serde_json::Value {
        let (status, body) = fetch(self.port, path).unwrap_or_else(|| panic!("prometheus does not answer {path}\n{}", self.log()));
        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"));
        assert!(status == 200 && v["status"] == "success", "{path}: {status} {body}");
        v["data"].clone()
    }

    pub fn query(&self, q: &str) -> Vec<serde_json::Value> {
        self.api(&format!("/api/v1/query?query={}", enc(q)))["result"].as_array().cloned().unwrap_or_default()
    }

    /// The value of a query that selects at most one series.
    pub fn value(&self, q: &str) -> Option<f64> {
        let r = self.query(q);
        assert!(r.len() <= 1, "{q} selects more than one series: {r:?}");
        r.first()?["value"][1].as_str()?.parse().ok()
    }

    pub fn series(&self, matcher: &str) -> BTreeSet<BTreeMap<String, String>> {
        let data = self.api(&format!("/api/v1/series?match[]={}", enc(matcher)));
        data.as_array().into_iter().flatten().map(|s| serde_json::from_value(s.clone()).expect("label set")).collect()
    }

    /// The raw samples (ms, value) of `selector` over the last `range`, oldest first.
    pub fn samples(&self, selector: &str, range: &str) -> Vec<(i64, f64)> {
        let mut out: Vec<(i64, f64)> = Vec::new();
        for s in self.query(&format!("{selector}[{range}]")) {
            for p in s["values"].as_array().into_iter().flatten() {
                let t = (p[0].as_f64().expect("timestamp") * 1000.0).round() as i64;
                out.push((t, p[1].as_str().and_then(|v| v.parse().ok()).expect("value")));
            }
        }
        out.sort_by_key(|s| s.0);
        out
    }
}

/// `tests/e2e/loki_push_receiver.py` on a loopback port, killed on drop.
pub struct LokiReceiver(Child);

impl Drop for LokiReceiver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The receiver answers the first `fail_first` pushes with 500.
pub fn start_loki_receiver(port: u16, out: &Path, fail_first: u32) -> LokiReceiver {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/e2e/loki_push_receiver.py");
    let child = Command::new("python3")
        .arg(script)
        .arg(port.to_string())
        .arg(out)
        .args(["--fail-first", &fail_first.to_string()])
        .stdout(Stdio::null())
        .spawn()
        .expect("python3 runs");
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < Duration::from_secs(20), "the receiver did not listen within 20 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    LokiReceiver(child)
}

/// What a [`LokiReceiver`] writing to `out` recorded so far.
pub fn loki_received(out: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(out).unwrap_or_default().lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}

/// Whether the Debian `prometheus` program runs; when not, skips loudly (fails under `CI=true`).
pub fn prometheus_installed(test: &str) -> bool {
    let runs = Command::new("prometheus").arg("--version").stdin(Stdio::null()).output().is_ok_and(|o| o.status.success());
    if !runs {
        let msg = "prometheus is not installed (Debian package `prometheus`): run `bash scripts/test`";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{test}: {msg}");
        }
        eprintln!("\n!!!!!!!!!! SKIPPED {test}: {msg} !!!!!!!!!!\n");
    }
    runs
}
