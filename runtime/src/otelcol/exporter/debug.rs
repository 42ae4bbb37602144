//! `otelcol.exporter.debug`: writes what it receives through the process log (sampled, dumps
//! on standard error), or with `use_internal_logger = false` to `output_paths`. `basic` logs
//! counts; `normal` adds one line per item; `detailed` dumps every field in the collector's
//! layout. Only this exporter decodes the payload.

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::{Arc, RwLock};

use eval::Value;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::metric;

use crate::component::args::decode_checked;
use crate::component::{Arguments, Component, ComponentError, Context, Reader, Registration};
use crate::otelcol::consumer::{ConsumeError, ConsumeFuture, Consumer, ConsumerHandle};
use crate::otelcol::pdata::{Payload, Signal};
use crate::otelcol::{hex, log};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Verbosity {
    #[default]
    Basic,
    Normal,
    Detailed,
}

impl eval::Decode for Verbosity {
    fn decode(v: &Value) -> Result<Verbosity, eval::ValueError> {
        match String::decode(v)?.to_ascii_lowercase().as_str() {
            "basic" => Ok(Verbosity::Basic),
            "normal" => Ok(Verbosity::Normal),
            "detailed" => Ok(Verbosity::Detailed),
            o => Err(eval::ValueError::message(format!("unknown verbosity {o:?}: expected \"basic\", \"normal\" or \"detailed\""))),
        }
    }
}

pub fn any_value_text(v: &Option<AnyValue>) -> String {
    match v.as_ref().and_then(|v| v.value.as_ref()) {
        None => "Empty()".into(),
        Some(any_value::Value::StringValue(s)) => format!("Str({s})"),
        Some(any_value::Value::StringValueStrindex(i)) => format!("StrIndex({i})"),
        Some(any_value::Value::BoolValue(b)) => format!("Bool({b})"),
        Some(any_value::Value::IntValue(i)) => format!("Int({i})"),
        Some(any_value::Value::DoubleValue(d)) => format!("Double({d})"),
        Some(any_value::Value::BytesValue(b)) => format!("Bytes({})", hex(b)),
        Some(any_value::Value::ArrayValue(a)) => {
            format!("Slice([{}])", a.values.iter().map(|x| any_value_text(&Some(x.clone()))).collect::<Vec<_>>().join(", "))
        }
        Some(any_value::Value::KvlistValue(kv)) => {
            format!("Map({{{}}})", kv.values.iter().map(|x| format!("{}: {}", x.key, any_value_text(&x.value))).collect::<Vec<_>>().join(", "))
        }
    }
}

fn attributes(out: &mut String, title: &str, attrs: &[KeyValue]) {
    if attrs.is_empty() {
        return;
    }
    let _ = writeln!(out, "{title}:");
    for a in attrs {
        let _ = writeln!(out, "     -> {}: {}", a.key, any_value_text(&a.value));
    }
}

/// A span's events and links, as the collector's detailed output lists them.
fn span_events_and_links(out: &mut String, s: &opentelemetry_proto::tonic::trace::v1::Span) {
    let nested = |out: &mut String, attrs: &[KeyValue]| {
        if !attrs.is_empty() {
            let _ = writeln!(out, "     -> Attributes::");
            for a in attrs {
                let _ = writeln!(out, "          -> {}: {}", a.key, any_value_text(&a.value));
            }
        }
    };
    if !s.events.is_empty() {
        let _ = writeln!(out, "Events:");
    }
    for (i, e) in s.events.iter().enumerate() {
        let time = crate::civil_date::go_time(e.time_unix_nano as i64);
        let _ = writeln!(
            out,
            "SpanEvent #{i}\n     -> Name: {}\n     -> Timestamp: {time}\n     -> DroppedAttributesCount: {}",
            e.name, e.dropped_attributes_count
        );
        nested(out, &e.attributes);
    }
    if !s.links.is_empty() {
        let _ = writeln!(out, "Links:");
    }
    for (i, l) in s.links.iter().enumerate() {
        let _ = writeln!(
            out,
            "SpanLink #{i}\n     -> Trace ID: {}\n     -> ID: {}\n     -> TraceState: {}\n     -> DroppedAttributesCount: {}",
            hex(&l.trace_id),
            hex(&l.span_id),
            l.trace_state,
            l.dropped_attributes_count
        );
        nested(out, &l.attributes);
    }
}

