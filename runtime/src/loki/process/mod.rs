//! `loki.process`: runs every entry it receives through its `stage.<name>` blocks (the `loki`
//! crate's stage engine) and forwards what comes out. The pipeline is rebuilt only when the
//! stages change; the old one's held entries (multiline, cri) are forwarded first.

pub mod stages;

/// What the conformance runner and tests feed the pipeline with.
pub use loki::process::{time, Extracted as ExtractedValues, Item as PipelineItem, Observer as PipelineObserver, Pipeline};
pub use loki::Entry as LogEntry;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use eval::{Object, Value};
use loki::process::{Extracted, Item, Observer, StageConfig};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::receiver::{channel, Entries, Fanout, LogsReceiver, DEFAULT_CAPACITY};
use crate::component::args::decode_checked;
use crate::component::{Arguments, BoxFuture, Component, ComponentError, Context, Reader, Registration};
use crate::metrics::Counter;

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

/// `loki_process_dropped_lines_total`, one series per reason.
pub struct Drops {
    ctx: Context,
    by_reason: Mutex<HashMap<String, Counter>>,
}

impl Observer for Drops {
    fn dropped(&self, reason: &str) {
        let mut m = self.by_reason.lock().unwrap_or_else(|e| e.into_inner());
        m.entry(reason.to_string())
            .or_insert_with(|| {
                self.ctx.counter("loki_process_dropped_lines_total", "A count of all log lines dropped as a result of a pipeline stage", &[("reason", reason)])
            })
            .inc();
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
    let drops = Arc::new(Drops { ctx: ctx.clone(), by_reason: Mutex::new(HashMap::new()) });
    let p = pipeline(&args.stages, drops.clone())?;
    let (receiver, queue) = channel(ctx.id(), DEFAULT_CAPACITY);
    let c = Arc::new(Process {
        ctx: ctx.clone(),
        receiver,
        queue: Mutex::new(Some(queue)),
        fanout: Fanout::new(args.forward_to),
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
