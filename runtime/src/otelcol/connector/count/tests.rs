use opentelemetry_proto::tonic::common::v1::any_value;
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{Gauge, Histogram, HistogramDataPoint, ScopeMetrics as InScopeMetrics};
use opentelemetry_proto::tonic::trace::v1::span::Event;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

use super::*;
use crate::otelcol::connector::values::as_string;
use crate::otelcol::consumer::tests::sink_handle;
use crate::otelcol::pdata::tests::kv;

fn decode(src: &str) -> Result<Config, ComponentError> {
    let v = crate::component::args::evaluated(&format!("{NAME} \"t\" {{\n{src}\n}}")).map_err(ComponentError)?;
    decode_checked::<Args>(NAME, &analyzer::args::with_defaults(NAME, &v)).map(|a| a.config)
}

fn traces() -> ExportTraceServiceRequest {
    let span = |method: &str, events: usize| Span {
        name: "op".into(),
        attributes: vec![kv("http.method", method)],
        events: (0..events).map(|_| Event { name: "e".into(), ..Default::default() }).collect(),
        ..Default::default()
    };
    ExportTraceServiceRequest {
        resource_spans: vec![
            ResourceSpans {
                resource: Some(Resource { attributes: vec![kv("service.name", "a")], ..Default::default() }),
                scope_spans: vec![ScopeSpans { spans: vec![span("GET", 2), span("GET", 0), span("POST", 1)], ..Default::default() }],
                ..Default::default()
            },
            ResourceSpans { resource: Some(Resource { attributes: vec![kv("service.name", "b")], ..Default::default() }), ..Default::default() },
        ],
    }
}

/// The attributes of a point as text, and its count.
type Point = (Vec<(String, String)>, i64);

/// (metric name, points) of one resource.
fn counts(rm: &ResourceMetrics) -> Vec<(String, Vec<Point>)> {
    rm.scope_metrics[0]
        .metrics
        .iter()
        .map(|m| {
            let Some(metric::Data::Sum(s)) = &m.data else { panic!("not a sum") };
            assert!(s.is_monotonic);
            assert_eq!(s.aggregation_temporality, AggregationTemporality::Delta as i32);
            let points = s
                .data_points
                .iter()
                .map(|p| {
                    let Some(number_data_point::Value::AsInt(n)) = p.value else { panic!("not an int") };
                    (p.attributes.iter().map(|kv| (kv.key.clone(), kv.value.as_ref().map(as_string).unwrap_or_default())).collect(), n)
                })
                .collect();
            (m.name.clone(), points)
        })
        .collect()
}

#[test]
fn default_metrics_count_spans_and_events_per_resource() {
    let c = decode("output {}").unwrap();
    let out = c.count_traces(&mut traces(), SystemTime::now()).unwrap();
    assert_eq!(out.resource_metrics.len(), 1, "a resource with nothing counted is left out");
    let rm = &out.resource_metrics[0];
    assert_eq!(rm.resource.as_ref().unwrap().attributes, vec![kv("service.name", "a")]);
    assert_eq!(rm.scope_metrics[0].scope.as_ref().unwrap().name, "otelcol/countconnector");
    assert_eq!(counts(rm), [("trace.span.count".to_string(), vec![(vec![], 3)]), ("trace.span.event.count".to_string(), vec![(vec![], 3)])]);
    assert_eq!(rm.scope_metrics[0].metrics[0].description, "The number of spans observed.");
}

#[test]
fn attributes_split_counts_and_items_without_them_are_not_counted() {
    let c = decode(
        r#"
        spans {
          name = "by_method"
          description = "Spans by method"
          attributes {
            key = "http.method"
          }
        }
        spans {
          name = "by_env"
          attributes {
            key = "env"
            default_value = "none"
          }
        }
        spanevents {
          name = "events_by_method"
          attributes {
            key = "http.method"
          }
        }
        output {}
        "#,
    )
    .unwrap();
    let out = c.count_traces(&mut traces(), SystemTime::now()).unwrap();
    let got = counts(&out.resource_metrics[0]);
    let m = |k: &str| vec![("http.method".to_string(), k.to_string())];
    assert_eq!(got[0], ("by_method".to_string(), vec![(m("GET"), 2), (m("POST"), 1)]));
    assert_eq!(got[1], ("by_env".to_string(), vec![(vec![("env".to_string(), "none".to_string())], 3)]));
    assert_eq!(got.len(), 2, "span events have no http.method, so that metric has no points and is left out");
    assert_eq!(out.resource_metrics[0].scope_metrics[0].metrics[0].description, "Spans by method");
}

