//! Target groups as Prometheus' file and HTTP discovery read them: a JSON (or, for files,
//! YAML) list of `{"targets": ["host:port", ...], "labels": {"name": "value", ...}}`.
//!
//! Decoding is as strict as upstream's: an unknown field in a group, a `null` group, a
//! non-string target or label value (JSON), or an empty label name refuse the whole
//! document, so a half-read file never replaces good targets.

use std::collections::BTreeMap;

use eval::Value;

use super::Target;

/// One group: addresses sharing a set of labels.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Group {
    pub targets: Vec<String>,
    pub labels: BTreeMap<String, String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Yaml,
}

impl Format {
    fn prefix(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Yaml => "yaml",
        }
    }
}

/// Groups from JSON text (`null` is no groups).
pub fn parse_json(text: &[u8]) -> Result<Vec<Group>, String> {
    let v = eval::json::decode(text, false).map_err(|e| format!("json: {e}"))?;
    groups(&v, Format::Json)
}

/// Groups from YAML text (an empty document is no groups).
pub fn parse_yaml(text: &[u8]) -> Result<Vec<Group>, String> {
    let v = eval::yaml::decode(text)?;
    groups(&v, Format::Yaml)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Bool(_) => "bool",
        Value::Array(_) | Value::Bytes(_) => "array",
        Value::Object(_) => "object",
        _ => "value",
    }
}

fn groups(v: &Value, f: Format) -> Result<Vec<Group>, String> {
    let items = match v {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        other => return Err(format!("{}: cannot unmarshal {} into a list of target groups", f.prefix(), kind(other))),
    };
    items.iter().enumerate().map(|(i, g)| group(g, f).map_err(|e| format!("target group {i}: {e}"))).collect()
}

fn group(v: &Value, f: Format) -> Result<Group, String> {
    let o = match v {
        Value::Null => return Err("nil target group item found".into()),
        Value::Object(o) => o,
        other => return Err(format!("{}: cannot unmarshal {} into a target group", f.prefix(), kind(other))),
    };
    let mut g = Group::default();
    for (k, v) in o.entries() {
        match k.as_str() {
            "targets" => match v {
                Value::Null => {}
                Value::Array(items) => {
                    for t in items.iter() {
                        g.targets.push(text(t, f).ok_or_else(|| format!("{}: cannot unmarshal {} into a target address", f.prefix(), kind(t)))?);
                    }
                }
                other => return Err(format!("{}: cannot unmarshal {} into the list of targets", f.prefix(), kind(other))),
            },
            "labels" => match v {
                Value::Null => {}
                Value::Object(labels) => {
                    for (name, value) in labels.entries() {
                        if name.is_empty() {
                            return Err(format!("{:?} is not a valid label name", name.as_str()));
                        }
                        let value = text(value, f)
                            .ok_or_else(|| format!("{}: cannot unmarshal {} into the value of label {:?}", f.prefix(), kind(value), name.as_str()))?;
                        g.labels.insert(name.to_string(), value);
                    }
                }
                other => return Err(format!("{}: cannot unmarshal {} into the labels", f.prefix(), kind(other))),
            },
            other => return Err(format!("{}: unknown field {other:?}", f.prefix())),
        }
    }
    Ok(g)
}

/// A scalar as label text: JSON takes strings only; YAML also takes the other scalars
/// (`port: 80`), as go-yaml decodes them into strings.
fn text(v: &Value, f: Format) -> Option<String> {
    match (v, f) {
        (Value::String(s), _) => Some(s.to_string_lossy().into_owned()),
        (Value::Number(_) | Value::Bool(_), Format::Yaml) => Some(eval::render::render(v)),
        (Value::Null, Format::Yaml) => Some(String::new()),
        _ => None,
    }
}

/// The targets of `groups`: each address with its group's labels, the discovery's meta
/// label (`__meta_filepath`, `__meta_url`) and `__address__`. A target's own labels win over
/// its group's, and the meta label over a group label of the same name (as upstream).
pub fn flatten(groups: &[Group], meta: (&str, &str)) -> Vec<Target> {
    let mut out = Vec::new();
    for g in groups {
        for address in &g.targets {
            let mut t = g.labels.clone();
            t.insert(meta.0.to_string(), meta.1.to_string());
            t.insert("__address__".to_string(), address.clone());
            out.push(t);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::testing::target;

    #[test]
    fn json_groups_become_targets() {
        let text = br#"[
            {"targets": ["a:1", "b:2"], "labels": {"job": "x", "__address__": "ignored"}},
            {"targets": [], "labels": {"job": "empty"}},
            {"targets": ["c:3"]}
        ]"#;
        let groups = parse_json(text).unwrap();
        assert_eq!(groups.len(), 3);
        let targets = flatten(&groups, ("__meta_url", "http://sd"));
        assert_eq!(
            targets,
            vec![
                target(&[("__address__", "a:1"), ("__meta_url", "http://sd"), ("job", "x")]),
                target(&[("__address__", "b:2"), ("__meta_url", "http://sd"), ("job", "x")]),
                target(&[("__address__", "c:3"), ("__meta_url", "http://sd")]),
            ]
        );
    }

    #[test]
    fn yaml_groups_take_scalars_as_text() {
        let text = b"- targets: ['h:9100']\n  labels:\n    port: 80\n    tls: true\n    env: prod\n";
        let groups = parse_yaml(text).unwrap();
        assert_eq!(groups[0].targets, ["h:9100"]);
        assert_eq!(groups[0].labels, target(&[("env", "prod"), ("port", "80"), ("tls", "true")]));
        assert!(parse_yaml(b"").unwrap().is_empty(), "an empty file has no groups");
    }

    #[test]
    fn bad_documents_are_refused_whole() {
        assert!(parse_json(b"[{\"targets\": [\"a\"], \"extra\": 1}]").unwrap_err().contains("unknown field \"extra\""));
        assert!(parse_json(b"[null]").unwrap_err().contains("nil target group item found"));
        assert!(parse_json(b"{\"targets\": []}").unwrap_err().contains("cannot unmarshal object"));
        assert!(parse_json(b"[{\"targets\": [1]}]").unwrap_err().contains("cannot unmarshal number"));
        assert!(parse_json(b"[{\"labels\": {\"a\": 1}}]").unwrap_err().contains("label \"a\""));
        assert!(parse_json(b"[{\"labels\": {\"\": \"x\"}}]").unwrap_err().contains("is not a valid label name"));
        assert!(parse_json(b"[{\"targets\": [").unwrap_err().starts_with("json: "));
        assert!(parse_yaml(b"- targets: [a\n").unwrap_err().starts_with("yaml: "));
        assert!(parse_yaml(b"- targets: [a]\n  label: {}\n").unwrap_err().contains("unknown field \"label\""));
        assert!(parse_yaml(b"just text").unwrap_err().contains("cannot unmarshal string"));
    }
}
