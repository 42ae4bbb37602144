//! `otelcol.receiver.loki`: exports a Loki `receiver`; every entry it gets becomes one OTLP
//! log record, in its own resource and scope, sent to `output.logs`. The stream labels become
//! record attributes and are listed in `loki.attribute.labels`, so an `otelcol.exporter.loki`
//! further on turns them back into labels.

use std::path::Path;
use std::sync::Arc;

use eval::{Object, Value};
use loki::Entry;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use tokio_util::sync::CancellationToken;

use crate::component::args::decode_checked;
use crate::component::{Arguments, BoxFuture, Component, ComponentError, Context, Reader, Registration};
use crate::loki::receiver::{Entries, Inbox};
use crate::otelcol::consumer::{Fanout, Output};
use crate::otelcol::log;
use crate::otelcol::pdata::Payload;

const NAME: &str = "otelcol.receiver.loki";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["receiver"], build);

#[derive(Default)]
pub struct Args {
    pub output: Output,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        Args { output: r.block_or_default("output") }
    }
}

fn string_kv(key: &str, value: &str) -> KeyValue {
    KeyValue { key: key.into(), value: Some(AnyValue { value: Some(any_value::Value::StringValue(value.into())) }), ..Default::default() }
}

/// One log record for an entry: labels (sorted by name), the label hint, the file
/// attributes, then the structured metadata.
pub fn to_record(e: &Entry, observed_ns: u64) -> LogRecord {
    let mut attributes: Vec<KeyValue> = e.labels.iter().map(|(k, v)| string_kv(k, v)).collect();
    let names: Vec<&str> = e.labels.iter().map(|(k, _)| k).collect();
    attributes.push(string_kv(crate::otelcol::exporter::loki::encode::HINT_ATTRIBUTES, &names.join(",")));
    if let Some(file) = e.labels.get("filename") {
        attributes.push(string_kv("log.file.path", file));
        let base = Path::new(file).file_name().and_then(|n| n.to_str()).unwrap_or(file);
        attributes.push(string_kv("log.file.name", base));
    }
    attributes.extend(e.structured_metadata.iter().map(|(k, v)| string_kv(k, v)));
    LogRecord {
        time_unix_nano: e.timestamp_ns.max(0) as u64,
        observed_time_unix_nano: observed_ns,
        body: Some(AnyValue { value: Some(any_value::Value::StringValue(e.line.clone())) }),
        attributes,
        ..Default::default()
    }
}

/// A batch of entries as one request: a resource and scope per entry.
pub fn to_request(entries: &[Entry], observed_ns: u64) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: entries
            .iter()
            .map(|e| ResourceLogs { scope_logs: vec![ScopeLogs { log_records: vec![to_record(e, observed_ns)], ..Default::default() }], ..Default::default() })
            .collect(),
    }
}

pub struct LokiReceiver {
    ctx: Context,
    inbox: Inbox,
    next: Fanout,
}

fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    let args: Args = decode_checked(NAME, &args)?;
    let c = Arc::new(LokiReceiver { inbox: Inbox::new(ctx.id()), next: Fanout::new(args.output).tapped(&ctx), ctx });
    let mut exports = Object::ordered();
    exports.insert("receiver", c.inbox.receiver().to_value());
    c.ctx.set_exports(Value::object(exports));
    Ok(c)
}

impl LokiReceiver {
    async fn forward(&self, entries: Entries) {
        if entries.is_empty() {
            return;
        }
        let observed = loki::Entry::nanos_of(std::time::SystemTime::now()).max(0) as u64;
        if let Err(e) = self.next.consume(Payload::from_logs(&to_request(&entries, observed))).await {
            log(self.ctx.id(), tracing::Level::ERROR, &format!("failed to consume log entries: {e}"));
        }
    }
}

