//! The Alloy configuration language: lexer, parser, syntax tree, diagnostics and formatter.
//!
//! This crate knows nothing of analysis, evaluation or editors; everything above it builds on
//! [`parse_file`], [`parse_expression`] and [`format::format_file`].
//!
//! Parsing never fails: it returns the tree it could build together with every diagnostic, in
//! the order and with the texts upstream Alloy reports them.

pub mod ast;
pub mod diagnostics;
pub mod format;
pub mod lexer;
pub mod parser;
pub mod quote;
pub mod span;
pub mod token;

pub use diagnostics::{Diagnostic, Related, Severity};
pub use parser::{parse_body_text, parse_expression, parse_file, Parsed};
pub use span::{LineCol, LineIndex, Span};
