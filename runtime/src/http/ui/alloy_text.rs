//! Bodies in the web API's alloy-json encoding (`runtime/src/http/api.rs`) printed back as
//! Alloy source, for the component page: `name = value` attributes and nested blocks, with
//! the encoding's redactions (`(secret)`) kept as they are.

use serde_json::Value as Json;

/// Deeper values are cut with `…`: the page shows configuration, not arbitrary data.
const MAX_DEPTH: usize = 64;

/// The statements of a body, one per line, indented by `depth` tabs.
pub fn body(stmts: &[Json], depth: usize) -> String {
    let mut out = String::new();
    for s in stmts {
        let name = s.get("name").and_then(Json::as_str).unwrap_or("?");
        match s.get("type").and_then(Json::as_str) {
            Some("block") => {
                tabs(&mut out, depth);
                out.push_str(name);
                if let Some(label) = s.get("label").and_then(Json::as_str) {
                    out.push(' ');
                    out.push_str(&syntax::quote::go_quote(label));
                }
                let inner = s.get("body").and_then(Json::as_array).map(Vec::as_slice).unwrap_or_default();
                if inner.is_empty() {
                    out.push_str(" { }\n");
                } else {
                    out.push_str(" {\n");
                    out.push_str(&body(inner, depth + 1));
                    tabs(&mut out, depth);
                    out.push_str("}\n");
                }
            }
            _ => {
                tabs(&mut out, depth);
                out.push_str(&eval::render::render_key(name));
                out.push_str(" = ");
                value(s.get("value").unwrap_or(&Json::Null), depth, 0, &mut out);
                out.push('\n');
            }
        }
    }
    out
}

fn tabs(out: &mut String, depth: usize) {
    for _ in 0..depth.min(MAX_DEPTH) {
        out.push('\t');
    }
}

/// One `{"type","value"}` value, indented by `depth`, `level` values deep.
fn value(v: &Json, depth: usize, level: usize, out: &mut String) {
    if level > MAX_DEPTH {
        out.push('…');
        return;
    }
    let inner = v.get("value");
    match v.get("type").and_then(Json::as_str) {
        Some("number") => out.push_str(&inner.map(Json::to_string).unwrap_or_else(|| "0".into())),
        Some("string") => out.push_str(&syntax::quote::go_quote(inner.and_then(Json::as_str).unwrap_or_default())),
        Some("bool") => out.push_str(if inner.and_then(Json::as_bool).unwrap_or_default() { "true" } else { "false" }),
        Some("array") => {
            out.push('[');
            for (i, item) in inner.and_then(Json::as_array).into_iter().flatten().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                value(item, depth, level + 1, out);
            }
            out.push(']');
        }
        Some("object") => {
            let fields = inner.and_then(Json::as_array).map(Vec::as_slice).unwrap_or_default();
            if fields.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push_str("{\n");
            for f in fields {
                tabs(out, depth + 1);
                out.push_str(&eval::render::render_key(f.get("key").and_then(Json::as_str).unwrap_or("?")));
                out.push_str(" = ");
                value(f.get("value").unwrap_or(&Json::Null), depth + 1, level + 1, out);
                out.push_str(",\n");
            }
            tabs(out, depth);
            out.push('}');
        }
        Some("function") => out.push_str("function"),
        // Capsules are shown as the encoding names them: `(secret)`, `capsule("…")`, or a
        // secret that is not secret as its quoted text.
        Some("capsule") => out.push_str(inner.and_then(Json::as_str).unwrap_or("capsule")),
        _ => out.push_str("null"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_attributes_blocks_and_values_as_alloy() {
        let stmts: Vec<Json> = serde_json::from_str(
            r#"[
              {"name":"endpoint","type":"attr","value":{"type":"string","value":"localhost:4317"}},
              {"name":"weird key","type":"attr","value":{"type":"number","value":1.5}},
              {"name":"password","type":"attr","value":{"type":"capsule","value":"(secret)"}},
              {"name":"rule","type":"block","label":"a","body":[
                {"name":"enabled","type":"attr","value":{"type":"bool","value":true}},
                {"name":"labels","type":"attr","value":{"type":"object","value":[{"key":"job","value":{"type":"string","value":"x\"y"}}]}},
                {"name":"list","type":"attr","value":{"type":"array","value":[{"type":"number","value":1},{"type":"null"}]}}
              ]},
              {"name":"empty","type":"block","body":[]}
            ]"#,
        )
        .unwrap();
        assert_eq!(
            body(&stmts, 0),
            "endpoint = \"localhost:4317\"\n\"weird key\" = 1.5\npassword = (secret)\nrule \"a\" {\n\tenabled = true\n\tlabels = {\n\t\tjob = \"x\\\"y\",\n\t}\n\tlist = [1, null]\n}\nempty { }\n"
        );
    }

    #[test]
    fn deep_values_are_cut() {
        let mut v = serde_json::json!({"type":"number","value":1});
        for _ in 0..200 {
            v = serde_json::json!({"type":"array","value":[v]});
        }
        let text = body(&[serde_json::json!({"name":"x","type":"attr","value":v})], 0);
        assert!(text.contains('…') && text.len() < 300, "{text}");
    }
}
