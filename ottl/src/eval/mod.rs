//! Runs checked statements and conditions over decoded OTLP export requests.
//!
//! [`transform_traces`] and its siblings run a [`Group`] of statements on every item of a
//! context; [`filter_traces`] and its siblings drop the items a condition matches and then the
//! scopes and resources left empty. Errors go to an `on_error` callback, which continues
//! (`Ok`) or stops the whole request (`Err`), as the processors' `error_mode` decides.

mod expr;
mod functions;
mod item;
pub mod value;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::logs::v1::{ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{metric::Data, ResourceMetrics, ScopeMetrics};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans};

use crate::{Condition, Context, Statement};
pub use item::{Item, MetricShape, Point};
pub use value::Value;

/// The requests the evaluator works on, by signal.
pub type Traces = ExportTraceServiceRequest;
pub type Metrics = ExportMetricsServiceRequest;
pub type Logs = ExportLogsServiceRequest;

/// A statement or condition that failed on one item.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct EvalError(pub String);

/// Decides what an error does: `Ok` goes on with the next statement or item, `Err` stops.
pub type OnError<'a> = &'a mut dyn FnMut(EvalError) -> Result<(), EvalError>;

/// Statements for one context, run only on items one of the `conditions` matches (all items
/// when there are none).
pub struct Group<'a> {
    pub context: Context,
    pub statements: &'a [Statement],
    pub conditions: &'a [Condition],
}

/// Runs the statement on the item when its `where` clause holds; whether it ran.
pub fn run_statement(s: &Statement, item: &mut Item) -> Result<bool, EvalError> {
    if let Some(c) = &s.condition {
        if !expr::truth(c, item)? {
            return Ok(false);
        }
    }
    functions::editor(&s.editor, item)?;
    Ok(true)
}

pub fn condition_holds(c: &Condition, item: &Item) -> Result<bool, EvalError> {
    expr::truth(&c.expr, item)
}

/// Runs a group on one item; the item is always kept.
fn transform_item(g: &Group, item: &mut Item, on_error: OnError) -> Result<bool, EvalError> {
    if !g.conditions.is_empty() {
        let mut any = false;
        for c in g.conditions {
            match condition_holds(c, item) {
                Ok(true) => {
                    any = true;
                    break;
                }
                Ok(false) => {}
                Err(e) => on_error(e)?,
            }
        }
        if !any {
            return Ok(true);
        }
    }
    for s in g.statements {
        if let Err(e) = run_statement(s, item) {
            on_error(e)?;
        }
    }
    Ok(true)
}

/// Whether to keep an item: no condition matches it.
fn filter_item(conditions: &[Condition], item: &mut Item, on_error: OnError) -> Result<bool, EvalError> {
    for c in conditions {
        match condition_holds(c, item) {
            Ok(true) => return Ok(false),
            Ok(false) => {}
            Err(e) => on_error(e)?,
        }
    }
    Ok(true)
}

pub fn transform_traces(req: &mut ExportTraceServiceRequest, g: &Group, on_error: OnError) -> Result<(), EvalError> {
    visit_traces(req, g.context, false, &mut |item| transform_item(g, item, on_error))
}

pub fn transform_metrics(req: &mut ExportMetricsServiceRequest, g: &Group, on_error: OnError) -> Result<(), EvalError> {
    visit_metrics(req, g.context, false, &mut |item| transform_item(g, item, on_error))
}

pub fn transform_logs(req: &mut ExportLogsServiceRequest, g: &Group, on_error: OnError) -> Result<(), EvalError> {
    visit_logs(req, g.context, false, &mut |item| transform_item(g, item, on_error))
}

/// Whether any of `conditions` holds, for each item of `ctx` in the order the items are
/// visited (resources, their scopes, then the items; a span's events after it; a metric's
/// points in order). Conditions only read, so the request is left as it was.
pub fn matches_traces(req: &mut ExportTraceServiceRequest, ctx: Context, conditions: &[Condition], on_error: OnError) -> Result<Vec<bool>, EvalError> {
    let mut out = Vec::new();
    visit_traces(req, ctx, false, &mut |item| {
        out.push(!filter_item(conditions, item, on_error)?);
        Ok(true)
    })?;
    Ok(out)
}

