//! Basic authentication in front of every route, as the `http` block asks
//! (`runtime/src/services/http.rs`).

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::controller::Controller;

/// Middleware: asks for credentials where the `http` block's `auth` applies.
pub async fn authenticate(State(c): State<Controller>, req: Request, next: Next) -> Response {
    let service = c.services().get::<crate::services::http::HttpService>();
    if let Some(auth) = &service.auth {
        if auth.applies_to(req.uri().path()) && !auth.accepts(req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())) {
            return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Basic realm=\"Alloy\"")], "Unauthorized\n").into_response();
        }
    }
    next.run(req).await
}
