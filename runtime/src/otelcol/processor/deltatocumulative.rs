//! `otelcol.processor.deltatocumulative`: turns delta sums and delta histograms into
//! cumulative ones by keeping a running total per stream (resource, scope, metric identity
//! and point attributes). A point older than its stream's last one, or starting before the
//! stream did, is dropped; streams silent for `max_stale` are forgotten; past `max_streams`
//! new streams are dropped. Cumulative data, gauges, summaries and exponential histograms
//! pass as they are.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::number_data_point::Value as Number;
use opentelemetry_proto::tonic::metrics::v1::{metric, AggregationTemporality, HistogramDataPoint, Metric, NumberDataPoint};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;

use crate::component::args::types::Dur;
use crate::component::{Arguments, ComponentError, Context, Reader, Registration};
use crate::metrics::{Counter, Gauge};
use crate::otelcol::consumer::{ConsumeError, Output};
use crate::otelcol::pdata::{Payload, Signal};
use crate::otelcol::processor::rewrite::{self, invalid, ProcessorArgs, Transform};

const NAME: &str = "otelcol.processor.deltatocumulative";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["input"], rewrite::build::<Args>);

/// The component's arguments.
#[derive(Default)]
pub struct Args {
    max_stale: Duration,
    max_streams: usize,
    output: Output,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&["debug_metrics"]);
        let max_stale: Dur = r.get("max_stale");
        let max_streams: i64 = r.get("max_streams");
        r.check(max_stale.0 > Duration::ZERO, &["max_stale"], "max_stale must be a positive duration");
        r.check(max_streams >= 0, &["max_streams"], "max_streams must be a positive number");
        Args { max_stale: max_stale.0, max_streams: usize::try_from(max_streams).unwrap_or(0), output: r.block_or_default("output") }
    }
}

/// A stream's running total.
#[derive(Clone, Debug)]
enum Total {
    Number(NumberDataPoint),
    Histogram(HistogramDataPoint),
}

struct Stream {
    total: Total,
    seen: Instant,
}

/// Why a point was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rejected {
    OutOfOrder,
    OlderStart,
    Limit,
}

struct State {
    streams: HashMap<Vec<u8>, Stream>,
    swept: Instant,
}

struct Rules {
    max_stale: Duration,
    max_streams: usize,
    state: Mutex<State>,
    tracked: Gauge,
    accepted: Counter,
    dropped: Counter,
}

/// The identity of a point's stream: everything but its values and times.
fn stream_key(resource: Option<&Resource>, scope: Option<&InstrumentationScope>, m: &Metric, monotonic: bool, attrs: &[KeyValue]) -> Vec<u8> {
    fn sorted(key: &mut Vec<u8>, attrs: &[KeyValue]) {
        let mut a: Vec<&KeyValue> = attrs.iter().collect();
        a.sort_by(|x, y| x.key.cmp(&y.key));
        for kv in a {
            key.extend(kv.encode_length_delimited_to_vec());
        }
        key.push(0xff);
    }
    let mut key = Vec::new();
    sorted(&mut key, resource.map_or(&[][..], |r| &r.attributes));
    sorted(&mut key, scope.map_or(&[][..], |s| &s.attributes));
    for part in [scope.map_or("", |s| s.name.as_str()), scope.map_or("", |s| s.version.as_str()), &m.name, &m.unit] {
        key.extend(part.len().to_le_bytes());
        key.extend(part.as_bytes());
    }
    key.push(u8::from(monotonic));
    key.push(match m.data {
        Some(metric::Data::Sum(_)) => 1,
        _ => 2,
    });
    sorted(&mut key, attrs);
    key
}

fn add_number(total: &mut NumberDataPoint, p: &NumberDataPoint) {
    total.value = match (total.value, p.value) {
        (Some(Number::AsInt(a)), Some(Number::AsInt(b))) => Some(Number::AsInt(a.wrapping_add(b))),
        (Some(a), Some(b)) => Some(Number::AsDouble(as_f64(a) + as_f64(b))),
        (a, None) => a,
        (None, b) => b,
    };
}

fn as_f64(n: Number) -> f64 {
    match n {
        Number::AsInt(i) => i as f64,
        Number::AsDouble(d) => d,
    }
}

/// Adds a delta histogram point; `false` when the bucket layout changed.
fn add_histogram(total: &mut HistogramDataPoint, p: &HistogramDataPoint) -> bool {
    if total.explicit_bounds != p.explicit_bounds || total.bucket_counts.len() != p.bucket_counts.len() {
        return false;
    }
    for (t, c) in total.bucket_counts.iter_mut().zip(&p.bucket_counts) {
        *t += c;
    }
    total.count += p.count;
    total.sum = match (total.sum, p.sum) {
        (Some(a), Some(b)) => Some(a + b),
        _ => None,
    };
    total.min = match (total.min, p.min) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    total.max = match (total.max, p.max) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    true
}

