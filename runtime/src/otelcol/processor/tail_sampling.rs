//! `otelcol.processor.tail_sampling`: holds spans per trace for `decision_wait` after the
//! trace's first span arrives, then samples the whole trace when any policy samples it.
//! Spans of a decided trace that arrive later follow its decision. At most `num_traces`
//! traces are held (the oldest is dropped to make room); on shutdown every pending trace is
//! decided and sent (or dropped with `drop_pending_traces_on_shutdown`). A matching `drop`
//! policy drops a trace whatever the others say. Metrics and logs pass through.

mod policy;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use eval::Value;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans};
use tokio_util::sync::CancellationToken;

use crate::component::args::{decode_checked, types::Dur};
use crate::component::{Arguments, BoxFuture, Component, ComponentError, Context, Reader, Registration};
use crate::metrics::Counter;
use crate::otelcol::consumer::{ConsumeFuture, Consumer, ConsumerHandle, Fanout, Output};
use crate::otelcol::log;
use crate::otelcol::pdata::{Payload, Signal};
use crate::otelcol::processor::rewrite::invalid;
use policy::{Policy, Trace, TraceSpan};

const NAME: &str = "otelcol.processor.tail_sampling";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["input"], build);

#[derive(Default)]
struct Config {
    decision_wait: Duration,
    num_traces: usize,
    policies: Vec<Policy>,
    sample_on_first_match: bool,
    drop_pending_on_shutdown: bool,
    /// With a root span seen, the decision comes this long after it (zero: not used).
    wait_after_root: Duration,
}

/// The component's arguments.
#[derive(Default)]
pub struct Args {
    config: Config,
    output: Output,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&["debug_metrics", "block_on_overflow", "maximum_trace_size_bytes", "decision_cache"]);
        let decision_wait: Dur = r.get("decision_wait");
        let num_traces: i64 = r.get("num_traces");
        // Only a sizing hint for the trace table.
        let _: i64 = r.get("expected_new_traces_per_sec");
        r.check(decision_wait.0 > Duration::ZERO, &["decision_wait"], "decision_wait must be positive");
        r.check(num_traces > 0, &["num_traces"], "num_traces must be positive");
        let policies: Vec<Policy> = r.blocks("policy");
        let mut names = HashSet::new();
        for p in &policies {
            if !names.insert(p.name.clone()) {
                r.error("policy", format!("duplicate policy name {}", syntax::quote::go_quote(&p.name)));
            }
        }
        let config = Config {
            decision_wait: decision_wait.0,
            num_traces: usize::try_from(num_traces).unwrap_or(1).max(1),
            policies,
            sample_on_first_match: r.get("sample_on_first_match"),
            drop_pending_on_shutdown: r.get("drop_pending_traces_on_shutdown"),
            wait_after_root: r.get::<Dur>("decision_wait_after_root_received").0,
        };
        Args { config, output: r.block_or_default("output") }
    }
}

/// A trace waiting for its decision: its spans as one-trace resource fragments.
struct Pending {
    since: Instant,
    /// When the trace's root span (one without a parent) arrived.
    root: Option<Instant>,
    fragments: Vec<ResourceSpans>,
}

fn has_root(fragments: &[ResourceSpans]) -> bool {
    fragments.iter().flat_map(|rs| &rs.scope_spans).flat_map(|ss| &ss.spans).any(|s| s.parent_span_id.is_empty())
}

#[derive(Default)]
struct Table {
    pending: HashMap<Vec<u8>, Pending>,
    /// Arrival order, for eviction and for deciding the oldest first.
    order: VecDeque<Vec<u8>>,
    /// Recent decisions (bounded by `num_traces`), for spans that arrive late.
    decided: HashMap<Vec<u8>, bool>,
    decided_order: VecDeque<Vec<u8>>,
}

struct Sampler {
    config: Mutex<Arc<Config>>,
    table: Mutex<Table>,
    next: Fanout,
    sampled: Counter,
    not_sampled: Counter,
    evicted: Counter,
    late: Counter,
}

