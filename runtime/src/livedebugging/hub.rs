//! The hub: who listens, and handing each published record to them.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock, Weak};

use tokio_util::sync::CancellationToken;

use super::{DataType, DebugSink, GraphSink, MAX_RECORD_BYTES};

enum Listener {
    Debug(Arc<DebugSink>),
    Graph(Arc<GraphSink>),
}

/// One controller's live-debugging listeners.
#[derive(Default)]
pub struct Hub {
    /// The `livedebugging` block's `enabled`: debug streams need it, graph streams do not.
    enabled: AtomicBool,
    /// How many listeners there are: the only thing a publish reads when there are none.
    listening: AtomicUsize,
    listeners: RwLock<Vec<(u64, Listener)>>,
    next_id: AtomicU64,
    /// Cancelled when the controller shuts down: every stream ends, so the HTTP server's
    /// graceful shutdown does not wait on endless responses.
    stopped: CancellationToken,
}

/// Keeps a listener registered; dropping it (the client went away) removes the listener.
pub struct Subscription {
    hub: Weak<Hub>,
    id: u64,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(hub) = self.hub.upgrade() {
            hub.remove(self.id);
        }
    }
}

impl Hub {
    pub fn new() -> Arc<Hub> {
        Arc::new(Hub::default())
    }

    pub fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Acquire)
    }

    /// Turning live debugging off ends every debug stream (graph streams keep counting).
    pub fn set_enabled(&self, on: bool) {
        let mut listeners = self.listeners.write().unwrap_or_else(|e| e.into_inner());
        self.enabled.store(on, Ordering::Release);
        if !on {
            listeners.retain(|(_, l)| match l {
                Listener::Debug(d) => {
                    d.close();
                    false
                }
                Listener::Graph(_) => true,
            });
            self.listening.store(listeners.len(), Ordering::Release);
        }
    }

    /// Ends every stream, for good (the controller is shutting down).
    pub fn stop(&self) {
        self.stopped.cancel();
        self.set_enabled(false);
    }

    /// Resolves once [`Hub::stop`] was called.
    pub async fn stopped(&self) {
        self.stopped.cancelled().await
    }

    /// Whether anyone listens at all: one atomic load, for publishers to skip work.
    pub fn listening(&self) -> bool {
        self.listening.load(Ordering::Relaxed) != 0
    }

    /// How many listeners are registered.
    pub fn listeners(&self) -> usize {
        self.listening.load(Ordering::Acquire)
    }

    /// Registers a debug stream; `None` when live debugging is off.
    pub fn watch(self: &Arc<Self>, sink: Arc<DebugSink>) -> Option<Subscription> {
        let mut listeners = self.listeners.write().unwrap_or_else(|e| e.into_inner());
        // Checked under the lock, so a concurrent disable cannot miss this stream.
        if !self.enabled() {
            return None;
        }
        Some(self.add(&mut listeners, Listener::Debug(sink)))
    }

    /// Registers a graph stream (allowed with live debugging off: it only counts).
    pub fn watch_graph(self: &Arc<Self>, sink: Arc<GraphSink>) -> Subscription {
        let mut listeners = self.listeners.write().unwrap_or_else(|e| e.into_inner());
        self.add(&mut listeners, Listener::Graph(sink))
    }

    fn add(self: &Arc<Self>, listeners: &mut Vec<(u64, Listener)>, l: Listener) -> Subscription {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        listeners.push((id, l));
        self.listening.store(listeners.len(), Ordering::Release);
        Subscription { hub: Arc::downgrade(self), id }
    }

    fn remove(&self, id: u64) {
        let mut listeners = self.listeners.write().unwrap_or_else(|e| e.into_inner());
        listeners.retain(|(i, _)| *i != id);
        self.listening.store(listeners.len(), Ordering::Release);
    }

    /// `count` items of `ty` that `component_id` sent to `targets` (none when it is where
    /// they end). `render` runs at most once, and only when a debug stream takes the record.
    pub fn publish(&self, component_id: &str, ty: DataType, count: u64, targets: &[&str], render: impl FnOnce() -> String) {
        if !self.listening() {
            return;
        }
        // Counted under the lock; rendered after it, so a large payload's text does not hold
        // up streams coming and going.
        let takers: Vec<Arc<DebugSink>> = {
            let listeners = self.listeners.read().unwrap_or_else(|e| e.into_inner());
            let enabled = self.enabled();
            let mut takers = Vec::new();
            for (_, l) in listeners.iter() {
                match l {
                    Listener::Graph(g) if g.wants(component_id) => g.add(component_id, ty, count, targets),
                    Listener::Debug(d) if enabled && d.wants(component_id, ty) && d.admit() => takers.push(d.clone()),
                    _ => {}
                }
            }
            takers
        };
        if takers.is_empty() {
            return;
        }
        let record = cut(render());
        for d in takers {
            d.deliver(record.clone());
        }
    }
}

