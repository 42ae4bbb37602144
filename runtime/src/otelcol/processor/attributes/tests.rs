use super::*;
use crate::otelcol::pdata::tests::{kv, traces};
use eval::Object;

fn obj(pairs: &[(&str, Value)]) -> Value {
    let mut o = Object::new();
    for (k, v) in pairs {
        o.insert(*k, v.clone());
    }
    Value::object(o)
}

fn action(pairs: &[(&str, Value)]) -> Action {
    Action::from_value(&obj(pairs)).unwrap()
}

fn s(x: &str) -> Value {
    Value::string(x)
}

fn text(attrs: &[KeyValue], key: &str) -> Option<String> {
    position(attrs, key).and_then(|i| attrs[i].value.as_ref()).map(value_text)
}

#[test]
fn insert_update_upsert_delete_follow_their_presence_rules() {
    let actions = vec![
        action(&[("key", s("a")), ("action", s("insert")), ("value", s("new"))]),
        action(&[("key", s("b")), ("action", s("insert")), ("value", s("ignored"))]),
        action(&[("key", s("c")), ("action", s("update")), ("value", s("ignored"))]),
        action(&[("key", s("b")), ("action", s("update")), ("value", Value::int(7))]),
        action(&[("key", s("d")), ("action", s("upsert")), ("from_attribute", s("b"))]),
        action(&[("key", s("tenant")), ("action", s("upsert")), ("from_context", s("metadata.x-tenant"))]),
        action(&[("action", s("delete")), ("pattern", s("^tmp\\."))]),
    ];
    let mut attrs = vec![kv("b", "old"), kv("tmp.x", "1"), kv("tmp.y", "2")];
    let md: Metadata = Arc::new([("x-tenant".to_string(), vec!["acme".to_string()])].into_iter().collect());
    apply(&actions, &mut attrs, &md);
    let keys: Vec<_> = attrs.iter().map(|k| k.key.as_str()).collect();
    assert_eq!(keys, ["b", "a", "d", "tenant"]);
    assert_eq!(text(&attrs, "a").as_deref(), Some("new"));
    assert_eq!(text(&attrs, "b").as_deref(), Some("7"));
    assert_eq!(text(&attrs, "d").as_deref(), Some("7"));
    assert_eq!(text(&attrs, "tenant").as_deref(), Some("acme"));
}

#[test]
fn hash_extract_and_convert() {
    let actions = vec![
        action(&[("key", s("user")), ("action", s("hash"))]),
        action(&[("key", s("url")), ("action", s("extract")), ("pattern", s("^/api/(?P<version>v\\d+)/(?P<resource>\\w+)"))]),
        action(&[("key", s("code")), ("action", s("convert")), ("converted_type", s("int"))]),
        action(&[("key", s("bad")), ("action", s("convert")), ("converted_type", s("int"))]),
    ];
    let mut attrs = vec![kv("user", "alice"), kv("url", "/api/v2/orders?x=1"), kv("code", "404"), kv("bad", "x")];
    apply(&actions, &mut attrs, &Metadata::default());
    // sha1("alice")
    assert_eq!(text(&attrs, "user").as_deref(), Some("522b276a356bdf39013dfabea2cd43e141ecc9e8"));
    assert_eq!(text(&attrs, "version").as_deref(), Some("v2"));
    assert_eq!(text(&attrs, "resource").as_deref(), Some("orders"));
    let code = &attrs[position(&attrs, "code").unwrap()];
    assert_eq!(code.value.as_ref().unwrap().value, Some(any_value::Value::IntValue(404)));
    assert_eq!(text(&attrs, "bad").as_deref(), Some("x"), "a failed conversion leaves the value");
}

#[test]
fn invalid_actions_are_rejected_at_build() {
    let bad = [
        obj(&[("key", s("a")), ("action", s("insert"))]),
        obj(&[("key", s("a")), ("action", s("upsert")), ("value", s("x")), ("from_attribute", s("b"))]),
        obj(&[("key", s("a")), ("action", s("extract")), ("pattern", s("(no-names)"))]),
        obj(&[("key", s("a")), ("action", s("convert")), ("converted_type", s("float"))]),
        obj(&[("key", s("a")), ("action", s("frobnicate"))]),
    ];
    for b in bad {
        assert!(Action::from_value(&b).is_err(), "{b:?}");
    }
}

#[test]
fn include_and_exclude_select_spans() {
    let config = Config::decode(&obj(&[
        ("action", Value::array(vec![obj(&[("key", s("hit")), ("action", s("insert")), ("value", Value::Bool(true))])])),
        ("include", obj(&[("match_type", s("regexp")), ("services", Value::array(vec![s("svc[01]")]))])),
        ("exclude", obj(&[("match_type", s("strict")), ("span_names", Value::array(vec![s("r1s1")]))])),
    ]))
    .unwrap();
    let out = config.process(Payload::from_traces(&traces(3, 2))).unwrap();
    assert_eq!(out.items(), 6);
    let req = out.decode_traces().unwrap();
    let hits: Vec<_> = req
        .resource_spans
        .iter()
        .flat_map(|rs| rs.scope_spans.iter())
        .flat_map(|ss| ss.spans.iter())
        .filter(|s| position(&s.attributes, "hit").is_some())
        .map(|s| s.name.clone())
        .collect();
    assert_eq!(hits, ["r0s0", "r0s1", "r1s0"]);
}

#[test]
fn attribute_conditions_compare_values_strictly() {
    let config = Config::decode(&obj(&[
        ("action", Value::array(vec![obj(&[("key", s("env")), ("action", s("delete"))])])),
        ("include", obj(&[("match_type", s("strict")), ("resource", Value::array(vec![obj(&[("key", s("service.name")), ("value", s("svc1"))])]))])),
    ]))
    .unwrap();
    let mut req = traces(2, 1);
    for rs in &mut req.resource_spans {
        rs.scope_spans[0].spans[0].attributes.push(kv("env", "prod"));
    }
    let out = config.process(Payload::from_traces(&req)).unwrap().decode_traces().unwrap();
    assert!(position(&out.resource_spans[0].scope_spans[0].spans[0].attributes, "env").is_some());
    assert!(position(&out.resource_spans[1].scope_spans[0].spans[0].attributes, "env").is_none());
}
