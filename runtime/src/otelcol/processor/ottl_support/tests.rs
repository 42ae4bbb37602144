//! The transform and filter processors on OTLP payloads, configured from Alloy text.

use eval::PathSeg;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};

use crate::component::args::{decode, evaluated};
use crate::otelcol::consumer::ConsumeError;
use crate::otelcol::pdata::tests::{kv, traces};
use crate::otelcol::pdata::Payload;
use crate::otelcol::processor::{filter, transform};

fn transform(src: &str) -> transform::Compiled {
    let args = decode::<transform::Args>("otelcol.processor.transform", &evaluated(src).unwrap()).unwrap_or_else(|e| panic!("{e:?}"));
    transform::Compiled::from_args(&args).unwrap()
}

fn filter(src: &str) -> filter::Compiled {
    let args = decode::<filter::Args>("otelcol.processor.filter", &evaluated(src).unwrap()).unwrap_or_else(|e| panic!("{e:?}"));
    filter::Compiled::from_args(&args).unwrap()
}

fn span_names(p: &Payload) -> Vec<String> {
    let req = p.decode_traces().unwrap();
    req.resource_spans.iter().flat_map(|rs| rs.scope_spans.iter()).flat_map(|ss| ss.spans.iter().map(|s| s.name.clone())).collect()
}

fn logs(bodies: &[&str]) -> Payload {
    let records =
        bodies.iter().map(|b| LogRecord { body: Some(AnyValue { value: Some(any_value::Value::StringValue(b.to_string())) }), ..Default::default() }).collect();
    Payload::from_logs(&ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs { scope_logs: vec![ScopeLogs { log_records: records, ..Default::default() }], ..Default::default() }],
    })
}

#[test]
fn transform_rewrites_the_signals_it_has_statements_for() {
    let t = transform(
        r#"otelcol.processor.transform "t" {
  trace_statements {
    context    = "span"
    conditions = [`resource.attributes["service.name"] == "svc1"`]
    statements = [`set(name, Concat([name, "x"], "-")) where name != "r1s0"`]
  }
  trace_statements {
    context    = "resource"
    statements = [`set(attributes["env"], "prod")`]
  }
  statements {
    trace = [`set(span.attributes["svc"], resource.attributes["service.name"])`]
  }
  output {}
}"#,
    );
    let out = t.process(Payload::from_traces(&traces(2, 2)), "t").unwrap().unwrap();
    assert_eq!(span_names(&out), ["r0s0", "r0s1", "r1s0", "r1s1-x"]);
    let req = out.decode_traces().unwrap();
    let res = req.resource_spans[1].resource.as_ref().unwrap();
    assert_eq!(res.attributes, [kv("service.name", "svc1"), kv("env", "prod")]);
    assert_eq!(req.resource_spans[0].scope_spans[0].spans[1].attributes, [kv("svc", "svc0")]);

    // Logs have no statements: the very same bytes pass through.
    let p = logs(&["a"]);
    let out = t.process(p.clone(), "t").unwrap().unwrap();
    assert_eq!(out.bytes().as_ptr(), p.bytes().as_ptr());
}

#[test]
fn transform_error_modes() {
    let config = |mode: &str| {
        transform(&format!(
            r#"otelcol.processor.transform "t" {{
  error_mode = "{mode}"
  log_statements {{
    context    = "log"
    statements = [`set(attributes["parsed"], ParseJSON(body))`, `set(attributes["seen"], true)`]
  }}
  output {{}}
}}"#
        ))
    };
    let p = logs(&["{\"a\":1}", "not json"]);
    let err = config("propagate").process(p.clone(), "t").unwrap_err();
    assert!(matches!(&err, ConsumeError::Permanent(m) if m.contains("ParseJSON")), "{err:?}");
    for mode in ["ignore", "silent"] {
        let out = config(mode).process(p.clone(), "t").unwrap().unwrap();
        let req = out.decode_logs().unwrap();
        let keys: Vec<Vec<&str>> =
            req.resource_logs[0].scope_logs[0].log_records.iter().map(|r| r.attributes.iter().map(|a| a.key.as_str()).collect()).collect();
        assert_eq!(keys, [vec!["parsed", "seen"], vec!["seen"]], "{mode}");
    }
}

#[test]
fn filter_drops_matching_items_and_empty_payloads() {
    let f = filter(
        r#"otelcol.processor.filter "f" {
  traces {
    span = [`name == "r0s1"`, `resource.attributes["service.name"] == "svc1" and name != "r1s0"`]
  }
  logs {
    log_record = [`IsMatch(body, "^debug")`]
  }
  output {}
}"#,
    );
    let out = f.process(Payload::from_traces(&traces(2, 3)), "f").unwrap().unwrap();
    assert_eq!(span_names(&out), ["r0s0", "r0s2", "r1s0"]);
    assert_eq!(out.items(), 3);
    let out = f.process(logs(&["debug 1", "info", "debug 2"]), "f").unwrap().unwrap();
    assert_eq!(out.items(), 1);
    assert!(f.process(logs(&["debug only"]), "f").unwrap().is_none(), "nothing left, nothing passed on");
}

#[test]
fn argument_errors_point_at_the_list_element() {
    let v = evaluated(
        r#"otelcol.processor.transform "t" {
  trace_statements {
    context    = "span"
    statements = [`set(name, "a")`, `set(nme, "b")`]
  }
  output {}
}"#,
    )
    .unwrap();
    let errors = decode::<transform::Args>("otelcol.processor.transform", &v).err().unwrap();
    assert_eq!(errors.len(), 1);
    let want = [PathSeg::Field("trace_statements".into()), PathSeg::Index(0), PathSeg::Field("statements".into()), PathSeg::Index(1)];
    assert_eq!(errors[0].path, want);
    assert_eq!(errors[0].message, "unknown path \"nme\" in the span context; did you mean \"name\"?");

    let v = evaluated(
        r#"otelcol.processor.filter "f" {
  metrics {
    datapoint = [`metric.name == "x"`, `name == "y"`]
  }
  output {}
}"#,
    )
    .unwrap();
    let errors = decode::<filter::Args>("otelcol.processor.filter", &v).err().unwrap();
    let want = [PathSeg::Field("metrics".into()), PathSeg::Field("datapoint".into()), PathSeg::Index(1)];
    assert_eq!(
        (errors[0].path.as_slice(), errors[0].message.as_str()),
        (want.as_slice(), "unknown path \"name\" in the datapoint context; did you mean \"metric.name\"?")
    );
}

#[test]
fn transform_then_filter() {
    let t = transform(
        r#"otelcol.processor.transform "t" {
  trace_statements {
    context    = "span"
    statements = [`set(attributes["drop"], true) where IsMatch(name, "s1$")`]
  }
  output {}
}"#,
    );
    let f = filter(
        r#"otelcol.processor.filter "f" {
  traces {
    span = [`attributes["drop"] == true`]
  }
  output {}
}"#,
    );
    let p = Payload::from_traces(&traces(2, 3));
    let out = f.process(t.process(p, "t").unwrap().unwrap(), "f").unwrap().unwrap();
    assert_eq!(span_names(&out), ["r0s0", "r0s2", "r1s0", "r1s2"]);
    assert!(out.decode_traces().unwrap().resource_spans.iter().flat_map(|r| &r.scope_spans).flat_map(|s| &s.spans).all(|s| s.attributes.is_empty()));
}
