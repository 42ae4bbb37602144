//! TLS end to end inside one runtime: an OTLP/gRPC exporter and an OTLP/HTTP exporter that trust
//! a private CA deliver to a receiver serving both transports over TLS with that CA's
//! certificate, read from files as a user would configure them. The exporters compress with
//! zstd (gRPC) and snappy (HTTP), so the receiver's decoders are on the path too.

mod common;

use std::time::Duration;

use common::{pki, Config};
use tokio_util::sync::CancellationToken;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The value of the first sample whose line starts with `name{` and contains every label.
fn sample(metrics: &str, name: &str, labels: &[&str]) -> Option<f64> {
    metrics
        .lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) && labels.iter().all(|lab| l.contains(lab)))
        .find_map(|l| l.rsplit_once(' ').and_then(|(_, v)| v.parse().ok()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exporters_deliver_over_tls_to_a_tls_receiver() {
    let (grpc, https, front) = (free_port(), free_port(), free_port());
    let cfg = Config::new(&format!(
        r#"otelcol.receiver.otlp "sink" {{
  grpc {{
    endpoint = "127.0.0.1:{grpc}"
    tls {{
      cert_file = "$DIR/server.pem"
      key_file  = "$DIR/server.key"
    }}
  }}
  http {{
    endpoint = "127.0.0.1:{https}"
    tls {{
      cert_file = "$DIR/server.pem"
      key_file  = "$DIR/server.key"
    }}
  }}
  output {{
    traces = [otelcol.processor.batch.drop.input]
  }}
}}

otelcol.processor.batch "drop" {{
  output {{ }}
}}

otelcol.receiver.otlp "front" {{
  http {{
    endpoint = "127.0.0.1:{front}"
  }}
  output {{
    traces = [otelcol.exporter.otlp.over_grpc.input, otelcol.exporter.otlphttp.over_https.input]
  }}
}}

otelcol.exporter.otlp "over_grpc" {{
  client {{
    endpoint    = "127.0.0.1:{grpc}"
    compression = "zstd"
    tls {{
      ca_file = "$DIR/ca.pem"
    }}
  }}
}}

otelcol.exporter.otlphttp "over_https" {{
  client {{
    endpoint    = "https://127.0.0.1:{https}"
    compression = "snappy"
    tls {{
      ca_file = "$DIR/ca.pem"
    }}
  }}
}}
"#
    ));
    pki().write_server(&cfg);

    let c = cfg.controller();
    c.load().await.expect("loads");
    let stop = CancellationToken::new();
    let (api, _) = runtime::http::serve("127.0.0.1:0", c.clone(), stop.clone()).await.expect("binds");

    let spans = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"tls-test"}}]},"scopeSpans":[{"spans":[
        {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"a"},
        {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b175","name":"b"}]}]}]}"#;
    let http = reqwest::Client::new();
    let mut sent = None;
    for _ in 0..100 {
        match http.post(format!("http://127.0.0.1:{front}/v1/traces")).header("content-type", "application/json").body(spans).send().await {
            Ok(r) => {
                sent = Some(r.status().as_u16());
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    assert_eq!(sent, Some(200));

    let mut metrics = String::new();
    for _ in 0..250 {
        metrics = http.get(format!("http://{api}/metrics")).send().await.unwrap().text().await.unwrap();
        let sink =
            |transport: &str| sample(&metrics, "otelcol_receiver_accepted_spans_total", &["otelcol.receiver.otlp.sink", &format!("transport=\"{transport}\"")]);
        if sink("grpc") == Some(2.0) && sink("http") == Some(2.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for transport in ["grpc", "http"] {
        let got = sample(&metrics, "otelcol_receiver_accepted_spans_total", &["otelcol.receiver.otlp.sink", &format!("transport=\"{transport}\"")]);
        assert_eq!(got, Some(2.0), "spans the TLS receiver accepted over {transport}:\n{metrics}");
    }
    for exporter in ["over_grpc", "over_https"] {
        let failed = sample(&metrics, "otelcol_exporter_send_failed_spans_total", &[exporter]);
        assert_eq!(failed, Some(0.0), "{exporter} failed sends:\n{metrics}");
    }
    stop.cancel();
    c.shutdown().await;
}

/// One crypto provider: aws-lc-rs (reqwest's rustls feature brings it). A second one (ring)
/// makes rustls unable to pick a default and doubles the TLS code in the binary.
#[test]
fn ring_is_not_in_the_dependency_tree() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["tree", "--locked", "-i", "ring", "-e", "normal,build,dev"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(out.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty(), "ring is back in the dependency tree:\n{}", String::from_utf8_lossy(&out.stdout));
}
