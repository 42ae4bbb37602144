//! `alloy validate [flags] PATH`: the static checks of `alloy-analyzer` over one file or a
//! directory of `*.alloy` files sharing one namespace; with `--config.format=prometheus|
//! promtail|static`, a file of that format is converted first ([`super::converted`]); with
//! `otelcol`, the collector engine checks it as `alloy otel validate` does ([`super::otel`]).
//!
//! Output formats: `text` (default; source snippets on standard error), `short`
//! (`FILE:LINE:COL: severity: message` lines on standard output) and `json` (an array of
//! diagnostics on standard output, for editors and CI). Exit status 1 when any error is found.

use std::path::PathBuf;
use std::process::ExitCode;

use analyzer::{Analysis, FileReport, Options, Stability};
use syntax::diagnostics;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Reports with source snippets.
    Text,
    /// `FILE:LINE:COL: severity: message`, one per line.
    Short,
    /// A JSON array of diagnostics.
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ConfigFormat {
    Alloy,
    Otelcol,
    Prometheus,
    Promtail,
    Static,
}

impl ConfigFormat {
    fn as_str(self) -> &'static str {
        match self {
            ConfigFormat::Alloy => "alloy",
            ConfigFormat::Otelcol => "otelcol",
            ConfigFormat::Prometheus => "prometheus",
            ConfigFormat::Promtail => "promtail",
            ConfigFormat::Static => "static",
        }
    }
}

