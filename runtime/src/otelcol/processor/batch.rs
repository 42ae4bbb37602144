//! `otelcol.processor.batch`: gathers data into batches by item count or age.
//!
//! Batches are kept per signal and, with `metadata_keys`, per distinct combination of those
//! client-metadata values. A batch is sent once it holds `send_batch_size` items (in pieces
//! of at most `send_batch_max_size`) or when its oldest data is `timeout` old. Merging is
//! byte concatenation (see `pdata`). Data is owned by the processor once accepted: a send
//! that fails downstream is logged and counted, and shutdown flushes everything.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use eval::Value;
use tokio_util::sync::CancellationToken;

use crate::component::args::{decode_checked, types::Dur};
use crate::component::{Arguments, BoxFuture, Component, ComponentError, Context, Reader, Registration};
use crate::metrics::Counter;
use crate::otelcol::consumer::{ConsumeError, ConsumeFuture, Consumer, ConsumerHandle, Fanout, Output};
use crate::otelcol::pdata::{Payload, Signal};
use crate::otelcol::{log, SignalCounters};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Config {
    pub send_batch_size: usize,
    pub send_batch_max_size: usize,
    pub timeout: Duration,
    pub metadata_keys: Vec<String>,
    pub metadata_cardinality_limit: usize,
}

impl Arguments for Config {
    fn decode(r: &mut Reader<'_>) -> Self {
        Config {
            send_batch_size: r.get("send_batch_size"),
            send_batch_max_size: r.get("send_batch_max_size"),
            timeout: r.get::<Dur>("timeout").0,
            metadata_keys: r.get::<Vec<String>>("metadata_keys").into_iter().map(|k| k.to_ascii_lowercase()).collect(),
            metadata_cardinality_limit: r.get("metadata_cardinality_limit"),
        }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        r.check(
            self.send_batch_max_size == 0 || self.send_batch_max_size >= self.send_batch_size,
            &["send_batch_max_size", "send_batch_size"],
            "send_batch_max_size must be greater or equal to send_batch_size",
        );
    }
}

/// The component's arguments.
#[derive(Default)]
pub struct Args {
    pub config: Config,
    pub output: Output,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        // Our self-metrics have one level; upstream's detail switches are not implemented.
        r.unsupported(&["debug_metrics"]);
        Args { config: Config::decode(r), output: r.block_or_default("output") }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        self.config.validate(r);
    }
}

const NAME: &str = "otelcol.processor.batch";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["input"], build);

/// Which batch a payload joins: its signal and the values of the metadata keys.
type BatchKey = (Signal, Vec<Vec<String>>);

struct Pending {
    parts: Vec<Payload>,
    items: usize,
    since: Instant,
}

/// The batching state, separate from the component so it can be tested without timers.
pub struct Batcher {
    /// Shared, so reading it per payload costs a reference count, not a copy.
    config: Mutex<Arc<Config>>,
    pending: Mutex<HashMap<BatchKey, Pending>>,
    /// Set (under the `pending` lock) by [`Batcher::close`]: nothing is held any more.
    closed: AtomicBool,
}

impl Batcher {
    pub fn new(config: Config) -> Self {
        Batcher { config: Mutex::new(Arc::new(config)), pending: Mutex::new(HashMap::new()), closed: AtomicBool::new(false) }
    }

