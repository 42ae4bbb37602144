//! Vendor exporters: Datadog, Google Cloud, Google Cloud Pub/Sub and Splunk HEC.

use super::common::*;
use crate::otelcol::schema::*;

pub fn exporter() -> Vec<F> {
    vec![
        block("client", vec![dur("timeout").otel("15s").alloy("15s"), i("read_buffer_size"), i("write_buffer_size"), b("insecure_skip_verify").src("tls.insecure_skip_verify")])
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
                block(
                    "exporter",
                    vec![b("resource_attributes_as_tags"), b("instrumentation_scope_metadata_as_tags").d("true")],
                )
                .src(""),
                block("histograms", vec![s("mode").d("distributions"), b("send_aggregation_metrics")]),
                block("sums", vec![s("cumulative_monotonic_mode").d("to_delta"), s("initial_cumulative_monotonic_value").d("auto")]),
                block("summaries", vec![s("mode").d("gauges")]),
            ],
        ),
        block(
            "logs",
            vec![s("endpoint").otel("https://http-intake.logs.datadoghq.com"), b("use_compression").d("true"), i("compression_level").d("6"), i("batch_wait").d("5")],
        ),
    ]
}

pub fn googlecloud() -> Vec<F> {
    vec![s("project"), s("destination_project_quota"), s("user_agent").d("opentelemetry-collector-contrib {{version}}"), dur("timeout").d("12s"), queue()]
}

pub fn googlecloudpubsub() -> Vec<F> {
    vec![
        s("project"),
        s("user_agent").d("opentelemetry-collector-contrib {{version}}"),
        s("endpoint"),
        b("insecure"),
        s("topic").req(),
        s("compression"),
        s("watermark_behavior").src("watermark.behavior").d("current"),
        dur("watermark_allowed_drift").src("watermark.allowed_drift"),
        dur("timeout").d("12s"),
        queue(),
        retry(),
    ]
}

pub fn splunkhec() -> Vec<F> {
    vec![
        block("client", http_client()).src(""),
        queue(),
        retry(),
        block(
            "splunk",
            vec![
                s("token").req(),
                s("source"),
                s("source_type").src("sourcetype"),
                s("index"),
                b("log_data_enabled").d("true"),
                b("profiling_data_enabled").d("true"),
                b("disable_compression"),
                i("max_content_length_logs").d("2097152"),
                i("max_content_length_metrics").d("2097152"),
                i("max_content_length_traces").d("2097152"),
                i("max_event_size").d("5242880"),
                s("splunk_app_name").d("OpenTelemetry Collector Contrib"),
                s("splunk_app_version"),
                b("export_raw"),
                b("use_multi_metrics_format"),
            ],
        )
        .src(""),
    ]
}
