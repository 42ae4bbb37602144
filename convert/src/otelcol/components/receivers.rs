//! Receivers (21 of them).

use super::common::*;
use super::stanza::{consumer_retry, syslog, tcplog, trim, vcenter};
use super::{CKind, Conv};
use crate::otelcol::schema::*;
use crate::otelcol::Ctx;
use crate::yaml::Node;

fn r(types: &'static [&'static str], alloy: &'static str, fields: fn() -> Vec<F>) -> Conv {
    Conv::new(CKind::Receiver, types, alloy, fields)
}

/// Upstream's converter never wires these receivers' required `output` block.
const NO_OUTPUT: &str = "the required output block is wired from the pipelines (upstream's converter leaves it out)";
const FILELOG_DEVIATION: &str =
    "the required output block is wired from the pipelines, and empty ordering_criteria and multiline blocks are left out (upstream's converter leaves out the first and writes the others, which fail validation)";
/// Upstream's converter sends the pipeline's metrics to the `logs` output and its logs to `metrics`.
const SWAPPED: &str = "the metrics and logs outputs are wired from the metrics and logs pipelines (upstream's converter swaps them)";

pub fn list() -> Vec<Conv> {
    vec![
        r(&["otlp"], "otelcol.receiver.otlp", otlp),
        r(&["awscloudwatch"], "otelcol.receiver.awscloudwatch", awscloudwatch).signals([None, Some(1), None]),
        r(&["awsecscontainermetrics"], "otelcol.receiver.awsecscontainermetrics", || vec![dur("collection_interval").d("20s")]).signals([Some(0), None, None]),
        r(&["awss3"], "otelcol.receiver.awss3", awss3).check(awss3_check),
        r(&["cloudflare"], "otelcol.receiver.cloudflare", cloudflare).signals([None, Some(1), None]),
        r(&["datadog"], "otelcol.receiver.datadog", datadog).signals([Some(0), None, Some(2)]),
        r(&["faro"], "otelcol.receiver.faro", || http_server_with("localhost:8080", "localhost:8080", None)).signals([None, Some(1), Some(2)]),
        r(&["filelog"], "otelcol.receiver.filelog", filelog).check(filelog_check).deviation(FILELOG_DEVIATION),
        r(&["filestats"], "otelcol.receiver.file_stats", filestats).signals([Some(0), None, None]),
        r(&["fluentforward"], "otelcol.receiver.fluentforward", || vec![s("endpoint").req()]).deviation(NO_OUTPUT),
        r(&["googlecloudpubsub"], "otelcol.receiver.googlecloudpubsub", googlecloudpubsub).deviation(SWAPPED),
        r(&["influxdb"], "otelcol.receiver.influxdb", || http_server_with("localhost:8086", "localhost:8086", None)).signals([Some(0), None, None]),
        r(&["jaeger"], "otelcol.receiver.jaeger", jaeger).signals([None, None, Some(2)]),
        r(&["kafka"], "otelcol.receiver.kafka", kafka),
        r(&["nginx"], "otelcol.receiver.nginx", nginx).signals([Some(0), None, None]),
        r(&["solace"], "otelcol.receiver.solace", solace).signals([None, None, Some(2)]),
        r(&["splunk_hec"], "otelcol.receiver.splunkhec", splunkhec).signals([Some(0), Some(1), None]).deviation(SWAPPED),
        r(&["syslog"], "otelcol.receiver.syslog", syslog).deviation(NO_OUTPUT),
        r(&["tcplog"], "otelcol.receiver.tcplog", tcplog).deviation(NO_OUTPUT),
        r(&["vcenter"], "otelcol.receiver.vcenter", vcenter).signals([Some(0), None, Some(2)]),
        r(&["zipkin"], "otelcol.receiver.zipkin", zipkin).signals([None, None, Some(2)]),
    ]
}

fn otlp() -> Vec<F> {
    vec![
        present("grpc", grpc_server("localhost:4317", "0.0.0.0:4317")).src("protocols.grpc"),
        present("http", {
            let mut v = http_server("localhost:4318", "0.0.0.0:4318");
            v.extend([s("traces_url_path").d("/v1/traces"), s("metrics_url_path").d("/v1/metrics"), s("logs_url_path").d("/v1/logs")]);
            v
        })
        .src("protocols.http"),
    ]
}

