//! End-to-end tests of `alloy fmt`: the binary, its flags, exit codes and messages.

use std::path::Path;

mod support;
use support::*;

const UNFORMATTED: &str = "logging {\nlevel = \"info\"\n  format=\"json\"\n}\n";
const FORMATTED: &str = "logging {\n\tlevel  = \"info\"\n\tformat = \"json\"\n}\n";

fn write(path: &Path, content: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create parent");
    }
    std::fs::write(path, content).expect("write file");
}

#[test]
fn formats_standard_input_with_one_trailing_newline() {
    let out = alloy(&["fmt"], Some(UNFORMATTED));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), FORMATTED);
    let out = alloy(&["fmt", "-"], Some("a=1"));
    assert_eq!(text(&out.stdout), "a = 1\n");
}

#[test]
fn parse_errors_are_reported_with_positions_and_exit_1() {
    let out = alloy(&["fmt"], Some("a = 1\nb = #\n"));
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = text(&out.stderr);
    assert_eq!(err, "<stdin>:2:5: illegal character U+0023 '#'\n<stdin>:2:5: expected expression, got ILLEGAL\nError: encountered errors during formatting\n");
}

#[test]
fn write_rewrites_only_changed_files() {
    let dir = scratch("fmt-write");
    let messy = dir.join("messy.alloy");
    let tidy = dir.join("tidy.alloy");
    write(&messy, UNFORMATTED);
    write(&tidy, FORMATTED);
    let before = std::fs::metadata(&tidy).and_then(|m| m.modified()).expect("mtime");
    std::thread::sleep(std::time::Duration::from_millis(20));
    let out = alloy(&["fmt", "-w", messy.to_str().unwrap(), tidy.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&messy).unwrap(), FORMATTED);
    let after = std::fs::metadata(&tidy).and_then(|m| m.modified()).expect("mtime");
    assert_eq!(before, after, "an already formatted file must not be rewritten");
}

#[test]
fn test_flag_names_the_unformatted_file() {
    let dir = scratch("fmt-test");
    let messy = dir.join("messy.alloy");
    write(&messy, UNFORMATTED);
    let out = alloy(&["fmt", "-t", messy.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert_eq!(text(&out.stderr), format!("Error: file {} is not formatted correctly\n", messy.display()));
    write(&messy, FORMATTED);
    assert!(alloy(&["fmt", "-t", messy.to_str().unwrap()], None).status.success());
}

#[test]
fn write_and_test_together_and_write_with_stdin_are_refused() {
    let out = alloy(&["fmt", "-w", "-t", "x.alloy"], None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stderr), "Error: cannot use -w/--write and -t/--test at the same time\n");
    let out = alloy(&["fmt", "-w"], Some("a = 1\n"));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stderr), "Error: cannot use -w with standard input\n");
    // Refused before any named file is rewritten.
    let dir = scratch("fmt-write-stdin");
    let messy = dir.join("messy.alloy");
    write(&messy, UNFORMATTED);
    let out = alloy(&["fmt", "-w", messy.to_str().unwrap(), "-"], Some("a = 1\n"));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(&messy).unwrap(), UNFORMATTED);
}

#[test]
fn directories_are_formatted_recursively() {
    let dir = scratch("fmt-dir");
    write(&dir.join("a.alloy"), UNFORMATTED);
    write(&dir.join("nested/b.alloy"), "x=1\n");
    write(&dir.join("nested/ignored.txt"), "not alloy");
    let out = alloy(&["fmt", "-w", dir.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(dir.join("a.alloy")).unwrap(), FORMATTED);
    assert_eq!(std::fs::read_to_string(dir.join("nested/b.alloy")).unwrap(), "x = 1\n");
    assert_eq!(std::fs::read_to_string(dir.join("nested/ignored.txt")).unwrap(), "not alloy");
}

#[test]
fn check_prints_a_unified_diff_and_fails_when_something_would_change() {
    let dir = scratch("fmt-check");
    let messy = dir.join("messy.alloy");
    write(&messy, UNFORMATTED);
    let out = alloy(&["fmt", "--check", messy.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    let diff = text(&out.stdout);
    assert!(diff.contains("-level = \"info\""), "{diff}");
    assert!(diff.contains("+\tlevel  = \"info\""), "{diff}");
    assert_eq!(std::fs::read_to_string(&messy).unwrap(), UNFORMATTED, "--check must not write");
    write(&messy, FORMATTED);
    let out = alloy(&["fmt", "--check", messy.to_str().unwrap()], None);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
}

#[test]
fn several_files_are_printed_each_under_a_header() {
    let dir = scratch("fmt-headers");
    write(&dir.join("a.alloy"), UNFORMATTED);
    write(&dir.join("nested/b.alloy"), "x=1\n");
    let d = dir.to_str().unwrap();
    let out = alloy(&["fmt", d], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), format!("==> {d}/a.alloy <==\n{FORMATTED}\n==> {d}/nested/b.alloy <==\nx = 1\n"));
    // A directory names its file even when it holds only one.
    let one = dir.join("nested");
    let out = alloy(&["fmt", one.to_str().unwrap()], None);
    assert_eq!(text(&out.stdout), format!("==> {d}/nested/b.alloy <==\nx = 1\n"));
    // Several paths too; a single file stays bare.
    let a = dir.join("a.alloy");
    let out = alloy(&["fmt", a.to_str().unwrap(), "-"], Some("y=2"));
    assert_eq!(text(&out.stdout), format!("==> {d}/a.alloy <==\n{FORMATTED}\n==> <stdin> <==\ny = 2\n"));
    let out = alloy(&["fmt", a.to_str().unwrap()], None);
    assert_eq!(text(&out.stdout), FORMATTED);
}
