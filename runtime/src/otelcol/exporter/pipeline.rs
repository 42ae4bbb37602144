//! What every network exporter shares: the `input` consumer, the sending queue, its
//! workers, retries, self-metrics and the bounded drain at shutdown. A protocol only
//! provides a [`Sender`] that makes one attempt.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use eval::Value;
use tokio_util::sync::CancellationToken;

use crate::component::{BoxFuture, Component, ComponentError, Context, Reader};
use crate::delivery::queue::{Queue, QueueConfig};
use crate::delivery::retry::{with_retry_observed, RetryConfig, SendError};
use crate::delivery::storage::Store;
use crate::otelcol::consumer::{ConsumeError, ConsumeFuture, Consumer, ConsumerHandle};
use crate::otelcol::pdata::Payload;
use crate::otelcol::{log, SignalCounters};

/// How long shutdown waits for queued data to be sent.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), SendError>> + Send + 'a>>;

/// One protocol's single send attempt.
pub trait Sender: Send + Sync + 'static {
    fn send<'a>(&'a self, data: &'a Payload) -> SendFuture<'a>;
    /// Where it sends (`http://127.0.0.1:4317`), for messages.
    fn endpoint(&self) -> String {
        String::new()
    }
}

/// A failing downstream is logged at most this often (with the number of attempts between).
const FAILURE_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// Whether sending is failing now, for the log's rate limit and the component's health.
#[derive(Default)]
struct Failing {
    /// Since when attempts fail; `None` while sends succeed.
    since: Option<Instant>,
    last_logged: Option<Instant>,
    /// Failed attempts not logged since the last message.
    unlogged: u64,
}

/// The arguments every network exporter has besides its protocol's: `sending_queue` and
/// `retry_on_failure` (their catalogue defaults when absent); `debug_metrics` is refused.
#[derive(Default)]
pub struct Delivery {
    pub queue: QueueConfig,
    pub retry: RetryConfig,
}

impl Delivery {
    pub fn read(r: &mut Reader<'_>) -> Self {
        // Our self-metrics have one level; upstream's detail switches are not implemented.
        r.unsupported(&["debug_metrics"]);
        Delivery { queue: r.block_or_default("sending_queue"), retry: r.block_or_default("retry_on_failure") }
    }
}

/// What an exporter's arguments give the shared pipeline.
pub struct ExporterParts {
    pub sender: Arc<dyn Sender>,
    pub delivery: Delivery,
}

/// Decodes an exporter's arguments into its parts (the sender not yet connected).
pub type MakeSender = fn(&Value) -> Result<ExporterParts, ComponentError>;

/// A queued request and, with persistent storage, the file that holds it until it is done.
pub struct Queued {
    payload: Payload,
    file: Option<std::path::PathBuf>,
}

impl crate::delivery::queue::QueueItem for Queued {
    fn items(&self) -> usize {
        self.payload.items()
    }

    fn bytes(&self) -> usize {
        crate::delivery::queue::QueueItem::bytes(&self.payload)
    }
}

pub struct ExporterPipeline {
    id: String,
    sender: RwLock<Arc<dyn Sender>>,
    retry: RwLock<RetryConfig>,
    queue_config: QueueConfig,
    queue: Option<Arc<Queue<Queued>>>,
    /// With `sending_queue { storage = ... }`: where queued requests wait across restarts.
    store: Option<Store>,
    sent: SignalCounters,
    send_failed: SignalCounters,
    /// The process-wide count of dropped items (survives the component's removal).
    dropped: SignalCounters,
    enqueue_failed: SignalCounters,
    /// Cancelled at shutdown: pending retries give up and the queue drains with one attempt each.
    stop_retries: CancellationToken,
    failing: Mutex<Failing>,
    /// How long shutdown waits for the queue and the requests being sent.
    drain_timeout: Duration,
    /// The component whose health follows this pipeline's sends (not set for one of several
    /// pipelines inside a component, such as the load balancer's backends).
    health: Option<Context>,
}