fn awscloudwatch() -> Vec<F> {
    let streams = || vec![attr("prefixes", Ty::Strs), attr("names", Ty::Strs)];
    vec![
        s("region").req(),
        s("profile"),
        s("imds_endpoint"),
        block(
            "logs",
            vec![
                dur("poll_interval").d("1m"),
                i("max_events_per_request").d("1000"),
                block(
                    "groups",
                    vec![present("autodiscover", vec![s("prefix"), i("limit").d("50"), block("streams", streams())]), keyed("named", "group_name", streams())],
                ),
                s("start_from"),
                dur("initial_lookback"),
            ],
        ),
        attr("storage", Ty::Handler),
    ]
}

fn awss3() -> Vec<F> {
    vec![
        s("start_time"),
        s("end_time"),
        always(
            "s3downloader",
            vec![
                s("region").d("us-east-1"),
                s("s3_bucket").req(),
                s("s3_prefix").req(),
                s("s3_partition_format"),
                s("s3_partition_timezone"),
                s("file_prefix"),
                s("endpoint"),
                s("endpoint_partition_id"),
                b("s3_force_path_style"),
            ],
        ),
        present("sqs", vec![s("queue_url"), s("region"), s("endpoint"), i("wait_time_seconds"), i("max_number_of_messages")]),
    ]
}

fn awss3_check(n: &Node, ctx: &mut Ctx) {
    if value(n, "encodings").is_some_and(|e| matches!(&e.kind, crate::yaml::Kind::Seq(items) if !items.is_empty())) {
        let msg = format!("{}: encodings are not supported at this moment", ctx.instance);
        ctx.warn(msg);
    }
    if value(n, "notifications.opampextension").is_some() {
        let msg = format!("{}: notifications.opampextension field is not supported", ctx.instance);
        ctx.warn(msg);
    }
}

fn cloudflare() -> Vec<F> {
    vec![
        s("endpoint").src("logs.endpoint").req(),
        s("secret").src("logs.secret"),
        s("timestamp_field").src("logs.timestamp_field").otel("EdgeStartTimestamp").alloy("EdgeStartTimestamp"),
        s("timestamp_format").src("logs.timestamp_format").d("unix"),
        s("separator").src("logs.separator").d("."),
        map("attributes").src("logs.attributes"),
        tls_server().src("logs.tls"),
    ]
}

/// An HTTP server's fields with a component's endpoint defaults and Alloy read timeout.
fn http_server_with(otel: &'static str, alloy: &'static str, read_timeout: Option<&'static str>) -> Vec<F> {
    http_server(otel, alloy)
        .into_iter()
        .map(|f| match (f.name, read_timeout) {
            ("read_timeout", Some(d)) => f.alloy(d),
            _ => f,
        })
        .collect()
}

fn datadog() -> Vec<F> {
    let mut v = http_server_with("localhost:8126", "localhost:8126", Some("60s"));
    v.extend([
        i("trace_id_cache_size").alloy("0").src("-"),
        dur("idle_series_timeout").src("-"),
        dur("idle_series_cleanup_interval").alloy("5m").src("-"),
        b("decode_json_message").src("logs.decode_json_message").d("true"),
    ]);
    v
}

fn filelog() -> Vec<F> {
    let mut v = vec![
        strs("include").req(),
        strs("exclude"),
        dur("exclude_older_than"),
        // Written only when set: an empty block lacks the required `sort_by` (upstream writes it).
        block(
            "ordering_criteria",
            vec![s("regex"), i("top_n"), blocks("sort_by", vec![s("sort_type"), s("regex_key"), b("ascending"), s("layout"), s("location")]), s("group_by")],
        ),
        dur("poll_interval").d("200ms"),
        i("max_concurrent_files").d("1024"),
        i("max_batches"),
        s("start_at").d("end"),
        attr("fingerprint_size", Ty::Bytes).otel("1000").alloy("1024"),
        attr("max_log_size", Ty::Bytes).d("1048576"),
        s("encoding").d("utf-8"),
        dur("force_flush_period").d("500ms"),
        b("delete_after_read"),
        b("include_file_record_number"),
        s("compression"),
        b("acquire_fs_lock"),
        // Written only when set: an empty block fails the receiver (upstream writes it).
        block("multiline", vec![s("line_start_pattern"), s("line_end_pattern"), b("omit_pattern")]),
    ];
    v.extend(trim());
    v.extend([
        present(
            "header",
            vec![
                s("pattern").req(),
                hook("metadata_operators", |_, _, out| {
                    out.push(crate::builder::Stmt::Attr("metadata_operators".into(), crate::builder::Expr::Array(Vec::new())))
                }),
            ],
        ),
        b("include_file_name").d("true"),
        b("include_file_path"),
        b("include_file_name_resolved"),
        b("include_file_path_resolved"),
        b("include_file_owner_name"),
        b("include_file_owner_group_name"),
        b("include_file_permissions"),
        map("attributes"),
        map("resource"),
        consumer_retry(),
        attr("storage", Ty::Handler),
    ]);
    v
}