impl Component for LokiReceiver {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        let args: Args = decode_checked(NAME, &args)?;
        self.next.set(args.output);
        Ok(())
    }

    fn run(self: Arc<Self>, shutdown: CancellationToken) -> BoxFuture<Result<(), ComponentError>> {
        Box::pin(async move {
            self.inbox.serve(shutdown, |entries| self.forward(entries)).await;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use prom::Labels;

    use super::*;
    use crate::loki::receiver::Fanout as LokiFanout;
    use crate::otelcol::consumer::tests::sink_handle;

    fn attrs(r: &LogRecord) -> Vec<(String, String)> {
        r.attributes
            .iter()
            .map(|kv| {
                let v = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                    Some(any_value::Value::StringValue(s)) => s.clone(),
                    other => format!("{other:?}"),
                };
                (kv.key.clone(), v)
            })
            .collect()
    }

    #[test]
    fn an_entry_becomes_one_record_with_its_labels_as_attributes() {
        let mut e = Entry::new(Labels::new([("job", "varlogs"), ("filename", "/var/log/app/x.log"), ("__internal", "i")]), 42, "hello");
        e.set_metadata("trace_id", "abc");
        let r = to_record(&e, 77);
        assert_eq!((r.time_unix_nano, r.observed_time_unix_nano), (42, 77));
        assert_eq!(r.body, Some(AnyValue { value: Some(any_value::Value::StringValue("hello".into())) }));
        let p = |k: &str, v: &str| (k.to_string(), v.to_string());
        assert_eq!(
            attrs(&r),
            [
                p("__internal", "i"),
                p("filename", "/var/log/app/x.log"),
                p("job", "varlogs"),
                p("loki.attribute.labels", "__internal,filename,job"),
                p("log.file.path", "/var/log/app/x.log"),
                p("log.file.name", "x.log"),
                p("trace_id", "abc"),
            ]
        );
        let plain = to_record(&Entry::new(Labels::new([("job", "a")]), 1, "x"), 0);
        assert_eq!(attrs(&plain), [p("job", "a"), p("loki.attribute.labels", "job")]);
    }

    #[test]
    fn the_loki_exporter_turns_the_labels_back() {
        let e = Entry::new(Labels::new([("job", "a"), ("env", "prod")]), 5, "line");
        let r = to_record(&e, 9);
        let back = crate::otelcol::exporter::loki::encode::to_entry(&r, &[], None, 0).expect("converts");
        assert_eq!(back.labels, Labels::new([("env", "prod"), ("job", "a"), ("exporter", "OTLP")]));
        assert_eq!((back.line.as_str(), back.timestamp_ns), (r#"{"body":"line"}"#, 5));
    }

    #[tokio::test]
    async fn entries_in_otlp_logs_out_through_the_capsules() {
        let (sink, handle) = sink_handle();
        let ctx = crate::component::detached_context("otelcol.receiver.loki.t");
        let c = Arc::new(LokiReceiver { inbox: Inbox::new(ctx.id()), next: Fanout::new(Output { logs: vec![handle], ..Default::default() }), ctx });
        let producer = LokiFanout::new(vec![c.inbox.receiver().clone()]);
        producer.send(vec![Entry::new(Labels::new([("job", "a")]), 1, "one"), Entry::new(Labels::new([("job", "b")]), 2, "two")]).await.expect("sent");
        let stop = CancellationToken::new();
        let run = tokio::spawn(c.clone().run(stop.clone()));
        for _ in 0..200 {
            if sink.items() == 2 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!(sink.items(), 2);
        stop.cancel();
        run.await.expect("joins").expect("runs");
        let received = sink.received.lock().unwrap().clone();
        let req = received[0].decode_logs().expect("logs");
        assert_eq!(req.resource_logs.len(), 2, "a resource per entry");
        let bodies: Vec<String> = req
            .resource_logs
            .iter()
            .flat_map(|rl| rl.scope_logs.iter().flat_map(|s| s.log_records.iter()))
            .map(|r| match r.body.as_ref().and_then(|b| b.value.as_ref()) {
                Some(any_value::Value::StringValue(s)) => s.clone(),
                _ => String::new(),
            })
            .collect();
        assert_eq!(bodies, ["one", "two"]);
    }
}
