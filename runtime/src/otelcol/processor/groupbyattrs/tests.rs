use super::*;
use crate::otelcol::pdata::tests::{kv, traces};
use crate::otelcol::processor::rewrite::rules_of;
use opentelemetry_proto::tonic::metrics::v1::{Gauge, NumberDataPoint};

fn rules(keys: &str) -> Arc<dyn Transform> {
    rules_of::<Args>(&format!("otelcol.processor.groupbyattrs \"g\" {{\n  keys = {keys}\n  output {{}}\n}}\n")).expect("valid")
}

fn attr(attrs: &[KeyValue], k: &str) -> Option<String> {
    attrs.iter().find(|kv| kv.key == k).and_then(|kv| kv.value.as_ref()).map(crate::otelcol::processor::attributes::value_text)
}

#[test]
fn spans_move_their_key_attributes_to_the_resource_and_regroup() {
    // Two resources (svc0, svc1), three spans each; spans carry host=a or host=b.
    let mut req = traces(2, 3);
    for rs in &mut req.resource_spans {
        for (i, s) in rs.scope_spans[0].spans.iter_mut().enumerate() {
            s.attributes = vec![kv("host", if i == 1 { "b" } else { "a" }), kv("keep", "x")];
        }
    }
    let out = rules("[\"host\"]").process(Payload::from_traces(&req)).unwrap().unwrap().decode_traces().unwrap();
    let groups: Vec<(Option<String>, Option<String>, Vec<String>)> = out
        .resource_spans
        .iter()
        .map(|rs| {
            let res = &rs.resource.as_ref().unwrap().attributes;
            (attr(res, "service.name"), attr(res, "host"), rs.scope_spans.iter().flat_map(|ss| ss.spans.iter().map(|s| s.name.clone())).collect())
        })
        .collect();
    let g = |svc: &str, host: &str, names: &[&str]| (Some(svc.to_string()), Some(host.to_string()), names.iter().map(|n| n.to_string()).collect());
    assert_eq!(groups, [g("svc0", "a", &["r0s0", "r0s2"]), g("svc0", "b", &["r0s1"]), g("svc1", "a", &["r1s0", "r1s2"]), g("svc1", "b", &["r1s1"])]);
    let span = &out.resource_spans[0].scope_spans[0].spans[0];
    assert_eq!((attr(&span.attributes, "host"), attr(&span.attributes, "keep").as_deref()), (None, Some("x")));
}

#[test]
fn without_keys_equal_resources_are_merged() {
    let a = traces(1, 2);
    let p = Payload::concat(&[Payload::from_traces(&a), Payload::from_traces(&a)]).unwrap();
    assert_eq!(p.decode_traces().unwrap().resource_spans.len(), 2);
    let out = rules("[]").process(p).unwrap().unwrap().decode_traces().unwrap();
    assert_eq!(out.resource_spans.len(), 1);
    assert_eq!(out.resource_spans[0].scope_spans.len(), 1);
    assert_eq!(out.resource_spans[0].scope_spans[0].spans.len(), 4);
}

#[test]
fn metric_points_split_into_resources_and_keep_their_metric() {
    let point = |host: &str, v: f64| NumberDataPoint {
        attributes: vec![kv("host", host)],
        value: Some(opentelemetry_proto::tonic::metrics::v1::number_data_point::Value::AsDouble(v)),
        ..Default::default()
    };
    let req = ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: "cpu".into(),
                    unit: "1".into(),
                    data: Some(metric::Data::Gauge(Gauge { data_points: vec![point("a", 1.0), point("b", 2.0), point("a", 3.0)] })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let out = rules("[\"host\"]").process(Payload::from_metrics(&req)).unwrap().unwrap();
    assert_eq!(out.items(), 3);
    let out = out.decode_metrics().unwrap();
    assert_eq!(out.resource_metrics.len(), 2);
    let points = |i: usize| match &out.resource_metrics[i].scope_metrics[0].metrics[..] {
        [m] if m.name == "cpu" && m.unit == "1" => match &m.data {
            Some(metric::Data::Gauge(g)) => g.data_points.len(),
            _ => 0,
        },
        _ => 0,
    };
    assert_eq!((points(0), points(1)), (2, 1));
    assert_eq!(attr(&out.resource_metrics[1].resource.as_ref().unwrap().attributes, "host").as_deref(), Some("b"));
}
