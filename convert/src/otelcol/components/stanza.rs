//! Receivers built on the collector's stanza inputs (syslog, tcplog) and the vCenter scraper.

use super::common::*;
use crate::builder::{Block, Expr, Stmt};
use crate::otelcol::schema::*;

/// The `multiline` split settings, always rendered.
pub fn multiline() -> F {
    always("multiline", vec![s("line_start_pattern"), s("line_end_pattern"), b("omit_pattern")])
}

/// The whitespace trim settings (squashed into their parent).
pub fn trim() -> Vec<F> {
    vec![b("preserve_leading_whitespaces"), b("preserve_trailing_whitespaces")]
}

/// The consumer's `retry_on_failure`, with stanza's defaults.
pub fn consumer_retry() -> F {
    block("retry_on_failure", vec![b("enabled"), dur("initial_interval").d("1s"), dur("max_interval").d("30s"), dur("max_elapsed_time").d("5m")])
}

pub fn syslog() -> Vec<F> {
    let mut tcp = vec![
        attr("max_log_size", Ty::Bytes).otel("1048576"),
        s("listen_address"),
        tls_server(),
        b("add_attributes"),
        b("one_log_per_packet"),
        s("encoding"),
        multiline(),
    ];
    tcp.extend(trim());
    let mut udp = vec![s("listen_address"), b("one_log_per_packet"), b("add_attributes"), s("encoding"), multiline()];
    udp.extend(trim());
    udp.push(present("async", vec![i("readers"), i("processors"), i("max_queue_length")]));
    vec![
        s("protocol").d("rfc5424"),
        s("location").d("UTC"),
        b("enable_octet_counting"),
        i("max_octets"),
        b("allow_skip_pri_header"),
        s("non_transparent_framing_trailer"),
        consumer_retry(),
        present("tcp", tcp),
        present("udp", udp),
        s("on_error").d("send"),
    ]
}

pub fn tcplog() -> Vec<F> {
    vec![
        s("listen_address").req(),
        attr("max_log_size", Ty::Bytes).d("1048576"),
        tls_server(),
        b("add_attributes"),
        b("one_log_per_packet"),
        s("encoding"),
        multiline(),
        consumer_retry(),
    ]
}

/// `metrics { <name> { enabled = … } }` for the metrics the YAML configures, sorted by name.
fn named_toggles(n: &crate::yaml::Node, _: &mut crate::otelcol::Ctx, out: &mut Vec<Stmt>) {
    let crate::yaml::Kind::Map(entries) = &n.kind else { return };
    let mut entries: Vec<_> = entries.iter().collect();
    entries.sort_by_key(|(k, _)| text(k));
    for (k, v) in entries {
        if let Some(enabled) = value(v, "enabled") {
            let mut b = Block::new(text(k), None);
            b.attr("enabled", Expr::Bool(text(enabled) == "true"));
            out.push(Stmt::Block(b));
        }
    }
}

pub fn vcenter() -> Vec<F> {
    vec![
        s("endpoint").req(),
        s("username"),
        s("password"),
        dur("collection_interval").d("1m"),
        dur("initial_delay").d("1s"),
        dur("timeout"),
        block("metrics", vec![hook("", named_toggles).src("metrics")]).src(""),
        block("resource_attributes", vec![hook("", named_toggles).src("resource_attributes")]).src(""),
        i("max_query_metrics").alloy("256").src("-"),
        tls_client(),
    ]
}
