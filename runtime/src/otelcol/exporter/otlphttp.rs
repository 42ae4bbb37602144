//! `otelcol.exporter.otlphttp`: OTLP/HTTP client (protobuf body as received, or JSON).

use std::sync::Arc;
use std::time::Duration;

use eval::decode::StructDecoder;
use eval::Value;

use super::otlp::ClientCommon;
use super::pipeline::{NetworkExporter, SendFuture, Sender};
use super::retry::SendError;
use crate::component::{Component, ComponentError, Context, Registration};
use crate::otelcol::block;
use crate::otelcol::compression::Compression;
use crate::otelcol::pdata::{Payload, Signal};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Proto,
    Json,
}

struct HttpSender {
    client: reqwest::Client,
    common: ClientCommon,
    urls: [String; 3],
    compression: Option<Compression>,
    encoding: Encoding,
}

fn url_index(s: Signal) -> usize {
    match s {
        Signal::Traces => 0,
        Signal::Metrics => 1,
        Signal::Logs => 2,
    }
}

fn json_body(p: &Payload) -> Result<Vec<u8>, SendError> {
    let bad = |e: String| SendError::permanent(format!("cannot encode the payload as JSON: {e}"));
    match p.signal() {
        Signal::Traces => serde_json::to_vec(&p.decode_traces().map_err(|e| bad(e.to_string()))?),
        Signal::Metrics => serde_json::to_vec(&p.decode_metrics().map_err(|e| bad(e.to_string()))?),
        Signal::Logs => serde_json::to_vec(&p.decode_logs().map_err(|e| bad(e.to_string()))?),
    }
    .map_err(|e| bad(e.to_string()))
}

/// The collector retries 429, 502, 503 and 504, honouring Retry-After; other failures are
/// permanent.
fn status_error(status: reqwest::StatusCode, retry_after: Option<Duration>, body: &str) -> SendError {
    let retryable = matches!(status.as_u16(), 429 | 502 | 503 | 504);
    SendError { message: format!("HTTP {status}: {}", body.trim()), retryable, retry_after }
}

impl Sender for HttpSender {
    fn send<'a>(&'a self, data: &'a Payload) -> SendFuture<'a> {
        Box::pin(async move {
            // The encoded payload is shared, not copied, when it goes out as it is.
            let (mut body, content_type) = match self.encoding {
                Encoding::Proto => (data.bytes().clone(), "application/x-protobuf"),
                Encoding::Json => (bytes::Bytes::from(json_body(data)?), "application/json"),
            };
            let mut req = self.client.post(&self.urls[url_index(data.signal())]).header(http::header::CONTENT_TYPE, content_type);
            if let Some(c) = self.compression {
                body = c.compress(&body).map(bytes::Bytes::from).map_err(|e| SendError::permanent(format!("{}: {e}", c.content_encoding())))?;
                req = req.header(http::header::CONTENT_ENCODING, c.content_encoding());
            }
            for (k, v) in self.common.request_headers()? {
                req = req.header(k, v);
            }
            let resp = req.body(body).send().await.map_err(|e| SendError::retryable(format!("sending request: {e}")))?;
            let status = resp.status();
            if status.is_success() {
                return Ok(());
            }
            let retry_after =
                resp.headers().get(http::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok()).map(Duration::from_secs);
            let text = resp.text().await.unwrap_or_default();
            Err(status_error(status, retry_after, &text))
        })
    }
}

/// Checks everything the exporter reads, as a build would (the HTTP client is built, which
/// connects to nothing).
fn check(args: &Value) -> Result<(), ComponentError> {
    make_sender(args)?;
    super::pipeline::check_args(args)
}

crate::whole_arguments!(
    Args,
    (),
    check,
    [
        "encoding",
        "traces_endpoint",
        "metrics_endpoint",
        "logs_endpoint",
        "client.endpoint",
        "client.compression",
        "client.headers",
        "client.auth",
        "client.tls.insecure", "client.tls.insecure_skip_verify", "client.tls.ca_pem", "client.tls.ca_file", "client.tls.cert_pem", "client.tls.cert_file", "client.tls.key_pem", "client.tls.key_file", "client.tls.server_name",
        "client.timeout",
        "client.http2_ping_timeout",
        "client.http2_read_idle_timeout",
        "sending_queue",
        "retry_on_failure"
    ],
    unsupported [
        "client.compression_params",
        "client.cookies",
        "client.disable_keep_alives",
        "client.force_attempt_http2",
        "client.idle_conn_timeout",
        "client.max_conns_per_host",
        "client.max_idle_conns",
        "client.max_idle_conns_per_host",
        "client.proxy_url",
        "client.read_buffer_size",
        "client.write_buffer_size",
        "client.tls.cipher_suites", "client.tls.curve_preferences", "client.tls.include_insecure_cipher_suites", "client.tls.include_system_ca_certs_pool", "client.tls.max_version", "client.tls.min_version", "client.tls.reload_interval", "client.tls.tpm",
        "debug_metrics"
    ]
);

pub const REGISTRATION: Registration = Registration::component::<Args>("otelcol.exporter.otlphttp", &["input"], build);

