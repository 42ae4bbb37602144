//! The HTTP server: readiness, health, reload, metrics, the web API and the UI (`ui/`).
//!
//! Live debugging's streams (`/api/v0/web/debug/…`, `/api/v0/web/graph…`) are in `live.rs`.
//! Not served yet: `/-/support`, pprof, component HTTP handlers, remotecfg and clustering
//! endpoints.

mod api;
mod auth;
mod live;
mod ui;

pub use crate::services::http::HttpService;
pub use ui::Prefix;

use std::net::SocketAddr;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use tokio_util::sync::CancellationToken;

use crate::component::HealthState;
use crate::controller::Controller;

/// The router for one controller, with the UI and web API at the root.
pub fn router(controller: Controller) -> Router {
    router_with_prefix(controller, &Prefix::default())
}

/// The router for one controller, with the UI and web API under `prefix`
/// (`--server.http.ui-path-prefix`).
pub fn router_with_prefix(controller: Controller, prefix: &Prefix) -> Router {
    let router = Router::new();
    // Exporters' metrics, as upstream serves them (scrapes inside the process skip HTTP).
    #[cfg(feature = "prometheus")]
    let router = router.route("/api/v0/component/{*rest}", get(component_http));
    let router =
        router.route("/-/ready", any(ready)).route("/-/healthy", any(healthy)).route("/-/reload", get(reload).post(reload)).route("/metrics", any(metrics));
    let router = router.merge(web_routes(&prefix.0));
    let router = if prefix.0.is_empty() {
        router
    } else {
        // Behind a reverse proxy only the prefix reaches us: the reload button posts there.
        let slash = format!("{}/", prefix.0);
        router
            .route(&format!("{}/-/reload", prefix.0), get(reload).post(reload))
            .route(&prefix.0, any(move || async move { (StatusCode::FOUND, [(header::LOCATION, slash)]).into_response() }))
    };
    router.layer(axum::middleware::from_fn_with_state(controller.clone(), auth::authenticate)).layer(axum::Extension(prefix.clone())).with_state(controller)
}

/// The web API and the UI: what `--server.http.ui-path-prefix` moves (`at` is the prefix,
/// "" for the root).
fn web_routes(at: &str) -> Router<Controller> {
    Router::new()
        .route(&format!("{at}/api/v0/web/components"), any(components))
        .route(&format!("{at}/api/v0/web/components/{{*id}}"), any(component))
        .route(&format!("{at}/api/v0/web/modules/{{*path}}"), any(module_components))
        .route(&format!("{at}/api/v0/web/debug/{{*id}}"), any(live::debug))
        .route(&format!("{at}/api/v0/web/graph"), any(live::graph))
        .route(&format!("{at}/api/v0/web/graph/{{*module}}"), any(live::module_graph))
        .route(&format!("{at}/"), get(ui::index))
        .route(&format!("{at}/component/{{*id}}"), get(ui::component))
        .route(&format!("{at}/graph"), get(ui::graph))
        .route(&format!("{at}/graph/{{*module}}"), get(ui::module_graph))
        .route(&format!("{at}/debug/{{*id}}"), get(ui::debug))
        .route(&format!("{at}/assets/{{file}}"), get(ui::asset))
}

/// Binds `addr` (an error when the address is taken) and serves until `shutdown`.
pub async fn serve(addr: &str, controller: Controller, shutdown: CancellationToken) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    serve_with_prefix(addr, controller, &Prefix::default(), shutdown).await
}

/// [`serve`] with the UI and web API under `prefix`.
pub async fn serve_with_prefix(
    addr: &str,
    controller: Controller,
    prefix: &Prefix,
    shutdown: CancellationToken,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let tcp = tokio::net::TcpListener::bind(addr).await?;
    let local = tcp.local_addr()?;
    // Logged before any request is served: a reload that lowers the level cannot come first.
    tracing::info!(addr = %local, "now listening for http traffic");
    // TLS follows the `http` block, asked again for every connection.
    let source = controller.clone();
    let listener = crate::tls::TlsListener::new(tcp, std::sync::Arc::new(move || source.services().get::<HttpService>().tls.clone()))?;
    let app = router_with_prefix(controller, prefix);
    let handle = tokio::spawn(async move {
        let result = crate::server::serve(listener, app, crate::server::Limits::http(), shutdown).await;
        if let Err(e) = result {
            tracing::error!(error = %e, "HTTP server failed");
        }
    });
    Ok((local, handle))
}

