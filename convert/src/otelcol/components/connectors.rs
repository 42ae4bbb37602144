//! Connectors (4 of them).

use super::{CKind, Conv};
use crate::builder::{Block, Expr, Stmt};
use crate::otelcol::schema::*;
use crate::otelcol::Ctx;
use crate::yaml::{Kind, Node};

fn c(types: &'static [&'static str], alloy: &'static str, fields: fn() -> Vec<F>) -> Conv {
    Conv::new(CKind::Connector, types, alloy, fields)
}

pub fn list() -> Vec<Conv> {
    vec![
        c(&["count"], "otelcol.connector.count", count).signals([Some(0), None, None]),
        c(&["servicegraph", "service_graph"], "otelcol.connector.servicegraph", servicegraph).signals([Some(0), None, None]),
        c(&["signaltometrics", "signal_to_metrics"], "otelcol.connector.signaltometrics", signaltometrics).signals([Some(0), None, None]),
        c(&["spanmetrics", "span_metrics"], "otelcol.connector.spanmetrics", spanmetrics).signals([Some(0), None, None]),
    ]
}

/// One `count` metric kind: the YAML's metrics (or the collector's default one), by name.
fn count_kind(n: &Node, ctx: &mut Ctx, out: &mut Vec<Stmt>, kind: &str, default_name: &str, default_desc: &str) {
    let fields = [s("description"), strs("conditions"), blocks("attributes", vec![s("key").req(), s("default_value")])];
    match &n.kind {
        Kind::Map(entries) if !entries.is_empty() => {
            let mut entries: Vec<&(Node, Node)> = entries.iter().collect();
            entries.sort_by_key(|(k, _)| text(k));
            for (k, v) in entries {
                let mut body = vec![Stmt::Attr("name".into(), Expr::Str(text(k)))];
                body.extend(render(&fields, v, ctx));
                push_block(out, kind, body);
            }
        }
        _ => {
            let mut b = Block::new(kind, None);
            b.attr("name", Expr::str(default_name)).attr("description", Expr::str(default_desc));
            out.push(Stmt::Block(b));
        }
    }
}

fn count() -> Vec<F> {
    vec![
        hook("spans", |n, c, o| count_kind(n, c, o, "spans", "trace.span.count", "The number of spans observed.")),
        hook("spanevents", |n, c, o| count_kind(n, c, o, "spanevents", "trace.span.event.count", "The number of span events observed.")),
        hook("metrics", |n, c, o| count_kind(n, c, o, "metrics", "metric.count", "The number of metrics observed.")),
        hook("datapoints", |n, c, o| count_kind(n, c, o, "datapoints", "metric.datapoint.count", "The number of data points observed.")),
        hook("logs", |n, c, o| count_kind(n, c, o, "logs", "log.record.count", "The number of log records observed.")),
    ]
}

fn servicegraph() -> Vec<F> {
    vec![
        strs("latency_histogram_buckets"),
        strs("dimensions"),
        block("store", vec![i("max_items").d("1000"), dur("ttl").d("2s")]),
        dur("cache_loop").d("1m"),
        dur("store_expiration_loop").d("2s"),
        strs("virtual_node_peer_attributes").d("[peer.service, db.name, db.system]"),
        dur("metrics_flush_interval").otel("60s").alloy("60s"),
        strs("database_name_attributes").d("[db.name]"),
    ]
}

fn signaltometrics() -> Vec<F> {
    let metric = || {
        vec![
            s("name").req(),
            s("description"),
            s("unit"),
            blocks("include_resource_attributes", vec![s("key").req(), attr("optional", Ty::Bool), attr("default_value", Ty::Any)]),
            blocks("attributes", vec![s("key").req(), attr("optional", Ty::Bool), attr("default_value", Ty::Any)]).src("attributes"),
            strs("conditions"),
            present("sum", vec![s("value").req(), b("is_monotonic")]),
            present("gauge", vec![s("value").req()]),
            present("histogram", vec![attr("buckets", Ty::Floats), s("count"), s("value").req()]),
            present("exponential_histogram", vec![i("max_size").d("160"), s("count"), s("value").req()]),
        ]
    };
    vec![blocks("spans", metric()), blocks("datapoints", metric()), blocks("logs", metric()), blocks("profiles", metric()), s("error_mode").d("propagate")]
}

/// The spanmetrics `dimension` blocks from `dimensions`.
fn dimension() -> F {
    blocks("dimension", vec![s("name"), s("default"), s("glob")]).src("dimensions")
}

fn spanmetrics() -> Vec<F> {
    vec![
        dimension(),
        b("exclude_dimensions").src("-"),
        b("include_instrumentation_scope").src("-"),
        dur("aggregation_cardinality_limit").src("-"),
        s("aggregation_temporality").d("AGGREGATION_TEMPORALITY_CUMULATIVE").src("aggregation_temporality"),
        hook("histogram", |n, ctx, out| {
            let mut body = render(&[b("disable"), s("unit").d("ms")], n, ctx);
            if let Some(exp) = at(n, "exponential") {
                push_block(&mut body, "exponential", render(&[i("max_size").d("160")], exp, ctx));
            } else {
                let explicit = at(n, "explicit").cloned().unwrap_or_else(|| Node::null(0, 0));
                push_block(&mut body, "explicit", render(&[strs("buckets")], &explicit, ctx));
            }
            push_block(out, "histogram", body);
        }),
        dur("metrics_flush_interval").d("60s"),
        s("namespace").d("traces.span.metrics"),
        block("exemplars", vec![b("enabled"), i("max_per_data_point")]),
        // Upstream fills the events dimensions from the top-level dimensions.
        hook("events", |n, ctx, out| {
            let enabled = value(n, "events.enabled").is_some_and(|v| text(v) == "true");
            let mut body = Vec::new();
            if enabled {
                body.push(Stmt::Attr("enabled".into(), Expr::Bool(true)));
            }
            body.extend(render(&[dimension()], n, ctx));
            if !body.is_empty() {
                push_block(out, "events", body);
            }
        })
        .src(""),
        strs("resource_metrics_key_attributes"),
        i("resource_metrics_cache_size").src("-"),
    ]
}
