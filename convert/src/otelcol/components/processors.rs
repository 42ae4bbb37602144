//! Processors (15 of them).

use super::{CKind, Conv};
use crate::builder::{Block, Expr, Stmt};
use crate::otelcol::schema::*;
use crate::yaml::{Kind, Node};

fn p(types: &'static [&'static str], alloy: &'static str, fields: fn() -> Vec<F>) -> Conv {
    Conv::new(CKind::Processor, types, alloy, fields)
}

pub fn list() -> Vec<Conv> {
    vec![
        p(&["attributes"], "otelcol.processor.attributes", attributes),
        p(&["batch"], "otelcol.processor.batch", batch),
        p(&["cumulativetodelta", "cumulative_to_delta"], "otelcol.processor.cumulativetodelta", cumulativetodelta),
        p(&["deltatocumulative", "delta_to_cumulative"], "otelcol.processor.deltatocumulative", || {
            vec![dur("max_stale").d("5m"), i("max_streams").otel("9223372036854775807").alloy("9223372036854775807")]
        }),
        p(&["filter"], "otelcol.processor.filter", filter),
        p(&["groupbyattrs"], "otelcol.processor.groupbyattrs", || vec![strs("keys")]),
        p(&["interval"], "otelcol.processor.interval", || {
            vec![dur("interval").d("60s"), block("passthrough", vec![b("gauge"), b("summary")]).src("pass_through")]
        }),
        p(&["k8sattributes", "k8s_attributes"], "otelcol.processor.k8sattributes", k8sattributes),
        p(&["memory_limiter"], "otelcol.processor.memory_limiter", || {
            vec![
                dur("check_interval").req(),
                attr("limit", Ty::MiB).src("limit_mib"),
                attr("spike_limit", Ty::MiB).src("spike_limit_mib"),
                i("limit_percentage"),
                i("spike_limit_percentage"),
            ]
        }),
        p(&["metricstarttime", "metric_start_time"], "otelcol.processor.metric_start_time", || {
            vec![s("strategy").d("true_reset_point"), dur("gc_interval").d("10m"), s("start_time_metric_regex")]
        }),
        p(&["probabilistic_sampler"], "otelcol.processor.probabilistic_sampler", probabilistic_sampler).signals([None, Some(1), Some(2)]),
        p(&["redaction"], "otelcol.processor.redaction", redaction),
        p(&["span"], "otelcol.processor.span", span).signals([None, None, Some(2)]),
        p(&["tail_sampling"], "otelcol.processor.tail_sampling", tail_sampling).signals([None, None, Some(2)]),
        p(&["transform"], "otelcol.processor.transform", transform),
    ]
}

/// Severity numbers by their OTel names (`2` → `TRACE2`).
fn severity_name(n: i64) -> String {
    const BASE: [&str; 6] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
    if !(1..=24).contains(&n) {
        return "UNDEFINED".to_string();
    }
    let base = BASE[((n - 1) / 4) as usize];
    match (n - 1) % 4 {
        0 => base.to_string(),
        k => format!("{base}{}", k + 1),
    }
}

/// The span and attributes processors' include/exclude match properties.
fn match_properties() -> Vec<F> {
    let attribute = || vec![s("key").req(), attr("value", Ty::Any)];
    vec![
        s("match_type").req(),
        present("regexp", vec![b("cache_enabled"), i("cache_max_num_entries")]),
        strs("services"),
        strs("span_names"),
        strs("log_bodies"),
        strs("log_severity_texts"),
        hook("log_severity", |n, _, out| {
            if n.is_null() {
                return;
            }
            let mut b = Block::new("log_severity", None);
            b.attr("min", Expr::Str(severity_name(text(value(n, "min").unwrap_or(n)).parse().unwrap_or(0))));
            b.attr("match_undefined", Expr::Bool(value(n, "match_undefined").is_some_and(|v| text(v) == "true")));
            out.push(Stmt::Block(b));
        })
        .src("log_severity_number"),
        strs("metric_names"),
        blocks("attribute", attribute()).src("attributes"),
        blocks("resource", attribute()).src("resources"),
        blocks("library", vec![s("name").req(), s("version")]).src("libraries"),
        strs("span_kinds"),
    ]
}

fn match_config() -> Vec<F> {
    vec![present("include", match_properties()), present("exclude", match_properties())]
}

fn attributes() -> Vec<F> {
    let mut v = match_config();
    v.push(
        blocks("action", vec![s("key"), attr("value", Ty::Any), s("pattern"), s("from_attribute"), s("from_context"), s("converted_type"), s("action").req()])
            .src("actions"),
    );
    v
}

fn batch() -> Vec<F> {
    vec![
        dur("timeout").d("200ms"),
        i("send_batch_size").otel("8192").alloy("2000"),
        i("send_batch_max_size").alloy("3000"),
        strs("metadata_keys"),
        i("metadata_cardinality_limit").d("1000"),
    ]
}

fn cumulativetodelta() -> Vec<F> {
    let m = || vec![strs("metrics"), s("match_type"), strs("metric_types")];
    vec![dur("max_staleness"), s("initial_value").d("auto"), block("include", m()), block("exclude", m())]
}

