//! Spans per second and per CPU-second through `otelcol.receiver.otlp` →
//! `otelcol.processor.batch` → `otelcol.exporter.otlp`, against a raw gRPC pass-through proxy
//! (forwards each request's bytes, decodes nothing), through the same pipeline with
//! `otelcol.processor.transform` in front of the batch processor, and, when `OTELCOL_BIN` or
//! `ALLOY_BIN` names a binary, through the OpenTelemetry Collector or the `alloy` binary
//! running the same pipeline as a child process.
//!
//! Everything runs on loopback. The load generator (concurrent gRPC streams sending one
//! pre-encoded request over and over) and the sink (an OTLP receiver counting spans) share one
//! tokio runtime; each path under test runs on a runtime of its own whose threads carry a name
//! of their own, and "per CPU-second" is the on-CPU time of those threads only (a child
//! process: its whole CPU time). This process's CPU is reported beside it.
//!
//! `cargo bench -p alloy-runtime --bench otlp_throughput`; environment: SECONDS=10 (measured
//! window, after 1 s of warm-up), CONCURRENCY=8, SPANS_PER_REQUEST=512, RATE (offered spans
//! per second over all streams, so paths are compared at the same throughput; unset: as fast
//! as each path answers),
//! PATHS=passthrough,pipeline,transform,collector,alloy (a subset, e.g. for a profile),
//! OTELCOL_BIN=/path/to/otelcol (OTELCOL_EXPORTER=otlp for a collector older than v0.144, which
//! does not know the exporter's name `otlp_grpc`), ALLOY_BIN=/path/to/alloy. SMOKE=1 (or `--smoke`) runs each path for about a second and
//! fails unless every span acknowledged to the load generator reached the sink, exactly once,
//! without errors: the bench's own correctness, for CI, not a timing.

mod child;
mod cpu;
mod load;
mod paths;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use load::{Measured, Sink};
use tokio::runtime::Runtime;
use tokio_util::sync::CancellationToken;

/// The batch processor's settings in both the Alloy pipeline and the collector's.
const BATCH: child::Batch = child::Batch { send_batch_size: 8192, timeout_ms: 200 };

pub struct Settings {
    pub warmup: Duration,
    pub window: Duration,
    pub concurrency: usize,
    /// Offered load in spans per second over all streams; `None`: each stream sends its next
    /// request as soon as the last is answered.
    pub rate: Option<f64>,
    pub spans_per_request: usize,
    pub smoke: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Path {
    PassThrough,
    Pipeline,
    Transform,
    Collector,
    Alloy,
}

impl Path {
    const ALL: [Path; 5] = [Path::PassThrough, Path::Pipeline, Path::Transform, Path::Collector, Path::Alloy];

    fn name(self) -> &'static str {
        match self {
            Path::PassThrough => "passthrough",
            Path::Pipeline => "pipeline",
            Path::Transform => "transform",
            Path::Collector => "collector",
            Path::Alloy => "alloy",
        }
    }

    /// The program a child-process path runs and the variable naming its binary.
    fn program(self) -> Option<(child::Program, &'static str)> {
        match self {
            Path::Collector => {
                let legacy_names = std::env::var("OTELCOL_EXPORTER").is_ok_and(|n| n == "otlp");
                Some((child::Program::Collector { legacy_names }, "OTELCOL_BIN"))
            }
            Path::Alloy => Some((child::Program::Alloy, "ALLOY_BIN")),
            _ => None,
        }
    }

    /// The name of the threads that run it (at most 15 bytes, see `cpu`).
    fn threads(self) -> String {
        format!("sut-{}", self.name())
    }
}

fn env<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|s| s.parse().ok())
}

