//! The `otelcol.Consumer` capsule: how components hand telemetry to each other.
//!
//! Processors and exporters export `input`, a [`ConsumerHandle`]; receivers and processors
//! list handles in their `output` block and send through a [`Fanout`]. A consumer's answer
//! tells the sender what to do with refused data: [`ConsumeError::Permanent`] data is bad and
//! must not be retried; [`ConsumeError::Unavailable`] data may be retried later (queue full,
//! memory limit, downstream down). Receivers turn those into gRPC/HTTP statuses.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};

use eval::{CapsuleValue, Value};

use super::pdata::{Payload, Signal};
use crate::livedebugging::{DataType, Tap};

pub type ConsumeFuture<'a> = Pin<Box<dyn Future<Output = Result<(), ConsumeError>> + Send + 'a>>;

/// Why a consumer did not take the data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsumeError {
    /// The data is invalid; retrying cannot help.
    #[error("{0}")]
    Permanent(String),
    /// Try again later: the pipeline is full or a downstream is unavailable.
    #[error("{0}")]
    Unavailable(String),
}

impl ConsumeError {
    pub fn is_permanent(&self) -> bool {
        matches!(self, ConsumeError::Permanent(_))
    }
}

/// Something that accepts telemetry.
pub trait Consumer: Send + Sync + 'static {
    fn consume(&self, data: Payload) -> ConsumeFuture<'_>;
}

/// The capsule value: a shared consumer plus the ID of the component that owns it.
#[derive(Clone)]
pub struct ConsumerHandle {
    component_id: Arc<str>,
    consumer: Arc<dyn Consumer>,
    /// Where data ends (exporters): what it takes is published to live debugging.
    tap: Option<Tap>,
}

pub const CONSUMER_TYPE: &str = "otelcol.Consumer";

impl ConsumerHandle {
    pub fn new(component_id: &str, consumer: Arc<dyn Consumer>) -> Self {
        ConsumerHandle { component_id: component_id.into(), consumer, tap: None }
    }

    /// A handle of a component where data ends (an exporter): what it is given is published
    /// to live debugging, with no targets.
    pub fn tapped(mut self, ctx: &crate::component::Context) -> Self {
        self.tap = Some(ctx.tap());
        self
    }

    pub fn consume(&self, data: Payload) -> ConsumeFuture<'_> {
        if let Some(tap) = &self.tap {
            publish(tap, &data, &[]);
        }
        self.consumer.consume(data)
    }

    pub fn component_id(&self) -> &str {
        &self.component_id
    }

    pub fn to_value(&self) -> Value {
        Value::Capsule(eval::Capsule::new(self.clone()))
    }
}

impl fmt::Debug for ConsumerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "otelcol.Consumer({})", self.component_id)
    }
}

impl CapsuleValue for ConsumerHandle {
    fn type_name(&self) -> &str {
        CONSUMER_TYPE
    }

    /// The same consumer object: a re-evaluation that rebuilds nothing is no change.
    fn equals(&self, other: &dyn CapsuleValue) -> bool {
        other.as_any().downcast_ref::<ConsumerHandle>().is_some_and(|o| Arc::ptr_eq(&self.consumer, &o.consumer))
    }

