//! The Prometheus pipeline benchmark: `alloy run` (`prometheus.scrape` → `prometheus.relabel`
//! → `prometheus.remote_write`) side by side with Prometheus 2.42 in agent mode
//! (`--enable-feature=agent`, scrape with `metric_relabel_configs` → `remote_write`), both
//! scraping the same generated targets at the same time and writing to the same kind of sink.
//!
//! ```text
//! cargo build --release -p alloy-cli
//! cargo run --release -p alloy-cli --example scrape_bench -- [--targets 100] [--series 2000] \
//!     [--interval 5s] [--window 60s] [--warmup 2] [--relabel-cache N] [--no-relabel] \
//!     [--prometheus-queue-defaults] [--alloy target/release/alloy] [--prometheus /usr/bin/prometheus] [--keep]
//! ```
//!
//! `--relabel-cache N` sets `prometheus.relabel`'s `max_cache_size` (default 100 000, fewer than
//! the 200 500 active series of the default load); `--no-relabel` leaves the relabel step out
//! of both pipelines; Prometheus's `queue_config` is set to Alloy's defaults (capacity 10 000,
//! max_shards 50, max_samples_per_send 2 000) unless `--prometheus-queue-defaults`. To profile
//! `alloy`, build `cargo build --profile profiling -p alloy-cli`, pass
//! `--alloy target/profiling/alloy` and attach `perf record --call-graph dwarf -p PID` during
//! the window.
//!
//! Inside this process, on loopback:
//! - N targets, one port each, serve S series in the text format 0.0.4: node-exporter-like
//!   families (HELP/TYPE, two or three labels per series), values that change on every request
//!   (one shared body template; each request copies it and writes new fixed-width values).
//! - Two remote-write sinks (one port per sender, and every sender adds an external label
//!   `sender` that the sink checks) answer 204 after Snappy-decoding the request and walking
//!   its protobuf: they count samples by their timestamp, distinct series, stale markers and
//!   series without the relabelled label; every 64th request is also decoded in full with
//!   `prom::remote::proto::decode_v1` to cross-check the walker.
//!
//! Both senders start together; after they deliver, a warm-up of `--warmup` intervals (at least
//! 10 s), then a
//! window of `--window` (rounded up to whole intervals). Measured per sender process: CPU time
//! (`utime + stime` from `/proc/PID/stat`, children excluded) over the window, the samples
//! whose timestamps fall in the window (exactly N × (S + 5) × window / interval when nothing is
//! lost; the sink waits up to two intervals + 10 s after the window for late ones and says so
//! if some never arrive), and `VmRSS` at the window's end (also its mean over the window and
//! `VmHWM`). Active series = N × (S + 5 report series). Exits non-zero when a binary is
//! missing, a process dies or nothing arrives.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

#[path = "bench_support/mod.rs"]
mod bench_support;
use bench_support::*;

/// Report series every scrape adds per target (`up`, `scrape_duration_seconds`,
/// `scrape_samples_scraped`, `scrape_samples_post_metric_relabeling`, `scrape_series_added`).
const REPORT_SERIES: usize = 5;
const STALE_NAN: u64 = 0x7ff0_0000_0000_0002;
/// The label both relabel rules add.
const RELABEL_NAME: &str = "bench";
const RELABEL_VALUE: &str = "relabeled";
/// Alloy's `prometheus.remote_write` queue defaults (Prometheus 2.42's own: 2500 / 200 / 500).
const QUEUE: (usize, usize, usize) = (10_000, 50, 2_000);
const SENDERS: [&str; 2] = ["alloy", "prometheus"];

struct Opts {
    targets: usize,
    series: usize,
    interval: Duration,
    window: Duration,
    warmup: u32,
    relabel_cache: Option<u64>,
    no_relabel: bool,
    prometheus_queue_defaults: bool,
    alloy: PathBuf,
    prometheus: PathBuf,
    keep: bool,
}

