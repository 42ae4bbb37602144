use super::*;
use crate::otelcol::pdata::tests::kv;
use crate::otelcol::processor::rewrite::rules_of;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::logs::v1::{ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans};

fn rules(body: &str) -> Arc<dyn Transform> {
    rules_of::<Args>(&format!("otelcol.processor.probabilistic_sampler \"s\" {{\n{body}\n  output {{}}\n}}\n")).expect("valid")
}

/// A deterministic spread of trace IDs.
fn trace_id(i: u32) -> Vec<u8> {
    let mut x = u64::from(i).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x1234_5678;
    (0..16)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn spans(n: u32, edit: impl Fn(u32, &mut Span)) -> Payload {
    let spans = (0..n)
        .map(|i| {
            let mut s = Span { name: format!("s{i}"), trace_id: trace_id(i), span_id: vec![1; 8], ..Default::default() };
            edit(i, &mut s);
            s
        })
        .collect();
    Payload::from_traces(&ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans { scope_spans: vec![ScopeSpans { spans, ..Default::default() }], ..Default::default() }],
    })
}

fn kept(out: Option<Payload>) -> Vec<Span> {
    out.map(|p| p.decode_traces().unwrap().resource_spans.into_iter().flat_map(|rs| rs.scope_spans).flat_map(|ss| ss.spans).collect()).unwrap_or_default()
}

fn index(s: &Span) -> u32 {
    s.name[1..].parse().unwrap()
}

#[test]
fn hash_seed_mode_keeps_the_traces_the_legacy_hash_keeps() {
    let r = rules("  mode = \"hash_seed\"\n  hash_seed = 22\n  sampling_percentage = 25");
    let out = kept(r.process(spans(2000, |_, _| {})).unwrap());
    let rate = (25.0f32 * (16384.0 / 100.0)) as u32;
    let expected: Vec<u32> = (0..2000).filter(|i| math::fnv1a(22, &trace_id(*i)) & 0x3fff < rate).collect();
    assert_eq!(out.iter().map(index).collect::<Vec<_>>(), expected);
    assert!((400..600).contains(&expected.len()), "about a quarter: {}", expected.len());
    // The kept span records its randomness and the threshold (75% rejected: 0xc).
    let s = &out[0];
    let rv = math::rvalue(math::hash_randomness(&s.trace_id, 22));
    assert_eq!(s.trace_state, format!("ot=rv:{rv};th:c"));
}

#[test]
fn proportional_mode_uses_trace_id_randomness_and_multiplies_arriving_probability() {
    let r = rules("  sampling_percentage = 50");
    let out = kept(r.process(spans(400, |_, _| {})).unwrap());
    let expected: Vec<u32> = (0..400).filter(|i| trace_id(*i)[9] >= 0x80).collect();
    assert_eq!(out.iter().map(index).collect::<Vec<_>>(), expected);
    assert!(out.iter().all(|s| s.trace_state == "ot=th:8"));

    // Already sampled at 50% (th:8): another 50% gives 25% (th:c); only consistent ones arrive.
    let out = kept(r.process(spans(400, |_, s| s.trace_state = "ot=th:8,vendor=v".into())).unwrap());
    let expected: Vec<u32> = (0..400).filter(|i| trace_id(*i)[9] >= 0xc0).collect();
    assert_eq!(out.iter().map(index).collect::<Vec<_>>(), expected);
    assert!(out.iter().all(|s| s.trace_state == "ot=th:c,vendor=v"));
}

#[test]
fn equalizing_mode_keeps_a_lower_arriving_probability() {
    let r = rules("  mode = \"equalizing\"\n  sampling_percentage = 50");
    // th:c (25%) arrives: equalizing at 50% cannot raise it, so the threshold stays.
    let out = kept(r.process(spans(200, |_, s| s.trace_state = "ot=th:c".into())).unwrap());
    assert!(!out.is_empty());
    assert!(out.iter().all(|s| s.trace_state == "ot=th:c" && s.trace_id[9] >= 0xc0));
}

#[test]
fn sampling_priority_forces_keep_and_drop() {
    let r = rules("  sampling_percentage = 0");
    let out = kept(r.process(spans(10, |i, s| s.attributes.push(kv("sampling.priority", if i < 3 { "1" } else { "0" })))).unwrap());
    assert_eq!(out.iter().map(index).collect::<Vec<_>>(), [0, 1, 2]);
    let r = rules("  sampling_percentage = 100");
    let out = kept(r.process(spans(10, |i, s| s.attributes.push(kv("sampling.priority", if i < 3 { "0" } else { "5" })))).unwrap());
    assert_eq!(out.len(), 7);
    assert!(r.process(spans(0, |_, _| {})).unwrap().is_none(), "an empty result is not sent");
}