fn main() {
    let smoke = std::env::args().any(|a| a == "--smoke") || std::env::var("SMOKE").is_ok_and(|v| !v.is_empty() && v != "0");
    let settings = Settings {
        warmup: if smoke { Duration::from_millis(200) } else { Duration::from_secs(1) },
        window: Duration::from_secs_f64(env("SECONDS").unwrap_or(if smoke { 1.0 } else { 10.0 })),
        concurrency: env("CONCURRENCY").unwrap_or(8),
        rate: env::<f64>("RATE").filter(|r| *r > 0.0),
        spans_per_request: env("SPANS_PER_REQUEST").unwrap_or(512),
        smoke,
    };
    let selected: Vec<Path> = match std::env::var("PATHS") {
        Ok(list) => Path::ALL.into_iter().filter(|p| list.split(',').any(|n| n.trim() == p.name())).collect(),
        Err(_) => Path::ALL.to_vec(),
    };
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let load = tokio::runtime::Builder::new_multi_thread().worker_threads(cores).thread_name("bench-load").enable_all().build().expect("load runtime");

    let body = load::request(settings.spans_per_request);
    println!(
        "{cores} cores, load average {}, {} spans/request ({} bytes), {} concurrent streams{}, {:?} per path after {:?} of warm-up{}",
        loadavg(),
        settings.spans_per_request,
        body.len(),
        settings.concurrency,
        settings.rate.map(|r| format!(" offering {r:.0} spans/s")).unwrap_or_default(),
        settings.window,
        settings.warmup,
        if smoke { " (smoke: checking delivery, not timing)" } else { "" }
    );
    let stop = CancellationToken::new();
    let sink = Arc::new(Sink::default());
    let sink_addr = load.block_on(paths::start_sink(sink.clone(), &stop));

    let mut rows: Vec<(Path, Measured)> = Vec::new();
    let mut failures: Vec<String> = Vec::new();
    for path in selected {
        let measured = match path.program() {
            None => in_process(&load, path, &body, sink_addr, &sink, &settings, cores),
            Some((program, var)) => match std::env::var_os(var).filter(|v| !v.is_empty()).map(PathBuf::from) {
                None => {
                    println!("{:<12} skipped: set {var}=/path/to/binary to measure it in the same run", path.name());
                    continue;
                }
                Some(bin) => match child::Pipeline::start(program, &bin, sink_addr, &BATCH) {
                    Ok(c) => load.block_on(load::measure(c.listen, &body, &sink, &settings, || c.cpu_seconds().unwrap_or(f64::NAN))),
                    Err(e) => {
                        failures.push(format!("{}: {e}", path.name()));
                        continue;
                    }
                },
            },
        };
        let in_process = path.program().is_none();
        println!("{}", row(path.name(), &measured, in_process));
        failures.extend(measured.problems(in_process).into_iter().map(|p| format!("{}: {p}", path.name())));
        rows.push((path, measured));
    }
    stop.cancel();

    let per_cpu = |p: Path| rows.iter().find(|(q, _)| *q == p).map(|(_, m)| m.per_path_cpu());
    if let (Some(pipe), Some(raw)) = (per_cpu(Path::Pipeline), per_cpu(Path::PassThrough)) {
        println!("pipeline / pass-through, spans per CPU-second of the path: {:.2}", pipe / raw);
    }
    if let (Some(pipe), Some(otel)) = (per_cpu(Path::Pipeline), per_cpu(Path::Collector)) {
        println!("pipeline / collector, spans per CPU-second of the path: {:.2}×", pipe / otel);
    }
    if let (Some(alloy), Some(raw)) = (per_cpu(Path::Alloy), per_cpu(Path::PassThrough)) {
        println!("alloy process / pass-through, spans per CPU-second: {:.2}", alloy / raw);
    }
    if let (Some(alloy), Some(otel)) = (per_cpu(Path::Alloy), per_cpu(Path::Collector)) {
        println!("alloy process / collector process, spans per CPU-second: {:.2}×", alloy / otel);
    }
    if let (Some(t), Some(pipe)) = (per_cpu(Path::Transform), per_cpu(Path::Pipeline)) {
        println!("transform / pipeline, spans per CPU-second of the path: {:.2}", t / pipe);
    }
    println!("load average at the end: {}", loadavg());
    if !failures.is_empty() {
        for f in &failures {
            eprintln!("FAILED {f}");
        }
        std::process::exit(1);
    }
    if smoke {
        println!("smoke: every acknowledged span reached the sink once, no errors");
    }
}

/// Runs one in-process path on a runtime of its own, measures it, and shuts it down.
fn in_process(load: &Runtime, path: Path, body: &bytes::Bytes, sink_addr: SocketAddr, sink: &Arc<Sink>, s: &Settings, cores: usize) -> Measured {
    let threads = path.threads();
    let sut = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores)
        .thread_name(&threads)
        // Blocking-pool threads stay alive through the window: a thread that exits takes its
        // CPU time out of the sum.
        .thread_keep_alive(Duration::from_secs(3600))
        .enable_all()
        .build()
        .expect("path runtime");
    let stop = CancellationToken::new();
    let start = {
        let stop = stop.clone();
        match path {
            Path::PassThrough => sut.spawn(async move { paths::start_forwarder(sink_addr, &stop).await }),
            Path::Pipeline => sut.spawn(async move { paths::start_pipeline(sink_addr, &stop, false, &BATCH).await }),
            _ => sut.spawn(async move { paths::start_pipeline(sink_addr, &stop, true, &BATCH).await }),
        }
    };
    let addr = load.block_on(start).expect("starting the path");
    let measured = load.block_on(load::measure(addr, body, sink, s, || cpu::threads_cpu_seconds(&threads)));
    stop.cancel();
    sut.shutdown_timeout(Duration::from_secs(2));
    measured
}

fn row(name: &str, m: &Measured, in_process: bool) -> String {
    let this_process = if in_process {
        format!("{:>6.2} CPU-s of this process ({:>9.0} per CPU-second)", m.process_cpu, m.per_process_cpu())
    } else {
        format!("{:>6.2} CPU-s of this process (load and sink only)", m.process_cpu)
    };
    format!(
        "{name:<12} {:>10.0} spans/s   {:>6.2} CPU-s of the path ({:>9.0} spans per CPU-second)   {this_process}   {} errors",
        m.spans_per_second(),
        m.path_cpu,
        m.per_path_cpu(),
        m.errors
    )
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg").map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" ")).unwrap_or_else(|_| "?".into())
}
