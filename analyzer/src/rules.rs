//! Component argument rules: the checks a component makes of its own arguments (cross-field
//! limits, forms of endpoints, settings the runtime does not implement), run by `alloy
//! validate` and the language server on what is known statically, and by `alloy run` on the
//! evaluated arguments.
//!
//! The rules belong to the components, which live in the runtime; the analyzer only knows
//! them through [`ArgumentRules`], which the binary hands it (`Analysis::set_rules`). That
//! keeps the dependency pointing down (runtime → analyzer) while both sides run one
//! implementation: the runtime's registry (`runtime/src/component/registry.rs`).

use std::sync::Arc;

use eval::{PathSeg, Scope};
use syntax::ast::{Block, Stmt};
use syntax::{Diagnostic, LineIndex, Span};

use crate::catalog::{Catalog, Kind};

/// One rule a component's arguments break: where (a path into the arguments, `.client.endpoint`)
/// and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArgError {
    pub path: Vec<PathSeg>,
    pub message: String,
    /// Other places the error may be shown when `path` is not written (a rule between two
    /// fields where only the second was set).
    pub also: Vec<Vec<PathSeg>>,
}

impl ArgError {
    pub fn new(path: Vec<PathSeg>, message: impl Into<String>) -> Self {
        ArgError { path, message: message.into(), also: Vec::new() }
    }

    /// The diagnostic for this error inside `block`: on the first of its paths that is
    /// written, else where [`crate::args::span_of`] places `path`.
    pub fn to_diagnostic(&self, block: &Block) -> Diagnostic {
        let span = std::iter::once(&self.path)
            .chain(&self.also)
            .find_map(|p| crate::args::written_span(block, p))
            .unwrap_or_else(|| crate::args::span_of(block, &self.path));
        Diagnostic::error(span, self.message.clone()).with_code("invalid-argument")
    }
}

/// The rules of the builtin components and config blocks the binary runs.
pub trait ArgumentRules: Send + Sync {
    /// Checks the arguments of the component or config block `name`: an object as
    /// [`crate::args::evaluate_block`] builds it, where values only known at run time are
    /// [`crate::args::unknown`] (a rule that needs one of them is skipped). `None` when the
    /// binary has no rules for `name`.
    fn check(&self, name: &str, args: &eval::Value) -> Option<Vec<ArgError>>;
}

/// The rules' diagnostics for one parsed file: every builtin component and config block,
/// including those inside `declare` bodies and `foreach` templates, evaluated leniently.
/// Blocks that already have an error in `existing` are skipped, so a type error is not
/// followed by a rule error about the same value.
pub fn check_file(rules: &dyn ArgumentRules, body: &[Stmt], lines: &LineIndex, existing: &[Diagnostic]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let errors: Vec<Span> = existing.iter().filter(|d| d.is_error()).map(|d| d.span).collect();
    walk(rules, body, lines, &errors, &mut out, 0);
    out
}

/// `declare` bodies and `foreach` templates nest; deeper than this is left to the checker.
const MAX_DEPTH: usize = 32;

fn walk(rules: &dyn ArgumentRules, body: &[Stmt], lines: &LineIndex, errors: &[Span], out: &mut Vec<Diagnostic>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    for stmt in body {
        let Stmt::Block(b) = stmt else { continue };
        match b.name.as_str() {
            "declare" => walk(rules, &b.body, lines, errors, out, depth + 1),
            "foreach" => {
                for t in b.body.iter().filter_map(|s| match s {
                    Stmt::Block(t) if t.name == "template" => Some(t),
                    _ => None,
                }) {
                    walk(rules, &t.body, lines, errors, out, depth + 1);
                }
            }
            _ => check_block(rules, b, lines, errors, out),
        }
    }
}

fn check_block(rules: &dyn ArgumentRules, b: &Block, lines: &LineIndex, errors: &[Span], out: &mut Vec<Diagnostic>) {
    let Some(entry) = Catalog::get().lookup(&b.name) else { return };
    if !matches!(entry.kind, Kind::Component | Kind::Config) || entry.removed {
        return;
    }
    let span = b.span();
    if errors.iter().any(|e| e.start >= span.start && e.end <= span.end) {
        return;
    }
    let args = match crate::args::evaluate_block_lenient(&b.name, b, lines, &Scope::new()) {
        Ok(v) => v,
        Err(e) => {
            out.push(e.to_diagnostic(b.name_span).with_code("invalid-argument"));
            return;
        }
    };
    for e in rules.check(&b.name, &args).unwrap_or_default() {
        out.push(e.to_diagnostic(b));
    }
}

/// Rules shared by an [`crate::Analysis`]; `None` checks nothing.
pub type SharedRules = Option<Arc<dyn ArgumentRules>>;
