//! `cargo run -p alloy-analyzer --example check -- PATH...`: prints each path's diagnostics as
//! `FILE:LINE:COL: severity: message` lines.

fn main() {
    let mut failed = false;
    for arg in std::env::args().skip(1) {
        let files = match analyzer::load_path(std::path::Path::new(&arg)) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("{e}");
                failed = true;
                continue;
            }
        };
        let mut a = analyzer::Analysis::new(analyzer::Options::default());
        a.set_files(files);
        for r in a.diagnostics() {
            failed |= r.has_errors();
            print!("{}", syntax::diagnostics::render_short_with_severity(&r.path, &r.lines, &r.diagnostics));
        }
    }
    std::process::exit(i32::from(failed));
}
