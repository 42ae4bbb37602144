//! `loki.write`: sends the entries it receives to Loki push endpoints (snappy protobuf), each
//! endpoint batching per tenant on its own ([`sender`]). `external_labels` are added to every
//! entry without overriding its own labels; the `__tenant_id__` label picks the tenant (and is
//! removed), else the endpoint's `tenant_id`.
//!
//! Without the WAL, entries go to each endpoint's queue, whose `queue_config.capacity` holds
//! producers back. With `wal.enabled`, entries are appended to the write-ahead log ([`wal`])
//! before the producer's send returns, and each endpoint reads them from there.

mod args;
mod batch;
mod sender;
mod wal;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use eval::{Object, Value};
use loki::Entry;
use tokio::sync::{mpsc, Semaphore};
use tokio_util::sync::CancellationToken;

pub use args::{Args, Endpoint};
use sender::{Queued, Routed, Sender};

use super::receiver::{Entries, Inbox, Intake};
use crate::component::args::decode_checked;
use crate::component::{BoxFuture, Component, ComponentError, Context, Registration};

const NAME: &str = "loki.write";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["receiver"], build);

/// The label that names an entry's tenant.
const TENANT_LABEL: &str = "__tenant_id__";

/// Batches an endpoint's queue holds before the component's producers wait.
const ENDPOINT_QUEUE: usize = 64;

#[derive(Clone)]
struct EndpointQueue {
    tenant: String,
    tx: mpsc::Sender<Queued>,
    room: Arc<Semaphore>,
    capacity: u32,
}

struct Running {
    /// Per endpoint: its default tenant, its queue and the bytes its queue may still take.
    queues: Vec<EndpointQueue>,
    /// With the WAL: where entries go instead of `queues`.
    wal: Option<Arc<wal::Log>>,
    stop: CancellationToken,
    /// With the WAL: whether stopping reads the WAL to its end first (set before `stop` is
    /// cancelled).
    drain: Arc<AtomicBool>,
    /// Cancelled once every task has ended.
    done: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

pub struct Write {
    ctx: Context,
    inbox: Inbox,
    /// The current settings; the endpoints' senders are restarted when they change.
    state: Mutex<(Args, Option<Running>)>,
    /// The WAL, opened when `wal.enabled` is first set and kept open from then on.
    log: Mutex<Option<Arc<wal::Log>>>,
}

fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    Ok(writer(ctx, &args)?)
}

fn writer(ctx: Context, args: &Value) -> Result<Arc<Write>, ComponentError> {
    let args: Args = decode_checked(NAME, args)?;
    check_clients(&args)?;
    for e in &args.endpoints {
        sender::register(&ctx, e);
    }
    let log = if args.wal.enabled { Some(wal::Log::open(&ctx)?) } else { None };
    let inbox = Inbox::new(ctx.id()).tapped(&ctx);
    if let Some(log) = &log {
        // Sends are appended from now on; endpoints read from here when they start.
        for e in &args.endpoints {
            wal::ensure_progress(log, &e.name);
            wal::WatcherMetrics::new(&ctx, &e.name);
        }
        inbox.set_intake(Write::intake(log));
    }
    let c = Arc::new(Write { inbox, state: Mutex::new((args, None)), log: Mutex::new(log), ctx });
    let mut exports = Object::new();
    exports.insert("receiver", c.inbox.receiver().to_value());
    c.ctx.set_exports(Value::object(exports));
    Ok(c)
}

/// Client settings that only fail when the client is built (certificates, proxies).
fn check_clients(args: &Args) -> Result<(), ComponentError> {
    for e in &args.endpoints {
        e.client.client(Some(e.remote_timeout), &crate::http_client::user_agent()).map_err(|m| ComponentError(format!("endpoint {}: {m}", e.url)))?;
    }
    Ok(())
}

