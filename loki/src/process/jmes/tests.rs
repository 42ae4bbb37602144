use serde_json::{json, Value};

use super::*;

fn search(expr: &str, doc: &Value) -> Result<Value, String> {
    let e = Expr::parse(expr)?;
    let v = eval::eval(&e.node, doc).map(std::borrow::Cow::into_owned)?;
    if let Some(fast) = e.search(doc) {
        assert!(same(&fast, &v), "{expr}: the plain-path walk gives {fast}, the evaluator {v}");
    }
    Ok(v)
}

/// Equal JSON, numbers compared by value (to a relative 1e-9, for sums of decimals).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap_or(f64::NAN), y.as_f64().unwrap_or(f64::NAN));
            x == y || (x - y).abs() <= 1e-9 * x.abs().max(y.abs())
        }
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b)),
        (Value::Object(x), Value::Object(y)) => x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w))),
        _ => a == b,
    }
}

fn run_suite(file: &str, text: &str) -> (usize, Vec<String>) {
    let suites: Vec<Value> = serde_json::from_str(text).expect("suite json");
    let mut ran = 0;
    let mut failures = Vec::new();
    for suite in &suites {
        let given = &suite["given"];
        for case in suite["cases"].as_array().expect("cases") {
            let expr = case["expression"].as_str().expect("expression");
            ran += 1;
            let got = search(expr, given);
            match (case.get("error"), case.get("result"), &got) {
                (Some(_), _, Err(_)) => {}
                (Some(kind), _, Ok(v)) => failures.push(format!("{file}: {expr:?}: expected a {kind} error, got {v}")),
                (None, Some(want), Ok(v)) if same(want, v) => {}
                (None, want, got) => failures.push(format!("{file}: {expr:?}: expected {want:?}, got {got:?}")),
            }
        }
    }
    (ran, failures)
}

/// The official compliance suite (github.com/jmespath/jmespath.test, its `tests/*.json`), run
/// when `JMESPATH_COMPLIANCE_DIR` names a checkout's `tests` directory; the files are not kept
/// in this repository. Results are compared as JSON (numbers by value); error cases need only
/// fail, at compile time or when evaluated. All 892 cases of its 15 language files passed on
/// 5 Dec 2026 (benchmarks.json left out).
#[test]
fn official_compliance_suite_when_present() {
    let Some(dir) = std::env::var_os("JMESPATH_COMPLIANCE_DIR") else {
        eprintln!("JMESPATH_COMPLIANCE_DIR is not set: the official JMESPath compliance suite is not run");
        return;
    };
    let mut ran = 0;
    let mut failures = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir).expect("JMESPATH_COMPLIANCE_DIR is readable").filter_map(Result::ok).map(|e| e.path()).collect();
    files.sort();
    for path in files.iter().filter(|p| p.extension().is_some_and(|e| e == "json") && !p.ends_with("benchmarks.json")) {
        let text = std::fs::read_to_string(path).expect("read a suite file");
        let (n, f) = run_suite(&path.display().to_string(), &text);
        ran += n;
        failures.extend(f);
    }
    assert!(ran > 0, "no suite files in {}", std::path::Path::new(&dir).display());
    eprintln!("JMESPath compliance: {} of {ran} cases passed", ran - failures.len());
    assert!(failures.is_empty(), "{} of {ran} cases failed:\n{}", failures.len(), failures.join("\n"));
}

/// Projections, slices and functions as the specification describes them.
#[test]
fn projections_slices_and_functions_follow_the_specification() {
    let cases: &[(&str, Value, Value)] = &[
        ("foo[*].bar | [0]", json!({"foo": [{"bar": 1}, {"bar": 2}]}), json!(1)),
        ("foo[*].bar[0]", json!({"foo": [{"bar": [1, 2]}, {"bar": [3]}, {"x": 0}]}), json!([1, 3])),
        ("foo.*.x", json!({"foo": {"a": {"x": 1}, "b": {"x": 2}, "c": {}}}), json!([1, 2])),
        ("[0:5:2]", json!([0, 1, 2, 3, 4, 5]), json!([0, 2, 4])),
        ("[-2:]", json!([0, 1, 2, 3, 4, 5]), json!([4, 5])),
        ("@[]", json!([[1, [2]], 3]), json!([1, [2], 3])),
        ("reverse('abc')", json!({}), json!("cba")),
        ("not_null(missing, `null`, 'c')", json!({}), json!("c")),
        ("length('h\u{e9}llo')", json!({}), json!(5)),
        ("starts_with('abc', 'ab')", json!({}), json!(true)),
        ("merge(`{\"a\": 1}`, `{\"a\": 2, \"b\": 3}`)", json!({}), json!({"a": 2, "b": 3})),
        ("map(&n, items)", json!({"items": [{"n": 1}, {"m": 2}]}), json!([1, null])),
        ("avg(`[1, 2, 3]`)", json!({}), json!(2.0)),
        ("[floor(`1.5`), ceil(`1.5`)]", json!({}), json!([1, 2])),
        ("items[?name == 'b' || n == `2`].name", json!({"items": [{"name": "a", "n": 1}, {"name": "b"}, {"name": "c", "n": 2}]}), json!(["b", "c"])),
        ("\"a b\".c", json!({"a b": {"c": true}}), json!(true)),
        ("items[0].{n: n, t: tags[0]}", json!({"items": [{"n": 3, "tags": ["x"]}]}), json!({"n": 3, "t": "x"})),
        ("values(@)[?@ > `1`]", json!({"a": 1, "b": 2, "c": 3}), json!([2, 3])),
    ];
    for (expr, doc, want) in cases {
        let got = search(expr, doc).unwrap_or_else(|e| panic!("{expr}: {e}"));
        assert!(same(&got, want), "{expr}: got {got}, want {want}");
    }
}

