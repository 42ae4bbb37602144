//! `alloy otel print-config`: the merged, expanded configuration as YAML, with secrets
//! redacted unless asked otherwise.

use yaml_rust2::{Yaml, YamlEmitter};

use crate::yaml::{Kind, Node};

/// What replaces a secret's value, as the collector prints opaque strings.
pub const REDACTED: &str = "[REDACTED]";

/// Whether a key holds a secret: the collector's opaque settings (passwords, tokens, keys,
/// client secrets). Every value of a `headers` map is one too, since headers carry credentials.
fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    ["password", "token", "secret", "api_key", "apikey", "key_pem", "private_key", "credentials"].iter().any(|s| k.contains(s))
        && !k.ends_with("_file")
        && !k.ends_with("_path")
}

/// The configuration as YAML text; `redact` hides secret values.
pub fn to_yaml(root: &Node, redact: bool) -> String {
    let doc = convert(root, redact, false);
    let mut out = String::new();
    let mut emitter = YamlEmitter::new(&mut out);
    emitter.multiline_strings(true);
    // Writing into a String cannot fail.
    let _ = emitter.dump(&doc);
    let body = out.strip_prefix("---\n").unwrap_or(&out);
    format!("{}\n", body.trim_end())
}

fn convert(n: &Node, redact: bool, secret: bool) -> Yaml {
    match &n.kind {
        Kind::Scalar { .. } if n.is_null() => Yaml::Null,
        Kind::Scalar { .. } if secret && redact => Yaml::String(REDACTED.into()),
        Kind::Scalar { text, quoted: true } => Yaml::String(text.clone()),
        Kind::Scalar { text, quoted: false } => Yaml::from_str(text),
        Kind::Seq(items) => Yaml::Array(items.iter().map(|i| convert(i, redact, secret)).collect()),
        Kind::Map(entries) => {
            let mut h = yaml_rust2::yaml::Hash::new();
            for (k, v) in entries {
                let key = k.scalar().unwrap_or_default();
                let secret = secret || is_secret_key(key) || (key == "headers" && matches!(v.kind, Kind::Map(_)));
                h.insert(Yaml::String(key.to_string()), convert(v, redact, secret));
            }
            Yaml::Hash(h)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_and_types_kept() {
        let src = b"exporters:\n  otlphttp:\n    endpoint: http://x:4318\n    headers:\n      X-Scope-OrgID: tenant\n    compression: none\n  kafka:\n    auth:\n      plain_text:\n        password: hunter2\n        password_file: /etc/pw\n    port: 9092\n    tls: 'true'\n";
        let root = crate::yaml::parse(src).expect("parses");
        let out = to_yaml(&root, true);
        assert!(out.contains("X-Scope-OrgID: \"[REDACTED]\""), "{out}");
        assert!(out.contains("password: \"[REDACTED]\""), "{out}");
        assert!(out.contains("password_file: /etc/pw"), "a path to a secret is not one: {out}");
        assert!(out.contains("port: 9092") && out.contains("tls: \"true\""), "ints stay ints, quoted strings stay strings: {out}");
        assert!(!out.contains("hunter2") && !out.contains("tenant"), "{out}");
        let plain = to_yaml(&root, false);
        assert!(plain.contains("password: hunter2") && plain.contains("X-Scope-OrgID: tenant"), "{plain}");
        let again = crate::yaml::parse(plain.as_bytes()).expect("the output parses");
        assert_eq!(to_yaml(&again, false), plain, "printing is stable");
    }
}