    pub fn config(&self) -> Arc<Config> {
        self.config.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn set_config(&self, c: Config) {
        *self.config.lock().unwrap_or_else(|e| e.into_inner()) = Arc::new(c);
    }

    /// Adds a payload; returns the batches that are now due by size.
    pub fn add(&self, data: Payload) -> Result<Vec<Payload>, ConsumeError> {
        let c = self.config();
        let key: BatchKey = (data.signal(), c.metadata_keys.iter().map(|k| data.metadata().get(k).cloned().unwrap_or_default()).collect());
        let due = {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            if self.closed.load(Ordering::SeqCst) {
                // Stopped: data arriving late goes on by itself (cut to the maximum size,
                // outside the lock) instead of waiting for a flush that will not come.
                drop(pending);
                return Ok(data.chunks(c.send_batch_max_size));
            }
            if !pending.contains_key(&key) && !c.metadata_keys.is_empty() && pending.len() >= c.metadata_cardinality_limit {
                return Err(ConsumeError::Unavailable("too many batcher metadata-value combinations".into()));
            }
            let p = pending.entry(key.clone()).or_insert_with(|| Pending { parts: Vec::new(), items: 0, since: Instant::now() });
            p.items += data.items();
            p.parts.push(data);
            if c.send_batch_size == 0 || p.items < c.send_batch_size {
                return Ok(Vec::new());
            }
            // Cut outside the lock (other senders keep adding meanwhile).
            pending.remove(&key).map(|p| p.parts).unwrap_or_default()
        };
        let mut out = Payload::concat(&due).map(|all| all.chunks(c.send_batch_max_size)).unwrap_or_default();
        // Full pieces go now; a remainder below the trigger size waits for more data, ahead
        // of whatever arrived while this one was cut.
        if out.len() > 1 && out.last().is_some_and(|r| r.items() < c.send_batch_size) {
            if let Some(rest) = out.pop() {
                let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
                let p = pending.entry(key).or_insert_with(|| Pending { parts: Vec::new(), items: 0, since: Instant::now() });
                p.items += rest.items();
                p.since = Instant::now();
                p.parts.insert(0, rest);
            }
        }
        Ok(out)
    }

    /// Takes every batch whose oldest data is at least `age` old (all of them for zero).
    pub fn take_older_than(&self, age: Duration) -> Vec<Payload> {
        let max = self.config().send_batch_max_size;
        let due: Vec<Pending> = {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let keys: Vec<BatchKey> = pending.iter().filter(|(_, p)| now.duration_since(p.since) >= age).map(|(k, _)| k.clone()).collect();
            keys.iter().filter_map(|k| pending.remove(k)).collect()
        };
        due.iter().filter_map(|p| Payload::concat(&p.parts)).flat_map(|all| all.chunks(max)).collect()
    }

    /// Takes everything and holds nothing from now on (shutdown).
    pub fn close(&self) -> Vec<Payload> {
        {
            let _pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            self.closed.store(true, Ordering::SeqCst);
        }
        self.take_older_than(Duration::ZERO)
    }

    pub fn cardinality(&self) -> usize {
        self.pending.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

struct BatchConsumer {
    id: String,
    batcher: Batcher,
    next: Arc<Fanout>,
    size_triggers: Counter,
    timeout_triggers: Counter,
    send_failed: SignalCounters,
    /// The process-wide count of dropped items (survives the component's removal).
    dropped: SignalCounters,
}

impl BatchConsumer {
    async fn send(&self, batches: Vec<Payload>) {
        // If this future is dropped midway (the shutdown deadline aborts the component), what
        // was not handed on is counted and logged.
        let mut unsent = Unsent { consumer: self, left: batches.iter().map(|b| (b.signal(), b.items())).collect() };
        for b in batches {
            let (signal, n) = (b.signal(), b.items());
            if let Err(e) = self.next.consume(b).await {
                self.count_dropped(signal, n);
                log(&self.id, tracing::Level::ERROR, &format!("failed to send a batch of {n} {}: {e}", signal.item_metric()));
            }
            unsent.left.pop_front();
        }
    }

    fn count_dropped(&self, signal: Signal, n: usize) {
        self.send_failed.add(signal, n);
        self.dropped.add(signal, n);
    }
}

/// Batches being sent, counted as dropped if the sending stops before they are handed on.
struct Unsent<'a> {
    consumer: &'a BatchConsumer,
    left: VecDeque<(Signal, usize)>,
}

impl Drop for Unsent<'_> {
    fn drop(&mut self) {
        for &(signal, n) in &self.left {
            self.consumer.count_dropped(signal, n);
            log(&self.consumer.id, tracing::Level::ERROR, &format!("stopped while sending a batch, dropping {n} {}", signal.item_metric()));
        }
    }
}

impl Consumer for BatchConsumer {
    fn consume(&self, data: Payload) -> ConsumeFuture<'_> {
        Box::pin(async move {
            if data.items() == 0 {
                return Ok(());
            }
            let due = self.batcher.add(data)?;
            if !due.is_empty() {
                self.size_triggers.add(due.len() as u64);
                self.send(due).await;
            }
            if self.batcher.config().timeout.is_zero() {
                self.send(self.batcher.take_older_than(Duration::ZERO)).await;
            }
            Ok(())
        })
    }
}

pub struct BatchProcessor {
    consumer: Arc<BatchConsumer>,
}

pub fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    Ok(BatchProcessor::new(ctx, &args)?)
}