/// [`matches_traces`] for metrics and data points.
pub fn matches_metrics(req: &mut ExportMetricsServiceRequest, ctx: Context, conditions: &[Condition], on_error: OnError) -> Result<Vec<bool>, EvalError> {
    let mut out = Vec::new();
    visit_metrics(req, ctx, false, &mut |item| {
        out.push(!filter_item(conditions, item, on_error)?);
        Ok(true)
    })?;
    Ok(out)
}

/// [`matches_traces`] for log records.
pub fn matches_logs(req: &mut ExportLogsServiceRequest, ctx: Context, conditions: &[Condition], on_error: OnError) -> Result<Vec<bool>, EvalError> {
    let mut out = Vec::new();
    visit_logs(req, ctx, false, &mut |item| {
        out.push(!filter_item(conditions, item, on_error)?);
        Ok(true)
    })?;
    Ok(out)
}

pub fn filter_traces(req: &mut ExportTraceServiceRequest, ctx: Context, conditions: &[Condition], on_error: OnError) -> Result<(), EvalError> {
    visit_traces(req, ctx, true, &mut |item| filter_item(conditions, item, on_error))
}

pub fn filter_metrics(req: &mut ExportMetricsServiceRequest, ctx: Context, conditions: &[Condition], on_error: OnError) -> Result<(), EvalError> {
    visit_metrics(req, ctx, true, &mut |item| filter_item(conditions, item, on_error))
}

pub fn filter_logs(req: &mut ExportLogsServiceRequest, ctx: Context, conditions: &[Condition], on_error: OnError) -> Result<(), EvalError> {
    visit_logs(req, ctx, true, &mut |item| filter_item(conditions, item, on_error))
}

/// Called per item; `Ok(false)` removes it.
type Visit<'v> = dyn FnMut(&mut Item) -> Result<bool, EvalError> + 'v;

/// Records the first failure; after it every item is kept untouched.
fn keep(r: Result<bool, EvalError>, failure: &mut Option<EvalError>) -> bool {
    match r {
        Ok(k) => k,
        Err(e) => {
            *failure = Some(e);
            true
        }
    }
}

fn new_item<'a>() -> Item<'a> {
    Item { cache: Value::Map(Vec::new()), ..Default::default() }
}

fn wrong_context(ctx: Context, signal: &str) -> EvalError {
    EvalError(format!("the {} context does not apply to {signal}", ctx.name()))
}

/// Visits the items of `ctx`; with `prune`, scopes and resources left empty are removed.
fn visit_traces(req: &mut ExportTraceServiceRequest, ctx: Context, prune: bool, f: &mut Visit) -> Result<(), EvalError> {
    if !matches!(ctx, Context::Resource | Context::Scope | Context::Span | Context::SpanEvent) {
        return Err(wrong_context(ctx, "traces"));
    }
    let mut failure = None;
    req.resource_spans.retain_mut(|rs| {
        if failure.is_some() {
            return true;
        }
        let ResourceSpans { resource, scope_spans, .. } = rs;
        if ctx == Context::Resource {
            return keep(f(&mut Item { resource: Some(resource), ..new_item() }), &mut failure);
        }
        scope_spans.retain_mut(|ss| {
            if failure.is_some() {
                return true;
            }
            let ScopeSpans { scope, spans, .. } = ss;
            if ctx == Context::Scope {
                return keep(f(&mut Item { resource: Some(&mut *resource), scope: Some(scope), ..new_item() }), &mut failure);
            }
            spans.retain_mut(|span| {
                if failure.is_some() {
                    return true;
                }
                if ctx == Context::Span {
                    return keep(f(&mut Item { resource: Some(&mut *resource), scope: Some(&mut *scope), span: Some(span), ..new_item() }), &mut failure);
                }
                let mut events = std::mem::take(&mut span.events);
                events.retain_mut(|ev| {
                    failure.is_some()
                        || keep(
                            f(&mut Item { resource: Some(&mut *resource), scope: Some(&mut *scope), span: Some(&mut *span), event: Some(ev), ..new_item() }),
                            &mut failure,
                        )
                });
                span.events = events;
                true
            });
            !prune || !spans.is_empty()
        });
        !prune || !scope_spans.is_empty()
    });
    failure.map_or(Ok(()), Err)
}