fn parse_duration(s: &str) -> Result<Duration, Error> {
    let (num, unit) = s.find(|c: char| c.is_ascii_alphabetic()).map_or((s, "s"), |i| (&s[..i], &s[i..]));
    let n: f64 = num.parse().map_err(|_| format!("bad duration {s:?}"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return Err(format!("bad duration unit in {s:?} (ms, s, m)").into()),
    };
    if secs <= 0.0 {
        return Err(format!("duration {s:?} must be positive").into());
    }
    Ok(Duration::from_secs_f64(secs))
}

fn parse_opts() -> Result<Opts, Error> {
    let exe = std::env::current_exe()?;
    // target/<profile>/examples/scrape_bench → target/<profile>/alloy
    let alloy = exe.parent().and_then(Path::parent).map(|d| d.join("alloy")).unwrap_or_else(|| PathBuf::from("target/release/alloy"));
    let mut o = Opts {
        targets: 100,
        series: 2000,
        interval: Duration::from_secs(5),
        window: Duration::from_secs(60),
        warmup: 2,
        relabel_cache: None,
        no_relabel: false,
        prometheus_queue_defaults: false,
        alloy,
        prometheus: PathBuf::from("/usr/bin/prometheus"),
        keep: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--targets" => o.targets = value()?.parse()?,
            "--series" => o.series = value()?.parse()?,
            "--interval" => o.interval = parse_duration(&value()?)?,
            "--window" => o.window = parse_duration(&value()?)?,
            "--warmup" => o.warmup = value()?.parse()?,
            "--relabel-cache" => o.relabel_cache = Some(value()?.parse()?),
            "--prometheus-queue-defaults" => o.prometheus_queue_defaults = true,
            "--no-relabel" => o.no_relabel = true,
            "--alloy" => o.alloy = PathBuf::from(value()?),
            "--prometheus" => o.prometheus = PathBuf::from(value()?),
            "--keep" => o.keep = true,
            "-h" | "--help" => {
                println!("{}", USAGE);
                std::process::exit(0);
            }
            _ => return Err(format!("unknown argument {a:?}\n{USAGE}").into()),
        }
    }
    if o.targets == 0 || o.series == 0 {
        return Err("--targets and --series must be at least 1".into());
    }
    // Whole intervals, so every target scrapes exactly window / interval times in it.
    let ticks = (o.window.as_secs_f64() / o.interval.as_secs_f64()).ceil().max(1.0);
    o.window = o.interval.mul_f64(ticks);
    Ok(o)
}

const USAGE: &str = "usage: scrape_bench [--targets 100] [--series 2000] [--interval 5s] [--window 60s] [--warmup 2] \
[--relabel-cache N] [--no-relabel] [--prometheus-queue-defaults] [--alloy PATH] [--prometheus PATH] [--keep]";

// ---------------------------------------------------------------------------------------------
// Targets

/// One family of the generated exposition: 100 series, labels from the series' index.
struct Family {
    name: &'static str,
    typ: &'static str,
    help: &'static str,
}

const FAMILIES: [Family; 10] = [
    Family { name: "node_cpu_seconds_total", typ: "counter", help: "Seconds the CPUs spent in each mode." },
    Family { name: "node_network_receive_bytes_total", typ: "counter", help: "Network device statistic receive_bytes." },
    Family { name: "node_network_transmit_bytes_total", typ: "counter", help: "Network device statistic transmit_bytes." },
    Family { name: "node_disk_read_bytes_total", typ: "counter", help: "The total number of bytes read successfully." },
    Family { name: "node_disk_written_bytes_total", typ: "counter", help: "The total number of bytes written successfully." },
    Family { name: "node_filesystem_avail_bytes", typ: "gauge", help: "Filesystem space available to non-root users in bytes." },
    Family { name: "node_filesystem_size_bytes", typ: "gauge", help: "Filesystem size in bytes." },
    Family { name: "node_softnet_processed_total", typ: "counter", help: "Number of processed packets" },
    Family { name: "node_interrupts_total", typ: "counter", help: "Interrupt details." },
    Family { name: "node_hwmon_temp_celsius", typ: "gauge", help: "Hardware monitor for temperature (input)" },
];
const PER_FAMILY: usize = 100;
const MODES: [&str; 8] = ["idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user"];
/// Width of every value: counters of 10 digits, so a body's layout never changes.
const VALUE_WIDTH: usize = 10;

