//! A mutation fuzzer on stable Rust for the parsers of untrusted input: Alloy source (parse,
//! format, analyse), collector YAML (the converter and `alloy otel`'s resolver and graph),
//! Prometheus and Promtail YAML (the converters) and OTLP request bodies (JSON and protobuf).
//! The exposition parsers have a cargo-fuzz target of their own (`prom/fuzz`).
//!
//! It starts from the repository's fixtures and mutates them (byte flips, inserted tokens from
//! a dictionary of each format's syntax, splices, truncation, nesting bursts, long runs of one
//! or two tokens, invalid UTF-8).
//! A panic, an input taking longer than `--hang-seconds`, or a crash of the process is a
//! failure; the input is kept in `$TMPDIR/alloy-fuzz/` (the one being run is written there
//! before each run, so even a stack overflow leaves it behind). Runs are reproducible from the
//! seed printed at start.
//!
//! ```sh
//! cargo run -p alloy-cli --example fuzz -- --seconds 60 [--seed N] [TARGET...]
//! ```
//! Targets: `alloy`, `otelcol-yaml`, `prometheus-yaml`, `promtail-yaml`, `otlp-json`,
//! `otlp-proto` (all by default). `.ci/run` runs each for a bounded time.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Inputs are kept small: the point is odd structure, not size (size has its own tests).
const MAX_INPUT: usize = 16 * 1024;

/// A small, fast, seedable generator (SplitMix64); no dependency needed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

struct Target {
    name: &'static str,
    /// Fixture directories (relative to the repository root) and the file extension to take.
    corpus: &'static [(&'static str, &'static str)],
    /// Tokens of the format that mutations insert.
    dictionary: &'static [&'static str],
    run: fn(&mut State, &[u8]),
}

/// What a target keeps between runs (the analyser's database is costly to rebuild).
struct State {
    analysis: analyzer::Analysis,
}

const ALLOY_TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    "\"",
    "`",
    "=",
    ",",
    ".",
    "\n",
    "//",
    "/*",
    "*/",
    "\\",
    "\\u",
    "0x",
    "1e999",
    "-0",
    "null",
    "true",
    "env(\"X\")",
    "local.file \"a\" {\n filename = \"x\"\n}\n",
    "declare \"d\" {\n}\n",
    "argument \"a\" { }",
    "export \"e\" { value = 1 }",
    "import.string \"i\" { content = \"\" }",
    "foreach \"f\" {\n collection = [1]\n var = \"v\"\n template { }\n}\n",
    "a.b.c",
    "[[[[[[[[",
    "]]]]]]]]",
    "{a={a={a=",
    "}}}",
    "\u{0}",
    "\u{feff}",
    "é",
    "${",
];

const YAML_TOKENS: &[&str] = &[
    ":",
    ": ",
    "- ",
    "\n",
    "\n  ",
    "  ",
    "{",
    "}",
    "[",
    "]",
    ",",
    "'",
    "\"",
    "&a ",
    "*a",
    "<<: *a",
    "!!binary ",
    "!!str ",
    "!!int ",
    "? ",
    "|",
    ">",
    "#",
    "---\n",
    "...\n",
    "${env:X}",
    "${X:-d}",
    "${file:/nonexistent}",
    "$$",
    "~",
    "null",
    "0x1F",
    "1e999",
    "-1",
    ".inf",
    "\t",
    "%YAML 1.2\n",
    "\u{0}",
    "\u{feff}",
    "receivers:\n  otlp:\n",
    "service:\n  pipelines:\n    traces:\n      receivers: [otlp]\n",
    "scrape_configs:\n- job_name: a\n",
    "static_configs:\n- targets: [a]\n",
    "pipeline_stages:\n- regex:\n    expression: (\n",
    "relabel_configs:\n- action: replace\n",
];

const JSON_TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "\\u0000",
    "\\ud800",
    "null",
    "true",
    "1e999",
    "-0",
    "\"18446744073709551616\"",
    "\"resourceSpans\"",
    "\"scopeSpans\"",
    "\"spans\"",
    "\"attributes\"",
    "\"value\"",
    "\"kvlistValue\"",
    "\"arrayValue\"",
    "\"values\"",
    "\"traceId\"",
    "\"0011\"",
    "\"startTimeUnixNano\"",
    "\"intValue\"",
    "{\"arrayValue\":{\"values\":[",
    "]}}",
    "\u{0}",
];

fn run_alloy(state: &mut State, input: &[u8]) {
    let parsed = syntax::parse_tree(input);
    if !parsed.has_errors() {
        let _ = syntax::format::format_file(&parsed.tree, &parsed.lines);
    }
    let text = String::from_utf8_lossy(input).into_owned();
    state.analysis.set_files(vec![("fuzz.alloy".into(), text)]);
    let _ = state.analysis.diagnostics();
}

