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
    if matches!(cli.command, Command::Run(_) | Command::Otel(_)) {
        // Servers hold a descriptor per connection: 1024 is soon exhausted.
        #[cfg(unix)]
        if let Err(e) = raise_open_files_limit() {
            commands::output::stderr(&format!("warning: could not raise the open files limit: {e}\n"));
        }
    }
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

/// Raises this process's open-files soft limit to its hard limit, as Go does at start, so
/// that many connections do not exhaust it. Returns the new soft limit.
#[cfg(unix)]
pub fn raise_open_files_limit() -> std::io::Result<libc::rlim_t> {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: `getrlimit` writes one `rlimit` through a pointer to a live, properly aligned
    // local, and reads nothing else.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    if lim.rlim_cur < lim.rlim_max {
        let raised = libc::rlimit { rlim_cur: lim.rlim_max, rlim_max: lim.rlim_max };
        // SAFETY: `setrlimit` reads one `rlimit` through a pointer to a live local.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        lim = raised;
    }
    Ok(lim.rlim_cur)
}

#[cfg(all(test, unix))]
mod tests {
    #[test]
    fn the_open_files_soft_limit_is_raised_to_the_hard_limit() {
        let soft = super::raise_open_files_limit().unwrap();
        let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: as in `raise_open_files_limit`: one write into a live local.
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
        assert_eq!((soft, lim.rlim_cur), (lim.rlim_max, lim.rlim_max));
    }
}
