use super::*;
use crate::otelcol::pdata::tests::{kv, traces};
use crate::otelcol::processor::rewrite::rules_of;
use opentelemetry_proto::tonic::common::v1::KeyValueList;

fn config(body: &str) -> Result<Arc<dyn Transform>, String> {
    rules_of::<Args>(&format!("otelcol.processor.redaction \"r\" {{\n{body}\n  output {{}}\n}}\n"))
}

fn text(attrs: &[KeyValue], k: &str) -> Option<String> {
    attrs.iter().find(|kv| kv.key == k).and_then(|kv| kv.value.as_ref()).map(crate::otelcol::processor::attributes::value_text)
}

fn span_attrs(r: &Arc<dyn Transform>, attrs: Vec<KeyValue>) -> Vec<KeyValue> {
    let mut req = traces(1, 1);
    req.resource_spans[0].scope_spans[0].spans[0].attributes = attrs;
    let out = r.process(Payload::from_traces(&req)).unwrap().unwrap().decode_traces().unwrap();
    out.resource_spans[0].scope_spans[0].spans[0].attributes.clone()
}

#[test]
fn keys_not_allowed_are_removed_and_blocked_values_masked_with_a_debug_summary() {
    let r = config(
        "  allowed_keys = [\"description\", \"group\", \"id\", \"name\", \"token_name\"]\n  ignored_keys = [\"safe_attribute\"]\n  blocked_values = [\"4[0-9]{12}(?:[0-9]{3})?\"]\n  blocked_key_patterns = [\".*token.*\"]\n  summary = \"debug\"",
    )
    .unwrap();
    let out = span_attrs(
        &r,
        vec![
            kv("id", "5"),
            kv("name", "card 4111111111111111 x"),
            kv("secret", "s"),
            kv("token_name", "abc"),
            kv("safe_attribute", "4111111111111"),
            kv("password", "p"),
        ],
    );
    assert_eq!(text(&out, "id").as_deref(), Some("5"));
    assert_eq!(text(&out, "name").as_deref(), Some("card **** x"));
    assert_eq!(text(&out, "token_name").as_deref(), Some("****"));
    assert_eq!(text(&out, "safe_attribute").as_deref(), Some("4111111111111"));
    assert_eq!((text(&out, "secret"), text(&out, "password")), (None, None));
    assert_eq!(text(&out, "redaction.redacted.keys").as_deref(), Some("password,secret"));
    assert_eq!(text(&out, "redaction.redacted.count").as_deref(), Some("2"));
    assert_eq!(text(&out, "redaction.masked.keys").as_deref(), Some("name,token_name"));
    assert_eq!(text(&out, "redaction.ignored.count").as_deref(), Some("1"));
}

#[test]
fn info_summary_counts_silent_writes_nothing_and_hashes_replace_stars() {
    let info = config("  allow_all_keys = true\n  blocked_values = [\"secret\"]\n  summary = \"info\"\n  hash_function = \"md5\"").unwrap();
    let out = span_attrs(&info, vec![kv("a", "my secret")]);
    // md5("secret")
    assert_eq!(text(&out, "a").as_deref(), Some("my 5ebe2294ecd0e0f08eab7690d2a6ee69"));
    assert_eq!(text(&out, "redaction.masked.count").as_deref(), Some("1"));
    assert_eq!(text(&out, "redaction.masked.keys"), None);
    let silent = config("  allow_all_keys = true\n  blocked_values = [\"secret\"]\n  summary = \"silent\"").unwrap();
    let out = span_attrs(&silent, vec![kv("a", "my secret")]);
    assert_eq!(out, [kv("a", "my ****")]);
}

#[test]
fn allowed_values_are_left_alone() {
    let r = config("  allow_all_keys = true\n  blocked_values = [\".+@.+\"]\n  allowed_values = [\".+@example.com\"]\n  summary = \"debug\"").unwrap();
    let out = span_attrs(&r, vec![kv("to", "ann@example.com"), kv("cc", "bob@evil.org")]);
    assert_eq!(text(&out, "to").as_deref(), Some("ann@example.com"));
    assert_eq!(text(&out, "cc").as_deref(), Some("****"));
    assert_eq!(text(&out, "redaction.allowed.keys").as_deref(), Some("to"));
}

#[test]
fn log_bodies_are_redacted_by_path() {
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    let r = config("  allowed_keys = [\"user\", \"name\"]\n  blocked_values = [\"[0-9]{4}\"]\n  summary = \"debug\"").unwrap();
    let nested = AnyValue { value: Some(any_value::Value::KvlistValue(KeyValueList { values: vec![kv("name", "pin 1234"), kv("ssn", "x")] })) };
    let body = AnyValue {
        value: Some(any_value::Value::KvlistValue(KeyValueList { values: vec![KeyValue { key: "user".into(), value: Some(nested), ..Default::default() }] })),
    };
    let req = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs { log_records: vec![LogRecord { body: Some(body), ..Default::default() }], ..Default::default() }],
            ..Default::default()
        }],
    };
    let out = r.process(Payload::from_logs(&req)).unwrap().unwrap().decode_logs().unwrap();
    let l = &out.resource_logs[0].scope_logs[0].log_records[0];
    assert_eq!(text(&l.attributes, "redaction.body.redacted.keys").as_deref(), Some("user.ssn"));
    assert_eq!(text(&l.attributes, "redaction.body.masked.keys").as_deref(), Some("user.name"));
    let rendered = crate::otelcol::processor::attributes::value_text(l.body.as_ref().unwrap());
    assert!(rendered.contains("pin ****") && !rendered.contains("ssn"), "{rendered}");
}

#[test]
fn unsupported_settings_are_refused() {
    let err = |b: &str| config(b).err().unwrap_or_default();
    assert!(err("  hash_function = \"hmac-sha256\"").contains("not supported by this runtime yet"));
    assert!(err("  hash_function = \"crc\"").contains("unknown HashFunction"));
    assert!(err("  blocked_values = [\"(\"]").contains("failed to process block list"));
    assert!(err("  redact_all_types = true").contains("not supported"));
}
