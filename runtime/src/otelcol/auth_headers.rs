//! `otelcol.auth.headers`: static headers that exporters add to every outgoing request.
//! Headers taken from the request's client metadata (`from_context`) or attributes
//! (`from_attribute`) and actions other than `upsert` are refused by name; the handler does
//! not authenticate incoming requests.

use std::sync::Arc;

use eval::Value;
use http::{HeaderMap, HeaderName, HeaderValue};

use crate::component::args::types::SecretText;
use crate::component::{Arguments, Component, ComponentError, Context, Reader, Registration};
use crate::otelcol::auth::{build_auth, AuthError, Authenticator};

const NAME: &str = "otelcol.auth.headers";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["handler"], build);

/// One `header` block.
#[derive(Default)]
struct Header(Option<(HeaderName, HeaderValue)>);

impl Arguments for Header {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&["from_context", "from_attribute"]);
        let key: String = r.get("key");
        let action: String = r.get("action");
        let value: Option<SecretText> = r.opt("value");
        if !action.eq_ignore_ascii_case("upsert") {
            r.error("action", format!("header action {} is not supported by this runtime yet (only \"upsert\")", syntax::quote::go_quote(&action)));
        }
        let Some(value) = value else {
            if !r.is_set("from_context") && !r.is_set("from_attribute") {
                r.error("key", format!("header {} needs a value", syntax::quote::go_quote(&key)));
            }
            return Header(None);
        };
        let name = HeaderName::from_bytes(key.as_bytes()).map_err(|_| format!("invalid header name {}", syntax::quote::go_quote(&key)));
        let value = HeaderValue::from_str(&value.0)
            .map_err(|_| format!("the value of header {} has characters not allowed in a header", syntax::quote::go_quote(&key)));
        match (name, value) {
            (Ok(n), Ok(v)) => Header(Some((n, v))),
            (Err(e), _) => {
                r.error("key", e);
                Header(None)
            }
            (_, Err(e)) => {
                r.error("value", e);
                Header(None)
            }
        }
    }
}

/// The component's arguments.
#[derive(Default)]
pub struct Args(Vec<(HeaderName, HeaderValue)>);

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&["debug_metrics"]);
        let headers: Vec<Header> = r.blocks("header");
        Args(headers.into_iter().filter_map(|h| h.0).collect())
    }
}

pub struct HeadersAuth {
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl HeadersAuth {
    pub fn from_args(args: &Value) -> Result<HeadersAuth, ComponentError> {
        crate::component::args::decode_checked::<Args>(NAME, args).map(|a| HeadersAuth { headers: a.0 })
    }
}

impl Authenticator for HeadersAuth {
    fn authenticate(&self, _headers: &HeaderMap) -> Result<(), AuthError> {
        Err(AuthError("otelcol.auth.headers only adds headers to outgoing requests; it cannot authenticate incoming ones".into()))
    }

    fn client_headers(&self) -> Result<Vec<(HeaderName, HeaderValue)>, AuthError> {
        Ok(self.headers.clone())
    }
}

fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    build_auth(ctx, args, |a| Ok(Arc::new(HeadersAuth::from_args(a)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(body: &str) -> Result<HeadersAuth, String> {
        let v = crate::component::args::evaluated(&format!("otelcol.auth.headers \"h\" {{\n{body}\n}}\n"))?;
        HeadersAuth::from_args(&v).map_err(|e| e.0)
    }

    #[test]
    fn static_headers_are_added_in_order() {
        let a = auth("  header {\n    key = \"X-Scope-OrgID\"\n    value = \"acme\"\n  }\n  header {\n    key = \"User-ID\"\n    value = \"u1\"\n  }").unwrap();
        let h = a.client_headers().unwrap();
        assert_eq!(h.iter().map(|(k, v)| (k.as_str(), v.to_str().unwrap())).collect::<Vec<_>>(), [("x-scope-orgid", "acme"), ("user-id", "u1")]);
        assert!(a.authenticate(&HeaderMap::new()).is_err());
    }

    #[test]
    fn unsupported_and_invalid_headers_are_refused() {
        let err = |b: &str| auth(b).err().unwrap_or_default();
        assert!(err("  header {\n    key = \"X-Tenant\"\n    from_context = \"tenant\"\n  }").contains("\"from_context\" is not supported"));
        assert!(err("  header {\n    key = \"X-Tenant\"\n    value = \"a\"\n    action = \"delete\"\n  }").contains("action \"delete\" is not supported"));
        assert!(err("  header {\n    key = \"X-Tenant\"\n  }").contains("needs a value"));
        assert!(err("  header {\n    key = \"bad header\"\n    value = \"a\"\n  }").contains("invalid header name"));
    }
}