impl ExporterPipeline {
    pub fn new(ctx: &Context, sender: Arc<dyn Sender>, retry: RetryConfig, queue_config: QueueConfig) -> Self {
        Self::named(ctx, ctx.id(), sender, retry, queue_config)
    }

    /// A pipeline whose self-metrics carry `exporter="<exporter>"` (one of several inside a
    /// component, such as the load-balancing exporter's backends).
    pub fn named(ctx: &Context, exporter: &str, sender: Arc<dyn Sender>, retry: RetryConfig, queue_config: QueueConfig) -> Self {
        let labels = [("exporter", exporter)];
        let queue = queue_config.enabled.then(|| {
            ctx.gauge("otelcol_exporter_queue_capacity", "Fixed capacity of the retry queue", &labels).set(queue_config.queue_size as f64);
            Arc::new(Queue::new(
                queue_config.queue_size,
                queue_config.sizer,
                ctx.gauge("otelcol_exporter_queue_size", "Current size of the retry queue", &labels),
            ))
        });
        // Requests a previous run left in storage go first.
        let store = match (&queue, &queue_config.storage) {
            (Some(q), Some(storage)) => match Store::open(storage, exporter) {
                Ok(store) => {
                    let (stored, problems) = store.load();
                    for p in problems {
                        log(ctx.id(), tracing::Level::ERROR, &format!("skipping an unreadable stored request: {p}"));
                    }
                    for item in stored {
                        match signal_of(&item.kind).map(|s| Payload::from_request(s, bytes::Bytes::from(item.bytes))) {
                            Some(Ok(payload)) => {
                                if let Err(q) = q.try_push(Queued { payload, file: Some(item.file.clone()) }) {
                                    // More than fits: it stays on disk for a later start.
                                    drop(q);
                                }
                            }
                            _ => {
                                log(ctx.id(), tracing::Level::ERROR, &format!("dropping a malformed stored request {}", item.file.display()));
                                Store::remove(&item.file);
                            }
                        }
                    }
                    Some(store)
                }
                Err(e) => {
                    log(ctx.id(), tracing::Level::ERROR, &format!("persistent queue unavailable, queueing in memory: {e}"));
                    None
                }
            },
            _ => None,
        };
        ExporterPipeline {
            id: ctx.id().to_string(),
            sender: RwLock::new(sender),
            retry: RwLock::new(retry),
            queue_config,
            queue,
            store,
            sent: SignalCounters::new(ctx, "otelcol_exporter_sent", "Number of items successfully sent to destination", &labels),
            send_failed: SignalCounters::new(ctx, "otelcol_exporter_send_failed", "Number of items in failed attempts to send to destination", &labels),
            dropped: SignalCounters::dropped(ctx),
            enqueue_failed: SignalCounters::new(ctx, "otelcol_exporter_enqueue_failed", "Number of items failed to be added to the sending queue", &labels),
            stop_retries: CancellationToken::new(),
            failing: Mutex::default(),
            drain_timeout: DRAIN_TIMEOUT,
            health: (exporter == ctx.id()).then(|| ctx.clone()),
        }
    }

    /// A failed attempt that will be retried: logged (at most every
    /// [`FAILURE_LOG_INTERVAL`]) with the endpoint and cause; the component turns unhealthy.
    fn attempt_failed(&self, endpoint: &str, err: &SendError, delay: Duration) {
        let mut f = self.failing.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let first = f.since.is_none();
        f.since.get_or_insert(now);
        if f.last_logged.is_some_and(|t| now.duration_since(t) < FAILURE_LOG_INTERVAL) {
            f.unlogged += 1;
        } else {
            let more = match std::mem::take(&mut f.unlogged) {
                0 => String::new(),
                n => format!(" ({n} more failed attempts since the last message)"),
            };
            f.last_logged = Some(now);
            log(&self.id, tracing::Level::WARN, &format!("exporting to {endpoint} failed, will retry in {delay:.1?}: {}{more}", err.message));
        }
        if first {
            if let Some(ctx) = &self.health {
                ctx.set_health(crate::component::HealthState::Unhealthy, format!("exporting to {endpoint} fails, retrying: {}", err.message));
            }
        }
    }

