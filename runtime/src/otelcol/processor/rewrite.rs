//! The plumbing shared by processors that rewrite each payload on its own (no timers, no
//! buffering): export `input`, apply the current rules to each payload, pass the result to
//! `output`, swap the rules on update. A payload that does not decode is refused as
//! permanently invalid and counted.

use std::sync::{Arc, RwLock};

use eval::Value;

use crate::component::args::decode_checked;
use crate::component::{Arguments, Component, ComponentError, Context};
use crate::otelcol::consumer::{ConsumeError, ConsumeFuture, Consumer, ConsumerHandle, Fanout, Output};
use crate::otelcol::pdata::{Payload, PdataError};
use crate::otelcol::SignalCounters;

/// One processor's rules.
pub trait Transform: Send + Sync + 'static {
    /// What to pass on; `None` when nothing is left of the payload.
    fn process(&self, data: Payload) -> Result<Option<Payload>, ConsumeError>;
}

/// A processor's arguments: its name, and how they become rules plus an output.
pub trait ProcessorArgs: Arguments + Send + 'static {
    const NAME: &'static str;

    fn into_parts(self, ctx: &Context) -> Result<(Arc<dyn Transform>, Output), ComponentError>;
}

/// A payload that does not decode: refused for good.
pub fn invalid(e: PdataError) -> ConsumeError {
    ConsumeError::Permanent(e.to_string())
}

struct TransformConsumer {
    transform: RwLock<Arc<dyn Transform>>,
    next: Fanout,
    invalid: SignalCounters,
}

impl Consumer for TransformConsumer {
    fn consume(&self, data: Payload) -> ConsumeFuture<'_> {
        Box::pin(async move {
            let transform = self.transform.read().unwrap_or_else(|e| e.into_inner()).clone();
            let (signal, n) = (data.signal(), data.items());
            match transform.process(data).inspect_err(|_| self.invalid.add(signal, n))? {
                Some(out) => self.next.consume(out).await,
                None => Ok(()),
            }
        })
    }
}

struct TransformProcessor<A> {
    ctx: Context,
    consumer: Arc<TransformConsumer>,
    _args: std::marker::PhantomData<fn() -> A>,
}

/// The `build` of a [`crate::component::Registration`] for a rewriting processor.
pub fn build<A: ProcessorArgs>(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    let (transform, output) = decode_checked::<A>(A::NAME, &args)?.into_parts(&ctx)?;
    let short = A::NAME.rsplit('.').next().unwrap_or(A::NAME);
    let consumer = Arc::new(TransformConsumer {
        transform: RwLock::new(transform),
        next: Fanout::new(output).tapped(&ctx),
        invalid: SignalCounters::new(
            &ctx,
            &format!("otelcol_processor_{short}_invalid"),
            "Items refused because their payload did not decode",
            &[("processor", ctx.id())],
        ),
    });
    crate::otelcol::consumer::publish_input(&ctx, ConsumerHandle::new(ctx.id(), consumer.clone()));
    Ok(Arc::new(TransformProcessor::<A> { ctx, consumer, _args: std::marker::PhantomData }))
}

impl<A: ProcessorArgs> Component for TransformProcessor<A> {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        let (transform, output) = decode_checked::<A>(A::NAME, &args)?.into_parts(&self.ctx)?;
        self.consumer.next.set(output);
        *self.consumer.transform.write().unwrap_or_else(|e| e.into_inner()) = transform;
        Ok(())
    }
}

/// The rules an Alloy text gives a processor, or the decoding errors (unit tests).
#[cfg(test)]
pub fn rules_of<A: ProcessorArgs>(src: &str) -> Result<Arc<dyn Transform>, String> {
    let v = crate::component::args::evaluated(src)?;
    let args = decode_checked::<A>(A::NAME, &v).map_err(|e| e.0)?;
    args.into_parts(&crate::component::detached_context("test")).map(|(t, _)| t).map_err(|e| e.0)
}
