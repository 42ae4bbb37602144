//! The collector fixtures (fixtures/otel): each YAML is loaded as `alloy otel validate` loads
//! it, with a fixed environment and paths relative to the fixture directory, and the snapshot
//! holds either the errors, placed in the YAML, or the Alloy that runs it and which collector
//! component each Alloy component is. A `# args:` line adds `--config`/`--set` arguments.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::*;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/otel")
}

const ENV: &[(&str, &str)] = &[("FIXTURE_HOST", "127.0.0.1"), ("FIXTURE_PORT", "4318"), ("FIXTURE_BATCH", "250"), ("FIXTURE_TOKEN", "t0ken")];

fn render(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("fixture is readable");
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
    let mut args = ConfigArgs { config: vec![name], ..ConfigArgs::default() };
    for extra in text.lines().filter_map(|l| l.strip_prefix("# args: ")).flat_map(str::split_whitespace) {
        if let Some(c) = extra.strip_prefix("--config=") {
            args.config.push(c.to_string());
        } else if let Some(s) = extra.strip_prefix("--set=") {
            args.set.push(s.to_string());
        }
    }
    let dir = fixture_dir();
    let read = move |p: &str| std::fs::read(dir.join(p));
    let env = |name: &str| ENV.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string());
    let host = Host { env: &env, read_file: &read };
    match load_with(&args, &host) {
        Err(r) => format!("ERROR\n{}\n", render_plain(&r)),
        Ok(mut loaded) => {
            let problems = check(&mut loaded);
            if !problems.is_empty() {
                return format!("ERROR\n{}\n", render_plain(&problems));
            }
            let mut out = String::from("OK\n");
            for w in &loaded.engine.warnings {
                let _ = writeln!(out, "warning: {}", w.render(&loaded.resolved.sources));
            }
            for m in &loaded.engine.components {
                let _ = writeln!(out, "{} -> {}", m.collector_name(), m.alloy);
            }
            for (name, _) in &loaded.alloy_files {
                let _ = writeln!(out, "alloyengine runs {name}");
            }
            out.push('\n');
            out.push_str(&loaded.engine.alloy);
            out
        }
    }
}

#[test]
fn fixtures() {
    let dir = fixture_dir();
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(dir.join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        insta::glob!(&dir, "*.yaml", |path| {
            insta::assert_snapshot!(render(path));
        });
    });
}

#[test]
fn every_component_this_binary_runs_has_a_fixture() {
    let names: Vec<String> = std::fs::read_dir(fixture_dir()).expect("fixtures").filter_map(|e| e.ok()?.file_name().into_string().ok()).collect();
    let catalogue = collector::graph::catalogue();
    let mut missing = Vec::new();
    for (kind, ty, alloy) in &catalogue {
        // Deprecated aliases (`otlp_http` for `otlphttp`) share their component's fixture.
        let aliases: Vec<&str> = catalogue.iter().filter(|(k, _, a)| k == kind && a == alloy).map(|(_, t, _)| *t).collect();
        if runs(alloy) && !aliases.iter().any(|t| names.contains(&format!("{kind}_{t}.yaml"))) {
            missing.push(format!("{kind}/{ty} ({alloy})"));
        }
    }
    assert!(missing.is_empty(), "collector components without a fixture in fixtures/otel: {missing:?}");
}

#[test]
fn every_component_this_binary_runs_has_its_signals() {
    let missing: Vec<&str> =
        collector::graph::catalogue().into_iter().map(|(_, _, alloy)| alloy).filter(|a| runs(a) && collector::signals::of(a).is_none()).collect();
    assert!(missing.is_empty(), "add the collector's per-signal stability to convert/src/otelcol/collector/signals.rs for {missing:?}");
}

#[test]
fn components_listing_is_yaml_with_every_runnable_type() {
    let text = components_yaml();
    let root = convert::yaml::parse(text.as_bytes()).expect("the listing is YAML");
    let section = |name: &str| match root.get(name).map(|n| &n.kind) {
        Some(convert::yaml::Kind::Seq(items)) => items.clone(),
        _ => Vec::new(),
    };
    let otlp = section("receivers").into_iter().find(|r| r.get("name").and_then(|n| n.scalar()) == Some("otlp")).expect("the otlp receiver is listed");
    assert_eq!(otlp.get("stability").and_then(|s| s.get("traces")).and_then(|t| t.scalar()), Some("Stable"));
    let count = section("connectors").into_iter().find(|r| r.get("name").and_then(|n| n.scalar()) == Some("count")).expect("count is listed");
    assert_eq!(count.get("stability").and_then(|s| s.get("traces-to-metrics")).and_then(|t| t.scalar()), Some("Alpha"));
    let listed: usize = ["receivers", "processors", "exporters", "connectors", "extensions"].iter().map(|s| section(s).len()).sum();
    let runnable = collector::graph::catalogue().into_iter().filter(|(_, _, a)| runs(a)).count();
    assert_eq!(listed, runnable);
}

#[test]
fn unsupported_statement_removal_keeps_the_rest() {
    let text = "a \"b\" {\n\tx = 1\n\ty = [\n\t\t\"}\",\n\t]\n\tz { }\n\tw = 2\n}\n";
    let y = text.find("y =").expect("y");
    assert_eq!(remove_statement(text, y), "a \"b\" {\n\tx = 1\n\tz { }\n\tw = 2\n}\n");
    let z = text.find("z {").expect("z");
    assert_eq!(remove_statement(text, z), "a \"b\" {\n\tx = 1\n\ty = [\n\t\t\"}\",\n\t]\n\tw = 2\n}\n");
    assert_eq!(unsupported_setting("argument \"idle_timeout\" is not supported by this runtime yet"), Some("idle_timeout"));
    assert_eq!(unsupported_setting("block \"cors\" is not supported by this runtime yet"), Some("cors"));
    assert_eq!(unsupported_setting("missing required argument \"x\""), None);
}
