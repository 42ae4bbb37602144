//! The `http` service block: TLS for the server and basic authentication in front of it.
//! The block is evaluated with the graph; the server reads the current settings for every
//! new connection (TLS) and every request (auth), so a reload applies them without a restart.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use eval::decode::StructDecoder;
use eval::Value;

use crate::basic_auth::{constant_time_eq, decode as decode_basic};
use crate::component::ComponentError;
use crate::controller::Controller;
use crate::tls::{ClientAuth, TlsServer};

/// What the `http` block asks of the server; the default (no block) is plain and open.
#[derive(Clone, Default)]
pub struct HttpService {
    pub tls: Option<Arc<rustls::ServerConfig>>,
    pub auth: Option<BasicAuth>,
}

/// `auth { basic { … } filter { … } }`.
#[derive(Clone, Debug, PartialEq)]
pub struct BasicAuth {
    username: String,
    password: String,
    /// Path prefixes of `filter`; empty without a filter.
    paths: Vec<String>,
    /// With a filter: true authenticates only the matching paths, false all but them.
    authenticate_matching_paths: bool,
}

impl BasicAuth {
    fn applies_to(&self, path: &str) -> bool {
        if self.paths.is_empty() {
            return true;
        }
        let matches = self.paths.iter().any(|p| path.starts_with(p.as_str()));
        matches == self.authenticate_matching_paths
    }

    fn accepts(&self, authorization: Option<&str>) -> bool {
        let Some((user, pass)) = authorization.and_then(decode_basic) else { return false };
        // Both compared in full, so timing does not tell which was wrong.
        constant_time_eq(user.as_bytes(), self.username.as_bytes()) & constant_time_eq(pass.as_bytes(), self.password.as_bytes())
    }
}

crate::whole_arguments!(
    HttpArgs,
    HttpService,
    HttpService::decode,
    [
        "tls.cert_file",
        "tls.cert_pem",
        "tls.key_file",
        "tls.key_pem",
        "tls.cipher_suites",
        "tls.client_auth_type",
        "tls.client_ca_file",
        "tls.client_ca_pem",
        "tls.curve_preferences",
        "tls.max_version",
        "tls.min_version",
        "auth.basic.username",
        "auth.basic.password",
        "auth.filter.paths",
        "auth.filter.authenticate_matching_paths"
    ],
    unsupported["tls.windows_certificate_filter"]
);

pub const REGISTRATION: crate::component::Registration = crate::component::Registration::config::<HttpArgs>("http");

impl HttpService {
    pub fn decode(v: &Value) -> Result<HttpService, ComponentError> {
        let obj = v.as_object();
        let block = |name: &str| obj.as_ref().and_then(|o| o.get(name).cloned()).filter(|b| !matches!(b, Value::Null));
        let tls = match block("tls") {
            Some(t) => Some(crate::tls::server_config(&TlsServer::decode(&t, ClientAuth::NoClientCert)?)?),
            None => None,
        };
        let auth = match block("auth") {
            Some(a) => decode_auth(&a)?,
            None => None,
        };
        Ok(HttpService { tls, auth })
    }
}

fn decode_auth(v: &Value) -> Result<Option<BasicAuth>, ComponentError> {
    let o = v.as_object();
    let get = |name: &str| o.as_ref().and_then(|o| o.get(name).cloned()).filter(|b| !matches!(b, Value::Null));
    let Some(basic) = get("basic") else { return Ok(None) };
    let mut d = StructDecoder::new(&basic)?;
    let username: String = d.required("username")?;
    let password: eval::Secret = d.required("password")?;
    let (paths, authenticate_matching_paths) = match get("filter") {
        Some(f) => {
            let mut d = StructDecoder::new(&f)?;
            (d.optional::<Vec<String>>("paths")?.unwrap_or_default(), d.optional("authenticate_matching_paths")?.unwrap_or(true))
        }
        None => (Vec::new(), true),
    };
    Ok(Some(BasicAuth { username, password: password.expose().to_string_lossy().into_owned(), paths, authenticate_matching_paths }))
}

/// Middleware: asks for credentials where the `http` block's `auth` applies.
pub async fn authenticate(State(c): State<Controller>, req: Request, next: Next) -> Response {
    let service = c.http_service();
    if let Some(auth) = &service.auth {
        if auth.applies_to(req.uri().path()) && !auth.accepts(req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())) {
            return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Basic realm=\"Alloy\"")], "Unauthorized\n").into_response();
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(paths: &[&str], matching: bool) -> BasicAuth {
        BasicAuth { username: "u".into(), password: "p".into(), paths: paths.iter().map(|p| p.to_string()).collect(), authenticate_matching_paths: matching }
    }

    #[test]
    fn the_filter_picks_the_paths_that_need_credentials() {
        assert!(auth(&[], true).applies_to("/-/ready"));
        assert!(auth(&["/api/"], true).applies_to("/api/v0/web/components"));
        assert!(!auth(&["/api/"], true).applies_to("/metrics"));
        assert!(!auth(&["/-/"], false).applies_to("/-/ready"));
        assert!(auth(&["/-/"], false).applies_to("/metrics"));
    }

    #[test]
    fn credentials_are_checked() {
        let a = auth(&[], true);
        assert!(a.accepts(Some("Basic dTpw"))); // u:p
        assert!(!a.accepts(Some("Basic dTpx"))); // u:x
        assert!(!a.accepts(Some("Bearer dTpw")));
        assert!(!a.accepts(None));
    }
}
