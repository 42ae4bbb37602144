//! `otelcol.auth.basic` and `otelcol.auth.bearer`: the `handler` capsule
//! (`otelcol.Handler`) that exporters use to add credentials to outgoing requests and
//! receivers use to check incoming ones.

use std::collections::HashMap;
use std::sync::Arc;

use eval::decode::StructDecoder;
use eval::{CapsuleValue, Object, Secret, Value};
use http::{HeaderMap, HeaderName, HeaderValue};

use crate::component::{Component, ComponentError, Context, Registration};
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

    /// Decodes an optional `auth` argument (a value that is not a handler is an error).
    pub fn decode_optional(v: Option<&Value>) -> Result<Option<AuthHandler>, eval::ValueError> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(v) => eval::decode::decode_capsule::<AuthHandler>(v, HANDLER_TYPE).map(Some).map_err(|e| e.inside(eval::PathSeg::Field("auth".into()))),
        }
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
pub struct BasicAuth {
    client: Option<(String, String)>,
    /// user → stored password, from htpasswd lines and `username`/`password`.
    users: HashMap<String, Entry>,
}

impl BasicAuth {
    pub fn from_args(args: &Value) -> Result<BasicAuth, ComponentError> {
        let mut d = StructDecoder::new(args)?;
        let username: Option<String> = d.optional("username")?;
        let password: Option<Secret> = d.optional("password")?;
        let client_auth: Option<Value> = d.optional("client_auth")?;
        let htpasswd: Option<Value> = d.optional("htpasswd")?;
        let username = username.unwrap_or_default();
        let password = password.map(|p| p.expose().to_string_lossy().into_owned()).unwrap_or_default();
        if username.is_empty() && password.is_empty() && htpasswd.is_none() && client_auth.is_none() {
            return Err(ComponentError("no credential source provided".into()));
        }
        if !username.is_empty() && password.is_empty() {
            return Err(ComponentError("no password provided".into()));
        }
        let client = match &client_auth {
            Some(ca) => {
                let mut d = StructDecoder::new(ca)?;
                let mut user: String = d.optional("username")?.unwrap_or_default();
                let mut pass: String = d.optional::<Secret>("password")?.map(|p| p.expose().to_string_lossy().into_owned()).unwrap_or_default();
                if let Some(f) = d.optional::<String>("username_file")?.filter(|f| !f.is_empty()) {
                    user = read_secret_file(&f)?;
                }
                if let Some(f) = d.optional::<String>("password_file")?.filter(|f| !f.is_empty()) {
                    pass = read_secret_file(&f)?;
                }
                Some((user, pass))
            }
            None if !username.is_empty() => Some((username.clone(), password.clone())),
            None => None,
        };
        let mut lines = String::new();
        if let Some(h) = &htpasswd {
            let mut d = StructDecoder::new(h)?;
            if let Some(f) = d.optional::<String>("file")?.filter(|f| !f.is_empty()) {
                lines.push_str(&std::fs::read_to_string(&f).map_err(|e| ComponentError(format!("reading htpasswd file {f}: {e}")))?);
                lines.push('\n');
            }
            lines.push_str(&d.optional::<String>("inline")?.unwrap_or_default());
        }
        let mut users = HashMap::new();
        for line in lines.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
            let Some((user, pass)) = line.split_once(':') else {
                return Err(ComponentError(format!("htpasswd line for {:?} has no ':'", line)));
            };
            let entry = Entry::parse(pass).map_err(|e| ComponentError(format!("htpasswd entry for user {user:?}: {e}")))?;
            users.insert(user.to_string(), entry);
        }
        if !username.is_empty() {
            // `password` is the password itself, never a hash.
            users.insert(username, Entry::Plain(password));
        }
        Ok(BasicAuth { client, users })
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
    pub fn from_args(args: &Value) -> Result<BearerAuth, ComponentError> {
        let mut d = StructDecoder::new(args)?;
        let token: Secret = d.required("token")?;
        let header: String = d.optional("header")?.unwrap_or_else(|| "Authorization".into());
        let scheme: String = d.optional("scheme")?.unwrap_or_else(|| "Bearer".into());
        let token = token.expose().to_string_lossy().into_owned();
        let value = if scheme.is_empty() { token } else { format!("{scheme} {token}") };
        let header = HeaderName::from_bytes(header.to_ascii_lowercase().as_bytes()).map_err(|_| ComponentError(format!("invalid header name {header:?}")))?;
        Ok(BearerAuth { header, value })
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

crate::whole_arguments!(
    BasicArgs,
    BasicAuth,
    BasicAuth::from_args,
    [
        "username",
        "password",
        "client_auth.username",
        "client_auth.password",
        "client_auth.username_file",
        "client_auth.password_file",
        "htpasswd.file",
        "htpasswd.inline"
    ],
    unsupported["debug_metrics"]
);
crate::whole_arguments!(BearerArgs, BearerAuth, BearerAuth::from_args, ["token", "header", "scheme"], unsupported["debug_metrics"]);

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

fn build_auth(ctx: Context, args: Value, make: fn(&Value) -> Result<Arc<dyn Authenticator>, ComponentError>) -> Result<Arc<dyn Component>, ComponentError> {
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