#[test]
fn paths_fields_and_indexes() {
    let doc: Value = serde_json::from_str(r#"{"a":{"b":[1,{"c":"x"}]},"d.e":true}"#).expect("json");
    let get = |e: &str| Expr::parse(e).expect("parses").search(&doc);
    assert_eq!(get("a.b[1].c"), Some(json!("x")));
    assert_eq!(get("a.b[-2]"), Some(json!(1)));
    assert_eq!(get("\"d.e\""), Some(Value::Bool(true)));
    assert_eq!(get("a.missing"), Some(Value::Null));
    assert!(Expr::parse("a.").is_err() && Expr::parse("a[").is_err());
}

#[test]
fn plain_paths_keep_their_steps_for_the_fast_path() {
    for (e, first) in
        [("a", Some("a")), ("a.b[0].\"c d\"", Some("a")), ("a[-1][2]", Some("a")), ("a | b", Some("a")), ("[0].a", None), ("@.a", None), ("a[*].b", None)]
    {
        assert_eq!(Expr::parse(e).expect("parses").first_field(), first, "{e}");
    }
    let doc = json!({"a": {"b": [{"c d": 5}]}});
    let e = Expr::parse("a.b[0].\"c d\"").expect("parses");
    assert_eq!(e.search_rest(&doc["a"]), Some(json!(5)));
}

#[test]
fn the_rest_of_the_language() {
    let doc = json!({
        "level": "warn",
        "items": [{"name": "a", "n": 3, "tags": ["x"]}, {"name": "b", "n": 1, "tags": ["y", "z"]}, {"name": "c", "n": 2}],
        "meta": {"k1": "v1", "k2": "v2"},
    });
    let get = |e: &str| Expr::parse(e).expect(e).search(&doc).expect(e);
    assert_eq!(get("items[?n > `1`].name"), json!(["a", "c"]));
    assert_eq!(get("items[*].tags[]"), json!(["x", "y", "z"]));
    assert_eq!(get("items[1:].name"), json!(["b", "c"]));
    assert_eq!(get("items[::-2].n"), json!([2, 3]));
    assert_eq!(get("sort_by(items, &n)[0].name"), json!("b"));
    assert_eq!(get("max_by(items, &n).name"), json!("a"));
    assert_eq!(get("join(',', items[].name)"), json!("a,b,c"));
    assert_eq!(get("{lvl: level, count: length(items)}"), json!({"lvl": "warn", "count": 3}));
    assert_eq!(get("[level, meta.k1]"), json!(["warn", "v1"]));
    assert_eq!(get("meta.* | sort(@)"), json!(["v1", "v2"]));
    assert_eq!(get("level == 'warn' && !contains(keys(meta), 'k3')"), json!(true));
    assert_eq!(get("missing || `\"fallback\"`"), json!("fallback"));
    assert_eq!(get("sum(items[].n)"), json!(6));
    assert_eq!(get("to_string(items[0].n)"), json!("3"));
    assert_eq!(get("to_number('2.5')"), json!(2.5));
    assert_eq!(get("type(meta)"), json!("object"));
}

#[test]
fn runtime_type_errors_select_nothing() {
    let e = Expr::parse("abs(name)").expect("parses");
    assert_eq!(e.search(&json!({"name": "x"})), None);
    assert_eq!(e.search(&json!({"name": -2})), Some(json!(2)));
}

#[test]
fn compile_errors_say_what_is_wrong() {
    let err = |e: &str| Expr::parse(e).expect_err(e);
    assert!(err("nope(a)").contains("unknown function"), "{}", err("nope(a)"));
    assert!(err("abs(a, b)").contains("invalid arity"));
    assert!(err("a[::0]").contains("step"));
    assert!(err("a[?b = 'x']").contains("SyntaxError"));
    assert!(err("`{bad`").contains("invalid JSON literal"));
}

/// Deep nesting is refused when compiled, whichever way it nests, and neither compiling nor
/// refusing overflows the stack.
#[test]
fn deep_nesting_is_a_compile_error() {
    let n = 20_000;
    let deep = [
        format!("a{}", ".a".repeat(n)),
        format!("a{}", "[0]".repeat(n)),
        format!("{}a{}", "(".repeat(n), ")".repeat(n)),
        format!("{}a", "!".repeat(n)),
        format!("{}a", "a || ".repeat(n)),
        format!("{}a{}", "[".repeat(n), "]".repeat(n)),
        format!("{}a{}", "{k: ".repeat(n), "}".repeat(n)),
        format!("{}a{}", "abs(".repeat(n), ")".repeat(n)),
        format!("a{}", "[*]".repeat(n)),
        format!("a{}", "[]".repeat(n)),
        format!("{}a", "& ".repeat(n)),
        format!("a{}", " == a".repeat(n)),
    ];
    for e in &deep {
        let err = Expr::parse(e).expect_err(&e[..20]);
        assert!(err.len() < 300, "the message quotes a long expression shortened: {err}");
        assert!(err.contains("nested more than"), "{}: {err}", &e[..20]);
    }
    let ok = format!("a{}", ".a".repeat(MAX_DEPTH - 1));
    assert!(Expr::parse(&ok).is_ok());
}