/// The text for `normal`/`detailed`, and the item count line for all verbosities.
pub fn render(p: &Payload, verbosity: Verbosity) -> Result<(String, String), ConsumeError> {
    let bad = |e: crate::otelcol::pdata::PdataError| ConsumeError::Permanent(e.to_string());
    let mut out = String::new();
    let detailed = verbosity == Verbosity::Detailed;
    let summary = match p.signal() {
        Signal::Traces => {
            let req = p.decode_traces().map_err(bad)?;
            for (i, rs) in req.resource_spans.iter().enumerate() {
                let res_attrs = rs.resource.as_ref().map(|r| r.attributes.as_slice()).unwrap_or(&[]);
                if detailed {
                    let _ = writeln!(out, "ResourceSpans #{i}\nResource SchemaURL: {}", rs.schema_url);
                    attributes(&mut out, "Resource attributes", res_attrs);
                }
                for (j, ss) in rs.scope_spans.iter().enumerate() {
                    if detailed {
                        let scope = ss.scope.as_ref();
                        let _ = writeln!(
                            out,
                            "ScopeSpans #{j}\nScopeSpans SchemaURL: {}\nInstrumentationScope {} {}",
                            ss.schema_url,
                            scope.map_or("", |s| &s.name),
                            scope.map_or("", |s| &s.version)
                        );
                    }
                    for (k, s) in ss.spans.iter().enumerate() {
                        if detailed {
                            let _ = writeln!(
                                out,
                                "Span #{k}\n    Trace ID       : {}\n    Parent ID      : {}\n    ID             : {}\n    Name           : {}\n    Kind           : {}\n    Start time     : {}\n    End time       : {}\n    Status code    : {}\n    Status message : {}",
                                hex(&s.trace_id),
                                hex(&s.parent_span_id),
                                hex(&s.span_id),
                                s.name,
                                span_kind(s.kind),
                                crate::civil_date::go_time(s.start_time_unix_nano as i64),
                                crate::civil_date::go_time(s.end_time_unix_nano as i64),
                                status_code(s.status.as_ref().map_or(0, |x| x.code)),
                                s.status.as_ref().map_or("", |x| &x.message)
                            );
                            attributes(&mut out, "Attributes", &s.attributes);
                            span_events_and_links(&mut out, s);
                        } else if verbosity == Verbosity::Normal {
                            let attrs: Vec<String> = s.attributes.iter().map(|a| format!("{}={}", a.key, any_value_text(&a.value))).collect();
                            let _ = writeln!(out, "{} {} {} {}", s.name, hex(&s.trace_id), hex(&s.span_id), attrs.join(" "));
                        }
                    }
                }
            }
            format!("Traces resource spans={} spans={}", req.resource_spans.len(), p.items())
        }
        Signal::Metrics => {
            let req = p.decode_metrics().map_err(bad)?;
            let mut n_metrics = 0;
            for (i, rm) in req.resource_metrics.iter().enumerate() {
                if detailed {
                    let _ = writeln!(out, "ResourceMetrics #{i}\nResource SchemaURL: {}", rm.schema_url);
                    attributes(&mut out, "Resource attributes", rm.resource.as_ref().map(|r| r.attributes.as_slice()).unwrap_or(&[]));
                }
                for sm in &rm.scope_metrics {
                    for (k, m) in sm.metrics.iter().enumerate() {
                        n_metrics += 1;
                        if verbosity == Verbosity::Basic {
                            continue;
                        }
                        let kind = match &m.data {
                            Some(metric::Data::Gauge(_)) => "Gauge",
                            Some(metric::Data::Sum(_)) => "Sum",
                            Some(metric::Data::Histogram(_)) => "Histogram",
                            Some(metric::Data::ExponentialHistogram(_)) => "ExponentialHistogram",
                            Some(metric::Data::Summary(_)) => "Summary",
                            None => "Empty",
                        };
                        let _ = writeln!(
                            out,
                            "Metric #{k}\nDescriptor:\n     -> Name: {}\n     -> Description: {}\n     -> Unit: {}\n     -> DataType: {kind}",
                            m.name, m.description, m.unit
                        );
                        let points: Vec<(&[KeyValue], String)> = match &m.data {
                            Some(metric::Data::Gauge(g)) => g.data_points.iter().map(|p| (p.attributes.as_slice(), format!("{:?}", p.value))).collect(),
                            Some(metric::Data::Sum(s)) => s.data_points.iter().map(|p| (p.attributes.as_slice(), format!("{:?}", p.value))).collect(),
                            Some(metric::Data::Histogram(h)) => {
                                h.data_points.iter().map(|p| (p.attributes.as_slice(), format!("count={} sum={:?}", p.count, p.sum))).collect()
                            }
                            Some(metric::Data::ExponentialHistogram(h)) => {
                                h.data_points.iter().map(|p| (p.attributes.as_slice(), format!("count={}", p.count))).collect()
                            }
                            Some(metric::Data::Summary(s)) => {
                                s.data_points.iter().map(|p| (p.attributes.as_slice(), format!("count={} sum={}", p.count, p.sum))).collect()
                            }
                            None => Vec::new(),
                        };
                        for (n, (attrs, value)) in points.iter().enumerate() {
                            let _ = writeln!(out, "DataPoint #{n}");
                            attributes(&mut out, "Data point attributes", attrs);
                            let _ = writeln!(out, "Value: {value}");
                        }
                    }
                }
            }
            format!("Metrics resource metrics={} metrics={n_metrics} data points={}", req.resource_metrics.len(), p.items())
        }
        Signal::Logs => {
            let req = p.decode_logs().map_err(bad)?;
            for (i, rl) in req.resource_logs.iter().enumerate() {
                if detailed {
                    let _ = writeln!(out, "ResourceLog #{i}\nResource SchemaURL: {}", rl.schema_url);
                    attributes(&mut out, "Resource attributes", rl.resource.as_ref().map(|r| r.attributes.as_slice()).unwrap_or(&[]));
                }
                for sl in &rl.scope_logs {
                    for (k, r) in sl.log_records.iter().enumerate() {
                        if detailed {
                            let _ = writeln!(
                                out,
                                "LogRecord #{k}\nTimestamp: {}\nSeverityText: {}\nSeverityNumber: {}\nBody: {}",
                                r.time_unix_nano,
                                r.severity_text,
                                r.severity_number,
                                any_value_text(&r.body)
                            );
                            attributes(&mut out, "Attributes", &r.attributes);
                            let _ = writeln!(out, "Trace ID: {}\nSpan ID: {}", hex(&r.trace_id), hex(&r.span_id));
                        } else if verbosity == Verbosity::Normal {
                            let _ = writeln!(out, "{}", any_value_text(&r.body));
                        }
                    }
                }
            }
            format!("Logs resource logs={} log records={}", req.resource_logs.len(), p.items())
        }
    };
    Ok((summary, out))
}

