use super::*;
use crate::otelcol::pdata::tests::{kv, traces};
use crate::otelcol::processor::rewrite::rules_of;

fn rules(body: &str) -> Result<Arc<dyn Transform>, String> {
    rules_of::<Args>(&format!("otelcol.processor.span \"s\" {{\n{body}\n  output {{}}\n}}\n"))
}

fn one_span(name: &str, attrs: Vec<KeyValue>) -> Payload {
    let mut req = traces(1, 1);
    let s = &mut req.resource_spans[0].scope_spans[0].spans[0];
    s.name = name.into();
    s.attributes = attrs;
    Payload::from_traces(&req)
}

fn out_span(r: &Arc<dyn Transform>, p: Payload) -> Span {
    r.process(p).unwrap().unwrap().decode_traces().unwrap().resource_spans[0].scope_spans[0].spans[0].clone()
}

fn attr(s: &Span, k: &str) -> Option<String> {
    s.attributes.iter().find(|kv| kv.key == k).and_then(|kv| kv.value.as_ref()).map(crate::otelcol::processor::attributes::value_text)
}

#[test]
fn from_attributes_renames_only_when_all_are_present() {
    let r = rules("  name {\n    from_attributes = [\"db.svc\", \"operation\", \"id\"]\n    separator = \"::\"\n  }").unwrap();
    let int = KeyValue { key: "id".into(), value: Some(AnyValue { value: Some(any_value::Value::IntValue(7)) }), ..Default::default() };
    let s = out_span(&r, one_span("old", vec![kv("db.svc", "location"), kv("operation", "get"), int]));
    assert_eq!(s.name, "location::get::7");
    let s = out_span(&r, one_span("old", vec![kv("db.svc", "location"), kv("operation", "get")]));
    assert_eq!(s.name, "old");
}

#[test]
fn to_attributes_extracts_named_groups_into_the_name() {
    let r = rules("  name {\n    to_attributes {\n      rules = [\"^/api/v1/document/(?P<documentId>.*)/update$\"]\n    }\n  }").unwrap();
    let s = out_span(&r, one_span("/api/v1/document/12345678/update", vec![]));
    assert_eq!(s.name, "/api/v1/document/{documentId}/update");
    assert_eq!(attr(&s, "documentId").as_deref(), Some("12345678"));

    // Rules apply in turn to the renamed span unless break_after_match stops them.
    let two = |extra: &str| {
        rules(&format!("  name {{\n    to_attributes {{\n      rules = [\"^/(?P<a>[a-z]+)/\", \"/(?P<b>[0-9]+)$\"]\n{extra}\n    }}\n  }}")).unwrap()
    };
    let s = out_span(&two(""), one_span("/users/42", vec![]));
    assert_eq!(s.name, "/{a}/{b}");
    let s = out_span(&two("      break_after_match = true"), one_span("/users/42", vec![]));
    assert_eq!(s.name, "/{a}/42");
    let s = out_span(&two("      keep_original_name = true"), one_span("/users/42", vec![]));
    assert_eq!((s.name.as_str(), attr(&s, "a").as_deref(), attr(&s, "b").as_deref()), ("/users/42", Some("users"), Some("42")));
}

#[test]
fn status_is_set_for_selected_spans() {
    let r =
        rules("  status {\n    code = \"Error\"\n    description = \"boom\"\n  }\n  include {\n    match_type = \"strict\"\n    services = [\"svc1\"]\n  }")
            .unwrap();
    let out = r.process(Payload::from_traces(&traces(2, 1))).unwrap().unwrap().decode_traces().unwrap();
    let status = |i: usize| out.resource_spans[i].scope_spans[0].spans[0].status.clone();
    assert_eq!(status(0), None);
    assert_eq!(status(1), Some(Status { code: StatusCode::Error as i32, message: "boom".into() }));
}

#[test]
fn rules_are_checked() {
    assert!(rules("  status {\n    code = \"Fine\"\n  }").err().unwrap_or_default().contains("status code must be one of"));
    assert!(rules("  status {\n    code = \"Ok\"\n    description = \"x\"\n  }")
        .err()
        .unwrap_or_default()
        .contains("only be set when status code is set as \"Error\""));
    assert!(rules("  name {\n    separator = \"-\"\n  }").err().unwrap_or_default().contains("either \"from_attributes\" or \"to_attributes\""));
    assert!(rules("  name {\n    to_attributes {\n      rules = [\"(\"]\n    }\n  }").err().unwrap_or_default().contains("invalid regexp pattern"));
}

#[test]
fn other_signals_pass_through() {
    let r = rules("  status {\n    code = \"Ok\"\n  }").unwrap();
    let logs = Payload::from_logs(&Default::default());
    assert_eq!(r.process(logs.clone()).unwrap().unwrap().bytes(), logs.bytes());
}
