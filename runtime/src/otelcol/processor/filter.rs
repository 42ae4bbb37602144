//! `otelcol.processor.filter`: drops the spans, span events, metrics, data points and log
//! records an OTTL condition matches, then the scopes and resources left empty; a payload
//! left with nothing is not passed on.
//!
//! `traces { span, spanevent }`, `metrics { metric, datapoint }` and `logs { log_record }` run
//! first (outer items before their children, as upstream does), then the
//! `trace_conditions` / `metric_conditions` / `log_conditions` blocks in order, each in its
//! `context` or, without one, the one context its conditions' path prefixes, functions and
//! enums name.

use std::sync::{Arc, RwLock};

use analyzer::rules::ArgError;
use eval::{PathSeg, Value};
use ottl::{Condition, Context};

use super::ottl_support::{context_for, element, field, inferred, ottl_error, rewrite, ErrorMode, NotInferred};
use crate::component::args::decode_checked;
use crate::component::{Arguments, Component, ComponentError, Context as ComponentContext, Reader, Registration};
use crate::metrics::Counter;
use crate::otelcol::consumer::{ConsumeError, ConsumeFuture, Consumer, ConsumerHandle, Fanout, Output};
use crate::otelcol::pdata::{BySignal, Payload, Signal};

const NAME: &str = "otelcol.processor.filter";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["input"], build);

#[derive(Default)]
struct TracesArgs {
    span: Vec<String>,
    spanevent: Vec<String>,
}

impl Arguments for TracesArgs {
    fn decode(r: &mut Reader<'_>) -> Self {
        TracesArgs { span: r.get("span"), spanevent: r.get("spanevent") }
    }
}

#[derive(Default)]
struct MetricsArgs {
    metric: Vec<String>,
    datapoint: Vec<String>,
}

impl Arguments for MetricsArgs {
    fn decode(r: &mut Reader<'_>) -> Self {
        MetricsArgs { metric: r.get("metric"), datapoint: r.get("datapoint") }
    }
}

#[derive(Default)]
struct LogsArgs {
    log_record: Vec<String>,
}

impl Arguments for LogsArgs {
    fn decode(r: &mut Reader<'_>) -> Self {
        LogsArgs { log_record: r.get("log_record") }
    }
}

/// A `trace_conditions` / `metric_conditions` / `log_conditions` block.
#[derive(Default)]
struct ConditionsArgs {
    context: Option<String>,
    conditions: Vec<String>,
    known: bool,
}

impl Arguments for ConditionsArgs {
    fn decode(r: &mut Reader<'_>) -> Self {
        let known = r.known("context") && r.known("conditions");
        ConditionsArgs { context: r.opt("context"), conditions: r.get("conditions"), known }
    }
}

#[derive(Default)]
pub struct Args {
    error_mode: String,
    error_mode_known: bool,
    traces: Option<TracesArgs>,
    metrics: Option<MetricsArgs>,
    logs: Option<LogsArgs>,
    trace_conditions: Vec<ConditionsArgs>,
    metric_conditions: Vec<ConditionsArgs>,
    log_conditions: Vec<ConditionsArgs>,
    output: Output,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&["debug_metrics"]);
        Args {
            error_mode_known: r.known("error_mode"),
            error_mode: r.get("error_mode"),
            traces: r.block("traces"),
            metrics: r.block("metrics"),
            logs: r.block("logs"),
            trace_conditions: r.blocks("trace_conditions"),
            metric_conditions: r.blocks("metric_conditions"),
            log_conditions: r.blocks("log_conditions"),
            output: r.block_or_default("output"),
        }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        let (_, errors) = compile(self, r.path());
        for e in errors {
            r.push_error(e);
        }
    }
}

/// The checked conditions of each signal, by context, in the order they run.
#[derive(Default)]
pub struct Compiled {
    mode: ErrorMode,
    conditions: BySignal<Vec<(Context, Vec<Condition>)>>,
}