/// Splits a request into one-trace fragments (resource and scope kept with each).
fn by_trace(req: ExportTraceServiceRequest) -> HashMap<Vec<u8>, Vec<ResourceSpans>> {
    let mut out: HashMap<Vec<u8>, Vec<ResourceSpans>> = HashMap::new();
    for rs in req.resource_spans {
        for ss in rs.scope_spans {
            let mut groups: HashMap<Vec<u8>, Vec<_>> = HashMap::new();
            for s in ss.spans {
                groups.entry(s.trace_id.clone()).or_default().push(s);
            }
            for (id, spans) in groups {
                out.entry(id).or_default().push(ResourceSpans {
                    resource: rs.resource.clone(),
                    scope_spans: vec![ScopeSpans { scope: ss.scope.clone(), spans, schema_url: ss.schema_url.clone() }],
                    schema_url: rs.schema_url.clone(),
                });
            }
        }
    }
    out
}

impl Sampler {
    fn config(&self) -> Arc<Config> {
        self.config.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn decide(&self, config: &Config, id: &[u8], fragments: &[ResourceSpans]) -> bool {
        let spans = fragments
            .iter()
            .flat_map(|rs| {
                let resource = rs.resource.as_ref().map_or(&[][..], |r| &r.attributes);
                rs.scope_spans.iter().flat_map(move |ss| ss.spans.iter().map(move |span| TraceSpan { resource, span }))
            })
            .collect();
        let trace = Trace { id, spans };
        // Every policy sees the trace (rate limits count what they admit), as upstream does,
        // unless `sample_on_first_match` stops at the first match; a matching drop policy
        // overrides the others.
        let mut votes: Vec<(bool, bool)> = Vec::with_capacity(config.policies.len());
        for p in &config.policies {
            let hit = p.sample(&trace);
            votes.push((p.drops(), hit));
            if hit && config.sample_on_first_match {
                break;
            }
        }
        let keep = votes.iter().any(|(drops, hit)| !drops && *hit) && !votes.iter().any(|(drops, hit)| *drops && *hit);
        if keep { &self.sampled } else { &self.not_sampled }.inc();
        keep
    }

    fn remember(table: &mut Table, id: Vec<u8>, keep: bool, limit: usize) {
        if table.decided.insert(id.clone(), keep).is_none() {
            table.decided_order.push_back(id);
        }
        while table.decided_order.len() > limit {
            if let Some(old) = table.decided_order.pop_front() {
                table.decided.remove(&old);
            }
        }
    }

    /// Buffers new spans; returns the spans of already-sampled traces to send now.
    fn add(&self, req: ExportTraceServiceRequest) -> Vec<ResourceSpans> {
        let config = self.config();
        let now = Instant::now();
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        let mut now_out = Vec::new();
        for (id, fragments) in by_trace(req) {
            if let Some(keep) = table.decided.get(&id) {
                self.late.inc();
                if *keep {
                    now_out.extend(fragments);
                }
                continue;
            }
            let root = has_root(&fragments).then_some(now);
            match table.pending.get_mut(&id) {
                Some(p) => {
                    p.root = p.root.or(root);
                    p.fragments.extend(fragments);
                }
                None => {
                    table.pending.insert(id.clone(), Pending { since: now, root, fragments });
                    table.order.push_back(id);
                    while table.pending.len() > config.num_traces {
                        let Some(old) = table.order.pop_front() else { break };
                        if table.pending.remove(&old).is_some() {
                            self.evicted.inc();
                        }
                    }
                }
            }
        }
        now_out
    }

    /// Decides the traces that have waited `decision_wait`, or
    /// `decision_wait_after_root_received` since their root span (all of them with `all`).
    fn due(&self, all: bool) -> Vec<ResourceSpans> {
        let config = self.config();
        let now = Instant::now();
        let after_root = (config.wait_after_root > Duration::ZERO).then_some(config.wait_after_root);
        let is_due = |p: &Pending| {
            all || now.duration_since(p.since) >= config.decision_wait || after_root.zip(p.root).is_some_and(|(wait, root)| now.duration_since(root) >= wait)
        };
        let mut ready = Vec::new();
        {
            let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
            let Table { pending, order, .. } = &mut *table;
            // Oldest first; with root waits a younger trace can be due before an older one.
            order.retain(|id| match pending.get(id) {
                Some(p) if is_due(p) => {
                    if let Some(p) = pending.remove(id) {
                        ready.push((id.clone(), p.fragments));
                    }
                    false
                }
                Some(_) => true,
                None => false,
            });
        }
        let mut out = Vec::new();
        let mut decisions = Vec::with_capacity(ready.len());
        for (id, fragments) in ready {
            let keep = self.decide(&config, &id, &fragments);
            if keep {
                out.extend(fragments);
            }
            decisions.push((id, keep));
        }
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        for (id, keep) in decisions {
            Sampler::remember(&mut table, id, keep, config.num_traces);
        }
        out
    }

    async fn send(&self, resource_spans: Vec<ResourceSpans>, id: &str) {
        if resource_spans.is_empty() {
            return;
        }
        let p = Payload::from_traces(&ExportTraceServiceRequest { resource_spans });
        if let Err(e) = self.next.consume(p).await {
            log(id, tracing::Level::WARN, &format!("sampled traces were refused downstream: {e}"));
        }
    }
}

struct Input {
    sampler: Arc<Sampler>,
}

impl Consumer for Input {
    fn consume(&self, data: Payload) -> ConsumeFuture<'_> {
        Box::pin(async move {
            if data.signal() != Signal::Traces {
                return self.sampler.next.consume(data).await;
            }
            let req = data.decode_traces().map_err(invalid)?;
            let now = self.sampler.add(req);
            if now.is_empty() {
                return Ok(());
            }
            let out = Payload::from_traces(&ExportTraceServiceRequest { resource_spans: now }).with_metadata(data.metadata().clone());
            self.sampler.next.consume(out).await
        })
    }
}

