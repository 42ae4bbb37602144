//! The flat tree: its views read names and literals from the source, and the owned tree built
//! from it matches what the views say.

use syntax::ast::{BinaryOp, LiteralKind};
use syntax::tree::{ExprView, StmtView, Tree};
use syntax::Span;

fn parse(src: &str) -> Tree<'_> {
    let parsed = syntax::parse_tree(src.as_bytes());
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    parsed.tree
}

fn first_value<'t>(tree: &'t Tree<'_>) -> ExprView<'t> {
    let Some(StmtView::Attribute { value, .. }) = tree.body().get(0).map(|s| tree.stmt(s)) else { panic!("no attribute") };
    tree.expr(value)
}

#[test]
fn names_and_literals_are_slices_of_the_source() {
    let src = "x = \"a\\tb\"\n";
    let tree = parse(src);
    let ExprView::Literal { kind, text, span } = first_value(&tree) else { panic!("not a literal") };
    assert_eq!((kind, &*text, span), (LiteralKind::String, "\"a\\tb\"", Span::new(4, 10)));
    assert!(matches!(text, std::borrow::Cow::Borrowed(_)), "the text is borrowed from the source");
}

#[test]
fn block_headers() {
    let tree = parse("a . b \"lbl\" {\n  c = 1\n}\nd {}\ne \"\" {}\n");
    let blocks: Vec<_> = tree
        .body()
        .iter()
        .map(|s| match tree.stmt(s) {
            StmtView::Block(b) => (b.name.into_owned(), b.label.map(|(l, span)| (l.into_owned(), span)), b.body.len()),
            StmtView::Attribute { .. } => panic!("not a block"),
        })
        .collect();
    assert_eq!(
        blocks,
        vec![
            // Blanks around the dots are not part of the name.
            ("a.b".to_string(), Some(("lbl".to_string(), Span::new(6, 11))), 1),
            ("d".to_string(), None, 0),
            // An empty label is no label.
            ("e".to_string(), None, 0),
        ]
    );
}

#[test]
fn object_keys_and_operators() {
    let tree = parse("x = {\"k y\" = 1, z = a.b[0] >= -2}\n");
    let ExprView::Object { fields, .. } = first_value(&tree) else { panic!("not an object") };
    let keys: Vec<_> = fields.iter().map(|f| tree.field(f)).map(|f| (f.key.into_owned(), f.quoted, f.key_span)).collect();
    assert_eq!(keys, vec![("k y".to_string(), true, Span::new(5, 10)), ("z".to_string(), false, Span::new(16, 17))]);
    let second = tree.field(fields.get(1).expect("two fields"));
    let ExprView::Binary { op, op_span, left, .. } = tree.expr(second.value) else { panic!("not a binary") };
    assert_eq!((op, op_span), (BinaryOp::Gte, Span::new(27, 29)));
    assert_eq!((tree.expr_start(second.value), tree.expr_end(left)), (20, 25));
}

#[test]
fn a_bad_primary_reads_as_null_with_its_span() {
    let parsed = syntax::parse_tree(b"x = ]\n");
    assert!(parsed.has_errors());
    let ExprView::Literal { kind, text, span } = first_value(&parsed.tree) else { panic!("not a literal") };
    assert_eq!((kind, &*text, span), (LiteralKind::Null, "null", Span::new(4, 5)));
}

#[test]
fn the_owned_tree_agrees_with_the_views() {
    let src = "a.b \"c\" {\n  x = f(1, [2, {k = !true}], (3))\n}\n";
    let owned = syntax::parse_file(src.as_bytes()).tree;
    let syntax::ast::Stmt::Block(block) = &owned.body[0] else { panic!("not a block") };
    assert_eq!((block.name.as_str(), block.label.as_ref().map(|l| l.value.as_str())), ("a.b", Some("c")));
    let syntax::ast::Stmt::Attribute(attr) = &block.body[0] else { panic!("not an attribute") };
    assert_eq!(syntax::format::format_expr(&attr.value, &syntax::parse_file(src.as_bytes()).lines), "f(1, [2, {k = !true}], (3))");
    assert_eq!(attr.value.span(), Span::new(16, 43));
}
