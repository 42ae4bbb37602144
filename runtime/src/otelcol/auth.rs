//! `otelcol.auth.basic` and `otelcol.auth.bearer`: the `handler` capsule
//! (`otelcol.Handler`) that exporters use to add credentials to outgoing requests and
//! receivers use to check incoming ones.

use std::collections::HashMap;
use std::sync::Arc;

use eval::{CapsuleValue, Object, Value};
use http::{HeaderMap, HeaderName, HeaderValue};

use crate::component::args::types::SecretText;
use crate::component::{Arguments, Component, ComponentError, Context, Reader, Registration};
use crate::otelcol::htpasswd::Entry;

pub const HANDLER_TYPE: &str = "otelcol.Handler";

/// Why a request was not let in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AuthError(pub String);

/// What an auth extension does on either side of a connection.
pub trait Authenticator: Send + Sync + 'static {
    /// Server side: accepts or rejects the headers (or gRPC metadata) of a request.
    fn authenticate(&self, headers: &HeaderMap) -> Result<(), AuthError>;
    /// Client side: headers added to every outgoing request.
    fn client_headers(&self) -> Result<Vec<(HeaderName, HeaderValue)>, AuthError>;
}

/// The capsule exported as `handler`.
#[derive(Clone)]
pub struct AuthHandler {
    component_id: Arc<str>,
    inner: Arc<dyn Authenticator>,
}

impl AuthHandler {
    pub fn new(component_id: &str, inner: Arc<dyn Authenticator>) -> Self {
        AuthHandler { component_id: component_id.into(), inner }
    }

    pub fn authenticate(&self, headers: &HeaderMap) -> Result<(), AuthError> {
        self.inner.authenticate(headers)
    }

    pub fn client_headers(&self) -> Result<Vec<(HeaderName, HeaderValue)>, AuthError> {
        self.inner.client_headers()
    }
}

impl eval::Decode for AuthHandler {
    fn decode(v: &Value) -> Result<Self, eval::ValueError> {
        eval::decode::decode_capsule::<AuthHandler>(v, HANDLER_TYPE)
    }
}

impl std::fmt::Debug for AuthHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "otelcol.Handler({})", self.component_id)
    }
}

impl CapsuleValue for AuthHandler {
    fn type_name(&self) -> &str {
        HANDLER_TYPE
    }

    fn equals(&self, other: &dyn CapsuleValue) -> bool {
        other.as_any().downcast_ref::<AuthHandler>().is_some_and(|o| Arc::ptr_eq(&self.inner, &o.inner))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

fn header_value(text: &str) -> Result<HeaderValue, AuthError> {
    HeaderValue::from_str(text).map_err(|_| AuthError("credentials contain characters not allowed in an HTTP header".into()))
}

fn read_secret_file(path: &str) -> Result<String, ComponentError> {
    std::fs::read_to_string(path).map(|s| s.trim_end_matches(['\r', '\n']).to_string()).map_err(|e| ComponentError(format!("reading {path}: {e}")))
}

/// HTTP basic authentication.
#[derive(Default)]
pub struct BasicAuth {
    client: Option<(String, String)>,
    /// user → stored password, from htpasswd lines and `username`/`password`.
    users: HashMap<String, Entry>,
}

impl BasicAuth {
    /// From the component's argument value (tests; the component decodes through its registration).
    pub fn from_args(args: &Value) -> Result<BasicAuth, ComponentError> {
        let name = "otelcol.auth.basic";
        crate::component::args::decode_checked::<BasicArgs>(name, &analyzer::args::with_defaults(name, args)).map(|a| a.0)
    }
}

/// `client_auth { … }`: the credentials the component sends, inline or from files.
#[derive(Default)]
struct ClientAuthArgs(String, String);

impl Arguments for ClientAuthArgs {
    fn decode(r: &mut Reader<'_>) -> Self {
        let mut user: String = r.get("username");
        let mut pass = r.get::<SecretText>("password").0;
        for (name, target) in [("username_file", &mut user), ("password_file", &mut pass)] {
            let file: String = r.get(name);
            if !file.is_empty() {
                match read_secret_file(&file) {
                    Ok(text) => *target = text,
                    Err(e) => r.error(name, e.0),
                }
            }
        }
        ClientAuthArgs(user, pass)
    }
}

/// `htpasswd { … }`: users and their hashed passwords.
#[derive(Default)]
struct HtpasswdArgs(HashMap<String, Entry>);

impl Arguments for HtpasswdArgs {
    fn decode(r: &mut Reader<'_>) -> Self {
        let mut users = HashMap::new();
        let file: String = r.get("file");
        let mut sources = Vec::new();
        if !file.is_empty() {
            match std::fs::read_to_string(&file) {
                Ok(text) => sources.push(("file", text)),
                Err(e) => r.error("file", format!("reading htpasswd file {file}: {e}")),
            }
        }
        sources.push(("inline", r.get::<String>("inline")));
        for (at, text) in sources {
            for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
                let Some((user, pass)) = line.split_once(':') else {
                    r.error(at, format!("htpasswd line for {line:?} has no ':'"));
                    continue;
                };
                match Entry::parse(pass) {
                    Ok(entry) => {
                        users.insert(user.to_string(), entry);
                    }
                    Err(e) => r.error(at, format!("htpasswd entry for user {user:?}: {e}")),
                }
            }
        }
        HtpasswdArgs(users)
    }
}

/// `otelcol.auth.basic`'s arguments: the authenticator they make.
#[derive(Default)]
pub struct BasicArgs(BasicAuth);

impl Arguments for BasicArgs {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&["debug_metrics"]);
        let username: String = r.get("username");
        let password = r.get::<SecretText>("password").0;
        let client_auth = r.block::<ClientAuthArgs>("client_auth");
        let htpasswd = r.block::<HtpasswdArgs>("htpasswd");
        let sources = !username.is_empty() || !password.is_empty() || client_auth.is_some() || htpasswd.is_some();
        r.check(sources, &[], "no credential source provided");
        r.check(username.is_empty() || !password.is_empty(), &["password", "username"], "no password provided");
        let client = match client_auth {
            Some(ClientAuthArgs(user, pass)) => Some((user, pass)),
            None if !username.is_empty() => Some((username.clone(), password.clone())),
            None => None,
        };
        let mut users = htpasswd.map(|h| h.0).unwrap_or_default();
        if !username.is_empty() {
            // `password` is the password itself, never a hash.
            users.insert(username, Entry::Plain(password));
        }
        BasicArgs(BasicAuth { client, users })
    }
}

