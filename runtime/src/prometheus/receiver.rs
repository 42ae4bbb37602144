//! The `MetricsReceiver` capsule: how metrics components hand batches to each other.
//!
//! `prometheus.relabel`, `prometheus.remote_write` (and later bridges) export `receiver`, an
//! [`ReceiverHandle`]; producers list handles in `forward_to` and send through a [`Fanout`],
//! which gives every batch to every receiver in order. An append is synchronous and takes the
//! whole batch or refuses it whole (upstream's appender commit).

use std::fmt;
use std::sync::{Arc, RwLock};

use eval::{CapsuleValue, Value};
use prom::sample::Batch;

use crate::livedebugging::{DataType, Tap};

/// Why a receiver refused a batch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AppendError(pub String);

/// Something that takes metrics.
pub trait Appendable: Send + Sync + 'static {
    fn append(&self, batch: &Batch) -> Result<(), AppendError>;
}

/// The capsule value: a shared receiver plus the ID of the component that owns it.
#[derive(Clone)]
pub struct ReceiverHandle {
    component_id: Arc<str>,
    receiver: Arc<dyn Appendable>,
    /// Where metrics end (`prometheus.remote_write`): what it takes is published to live
    /// debugging.
    tap: Option<Tap>,
}

pub const RECEIVER_TYPE: &str = "MetricsReceiver";

impl ReceiverHandle {
    pub fn new(component_id: &str, receiver: Arc<dyn Appendable>) -> Self {
        ReceiverHandle { component_id: component_id.into(), receiver, tap: None }
    }

    /// A handle of a component where metrics end: what it is given is published to live
    /// debugging, with no targets.
    pub fn tapped(mut self, ctx: &crate::component::Context) -> Self {
        self.tap = Some(ctx.tap());
        self
    }

    pub fn append(&self, batch: &Batch) -> Result<(), AppendError> {
        if let Some(tap) = &self.tap {
            publish(tap, batch, &[]);
        }
        self.receiver.append(batch)
    }

    pub fn component_id(&self) -> &str {
        &self.component_id
    }

    pub fn to_value(&self) -> Value {
        Value::Capsule(eval::Capsule::new(self.clone()))
    }
}

impl fmt::Debug for ReceiverHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MetricsReceiver({})", self.component_id)
    }
}

impl CapsuleValue for ReceiverHandle {
    fn type_name(&self) -> &str {
        RECEIVER_TYPE
    }

