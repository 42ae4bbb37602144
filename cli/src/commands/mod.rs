//! One module per subcommand, plus shared output helpers.

pub mod convert;
pub mod converted;
pub mod eval;
pub mod fmt;
pub mod lsp;
pub mod otel;
pub mod output;
pub mod report;
pub mod run;
pub mod validate;