#[test]
fn errors_fail_closed_or_open() {
    // hash_seed mode refuses items that already carry consistent-sampling fields.
    let arriving = |_: u32, s: &mut Span| s.trace_state = "ot=rv:00000000000000".into();
    let closed = rules("  mode = \"hash_seed\"\n  sampling_percentage = 100");
    assert!(kept(closed.process(spans(5, arriving)).unwrap()).is_empty());
    let open = rules("  mode = \"hash_seed\"\n  sampling_percentage = 1\n  fail_closed = false");
    let out = kept(open.process(spans(5, arriving)).unwrap());
    assert_eq!(out.len(), 5);
    assert!(out.iter().all(|s| s.trace_state == "ot=rv:00000000000000"), "fields left alone");
    // A malformed tracestate and a missing trace ID are errors too.
    let r = rules("  sampling_percentage = 100");
    assert!(kept(r.process(spans(3, |_, s| s.trace_state = "ot=th:zz".into())).unwrap()).is_empty());
    assert!(kept(r.process(spans(3, |_, s| s.trace_id = vec![0; 16])).unwrap()).is_empty());
}

fn logs(n: u32, edit: impl Fn(u32, &mut LogRecord)) -> Payload {
    let log_records = (0..n)
        .map(|i| {
            let mut l = LogRecord { attributes: vec![kv("i", &i.to_string())], ..Default::default() };
            edit(i, &mut l);
            l
        })
        .collect();
    Payload::from_logs(&ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs { scope_logs: vec![ScopeLogs { log_records, ..Default::default() }], ..Default::default() }],
    })
}

fn kept_logs(out: Option<Payload>) -> Vec<LogRecord> {
    out.map(|p| p.decode_logs().unwrap().resource_logs.into_iter().flat_map(|r| r.scope_logs).flat_map(|s| s.log_records).collect()).unwrap_or_default()
}

fn text(l: &LogRecord, k: &str) -> Option<String> {
    attribute(&l.attributes, k).map(crate::otelcol::processor::attributes::value_text)
}

#[test]
fn logs_hash_a_record_attribute_and_honour_their_priority() {
    let r =
        rules("  mode = \"hash_seed\"\n  attribute_source = \"record\"\n  from_attribute = \"id\"\n  sampling_percentage = 30\n  sampling_priority = \"prio\"");
    let out = kept_logs(
        r.process(logs(300, |i, l| {
            l.attributes.push(kv("id", &format!("req-{i}")));
            if i % 50 == 0 {
                l.attributes.push(KeyValue {
                    key: "prio".into(),
                    value: Some(AnyValue { value: Some(any_value::Value::IntValue(100)) }),
                    ..Default::default()
                });
            }
        }))
        .unwrap(),
    );
    let rate = (30.0f32 * (16384.0 / 100.0)) as u32;
    let expected: Vec<String> =
        (0..300).filter(|i| i % 50 == 0 || math::fnv1a(0, format!("req-{i}").as_bytes()) & 0x3fff < rate).map(|i| i.to_string()).collect();
    assert_eq!(out.iter().filter_map(|l| text(l, "i")).collect::<Vec<_>>(), expected);
    let plain = out.iter().find(|l| text(l, "prio").is_none()).unwrap();
    assert!(text(plain, "sampling.randomness").is_some());
    assert_eq!(text(plain, "sampling.threshold").as_deref(), Some(Threshold(u64::from(16384 - rate) << 42).tvalue().unwrap().as_str()));
    let forced = out.iter().find(|l| text(l, "prio").is_some()).unwrap();
    assert_eq!(text(forced, "sampling.threshold").as_deref(), Some("0"));
}

#[test]
fn metrics_pass_through_untouched() {
    let r = rules("  sampling_percentage = 0");
    let m = Payload::from_metrics(&Default::default());
    let out = r.process(m.clone()).unwrap().unwrap();
    assert_eq!(out.bytes(), m.bytes());
}

#[test]
fn invalid_settings_are_refused() {
    let bad =
        |body: &str| rules_of::<Args>(&format!("otelcol.processor.probabilistic_sampler \"s\" {{\n{body}\n  output {{}}\n}}\n")).err().unwrap_or_default();
    assert!(bad("  mode = \"fancy\"").contains("unsupported sampler mode \"fancy\""));
    assert!(bad("  sampling_percentage = -1").contains("sampling rate is negative"));
    assert!(bad("  sampling_precision = 15").contains("sampling precision is too great"));
    assert!(bad("  attribute_source = \"body\"").contains("invalid attribute source"));
}