    /// The same receiver object: a re-evaluation that rebuilds nothing is no change.
    fn equals(&self, other: &dyn CapsuleValue) -> bool {
        other.as_any().downcast_ref::<ReceiverHandle>().is_some_and(|o| Arc::ptr_eq(&self.receiver, &o.receiver))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl eval::Decode for ReceiverHandle {
    fn decode(v: &Value) -> Result<Self, eval::ValueError> {
        eval::decode::decode_capsule::<ReceiverHandle>(v, RECEIVER_TYPE)
    }
}

/// A `forward_to` list, replaceable when the component's arguments change.
#[derive(Default)]
pub struct Fanout {
    receivers: RwLock<Arc<Vec<ReceiverHandle>>>,
    /// The sending component's live-debugging tap.
    tap: Option<Tap>,
}

impl Fanout {
    pub fn new(receivers: Vec<ReceiverHandle>) -> Self {
        Fanout { receivers: RwLock::new(Arc::new(receivers)), tap: None }
    }

    /// Publishes what is sent to live debugging under the component's ID.
    pub fn tapped(mut self, ctx: &crate::component::Context) -> Self {
        self.tap = Some(ctx.tap());
        self
    }

    pub fn set(&self, receivers: Vec<ReceiverHandle>) {
        *self.receivers.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(receivers);
    }

    pub fn current(&self) -> Arc<Vec<ReceiverHandle>> {
        self.receivers.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Gives the batch to every receiver, in order; every receiver gets it even when one
    /// refuses, and the first refusal is returned.
    pub fn append(&self, batch: &Batch) -> Result<(), AppendError> {
        if batch.is_empty() {
            return Ok(());
        }
        let receivers = self.current();
        if let Some(tap) = self.tap.as_ref().filter(|t| t.listening()) {
            let targets: Vec<&str> = receivers.iter().map(|r| r.component_id()).collect();
            publish(tap, batch, &targets);
        }
        let mut first = Ok(());
        for r in receivers.iter() {
            if let Err(e) = r.append(batch) {
                if first.is_ok() {
                    first = Err(AppendError(format!("{}: {}", r.component_id(), e.0)));
                }
            }
        }
        first
    }
}

/// A batch as a live-debugging record: its samples (float and histogram), one line each.
fn publish(tap: &Tap, batch: &Batch, targets: &[&str]) {
    // Samples and histograms; metadata or exemplars alone are not items.
    let count = batch.len() as u64;
    if tap.listening() && count > 0 {
        tap.publish(DataType::PrometheusMetric, count, targets, || render(batch));
    }
}

/// `{labels} value timestamp_ms` per sample; histograms show their count and sum.
pub fn render(batch: &Batch) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for s in &batch.samples {
        let _ = writeln!(out, "{} {} {}", s.labels, s.v, s.t);
    }
    for h in &batch.histograms {
        let _ = writeln!(out, "{} histogram{{count={}, sum={}}} {}", h.labels, h.histogram.count, h.histogram.sum, h.t);
    }
    out.pop();
    out
}

impl Appendable for Fanout {
    fn append(&self, batch: &Batch) -> Result<(), AppendError> {
        Fanout::append(self, batch)
    }
}

/// A receiver that keeps what it is given (tests and benchmarks).
#[derive(Default)]
pub struct Collect {
    pub batches: std::sync::Mutex<Vec<Batch>>,
}

impl Collect {
    pub fn handle() -> (Arc<Collect>, ReceiverHandle) {
        let c = Arc::new(Collect::default());
        (c.clone(), ReceiverHandle::new("test.collect", c))
    }

    pub fn take(&self) -> Vec<Batch> {
        std::mem::take(&mut *self.batches.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl Appendable for Collect {
    fn append(&self, batch: &Batch) -> Result<(), AppendError> {
        self.batches.lock().unwrap_or_else(|e| e.into_inner()).push(batch.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use prom::sample::{Sample, SeriesRef};
    use prom::Labels;

    use super::*;
    use crate::livedebugging::{DebugSink, Filter};

    #[test]
    fn a_tapped_fanout_publishes_samples_with_its_receivers_as_targets() {
        let ctx = crate::component::detached_context("prometheus.relabel.r");
        let hub = ctx.live_debugging().clone();
        hub.set_enabled(true);
        let (sink, mut rx) = DebugSink::new("prometheus.relabel.r", Filter::default(), 100);
        let _sub = hub.watch(sink);
        let graph = Arc::new(crate::livedebugging::GraphSink::new(""));
        let _g = hub.watch_graph(graph.clone());
        let (_, handle) = Collect::handle();
        let fan = Fanout::new(vec![handle]).tapped(&ctx);
        let sample = |v: f64, t: i64| Sample { series: SeriesRef(0), labels: Labels::new([("__name__", "up"), ("job", "a")]), t, v };
        fan.append(&Batch { samples: vec![sample(1.0, 1000), sample(0.5, 2000)], ..Default::default() }).expect("appended");
        assert_eq!(rx.try_recv().ok().as_deref(), Some("{__name__=\"up\", job=\"a\"} 1 1000\n{__name__=\"up\", job=\"a\"} 0.5 2000"));
        let rates = graph.take(1);
        assert_eq!((rates[0].rate, rates[0].target_component_ids.clone()), (2.0, vec!["test.collect".to_string()]));
    }
}