impl Authenticator for BasicAuth {
    fn authenticate(&self, headers: &HeaderMap) -> Result<(), AuthError> {
        let value = headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let (user, pass) = value.and_then(crate::basic_auth::decode).ok_or_else(|| AuthError("missing or invalid basic auth credentials".into()))?;
        match self.users.get(&user) {
            Some(entry) if entry.verify(&pass) => Ok(()),
            _ => Err(AuthError("invalid basic auth credentials".into())),
        }
    }

    fn client_headers(&self) -> Result<Vec<(HeaderName, HeaderValue)>, AuthError> {
        let Some((user, pass)) = &self.client else {
            return Err(AuthError("otelcol.auth.basic has no client credentials (set client_auth)".into()));
        };
        Ok(vec![(http::header::AUTHORIZATION, header_value(&crate::basic_auth::header(user, pass))?)])
    }
}

/// A static bearer token in a configurable header.
pub struct BearerAuth {
    header: HeaderName,
    value: String,
}

impl BearerAuth {
    /// From the component's argument value (tests; the component decodes through its registration).
    pub fn from_args(args: &Value) -> Result<BearerAuth, ComponentError> {
        let name = "otelcol.auth.bearer";
        crate::component::args::decode_checked::<BearerArgs>(name, &analyzer::args::with_defaults(name, args))?
            .0
            .ok_or_else(|| ComponentError("no bearer token".into()))
    }
}

/// `otelcol.auth.bearer`'s arguments: the authenticator they make.
#[derive(Default)]
pub struct BearerArgs(Option<BearerAuth>);

impl Arguments for BearerArgs {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&["debug_metrics"]);
        let token = r.get::<SecretText>("token").0;
        let header: String = r.get("header");
        let scheme: String = r.get("scheme");
        let value = if scheme.is_empty() { token } else { format!("{scheme} {token}") };
        match HeaderName::from_bytes(header.to_ascii_lowercase().as_bytes()) {
            Ok(header) => BearerArgs(Some(BearerAuth { header, value })),
            Err(_) => {
                r.error("header", format!("invalid header name {header:?}"));
                BearerArgs(None)
            }
        }
    }
}

impl Authenticator for BearerAuth {
    fn authenticate(&self, headers: &HeaderMap) -> Result<(), AuthError> {
        match headers.get(&self.header).and_then(|v| v.to_str().ok()) {
            Some(v) if v == self.value => Ok(()),
            Some(_) => Err(AuthError("invalid bearer token".into())),
            None => Err(AuthError(format!("missing {} header", self.header))),
        }
    }

