//! One module per subcommand, plus shared output helpers.

pub mod fmt;
pub mod report;
