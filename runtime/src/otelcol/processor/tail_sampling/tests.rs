use super::*;
use crate::component::args::evaluated;
use crate::otelcol::consumer::tests::sink_handle;
use crate::otelcol::pdata::tests::kv;
use eval::Object;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use opentelemetry_proto::tonic::trace::v1::{Span, Status};

fn policies(body: &str) -> Result<Vec<Policy>, String> {
    let v = evaluated(&format!("otelcol.processor.tail_sampling \"t\" {{\n{body}\n  output {{}}\n}}\n"))?;
    decode_checked::<Args>(NAME, &v).map(|a| a.config.policies).map_err(|e| e.0)
}

fn span(trace: u8, start_ms: u64, end_ms: u64, attrs: Vec<KeyValue>, status: Option<StatusCode>) -> Span {
    Span {
        trace_id: vec![trace; 16],
        span_id: vec![trace; 8],
        name: format!("t{trace}"),
        start_time_unix_nano: start_ms * 1_000_000,
        end_time_unix_nano: end_ms * 1_000_000,
        attributes: attrs,
        status: status.map(|c| Status { code: c as i32, message: String::new() }),
        ..Default::default()
    }
}

fn decide(ps: &[Policy], spans: &[Span]) -> Vec<bool> {
    let t = Trace { id: &spans[0].trace_id, spans: spans.iter().map(|span| TraceSpan { resource: &[], span }).collect() };
    ps.iter().map(|p| p.sample(&t)).collect()
}

fn int(k: &str, v: i64) -> KeyValue {
    KeyValue { key: k.into(), value: Some(AnyValue { value: Some(any_value::Value::IntValue(v)) }), ..Default::default() }
}

#[test]
fn leaf_policies_decide_on_the_whole_trace() {
    let ps = policies(
        r#"
  policy {
    name = "slow"
    type = "latency"
    latency { threshold_ms = 500 }
  }
  policy {
    name = "errors"
    type = "status_code"
    status_code { status_codes = ["ERROR"] }
  }
  policy {
    name = "checkout"
    type = "string_attribute"
    string_attribute {
      key = "route"
      values = ["/check.*"]
      enabled_regex_matching = true
    }
  }
  policy {
    name = "big"
    type = "numeric_attribute"
    numeric_attribute {
      key = "items"
      min_value = 10
      max_value = 100
    }
  }
  policy {
    name = "not-debug"
    type = "boolean_attribute"
    boolean_attribute {
      key = "debug"
      value = true
      invert_match = true
    }
  }
"#,
    )
    .unwrap();
    // Two spans 100..700 ms: 600 ms long. One span has an error, one a matching route.
    let spans = [
        span(1, 100, 300, vec![kv("route", "/checkout"), int("items", 5)], None),
        span(
            1,
            200,
            700,
            vec![
                int("items", 50),
                KeyValue { key: "debug".into(), value: Some(AnyValue { value: Some(any_value::Value::BoolValue(true)) }), ..Default::default() },
            ],
            Some(StatusCode::Error),
        ),
    ];
    assert_eq!(decide(&ps, &spans), [true, true, true, true, false]);
    let quiet = [span(2, 100, 200, vec![kv("route", "/home"), int("items", 1)], Some(StatusCode::Ok))];
    assert_eq!(decide(&ps, &quiet), [false, false, false, false, true]);
}

#[test]
fn probabilistic_and_rate_limiting_and_composites() {
    let ps = policies(
        r#"
  policy {
    name = "none"
    type = "probabilistic"
    probabilistic { sampling_percentage = 0 }
  }
  policy {
    name = "all"
    type = "probabilistic"
    probabilistic { sampling_percentage = 100 }
  }
  policy {
    name = "three-per-second"
    type = "rate_limiting"
    rate_limiting { spans_per_second = 3 }
  }
  policy {
    name = "both"
    type = "and"
    and {
      and_sub_policy {
        name = "a"
        type = "always_sample"
      }
      and_sub_policy {
        name = "slow"
        type = "latency"
        latency { threshold_ms = 1000 }
      }
    }
  }
  policy {
    name = "budget"
    type = "composite"
    composite {
      max_total_spans_per_second = 4
      policy_order = ["any"]
      composite_sub_policy {
        name = "any"
        type = "always_sample"
      }
      rate_allocation {
        policy = "any"
        percent = 50
      }
    }
  }
"#,
    )
    .unwrap();
    let two = [span(3, 0, 10, vec![], None), span(3, 0, 10, vec![], None)];
    // First trace: 2 spans fit the rate limit (3/s) and the composite's share (50% of 4).
    assert_eq!(decide(&ps, &two), [false, true, true, false, true]);
    // Second trace: 4 spans would exceed both budgets within the same second.
    assert_eq!(decide(&ps, &two), [false, true, false, false, false]);
}

