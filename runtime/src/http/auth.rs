//! Basic authentication in front of every route, as the `http` block asks
//! (`runtime/src/services/http.rs`).

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Extension;

use super::Prefix;
use crate::controller::Controller;

/// Middleware: asks for credentials where the `http` block's `auth` applies. The UI's pages
/// show what the web API serves, so a rule covering the API covers them too.
pub async fn authenticate(State(c): State<Controller>, Extension(prefix): Extension<Prefix>, req: Request, next: Next) -> Response {
    let service = c.services().get::<crate::services::http::HttpService>();
    if let Some(auth) = &service.auth {
        let path = req.uri().path();
        let needed = auth.applies_to(path) || (is_ui(path, &prefix) && auth.applies_to(&format!("{}/api/v0/web/", prefix.0)));
        if needed && !auth.accepts(req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())) {
            return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Basic realm=\"Alloy\"")], "Unauthorized\n").into_response();
        }
    }
    next.run(req).await
}

/// Whether `path` is one of the UI's pages or assets (under the prefix, outside the
/// endpoints that stay at the root).
fn is_ui(path: &str, prefix: &Prefix) -> bool {
    let Some(rest) = path.strip_prefix(&*prefix.0) else { return false };
    if !(rest.is_empty() || rest.starts_with('/')) {
        return false;
    }
    let root_only = ["/-/", "/metrics", "/api/"];
    !(prefix.0.is_empty() && root_only.iter().any(|p| rest.starts_with(p)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ui_paths_follow_the_prefix() {
        let root = Prefix::default();
        assert!(is_ui("/", &root) && is_ui("/component/a.b", &root) && is_ui("/graph", &root));
        assert!(!is_ui("/-/ready", &root) && !is_ui("/metrics", &root) && !is_ui("/api/v0/web/components", &root));
        let p = Prefix::new("/alloy");
        assert!(is_ui("/alloy", &p) && is_ui("/alloy/component/a.b", &p));
        assert!(!is_ui("/alloyx", &p) && !is_ui("/-/ready", &p) && !is_ui("/component/a.b", &p));
    }
}
