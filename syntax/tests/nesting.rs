//! Nesting is bounded: up to `MAX_NESTING` levels parse, one more is a positioned error, and
//! input nested 100 000 deep is that same error, never a stack overflow (in `parse_file`,
//! `parse_expression` and the formatter behind them).

use syntax::parser::MAX_NESTING;

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

#[test]
fn garbage_gives_a_bounded_number_of_errors() {
    let parsed = syntax::parse_file(&vec![0u8; 100_000]);
    assert_eq!(parsed.diagnostics.len(), syntax::parser::MAX_SYNTAX_ERRORS + 1);
    let last = parsed.diagnostics.last().map(|d| d.message.as_str()).unwrap_or_default();
    assert!(last.starts_with("too many syntax errors: ") && last.ends_with(" more after this point are not shown"), "{last}");
}
