//! One module per subcommand, plus shared output helpers.

pub mod eval;
pub mod fmt;
pub mod report;
