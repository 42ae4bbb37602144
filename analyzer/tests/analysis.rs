//! The analysis as an editor uses it: several files sharing one namespace, and edits.

use analyzer::{Analysis, Options, Stability};

/// An analysis of `files` (path, text) at the default options.
fn analysis(files: &[(&str, &str)]) -> Analysis {
    let mut a = Analysis::new(Options::default());
    a.set_files(files.iter().map(|(p, t)| (p.to_string(), t.to_string())).collect());
    a
}

fn messages(a: &Analysis) -> Vec<(String, String)> {
    a.diagnostics().into_iter().flat_map(|r| r.diagnostics.into_iter().map(move |d| (r.path.clone(), d.message))).collect()
}

#[test]
fn files_of_a_directory_share_one_namespace() {
    let a = analysis(&[
        ("a.alloy", "prometheus.remote_write \"default\" {}\n"),
        ("b.alloy", "prometheus.scrape \"s\" {\n  targets = []\n  forward_to = [prometheus.remote_write.default.receiver]\n}\n"),
    ]);
    assert_eq!(messages(&a), Vec::<(String, String)>::new());
}

#[test]
fn duplicates_across_files_point_at_the_first() {
    let a = analysis(&[("a.alloy", "prometheus.remote_write \"default\" {}\n"), ("b.alloy", "\nprometheus.remote_write \"default\" {}\n")]);
    let reports = a.diagnostics();
    assert!(reports[0].diagnostics.is_empty());
    let d = &reports[1].diagnostics[0];
    assert_eq!(d.message, "block ID already declared at a.alloy:1:1");
    assert_eq!(d.related[0].file.as_deref(), Some("a.alloy"));
}

#[test]
fn cycles_across_files_are_reported_once() {
    let a = analysis(&[
        ("a.alloy", "discovery.relabel \"a\" {\n  targets = discovery.relabel.b.output\n}\n"),
        ("b.alloy", "discovery.relabel \"b\" {\n  targets = discovery.relabel.a.output\n}\n"),
    ]);
    let all = messages(&a);
    assert_eq!(all, vec![("a.alloy".to_string(), "cycle detected: discovery.relabel.a, discovery.relabel.b".to_string())]);
    let reports = a.diagnostics();
    assert_eq!(reports[0].diagnostics[0].related[0].file.as_deref(), Some("b.alloy"));
}

#[test]
fn edits_are_rechecked() {
    let ok =
        "prometheus.remote_write \"default\" {}\nprometheus.scrape \"s\" {\n  targets = []\n  forward_to = [prometheus.remote_write.default.receiver]\n}\n";
    let mut a = analysis(&[("a.alloy", ok)]);
    assert!(messages(&a).is_empty());
    a.set_file_text("a.alloy", ok.replace("default.receiver", "defualt.receiver"));
    let m = messages(&a);
    assert_eq!(m.len(), 1);
    assert!(m[0].1.contains("does not exist or is out of scope"), "{m:?}");
    a.set_file_text("a.alloy", ok.into());
    assert!(messages(&a).is_empty());
    // Renaming the target breaks the reference too (the namespace changes).
    a.set_file_text("a.alloy", ok.replace("remote_write \"default\"", "remote_write \"other\""));
    assert_eq!(messages(&a).len(), 1);
}

#[test]
fn stability_level_is_an_option() {
    let mut a = analysis(&[("a.alloy", "prometheus.exporter.static \"x\" {\n  text = \"\"\n}\n")]);
    assert_eq!(messages(&a).len(), 1);
    a.set_options(Options { stability: Stability::Experimental, community: false });
    assert!(messages(&a).is_empty());
}

#[test]
fn a_syntax_error_is_reported_without_the_errors_it_causes() {
    // The unclosed block swallows the blocks after it, which would then be "unrecognized",
    // and the reference to the remote_write would dangle: only the syntax error is real.
    let text = "local.file \"a\" {\n  filename = \"x\"\n\nprometheus.scrape \"s\" {\n  targets    = []\n  forward_to = [prometheus.remote_write.x.receiver]\n}\n\nprometheus.remote_write \"x\" { }\n";
    let report = analyzer::check_text("a.alloy", text, Options::default());
    let msgs: Vec<&str> = report.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert!(report.diagnostics.iter().all(|d| matches!(d.code, Some("parse" | "scan"))), "{msgs:?}");
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    // Other files' checks wait too: what the broken file declares is unknown.
    let a = analysis(&[("a.alloy", "local.file \"a\" {\n"), ("b.alloy", "local.file \"b\" {\n  filename = local.file.a.content\n}\n")]);
    let all = messages(&a);
    assert!(all.iter().all(|(file, _)| file == "a.alloy"), "{all:?}");
    // Without the syntax error, the semantic checks run as usual.
    let fixed = analyzer::check_text("a.alloy", "prometheus.scrap \"a\" {\n}\n", Options::default());
    assert!(fixed.diagnostics.iter().any(|d| d.message.contains("prometheus.scrap")));
}

/// A fresh directory under the system's temporary directory.
fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("alloy-analyzer-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).expect("temporary directory");
    dir
}

const LIB: &str = "declare \"greeter\" {\n  argument \"name\" {}\n  export \"out\" {\n    value = argument.name.value\n  }\n}\n";