fn run_otelcol(_: &mut State, input: &[u8]) {
    let _ = convert::convert(input, "otelcol", &[]);
    let bytes = input.to_vec();
    let read = move |_: &str| Ok(bytes.clone());
    let host = convert::otelcol::collector::confmap::Host { env: &|_| None, read_file: &read };
    if let Ok(resolved) = convert::otelcol::collector::confmap::resolve(&["file:fuzz.yaml".into()], &[], &host) {
        let _ = convert::otelcol::collector::graph::build(&resolved, &|_| true);
    }
}

fn run_prometheus(_: &mut State, input: &[u8]) {
    let _ = convert::convert(input, "prometheus", &[]);
}

fn run_promtail(_: &mut State, input: &[u8]) {
    let _ = convert::convert(input, "promtail", &[]);
}

fn run_otlp_json(_: &mut State, input: &[u8]) {
    use runtime::otelcol::pdata::{Payload, Signal};
    for signal in [Signal::Traces, Signal::Metrics, Signal::Logs] {
        let _ = Payload::from_json(signal, input);
    }
}

/// OTLP protobuf requests: the receivers' wire check, then the decoders later stages use.
fn run_otlp_proto(_: &mut State, input: &[u8]) {
    use runtime::otelcol::pdata::{Payload, Signal};
    for signal in [Signal::Traces, Signal::Metrics, Signal::Logs] {
        let _ = Payload::from_request(signal, input.to_vec().into());
    }
}

const TARGETS: &[Target] = &[
    Target { name: "alloy", corpus: &[("fixtures", "alloy")], dictionary: ALLOY_TOKENS, run: run_alloy },
    Target { name: "otelcol-yaml", corpus: &[("fixtures/otel", "yaml"), ("fixtures/convert/otelcol", "yaml")], dictionary: YAML_TOKENS, run: run_otelcol },
    Target { name: "prometheus-yaml", corpus: &[("fixtures/convert/prometheus", "yaml")], dictionary: YAML_TOKENS, run: run_prometheus },
    Target { name: "promtail-yaml", corpus: &[("fixtures/convert/promtail", "yaml")], dictionary: YAML_TOKENS, run: run_promtail },
    Target { name: "otlp-json", corpus: &[("fixtures/fuzz/otlp-json", "json")], dictionary: JSON_TOKENS, run: run_otlp_json },
    // Seeded with the JSON seeds' protobuf encodings (see `seed_corpus`).
    Target {
        name: "otlp-proto",
        corpus: &[("fixtures/fuzz/otlp-json", "json")],
        dictionary: &["\u{a}", "\u{12}", "\u{1a}", "\u{ff}\u{ff}\u{ff}\u{ff}\u{f}", "\u{0}"],
        run: run_otlp_proto,
    },
];

/// The corpus a target starts from: its fixture files, turned into protobuf for `otlp-proto`.
fn seed_corpus(target: &Target, root: &Path) -> Vec<Vec<u8>> {
    use runtime::otelcol::pdata::{Payload, Signal};
    let mut corpus = Vec::new();
    for (dir, ext) in target.corpus {
        collect(&root.join(dir), ext, &mut corpus);
    }
    if target.name == "otlp-proto" {
        corpus = corpus
            .iter()
            .flat_map(|json| [Signal::Traces, Signal::Metrics, Signal::Logs].map(|s| Payload::from_json(s, json).ok().map(|p| p.bytes().to_vec())))
            .flatten()
            .filter(|b| !b.is_empty())
            .collect();
    }
    corpus
}

fn collect(dir: &Path, ext: &str, out: &mut Vec<Vec<u8>>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            collect(&p, ext, out);
        } else if p.extension().is_some_and(|e| e == ext) {
            if let Ok(bytes) = std::fs::read(&p) {
                if bytes.len() <= MAX_INPUT {
                    out.push(bytes);
                }
            }
        }
    }
}

/// One mutation of `input`, in place.
fn mutate(rng: &mut Rng, input: &mut Vec<u8>, corpus: &[Vec<u8>], dictionary: &[&str]) {
    let at = rng.below(input.len() + 1);
    match rng.below(10) {
        0 if !input.is_empty() => {
            let i = rng.below(input.len());
            input[i] ^= 1 << rng.below(8);
        }
        1 if !input.is_empty() => {
            let i = rng.below(input.len());
            input[i] = rng.next() as u8;
        }
        2 | 3 => {
            let token = dictionary[rng.below(dictionary.len())];
            input.splice(at..at, token.bytes());
        }
        4 if !input.is_empty() => {
            let len = rng.below(input.len() - at.min(input.len()) + 1).min(64);
            input.drain(at..(at + len).min(input.len()));
        }
        5 => {
            // Splice in a piece of another corpus entry.
            let other = &corpus[rng.below(corpus.len())];
            let start = rng.below(other.len() + 1);
            let len = rng.below(other.len() - start + 1).min(512);
            input.splice(at..at, other[start..start + len].iter().copied());
        }
        6 => {
            // A burst of nesting, far beyond any limit.
            let open = [b'[', b'{', b'('][rng.below(3)];
            let n = 1 + rng.below(4000);
            input.splice(at..at, std::iter::repeat_n(open, n));
        }
        8 => {
            // A long run of one or two tokens (`- - -`, `+ 1 + 1`, `.a.a`, `()()`): chains that
            // nest without brackets.
            let first = dictionary[rng.below(dictionary.len())];
            let second = if rng.below(2) == 0 { "" } else { dictionary[rng.below(dictionary.len())] };
            let unit = format!("{first} {second} ");
            let n = 200 + rng.below(4000);
            input.splice(at..at, unit.bytes().cycle().take(n * unit.len()));
        }
        7 if !input.is_empty() => {
            // Repeat a chunk.
            let start = rng.below(input.len());
            let len = rng.below(input.len() - start).min(256) + 1;
            let chunk: Vec<u8> = input[start..start + len].to_vec();
            for _ in 0..1 + rng.below(8) {
                input.splice(at..at, chunk.iter().copied());
            }
        }
        _ => input.truncate(at),
    }
    input.truncate(MAX_INPUT);
}