fn filter() -> Vec<F> {
    let conditions = || vec![s("context").req(), strs("conditions"), s("error_mode")];
    vec![
        s("error_mode").d("ignore"),
        block("traces", vec![strs("span"), strs("spanevent")]),
        block("metrics", vec![strs("metric"), strs("datapoint")]),
        block("logs", vec![strs("log_record")]),
        blocks("trace_conditions", conditions()),
        blocks("metric_conditions", conditions()),
        blocks("log_conditions", conditions()),
    ]
}

fn k8sattributes() -> Vec<F> {
    let field = || vec![s("tag_name"), s("key"), s("key_regex"), s("from")];
    let filter_field = || vec![s("key").req(), s("value").req(), s("op")];
    vec![
        s("auth_type").otel("serviceAccount"),
        b("passthrough"),
        block(
            "extract",
            vec![
                strs("metadata").otel(
                    "[container.image.name, container.image.tag, k8s.deployment.name, k8s.namespace.name, k8s.node.name, k8s.pod.name, k8s.pod.start_time, k8s.pod.uid]",
                ),
                blocks("annotation", field()).src("annotations"),
                blocks("label", field()).src("labels"),
                b("otel_annotations"),
                b("deployment_name_from_replicaset").d("true"),
            ],
        ),
        block(
            "filter",
            vec![s("node"), s("namespace"), blocks("field", filter_field()).src("fields"), blocks("label", filter_field()).src("labels")],
        ),
        blocks("pod_association", vec![blocks("source", vec![s("from").req(), s("name")]).src("sources")]).src("pod_association"),
        hook("exclude", |n, ctx, out| {
            // The collector's default excludes equal Alloy's; only a YAML list can differ.
            if let Some(pods) = value(n, "pods") {
                let body = render(&[blocks("pod", vec![s("name").req()]).src("")], pods, ctx);
                push_block(out, "exclude", body);
            }
        }),
        b("wait_for_metadata"),
        dur("wait_for_metadata_timeout").d("10s"),
        dur("watch_sync_period").d("5m"),
        dur("pod_delete_grace_period").d("2m"),
    ]
}

fn probabilistic_sampler() -> Vec<F> {
    vec![
        fl("sampling_percentage"),
        i("hash_seed"),
        s("mode"),
        b("fail_closed").d("true"),
        i("sampling_precision").d("4"),
        s("attribute_source").d("traceID"),
        s("from_attribute"),
        s("sampling_priority"),
    ]
}

fn redaction() -> Vec<F> {
    let db = |name: &'static str| block(name, vec![b("enabled"), strs("attributes")]);
    vec![
        b("allow_all_keys"),
        strs("allowed_keys"),
        strs("ignored_keys"),
        strs("blocked_key_patterns"),
        strs("ignored_key_patterns"),
        strs("allowed_values"),
        strs("blocked_values"),
        s("hash_function"),
        s("hmac_key"),
        b("redact_all_types"),
        s("summary"),
        present("url_sanitizer", vec![b("enabled"), strs("attributes"), attr("sanitize_span_name", Ty::Bool)]),
        present(
            "db_sanitizer",
            vec![attr("sanitize_span_name", Ty::Bool), db("sql"), db("redis"), db("valkey"), db("memcached"), db("mongo"), db("opensearch"), db("es")],
        ),
    ]
}

fn span() -> Vec<F> {
    let mut v = match_config();
    v.push(block(
        "name",
        vec![strs("from_attributes"), s("separator"), present("to_attributes", vec![strs("rules").req(), b("break_after_match"), b("keep_original_name")])],
    ));
    v.push(present("status", vec![s("code").req(), s("description")]));
    v
}

/// A YAML mapping mirrored into Alloy: nested mappings become blocks, sequences of mappings
/// repeated blocks, everything else attributes (YAML order).
fn mirror(n: &Node, out: &mut Vec<Stmt>) {
    let Kind::Map(entries) = &n.kind else { return };
    for (k, v) in entries {
        let key = text(k);
        match &v.kind {
            Kind::Map(_) => {
                let mut body = Vec::new();
                mirror(v, &mut body);
                push_block(out, &key, body);
            }
            Kind::Seq(items) if items.first().is_some_and(|i| matches!(i.kind, Kind::Map(_))) => {
                for item in items {
                    let mut body = Vec::new();
                    mirror(item, &mut body);
                    push_block(out, &key, body);
                }
            }
            _ if v.is_null() => {}
            _ => out.push(Stmt::Attr(key, any(v).expr())),
        }
    }
}

fn tail_sampling() -> Vec<F> {
    vec![
        hook("policy", |n, _, out| {
            if let Kind::Seq(items) = &n.kind {
                for item in items {
                    let mut body = Vec::new();
                    mirror(item, &mut body);
                    push_block(out, "policy", body);
                }
            }
        })
        .src("policies"),
        dur("decision_wait").d("30s"),
        dur("decision_wait_after_root_received"),
        i("num_traces").d("50000"),
        b("block_on_overflow"),
        i("expected_new_traces_per_sec"),
        b("sample_on_first_match"),
        b("drop_pending_traces_on_shutdown"),
        i("maximum_trace_size_bytes"),
        block("decision_cache", vec![i("sampled_cache_size"), i("non_sampled_cache_size")]),
    ]
}

fn transform() -> Vec<F> {
    let ctx = || vec![s("context").req(), strs("conditions"), strs("statements").req(), s("error_mode")];
    vec![s("error_mode").d("ignore"), blocks("trace_statements", ctx()), blocks("metric_statements", ctx()), blocks("log_statements", ctx())]
}
