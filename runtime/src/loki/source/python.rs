//! (tests) Running a Python client against a source: `python3 -c SCRIPT ARGS...`. Without
//! python3 (or the module the script needs) a test is skipped loudly, except under `CI=true`,
//! where it fails: `scripts/test` installs `scripts/test-requirements.txt`.

use std::process::Command;

/// Whether `python3` can import `module`; when not, says so (and panics under `CI=true`).
pub fn available(module: &str, test: &str) -> bool {
    if Command::new("python3").args(["-c", &format!("import {module}")]).output().is_ok_and(|o| o.status.success()) {
        return true;
    }
    let msg = format!("python3 with `{module}` is not available: run `pip install -r scripts/test-requirements.txt` (or `bash scripts/test`)");
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{test}: {msg}");
    }
    eprintln!("\n!!!!!!!!!! SKIPPED {test}: {msg} !!!!!!!!!!\n");
    false
}

/// Runs `script` with `args` on the blocking pool and returns what it printed; panics with its
/// output when it fails.
pub async fn run(script: &str, args: &[String]) -> String {
    let (script, args) = (script.to_string(), args.to_vec());
    let out =
        tokio::task::spawn_blocking(move || Command::new("python3").arg("-c").arg(&script).args(&args).output()).await.expect("joins").expect("python3 runs");
    assert!(out.status.success(), "the Python client failed:\n{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}
