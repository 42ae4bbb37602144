//! The checker on valid and invalid statements and conditions: every invalid case's message
//! and position is snapshotted, drawn under the source.

use ottl::{check_condition, check_statement, Context};

fn render(cases: &[(Context, &str, bool)]) -> String {
    let mut out = String::new();
    for (ctx, src, is_statement) in cases {
        let r = if *is_statement { check_statement(src, *ctx).map(|_| ()) } else { check_condition(src, *ctx).map(|_| ()) };
        let d = match r {
            Ok(()) => panic!("expected an error for {src:?} in {}", ctx.name()),
            Err(d) => d,
        };
        assert!(d.span.start <= d.span.end && d.span.end <= src.len(), "span out of range for {src:?}");
        let width = (d.span.end - d.span.start).max(1);
        out.push_str(&format!("[{}] {src}\n{}{} {}\n\n", ctx.name(), " ".repeat(d.span.start + ctx.name().len() + 3), "^".repeat(width), d.message));
    }
    out
}

#[test]
fn invalid_statements() {
    use Context::*;
    let cases = [
        (Span, r#"set_attr(attributes["x"], "y")"#, true),
        (Span, r#"set(atributes["x"], "y")"#, true),
        (Span, r#"set(attributes["x"], Concat(["a"], 1))"#, true),
        (Span, r#"set(attributes["x"], Concat(name, "-"))"#, true),
        (Span, r#"set(attributes["x"], concat(["a"], "-"))"#, true),
        (Span, r#"Concat(["a"], "-")"#, true),
        (Span, r#"set(attributes["x"], delete_key(attributes, "y"))"#, true),
        (Span, r#"set(attributes["x"])"#, true),
        (Span, r#"set(attributes["x"], 1, 2)"#, true),
        (Span, r#"set(body, "x")"#, true),
        (Span, r#"set(metric.name, "x")"#, true),
        (Log, r#"set(span.name, "x")"#, true),
        (Span, r#"set(name, "x") where name"#, true),
        (Span, r#"set(name, "x") where Concat(["a"], "")"#, true),
        (Span, r#"set(name, "x") where kind == SPAN_KIND_SERVR"#, true),
        (Log, r#"set(body, "x") where kind == SPAN_KIND_SERVER"#, true),
        (Span, r#"delete_key(name, "x")"#, true),
        (Span, r#"replace_pattern(name, "(", "x")"#, true),
        (Span, r#"merge_maps(attributes, cache, "replace")"#, true),
        (Span, r#"keep_keys(attributes, "a")"#, true),
        (Span, r#"set(attributes["x"], name["y"])"#, true),
        (Span, r#"set(attributes["x"], Int("1") + "a")"#, true),
        (Span, r#"set("x", name)"#, true),
        (Span, r#"replace_pattern(name, "a", "b", SHA3)"#, true),
        (Span, r#"flatten(attributes, depth = "2", prefix = "p")"#, true),
        (Span, r#"flatten(attributes, deep = 2)"#, true),
        (Span, r#"convert_sum_to_gauge()"#, true),
        (Metric, r#"set(type, METRIC_DATA_TYPE_SUM)"#, true),
        (DataPoint, r#"set(metric.nam, "x")"#, true),
        (DataPoint, r#"set(attributes["n"], name)"#, true),
        (Resource, r#"set(attributes["n"], name)"#, true),
        (Span, r#"set(name, "x") wher true"#, true),
        (Span, r#"set(name, "x"#, true),
        (Span, r#"set(name, Substring("abc", "1", 2))"#, true),
        (Span, r#"set(attributes["x"], IsMatch(name))"#, true),
        (Span, r#"name == "x" and attributes"#, false),
        (Span, r#"name = "x""#, false),
        (Resource, r#"attributes["a"] == nil or span.name == "x""#, false),
        (Span, r#"IsRootSpan() and Len(name)"#, false),
        (Log, r#"IsRootSpan()"#, false),
        (Metric, r#"HasAttrOnDatapoint("k", "v")"#, false),
        (Log, r#"set(time, Time(body, "%Y-%Q"))"#, true),
        (Log, r#"set(time, Time(body, "%F", "Europe/Paris"))"#, true),
        (Log, r#"merge_maps(attributes, ExtractPatterns(body, "(\\w+)"), "upsert")"#, true),
    ];
    insta::assert_snapshot!(render(&cases));
}

#[test]
fn valid_statements_in_every_context() {
    use Context::*;
    let ok = [
        (Resource, r#"set(attributes["env"], "prod") where attributes["k8s.pod.name"] != nil"#),
        (Scope, r#"set(version, "1.0") where name == "io.opentelemetry" and resource.attributes["x"] == 1"#),
        (Span, r#"set(status.code, STATUS_CODE_ERROR) where kind == SPAN_KIND_SERVER and end_time - start_time > Duration("1s")"#),
        (Span, r#"set(attributes["id"], trace_id.string) where IsRootSpan() and instrumentation_scope.name == "x""#),
        (Span, r#"set(span.attributes["n"], Len(span.name) * 2 + 1)"#),
        (SpanEvent, r#"set(attributes["span"], span.name) where name == "exception""#),
        (Metric, r#"convert_gauge_to_sum("cumulative", false) where type == METRIC_DATA_TYPE_GAUGE"#),
        (Metric, r#"scale_metric(1000, "ms") where unit == "s""#),
        (DataPoint, r#"set(value_double, value_double / 1000.0) where metric.name == "x" and metric.aggregation_temporality == AGGREGATION_TEMPORALITY_DELTA"#),
        (Log, r#"merge_maps(cache, ParseJSON(body), "upsert") where IsMatch(body, "^\\{")"#),
        (Log, r#"set(attributes["p"], ExtractPatterns(body, "(?P<k>\\w+)")["k"]) where severity_number >= SEVERITY_NUMBER_WARN"#),
        (Log, r#"replace_pattern(body, "pw=\\S+", "pw=$$1", SHA256, "h:%s")"#),
        (Log, r#"flatten(attributes, prefix = "p", depth = 2)"#),
        (Log, r#"set(attributes["s"], Split(body.string, ",")[0])"#),
        (Log, r#"append(attributes["tags"], values = ["a", "b"])"#),
        (Log, r#"set(time, Unix(1700000000)) where time_unix_nano == 0"#),
        (Log, r#"set(attributes["f"], Format("%s-%d", [body, 3]))"#),
    ];
    for (ctx, src) in ok {
        if let Err(d) = check_statement(src, ctx) {
            panic!("{src:?} in {}: {} at {:?}", ctx.name(), d.message, d.span);
        }
    }
    assert!(check_condition(r#"not IsMatch(name, "^GET ") or attributes["http.status_code"] >= 500"#, Context::Span).is_ok());
}

#[test]
fn infers_the_context_from_prefixes() {
    use Context::*;
    let traces = [Resource, Scope, Span, SpanEvent];
    assert_eq!(ottl::infer_statement_context(r#"set(span.name, resource.attributes["x"])"#, &traces), Ok(Some(Span)));
    assert_eq!(ottl::infer_statement_context(r#"set(resource.attributes["x"], "y")"#, &traces), Ok(Some(Resource)));
    assert_eq!(ottl::infer_statement_context(r#"set(attributes["x"], "y")"#, &traces), Ok(None));
    assert_eq!(ottl::infer_statement_context(r#"set(spanevent.name, "x") where span.name == "y""#, &traces), Ok(Some(SpanEvent)));
    assert_eq!(
        ottl::infer_condition_context(r#"metric.name == "x" or IsMatch(datapoint.attributes["k"], "v")"#, &[Resource, Scope, Metric, DataPoint]),
        Ok(Some(DataPoint))
    );
    assert!(ottl::infer_condition_context("name ==", &traces).is_err());
    // A group is inferred as a whole.
    let stmts = [r#"set(resource.attributes["a"], 1)"#, r#"set(metric.description, "x")"#];
    assert_eq!(ottl::infer_group_context(&stmts, &[], &[Resource, Scope, Metric, DataPoint]), Ok(Some(Metric)));
    assert_eq!(ottl::infer_group_context(&stmts[..1], &[r#"datapoint.flags == 0"#], &[Resource, Scope, Metric, DataPoint]), Ok(Some(DataPoint)));
    assert_eq!(ottl::infer_group_context(&stmts, &["x =="], &traces).map_err(|(i, _)| i), Err(2));
    // Functions and enums that only some contexts have move the choice inwards.
    let metrics = [Resource, Scope, Metric, DataPoint];
    assert_eq!(ottl::infer_statement_context(r#"convert_sum_to_gauge() where resource.attributes["x"] == nil"#, &metrics), Ok(Some(Metric)));
    assert_eq!(ottl::infer_condition_context(r#"kind == SPAN_KIND_SERVER"#, &traces), Ok(Some(Span)));
    assert_eq!(ottl::infer_statement_context(r#"set(spanevent.name, "x") where IsRootSpan()"#, &traces), Ok(Some(SpanEvent)));
}
