//! `discovery.http`: targets from an HTTP endpoint answering a JSON list of target groups
//! (Prometheus' http_sd), fetched every `refresh_interval`; every target gets `__meta_url`.
//!
//! The request is a GET with `Accept: application/json` and
//! `X-Prometheus-Refresh-Interval-Seconds`, under the shared HTTP client settings, with the
//! refresh interval as its timeout. Only a 200 answer of type `application/json` (optionally
//! `charset=utf-8`) whose body decodes replaces the targets; anything else keeps the last
//! ones and makes the component unhealthy until a refresh succeeds.

use std::sync::Arc;
use std::time::Duration;

use eval::Value;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::target_groups::{flatten, parse_json};
use super::{Outcome, Target};
use crate::component::args::{decode_checked, types::Dur};
use crate::component::{Arguments, BoxFuture, Component, ComponentError, Context, Reader, Registration};
use crate::discovery::refresh::{self, Refreshing};
use crate::error_chain::error_chain;
use crate::http_client::HttpClientConfig;
use crate::metrics::Counter;

const NAME: &str = "discovery.http";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["targets"], build);

const META_URL: &str = "__meta_url";

#[derive(Clone, Debug, Default, PartialEq)]
struct Args {
    url: String,
    refresh_interval: Duration,
    client: HttpClientConfig,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        let client = HttpClientConfig::decode(r);
        client.validate(r);
        Args { url: r.get("url"), refresh_interval: r.get::<Dur>("refresh_interval").0, client }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        r.check(!self.refresh_interval.is_zero(), &["refresh_interval"], "refresh_interval must be greater than 0");
        if r.known("url") {
            if let Err(e) = check_url(&self.url) {
                r.error("url", e);
            }
        }
    }
}

/// Upstream's rules for the URL: it parses, is http(s), and names a host.
fn check_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("invalid URL {url:?}: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("URL scheme must be 'http' or 'https', got {url:?}"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!("host is missing in URL {url:?}"));
    }
    Ok(())
}

/// `application/json`, optionally with `charset=utf-8`, in any case (upstream's rule).
fn is_json(content_type: &str) -> bool {
    let ct = content_type.trim().to_ascii_lowercase();
    let Some(rest) = ct.strip_prefix("application/json") else { return false };
    if rest.is_empty() {
        return true;
    }
    let Some(rest) = rest.strip_prefix(';') else { return false };
    matches!(rest.trim_start(), "charset=utf-8" | "charset=\"utf-8\"")
}

fn client_of(args: &Args) -> Result<reqwest::Client, String> {
    args.client.client(Some(args.refresh_interval), &crate::prometheus::user_agent())
}

/// One refresh: the targets the endpoint lists now.
async fn fetch(client: &reqwest::Client, args: &Args) -> Result<Vec<Target>, String> {
    let mut req = client
        .get(&args.url)
        .header(reqwest::header::ACCEPT, "application/json")
        .header("X-Prometheus-Refresh-Interval-Seconds", args.refresh_interval.as_secs_f64().to_string());
    if let Some(auth) = args.client.authorization_header()? {
        req = req.header(reqwest::header::AUTHORIZATION, auth);
    }
    let resp = req.send().await.map_err(|e| error_chain(&e))?;
    let status = resp.status();
    if status != reqwest::StatusCode::OK {
        return Err(format!("server returned HTTP status {} {}", status.as_u16(), status.canonical_reason().unwrap_or_default()).trim_end().to_string());
    }
    let content_type = resp.headers().get(reqwest::header::CONTENT_TYPE).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()).unwrap_or_default();
    if !is_json(&content_type) {
        return Err(format!("unsupported content type {content_type:?}"));
    }
    let body = resp.bytes().await.map_err(|e| error_chain(&e))?;
    let groups = parse_json(&body)?;
    Ok(flatten(&groups, (META_URL, &args.url)))
}

struct HttpDiscovery {
    ctx: Context,
    args: watch::Sender<Arc<Args>>,
    outcome: Outcome,
    failures: Counter,
}

fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    let args: Args = decode_checked(NAME, &args)?;
    // Client settings that cannot work (a bad CA) fail now, not at every refresh.
    client_of(&args)?;
    let failures = ctx.counter("prometheus_sd_http_failures_total", "Number of HTTP service discovery refresh failures.", &[]);
    // Targets arrive with the first refresh, when the component runs.
    let outcome = Outcome::default();
    outcome.published.export(&ctx, Vec::new());
    Ok(Arc::new(HttpDiscovery { ctx, args: watch::channel(Arc::new(args)).0, outcome, failures }))
}

impl Refreshing for HttpDiscovery {
    type Args = Args;
    type Client = reqwest::Client;

    fn client(args: &Args) -> Result<reqwest::Client, String> {
        client_of(args)
    }

    fn interval(args: &Args) -> std::time::Duration {
        args.refresh_interval
    }

    async fn fetch(&self, client: &reqwest::Client, args: &Args) -> Result<Vec<Target>, String> {
        fetch(client, args).await.map_err(|e| format!("refreshing targets from {}: {e}", args.url))
    }

    fn failed(&self) {
        self.failures.inc();
    }

    fn ctx(&self) -> &Context {
        &self.ctx
    }

    fn outcome(&self) -> &Outcome {
        &self.outcome
    }
}

