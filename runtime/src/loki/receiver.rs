//! The `LogsReceiver` capsule: how log components hand entries to each other.
//!
//! A consumer (`loki.process`, `loki.relabel`, `loki.write`, `loki.echo`) makes a [`channel`]
//! when it is built, exports the [`LogsReceiver`] half as `receiver` and drains the other half
//! in a task for as long as it runs; it keeps the same channel across updates, since
//! dependants hold the handle. Producers list handles in `forward_to` and send through a
//! [`Fanout`], which gives every batch to every receiver in order and waits while a receiver's
//! queue is full: a slow consumer slows its producers (upstream's unbuffered channels), and
//! nothing is dropped on the way.
//!
//! A consumer may also take entries synchronously ([`Inbox::set_intake`]): producers' sends
//! then hand the entries to its intake and return once it has taken them (`loki.write` with
//! its WAL: the entries are on disk when `send` returns).

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, RwLock};

use eval::{CapsuleValue, Value};
use loki::Entry;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::livedebugging::{DataType, Tap};

pub const RECEIVER_TYPE: &str = "LogsReceiver";

/// Batches a receiver's queue holds before its producers wait. A batch is up to a read's worth
/// of a file (1 MiB, `loki::source::file`) or one push request, so this bounds what waits
/// between two components to tens of MiB while still letting them work in parallel.
pub const DEFAULT_CAPACITY: usize = 16;

/// Entries from one producer, in order.
pub type Entries = Vec<Entry>;

/// What a consumer takes entries with synchronously, instead of queueing them.
pub type Intake = Arc<dyn Fn(Entries) + Send + Sync>;

/// The capsule value: the sending half of a consumer's queue, its intake if it has one, and
/// the consumer's ID.
#[derive(Clone)]
pub struct LogsReceiver {
    component_id: Arc<str>,
    tx: mpsc::Sender<Entries>,
    intake: Arc<RwLock<Option<Intake>>>,
    /// Where logs end (`loki.write`): what it is handed is published to live debugging.
    tap: Option<Tap>,
}

/// A consumer's queue: the handle to export and the end to drain.
pub fn channel(component_id: &str, capacity: usize) -> (LogsReceiver, mpsc::Receiver<Entries>) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    (LogsReceiver { component_id: component_id.into(), tx, intake: Arc::default(), tap: None }, rx)
}

/// Why entries could not be handed over.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{component}: the component stopped receiving logs")]
pub struct Closed {
    pub component: String,
}

impl LogsReceiver {
    /// Hands entries over, waiting while the queue is full; or to the consumer's intake, if
    /// it has one, returning once the intake has taken them.
    pub async fn send(&self, entries: Entries) -> Result<(), Closed> {
        if let Some(tap) = &self.tap {
            publish(tap, &entries, &[]);
        }
        let intake = self.intake.read().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(intake) = intake {
            intake(entries);
            return Ok(());
        }
        self.tx.send(entries).await.map_err(|_| Closed { component: self.component_id.to_string() })
    }

    /// Hands entries over only if the queue has room now (for senders that must never wait,
    /// such as the process logger).
    pub fn try_send(&self, entries: Entries) -> bool {
        if let Some(tap) = &self.tap {
            publish(tap, &entries, &[]);
        }
        self.tx.try_send(entries).is_ok()
    }

    pub fn component_id(&self) -> &str {
        &self.component_id
    }

    pub fn to_value(&self) -> Value {
        Value::Capsule(eval::Capsule::new(self.clone()))
    }
}

impl fmt::Debug for LogsReceiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LogsReceiver({})", self.component_id)
    }
}

impl CapsuleValue for LogsReceiver {
    fn type_name(&self) -> &str {
        RECEIVER_TYPE
    }