#[test]
fn policy_settings_are_checked() {
    let err = |b: &str| policies(b).err().unwrap_or_default();
    assert!(err("  policy {\n    name = \"x\"\n    type = \"ottl_condition\"\n  }").contains("needs its \"ottl_condition\" block"));
    assert!(err("  policy {\n    name = \"x\"\n    type = \"bytes_limiting\"\n  }").contains("not supported by this runtime yet"));
    assert!(err("  policy {\n    name = \"x\"\n    type = \"magic\"\n  }").contains("unknown sampling policy type"));
    assert!(err("  policy {\n    name = \"x\"\n    type = \"latency\"\n  }").contains("needs its \"latency\" block"));
    assert!(
        err("  policy {\n    name = \"x\"\n    type = \"status_code\"\n    status_code { status_codes = [\"BROKEN\"] }\n  }").contains("unknown status code")
    );
    assert!(err("  policy {\n    name = \"x\"\n    type = \"always_sample\"\n  }\n  policy {\n    name = \"x\"\n    type = \"always_sample\"\n  }")
        .contains("duplicate policy name"));
}

fn names(sink: &crate::otelcol::consumer::tests::Sink) -> Vec<String> {
    let got = sink.received.lock().unwrap();
    got.iter().flat_map(|p| p.decode_traces().unwrap().resource_spans).flat_map(|rs| rs.scope_spans).flat_map(|ss| ss.spans).map(|s| s.name).collect()
}

#[tokio::test]
async fn traces_wait_for_the_decision_then_go_whole() {
    let (sink, handle) = sink_handle();
    let v = evaluated(
        "otelcol.processor.tail_sampling \"t\" {\n  decision_wait = \"100ms\"\n  policy {\n    name = \"errors\"\n    type = \"status_code\"\n    status_code { status_codes = [\"ERROR\"] }\n  }\n  output {}\n}\n",
    )
    .unwrap();
    let mut args = v.as_object().unwrap().into_owned();
    let mut out = Object::new();
    out.insert("traces", Value::array(vec![handle.to_value()]));
    args.insert("output", Value::object(out));
    let t = TailSampling::new(crate::otelcol::detached_context("otelcol.processor.tail_sampling.t"), &Value::object(args)).unwrap();
    let stop = CancellationToken::new();
    let run = tokio::spawn(t.clone().run(stop.clone()));
    let send = |spans: Vec<Span>| {
        let input = t.input();
        async move {
            let req = ExportTraceServiceRequest {
                resource_spans: vec![ResourceSpans { scope_spans: vec![ScopeSpans { spans, ..Default::default() }], ..Default::default() }],
            };
            input.consume(Payload::from_traces(&req)).await.unwrap();
        }
    };
    // Trace 1 gets its error in a second payload; trace 2 never has one.
    send(vec![span(1, 0, 1, vec![], None), span(2, 0, 1, vec![], None)]).await;
    send(vec![span(1, 0, 1, vec![], Some(StatusCode::Error))]).await;
    assert!(names(&sink).is_empty(), "nothing leaves before decision_wait");
    for _ in 0..200 {
        if !names(&sink).is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(names(&sink), ["t1", "t1"]);
    // Late spans follow their trace's decision at once.
    send(vec![span(1, 0, 1, vec![], None), span(2, 0, 1, vec![], None)]).await;
    assert_eq!(names(&sink), ["t1", "t1", "t1"]);
    // Pending traces are decided on shutdown.
    send(vec![span(3, 0, 1, vec![], Some(StatusCode::Error))]).await;
    stop.cancel();
    run.await.unwrap().unwrap();
    assert_eq!(names(&sink), ["t1", "t1", "t1", "t3"]);
}

#[test]
fn span_count_trace_state_not_and_drop() {
    let ps = policies(
        r#"
  policy {
    name = "two-or-three"
    type = "span_count"
    span_count {
      min_spans = 2
      max_spans = 3
    }
  }
  policy {
    name = "vendor"
    type = "trace_state"
    trace_state {
      key = "vendor"
      values = ["keep"]
    }
  }
  policy {
    name = "not-one"
    type = "not"
    not {
      not_sub_policy {
        name = "one"
        type = "span_count"
        span_count {
          min_spans = 1
          max_spans = 1
        }
      }
    }
  }
  policy {
    name = "drop-health"
    type = "drop"
    drop {
      drop_sub_policy {
        name = "health"
        type = "string_attribute"
        string_attribute {
          key = "route"
          values = ["/health"]
        }
      }
    }
  }
"#,
    )
    .unwrap();
    let mut two = [span(4, 0, 1, vec![], None), span(4, 0, 1, vec![kv("route", "/health")], None)];
    two[0].trace_state = "other=1,vendor=keep".into();
    assert_eq!(decide(&ps, &two), [true, true, true, true]);
    let one = [span(5, 0, 1, vec![], None)];
    assert_eq!(decide(&ps, &one), [false, false, false, false]);
    assert!(ps[3].drops() && !ps[0].drops());
}

#[test]
fn first_match_stops_the_evaluation() {
    let src = |first: bool| {
        format!(
            "otelcol.processor.tail_sampling \"t\" {{\n  sample_on_first_match = {first}\n  policy {{\n    name = \"all\"\n    type = \"always_sample\"\n  }}\n  policy {{\n    name = \"limit\"\n    type = \"rate_limiting\"\n    rate_limiting {{ spans_per_second = 1 }}\n  }}\n  output {{}}\n}}\n"
        )
    };
    for first in [false, true] {
        let v = evaluated(&src(first)).unwrap();
        let t = TailSampling::new(crate::otelcol::detached_context("t"), &v).unwrap();
        let config = t.sampler.config();
        let s = [span(6, 0, 1, vec![], None)];
        assert!(t.sampler.decide(
            &config,
            &s[0].trace_id,
            &[ResourceSpans { scope_spans: vec![ScopeSpans { spans: s.to_vec(), ..Default::default() }], ..Default::default() }]
        ));
        // The rate limiter saw the first trace only when every policy is evaluated.
        let limit = &config.policies[1];
        let trace = Trace { id: &s[0].trace_id, spans: s.iter().map(|span| TraceSpan { resource: &[], span }).collect() };
        assert_eq!(limit.sample(&trace), first, "first_match = {first}");
    }
}

#[test]
fn a_root_span_shortens_the_wait() {
    let v = evaluated(
        "otelcol.processor.tail_sampling \"t\" {\n  decision_wait = \"1h\"\n  decision_wait_after_root_received = \"1ms\"\n  policy {\n    name = \"all\"\n    type = \"always_sample\"\n  }\n  output {}\n}\n",
    )
    .unwrap();
    let t = TailSampling::new(crate::otelcol::detached_context("t"), &v).unwrap();
    let mut child = span(7, 0, 1, vec![], None);
    child.parent_span_id = vec![9; 8];
    let root = span(8, 0, 1, vec![], None);
    let req = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans { scope_spans: vec![ScopeSpans { spans: vec![child, root], ..Default::default() }], ..Default::default() }],
    };
    assert!(t.sampler.add(req).is_empty());
    std::thread::sleep(Duration::from_millis(5));
    let out = t.sampler.due(false);
    let names: Vec<String> = out.iter().flat_map(|rs| &rs.scope_spans).flat_map(|ss| &ss.spans).map(|s| s.name.clone()).collect();
    assert_eq!(names, ["t8"], "only the trace whose root arrived is decided early");
}