fn filelog_check(n: &Node, ctx: &mut Ctx) {
    if value(n, "operators").is_some_and(|o| matches!(&o.kind, crate::yaml::Kind::Seq(items) if !items.is_empty())) {
        let msg = format!("operators cannot currently be translated for {}", ctx.instance);
        ctx.warn(msg);
    }
    if value(n, "header").is_some() {
        let msg = format!("header metadata_operators cannot currently be translated for {}", ctx.instance);
        ctx.warn(msg);
    }
}

fn scraper(interval: &'static str) -> Vec<F> {
    vec![dur("collection_interval").d(interval), dur("initial_delay").d("1s"), dur("timeout")]
}

fn filestats() -> Vec<F> {
    let metric = |name: &'static str, on: &'static str| block(name, vec![b("enabled").d(on)]).zero_inner();
    let filters = || vec![s("strict"), s("regexp")];
    let resource =
        |name: &'static str| block(name, vec![b("enabled").d("true"), blocks("metrics_include", filters()), blocks("metrics_exclude", filters())]).zero_inner();
    let mut v = vec![s("include").req()];
    v.extend(scraper("1m"));
    v.push(block(
        "metrics",
        vec![
            metric("file.atime", "false"),
            metric("file.count", "false"),
            metric("file.ctime", "false"),
            metric("file.mtime", "true"),
            metric("file.size", "true"),
        ],
    ));
    v.push(block("resource_attributes", vec![resource("file.name"), resource("file.path")]));
    v
}

fn googlecloudpubsub() -> Vec<F> {
    vec![
        s("project"),
        s("user_agent").d("opentelemetry-collector-contrib {{version}}"),
        s("endpoint"),
        s("universe_domain"),
        b("insecure"),
        s("subscription").req(),
        s("encoding"),
        s("compression"),
        b("ignore_encoding_error"),
        s("client_id"),
        dur("timeout").d("12s"),
        block(
            "flow_control",
            vec![dur("trigger_ack_batch_duration").d("10s"), dur("stream_ack_deadline").d("60s"), i("max_outstanding_messages"), i("max_outstanding_bytes")],
        ),
    ]
}

fn udp(otel: &'static str, alloy: &'static str) -> Vec<F> {
    vec![
        s("endpoint").otel(otel).alloy(alloy),
        i("queue_size").d("1000"),
        attr("max_packet_size", Ty::Bytes).otel("65000").alloy("66560"),
        i("workers").d("10"),
        attr("socket_buffer_size", Ty::Bytes),
    ]
}

fn jaeger() -> Vec<F> {
    vec![always(
        "protocols",
        vec![
            present("grpc", grpc_server("localhost:14250", "0.0.0.0:14250")),
            present("thrift_http", http_server("localhost:14268", "0.0.0.0:14268")),
            present("thrift_binary", udp("localhost:6832", "0.0.0.0:6832")),
            present("thrift_compact", udp("localhost:6831", "0.0.0.0:6831")),
        ],
    )]
}

/// Kafka `auth` (shared with the kafka exporter).
pub fn kafka_auth() -> F {
    block(
        "authentication",
        vec![
            present("plaintext", vec![s("username").req(), s("password").req()]).src("plain_text"),
            present("sasl", vec![s("username").req(), s("password").req(), s("mechanism").req(), i("version"), block("aws_msk", vec![s("region").req()])]),
            present("tls", tls_client_fields()),
            present(
                "kerberos",
                vec![
                    s("service_name"),
                    s("realm"),
                    b("use_keytab"),
                    s("username").req(),
                    s("password"),
                    s("config_file"),
                    s("keytab_file"),
                    b("disable_fast_negotiation"),
                ],
            ),
        ],
    )
    .src("auth")
}

pub fn kafka_metadata() -> F {
    block(
        "metadata",
        vec![b("full").d("true"), dur("refresh_interval").d("10m"), block("retry", vec![i("max_retries").src("max").d("3"), dur("backoff").d("250ms")])],
    )
}

