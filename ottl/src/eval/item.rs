//! One item a statement runs on (a span, a data point, a log record, ...) with the items above
//! it, and reading and writing its fields by the catalogue's `Field`.

use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::metrics::v1::{
    metric, number_data_point, ExponentialHistogramDataPoint, HistogramDataPoint, Metric, NumberDataPoint, SummaryDataPoint,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{span, Span, Status};

use super::value::{to_kvs, Value};
use super::EvalError;
use crate::catalog::Field;
use crate::Context;

/// A data point of any metric type.
pub enum Point<'a> {
    Number(&'a mut NumberDataPoint),
    Histogram(&'a mut HistogramDataPoint),
    ExpHistogram(&'a mut ExponentialHistogramDataPoint),
    Summary(&'a mut SummaryDataPoint),
}

/// What a metric's data says about itself, kept while its points are visited (the points
/// are then borrowed out of it).
#[derive(Clone, Copy, Default)]
pub struct MetricShape {
    pub data_type: i64,
    pub temporality: i64,
    pub monotonic: bool,
}

impl MetricShape {
    pub fn of(m: &Metric) -> MetricShape {
        use metric::Data;
        match &m.data {
            None => MetricShape::default(),
            Some(Data::Gauge(_)) => MetricShape { data_type: 1, ..Default::default() },
            Some(Data::Sum(s)) => MetricShape { data_type: 2, temporality: i64::from(s.aggregation_temporality), monotonic: s.is_monotonic },
            Some(Data::Histogram(h)) => MetricShape { data_type: 3, temporality: i64::from(h.aggregation_temporality), monotonic: false },
            Some(Data::ExponentialHistogram(h)) => MetricShape { data_type: 4, temporality: i64::from(h.aggregation_temporality), monotonic: false },
            Some(Data::Summary(_)) => MetricShape { data_type: 5, ..Default::default() },
        }
    }
}

/// The item and its parents; `None` for levels the context does not have.
#[derive(Default)]
pub struct Item<'a> {
    pub resource: Option<&'a mut Option<Resource>>,
    pub scope: Option<&'a mut Option<InstrumentationScope>>,
    pub span: Option<&'a mut Span>,
    pub event: Option<&'a mut span::Event>,
    pub metric: Option<&'a mut Metric>,
    /// Set while the metric's points are visited, when `metric.data` is lent out.
    pub shape: Option<MetricShape>,
    pub point: Option<Point<'a>>,
    pub log: Option<&'a mut LogRecord>,
    pub cache: Value,
    /// Metrics an editor created (`extract_sum_metric`), appended to the scope afterwards.
    pub added_metrics: Vec<Metric>,
}

fn missing(ctx: Context) -> EvalError {
    EvalError(format!("no {} in this context", ctx.name()))
}

fn u64_value(v: u64) -> Value {
    Value::Int(i64::try_from(v).unwrap_or(i64::MAX))
}

fn want_int(v: &Value, what: &str) -> Result<i64, EvalError> {
    match v {
        Value::Int(i) => Ok(*i),
        other => Err(EvalError(format!("{what} must be an int, got a {}", other.type_name()))),
    }
}

fn want_u64(v: &Value, what: &str) -> Result<u64, EvalError> {
    u64::try_from(want_int(v, what)?).map_err(|_| EvalError(format!("{what} cannot be negative")))
}

fn want_u32(v: &Value, what: &str) -> Result<u32, EvalError> {
    u32::try_from(want_int(v, what)?).map_err(|_| EvalError(format!("{what} is out of range")))
}

fn want_i32(v: &Value, what: &str) -> Result<i32, EvalError> {
    i32::try_from(want_int(v, what)?).map_err(|_| EvalError(format!("{what} is out of range")))
}

fn want_str(v: &Value, what: &str) -> Result<String, EvalError> {
    match v {
        Value::Str(s) => Ok(s.clone()),
        other => Err(EvalError(format!("{what} must be a string, got a {}", other.type_name()))),
    }
}

fn want_time(v: &Value, what: &str) -> Result<u64, EvalError> {
    match v {
        Value::Time(t) => u64::try_from(*t).map_err(|_| EvalError(format!("{what} cannot be before 1970"))),
        other => Err(EvalError(format!("{what} must be a time, got a {}", other.type_name()))),
    }
}

fn want_map(v: &Value, what: &str) -> Result<Vec<KeyValue>, EvalError> {
    match v {
        Value::Map(entries) => to_kvs(entries),
        other => Err(EvalError(format!("{what} must be a map, got a {}", other.type_name()))),
    }
}

fn want_id(v: &Value, len: usize, what: &str) -> Result<Vec<u8>, EvalError> {
    match v {
        Value::Bytes(b) if b.len() == len || b.is_empty() => Ok(b.clone()),
        Value::Str(s) => parse_hex(s).filter(|b| b.len() == len).ok_or_else(|| EvalError(format!("{what} must be {len} bytes in hex, got {s:?}"))),
        other => Err(EvalError(format!("{what} must be {len} bytes, got a {}", other.type_name()))),
    }
}

pub fn parse_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok()).collect()
}

const KINDS: [&str; 6] = ["Unspecified", "Internal", "Server", "Client", "Producer", "Consumer"];

fn time_value(ns: u64) -> Value {
    Value::Time(i64::try_from(ns).unwrap_or(i64::MAX))
}

impl Item<'_> {
    /// One attribute of `owner`'s attributes, without converting the others.
    pub fn attribute(&self, owner: Context, key: &str) -> Result<Option<Value>, EvalError> {
        let attrs: &[KeyValue] = match owner {
            Context::Resource => self.resource.as_ref().ok_or_else(|| missing(owner))?.as_ref().map_or(&[], |r| &r.attributes),
            Context::Scope => self.scope.as_ref().ok_or_else(|| missing(owner))?.as_ref().map_or(&[], |s| &s.attributes),
            Context::Span => &self.span.as_ref().ok_or_else(|| missing(owner))?.attributes,
            Context::SpanEvent => &self.event.as_ref().ok_or_else(|| missing(owner))?.attributes,
            Context::Metric => return Err(unknown(owner, Field::Attributes)),
            Context::DataPoint => match self.point.as_ref().ok_or_else(|| missing(owner))? {
                Point::Number(p) => &p.attributes,
                Point::Histogram(p) => &p.attributes,
                Point::ExpHistogram(p) => &p.attributes,
                Point::Summary(p) => &p.attributes,
            },
            Context::Log => &self.log.as_ref().ok_or_else(|| missing(owner))?.attributes,
        };
        Ok(attrs.iter().find(|kv| kv.key == key).map(|kv| kv.value.as_ref().map_or(Value::Nil, Value::from_any)))
    }

    /// `owner`'s attribute list to edit in place (single-key writes and key deletions do not
    /// need the whole map converted).
    pub fn attributes_mut(&mut self, owner: Context) -> Result<&mut Vec<KeyValue>, EvalError> {
        Ok(match owner {
            Context::Resource => &mut self.resource.as_deref_mut().ok_or_else(|| missing(owner))?.get_or_insert_with(Default::default).attributes,
            Context::Scope => &mut self.scope.as_deref_mut().ok_or_else(|| missing(owner))?.get_or_insert_with(Default::default).attributes,
            Context::Span => &mut self.span.as_deref_mut().ok_or_else(|| missing(owner))?.attributes,
            Context::SpanEvent => &mut self.event.as_deref_mut().ok_or_else(|| missing(owner))?.attributes,
            Context::Metric => return Err(unknown(owner, Field::Attributes)),
            Context::DataPoint => match self.point.as_mut().ok_or_else(|| missing(owner))? {
                Point::Number(p) => &mut p.attributes,
                Point::Histogram(p) => &mut p.attributes,
                Point::ExpHistogram(p) => &mut p.attributes,
                Point::Summary(p) => &mut p.attributes,
            },
            Context::Log => &mut self.log.as_deref_mut().ok_or_else(|| missing(owner))?.attributes,
        })
    }

    /// The value of `field` of the `owner` context.
    pub fn get(&self, owner: Context, field: Field) -> Result<Value, EvalError> {
        if field == Field::Cache {
            return Ok(self.cache.clone());
        }
        match owner {
            Context::Resource => {
                let r = self.resource.as_ref().ok_or_else(|| missing(owner))?.as_ref();
                let empty = Resource::default();
                let r = r.unwrap_or(&empty);
                match field {
                    Field::Attributes => Ok(Value::from_kvs(&r.attributes)),
                    Field::DroppedAttributesCount => Ok(Value::Int(r.dropped_attributes_count.into())),
                    _ => Err(unknown(owner, field)),
                }
            }
            Context::Scope => {
                let s = self.scope.as_ref().ok_or_else(|| missing(owner))?.as_ref();
                let empty = InstrumentationScope::default();
                let s = s.unwrap_or(&empty);
                match field {
                    Field::Name => Ok(Value::Str(s.name.clone())),
                    Field::Version => Ok(Value::Str(s.version.clone())),
                    Field::Attributes => Ok(Value::from_kvs(&s.attributes)),
                    Field::DroppedAttributesCount => Ok(Value::Int(s.dropped_attributes_count.into())),
                    _ => Err(unknown(owner, field)),
                }
            }
            Context::Span => {
                let s = self.span.as_deref().ok_or_else(|| missing(owner))?;
                let status = s.status.as_ref();
                Ok(match field {
                    Field::TraceId => Value::Bytes(s.trace_id.clone()),
                    Field::TraceIdString => Value::Str(super::value::hex(&s.trace_id)),
                    Field::SpanId => Value::Bytes(s.span_id.clone()),
                    Field::SpanIdString => Value::Str(super::value::hex(&s.span_id)),
                    Field::ParentSpanId => Value::Bytes(s.parent_span_id.clone()),
                    Field::ParentSpanIdString => Value::Str(super::value::hex(&s.parent_span_id)),
                    Field::TraceState => Value::Str(s.trace_state.clone()),
                    Field::Name => Value::Str(s.name.clone()),
                    Field::Kind => Value::Int(s.kind.into()),
                    Field::KindString => Value::Str(usize::try_from(s.kind).ok().and_then(|k| KINDS.get(k)).copied().unwrap_or("").to_string()),
                    Field::StartTimeUnixNano => u64_value(s.start_time_unix_nano),
                    Field::EndTimeUnixNano => u64_value(s.end_time_unix_nano),
                    Field::StartTime => time_value(s.start_time_unix_nano),
                    Field::EndTime => time_value(s.end_time_unix_nano),
                    Field::Attributes => Value::from_kvs(&s.attributes),
                    Field::DroppedAttributesCount => Value::Int(s.dropped_attributes_count.into()),
                    Field::DroppedEventsCount => Value::Int(s.dropped_events_count.into()),
                    Field::DroppedLinksCount => Value::Int(s.dropped_links_count.into()),
                    Field::StatusCode => Value::Int(status.map_or(0, |st| st.code).into()),
                    Field::StatusMessage => Value::Str(status.map(|st| st.message.clone()).unwrap_or_default()),
                    Field::Flags => Value::Int(s.flags.into()),
                    _ => return Err(unknown(owner, field)),
                })
            }
            Context::SpanEvent => {
                let e = self.event.as_deref().ok_or_else(|| missing(owner))?;
                Ok(match field {
                    Field::TimeUnixNano => u64_value(e.time_unix_nano),
                    Field::Time => time_value(e.time_unix_nano),
                    Field::Name => Value::Str(e.name.clone()),
                    Field::Attributes => Value::from_kvs(&e.attributes),
                    Field::DroppedAttributesCount => Value::Int(e.dropped_attributes_count.into()),
                    _ => return Err(unknown(owner, field)),
                })
            }
            Context::Metric => {
                let m = self.metric.as_deref().ok_or_else(|| missing(owner))?;
                let shape = self.shape.unwrap_or_else(|| MetricShape::of(m));
                Ok(match field {
                    Field::Name => Value::Str(m.name.clone()),
                    Field::Description => Value::Str(m.description.clone()),
                    Field::Unit => Value::Str(m.unit.clone()),
                    Field::MetricType => Value::Int(shape.data_type),
                    Field::AggregationTemporality => Value::Int(shape.temporality),
                    Field::IsMonotonic => Value::Bool(shape.monotonic),
                    _ => return Err(unknown(owner, field)),
                })
            }
            Context::DataPoint => self.point_get(field),
            Context::Log => {
                let l = self.log.as_deref().ok_or_else(|| missing(owner))?;
                Ok(match field {
                    Field::TimeUnixNano => u64_value(l.time_unix_nano),
                    Field::ObservedTimeUnixNano => u64_value(l.observed_time_unix_nano),
                    Field::Time => time_value(l.time_unix_nano),
                    Field::ObservedTime => time_value(l.observed_time_unix_nano),
                    Field::SeverityNumber => Value::Int(l.severity_number.into()),
                    Field::SeverityText => Value::Str(l.severity_text.clone()),
                    Field::Body => l.body.as_ref().map_or(Value::Nil, Value::from_any),
                    Field::BodyString => Value::Str(l.body.as_ref().map_or(Value::Nil, Value::from_any).text()),
                    Field::Attributes => Value::from_kvs(&l.attributes),
                    Field::DroppedAttributesCount => Value::Int(l.dropped_attributes_count.into()),
                    Field::Flags => Value::Int(l.flags.into()),
                    Field::TraceId => Value::Bytes(l.trace_id.clone()),
                    Field::TraceIdString => Value::Str(super::value::hex(&l.trace_id)),
                    Field::SpanId => Value::Bytes(l.span_id.clone()),
                    Field::SpanIdString => Value::Str(super::value::hex(&l.span_id)),
                    Field::EventName => Value::Str(l.event_name.clone()),
                    _ => return Err(unknown(owner, field)),
                })
            }
        }
    }

    fn point_get(&self, field: Field) -> Result<Value, EvalError> {
        let p = self.point.as_ref().ok_or_else(|| missing(Context::DataPoint))?;
        let (attrs, start, time, flags) = match p {
            Point::Number(p) => (&p.attributes, p.start_time_unix_nano, p.time_unix_nano, p.flags),
            Point::Histogram(p) => (&p.attributes, p.start_time_unix_nano, p.time_unix_nano, p.flags),
            Point::ExpHistogram(p) => (&p.attributes, p.start_time_unix_nano, p.time_unix_nano, p.flags),
            Point::Summary(p) => (&p.attributes, p.start_time_unix_nano, p.time_unix_nano, p.flags),
        };
        Ok(match (field, p) {
            (Field::Attributes, _) => Value::from_kvs(attrs),
            (Field::StartTimeUnixNano, _) => u64_value(start),
            (Field::TimeUnixNano, _) => u64_value(time),
            (Field::StartTime, _) => time_value(start),
            (Field::Time, _) => time_value(time),
            (Field::Flags, _) => Value::Int(flags.into()),
            (Field::ValueDouble, Point::Number(p)) => match p.value {
                Some(number_data_point::Value::AsDouble(d)) => Value::Double(d),
                _ => Value::Double(0.0),
            },
            (Field::ValueInt, Point::Number(p)) => match p.value {
                Some(number_data_point::Value::AsInt(i)) => Value::Int(i),
                _ => Value::Int(0),
            },
            (Field::Count, Point::Histogram(p)) => u64_value(p.count),
            (Field::Count, Point::ExpHistogram(p)) => u64_value(p.count),
            (Field::Count, Point::Summary(p)) => u64_value(p.count),
            (Field::Sum, Point::Histogram(p)) => p.sum.map_or(Value::Nil, Value::Double),
            (Field::Sum, Point::ExpHistogram(p)) => p.sum.map_or(Value::Nil, Value::Double),
            (Field::Sum, Point::Summary(p)) => Value::Double(p.sum),
            (Field::BucketCounts, Point::Histogram(p)) => Value::List(p.bucket_counts.iter().map(|c| u64_value(*c)).collect()),
            (Field::ExplicitBounds, Point::Histogram(p)) => Value::List(p.explicit_bounds.iter().map(|b| Value::Double(*b)).collect()),
            // Fields of other point types read as nil, as upstream does.
            _ => Value::Nil,
        })
    }

    /// Sets `field` of the `owner` context to `v`.
    pub fn set(&mut self, owner: Context, field: Field, v: Value) -> Result<(), EvalError> {
        if field == Field::Cache {
            if !matches!(v, Value::Map(_)) {
                return Err(EvalError(format!("cache must be a map, got a {}", v.type_name())));
            }
            self.cache = v;
            return Ok(());
        }
        let name = field_name(owner, field);
        let what = name.as_str();
        match owner {
            Context::Resource => {
                let r = self.resource.as_deref_mut().ok_or_else(|| missing(owner))?.get_or_insert_with(Default::default);
                match field {
                    Field::Attributes => r.attributes = want_map(&v, what)?,
                    Field::DroppedAttributesCount => r.dropped_attributes_count = want_u32(&v, what)?,
                    _ => return Err(unknown(owner, field)),
                }
            }
            Context::Scope => {
                let s = self.scope.as_deref_mut().ok_or_else(|| missing(owner))?.get_or_insert_with(Default::default);
                match field {
                    Field::Name => s.name = want_str(&v, what)?,
                    Field::Version => s.version = want_str(&v, what)?,
                    Field::Attributes => s.attributes = want_map(&v, what)?,
                    Field::DroppedAttributesCount => s.dropped_attributes_count = want_u32(&v, what)?,
                    _ => return Err(unknown(owner, field)),
                }
            }
            Context::Span => {
                let s = self.span.as_deref_mut().ok_or_else(|| missing(owner))?;
                match field {
                    Field::TraceId | Field::TraceIdString => s.trace_id = want_id(&v, 16, what)?,
                    Field::SpanId | Field::SpanIdString => s.span_id = want_id(&v, 8, what)?,
                    Field::ParentSpanId | Field::ParentSpanIdString => s.parent_span_id = want_id(&v, 8, what)?,
                    Field::TraceState => s.trace_state = want_str(&v, what)?,
                    Field::Name => s.name = want_str(&v, what)?,
                    Field::Kind => s.kind = want_i32(&v, what)?,
                    Field::KindString => {
                        let text = want_str(&v, what)?;
                        let k = KINDS.iter().position(|k| *k == text).ok_or_else(|| EvalError(format!("unknown span kind {text:?}")))?;
                        s.kind = i32::try_from(k).unwrap_or(0);
                    }
                    Field::StartTimeUnixNano => s.start_time_unix_nano = want_u64(&v, what)?,
                    Field::EndTimeUnixNano => s.end_time_unix_nano = want_u64(&v, what)?,
                    Field::StartTime => s.start_time_unix_nano = want_time(&v, what)?,
                    Field::EndTime => s.end_time_unix_nano = want_time(&v, what)?,
                    Field::Attributes => s.attributes = want_map(&v, what)?,
                    Field::DroppedAttributesCount => s.dropped_attributes_count = want_u32(&v, what)?,
                    Field::DroppedEventsCount => s.dropped_events_count = want_u32(&v, what)?,
                    Field::DroppedLinksCount => s.dropped_links_count = want_u32(&v, what)?,
                    Field::StatusCode => s.status.get_or_insert_with(Status::default).code = want_i32(&v, what)?,
                    Field::StatusMessage => s.status.get_or_insert_with(Status::default).message = want_str(&v, what)?,
                    Field::Flags => s.flags = want_u32(&v, what)?,
                    _ => return Err(unknown(owner, field)),
                }
            }
            Context::SpanEvent => {
                let e = self.event.as_deref_mut().ok_or_else(|| missing(owner))?;
                match field {
                    Field::TimeUnixNano => e.time_unix_nano = want_u64(&v, what)?,
                    Field::Time => e.time_unix_nano = want_time(&v, what)?,
                    Field::Name => e.name = want_str(&v, what)?,
                    Field::Attributes => e.attributes = want_map(&v, what)?,
                    Field::DroppedAttributesCount => e.dropped_attributes_count = want_u32(&v, what)?,
                    _ => return Err(unknown(owner, field)),
                }
            }
            Context::Metric => {
                let m = self.metric.as_deref_mut().ok_or_else(|| missing(owner))?;
                match field {
                    Field::Name => m.name = want_str(&v, what)?,
                    Field::Description => m.description = want_str(&v, what)?,
                    Field::Unit => m.unit = want_str(&v, what)?,
                    Field::AggregationTemporality | Field::IsMonotonic if self.shape.is_some() => {
                        return Err(EvalError(format!("{what} cannot be set from the datapoint context")))
                    }
                    Field::AggregationTemporality => {
                        let t = want_i32(&v, what)?;
                        match &mut m.data {
                            Some(metric::Data::Sum(s)) => s.aggregation_temporality = t,
                            Some(metric::Data::Histogram(h)) => h.aggregation_temporality = t,
                            Some(metric::Data::ExponentialHistogram(h)) => h.aggregation_temporality = t,
                            _ => {}
                        }
                    }
                    Field::IsMonotonic => {
                        let Value::Bool(b) = v else { return Err(EvalError(format!("{what} must be a bool, got a {}", v.type_name()))) };
                        if let Some(metric::Data::Sum(s)) = &mut m.data {
                            s.is_monotonic = b;
                        }
                    }
                    _ => return Err(unknown(owner, field)),
                }
            }
            Context::DataPoint => self.point_set(field, v, what)?,
            Context::Log => {
                let l = self.log.as_deref_mut().ok_or_else(|| missing(owner))?;
                match field {
                    Field::TimeUnixNano => l.time_unix_nano = want_u64(&v, what)?,
                    Field::ObservedTimeUnixNano => l.observed_time_unix_nano = want_u64(&v, what)?,
                    Field::Time => l.time_unix_nano = want_time(&v, what)?,
                    Field::ObservedTime => l.observed_time_unix_nano = want_time(&v, what)?,
                    Field::SeverityNumber => l.severity_number = want_i32(&v, what)?,
                    Field::SeverityText => l.severity_text = want_str(&v, what)?,
                    Field::Body => l.body = Some(v.to_any()?),
                    Field::BodyString => l.body = Some(AnyValue { value: Some(any_value::Value::StringValue(want_str(&v, what)?)) }),
                    Field::Attributes => l.attributes = want_map(&v, what)?,
                    Field::DroppedAttributesCount => l.dropped_attributes_count = want_u32(&v, what)?,
                    Field::Flags => l.flags = want_u32(&v, what)?,
                    Field::TraceId | Field::TraceIdString => l.trace_id = want_id(&v, 16, what)?,
                    Field::SpanId | Field::SpanIdString => l.span_id = want_id(&v, 8, what)?,
                    Field::EventName => l.event_name = want_str(&v, what)?,
                    _ => return Err(unknown(owner, field)),
                }
            }
        }
        Ok(())
    }

    fn point_set(&mut self, field: Field, v: Value, what: &str) -> Result<(), EvalError> {
        let p = self.point.as_mut().ok_or_else(|| missing(Context::DataPoint))?;
        let (attrs, start, time, flags) = match p {
            Point::Number(p) => (&mut p.attributes, &mut p.start_time_unix_nano, &mut p.time_unix_nano, &mut p.flags),
            Point::Histogram(p) => (&mut p.attributes, &mut p.start_time_unix_nano, &mut p.time_unix_nano, &mut p.flags),
            Point::ExpHistogram(p) => (&mut p.attributes, &mut p.start_time_unix_nano, &mut p.time_unix_nano, &mut p.flags),
            Point::Summary(p) => (&mut p.attributes, &mut p.start_time_unix_nano, &mut p.time_unix_nano, &mut p.flags),
        };
        match field {
            Field::Attributes => *attrs = want_map(&v, what)?,
            Field::StartTimeUnixNano => *start = want_u64(&v, what)?,
            Field::TimeUnixNano => *time = want_u64(&v, what)?,
            Field::StartTime => *start = want_time(&v, what)?,
            Field::Time => *time = want_time(&v, what)?,
            Field::Flags => *flags = want_u32(&v, what)?,
            _ => match (field, p) {
                (Field::ValueDouble, Point::Number(p)) => {
                    let d = match v {
                        Value::Double(d) => d,
                        Value::Int(i) => i as f64,
                        other => return Err(EvalError(format!("{what} must be a double, got a {}", other.type_name()))),
                    };
                    p.value = Some(number_data_point::Value::AsDouble(d));
                }
                (Field::ValueInt, Point::Number(p)) => p.value = Some(number_data_point::Value::AsInt(want_int(&v, what)?)),
                (Field::Count, Point::Histogram(p)) => p.count = want_u64(&v, what)?,
                (Field::Count, Point::ExpHistogram(p)) => p.count = want_u64(&v, what)?,
                (Field::Count, Point::Summary(p)) => p.count = want_u64(&v, what)?,
                (Field::Sum, Point::Histogram(p)) => p.sum = Some(want_number(&v, what)?),
                (Field::Sum, Point::ExpHistogram(p)) => p.sum = Some(want_number(&v, what)?),
                (Field::Sum, Point::Summary(p)) => p.sum = want_number(&v, what)?,
                (Field::BucketCounts, Point::Histogram(p)) => p.bucket_counts = want_list(&v, what, |x| want_u64(x, what))?,
                (Field::ExplicitBounds, Point::Histogram(p)) => p.explicit_bounds = want_list(&v, what, |x| want_number(x, what))?,
                // Fields other point types do not have are left alone, as upstream does.
                _ => {}
            },
        }
        Ok(())
    }
}

fn want_number(v: &Value, what: &str) -> Result<f64, EvalError> {
    match v {
        Value::Double(d) => Ok(*d),
        Value::Int(i) => Ok(*i as f64),
        other => Err(EvalError(format!("{what} must be a number, got a {}", other.type_name()))),
    }
}

fn want_list<T>(v: &Value, what: &str, each: impl Fn(&Value) -> Result<T, EvalError>) -> Result<Vec<T>, EvalError> {
    match v {
        Value::List(items) => items.iter().map(each).collect(),
        other => Err(EvalError(format!("{what} must be a list, got a {}", other.type_name()))),
    }
}

fn field_name(owner: Context, field: Field) -> String {
    crate::catalog::own_fields(owner).find(|d| d.field == field).map_or_else(|| format!("{field:?}"), |d| format!("{}.{}", owner.name(), d.name))
}

fn unknown(owner: Context, field: Field) -> EvalError {
    EvalError(format!("the {} context has no field {field:?}", owner.name()))
}
