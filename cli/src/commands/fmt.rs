//! `alloy fmt`: upstream's behaviour for one file or standard input, plus several files,
//! directories (every `*.alloy` below them) and `--check` with a diff.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};

use crate::commands::report;

#[derive(clap::Args)]
pub struct Args {
    /// Rewrite the files in place (only those whose formatting changes).
    #[arg(short = 'w', long = "write")]
    pub write: bool,
    /// Print nothing; fail when a file is not formatted.
    #[arg(short = 't', long = "test")]
    pub test: bool,
    /// Print a unified diff of what formatting would change; fail when anything would.
    #[arg(long = "check", conflicts_with_all = ["write", "test"])]
    pub check: bool,
    /// Files or directories to format; standard input when none is given or for `-`.
    pub paths: Vec<PathBuf>,
}

/// Where one input comes from.
enum Input {
    Stdin,
    File(PathBuf),
}

impl Input {
    fn name(&self) -> String {
        match self {
            Input::Stdin => "<stdin>".to_string(),
            Input::File(p) => p.display().to_string(),
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.write && args.test {
        bail!("cannot use -w/--write and -t/--test at the same time");
    }
    let inputs = collect_inputs(&args.paths)?;
    // Output that may hold several files names each one, as `head` does; one file or standard
    // input keeps upstream's bare, byte-exact output.
    let headers = args.paths.len() > 1 || args.paths.iter().any(|p| p.is_dir());
    let mut printed = false;
    // Refused before any file is rewritten.
    if args.write && inputs.iter().any(|i| matches!(i, Input::Stdin)) {
        bail!("cannot use -w with standard input");
    }
    let mut failed = false;
    let mut errors = Vec::new();
    for input in &inputs {
        match format_one(input, &args, headers, &mut printed) {
            Ok(ok) => failed |= !ok,
            // The reader has what it wanted (`| head`): stop, with the status so far.
            Err(e) if super::output::is_closed(&e) => break,
            Err(e) => errors.push(e),
        }
    }
    // One input keeps upstream's exact error texts; several get one line each.
    match errors.len() {
        0 if failed => Ok(ExitCode::FAILURE),
        0 => Ok(ExitCode::SUCCESS),
        1 => Err(errors.remove(0)),
        _ => {
            for e in &errors {
                eprintln!("Error: {e:#}");
            }
            Ok(ExitCode::FAILURE)
        }
    }
}

fn collect_inputs(paths: &[PathBuf]) -> anyhow::Result<Vec<Input>> {
    if paths.is_empty() {
        return Ok(vec![Input::Stdin]);
    }
    let mut inputs = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            inputs.push(Input::Stdin);
        } else if path.is_dir() {
            let mut found = Vec::new();
            alloy_files_below(path, &mut found).with_context(|| format!("reading {}", path.display()))?;
            found.sort();
            inputs.extend(found.into_iter().map(Input::File));
        } else {
            inputs.push(Input::File(path.clone()));
        }
    }
    Ok(inputs)
}

fn alloy_files_below(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            alloy_files_below(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "alloy") {
            out.push(path);
        }
    }
    Ok(())
}

/// Formats one input as the flags say. `Ok(false)`: the input was not formatted (`-t`/`--check`).
/// With `headers`, printed text is preceded by `==> NAME <==` (and a blank line after the
/// previous file's text; `printed` says whether there was one).
fn format_one(input: &Input, args: &Args, headers: bool, printed: &mut bool) -> anyhow::Result<bool> {
    let name = input.name();
    let src = match input {
        Input::Stdin => {
            let mut buf = Vec::new();
            std::io::stdin().read_to_end(&mut buf).context("reading standard input")?;
            buf
        }
        Input::File(path) => std::fs::read(path).with_context(|| format!("reading {name}"))?,
    };
    let parsed = syntax::parse_tree(&src);
    if parsed.has_errors() {
        let text = String::from_utf8_lossy(&src);
        let errors: Vec<_> = parsed.diagnostics.iter().filter(|d| d.is_error()).cloned().collect();
        report::diagnostics(&name, &text, &parsed.lines, &errors);
        bail!("encountered errors during formatting");
    }
    let mut formatted = syntax::format::format_file(&parsed.tree, &parsed.lines);
    formatted.push('\n');
    let changed = formatted.as_bytes() != src.as_slice();

    if args.test {
        if changed {
            bail!("file {name} is not formatted correctly");
        }
        return Ok(true);
    }
    if args.check {
        if changed {
            let before = String::from_utf8_lossy(&src);
            let diff = similar::TextDiff::from_lines(before.as_ref(), formatted.as_str());
            super::output::stdout(diff.unified_diff().header(&name, &name).to_string().as_bytes())?;
        }
        return Ok(!changed);
    }
    match input {
        Input::File(path) if args.write => {
            if changed {
                // Writing through the existing file keeps its permission bits.
                std::fs::write(path, formatted.as_bytes()).with_context(|| format!("writing {name}"))?;
            }
        }
        _ => {
            if headers {
                let separator = if *printed { "\n" } else { "" };
                super::output::stdout(format!("{separator}==> {name} <==\n").as_bytes())?;
            }
            *printed = true;
            super::output::stdout(formatted.as_bytes())?;
        }
    }
    Ok(true)
}
