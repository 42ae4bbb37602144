//! Parses (and optionally formats) the bench corpus in a loop, for profilers:
//! `cargo build --profile profiling -p alloy-syntax --example parse_loop` then
//! `perf record -g target/profiling/examples/parse_loop [lex|parse|owned|format] [N]` (`owned`:
//! parsing to the owned tree).
//! `parse_loop corpus` prints the 5 MB corpus (the input of the whole-process `alloy fmt`
//! measurement in the README).

#[path = "../../fixtures/bench/corpus.rs"]
mod corpus;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "parse".into());
    let rounds: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(50);
    let (src, _) = corpus::generate(5 * 1024 * 1024);
    if mode == "corpus" {
        print!("{src}");
        return;
    }
    let start = std::time::Instant::now();
    let mut out = 0usize;
    for _ in 0..rounds {
        if mode == "lex" {
            out += syntax::lexer::lex(src.as_bytes()).tokens.len();
            continue;
        }
        if mode == "owned" {
            out += syntax::parse_file(src.as_bytes()).tree.body.len();
            continue;
        }
        let parsed = syntax::parse_tree(src.as_bytes());
        out += match mode.as_str() {
            "format" => syntax::format::format_file(&parsed.tree, &parsed.lines).len(),
            _ => parsed.tree.body().len(),
        };
    }
    let per = start.elapsed() / rounds as u32;
    println!("{mode}: {per:?} per round, {:.0} MB/s ({out})", src.len() as f64 / per.as_secs_f64() / 1e6);
}
