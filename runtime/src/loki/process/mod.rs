//! `loki.process`: runs every entry it receives through its `stage.<name>` blocks (the `loki`
//! crate's stage engine) and forwards what comes out. The pipeline is rebuilt only when the
//! stages change; the old one's held entries (multiline, cri) are forwarded first.

pub mod stages;

/// What the conformance runner and tests feed the pipeline with.
pub use loki::process::metrics::CustomMetrics;
pub use loki::process::{time, Extracted as ExtractedValues, Item as PipelineItem, Observer as PipelineObserver, Pipeline};
pub use loki::Entry as LogEntry;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use eval::{Object, Value};
use loki::process::config::MetricKind;
use loki::process::{Extracted, Item, Observer, StageConfig};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::receiver::{channel, Entries, Fanout, LogsReceiver, DEFAULT_CAPACITY};
use crate::component::args::decode_checked;
use crate::component::{Arguments, BoxFuture, Component, ComponentError, Context, Reader, Registration};
use crate::metrics::{Counter, Kind, Snapshot};

const NAME: &str = "loki.process";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["receiver"], build);

/// How often held entries are checked for having waited long enough (multiline).
const TICK: Duration = Duration::from_millis(250);

#[derive(Default)]
pub struct Args {
    pub forward_to: Vec<LogsReceiver>,
    pub stages: Vec<StageConfig>,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        Args { forward_to: r.get("forward_to"), stages: stages::read_stages(r) }
    }
}

/// The pipeline's own counters (dropped lines by reason and by label, CRI partial lines) and
/// `stage.metrics`' families.
pub struct Drops {
    ctx: Context,
    counters: Mutex<HashMap<String, Counter>>,
    custom: Arc<CustomMetrics>,
}

impl Drops {
    /// Adds `n` to a counter series, registered the first time it is counted.
    fn count(&self, name: &str, help: &str, labels: &[(&str, &str)], n: u64) {
        let key = format!("{name}{labels:?}");
        let mut m = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        m.entry(key).or_insert_with(|| self.ctx.counter(name, help, labels)).add(n);
    }
}

/// `stage.metrics`' families as registry families (histogram buckets cumulative), each series
/// with `extra` labels first (the component's, when served).
pub fn snapshots(store: &CustomMetrics, extra: &[(String, String)]) -> Vec<Snapshot> {
    store
        .snapshot()
        .into_iter()
        .filter(|f| !f.series.is_empty())
        .map(|f| {
            let kind = match f.kind {
                MetricKind::Counter { .. } => Kind::Counter,
                MetricKind::Gauge { .. } => Kind::Gauge,
                MetricKind::Histogram { .. } => Kind::Histogram,
            };
            let mut snap = Snapshot::new(&f.name, &f.help, kind);
            for (own, s) in &f.series {
                let labels: Vec<(String, String)> = extra.iter().chain(own).cloned().collect();
                let labels = &labels;
                if kind != Kind::Histogram {
                    snap.samples.push(("", labels.clone(), s.value));
                    continue;
                }
                let mut cumulative = 0;
                for (b, n) in f.bounds.iter().zip(&s.buckets) {
                    cumulative += n;
                    let mut l = labels.clone();
                    l.push(("le".into(), loki::process::value_text(*b)));
                    snap.samples.push(("_bucket", l, cumulative as f64));
                }
                let mut l = labels.clone();
                l.push(("le".into(), "+Inf".into()));
                snap.samples.push(("_bucket", l, s.count as f64));
                snap.samples.push(("_sum", labels.clone(), s.value));
                snap.samples.push(("_count", labels.clone(), s.count as f64));
            }
            snap
        })
        .collect()
}

impl Observer for Drops {
    fn dropped(&self, reason: &str) {
        self.count("loki_process_dropped_lines_total", "A count of all log lines dropped as a result of a pipeline stage", &[("reason", reason)], 1);
    }

    fn dropped_by_label(&self, name: &str, value: &str) {
        let help = "A count of all log lines dropped as a result of a pipeline stage, by label";
        self.count("loki_process_dropped_lines_by_label_total", help, &[("label_name", name), ("label_value", value)], 1);
    }

    fn cri_partial_flushed(&self, n: u64) {
        self.count("loki_process_cri_partial_lines_flushed_total", "Number of partial lines flushed because too many streams were held", &[], n);
    }

    fn cri_truncated(&self) {
        self.count("loki_process_cri_lines_truncated_total", "Number of partial lines truncated to max_partial_line_size", &[], 1);
    }

    fn custom_metrics(&self) -> Option<Arc<CustomMetrics>> {
        Some(self.custom.clone())
    }
}

struct State {
    stages: Vec<StageConfig>,
    pipeline: Pipeline,
    /// Entries an old pipeline released when it was replaced, to forward first.
    pending: Vec<Item>,
}

