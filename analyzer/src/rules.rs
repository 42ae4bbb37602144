//! Component argument rules: the checks a component makes of its own arguments (cross-field
//! limits, forms of endpoints, settings the runtime does not implement), run by `alloy
//! validate` and the language server on what is known statically, and by `alloy run` on the
//! evaluated arguments.
//!
//! The rules belong to the components, which live in the runtime; the analyzer only knows
//! them through [`ArgumentRules`], which the binary hands it (`Analysis::with_rules`). That
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
    /// A byte range inside the string at `path` (a statement of an embedded language such as
    /// OTTL): the diagnostic then lands on those characters of the literal.
    pub within: Option<std::ops::Range<usize>>,
}

impl ArgError {
    pub fn new(path: Vec<PathSeg>, message: impl Into<String>) -> Self {
        ArgError { path, message: message.into(), also: Vec::new(), within: None }
    }

    /// Places the error on `range`, byte offsets into the string value at the path.
    pub fn within(mut self, range: std::ops::Range<usize>) -> Self {
        self.within = Some(range);
        self
    }

    /// The diagnostic for this error inside `block`: on the first of its paths that is
    /// written, else where [`crate::args::span_of`] places `path`.
    pub fn to_diagnostic(&self, block: &Block) -> Diagnostic {
        if let Some(span) = self.within.as_ref().and_then(|r| crate::args::string_span(block, &self.path, r.clone())) {
            return Diagnostic::error(span, self.message.clone()).with_code("invalid-argument");
        }
        let span = std::iter::once(&self.path)
            .chain(&self.also)
            .find_map(|p| crate::args::written_span(block, p))
            .unwrap_or_else(|| crate::args::span_of(block, &self.path));
        Diagnostic::error(span, self.message.clone()).with_code("invalid-argument")
    }
}

/// The rules of the builtin components and config blocks the binary runs.
pub trait ArgumentRules: Send + Sync {
    /// Whether there are rules for `name` at all (blocks without are not evaluated).
    fn covers(&self, name: &str) -> bool;

    /// Checks the arguments of the component or config block `name`: an object as
    /// [`crate::args::evaluate_block`] builds it, where values only known at run time are
    /// [`crate::args::unknown`] (a rule that needs one of them is skipped). `None` when the
    /// binary has no rules for `name`.
    fn check(&self, name: &str, args: &eval::Value) -> Option<Vec<ArgError>>;
}

/// The rules' diagnostics for one parsed body (a file or a chunk of one): every builtin
/// component and config block the rules cover, including those inside `declare` bodies and
/// `foreach` templates, evaluated leniently; each block's span with its diagnostics.
pub fn check_blocks(rules: &dyn ArgumentRules, body: &[Stmt], lines: &LineIndex) -> Vec<(Span, Vec<Diagnostic>)> {
    let mut out = Vec::new();
    walk(rules, body, lines, &mut out, 0);
    out
}

/// The diagnostics of [`check_blocks`], shifted by `offset`, for the blocks in which
/// `existing` has no error (a type error is not followed by a rule error about the same value).
pub fn unless_erroneous(blocks: &[(Span, Vec<Diagnostic>)], offset: u32, existing: &[Diagnostic]) -> Vec<Diagnostic> {
    let errors: Vec<Span> = existing.iter().filter(|d| d.is_error()).map(|d| d.span).collect();
    let mut out = Vec::new();
    for (span, diags) in blocks {
        let (start, end) = (span.start + offset, span.end + offset);
        if errors.iter().any(|e| e.start >= start && e.end <= end) {
            continue;
        }
        out.extend(diags.iter().map(|d| {
            let mut d = d.clone();
            d.span = Span { start: d.span.start + offset, end: d.span.end + offset };
            d
        }));
    }
    out
}

/// `declare` bodies and `foreach` templates nest; deeper than this is left to the checker.
const MAX_DEPTH: usize = 32;

fn walk(rules: &dyn ArgumentRules, body: &[Stmt], lines: &LineIndex, out: &mut Vec<(Span, Vec<Diagnostic>)>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    for stmt in body {
        let Stmt::Block(b) = stmt else { continue };
        match b.name.as_str() {
            "declare" => walk(rules, &b.body, lines, out, depth + 1),
            "foreach" => {
                for t in b.body.iter().filter_map(|s| match s {
                    Stmt::Block(t) if t.name == "template" => Some(t),
                    _ => None,
                }) {
                    walk(rules, &t.body, lines, out, depth + 1);
                }
            }
            _ => {
                let diags = check_block(rules, b, lines);
                if !diags.is_empty() {
                    out.push((b.span(), diags));
                }
            }
        }
    }
}

fn check_block(rules: &dyn ArgumentRules, b: &Block, lines: &LineIndex) -> Vec<Diagnostic> {
    let Some(entry) = Catalog::get().lookup(&b.name) else { return Vec::new() };
    if !matches!(entry.kind, Kind::Component | Kind::Config) || entry.removed || !rules.covers(&b.name) {
        return Vec::new();
    }
    match crate::args::evaluate_block_lenient(&b.name, b, lines, &Scope::new()) {
        Ok(args) => rules.check(&b.name, &args).unwrap_or_default().iter().map(|e| e.to_diagnostic(b)).collect(),
        Err(e) => vec![e.to_diagnostic(b.name_span).with_code("invalid-argument")],
    }
}

/// Rules shared by an [`crate::Analysis`]; `None` checks nothing.
pub type SharedRules = Option<Arc<dyn ArgumentRules>>;