impl Component for HttpDiscovery {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        let args: Args = decode_checked(NAME, &args)?;
        client_of(&args)?;
        self.args.send_replace(Arc::new(args));
        Ok(())
    }

    fn run(self: Arc<Self>, shutdown: CancellationToken) -> BoxFuture<Result<(), ComponentError>> {
        let args = self.args.subscribe();
        Box::pin(refresh::run(self, args, shutdown))
    }

    fn debug_info(&self) -> Option<Value> {
        let mut o = eval::Object::ordered();
        o.insert("last_error", Value::string(self.outcome.error().unwrap_or_default()));
        Some(Value::object(o))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use axum::http::{HeaderMap, StatusCode};
    use axum::response::IntoResponse;

    use super::*;
    use crate::component::HealthState;
    use crate::discovery::testing::{context, target};

    /// What the test server answers, and the headers of the last request it got.
    #[derive(Default)]
    struct Sd {
        answer: Mutex<(u16, &'static str, String)>,
        headers: Mutex<Option<HeaderMap>>,
    }

    async fn serve(sd: Arc<Sd>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new().route(
            "/sd",
            axum::routing::get(move |headers: HeaderMap| {
                let sd = sd.clone();
                async move {
                    *sd.headers.lock().unwrap() = Some(headers);
                    let (status, ct, body) = sd.answer.lock().unwrap().clone();
                    (StatusCode::from_u16(status).unwrap(), [("content-type", ct)], body).into_response()
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}/sd")
    }

    fn args_value(body: &str) -> Value {
        crate::component::args::evaluated(&format!("discovery.http \"t\" {{\n{body}\n}}\n")).unwrap()
    }

    async fn until(what: &str, mut cond: impl FnMut() -> bool) {
        for _ in 0..200 {
            if cond() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("timed out waiting for {what}");
    }

    #[tokio::test]
    async fn targets_are_fetched_and_kept_when_the_endpoint_fails() {
        let sd = Arc::new(Sd::default());
        *sd.answer.lock().unwrap() = (200, "application/json; charset=utf-8", r#"[{"targets": ["a:1"], "labels": {"job": "j"}}]"#.into());
        let url = serve(sd.clone()).await;
        let (ctx, host) = context("discovery.http.t");
        let c = build(ctx, args_value(&format!("  url = {url:?}\n  refresh_interval = \"100ms\"\n  bearer_token = \"tok\""))).unwrap();
        assert!(host.targets().is_empty(), "nothing before the first refresh");
        let stop = CancellationToken::new();
        let task = tokio::spawn(c.clone().run(stop.clone()));
        let expected = vec![target(&[("__address__", "a:1"), ("__meta_url", &url), ("job", "j")])];
        until("the first targets", || host.targets() == expected).await;
        let headers = sd.headers.lock().unwrap().clone().unwrap();
        assert_eq!(headers["accept"], "application/json");
        assert_eq!(headers["x-prometheus-refresh-interval-seconds"], "0.1");
        assert_eq!(headers["authorization"], "Bearer tok");
        assert_eq!(host.health().unwrap().0, HealthState::Healthy);

        *sd.answer.lock().unwrap() = (500, "application/json", "[]".into());
        until("the failure", || host.health().is_some_and(|h| h.1.contains("server returned HTTP status 500 Internal Server Error"))).await;
        assert_eq!(host.targets(), expected, "the last targets are kept");
        assert_eq!(host.health().unwrap().0, HealthState::Unhealthy);

        *sd.answer.lock().unwrap() = (200, "text/plain", "[]".into());
        until("the content type refusal", || host.health().is_some_and(|h| h.1.contains("unsupported content type \"text/plain\""))).await;
        *sd.answer.lock().unwrap() = (200, "application/json", "[{\"targets\": 1}]".into());
        until("the decoding failure", || host.health().is_some_and(|h| h.1.contains("cannot unmarshal number"))).await;
        assert_eq!(host.targets(), expected);

        *sd.answer.lock().unwrap() = (200, "application/json", "[]".into());
        until("recovery", || host.targets().is_empty() && host.health().is_some_and(|h| h.0 == HealthState::Healthy)).await;
        stop.cancel();
        let _ = task.await;
    }

    #[tokio::test]
    async fn an_unreachable_endpoint_is_an_unhealthy_component() {
        let (ctx, host) = context("discovery.http.u");
        let c = build(ctx, args_value("  url = \"http://127.0.0.1:1/sd\"")).unwrap();
        let stop = CancellationToken::new();
        let task = tokio::spawn(c.clone().run(stop.clone()));
        until("the failure", || host.health().is_some_and(|h| h.0 == HealthState::Unhealthy)).await;
        assert!(host.health().unwrap().1.contains("refreshing targets from http://127.0.0.1:1/sd"));
        stop.cancel();
        let _ = task.await;
    }

    #[test]
    fn rules() {
        let errs = |body: &str| -> Vec<String> {
            crate::component::args::check::<Args>(NAME, &args_value(body)).iter().map(crate::component::args::describe).collect()
        };
        assert!(errs("  url = \"https://sd.example/targets\"").is_empty());
        assert_eq!(errs("  url = \"ftp://sd.example/targets\""), ["url: URL scheme must be 'http' or 'https', got \"ftp://sd.example/targets\""]);
        assert!(errs("  url = \"not a url\"")[0].starts_with("url: invalid URL"));
        assert_eq!(errs("  url = \"http://a/\"\n  refresh_interval = \"0s\""), ["refresh_interval: refresh_interval must be greater than 0"]);
        assert!(errs("  url = \"http://a/\"\n  bearer_token = \"x\"\n  basic_auth {\n    username = \"u\"\n  }")[0].contains("at most one of"));
        assert!(errs("  url = \"http://a/\"\n  oauth2 {\n    client_id = \"x\"\n  }")[0].contains("\"oauth2\" is not supported"));
    }

    #[test]
    fn json_content_types() {
        assert!(is_json("application/json"));
        assert!(is_json(" Application/JSON;  charset=\"UTF-8\" "));
        assert!(!is_json("application/json; charset=latin1"));
        assert!(!is_json("application/jsonx"));
        assert!(!is_json(""));
    }
}
