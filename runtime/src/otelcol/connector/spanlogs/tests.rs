use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::Event;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Status};

use super::*;
use crate::otelcol::consumer::tests::sink_handle;
use crate::otelcol::pdata::tests::kv;

fn text(v: Option<&AnyValue>) -> String {
    v.map(crate::otelcol::connector::values::as_string).unwrap_or_default()
}

fn config() -> Config {
    crate::component::args::defaults::<Args>(NAME).expect("defaults").config
}

fn span(name: &str, trace: u8, parent: bool) -> Span {
    Span {
        name: name.into(),
        trace_id: vec![trace; 16],
        span_id: vec![2; 8],
        parent_span_id: if parent { vec![3; 8] } else { Vec::new() },
        start_time_unix_nano: 1_000,
        end_time_unix_nano: 3_500,
        attributes: vec![kv("http.method", "GET"), kv("other", "x")],
        ..Default::default()
    }
}

fn request(spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource { attributes: vec![kv("service.name", "shop"), kv("host.name", "h1")], ..Default::default() }),
            scope_spans: vec![ScopeSpans { spans, ..Default::default() }],
            ..Default::default()
        }],
    }
}

/// (kind attribute, body) of every record.
fn records(logs: &ExportLogsServiceRequest) -> Vec<(String, String)> {
    logs.resource_logs
        .iter()
        .flat_map(|rl| rl.scope_logs.iter())
        .flat_map(|sl| sl.log_records.iter())
        .map(|r| (text(get(&r.attributes, "traces")), text(r.body.as_ref())))
        .collect()
}

#[test]
fn a_span_record_has_upstreams_keys_in_order() {
    let c = Config { spans: true, span_attributes: vec!["http.method".into(), "absent".into()], process_attributes: vec!["host.name".into()], ..config() };
    let mut s = span("GET /", 1, true);
    s.status = Some(Status { code: StatusCode::Error as i32, ..Default::default() });
    let logs = c.logs(&request(vec![s])).unwrap();
    assert_eq!(
        records(&logs),
        [("span".to_string(), "span=\"GET /\" dur=2500ns status=Error http.method=GET svc=shop host.name=h1 tid=01010101010101010101010101010101".to_string())]
    );
    let r = &logs.resource_logs[0].scope_logs[0].log_records[0];
    assert_eq!(r.time_unix_nano, 0, "no timestamp is set");
    assert_eq!(r.attributes.len(), 1, "only the kind without labels");
}

#[test]
fn roots_processes_and_events_are_separate_kinds() {
    let c = Config { roots: true, processes: true, events: true, event_attributes: vec!["ev".into()], ..config() };
    let mut root = span("root", 1, false);
    root.events = vec![Event { name: "e".into(), attributes: vec![kv("ev", "boom")], ..Default::default() }];
    let child = span("child", 1, true);
    let other = span("other", 2, true);
    let logs = c.logs(&request(vec![root, child, other])).unwrap();
    let kinds: Vec<String> = records(&logs).into_iter().map(|(k, _)| k).collect();
    // root: process, root, event; child: no new trace but events are on (none);
    // other: a new trace gives a process record.
    assert_eq!(kinds, ["process", "root", "event", "process"]);
    let bodies: Vec<String> = records(&logs).into_iter().map(|(_, b)| b).collect();
    assert_eq!(bodies[0], "svc=shop tid=01010101010101010101010101010101");
    assert_eq!(bodies[2], "span=root dur=2500ns svc=shop tid=01010101010101010101010101010101 ev=boom");
    assert_eq!(bodies[3], "svc=shop tid=02020202020202020202020202020202");
}

#[test]
fn a_span_asking_for_nothing_ends_its_scope_as_upstream() {
    let c = Config { roots: true, ..config() };
    let logs = c.logs(&request(vec![span("a", 1, false), span("b", 1, true), span("c", 1, false)])).unwrap();
    assert_eq!(records(&logs).len(), 1, "the third root is after a span that asked for nothing");
    assert_eq!(logs.resource_logs[0].scope_logs.len(), 1, "the scope is still there");
}

#[test]
fn overrides_rename_keys_and_labels_become_attributes() {
    let mut c = Config { spans: true, labels: vec!["svc_name".into(), "http.method".into()], span_attributes: vec!["http.method".into()], ..config() };
    c.overrides.service_key = "svc_name".into();
    c.overrides.logs_instance_tag = "kind".into();
    c.overrides.trace_id_key = "trace".into();
    let logs = c.logs(&request(vec![span("op", 1, true)])).unwrap();
    let r = &logs.resource_logs[0].scope_logs[0].log_records[0];
    let attrs: Vec<(String, String)> = r.attributes.iter().map(|kv| (kv.key.clone(), text(kv.value.as_ref()))).collect();
    assert_eq!(attrs, [("kind".into(), "span".into()), ("http.method".into(), "GET".into()), ("svc_name".into(), "shop".into())]);
    assert_eq!(text(r.body.as_ref()), "span=op dur=2500ns http.method=GET svc_name=shop trace=01010101010101010101010101010101");
}

#[test]
fn typed_attributes_keep_their_logfmt_form_and_bad_keys_fail() {
    let c = Config { spans: true, span_attributes: vec!["n".into(), "ok".into()], ..config() };
    let mut s = span("op", 1, true);
    s.attributes = vec![
        KeyValue { key: "n".into(), value: Some(AnyValue { value: Some(any_value::Value::IntValue(7)) }), ..Default::default() },
        KeyValue { key: "ok".into(), value: Some(AnyValue { value: Some(any_value::Value::BoolValue(false)) }), ..Default::default() },
    ];
    let logs = c.logs(&request(vec![s.clone()])).unwrap();
    assert_eq!(records(&logs)[0].1, "span=op dur=2500ns n=7 ok=false svc=shop tid=01010101010101010101010101010101");
    let mut bad = c.clone();
    bad.overrides.span_name_key = "=".into();
    assert_eq!(bad.logs(&request(vec![s])).unwrap_err(), LogfmtError::InvalidKey);
}

#[tokio::test]
async fn traces_in_logs_out_through_the_capsules() {
    let (sink, handle) = sink_handle();
    let consumer = SpanLogsConsumer {
        config: RwLock::new(Arc::new(Config { spans: true, ..config() })),
        next: Fanout::new(Output { logs: vec![handle], ..Default::default() }),
    };
    consumer.consume(Payload::from_traces(&request(vec![span("a", 1, true), span("b", 1, true)]))).await.unwrap();
    assert_eq!(sink.items(), 2);
    let logs = sink.received.lock().unwrap()[0].decode_logs().unwrap();
    assert_eq!(records(&logs)[1].1, "span=b dur=2500ns svc=shop tid=01010101010101010101010101010101");
    let refused = consumer.consume(Payload::from_logs(&ExportLogsServiceRequest::default())).await;
    assert!(matches!(refused, Err(ConsumeError::Permanent(_))));
}
