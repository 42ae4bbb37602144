//! `otelcol.processor.probabilistic_sampler`: keeps a share of spans and log records.
//!
//! Each item gets 56 bits of randomness (`hash_seed` mode: an FNV-1a hash of the seed and
//! the trace ID or a log attribute, as upstream computes it, so the same traces are kept;
//! `proportional` and `equalizing`: the explicit `rv` or the trace ID's last 7 bytes) and is
//! kept when that is at least the rejection threshold the mode gives. Kept items record
//! the threshold (and, in `hash_seed` mode, the randomness) in the span's W3C `tracestate`
//! (`ot=rv:…;th:…`) or the log record's `sampling.randomness`/`sampling.threshold`
//! attributes. `sampling.priority` on spans forces keep (> 0) or drop (0); a log record's
//! `sampling_priority` attribute gives its own sampling percentage. Metrics pass through.

mod math;
mod tracestate;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::trace::v1::Span;

use crate::component::{Arguments, ComponentError, Context, Reader, Registration};
use crate::metrics::Counter;
use crate::otelcol::consumer::{ConsumeError, Output};
use crate::otelcol::log;
use crate::otelcol::pdata::{Payload, Signal};
use crate::otelcol::processor::rewrite::{self, invalid, ProcessorArgs, Transform};
use math::{hash_randomness, hash_seed_threshold, parse_rvalue, trace_id_randomness, Threshold, MAX};
use tracestate::TraceState;

const NAME: &str = "otelcol.processor.probabilistic_sampler";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["input"], rewrite::build::<Args>);

/// The randomness upstream assumes when an item has none: every threshold but "never" keeps it.
const ALL_PROBABILITIES: u64 = MAX - 1;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Mode {
    HashSeed,
    #[default]
    Proportional,
    Equalizing,
    /// Written as `""`: `hash_seed` when a seed is set (or logs hash a record attribute),
    /// else `proportional`, as upstream decides.
    Unset,
}

#[derive(Clone, Debug, Default)]
struct Config {
    percent: f32,
    hash_seed: u32,
    mode: Mode,
    fail_closed: bool,
    precision: u32,
    /// Logs: hash the trace ID (`traceID`) or only `from_attribute` (`record`).
    trace_id_source: bool,
    from_attribute: String,
    sampling_priority: String,
}

/// The component's arguments.
#[derive(Default)]
pub struct Args {
    config: Config,
    output: Output,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&["debug_metrics"]);
        let mode = match r.get::<String>("mode").as_str() {
            "hash_seed" => Mode::HashSeed,
            "proportional" => Mode::Proportional,
            "equalizing" => Mode::Equalizing,
            "" => Mode::Unset,
            other => {
                r.error("mode", format!("unsupported sampler mode {}", syntax::quote::go_quote(other)));
                Mode::default()
            }
        };
        let source: String = r.get("attribute_source");
        let trace_id_source = match source.as_str() {
            "traceID" | "" => true,
            "record" => false,
            other => {
                r.error("attribute_source", format!("invalid attribute source: {other}. Expected: traceID or record"));
                true
            }
        };
        let percent: f32 = r.get("sampling_percentage");
        let precision: i64 = r.get("sampling_precision");
        let config = Config {
            percent,
            hash_seed: r.get("hash_seed"),
            mode,
            fail_closed: r.get("fail_closed"),
            precision: precision.clamp(0, 14) as u32,
            trace_id_source,
            from_attribute: r.get("from_attribute"),
            sampling_priority: r.get("sampling_priority"),
        };
        if precision == 0 {
            r.error("sampling_precision", "invalid sampling precision: 0");
        } else if !(0..=14).contains(&precision) {
            r.error("sampling_precision", format!("sampling precision is too great, should be <= 14: {precision}"));
        }
        Args { config, output: r.block_or_default("output") }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        let pct = f64::from(self.config.percent);
        r.check(pct.is_finite(), &["sampling_percentage"], format!("sampling rate is invalid: {pct:.6}%"));
        r.check(pct >= 0.0, &["sampling_percentage"], format!("sampling rate is negative: {pct:.6}%"));
        let ratio = pct / 100.0;
        r.check(ratio <= 0.0 || ratio >= 1.0 / MAX as f64, &["sampling_percentage"], format!("sampling rate is too small: {pct}%"));
    }
}

/// How the threshold is chosen.
#[derive(Clone, Copy, Debug)]
enum Sampler {
    Never,
    Hash { seed: u32, threshold: Threshold },
    Equalizing(Threshold),
    Proportional { ratio: f64, precision: u32 },
}