/// `/api/v0/component/{id}/metrics` of a `prometheus.exporter.*` component.
#[cfg(feature = "prometheus")]
async fn component_http(Path(rest): Path<String>, axum::extract::RawQuery(query): axum::extract::RawQuery) -> Response {
    let path = format!("/api/v0/component/{rest}");
    let Some(handler) = crate::prometheus::exporter::lookup(&path) else {
        return text(StatusCode::NOT_FOUND, "404 page not found\n");
    };
    let params: Vec<(String, String)> = reqwest::Url::parse(&format!("http://x/?{}", query.unwrap_or_default()))
        .map(|u| u.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
        .unwrap_or_default();
    // Collectors read /proc and /sys: off the async workers.
    match tokio::task::spawn_blocking(move || handler(&params)).await {
        Ok((content_type, body)) => (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], body).into_response(),
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
    }
}

fn text(status: StatusCode, body: impl Into<String>) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body.into()).into_response()
}

async fn ready(State(c): State<Controller>) -> Response {
    if c.is_ready() {
        text(StatusCode::OK, "Alloy is ready.\n")
    } else {
        text(StatusCode::SERVICE_UNAVAILABLE, "Alloy is not ready.\n")
    }
}

/// Lists component *names* whose health is unhealthy (exited and unknown do not count).
async fn healthy(State(c): State<Controller>) -> Response {
    let bad: Vec<String> = c.components().into_iter().filter(|i| i.health.state == HealthState::Unhealthy).map(|i| i.name).collect();
    if bad.is_empty() {
        text(StatusCode::OK, "All Alloy components are healthy.\n")
    } else {
        text(StatusCode::INTERNAL_SERVER_ERROR, format!("unhealthy components: {}\n", bad.join(", ")))
    }
}

async fn reload(State(c): State<Controller>) -> Response {
    tracing::info!("reload requested via /-/reload endpoint");
    match c.load().await {
        Ok(()) => {
            tracing::info!("config reloaded");
            text(StatusCode::OK, "config reloaded\n")
        }
        Err(e) => {
            tracing::error!(err = %e, "failed to reload config");
            text(StatusCode::BAD_REQUEST, format!("{e}\n"))
        }
    }
}

/// Text produced at every scrape.
pub type RenderFn = std::sync::Arc<dyn Fn() -> String + Send + Sync>;

/// A second, plain-HTTP server with only `GET /metrics` (the collector engine's own
/// telemetry address, `alloy otel`).
pub async fn serve_metrics(addr: &str, render: RenderFn, shutdown: CancellationToken) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let tcp = tokio::net::TcpListener::bind(addr).await?;
    let local = tcp.local_addr()?;
    tracing::info!(addr = %local, "serving the collector's own telemetry");
    let app = Router::new().route(
        "/metrics",
        get(move || {
            let render = render.clone();
            async move { (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], render()).into_response() }
        }),
    );
    let handle = tokio::spawn(async move {
        if let Err(e) = crate::server::serve(crate::server::BackoffListener::new(tcp), app, crate::server::Limits::http(), shutdown).await {
            tracing::error!(error = %e, "telemetry server failed");
        }
    });
    Ok((local, handle))
}

async fn metrics(State(c): State<Controller>) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], c.registry().render()).into_response()
}

fn json(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn components(State(c): State<Controller>) -> Response {
    let list: Vec<api::ComponentJson> = c.components().iter().map(api::ComponentJson::from_info).collect();
    json(StatusCode::OK, serde_json::to_string(&list).unwrap_or_else(|_| "[]".into()))
}

/// `/api/v0/web/modules/{moduleID}/components`; module IDs may contain `/`.
async fn module_components(State(c): State<Controller>, Path(path): Path<String>) -> Response {
    let Some(module) = path.strip_suffix("/components") else {
        return text(StatusCode::NOT_FOUND, "404 page not found\n");
    };
    match c.module_components(module) {
        Some(list) => {
            let list: Vec<api::ComponentJson> = list.iter().map(api::ComponentJson::from_info).collect();
            json(StatusCode::OK, serde_json::to_string(&list).unwrap_or_else(|_| "[]".into()))
        }
        None => text(StatusCode::INTERNAL_SERVER_ERROR, "module not found\n"),
    }
}

async fn component(State(c): State<Controller>, Path(id): Path<String>) -> Response {
    match c.component(&id) {
        Some(info) => json(StatusCode::OK, serde_json::to_string(&api::ComponentJson::from_info(&info)).unwrap_or_else(|_| "{}".into())),
        None => text(StatusCode::NOT_FOUND, "404 page not found\n"),
    }
}
