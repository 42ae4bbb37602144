//! `otelcol.exporter.loki`: turns OTLP log records into Loki entries (see [`encode`]) and
//! gives them to every receiver in `forward_to`. A record that cannot be converted (an unknown
//! `loki.format`, a value JSON cannot hold) is logged, counted as failed and dropped; the
//! others still go.

pub mod encode;

use std::sync::Arc;

use eval::Value;

use crate::component::args::decode_checked;
use crate::component::{Arguments, Component, ComponentError, Context, Reader, Registration};
use crate::loki::receiver::{Entries, Fanout, LogsReceiver};
use crate::metrics::Counter;
use crate::otelcol::consumer::{ConsumeError, ConsumeFuture, Consumer, ConsumerHandle};
use crate::otelcol::log;
use crate::otelcol::pdata::{Payload, Signal};

const NAME: &str = "otelcol.exporter.loki";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["input"], build);

#[derive(Default)]
pub struct Args {
    pub forward_to: Vec<LogsReceiver>,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        Args { forward_to: r.get("forward_to") }
    }
}

struct Metrics {
    total: Counter,
    failed: Counter,
    processed: Counter,
}

pub struct Converter {
    id: String,
    fanout: Fanout,
    metrics: Metrics,
}

impl Converter {
    fn new(ctx: &Context, forward_to: Vec<LogsReceiver>) -> Self {
        let m = |n: &str, h: &str| ctx.counter_exact(n, h, &[]);
        Converter {
            id: ctx.id().to_string(),
            fanout: Fanout::new(forward_to).tapped(ctx),
            metrics: Metrics {
                total: m("otelcol_exporter_loki_entries_total", "Total number of log entries passed through the converter"),
                failed: m("otelcol_exporter_loki_entries_failed", "Total number of log entries failed to convert"),
                processed: m("otelcol_exporter_loki_entries_processed", "Total number of log entries successfully converted"),
            },
        }
    }

    /// Every record of the payload that converts, in order.
    pub fn convert(&self, data: &Payload) -> Result<Entries, ConsumeError> {
        let req = data.decode_logs().map_err(|e| ConsumeError::Permanent(e.to_string()))?;
        let now = loki::Entry::nanos_of(std::time::SystemTime::now());
        let mut out = Entries::new();
        for rl in &req.resource_logs {
            let resource = rl.resource.as_ref().map(|r| r.attributes.as_slice()).unwrap_or(&[]);
            for sl in &rl.scope_logs {
                for record in &sl.log_records {
                    self.metrics.total.inc();
                    match encode::to_entry(record, resource, sl.scope.as_ref(), now) {
                        Ok(e) => {
                            self.metrics.processed.inc();
                            out.push(e);
                        }
                        Err(e) => {
                            self.metrics.failed.inc();
                            log(&self.id, tracing::Level::ERROR, &format!("failed to convert log to loki entry: {e}"));
                        }
                    }
                }
            }
        }
        Ok(out)
    }
}

impl Consumer for Converter {
    fn consume(&self, data: Payload) -> ConsumeFuture<'_> {
        Box::pin(async move {
            if data.signal() != Signal::Logs {
                return Ok(());
            }
            let entries = self.convert(&data)?;
            // Upstream never refuses logs it has converted: a stopped receiver is only logged.
            if let Err(e) = self.fanout.send(entries).await {
                log(&self.id, tracing::Level::WARN, &e.to_string());
            }
            Ok(())
        })
    }
}

pub struct LokiExporter {
    converter: Arc<Converter>,
}

fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    let args: Args = decode_checked(NAME, &args)?;
    let converter = Arc::new(Converter::new(&ctx, args.forward_to));
    crate::otelcol::consumer::publish_input(&ctx, ConsumerHandle::new(ctx.id(), converter.clone()));
    Ok(Arc::new(LokiExporter { converter }))
}

impl Component for LokiExporter {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        let args: Args = decode_checked(NAME, &args)?;
        self.converter.fanout.set(args.forward_to);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue};
    use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    use opentelemetry_proto::tonic::resource::v1::Resource;

    use super::*;
    use crate::loki::receiver::channel;
    use crate::otelcol::pdata::tests::kv;

    fn rec(line: &str, attrs: Vec<opentelemetry_proto::tonic::common::v1::KeyValue>) -> LogRecord {
        LogRecord {
            body: Some(AnyValue { value: Some(any_value::Value::StringValue(line.into())) }),
            attributes: attrs,
            time_unix_nano: 11,
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn otlp_logs_in_entries_out_through_the_capsules() {
        let (a, mut ra) = channel("loki.echo.a", 4);
        let (b, mut rb) = channel("loki.echo.b", 4);
        let ctx = crate::component::detached_context("otelcol.exporter.loki.t");
        let converter = Arc::new(Converter::new(&ctx, vec![a, b]));
        let input = ConsumerHandle::new("otelcol.exporter.loki.t", converter.clone());
        let req = ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                resource: Some(Resource { attributes: vec![kv("service.name", "api")], ..Default::default() }),
                scope_logs: vec![ScopeLogs {
                    log_records: vec![
                        rec("one", vec![kv("loki.format", "raw")]),
                        rec("bad", vec![kv("loki.format", "yaml")]),
                        rec("two", vec![kv("level", "info"), kv("loki.attribute.labels", "level")]),
                    ],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        input.consume(Payload::from_logs(&req)).await.expect("logs are taken");
        for rx in [&mut ra, &mut rb] {
            let batch = rx.recv().await.expect("a batch");
            let got: Vec<(String, Option<&str>, i64)> = batch.iter().map(|e| (e.line.clone(), e.labels.get("level"), e.timestamp_ns)).collect();
            assert_eq!(got, [("one".to_string(), None, 11), (r#"{"body":"two","resources":{"service.name":"api"}}"#.to_string(), Some("info"), 11)]);
            assert_eq!(batch[0].labels.get("job"), Some("api"));
            assert_eq!(batch[0].labels.get("exporter"), Some("OTLP"));
        }
        let m = &converter.metrics;
        assert_eq!((m.total.get(), m.processed.get(), m.failed.get()), (3, 2, 1));
        // Other signals are ignored.
        input.consume(Payload::from_traces(&crate::otelcol::pdata::tests::traces(1, 1))).await.expect("ignored");
        assert_eq!(m.total.get(), 3);
    }
}
