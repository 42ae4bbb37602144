//! Vendor exporters: Datadog, Google Cloud, Google Cloud Pub/Sub and Splunk HEC.

use super::common::*;
use crate::otelcol::schema::*;

pub fn exporter() -> Vec<F> {
    vec![
        block(
            "client",
            vec![
                dur("timeout").otel("15s").alloy("15s"),
                i("read_buffer_size"),
                i("write_buffer_size"),
                b("insecure_skip_verify").src("tls.insecure_skip_verify"),
            ],
        )
        .src(""),
        queue(),
        retry(),
        block("api", vec![s("api_key").src("key"), s("site").d("datadoghq.com"), b("fail_on_invalid_key")]),
        block(
            "traces",
            vec![
                s("endpoint").otel("https://trace.agent.datadoghq.com"),
                strs("ignore_resources"),
                map("span_name_remappings"),
                strs("span_name_as_resource_name").src("-"),
                b("compute_stats_by_span_kind").otel("true"),
                b("peer_tags_aggregation").otel("true"),
            ],
        ),
        block(
            "metrics",
            vec![
                i("delta_ttl").d("3600"),
                s("endpoint").otel("https://api.datadoghq.com"),
                block("exporter", vec![b("resource_attributes_as_tags"), b("instrumentation_scope_metadata_as_tags").d("true")]).src(""),
                block("histograms", vec![s("mode").d("distributions"), b("send_aggregation_metrics")]),
                block("sums", vec![s("cumulative_monotonic_mode").d("to_delta"), s("initial_cumulative_monotonic_value").d("auto")]),
                block("summaries", vec![s("mode").d("gauges")]),
            ],
        ),
        block(
            "logs",
            vec![
                s("endpoint").otel("https://http-intake.logs.datadoghq.com"),
                b("use_compression").d("true"),
                i("compression_level").d("6"),
                i("batch_wait").d("5"),
            ],
        ),
    ]
}

pub fn googlecloud() -> Vec<F> {
    let filters = || attr("resource_filters", Ty::Any);
    vec![
        queue(),
        s("project"),
        b("destination_project_quota"),
        s("user_agent").d("opentelemetry-collector-contrib {{version}}"),
        block("impersonate", vec![s("target_principal"), s("subject"), strs("delegates")]),
        block(
            "metric",
            vec![
                s("prefix").d("workload.googleapis.com"),
                s("endpoint").d("monitoring.googleapis.com:443"),
                s("compression"),
                i("grpc_pool_size"),
                b("use_insecure"),
                strs("known_domains").d("[googleapis.com, kubernetes.io, istio.io, knative.dev]"),
                b("skip_create_descriptor"),
                b("instrumentation_library_labels").d("true"),
                b("create_service_timeseries"),
                i("create_metric_descriptor_buffer_size").d("10"),
                b("service_resource_labels").d("true"),
                filters(),
                b("cumulative_normalization").d("true"),
                b("sum_of_squared_deviation"),
                present("experimental_wal", vec![s("directory"), dur("max_backoff")]).src("experimental_wal_config"),
            ],
        ),
        block("trace", vec![s("endpoint").d("cloudtrace.googleapis.com:443"), i("grpc_pool_size"), b("use_insecure"), attr("attribute_mappings", Ty::Any)]),
        block(
            "log",
            vec![
                s("endpoint").d("logging.googleapis.com:443"),
                s("compression"),
                i("grpc_pool_size"),
                b("use_insecure"),
                s("default_log_name"),
                filters(),
                b("service_resource_labels").d("true"),
                b("error_reporting_type"),
            ],
        ),
    ]
}

pub fn googlecloudpubsub() -> Vec<F> {
    let retry: Vec<F> = retry_fields().into_iter().map(|f| if f.name == "randomization_factor" { f.otel("0") } else { f }).collect();
    vec![
        queue(),
        block("retry_on_failure", retry),
        s("project"),
        s("user_agent").d("opentelemetry-collector-contrib {{version}}"),
        s("topic").req(),
        s("compression"),
        block("watermark", vec![s("behavior"), dur("allowed_drift")]),
        s("endpoint"),
        s("universe_domain"),
        b("insecure"),
        block("ordering", vec![b("enabled"), s("from_resource_attribute"), b("remove_resource_attribute")]),
        dur("timeout").d("12s"),
    ]
}

pub fn splunkhec() -> Vec<F> {
    vec![
        always(
            "client",
            vec![
                s("endpoint").req(),
                i("read_buffer_size"),
                i("write_buffer_size"),
                dur("timeout").d("15s"),
                i("max_idle_conns").d("100"),
                i("max_idle_conns_per_host").otel("100"),
                i("max_conns_per_host"),
                dur("idle_conn_timeout").otel("10s").alloy("90s"),
                b("disable_keep_alives"),
                b("insecure_skip_verify").src("tls.insecure"),
                b("force_attempt_http2").d("true"),
                // Upstream maps only `tls.insecure`; the rest of `tls` is lost.
                dropped("tls"),
            ],
        )
        .src(""),
        queue(),
        retry(),
        always(
            "splunk",
            vec![
                b("log_data_enabled").d("true"),
                b("profiling_data_enabled").d("true"),
                // A `configopaque` token prints as `[REDACTED]` in upstream's converter.
                hook("token", |n, _, out| {
                    let token = if value(n, "token").is_some() { "[REDACTED]" } else { "" };
                    out.push(crate::builder::Stmt::Attr("token".into(), crate::builder::Expr::str(token)));
                })
                .src(""),
                s("source"),
                s("sourcetype"),
                s("index"),
                b("disable_compression"),
                i("max_content_length_logs").d("2097152"),
                i("max_content_length_metrics").d("2097152"),
                i("max_content_length_traces").d("2097152"),
                i("max_event_size").d("5242880"),
                s("splunk_app_name").otel("OpenTelemetry Collector Contrib").alloy("Alloy"),
                s("splunk_app_version"),
                block("otel_to_hec_fields", vec![s("severity_text").otel("otel.log.severity.text"), s("severity_number").otel("otel.log.severity.number")])
                    .src("otel_to_hec_fields"),
                s("health_path").d("/services/collector/health"),
                b("health_check_enabled"),
                b("export_raw"),
                b("use_multi_metric_format"),
                block("heartbeat", vec![dur("interval"), b("startup")]),
                block("telemetry", vec![b("enabled"), map("override_metrics_names"), map("extra_attributes")]),
            ],
        )
        .src(""),
        hec_attributes("otel_attrs_to_hec_metadata"),
    ]
}

/// Splunk HEC metadata ↔ OTel attribute names (the receiver's and the exporter's block).
pub fn hec_attributes(name: &'static str) -> F {
    block(
        name,
        vec![s("source").d("com.splunk.source"), s("sourcetype").d("com.splunk.sourcetype"), s("index").d("com.splunk.index"), s("host").d("host.name")],
    )
}
