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

/// A value as the collector prints it: its type, then its text (`Str(x)`, `Int(1)`,
/// `Double(1.5)`, `Bool(true)`, `Bytes(base64)`, `Slice(JSON)`, `Map(JSON)`, `Empty()`).
pub fn any_value_text(v: &Option<AnyValue>) -> String {
    let value = v.as_ref().and_then(|v| v.value.as_ref());
    let kind = match value {
        None => "Empty",
        Some(any_value::Value::StringValue(_)) | Some(any_value::Value::StringValueStrindex(_)) => "Str",
        Some(any_value::Value::BoolValue(_)) => "Bool",
        Some(any_value::Value::IntValue(_)) => "Int",
        Some(any_value::Value::DoubleValue(_)) => "Double",
        Some(any_value::Value::BytesValue(_)) => "Bytes",
        Some(any_value::Value::ArrayValue(_)) => "Slice",
        Some(any_value::Value::KvlistValue(_)) => "Map",
    };
    let mut text = String::new();
    match value {
        Some(any_value::Value::StringValue(s)) => text.push_str(s),
        Some(any_value::Value::ArrayValue(_)) | Some(any_value::Value::KvlistValue(_)) => json(value, &mut text),
        _ => scalar_text(value, &mut text),
    }
    format!("{kind}({text})")
}

/// A scalar's text as pdata's `AsString` gives it.
fn scalar_text(v: Option<&any_value::Value>, out: &mut String) {
    use base64::Engine as _;
    match v {
        None => {}
        Some(any_value::Value::StringValue(s)) => out.push_str(s),
        Some(any_value::Value::StringValueStrindex(i)) => out.push_str(&i.to_string()),
        Some(any_value::Value::BoolValue(b)) => out.push_str(if *b { "true" } else { "false" }),
        Some(any_value::Value::IntValue(i)) => out.push_str(&i.to_string()),
        Some(any_value::Value::DoubleValue(d)) => out.push_str(&es6_number(*d)),
        Some(any_value::Value::BytesValue(b)) => out.push_str(&base64::engine::general_purpose::STANDARD.encode(b)),
        Some(any_value::Value::ArrayValue(_)) | Some(any_value::Value::KvlistValue(_)) => json(v, out),
    }
}

/// A double as JavaScript prints numbers (what pdata does): plain unless tiny or huge.
fn es6_number(d: f64) -> String {
    if d.is_nan() || d.is_infinite() {
        return format!("json: unsupported value: {}", go_float(d, None));
    }
    let abs = d.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        format!("{d:e}")
    } else {
        format!("{d}")
    }
}

/// Go's `%f` (six decimals; `None`: shortest) with Go's spellings of the special values.
fn go_float(d: f64, decimals: Option<usize>) -> String {
    if d.is_nan() {
        "NaN".into()
    } else if d == f64::INFINITY {
        "+Inf".into()
    } else if d == f64::NEG_INFINITY {
        "-Inf".into()
    } else if let Some(n) = decimals {
        format!("{d:.n$}")
    } else {
        format!("{d}")
    }
}

/// Maps and slices as JSON, keys in their order.
fn json(v: Option<&any_value::Value>, out: &mut String) {
    let quote = |s: &str, out: &mut String| out.push_str(&serde_json::Value::from(s).to_string());
    match v {
        Some(any_value::Value::ArrayValue(a)) => {
            out.push('[');
            for (i, x) in a.values.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json(x.value.as_ref(), out);
            }
            out.push(']');
        }
        Some(any_value::Value::KvlistValue(kv)) => {
            out.push('{');
            for (i, x) in kv.values.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                quote(&x.key, out);
                out.push(':');
                json(x.value.as_ref().and_then(|v| v.value.as_ref()), out);
            }
            out.push('}');
        }
        None => out.push_str("null"),
        Some(any_value::Value::StringValue(s)) => quote(s, out),
        Some(any_value::Value::BytesValue(_)) => {
            let mut text = String::new();
            scalar_text(v, &mut text);
            quote(&text, out);
        }
        Some(_) => scalar_text(v, out),
    }
}