/// A record of at most [`MAX_RECORD_BYTES`], cut at a character boundary.
fn cut(mut s: String) -> Arc<str> {
    if s.len() > MAX_RECORD_BYTES {
        let mut end = MAX_RECORD_BYTES;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push_str("\n… (record cut)");
    }
    Arc::from(s)
}

/// What a component publishes through: its global ID and its controller's hub.
#[derive(Clone)]
pub struct Tap {
    id: Arc<str>,
    hub: Arc<Hub>,
}

impl Tap {
    pub fn new(id: &str, hub: Arc<Hub>) -> Tap {
        Tap { id: id.into(), hub }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whether anyone listens (check before computing targets).
    pub fn listening(&self) -> bool {
        self.hub.listening()
    }

    /// [`Hub::publish`] under this component's ID.
    pub fn publish(&self, ty: DataType, count: u64, targets: &[&str], render: impl FnOnce() -> String) {
        self.hub.publish(&self.id, ty, count, targets, render);
    }
}

impl std::fmt::Debug for Tap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tap({})", self.id)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;
    use crate::livedebugging::Filter;

    fn debug(hub: &Arc<Hub>, id: &str, filter: Filter) -> (Arc<DebugSink>, tokio::sync::mpsc::Receiver<Arc<str>>, Option<Subscription>) {
        let (sink, rx) = DebugSink::new(id, filter, u32::MAX);
        let sub = hub.watch(sink.clone());
        (sink, rx, sub)
    }

    #[test]
    fn nobody_listening_renders_nothing() {
        let hub = Hub::new();
        hub.set_enabled(true);
        let renders = AtomicUsize::new(0);
        hub.publish("a", DataType::LokiLog, 1, &[], || {
            renders.fetch_add(1, Ordering::Relaxed);
            String::new()
        });
        // A graph stream counts but never renders.
        let _g = hub.watch_graph(Arc::new(GraphSink::new("")));
        hub.publish("a", DataType::LokiLog, 1, &[], || {
            renders.fetch_add(1, Ordering::Relaxed);
            String::new()
        });
        assert_eq!(renders.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_record_is_rendered_once_for_all_streams_of_the_component() {
        let hub = Hub::new();
        hub.set_enabled(true);
        let (_s1, mut rx1, _a) = debug(&hub, "a", Filter::default());
        let (_s2, mut rx2, _b) = debug(&hub, "a", Filter::default());
        let (_s3, mut rx3, _c) = debug(&hub, "b", Filter::default());
        let renders = AtomicUsize::new(0);
        hub.publish("a", DataType::LokiLog, 1, &[], || {
            renders.fetch_add(1, Ordering::Relaxed);
            "line".into()
        });
        assert_eq!(renders.load(Ordering::Relaxed), 1);
        assert_eq!(rx1.try_recv().ok().as_deref(), Some("line"));
        assert_eq!(rx2.try_recv().ok().as_deref(), Some("line"));
        assert!(rx3.try_recv().is_err());
    }

    #[test]
    fn sample_zero_takes_nothing() {
        let hub = Hub::new();
        hub.set_enabled(true);
        let (_s, mut rx, _sub) = debug(&hub, "a", Filter { sample: 0.0, types: None });
        for _ in 0..100 {
            hub.publish("a", DataType::OtelLog, 1, &[], || panic!("never rendered"));
        }
        assert!(rx.try_recv().is_err());
    }

    #[test]
    fn subscriptions_end_when_dropped_and_debug_streams_when_disabled() {
        let hub = Hub::new();
        assert!(hub.watch(DebugSink::new("a", Filter::default(), 1).0).is_none(), "refused while disabled");
        hub.set_enabled(true);
        let (sink, _rx, sub) = debug(&hub, "a", Filter::default());
        let graph = hub.watch_graph(Arc::new(GraphSink::new("")));
        assert_eq!(hub.listeners(), 2);
        drop(sub);
        assert_eq!(hub.listeners(), 1);
        let (sink2, _rx2, _sub2) = debug(&hub, "a", Filter::default());
        hub.set_enabled(false);
        assert_eq!(hub.listeners(), 1, "the graph stream stays");
        assert!(sink2.is_closed() && !sink.is_closed());
        drop(graph);
        assert!(!hub.listening());
    }

    #[test]
    fn long_records_are_cut() {
        let s = cut("é".repeat(MAX_RECORD_BYTES));
        assert!(s.len() <= MAX_RECORD_BYTES + 20 && s.ends_with("(record cut)"));
    }
}