    /// The same queue: a re-evaluation that rebuilds nothing is no change.
    fn equals(&self, other: &dyn CapsuleValue) -> bool {
        other.as_any().downcast_ref::<LogsReceiver>().is_some_and(|o| self.tx.same_channel(&o.tx))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl eval::Decode for LogsReceiver {
    fn decode(v: &Value) -> Result<Self, eval::ValueError> {
        eval::decode::decode_capsule::<LogsReceiver>(v, RECEIVER_TYPE)
    }
}

/// What a consuming component keeps: the handle it exports (the same across updates) and the
/// queue it drains while it runs.
pub struct Inbox {
    receiver: LogsReceiver,
    queue: Mutex<Option<mpsc::Receiver<Entries>>>,
}

impl Inbox {
    pub fn new(component_id: &str) -> Self {
        let (receiver, queue) = channel(component_id, DEFAULT_CAPACITY);
        Inbox { receiver, queue: Mutex::new(Some(queue)) }
    }

    /// An inbox of a component where logs end: what producers hand it is published to live
    /// debugging, with no targets.
    pub fn tapped(mut self, ctx: &crate::component::Context) -> Self {
        self.receiver.tap = Some(ctx.tap());
        self
    }

    pub fn receiver(&self) -> &LogsReceiver {
        &self.receiver
    }

    /// Makes producers' sends call `intake` (or queue again, with `None`). Entries queued
    /// before are still served by [`Inbox::serve`].
    pub fn set_intake(&self, intake: Option<Intake>) {
        *self.receiver.intake.write().unwrap_or_else(|e| e.into_inner()) = intake;
    }

    /// Hands every batch to `handle`, in order, until `shutdown`; then what is still queued.
    /// The queue is drained by one run only: a second call returns at once.
    pub async fn serve<F, Fut>(&self, shutdown: CancellationToken, mut handle: F)
    where
        F: FnMut(Entries) -> Fut,
        Fut: Future<Output = ()>,
    {
        let Some(mut queue) = self.queue.lock().unwrap_or_else(|e| e.into_inner()).take() else { return };
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                batch = queue.recv() => match batch {
                    Some(entries) => handle(entries).await,
                    None => break,
                },
            }
        }
        while let Ok(entries) = queue.try_recv() {
            handle(entries).await;
        }
    }

    /// [`Inbox::serve`] for components that change entries and pass them on (`loki.relabel`,
    /// `loki.secretfilter`): each batch goes through `transform`, then to `fanout`.
    pub async fn serve_and_forward(&self, shutdown: CancellationToken, component_id: &str, fanout: &Fanout, transform: impl Fn(Entries) -> Entries) {
        self.serve(shutdown, |entries| {
            let out = transform(entries);
            async move {
                if let Err(e) = fanout.send(out).await {
                    crate::component::log(component_id, tracing::Level::WARN, &e.to_string());
                }
            }
        })
        .await;
    }
}

/// A `forward_to` list, replaceable when the producer's arguments change.
#[derive(Default)]
pub struct Fanout {
    receivers: RwLock<Arc<Vec<LogsReceiver>>>,
    /// The sending component's live-debugging tap.
    tap: Option<Tap>,
}

impl Fanout {
    pub fn new(receivers: Vec<LogsReceiver>) -> Self {
        Fanout { receivers: RwLock::new(Arc::new(receivers)), tap: None }
    }

    /// Publishes what is sent to live debugging under the component's ID.
    pub fn tapped(mut self, ctx: &crate::component::Context) -> Self {
        self.tap = Some(ctx.tap());
        self
    }

    pub fn set(&self, receivers: Vec<LogsReceiver>) {
        *self.receivers.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(receivers);
    }

