//! Throughput of lexing, parsing, and parsing + formatting a generated ~5 MB config, and peak
//! heap memory while parsing (measured with a counting allocator).
//!
//! Run: `cargo bench -p alloy-syntax --bench throughput`. Smoke mode (CI, correctness only):
//! `cargo test -p alloy-syntax --bench throughput` runs each benchmark once in a debug build,
//! after checking that the corpus parses without a diagnostic and formats to a fixed point.

use std::alloc::{GlobalAlloc, Layout};

use mimalloc::MiMalloc;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

#[path = "../../fixtures/bench/corpus.rs"]
mod corpus;

/// Counts live heap bytes and remembers the peak while `COUNTING` is on; allocates with
/// mimalloc, as the `alloy` binary does. Counting is off while criterion times, so the timings
/// carry no atomic read-modify-write per allocation.
struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

fn count(delta: isize) {
    if COUNTING.load(Ordering::Relaxed) {
        let live = LIVE.fetch_add(delta, Ordering::Relaxed) + delta;
        PEAK.fetch_max(live, Ordering::Relaxed);
    }
}

// SAFETY: every method forwards to `MiMalloc`, which upholds the GlobalAlloc contract; the
// counters are plain atomics and never affect the returned pointers.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { MiMalloc.alloc(layout) };
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { MiMalloc.dealloc(ptr, layout) };
        count(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { MiMalloc.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            count(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const SIZE: usize = 5 * 1024 * 1024;

/// Peak heap bytes used by `f` beyond what was live before it.
fn peak_during<T>(f: impl FnOnce() -> T) -> usize {
    LIVE.store(0, Ordering::Relaxed);
    PEAK.store(0, Ordering::Relaxed);
    COUNTING.store(true, Ordering::Relaxed);
    let out = f();
    COUNTING.store(false, Ordering::Relaxed);
    drop(out);
    PEAK.load(Ordering::Relaxed).max(0) as usize
}

fn report_memory(src: &str) {
    let parse = peak_during(|| syntax::parse_tree(src.as_bytes()));
    let owned = peak_during(|| syntax::parse_file(src.as_bytes()));
    let format = peak_during(|| {
        let parsed = syntax::parse_tree(src.as_bytes());
        syntax::format::format_file(&parsed.tree, &parsed.lines)
    });
    let tree = syntax::parse_tree(src.as_bytes()).tree.heap_bytes();
    let mb = |b: usize| b as f64 / (1024.0 * 1024.0);
    let ratio = |b: usize| b as f64 / src.len() as f64;
    println!("flat tree: {:.2} MB of nodes and lists ({:.2}x input)", mb(tree), ratio(tree));
    println!(
        "input {:.2} MB; peak heap: parse {:.2} MB ({:.2}x input), parse to the owned tree {:.2} MB ({:.2}x), parse+format {:.2} MB ({:.2}x)",
        mb(src.len()),
        mb(parse),
        ratio(parse),
        mb(owned),
        ratio(owned),
        mb(format),
        ratio(format)
    );
}

/// The bench measures what it claims only if the corpus is valid and the formatter's output is
/// stable: a corpus with an error would time error recovery, not parsing.
fn check_corpus(src: &str) {
    let parsed = syntax::parse_tree(src.as_bytes());
    assert!(parsed.diagnostics.is_empty(), "the corpus has diagnostics: {:?}", &parsed.diagnostics[..parsed.diagnostics.len().min(3)]);
    let once = syntax::format::format_file(&parsed.tree, &parsed.lines);
    let twice = syntax::format::format_source(once.as_bytes()).expect("formatted corpus parses");
    assert!(once == twice, "formatting the corpus is not idempotent");
    assert!(once.len() * 10 > src.len() * 9, "the formatted corpus lost text: {} of {} bytes", once.len(), src.len());
}

fn throughput(c: &mut Criterion) {
    let (src, copies) = corpus::generate(SIZE);
    println!("generated {} bytes from {copies} template copies", src.len());
    check_corpus(&src);
    report_memory(&src);

    let mut group = c.benchmark_group("syntax");
    group.throughput(Throughput::Bytes(src.len() as u64));
    group.sample_size(20);
    group.bench_with_input(BenchmarkId::new("lex", "5MB"), &src, |b, s| b.iter(|| syntax::lexer::lex(s.as_bytes())));
    group.bench_with_input(BenchmarkId::new("parse", "5MB"), &src, |b, s| b.iter(|| syntax::parse_tree(s.as_bytes())));
    // What the analyzer, evaluator and language server start from.
    group.bench_with_input(BenchmarkId::new("parse to the owned tree", "5MB"), &src, |b, s| b.iter(|| syntax::parse_file(s.as_bytes())));
    group.bench_with_input(BenchmarkId::new("parse+format", "5MB"), &src, |b, s| {
        b.iter(|| {
            let parsed = syntax::parse_tree(s.as_bytes());
            syntax::format::format_file(&parsed.tree, &parsed.lines)
        })
    });
    group.finish();
}

criterion_group!(benches, throughput);
criterion_main!(benches);
