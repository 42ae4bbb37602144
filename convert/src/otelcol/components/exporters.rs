//! Exporters (12 of them).

use super::common::*;
use super::{CKind, Conv};
use crate::builder::{Expr, Stmt};
use crate::otelcol::schema::*;

fn e(types: &'static [&'static str], alloy: &'static str, fields: fn() -> Vec<F>) -> Conv {
    Conv::new(CKind::Exporter, types, alloy, fields)
}

pub fn list() -> Vec<Conv> {
    vec![
        e(&["otlp", "otlp_grpc"], "otelcol.exporter.otlp", otlp),
        e(&["otlphttp", "otlp_http"], "otelcol.exporter.otlphttp", otlphttp),
        e(&["debug"], "otelcol.exporter.debug", debug),
        e(&["file"], "otelcol.exporter.file", file),
        e(&["kafka"], "otelcol.exporter.kafka", kafka),
        e(&["loadbalancing"], "otelcol.exporter.loadbalancing", loadbalancing),
        e(&["datadog"], "otelcol.exporter.datadog", super::datadog::exporter),
        e(&["faro"], "otelcol.exporter.faro", faro),
        e(&["googlecloud"], "otelcol.exporter.googlecloud", super::datadog::googlecloud),
        e(&["googlecloudpubsub"], "otelcol.exporter.googlecloudpubsub", super::datadog::googlecloudpubsub),
        e(&["splunk_hec"], "otelcol.exporter.splunkhec", super::datadog::splunkhec),
        e(&["syslog"], "otelcol.exporter.syslog", syslog),
    ]
}

fn otlp() -> Vec<F> {
    vec![dur("timeout").d("5s"), queue(), retry(), always("client", grpc_client()).src("")]
}

fn otlphttp() -> Vec<F> {
    vec![always("client", http_client()).src(""), queue(), retry(), s("encoding").d("proto")]
}

fn debug() -> Vec<F> {
    vec![
        // The collector's level prints capitalised (`Basic`); Alloy's default is `basic`.
        hook("verbosity", |n, _, out| {
            let v = value(n, "verbosity").map(text).unwrap_or_else(|| "basic".into());
            let mut c = v.chars();
            let cap = c.next().map(|f| f.to_uppercase().chain(c.flat_map(char::to_lowercase)).collect()).unwrap_or_default();
            out.push(Stmt::Attr("verbosity".into(), Expr::Str(cap)));
        })
        .src(""),
        i("sampling_initial").d("2"),
        i("sampling_thereafter").d("1"),
        b("use_internal_logger").d("true"),
        strs("output_paths"),
    ]
}

fn file() -> Vec<F> {
    vec![
        s("path").req(),
        b("append"),
        present("rotation", vec![i("max_megabytes").d("100"), i("max_days"), i("max_backups").d("100"), b("localtime")]),
        s("format").d("json"),
        s("encoding"),
        s("compression"),
        compression_params(),
        dur("flush_interval").d("1s"),
        present("group_by", vec![b("enabled"), s("resource_attribute").d("fileexporter.path_segment"), i("max_open_files").d("100")]),
    ]
}

fn kafka() -> Vec<F> {
    let topic = |t: &'static str| vec![s("topic").otel(t), s("encoding").otel("otlp_proto")];
    vec![
        s("protocol_version").req(),
        strs("brokers").d("[localhost:9092]"),
        b("resolve_canonical_bootstrap_servers_only"),
        s("client_id").d("otel-collector"),
        s("topic_from_attribute"),
        b("partition_traces_by_id"),
        b("partition_metrics_by_resource_attributes"),
        b("partition_logs_by_resource_attributes"),
        b("partition_logs_by_trace_id"),
        dur("timeout").d("5s"),
        strs("include_metadata_keys"),
        block("logs", topic("otlp_logs")),
        block("metrics", topic("otlp_metrics")),
        block("traces", topic("otlp_spans")),
        super::receivers::kafka_auth(),
        super::receivers::kafka_metadata(),
        retry(),
        queue(),
        block(
            "producer",
            vec![
                i("max_message_bytes").d("1000000"),
                i("max_broker_write_bytes").d("104857600"),
                i("required_acks").d("1"),
                s("compression").d("none"),
                compression_params(),
                i("flush_max_messages"),
                b("allow_auto_topic_creation"),
                dur("linger").d("10ms"),
            ],
        )
        .zero_inner(),
        present("tls", tls_client_fields()),
    ]
}

fn loadbalancing() -> Vec<F> {
    let mut client = grpc_client();
    client[0] = s("endpoint");
    vec![
        always(
            "protocol",
            vec![always(
                "otlp",
                vec![
                    dur("timeout").d("5s"),
                    present("queue", queue_fields()).src("sending_queue"),
                    present("retry", retry_fields()).src("retry_on_failure"),
                    always("client", client).src(""),
                ],
            )],
        ),
        always(
            "resolver",
            vec![
                present("static", vec![strs("hostnames").req()]),
                present("dns", vec![s("hostname").req(), s("port").d("4317"), dur("interval").d("5s"), dur("timeout").d("1s")]),
                present("kubernetes", vec![s("service").req(), attr("ports", Ty::Ints), dur("timeout").d("1s"), b("return_hostnames")]).src("k8s"),
                present(
                    "aws_cloud_map",
                    vec![s("namespace").req(), s("service_name").req(), s("health_status"), dur("interval").d("30s"), dur("timeout").d("5s"), i("port")],
                ),
            ],
        ),
        s("routing_key").d("traceID"),
        dur("timeout"),
        present("retry_on_failure", retry_fields()),
        present("sending_queue", queue_fields()),
    ]
}

fn faro() -> Vec<F> {
    let client: Vec<F> = http_client().into_iter().filter(|f| !matches!(f.name, "http2_read_idle_timeout" | "http2_ping_timeout")).collect();
    vec![always("client", client).src(""), queue(), retry()]
}

fn syslog() -> Vec<F> {
    vec![
        dur("timeout").d("5s"),
        queue(),
        retry(),
        tls_client(),
        s("endpoint").req(),
        i("port").d("514"),
        s("network").d("tcp"),
        s("protocol").d("rfc5424"),
        b("enable_octet_counting"),
    ]
}