#[test]
fn imported_files_are_read_again_after_they_change() {
    let dir = temp_dir("import-edit");
    std::fs::write(dir.join("lib.alloy"), LIB).expect("write");
    let root = "import.file \"lib\" {\n  filename = \"lib.alloy\"\n}\n\nlib.greeter \"g\" {\n  name = \"x\"\n}\n";
    let mut a = Analysis::new(Options::default());
    a.set_base_dir(dir.clone());
    a.set_files(vec![("main.alloy".into(), root.into())]);
    assert!(messages(&a).is_empty(), "{:?}", messages(&a));

    // The module now wants a second argument: the next check sees it.
    std::fs::write(dir.join("lib.alloy"), LIB.replace("argument \"name\" {}", "argument \"name\" {}\n  argument \"greeting\" {}")).expect("write");
    assert!(a.reload_imports());
    assert_eq!(messages(&a), vec![("main.alloy".to_string(), "missing required attribute \"greeting\"".to_string())]);

    // Gone: the import itself is the error.
    std::fs::remove_file(dir.join("lib.alloy")).expect("remove");
    a.set_file_text("main.alloy", root.to_string());
    a.reload_imports();
    let m = messages(&a);
    assert_eq!(m.len(), 1, "{m:?}");
    assert!(m[0].1.starts_with("failed to read") && m[0].1.contains("lib.alloy"), "{m:?}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn imports_inside_declare_are_read_from_the_base_directory() {
    let dir = temp_dir("import-declare");
    std::fs::write(dir.join("lib.alloy"), LIB).expect("write");
    let root = "declare \"outer\" {\n  import.file \"lib\" {\n    filename = \"lib.alloy\"\n  }\n\n  lib.greeter \"g\" {\n    nmae = \"x\"\n  }\n}\n";
    let mut a = Analysis::new(Options::default());
    a.set_base_dir(dir.clone());
    a.set_files(vec![("main.alloy".into(), root.into())]);
    let m: Vec<String> = messages(&a).into_iter().map(|(_, m)| m).collect();
    assert_eq!(m, ["missing required attribute \"name\"", "unrecognized attribute name \"nmae\""]);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn import_paths_built_from_module_path_are_read_too() {
    let dir = temp_dir("import-path-join");
    std::fs::write(dir.join("lib.alloy"), LIB).expect("write");
    let root = "import.file \"lib\" {\n  filename = file.path_join(module_path, \"lib.alloy\")\n}\n\nlib.greeter \"g\" {\n  nmae = \"x\"\n}\n";
    let mut a = Analysis::new(Options::default());
    // module_path is the configuration's directory, not the base directory.
    a.set_files(vec![(dir.join("main.alloy").display().to_string(), root.into())]);
    let m: Vec<String> = messages(&a).into_iter().map(|(_, m)| m).collect();
    assert_eq!(m, ["missing required attribute \"name\"", "unrecognized attribute name \"nmae\""]);

    // A filename that needs another component stays unchecked rather than wrong.
    let dynamic =
        "local.file \"f\" {\n  filename = \"x\"\n}\n\nimport.file \"lib\" {\n  filename = local.file.f.content\n}\n\nlib.greeter \"g\" {\n  nmae = \"x\"\n}\n";
    a.set_files(vec![(dir.join("main.alloy").display().to_string(), dynamic.into())]);
    assert!(messages(&a).is_empty(), "{:?}", messages(&a));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_large_module_hints_only_the_first_unknown_references_of_a_file() {
    // 1 500 components, 150 references each one letter off: comparing every unknown
    // reference with every ID would be quadratic, so only the first 100 get a hint.
    let mut text = String::new();
    for i in 0..1500 {
        text.push_str(&format!("local.file \"file_{i}\" {{\n  filename = \"x\"\n}}\n"));
    }
    for i in 0..150 {
        text.push_str(&format!("local.file \"user_{i}\" {{\n  filename = local.file.fila_{i}.content\n}}\n"));
    }
    let report = analyzer::check_text("a.alloy", &text, Options::default());
    let unknown: Vec<&syntax::Diagnostic> = report.diagnostics.iter().filter(|d| d.code == Some("undefined-reference")).collect();
    assert_eq!(unknown.len(), 150);
    for (i, d) in unknown.iter().enumerate() {
        if i < 100 {
            assert_eq!(d.notes, [format!("did you mean \"local.file.file_{i}.content\"?")], "{d:?}");
        } else {
            assert!(d.notes.is_empty(), "{d:?}");
        }
    }
    // A small module hints every one.
    let small = analyzer::check_text(
        "a.alloy",
        "local.file \"a\" {\n  filename = \"x\"\n}\nlocal.file \"b\" {\n  filename = local.file.aa.content\n}\n",
        Options::default(),
    );
    assert_eq!(small.diagnostics[0].notes, ["did you mean \"local.file.a.content\"?"]);
}

/// The highest expression the parser accepts is checked on a thread with tokio's 2 MiB stack
/// (the language server analyses on such threads), in this debug build.
#[test]
fn the_highest_accepted_expression_is_checked_on_a_small_stack() {
    let depth = syntax::parser::MAX_EXPR_DEPTH;
    let text = format!(
        "logging {{\n  level  = {}\"info\"\n  format = \"logfmt\"{}\n}}\nlocal.file \"f\" {{\n  filename = \"/x\"{}\n}}\n",
        "-".repeat(depth - 1),
        " + \"\"".repeat(depth - 1),
        ".y".repeat(depth - 1),
    );
    let worker = std::thread::Builder::new().stack_size(2 << 20).spawn(move || messages(&analysis(&[("a.alloy", &text)])));
    let found = worker.expect("spawn").join().expect("no stack overflow");
    assert!(!found.is_empty(), "the negated string and the access on a string are type errors");
    assert!(found.iter().all(|(_, m)| !m.contains("too deep")), "{found:?}");
}