impl Sampler {
    fn new(c: &Config, logs: bool) -> Sampler {
        let pct = c.percent.min(100.0);
        let mode = match c.mode {
            Mode::Unset if c.hash_seed != 0 || (logs && !c.trace_id_source) => Mode::HashSeed,
            Mode::Unset => Mode::Proportional,
            m => m,
        };
        if pct <= 0.0 {
            return Sampler::Never;
        }
        let ratio = (f64::from(pct) / 100.0).max(1.0 / MAX as f64);
        match mode {
            Mode::Equalizing => Sampler::Equalizing(Threshold::from_probability(ratio, c.precision).unwrap_or(Threshold::ALWAYS)),
            Mode::HashSeed => match hash_seed_threshold(pct) {
                Threshold::NEVER => Sampler::Never,
                threshold => Sampler::Hash { seed: c.hash_seed, threshold },
            },
            _ => Sampler::Proportional { ratio, precision: c.precision },
        }
    }

    fn decide(&self, carrier: &TraceState) -> Threshold {
        match *self {
            Sampler::Never => Threshold::NEVER,
            Sampler::Hash { threshold, .. } | Sampler::Equalizing(threshold) => threshold,
            Sampler::Proportional { ratio, precision } => {
                let incoming = carrier.th.map_or(1.0, Threshold::probability);
                Threshold::from_probability(incoming * ratio, precision).unwrap_or(Threshold::NEVER)
            }
        }
    }
}

/// An item's randomness and the name upstream's metric gives its source.
#[derive(Clone, Debug)]
struct Randomness {
    value: Option<u64>,
    policy: String,
}

impl Randomness {
    fn missing() -> Self {
        Randomness { value: None, policy: "missing_randomness".into() }
    }

    fn of(value: u64, policy: &str) -> Self {
        Randomness { value: Some(value), policy: policy.into() }
    }
}

/// What one item's sampling found before the decision.
struct Found {
    rnd: Randomness,
    /// The sampling fields to update when the item is kept (`None`: leave them alone).
    carrier: Option<TraceState>,
    error: Option<String>,
}

impl Found {
    /// `hash_seed` mode writes its randomness, unless the item already has sampling fields.
    fn hashed(rnd: Randomness, parsed: Result<TraceState, String>) -> Found {
        match parsed {
            Err(e) => Found { rnd, carrier: None, error: Some(e) },
            Ok(ts) if ts.rv.is_some() => Found { rnd, carrier: None, error: Some(RANDOMNESS_IN_USE.into()) },
            Ok(ts) if ts.th.is_some() => Found { rnd, carrier: None, error: Some(THRESHOLD_IN_USE.into()) },
            Ok(mut ts) => {
                if rnd.value.is_some() {
                    ts.rv = rnd.value;
                }
                Found { rnd, carrier: Some(ts), error: None }
            }
        }
    }

    /// The consistent modes read explicit randomness first, then the trace ID.
    fn consistent(parsed: Result<TraceState, String>, trace_id: &[u8]) -> Found {
        match parsed {
            Err(e) => Found { rnd: Randomness::missing(), carrier: None, error: Some(e) },
            Ok(ts) => {
                let rnd = match (ts.rv, trace_id_randomness(trace_id)) {
                    (Some(rv), _) => Randomness::of(rv, "sampling_randomness"),
                    (None, Some(r)) => Randomness::of(r, "trace_id_w3c"),
                    (None, None) => Randomness::missing(),
                };
                Found { rnd, carrier: Some(ts), error: None }
            }
        }
    }

    fn never(parsed: Result<TraceState, String>) -> Found {
        let rnd = Randomness::of(ALL_PROBABILITIES, "sampling_priority");
        match parsed {
            Ok(ts) => Found { rnd, carrier: Some(ts), error: None },
            Err(e) => Found { rnd, carrier: None, error: Some(e) },
        }
    }
}

const RANDOMNESS_IN_USE: &str = "item has sampling randomness, equalizing or proportional mode recommended";
const THRESHOLD_IN_USE: &str = "item has sampling threshold, equalizing or proportional mode recommended";

/// Sampling counts per (policy, sampled), added to the metric once per payload.
type Tally = HashMap<(String, bool), u64>;

struct Rules {
    config: Config,
    traces: Sampler,
    logs: Sampler,
    ctx: Context,
    counters: Mutex<HashMap<(Signal, String, bool), Counter>>,
}

