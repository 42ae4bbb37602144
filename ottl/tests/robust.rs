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

#[cfg(feature = "eval")]
mod evaluator {
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, ArrayValue, KeyValue};
    use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    use ottl::eval::{self, Group};
    use ottl::{check_statement, Context};
    use proptest::prelude::*;

    fn value() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just(r#"body"#.to_string()),
            Just(r#"attributes["a"]"#.to_string()),
            Just(r#"attributes["l"]"#.to_string()),
            Just(r#"attributes["missing"]"#.to_string()),
            Just(r#"cache["c"]"#.to_string()),
            Just("time".to_string()),
            Just("severity_number".to_string()),
            Just("trace_id".to_string()),
            Just("nil".to_string()),
            Just("-1".to_string()),
            Just("0".to_string()),
            Just("9223372036854775807".to_string()),
            Just("2.5".to_string()),
            Just(r#""""#.to_string()),
            Just(r#""{\"k\": [1, {\"x\": null}]}""#.to_string()),
            Just("0x00ff".to_string()),
        ];
        leaf.prop_recursive(3, 24, 3, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} + {b}")),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} / {b}")),
                inner.clone().prop_map(|a| format!("[{a}, {a}]")),
                inner.clone().prop_map(|a| format!(r#"{{"k": {a}}}"#)),
                (
                    prop::sample::select(vec![
                        "Int",
                        "Double",
                        "String",
                        "Bool",
                        "Len",
                        "Hex",
                        "IsMap",
                        "ParseJSON",
                        "SHA256",
                        "FNV",
                        "ToUpperCase",
                        "Duration",
                        "Base64Decode",
                        "UnixNano",
                        "TraceID",
                        "ParseKeyValue"
                    ]),
                    inner.clone()
                )
                    .prop_map(|(f, a)| format!("{f}({a})")),
                (inner.clone(), inner.clone(), inner.clone()).prop_map(|(a, b, c)| format!("Substring({a}, {b}, {c})")),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!(r#"Concat([{a}, {b}], "-")"#)),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!(r#"Format("%s %d %f %v", [{a}, {b}])"#)),
                inner.clone().prop_map(|a| format!(r#"Split({a}, "")"#)),
                inner.clone().prop_map(|a| format!(r#"Time({a}, "%F %T.%L %z")"#)),
                inner.clone().prop_map(|a| format!("{a}[0]")),
                inner.prop_map(|a| format!(r#"{a}["k"]"#)),
            ]
        })
    }

    fn statement() -> impl Strategy<Value = String> {
        let target = prop::sample::select(vec![
            r#"attributes["a"]"#,
            r#"attributes["l"][5]"#,
            "body",
            "cache",
            r#"cache["c"]"#,
            "time",
            "severity_number",
            "trace_id",
            "span_id.string",
            r#"attributes["m"]["x"]["y"]"#,
        ]);
        prop_oneof![
            (target.clone(), value()).prop_map(|(t, v)| format!("set({t}, {v})")),
            (target.clone(), value()).prop_map(|(t, v)| format!("append({t}, {v})")),
            value().prop_map(|v| format!("merge_maps(attributes, {v}, \"upsert\")")),
            value().prop_map(|v| format!("set(attributes[\"x\"], 1) where {v} == {v}")),
            target.clone().prop_map(|t| format!(r#"replace_pattern({t}, "(a*)*", "$1$$")"#)),
            Just("flatten(attributes, \"p\", 2, true)".to_string()),
            Just("limit(attributes, 1, [\"a\"])".to_string()),
            Just("truncate_all(attributes, 1)".to_string()),
        ]
    }

    fn logs() -> ExportLogsServiceRequest {
        let s = |v: &str| AnyValue { value: Some(any_value::Value::StringValue(v.into())) };
        let attrs = vec![
            KeyValue { key: "a".into(), value: Some(s("é1")), ..Default::default() },
            KeyValue {
                key: "l".into(),
                value: Some(AnyValue { value: Some(any_value::Value::ArrayValue(ArrayValue { values: vec![s("p")] })) }),
                ..Default::default()
            },
        ];
        let log = LogRecord { body: Some(s("k=v x")), attributes: attrs, ..Default::default() };
        ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs { scope_logs: vec![ScopeLogs { log_records: vec![log], ..Default::default() }], ..Default::default() }],
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn checked_statements_never_panic(stmts in proptest::collection::vec(statement(), 1..4)) {
            let checked: Vec<_> = stmts.iter().filter_map(|s| check_statement(s, Context::Log).ok()).collect();
            let mut req = logs();
            let r = eval::transform_logs(&mut req, &Group { context: Context::Log, statements: &checked, conditions: &[] }, &mut |_| Ok(()));
            prop_assert!(r.is_ok());
        }
    }
}
