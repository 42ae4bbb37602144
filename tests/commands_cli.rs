//! End-to-end tests of `alloy eval`, `validate` and `convert`: argument parsing, error texts,
//! exit codes and output into a closed pipe.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn alloy(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_alloy"))
        .args(args)
        .env("ALLOY_PLAIN_DIAGNOSTICS", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the alloy binary starts");
    if let Some(input) = stdin {
        match child.stdin.take().expect("stdin is piped").write_all(input.as_bytes()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => panic!("write stdin: {e}"),
            _ => {}
        }
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("alloy finishes")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

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
