//! The checker's types: the value types of the language refined with the host types the
//! catalogue uses (durations, sizes, URLs, regular expressions, secrets and the capsules that
//! carry data between components).

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Capsule {
    /// `otelcol.Consumer`: the `input` of otelcol processors, exporters and connectors.
    OtelConsumer,
    /// `otelcol.Handler`: an extension handler (`otelcol.auth.*`, `otelcol.storage.file`).
    OtelHandler,
    /// Prometheus appendable: the `receiver` of `prometheus.remote_write`, `prometheus.relabel`, …
    MetricsReceiver,
    /// `loki.LogsReceiver`.
    LogsReceiver,
    /// `pyroscope.Appendable`.
    ProfilesReceiver,
    /// Relabel rules exported by `*.relabel` components.
    RelabelRules,
}

impl Capsule {
    pub fn as_str(self) -> &'static str {
        match self {
            Capsule::OtelConsumer => "otelcol.Consumer",
            Capsule::OtelHandler => "otelcol.Handler",
            Capsule::MetricsReceiver => "MetricsReceiver",
            Capsule::LogsReceiver => "LogsReceiver",
            Capsule::ProfilesReceiver => "ProfilesReceiver",
            Capsule::RelabelRules => "RelabelRules",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Ty {
    /// Unknown or unconstrained.
    Any,
    Null,
    String,
    Number,
    Bool,
    /// A string holding a Go or Prometheus duration (`"1m30s"`, `"1d"`).
    Duration,
    /// A string holding a byte size (`"4MiB"`).
    Size,
    /// A string holding a URL with a scheme.
    Url,
    /// A string holding a regular expression.
    Regex,
    Secret,
    /// A string or a secret (`local.file.content`).
    OptSecret,
    /// A struct-like object whose fields the catalogue does not describe.
    Object,
    List(Box<Ty>),
    Map(Box<Ty>),
    Capsule(Capsule),
    /// A stdlib function value.
    Function,
}

impl Ty {
    /// Parses the catalogue's type grammar.
    pub fn parse(s: &str) -> Option<Ty> {
        let s = s.trim();
        if let Some(inner) = s.strip_prefix("list(").and_then(|r| r.strip_suffix(')')) {
            return Some(Ty::List(Box::new(Ty::parse(inner)?)));
        }
        if let Some(inner) = s.strip_prefix("map(").and_then(|r| r.strip_suffix(')')) {
            return Some(Ty::Map(Box::new(Ty::parse(inner)?)));
        }
        Some(match s {
            "any" => Ty::Any,
            "string" => Ty::String,
            "number" => Ty::Number,
            "bool" => Ty::Bool,
            "duration" => Ty::Duration,
            "size" => Ty::Size,
            "url" => Ty::Url,
            "regex" => Ty::Regex,
            "secret" => Ty::Secret,
            "optsecret" => Ty::OptSecret,
            "object" => Ty::Object,
            "otelcol.Consumer" => Ty::Capsule(Capsule::OtelConsumer),
            "otelcol.Handler" => Ty::Capsule(Capsule::OtelHandler),
            "MetricsReceiver" => Ty::Capsule(Capsule::MetricsReceiver),
            "LogsReceiver" => Ty::Capsule(Capsule::LogsReceiver),
            "ProfilesReceiver" => Ty::Capsule(Capsule::ProfilesReceiver),
            "RelabelRules" => Ty::Capsule(Capsule::RelabelRules),
            _ => return None,
        })
    }

    /// Types whose values are strings in the language.
    pub fn is_stringish(&self) -> bool {
        matches!(self, Ty::String | Ty::Duration | Ty::Size | Ty::Url | Ty::Regex)
    }

    /// The language-level type name (`string`, `number`, `array`, …) as upstream's messages
    /// print them for values found.
    pub fn value_kind(&self) -> &'static str {
        match self {
            Ty::Any => "any",
            Ty::Null => "null",
            Ty::String | Ty::Duration | Ty::Size | Ty::Url | Ty::Regex => "string",
            Ty::Number => "number",
            Ty::Bool => "bool",
            Ty::Secret | Ty::OptSecret | Ty::Capsule(_) => "capsule",
            Ty::Object | Ty::Map(_) => "object",
            Ty::List(_) => "array",
            Ty::Function => "function",
        }
    }

    /// Element type of a list, value type of a map or object.
    pub fn element(&self) -> Ty {
        match self {
            Ty::List(t) | Ty::Map(t) => (**t).clone(),
            _ => Ty::Any,
        }
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Any => f.write_str("any"),
            Ty::Null => f.write_str("null"),
            Ty::String => f.write_str("string"),
            Ty::Number => f.write_str("number"),
            Ty::Bool => f.write_str("bool"),
            Ty::Duration => f.write_str("duration"),
            Ty::Size => f.write_str("size"),
            Ty::Url => f.write_str("url"),
            Ty::Regex => f.write_str("regex"),
            Ty::Secret => f.write_str("secret"),
            Ty::OptSecret => f.write_str("string or secret"),
            Ty::Object => f.write_str("object"),
            Ty::List(t) => write!(f, "list({t})"),
            Ty::Map(t) => write!(f, "map({t})"),
            Ty::Capsule(c) => f.write_str(c.as_str()),
            Ty::Function => f.write_str("function"),
        }
    }
}