pub struct Process {
    ctx: Context,
    receiver: LogsReceiver,
    queue: Mutex<Option<mpsc::Receiver<Entries>>>,
    fanout: Fanout,
    drops: Arc<Drops>,
    state: Mutex<State>,
}

/// Builds the pipeline the component runs (also what the conformance runner runs).
pub fn pipeline(stages: &[StageConfig], obs: Arc<dyn Observer>) -> Result<Pipeline, ComponentError> {
    Pipeline::new(stages, obs).map_err(|e| ComponentError::new(format!("invalid stage config {e}")))
}

fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    let args: Args = decode_checked(NAME, &args)?;
    Ok(start(ctx, args)?)
}

/// The component for decoded arguments, its `receiver` published.
fn start(ctx: Context, args: Args) -> Result<Arc<Process>, ComponentError> {
    let custom = Arc::new(CustomMetrics::default());
    // The registry keeps collectors for good: this one reads nothing once the component is gone.
    let collected = Arc::downgrade(&custom);
    let labels = ctx.labels(&[]);
    ctx.registry().register_collector(move || collected.upgrade().map(|c| snapshots(&c, &labels)).unwrap_or_default());
    let drops = Arc::new(Drops { ctx: ctx.clone(), counters: Mutex::new(HashMap::new()), custom });
    let p = pipeline(&args.stages, drops.clone())?;
    let (receiver, queue) = channel(ctx.id(), DEFAULT_CAPACITY);
    let c = Arc::new(Process {
        ctx: ctx.clone(),
        receiver,
        queue: Mutex::new(Some(queue)),
        fanout: Fanout::new(args.forward_to).tapped(&ctx),
        drops,
        state: Mutex::new(State { stages: args.stages, pipeline: p, pending: Vec::new() }),
    });
    c.publish();
    Ok(c)
}

impl Process {
    fn publish(&self) {
        let mut exports = Object::new();
        exports.insert("receiver", self.receiver.to_value());
        self.ctx.set_exports(Value::object(exports));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs a batch through the pipeline; what the last pipeline left comes first.
    fn process(&self, entries: Entries) -> Entries {
        let mut st = self.lock();
        let mut out: Vec<Item> = std::mem::take(&mut st.pending);
        out.extend(st.pipeline.run(entries.into_iter().map(|e| Item::new(e, Extracted::new())).collect()));
        out.into_iter().map(Item::into_entry).collect()
    }

    async fn forward(&self, entries: Entries) {
        if let Err(e) = self.fanout.send(entries).await {
            crate::component::log(self.ctx.id(), tracing::Level::WARN, &e.to_string());
        }
    }
}

impl Component for Process {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        let args: Args = decode_checked(NAME, &args)?;
        self.fanout.set(args.forward_to);
        let mut st = self.lock();
        if st.stages != args.stages {
            // The old pipeline's metric families go with it.
            self.drops.custom.clear();
            let p = pipeline(&args.stages, self.drops.clone())?;
            let mut old = std::mem::replace(&mut st.pipeline, p);
            let held = old.flush();
            st.pending.extend(held);
            st.stages = args.stages;
        }
        drop(st);
        self.publish();
        Ok(())
    }

    fn run(self: Arc<Self>, shutdown: CancellationToken) -> BoxFuture<Result<(), ComponentError>> {
        Box::pin(async move {
            let Some(mut queue) = self.queue.lock().unwrap_or_else(|e| e.into_inner()).take() else {
                return Err(ComponentError::new("loki.process is already running"));
            };
            let mut tick = tokio::time::interval(TICK);
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    batch = queue.recv() => match batch {
                        Some(entries) => {
                            // Off the async workers: a limit stage without `drop` waits for tokens.
                            let me = self.clone();
                            let out = tokio::task::spawn_blocking(move || me.process(entries)).await.unwrap_or_default();
                            self.forward(out).await;
                        }
                        None => break,
                    },
                    _ = tick.tick() => {
                        let out: Entries = {
                            let mut st = self.lock();
                            let mut items = std::mem::take(&mut st.pending);
                            items.extend(st.pipeline.tick());
                            items.into_iter().map(Item::into_entry).collect()
                        };
                        self.forward(out).await;
                    }
                }
            }
            // Entries still queued, then what the stages hold, go out before stopping.
            while let Ok(entries) = queue.try_recv() {
                let out = self.process(entries);
                self.forward(out).await;
            }
            let out: Entries = {
                let mut st = self.lock();
                let mut items = std::mem::take(&mut st.pending);
                items.extend(st.pipeline.flush());
                items.into_iter().map(Item::into_entry).collect()
            };
            self.forward(out).await;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests;
