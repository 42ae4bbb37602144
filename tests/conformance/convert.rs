//! The `convert/{otelcol,prometheus,promtail}` suites: each `NAME.yaml` is converted and its
//! output compared with `NAME.alloy` (trailing whitespace at the end aside) and its non-Info
//! diagnostics with `NAME.diags`. Messages quoting a YAML library's error
//! match on severity, prefix and the line number they name.
//!
//! Cases listed in `deviations.txt` are where upstream's output is wrong and ours deliberately
//! differs (README, differences from upstream): their output is compared byte for byte with
//! ours, stored under `fixtures/convert/deviations/<case>.alloy`, and must still differ from
//! upstream's (else the deviation is stale). A listed case held out of this copy of the data
//! has no stored output; it must then differ from upstream's and validate. A stored
//! `<case>.diags` beside it replaces upstream's diagnostics.

use std::path::Path;

use crate::harness::{files_with_suffix, guarded, stem, CaseResult, Listed};

/// The two telemetry warnings upstream gives every otelcol conversion (about the collector's
/// defaults; ours only when the file sets them), ignored outside `otelcol_telemetry`.
const OTELCOL_IGNORED: [&str; 2] = [
    "(Warning) the service/telemetry/logs/sampling configuration is not supported",
    "(Warning) the service/telemetry/metrics/readers configuration is not supported - to gather Alloy's own telemetry refer to: https://grafana.com/docs/alloy/latest/collect/metamonitoring/",
];

pub fn otelcol(dir: &Path) -> Vec<CaseResult> {
    run(dir, "otelcol")
}

pub fn prometheus(dir: &Path) -> Vec<CaseResult> {
    run(dir, "prometheus")
}

pub fn promtail(dir: &Path) -> Vec<CaseResult> {
    run(dir, "promtail")
}

fn run(dir: &Path, format: &str) -> Vec<CaseResult> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let deviations = Listed::load(&repo.join("tests/conformance/deviations.txt"));
    let mut dirs = Vec::new();
    collect_dirs(dir, &mut dirs);
    dirs.sort();
    let mut results = Vec::new();
    for d in dirs {
        let rel_dir = d.strip_prefix(dir).unwrap_or(&d).to_string_lossy().replace('\\', "/");
        let leaf = d.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        for input in files_with_suffix(&d, ".yaml") {
            let name = stem(&input, ".yaml");
            let id = format!("{rel_dir}/{name}");
            let leaf = leaf.clone();
            let deviated = deviations.contains(&format!("convert/{format}/{id}"));
            let ours = deviated.then(|| repo.join("fixtures/convert/deviations").join(format).join(format!("{id}.alloy")));
            let format = format.to_string();
            let outcome = guarded(move || check(&input, &format, &leaf, ours.as_deref()));
            let mut r = CaseResult::new(id, outcome);
            r.deviated = deviated;
            results.push(r);
        }
    }
    results
}

fn collect_dirs(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    let mut has_yaml = false;
    for e in rd.filter_map(Result::ok) {
        let p = e.path();
        if p.is_dir() {
            collect_dirs(&p, out);
        } else if p.extension().is_some_and(|x| x == "yaml") {
            has_yaml = true;
        }
    }
    if has_yaml {
        out.push(dir.to_path_buf());
    }
}

