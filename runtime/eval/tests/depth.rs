//! The highest expression the parser accepts (`syntax::parser::MAX_EXPR_DEPTH`) evaluates on a
//! thread with tokio's 2 MiB stack, in this debug build: components are evaluated there.

use eval::{eval_and_decode, Scope};

#[test]
fn the_highest_accepted_expression_evaluates_on_a_small_stack() {
    let depth = syntax::parser::MAX_EXPR_DEPTH;
    let negations = depth - 1;
    let cases = [
        (format!("{}1", "-".repeat(negations)), if negations.is_multiple_of(2) { 1 } else { -1 }),
        (format!("1{}", " + 1".repeat(depth - 1)), depth as i64),
        (format!("[{}1][0]", "-".repeat(depth - 3)), if (depth - 3).is_multiple_of(2) { 1 } else { -1 }),
    ];
    let worker = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || cases.iter().map(|(src, want)| (src.len(), eval_and_decode::<i64>(src, &Scope::default()).ok(), *want)).collect::<Vec<_>>());
    for (len, got, want) in worker.expect("spawn").join().expect("no stack overflow") {
        assert_eq!(got, Some(want), "expression of {len} bytes");
    }
}
