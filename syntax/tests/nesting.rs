//! Nesting is bounded: up to `MAX_NESTING` levels parse, one more is a positioned error, and
//! input nested 100 000 deep is that same error, never a stack overflow (in `parse_file`,
//! `parse_expression` and the formatter behind them).

use syntax::parser::{MAX_EXPR_DEPTH, MAX_NESTING};

fn nested(depth: usize) -> String {
    format!("x = {}1{}\n", "(".repeat(depth), ")".repeat(depth))
}

#[test]
fn the_limit_is_exact_and_deep_input_is_an_error() {
    let ok = syntax::parse_file(nested(MAX_NESTING).as_bytes());
    assert!(ok.diagnostics.is_empty(), "{:?}", ok.diagnostics);
    let deeper = syntax::parse_file(nested(MAX_NESTING + 1).as_bytes());
    assert_eq!(deeper.diagnostics.len(), 1);
    assert_eq!(deeper.diagnostics[0].span.start as usize, "x = ".len() + MAX_NESTING, "on the bracket that opens one level too many");
    for text in [nested(100_000), format!("x = {}1{}\n", "{a=".repeat(20_000), "}".repeat(20_000)), format!("{}\n", "a {".repeat(50_000))] {
        let parsed = syntax::parse_file(text.as_bytes());
        assert!(parsed.diagnostics[0].message.starts_with("nesting is too deep"), "{}", parsed.diagnostics[0].message);
        assert!(syntax::format::format_source(text.as_bytes()).is_err());
    }
    let expr = syntax::parse_expression(format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000)).as_bytes());
    assert!(expr.diagnostics[0].message.starts_with("nesting is too deep"));
}

/// Recovery can leave a construct open at a closing bracket of another kind, so the parser
/// nests although the brackets in the text balance: the depth it counts is its own.
#[test]
fn mismatched_closers_do_not_hide_the_depth() {
    for unit in ["[ } ", "( ] ", "f( } ", "{a = [ ) "] {
        let text = format!("x = {}\n", unit.repeat(50_000));
        let parsed = syntax::parse_file(text.as_bytes());
        assert_eq!(parsed.diagnostics.len(), 1, "{unit:?}: {:?}", &parsed.diagnostics[..parsed.diagnostics.len().min(3)]);
        assert!(parsed.diagnostics[0].message.starts_with("nesting is too deep"), "{unit:?}: {}", parsed.diagnostics[0].message);
    }
}

#[test]
fn garbage_gives_a_bounded_number_of_errors() {
    let parsed = syntax::parse_file(&vec![0u8; 100_000]);
    assert_eq!(parsed.diagnostics.len(), syntax::parser::MAX_SYNTAX_ERRORS + 1);
    let last = parsed.diagnostics.last().map(|d| d.message.as_str()).unwrap_or_default();
    assert!(last.starts_with("too many syntax errors: ") && last.ends_with(" more after this point are not shown"), "{last}");
}

/// Chains nest without brackets: `-` and `^` make the parser recurse, `+` and `.` make the
/// tree high. Each form is accepted at the limit and refused, at the operator, one past it.
#[test]
fn expression_height_is_bounded_without_brackets() {
    type Form = (&'static str, fn(usize) -> String);
    let forms: [Form; 5] = [
        ("unary", |n| format!("x = {}1\n", "-".repeat(n))),
        ("pow", |n| format!("x = {}1\n", "2 ^ ".repeat(n))),
        ("sum", |n| format!("x = 1{}\n", " + 1".repeat(n))),
        ("access", |n| format!("x = a{}\n", ".b".repeat(n))),
        ("call", |n| format!("x = f{}\n", "()".repeat(n))),
    ];
    for (name, text) in forms {
        let ok = syntax::parse_file(text(MAX_EXPR_DEPTH - 1).as_bytes());
        assert!(ok.diagnostics.is_empty(), "{name}: {:?}", ok.diagnostics);
        let deeper = syntax::parse_file(text(MAX_EXPR_DEPTH).as_bytes());
        assert_eq!(deeper.diagnostics.len(), 1, "{name}: {:?}", deeper.diagnostics);
        assert_eq!(deeper.diagnostics[0].message, format!("expression is too deep: more than {MAX_EXPR_DEPTH} nested operations"), "{name}");
        assert!(deeper.tree.body.is_empty(), "{name}: the tree is dropped");
        let huge = text(200_000);
        let parsed = syntax::parse_file(huge.as_bytes());
        assert!(parsed.diagnostics[0].message.starts_with("expression is too deep"), "{name}");
        assert!(syntax::parse_expression(&huge.as_bytes()[4..]).diagnostics[0].message.starts_with("expression is too deep"), "{name}");
    }
}

/// The highest tree the parser accepts can be formatted, dropped and cloned on a thread with
/// the 2 MiB stack tokio gives its threads, in this (debug) build.
#[test]
fn the_highest_accepted_tree_fits_a_small_stack() {
    let text = format!("x = [{}1]\ny = 1{}\n", "-".repeat(MAX_EXPR_DEPTH - 2), " + 1".repeat(MAX_EXPR_DEPTH - 1));
    let worker = std::thread::Builder::new().stack_size(2 << 20).spawn(move || {
        let parsed = syntax::parse_file(text.as_bytes());
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        // `parse_file` built the owned tree from the flat one, recursively, on this stack.
        let copy = parsed.tree.clone();
        assert_eq!(copy, parsed.tree);
        let flat = syntax::parse_tree(text.as_bytes());
        syntax::format::format_file(&flat.tree, &flat.lines).len()
    });
    let formatted = worker.expect("spawn").join().expect("no stack overflow");
    assert!(formatted > 4 * MAX_EXPR_DEPTH);
}