impl Rules {
    /// The cumulative point for a delta point, or why it is dropped.
    fn accumulate(&self, st: &mut State, key: Vec<u8>, point: Total, now: Instant) -> Result<Total, Rejected> {
        let (start, time) = match &point {
            Total::Number(p) => (p.start_time_unix_nano, p.time_unix_nano),
            Total::Histogram(p) => (p.start_time_unix_nano, p.time_unix_nano),
        };
        let Some(stream) = st.streams.get_mut(&key) else {
            if st.streams.len() >= self.max_streams {
                return Err(Rejected::Limit);
            }
            st.streams.insert(key, Stream { total: point.clone(), seen: now });
            return Ok(point);
        };
        let (t_start, t_time) = match &stream.total {
            Total::Number(p) => (p.start_time_unix_nano, p.time_unix_nano),
            Total::Histogram(p) => (p.start_time_unix_nano, p.time_unix_nano),
        };
        if start < t_start {
            return Err(Rejected::OlderStart);
        }
        if time <= t_time {
            return Err(Rejected::OutOfOrder);
        }
        stream.seen = now;
        match (&mut stream.total, &point) {
            (Total::Number(t), Total::Number(p)) => {
                add_number(t, p);
                t.time_unix_nano = time;
                t.attributes.clone_from(&p.attributes);
                t.exemplars.clone_from(&p.exemplars);
                t.flags = p.flags;
            }
            (Total::Histogram(t), Total::Histogram(p)) => {
                if add_histogram(t, p) {
                    t.time_unix_nano = time;
                    t.attributes.clone_from(&p.attributes);
                    t.exemplars.clone_from(&p.exemplars);
                    t.flags = p.flags;
                } else {
                    // A new bucket layout starts the running total again.
                    *t = p.clone();
                    t.start_time_unix_nano = t_start;
                }
            }
            (t, p) => *t = p.clone(),
        }
        Ok(stream.total.clone())
    }

    fn convert(&self, req: &mut ExportMetricsServiceRequest) {
        let now = Instant::now();
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if now.duration_since(st.swept) >= self.max_stale.min(Duration::from_secs(1)) {
            let stale = self.max_stale;
            st.streams.retain(|_, s| now.duration_since(s.seen) < stale);
            st.swept = now;
        }
        let delta = AggregationTemporality::Delta as i32;
        let cumulative = AggregationTemporality::Cumulative as i32;
        for rm in &mut req.resource_metrics {
            let resource = rm.resource.as_ref();
            for sm in &mut rm.scope_metrics {
                let scope = sm.scope.as_ref();
                for m in &mut sm.metrics {
                    let header = Metric { data: None, ..m.clone() };
                    match &mut m.data {
                        Some(metric::Data::Sum(s)) if s.aggregation_temporality == delta => {
                            let monotonic = s.is_monotonic;
                            let points = std::mem::take(&mut s.data_points);
                            for p in points {
                                let key = stream_key(resource, scope, &header, monotonic, &p.attributes);
                                match self.accumulate(&mut st, key, Total::Number(p), now) {
                                    Ok(Total::Number(t)) => {
                                        self.accepted.inc();
                                        s.data_points.push(t);
                                    }
                                    _ => self.dropped.inc(),
                                }
                            }
                            s.aggregation_temporality = cumulative;
                        }
                        Some(metric::Data::Histogram(h)) if h.aggregation_temporality == delta => {
                            let points = std::mem::take(&mut h.data_points);
                            for p in points {
                                let key = stream_key(resource, scope, &header, false, &p.attributes);
                                match self.accumulate(&mut st, key, Total::Histogram(p), now) {
                                    Ok(Total::Histogram(t)) => {
                                        self.accepted.inc();
                                        h.data_points.push(t);
                                    }
                                    _ => self.dropped.inc(),
                                }
                            }
                            h.aggregation_temporality = cumulative;
                        }
                        _ => {}
                    }
                }
                sm.metrics.retain(|m| match &m.data {
                    Some(metric::Data::Sum(s)) => !s.data_points.is_empty(),
                    Some(metric::Data::Histogram(h)) => !h.data_points.is_empty(),
                    _ => true,
                });
            }
            rm.scope_metrics.retain(|sm| !sm.metrics.is_empty());
        }
        req.resource_metrics.retain(|rm| !rm.scope_metrics.is_empty());
        self.tracked.set(st.streams.len() as f64);
    }
}

/// Whether any metric of the request is a delta sum or histogram (else nothing to do).
fn has_delta(req: &ExportMetricsServiceRequest) -> bool {
    let delta = AggregationTemporality::Delta as i32;
    req.resource_metrics.iter().flat_map(|rm| &rm.scope_metrics).flat_map(|sm| &sm.metrics).any(|m| match &m.data {
        Some(metric::Data::Sum(s)) => s.aggregation_temporality == delta,
        Some(metric::Data::Histogram(h)) => h.aggregation_temporality == delta,
        _ => false,
    })
}

impl Transform for Rules {
    fn process(&self, data: Payload) -> Result<Option<Payload>, ConsumeError> {
        if data.signal() != Signal::Metrics {
            return Ok(Some(data));
        }
        let mut req = data.decode_metrics().map_err(invalid)?;
        if !has_delta(&req) {
            return Ok(Some(data));
        }
        self.convert(&mut req);
        Ok((!req.resource_metrics.is_empty()).then(|| Payload::from_metrics(&req).with_metadata(data.metadata().clone())))
    }
}

impl ProcessorArgs for Args {
    const NAME: &'static str = NAME;

    fn into_parts(self, ctx: &Context) -> Result<(Arc<dyn Transform>, Output), ComponentError> {
        let rules = Rules {
            max_stale: self.max_stale,
            max_streams: self.max_streams,
            state: Mutex::new(State { streams: HashMap::new(), swept: Instant::now() }),
            tracked: ctx.gauge("otelcol_deltatocumulative_streams_tracked", "Number of streams tracked", &[]),
            accepted: ctx.counter("otelcol_deltatocumulative_datapoints", "Number of data points processed", &[]),
            dropped: ctx.counter(
                "otelcol_deltatocumulative_datapoints_dropped",
                "Number of data points dropped (out of order, older start or stream limit)",
                &[],
            ),
        };
        Ok((Arc::new(rules), self.output))
    }
}

#[cfg(test)]
mod tests;
