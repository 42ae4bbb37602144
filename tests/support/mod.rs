//! Helpers shared by the end-to-end tests of the `alloy` binary (included with `mod support;`).
#![allow(dead_code)] // each test file uses its own subset

use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub mod servers;

/// A fresh directory under the target dir for one test; `name` includes the suite's prefix.
pub fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// Runs `alloy ARGS` to completion with `stdin` written to it (diagnostics without colour).
/// A refused invocation may exit before reading: its closed stdin is no failure here.
pub fn alloy(args: &[&str], stdin: Option<&str>) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_alloy"))
        .args(args)
        .env("ALLOY_PLAIN_DIAGNOSTICS", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the alloy binary starts");
    if let Some(input) = stdin {
        match child.stdin.take().expect("stdin is piped").write_all(input.as_bytes()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => panic!("write stdin: {e}"),
            _ => {}
        }
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("alloy finishes")
}

/// Output bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// GET `path` on a loopback port: the status and the body; `None` while nothing listens.
pub fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    let (head, body) = buf.split_once("\r\n\r\n")?;
    Some((head.split_whitespace().nth(1)?.parse().ok()?, body.to_string()))
}

/// An `alloy run` child whose stderr goes to a file, killed on drop.
pub struct Alloy {
    pub child: Child,
    pub api: u16,
    pub log: PathBuf,
}

impl Alloy {
    pub fn start(dir: &Path, name: &str, config: &str) -> Alloy {
        let api = free_port();
        let cfg = dir.join(format!("{name}.alloy"));
        std::fs::write(&cfg, config).expect("write config");
        let log = dir.join(format!("{name}.stderr"));
        let child = Command::new(env!("CARGO_BIN_EXE_alloy"))
            .args(["run", "--stability.level=experimental", "--server.http.listen-addr", &format!("127.0.0.1:{api}"), "--storage.path"])
            .arg(dir.join(format!("{name}-data")))
            .arg(&cfg)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&log).expect("log file"))
            .spawn()
            .expect("alloy starts");
        let mut a = Alloy { child, api, log };
        a.wait_for(&format!("{name} to be ready"), |a| get(a.api, "/-/ready").is_some_and(|(s, _)| s == 200));
        a
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn metrics(&self) -> String {
        get(self.api, "/metrics").map(|(_, b)| b).unwrap_or_default()
    }

    /// SIGTERM, then waits (up to 30 s) for the process to finish its graceful shutdown.
    pub fn terminate(&mut self) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().is_ok_and(|s| s.success());
        assert!(sent, "kill -TERM {pid} failed");
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("alloy did not exit within 30 s of SIGTERM:\n{}", self.stderr());
    }

    pub fn wait_for(&mut self, what: &str, mut cond: impl FnMut(&Alloy) -> bool) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            if cond(self) {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("alloy exited ({status}) while waiting for {what}:\n{}", self.stderr());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("timed out waiting for {what}; stderr:\n{}", self.stderr());
    }
}

impl Drop for Alloy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs tests/e2e/send_otlp.py (the OpenTelemetry Python SDK) against OTLP/gRPC `grpc` and
/// OTLP/HTTP `http` on loopback; the JSON of what it sent. A failure shows `receiver`'s log.
pub fn send_otlp(grpc: u16, http: u16, receiver: &Alloy) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/e2e/send_otlp.py");
    let out = Command::new("python3")
        .arg(&script)
        .env("OTLP_GRPC", format!("127.0.0.1:{grpc}"))
        .env("OTLP_HTTP", format!("http://127.0.0.1:{http}"))
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "the SDK script failed:\n{}{}\nreceiver's stderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        receiver.stderr()
    );
    serde_json::from_slice(&out.stdout).expect("the script prints JSON")
}

/// Whether python3 can import every module; when not, skips loudly (fails under `CI=true`).
pub fn python_has(test: &str, modules: &str) -> bool {
    if Command::new("python3").args(["-c", &format!("import {modules}")]).output().is_ok_and(|o| o.status.success()) {
        return true;
    }
    let msg = format!("python3 cannot import {modules}: run `pip install -r scripts/test-requirements.txt` (or `bash scripts/test`)");
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{msg}");
    }
    eprintln!("\n!!!!!!!!!! SKIPPED {test}: {msg} !!!!!!!!!!\n");
    false
}