struct Options {
    seconds: u64,
    seed: u64,
    hang: u64,
    targets: Vec<&'static Target>,
}

fn options() -> Result<Options, String> {
    let mut o = Options { seconds: 30, seed: 1, hang: 20, targets: Vec::new() };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |flag: &str| args.next().and_then(|v| v.parse::<u64>().ok()).ok_or(format!("{flag} needs a number"));
        match a.as_str() {
            "--seconds" => o.seconds = value("--seconds")?,
            "--seed" => o.seed = value("--seed")?,
            "--hang-seconds" => o.hang = value("--hang-seconds")?,
            name => o.targets.push(TARGETS.iter().find(|t| t.name == name).ok_or(format!("unknown target {name:?}"))?),
        }
    }
    if o.targets.is_empty() {
        o.targets = TARGETS.iter().collect();
    }
    Ok(o)
}

fn main() -> std::process::ExitCode {
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("fuzz: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = std::env::temp_dir().join("alloy-fuzz");
    let _ = std::fs::create_dir_all(&out);
    // Panics are reported once per input below, not by the default hook.
    std::panic::set_hook(Box::new(|_| {}));
    let mut failures = 0;
    for target in &o.targets {
        let corpus = seed_corpus(target, &root);
        if corpus.is_empty() {
            eprintln!("fuzz {}: no corpus found", target.name);
            return std::process::ExitCode::FAILURE;
        }
        failures += fuzz(target, &corpus, &o, &out);
    }
    if failures > 0 {
        eprintln!("fuzz: {failures} failing inputs kept in {}", out.display());
        return std::process::ExitCode::FAILURE;
    }
    std::process::ExitCode::SUCCESS
}

/// Runs one target for the allotted time; returns how many inputs failed.
fn fuzz(target: &Target, corpus: &[Vec<u8>], o: &Options, out: &Path) -> usize {
    let mut rng = Rng(o.seed ^ target.name.bytes().fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64)));
    let mut state = State { analysis: analyzer::Analysis::with_rules(analyzer::Options::default(), runtime::components::registry()) };
    let current = out.join(format!("{}.current", target.name));
    // A watchdog: an input running longer than the limit is a hang.
    let started = Arc::new(AtomicU64::new(0));
    let epoch = Instant::now();
    {
        let started = started.clone();
        let (limit, name, current) = (o.hang, target.name, current.clone());
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_millis(500));
            let s = started.load(Ordering::Relaxed);
            if s != 0 && epoch.elapsed().as_millis() as u64 > s + limit * 1000 {
                eprintln!("fuzz {name}: an input ran longer than {limit} s; it is in {}", current.display());
                std::process::exit(3);
            }
        });
    }
    let deadline = Instant::now() + Duration::from_secs(o.seconds);
    let (mut runs, mut failures) = (0u64, 0);
    eprintln!("fuzz {}: seed {}, {} corpus inputs, {} s", target.name, o.seed, corpus.len(), o.seconds);
    while Instant::now() < deadline {
        let mut input = corpus[rng.below(corpus.len())].clone();
        for _ in 0..1 + rng.below(6) {
            mutate(&mut rng, &mut input, corpus, target.dictionary);
        }
        let _ = std::fs::write(&current, &input);
        started.store(epoch.elapsed().as_millis() as u64 + 1, Ordering::Relaxed);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (target.run)(&mut state, &input)));
        started.store(0, Ordering::Relaxed);
        runs += 1;
        if result.is_err() {
            failures += 1;
            let kept = out.join(format!("{}-{}-{runs}.input", target.name, o.seed));
            let _ = std::fs::write(&kept, &input);
            eprintln!("fuzz {}: panic on input {} (kept in {})", target.name, runs, kept.display());
            // The analyser may be left mid-update: start from a fresh one.
            state = State { analysis: analyzer::Analysis::with_rules(analyzer::Options::default(), runtime::components::registry()) };
        }
    }
    let _ = std::fs::remove_file(&current);
    eprintln!("fuzz {}: {runs} inputs, {failures} failures", target.name);
    failures
}
