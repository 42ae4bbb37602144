//! validate ⊇ run: every configuration in `fixtures/runtime/refused/` is refused by `alloy
//! run` for an argument reason, and `alloy validate` (the analyzer with the components'
//! rules) refuses it with the same messages at the same positions. The run side is checked
//! twice: through a real controller load, and through the evaluation path alone (strict
//! evaluation, then the registration's rules), which is what a reload with values known only
//! at run time goes through. Validate's output is snapshotted per fixture.

mod common;

use std::path::PathBuf;

use analyzer::{Analysis, Options, Stability};
use syntax::ast::Stmt;

fn fixtures() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/runtime/refused");
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(&dir).expect("fixtures").map(|e| e.expect("entry").path()).filter(|p| p.extension().is_some_and(|x| x == "alloy")).collect();
    files.sort();
    files
}

/// `LINE:COL: message` for each error, in source order.
fn lines_of(text: &str, diags: &[syntax::Diagnostic]) -> Vec<String> {
    let lines = syntax::LineIndex::new(text.as_bytes());
    diags.iter().filter(|d| d.is_error()).map(|d| format!("{}: {}", lines.line_col(d.span.start), d.message)).collect()
}

fn validate(text: &str) -> Vec<String> {
    let mut a = Analysis::with_rules(Options { stability: Stability::Experimental, community: false }, runtime::components::registry());
    a.set_files(vec![("config.alloy".into(), text.into())]);
    let report = a.diagnostics().pop().expect("one report");
    lines_of(text, &report.diagnostics)
}

/// The evaluation path of the controller for each top-level block: strict evaluation with
/// nothing in scope, then the registration's rules.
fn evaluation_path(text: &str) -> Vec<String> {
    let parsed = syntax::parse_file(text.as_bytes());
    let regs = runtime::components::registry();
    let mut out = Vec::new();
    for stmt in &parsed.tree.body {
        let Stmt::Block(b) = stmt else { continue };
        let Some(reg) = regs.get(&b.name) else { continue };
        let Ok(args) = analyzer::args::evaluate_block(&b.name, b, &parsed.lines, &eval::Scope::new()) else { continue };
        out.extend((reg.check)(&b.name, &args).iter().map(|e| e.to_diagnostic(b)));
    }
    lines_of(text, &out)
}

/// Whether every top-level block of `text` is something this build registers.
fn all_built(text: &str) -> bool {
    let parsed = syntax::parse_file(text.as_bytes());
    let regs = runtime::components::registry();
    parsed.tree.body.iter().all(|stmt| match stmt {
        Stmt::Block(b) => regs.get(&b.name).is_some(),
        _ => true,
    })
}

#[tokio::test]
async fn run_refusals_are_validate_refusals() {
    let files = fixtures();
    assert!(files.len() >= 30, "the property needs at least 30 configurations, found {}", files.len());
    let mut problems = Vec::new();
    for path in files {
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
        let text = std::fs::read_to_string(&path).expect("read fixture");
        if !all_built(&text) {
            // A build with some families only (`.ci/run` makes them) lacks this component.
            continue;
        }
        let validated = validate(&text);
        let config = common::Config::new(&text);
        let run: Vec<String> = match config.experimental_controller().load().await {
            Ok(()) => {
                problems.push(format!("{name}: run accepted it"));
                continue;
            }
            Err(e) => common::messages(&e).into_iter().map(|m| m.trim_start_matches("config.alloy:").to_string()).collect(),
        };
        for m in run.iter().chain(&evaluation_path(&text)) {
            if !validated.contains(m) {
                problems.push(format!("{name}: run says {m:?}, validate says {validated:?}"));
            }
        }
        insta::assert_snapshot!(format!("refused__{name}"), validated.join("\n"));
    }
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}
