//! The rules a binary hands the analyzer (`Analysis::with_rules`): run on every builtin block
//! with what is known statically, reported by `diagnostics()` and by the editor's snapshots,
//! placed on the value at fault, and skipped for blocks that already have an error.

use std::sync::Arc;

use analyzer::rules::{ArgError, ArgumentRules};
use analyzer::{Analysis, Options};
use eval::{PathSeg, Value};

/// `local.file`'s `filename` must not end in `.tmp`; a value only known at run time is not
/// judged.
struct NoTmp;

impl ArgumentRules for NoTmp {
    fn covers(&self, name: &str) -> bool {
        name == "local.file"
    }

    fn check(&self, name: &str, args: &Value) -> Option<Vec<ArgError>> {
        if name != "local.file" {
            return None;
        }
        let filename = args.as_object()?.get("filename").cloned()?;
        if analyzer::args::is_unknown(&filename) {
            return Some(Vec::new());
        }
        let bad = matches!(&filename, Value::String(s) if s.to_string_lossy().ends_with(".tmp"));
        Some(if bad { vec![ArgError::new(vec![PathSeg::Field("filename".into())], "no temporary files")] } else { Vec::new() })
    }
}

fn analysis(text: &str) -> Analysis {
    let mut a = Analysis::with_rules(Options::default(), Arc::new(NoTmp));
    a.set_files(vec![("a.alloy".into(), text.into())]);
    a
}

fn errors(a: &Analysis) -> Vec<String> {
    let r = a.diagnostics().pop().expect("one report");
    r.diagnostics.iter().map(|d| format!("{}: {}", r.lines.line_col(d.span.start), d.message)).collect()
}

#[test]
fn rule_errors_are_placed_on_the_value_in_diagnostics_and_snapshots() {
    let text = "local.file \"a\" {\n  filename = \"/x.tmp\"\n}\n\ndeclare \"d\" {\n  local.file \"b\" {\n    filename = \"/y.tmp\"\n  }\n}\n";
    let a = analysis(text);
    assert_eq!(errors(&a), ["2:14: no temporary files", "7:16: no temporary files"]);
    let snap = a.snapshot().diagnostics("a.alloy").expect("file");
    assert_eq!(snap.iter().filter(|d| d.message == "no temporary files").count(), 2, "the editor sees them too");
}

#[test]
fn run_time_values_and_blocks_with_errors_are_not_judged() {
    let a = analysis("local.file \"a\" {\n  filename = local.file.b.content + \".tmp\"\n}\n\nlocal.file \"b\" {\n  filename = \"/z\"\n}\n");
    assert!(errors(&a).is_empty(), "{:?}", errors(&a));
    let a = analysis("local.file \"a\" {\n  filename = \"/x.tmp\"\n  nope     = 1\n}\n");
    let e = errors(&a);
    assert_eq!(e.len(), 1, "only the unknown attribute: {e:?}");
    assert!(e[0].contains("nope"), "{e:?}");
}

#[test]
fn without_rules_nothing_extra_is_reported() {
    let mut a = Analysis::new(Options::default());
    a.set_files(vec![("a.alloy".into(), "local.file \"a\" {\n  filename = \"/x.tmp\"\n}\n".into())]);
    assert!(a.diagnostics()[0].diagnostics.is_empty());
}
