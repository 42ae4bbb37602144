//! `alloy lsp`: the language server, over standard input and output.

use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Args)]
pub struct Args {
    /// Accepted for editors that pass it; stdio is the only transport.
    #[arg(long)]
    stdio: bool,
    /// How long diagnostics wait for a burst of edits to settle, in milliseconds.
    #[arg(long, default_value_t = lsp::DEFAULT_DEBOUNCE.as_millis() as u64)]
    debounce_ms: u64,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let _ = args.stdio;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let rules: std::sync::Arc<dyn analyzer::rules::ArgumentRules> = runtime::components::registry();
    runtime.block_on(lsp::run_stdio(Duration::from_millis(args.debounce_ms), Some(rules)));
    // The read of stdin still pending (a client that keeps it open after `exit`) must not hold
    // the process.
    runtime.shutdown_background();
    Ok(ExitCode::SUCCESS)
}
