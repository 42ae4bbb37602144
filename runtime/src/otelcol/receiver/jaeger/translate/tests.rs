//! One test per translation rule, on hand-built Jaeger batches.

use opentelemetry_proto::tonic::common::v1::any_value::Value as V;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::trace::v1::{span::SpanKind, status::StatusCode, ResourceSpans, Span as OtlpSpan};

use super::super::model::{span_id, trace_id, Batch, Log, Process, RefType, Span, SpanRef, Tag, TagValue};
use super::to_request;

fn s(k: &str, v: &str) -> Tag {
    Tag { key: k.into(), value: TagValue::Str(v.into()) }
}

fn tag(k: &str, v: TagValue) -> Tag {
    Tag { key: k.into(), value: v }
}

fn span(id: i64, tags: Vec<Tag>) -> Span {
    Span {
        trace_id: trace_id(1, 2),
        span_id: span_id(id),
        operation_name: format!("op{id}"),
        start_unix_nano: 1_000,
        end_unix_nano: 3_000,
        tags,
        ..Default::default()
    }
}

fn process(name: &str, tags: Vec<Tag>) -> Option<Process> {
    Some(Process { service_name: name.into(), tags })
}

fn one(tags: Vec<Tag>) -> OtlpSpan {
    let req = to_request(vec![Batch { process: process("svc", vec![]), spans: vec![span(7, tags)] }]);
    req.resource_spans[0].scope_spans[0].spans[0].clone()
}

fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a V> {
    attrs.iter().find(|a| a.key == key).and_then(|a| a.value.as_ref()).and_then(|v| v.value.as_ref())
}

fn keys(attrs: &[KeyValue]) -> Vec<&str> {
    attrs.iter().map(|a| a.key.as_str()).collect()
}

fn str_v(v: &str) -> V {
    V::StringValue(v.into())
}

fn resource_attrs(rs: &ResourceSpans) -> &[KeyValue] {
    rs.resource.as_ref().map_or(&[], |r| r.attributes.as_slice())
}

#[test]
fn ids_names_and_microsecond_times_carry_over() {
    let sp = one(vec![]);
    assert_eq!(sp.trace_id, [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2], "high half first");
    assert_eq!(sp.span_id, 7i64.to_be_bytes());
    assert_eq!(sp.name, "op7");
    assert_eq!((sp.start_time_unix_nano, sp.end_time_unix_nano), (1_000, 3_000));
    assert!(sp.parent_span_id.is_empty() && sp.links.is_empty() && sp.status.is_none());
}

#[test]
fn the_process_becomes_the_resource() {
    let p = process("checkout", vec![s("hostname", "box-1"), s("jaeger.version", "Go-2.30"), tag("cpus", TagValue::Long(4))]);
    let req = to_request(vec![Batch { process: p, spans: vec![span(1, vec![])] }]);
    let a = resource_attrs(&req.resource_spans[0]);
    assert_eq!(attr(a, "service.name"), Some(&str_v("checkout")));
    assert_eq!(attr(a, "host.name"), Some(&str_v("box-1")), "hostname is renamed");
    assert_eq!(attr(a, "opencensus.exporterversion"), Some(&str_v("Jaeger-Go-2.30")));
    assert_eq!(attr(a, "cpus"), Some(&V::IntValue(4)));
    assert_eq!(keys(a), ["service.name", "cpus", "host.name", "opencensus.exporterversion"], "renamed keys leave");
}

#[test]
fn an_explicit_host_name_wins_over_hostname() {
    let p = process("svc", vec![s("hostname", "short"), s("host.name", "long.example")]);
    let req = to_request(vec![Batch { process: p, spans: vec![] }]);
    let a = resource_attrs(&req.resource_spans[0]);
    assert_eq!((attr(a, "hostname"), attr(a, "host.name")), (Some(&str_v("short")), Some(&str_v("long.example"))));
    assert!(req.resource_spans[0].scope_spans.is_empty(), "a process without spans is a resource without spans");
}