/// `deviation`: for a case listed in `deviations.txt`, where our own expected output is stored.
fn check(input: &Path, format: &str, leaf: &str, deviation: Option<&Path>) -> Result<(), String> {
    let src = std::fs::read(input).map_err(|e| format!("cannot read {}: {e}", input.display()))?;
    let result = if leaf == "otelcol_without_validation" { convert::convert_without_validation(&src, format) } else { convert::convert(&src, format, &[]) };
    let ignored: &[&str] = if format == "otelcol" && leaf != "otelcol_telemetry" { &OTELCOL_IGNORED } else { &[] };
    let mut actual = String::new();
    for d in result.diagnostics.iter().filter(|d| d.severity != convert::Severity::Info) {
        let text = d.to_string();
        if ignored.contains(&text.as_str()) {
            continue;
        }
        actual.push_str(&text);
        actual.push('\n');
    }
    // A deviated case's own diagnostics, when stored, replace upstream's.
    let diags_path = deviation.map(|p| p.with_extension("diags")).filter(|p| p.exists()).unwrap_or_else(|| input.with_extension("diags"));
    let alloy_path = input.with_extension("alloy");
    let expected = std::fs::read_to_string(&diags_path).unwrap_or_default().replace("\r\n", "\n");
    let mut problems = Vec::new();
    if !diags_match(&expected, &actual) {
        problems.push(format!("diagnostics differ\n  expected:\n{}\n  actual:\n{}", indent(&expected), indent(&actual)));
    }
    let got = result.output.clone().unwrap_or_default();
    if let Ok(want) = std::fs::read_to_string(&alloy_path) {
        let want = want.replace("\r\n", "\n");
        // Our stored output for a deviated case; without one (only the diagnostics deviate, or
        // the case is held out of this copy of the data) upstream's output is the reference,
        // but a held-out case whose output deviates can only be checked by the round trip.
        let stored = deviation.and_then(|p| std::fs::read_to_string(p).ok());
        let diags_deviate = deviation.is_some_and(|p| p.with_extension("diags").exists());
        match (&stored, deviation) {
            _ if want.is_empty() => {}
            (Some(_), _) if got.trim_end() == want.trim_end() => problems.push("the output equals upstream's: remove its stored output".into()),
            (Some(ours), _) if *ours != got => problems.push(format!("output differs from our stored deviation:\n{}", first_difference(ours, &got))),
            (Some(_), _) => {}
            (None, Some(_)) if !diags_deviate && got.trim_end() == want.trim_end() => {
                problems.push("the output equals upstream's: remove the case from deviations.txt".into())
            }
            (None, Some(_)) if !diags_deviate => {}
            (None, _) if got.trim_end() != want.trim_end() => problems.push(format!("output differs:\n{}", first_difference(&want, &got))),
            (None, _) => {}
        }
    }
    if let Some(out) = &result.output {
        if !result.diagnostics.has(convert::Severity::Error) && !result.diagnostics.has(convert::Severity::Critical) {
            if let Err(why) = round_trip(out) {
                problems.push(why);
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// A converted file must parse, be formatted already, and pass the analyzer.
fn round_trip(out: &str) -> Result<(), String> {
    use convert::verify::OutputProblem;
    convert::verify::verify_output(out).map_err(|p| match p {
        OutputProblem::Unparsable(d) => format!("converted output does not parse: {d}"),
        OutputProblem::Unformatted(formatted) => format!("converted output is not formatted:\n{}", first_difference(out, &formatted)),
        OutputProblem::Rejected(errors) => format!("the analyzer rejects the converted output:\n    {}", errors.join("\n    ")),
    })
}

/// Exact, except that a line quoting a YAML library error (`yaml: line N: …`) matches on the
/// text before `yaml:` and the line number.
fn diags_match(expected: &str, actual: &str) -> bool {
    if expected == actual {
        return true;
    }
    let e: Vec<&str> = expected.lines().collect();
    let a: Vec<&str> = actual.lines().collect();
    e.len() == a.len()
        && e.iter().zip(&a).all(|(x, y)| {
            if x == y {
                return true;
            }
            match (x.split_once("yaml: line "), y.split_once("yaml: line ")) {
                (Some((px, rx)), Some((py, ry))) => {
                    let num = |r: &str| r.split(':').next().unwrap_or_default().to_string();
                    px == py && num(rx) == num(ry)
                }
                _ => false,
            }
        })
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n")
}

fn first_difference(want: &str, got: &str) -> String {
    let w: Vec<&str> = want.lines().collect();
    let g: Vec<&str> = got.lines().collect();
    for i in 0..w.len().max(g.len()) {
        let (a, b) = (w.get(i).copied(), g.get(i).copied());
        if a != b {
            return format!("  line {}:\n    expected: {:?}\n    actual:   {:?}", i + 1, a.unwrap_or("<end>"), b.unwrap_or("<end>"));
        }
    }
    "  (trailing whitespace only)".to_string()
}