    fn owner(&self) -> Option<&str> {
        Some(&self.component_id)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// The decoded `output` block: consumers per signal.
#[derive(Clone, Debug, Default)]
pub struct Output {
    pub traces: Vec<ConsumerHandle>,
    pub metrics: Vec<ConsumerHandle>,
    pub logs: Vec<ConsumerHandle>,
}

impl Output {
    /// Decodes `output { traces = [...] metrics = [...] logs = [...] }`.
    pub fn for_signal(&self, signal: Signal) -> &[ConsumerHandle] {
        match signal {
            Signal::Traces => &self.traces,
            Signal::Metrics => &self.metrics,
            Signal::Logs => &self.logs,
        }
    }
}

/// Sends to every consumer of a signal; replaceable when the component's arguments change.
#[derive(Default)]
pub struct Fanout {
    output: RwLock<Arc<Output>>,
    /// The sending component's live-debugging tap.
    tap: Option<Tap>,
}

impl Fanout {
    pub fn new(output: Output) -> Self {
        Fanout { output: RwLock::new(Arc::new(output)), tap: None }
    }

    /// Publishes what is sent to live debugging under the component's ID.
    pub fn tapped(mut self, ctx: &crate::component::Context) -> Self {
        self.tap = Some(ctx.tap());
        self
    }

    pub fn set(&self, output: Output) {
        *self.output.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(output);
    }

    pub fn current(&self) -> Arc<Output> {
        self.output.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Delivers to all consumers of the payload's signal. With no consumer the data has
    /// nowhere to go and is dropped, as upstream does; the first refusal is returned (a
    /// permanent one in preference, since retrying would duplicate data the others took).
    pub async fn consume(&self, data: Payload) -> Result<(), ConsumeError> {
        let output = self.current();
        let consumers = output.for_signal(data.signal());
        if let Some(tap) = self.tap.as_ref().filter(|t| t.listening()) {
            let targets: Vec<&str> = consumers.iter().map(|c| c.component_id()).collect();
            publish(tap, &data, &targets);
        }
        match consumers {
            [] => Ok(()),
            [one] => one.consume(data).await,
            many => {
                let results = futures_util::future::join_all(many.iter().map(|c| c.consume(data.clone()))).await;
                let mut first: Option<ConsumeError> = None;
                for e in results.into_iter().filter_map(Result::err) {
                    if first.as_ref().is_none_or(|f| !f.is_permanent() && e.is_permanent()) {
                        first = Some(e);
                    }
                }
                first.map_or(Ok(()), Err)
            }
        }
    }
}

/// A payload as a live-debugging record: the count of spans, data points or log records,
/// and the debug exporter's detailed dump, rendered only if a stream takes it.
fn publish(tap: &Tap, data: &Payload, targets: &[&str]) {
    if !tap.listening() {
        return;
    }
    let ty = match data.signal() {
        Signal::Traces => DataType::OtelTrace,
        Signal::Metrics => DataType::OtelMetric,
        Signal::Logs => DataType::OtelLog,
    };
    tap.publish(ty, data.items() as u64, targets, || match super::exporter::debug::render(data, super::exporter::debug::Verbosity::Detailed) {
        Ok((summary, text)) => format!("{summary}\n{text}"),
        Err(e) => format!("undecodable payload: {e}"),
    });
}

impl eval::Decode for ConsumerHandle {
    fn decode(v: &Value) -> Result<Self, eval::ValueError> {
        eval::decode::decode_capsule::<ConsumerHandle>(v, CONSUMER_TYPE)
    }
}

/// Publishes `input` as the component's only export, `input`, as every processor, exporter and
/// connector does.
pub fn publish_input(ctx: &crate::component::Context, input: ConsumerHandle) {
    let mut exports = eval::Object::ordered();
    exports.insert("input", input.to_value());
    ctx.set_exports(Value::object(exports));
}

/// The `output` block: where a component sends each signal.
impl crate::component::Arguments for Output {
    fn decode(r: &mut crate::component::Reader<'_>) -> Self {
        Output { traces: r.get("traces"), metrics: r.get("metrics"), logs: r.get("logs") }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Records everything it receives; optionally refuses.
    #[derive(Default)]
    pub struct Sink {
        pub received: Mutex<Vec<Payload>>,
        pub refuse: Mutex<Option<ConsumeError>>,
    }

    impl Sink {
        pub fn items(&self) -> usize {
            self.received.lock().unwrap().iter().map(Payload::items).sum()
        }
    }

    impl Consumer for Sink {
        fn consume(&self, data: Payload) -> ConsumeFuture<'_> {
            Box::pin(async move {
                if let Some(e) = self.refuse.lock().unwrap().clone() {
                    return Err(e);
                }
                self.received.lock().unwrap().push(data);
                Ok(())
            })
        }
    }

    pub fn sink_handle() -> (Arc<Sink>, ConsumerHandle) {
        let sink = Arc::new(Sink::default());
        (sink.clone(), ConsumerHandle::new("test.sink", sink))
    }

    #[test]
    fn output_block_decodes_consumer_lists_and_capsules_compare_by_identity() {
        let (_, a) = sink_handle();
        let (_, b) = sink_handle();
        let mut o = eval::Object::new();
        o.insert("traces", Value::array(vec![a.to_value(), b.to_value()]));
        let out = crate::component::args::decode_value::<Output>(&Value::object(o)).unwrap();
        assert_eq!(out.traces.len(), 2);
        assert!(out.metrics.is_empty());
        assert!(a.equals(&out.traces[0]));
        assert!(!a.equals(&out.traces[1]));

        let mut bad = eval::Object::new();
        bad.insert("logs", Value::array(vec![Value::string("x")]));
        assert!(crate::component::args::decode_value::<Output>(&Value::object(bad)).is_err());
    }

    #[tokio::test]
    async fn fanout_delivers_to_all_and_reports_refusals() {
        let (s1, a) = sink_handle();
        let (s2, b) = sink_handle();
        let f = Fanout::new(Output { traces: vec![a, b], ..Default::default() });
        let p = Payload::from_traces(&crate::otelcol::pdata::tests::traces(1, 3));
        f.consume(p.clone()).await.unwrap();
        assert_eq!((s1.items(), s2.items()), (3, 3));
        *s2.refuse.lock().unwrap() = Some(ConsumeError::Unavailable("full".into()));
        assert_eq!(f.consume(p).await, Err(ConsumeError::Unavailable("full".into())));
    }
}