fn visit_logs(req: &mut ExportLogsServiceRequest, ctx: Context, prune: bool, f: &mut Visit) -> Result<(), EvalError> {
    if !matches!(ctx, Context::Resource | Context::Scope | Context::Log) {
        return Err(wrong_context(ctx, "logs"));
    }
    let mut failure = None;
    req.resource_logs.retain_mut(|rl| {
        if failure.is_some() {
            return true;
        }
        let ResourceLogs { resource, scope_logs, .. } = rl;
        if ctx == Context::Resource {
            return keep(f(&mut Item { resource: Some(resource), ..new_item() }), &mut failure);
        }
        scope_logs.retain_mut(|sl| {
            if failure.is_some() {
                return true;
            }
            let ScopeLogs { scope, log_records, .. } = sl;
            if ctx == Context::Scope {
                return keep(f(&mut Item { resource: Some(&mut *resource), scope: Some(scope), ..new_item() }), &mut failure);
            }
            log_records.retain_mut(|log| {
                failure.is_some() || keep(f(&mut Item { resource: Some(&mut *resource), scope: Some(&mut *scope), log: Some(log), ..new_item() }), &mut failure)
            });
            !prune || !log_records.is_empty()
        });
        !prune || !scope_logs.is_empty()
    });
    failure.map_or(Ok(()), Err)
}

fn visit_metrics(req: &mut ExportMetricsServiceRequest, ctx: Context, prune: bool, f: &mut Visit) -> Result<(), EvalError> {
    if !matches!(ctx, Context::Resource | Context::Scope | Context::Metric | Context::DataPoint) {
        return Err(wrong_context(ctx, "metrics"));
    }
    let mut failure = None;
    req.resource_metrics.retain_mut(|rm| {
        if failure.is_some() {
            return true;
        }
        let ResourceMetrics { resource, scope_metrics, .. } = rm;
        if ctx == Context::Resource {
            return keep(f(&mut Item { resource: Some(resource), ..new_item() }), &mut failure);
        }
        scope_metrics.retain_mut(|sm| {
            if failure.is_some() {
                return true;
            }
            let ScopeMetrics { scope, metrics, .. } = sm;
            if ctx == Context::Scope {
                return keep(f(&mut Item { resource: Some(&mut *resource), scope: Some(scope), ..new_item() }), &mut failure);
            }
            let mut added = Vec::new();
            metrics.retain_mut(|m| {
                if failure.is_some() {
                    return true;
                }
                if ctx == Context::Metric {
                    let mut item = Item { resource: Some(&mut *resource), scope: Some(&mut *scope), metric: Some(m), ..new_item() };
                    let k = keep(f(&mut item), &mut failure);
                    added.append(&mut item.added_metrics);
                    return k;
                }
                // The points are lent out of the metric while the metric's own fields stay
                // readable through `shape`.
                let shape = MetricShape::of(m);
                let mut data = m.data.take();
                macro_rules! points {
                    ($points:expr, $variant:ident) => {
                        $points.retain_mut(|p| {
                            failure.is_some()
                                || keep(
                                    f(&mut Item {
                                        resource: Some(&mut *resource),
                                        scope: Some(&mut *scope),
                                        metric: Some(&mut *m),
                                        shape: Some(shape),
                                        point: Some(Point::$variant(p)),
                                        ..new_item()
                                    }),
                                    &mut failure,
                                )
                        })
                    };
                }
                let left = match &mut data {
                    Some(Data::Gauge(g)) => {
                        points!(g.data_points, Number);
                        g.data_points.len()
                    }
                    Some(Data::Sum(s)) => {
                        points!(s.data_points, Number);
                        s.data_points.len()
                    }
                    Some(Data::Histogram(h)) => {
                        points!(h.data_points, Histogram);
                        h.data_points.len()
                    }
                    Some(Data::ExponentialHistogram(h)) => {
                        points!(h.data_points, ExpHistogram);
                        h.data_points.len()
                    }
                    Some(Data::Summary(s)) => {
                        points!(s.data_points, Summary);
                        s.data_points.len()
                    }
                    None => 0,
                };
                m.data = data;
                !prune || left > 0
            });
            metrics.append(&mut added);
            !prune || !metrics.is_empty()
        });
        !prune || !scope_metrics.is_empty()
    });
    failure.map_or(Ok(()), Err)
}