impl BatchProcessor {
    pub fn new(ctx: Context, args: &Value) -> Result<Arc<BatchProcessor>, ComponentError> {
        let Args { config, output } = decode_checked(NAME, args)?;
        let consumer = Arc::new(BatchConsumer {
            id: ctx.id().to_string(),
            batcher: Batcher::new(config),
            next: Arc::new(Fanout::new(output).tapped(&ctx)),
            size_triggers: ctx.counter(
                "otelcol_processor_batch_batch_size_trigger_send_total",
                "Number of times the batch was sent due to a size trigger",
                &[("processor", ctx.id())],
            ),
            timeout_triggers: ctx.counter(
                "otelcol_processor_batch_timeout_trigger_send_total",
                "Number of times the batch was sent due to a timeout trigger",
                &[("processor", ctx.id())],
            ),
            send_failed: SignalCounters::new(
                &ctx,
                "otelcol_processor_batch_send_failed",
                "Items in batches the next consumer refused",
                &[("processor", ctx.id())],
            ),
            dropped: SignalCounters::dropped(&ctx),
        });
        crate::otelcol::consumer::publish_input(&ctx, ConsumerHandle::new(ctx.id(), consumer.clone()));
        Ok(Arc::new(BatchProcessor { consumer }))
    }

    pub fn input(&self) -> ConsumerHandle {
        ConsumerHandle::new(&self.consumer.id, self.consumer.clone())
    }
}