fn series_labels(family: usize, k: usize) -> String {
    match family {
        0 => format!("cpu=\"{}\",mode=\"{}\"", k / 8, MODES[k % 8]),
        1 | 2 => format!("device=\"eth{k}\""),
        3 | 4 => format!("device=\"nvme{}n{}\"", k / 10, k % 10 + 1),
        5 | 6 => format!(
            "device=\"/dev/sd{}{}\",fstype=\"{}\",mountpoint=\"/mnt/data{k}\"",
            (b'a' + (k / 10) as u8) as char,
            k % 10,
            if k.is_multiple_of(3) { "xfs" } else { "ext4" }
        ),
        7 => format!("cpu=\"{k}\""),
        8 => format!("cpu=\"{}\",devices=\"eth{}-TxRx-{}\",type=\"{}\"", k % 8, k / 8, k % 4, 120 + k / 8),
        _ => format!("chip=\"platform_coretemp_{}\",sensor=\"temp{}\"", k / 10, k % 10 + 1),
    }
}

/// The exposition every target serves, with the offset of each series' value.
struct Template {
    body: Vec<u8>,
    slots: Vec<usize>,
}

fn template(series: usize) -> Template {
    let mut body = String::new();
    let mut slots = Vec::with_capacity(series);
    let mut j = 0;
    let mut f = 0;
    while j < series {
        let fam = &FAMILIES[f % FAMILIES.len()];
        let name = if f < FAMILIES.len() { fam.name.to_string() } else { format!("{}_{}", fam.name, f / FAMILIES.len()) };
        let _ = writeln!(body, "# HELP {name} {}\n# TYPE {name} {}", fam.help, fam.typ);
        for k in 0..PER_FAMILY.min(series - j) {
            let _ = write!(body, "{name}{{{}}} ", series_labels(f % FAMILIES.len(), k));
            slots.push(body.len());
            body.push_str(&"0".repeat(VALUE_WIDTH));
            body.push('\n');
            j += 1;
        }
        f += 1;
    }
    Template { body: body.into_bytes(), slots }
}

/// A 10-digit value of series `j` of target `target` at its `tick`-th request.
fn value(target: usize, j: usize, tick: u64) -> u64 {
    let base = 1_000_000_000 + ((target as u64 * 7_919 + j as u64 * 104_729) % 4_000_000_000);
    base + (j as u64 % 97 + 1) * tick
}

fn write_digits(out: &mut [u8], mut v: u64) {
    for b in out.iter_mut().rev() {
        *b = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// Starts one listener per target; returns their ports.
fn start_targets(n: usize, t: Arc<Template>) -> Result<Vec<u16>, Error> {
    let mut ports = Vec::with_capacity(n);
    for i in 0..n {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        ports.push(listener.local_addr()?.port());
        let t = t.clone();
        let ticks = AtomicU64::new(0);
        serve(
            listener,
            Arc::new(move |req: &HttpRequest, out: &mut Vec<u8>| {
                if req.method != "GET" {
                    return response(out, "405 Method Not Allowed", "text/plain", b"");
                }
                let tick = ticks.fetch_add(1, Ordering::Relaxed);
                let _ = write!(out, "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {}\r\n\r\n", t.body.len());
                let start = out.len();
                out.extend_from_slice(&t.body);
                for (j, &slot) in t.slots.iter().enumerate() {
                    write_digits(&mut out[start + slot..start + slot + VALUE_WIDTH], value(i, j, tick));
                }
            }),
        );
    }
    Ok(ports)
}

// ---------------------------------------------------------------------------------------------
// The remote-write sink

/// Samples are counted when `start <= t < start + length` (milliseconds); `start` is 0 until
/// the window begins (one atomic, so a handler never sees half a window).
struct Window {
    start: AtomicI64,
    length: i64,
}

impl Window {
    fn bounds(&self) -> (i64, i64) {
        match self.start.load(Ordering::SeqCst) {
            0 => (i64::MAX, i64::MAX),
            s => (s, s + self.length),
        }
    }
}

#[derive(Default)]
struct SenderStats {
    requests: u64,
    bytes: u64,
    samples: u64,
    histograms: u64,
    stale: u64,
    max_t: i64,
    /// Samples with a timestamp in the window.
    in_window: u64,
    /// Distinct series with a sample in the window.
    series: HashSet<u64>,
    /// Series (per request) without the relabelled label / with another sender's label.
    missing_relabel: u64,
    wrong_sender: u64,
    errors: u64,
    crosschecked: u64,
    crosscheck_mismatches: u64,
}

struct Sink {
    name: &'static str,
    window: Arc<Window>,
    stats: Mutex<SenderStats>,
}

/// One protobuf field: number and payload.
enum Field<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32,
}

struct Fields<'a> {
    b: &'a [u8],
    p: usize,
}