impl Compiled {
    fn list(&mut self, signal: Signal) -> &mut Vec<(Context, Vec<Condition>)> {
        self.conditions.get_mut(signal)
    }

    fn groups(&self, signal: Signal) -> &[(Context, Vec<Condition>)] {
        self.conditions.get(signal)
    }

    /// The payload without what the conditions of its signal match; `None` when nothing is
    /// left. A payload of a signal without conditions is returned as it came.
    pub fn process(&self, p: Payload, id: &str) -> Result<Option<Payload>, ConsumeError> {
        let groups = self.groups(p.signal());
        if groups.is_empty() {
            return Ok(Some(p));
        }
        let handler = || self.mode.handler(id, "condition");
        rewrite(
            p,
            |r| groups.iter().try_for_each(|(ctx, cs)| ottl::eval::filter_traces(r, *ctx, cs, &mut handler())),
            |r| groups.iter().try_for_each(|(ctx, cs)| ottl::eval::filter_metrics(r, *ctx, cs, &mut handler())),
            |r| groups.iter().try_for_each(|(ctx, cs)| ottl::eval::filter_logs(r, *ctx, cs, &mut handler())),
        )
    }

    pub fn from_args(a: &Args) -> Result<Compiled, ComponentError> {
        let (c, errors) = compile(a, &[]);
        match errors.first() {
            Some(e) => Err(ComponentError(crate::component::args::describe(e))),
            None => Ok(c),
        }
    }
}

/// Checks one list of conditions written at `base.<name>[j]` for `context` (inferred for the
/// whole list when `None`) into `out`.
fn conditions(signal: Signal, context: Option<Context>, list: &[String], base: &[PathSeg], name: &str, out: &mut Compiled, errors: &mut Vec<ArgError>) {
    if list.is_empty() {
        return;
    }
    let context = match context {
        Some(c) => c,
        None => {
            let srcs: Vec<&str> = list.iter().map(String::as_str).collect();
            match inferred(condition_contexts(signal), &[], &srcs) {
                Ok(c) => c,
                Err(NotInferred::Parse(j, d)) => return errors.push(ottl_error(element(base, name, j), &d)),
                Err(NotInferred::Nothing(m)) => return errors.push(ArgError::new(field(base, name), m)),
            }
        }
    };
    let mut checked = Vec::new();
    for (j, src) in list.iter().enumerate() {
        match ottl::check_filter_condition(src, context) {
            Ok(c) => checked.push(c),
            Err(d) => errors.push(ottl_error(element(base, name, j), &d)),
        }
    }
    out.list(signal).push((context, checked));
}

/// The contexts a `*_conditions` block can name: the filter has no scope context.
fn condition_contexts(signal: Signal) -> &'static [Context] {
    match signal {
        Signal::Traces => &[Context::Resource, Context::Span, Context::SpanEvent],
        Signal::Metrics => &[Context::Resource, Context::Metric, Context::DataPoint],
        Signal::Logs => &[Context::Resource, Context::Log],
    }
}