impl Rules {
    /// The common decision: randomness and carrier checks, mode, priority, then the update
    /// of the kept item's sampling fields.
    fn sample(
        &self,
        sampler: &Sampler,
        mut found: Found,
        priority: impl FnOnce(&mut Randomness, &mut Threshold),
        what: &str,
        tally: &mut Tally,
    ) -> (bool, Option<TraceState>) {
        if found.error.is_none() {
            found.error = match (found.rnd.value, found.carrier.as_mut()) {
                (None, _) => Some("missing randomness".into()),
                (Some(r), Some(c)) if c.th.is_some_and(|t| !t.should_sample(r)) => {
                    c.clear_threshold();
                    Some("inconsistent arriving threshold: item should not have been sampled".into())
                }
                _ => None,
            };
        }
        let mut threshold = match (&found.error, &found.carrier) {
            (Some(e), _) => {
                log(self.ctx.id(), tracing::Level::DEBUG, &format!("{what}: {e}"));
                if self.config.fail_closed {
                    Threshold::NEVER
                } else {
                    Threshold::ALWAYS
                }
            }
            (None, Some(c)) => sampler.decide(c),
            (None, None) => sampler.decide(&TraceState::default()),
        };
        priority(&mut found.rnd, &mut threshold);
        let sampled = threshold.should_sample(found.rnd.value.unwrap_or(ALL_PROBABILITIES));
        let carrier = match found.carrier {
            Some(mut c) if sampled => {
                // A threshold may only rise: an arriving higher one stays.
                if c.th.is_some_and(|t| t > threshold) {
                    log(self.ctx.id(), tracing::Level::WARN, &format!("{what}: inconsistent sampling: the arriving threshold is higher"));
                } else {
                    c.set_threshold(threshold);
                }
                Some(c)
            }
            _ => None,
        };
        *tally.entry((found.rnd.policy, sampled)).or_default() += 1;
        (sampled, carrier)
    }

    fn count(&self, signal: Signal, tally: Tally) {
        let mut counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        for ((policy, sampled), n) in tally {
            let counter = counters.entry((signal, policy.clone(), sampled)).or_insert_with(|| {
                let (name, help) = match signal {
                    Signal::Logs => ("otelcol_processor_probabilistic_sampler_count_logs_sampled", "Count of logs that were sampled or not"),
                    _ => ("otelcol_processor_probabilistic_sampler_count_traces_sampled", "Count of traces that were sampled or not"),
                };
                self.ctx.counter(name, help, &[("policy", &policy), ("sampled", if sampled { "true" } else { "false" })])
            });
            counter.add(n);
        }
    }

    fn span(&self, s: &mut Span, tally: &mut Tally) -> bool {
        let parsed = TraceState::parse(&s.trace_state).map_err(|e| e.to_string());
        let found = match self.traces {
            Sampler::Never => Found::never(parsed),
            Sampler::Hash { seed, .. } => {
                let rnd = match trace_id_randomness(&s.trace_id) {
                    Some(_) => Randomness::of(hash_randomness(&s.trace_id, seed), "trace_id_hash"),
                    None => Randomness::missing(),
                };
                Found::hashed(rnd, parsed)
            }
            _ => Found::consistent(parsed, &s.trace_id),
        };
        let forced = span_priority(&s.attributes);
        let (sampled, carrier) = self.sample(
            &self.traces,
            found,
            |rnd, threshold| {
                if let Some(keep) = forced {
                    *threshold = if keep { Threshold::ALWAYS } else { Threshold::NEVER };
                    rnd.policy = "sampling_priority".into();
                }
            },
            "traces sampler",
            tally,
        );
        if let Some(c) = carrier {
            s.trace_state = c.serialize();
        }
        sampled
    }

    fn log_record(&self, l: &mut LogRecord, tally: &mut Tally) -> bool {
        let parsed = log_carrier(&l.attributes);
        let found = match self.logs {
            Sampler::Never => Found::never(parsed),
            Sampler::Hash { seed, .. } => {
                let mut rnd = Randomness::missing();
                if self.config.trace_id_source && trace_id_randomness(&l.trace_id).is_some() {
                    rnd = Randomness::of(hash_randomness(&l.trace_id, seed), "trace_id_hash");
                }
                if rnd.value.is_none() && !self.config.from_attribute.is_empty() {
                    if let Some(bytes) = attribute(&l.attributes, &self.config.from_attribute).map(value_bytes).filter(|b| !b.is_empty()) {
                        rnd = Randomness::of(hash_randomness(&bytes, seed), &self.config.from_attribute);
                    }
                }
                Found::hashed(rnd, parsed)
            }
            _ => Found::consistent(parsed, &l.trace_id),
        };
        let priority = (!self.config.sampling_priority.is_empty())
            .then(|| attribute(&l.attributes, &self.config.sampling_priority))
            .flatten()
            .and_then(|v| match v.value {
                Some(any_value::Value::DoubleValue(d)) => Some(d / 100.0),
                Some(any_value::Value::IntValue(i)) => Some(i as f64 / 100.0),
                _ => None,
            })
            .filter(|p| *p != 0.0)
            .and_then(|p| Threshold::from_probability(p, self.config.precision));
        let (sampled, carrier) = self.sample(
            &self.logs,
            found,
            |rnd, threshold| {
                if let Some(t) = priority {
                    *threshold = t;
                    rnd.policy = "sampling_priority".into();
                }
            },
            "logs sampler",
            tally,
        );
        if let Some(c) = carrier {
            if let Some(rv) = c.rv {
                put_str(&mut l.attributes, "sampling.randomness", math::rvalue(rv));
            }
            match c.th_text() {
                Some(t) => put_str(&mut l.attributes, "sampling.threshold", t.to_string()),
                None => l.attributes.retain(|kv| kv.key != "sampling.threshold"),
            }
        }
        sampled
    }
}