/// `SeverityNumber`'s name as pdata spells it (`Info`, `Warn2`); "" outside the range.
fn severity_name(n: i32) -> String {
    const LEVELS: [&str; 6] = ["Trace", "Debug", "Info", "Warn", "Error", "Fatal"];
    match n {
        0 => "Unspecified".into(),
        1..=24 => {
            let level = LEVELS[(n as usize - 1) / 4];
            match (n - 1) % 4 {
                0 => level.to_string(),
                k => format!("{level}{}", k + 1),
            }
        }
        _ => String::new(),
    }
}

fn temporality(t: i32) -> &'static str {
    match t {
        1 => "Delta",
        2 => "Cumulative",
        _ => "Unspecified",
    }
}

fn time(ns: u64) -> String {
    crate::civil_date::go_time(ns as i64)
}

fn exemplars(out: &mut String, list: &[opentelemetry_proto::tonic::metrics::v1::Exemplar]) {
    use opentelemetry_proto::tonic::metrics::v1::exemplar;
    if list.is_empty() {
        return;
    }
    let _ = writeln!(out, "Exemplars:");
    for (i, e) in list.iter().enumerate() {
        let _ = writeln!(
            out,
            "Exemplar #{i}\n     -> Trace ID: {}\n     -> Span ID: {}\n     -> Timestamp: {}",
            hex(&e.trace_id),
            hex(&e.span_id),
            time(e.time_unix_nano)
        );
        match e.value {
            Some(exemplar::Value::AsInt(v)) => {
                let _ = writeln!(out, "     -> Value: {v}");
            }
            Some(exemplar::Value::AsDouble(v)) => {
                let _ = writeln!(out, "     -> Value: {}", go_float(v, Some(6)));
            }
            None => {}
        }
        attributes(out, "     -> FilteredAttributes", &e.filtered_attributes);
    }
}