#[derive(clap::Args)]
pub struct Args {
    /// A configuration file, or a directory whose `*.alloy` files form one configuration.
    pub path: PathBuf,
    /// The format of the configuration; other formats than `alloy` are converted to Alloy
    /// first (a directory is always read as `*.alloy` files, as upstream does).
    #[arg(long = "config.format", value_enum, default_value = "alloy")]
    pub config_format: ConfigFormat,
    /// Validate the converted configuration even when the converter reported errors (never
    /// after a critical one).
    #[arg(long = "config.bypass-conversion-errors")]
    pub bypass_conversion_errors: bool,
    /// Extra arguments of the source format's tool, for the converter.
    #[arg(long = "config.extra-args", default_value = "", allow_hyphen_values = true)]
    pub extra_args: String,
    /// The least stable level of components and features to allow.
    #[arg(long = "stability.level", default_value = "generally-available", value_parser = super::report::parse_stability)]
    pub stability: Stability,
    /// Allow community components.
    #[arg(long = "feature.community-components.enabled")]
    pub community: bool,
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let options = Options { stability: args.stability, community: args.community };
    let reports = if args.config_format == ConfigFormat::Alloy || args.path.is_dir() {
        let mut analysis = analysis(options);
        analysis.set_files(analyzer::load_path(&args.path)?);
        analysis.diagnostics()
    } else if args.config_format == ConfigFormat::Otelcol {
        // The collector engine's checks, as `alloy run --config.format=otelcol` applies them.
        super::otel::validate_collector_file(&args.path)
    } else {
        let extra = convert::parse_extra_args(&args.extra_args)?;
        let [(path, text)]: [(String, String); 1] = analyzer::load_path(&args.path)?.try_into().map_err(|_| anyhow::anyhow!("expected one file"))?;
        check_converted(&path, &text, args.config_format.as_str(), args.bypass_conversion_errors, &extra, options)
    };
    let failed = reports.iter().any(FileReport::has_errors);
    match args.format {
        Format::Text => {
            super::report::file_reports(&reports);
            if failed {
                eprintln!("Error: validation failed");
            }
        }
        Format::Short => {
            let mut out = String::new();
            for r in &reports {
                out.push_str(&diagnostics::render_short_with_severity(&r.path, &r.lines, &r.diagnostics));
            }
            super::output::stdout_until_closed(out.as_bytes())?;
        }
        Format::Json => super::output::stdout_until_closed(format!("{}\n", to_json(&reports)).as_bytes())?,
    }
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// An analysis with the components' own argument rules, the ones `alloy run` applies at load.
fn analysis(options: Options) -> Analysis {
    Analysis::with_rules(options, runtime::components::registry())
}

/// Converts `text` from `format` and checks the Alloy it gives: the source file's report (the
/// converter's diagnostics), then the converted configuration's (empty when nothing could be
/// converted).
pub fn check_converted(path: &str, text: &str, format: &str, bypass: bool, extra: &[String], options: Options) -> Vec<FileReport> {
    let converted = super::converted::convert(path, text, format, bypass, extra);
    let mut reports = vec![converted.source];
    if let Some(alloy) = converted.alloy {
        let mut analysis = analysis(options);
        analysis.set_files(vec![(path.to_string(), alloy)]);
        for mut r in analysis.diagnostics() {
            super::converted::mark_converted(&mut r, format);
            reports.push(r);
        }
    }
    reports
}

/// `[{"file", "range": {"start": {"line", "column", "offset"}, "end": …}, "severity", "code",
/// "message", "notes", "related"}]`; lines and columns are 1-based, columns count bytes.
pub fn to_json(reports: &[FileReport]) -> String {
    let pos = |r: &FileReport, offset: u32| {
        let lc = r.lines.line_col(offset);
        serde_json::json!({"line": lc.line, "column": lc.col, "offset": offset})
    };
    let mut out = Vec::new();
    for r in reports {
        for d in &r.diagnostics {
            let related: Vec<_> = d
                .related
                .iter()
                .map(|rel| {
                    let file = rel.file.as_deref().unwrap_or(&r.path);
                    let range = if rel.file.is_none() {
                        serde_json::json!({"start": pos(r, rel.span.start), "end": pos(r, rel.span.end)})
                    } else {
                        serde_json::json!({"start": {"offset": rel.span.start}, "end": {"offset": rel.span.end}})
                    };
                    serde_json::json!({"file": file, "range": range, "message": rel.message})
                })
                .collect();
            out.push(serde_json::json!({
                "file": r.path,
                "range": {"start": pos(r, d.span.start), "end": pos(r, d.span.end)},
                "severity": d.severity.as_str(),
                "code": d.code,
                "message": d.message,
                "notes": d.notes,
                "related": related,
            }));
        }
    }
    serde_json::to_string_pretty(&out).unwrap_or_else(|_| "[]".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_has_file_range_severity_code_and_message() {
        let r = analyzer::check_text("a.alloy", "prometheus.scrap \"x\" {}\n", Options::default());
        let v: serde_json::Value = serde_json::from_str(&to_json(&[r])).expect("valid JSON");
        let d = &v[0];
        assert_eq!(d["file"], "a.alloy");
        assert_eq!(d["severity"], "error");
        assert_eq!(d["code"], "unknown-component");
        assert_eq!(d["range"]["start"]["line"], 1);
        assert_eq!(d["range"]["end"]["column"], 17);
        assert_eq!(d["notes"][0], "did you mean \"prometheus.scrape\"?");
    }

    fn converting(file: &str, bypass: bool) -> Args {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/validate/convert").join(file);
        Args {
            path,
            config_format: ConfigFormat::Prometheus,
            bypass_conversion_errors: bypass,
            extra_args: String::new(),
            stability: Stability::GenerallyAvailable,
            community: false,
            format: Format::Json,
        }
    }

    #[test]
    fn converted_configs_pass_or_fail_on_both_stages() {
        let code = |file, bypass| run(converting(file, bypass)).ok();
        assert_eq!(code("prometheus_valid.yaml", false), Some(ExitCode::SUCCESS));
        assert_eq!(code("prometheus_unsupported.yaml", false), Some(ExitCode::FAILURE));
        // Bypassed, the conversion goes through, and the converted config has an error.
        assert_eq!(code("prometheus_bypassed.yaml", true), Some(ExitCode::FAILURE));
        let mut extra = converting("prometheus_valid.yaml", false);
        extra.extra_args = "--enable-feature=x".into();
        assert_eq!(run(extra).ok(), Some(ExitCode::FAILURE), "extra arguments are the converter's critical error");
    }

    #[test]
    fn short_lines_carry_the_severity() {
        let r = analyzer::check_text("a.alloy", "local.file \"f\" {\n  filename = env(\"X\")\n}\n", Options::default());
        let text = diagnostics::render_short_with_severity(&r.path, &r.lines, &r.diagnostics);
        assert_eq!(text, "a.alloy:2:14: warning: function \"env\" is deprecated; use \"sys.env\" instead\n");
    }
}
