//! End-to-end tests of `alloy eval`, `validate` and `convert`: argument parsing, error texts,
//! exit codes and output into a closed pipe.

use std::io::Write;
use std::process::{Command, Stdio};

mod support;
use support::*;

#[test]
fn eval_takes_a_negative_number_or_negation_as_the_expression() {
    let out = alloy(&["eval", "-0"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "0\n");
    let out = alloy(&["eval", "--format", "json", "-1"], None);
    assert_eq!(text(&out.stdout), "{\"type\":\"number\",\"value\":-1}\n");
    let out = alloy(&["eval", "-a * 3", "--var", "a=2"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "-6\n");
}

#[test]
fn a_missing_file_is_reported_once_with_the_os_error() {
    for args in [
        &["validate", "/nonexistent.alloy"][..],
        &["fmt", "/nonexistent.alloy"],
        &["convert", "--source-format=prometheus", "/nonexistent.yaml"],
        &["run", "/nonexistent.alloy"],
    ] {
        let out = alloy(args, None);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = text(&out.stderr);
        assert_eq!(err.matches("No such file or directory").count(), 1, "{args:?}: {err}");
        assert!(err.contains("/nonexistent."), "{args:?}: {err}");
    }
    let out = alloy(&["validate", "/nonexistent.alloy"], None);
    assert_eq!(text(&out.stderr), "Error: failed to read /nonexistent.alloy: No such file or directory (os error 2)\n");
}

/// Runs alloy, reads a few bytes of its standard output and closes it, as `| head -c 5` does;
/// the exit status and standard error. The outputs are far larger than a pipe's buffer, so
/// alloy is still writing when the pipe closes.
fn closed_early(args: &[&str], stdin: Option<&str>) -> (Option<i32>, String) {
    use std::io::Read;
    let mut child = Command::new(env!("CARGO_BIN_EXE_alloy"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the alloy binary starts");
    let mut input = child.stdin.take().expect("stdin is piped");
    let stdin = stdin.unwrap_or_default().to_string();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(stdin.as_bytes());
    });
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut first = [0u8; 5];
    stdout.read_exact(&mut first).expect("some output");
    drop(stdout);
    let out = child.wait_with_output().expect("alloy finishes");
    feeder.join().expect("stdin written");
    (out.status.code(), text(&out.stderr))
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    let dir = scratch("commands-closed-pipe");
    let big: String = (0..20_000).map(|i| format!("a_{i}={i}\n")).collect();
    for f in ["a.alloy", "b.alloy", "c.alloy"] {
        std::fs::write(dir.join(f), &big).expect("write");
    }
    let d = dir.to_str().unwrap();
    assert_eq!(closed_early(&["fmt", d], None), (Some(0), String::new()), "fmt DIR");
    assert_eq!(closed_early(&["fmt"], Some(&big)), (Some(0), String::new()), "fmt stdin");

    // Many errors: the exit status still says the configuration is invalid.
    let invalid: String = (0..5_000).map(|i| format!("unknown.component \"c{i}\" {{ }}\n")).collect();
    let path = dir.join("invalid.alloy");
    std::fs::write(&path, &invalid).expect("write");
    assert_eq!(closed_early(&["validate", "--format=json", path.to_str().unwrap()], None), (Some(1), String::new()), "validate json");
    assert_eq!(closed_early(&["validate", "--format=short", path.to_str().unwrap()], None), (Some(1), String::new()), "validate short");

    let scrape: String = (0..2_000).map(|i| format!("  - job_name: job{i}\n    static_configs:\n      - targets: [\"h{i}:9100\"]\n")).collect();
    let prometheus = format!("scrape_configs:\n{scrape}");
    assert_eq!(closed_early(&["convert", "--source-format=prometheus"], Some(&prometheus)), (Some(0), String::new()), "convert");

    let long = format!("\"{}\"", "x".repeat(100_000));
    assert_eq!(closed_early(&["eval", &long], None), (Some(0), String::new()), "eval");
}
