//! The Alloy configuration language: lexer, parser, syntax tree, diagnostics and formatter.
//!
//! This crate knows nothing of analysis, evaluation or editors; everything above it builds on
//! [`parse_tree`] (the flat [`tree`] the formatter walks), [`parse_file`] and
//! [`parse_expression`] (the owned [`ast`] built from it, which the analyzer, the evaluator and
//! the language server read) and [`format::format_file`].
//!
//! Parsing never fails: it returns the tree it could build together with every diagnostic, in
//! the order and with the texts upstream Alloy reports them.

pub mod ast;
pub mod diagnostics;
pub mod format;
pub mod lexer;
mod lower;
pub mod parser;
pub mod quote;
pub mod span;
pub mod token;
pub mod tree;

pub use diagnostics::{Diagnostic, Related, Severity};
pub use parser::{parse_body_text, parse_expression, parse_file, parse_tree, Parsed};
pub use span::{LineCol, LineIndex, Span};
