//! The throughput bench's child-process rows (`benches/otlp_throughput/child.rs`): the
//! configurations it generates and how it handles the process, without the binaries.

// The bench uses the parts a test cannot reach without a collector or alloy binary.
#[allow(dead_code)]
#[path = "../benches/otlp_throughput/child.rs"]
mod child;

use std::net::SocketAddr;
use std::path::Path;

use child::{process_cpu_seconds, Batch, Pipeline, Program};
use runtime::process::stat_cpu_seconds;

const BATCH: Batch = Batch { send_batch_size: 8192, timeout_ms: 200 };

fn addrs() -> (SocketAddr, SocketAddr) {
    ("127.0.0.1:4317".parse().unwrap(), "127.0.0.1:5000".parse().unwrap())
}

#[test]
fn the_collector_config_wires_receiver_batch_and_plaintext_exporter() {
    let (listen, sink) = addrs();
    let c = Program::Collector { legacy_names: false }.config(listen, sink, &BATCH);
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
        "  otlp_grpc:",
        "      exporters: [otlp_grpc]",
    ] {
        assert!(c.lines().any(|l| l == line), "missing {line:?} in\n{c}");
    }
    // YAML: indentation by spaces only.
    assert!(!c.contains('\t'));
    // Collectors before v0.144 know the exporter as `otlp` only.
    let legacy = Program::Collector { legacy_names: true }.config(listen, sink, &BATCH);
    assert!(legacy.lines().any(|l| l == "  otlp:") && legacy.contains("exporters: [otlp]") && !legacy.contains("otlp_grpc"), "{legacy}");
}

#[test]
fn the_alloy_config_is_valid_and_has_the_same_settings() {
    let (listen, sink) = addrs();
    let c = Program::Alloy.config(listen, sink, &BATCH);
    let report = analyzer::check_text("pipeline.alloy", &c, analyzer::Options::default());
    assert!(!report.has_errors(), "{:?}\n{c}", report.diagnostics);
    for needle in [
        r#"endpoint          = "127.0.0.1:4317""#,
        "send_batch_size     = 8192",
        "send_batch_max_size = 0",
        r#"timeout             = "200ms""#,
        r#"endpoint    = "127.0.0.1:5000""#,
        r#"compression = "none""#,
        "insecure = true",
        "traces = [otelcol.processor.batch.bench.input]",
        "traces = [otelcol.exporter.otlp.bench.input]",
    ] {
        assert!(c.contains(needle), "missing {needle:?} in\n{c}");
    }
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
    let (_, sink) = addrs();
    let err = Pipeline::start(Program::Collector { legacy_names: false }, Path::new("/nonexistent/otelcol"), sink, &BATCH).err().unwrap();
    assert!(err.contains("cannot start /nonexistent/otelcol"), "{err}");
}

#[test]
fn a_process_that_exits_at_start_is_reported() {
    let (_, sink) = addrs();
    for program in [Program::Collector { legacy_names: false }, Program::Alloy] {
        let err = Pipeline::start(program, Path::new("/bin/false"), sink, &BATCH).err().unwrap();
        assert!(err.contains("exited at start"), "{err}");
    }
}

#[test]
fn a_failed_start_shows_the_end_of_the_process_log() {
    let (_, sink) = addrs();
    // `sh --config=...` refuses the option on its standard error and exits.
    let err = Pipeline::start(Program::Collector { legacy_names: false }, Path::new("/bin/sh"), sink, &BATCH).err().unwrap();
    let mut lines = err.lines();
    assert!(lines.next().unwrap().contains("exited at start"), "{err}");
    assert!(lines.next().is_some_and(|l| l.starts_with("  ")), "{err}");
}
