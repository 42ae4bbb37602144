//! `alloy convert`: OpenTelemetry Collector, Prometheus and Promtail configurations to Alloy,
//! with upstream's flags, report file, failure rule and exit codes.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};

#[derive(clap::Args)]
pub struct Args {
    /// The format of the source file: "otelcol", "prometheus", "promtail", "static".
    #[arg(short = 'f', long = "source-format", default_value = "")]
    pub source_format: String,
    /// The filepath and filename where the output is written (standard output when empty).
    #[arg(short = 'o', long = "output", default_value = "")]
    pub output: String,
    /// The filepath and filename where the diagnostic report is written.
    #[arg(short = 'r', long = "report", default_value = "")]
    pub report: String,
    /// Enable bypassing errors when converting.
    #[arg(short = 'b', long = "bypass-errors")]
    pub bypass_errors: bool,
    /// A string of extra arguments of the source tool (only the static converter takes any).
    #[arg(short = 'e', long = "extra-args", default_value = "", allow_hyphen_values = true)]
    pub extra_args: String,
    /// The file to convert; standard input when absent or `-`.
    #[arg(num_args = 0..=1)]
    pub file: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.source_format.is_empty() {
        bail!("source-format is a required flag");
    }
    let input = match args.file.as_deref().filter(|p| p.as_os_str() != "-") {
        None => read_stdin()?,
        Some(p) => {
            let meta = std::fs::metadata(p).with_context(|| format!("stat {}", p.display()))?;
            if meta.is_dir() {
                bail!("cannot convert a directory");
            }
            std::fs::read(p).with_context(|| format!("open {}", p.display()))?
        }
    };
    let extra = convert::parse_extra_args(&args.extra_args)?;
    let result = convert::convert(&input, &args.source_format, &extra);
    let diags = &result.diagnostics;
    if !args.report.is_empty() {
        std::fs::write(&args.report, diags.report(args.bypass_errors)).with_context(|| format!("open {}", args.report))?;
    }
    if diags.is_failure(args.bypass_errors) {
        bail!("{}", diags.render());
    }
    let bytes = result.output.unwrap_or_default();
    if args.output.is_empty() {
        super::output::stdout(bytes.as_bytes())?;
    } else {
        std::fs::write(&args.output, bytes).with_context(|| format!("open {}", args.output))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn read_stdin() -> anyhow::Result<Vec<u8>> {
    let mut buf = Vec::new();
    std::io::stdin().read_to_end(&mut buf).context("reading standard input")?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(file: &std::path::Path, out: &std::path::Path, report: &std::path::Path, bypass: bool) -> Args {
        Args {
            source_format: "prometheus".into(),
            output: out.display().to_string(),
            report: report.display().to_string(),
            bypass_errors: bypass,
            extra_args: String::new(),
            file: Some(file.to_path_buf()),
        }
    }

    #[test]
    fn errors_fail_without_bypass_but_still_write_the_report() {
        let dir = std::env::temp_dir().join(format!("alloy-convert-cli-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok();
        let input = dir.join("in.yaml");
        let (out, report) = (dir.join("out.alloy"), dir.join("report.txt"));
        std::fs::write(&input, "rule_files: [a]\nscrape_configs:\n  - job_name: x\n").ok();
        let err = run(args(&input, &out, &report, false)).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("(Error) The converter does not support converting the provided rule_files config."), "{err}");
        assert!(!out.exists());
        let text = std::fs::read_to_string(&report).unwrap_or_default();
        assert!(text.ends_with("Bypassing errors isn't recommended for production environments."), "{text}");

        assert!(run(args(&input, &out, &report, true)).is_ok());
        assert!(std::fs::read_to_string(&out).unwrap_or_default().starts_with("prometheus.scrape \"x\" {"));
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn missing_format_and_directories_are_errors() {
        let mut a = args(std::path::Path::new("."), std::path::Path::new(""), std::path::Path::new(""), false);
        a.output.clear();
        a.report.clear();
        assert_eq!(run(a).err().map(|e| e.to_string()).as_deref(), Some("cannot convert a directory"));
        let mut a = args(std::path::Path::new("."), std::path::Path::new(""), std::path::Path::new(""), false);
        a.source_format.clear();
        assert_eq!(run(a).err().map(|e| e.to_string()).as_deref(), Some("source-format is a required flag"));
    }
}