pub struct TailSampling {
    ctx: Context,
    sampler: Arc<Sampler>,
}

pub fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    let t: Arc<dyn Component> = TailSampling::new(ctx, &args)?;
    Ok(t)
}

impl TailSampling {
    pub fn new(ctx: Context, args: &Value) -> Result<Arc<TailSampling>, ComponentError> {
        let Args { config, output } = decode_checked(NAME, args)?;
        let c = |name: &str, help: &str| ctx.counter(name, help, &[]);
        let sampler = Arc::new(Sampler {
            config: Mutex::new(Arc::new(config)),
            table: Mutex::new(Table::default()),
            next: Fanout::new(output).tapped(&ctx),
            sampled: ctx.counter("otelcol_processor_tail_sampling_global_count_traces_sampled", "Traces sampled or not by any policy", &[("sampled", "true")]),
            not_sampled: ctx.counter(
                "otelcol_processor_tail_sampling_global_count_traces_sampled",
                "Traces sampled or not by any policy",
                &[("sampled", "false")],
            ),
            evicted: c("otelcol_processor_tail_sampling_sampling_trace_dropped_too_early", "Traces dropped before their decision (num_traces reached)"),
            late: c("otelcol_processor_tail_sampling_late_spans", "Span batches that arrived after their trace was decided"),
        });
        crate::otelcol::consumer::publish_input(&ctx, ConsumerHandle::new(ctx.id(), Arc::new(Input { sampler: sampler.clone() })));
        Ok(Arc::new(TailSampling { ctx, sampler }))
    }

    pub fn input(&self) -> ConsumerHandle {
        ConsumerHandle::new(self.ctx.id(), Arc::new(Input { sampler: self.sampler.clone() }))
    }
}

impl Component for TailSampling {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        let Args { config, output } = decode_checked(NAME, &args)?;
        self.sampler.next.set(output);
        *self.sampler.config.lock().unwrap_or_else(|e| e.into_inner()) = Arc::new(config);
        Ok(())
    }

    fn run(self: Arc<Self>, shutdown: CancellationToken) -> BoxFuture<Result<(), ComponentError>> {
        Box::pin(async move {
            loop {
                let tick = (self.sampler.config().decision_wait / 10).clamp(Duration::from_millis(1), Duration::from_secs(1));
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(tick) => {}
                }
                let out = self.sampler.due(false);
                self.sampler.send(out, self.ctx.id()).await;
            }
            if self.sampler.config().drop_pending_on_shutdown {
                let mut table = self.sampler.table.lock().unwrap_or_else(|e| e.into_inner());
                table.pending.clear();
                table.order.clear();
            } else {
                let out = self.sampler.due(true);
                self.sampler.send(out, self.ctx.id()).await;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests;
