//! `otelcol.exporter.prometheus` → `prometheus.remote_write` inside a controller: OTLP metrics
//! given to the exporter's `input` arrive at a remote-write endpoint as Prometheus series.

mod common;

use std::sync::{Arc, Mutex};

use common::{eventually, Config};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{metric, number_data_point, AggregationTemporality, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum};
use opentelemetry_proto::tonic::resource::v1::Resource;
use runtime::otelcol::consumer::ConsumerHandle;
use runtime::otelcol::pdata::Payload;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A remote-write endpoint that answers 204 and keeps every series it gets as text.
async fn endpoint() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = got.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let g = g.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 65536];
                loop {
                    let Some(head_end) = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4) else {
                        match s.read(&mut chunk).await {
                            Ok(n) if n > 0 => buf.extend_from_slice(&chunk[..n]),
                            _ => return,
                        }
                        continue;
                    };
                    let headers = String::from_utf8_lossy(&buf[..head_end]).to_lowercase();
                    let len: usize = headers.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse().ok()).unwrap_or(0);
                    while buf.len() < head_end + len {
                        match s.read(&mut chunk).await {
                            Ok(n) if n > 0 => buf.extend_from_slice(&chunk[..n]),
                            _ => return,
                        }
                    }
                    let body = prom::remote::decompress(&buf[head_end..head_end + len], 1 << 30).unwrap_or_default();
                    let batch = prom::remote::proto::decode_v1(&body).unwrap_or_default();
                    g.lock().unwrap_or_else(|e| e.into_inner()).extend(batch.samples.iter().map(|s| format!("{} {}", s.labels, s.v)));
                    buf.drain(..head_end + len);
                    if s.write_all(b"HTTP/1.1 204 No Content\r\n\r\n").await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, got)
}

fn counter(name: &str, v: f64) -> ExportMetricsServiceRequest {
    let attr =
        |k: &str, v: &str| KeyValue { key: k.into(), value: Some(AnyValue { value: Some(any_value::Value::StringValue(v.into())) }), ..Default::default() };
    let point = NumberDataPoint {
        time_unix_nano: 1_700_000_000_000_000_000,
        value: Some(number_data_point::Value::AsDouble(v)),
        attributes: vec![attr("http.route", "/a")],
        ..Default::default()
    };
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource { attributes: vec![attr("service.name", "shop"), attr("service.instance.id", "pod-1")], ..Default::default() }),
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: name.into(),
                    unit: "s".into(),
                    data: Some(metric::Data::Sum(Sum {
                        data_points: vec![point],
                        aggregation_temporality: AggregationTemporality::Cumulative as i32,
                        is_monotonic: true,
                    })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

#[tokio::test]
async fn otlp_metrics_reach_a_remote_write_endpoint() {
    let (port, got) = endpoint().await;
    let cfg = Config::new(&format!(
        r#"
otelcol.exporter.prometheus "p" {{
  include_target_info = false
  forward_to          = [prometheus.remote_write.rw.receiver]
}}

prometheus.remote_write "rw" {{
  endpoint {{
    url = "http://127.0.0.1:{port}/api/v1/write"
    queue_config {{
      batch_send_deadline = "50ms"
    }}
  }}
}}
"#
    ));
    let c = cfg.controller();
    c.load().await.expect("loads");
    // The queue starts reading the WAL from where it is when it starts.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let exports = c.component("otelcol.exporter.prometheus.p").and_then(|i| i.exports).expect("exports");
    let input = exports.as_object().and_then(|o| o.get("input").cloned()).expect("input");
    let input: ConsumerHandle = eval::Decode::decode(&input).expect("a consumer");
    input.consume(Payload::from_metrics(&counter("http.server.duration", 42.0))).await.expect("taken");
    eventually("the series at the endpoint", || !got.lock().unwrap_or_else(|e| e.into_inner()).is_empty()).await;
    assert_eq!(
        *got.lock().unwrap_or_else(|e| e.into_inner()),
        ["{__name__=\"http_server_duration_seconds_total\", http_route=\"/a\", instance=\"pod-1\", job=\"shop\"} 42"]
    );
    c.shutdown().await;
}

/// Prometheus samples → `otelcol.receiver.prometheus` → `otelcol.exporter.prometheus` →
/// `prometheus.remote_write`: the series comes out as it went in.
#[tokio::test]
async fn prometheus_samples_survive_the_otlp_detour() {
    let (port, got) = endpoint().await;
    let cfg = Config::new(&format!(
        r#"
otelcol.receiver.prometheus "in" {{
  output {{
    metrics = [otelcol.exporter.prometheus.out.input]
  }}
}}

otelcol.exporter.prometheus "out" {{
  include_target_info  = false
  include_scope_labels = false
  forward_to           = [prometheus.remote_write.rw.receiver]
}}

prometheus.remote_write "rw" {{
  endpoint {{
    url = "http://127.0.0.1:{port}/api/v1/write"
    queue_config {{
      batch_send_deadline = "50ms"
    }}
  }}
}}
"#
    ));
    let c = cfg.controller();
    c.load().await.expect("loads");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let exports = c.component("otelcol.receiver.prometheus.in").and_then(|i| i.exports).expect("exports");
    let receiver = exports.as_object().and_then(|o| o.get("receiver").cloned()).expect("receiver");
    let receiver: runtime::prometheus::receiver::ReceiverHandle = eval::Decode::decode(&receiver).expect("a metrics receiver");
    let labels = prom::Labels::new([("__name__", "queue_depth"), ("job", "node"), ("instance", "10.0.0.1:9100"), ("queue", "q1")]);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
    let batch = prom::Batch { samples: vec![prom::Sample { series: prom::SeriesRef(0), labels, t: now, v: 7.0 }], ..Default::default() };
    receiver.append(&batch).expect("appended");
    eventually("the series at the endpoint", || !got.lock().unwrap_or_else(|e| e.into_inner()).is_empty()).await;
    assert_eq!(*got.lock().unwrap_or_else(|e| e.into_inner()), ["{__name__=\"queue_depth\", instance=\"10.0.0.1:9100\", job=\"node\", queue=\"q1\"} 7"]);
    c.shutdown().await;
}
