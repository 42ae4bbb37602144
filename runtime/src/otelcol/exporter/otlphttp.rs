//! `otelcol.exporter.otlphttp`: OTLP/HTTP client (protobuf body as received, or JSON).

use std::sync::Arc;
use std::time::Duration;

use eval::Value;

use super::otlp::ClientCommon;
use super::pipeline::{Delivery, ExporterParts, NetworkExporter, SendFuture, Sender};
use crate::component::args::{decode_checked, types::Dur};
use crate::component::{Arguments, Component, ComponentError, Context, Reader, Registration};
use crate::delivery::compression::Compression;
use crate::delivery::retry::SendError;
use crate::otelcol::pdata::{Payload, Signal};

#[derive(Clone, Copy, Default, PartialEq, Eq)]
enum Encoding {
    #[default]
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
                Encoding::Proto => (data.bytes(), "application/x-protobuf"),
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
            let resp = req.body(body).send().await.map_err(|e| SendError::retryable(format!("sending request: {}", crate::error_chain::error_chain(&e))))?;
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

    fn endpoint(&self) -> String {
        self.common.endpoint.clone()
    }
}

/// The `client` block.
#[derive(Default)]
pub struct HttpClient {
    common: ClientCommon,
    timeout: Duration,
    http2_read_idle_timeout: Duration,
    http2_ping_timeout: Duration,
}

/// A CA to trust and a client identity, parsed from the `tls` block.
type TlsMaterial = (Option<reqwest::Certificate>, Option<reqwest::Identity>);

impl HttpClient {
    /// The `tls` block's PEM material, parsed. The error names the field at fault. Cheap, so
    /// `validate` runs it; building the client itself loads the system's roots, which only
    /// a build needs.
    fn tls_material(&self) -> Result<TlsMaterial, (&'static str, String)> {
        let tls = &self.common.tls;
        let ca = match &tls.ca_pem {
            Some(ca) => Some(reqwest::Certificate::from_pem(ca.as_bytes()).map_err(|e| ("tls.ca_pem", format!("invalid CA certificate: {e}")))?),
            None => None,
        };
        let identity = match (&tls.cert_pem, &tls.key_pem) {
            (Some(cert), Some(key)) => Some(
                reqwest::Identity::from_pem(format!("{cert}\n{key}").as_bytes())
                    .map_err(|e| ("tls.cert_pem", format!("invalid client certificate or key: {e}")))?,
            ),
            _ => None,
        };
        Ok((ca, identity))
    }

    /// The reqwest client these settings describe (it connects to nothing yet).
    fn client(&self) -> Result<reqwest::Client, (&'static str, String)> {
        let (ca, identity) = self.tls_material()?;
        let mut builder = reqwest::Client::builder().timeout(self.timeout);
        // HTTP/2 health pings after a quiet `http2_read_idle_timeout`, answered within
        // `http2_ping_timeout` (zero idle time: no pings, as the collector does).
        if !self.http2_read_idle_timeout.is_zero() {
            builder = builder.http2_keep_alive_interval(self.http2_read_idle_timeout).http2_keep_alive_while_idle(true);
            if !self.http2_ping_timeout.is_zero() {
                builder = builder.http2_keep_alive_timeout(self.http2_ping_timeout);
            }
        }
        if let Some(cert) = ca {
            builder = builder.add_root_certificate(cert);
        }
        if self.common.tls.insecure_skip_verify {
            builder = builder.danger_accept_invalid_certs(true);
        }
        if let Some(identity) = identity {
            builder = builder.identity(identity);
        }
        builder.build().map_err(|e| ("", format!("cannot build the HTTP client: {e}")))
    }
}

impl Arguments for HttpClient {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&[
            "compression_params",
            "cookies",
            "disable_keep_alives",
            "force_attempt_http2",
            "idle_conn_timeout",
            "max_conns_per_host",
            "max_idle_conns",
            "max_idle_conns_per_host",
            "proxy_url",
            "read_buffer_size",
            "write_buffer_size",
        ]);
        HttpClient {
            common: ClientCommon::read(r),
            timeout: r.get::<Dur>("timeout").0,
            http2_read_idle_timeout: r.get::<Dur>("http2_read_idle_timeout").0,
            http2_ping_timeout: r.get::<Dur>("http2_ping_timeout").0,
        }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        if let Err(e) = Compression::parse(&self.common.compression) {
            r.check(false, &["compression"], e);
        }
        r.check(
            self.common.tls.server_name.is_none(),
            &["tls.server_name"],
            "tls.server_name is not supported by this runtime's OTLP/HTTP exporter; use the server's name in the endpoint",
        );
        if let Err((at, e)) = self.tls_material() {
            r.check(false, &[at], e);
        }
    }
}

impl eval::Decode for Encoding {
    fn decode(v: &Value) -> Result<Self, eval::ValueError> {
        match String::decode(v)?.as_str() {
            "proto" => Ok(Encoding::Proto),
            "json" => Ok(Encoding::Json),
            o => Err(eval::ValueError::message(format!("invalid encoding {o:?}: expected \"proto\" or \"json\""))),
        }
    }
}

/// The component's arguments.
#[derive(Default)]
pub struct Args {
    encoding: Encoding,
    /// Per signal; `None` means the catalogue's computed default, `client.endpoint + "/v1/…"`.
    endpoints: [Option<String>; 3],
    client: HttpClient,
    delivery: Delivery,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        let mut signal = |name: &'static str| r.computed::<String>(name).filter(|u| !u.is_empty());
        let endpoints = [signal("traces_endpoint"), signal("metrics_endpoint"), signal("logs_endpoint")];
        Args { encoding: r.get("encoding"), endpoints, client: r.block_or_default("client"), delivery: Delivery::read(r) }
    }
}

const NAME: &str = "otelcol.exporter.otlphttp";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["input"], build);

fn make_sender(args: &Value) -> Result<ExporterParts, ComponentError> {
    let Args { encoding, endpoints, client, delivery } = decode_checked(NAME, args)?;
    let http = client.client().map_err(|(_, e)| ComponentError(e))?;
    let compression = Compression::parse(&client.common.compression).map_err(ComponentError)?;
    let base = client.common.endpoint.trim_end_matches('/').to_string();
    let [traces, metrics, logs] = endpoints;
    let urls = [
        traces.unwrap_or_else(|| format!("{base}/v1/traces")),
        metrics.unwrap_or_else(|| format!("{base}/v1/metrics")),
        logs.unwrap_or_else(|| format!("{base}/v1/logs")),
    ];
    let sender = Arc::new(HttpSender { client: http, common: client.common, urls, compression, encoding });
    Ok(ExporterParts { sender, delivery })
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
        let tls: String = tls.iter().map(|(k, v)| format!("      {k} = {v:?}\n")).collect();
        let src = format!("{NAME} \"t\" {{\n  client {{\n    endpoint = \"https://127.0.0.1:9\"\n    tls {{\n{tls}    }}\n  }}\n}}\n");
        crate::component::args::evaluated(&src).unwrap()
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
