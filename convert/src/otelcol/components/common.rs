//! Blocks many components share: TLS, gRPC and HTTP clients and servers, sending queue, retry.

use crate::builder::{Block, Expr, Stmt};
use crate::otelcol::schema::*;

/// Alloy's `TLSSetting` (squashed into the client and server TLS blocks).
pub fn tls_setting() -> Vec<F> {
    vec![
        s("ca_pem"),
        s("ca_file"),
        s("cert_pem"),
        s("cert_file"),
        s("key_pem"),
        s("key_file"),
        s("min_version"),
        s("max_version"),
        dur("reload_interval"),
        strs("cipher_suites"),
        b("include_insecure_cipher_suites"),
        b("include_system_ca_certs_pool"),
    ]
}

pub fn tls_client_fields() -> Vec<F> {
    let mut v = tls_setting();
    v.extend([b("insecure"), b("insecure_skip_verify"), s("server_name").src("server_name_override")]);
    v
}

pub fn tls_client() -> F {
    block("tls", tls_client_fields())
}

pub fn tls_server() -> F {
    present("tls", {
        let mut v = tls_setting();
        v.push(s("client_ca_file"));
        v
    })
}

/// `auth = <extension>.handler` from `auth.authenticator`.
pub fn auth() -> F {
    attr("auth", Ty::Handler).src("auth.authenticator")
}

/// A gRPC client with Alloy's per-component defaults (compression gzip, 512KiB write buffer,
/// the round-robin balancer).
pub fn grpc_client() -> Vec<F> {
    vec![
        s("endpoint").req(),
        s("compression").d("gzip"),
        tls_client(),
        present(
            "keepalive",
            vec![dur("ping_wait").src("time"), dur("ping_response_timeout").src("timeout"), b("ping_without_stream").src("permit_without_stream")],
        ),
        attr("read_buffer_size", Ty::Bytes),
        attr("write_buffer_size", Ty::Bytes).d("524288"),
        b("wait_for_ready"),
        map("headers"),
        s("balancer_name").d("round_robin"),
        s("authority"),
        auth(),
    ]
}

/// An HTTP client as the otlphttp exporter's collector defaults fill it.
pub fn http_client() -> Vec<F> {
    vec![
        s("endpoint").req(),
        s("proxy_url"),
        s("compression").d("gzip"),
        tls_client(),
        attr("read_buffer_size", Ty::Bytes),
        attr("write_buffer_size", Ty::Bytes).d("524288"),
        dur("timeout").d("30s"),
        map("headers"),
        i("max_idle_conns").d("100"),
        i("max_idle_conns_per_host"),
        i("max_conns_per_host"),
        dur("idle_conn_timeout").d("90s"),
        b("disable_keep_alives"),
        dur("http2_read_idle_timeout"),
        dur("http2_ping_timeout").alloy("15s"),
        b("force_attempt_http2").d("true"),
        auth(),
    ]
}

/// The queue's fields against Alloy's defaults.
pub fn queue_fields() -> Vec<F> {
    vec![
        b("enabled").d("true"),
        i("num_consumers").d("10"),
        i("queue_size").d("1000"),
        b("block_on_overflow"),
        s("sizer").d("requests"),
        attr("storage", Ty::Handler),
    ]
}

/// The exporter helper's sending queue, always present with the collector defaults.
pub fn queue() -> F {
    hook("sending_queue", |n, ctx, out| {
        let body = if value(n, "enabled").is_some_and(|v| text(v) == "false") {
            // A disabled queue converts to the zero struct, all of it unlike Alloy's defaults.
            vec![
                Stmt::Attr("enabled".into(), Expr::Bool(false)),
                Stmt::Attr("num_consumers".into(), Expr::Int(0)),
                Stmt::Attr("queue_size".into(), Expr::Int(0)),
                Stmt::Attr("sizer".into(), Expr::str("")),
            ]
        } else {
            render(&queue_fields(), n, ctx)
        };
        if !body.is_empty() {
            push_block(out, "sending_queue", body);
        }
    })
}

/// `compression_params { level = N }`, only for a non-zero level.
pub fn compression_params() -> F {
    hook("compression_params", |n, _, out| {
        if let Some(level) = value(n, "level").map(text).and_then(|l| l.parse::<i64>().ok()).filter(|l| *l != 0) {
            let mut b = Block::new("compression_params", None);
            b.attr("level", Expr::Int(level));
            out.push(Stmt::Block(b));
        }
    })
}

pub fn retry_fields() -> Vec<F> {
    vec![
        b("enabled").d("true"),
        dur("initial_interval").d("5s"),
        fl("randomization_factor").d("0.5"),
        fl("multiplier").d("1.5"),
        dur("max_interval").d("30s"),
        dur("max_elapsed_time").d("5m"),
    ]
}

pub fn retry() -> F {
    block("retry_on_failure", retry_fields())
}

/// A gRPC server; `endpoint` is the collector's default address.
pub fn grpc_server(otel_endpoint: &'static str, alloy_endpoint: &'static str) -> Vec<F> {
    vec![
        s("endpoint").otel(otel_endpoint).alloy(alloy_endpoint),
        s("transport").d("tcp"),
        tls_server(),
        attr("max_recv_msg_size", Ty::MiB).src("max_recv_msg_size_mib"),
        i("max_concurrent_streams"),
        attr("read_buffer_size", Ty::Bytes).d("524288"),
        attr("write_buffer_size", Ty::Bytes),
        present(
            "keepalive",
            vec![
                present(
                    "server_parameters",
                    vec![dur("max_connection_idle"), dur("max_connection_age"), dur("max_connection_age_grace"), dur("time"), dur("timeout")],
                ),
                present("enforcement_policy", vec![dur("min_time"), b("permit_without_stream")]),
            ],
        ),
        auth(),
        b("include_metadata"),
    ]
}

/// An HTTP server with the collector's defaults (no timeouts) against Alloy's.
pub fn http_server(otel_endpoint: &'static str, alloy_endpoint: &'static str) -> Vec<F> {
    vec![
        s("endpoint").otel(otel_endpoint).alloy(alloy_endpoint),
        tls_server(),
        present("cors", vec![strs("allowed_origins"), strs("allowed_headers"), strs("exposed_headers"), i("max_age")]),
        auth(),
        attr("max_request_body_size", Ty::Bytes),
        b("include_metadata"),
        attr("compression_algorithms", Ty::Strs).d("['', gzip, zstd, zlib, snappy, deflate, lz4]").nonempty(),
        dur("idle_timeout").alloy("1m"),
        dur("read_timeout"),
        dur("write_timeout").alloy("30s"),
        dur("read_header_timeout").alloy("1m"),
    ]
}
