//! Rendering in Alloy syntax and the value JSON, snapshot-tested.

use eval::json::{value_json, JsonOptions};
use eval::render::render;
use eval::{eval_source, Scope};

fn value(src: &str) -> eval::Value {
    let mut scope = Scope::new();
    scope.set("s", eval::Value::secret("x"));
    scope.set("o", eval::Value::optional_secret("visible", false));
    eval_source(src, &scope).unwrap().0
}

const SAMPLE: &str = r#"{
    name = "prometheus", "my key" = null, port = 9090, ratio = 0.25, big = 1e21,
    tags = ["a", "b\n\"c\""], nested = {deep = {list = [1, {x = true}], empty = {}}},
    bytes = encoding.from_base64("aGk="), secret = s, optional = o, fn = sys.env,
    yaml = encoding.from_yaml("1: a"), "ünï" = "\xff",
}"#;

#[test]
fn alloy_rendering() {
    insta::assert_snapshot!("alloy_rendering", render(&value(SAMPLE)));
}

#[test]
fn json_rendering() {
    insta::assert_snapshot!("json_rendering", value_json(&value(SAMPLE), JsonOptions::default()).unwrap());
}

#[test]
fn scalars() {
    for (src, alloy, json) in [
        ("null", "null", r#"{"type":"null","value":null}"#),
        ("54", "54", r#"{"type":"number","value":54}"#),
        ("9223372036854775807", "9223372036854775807", r#"{"type":"number","value":9223372036854776000}"#),
        ("1e-7", "0.0000001", r#"{"type":"number","value":1e-7}"#),
        ("-0.0", "-0", r#"{"type":"number","value":-0}"#),
        ("\"<a&b>\"", r#""<a&b>""#, r#"{"type":"string","value":"\u003ca\u0026b\u003e"}"#),
        ("[]", "[]", r#"{"type":"array","value":[]}"#),
        ("{}", "{}", r#"{"type":"object","value":[]}"#),
        ("o", r#""visible""#, r#"{"type":"capsule","value":"\"visible\""}"#),
        ("sys.env", "function", r#"{"type":"function","value":"function"}"#),
    ] {
        let v = value(src);
        assert_eq!(render(&v), alloy, "{src}");
        assert_eq!(value_json(&v, JsonOptions::default()).unwrap(), json, "{src}");
    }
}

#[test]
fn rendering_is_formatter_stable() {
    for src in [SAMPLE, "{a = 1, bb = {c = [1, {d = \"x\"}]}, \"my key\" = null}", "[{a = 1}, {b = [{c = 2}, 3]}]", "{x = [[1, {y = 2}], {}], zz = {}}"] {
        let text = render(&value(src));
        let parsed = syntax::parse_expression(text.as_bytes());
        assert!(!parsed.has_errors(), "{text}");
        assert_eq!(syntax::format::format_expr(&parsed.tree, &parsed.lines), text);
    }
}