    fn client_headers(&self) -> Result<Vec<(HeaderName, HeaderValue)>, AuthError> {
        Ok(vec![(self.header.clone(), header_value(&self.value)?)])
    }
}

pub const BASIC: Registration = Registration::component::<BasicArgs>("otelcol.auth.basic", &["handler"], build_basic);
pub const BEARER: Registration = Registration::component::<BearerArgs>("otelcol.auth.bearer", &["handler"], build_bearer);

/// An auth component: exports `handler` and then only waits; arguments are fixed at build
/// (a changed argument rebuilds the handler and republishes it).
struct AuthComponent {
    ctx: Context,
    make: fn(&Value) -> Result<Arc<dyn Authenticator>, ComponentError>,
}

impl AuthComponent {
    fn publish(&self, args: &Value) -> Result<(), ComponentError> {
        let handler = AuthHandler::new(self.ctx.id(), (self.make)(args)?);
        let mut exports = Object::ordered();
        exports.insert("handler", Value::Capsule(eval::Capsule::new(handler)));
        self.ctx.set_exports(Value::object(exports));
        Ok(())
    }
}

impl Component for AuthComponent {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        self.publish(&args)
    }
}

pub(crate) fn build_auth(
    ctx: Context,
    args: Value,
    make: fn(&Value) -> Result<Arc<dyn Authenticator>, ComponentError>,
) -> Result<Arc<dyn Component>, ComponentError> {
    let c = AuthComponent { ctx, make };
    c.publish(&args)?;
    Ok(Arc::new(c))
}

fn build_basic(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    build_auth(ctx, args, |a| Ok(Arc::new(BasicAuth::from_args(a)?)))
}

fn build_bearer(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    build_auth(ctx, args, |a| Ok(Arc::new(BearerAuth::from_args(a)?)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn obj(pairs: &[(&str, Value)]) -> Value {
        let mut o = Object::new();
        for (k, v) in pairs {
            o.insert(*k, v.clone());
        }
        Value::object(o)
    }

    #[test]
    fn bearer_adds_and_checks_the_header() {
        let b =
            BearerAuth::from_args(&obj(&[("token", Value::secret("t0k")), ("scheme", Value::string("Bearer")), ("header", Value::string("Authorization"))]))
                .unwrap();
        let h = b.client_headers().unwrap();
        assert_eq!(h[0].1, "Bearer t0k");
        let mut headers = HeaderMap::new();
        assert!(b.authenticate(&headers).is_err());
        headers.insert(http::header::AUTHORIZATION, HeaderValue::from_static("Bearer nope"));
        assert!(b.authenticate(&headers).is_err());
        headers.insert(http::header::AUTHORIZATION, h[0].1.clone());
        assert!(b.authenticate(&headers).is_ok());
    }

    #[test]
    fn basic_round_trips_and_checks_hashed_htpasswd_entries() {
        let b = BasicAuth::from_args(&obj(&[("username", Value::string("u")), ("password", Value::secret("p"))])).unwrap();
        let mut headers = HeaderMap::new();
        for (k, v) in b.client_headers().unwrap() {
            headers.insert(k, v);
        }
        assert!(b.authenticate(&headers).is_ok());
        headers.insert(http::header::AUTHORIZATION, HeaderValue::from_static("Basic dTp4")); // u:x
        assert!(b.authenticate(&headers).is_err());
        assert!(BasicAuth::from_args(&obj(&[])).is_err());
        let hashed = BasicAuth::from_args(&obj(&[(
            "htpasswd",
            obj(&[("inline", Value::string("# users\nann:$apr1$abcdefgh$h9FWgUz3n9YxylKLlR5SQ/\nbob:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=\n"))]),
        )]))
        .unwrap();
        let basic = |creds: &str| {
            let mut h = HeaderMap::new();
            h.insert(http::header::AUTHORIZATION, header_value(&format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(creds))).unwrap());
            h
        };
        assert!(hashed.authenticate(&basic("ann:secret")).is_ok());
        assert!(hashed.authenticate(&basic("bob:secret")).is_ok());
        assert!(hashed.authenticate(&basic("ann:wrong")).is_err());
        assert!(hashed.authenticate(&basic("carl:secret")).is_err());
        let unsupported = obj(&[("htpasswd", obj(&[("inline", Value::string("u:$6$salt$hash"))]))]);
        assert!(BasicAuth::from_args(&unsupported).err().is_some_and(|e| e.0.contains("htpasswd entry for user \"u\"")));
    }
}
