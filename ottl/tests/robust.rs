//! Arbitrary text never panics the parser or the checker, and every diagnostic points inside
//! the text on character boundaries.

use ottl::{check_condition, check_statement, Context};
use proptest::prelude::*;

/// Pieces of OTTL, so generated text gets past the lexer often.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("set(".to_string()),
        Just("attributes[\"k\"]".to_string()),
        Just("resource.attributes".to_string()),
        Just("Concat([".to_string()),
        Just("]".to_string()),
        Just(")".to_string()),
        Just(", ".to_string()),
        Just(" where ".to_string()),
        Just(" and not ".to_string()),
        Just(" == ".to_string()),
        Just(" + ".to_string()),
        Just("-".to_string()),
        Just("{\"a\": ".to_string()),
        Just("}".to_string()),
        Just("SPAN_KIND_SERVER".to_string()),
        Just("0x0a".to_string()),
        Just("1.5".to_string()),
        Just("\"é\\u00e9".to_string()),
        Just("nil".to_string()),
        "[a-zA-Z_]{1,8}".prop_map(|s| s),
        any::<char>().prop_map(|c| c.to_string()),
    ]
}

proptest! {
    #[test]
    fn never_panics_and_spans_stay_inside(parts in proptest::collection::vec(piece(), 0..24)) {
        let src: String = parts.concat();
        for ctx in Context::ALL {
            for d in [check_statement(&src, ctx).err(), check_condition(&src, ctx).err()].into_iter().flatten() {
                prop_assert!(d.span.start <= d.span.end && d.span.end <= src.len(), "{src:?}: {:?}", d.span);
                prop_assert!(src.is_char_boundary(d.span.start) && src.is_char_boundary(d.span.end), "{src:?}: {:?}", d.span);
                prop_assert!(!d.message.is_empty());
            }
        }
    }
}