    /// A send that went through: a failing downstream has recovered.
    fn send_succeeded(&self, endpoint: &str) {
        let mut f = self.failing.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(since) = f.since.take() {
            f.last_logged = None;
            f.unlogged = 0;
            log(&self.id, tracing::Level::INFO, &format!("exporting to {endpoint} works again after {:.1?} of failures", since.elapsed()));
            if let Some(ctx) = &self.health {
                ctx.set_health(crate::component::HealthState::Healthy, format!("exporting to {endpoint} works again"));
            }
        }
    }

    pub fn set_sender(&self, sender: Arc<dyn Sender>, retry: RetryConfig) {
        *self.sender.write().unwrap_or_else(|e| e.into_inner()) = sender;
        *self.retry.write().unwrap_or_else(|e| e.into_inner()) = retry;
    }

    /// Sends with retries and counts the outcome. `owned`: the request was taken from the
    /// sender (it came off the queue), so a final failure drops it; otherwise the error goes
    /// back to the sender, which still holds the data, and only `send_failed` counts it.
    /// `persisted`: the request is in storage, so a retryable failure cut short by shutdown
    /// keeps it there instead of dropping it.
    async fn send_counted(&self, data: &Payload, owned: bool, persisted: bool) -> Result<(), SendError> {
        let sender = self.sender.read().unwrap_or_else(|e| e.into_inner()).clone();
        let retry = self.retry.read().unwrap_or_else(|e| e.into_inner()).clone();
        let (signal, n) = (data.signal(), data.items());
        let endpoint = sender.endpoint();
        let r = with_retry_observed(&retry, &self.stop_retries, || sender.send(data), |e, delay| self.attempt_failed(&endpoint, e, delay)).await;
        match &r {
            Ok(()) => {
                self.sent.add(signal, n);
                self.send_succeeded(&endpoint);
            }
            Err(e) if persisted && e.retryable && self.stop_retries.is_cancelled() => {
                log(&self.id, tracing::Level::WARN, &format!("exporting cut short by shutdown, {n} {} stay in storage: {e}", signal.item_metric()));
            }
            Err(e) => {
                if owned {
                    self.count_dropped(data);
                    log(&self.id, tracing::Level::ERROR, &format!("exporting to {endpoint} failed, dropping {n} {}: {e}", signal.item_metric()));
                } else {
                    self.send_failed.add(signal, n);
                    log(&self.id, tracing::Level::ERROR, &format!("exporting to {endpoint} failed, {n} {} refused to the sender: {e}", signal.item_metric()));
                }
                if let Some(ctx) = self.health.as_ref().filter(|_| e.retryable) {
                    ctx.set_health(
                        crate::component::HealthState::Unhealthy,
                        format!("exporting to {endpoint} failed, {n} {} dropped: {e}", signal.item_metric()),
                    );
                }
            }
        }
        r
    }

    /// Items given up on: the component's `send_failed` and the process-wide dropped count.
    fn count_dropped(&self, p: &Payload) {
        self.send_failed.add(p.signal(), p.items());
        self.dropped.add(p.signal(), p.items());
    }

    /// A request a worker held when it was stopped (the drain deadline passed mid-send).
    fn abandoned(&self, p: &Payload, persisted: bool) {
        let what = format!("{} {}", p.items(), p.signal().item_metric());
        if persisted {
            log(&self.id, tracing::Level::WARN, &format!("shutdown drain timed out while sending {what}; they stay in storage"));
        } else {
            self.count_dropped(p);
            log(&self.id, tracing::Level::ERROR, &format!("shutdown drain timed out while sending, dropping {what}"));
        }
    }

