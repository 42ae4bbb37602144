//! `otelcol.processor.transform`: runs OTTL statements on the telemetry passing through.
//!
//! `trace_statements`, `metric_statements` and `log_statements` blocks name their context and
//! run in order, each on the items its `conditions` select; the flat `statements` block's
//! lists run after them, each list in the one context its path prefixes, functions and enums
//! name (`span.name`).
//! Every statement is parsed and type-checked when the arguments are decoded, so `alloy
//! validate` refuses what `alloy run` would. A payload of a signal without statements passes
//! through untouched; others are decoded, rewritten and encoded again.

use std::sync::{Arc, RwLock};

use analyzer::rules::ArgError;
use eval::{PathSeg, Value};
use ottl::eval::{EvalError, OnError};
use ottl::{Condition, Context, Statement};

use super::ottl_support::{context_for, contexts, element, field, inferred, ottl_error, rewrite, ErrorMode, NotInferred};
use crate::component::args::decode_checked;
use crate::component::{Arguments, Component, ComponentError, Context as ComponentContext, Reader, Registration};
use crate::otelcol::consumer::{ConsumeError, ConsumeFuture, Consumer, ConsumerHandle, Fanout, Output};
use crate::otelcol::pdata::{BySignal, Payload, Signal};

const NAME: &str = "otelcol.processor.transform";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["input"], build);

/// A `trace_statements` / `metric_statements` / `log_statements` block as written.
#[derive(Default)]
struct GroupArgs {
    context: String,
    statements: Vec<String>,
    conditions: Vec<String>,
    error_mode: Option<String>,
    /// False when a value is only known at run time (`alloy validate`): checked then.
    known: bool,
}

impl Arguments for GroupArgs {
    fn decode(r: &mut Reader<'_>) -> Self {
        let known = ["context", "statements", "conditions", "error_mode"].iter().all(|n| r.known(n));
        GroupArgs { context: r.get("context"), statements: r.get("statements"), conditions: r.get("conditions"), error_mode: r.opt("error_mode"), known }
    }
}

/// The flat `statements` block: contexts inferred per statement.
#[derive(Default)]
struct FlatArgs {
    trace: Vec<String>,
    metric: Vec<String>,
    log: Vec<String>,
}

impl Arguments for FlatArgs {
    fn decode(r: &mut Reader<'_>) -> Self {
        FlatArgs { trace: r.get("trace"), metric: r.get("metric"), log: r.get("log") }
    }
}

