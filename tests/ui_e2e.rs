//! The web UI in a real browser: the Selenium suite under `tests/ui/` drives Debian's
//! `chromium` through `chromium-driver` against `alloy run` on loopback (both installed by
//! `scripts/test`, Selenium from `scripts/test-requirements.txt`). Screenshots of every page go
//! to `target/tmp/ui-screenshots/` for a person to look at. Without the browser or Selenium
//! the test is skipped with a loud message, except under `CI=true`, where it fails.

use std::path::Path;
use std::process::Command;

fn missing() -> Option<String> {
    let selenium = Command::new("python3").args(["-c", "import selenium, pytest"]).output().is_ok_and(|o| o.status.success());
    if !selenium {
        return Some("selenium/pytest are not installed: run `pip install -r scripts/test-requirements.txt` (or `bash scripts/test`)".into());
    }
    for bin in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
        if !Path::new(bin).exists() {
            return Some(format!("{bin} is missing: run `apt-get install chromium chromium-driver` (or `bash scripts/test`)"));
        }
    }
    None
}

#[test]
fn browser_suite() {
    if let Some(msg) = missing() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{msg}");
        }
        eprintln!("\n!!!!!!!!!! SKIPPED ui_e2e: {msg} !!!!!!!!!!\n");
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/ui");
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ui-screenshots");
    let out = Command::new("python3")
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "."])
        .current_dir(&dir)
        .env("ALLOY_BIN", env!("CARGO_BIN_EXE_alloy"))
        .env("SCREENSHOTS", &shots)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("python3 runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the browser suite failed:\n{text}");
    assert!(text.contains(" passed"), "no test ran:\n{text}");
    eprintln!("screenshots: {}", shots.display());
}