fn compile(a: &Args, base: &[PathSeg]) -> (Compiled, Vec<ArgError>) {
    let mut errors = Vec::new();
    let inferred_blocks =
        [("trace_conditions", a.trace_conditions.len()), ("metric_conditions", a.metric_conditions.len()), ("log_conditions", a.log_conditions.len())];
    let fixed_blocks = a.traces.is_some() || a.metrics.is_some() || a.logs.is_some();
    if let (Some((name, _)), true) = (inferred_blocks.iter().find(|(_, n)| *n > 0), fixed_blocks) {
        let message = "the trace_conditions, metric_conditions and log_conditions blocks cannot be used together with the traces, metrics and logs blocks";
        errors.push(ArgError::new(element(base, name, 0), message));
    }
    let mut out = Compiled::default();
    if a.error_mode_known {
        match ErrorMode::parse(&a.error_mode) {
            Ok(m) => out.mode = m,
            Err(m) => errors.push(ArgError::new(field(base, "error_mode"), m)),
        }
    }
    if let Some(t) = &a.traces {
        let at = field(base, "traces");
        conditions(Signal::Traces, Some(Context::Span), &t.span, &at, "span", &mut out, &mut errors);
        conditions(Signal::Traces, Some(Context::SpanEvent), &t.spanevent, &at, "spanevent", &mut out, &mut errors);
    }
    if let Some(m) = &a.metrics {
        let at = field(base, "metrics");
        conditions(Signal::Metrics, Some(Context::Metric), &m.metric, &at, "metric", &mut out, &mut errors);
        conditions(Signal::Metrics, Some(Context::DataPoint), &m.datapoint, &at, "datapoint", &mut out, &mut errors);
    }
    if let Some(l) = &a.logs {
        conditions(Signal::Logs, Some(Context::Log), &l.log_record, &field(base, "logs"), "log_record", &mut out, &mut errors);
    }
    let blocks = [
        (Signal::Traces, "trace_conditions", &a.trace_conditions),
        (Signal::Metrics, "metric_conditions", &a.metric_conditions),
        (Signal::Logs, "log_conditions", &a.log_conditions),
    ];
    for (signal, name, groups) in blocks {
        for (i, g) in groups.iter().enumerate().filter(|(_, g)| g.known) {
            let at = element(base, name, i);
            let context = match g.context.as_deref().filter(|c| !c.is_empty()) {
                None => None,
                Some(c) => match context_for(signal, condition_contexts(signal), c) {
                    Ok(ctx) => Some(ctx),
                    Err(m) => {
                        errors.push(ArgError::new(field(&at, "context"), m));
                        continue;
                    }
                },
            };
            conditions(signal, context, &g.conditions, &at, "conditions", &mut out, &mut errors);
        }
    }
    (out, errors)
}

struct FilterConsumer {
    id: String,
    config: RwLock<Arc<Compiled>>,
    next: Fanout,
    /// Items dropped, per signal: spans, data points, log records.
    filtered: [Counter; 3],
}

fn signal_index(s: Signal) -> usize {
    match s {
        Signal::Traces => 0,
        Signal::Metrics => 1,
        Signal::Logs => 2,
    }
}

impl Consumer for FilterConsumer {
    fn consume(&self, data: Payload) -> ConsumeFuture<'_> {
        Box::pin(async move {
            let config = self.config.read().unwrap_or_else(|e| e.into_inner()).clone();
            let (signal, before) = (data.signal(), data.items());
            let out = config.process(data, &self.id)?;
            let after = out.as_ref().map_or(0, Payload::items);
            self.filtered[signal_index(signal)].add(before.saturating_sub(after) as u64);
            match out {
                Some(p) => self.next.consume(p).await,
                None => Ok(()),
            }
        })
    }
}

pub struct FilterProcessor {
    consumer: Arc<FilterConsumer>,
}

pub fn build(ctx: ComponentContext, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    let a: Args = decode_checked(NAME, &args)?;
    let config = Compiled::from_args(&a)?;
    let labels = [("filter", ctx.id())];
    let counter = |what: &str, help: &str| ctx.counter(&format!("otelcol_processor_filter_{what}_filtered_total"), help, &labels);
    let filtered = [
        counter("spans", "Spans dropped by the filter processor"),
        counter("datapoints", "Metric data points dropped by the filter processor"),
        counter("logs", "Log records dropped by the filter processor"),
    ];
    let consumer =
        Arc::new(FilterConsumer { id: ctx.id().to_string(), config: RwLock::new(Arc::new(config)), next: Fanout::new(a.output).tapped(&ctx), filtered });
    crate::otelcol::consumer::publish_input(&ctx, ConsumerHandle::new(ctx.id(), consumer.clone()));
    Ok(Arc::new(FilterProcessor { consumer }))
}

impl Component for FilterProcessor {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        let a: Args = decode_checked(NAME, &args)?;
        let config = Compiled::from_args(&a)?;
        self.consumer.next.set(a.output);
        *self.consumer.config.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(config);
        Ok(())
    }
}
