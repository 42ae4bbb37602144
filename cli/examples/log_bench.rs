//! The Loki pipeline benchmark: `alloy run` with `local.file_match` → `loki.source.file` →
//! `loki.process` (`stage.json`, `stage.labels`, `stage.timestamp`) → `loki.write`, reading
//! files of 200-byte JSON lines into a sink that decodes every push.
//!
//! ```text
//! cargo build --release -p alloy-cli
//! cargo run --release -p alloy-cli --example log_bench -- [--files 4] [--lines 500000] \
//!     [--no-process] [--alloy target/release/alloy] [--keep]
//! ```
//!
//! The files are written before `alloy` starts, in a directory it does not watch; once it is
//! ready they are renamed into the watched one, so what is measured is reading, processing,
//! batching and pushing as fast as the pipeline goes. Measured: CPU time of the `alloy`
//! process (`utime + stime` from `/proc/PID/stat`) from just before the rename until the sink
//! has every line, and the wall time of the same span; `VmHWM` at the end. Figures per
//! CPU-second are the issue's measure ("MiB/s per core"): bytes are the lines' bytes with their
//! newlines, as read from the files.
//!
//! The sink (in this process, so its CPU is not counted) answers 204 after decoding the
//! snappy protobuf with `loki::push::decode_request`, and checks every entry: its `seq` was not
//! seen before, its timestamp is the one written in the line (`stage.timestamp` parsed it),
//! and its labels carry `level` and `service` (`stage.labels`) and `filename`. `--no-process`
//! leaves `loki.process` out, to show what the stages cost. Exits non-zero when `alloy` is
//! missing or dies, a line is missing or duplicated, or a check fails.
//!
//! No other log shipper can be installed on these machines (Promtail, Fluent Bit and Vector
//! are in neither Debian nor a package registry reachable here, and Go programs cannot be
//! built), so the figures are absolute, against the issue's target of 50 MiB/s per core.

use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

#[path = "bench_support/mod.rs"]
mod bench_support;
use bench_support::*;

const LINE_BYTES: usize = 200;
const LEVELS: [&str; 4] = ["info", "warn", "error", "debug"];
const SERVICES: [&str; 8] = ["checkout", "cart", "payment", "shipping", "catalog", "auth", "search", "email"];
/// Line `seq` has the timestamp 2026-12-05T00:00:00Z + seq µs (RFC3339Nano in the line).
const BASE_NS: i64 = 1_796_428_800_000_000_000;

struct Opts {
    files: usize,
    lines: usize,
    no_process: bool,
    alloy: PathBuf,
    keep: bool,
}

const USAGE: &str = "usage: log_bench [--files 4] [--lines 500000 (per file)] [--no-process] [--alloy PATH] [--keep]";

fn parse_opts() -> Result<Opts, Error> {
    let exe = std::env::current_exe()?;
    // target/<profile>/examples/log_bench → target/<profile>/alloy
    let alloy = exe.parent().and_then(Path::parent).map(|d| d.join("alloy")).unwrap_or_else(|| PathBuf::from("target/release/alloy"));
    let mut o = Opts { files: 4, lines: 500_000, no_process: false, alloy, keep: false };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--files" => o.files = value()?.parse()?,
            "--lines" => o.lines = value()?.parse()?,
            "--no-process" => o.no_process = true,
            "--alloy" => o.alloy = PathBuf::from(value()?),
            "--keep" => o.keep = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            _ => return Err(format!("unknown argument {a:?}\n{USAGE}").into()),
        }
    }
    if o.files == 0 || o.lines == 0 {
        return Err("--files and --lines must be at least 1".into());
    }
    Ok(o)
}

// ---------------------------------------------------------------------------------------------
// The lines

fn timestamp_ns(seq: u64) -> i64 {
    BASE_NS + seq as i64 * 1000
}