#[test]
fn ottl_condition_samples_traces_with_a_matching_span_or_event() {
    let ps = policies(
        r#"
  policy {
    name = "server errors"
    type = "ottl_condition"
    ottl_condition {
      span = [`attributes["http.status_code"] >= 500`, `name == "never"`]
    }
  }
  policy {
    name = "exceptions"
    type = "ottl_condition"
    ottl_condition {
      spanevent = [`name == "exception"`]
    }
  }
  policy {
    name = "nested"
    type = "and"
    and {
      and_sub_policy {
        name = "kind"
        type = "ottl_condition"
        ottl_condition {
          span = [`kind == SPAN_KIND_UNSPECIFIED`]
        }
      }
    }
  }
"#,
    )
    .unwrap();
    let ok = span(1, 0, 10, vec![int("http.status_code", 200)], None);
    let failed = span(1, 0, 10, vec![int("http.status_code", 503)], None);
    assert_eq!(decide(&ps, std::slice::from_ref(&ok)), [false, false, true]);
    assert_eq!(decide(&ps, &[ok.clone(), failed]), [true, false, true], "one matching span samples the trace");
    let mut thrown = ok.clone();
    thrown.events.push(opentelemetry_proto::tonic::trace::v1::span::Event { name: "exception".into(), ..Default::default() });
    assert_eq!(decide(&ps, &[ok, thrown]), [false, true, true]);
}

#[test]
fn ottl_condition_errors_point_at_the_condition() {
    let err = policies("  policy {\n    name = \"x\"\n    type = \"ottl_condition\"\n    ottl_condition {\n      span = [`atributes[\"a\"] == 1`]\n    }\n  }")
        .err()
        .unwrap_or_default();
    assert!(err.starts_with("policy[0].ottl_condition.span[0]: unknown path \"atributes\""), "{err}");
    let empty = policies("  policy {\n    name = \"x\"\n    type = \"ottl_condition\"\n    ottl_condition { }\n  }").err().unwrap_or_default();
    assert!(empty.contains("at least one span or spanevent condition"), "{empty}");
}