/// `sampling.priority`: `Some(true)` keep, `Some(false)` drop, `None` no say.
fn span_priority(attrs: &[KeyValue]) -> Option<bool> {
    let v = match attribute(attrs, "sampling.priority")?.value.as_ref()? {
        any_value::Value::IntValue(i) => *i as f64,
        any_value::Value::DoubleValue(d) => *d,
        any_value::Value::StringValue(s) => s.parse().ok()?,
        _ => return None,
    };
    if v == 0.0 {
        Some(false)
    } else if v > 0.0 {
        Some(true)
    } else {
        None
    }
}

fn attribute<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a AnyValue> {
    attrs.iter().find(|kv| kv.key == key).and_then(|kv| kv.value.as_ref())
}

fn value_bytes(v: &AnyValue) -> Vec<u8> {
    match &v.value {
        Some(any_value::Value::StringValue(s)) => s.as_bytes().to_vec(),
        Some(any_value::Value::BytesValue(b)) => b.clone(),
        _ => crate::otelcol::processor::attributes::value_text(v).into_bytes(),
    }
}

fn put_str(attrs: &mut Vec<KeyValue>, key: &str, value: String) {
    let v = AnyValue { value: Some(any_value::Value::StringValue(value)) };
    match attrs.iter_mut().find(|kv| kv.key == key) {
        Some(kv) => kv.value = Some(v),
        None => attrs.push(KeyValue { key: key.into(), value: Some(v), ..Default::default() }),
    }
}

/// A log record's sampling fields: its `sampling.randomness` and `sampling.threshold` strings.
fn log_carrier(attrs: &[KeyValue]) -> Result<TraceState, String> {
    let text = |k| match attribute(attrs, k).and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) if !s.is_empty() => Some(s.as_str()),
        _ => None,
    };
    let mut ts = TraceState::default();
    if let Some(t) = text("sampling.threshold") {
        ts.set_threshold_text(t).map_err(|e| e.to_string())?;
    }
    if let Some(r) = text("sampling.randomness") {
        ts.rv = Some(parse_rvalue(r).ok_or_else(|| format!("invalid sampling.randomness {r:?}"))?);
    }
    Ok(ts)
}

impl Transform for Rules {
    fn process(&self, data: Payload) -> Result<Option<Payload>, ConsumeError> {
        let md = data.metadata().clone();
        let mut tally = Tally::new();
        let out = match data.signal() {
            Signal::Metrics => return Ok(Some(data)),
            Signal::Traces => {
                let mut req = data.decode_traces().map_err(invalid)?;
                for rs in &mut req.resource_spans {
                    for ss in &mut rs.scope_spans {
                        ss.spans.retain_mut(|s| self.span(s, &mut tally));
                    }
                    rs.scope_spans.retain(|ss| !ss.spans.is_empty());
                }
                req.resource_spans.retain(|rs| !rs.scope_spans.is_empty());
                self.count(Signal::Traces, tally);
                (!req.resource_spans.is_empty()).then(|| Payload::from_traces(&req))
            }
            Signal::Logs => {
                let mut req = data.decode_logs().map_err(invalid)?;
                for rl in &mut req.resource_logs {
                    for sl in &mut rl.scope_logs {
                        sl.log_records.retain_mut(|l| self.log_record(l, &mut tally));
                    }
                    rl.scope_logs.retain(|sl| !sl.log_records.is_empty());
                }
                req.resource_logs.retain(|rl| !rl.scope_logs.is_empty());
                self.count(Signal::Logs, tally);
                (!req.resource_logs.is_empty()).then(|| Payload::from_logs(&req))
            }
        };
        Ok(out.map(|p| p.with_metadata(md)))
    }
}

impl ProcessorArgs for Args {
    const NAME: &'static str = NAME;

    fn into_parts(self, ctx: &Context) -> Result<(Arc<dyn Transform>, Output), ComponentError> {
        let rules = Rules {
            traces: Sampler::new(&self.config, false),
            logs: Sampler::new(&self.config, true),
            config: self.config,
            ctx: ctx.clone(),
            counters: Mutex::new(HashMap::new()),
        };
        Ok((Arc::new(rules), self.output))
    }
}

#[cfg(test)]
mod tests;
