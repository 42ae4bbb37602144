//! `otelcol.connector.spanlogs`: a log record per span, root span, process or span event,
//! its body the logfmt of the span's key/values (`span`, `dur`, `status`, chosen span
//! attributes, `svc`, chosen resource attributes, `tid`; names from `overrides`). One
//! resource-logs per input resource and one scope-logs per input scope, as upstream.

use std::sync::{Arc, RwLock};

use eval::Value;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use opentelemetry_proto::tonic::trace::v1::Span;

use super::logfmt::{self, LogfmtError};
use super::values::{get, id_hex, put, string};
use crate::component::args::decode_checked;
use crate::component::{Arguments, Component, ComponentError, Context, Reader, Registration};
use crate::otelcol::consumer::{ConsumeError, ConsumeFuture, Consumer, ConsumerHandle, Fanout, Output};
use crate::otelcol::log;
use crate::otelcol::pdata::{Payload, Signal};

const NAME: &str = "otelcol.connector.spanlogs";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["input"], build);

/// The key names of the log lines and the attribute naming the record's kind.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub logs_instance_tag: String,
    pub service_key: String,
    pub span_name_key: String,
    pub status_key: String,
    pub duration_key: String,
    pub trace_id_key: String,
}

impl Arguments for Overrides {
    fn decode(r: &mut Reader<'_>) -> Self {
        Overrides {
            logs_instance_tag: r.get("logs_instance_tag"),
            service_key: r.get("service_key"),
            span_name_key: r.get("span_name_key"),
            status_key: r.get("status_key"),
            duration_key: r.get("duration_key"),
            trace_id_key: r.get("trace_id_key"),
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Config {
    pub spans: bool,
    pub roots: bool,
    pub processes: bool,
    pub events: bool,
    pub span_attributes: Vec<String>,
    pub process_attributes: Vec<String>,
    pub event_attributes: Vec<String>,
    pub labels: Vec<String>,
    pub overrides: Overrides,
}

#[derive(Default)]
pub struct Args {
    pub config: Config,
    pub output: Output,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        let config = Config {
            spans: r.get("spans"),
            roots: r.get("roots"),
            processes: r.get("processes"),
            events: r.get("events"),
            span_attributes: r.get("span_attributes"),
            process_attributes: r.get("process_attributes"),
            event_attributes: r.get("event_attributes"),
            labels: r.get("labels"),
            overrides: r.block_or_default("overrides"),
        };
        Args { config, output: r.block_or_default("output") }
    }
}

/// The record kinds, named as upstream's `traces` attribute values.
const SPAN: &str = "span";
const ROOT: &str = "root";
const PROCESS: &str = "process";
const EVENT: &str = "event";

type KeyValues = Vec<KeyValue>;

impl Config {
    fn span_kvs(&self, out: &mut KeyValues, span: &Span) {
        let o = &self.overrides;
        put(out, &o.span_name_key, string(span.name.clone()));
        // The unsigned difference read as signed, as upstream computes it.
        let dur = span.end_time_unix_nano.wrapping_sub(span.start_time_unix_nano) as i64;
        put(out, &o.duration_key, string(format!("{dur}ns")));
        let code = span.status.as_ref().map_or(0, |s| s.code);
        // Unset is left out to keep lines short; the names are pdata's (`Ok`, `Error`).
        if code != StatusCode::Unset as i32 {
            let name = match StatusCode::try_from(code) {
                Ok(StatusCode::Ok) => "Ok".to_string(),
                Ok(StatusCode::Error) => "Error".to_string(),
                _ => String::new(),
            };
            put(out, &o.status_key, string(name));
        }
        copy_listed(out, &self.span_attributes, &span.attributes);
    }

    fn process_kvs(&self, out: &mut KeyValues, resource: &[KeyValue], svc: &str) {
        put(out, &self.overrides.service_key, string(svc));
        copy_listed(out, &self.process_attributes, resource);
    }

    fn record(&self, kind: &str, kvs: &KeyValues) -> Result<LogRecord, LogfmtError> {
        let body = logfmt::marshal(kvs.iter().map(|kv| (kv.key.as_str(), kv.value.as_ref())))?;
        let mut attributes = vec![KeyValue { key: self.overrides.logs_instance_tag.clone(), value: Some(string(kind)), ..Default::default() }];
        for kv in kvs.iter().filter(|kv| self.labels.contains(&kv.key)) {
            put(&mut attributes, &kv.key, kv.value.clone().unwrap_or_default());
        }
        Ok(LogRecord { body: (!body.is_empty()).then(|| string(body)), attributes, ..Default::default() })
    }

    /// The records of one scope's spans.
    fn scope_records(&self, spans: &[Span], resource: &[KeyValue], svc: &str) -> Result<Vec<LogRecord>, LogfmtError> {
        let mut out = Vec::new();
        let mut last_trace: Option<String> = None;
        for span in spans {
            let trace_id = id_hex(&span.trace_id);
            let root = self.roots && span.parent_span_id.iter().all(|b| *b == 0);
            let process = self.processes && last_trace.as_deref() != Some(trace_id.as_str());
            // Upstream stops at the first span that asks for no record, skipping the rest
            // of the scope; kept so that the same input gives the same records.
            if !self.spans && !root && !process && !self.events {
                break;
            }
            if process {
                let mut kvs = Vec::new();
                self.process_kvs(&mut kvs, resource, svc);
                put(&mut kvs, &self.overrides.trace_id_key, string(trace_id.clone()));
                out.push(self.record(PROCESS, &kvs)?);
                last_trace = Some(trace_id.clone());
            }
            let mut kvs = Vec::new();
            self.span_kvs(&mut kvs, span);
            self.process_kvs(&mut kvs, resource, svc);
            put(&mut kvs, &self.overrides.trace_id_key, string(trace_id));
            if self.spans {
                out.push(self.record(SPAN, &kvs)?);
            }
            if root {
                out.push(self.record(ROOT, &kvs)?);
            }
            if self.events {
                for event in &span.events {
                    let mut ekvs = kvs.clone();
                    copy_listed(&mut ekvs, &self.event_attributes, &event.attributes);
                    out.push(self.record(EVENT, &ekvs)?);
                }
            }
        }
        Ok(out)
    }

    /// The log request for a traces request.
    pub fn logs(&self, req: &ExportTraceServiceRequest) -> Result<ExportLogsServiceRequest, LogfmtError> {
        let mut resource_logs = Vec::with_capacity(req.resource_spans.len());
        for rs in &req.resource_spans {
            let resource: &[KeyValue] = rs.resource.as_ref().map_or(&[], |r| &r.attributes);
            let svc = match get(resource, "service.name").and_then(|v| v.value.as_ref()) {
                Some(opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(s)) => s.clone(),
                _ => String::new(),
            };
            let mut scope_logs = Vec::with_capacity(rs.scope_spans.len());
            for ss in &rs.scope_spans {
                scope_logs.push(ScopeLogs { log_records: self.scope_records(&ss.spans, resource, &svc)?, ..Default::default() });
            }
            resource_logs.push(ResourceLogs { scope_logs, ..Default::default() });
        }
        Ok(ExportLogsServiceRequest { resource_logs })
    }
}

/// Copies the listed attributes that are present, in the list's order.
fn copy_listed(out: &mut KeyValues, names: &[String], from: &[KeyValue]) {
    for name in names {
        if let Some(v) = get(from, name) {
            put(out, name, v.clone());
        }
    }
}

struct SpanLogsConsumer {
    config: RwLock<Arc<Config>>,
    next: Fanout,
}

impl Consumer for SpanLogsConsumer {
    fn consume(&self, data: Payload) -> ConsumeFuture<'_> {
        Box::pin(async move {
            if data.signal() != Signal::Traces {
                return Err(ConsumeError::Permanent(format!("{NAME} accepts traces, not {}", data.signal().name())));
            }
            let config = self.config.read().unwrap_or_else(|e| e.into_inner()).clone();
            let req = data.decode_traces().map_err(|e| ConsumeError::Permanent(e.to_string()))?;
            let logs = config.logs(&req).map_err(|e| ConsumeError::Permanent(format!("unable to marshal keyvals due to error: {e}")))?;
            self.next.consume(Payload::from_logs(&logs).with_metadata(data.metadata().clone())).await
        })
    }
}

pub struct SpanLogs {
    ctx: Context,
    consumer: Arc<SpanLogsConsumer>,
}

impl SpanLogs {
    fn warn_other_outputs(&self, output: &Output) {
        if !output.traces.is_empty() || !output.metrics.is_empty() {
            log(self.ctx.id(), tracing::Level::WARN, "non-log output detected; this component only works for log outputs and trace inputs");
        }
    }
}

pub fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    let Args { config, output } = decode_checked(NAME, &args)?;
    let consumer = Arc::new(SpanLogsConsumer { config: RwLock::new(Arc::new(config)), next: Fanout::new(Output::default()).tapped(&ctx) });
    crate::otelcol::consumer::publish_input(&ctx, ConsumerHandle::new(ctx.id(), consumer.clone()));
    let c = SpanLogs { ctx, consumer };
    c.warn_other_outputs(&output);
    c.consumer.next.set(output);
    Ok(Arc::new(c))
}

impl Component for SpanLogs {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        let Args { config, output } = decode_checked(NAME, &args)?;
        self.warn_other_outputs(&output);
        self.consumer.next.set(output);
        *self.consumer.config.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(config);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
