//! `loki.write`: sends the entries it receives to Loki push endpoints (snappy protobuf), each
//! endpoint batching per tenant on its own ([`sender`]). `external_labels` are added to every
//! entry without overriding its own labels; the `__tenant_id__` label picks the tenant (and is
//! removed), else the endpoint's `tenant_id`.

mod args;
mod batch;
mod sender;

use std::sync::{Arc, Mutex};

use eval::{Object, Value};
use loki::Entry;
use tokio::sync::{mpsc, Semaphore};
use tokio_util::sync::CancellationToken;

pub use args::{Args, Endpoint};
use sender::{Queued, Routed, Sender};

use super::receiver::{Entries, Inbox};
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
    stop: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

pub struct Write {
    ctx: Context,
    inbox: Inbox,
    /// The current settings; the endpoints' senders are restarted when they change.
    state: Mutex<(Args, Option<Running>)>,
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
    let c = Arc::new(Write { inbox: Inbox::new(ctx.id()), state: Mutex::new((args, None)), ctx });
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

impl Write {
    fn start(&self, args: &Args) -> Running {
        let stop = CancellationToken::new();
        let mut queues = Vec::new();
        let mut tasks = Vec::new();
        for e in &args.endpoints {
            match Sender::new(self.ctx.clone(), e.clone(), args.max_streams.max(0) as usize) {
                Ok(s) => {
                    let (tx, rx) = mpsc::channel(ENDPOINT_QUEUE);
                    let capacity = u32::try_from(e.queue.capacity).unwrap_or(u32::MAX).max(1);
                    queues.push(EndpointQueue { tenant: e.tenant_id.clone(), tx, room: Arc::new(Semaphore::new(capacity as usize)), capacity });
                    tasks.push(tokio::spawn(s.run(rx, stop.child_token())));
                }
                Err(m) => crate::component::log(self.ctx.id(), tracing::Level::ERROR, &format!("endpoint {}: {m}", e.url)),
            }
        }
        Running { queues, stop, tasks }
    }

    /// Hands the entries to every endpoint, waiting while an endpoint's queue is full.
    async fn dispatch(&self, entries: Entries) {
        let (external, queues) = {
            let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let external: Vec<(String, String)> = st.0.external_labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            let queues: Vec<EndpointQueue> = st.1.as_ref().map(|r| r.queues.clone()).unwrap_or_default();
            (external, queues)
        };
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
            if q.tx.send((routed, permit)).await.is_err() {
                crate::component::log(self.ctx.id(), tracing::Level::WARN, "an endpoint stopped while entries were sent to it");
            }
        }
    }

    /// Stops the senders, letting each drain what it holds.
    async fn stop(running: Running) {
        running.stop.cancel();
        drop(running.queues);
        for t in running.tasks {
            let _ = t.await;
        }
    }
}

impl Component for Write {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        let args: Args = decode_checked(NAME, &args)?;
        check_clients(&args)?;
        for e in &args.endpoints {
            sender::register(&self.ctx, e);
        }
        let old = {
            let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let same = st.0.endpoints == args.endpoints && st.0.max_streams == args.max_streams;
            let old = if same || st.1.is_none() { None } else { st.1.take() };
            if old.is_some() {
                st.1 = Some(self.start(&args));
            }
            st.0 = args;
            old
        };
        if let Some(old) = old {
            tokio::spawn(Write::stop(old));
        }
        Ok(())
    }

    fn run(self: Arc<Self>, shutdown: CancellationToken) -> BoxFuture<Result<(), ComponentError>> {
        Box::pin(async move {
            {
                let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
                let running = self.start(&st.0);
                st.1 = Some(running);
            }
            let this = self.clone();
            self.inbox
                .serve(shutdown, move |entries| {
                    let this = this.clone();
                    async move { this.dispatch(entries).await }
                })
                .await;
            let running = self.state.lock().unwrap_or_else(|e| e.into_inner()).1.take();
            if let Some(r) = running {
                Write::stop(r).await;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests;