/// The entry as an endpoint sends it: external labels under its own, the tenant label taken out.
fn route(mut e: Entry, external: &[(String, String)], default_tenant: &str) -> Routed {
    let tenant = e.labels.get(TENANT_LABEL);
    if tenant.is_none() && external.iter().all(|(k, _)| e.labels.get(k).is_some()) {
        // Nothing to change: the label set is shared, not rebuilt.
        return (default_tenant.to_string(), e);
    }
    let tenant = tenant.unwrap_or(default_tenant).to_string();
    let mut b = e.labels.builder();
    for (k, v) in external {
        if b.get(k).is_none() {
            b.set(k.as_str(), v.as_str());
        }
    }
    b.del(TENANT_LABEL);
    e.labels = b.labels();
    (tenant, e)
}

fn external_labels(args: &Args) -> Vec<(String, String)> {
    args.external_labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

impl Write {
    /// The WAL, opened on first use.
    fn open_log(&self) -> Result<Arc<wal::Log>, ComponentError> {
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(l) = log.as_ref() {
            return Ok(l.clone());
        }
        let l = wal::Log::open(&self.ctx)?;
        *log = Some(l.clone());
        Ok(l)
    }

    /// Starts the endpoints; with the WAL, their readers begin once `after` (the previous
    /// arguments' tasks ending) is cancelled.
    fn start(&self, args: &Args, after: Option<CancellationToken>) -> Running {
        let stop = CancellationToken::new();
        let drain = Arc::new(AtomicBool::new(false));
        let log = if args.wal.enabled { self.log.lock().unwrap_or_else(|e| e.into_inner()).clone() } else { None };
        let mut queues = Vec::new();
        let mut tasks = Vec::new();
        for e in &args.endpoints {
            let s = match Sender::new(self.ctx.clone(), e.clone(), args.max_streams.max(0) as usize) {
                Ok(s) => s,
                Err(m) => {
                    crate::component::log(self.ctx.id(), tracing::Level::ERROR, &format!("endpoint {}: {m}", e.url));
                    continue;
                }
            };
            let (tx, rx) = mpsc::channel(ENDPOINT_QUEUE);
            let capacity = u32::try_from(e.queue.capacity).unwrap_or(u32::MAX).max(1);
            let room = Arc::new(Semaphore::new(capacity as usize));
            match &log {
                Some(log) => {
                    wal::ensure_progress(log, &e.name);
                    let sender_stop = CancellationToken::new();
                    tasks.push(tokio::spawn(s.with_wal(sender::WalStop { drain: drain.clone() }).run(rx, sender_stop.clone())));
                    let reader = wal::EndpointReader {
                        log: log.clone(),
                        endpoint: e.name.clone(),
                        tenant: e.tenant_id.clone(),
                        external: external_labels(args),
                        tx,
                        room,
                        capacity,
                        cfg: args.wal.clone(),
                        metrics: wal::WatcherMetrics::new(&self.ctx, &e.name),
                        stop: stop.clone(),
                        drain: drain.clone(),
                        after: after.clone(),
                        sender_stop,
                    };
                    tasks.push(tokio::spawn(reader.run()));
                }
                None => {
                    queues.push(EndpointQueue { tenant: e.tenant_id.clone(), tx, room, capacity });
                    tasks.push(tokio::spawn(s.run(rx, stop.child_token())));
                }
            }
        }
        if let Some(log) = &log {
            let names = args.endpoints.iter().map(|e| e.name.clone()).collect();
            tasks.push(tokio::spawn(wal::clean(log.clone(), names, args.wal.max_segment_age, stop.child_token())));
        }
        Running { queues, wal: log, stop, drain, done: CancellationToken::new(), tasks }
    }

    /// What producers' sends call with the WAL: the append.
    fn intake(log: &Arc<wal::Log>) -> Option<Intake> {
        let log = log.clone();
        Some(Arc::new(move |entries: Entries| log.append(&entries)))
    }

    /// Hands the entries to every endpoint, waiting while an endpoint's queue is full; with
    /// the WAL, appends them to it.
    async fn dispatch(&self, entries: Entries) {
        let (external, queues, log) = {
            let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let queues: Vec<EndpointQueue> = st.1.as_ref().map(|r| r.queues.clone()).unwrap_or_default();
            (external_labels(&st.0), queues, st.1.as_ref().and_then(|r| r.wal.clone()))
        };
        if let Some(log) = log {
            log.append(&entries);
            return;
        }
        let mut entries = Some(entries);
        let last = queues.len().saturating_sub(1);
        for (i, q) in queues.into_iter().enumerate() {
            // Every endpoint but the last gets copies; the last takes the entries themselves.
            let mine = if i == last { entries.take().unwrap_or_default() } else { entries.clone().unwrap_or_default() };
            let routed: Vec<Routed> = mine.into_iter().map(|e| route(e, &external, &q.tenant)).collect();
            // Waits while the endpoint holds `capacity` bytes; a bigger batch waits for all of it.
            let bytes: u64 = routed.iter().map(|(_, e)| batch::entry_size(e)).sum();
            let want = u32::try_from(bytes).unwrap_or(u32::MAX).clamp(1, q.capacity);
            let Ok(permit) = q.room.clone().acquire_many_owned(want).await else { continue };
            if q.tx.send((routed, permit, None)).await.is_err() {
                crate::component::log(self.ctx.id(), tracing::Level::WARN, "an endpoint stopped while entries were sent to it");
            }
        }
    }

    /// Stops the senders, letting each drain what it holds; with the WAL, `drain` has the
    /// endpoints read it to its end first (within `wal.drain_timeout`), else what they hold
    /// is left to it.
    async fn stop(running: Running, drain: bool) {
        running.drain.store(drain, Ordering::SeqCst);
        running.stop.cancel();
        drop(running.queues);
        for t in running.tasks {
            let _ = t.await;
        }
        if let Some(log) = &running.wal {
            log.sync();
        }
        running.done.cancel();
    }
}

impl Component for Write {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        let args: Args = decode_checked(NAME, &args)?;
        check_clients(&args)?;
        let log = if args.wal.enabled { Some(self.open_log()?) } else { None };
        for e in &args.endpoints {
            sender::register(&self.ctx, e);
            if let Some(log) = &log {
                wal::ensure_progress(log, &e.name);
                wal::WatcherMetrics::new(&self.ctx, &e.name);
            }
        }
        let old = {
            let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            // Readers of the WAL add the external labels themselves.
            let same = st.0.endpoints == args.endpoints
                && st.0.max_streams == args.max_streams
                && st.0.wal == args.wal
                && (!args.wal.enabled || st.0.external_labels == args.external_labels);
            let old = if same || st.1.is_none() { None } else { st.1.take() };
            if let Some(o) = &old {
                st.1 = Some(self.start(&args, Some(o.done.clone())));
            }
            self.inbox.set_intake(log.as_ref().and_then(Write::intake));
            st.0 = args;
            old
        };
        if let Some(old) = old {
            tokio::spawn(Write::stop(old, false));
        }
        Ok(())
    }

    fn run(self: Arc<Self>, shutdown: CancellationToken) -> BoxFuture<Result<(), ComponentError>> {
        Box::pin(async move {
            {
                let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
                let running = self.start(&st.0, None);
                self.inbox.set_intake(running.wal.as_ref().and_then(Write::intake));
                st.1 = Some(running);
            }
            let this = self.clone();
            self.inbox
                .serve(shutdown, move |entries| {
                    let this = this.clone();
                    async move { this.dispatch(entries).await }
                })
                .await;
            self.inbox.set_intake(None);
            let running = self.state.lock().unwrap_or_else(|e| e.into_inner()).1.take();
            if let Some(r) = running {
                Write::stop(r, true).await;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests;