fn varint(b: &[u8], p: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    let mut shift = 0;
    while *p < b.len() && shift < 64 {
        let c = b[*p];
        *p += 1;
        v |= u64::from(c & 0x7f) << shift;
        if c < 0x80 {
            return Some(v);
        }
        shift += 7;
    }
    None
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u64, Field<'a>), String>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.p >= self.b.len() {
            return None;
        }
        let bad = || Some(Err("truncated protobuf".to_string()));
        let Some(key) = varint(self.b, &mut self.p) else { return bad() };
        let field = match key & 7 {
            0 => match varint(self.b, &mut self.p) {
                Some(v) => Field::Varint(v),
                None => return bad(),
            },
            1 => {
                let Some(s) = self.b.get(self.p..self.p + 8) else { return bad() };
                self.p += 8;
                Field::Fixed64(u64::from_le_bytes(s.try_into().unwrap_or_default()))
            }
            2 => {
                let Some(len) = varint(self.b, &mut self.p) else { return bad() };
                let Some(s) = self.b.get(self.p..self.p + len as usize) else { return bad() };
                self.p += len as usize;
                Field::Bytes(s)
            }
            5 => {
                self.p += 4;
                Field::Fixed32
            }
            w => return Some(Err(format!("unsupported wire type {w}"))),
        };
        Some(Ok((key >> 3, field)))
    }
}

fn fields(b: &[u8]) -> Fields<'_> {
    Fields { b, p: 0 }
}

/// What one request held, before it is added to the sender's totals.
#[derive(Default)]
struct RequestCount {
    samples: u64,
    histograms: u64,
    stale: u64,
    max_t: i64,
    in_window: u64,
    series: Vec<u64>,
    missing_relabel: u64,
    wrong_sender: u64,
}

/// Walks a `prometheus.WriteRequest` (1.0): timeseries = 1 { labels = 1 { name = 1, value = 2 },
/// samples = 2 { value = 1 (double), timestamp = 2 (int64) }, histograms = 4 }.
fn walk(body: &[u8], sender: &str, start: i64, end: i64) -> Result<RequestCount, String> {
    let mut c = RequestCount { max_t: i64::MIN, ..RequestCount::default() };
    for f in fields(body) {
        let (1, Field::Bytes(ts)) = f? else { continue };
        let mut hash = std::collections::hash_map::DefaultHasher::new();
        let (mut relabeled, mut sender_ok, mut any_in_window) = (false, false, false);
        for f in fields(ts) {
            match f? {
                (1, Field::Bytes(label)) => {
                    let (mut name, mut value): (&[u8], &[u8]) = (b"", b"");
                    for f in fields(label) {
                        match f? {
                            (1, Field::Bytes(n)) => name = n,
                            (2, Field::Bytes(v)) => value = v,
                            _ => {}
                        }
                    }
                    if name == b"sender" {
                        sender_ok = value == sender.as_bytes();
                        continue;
                    }
                    relabeled |= name == RELABEL_NAME.as_bytes() && value == RELABEL_VALUE.as_bytes();
                    name.hash(&mut hash);
                    value.hash(&mut hash);
                }
                (2, Field::Bytes(sample)) => {
                    let (mut v, mut t) = (0u64, 0i64);
                    for f in fields(sample) {
                        match f? {
                            (1, Field::Fixed64(bits)) => v = bits,
                            (2, Field::Varint(ts)) => t = ts as i64,
                            _ => {}
                        }
                    }
                    c.samples += 1;
                    c.stale += u64::from(v == STALE_NAN);
                    c.max_t = c.max_t.max(t);
                    if t >= start && t < end {
                        c.in_window += 1;
                        any_in_window = true;
                    }
                }
                (4, Field::Bytes(_)) => c.histograms += 1,
                _ => {}
            }
        }
        c.missing_relabel += u64::from(!relabeled);
        c.wrong_sender += u64::from(!sender_ok);
        if any_in_window {
            c.series.push(hash.finish());
        }
    }
    Ok(c)
}

