//! What `otelcol.processor.transform` and `otelcol.processor.filter` share: `error_mode`,
//! the contexts each signal has, checking OTTL text into argument errors that point at the
//! list element, and running checked OTTL over a payload of one signal.

use analyzer::rules::ArgError;
use eval::PathSeg;
use ottl::eval::EvalError;
use ottl::{Context, Diagnostic};

use crate::otelcol::consumer::ConsumeError;
use crate::otelcol::log;
use crate::otelcol::pdata::{Payload, Signal};

/// What a statement or condition that fails at run time does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ErrorMode {
    /// Logged; processing goes on with the next statement.
    #[default]
    Ignore,
    /// Processing goes on, nothing is logged.
    Silent,
    /// The payload is refused with the error.
    Propagate,
}

impl ErrorMode {
    pub fn parse(s: &str) -> Result<ErrorMode, String> {
        match s {
            "ignore" => Ok(ErrorMode::Ignore),
            "silent" => Ok(ErrorMode::Silent),
            "propagate" => Ok(ErrorMode::Propagate),
            other => Err(format!("error_mode must be \"ignore\", \"silent\" or \"propagate\", got {other:?}")),
        }
    }

    /// The callback the evaluator reports errors to.
    pub fn handler<'a>(self, component_id: &'a str, what: &'a str) -> impl FnMut(EvalError) -> Result<(), EvalError> + 'a {
        move |e| match self {
            ErrorMode::Ignore => {
                log(component_id, tracing::Level::WARN, &format!("failed to execute {what}: {e}"));
                Ok(())
            }
            ErrorMode::Silent => Ok(()),
            ErrorMode::Propagate => Err(e),
        }
    }
}

/// The contexts of a signal, outermost first (the order context inference picks from).
pub fn contexts(signal: Signal) -> &'static [Context] {
    match signal {
        Signal::Traces => &[Context::Resource, Context::Scope, Context::Span, Context::SpanEvent],
        Signal::Metrics => &[Context::Resource, Context::Scope, Context::Metric, Context::DataPoint],
        Signal::Logs => &[Context::Resource, Context::Scope, Context::Log],
    }
}

/// The one place an OTTL diagnostic becomes an argument error: `path` goes down to the list
/// element holding the text (`.trace_statements[0].statements[2]`) and `within` to the
/// offending characters, so `alloy validate`, the language server and `alloy run` all point at
/// the OTTL token itself.
pub fn ottl_error(path: Vec<PathSeg>, d: &Diagnostic) -> ArgError {
    ArgError::new(path, d.message.clone()).within(d.span.clone())
}

/// `base` followed by `.field[index]`.
pub fn element(base: &[PathSeg], field: &str, index: usize) -> Vec<PathSeg> {
    let mut p = base.to_vec();
    p.push(PathSeg::Field(field.into()));
    p.push(PathSeg::Index(index));
    p
}

/// `base` followed by `.field`.
pub fn field(base: &[PathSeg], name: &str) -> Vec<PathSeg> {
    let mut p = base.to_vec();
    p.push(PathSeg::Field(name.into()));
    p
}

/// A context named in a `context` argument, if it is one of `allowed` (outermost first).
pub fn context_for(signal: Signal, allowed: &[Context], name: &str) -> Result<Context, String> {
    Context::from_name(name).filter(|c| allowed.contains(c)).ok_or_else(|| {
        let names: Vec<&str> = allowed.iter().map(|c| c.name()).collect();
        format!("unknown context {name:?} for {}: expected one of {}", signal.name(), names.join(", "))
    })
}

/// Why no context was inferred.
pub enum NotInferred {
    /// Element `.0` of the list does not parse.
    Parse(usize, Diagnostic),
    /// Nothing in the list names a context.
    Nothing(String),
}

/// The one context of `allowed` a list of statements or conditions without a `context` asks
/// for through its path prefixes, functions and enums (upstream infers a group as a whole).
pub fn inferred(allowed: &[Context], statements: &[&str], conditions: &[&str]) -> Result<Context, NotInferred> {
    match ottl::infer_group_context(statements, conditions, allowed) {
        Err((i, d)) => Err(NotInferred::Parse(i, d)),
        Ok(Some(c)) => Ok(c),
        Ok(None) => {
            let names: Vec<String> = allowed.iter().map(|c| format!("{}.", ottl::catalog::prefix(*c))).collect();
            Err(NotInferred::Nothing(format!("cannot infer the context: prefix a path with one of {}", names.join(", "))))
        }
    }
}

/// Runs `f` on the decoded request of the payload's signal and encodes the result; `None`
/// when `f` left nothing. A payload that does not decode is refused as permanently invalid.
pub fn rewrite(
    p: Payload,
    traces: impl FnOnce(&mut ottl::eval::Traces) -> Result<(), EvalError>,
    metrics: impl FnOnce(&mut ottl::eval::Metrics) -> Result<(), EvalError>,
    logs: impl FnOnce(&mut ottl::eval::Logs) -> Result<(), EvalError>,
) -> Result<Option<Payload>, ConsumeError> {
    let bad = |e: crate::otelcol::pdata::PdataError| ConsumeError::Permanent(e.to_string());
    let failed = |e: EvalError| ConsumeError::Permanent(e.0);
    let md = p.metadata().clone();
    let out = match p.signal() {
        Signal::Traces => {
            let mut req = p.decode_traces().map_err(bad)?;
            traces(&mut req).map_err(failed)?;
            (!req.resource_spans.is_empty()).then(|| Payload::from_traces(&req))
        }
        Signal::Metrics => {
            let mut req = p.decode_metrics().map_err(bad)?;
            metrics(&mut req).map_err(failed)?;
            (!req.resource_metrics.is_empty()).then(|| Payload::from_metrics(&req))
        }
        Signal::Logs => {
            let mut req = p.decode_logs().map_err(bad)?;
            logs(&mut req).map_err(failed)?;
            (!req.resource_logs.is_empty()).then(|| Payload::from_logs(&req))
        }
    };
    Ok(out.map(|o| o.with_metadata(md)))
}

#[cfg(test)]
mod tests;
