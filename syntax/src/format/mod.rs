//! The formatter: reproduces upstream `alloy fmt` byte for byte.
//!
//! The pipeline is upstream's: the [walker](walker) turns the tree into
//! items, the [printer](printer) turns items into bytes (with whitespace control characters
//! and escaped comments) while injecting comments by estimated source position, the
//! [aligner](tabwriter) applies elastic tabstops, and the [trimmer](trim) strips escapes and
//! trailing blanks. Nothing here is a "style": every rule falls out of that algorithm.

mod printer;
mod tabwriter;
mod trim;
mod walker;

use crate::ast::Expr;
use crate::diagnostics::Diagnostic;
use crate::span::{LineIndex, Span};
use crate::tree::Tree;

use printer::Printer;

/// Formatter options.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// Print literals listed in `secret_literals` as `"(secret)"`.
    pub redact_secrets: bool,
    /// Spans of the literal expressions marked secret (e.g. by the decoder). Order is free.
    pub secret_literals: Vec<Span>,
}

/// Formats a parsed file. The result has no trailing newline (the CLI adds one).
pub fn format_file(tree: &Tree<'_>, lines: &LineIndex) -> String {
    format_file_with(tree, lines, &Config::default())
}

/// Formats a parsed file with options (secret redaction).
pub fn format_file_with(tree: &Tree<'_>, lines: &LineIndex, config: &Config) -> String {
    let secrets = secret_spans(config);
    let mut p = Printer::new(lines, lines.text_len() as usize, &secrets);
    p.set_comments(&tree.comments, &tree.comment_groups);
    p.file(tree);
    p.finish()
}

/// Formats one expression of the owned tree as upstream's printer does (no comments), e.g.
/// for error messages.
pub fn format_expr(expr: &Expr, lines: &LineIndex) -> String {
    let mut p = Printer::new(lines, expr.span().len() as usize, &[]);
    p.expr(walker::Owned, expr);
    p.finish()
}

/// Parses and formats a source text; fails with the diagnostics if any of them is an error.
pub fn format_source(src: &[u8]) -> Result<String, Vec<Diagnostic>> {
    let parsed = crate::parse_tree(src);
    if parsed.has_errors() {
        return Err(parsed.diagnostics);
    }
    Ok(format_file(&parsed.tree, &parsed.lines))
}

fn secret_spans(config: &Config) -> Vec<Span> {
    if !config.redact_secrets {
        return Vec::new();
    }
    let mut spans = config.secret_literals.clone();
    spans.sort_unstable_by_key(|s| s.start);
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(src: &str) -> String {
        match format_source(src.as_bytes()) {
            Ok(s) => s,
            Err(d) => panic!("parse errors: {d:?}"),
        }
    }

    #[test]
    fn empty_file() {
        assert_eq!(fmt(""), "");
        assert_eq!(fmt("\n\n"), "");
    }

    #[test]
    fn spacing_and_alignment() {
        assert_eq!(fmt("a=1\nbbb   =   30*2+5\n"), "a   = 1\nbbb = 30 * 2 + 5");
    }

    #[test]
    fn empty_and_one_line_blocks() {
        assert_eq!(fmt("a {}\nb {\n}\nlogging { level = \"debug\" }"), "a { }\n\nb { }\n\nlogging {\n\tlevel = \"debug\"\n}");
    }

    #[test]
    fn comment_moves_after_unpositioned_token() {
        assert_eq!(fmt("attr /* c */ = 15"), "attr = /* c */ 15");
        assert_eq!(fmt("x = (1 /* c */)"), "x = (1) /* c */");
    }

    #[test]
    fn comments_keep_trailing_spaces() {
        assert_eq!(fmt("a = 1   \n// c  \nb = 2 /* d */  \n// e   "), "a = 1\n// c  \nb = 2 /* d */\n// e   ");
    }

    #[test]
    fn call_with_empty_multiline_args_gets_a_comma() {
        assert_eq!(fmt("x = f(\n)"), "x = f(,\n)");
    }

    #[test]
    fn expression_only() {
        let parsed = crate::parse_expression(b"foo . bar [ 1 ] + { a = 1 }");
        assert_eq!(format_expr(&parsed.tree, &parsed.lines), "foo.bar[1] + {a = 1}");
    }

    #[test]
    fn number_then_dot_keeps_a_space() {
        assert_eq!(fmt("x = 1 .a"), "x = 1 .a");
    }

    #[test]
    fn secret_redaction() {
        let src = "password = \"my_password\"\nstring = \"normal string\"";
        let parsed = crate::parse_tree(src.as_bytes());
        let first = parsed.tree.body().get(0).map(|s| parsed.tree.stmt(s));
        let Some(crate::tree::StmtView::Attribute { value, .. }) = first else { panic!("not an attribute") };
        let span = parsed.tree.to_expr(value).span();
        let config = Config { redact_secrets: true, secret_literals: vec![span] };
        assert_eq!(format_file_with(&parsed.tree, &parsed.lines, &config), "password = \"(secret)\"\nstring   = \"normal string\"");
    }
}
