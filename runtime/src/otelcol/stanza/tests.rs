//! Table-driven operator tests: an operator list (written as JSON for brevity), an input
//! entry, and the entries that must come out.

use std::time::{Duration, Instant};

use serde_json::{json, Value as Json};

use super::entry::{Entry, Val};
use super::*;

fn val(j: &Json) -> Val {
    match j {
        Json::Null => Val::Null,
        Json::Bool(b) => Val::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) if !n.is_f64() => Val::Int(i),
            _ => Val::Double(n.as_f64().unwrap_or(0.0)),
        },
        Json::String(s) => Val::Str(s.clone()),
        Json::Array(a) => Val::List(a.iter().map(val).collect()),
        Json::Object(o) => Val::Map(o.iter().map(|(k, v)| (k.clone(), val(v))).collect()),
    }
}

fn json_of(v: &Val) -> Json {
    match v {
        Val::Null => Json::Null,
        Val::Str(s) => json!(s),
        Val::Int(i) => json!(i),
        Val::Double(d) => json!(d),
        Val::Bool(b) => json!(b),
        Val::Bytes(b) => json!(b),
        Val::List(items) => Json::Array(items.iter().map(json_of).collect()),
        Val::Map(m) => Json::Object(m.iter().map(|(k, v)| (k.clone(), json_of(v))).collect()),
    }
}

/// An entry as JSON: body, attributes and resource always; the rest when set.
fn describe(e: &Entry) -> Json {
    let mut o = json!({
        "body": json_of(&e.body),
        "attributes": json_of(&Val::Map(e.attributes.clone())),
        "resource": json_of(&Val::Map(e.resource.clone())),
    });
    if e.timestamp != 0 {
        o["timestamp"] = json!(e.timestamp);
    }
    if e.severity != 0 || !e.severity_text.is_empty() {
        o["severity"] = json!(e.severity);
        o["severity_text"] = json!(e.severity_text);
    }
    if !e.scope_name.is_empty() {
        o["scope"] = json!(e.scope_name);
    }
    if !e.trace_id.is_empty() || !e.span_id.is_empty() || !e.trace_flags.is_empty() {
        o["trace"] = json!([crate::otelcol::hex(&e.trace_id), crate::otelcol::hex(&e.span_id), crate::otelcol::hex(&e.trace_flags)]);
    }
    o
}

fn entry(j: Json) -> Entry {
    let mut e = Entry { body: val(&j["body"]), ..Default::default() };
    if let Val::Map(m) = val(&j["attributes"]) {
        e.attributes = m;
    }
    if let Val::Map(m) = val(&j["resource"]) {
        e.resource = m;
    }
    e
}

fn pipeline(ops: Json) -> Pipeline {
    let Val::List(list) = val(&ops) else { panic!("operators are a list") };
    match Pipeline::build(&list) {
        Ok(p) => p,
        Err(e) => panic!("{ops}: {e:?}"),
    }
}

/// Runs entries through and returns what came out (held entries flushed) and the failures.
fn run(ops: Json, inputs: Vec<Json>) -> (Vec<Json>, Vec<Failure>) {
    let mut p = pipeline(ops);
    let (mut out, mut failures) = (Vec::new(), Vec::new());
    for i in inputs {
        p.process(entry(i), &mut out, &mut failures);
    }
    p.flush(Instant::now(), true, &mut out, &mut failures);
    (out.iter().map(describe).collect(), failures)
}

fn body(s: &str) -> Json {
    json!({ "body": s })
}

/// The entry a case expects: body, attributes, and extra fields merged in.
fn want(body: Json, attributes: Json, extra: Json) -> Json {
    let mut o = json!({ "body": body, "attributes": attributes, "resource": {} });
    if let Json::Object(x) = extra {
        for (k, v) in x {
            o[k] = v;
        }
    }
    o
}

const POD_LOG: &str = "/var/log/pods/shop_checkout-7d9f_49cc7c1f-d370-2c40/app/3.log";

/// A line read from a pod's log file.
fn pod(line: &str) -> Json {
    json!({ "body": line, "attributes": { "log.file.path": POD_LOG } })
}