/// `normal`: one line per data point, `name{k=v,…} value`.
fn normal_points(out: &mut String, m: &opentelemetry_proto::tonic::metrics::v1::Metric) {
    use opentelemetry_proto::tonic::metrics::v1 as metric_data;
    use opentelemetry_proto::tonic::metrics::v1::number_data_point;
    let attrs = |list: &[KeyValue]| {
        list.iter()
            .map(|a| {
                let mut v = String::new();
                scalar_text(a.value.as_ref().and_then(|v| v.value.as_ref()), &mut v);
                format!("{}={v}", a.key)
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut line = |labels: String, value: String| {
        let _ = writeln!(out, "{}{{{labels}}} {value}", m.name);
    };
    let stats = |count: u64, sum: Option<f64>, min: Option<f64>, max: Option<f64>| {
        let mut v = format!("count={count}");
        for (name, x) in [("sum", sum), ("min", min), ("max", max)] {
            if let Some(x) = x {
                v.push_str(&format!(" {name}={x}"));
            }
        }
        v
    };
    match &m.data {
        Some(metric::Data::Gauge(metric_data::Gauge { data_points, .. })) | Some(metric::Data::Sum(metric_data::Sum { data_points, .. })) => {
            data_points.iter().for_each(|p| {
                let v = match p.value {
                    Some(number_data_point::Value::AsInt(i)) => i.to_string(),
                    Some(number_data_point::Value::AsDouble(d)) => d.to_string(),
                    None => String::new(),
                };
                line(attrs(&p.attributes), v)
            })
        }
        Some(metric::Data::Histogram(h)) => h.data_points.iter().for_each(|p| {
            let mut v = stats(p.count, p.sum, p.min, p.max);
            for (i, c) in p.bucket_counts.iter().enumerate() {
                match p.explicit_bounds.get(i) {
                    Some(b) => v.push_str(&format!(" le{b}={c}")),
                    None => v.push_str(&format!(" {c}")),
                }
            }
            line(attrs(&p.attributes), v)
        }),
        Some(metric::Data::ExponentialHistogram(h)) => h.data_points.iter().for_each(|p| {
            let v = stats(p.count, p.sum, p.min, p.max);
            line(attrs(&p.attributes), v)
        }),
        Some(metric::Data::Summary(s)) => s.data_points.iter().for_each(|p| {
            let mut v = format!("count={} sum={:.6}", p.count, p.sum);
            for q in &p.quantile_values {
                v.push_str(&format!(" q{}={}", q.quantile, q.value));
            }
            line(attrs(&p.attributes), v)
        }),
        None => {}
    }
}

/// A metric's data points in the collector's layout.
fn data_points(out: &mut String, m: &opentelemetry_proto::tonic::metrics::v1::Metric) {
    use opentelemetry_proto::tonic::metrics::v1::{number_data_point, NumberDataPoint};
    let f = |d: f64| go_float(d, Some(6));
    let numbers = |out: &mut String, points: &[NumberDataPoint]| {
        for (i, p) in points.iter().enumerate() {
            let _ = writeln!(out, "NumberDataPoints #{i}");
            attributes(out, "Data point attributes", &p.attributes);
            let _ = writeln!(out, "StartTimestamp: {}\nTimestamp: {}", time(p.start_time_unix_nano), time(p.time_unix_nano));
            match p.value {
                Some(number_data_point::Value::AsInt(v)) => {
                    let _ = writeln!(out, "Value: {v}");
                }
                Some(number_data_point::Value::AsDouble(v)) => {
                    let _ = writeln!(out, "Value: {}", f(v));
                }
                None => {}
            }
            exemplars(out, &p.exemplars);
        }
    };
    let head = |out: &mut String, kind: &str, i: usize, attrs: &[KeyValue], start: u64, at: u64, count: u64| {
        let _ = writeln!(out, "{kind} #{i}");
        attributes(out, "Data point attributes", attrs);
        let _ = writeln!(out, "StartTimestamp: {}\nTimestamp: {}\nCount: {count}", time(start), time(at));
    };
    let optional = |out: &mut String, name: &str, v: Option<f64>| {
        if let Some(v) = v {
            let _ = writeln!(out, "{name}: {}", f(v));
        }
    };
    match &m.data {
        None => {}
        Some(metric::Data::Gauge(g)) => numbers(out, &g.data_points),
        Some(metric::Data::Sum(s)) => {
            let _ = writeln!(out, "     -> IsMonotonic: {}\n     -> AggregationTemporality: {}", s.is_monotonic, temporality(s.aggregation_temporality));
            numbers(out, &s.data_points);
        }
        Some(metric::Data::Histogram(h)) => {
            let _ = writeln!(out, "     -> AggregationTemporality: {}", temporality(h.aggregation_temporality));
            for (i, p) in h.data_points.iter().enumerate() {
                head(out, "HistogramDataPoints", i, &p.attributes, p.start_time_unix_nano, p.time_unix_nano, p.count);
                optional(out, "Sum", p.sum);
                optional(out, "Min", p.min);
                optional(out, "Max", p.max);
                for (j, b) in p.explicit_bounds.iter().enumerate() {
                    let _ = writeln!(out, "ExplicitBounds #{j}: {}", f(*b));
                }
                for (j, c) in p.bucket_counts.iter().enumerate() {
                    let _ = writeln!(out, "Buckets #{j}, Count: {c}");
                }
                exemplars(out, &p.exemplars);
            }
        }
        Some(metric::Data::ExponentialHistogram(h)) => {
            let _ = writeln!(out, "     -> AggregationTemporality: {}", temporality(h.aggregation_temporality));
            for (i, p) in h.data_points.iter().enumerate() {
                head(out, "ExponentialHistogramDataPoints", i, &p.attributes, p.start_time_unix_nano, p.time_unix_nano, p.count);
                optional(out, "Sum", p.sum);
                optional(out, "Min", p.min);
                optional(out, "Max", p.max);
                // Bucket boundaries are base^index, base = 2^(2^-scale).
                let factor = std::f64::consts::LN_2 * 2f64.powi(-p.scale);
                if let Some(neg) = &p.negative {
                    for pos in (0..neg.bucket_counts.len()).rev() {
                        let index = neg.offset as f64 + pos as f64;
                        let (lower, upper) = ((index * factor).exp(), ((index + 1.0) * factor).exp());
                        let _ = writeln!(out, "Bucket [{}, {}), Count: {}", f(-upper), f(-lower), neg.bucket_counts[pos]);
                    }
                }
                if p.zero_count != 0 {
                    let _ = writeln!(out, "Bucket [0, 0], Count: {}", p.zero_count);
                }
                if let Some(posb) = &p.positive {
                    for (pos, c) in posb.bucket_counts.iter().enumerate() {
                        let index = posb.offset as f64 + pos as f64;
                        let (lower, upper) = ((index * factor).exp(), ((index + 1.0) * factor).exp());
                        let _ = writeln!(out, "Bucket ({}, {}], Count: {c}", f(lower), f(upper));
                    }
                }
                exemplars(out, &p.exemplars);
            }
        }
        Some(metric::Data::Summary(s)) => {
            for (i, p) in s.data_points.iter().enumerate() {
                head(out, "SummaryDataPoints", i, &p.attributes, p.start_time_unix_nano, p.time_unix_nano, p.count);
                let _ = writeln!(out, "Sum: {}", f(p.sum));
                for (j, q) in p.quantile_values.iter().enumerate() {
                    let _ = writeln!(out, "QuantileValue #{j}: Quantile {}, Value {}", f(q.quantile), f(q.value));
                }
            }
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

/// `ScopeSpans #0`, its schema URL, the scope's name, version and attributes.
fn scope_lines(out: &mut String, kind: &str, i: usize, schema_url: &str, scope: Option<&opentelemetry_proto::tonic::common::v1::InstrumentationScope>) {
    let _ = writeln!(
        out,
        "{kind} #{i}\n{kind} SchemaURL: {schema_url}\nInstrumentationScope {} {}",
        scope.map_or("", |s| &s.name),
        scope.map_or("", |s| &s.version)
    );
    attributes(out, "InstrumentationScope attributes", scope.map_or(&[], |s| &s.attributes));
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
                        scope_lines(&mut out, "ScopeSpans", j, &ss.schema_url, ss.scope.as_ref());
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
                for (j, sm) in rm.scope_metrics.iter().enumerate() {
                    if detailed {
                        scope_lines(&mut out, "ScopeMetrics", j, &sm.schema_url, sm.scope.as_ref());
                    }
                    for (k, m) in sm.metrics.iter().enumerate() {
                        n_metrics += 1;
                        if verbosity == Verbosity::Basic {
                            continue;
                        }
                        if verbosity == Verbosity::Normal {
                            normal_points(&mut out, m);
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
                        data_points(&mut out, m);
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
                for (j, sl) in rl.scope_logs.iter().enumerate() {
                    if detailed {
                        scope_lines(&mut out, "ScopeLogs", j, &sl.schema_url, sl.scope.as_ref());
                    }
                    for (k, r) in sl.log_records.iter().enumerate() {
                        if detailed {
                            let _ = writeln!(
                                out,
                                "LogRecord #{k}\nObservedTimestamp: {}\nTimestamp: {}\nSeverityText: {}\nSeverityNumber: {}({})",
                                time(r.observed_time_unix_nano),
                                time(r.time_unix_nano),
                                r.severity_text,
                                severity_name(r.severity_number),
                                r.severity_number
                            );
                            if !r.event_name.is_empty() {
                                let _ = writeln!(out, "EventName: {}", r.event_name);
                            }
                            let _ = writeln!(out, "Body: {}", any_value_text(&r.body));
                            attributes(&mut out, "Attributes", &r.attributes);
                            let _ = writeln!(out, "Trace ID: {}\nSpan ID: {}\nFlags: {}", hex(&r.trace_id), hex(&r.span_id), r.flags);
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

#[cfg(test)]
mod text_tests {
    use super::*;

    fn detailed(signal: Signal, json: &str) -> String {
        render(&Payload::from_json(signal, json.as_bytes()).expect("valid OTLP/JSON"), Verbosity::Detailed).expect("renders").1
    }

    #[test]
    fn metrics_print_values_times_and_kinds_as_the_collector_does() {
        let text = detailed(
            Signal::Metrics,
            r#"{"resourceMetrics":[{"scopeMetrics":[{"scope":{"name":"meter","version":"1"},"metrics":[
              {"name":"requests","sum":{"dataPoints":[{"attributes":[{"key":"route","value":{"stringValue":"/"}}],"startTimeUnixNano":"1544712660000000000","timeUnixNano":"1544712661000000000","asInt":"42"}],"aggregationTemporality":2,"isMonotonic":true}},
              {"name":"temp","gauge":{"dataPoints":[{"timeUnixNano":"1544712661000000000","asDouble":1.5}]}},
              {"name":"latency","histogram":{"dataPoints":[{"count":"3","sum":1.5,"bucketCounts":["1","2"],"explicitBounds":[0.1]}],"aggregationTemporality":1}},
              {"name":"q","summary":{"dataPoints":[{"count":"2","sum":3,"quantileValues":[{"quantile":0.5,"value":1}]}]}}]}]}]}"#,
        );
        for line in [
            "ScopeMetrics #0\nScopeMetrics SchemaURL: \nInstrumentationScope meter 1\n",
            "     -> DataType: Sum\n     -> IsMonotonic: true\n     -> AggregationTemporality: Cumulative\nNumberDataPoints #0\nData point attributes:\n     -> route: Str(/)\n",
            "StartTimestamp: 2018-12-13 14:51:00 +0000 UTC\nTimestamp: 2018-12-13 14:51:01 +0000 UTC\nValue: 42\n",
            "Value: 1.500000\n",
            "     -> AggregationTemporality: Delta\nHistogramDataPoints #0\n",
            "Count: 3\nSum: 1.500000\nExplicitBounds #0: 0.100000\nBuckets #0, Count: 1\nBuckets #1, Count: 2\n",
            "SummaryDataPoints #0\nStartTimestamp: 1970-01-01 00:00:00 +0000 UTC\nTimestamp: 1970-01-01 00:00:00 +0000 UTC\nCount: 2\nSum: 3.000000\nQuantileValue #0: Quantile 0.500000, Value 1.000000\n",
        ] {
            assert!(text.contains(line), "missing {line:?} in:\n{text}");
        }
        assert!(!text.contains("Some(") && !text.contains("As"), "{text}");
    }

    #[test]
    fn logs_print_severity_names_dates_and_structured_bodies() {
        let text = detailed(
            Signal::Logs,
            r#"{"resourceLogs":[{"scopeLogs":[{"scope":{"name":"logger"},"logRecords":[
              {"timeUnixNano":"1544712660000000000","severityNumber":9,"severityText":"INFO","body":{"stringValue":"user logged in"},"flags":1},
              {"severityNumber":14,"eventName":"login","body":{"kvlistValue":{"values":[{"key":"msg","value":{"stringValue":"x\"y"}},{"key":"n","value":{"arrayValue":{"values":[{"intValue":"1"},{"doubleValue":0.25},{"bytesValue":"AAE="}]}}}]}}}]}]}]}"#,
        );
        for line in [
            "ScopeLogs #0\nScopeLogs SchemaURL: \nInstrumentationScope logger \n",
            "LogRecord #0\nObservedTimestamp: 1970-01-01 00:00:00 +0000 UTC\nTimestamp: 2018-12-13 14:51:00 +0000 UTC\nSeverityText: INFO\nSeverityNumber: Info(9)\nBody: Str(user logged in)\n",
            "Flags: 1\n",
            "SeverityNumber: Warn2(14)\nEventName: login\nBody: Map({\"msg\":\"x\\\"y\",\"n\":[1,0.25,\"AAE=\"]})\n",
        ] {
            assert!(text.contains(line), "missing {line:?} in:\n{text}");
        }
    }

    #[test]
    fn normal_metrics_are_one_line_per_data_point() {
        let p = Payload::from_json(
            Signal::Metrics,
            br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[
              {"name":"requests","sum":{"dataPoints":[{"attributes":[{"key":"route","value":{"stringValue":"/"}},{"key":"code","value":{"intValue":"200"}}],"asInt":"42"}]}},
              {"name":"temp","gauge":{"dataPoints":[{"asDouble":1.5}]}},
              {"name":"latency","histogram":{"dataPoints":[{"count":"3","sum":1.5,"bucketCounts":["1","2"],"explicitBounds":[0.1]}]}}]}]}]}"#,
        )
        .unwrap();
        let text = render(&p, Verbosity::Normal).unwrap().1;
        assert_eq!(text, "requests{route=/,code=200} 42\ntemp{} 1.5\nlatency{} count=3 sum=1.5 le0.1=1 2\n");
    }

    #[test]
    fn values_and_severities_follow_pdata() {
        assert_eq!(severity_name(1), "Trace");
        assert_eq!(severity_name(12), "Info4");
        assert_eq!(severity_name(24), "Fatal4");
        assert_eq!(severity_name(25), "");
        assert_eq!(go_float(f64::NEG_INFINITY, Some(6)), "-Inf");
        assert_eq!(es6_number(1e-7), "1e-7");
        assert_eq!(any_value_text(&Some(AnyValue { value: Some(any_value::Value::DoubleValue(2.0)) })), "Double(2)");
        assert_eq!(any_value_text(&None), "Empty()");
    }
}