fn kafka() -> Vec<F> {
    let topics = |t: &'static str| vec![attr("topics", Ty::Strs).d(t), s("encoding").d("otlp_proto"), strs("exclude_topics")];
    vec![
        strs("brokers").d("[localhost:9092]").req(),
        s("protocol_version").req(),
        dur("session_timeout").d("10s"),
        dur("heartbeat_interval").d("3s"),
        s("group_id").d("otel-collector"),
        s("client_id").d("otel-collector"),
        s("initial_offset").d("latest"),
        block("logs", topics("[otlp_logs]")),
        block("metrics", topics("[otlp_metrics]")),
        block("traces", topics("[otlp_spans]")),
        b("resolve_canonical_bootstrap_servers_only"),
        kafka_auth(),
        kafka_metadata(),
        block("autocommit", vec![b("enable").d("true"), dur("interval").d("1s")]),
        block("message_marking", vec![b("after_execution").src("after"), b("include_unsuccessful").src("on_error")]),
        block("header_extraction", vec![b("extract_headers"), strs("headers")]),
        present("tls", tls_client_fields()),
        i("min_fetch_size").d("1"),
        i("max_fetch_size").d("1048576"),
        i("max_partition_fetch_size").d("1048576"),
        dur("max_fetch_wait").d("250ms"),
        hook("group_rebalance_strategy", |n, _, out| {
            let plural = value(n, "group_rebalance_strategies").is_some_and(|v| matches!(&v.kind, crate::yaml::Kind::Seq(items) if !items.is_empty()));
            if plural {
                return;
            }
            let single = value(n, "group_rebalance_strategy").map(text).unwrap_or_default();
            let strategy = if single.is_empty() { "cooperative-sticky".to_string() } else { single };
            out.push(crate::builder::Stmt::Attr("group_rebalance_strategy".into(), crate::builder::Expr::Str(strategy)));
        })
        .src(""),
        strs("group_rebalance_strategies"),
        s("group_instance_id"),
        s("rack_id"),
        b("use_leader_epoch").d("true"),
        dur("conn_idle_timeout").d("9m"),
        block(
            "error_backoff",
            vec![b("enabled"), dur("initial_interval"), fl("randomization_factor"), fl("multiplier"), dur("max_interval"), dur("max_elapsed_time")],
        ),
    ]
}

fn nginx() -> Vec<F> {
    let mut v = vec![s("endpoint").d("http://localhost:80/status").req()];
    v.extend(scraper("10s"));
    v.retain(|f| f.name != "timeout");
    v
}

fn solace() -> Vec<F> {
    vec![
        hook("broker", |n, _, out| {
            let broker = match value(n, "broker").map(|b| &b.kind) {
                Some(crate::yaml::Kind::Seq(items)) => items.first().map(text).unwrap_or_default(),
                Some(_) => value(n, "broker").map(text).unwrap_or_default(),
                None => "localhost:5671".to_string(),
            };
            if broker != "localhost:5671" {
                out.push(crate::builder::Stmt::Attr("broker".into(), crate::builder::Expr::Str(broker)));
            }
        })
        .src(""),
        s("queue").req(),
        i("max_unacknowledged").src("max_unacknowledged").d("1000"),
        block("tls", tls_client_fields()),
        block("flow_control", vec![present("delayed_retry", vec![dur("delay").d("10ms")])]).src("flow_control"),
        always(
            "auth",
            vec![
                present("sasl_plain", vec![s("username").req(), s("password").req()]),
                present("sasl_xauth2", vec![s("username").req(), s("bearer").req()]),
                present("sasl_external", vec![]),
            ],
        ),
    ]
}

fn splunkhec() -> Vec<F> {
    let mut v: Vec<F> = http_server_with("localhost:8088", "localhost:8088", None)
        .into_iter()
        .map(|f| match f.name {
            "write_timeout" | "read_header_timeout" => f.otel("20s"),
            _ => f,
        })
        .collect();
    v.extend([
        s("raw_path").d("/services/collector/raw"),
        s("health_path").d("/services/collector/health"),
        s("splitting").d("line"),
        b("access_token_passthrough").src("-"),
        super::datadog::hec_attributes("hec_metadata_to_otel_attrs"),
    ]);
    v
}

fn zipkin() -> Vec<F> {
    let mut v = vec![b("parse_string_tags")];
    v.extend(http_server("localhost:9411", "0.0.0.0:9411"));
    v
}