/// Line `seq`: exactly [`LINE_BYTES`] bytes with its newline.
fn write_line(out: &mut Vec<u8>, seq: u64) {
    let start = out.len();
    let day_ns = timestamp_ns(seq) - BASE_NS;
    let (secs, nanos) = (day_ns / 1_000_000_000, day_ns % 1_000_000_000);
    let _ = write!(
        out,
        r#"{{"ts":"2026-12-05T{:02}:{:02}:{:02}.{nanos:09}Z","level":"{}","service":"{}","trace_id":"{:032x}","msg":"GET /api/v1/orders/{} served","status":200,"seq":{seq},"pad":""#,
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        LEVELS[(seq % 4) as usize],
        SERVICES[(seq / 4 % 8) as usize],
        u128::from(seq).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c834),
        seq % 100_000,
    );
    let used = out.len() - start + 3; // `"}` and the newline
    out.resize(out.len() + LINE_BYTES.saturating_sub(used), b'x');
    out.extend_from_slice(b"\"}\n");
}

/// Writes file `i` (lines `i`, `i + files`, `i + 2 files`, …) into `dir`; its path.
fn write_file(dir: &Path, i: usize, o: &Opts) -> Result<PathBuf, Error> {
    let path = dir.join(format!("app-{i}.log"));
    let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&path)?);
    let mut buf = Vec::with_capacity(LINE_BYTES * 2);
    for k in 0..o.lines {
        buf.clear();
        write_line(&mut buf, (k * o.files + i) as u64);
        f.write_all(&buf)?;
    }
    f.flush()?;
    Ok(path)
}

// ---------------------------------------------------------------------------------------------
// The sink

#[derive(Default)]
struct Stats {
    requests: u64,
    entries: u64,
    line_bytes: u64,
    duplicates: u64,
    wrong_timestamp: u64,
    missing_labels: u64,
    bad_lines: u64,
    errors: u64,
    first_error: Option<String>,
    /// Lines received, by `seq`.
    seen: Vec<bool>,
    streams: std::collections::HashSet<String>,
}

fn seq_of(line: &str) -> Option<u64> {
    let rest = &line[line.find("\"seq\":")? + 6..];
    rest[..rest.find(',')?].parse().ok()
}

fn check(stats: &mut Stats, body: &[u8], process: bool) {
    let streams = match loki::push::decode_request(body) {
        Ok(s) => s,
        Err(e) => {
            stats.errors += 1;
            stats.first_error.get_or_insert_with(|| e.to_string());
            return;
        }
    };
    for s in streams {
        let labelled = s.labels.contains("filename=") && (!process || (s.labels.contains("level=") && s.labels.contains("service=")));
        if !stats.streams.contains(&s.labels) {
            stats.streams.insert(s.labels.clone());
        }
        for e in s.entries {
            stats.entries += 1;
            stats.line_bytes += e.line.len() as u64 + 1;
            stats.missing_labels += u64::from(!labelled);
            let Some(seq) = seq_of(&e.line).filter(|&q| (q as usize) < stats.seen.len()) else {
                stats.bad_lines += 1;
                continue;
            };
            if std::mem::replace(&mut stats.seen[seq as usize], true) {
                stats.duplicates += 1;
            }
            if process && e.timestamp_ns != timestamp_ns(seq) {
                stats.wrong_timestamp += 1;
            }
        }
    }
}

fn start_sink(total: usize, process: bool) -> Result<(Arc<Mutex<Stats>>, u16), Error> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let stats = Arc::new(Mutex::new(Stats { seen: vec![false; total], ..Stats::default() }));
    let shared = stats.clone();
    serve(
        listener,
        Arc::new(move |req: &HttpRequest, out: &mut Vec<u8>| {
            if req.method != "POST" || req.path != "/loki/api/v1/push" {
                return response(out, "404 Not Found", "text/plain", b"");
            }
            let mut st = shared.lock().unwrap_or_else(|e| e.into_inner());
            st.requests += 1;
            check(&mut st, &req.body, process);
            response(out, "204 No Content", "text/plain", b"");
        }),
    );
    Ok((stats, port))
}

// ---------------------------------------------------------------------------------------------