impl Sink {
    fn handle(&self, req: &HttpRequest, out: &mut Vec<u8>) {
        if req.method != "POST" || req.path != "/api/v1/write" {
            return response(out, "404 Not Found", "text/plain", b"");
        }
        let (start, end) = self.window.bounds();
        let decoded =
            prom::remote::decompress(&req.body, 256 << 20).map_err(|e| e.to_string()).and_then(|raw| walk(&raw, self.name, start, end).map(|c| (raw, c)));
        let mut st = self.stats.lock().unwrap_or_else(|e| e.into_inner());
        st.requests += 1;
        st.bytes += req.body.len() as u64;
        let (raw, c) = match decoded {
            Ok(x) => x,
            Err(e) => {
                st.errors += 1;
                drop(st);
                return response(out, "400 Bad Request", "text/plain", e.as_bytes());
            }
        };
        // Every 64th request: the full decoder must see the same samples.
        if st.requests % 64 == 1 {
            st.crosschecked += 1;
            match prom::remote::proto::decode_v1(&raw) {
                Ok(b) if b.samples.len() as u64 == c.samples && b.histograms.len() as u64 == c.histograms => {}
                _ => st.crosscheck_mismatches += 1,
            }
        }
        st.samples += c.samples;
        st.histograms += c.histograms;
        st.stale += c.stale;
        st.max_t = st.max_t.max(c.max_t);
        st.in_window += c.in_window;
        st.missing_relabel += c.missing_relabel;
        st.wrong_sender += c.wrong_sender;
        st.series.extend(c.series);
        drop(st);
        out.extend_from_slice(b"HTTP/1.1 204 No Content\r\n\r\n");
    }
}

fn start_sink(name: &'static str, window: Arc<Window>) -> Result<(Arc<Sink>, u16), Error> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let sink = Arc::new(Sink { name, window, stats: Mutex::new(SenderStats { max_t: i64::MIN, ..SenderStats::default() }) });
    let s = sink.clone();
    serve(listener, Arc::new(move |req: &HttpRequest, out: &mut Vec<u8>| s.handle(req, out)));
    Ok((sink, port))
}

// ---------------------------------------------------------------------------------------------
// The two senders

fn go_duration(d: Duration) -> String {
    format!("{}ms", d.as_millis())
}

fn alloy_config(o: &Opts, ports: &[u16], sink: u16) -> String {
    let targets: Vec<String> = ports.iter().map(|p| format!("    {{\"__address__\" = \"127.0.0.1:{p}\"}},")).collect();
    let cache = o.relabel_cache.map(|n| format!("  max_cache_size = {n}\n")).unwrap_or_default();
    let iv = go_duration(o.interval);
    let (forward, relabel) = if o.no_relabel {
        ("prometheus.remote_write.bench.receiver", String::new())
    } else {
        (
            "prometheus.relabel.bench.receiver",
            format!(
                r#"
prometheus.relabel "bench" {{
{cache}  forward_to = [prometheus.remote_write.bench.receiver]
  rule {{
    target_label = "{RELABEL_NAME}"
    replacement  = "{RELABEL_VALUE}"
  }}
}}
"#
            ),
        )
    };
    format!(
        r#"prometheus.scrape "bench" {{
  targets = [
{targets}
  ]
  job_name        = "bench"
  scrape_interval = "{iv}"
  scrape_timeout  = "{iv}"
  forward_to      = [{forward}]
}}
{relabel}
prometheus.remote_write "bench" {{
  external_labels = {{sender = "alloy"}}
  endpoint {{
    url = "http://127.0.0.1:{sink}/api/v1/write"
  }}
}}
"#,
        targets = targets.join("\n")
    )
}

fn prometheus_config(o: &Opts, ports: &[u16], sink: u16) -> String {
    let targets: Vec<String> = ports.iter().map(|p| format!("'127.0.0.1:{p}'")).collect();
    let iv = go_duration(o.interval);
    let relabel = if o.no_relabel {
        String::new()
    } else {
        format!("    metric_relabel_configs:\n      - target_label: {RELABEL_NAME}\n        replacement: {RELABEL_VALUE}\n")
    };
    let queue = if o.prometheus_queue_defaults {
        String::new()
    } else {
        format!("    queue_config:\n      capacity: {}\n      max_shards: {}\n      max_samples_per_send: {}\n", QUEUE.0, QUEUE.1, QUEUE.2)
    };
    format!(
        r#"global:
  scrape_interval: {iv}
  scrape_timeout: {iv}
  external_labels:
    sender: prometheus
scrape_configs:
  - job_name: bench
    static_configs:
      - targets: [{targets}]
{relabel}remote_write:
  - url: http://127.0.0.1:{sink}/api/v1/write
{queue}"#,
        targets = targets.join(", ")
    )
}

// ---------------------------------------------------------------------------------------------

