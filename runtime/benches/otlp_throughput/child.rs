//! The pipeline as a child process, so the bench can compare against it in the same run:
//! the OpenTelemetry Collector (`OTELCOL_BIN`) or the `alloy` binary itself (`ALLOY_BIN`, as
//! a deployment runs it, with its own allocator and every thread it starts), each running
//! OTLP/gRPC receiver → batch → OTLP exporter with the same settings as the in-process path.
//!
//! Only `std`: `tests/otlp_bench_child.rs` includes this file to check the generated
//! configurations and the process handling without those binaries.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The batch processor's settings, the same as the in-process pipeline's.
pub struct Batch {
    pub send_batch_size: usize,
    pub timeout_ms: u64,
}

/// Which program runs the pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Program {
    /// The collector's OTLP/gRPC exporter is `otlp_grpc` since v0.144 (the old name `otlp` is
    /// a deprecated alias there); `legacy_names` writes `otlp`, for older collectors.
    Collector {
        legacy_names: bool,
    },
    Alloy,
}

impl Program {
    /// The configuration: an OTLP/gRPC receiver on `listen`, the batch processor, and an OTLP
    /// exporter to `sink` (plaintext, no compression).
    pub fn config(self, listen: SocketAddr, sink: SocketAddr, batch: &Batch) -> String {
        match self {
            Program::Collector { legacy_names } => collector_config(listen, sink, batch, if legacy_names { "otlp" } else { "otlp_grpc" }),
            Program::Alloy => alloy_config(listen, sink, batch),
        }
    }

    fn file_name(self) -> &'static str {
        match self {
            Program::Collector { .. } => "otelcol.yaml",
            Program::Alloy => "pipeline.alloy",
        }
    }

    /// The command line besides the binary; `dir` holds the configuration file.
    fn args(self, dir: &Path) -> Vec<String> {
        let config = dir.join(self.file_name()).display().to_string();
        match self {
            Program::Collector { .. } => vec![format!("--config={config}")],
            Program::Alloy => vec![
                "run".into(),
                "--server.http.listen-addr=127.0.0.1:0".into(),
                format!("--storage.path={}", dir.join("data").display()),
                "--disable-reporting".into(),
                config,
            ],
        }
    }
}

/// The collector's own telemetry is off, so it binds no other port and spends nothing on it.
fn collector_config(listen: SocketAddr, sink: SocketAddr, batch: &Batch, exporter: &str) -> String {
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
  {exporter}:
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
      exporters: [{exporter}]
",
        size = batch.send_batch_size,
        timeout = batch.timeout_ms,
    )
}

fn alloy_config(listen: SocketAddr, sink: SocketAddr, batch: &Batch) -> String {
    format!(
        r#"otelcol.receiver.otlp "bench" {{
  grpc {{
    endpoint          = "{listen}"
    max_recv_msg_size = "64MiB"
  }}
  output {{
    traces = [otelcol.processor.batch.bench.input]
  }}
}}

otelcol.processor.batch "bench" {{
  send_batch_size     = {size}
  send_batch_max_size = 0
  timeout             = "{timeout}ms"
  output {{
    traces = [otelcol.exporter.otlp.bench.input]
  }}
}}

otelcol.exporter.otlp "bench" {{
  client {{
    endpoint    = "{sink}"
    compression = "none"
    tls {{
      insecure = true
    }}
  }}
}}
"#,
        size = batch.send_batch_size,
        timeout = batch.timeout_ms,
    )
}

/// A free loopback port (bound, then released for the child to take).
pub fn free_port() -> std::io::Result<SocketAddr> {
    TcpListener::bind("127.0.0.1:0")?.local_addr()
}

/// A running pipeline process; killed when dropped, its directory removed.
pub struct Pipeline {
    child: Child,
    pub listen: SocketAddr,
    dir: PathBuf,
}

impl Pipeline {
    /// Starts `bin` as `program` with a generated configuration in a fresh temporary
    /// directory, and waits until its receiver accepts connections.
    pub fn start(program: Program, bin: &Path, sink: SocketAddr, batch: &Batch) -> Result<Pipeline, String> {
        let listen = free_port().map_err(|e| format!("no free port: {e}"))?;
        let dir = std::env::temp_dir().join(format!("otlp-bench-{program:?}-{}-{}", std::process::id(), listen.port()));
        let config_path = dir.join(program.file_name());
        std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::File::create(&config_path))
            .and_then(|mut f| f.write_all(program.config(listen, sink, batch).as_bytes()))
            .map_err(|e| format!("cannot write {}: {e}", config_path.display()))?;
        // Its log goes to a file, shown if it fails to start.
        let log = std::fs::File::create(dir.join("stderr.log")).map_err(|e| {
            let _ = std::fs::remove_dir_all(&dir);
            format!("cannot create its log file: {e}")
        })?;
        let spawned = Command::new(bin).args(program.args(&dir)).stdin(Stdio::null()).stdout(Stdio::null()).stderr(log).spawn();
        let child = match spawned {
            Ok(c) => c,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(format!("cannot start {}: {e}", bin.display()));
            }
        };
        let mut p = Pipeline { child, listen, dir };
        match p.wait_listening(Duration::from_secs(30)) {
            Ok(()) => Ok(p),
            Err(e) => {
                let log = std::fs::read_to_string(p.dir.join("stderr.log")).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(5).collect();
                Err(format!("{e}{}", tail.iter().rev().map(|l| format!("\n  {l}")).collect::<String>()))
            }
        }
    }

    fn wait_listening(&mut self, within: Duration) -> Result<(), String> {
        let deadline = Instant::now() + within;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("the pipeline process exited at start ({status})"));
            }
            if TcpStream::connect_timeout(&self.listen, Duration::from_millis(100)).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("the pipeline process did not listen on {} within {within:?}", self.listen));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The child's user + system CPU time so far, in seconds.
    pub fn cpu_seconds(&self) -> Option<f64> {
        process_cpu_seconds(self.child.id())
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// utime + stime of process `pid` (all its threads, live and exited) from /proc/PID/stat.
pub fn process_cpu_seconds(pid: u32) -> Option<f64> {
    runtime::process::stat_cpu_seconds(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}
