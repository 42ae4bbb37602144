//! Secrets never leak through rendering, value JSON, `Debug` or error messages.

use eval::json::{value_json, JsonOptions};
use eval::render::{render, render_with, RenderOptions};
use eval::testing::parse_binding;
use eval::{eval_and_decode, eval_source, Scope, Value};

const TEXT: &str = "hunter2-s3cr3t";

fn scope() -> Scope {
    let mut s = Scope::new();
    s.set("s", parse_binding(&format!("secret({TEXT:?})")).unwrap());
    s.set("os", parse_binding(&format!("optional_secret({TEXT:?}, true)")).unwrap());
    s
}

fn assert_clean(what: &str, text: &str) {
    assert!(!text.contains(TEXT) && !text.contains("hunter2"), "{what} leaks the secret: {text}");
}

#[test]
fn values_render_redacted() {
    let scope = scope();
    for src in ["s", "os", "[s, os]", "{a = s, b = {c = [os]}}", "s + \"x\"", "\"x\" + os", "coalesce(s, 1)"] {
        let (v, _) = eval_source(src, &scope).unwrap();
        assert_clean(&format!("render of {src}"), &render(&v));
        assert_clean(&format!("value JSON of {src}"), &value_json(&v, JsonOptions::default()).unwrap());
        assert_clean(&format!("Debug of {src}"), &format!("{v:?}"));
    }
    let (v, _) = eval_source("{a = s}", &scope).unwrap();
    assert_eq!(render(&v), "{\n\ta = (secret),\n}");
    assert_eq!(value_json(&v, JsonOptions::default()).unwrap(), r#"{"type":"object","value":[{"key":"a","value":{"type":"capsule","value":"(secret)"}}]}"#);
}

#[test]
fn explicit_unredaction_shows_the_text() {
    let (v, _) = eval_source("s", &scope()).unwrap();
    assert_eq!(render_with(&v, RenderOptions { unredact_secrets: true }), format!("{TEXT:?}"));
}

#[test]
fn errors_do_not_leak() {
    let scope = scope();
    let failing = [
        "s + 1",
        "s - 1",
        "-s",
        "!s",
        "s.field",
        "s[0]",
        "s()",
        "os * 2",
        "string.to_upper(s)",
        "string.join([s], \",\")",
        "encoding.from_json(s)",
        "sys.env(os)",
        "array.concat(s)",
        "array.group_by([{k = s}], \"k\", false)",
        "[s][1]",
        "{a = s}.b",
        "s < \"a\"",
    ];
    for src in failing {
        let err = eval_source(src, &scope).expect_err(src);
        assert_clean(&format!("error of {src}"), &err.render(""));
        assert_clean(&format!("diagnostics of {src}"), &format!("{:?}", err.diagnostics()));
    }
    for src in ["s", "os", "{a = s}", "[os]"] {
        for err in [
            eval_and_decode::<String>(src, &scope).map(|_| ()).unwrap_err(),
            eval_and_decode::<i64>(src, &scope).map(|_| ()).unwrap_err(),
            eval_and_decode::<Vec<String>>(src, &scope).map(|_| ()).unwrap_err(),
        ] {
            assert_clean(&format!("decode error of {src}"), &err.render(""));
        }
    }
}

#[test]
fn secret_value_debug_is_redacted() {
    let v = Value::secret(TEXT);
    assert_eq!(format!("{v:?}"), "Secret((secret))");
}
