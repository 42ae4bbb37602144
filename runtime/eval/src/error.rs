//! Errors: value-level errors (before attribution to source) and evaluation errors (the
//! `L:C: <expr><path> <detail>` texts upstream prints, attributed by `Evaluator::attribute`).

use std::fmt;

use smol_str::SmolStr;
use syntax::{Diagnostic, LineIndex, Span};

use crate::value::Type;

/// One step from a value into one of its parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathSeg {
    Index(usize),
    Field(SmolStr),
}

impl fmt::Display for PathSeg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathSeg::Index(i) => write!(f, "[{i}]"),
            PathSeg::Field(k) => write!(f, ".{k}"),
        }
    }
}

/// What is wrong with a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValueErrorKind {
    /// `should be T, got U`.
    Type { expected: Type, got: Type },
    /// `should be one of [T1 T2] for binop OP, got U` and other free texts.
    Message(String),
    /// `does not have field named "k"`.
    MissingField(String),
}

impl ValueErrorKind {
    pub fn detail(&self) -> String {
        match self {
            ValueErrorKind::Type { expected, got } => format!("should be {expected}, got {got}"),
            ValueErrorKind::Message(m) => m.clone(),
            ValueErrorKind::MissingField(k) => {
                format!("does not have field named {}", syntax::quote::go_quote(k))
            }
        }
    }
}

/// An error about the part of a value reached by `path`.
///
/// With `wrapped`, each path step is an element/field wrapper as upstream's decoder produces
/// them (the path is printed after the nearest node). Without it the error refers to the part
/// directly (raw builtins), and the path only serves to find the part's expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueError {
    pub path: Vec<PathSeg>,
    pub wrapped: bool,
    pub kind: ValueErrorKind,
}

impl ValueError {
    pub fn type_error(expected: Type, got: Type) -> Self {
        ValueError { path: Vec::new(), wrapped: true, kind: ValueErrorKind::Type { expected, got } }
    }

    pub fn message(m: impl Into<String>) -> Self {
        ValueError { path: Vec::new(), wrapped: true, kind: ValueErrorKind::Message(m.into()) }
    }

    /// Prefixes a path step (the error is inside element/field `seg`).
    pub fn inside(mut self, seg: PathSeg) -> Self {
        self.path.insert(0, seg);
        self
    }

    /// Marks the error as referring to its part directly.
    pub fn direct(mut self) -> Self {
        self.wrapped = false;
        self
    }

    /// The text without an expression: `.a[1] should be …`.
    pub fn plain_text(&self) -> String {
        let path: String = self.path.iter().map(|p| p.to_string()).collect();
        if self.wrapped && !path.is_empty() {
            format!("{path} {}", self.kind.detail())
        } else {
            self.kind.detail()
        }
    }
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.plain_text())
    }
}

impl std::error::Error for ValueError {}

/// Where an evaluation error points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorPos {
    /// A node of the source: rendered `L:C: message`.
    Span(Span),
    /// A value error whose value has no node: rendered `-: message`.
    Unknown,
    /// A plain error (not about a value): rendered as the bare message.
    None,
}

/// An evaluation error, fully attributed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct EvalError {
    pub pos: ErrorPos,
    pub message: String,
}

impl EvalError {
    pub fn at(span: Span, message: impl Into<String>) -> Self {
        EvalError { pos: ErrorPos::Span(span), message: message.into() }
    }

    pub fn plain(message: impl Into<String>) -> Self {
        EvalError { pos: ErrorPos::None, message: message.into() }
    }

    /// Upstream's error string: `L:C: message`, `-: message` or the bare message. A file name,
    /// when given, prefixes positioned errors (`file:L:C: message`).
    pub fn render(&self, file: &str, lines: &LineIndex) -> String {
        match self.pos {
            ErrorPos::Span(span) => {
                let pos = lines.line_col(span.start);
                if file.is_empty() {
                    format!("{pos}: {}", self.message)
                } else {
                    format!("{file}:{pos}: {}", self.message)
                }
            }
            ErrorPos::Unknown => format!("-: {}", self.message),
            ErrorPos::None => self.message.clone(),
        }
    }

    /// As a diagnostic; errors without a node are put on `fallback` (the whole expression).
    pub fn to_diagnostic(&self, fallback: Span) -> Diagnostic {
        let span = match self.pos {
            ErrorPos::Span(s) => s,
            _ => fallback,
        };
        Diagnostic::error(span, self.message.trim_start().to_string()).with_code("eval")
    }
}
