//! `alloy`: format, validate, convert and run Alloy configurations.

mod commands;
mod memory;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc: parsing and evaluation allocate many small nodes, and glibc malloc is both slower
/// and less predictable for that pattern (measured in the syntax benchmark).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "alloy", version, about = "A fast toolchain for the Grafana Alloy configuration language")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Format Alloy configuration files.
    #[command(visible_alias = "format")]
    Fmt(commands::fmt::Args),
    /// Evaluate an expression with the standard library in scope.
    Eval(commands::eval::Args),
    /// Convert an OpenTelemetry Collector, Prometheus or Promtail configuration to Alloy.
    Convert(commands::convert::Args),
    /// Statically check a configuration: components, references, types.
    Validate(commands::validate::Args),
    /// Run a configuration: its components, the HTTP API, reloads on SIGHUP.
    Run(Box<commands::run::Args>),
    /// Run the language server over standard input and output.
    Lsp(commands::lsp::Args),
    /// Run OpenTelemetry Collector configurations (`--config=URI`, `--set`), with Alloy's
    /// HTTP API, UI and reloads.
    Otel(Box<commands::otel::Args>),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Fmt(args) => commands::fmt::run(args),
        Command::Eval(args) => commands::eval::run(args),
        Command::Convert(args) => commands::convert::run(args),
        Command::Validate(args) => commands::validate::run(args),
        Command::Run(args) => commands::run::run(*args),
        Command::Lsp(args) => commands::lsp::run(args),
        Command::Otel(args) => commands::otel::run(*args),
    };
    match result {
        Ok(code) => code,
        // A reader that closed standard output early (`| head`) is no failure.
        Err(err) if commands::output::is_closed(&err) => ExitCode::SUCCESS,
        Err(err) => {
            commands::output::stderr(&format!("Error: {err:#}\n"));
            ExitCode::FAILURE
        }
    }
}
