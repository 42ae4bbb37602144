//! The `http` config block: TLS for the HTTP server and basic authentication in front of it.
//! Applying the block stores an [`HttpService`] in the controller's [`Services`]; the server
//! (`runtime/src/http`) reads it for every new connection (TLS) and every request (auth), so
//! a reload applies it without a restart.

use std::sync::Arc;

use eval::Value;

use crate::basic_auth::{constant_time_eq, decode as decode_basic};
use crate::component::args::types::SecretText;
use crate::component::{Arguments, ComponentError, Reader, Registration, Services};
use crate::tls::{ClientAuth, TlsServer, TlsServerArgs};

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
    /// Whether requests for `path` need credentials.
    pub(crate) fn applies_to(&self, path: &str) -> bool {
        if self.paths.is_empty() {
            return true;
        }
        let matches = self.paths.iter().any(|p| path.starts_with(p.as_str()));
        matches == self.authenticate_matching_paths
    }

    /// Whether an `Authorization` value carries the configured credentials.
    pub(crate) fn accepts(&self, authorization: Option<&str>) -> bool {
        let Some((user, pass)) = authorization.and_then(decode_basic) else { return false };
        // Both compared in full, so timing does not tell which was wrong.
        constant_time_eq(user.as_bytes(), self.username.as_bytes()) & constant_time_eq(pass.as_bytes(), self.password.as_bytes())
    }
}

/// `auth { basic { … } }`.
#[derive(Default)]
struct Basic {
    username: String,
    password: String,
}

impl Arguments for Basic {
    fn decode(r: &mut Reader<'_>) -> Self {
        Basic { username: r.get("username"), password: r.get::<SecretText>("password").0 }
    }
}

/// `auth { filter { … } }`.
#[derive(Default)]
struct Filter {
    paths: Vec<String>,
    authenticate_matching_paths: bool,
}

impl Arguments for Filter {
    fn decode(r: &mut Reader<'_>) -> Self {
        Filter { paths: r.get("paths"), authenticate_matching_paths: r.get("authenticate_matching_paths") }
    }
}

/// The `auth` block: basic authentication, on the paths the filter selects.
#[derive(Default)]
struct Auth(Option<BasicAuth>);

impl Arguments for Auth {
    fn decode(r: &mut Reader<'_>) -> Self {
        let filter = r.block::<Filter>("filter");
        let Some(basic) = r.block::<Basic>("basic") else { return Auth(None) };
        let (paths, authenticate_matching_paths) = filter.map_or((Vec::new(), true), |f| (f.paths, f.authenticate_matching_paths));
        Auth(Some(BasicAuth { username: basic.username, password: basic.password, paths, authenticate_matching_paths }))
    }
}

/// The block's arguments: what [`HttpService`] is made of.
#[derive(Default)]
pub struct HttpArgs {
    tls: Option<TlsServer>,
    auth: Option<BasicAuth>,
}

impl Arguments for HttpArgs {
    fn decode(r: &mut Reader<'_>) -> Self {
        let tls = r.block::<TlsServerArgs>("tls").and_then(|t| t.resolve(ClientAuth::NoClientCert));
        HttpArgs { tls, auth: r.block::<Auth>("auth").and_then(|a| a.0) }
    }
}

pub const REGISTRATION: Registration = Registration::config::<HttpArgs>("http", apply);

/// Stores the block's settings for the server, or the defaults (plain HTTP, no
/// authentication) when the configuration has no `http` block.
fn apply(services: &Services, args: Option<&Value>) -> Result<(), ComponentError> {
    services.set(args.map(HttpService::decode).transpose()?.unwrap_or_default());
    Ok(())
}

impl HttpService {
    /// The service the evaluated block asks for (its TLS material was checked by the rules).
    pub fn decode(v: &Value) -> Result<HttpService, ComponentError> {
        let args: HttpArgs = crate::component::args::decode_checked("http", v)?;
        let tls = args.tls.as_ref().map(crate::tls::server_config).transpose()?;
        Ok(HttpService { tls, auth: args.auth })
    }
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
