//! The `validate` suite: every real configuration of `syntax/fmt-corpus/*.in` (upstream's own
//! configs, which upstream accepts) must validate with no error. They are checked at the
//! experimental stability level with community components allowed, the flags upstream's
//! integration tests run them with; what the default level would reject is not an error here.

use std::path::Path;

use ::analyzer::{Options, Stability};

use crate::harness::{files_with_suffix, guarded, stem, CaseResult};

pub fn run(dir: &Path) -> Vec<CaseResult> {
    let corpus = dir.join("syntax/fmt-corpus");
    files_with_suffix(&corpus, ".in")
        .into_iter()
        .map(|path| {
            let name = format!("fmt-corpus/{}", stem(&path, ".in"));
            let outcome = guarded(|| check(&path));
            CaseResult::new(name, outcome)
        })
        .collect()
}

fn check(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let r = ::analyzer::check_text("config.alloy", &text, Options { stability: Stability::Experimental, community: true });
    let errs: Vec<_> = r.diagnostics.into_iter().filter(|d| d.is_error()).collect();
    let errors = syntax::diagnostics::render_short(&r.path, &r.lines, &errs);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("unexpected errors:\n{errors}"))
    }
}