/// Why a value of one type cannot be assigned to another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    pub expected: Ty,
    pub found: Ty,
    /// Set when the problem is a secret flowing into a plain string.
    pub secret: bool,
}

/// Whether a value statically known to have type `found` can be assigned to `expected`
/// (the language's conversions). Only certain failures are reported: anything that might convert at
/// run time passes.
pub fn assignable(found: &Ty, expected: &Ty) -> Result<(), Mismatch> {
    let fail = || Err(Mismatch { expected: expected.clone(), found: found.clone(), secret: false });
    match (found, expected) {
        (Ty::Any, _) | (_, Ty::Any) | (Ty::Null, _) => Ok(()),
        (Ty::Secret, e) if e.is_stringish() => Err(Mismatch { expected: expected.clone(), found: found.clone(), secret: true }),
        (f, e) if e.is_stringish() => match f {
            Ty::String | Ty::Duration | Ty::Size | Ty::Url | Ty::Regex | Ty::Number | Ty::OptSecret => Ok(()),
            // Byte arrays (encoding.from_base64) convert to strings.
            Ty::List(el) if matches!(**el, Ty::Number | Ty::Any) => Ok(()),
            _ => fail(),
        },
        (f, Ty::Number) => match f {
            Ty::Number | Ty::OptSecret => Ok(()),
            s if s.is_stringish() => Ok(()),
            _ => fail(),
        },
        (Ty::Bool, Ty::Bool) => Ok(()),
        (_, Ty::Bool) => fail(),
        (f, Ty::Secret | Ty::OptSecret) => match f {
            Ty::Secret | Ty::OptSecret | Ty::Number => Ok(()),
            s if s.is_stringish() => Ok(()),
            _ => fail(),
        },
        (Ty::List(f), Ty::List(e)) => assignable(f, e).map_err(|_| Mismatch { expected: expected.clone(), found: found.clone(), secret: false }),
        (_, Ty::List(_)) => fail(),
        (Ty::Map(f), Ty::Map(e)) => assignable(f, e).map_err(|_| Mismatch { expected: expected.clone(), found: found.clone(), secret: false }),
        (Ty::Object | Ty::Map(_), Ty::Map(_) | Ty::Object) => Ok(()),
        (_, Ty::Map(_) | Ty::Object) => fail(),
        (Ty::Capsule(a), Ty::Capsule(b)) if a == b => Ok(()),
        (_, Ty::Capsule(_)) => fail(),
        (Ty::Function, Ty::Function) => Ok(()),
        (_, Ty::Function) => fail(),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammar_round_trips() {
        for s in ["list(map(string))", "map(list(secret))", "list(otelcol.Consumer)", "string or secret"] {
            let t = Ty::parse(if s == "string or secret" { "optsecret" } else { s }).expect(s);
            assert_eq!(t.to_string(), s);
        }
        assert_eq!(Ty::parse("nope"), None);
    }

    #[test]
    fn capsules_do_not_mix() {
        let consumer = Ty::Capsule(Capsule::OtelConsumer);
        let metrics = Ty::Capsule(Capsule::MetricsReceiver);
        assert!(assignable(&consumer, &metrics).is_err());
        assert!(assignable(&metrics, &metrics).is_ok());
        assert!(assignable(&Ty::List(Box::new(consumer.clone())), &Ty::List(Box::new(metrics))).is_err());
        assert!(assignable(&Ty::String, &Ty::Secret).is_ok());
        assert!(assignable(&Ty::Secret, &Ty::String).unwrap_err().secret);
        assert!(assignable(&Ty::Bool, &Ty::String).is_err());
        assert!(assignable(&Ty::Number, &Ty::String).is_ok());
        assert!(assignable(&Ty::Any, &consumer).is_ok());
    }
}