    pub fn current(&self) -> Arc<Vec<LogsReceiver>> {
        self.receivers.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Gives the entries to every receiver in order, waiting on each; every open receiver gets
    /// them even when another has stopped, and the first stopped one is returned.
    pub async fn send(&self, entries: Entries) -> Result<(), Closed> {
        if entries.is_empty() {
            return Ok(());
        }
        let receivers = self.current();
        if let Some(tap) = self.tap.as_ref().filter(|t| t.listening()) {
            let targets: Vec<&str> = receivers.iter().map(|r| r.component_id()).collect();
            publish(tap, &entries, &targets);
        }
        let mut first = Ok(());
        let mut entries = Some(entries);
        let last = receivers.len().saturating_sub(1);
        for (i, r) in receivers.iter().enumerate() {
            // The last receiver takes the batch itself; the others a copy.
            let batch = if i == last { entries.take().unwrap_or_default() } else { entries.clone().unwrap_or_default() };
            if let Err(e) = r.send(batch).await {
                if first.is_ok() {
                    first = Err(e);
                }
            }
        }
        first
    }
}

/// Entries as a live-debugging record, one line each.
pub fn publish(tap: &Tap, entries: &[Entry], targets: &[&str]) {
    if tap.listening() && !entries.is_empty() {
        tap.publish(DataType::LokiLog, entries.len() as u64, targets, || render(entries));
    }
}

/// `timestamp {labels} line` per entry (RFC 3339 timestamps).
pub fn render(entries: &[Entry]) -> String {
    let lines: Vec<String> = entries.iter().map(|e| format!("{} {} {}", crate::civil_date::rfc3339_nanos(e.timestamp_ns), e.labels, e.line)).collect();
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use prom::Labels;

    use super::*;

    fn entry(line: &str) -> Entry {
        Entry::new(Labels::new([("job", "t")]), 1, line)
    }

    #[tokio::test]
    async fn tapped_fanouts_and_inboxes_publish_entries_one_line_each() {
        use crate::livedebugging::{DebugSink, Filter};
        let ctx = crate::component::detached_context("loki.relabel.r");
        let hub = ctx.live_debugging().clone();
        hub.set_enabled(true);
        let (sink, mut rx) = DebugSink::new("loki.relabel.r", Filter::default(), 100);
        let _sub = hub.watch(sink);
        let (a, _ra) = channel("loki.echo.a", 4);
        Fanout::new(vec![a]).tapped(&ctx).send(vec![entry("1"), entry("2")]).await.expect("sent");
        assert_eq!(rx.try_recv().ok().as_deref(), Some("1970-01-01T00:00:00.000000001Z {job=\"t\"} 1\n1970-01-01T00:00:00.000000001Z {job=\"t\"} 2"));
        // The receiving end of a component where logs end publishes too, under its own ID.
        let end = crate::component::detached_context("loki.echo.e");
        end.live_debugging().set_enabled(true);
        let (sink, mut end_rx) = DebugSink::new("loki.echo.e", Filter::default(), 100);
        let _sub2 = end.live_debugging().watch(sink);
        let inbox = Inbox::new("loki.echo.e").tapped(&end);
        inbox.receiver().send(vec![entry("3")]).await.expect("sent");
        assert!(end_rx.try_recv().is_ok_and(|r| r.ends_with(" 3")));
    }

    #[tokio::test]
    async fn every_receiver_gets_every_batch_in_order() {
        let (a, mut ra) = channel("loki.echo.a", 4);
        let (b, mut rb) = channel("loki.echo.b", 4);
        let fan = Fanout::new(vec![a, b]);
        fan.send(vec![entry("1")]).await.expect("sent");
        fan.send(vec![entry("2"), entry("3")]).await.expect("sent");
        for rx in [&mut ra, &mut rb] {
            let lines: Vec<String> = [rx.recv().await, rx.recv().await].into_iter().flatten().flatten().map(|e| e.line).collect();
            assert_eq!(lines, ["1", "2", "3"]);
        }
    }

    #[tokio::test]
    async fn a_full_queue_makes_the_producer_wait_and_loses_nothing() {
        let (a, mut ra) = channel("loki.write.slow", 1);
        let fan = Arc::new(Fanout::new(vec![a]));
        fan.send(vec![entry("1")]).await.expect("sent");
        let producer = {
            let fan = fan.clone();
            tokio::spawn(async move { fan.send(vec![entry("2")]).await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!producer.is_finished(), "the second batch waits for room");
        assert_eq!(ra.recv().await.map(|b| b[0].line.clone()).as_deref(), Some("1"));
        producer.await.expect("joins").expect("sent");
        assert_eq!(ra.recv().await.map(|b| b[0].line.clone()).as_deref(), Some("2"));
    }

    #[tokio::test]
    async fn a_stopped_receiver_is_reported_and_the_others_still_get_the_entries() {
        let (a, ra) = channel("loki.process.gone", 1);
        let (b, mut rb) = channel("loki.echo.b", 1);
        drop(ra);
        let err = Fanout::new(vec![a, b]).send(vec![entry("x")]).await.expect_err("one receiver stopped");
        assert_eq!(err.to_string(), "loki.process.gone: the component stopped receiving logs");
        assert_eq!(rb.recv().await.map(|b| b.len()), Some(1));
    }

    #[tokio::test]
    async fn with_an_intake_a_send_returns_once_the_intake_has_the_entries() {
        let inbox = Inbox::new("loki.write.wal");
        let taken = Arc::new(Mutex::new(Vec::new()));
        let t = taken.clone();
        inbox.set_intake(Some(Arc::new(move |entries: Entries| t.lock().unwrap_or_else(|e| e.into_inner()).extend(entries.into_iter().map(|e| e.line)))));
        let fan = Fanout::new(vec![inbox.receiver().clone()]);
        fan.send(vec![entry("1"), entry("2")]).await.expect("sent");
        assert_eq!(*taken.lock().unwrap_or_else(|e| e.into_inner()), ["1", "2"], "taken by the time send returned");
        // Without it, sends queue again.
        inbox.set_intake(None);
        fan.send(vec![entry("3")]).await.expect("sent");
        let served = Arc::new(Mutex::new(Vec::new()));
        let (s, stop) = (served.clone(), CancellationToken::new());
        stop.cancel();
        inbox
            .serve(stop, |entries| {
                s.lock().unwrap_or_else(|e| e.into_inner()).extend(entries.into_iter().map(|e| e.line));
                async {}
            })
            .await;
        assert_eq!(*served.lock().unwrap_or_else(|e| e.into_inner()), ["3"]);
        assert_eq!(taken.lock().unwrap_or_else(|e| e.into_inner()).len(), 2);
    }
}