/// The exporter's arguments.
#[derive(Clone, Debug, Default, PartialEq)]
struct Settings {
    verbosity: Verbosity,
    /// Through the process log (sampled), or straight to `output_paths`.
    use_internal_logger: bool,
    output_paths: Vec<String>,
    sampling_initial: u64,
    sampling_thereafter: u64,
}

impl Arguments for Settings {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&["debug_metrics"]);
        // Negative sampling counts mean none, as the collector's logger treats them.
        let count = |n: i64| n.max(0) as u64;
        Settings {
            verbosity: r.get("verbosity"),
            use_internal_logger: r.get("use_internal_logger"),
            output_paths: r.get("output_paths"),
            sampling_initial: count(r.get("sampling_initial")),
            sampling_thereafter: count(r.get("sampling_thereafter")),
        }
    }
}

const NAME: &str = "otelcol.exporter.debug";
pub const REGISTRATION: Registration = Registration::component::<Settings>(NAME, &["input"], build);

/// The logger's sampling, per second: the first `initial` payloads are logged, then every
/// `thereafter`-th (0: none more).
#[derive(Default)]
struct Sampler {
    window: std::sync::Mutex<(u64, u64)>,
}

impl Sampler {
    fn admit(&self, now_second: u64, initial: u64, thereafter: u64) -> bool {
        let mut w = self.window.lock().unwrap_or_else(|e| e.into_inner());
        if w.0 != now_second {
            *w = (now_second, 0);
        }
        w.1 += 1;
        let n = w.1;
        n <= initial || (thereafter > 0 && (n - initial).is_multiple_of(thereafter))
    }
}

struct DebugConsumer {
    id: String,
    settings: RwLock<Settings>,
    sampler: Sampler,
}

impl DebugConsumer {
    /// Writes `text` whole to each output path (`stdout`, `stderr`, or a file appended to).
    fn write_outputs(&self, paths: &[String], text: &str) {
        for path in paths {
            let written = match path.as_str() {
                "stdout" => std::io::stdout().lock().write_all(text.as_bytes()),
                "stderr" => std::io::stderr().lock().write_all(text.as_bytes()),
                file => std::fs::OpenOptions::new().create(true).append(true).open(file).and_then(|mut f| f.write_all(text.as_bytes())),
            };
            if let Err(e) = written {
                log(&self.id, tracing::Level::ERROR, &format!("writing debug output to {path}: {e}"));
            }
        }
    }
}

