//! The throughput bench's OpenTelemetry Collector row (`benches/otlp_throughput/collector.rs`):
//! the configuration it generates and how it handles the child process, without a collector.

// The bench uses the parts a test cannot reach without a collector binary.
#[allow(dead_code)]
#[path = "../benches/otlp_throughput/collector.rs"]
mod collector;

use std::net::SocketAddr;
use std::path::Path;

use collector::{config, process_cpu_seconds, stat_cpu_seconds, Batch, Collector};

#[test]
fn config_wires_receiver_batch_and_plaintext_exporter() {
    let listen: SocketAddr = "127.0.0.1:4317".parse().unwrap();
    let sink: SocketAddr = "127.0.0.1:5000".parse().unwrap();
    let c = config(listen, sink, &Batch { send_batch_size: 8192, timeout_ms: 200 });
    for line in [
        "        endpoint: 127.0.0.1:4317",
        "    send_batch_size: 8192",
        "    send_batch_max_size: 0",
        "    timeout: 200ms",
        "    endpoint: 127.0.0.1:5000",
        "    compression: none",
        "      insecure: true",
        "      level: none",
        "      receivers: [otlp]",
        "      processors: [batch]",
        "      exporters: [otlp]",
    ] {
        assert!(c.lines().any(|l| l == line), "missing {line:?} in\n{c}");
    }
    // YAML: indentation by spaces only.
    assert!(!c.contains('\t'));
}

#[test]
fn cpu_time_is_read_after_a_command_name_with_spaces_and_parentheses() {
    let stat = "42 (a (b) c) S 1 42 42 0 -1 4194304 92 78 0 0 250 50 0 0 20 0 1 0 4874623";
    assert_eq!(stat_cpu_seconds(stat), Some(3.0));
    assert_eq!(stat_cpu_seconds("42 (x) S 1"), None);
}

#[test]
fn a_child_process_cpu_time_is_readable_and_a_missing_binary_is_an_error() {
    assert!(process_cpu_seconds(std::process::id()).is_some_and(|s| s >= 0.0));
    let sink: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let err = Collector::start(Path::new("/nonexistent/otelcol"), sink, &Batch { send_batch_size: 1, timeout_ms: 1 }).err().unwrap();
    assert!(err.contains("cannot start /nonexistent/otelcol"), "{err}");
}

#[test]
fn a_collector_that_exits_at_start_is_reported() {
    let sink: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let err = Collector::start(Path::new("/bin/false"), sink, &Batch { send_batch_size: 1, timeout_ms: 1 }).err().unwrap();
    assert!(err.contains("exited at start"), "{err}");
}
