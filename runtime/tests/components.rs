//! The component harness: every `fixtures/runtime/<component>/*.alloy` case is real Alloy
//! text loaded by a controller, so it goes through what a user's configuration goes
//! through (the analyzer and the components' rules, catalogue defaults, type conversion,
//! the typed decoder, the build). The snapshot next to the cases records, for each
//! component of the case, the arguments it was built with (defaults filled in), its
//! exports and the self-metrics it registered; a case that is refused records the
//! diagnostics instead. `metrics.txt` in a component's directory lists the metric names
//! upstream registers for it, and the component must register every one of them.
//!
//! A case may name `$DIR`, a fresh directory holding `data.txt` (`hello`).

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/runtime")
}

/// Each component directory (`refused/` holds the validate ⊇ run cases instead).
/// A directory per component; those of components this build leaves out (a build with some
/// families only, as `.ci/run` makes) are skipped.
fn component_dirs() -> Vec<PathBuf> {
    let built: BTreeSet<&str> = runtime::components::registrations().iter().map(|r| r.name).collect();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .expect("fixtures/runtime")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir() && p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n != "refused" && built.contains(n)))
        .collect();
    dirs.sort();
    dirs
}

fn cases(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(dir).expect("dir").flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "alloy")).collect();
    files.sort();
    files
}

/// The metric names registered for `local_id` (root components: `component_path="/"`).
fn metric_names(metrics: &str, local_id: &str) -> BTreeSet<String> {
    let label = format!("component_id=\"{local_id}\"");
    metrics
        .lines()
        .filter(|l| !l.starts_with('#') && l.contains(&label))
        .filter_map(|l| l.split(['{', ' ']).next())
        .map(|n| n.trim_end_matches("_bucket").trim_end_matches("_sum").trim_end_matches("_count").to_string())
        .collect()
}

/// What a loaded case shows: per component, its arguments, exports and metric names.
fn describe(c: &runtime::Controller, dir: &Path) -> String {
    let metrics = c.registry().render();
    let mut out = String::new();
    let mut infos = c.components();
    infos.sort_by(|a, b| a.local_id.cmp(&b.local_id));
    for info in infos {
        let Some(detail) = c.component(&info.local_id) else { continue };
        let render = |v: &Option<eval::Value>| v.as_ref().map(eval::render::render).unwrap_or_else(|| "none".into());
        out.push_str(&format!("== {}\narguments = {}\nexports = {}\n", info.local_id, render(&detail.arguments), render(&detail.exports)));
        let names = metric_names(&metrics, &info.local_id);
        out.push_str(&format!("metrics = {:?}\n\n", names));
    }
    out.replace(&dir.display().to_string(), "$DIR")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn component_fixtures() {
    let dirs = component_dirs();
    assert!(!dirs.is_empty(), "no component fixtures under {}", fixtures().display());
    let mut problems = Vec::new();
    for dir in dirs {
        let component = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        let expected: Vec<String> = std::fs::read_to_string(dir.join("metrics.txt"))
            .map(|t| t.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(String::from).collect())
            .unwrap_or_default();
        let mut registered = BTreeSet::new();
        let cases = cases(&dir);
        if cases.is_empty() {
            problems.push(format!("{component}: no cases"));
        }
        for case in cases {
            let name = case.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
            let text = std::fs::read_to_string(&case).expect("read case");
            let config = common::Config::new(&text);
            std::fs::write(config.dir.path().join("data.txt"), "hello").expect("data.txt");
            let c = config.experimental_controller();
            let snapshot = match c.load().await {
                Ok(()) => {
                    // Servers register their metrics when they start, just after the load.
                    let ours = || -> BTreeSet<String> {
                        let metrics = c.registry().render();
                        c.components().iter().filter(|i| i.name == component).flat_map(|i| metric_names(&metrics, &i.local_id)).collect()
                    };
                    common::eventually("the upstream metric names", || expected.iter().all(|m| ours().contains(m))).await;
                    // The other components of the case start their servers too: wait until the
                    // registered metrics stop changing before describing them.
                    let all = || c.registry().render().lines().filter(|l| !l.starts_with('#')).count();
                    let mut last = all();
                    for _ in 0..50 {
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                        let now = all();
                        if now == last {
                            break;
                        }
                        last = now;
                    }
                    registered.extend(ours());
                    describe(&c, config.dir.path())
                }
                Err(e) => format!("refused:\n{}\n", common::messages(&e).join("\n")),
            };
            c.shutdown().await;
            insta::with_settings!({ snapshot_path => dir.join("snapshots"), prepend_module_to_snapshot => false, omit_expression => true }, {
                insta::assert_snapshot!(format!("{component}__{name}"), snapshot);
            });
        }
        let missing: Vec<&String> = expected.iter().filter(|m| !registered.contains(*m)).collect();
        if !missing.is_empty() {
            problems.push(format!("{component}: upstream's metrics not registered: {missing:?}"));
        }
    }
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}
