//! The OpenTelemetry Collector as a child process running the same pipeline (OTLP/gRPC
//! receiver → batch → OTLP exporter), so the bench can compare against it in the same run.
//!
//! Only `std`: `tests/otlp_bench_collector.rs` includes this file to check the generated
//! configuration and the process handling without a collector binary.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The batch processor's settings, the same as the Alloy pipeline's in the bench.
pub struct Batch {
    pub send_batch_size: usize,
    pub timeout_ms: u64,
}

/// The collector's configuration: an OTLP/gRPC receiver on `listen`, the batch processor, and
/// an OTLP exporter to `sink` (plaintext, no compression). Its own telemetry is off so it
/// binds no other port and spends nothing on it.
pub fn config(listen: SocketAddr, sink: SocketAddr, batch: &Batch) -> String {
    format!(
        "receivers:
  otlp:
    protocols:
      grpc:
        endpoint: {listen}
        max_recv_msg_size_mib: 64
processors:
  batch:
    send_batch_size: {size}
    send_batch_max_size: 0
    timeout: {timeout}ms
exporters:
  otlp:
    endpoint: {sink}
    compression: none
    tls:
      insecure: true
service:
  telemetry:
    logs:
      level: warn
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [otlp]
",
        size = batch.send_batch_size,
        timeout = batch.timeout_ms,
    )
}

/// A free loopback port (bound, then released for the child to take).
pub fn free_port() -> std::io::Result<SocketAddr> {
    TcpListener::bind("127.0.0.1:0")?.local_addr()
}

/// A running collector; killed when dropped.
pub struct Collector {
    child: Child,
    pub listen: SocketAddr,
    config_path: PathBuf,
}

impl Collector {
    /// Starts `bin --config <file>` and waits until its receiver accepts connections.
    pub fn start(bin: &Path, sink: SocketAddr, batch: &Batch) -> Result<Collector, String> {
        let listen = free_port().map_err(|e| format!("no free port: {e}"))?;
        let config_path = std::env::temp_dir().join(format!("otlp-bench-otelcol-{}-{}.yaml", std::process::id(), listen.port()));
        std::fs::File::create(&config_path)
            .and_then(|mut f| f.write_all(config(listen, sink, batch).as_bytes()))
            .map_err(|e| format!("cannot write {}: {e}", config_path.display()))?;
        let child = Command::new(bin)
            .arg(format!("--config={}", config_path.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let mut c = Collector { child, listen, config_path };
        c.wait_listening(Duration::from_secs(30))?;
        Ok(c)
    }

    fn wait_listening(&mut self, within: Duration) -> Result<(), String> {
        let deadline = Instant::now() + within;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("the collector exited at start ({status})"));
            }
            if TcpStream::connect_timeout(&self.listen, Duration::from_millis(100)).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("the collector did not listen on {} within {within:?}", self.listen));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The child's user + system CPU time so far, in seconds.
    pub fn cpu_seconds(&self) -> Option<f64> {
        process_cpu_seconds(self.child.id())
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.config_path);
    }
}

/// USER_HZ: 100 on every Linux platform Rust supports.
const TICKS_PER_SECOND: f64 = 100.0;

/// utime + stime of process `pid` (all its threads, live and exited) from /proc/PID/stat.
pub fn process_cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat_cpu_seconds(&stat)
}

/// utime + stime of a `stat` line: fields 14 and 15 of proc(5), counted after the command
/// name, which is in parentheses and may itself contain spaces or parentheses.
pub fn stat_cpu_seconds(stat: &str) -> Option<f64> {
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    let mut fields = rest.split_whitespace().skip(11);
    let utime: f64 = fields.next()?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    Some((utime + stime) / TICKS_PER_SECOND)
}