#[test]
fn the_no_service_placeholder_means_an_empty_resource() {
    let req = to_request(vec![Batch { process: process("OTLPResourceNoServiceName", vec![s("k", "v")]), spans: vec![span(1, vec![])] }]);
    assert!(resource_attrs(&req.resource_spans[0]).is_empty());
    let req = to_request(vec![Batch { process: process("", vec![s("k", "v")]), spans: vec![span(1, vec![])] }]);
    assert_eq!(keys(resource_attrs(&req.resource_spans[0])), ["k"], "no service name: tags only");
}

#[test]
fn a_spans_own_process_makes_its_own_resource_and_equal_processes_merge() {
    let mut own = span(2, vec![]);
    own.process = process("other", vec![]);
    let mut same = span(3, vec![]);
    same.process = process("svc", vec![]);
    let req = to_request(vec![Batch { process: process("svc", vec![]), spans: vec![span(1, vec![]), own, same] }]);
    assert_eq!(req.resource_spans.len(), 2);
    let names: Vec<(V, Vec<String>)> = req
        .resource_spans
        .iter()
        .map(|rs| (attr(resource_attrs(rs), "service.name").cloned().unwrap(), rs.scope_spans[0].spans.iter().map(|s| s.name.clone()).collect()))
        .collect();
    assert_eq!(names, [(str_v("svc"), vec!["op1".to_string(), "op3".into()]), (str_v("other"), vec!["op2".into()])]);
}

#[test]
fn scope_tags_become_the_scope_and_group_spans() {
    let req = to_request(vec![Batch {
        process: process("svc", vec![]),
        spans: vec![
            span(1, vec![s("otel.scope.name", "lib-a"), s("otel.scope.version", "1.0"), s("keep", "x")]),
            span(2, vec![s("otel.library.name", "lib-b"), s("otel.library.version", "0.9")]),
            span(3, vec![s("otel.scope.name", "lib-a"), s("otel.scope.version", "1.0")]),
            span(4, vec![]),
        ],
    }]);
    let scopes: Vec<(String, String, usize)> = req.resource_spans[0]
        .scope_spans
        .iter()
        .map(|ss| {
            let sc = ss.scope.clone().unwrap_or_default();
            (sc.name, sc.version, ss.spans.len())
        })
        .collect();
    assert_eq!(scopes, [("lib-a".into(), "1.0".into(), 2), ("lib-b".into(), "0.9".into(), 1), (String::new(), String::new(), 1)]);
    assert_eq!(keys(&req.resource_spans[0].scope_spans[0].spans[0].attributes), ["keep"], "scope tags leave the attributes");
}

#[test]
fn otel_scope_tags_win_and_the_library_tags_then_stay_attributes() {
    let req = to_request(vec![Batch {
        process: process("svc", vec![]),
        spans: vec![span(1, vec![s("otel.library.name", "old"), s("otel.scope.name", "new"), s("otel.scope.version", "2")])],
    }]);
    let ss = &req.resource_spans[0].scope_spans[0];
    assert_eq!(ss.scope.as_ref().map(|s| (s.name.as_str(), s.version.as_str())), Some(("new", "2")));
    assert_eq!(keys(&ss.spans[0].attributes), ["otel.library.name"]);
}

#[test]
fn tags_become_typed_attributes() {
    let sp = one(vec![
        s("str", "v"),
        tag("bool", TagValue::Bool(true)),
        tag("long", TagValue::Long(-5)),
        tag("double", TagValue::Double(2.5)),
        tag("bin", TagValue::Binary(vec![0, 255])),
        tag("odd", TagValue::Unknown("<Unknown Jaeger TagType \"9\">".into())),
        s("str", "last wins"),
    ]);
    let a = &sp.attributes;
    assert_eq!(keys(a), ["str", "bool", "long", "double", "bin", "odd"], "a repeated key keeps its place");
    assert_eq!(attr(a, "str"), Some(&str_v("last wins")));
    assert_eq!(attr(a, "bool"), Some(&V::BoolValue(true)));
    assert_eq!(attr(a, "long"), Some(&V::IntValue(-5)));
    assert_eq!(attr(a, "double"), Some(&V::DoubleValue(2.5)));
    assert_eq!(attr(a, "bin"), Some(&V::BytesValue(vec![0, 255])));
    assert_eq!(attr(a, "odd"), Some(&str_v("<Unknown Jaeger TagType \"9\">")));
}