    /// Workers that send queued data until the queue closes and empties.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let Some(queue) = self.queue.clone() else {
            shutdown.cancelled().await;
            self.stop_retries.cancel();
            return;
        };
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..self.queue_config.num_consumers {
            let (me, q) = (self.clone(), queue.clone());
            workers.spawn(async move {
                while let Some(q) = q.pop().await {
                    // Counted and logged if this task is aborted before the send is done.
                    let mut held = Held { pipeline: &me, queued: &q, done: false };
                    let sent = me.send_counted(&q.payload, true, q.file.is_some()).await;
                    held.done = true;
                    // Sent, or given up on for good, it is done with; a retryable failure cut
                    // short by shutdown stays in storage for the next start.
                    let keep = sent.as_ref().is_err_and(|e| e.retryable) && me.stop_retries.is_cancelled();
                    if let (Some(f), false) = (&q.file, keep) {
                        Store::remove(f);
                    }
                }
            });
        }
        shutdown.cancelled().await;
        self.stop_retries.cancel();
        queue.close();
        let drained = tokio::time::timeout(self.drain_timeout, async { while workers.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            // Aborted workers count what they hold as they are dropped; wait for that.
            workers.abort_all();
            while workers.join_next().await.is_some() {}
            for q in queue.take_all() {
                let p = &q.payload;
                if q.file.is_some() {
                    // Persisted: the next start sends it (a request cut off mid-send too).
                    log(
                        &self.id,
                        tracing::Level::WARN,
                        &format!("shutdown drain timed out, {} queued {} stay in storage", p.items(), p.signal().item_metric()),
                    );
                    continue;
                }
                self.count_dropped(p);
                log(&self.id, tracing::Level::ERROR, &format!("shutdown drain timed out, dropping {} queued {}", p.items(), p.signal().item_metric()));
            }
        }
    }
}

/// A request in a worker's hands; dropped undone (the worker aborted), it is counted.
struct Held<'a> {
    pipeline: &'a ExporterPipeline,
    queued: &'a Queued,
    done: bool,
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.pipeline.abandoned(&self.queued.payload, self.queued.file.is_some());
        }
    }
}

impl Consumer for ExporterPipeline {
    fn consume(&self, data: Payload) -> ConsumeFuture<'_> {
        Box::pin(async move {
            if data.items() == 0 {
                return Ok(());
            }
            let Some(queue) = &self.queue else {
                return self.send_counted(&data, false, false).await.map_err(|e| {
                    if e.retryable {
                        ConsumeError::Unavailable(e.message)
                    } else {
                        ConsumeError::Permanent(e.message)
                    }
                });
            };
            // With storage the request is on disk before the sender is told it was taken.
            let file = match &self.store {
                Some(store) => Some(
                    store
                        .put(data.signal().name(), &data.bytes())
                        .map_err(|e| ConsumeError::Unavailable(format!("cannot write the request to the persistent queue: {e}")))?,
                ),
                None => None,
            };
            let item = Queued { payload: data, file };
            let pushed = if self.queue_config.block_on_overflow { queue.push_blocking(item).await } else { queue.try_push(item) };
            pushed.map_err(|q| {
                if let Some(f) = &q.file {
                    Store::remove(f);
                }
                self.enqueue_failed.add(q.payload.signal(), q.payload.items());
                ConsumeError::Unavailable("sending queue is full".into())
            })
        })
    }
}

/// The signal a stored request's kind names.
fn signal_of(kind: &str) -> Option<crate::otelcol::pdata::Signal> {
    crate::otelcol::pdata::Signal::ALL.into_iter().find(|s| s.name() == kind)
}

/// An exporter component built around a [`Sender`] maker.
pub struct NetworkExporter {
    pipeline: Arc<ExporterPipeline>,
    make: MakeSender,
}

impl NetworkExporter {
    pub fn build(ctx: Context, args: &Value, make: MakeSender) -> Result<Arc<NetworkExporter>, ComponentError> {
        let ExporterParts { sender, delivery } = make(args)?;
        let pipeline = Arc::new(ExporterPipeline::new(&ctx, sender, delivery.retry, delivery.queue));
        crate::otelcol::consumer::publish_input(&ctx, ConsumerHandle::new(ctx.id(), pipeline.clone()).tapped(&ctx));
        Ok(Arc::new(NetworkExporter { pipeline, make }))
    }

    pub fn pipeline(&self) -> &Arc<ExporterPipeline> {
        &self.pipeline
    }
}