fn make_sender(args: &Value) -> Result<Arc<dyn Sender>, ComponentError> {
    let client_args = block(args, "client").ok_or_else(|| ComponentError("missing required block \"client\"".into()))?;
    let common = ClientCommon::decode(client_args)?;
    let mut d = StructDecoder::new(args)?;
    let encoding = match d.optional::<String>("encoding")?.as_deref() {
        None | Some("proto") => Encoding::Proto,
        Some("json") => Encoding::Json,
        Some(o) => return Err(ComponentError(format!("invalid encoding {o:?}: expected \"proto\" or \"json\""))),
    };
    let base = common.endpoint.trim_end_matches('/').to_string();
    // The catalogue's default is the expression text `client.endpoint + "/v1/traces"`.
    let mut url = |name: &'static str, path: &str| -> Result<String, ComponentError> {
        let given: Option<String> = d.optional(name)?;
        Ok(given.filter(|u| !u.is_empty() && !u.contains("client.endpoint")).unwrap_or_else(|| format!("{base}{path}")))
    };
    let urls = [url("traces_endpoint", "/v1/traces")?, url("metrics_endpoint", "/v1/metrics")?, url("logs_endpoint", "/v1/logs")?];
    let compression = Compression::parse(&common.compression).map_err(ComponentError)?;
    let mut cd = StructDecoder::new(client_args)?;
    let timeout = cd.optional::<eval::decode::Duration>("timeout")?.and_then(|t| t.to_std()).unwrap_or(Duration::from_secs(30));
    let mut builder = reqwest::Client::builder().timeout(timeout);
    // HTTP/2 health pings after a quiet `http2_read_idle_timeout`, answered within
    // `http2_ping_timeout` (zero idle time: no pings, as the collector does).
    let idle = cd.optional::<eval::decode::Duration>("http2_read_idle_timeout")?.and_then(|t| t.to_std()).unwrap_or_default();
    let ping = cd.optional::<eval::decode::Duration>("http2_ping_timeout")?.and_then(|t| t.to_std()).unwrap_or_default();
    if !idle.is_zero() {
        builder = builder.http2_keep_alive_interval(idle).http2_keep_alive_while_idle(true);
        if !ping.is_zero() {
            builder = builder.http2_keep_alive_timeout(ping);
        }
    }
    if let Some(ca) = &common.tls.ca_pem {
        let cert = reqwest::Certificate::from_pem(ca.as_bytes()).map_err(|e| ComponentError(format!("invalid CA certificate: {e}")))?;
        builder = builder.add_root_certificate(cert);
    }
    if common.tls.insecure_skip_verify {
        builder = builder.danger_accept_invalid_certs(true);
    }
    match (&common.tls.cert_pem, &common.tls.key_pem) {
        (Some(cert), Some(key)) => {
            let identity = reqwest::Identity::from_pem(format!("{cert}\n{key}").as_bytes())
                .map_err(|e| ComponentError(format!("invalid client certificate or key: {e}")))?;
            builder = builder.identity(identity);
        }
        (None, None) => {}
        _ => return Err(ComponentError("a client certificate needs both cert (cert_pem or cert_file) and key (key_pem or key_file)".into())),
    }
    if common.tls.server_name.as_deref().is_some_and(|n| !n.is_empty()) {
        return Err(ComponentError("tls.server_name is not supported by this runtime's OTLP/HTTP exporter; use the server's name in the endpoint".into()));
    }
    let client = builder.build().map_err(|e| ComponentError(format!("cannot build the HTTP client: {e}")))?;
    Ok(Arc::new(HttpSender { client, common, urls, compression, encoding }))
}

pub fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    Ok(NetworkExporter::build(ctx, &args, make_sender)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_only_transient_statuses() {
        assert!(status_error(reqwest::StatusCode::SERVICE_UNAVAILABLE, None, "").retryable);
        assert!(status_error(reqwest::StatusCode::TOO_MANY_REQUESTS, Some(Duration::from_secs(3)), "").retryable);
        assert!(!status_error(reqwest::StatusCode::BAD_REQUEST, None, "bad").retryable);
        assert!(!status_error(reqwest::StatusCode::INTERNAL_SERVER_ERROR, None, "").retryable);
    }

    fn client_args(tls: &[(&str, &str)]) -> Value {
        let mut t = eval::Object::new();
        for (k, v) in tls {
            t.insert(*k, Value::string(*v));
        }
        let mut client = eval::Object::new();
        client.insert("endpoint", Value::string("https://127.0.0.1:9"));
        client.insert("tls", Value::object(t));
        let mut args = eval::Object::new();
        args.insert("client", Value::object(client));
        Value::object(args)
    }

    #[test]
    fn tls_settings_it_cannot_honour_are_errors_not_ignored() {
        let err = |tls: &[(&str, &str)]| make_sender(&client_args(tls)).err().map(|e| e.0);
        assert!(err(&[("cert_pem", "x")]).is_some_and(|e| e.contains("needs both cert")));
        assert!(err(&[("cert_pem", "not pem"), ("key_pem", "not pem")]).is_some_and(|e| e.contains("invalid client certificate or key")));
        assert!(err(&[("server_name", "example.com")]).is_some_and(|e| e.contains("server_name is not supported")));
        assert_eq!(err(&[]), None);
    }
}
