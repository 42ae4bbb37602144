//! Extensions (7 of them): emitted only when listed in `service.extensions`.

use super::common::*;
use super::{CKind, Conv};
use crate::builder::{Block, Expr, Stmt};
use crate::otelcol::schema::*;
use crate::yaml::Node;

fn x(types: &'static [&'static str], alloy: &'static str, fields: fn() -> Vec<F>) -> Conv {
    Conv::new(CKind::Extension, types, alloy, fields)
}

pub fn list() -> Vec<Conv> {
    vec![
        x(&["basicauth"], "otelcol.auth.basic", || vec![s("username").src("client_auth.username"), s("password").src("client_auth.password")]),
        x(&["bearertokenauth"], "otelcol.auth.bearer", bearer).before(bearer_file),
        x(&["file_storage"], "otelcol.storage.file", file_storage),
        x(&["headers_setter"], "otelcol.auth.headers", || {
            vec![blocks("header", vec![s("key").req(), s("value"), s("from_context"), s("from_attribute"), s("action").d("upsert")]).src("headers")]
        }),
        x(&["jaegerremotesampling"], "otelcol.extension.jaeger_remote_sampling", jaeger_remote_sampling),
        x(&["oauth2client"], "otelcol.auth.oauth2", oauth2),
        x(&["sigv4auth"], "otelcol.auth.sigv4", || vec![s("region"), s("service"), block("assume_role", vec![s("arn"), s("session_name"), s("sts_region")])]),
    ]
}

fn has_file(n: &Node) -> bool {
    value(n, "filename").is_some_and(|f| !text(f).is_empty())
}

/// A token file becomes a `local.file` with the extension's label, emitted first.
fn bearer_file(n: &Node, label: &str) -> Vec<Block> {
    if !has_file(n) {
        return Vec::new();
    }
    let mut b = Block::new("local.file", Some(label));
    b.attr("filename", Expr::Str(value(n, "filename").map(text).unwrap_or_default()));
    b.attr("is_secret", Expr::Bool(true));
    vec![b]
}

fn bearer() -> Vec<F> {
    vec![
        s("scheme").d("Bearer"),
        hook("token", |n, ctx, out| {
            // With a file, the inline token is ignored (as upstream does).
            let inline = value(n, "token").map(text).unwrap_or_default();
            let token = if has_file(n) {
                let label = ctx.instance.rsplit_once('/').filter(|_| ctx.instance.matches('/').count() > 1).map(|(_, l)| l).unwrap_or("");
                let label = crate::otelcol::pipeline_label("", label);
                Expr::Raw(format!("local.file.{label}.content"))
            } else {
                Expr::Str(inline)
            };
            out.push(Stmt::Attr("token".into(), token));
        })
        .src(""),
        strs("header"),
    ]
}

fn file_storage() -> Vec<F> {
    vec![
        s("directory").req(),
        dur("timeout").d("1s"),
        always(
            "compaction",
            vec![
                s("directory"),
                b("on_start"),
                b("on_rebound"),
                i("rebound_needed_threshold_mib").otel("100"),
                i("rebound_trigger_threshold_mib").otel("10"),
                i("max_transaction_size").otel("65536"),
                dur("check_interval").otel("5s"),
                b("cleanup_on_start"),
            ],
        ),
        b("fsync"),
        b("create_directory").alloy("true"),
        s("directory_permissions").d("0750"),
        i("recreate"),
    ]
}

fn jaeger_remote_sampling() -> Vec<F> {
    let mut grpc = grpc_server("localhost:14250", "0.0.0.0:14250");
    grpc.retain(|f| f.name != "auth");
    let mut http = http_server("localhost:5778", "0.0.0.0:5778");
    http.retain(|f| f.name != "auth");
    vec![
        present("grpc", grpc),
        present("http", http),
        always("source", vec![present("remote", grpc_client()), s("file"), dur("reload_interval"), s("content").src("-")]),
    ]
}

fn oauth2() -> Vec<F> {
    vec![
        s("client_id"),
        s("client_id_file"),
        s("client_secret"),
        s("client_secret_file"),
        s("token_url"),
        // `url.Values`: every parameter holds a list.
        hook("endpoint_params", |n, _, out| {
            if let crate::yaml::Kind::Map(entries) = &n.kind {
                let mut fields: Vec<(String, Expr)> = entries
                    .iter()
                    .map(|(k, v)| {
                        let list = match any(v) {
                            Val::List(items) => items,
                            other => vec![other],
                        };
                        (text(k), Expr::Array(list.iter().map(Val::expr).collect()))
                    })
                    .collect();
                fields.sort_by(|a, b| a.0.cmp(&b.0));
                out.push(Stmt::Attr("endpoint_params".into(), Expr::Object(fields)));
            }
        }),
        strs("scopes"),
        tls_client(),
        dur("timeout"),
        dur("expiry_buffer").d("5m"),
        s("grant_type").d("client_credentials"),
    ]
}