/// What `container` makes of a pod's line.
fn container_out(body: &str, stream: &str, logtag: Option<&str>, ts: i64) -> Json {
    let mut attributes = json!({ "log.file.path": POD_LOG, "log.iostream": stream });
    if let Some(tag) = logtag {
        attributes["logtag"] = json!(tag);
    }
    json!({
        "body": body,
        "attributes": attributes,
        "resource": {
            "k8s.namespace.name": "shop",
            "k8s.pod.name": "checkout-7d9f",
            "k8s.pod.uid": "49cc7c1f-d370-2c40",
            "k8s.container.name": "app",
            "k8s.container.restart_count": "3",
        },
        "timestamp": ts,
        "severity": if stream == "stderr" { 17 } else { 9 },
        "severity_text": stream,
    })
}

struct Case {
    name: &'static str,
    ops: Json,
    input: Vec<Json>,
    output: Vec<Json>,
    /// How many failures are reported.
    failures: usize,
}

const NS: i64 = 1_000_000_000;

fn cases() -> Vec<Case> {
    let line = r#"{"level":"warn","msg":"disk low","n":3,"t":"2024-05-06T07:08:09Z"}"#;
    vec![
        Case {
            name: "json_parser into attributes, numbers as doubles",
            ops: json!([{ "type": "json_parser" }]),
            input: vec![body(line)],
            output: vec![want(json!(line), json!({"level": "warn", "msg": "disk low", "n": 3.0, "t": "2024-05-06T07:08:09Z"}), json!({}))],
            failures: 0,
        },
        Case {
            name: "json_parser with parse_ints, parse_to body, timestamp and severity sub-parsers",
            ops: json!([{ "type": "json_parser", "parse_to": "body", "parse_ints": true,
                "timestamp": { "parse_from": "body.t", "layout_type": "gotime", "layout": "2006-01-02T15:04:05Z07:00" },
                "severity": { "parse_from": "body.level" } }]),
            input: vec![body(line)],
            output: vec![want(
                json!({"level": "warn", "msg": "disk low", "n": 3, "t": "2024-05-06T07:08:09Z"}),
                json!({}),
                json!({"timestamp": 1_714_979_289 * NS, "severity": 13, "severity_text": "warn"}),
            )],
            failures: 0,
        },
        Case {
            name: "json_parser failure with on_error send passes the entry on",
            ops: json!([{ "type": "json_parser" }]),
            input: vec![body("not json")],
            output: vec![want(json!("not json"), json!({}), json!({}))],
            failures: 1,
        },
        Case {
            name: "on_error drop drops it",
            ops: json!([{ "type": "json_parser", "on_error": "drop_quiet" }]),
            input: vec![body("[1]"), body("{\"a\":\"b\"}")],
            output: vec![want(json!("{\"a\":\"b\"}"), json!({"a": "b"}), json!({}))],
            failures: 1,
        },
        Case {
            name: "regex_parser with strptime timestamp in a location",
            ops: json!([{ "type": "regex_parser", "regex": "^(?P<time>\\S+ \\S+) (?P<sev>\\w+) (?P<msg>.*)$",
                "timestamp": { "parse_from": "attributes.time", "layout": "%Y-%m-%d %H:%M:%S.%L", "location": "Europe/Paris" } }]),
            input: vec![body("2024-01-02 03:04:05.250 ERROR boom")],
            output: vec![want(
                json!("2024-01-02 03:04:05.250 ERROR boom"),
                json!({"time": "2024-01-02 03:04:05.250", "sev": "ERROR", "msg": "boom"}),
                // 03:04:05.25 in Paris (UTC+1 in January) is 02:04:05.25 UTC.
                json!({"timestamp": 1_704_161_045 * NS + 250_000_000}),
            )],
            failures: 0,
        },
        Case {
            name: "regex_parser that does not match",
            ops: json!([{ "type": "regex_parser", "regex": "^(?P<a>\\d+)$", "parse_from": "body" }]),
            input: vec![body("abc")],
            output: vec![want(json!("abc"), json!({}), json!({}))],
            failures: 1,
        },
        Case {
            name: "key_value_parser with quotes, and a custom pair delimiter",
            ops: json!([{ "type": "key_value_parser" }, { "type": "key_value_parser", "parse_from": "attributes.inner", "parse_to": "attributes.parsed", "delimiter": ":", "pair_delimiter": ";" }]),
            input: vec![body("a=1 msg=\"hello world\" inner='x:1; y:2'")],
            output: vec![want(
                json!("a=1 msg=\"hello world\" inner='x:1; y:2'"),
                json!({"a": "1", "msg": "hello world", "inner": "x:1; y:2", "parsed": {"x": "1", "y": "2"}}),
                json!({}),
            )],
            failures: 0,
        },
        Case {
            name: "csv_parser with quoted fields",
            ops: json!([{ "type": "csv_parser", "header": "id,name,note" }]),
            input: vec![body("7,\"Smith, J\",\"say \"\"hi\"\"\""), body("1,2")],
            output: vec![
                want(json!("7,\"Smith, J\",\"say \"\"hi\"\"\""), json!({"id": "7", "name": "Smith, J", "note": "say \"hi\""}), json!({})),
                want(json!("1,2"), json!({}), json!({})),
            ],
            failures: 1,
        },
        Case {
            name: "severity_parser mapping with a range and http classes, overwrite_text",
            ops: json!([{ "type": "severity_parser", "parse_from": "attributes.code", "overwrite_text": true,
                "mapping": { "error": "5xx", "warn": { "min": 400, "max": 404 }, "info": ["ok", "fine"] } }]),
            input: vec![
                json!({"body": "a", "attributes": {"code": "503"}}),
                json!({"body": "b", "attributes": {"code": 404}}),
                json!({"body": "c", "attributes": {"code": "FINE"}}),
                json!({"body": "d", "attributes": {"code": "weird"}}),
            ],
            output: vec![
                want(json!("a"), json!({"code": "503"}), json!({"severity": 17, "severity_text": "ERROR"})),
                want(json!("b"), json!({"code": 404}), json!({"severity": 13, "severity_text": "WARN"})),
                want(json!("c"), json!({"code": "FINE"}), json!({"severity": 9, "severity_text": "INFO"})),
                want(json!("d"), json!({"code": "weird"}), json!({"severity": 0, "severity_text": "UNDEFINED"})),
            ],
            failures: 0,
        },
        Case {
            name: "time_parser epoch milliseconds",
            ops: json!([{ "type": "time_parser", "parse_from": "attributes.ts", "layout_type": "epoch", "layout": "ms" }]),
            input: vec![json!({"body": "x", "attributes": {"ts": "1700000000123"}})],
            output: vec![want(json!("x"), json!({"ts": "1700000000123"}), json!({"timestamp": 1_700_000_000_123_000_000i64}))],
            failures: 0,
        },
        Case {
            name: "scope_name_parser and the parsers' scope_name block",
            ops: json!([
                { "type": "regex_parser", "regex": "^(?P<logger>\\S+) ", "scope_name": { "parse_from": "attributes.logger" } },
                { "type": "scope_name_parser", "parse_from": "attributes.other", "if": "attributes.other != nil" },
            ]),
            input: vec![body("com.shop.Cart added"), json!({"body": "x y", "attributes": {"other": "override"}})],
            output: vec![
                want(json!("com.shop.Cart added"), json!({"logger": "com.shop.Cart"}), json!({"scope": "com.shop.Cart"})),
                want(json!("x y"), json!({"logger": "x", "other": "override"}), json!({"scope": "override"})),
            ],
            failures: 0,
        },
        Case {
            name: "trace_parser from attributes",
            ops: json!([{ "type": "trace_parser" }]),
            input: vec![
                json!({"body": "x", "attributes": {"trace_id": "0102030405060708090a0b0c0d0e0f10", "span_id": "a1a2a3a4a5a6a7a8", "trace_flags": "01"}}),
            ],
            output: vec![want(
                json!("x"),
                json!({"trace_id": "0102030405060708090a0b0c0d0e0f10", "span_id": "a1a2a3a4a5a6a7a8", "trace_flags": "01"}),
                json!({"trace": ["0102030405060708090a0b0c0d0e0f10", "a1a2a3a4a5a6a7a8", "01"]}),
            )],
            failures: 0,
        },
        Case {
            name: "add, copy, move, remove",
            ops: json!([
                { "type": "add", "field": "resource.service", "value": "shop" },
                { "type": "add", "field": "attributes.nested", "value": { "k": [1, true] } },
                { "type": "copy", "from": "body", "to": "attributes.original" },
                { "type": "move", "from": "attributes.original", "to": "attributes.moved" },
                { "type": "remove", "field": "attributes.gone" },
            ]),
            input: vec![json!({"body": "line", "attributes": {"gone": "x"}})],
            output: vec![json!({"body": "line", "attributes": {"nested": {"k": [1, true]}, "moved": "line"}, "resource": {"service": "shop"}})],
            failures: 0,
        },
        Case {
            name: "remove of a missing field fails, the entry goes on",
            ops: json!([{ "type": "remove", "field": "attributes.none" }]),
            input: vec![body("x")],
            output: vec![want(json!("x"), json!({}), json!({}))],
            failures: 1,
        },
        Case {
            name: "retain keeps the listed attributes and leaves the body alone",
            ops: json!([{ "type": "retain", "fields": ["attributes.a", "attributes.c"] }]),
            input: vec![json!({"body": "x", "attributes": {"a": "1", "b": "2", "c": "3"}})],
            output: vec![want(json!("x"), json!({"a": "1", "c": "3"}), json!({}))],
            failures: 0,
        },
        Case {
            name: "flatten lifts a body map one level",
            ops: json!([{ "type": "json_parser", "parse_to": "body" }, { "type": "flatten", "field": "body.k" }]),
            input: vec![body(r#"{"k":{"a":"1","b":{"c":"2"}},"z":"3"}"#)],
            output: vec![want(json!({"a": "1", "b": {"c": "2"}, "z": "3"}), json!({}), json!({}))],
            failures: 0,
        },
        Case {
            name: "filter drops what the expression matches",
            ops: json!([{ "type": "filter", "expr": "body matches '^DEBUG' or attributes.skip == 'yes'" }]),
            input: vec![body("DEBUG x"), body("INFO y"), json!({"body": "z", "attributes": {"skip": "yes"}})],
            output: vec![want(json!("INFO y"), json!({}), json!({}))],
            failures: 0,
        },
        Case {
            name: "if skips the operator for entries it does not match",
            ops: json!([{ "type": "add", "field": "attributes.tag", "value": "err", "if": "body contains 'ERROR'" }]),
            input: vec![body("ERROR a"), body("INFO b")],
            output: vec![want(json!("ERROR a"), json!({"tag": "err"}), json!({})), want(json!("INFO b"), json!({}), json!({}))],
            failures: 0,
        },
        Case {
            name: "output jumps over operators",
            ops: json!([
                { "type": "noop", "output": "last" },
                { "type": "add", "field": "attributes.skipped", "value": "no" },
                { "type": "add", "id": "last", "field": "attributes.reached", "value": "yes" },
            ]),
            input: vec![body("x")],
            output: vec![want(json!("x"), json!({"reached": "yes"}), json!({}))],
            failures: 0,
        },
        Case {
            name: "router sends each entry along its first matching route, else to default, else drops it",
            ops: json!([
                { "type": "router", "routes": [
                    { "expr": "body startsWith '{'", "output": "json", "attributes": { "format": "json" } },
                    { "expr": "body contains '='", "output": ["kv"] },
                  ], "default": "plain" },
                { "type": "json_parser", "id": "json", "output": "end" },
                { "type": "key_value_parser", "id": "kv", "output": "end" },
                { "type": "add", "id": "plain", "field": "attributes.plain", "value": true },
                { "type": "noop", "id": "end" },
                { "type": "router", "id": "second", "routes": [{ "expr": "attributes.format != 'json'", "output": "last" }] },
                { "type": "noop", "id": "last" },
            ]),
            input: vec![body("{\"a\":\"1\"}"), body("k=v"), body("hello")],
            output: vec![want(json!("k=v"), json!({"k": "v"}), json!({})), want(json!("hello"), json!({"plain": true}), json!({}))],
            failures: 0,
        },
        Case {
            name: "regex_replace with groups and the well-known ANSI pattern, unquote, assign_keys",
            ops: json!([
                { "type": "regex_replace", "field": "body", "regex": "\\{(\\w*)\\}", "replace_with": "<${1}>" },
                { "type": "regex_replace", "field": "attributes.colored", "regex_name": "ansi_control_sequences" },
                { "type": "unquote", "field": "attributes.quoted" },
                { "type": "unquote", "field": "attributes.raw" },
                { "type": "assign_keys", "field": "attributes.list", "keys": ["n", "level"] },
            ]),
            input: vec![
                json!({"body": "{a}{bb}{}", "attributes": {"colored": "\u{1b}[31mred\u{1b}[0m", "quoted": "\"tab\\there \\u00e9\\x41\"", "raw": "`c:\\x`", "list": [1, "warn"]}}),
            ],
            output: vec![want(
                json!("<a><bb><>"),
                json!({"colored": "red", "quoted": "tab\there éA", "raw": "c:\\x", "list": {"n": 1, "level": "warn"}}),
                json!({}),
            )],
            failures: 0,
        },
        Case {
            name: "unquote of what is not quoted and assign_keys with the wrong count fail",
            ops: json!([{ "type": "unquote", "field": "body" }, { "type": "assign_keys", "field": "attributes.l", "keys": ["a"] }]),
            input: vec![json!({"body": "plain", "attributes": {"l": [1, 2]}})],
            output: vec![want(json!("plain"), json!({"l": [1, 2]}), json!({}))],
            failures: 2,
        },
        Case {
            name: "container: docker JSON, CRI-O and containerd lines with CRI partials joined, k8s metadata from the path",
            ops: json!([{ "type": "container", "severity": { "parse_from": "attributes[\"log.iostream\"]", "mapping": { "error": "stderr", "info": "stdout" } } }]),
            input: vec![
                pod(r#"{"log":"docker line\n","stream":"stderr","time":"2024-03-30T08:31:20.545192187Z"}"#),
                pod("2024-04-13T07:59:37.505201169-05:00 stdout F crio line"),
                pod("2023-06-22T10:27:25.813799277Z stdout P joined con"),
                pod("2023-06-22T10:27:25.813799278Z stdout F tainerd line"),
            ],
            output: vec![
                container_out("docker line\n", "stderr", None, 1_711_787_480_545_192_187),
                container_out("crio line", "stdout", Some("F"), 1_713_013_177_505_201_169),
                container_out("joined containerd line", "stdout", Some("P"), 1_687_429_645_813_799_277),
            ],
            failures: 0,
        },
        Case {
            name: "container: an unknown format and a path that is not a pod's fail",
            ops: json!([{ "type": "container" }]),
            input: vec![
                json!({"body": "just text", "attributes": {"log.file.path": "/tmp/x.log"}}),
                json!({"body": "2023-06-22T10:27:25.813799277Z stdout F x", "attributes": {"log.file.path": "/tmp/x.log"}}),
            ],
            output: vec![
                want(json!("just text"), json!({"log.file.path": "/tmp/x.log"}), json!({})),
                // Sent on as far as it was parsed (on_error = send), as upstream's parser does.
                want(
                    json!("x"),
                    json!({"log.file.path": "/tmp/x.log", "log.iostream": "stdout", "logtag": "F"}),
                    json!({"timestamp": 1_687_429_645_813_799_277i64}),
                ),
            ],
            failures: 2,
        },
        Case {
            name: "recombine with is_first_entry joins continuation lines per source",
            ops: json!([{ "type": "recombine", "combine_field": "body", "is_first_entry": "body matches '^\\\\d'", "source_identifier": "attributes.f" }]),
            input: vec![
                json!({"body": "1 start", "attributes": {"f": "a"}}),
                json!({"body": "  at x", "attributes": {"f": "a"}}),
                json!({"body": "9 other", "attributes": {"f": "b"}}),
                json!({"body": "  at y", "attributes": {"f": "a"}}),
                json!({"body": "2 next", "attributes": {"f": "a"}}),
            ],
            output: vec![
                want(json!("1 start\n  at x\n  at y"), json!({"f": "a"}), json!({})),
                want(json!("2 next"), json!({"f": "a"}), json!({})),
                want(json!("9 other"), json!({"f": "b"}), json!({})),
            ],
            failures: 0,
        },
        Case {
            name: "recombine with is_last_entry and newest",
            ops: json!([{ "type": "recombine", "combine_field": "body", "is_last_entry": "body endsWith '.'", "combine_with": " ", "overwrite_with": "newest" }]),
            input: vec![
                json!({"body": "a", "attributes": {"n": 1}}),
                json!({"body": "b.", "attributes": {"n": 2}}),
                json!({"body": "c.", "attributes": {"n": 3}}),
            ],
            output: vec![want(json!("a b."), json!({"n": 2}), json!({})), want(json!("c."), json!({"n": 3}), json!({}))],
            failures: 0,
        },
    ]
}

#[test]
fn operators_turn_entries_into_the_expected_ones() {
    for case in cases() {
        let (out, failures) = run(case.ops.clone(), case.input.clone());
        assert_eq!(out, case.output, "{}", case.name);
        assert_eq!(failures.len(), case.failures, "{}: {failures:?}", case.name);
    }
}

#[test]
fn recombine_holds_a_batch_until_its_flush_period() {
    let mut p = pipeline(json!([{ "type": "recombine", "combine_field": "body", "is_first_entry": "body startsWith 'S'", "force_flush_period": "100ms" }]));
    let (mut out, mut failures) = (Vec::new(), Vec::new());
    p.process(entry(body("S1")), &mut out, &mut failures);
    p.process(entry(body("more")), &mut out, &mut failures);
    p.flush(Instant::now(), false, &mut out, &mut failures);
    assert!(out.is_empty(), "held until the period passes");
    p.flush(Instant::now() + Duration::from_millis(150), false, &mut out, &mut failures);
    assert_eq!(out.iter().map(describe).collect::<Vec<_>>(), [want(json!("S1\nmore"), json!({}), json!({}))]);
}

/// Each bad configuration and the error expected (operator index, keys, message part).
#[test]
fn bad_configurations_are_reported_at_the_operator_and_key() {
    let cases: Vec<(Json, usize, Vec<&str>, &str)> = vec![
        (json!([{ "type": "json_parsr" }]), 0, vec!["type"], "did you mean \"json_parser\""),
        (json!([{ "type": "noop" }, { "type": "syslog_parser" }]), 1, vec!["type"], "not supported by this runtime yet"),
        (json!([{ "id": "x" }]), 0, vec![], "missing required field \"type\""),
        (json!([{ "type": "regex_parser" }]), 0, vec![], "missing required field \"regex\""),
        (json!([{ "type": "regex_parser", "regex": "(unclosed" }]), 0, vec!["regex"], "invalid regular expression"),
        (json!([{ "type": "regex_parser", "regex": "\\d+" }]), 0, vec!["regex"], "no named capture groups"),
        (json!([{ "type": "move", "from": "body" }]), 0, vec![], "missing required field \"to\""),
        (json!([{ "type": "add", "field": "labels.x", "value": "1" }]), 0, vec!["field"], "invalid field"),
        (json!([{ "type": "noop", "parse_from": "body" }]), 0, vec!["parse_from"], "unknown field"),
        (json!([{ "type": "json_parser", "prase_to": "body" }]), 0, vec!["prase_to"], "did you mean \"parse_to\""),
        (
            json!([{ "type": "json_parser", "timestamp": { "parse_from": "body.t", "layout": "%Q" } }]),
            0,
            vec!["timestamp", "layout"],
            "unsupported directive %Q",
        ),
        (json!([{ "type": "severity_parser", "parse_from": "body", "mapping": { "loud": "x" } }]), 0, vec!["mapping"], "unrecognized severity"),
        (json!([{ "type": "filter", "expr": "body == 'a' xor true" }]), 0, vec!["expr"], "unsupported operator \"xor\""),
        (json!([{ "type": "noop", "on_error": "panic" }]), 0, vec!["on_error"], "invalid on_error"),
        (json!([{ "type": "noop", "output": "nowhere" }]), 0, vec!["output"], "has no output \"nowhere\""),
        (json!([{ "type": "noop", "id": "a" }, { "type": "add", "id": "a" }]), 1, vec!["id"], "used twice"),
        (json!([{ "type": "noop", "id": "a", "output": "b" }, { "type": "noop", "id": "b", "output": "a" }]), 0, vec!["output"], "leads back to itself"),
        (json!([{ "type": "recombine", "combine_field": "body" }]), 0, vec![], "one of is_first_entry and is_last_entry"),
        (json!([{ "type": "add", "field": "body", "value": "EXPR(body)" }]), 0, vec!["value"], "EXPR"),
        (json!(["noop"]), 0, vec![], "an operator is an object"),
        (json!([{ "type": "regex_replace", "field": "body" }]), 0, vec![], "one of regex and regex_name"),
        (json!([{ "type": "regex_replace", "field": "body", "regex_name": "emoji" }]), 0, vec!["regex_name"], "unknown regex_name"),
        (json!([{ "type": "assign_keys", "field": "body" }]), 0, vec![], "missing required field \"keys\""),
        (json!([{ "type": "router", "routes": [{ "expr": "true" }] }]), 0, vec!["routes", "[0]"], "a route needs an output"),
        (json!([{ "type": "router", "routes": [{ "expr": "true", "output": "nope" }] }]), 0, vec!["routes"], "has no output \"nope\""),
        (json!([{ "type": "router", "default": "x", "output": "x" }, { "type": "noop", "id": "x" }]), 0, vec!["output"], "routes' outputs"),
        (json!([{ "type": "router" }]), 0, vec![], "routes or a default"),
        (
            json!([{ "type": "router", "routes": [{ "expr": "body == ", "output": "x" }] }, { "type": "noop", "id": "x" }]),
            0,
            vec!["routes", "[0]", "expr"],
            "invalid expression",
        ),
    ];
    for (ops, index, keys, what) in cases {
        let Val::List(list) = val(&ops) else { panic!() };
        let errors = Pipeline::build(&list).err().unwrap_or_else(|| panic!("{ops} should be refused"));
        let at = |e: &OperatorError| e.error.keys.iter().map(|k| k.to_string().trim_start_matches('.').to_string()).collect::<Vec<_>>();
        let found = errors.iter().any(|e| e.index == index && at(e) == keys && e.error.message.contains(what));
        assert!(found, "{ops}: expected {what:?} at operator {index} {keys:?}, got {errors:?}");
    }
}

#[test]
fn an_expression_error_carries_its_range_in_the_string() {
    let Val::List(list) = val(&json!([{ "type": "filter", "expr": "body == 'a' xor true" }])) else { panic!() };
    let errors = Pipeline::build(&list).err().unwrap_or_default();
    assert_eq!(errors.first().and_then(|e| e.error.within.clone()), Some(12..15));
}

#[test]
fn entries_become_records_grouped_by_resource() {
    let mut a = entry(json!({"body": "a", "attributes": {"k": 1}, "resource": {"host": "h1"}}));
    a.severity = 9;
    let b = entry(json!({"body": {"m": "x"}, "resource": {"host": "h2"}}));
    let c = entry(json!({"body": "c", "resource": {"host": "h1"}}));
    let mut d = entry(json!({"body": "d", "resource": {"host": "h1"}}));
    d.scope_name = "lib".into();
    let req = otlp::to_request(&[a, b, c, d]);
    assert_eq!(req.resource_logs.len(), 2);
    let counts: Vec<Vec<usize>> = req.resource_logs.iter().map(|r| r.scope_logs.iter().map(|s| s.log_records.len()).collect()).collect();
    assert_eq!(counts, [vec![2, 1], vec![1]], "records grouped by resource, then scope");
    let scopes: Vec<Option<String>> = req.resource_logs[0].scope_logs.iter().map(|s| s.scope.as_ref().map(|x| x.name.clone())).collect();
    assert_eq!(scopes, [None, Some("lib".to_string())]);
    let first = &req.resource_logs[0].scope_logs[0].log_records[0];
    assert_eq!(first.severity_number, 9);
    assert_eq!(first.attributes[0].key, "k");
}