#[test]
fn metrics_and_data_points_are_counted() {
    let c = decode("output {}").unwrap();
    let req = ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![InScopeMetrics {
                metrics: vec![
                    Metric {
                        name: "g".into(),
                        data: Some(metric::Data::Gauge(Gauge { data_points: vec![NumberDataPoint::default(); 3] })),
                        ..Default::default()
                    },
                    Metric {
                        name: "h".into(),
                        data: Some(metric::Data::Histogram(Histogram { data_points: vec![HistogramDataPoint::default(); 2], aggregation_temporality: 1 })),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let out = c.count_metrics(&mut req.clone(), SystemTime::now()).unwrap();
    assert_eq!(counts(&out.resource_metrics[0]), [("metric.count".to_string(), vec![(vec![], 2)]), ("metric.datapoint.count".to_string(), vec![(vec![], 5)])]);
    let mut empty = req.clone();
    empty.resource_metrics[0].scope_metrics[0].metrics[0].data = None;
    assert_eq!(c.count_metrics(&mut empty.clone(), SystemTime::now()).unwrap_err(), "metric \"g\": invalid metric type: Empty");
}

#[test]
fn log_records_are_counted_with_typed_attributes() {
    let c = decode(
        r#"
        logs {
          name = "by_level"
          attributes {
            key = "level"
            default_value = 0
          }
        }
        output {}
        "#,
    )
    .unwrap();
    let level = |n| KeyValue { key: "level".into(), value: Some(AnyValue { value: Some(any_value::Value::IntValue(n)) }), ..Default::default() };
    let req = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![
                    LogRecord { attributes: vec![level(3)], ..Default::default() },
                    LogRecord::default(),
                    LogRecord { attributes: vec![level(3)], ..Default::default() },
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let out = c.count_logs(&mut req.clone(), SystemTime::now()).unwrap();
    let l = |v: &str| vec![("level".to_string(), v.to_string())];
    assert_eq!(counts(&out.resource_metrics[0]), [("by_level".to_string(), vec![(l("3"), 2), (l("0"), 1)])]);
}

#[test]
fn block_rules_follow_upstream() {
    assert_eq!(decode("spans {}\noutput {}").unwrap().spans[0].name, "trace.span.count", "spans takes the default name");
    assert!(decode("logs {}\noutput {}").unwrap_err().0.contains("logs: metric name missing"));
    assert!(decode("metrics {\n name = \"m\"\n attributes {\n key = \"a\"\n }\n}\noutput {}")
        .unwrap_err()
        .0
        .contains("metrics attributes not supported: metric \"m\""));
    assert!(decode("datapoints {\n name = \"d\"\n attributes {\n key = \"\"\n }\n}\noutput {}")
        .unwrap_err()
        .0
        .contains("spans attributes: metric \"d\": attribute key missing"));
    let twice = decode("logs {\n name = \"x\"\n description = \"one\"\n}\nlogs {\n name = \"x\"\n description = \"two\"\n}\noutput {}").unwrap();
    assert_eq!(twice.logs.len(), 1);
    assert_eq!(twice.logs[0].description, "two");
}

#[tokio::test]
async fn every_signal_in_counts_out() {
    let (sink, handle) = sink_handle();
    let consumer = CountConsumer {
        config: RwLock::new(Arc::new(decode("output {}").unwrap())),
        next: Fanout::new(Output { metrics: vec![handle], ..Default::default() }),
    };
    consumer.consume(Payload::from_traces(&traces())).await.unwrap();
    consumer.consume(Payload::from_logs(&ExportLogsServiceRequest::default())).await.unwrap();
    let received = sink.received.lock().unwrap().clone();
    assert_eq!(received.len(), 1, "nothing counted, nothing sent");
    assert_eq!(received[0].items(), 2);
}

#[test]
fn conditions_select_the_items_a_metric_counts_across_resources() {
    let c = decode(
        r#"
spans {
  name       = "get.count"
  conditions = [`attributes["http.method"] == "GET"`]
}
spans {
  name       = "post.or.missing"
  conditions = [`attributes["http.method"] == "POST"`, `name == "missing"`]
}
spanevents {
  name       = "event.count"
  conditions = [`name == "e"`]
}
output {}
"#,
    )
    .unwrap();
    let mut req = traces();
    // The second resource gets a GET span too: the selection follows items across resources.
    req.resource_spans[1]
        .scope_spans
        .push(ScopeSpans { spans: vec![Span { name: "op".into(), attributes: vec![kv("http.method", "GET")], ..Default::default() }], ..Default::default() });
    let out = c.count_traces(&mut req, SystemTime::now()).unwrap();
    assert_eq!(out.resource_metrics.len(), 2);
    assert_eq!(
        counts(&out.resource_metrics[0]),
        [
            ("get.count".to_string(), vec![(vec![], 2)]),
            // Either condition may hold: only the POST span matches one.
            ("post.or.missing".to_string(), vec![(vec![], 1)]),
            ("event.count".to_string(), vec![(vec![], 3)]),
        ]
    );
    assert_eq!(counts(&out.resource_metrics[1]), [("get.count".to_string(), vec![(vec![], 1)])]);
}

#[test]
fn malformed_conditions_are_refused_at_the_offending_token() {
    let errors = match decode("logs {\n  name = \"x\"\n  conditions = [`severity_number > SEVERITY_NUMBER_WARNN`]\n}\noutput {}") {
        Err(e) => e.0,
        Ok(_) => panic!("accepted"),
    };
    assert!(errors.starts_with("logs[0].conditions[0]: unknown enum \"SEVERITY_NUMBER_WARNN\"; did you mean"), "{errors}");
}