fn alloy_config(o: &Opts, watched: &Path, sink: u16) -> String {
    let first = if o.no_process { "loki.write.sink.receiver" } else { "loki.process.bench.receiver" };
    let process = if o.no_process {
        String::new()
    } else {
        r#"
loki.process "bench" {
  forward_to = [loki.write.sink.receiver]

  stage.json {
    expressions = { ts = "", level = "", service = "" }
  }

  stage.labels {
    values = { level = "", service = "" }
  }

  stage.timestamp {
    source = "ts"
    format = "RFC3339Nano"
  }
}
"#
        .to_string()
    };
    format!(
        r#"local.file_match "bench" {{
  path_targets = [{{"__path__" = "{dir}/*.log", "job" = "bench"}}]
  sync_period  = "1s"
}}

loki.source.file "bench" {{
  targets    = local.file_match.bench.targets
  forward_to = [{first}]
}}
{process}
loki.write "sink" {{
  endpoint {{
    url = "http://127.0.0.1:{sink}/loki/api/v1/push"
  }}
}}
"#,
        dir = watched.display()
    )
}

fn main() {
    if let Err(e) = run() {
        eprintln!("log_bench: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Error> {
    let o = parse_opts()?;
    if !o.alloy.is_file() {
        return Err(format!("the alloy binary is missing (build it: cargo build --release -p alloy-cli): {}", o.alloy.display()).into());
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap_or(Path::new(".")).to_path_buf();
    let commit = command_output(Path::new("git"), &["rev-parse", "--short", "HEAD"], Some(&repo));
    let dirty = !command_output(Path::new("git"), &["status", "--porcelain", "--untracked-files=no"], Some(&repo)).is_empty();
    let alloy_age = SystemTime::now().duration_since(std::fs::metadata(&o.alloy)?.modified()?).unwrap_or_default();

    let tmp = std::env::temp_dir().join(format!("log-bench-{}", std::process::id()));
    std::fs::create_dir_all(&tmp)?;
    let result = measure(&o, &tmp, &commit, dirty, alloy_age);
    if o.keep || result.is_err() {
        eprintln!("config, log and files kept in {}", tmp.display());
    } else {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result
}

fn measure(o: &Opts, tmp: &Path, commit: &str, dirty: bool, alloy_age: Duration) -> Result<(), Error> {
    let (staging, watched) = (tmp.join("staging"), tmp.join("watched"));
    std::fs::create_dir_all(&staging)?;
    std::fs::create_dir_all(&watched)?;
    let total = o.files * o.lines;
    eprintln!("writing {} files of {} lines ({})", o.files, thousands(o.lines as f64), mib((total * LINE_BYTES) as f64));
    let files: Vec<PathBuf> = (0..o.files).map(|i| write_file(&staging, i, o)).collect::<Result<_, _>>()?;
    let file_bytes: u64 = files.iter().map(|f| std::fs::metadata(f).map_or(0, |m| m.len())).sum();

    let (stats, sink_port) = start_sink(total, !o.no_process)?;
    let config = tmp.join("bench.alloy");
    std::fs::write(&config, alloy_config(o, &watched, sink_port))?;
    let http = free_port()?;
    let args = vec![
        "run".to_string(),
        format!("--server.http.listen-addr=127.0.0.1:{http}"),
        format!("--storage.path={}", tmp.join("alloy-data").display()),
        config.display().to_string(),
    ];
    let mut alloy = spawn("alloy", &o.alloy, &args, tmp.join("alloy.log"), http)?;
    let started = Instant::now();
    while !http_ready(alloy.ready_port) {
        alloy.check_alive()?;
        if started.elapsed() > Duration::from_secs(60) {
            return Err("alloy was not ready within 60 s".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let load_start = loadavg();
    let cpu0 = cpu_seconds(alloy.pid())?;
    let began = Instant::now();
    for f in &files {
        std::fs::rename(f, watched.join(f.file_name().ok_or("file without a name")?))?;
    }
    let deadline = Duration::from_secs(600);
    let mut last = (0, Instant::now());
    loop {
        alloy.check_alive()?;
        let entries = stats.lock().unwrap_or_else(|e| e.into_inner()).entries;
        if entries >= total as u64 {
            break;
        }
        if entries != last.0 {
            last = (entries, Instant::now());
        } else if last.1.elapsed() > Duration::from_secs(30) {
            return Err(format!("stalled: {} of {} lines arrived, none in the last 30 s", thousands(entries as f64), thousands(total as f64)).into());
        }
        if began.elapsed() > deadline {
            return Err(format!("{} of {} lines arrived within {deadline:?}", thousands(entries as f64), thousands(total as f64)).into());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let cpu = cpu_seconds(alloy.pid())? - cpu0;
    let wall = began.elapsed().as_secs_f64();
    let hwm = status_bytes(alloy.pid(), "VmHWM:")?;
    let load_end = loadavg();
    // Anything more that arrives (duplicates) within a second is still counted.
    std::thread::sleep(Duration::from_secs(1));
    drop(alloy);
    let st = std::mem::take(&mut *stats.lock().unwrap_or_else(|e| e.into_inner()));

    let args: Vec<String> = std::env::args().skip(1).collect();
    let cmd = format!("cargo run --release -p alloy-cli --example log_bench{}{}", if args.is_empty() { "" } else { " -- " }, args.join(" "));
    let per_cpu_mib = file_bytes as f64 / (1u64 << 20) as f64 / cpu.max(1e-9);
    println!("## Loki pipeline: file → process → write\n");
    println!("- command: `cargo build --release -p alloy-cli && {cmd}`");
    println!("- machine: {}; load average {load_start} at the start, {load_end} at the end", machine());
    println!(
        "- alloy: {} (commit {commit}{}, built {:.0} min ago)",
        o.alloy.display(),
        if dirty { " + uncommitted changes" } else { "" },
        alloy_age.as_secs_f64() / 60.0
    );
    println!(
        "- load: {} files × {} lines of {LINE_BYTES} bytes (JSON) = {} lines, {}; pipeline: `loki.source.file` → {}`loki.write` (defaults) → a sink in the bench process that decodes and checks every push",
        o.files,
        thousands(o.lines as f64),
        thousands(total as f64),
        mib(file_bytes as f64),
        if o.no_process { "" } else { "`loki.process` (json, labels, timestamp) → " }
    );
    println!(
        "- method: CPU = utime+stime of `alloy` from the files' appearance until the sink has every line (/proc/PID/stat); wall time over the same span\n"
    );
    println!("| lines | MiB | CPU s | wall s | **MiB per CPU-second** | lines per CPU-second | MiB/s (wall) | peak RSS |");
    println!("|---|---|---|---|---|---|---|---|");
    println!(
        "| {} | {:.0} | {:.2} | {:.2} | **{:.1}** (target ≥ 50: {}) | {} | {:.1} | {} |",
        thousands(st.entries as f64),
        file_bytes as f64 / (1u64 << 20) as f64,
        cpu,
        wall,
        per_cpu_mib,
        if per_cpu_mib >= 50.0 { "met" } else { "not met" },
        thousands(st.entries as f64 / cpu.max(1e-9)),
        file_bytes as f64 / (1u64 << 20) as f64 / wall.max(1e-9),
        mib(hwm as f64)
    );
    let missing = st.seen.iter().filter(|s| !**s).count();
    println!(
        "\n- sink: {} pushes ({:.0} entries each), {} streams; {missing} lines missing, {} duplicated, {} with a wrong timestamp, {} without the expected labels, {} unrecognised lines, {} undecodable pushes{}",
        thousands(st.requests as f64),
        st.entries as f64 / st.requests.max(1) as f64,
        st.streams.len(),
        st.duplicates,
        st.wrong_timestamp,
        st.missing_labels,
        st.bad_lines,
        st.errors,
        st.first_error.map(|e| format!(" (first: {e})")).unwrap_or_default()
    );
    if st.line_bytes != file_bytes {
        println!("- the sink received {} of line bytes, the files hold {}", thousands(st.line_bytes as f64), thousands(file_bytes as f64));
    }
    let problems = missing as u64 + st.duplicates + st.wrong_timestamp + st.missing_labels + st.bad_lines + st.errors;
    if problems > 0 {
        return Err(format!("{problems} problem(s) above").into());
    }
    Ok(())
}
