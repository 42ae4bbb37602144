//! `alloy lsp` driven by a real client: the pytest-lsp suite under `tests/lsp/` (installed by
//! `scripts/test` from `scripts/test-requirements.txt`). Without pytest-lsp the test is skipped
//! with a loud message, except under `CI=true`, where it fails.

use std::path::Path;
use std::process::Command;

fn pytest_lsp_available() -> bool {
    Command::new("python3").args(["-c", "import pytest_lsp"]).output().is_ok_and(|o| o.status.success())
}

#[test]
fn pytest_lsp_suite() {
    if !pytest_lsp_available() {
        let msg = "pytest-lsp is not installed: run `pip install -r scripts/test-requirements.txt` (or `bash scripts/test`)";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{msg}");
        }
        eprintln!("\n!!!!!!!!!! SKIPPED lsp_e2e: {msg} !!!!!!!!!!\n");
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/lsp");
    let out = Command::new("python3")
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "."])
        .current_dir(&dir)
        .env("ALLOY_BIN", env!("CARGO_BIN_EXE_alloy"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("python3 runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the pytest-lsp suite failed:\n{text}");
    assert!(text.contains(" passed"), "no test ran:\n{text}");
}