#[test]
fn the_span_kind_tag_becomes_the_kind() {
    for (tag_value, kind) in [
        ("client", SpanKind::Client),
        ("server", SpanKind::Server),
        ("producer", SpanKind::Producer),
        ("consumer", SpanKind::Consumer),
        ("internal", SpanKind::Internal),
        ("SERVER", SpanKind::Unspecified),
    ] {
        let sp = one(vec![s("span.kind", tag_value)]);
        assert_eq!(sp.kind, kind as i32, "{tag_value}");
        assert!(sp.attributes.is_empty(), "span.kind leaves the attributes");
    }
}

fn status_of(tags: Vec<Tag>) -> (Option<(StatusCode, String)>, Vec<String>) {
    let sp = one(tags);
    let st = sp.status.map(|s| (StatusCode::try_from(s.code).unwrap(), s.message));
    (st, sp.attributes.iter().map(|a| a.key.clone()).collect())
}

#[test]
fn otel_status_tags_become_the_status() {
    let (st, left) = status_of(vec![s("otel.status_code", "error"), s("otel.status_description", "boom")]);
    assert_eq!(st, Some((StatusCode::Error, "boom".into())), "the code is read case-insensitively");
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(status_of(vec![s("otel.status_code", "OK")]).0, Some((StatusCode::Ok, String::new())));
    assert_eq!(status_of(vec![s("otel.status_code", "weird")]).0, Some((StatusCode::Unset, String::new())));
}

#[test]
fn a_boolean_error_tag_is_the_final_word() {
    let (st, left) = status_of(vec![tag("error", TagValue::Bool(true)), s("otel.status_code", "OK"), s("otel.status_description", "bad")]);
    assert_eq!(st, Some((StatusCode::Error, "bad".into())));
    assert!(left.is_empty(), "{left:?}");
    let (st, left) = status_of(vec![tag("error", TagValue::Bool(true)), s("http.status_message", "Bad Gateway")]);
    assert_eq!(st, Some((StatusCode::Error, "Bad Gateway".into())), "the HTTP message describes it");
    assert_eq!(left, ["http.status_message"]);
    let (st, left) = status_of(vec![s("error", "true")]);
    assert_eq!((st, left), (None, vec!["error".to_string()]), "a string error tag is only an attribute");
    let (st, left) = status_of(vec![tag("error", TagValue::Bool(false))]);
    assert_eq!((st, left), (None, vec!["error".to_string()]));
}

#[test]
fn without_other_status_an_http_status_code_decides() {
    let code = |kind: &str, code: TagValue| status_of(vec![s("span.kind", kind), tag("http.status_code", code), s("http.status_message", "m")]).0;
    assert_eq!(code("client", TagValue::Long(404)), Some((StatusCode::Error, "m".into())), "4xx fails a client");
    assert_eq!(code("server", TagValue::Long(404)), None, "4xx is fine for a server");
    assert_eq!(code("server", TagValue::Str("503".into())), Some((StatusCode::Error, "m".into())), "strings are parsed");
    assert_eq!(code("server", TagValue::Long(200)), None);
    assert_eq!(code("server", TagValue::Long(399)), Some((StatusCode::Error, "m".into())), "the collector's range ends before 399");
    assert_eq!(code("server", TagValue::Str("nope".into())), None);
    let (st, left) = status_of(vec![tag("http.status_code", TagValue::Long(500))]);
    assert_eq!(st, Some((StatusCode::Error, String::new())));
    assert_eq!(left, ["http.status_code"], "the HTTP code stays an attribute");
}

#[test]
fn the_w3c_tracestate_tag_becomes_the_trace_state() {
    let sp = one(vec![s("w3c.tracestate", "vendor=abc"), s("other", "x")]);
    assert_eq!(sp.trace_state, "vendor=abc");
    assert_eq!(keys(&sp.attributes), ["other"]);
}

