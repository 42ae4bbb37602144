//! The language server in a real editor: Debian's Neovim (0.7) in headless mode, set up as the
//! README says (tests/nvim/init.lua), runs a user's session (tests/nvim/session.lua): it opens
//! a file and gets its diagnostics, completes right after a dot in a file that does not parse,
//! and formats and saves a file that had no final newline; the saved bytes must be `alloy
//! fmt`'s. Without Neovim the test skips loudly, except under `CI=true`, where it fails.

use std::path::Path;
use std::process::{Command, Stdio};

mod support;
use support::*;

const MAIN: &str = "otelcol.receiver.otlp \"in\" {\nhttp {}\noutput {\ntraces = [otelcol.exporter.otlp.out.input]\n}\n}\n\notelcol.exporter.otlp \"out\" {\n  client {\n  endpoint = \"x:4317\"\n  }\n}\n\nprometheus.scrape \"s\" {\n  targets = []\n  forward_too = []\n}";

const BROKEN: &str = "otelcol.receiver.otlp \"in\" {\n  http {}\n  output {\n    traces = [otelcol.]\n  }\n}\n\notelcol.exporter.otlp \"out\" {\n  client {\n    endpoint = \"x:4317\"\n  }\n}\n";

fn nvim_installed() -> bool {
    if Command::new("nvim").arg("--version").output().is_ok_and(|o| o.status.success()) {
        return true;
    }
    let msg = "Neovim (nvim) is not installed: run `apt-get install neovim` (or `bash scripts/test`)";
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{msg}");
    }
    eprintln!("\n!!!!!!!!!! SKIPPED nvim_e2e: {msg} !!!!!!!!!!\n");
    false
}

#[test]
fn a_neovim_session_diagnoses_completes_and_formats() {
    if !nvim_installed() {
        return;
    }
    let dir = scratch("nvim-e2e");
    std::fs::write(dir.join("main.alloy"), MAIN).expect("write main");
    std::fs::write(dir.join("broken.alloy"), BROKEN).expect("write broken");
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/nvim");
    let out = Command::new("timeout")
        .arg("60")
        .arg("nvim")
        .args(["--headless", "-n", "-i", "NONE", "-u"])
        .arg(here.join("init.lua"))
        .arg("-c")
        .arg(format!("luafile {}", here.join("session.lua").display()))
        .env("ALLOY_BIN", env!("CARGO_BIN_EXE_alloy"))
        .env("SESSION_DIR", &dir)
        .env("XDG_STATE_HOME", dir.join("state"))
        .env("XDG_DATA_HOME", dir.join("data"))
        .stdin(Stdio::null())
        .output()
        .expect("nvim runs");
    let result = std::fs::read_to_string(dir.join("result.json"))
        .unwrap_or_else(|_| panic!("the session wrote no result: {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)));
    let result: serde_json::Value = serde_json::from_str(&result).expect("JSON");
    assert_eq!(result["attached"], true, "{result}");

    let diagnostics = result["diagnostics"].as_array().cloned().unwrap_or_default();
    assert!(
        diagnostics.iter().any(|d| d["message"].as_str().is_some_and(|m| m.contains("forward_too")) && d["line"] == 15 && d["col"] == 2),
        "{diagnostics:?}"
    );

    let completions: Vec<&str> = result["completions"].as_array().map(|a| a.iter().filter_map(|c| c.as_str()).collect()).unwrap_or_default();
    assert_eq!(completions, ["otelcol.exporter.otlp.out.input"]);

    let saved = std::fs::read_to_string(dir.join("main.alloy")).expect("read saved");
    let fmt = Command::new(env!("CARGO_BIN_EXE_alloy")).arg("fmt").arg(dir.join("broken.alloy")).output().expect("alloy fmt runs");
    assert!(!fmt.status.success(), "the broken file does not format");
    std::fs::write(dir.join("expected.alloy"), MAIN).expect("write copy");
    let expected = Command::new(env!("CARGO_BIN_EXE_alloy")).arg("fmt").arg(dir.join("expected.alloy")).output().expect("alloy fmt runs");
    assert_eq!(saved, String::from_utf8_lossy(&expected.stdout), "the saved file is byte for byte `alloy fmt`'s output");
}
