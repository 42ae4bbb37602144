//! `alloy eval EXPR`: evaluates one expression with the standard library in scope (not an
//! upstream command; a tool to try expressions).

use std::io::IsTerminal;
use std::process::ExitCode;

use eval::json::{value_json, JsonOptions};
use eval::render::{render_with, RenderOptions};
use eval::{EvalFailure, Scope};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Alloy syntax, as upstream renders values.
    Alloy,
    /// The `{"type": …, "value": …}` JSON of Alloy's HTTP API.
    Json,
}

#[derive(clap::Args)]
pub struct Args {
    /// The expression to evaluate.
    // A leading `-` starts an expression (`-0`, `-x`), not a flag: negation is common here.
    #[arg(allow_hyphen_values = true)]
    pub expr: String,
    /// Binds NAME to the value of EXPR (evaluated with the names bound before it); repeatable.
    #[arg(long = "var", value_name = "NAME=EXPR")]
    pub vars: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "alloy")]
    pub format: Format,
    /// Print secrets' text instead of `(secret)`.
    #[arg(long)]
    pub reveal_secrets: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut scope = Scope::new();
    for binding in &args.vars {
        let Some((name, src)) = binding.split_once('=') else {
            anyhow::bail!("--var {binding:?}: expected NAME=EXPR");
        };
        let name = name.trim();
        if !syntax::lexer::is_valid_identifier(name) {
            anyhow::bail!("--var {binding:?}: {name:?} is not a valid identifier");
        }
        match eval::eval_source(src, &scope) {
            Ok((v, warnings)) => {
                report(&format!("--var {name}"), src, &warnings);
                scope.set(name, v);
            }
            Err(failure) => {
                report_failure(&format!("--var {name}"), src, &failure);
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    match eval::eval_source(&args.expr, &scope) {
        Ok((v, warnings)) => {
            report("<expr>", &args.expr, &warnings);
            let out = match args.format {
                Format::Alloy => render_with(&v, RenderOptions { unredact_secrets: args.reveal_secrets }),
                Format::Json => match value_json(&v, JsonOptions { unredact_secrets: args.reveal_secrets }) {
                    Ok(s) => s,
                    Err(e) => {
                        eprintln!("Error: {e}");
                        return Ok(ExitCode::FAILURE);
                    }
                },
            };
            super::output::stdout(format!("{out}\n").as_bytes())?;
            Ok(ExitCode::SUCCESS)
        }
        Err(failure) => {
            report_failure("<expr>", &args.expr, &failure);
            Ok(ExitCode::FAILURE)
        }
    }
}

fn report(file: &str, src: &str, diags: &[syntax::Diagnostic]) {
    if !diags.is_empty() {
        let color = std::io::stderr().is_terminal();
        super::output::stderr(&syntax::diagnostics::render_pretty(file, src, diags, color));
    }
}

/// Errors as snippets with a caret under the offending part of the expression (bare errors
/// and value errors without a node point at the whole expression).
fn report_failure(file: &str, src: &str, failure: &EvalFailure) {
    report(file, src, &failure.diagnostics());
}
