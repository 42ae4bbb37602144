//! `alloy fmt`.

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// File or directory to format; standard input when missing or `-`.
    pub paths: Vec<std::path::PathBuf>,
}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not written yet")
}