fn reference(ref_type: RefType, high: i64, low: i64, id: i64) -> SpanRef {
    SpanRef { ref_type, trace_id: trace_id(high, low), span_id: span_id(id) }
}

#[test]
fn the_parent_span_id_wins_and_other_references_become_links() {
    let mut sp = span(7, vec![]);
    sp.parent_span_id = span_id(3);
    sp.references = vec![reference(RefType::ChildOf, 1, 2, 3), reference(RefType::FollowsFrom, 1, 2, 4), reference(RefType::ChildOf, 5, 6, 8)];
    let out = to_request(vec![Batch { process: process("svc", vec![]), spans: vec![sp] }]).resource_spans[0].scope_spans[0].spans[0].clone();
    assert_eq!(out.parent_span_id, 3i64.to_be_bytes());
    let links: Vec<(Vec<u8>, Vec<u8>, Option<V>)> =
        out.links.iter().map(|l| (l.trace_id.clone(), l.span_id.clone(), attr(&l.attributes, "opentracing.ref_type").cloned())).collect();
    assert_eq!(
        links,
        [
            (trace_id(1, 2).to_vec(), 4i64.to_be_bytes().to_vec(), Some(str_v("follows_from"))),
            (trace_id(5, 6).to_vec(), 8i64.to_be_bytes().to_vec(), Some(str_v("child_of"))),
        ],
        "the parent's CHILD_OF reference is not a link"
    );
}

#[test]
fn without_a_parent_id_a_same_trace_reference_is_the_parent() {
    let mut sp = span(7, vec![]);
    sp.references = vec![reference(RefType::ChildOf, 9, 9, 1), reference(RefType::FollowsFrom, 1, 2, 4), reference(RefType::ChildOf, 1, 2, 5)];
    let out = to_request(vec![Batch { process: process("svc", vec![]), spans: vec![sp.clone()] }]).resource_spans[0].scope_spans[0].spans[0].clone();
    assert_eq!(out.parent_span_id, 5i64.to_be_bytes(), "CHILD_OF in the same trace first");
    assert_eq!(out.links.len(), 2, "the other trace's reference and the FOLLOWS_FROM one");

    sp.references.pop();
    let out = to_request(vec![Batch { process: process("svc", vec![]), spans: vec![sp] }]).resource_spans[0].scope_spans[0].spans[0].clone();
    assert_eq!(out.parent_span_id, 4i64.to_be_bytes(), "else FOLLOWS_FROM");
    assert_eq!(out.links.len(), 2, "a FOLLOWS_FROM parent is still a link");
}

#[test]
fn logs_become_events_named_by_their_event_field() {
    let mut sp = span(7, vec![]);
    sp.logs = vec![
        Log { unix_nano: 2_000, fields: vec![s("event", "retry"), tag("attempt", TagValue::Long(2))] },
        Log { unix_nano: 2_500, fields: vec![s("message", "no name")] },
        Log { unix_nano: 2_600, fields: vec![] },
    ];
    let out = to_request(vec![Batch { process: process("svc", vec![]), spans: vec![sp] }]).resource_spans[0].scope_spans[0].spans[0].clone();
    let events: Vec<(u64, &str, Vec<&str>)> = out.events.iter().map(|e| (e.time_unix_nano, e.name.as_str(), keys(&e.attributes))).collect();
    assert_eq!(events, [(2_000, "retry", vec!["attempt"]), (2_500, "", vec!["message"]), (2_600, "", vec![])]);
}

#[test]
fn all_empty_spans_are_dropped_and_an_empty_batch_is_nothing() {
    let req = to_request(vec![Batch { process: process("svc", vec![]), spans: vec![Span::default(), span(1, vec![])] }]);
    assert_eq!(req.resource_spans[0].scope_spans[0].spans.len(), 1);
    assert!(to_request(vec![Batch::default()]).resource_spans.is_empty());
}