struct Measured {
    cpu: f64,
    rss_end: u64,
    rss_mean: f64,
    hwm: u64,
}

fn main() {
    if let Err(e) = run() {
        eprintln!("scrape_bench: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Error> {
    let o = parse_opts()?;
    for (what, p) in [("the alloy binary (build it: cargo build --release -p alloy-cli)", &o.alloy), ("prometheus", &o.prometheus)] {
        if !p.is_file() {
            return Err(format!("{what} is missing: {}", p.display()).into());
        }
    }
    let prom_version = command_output(&o.prometheus, &["--version"], None).lines().next().unwrap_or_default().to_string();
    if !prom_version.contains("prometheus") {
        return Err(format!("{} --version did not answer like Prometheus: {prom_version:?}", o.prometheus.display()).into());
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap_or(Path::new(".")).to_path_buf();
    let commit = command_output(Path::new("git"), &["rev-parse", "--short", "HEAD"], Some(&repo));
    let dirty = !command_output(Path::new("git"), &["status", "--porcelain", "--untracked-files=no"], Some(&repo)).is_empty();
    let alloy_built = std::fs::metadata(&o.alloy)?.modified()?;
    let alloy_age = SystemTime::now().duration_since(alloy_built).unwrap_or_default();

    let tmp = std::env::temp_dir().join(format!("scrape-bench-{}", std::process::id()));
    std::fs::create_dir_all(&tmp)?;
    let result = measure(&o, &tmp, &prom_version, &commit, dirty, alloy_age);
    if o.keep || result.is_err() {
        eprintln!("configs, logs and WALs kept in {}", tmp.display());
    } else {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result
}

fn measure(o: &Opts, tmp: &Path, prom_version: &str, commit: &str, dirty: bool, alloy_age: Duration) -> Result<(), Error> {
    let load_start = loadavg();
    let t = Arc::new(template(o.series));
    let ports = start_targets(o.targets, t.clone())?;
    let window_ms = o.window.as_millis() as i64;
    let window = Arc::new(Window { start: AtomicI64::new(0), length: window_ms });
    let (alloy_sink, alloy_sink_port) = start_sink(SENDERS[0], window.clone())?;
    let (prom_sink, prom_sink_port) = start_sink(SENDERS[1], window.clone())?;
    let sinks = [alloy_sink, prom_sink];

    let alloy_cfg = tmp.join("bench.alloy");
    std::fs::write(&alloy_cfg, alloy_config(o, &ports, alloy_sink_port))?;
    let prom_cfg = tmp.join("prometheus.yml");
    std::fs::write(&prom_cfg, prometheus_config(o, &ports, prom_sink_port))?;

    let (alloy_http, prom_http) = (free_port()?, free_port()?);
    let alloy_args = vec![
        "run".to_string(),
        format!("--server.http.listen-addr=127.0.0.1:{alloy_http}"),
        format!("--storage.path={}", tmp.join("alloy-data").display()),
        alloy_cfg.display().to_string(),
    ];
    let prom_args = vec![
        "--enable-feature=agent".to_string(),
        format!("--config.file={}", prom_cfg.display()),
        format!("--storage.agent.path={}", tmp.join("prometheus-agent").display()),
        format!("--web.listen-address=127.0.0.1:{prom_http}"),
    ];
    let mut senders = [
        spawn(SENDERS[0], &o.alloy, &alloy_args, tmp.join("alloy.log"), alloy_http)?,
        spawn(SENDERS[1], &o.prometheus, &prom_args, tmp.join("prometheus.log"), prom_http)?,
    ];
    let started = Instant::now();
    for s in senders.iter_mut() {
        while !http_ready(s.ready_port) {
            s.check_alive()?;
            if started.elapsed() > Duration::from_secs(60) {
                return Err(format!("{} was not ready within 60 s", s.name).into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    eprintln!("both ready after {:.1} s; waiting for the first samples", started.elapsed().as_secs_f64());
    let deadline = Instant::now() + o.interval * 3 + Duration::from_secs(30);
    while sinks.iter().any(|s| s.stats.lock().unwrap_or_else(|e| e.into_inner()).samples == 0) {
        for s in senders.iter_mut() {
            s.check_alive()?;
        }
        if Instant::now() > deadline {
            let none: Vec<&str> = sinks.iter().filter(|s| s.stats.lock().unwrap_or_else(|e| e.into_inner()).samples == 0).map(|s| s.name).collect();
            return Err(format!("no samples from {} within {:?}", none.join(", "), o.interval * 3 + Duration::from_secs(30)).into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let warmup = (o.interval * o.warmup).max(Duration::from_secs(10));
    eprintln!("both deliver; warming up for {:.0} s, then measuring for {:.0} s", warmup.as_secs_f64(), o.window.as_secs_f64());
    std::thread::sleep(warmup);

    // The window.
    let start_ms = now_ms();
    window.start.store(start_ms, Ordering::SeqCst);
    let cpu0: Vec<f64> = senders.iter().map(|s| cpu_seconds(s.pid())).collect::<Result<_, _>>()?;
    let began = Instant::now();
    let mut rss_sum = [0f64; 2];
    let mut rss_n = 0u32;
    while began.elapsed() < o.window {
        std::thread::sleep((o.window - began.elapsed()).min(Duration::from_secs(1)));
        for (i, s) in senders.iter_mut().enumerate() {
            s.check_alive()?;
            rss_sum[i] += status_bytes(s.pid(), "VmRSS:")? as f64;
        }
        rss_n += 1;
    }
    let mut measured = Vec::new();
    for (i, s) in senders.iter().enumerate() {
        measured.push(Measured {
            cpu: cpu_seconds(s.pid())? - cpu0[i],
            rss_end: status_bytes(s.pid(), "VmRSS:")?,
            rss_mean: rss_sum[i] / f64::from(rss_n.max(1)),
            hwm: status_bytes(s.pid(), "VmHWM:")?,
        });
    }
    let elapsed = began.elapsed().as_secs_f64();
    let load_end = loadavg();

    // Late samples of the window: wait until each sender delivered all it scraped, or give up.
    let active = o.targets * (o.series + REPORT_SERIES);
    let ticks = (o.window.as_secs_f64() / o.interval.as_secs_f64()).round() as u64;
    let expected = active as u64 * ticks;
    let drain_deadline = Instant::now() + o.interval * 2 + Duration::from_secs(10);
    let mut lag = [None; 2];
    loop {
        let end = start_ms + window_ms;
        for (i, s) in sinks.iter().enumerate() {
            let st = s.stats.lock().unwrap_or_else(|e| e.into_inner());
            if lag[i].is_none() && st.in_window >= expected {
                lag[i] = Some(now_ms() - end);
            }
        }
        if lag.iter().all(Option::is_some) || Instant::now() > drain_deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let stats: Vec<SenderStats> = sinks.iter().map(|s| std::mem::take(&mut *s.stats.lock().unwrap_or_else(|e| e.into_inner()))).collect();
    drop(senders);

    // The report.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cmd = format!("cargo run --release -p alloy-cli --example scrape_bench{}{}", if args.is_empty() { "" } else { " -- " }, args.join(" "));
    println!("## Prometheus pipeline: scrape → relabel → remote_write, alloy vs Prometheus agent\n");
    println!("- command: `cargo build --release -p alloy-cli && {cmd}`");
    println!("- machine: {}; load average {load_start} at the start, {load_end} at the end", machine());
    println!(
        "- alloy: {} (commit {commit}{}, built {:.0} min ago); prometheus: {prom_version} with `--enable-feature=agent`",
        o.alloy.display(),
        if dirty { " + uncommitted changes" } else { "" },
        alloy_age.as_secs_f64() / 60.0
    );
    println!(
        "- load: {} targets × {} series (+{REPORT_SERIES} report series each) = {} active series every {:.3} s ({} samples/s per sender), node-exporter-like text format, values change on every scrape; one port per target on loopback",
        o.targets,
        o.series,
        thousands(active as f64),
        o.interval.as_secs_f64(),
        thousands(active as f64 / o.interval.as_secs_f64())
    );
    let relabel = if o.no_relabel {
        "no relabel step (`--no-relabel`)".to_string()
    } else {
        format!(
            "`prometheus.relabel` (one rule adding `{RELABEL_NAME}=\"{RELABEL_VALUE}\"`, max_cache_size {})",
            o.relabel_cache.map_or("100000 (default)".to_string(), |n| n.to_string())
        )
    };
    println!(
        "- pipelines: alloy `prometheus.scrape` → {relabel} → `prometheus.remote_write` (WAL, default queue: capacity {}, max_shards {}, max_samples_per_send {}); prometheus: the same targets, {}, `remote_write` with {}",
        QUEUE.0,
        QUEUE.1,
        QUEUE.2,
        if o.no_relabel { "no `metric_relabel_configs`" } else { "the same rule in `metric_relabel_configs`" },
        if o.prometheus_queue_defaults { "Prometheus's default queue_config (capacity 2500, max_shards 200, max_samples_per_send 500)".to_string() } else { format!("queue_config set to alloy's defaults ({} / {} / {})", QUEUE.0, QUEUE.1, QUEUE.2) }
    );
    println!(
        "- method: both run at the same time against the same targets, each writing to its own sink port; after both delivered and {:.0} s of warm-up, a window of {:.0} s ({:.1} s measured): CPU = utime+stime of the process over the window (/proc/PID/stat, children excluded); samples = those the sink received with timestamps in the window (expected {} = active series × {ticks} scrapes); RSS = VmRSS at the window's end (mean over the window and VmHWM beside it)\n",
        warmup.as_secs_f64(),
        o.window.as_secs_f64(),
        elapsed,
        thousands(expected as f64)
    );
    println!("| sender | samples in window (of expected) | CPU s | **samples per CPU-second** | RSS at end (mean, peak) | **RSS per active series** |");
    println!("|---|---|---|---|---|---|");
    let per_cpu: Vec<f64> = (0..2).map(|i| stats[i].in_window as f64 / measured[i].cpu.max(1e-9)).collect();
    let per_series: Vec<f64> = (0..2).map(|i| measured[i].rss_end as f64 / active as f64).collect();
    let label = ["alloy (this repo)", "Prometheus 2.42 agent"];
    for i in 0..2 {
        println!(
            "| {} | {} ({:.2} %) | {:.2} | **{}** | {} ({}, {}) | **{:.0} B** |",
            label[i],
            thousands(stats[i].in_window as f64),
            100.0 * stats[i].in_window as f64 / expected as f64,
            measured[i].cpu,
            thousands(per_cpu[i]),
            mib(measured[i].rss_end as f64),
            mib(measured[i].rss_mean),
            mib(measured[i].hwm as f64),
            per_series[i]
        );
    }
    let cpu_ratio = per_cpu[0] / per_cpu[1];
    let mem_ratio = per_series[0] / per_series[1];
    println!(
        "| alloy / prometheus | | {:.2}× | **{:.2}×** (target ≥ 2×: {}) | {:.2}× | **{:.2}×** (target ≤ 0.5×: {}) |",
        measured[0].cpu / measured[1].cpu,
        cpu_ratio,
        if cpu_ratio >= 2.0 { "met" } else { "not met" },
        measured[0].rss_end as f64 / measured[1].rss_end as f64,
        mem_ratio,
        if mem_ratio <= 0.5 { "met" } else { "not met" }
    );
    println!();
    let mut problems = 0;
    for i in 0..2 {
        let st = &stats[i];
        let delivered = match lag[i] {
            Some(l) => format!("all samples of the window delivered {:.1} s after its end", l as f64 / 1000.0),
            None => {
                problems += 1;
                format!(
                    "**fell behind**: {} of {} samples of the window arrived within {:.0} s after it (last sample timestamp {:.1} s before the end of the wait)",
                    thousands(st.in_window as f64),
                    thousands(expected as f64),
                    (o.interval * 2 + Duration::from_secs(10)).as_secs_f64(),
                    (now_ms() - st.max_t) as f64 / 1000.0
                )
            }
        };
        println!(
            "- {}: {delivered}; {} requests ({:.1} MB snappy, {:.0} samples per request), {} distinct series in the window (expected {}), {} stale markers, {} series without the relabelled label, {} with a wrong `sender`, {} undecodable requests, {}/{} cross-checked requests agreed with `decode_v1`",
            SENDERS[i],
            thousands(st.requests as f64),
            st.bytes as f64 / 1e6,
            st.samples as f64 / st.requests.max(1) as f64,
            thousands(st.series.len() as f64),
            thousands(active as f64),
            st.stale,
            st.missing_relabel,
            st.wrong_sender,
            st.errors,
            st.crosschecked - st.crosscheck_mismatches,
            st.crosschecked
        );
        if st.errors > 0 || st.wrong_sender > 0 || st.crosscheck_mismatches > 0 {
            problems += 1;
        }
    }
    if problems > 0 {
        return Err(format!("{problems} problem(s) above: the numbers are not comparable").into());
    }
    Ok(())
}