impl Component for NetworkExporter {
    /// A new endpoint, headers or retry policy apply to the next send; the queue's size and
    /// workers are fixed for the component's lifetime.
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        let ExporterParts { sender, delivery } = (self.make)(&args)?;
        self.pipeline.set_sender(sender, delivery.retry);
        Ok(())
    }

    fn run(self: Arc<Self>, shutdown: CancellationToken) -> BoxFuture<Result<(), ComponentError>> {
        Box::pin(async move {
            self.pipeline.clone().run(shutdown).await;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::queue::Sizer;
    use crate::otelcol::pdata::{tests::traces, Signal};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    /// Fails (retryably) while `down` is set; counts attempts.
    #[derive(Default)]
    struct Flaky {
        down: AtomicBool,
        attempts: AtomicUsize,
        delivered: AtomicUsize,
    }

    impl Sender for Flaky {
        fn send<'a>(&'a self, data: &'a Payload) -> SendFuture<'a> {
            Box::pin(async move {
                self.attempts.fetch_add(1, Ordering::SeqCst);
                if self.down.load(Ordering::SeqCst) {
                    return Err(SendError::retryable("connection refused"));
                }
                self.delivered.fetch_add(data.items(), Ordering::SeqCst);
                Ok(())
            })
        }

        fn endpoint(&self) -> String {
            "flaky:4317".into()
        }
    }

    /// Polls a condition for up to 10 s (no fixed sleeps: CI machines are slow).
    async fn wait_for(cond: impl Fn() -> bool) {
        for _ in 0..1000 {
            if cond() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("condition not reached in time");
    }

    fn fast_retry() -> RetryConfig {
        RetryConfig {
            initial_interval: Duration::from_millis(5),
            max_interval: Duration::from_millis(10),
            max_elapsed_time: Duration::from_secs(60),
            ..crate::delivery::retry::tests::defaults()
        }
    }

    #[tokio::test]
    async fn a_failing_downstream_makes_the_component_unhealthy_until_it_recovers() {
        let (ctx, recorder) = crate::component::recording_context("otelcol.exporter.otlp.h");
        let flaky = Arc::new(Flaky::default());
        flaky.down.store(true, Ordering::SeqCst);
        let retry = RetryConfig { enabled: true, ..fast_retry() };
        let p = Arc::new(ExporterPipeline::new(&ctx, flaky.clone(), retry, QueueConfig { enabled: false, ..crate::delivery::queue::tests::defaults() }));
        let sending = tokio::spawn({
            let p = p.clone();
            async move { p.consume(Payload::from_traces(&traces(1, 3))).await }
        });
        wait_for(|| flaky.attempts.load(Ordering::SeqCst) >= 3).await;
        let healths = recorder.healths();
        assert_eq!(healths.len(), 1, "reported once, not per attempt: {healths:?}");
        assert_eq!(healths[0].state, crate::component::HealthState::Unhealthy);
        assert_eq!(healths[0].message, "exporting to flaky:4317 fails, retrying: connection refused");
        flaky.down.store(false, Ordering::SeqCst);
        sending.await.unwrap().expect("delivered after the downstream came back");
        let last = recorder.healths().pop().unwrap();
        assert_eq!((last.state, last.message.as_str()), (crate::component::HealthState::Healthy, "exporting to flaky:4317 works again"));
        // Attempts are logged at most every 10 s: one message for the whole outage.
        assert!(p.failing.lock().unwrap().since.is_none());
    }

    #[tokio::test]
    async fn dead_downstream_retries_then_full_queue_refuses_and_counts_then_recovers() {
        let ctx = crate::otelcol::detached_context("otelcol.exporter.otlp.t");
        let flaky = Arc::new(Flaky::default());
        flaky.down.store(true, Ordering::SeqCst);
        let qc = QueueConfig { num_consumers: 1, queue_size: 2, sizer: Sizer::Requests, ..crate::delivery::queue::tests::defaults() };
        let p = Arc::new(ExporterPipeline::new(&ctx, flaky.clone(), fast_retry(), qc));
        let stop = CancellationToken::new();
        let run = tokio::spawn(p.clone().run(stop.clone()));
        let data = Payload::from_traces(&traces(1, 3));
        // One is taken by the worker (retrying), two fill the queue, the fourth is refused.
        p.consume(data.clone()).await.unwrap();
        wait_for(|| flaky.attempts.load(Ordering::SeqCst) >= 1).await;
        p.consume(data.clone()).await.unwrap();
        p.consume(data.clone()).await.unwrap();
        let refused = p.consume(data.clone()).await;
        assert_eq!(refused, Err(ConsumeError::Unavailable("sending queue is full".into())));
        assert_eq!(p.enqueue_failed.get(Signal::Traces), 3);
        // The worker retries (its backoff is milliseconds; a loaded machine may take longer).
        wait_for(|| flaky.attempts.load(Ordering::SeqCst) >= 2).await;
        // Downstream comes back: everything queued is delivered, nothing lost.
        flaky.down.store(false, Ordering::SeqCst);
        wait_for(|| flaky.delivered.load(Ordering::SeqCst) >= 9).await;
        assert_eq!(flaky.delivered.load(Ordering::SeqCst), 9);
        assert_eq!(p.sent.get(Signal::Traces), 9);
        stop.cancel();
        run.await.unwrap();
    }

    #[tokio::test]
    async fn shutdown_drains_the_queue_and_counts_what_cannot_be_sent() {
        let ctx = crate::otelcol::detached_context("otelcol.exporter.otlp.d");
        let flaky = Arc::new(Flaky::default());
        let qc = QueueConfig { num_consumers: 2, queue_size: 100, ..crate::delivery::queue::tests::defaults() };
        let p = Arc::new(ExporterPipeline::new(&ctx, flaky.clone(), fast_retry(), qc));
        let stop = CancellationToken::new();
        for _ in 0..10 {
            p.consume(Payload::from_traces(&traces(1, 1))).await.unwrap();
        }
        // Workers start only now and shutdown is immediate: the drain still sends everything.
        stop.cancel();
        tokio::time::timeout(Duration::from_secs(2), p.clone().run(stop)).await.unwrap();
        assert_eq!(flaky.delivered.load(Ordering::SeqCst), 10);

        // A dead downstream at shutdown: one attempt each, then counted as failed.
        let flaky = Arc::new(Flaky::default());
        flaky.down.store(true, Ordering::SeqCst);
        let p =
            Arc::new(ExporterPipeline::new(&ctx, flaky.clone(), fast_retry(), QueueConfig { num_consumers: 1, ..crate::delivery::queue::tests::defaults() }));
        for _ in 0..3 {
            p.consume(Payload::from_traces(&traces(1, 2))).await.unwrap();
        }
        let stop = CancellationToken::new();
        stop.cancel();
        tokio::time::timeout(Duration::from_secs(2), p.clone().run(stop)).await.unwrap();
        assert_eq!(p.send_failed.get(Signal::Traces), 6);
    }

    /// Takes a request and never answers (a downstream that accepted the connection and hangs).
    #[derive(Default)]
    struct Silent {
        calls: AtomicUsize,
    }

    impl Sender for Silent {
        fn send<'a>(&'a self, _: &'a Payload) -> SendFuture<'a> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            Box::pin(std::future::pending())
        }
    }

    #[tokio::test]
    async fn requests_in_the_workers_hands_when_the_drain_times_out_are_counted_as_dropped() {
        let ctx = crate::otelcol::detached_context("otelcol.exporter.otlp.silent");
        let qc = QueueConfig { num_consumers: 2, queue_size: 100, ..crate::delivery::queue::tests::defaults() };
        let silent = Arc::new(Silent::default());
        let mut pipeline = ExporterPipeline::new(&ctx, silent.clone(), fast_retry(), qc);
        pipeline.drain_timeout = Duration::from_millis(200);
        let p = Arc::new(pipeline);
        let stop = CancellationToken::new();
        let run = tokio::spawn(p.clone().run(stop.clone()));
        for spans in [2, 3, 4] {
            p.consume(Payload::from_traces(&traces(1, spans))).await.unwrap();
        }
        // Two requests are being sent (one per worker), one waits in the queue.
        wait_for(|| silent.calls.load(Ordering::SeqCst) == 2).await;
        stop.cancel();
        tokio::time::timeout(Duration::from_secs(5), run).await.expect("the drain is bounded").unwrap();
        assert_eq!(p.send_failed.get(Signal::Traces), 9, "every accepted span is accounted for");
        assert_eq!(SignalCounters::dropped(&ctx).get(Signal::Traces), 9);
        let text = ctx.registry().render();
        assert!(text.contains("alloy_otelcol_dropped_items_total{signal=\"traces\"} 9"), "{text}");
        // The process-wide count survives the component's removal (a reload without it).
        ctx.registry().remove_component("otelcol.exporter.otlp.silent", "/");
        assert!(!ctx.registry().render().contains("otelcol_exporter_send_failed"));
        assert_eq!(SignalCounters::dropped(&ctx).get(Signal::Traces), 9);
    }

    #[tokio::test]
    async fn without_a_queue_errors_reach_the_caller() {
        let ctx = crate::otelcol::detached_context("otelcol.exporter.otlp.n");
        let flaky = Arc::new(Flaky::default());
        flaky.down.store(true, Ordering::SeqCst);
        let retry = RetryConfig { enabled: false, ..fast_retry() };
        let p = ExporterPipeline::new(&ctx, flaky, retry, QueueConfig { enabled: false, ..crate::delivery::queue::tests::defaults() });
        assert!(matches!(p.consume(Payload::from_traces(&traces(1, 1))).await, Err(ConsumeError::Unavailable(_))));
        assert_eq!(p.send_failed.get(Signal::Traces), 1);
        // The caller still holds the data (a client retries it): nothing was dropped here.
        assert_eq!(SignalCounters::dropped(&ctx).get(Signal::Traces), 0);
    }

    /// Requests queued with storage survive a stop while the downstream is down, and the
    /// next pipeline on the same storage sends them, then forgets them.
    #[tokio::test]
    async fn a_persistent_queue_sends_after_a_restart_what_was_queued_before() {
        let dir = std::env::temp_dir().join(format!("alloy-persistent-queue-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let storage = crate::delivery::storage::StorageDir { component_id: "otelcol.storage.file.t".into(), dir: dir.clone(), fsync: false };
        let qc = QueueConfig { num_consumers: 1, queue_size: 10, sizer: Sizer::Requests, storage: Some(storage), ..crate::delivery::queue::tests::defaults() };
        let files = || std::fs::read_dir(dir.join("otelcol.exporter.otlp.t")).map(|d| d.count()).unwrap_or(0);

        let down = Arc::new(Flaky::default());
        down.down.store(true, Ordering::SeqCst);
        let ctx = crate::otelcol::detached_context("otelcol.exporter.otlp.t");
        let first = Arc::new(ExporterPipeline::new(&ctx, down.clone(), fast_retry(), qc.clone()));
        let stop = CancellationToken::new();
        let run = tokio::spawn(first.clone().run(stop.clone()));
        for _ in 0..3 {
            first.consume(Payload::from_traces(&traces(1, 2))).await.unwrap();
        }
        assert_eq!(files(), 3, "each accepted request is on disk");
        wait_for(|| down.attempts.load(Ordering::SeqCst) >= 1).await;
        stop.cancel();
        run.await.unwrap();
        assert_eq!(files(), 3, "nothing was sent, so nothing was forgotten");
        let failed = SignalCounters::new(&ctx, "otelcol_exporter_send_failed", "", &[("exporter", "otelcol.exporter.otlp.t")]).get(Signal::Traces);
        assert_eq!(failed, 0, "kept requests are not counted as failed");

        let up = Arc::new(Flaky::default());
        let second = Arc::new(ExporterPipeline::new(&ctx, up.clone(), fast_retry(), qc));
        let stop = CancellationToken::new();
        let run = tokio::spawn(second.clone().run(stop.clone()));
        wait_for(|| up.delivered.load(Ordering::SeqCst) == 6).await;
        wait_for(|| files() == 0).await;
        stop.cancel();
        run.await.unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
