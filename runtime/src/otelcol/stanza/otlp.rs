//! Entries as OTLP logs: one `ResourceLogs` per distinct resource and, inside it, one
//! `ScopeLogs` per scope name, in the order they first appear.

use std::collections::BTreeMap;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;

use super::entry::{Entry, Val};

pub fn any_value(v: &Val) -> AnyValue {
    use any_value::Value as V;
    let value = match v {
        Val::Null => None,
        Val::Str(s) => Some(V::StringValue(s.clone())),
        Val::Int(i) => Some(V::IntValue(*i)),
        Val::Double(d) => Some(V::DoubleValue(*d)),
        Val::Bool(b) => Some(V::BoolValue(*b)),
        Val::Bytes(b) => Some(V::BytesValue(b.clone())),
        Val::List(items) => Some(V::ArrayValue(ArrayValue { values: items.iter().map(any_value).collect() })),
        Val::Map(m) => Some(V::KvlistValue(KeyValueList { values: key_values(m) })),
    };
    AnyValue { value }
}

fn key_values(m: &BTreeMap<String, Val>) -> Vec<KeyValue> {
    m.iter().map(|(k, v)| KeyValue { key: k.clone(), value: Some(any_value(v)), ..Default::default() }).collect()
}

fn record(e: &Entry) -> LogRecord {
    let flags = e.trace_flags.first().copied().map_or(0, u32::from);
    LogRecord {
        time_unix_nano: e.timestamp.max(0) as u64,
        observed_time_unix_nano: e.observed.max(0) as u64,
        severity_number: e.severity,
        severity_text: e.severity_text.clone(),
        body: Some(any_value(&e.body)),
        attributes: key_values(&e.attributes),
        flags,
        trace_id: e.trace_id.clone(),
        span_id: e.span_id.clone(),
        ..Default::default()
    }
}

pub fn to_request(entries: &[Entry]) -> ExportLogsServiceRequest {
    type Scopes<'e> = Vec<(&'e str, Vec<LogRecord>)>;
    let mut groups: Vec<(&BTreeMap<String, Val>, Scopes<'_>)> = Vec::new();
    for e in entries {
        let at = match groups.iter().position(|(r, _)| *r == &e.resource) {
            Some(i) => i,
            None => {
                groups.push((&e.resource, Vec::new()));
                groups.len() - 1
            }
        };
        let scopes = &mut groups[at].1;
        match scopes.iter_mut().find(|(name, _)| *name == e.scope_name) {
            Some((_, records)) => records.push(record(e)),
            None => scopes.push((&e.scope_name, vec![record(e)])),
        }
    }
    ExportLogsServiceRequest {
        resource_logs: groups
            .into_iter()
            .map(|(resource, scopes)| ResourceLogs {
                resource: Some(Resource { attributes: key_values(resource), ..Default::default() }),
                scope_logs: scopes
                    .into_iter()
                    .map(|(name, log_records)| ScopeLogs {
                        scope: (!name.is_empty()).then(|| InstrumentationScope { name: name.to_string(), ..Default::default() }),
                        log_records,
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            })
            .collect(),
    }
}
