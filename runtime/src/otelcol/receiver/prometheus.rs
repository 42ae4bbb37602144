//! `otelcol.receiver.prometheus`: exports a Prometheus `receiver`; every batch appended to it
//! becomes one OTLP metrics request (see [`assemble`]) sent to `output.metrics`. An append
//! converts at once and queues the request; a full queue refuses the batch, so a slow
//! pipeline pushes back on the scrape or remote-write request instead of growing memory.

pub mod assemble;
mod points;
pub mod resource;
pub mod units;

use std::sync::{Arc, Mutex};

use eval::{Object, Value};
use prom::sample::Batch;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::component::args::decode_checked;
use crate::component::{Arguments, BoxFuture, Component, ComponentError, Context, Reader, Registration};
use crate::metrics::Counter;
use crate::otelcol::consumer::{Fanout, Output};
use crate::otelcol::log;
use crate::otelcol::pdata::Payload;
use crate::prometheus::receiver::{AppendError, Appendable, ReceiverHandle};
use assemble::Assembler;

const NAME: &str = "otelcol.receiver.prometheus";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["receiver"], build);

/// Requests converted but not yet taken by the pipeline.
const QUEUE: usize = 64;

#[derive(Default)]
pub struct Args {
    pub output: Output,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        // Our self-metrics have one level.
        r.unsupported(&["debug_metrics"]);
        Args { output: r.block_or_default("output") }
    }
}

/// The collector's receiver counters for metric points (Alloy's own receiver registers none:
/// it runs the collector code with a no-op meter).
#[derive(Clone)]
struct Points {
    accepted: Counter,
    refused: Counter,
}

/// The appendable side: converts and queues.
pub struct Inbox {
    assembler: Mutex<Assembler>,
    queue: mpsc::Sender<Payload>,
    points: Points,
}

impl Appendable for Inbox {
    fn append(&self, batch: &Batch) -> Result<(), AppendError> {
        let req = self.assembler.lock().unwrap_or_else(|e| e.into_inner()).assemble(batch).map_err(|e| AppendError(e.to_string()))?;
        if req.resource_metrics.is_empty() {
            return Ok(());
        }
        let payload = Payload::from_metrics(&req);
        let items = payload.items() as u64;
        self.queue.try_send(payload).map_err(|e| {
            self.points.refused.add(items);
            match e {
                mpsc::error::TrySendError::Full(_) => AppendError("the pipeline is not keeping up; metrics refused".into()),
                mpsc::error::TrySendError::Closed(_) => AppendError("the receiver has stopped".into()),
            }
        })
    }
}

pub struct PrometheusReceiver {
    id: String,
    points: Points,
    handle: ReceiverHandle,
    queue: Mutex<Option<mpsc::Receiver<Payload>>>,
    next: Fanout,
}

impl PrometheusReceiver {
    pub fn new(ctx: &Context, output: Output) -> Self {
        let labels = [("receiver", "prometheus"), ("transport", "")];
        let points = Points {
            accepted: ctx.counter_exact(
                "otelcol_receiver_accepted_metric_points_total",
                "Number of metric points successfully pushed into the pipeline.",
                &labels,
            ),
            refused: ctx.counter_exact(
                "otelcol_receiver_refused_metric_points_total",
                "Number of metric points that could not be pushed into the pipeline.",
                &labels,
            ),
        };
        let (tx, rx) = mpsc::channel(QUEUE);
        let inbox = Arc::new(Inbox { assembler: Mutex::new(Assembler::default()), queue: tx, points: points.clone() });
        let id = ctx.id();
        PrometheusReceiver {
            id: id.to_string(),
            points,
            handle: ReceiverHandle::new(id, inbox),
            queue: Mutex::new(Some(rx)),
            next: Fanout::new(output).tapped(ctx),
        }
    }

    pub fn receiver(&self) -> &ReceiverHandle {
        &self.handle
    }
}

fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    let args: Args = decode_checked(NAME, &args)?;
    let c = Arc::new(PrometheusReceiver::new(&ctx, args.output));
    let mut exports = Object::ordered();
    exports.insert("receiver", c.handle.to_value());
    ctx.set_exports(Value::object(exports));
    Ok(c)
}

impl Component for PrometheusReceiver {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        let args: Args = decode_checked(NAME, &args)?;
        self.next.set(args.output);
        Ok(())
    }

    fn run(self: Arc<Self>, shutdown: CancellationToken) -> BoxFuture<Result<(), ComponentError>> {
        Box::pin(async move {
            let Some(mut rx) = self.queue.lock().unwrap_or_else(|e| e.into_inner()).take() else { return Ok(()) };
            loop {
                let payload = tokio::select! {
                    _ = shutdown.cancelled() => return Ok(()),
                    p = rx.recv() => match p {
                        Some(p) => p,
                        None => return Ok(()),
                    },
                };
                let items = payload.items() as u64;
                match self.next.consume(payload).await {
                    Ok(()) => self.points.accepted.add(items),
                    Err(e) => {
                        self.points.refused.add(items);
                        log(&self.id, tracing::Level::ERROR, &format!("failed to consume metrics: {e}"));
                    }
                }
            }
        })
    }
}

#[cfg(test)]
mod tests;