impl Component for BatchProcessor {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        let Args { config, output } = decode_checked(NAME, &args)?;
        self.consumer.batcher.set_config(config);
        self.consumer.next.set(output);
        Ok(())
    }

    fn run(self: Arc<Self>, shutdown: CancellationToken) -> BoxFuture<Result<(), ComponentError>> {
        Box::pin(async move {
            let c = &self.consumer;
            loop {
                // Check at a quarter of the timeout so a batch is never much older than it.
                let timeout = c.batcher.config().timeout;
                let tick = (timeout / 4).max(Duration::from_millis(1));
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(tick) => {}
                }
                if !timeout.is_zero() {
                    let due = c.batcher.take_older_than(timeout);
                    if !due.is_empty() {
                        c.timeout_triggers.add(due.len() as u64);
                        c.send(due).await;
                    }
                }
            }
            // Shutdown: everything still pending goes out now, and later data is not held.
            c.send(c.batcher.close()).await;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otelcol::consumer::tests::sink_handle;
    use crate::otelcol::pdata::tests::traces;
    use eval::Object;

    fn cfg(size: usize, max: usize) -> Config {
        Config { send_batch_size: size, send_batch_max_size: max, ..crate::component::args::defaults::<Args>(NAME).unwrap().config }
    }

    #[test]
    fn sends_when_the_trigger_size_is_reached_in_max_size_pieces() {
        let b = Batcher::new(cfg(10, 15));
        assert!(b.add(Payload::from_traces(&traces(1, 6))).unwrap().is_empty());
        let out = b.add(Payload::from_traces(&traces(2, 12))).unwrap(); // 30 items now
        assert_eq!(out.iter().map(Payload::items).collect::<Vec<_>>(), [15, 15]);
        assert_eq!(b.cardinality(), 0);
        // 25 items: one full piece of 15, and 10 ≥ trigger also goes.
        let out = b.add(Payload::from_traces(&traces(1, 25))).unwrap();
        assert_eq!(out.iter().map(Payload::items).collect::<Vec<_>>(), [15, 10]);
        // 22 items with max 15: 15 goes, 7 (below the trigger) waits.
        let out = b.add(Payload::from_traces(&traces(1, 22))).unwrap();
        assert_eq!(out.iter().map(Payload::items).collect::<Vec<_>>(), [15]);
        let rest = b.take_older_than(Duration::ZERO);
        assert_eq!(rest.iter().map(Payload::items).collect::<Vec<_>>(), [7]);
    }

    #[test]
    fn timeout_flush_takes_only_old_batches_and_keeps_signals_apart() {
        let b = Batcher::new(cfg(100, 0));
        b.add(Payload::from_traces(&traces(1, 3))).unwrap();
        assert!(b.take_older_than(Duration::from_secs(60)).is_empty());
        let l = opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest {
            resource_logs: vec![opentelemetry_proto::tonic::logs::v1::ResourceLogs {
                scope_logs: vec![opentelemetry_proto::tonic::logs::v1::ScopeLogs { log_records: vec![Default::default(); 2], ..Default::default() }],
                ..Default::default()
            }],
        };
        b.add(Payload::from_logs(&l)).unwrap();
        let mut out = b.take_older_than(Duration::ZERO);
        out.sort_by_key(|p| p.signal());
        assert_eq!(out.iter().map(|p| (p.signal(), p.items())).collect::<Vec<_>>(), [(Signal::Traces, 3), (Signal::Logs, 2)]);
    }

    #[test]
    fn metadata_keys_separate_batches_and_limit_cardinality() {
        let b = Batcher::new(Config { metadata_keys: vec!["tenant".into()], metadata_cardinality_limit: 2, ..cfg(100, 0) });
        let with = |t: &str| {
            let m = std::collections::BTreeMap::from([("tenant".to_string(), vec![t.to_string()])]);
            Payload::from_traces(&traces(1, 1)).with_metadata(Arc::new(m))
        };
        b.add(with("a")).unwrap();
        b.add(with("b")).unwrap();
        b.add(with("a")).unwrap();
        assert_eq!(b.cardinality(), 2);
        assert!(matches!(b.add(with("c")), Err(ConsumeError::Unavailable(_))));
        let out = b.take_older_than(Duration::ZERO);
        let mut sizes: Vec<_> = out.iter().map(|p| (p.metadata()["tenant"][0].clone(), p.items())).collect();
        sizes.sort();
        assert_eq!(sizes, [("a".to_string(), 2), ("b".to_string(), 1)]);
    }

    #[tokio::test]
    async fn timeout_and_shutdown_flush_through_the_component() {
        let (sink, handle) = sink_handle();
        let mut out = Object::new();
        out.insert("traces", Value::array(vec![handle.to_value()]));
        let mut args = Object::new();
        args.insert("timeout", Value::string("50ms"));
        args.insert("send_batch_size", Value::int(1000));
        args.insert("output", Value::object(out));
        let p = BatchProcessor::new(crate::otelcol::detached_context("otelcol.processor.batch.t"), &analyzer::args::with_defaults(NAME, &Value::object(args)))
            .unwrap();
        let stop = CancellationToken::new();
        let run = tokio::spawn(p.clone().run(stop.clone()));
        p.input().consume(Payload::from_traces(&traces(1, 5))).await.unwrap();
        assert_eq!(sink.items(), 0);
        for _ in 0..500 {
            if sink.items() == 5 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(sink.items(), 5, "the timeout flushes the batch");
        p.input().consume(Payload::from_traces(&traces(1, 2))).await.unwrap();
        stop.cancel();
        run.await.unwrap().unwrap();
        assert_eq!(sink.items(), 7);
    }

    /// A consumer that takes data and never answers.
    struct Hung;

    impl Consumer for Hung {
        fn consume(&self, _: Payload) -> ConsumeFuture<'_> {
            Box::pin(std::future::pending())
        }
    }

    #[test]
    fn a_closed_batcher_holds_nothing() {
        let b = Batcher::new(cfg(100, 0));
        b.add(Payload::from_traces(&traces(1, 3))).unwrap();
        assert_eq!(b.close().iter().map(Payload::items).sum::<usize>(), 3);
        let late = b.add(Payload::from_traces(&traces(1, 2))).unwrap();
        assert_eq!(late.iter().map(Payload::items).collect::<Vec<_>>(), [2], "late data goes on at once");
        assert_eq!(b.cardinality(), 0);
        // Late data is still cut to the maximum size.
        let capped = Batcher::new(cfg(100, 4));
        capped.close();
        let late = capped.add(Payload::from_traces(&traces(1, 10))).unwrap();
        assert_eq!(late.iter().map(Payload::items).collect::<Vec<_>>(), [4, 4, 2]);
    }

    #[tokio::test]
    async fn a_flush_cut_off_by_the_shutdown_deadline_counts_what_it_held() {
        let hung = ConsumerHandle::new("test.hung", Arc::new(Hung));
        let mut out = Object::new();
        out.insert("traces", Value::array(vec![hung.to_value()]));
        let mut args = Object::new();
        args.insert("timeout", Value::string("1h"));
        args.insert("output", Value::object(out));
        let ctx = crate::otelcol::detached_context("otelcol.processor.batch.h");
        let p = BatchProcessor::new(ctx.clone(), &analyzer::args::with_defaults(NAME, &Value::object(args))).unwrap();
        let stop = CancellationToken::new();
        let run = tokio::spawn(p.clone().run(stop.clone()));
        p.input().consume(Payload::from_traces(&traces(1, 5))).await.unwrap();
        stop.cancel();
        // The controller's deadline passes and it aborts the task, as for a hung downstream.
        tokio::time::sleep(Duration::from_millis(100)).await;
        run.abort();
        assert!(run.await.unwrap_err().is_cancelled());
        assert_eq!(p.consumer.send_failed.get(Signal::Traces), 5);
        assert_eq!(SignalCounters::dropped(&ctx).get(Signal::Traces), 5);
    }
}