impl Consumer for DebugConsumer {
    fn consume(&self, data: Payload) -> ConsumeFuture<'_> {
        Box::pin(async move {
            let settings = self.settings.read().unwrap_or_else(|e| e.into_inner()).clone();
            if settings.use_internal_logger {
                // Sampled-out payloads are not decoded at all.
                let second = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
                if !self.sampler.admit(second, settings.sampling_initial, settings.sampling_thereafter) {
                    return Ok(());
                }
            }
            let (summary, text) = render(&data, settings.verbosity)?;
            if settings.use_internal_logger {
                log(&self.id, tracing::Level::INFO, &summary);
                if !text.is_empty() {
                    // One write per payload keeps concurrent dumps from interleaving.
                    let _ = std::io::stderr().lock().write_all(text.as_bytes());
                }
            } else {
                self.write_outputs(&settings.output_paths, &format!("{summary}\n{text}"));
            }
            Ok(())
        })
    }
}

pub struct DebugExporter {
    consumer: Arc<DebugConsumer>,
}

pub fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    let consumer =
        Arc::new(DebugConsumer { id: ctx.id().to_string(), settings: RwLock::new(decode_checked::<Settings>(NAME, &args)?), sampler: Sampler::default() });
    crate::otelcol::consumer::publish_input(&ctx, ConsumerHandle::new(ctx.id(), consumer.clone()).tapped(&ctx));
    Ok(Arc::new(DebugExporter { consumer }))
}

impl Component for DebugExporter {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        *self.consumer.settings.write().unwrap_or_else(|e| e.into_inner()) = decode_checked::<Settings>(NAME, &args)?;
        Ok(())
    }
}

/// A span kind as the collector prints it.
fn span_kind(kind: i32) -> &'static str {
    match kind {
        1 => "Internal",
        2 => "Server",
        3 => "Client",
        4 => "Producer",
        5 => "Consumer",
        _ => "Unspecified",
    }
}

/// A status code as the collector prints it.
fn status_code(code: i32) -> &'static str {
    match code {
        1 => "Ok",
        2 => "Error",
        _ => "Unset",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otelcol::pdata::tests::traces;

    #[test]
    fn detailed_output_shows_every_span_and_attribute() {
        let (summary, text) = render(&Payload::from_traces(&traces(1, 2)), Verbosity::Detailed).unwrap();
        assert_eq!(summary, "Traces resource spans=1 spans=2");
        assert!(text.contains("     -> service.name: Str(svc0)"), "{text}");
        assert!(text.contains("    Name           : r0s1"), "{text}");
        let (_, basic) = render(&Payload::from_traces(&traces(1, 2)), Verbosity::Basic).unwrap();
        assert!(basic.is_empty());
    }

    #[test]
    fn sampling_logs_the_first_then_every_nth_per_second() {
        let s = Sampler::default();
        let admitted: Vec<bool> = (0..7).map(|_| s.admit(100, 1, 3)).collect();
        assert_eq!(admitted, [true, false, false, true, false, false, true]);
        assert!(s.admit(101, 1, 3), "a new second starts over");
        let none_after = Sampler::default();
        assert_eq!((0..4).map(|_| none_after.admit(5, 2, 0)).collect::<Vec<_>>(), [true, true, false, false]);
    }

    #[tokio::test]
    async fn without_the_internal_logger_output_goes_to_the_output_paths() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("debug.txt");
        let src =
            format!("{NAME} \"t\" {{\n  verbosity = \"detailed\"\n  use_internal_logger = false\n  output_paths = [{:?}]\n}}\n", file.display().to_string());
        let args = crate::component::args::evaluated(&src).unwrap();
        let consumer = DebugConsumer {
            id: "otelcol.exporter.debug.t".into(),
            settings: RwLock::new(decode_checked::<Settings>(NAME, &args).unwrap()),
            sampler: Sampler::default(),
        };
        consumer.consume(Payload::from_traces(&traces(1, 2))).await.unwrap();
        consumer.consume(Payload::from_traces(&traces(1, 1))).await.unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.starts_with("Traces resource spans=1 spans=2\n"), "{text}");
        assert!(text.contains("\nTraces resource spans=1 spans=1\n"), "appended: {text}");
        assert_eq!(text.matches("    Name           : r0s0").count(), 2, "{text}");
    }
}