#[derive(Default)]
pub struct Args {
    error_mode: String,
    error_mode_known: bool,
    trace: Vec<GroupArgs>,
    metric: Vec<GroupArgs>,
    log: Vec<GroupArgs>,
    flat: Option<FlatArgs>,
    output: Output,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&["debug_metrics"]);
        Args {
            error_mode_known: r.known("error_mode"),
            error_mode: r.get("error_mode"),
            trace: r.blocks("trace_statements"),
            metric: r.blocks("metric_statements"),
            log: r.blocks("log_statements"),
            flat: r.block("statements"),
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

/// Checked statements for one context.
struct Group {
    context: Context,
    statements: Vec<Statement>,
    conditions: Vec<Condition>,
    mode: ErrorMode,
}

/// The statement groups of each signal, in the order they run.
#[derive(Default)]
pub struct Compiled {
    groups: BySignal<Vec<Group>>,
}

/// Checks everything written; the groups that checked, and an error per problem with its
/// path from `base` (the component's body).
fn compile(a: &Args, base: &[PathSeg]) -> (Compiled, Vec<ArgError>) {
    let mut errors = Vec::new();
    let mut out = Compiled::default();
    let top = if a.error_mode_known {
        ErrorMode::parse(&a.error_mode).unwrap_or_else(|m| {
            errors.push(ArgError::new(field(base, "error_mode"), m));
            ErrorMode::default()
        })
    } else {
        ErrorMode::default()
    };
    let blocks = [(Signal::Traces, "trace_statements", &a.trace), (Signal::Metrics, "metric_statements", &a.metric), (Signal::Logs, "log_statements", &a.log)];
    for (signal, name, groups) in blocks {
        for (i, g) in groups.iter().enumerate() {
            if !g.known {
                continue;
            }
            let at = element(base, name, i);
            let mode = match &g.error_mode {
                None => top,
                Some(m) => ErrorMode::parse(m).unwrap_or_else(|m| {
                    errors.push(ArgError::new(field(&at, "error_mode"), m));
                    top
                }),
            };
            let context = match context_for(signal, contexts(signal), &g.context) {
                Ok(c) => c,
                Err(m) => {
                    errors.push(ArgError::new(field(&at, "context"), m));
                    continue;
                }
            };
            let mut group = Group { context, statements: Vec::new(), conditions: Vec::new(), mode };
            for (j, src) in g.statements.iter().enumerate() {
                match ottl::check_statement(src, context) {
                    Ok(s) => group.statements.push(s),
                    Err(d) => errors.push(ottl_error(element(&at, "statements", j), &d)),
                }
            }
            for (j, src) in g.conditions.iter().enumerate() {
                match ottl::check_condition(src, context) {
                    Ok(c) => group.conditions.push(c),
                    Err(d) => errors.push(ottl_error(element(&at, "conditions", j), &d)),
                }
            }
            out.push(signal, group);
        }
    }
    if let Some(flat) = &a.flat {
        let at = field(base, "statements");
        for (signal, name, list) in [(Signal::Traces, "trace", &flat.trace), (Signal::Metrics, "metric", &flat.metric), (Signal::Logs, "log", &flat.log)] {
            if list.is_empty() {
                continue;
            }
            let srcs: Vec<&str> = list.iter().map(String::as_str).collect();
            let context = match inferred(contexts(signal), &srcs, &[]) {
                Ok(c) => c,
                Err(NotInferred::Parse(j, d)) => {
                    errors.push(ottl_error(element(&at, name, j), &d));
                    continue;
                }
                Err(NotInferred::Nothing(m)) => {
                    errors.push(ArgError::new(field(&at, name), m));
                    continue;
                }
            };
            let mut group = Group { context, statements: Vec::new(), conditions: Vec::new(), mode: top };
            for (j, src) in list.iter().enumerate() {
                match ottl::check_statement(src, context) {
                    Ok(s) => group.statements.push(s),
                    Err(d) => errors.push(ottl_error(element(&at, name, j), &d)),
                }
            }
            out.push(signal, group);
        }
    }
    (out, errors)
}

type Runner<R> = fn(&mut R, &ottl::eval::Group, OnError) -> Result<(), EvalError>;

fn run_groups<R>(groups: &[Group], id: &str, req: &mut R, run: Runner<R>) -> Result<(), EvalError> {
    for g in groups {
        let mut handler = g.mode.handler(id, "statement");
        run(req, &ottl::eval::Group { context: g.context, statements: &g.statements, conditions: &g.conditions }, &mut handler)?;
    }
    Ok(())
}

impl Compiled {
    fn push(&mut self, signal: Signal, g: Group) {
        self.groups.get_mut(signal).push(g);
    }

    fn groups(&self, signal: Signal) -> &[Group] {
        self.groups.get(signal)
    }

    /// The payload with the statements of its signal applied; one without statements is
    /// returned as it came.
    pub fn process(&self, p: Payload, id: &str) -> Result<Option<Payload>, ConsumeError> {
        let groups = self.groups(p.signal());
        if groups.is_empty() {
            return Ok(Some(p));
        }
        rewrite(
            p,
            |r| run_groups(groups, id, r, ottl::eval::transform_traces),
            |r| run_groups(groups, id, r, ottl::eval::transform_metrics),
            |r| run_groups(groups, id, r, ottl::eval::transform_logs),
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

struct TransformConsumer {
    id: String,
    config: RwLock<Arc<Compiled>>,
    next: Fanout,
}

impl Consumer for TransformConsumer {
    fn consume(&self, data: Payload) -> ConsumeFuture<'_> {
        Box::pin(async move {
            let config = self.config.read().unwrap_or_else(|e| e.into_inner()).clone();
            match config.process(data, &self.id)? {
                Some(out) => self.next.consume(out).await,
                None => Ok(()),
            }
        })
    }
}

pub struct TransformProcessor {
    consumer: Arc<TransformConsumer>,
}

pub fn build(ctx: ComponentContext, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    Ok(TransformProcessor::new(ctx, &args)?)
}

impl TransformProcessor {
    pub fn new(ctx: ComponentContext, args: &Value) -> Result<Arc<TransformProcessor>, ComponentError> {
        let a: Args = decode_checked(NAME, args)?;
        let config = Compiled::from_args(&a)?;
        let consumer =
            Arc::new(TransformConsumer { id: ctx.id().to_string(), config: RwLock::new(Arc::new(config)), next: Fanout::new(a.output).tapped(&ctx) });
        crate::otelcol::consumer::publish_input(&ctx, ConsumerHandle::new(ctx.id(), consumer.clone()));
        Ok(Arc::new(TransformProcessor { consumer }))
    }

    /// The `input` export (benchmarks and tests outside a controller).
    pub fn input(&self) -> ConsumerHandle {
        ConsumerHandle::new(&self.consumer.id, self.consumer.clone())
    }
}

impl Component for TransformProcessor {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        let a: Args = decode_checked(NAME, &args)?;
        let config = Compiled::from_args(&a)?;
        self.consumer.next.set(a.output);
        *self.consumer.config.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(config);
        Ok(())
    }
}
