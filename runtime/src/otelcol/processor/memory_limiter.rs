//! `otelcol.processor.memory_limiter`: refuses data while the process uses too much memory.
//!
//! Every `check_interval` the resident set size is compared with the soft limit
//! (`limit - spike_limit`); above it, data is refused with a retryable error so receivers
//! answer "unavailable" and clients back off. Limits are absolute (`limit`, `spike_limit`)
//! or a percentage of the memory available to the process (cgroup limit or total RAM).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use eval::Value;
use tokio_util::sync::CancellationToken;

use crate::component::args::decode_checked;
use crate::component::args::types::{Bytes, Dur};
use crate::component::{Arguments, BoxFuture, Component, ComponentError, Context, Reader, Registration};
use crate::otelcol::consumer::{ConsumeError, ConsumeFuture, Consumer, ConsumerHandle, Fanout, Output};
use crate::otelcol::pdata::Payload;
use crate::otelcol::{log, SignalCounters};

#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    pub check_interval: Duration,
    /// Hard limit in bytes.
    pub limit: u64,
    /// Headroom below the hard limit where refusing starts.
    pub spike: u64,
}

impl Limits {
    pub fn soft_limit(&self) -> u64 {
        self.limit.saturating_sub(self.spike)
    }

    /// Decodes and validates the arguments; `total_memory` resolves percentages.
    pub fn decode(args: &Value, total_memory: impl Fn() -> Option<u64>) -> Result<Limits, ComponentError> {
        let a: Args = crate::component::args::decode_checked(NAME, args)?;
        Limits::resolve(&a, total_memory)
    }

    /// The limits in bytes: percentages of `total_memory`; an absolute spike limit of zero
    /// means a fifth of the limit.
    pub fn resolve(a: &Args, total_memory: impl Fn() -> Option<u64>) -> Result<Limits, ComponentError> {
        let (limit, spike) = if a.limit > 0 {
            (a.limit, if a.spike > 0 { a.spike } else { a.limit / 5 })
        } else {
            let total = total_memory().ok_or_else(|| ComponentError("cannot read the total memory to apply limit_percentage".into()))?;
            (total * a.limit_percentage / 100, total * a.spike_limit_percentage / 100)
        };
        if spike >= limit {
            return Err(ComponentError(format!("spike_limit ({spike} bytes) must be smaller than limit ({limit} bytes)")));
        }
        Ok(Limits { check_interval: a.check_interval, limit, spike })
    }
}

/// The component's arguments.
#[derive(Default)]
pub struct Args {
    pub check_interval: Duration,
    pub limit: u64,
    pub spike: u64,
    pub limit_percentage: u64,
    pub spike_limit_percentage: u64,
    pub output: Output,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&["debug_metrics"]);
        Args {
            check_interval: r.get::<Dur>("check_interval").0,
            limit: r.get::<Bytes>("limit").0,
            // The catalogue's computed default, "20% of limit": zero here, a fifth in `resolve`.
            spike: r.computed::<Bytes>("spike_limit").map_or(0, |b| b.0),
            limit_percentage: r.get("limit_percentage"),
            spike_limit_percentage: r.get("spike_limit_percentage"),
            output: r.block_or_default("output"),
        }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        r.check(!self.check_interval.is_zero(), &["check_interval"], "check_interval must be greater than zero");
        r.check(self.limit > 0 || self.limit_percentage > 0, &["limit", "limit_percentage"], "either limit or limit_percentage must be greater than zero");
        if self.limit > 0 {
            let spike = if self.spike > 0 { self.spike } else { self.limit / 5 };
            r.check(spike < self.limit, &["spike_limit", "limit"], format!("spike_limit ({spike} bytes) must be smaller than limit ({} bytes)", self.limit));
        } else if self.limit_percentage > 0 {
            r.check(
                self.limit_percentage <= 100 && self.spike_limit_percentage <= 100,
                &["limit_percentage", "spike_limit_percentage"],
                "limit_percentage and spike_limit_percentage must be at most 100",
            );
            r.check(
                self.spike_limit_percentage < self.limit_percentage,
                &["spike_limit_percentage", "limit_percentage"],
                "spike_limit_percentage must be smaller than limit_percentage",
            );
        }
    }
}

const NAME: &str = "otelcol.processor.memory_limiter";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["input"], build);

/// Memory available to the process: the cgroup v2 limit if set, else total RAM.
pub fn total_memory() -> Option<u64> {
    if let Some(v) = std::fs::read_to_string("/sys/fs/cgroup/memory.max").ok().and_then(|s| s.trim().parse::<u64>().ok()) {
        return Some(v);
    }
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kb: u64 = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

struct LimiterConsumer {
    id: String,
    next: Fanout,
    refusing: AtomicBool,
    soft_limit: AtomicU64,
    refused: SignalCounters,
}

impl LimiterConsumer {
    /// Applies one memory reading; returns whether data is now refused.
    fn check(&self, used: u64) -> bool {
        let over = used >= self.soft_limit.load(Ordering::Relaxed);
        let was = self.refusing.swap(over, Ordering::Relaxed);
        if over != was {
            let msg = if over { "memory usage is above the soft limit, refusing data" } else { "memory usage back below the soft limit, accepting data" };
            log(&self.id, tracing::Level::WARN, &format!("{msg} (current usage {} MiB)", used >> 20));
        }
        over
    }
}

impl Consumer for LimiterConsumer {
    fn consume(&self, data: Payload) -> ConsumeFuture<'_> {
        Box::pin(async move {
            if self.refusing.load(Ordering::Relaxed) {
                self.refused.add(data.signal(), data.items());
                return Err(ConsumeError::Unavailable("data refused due to high memory usage".into()));
            }
            self.next.consume(data).await
        })
    }
}

pub struct MemoryLimiter {
    consumer: Arc<LimiterConsumer>,
    interval: std::sync::Mutex<Duration>,
}

pub fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    Ok(MemoryLimiter::new(ctx, &args)?)
}

impl MemoryLimiter {
    pub fn new(ctx: Context, args: &Value) -> Result<Arc<MemoryLimiter>, ComponentError> {
        let args: Args = decode_checked(NAME, args)?;
        let limits = Limits::resolve(&args, total_memory)?;
        let output = args.output;
        let consumer = Arc::new(LimiterConsumer {
            id: ctx.id().to_string(),
            next: Fanout::new(output).tapped(&ctx),
            refusing: AtomicBool::new(false),
            soft_limit: AtomicU64::new(limits.soft_limit()),
            refused: SignalCounters::new(&ctx, "otelcol_processor_refused", "Number of items refused by the memory limiter", &[("processor", ctx.id())]),
        });
        crate::otelcol::consumer::publish_input(&ctx, ConsumerHandle::new(ctx.id(), consumer.clone()));
        Ok(Arc::new(MemoryLimiter { consumer, interval: std::sync::Mutex::new(limits.check_interval) }))
    }
}

impl Component for MemoryLimiter {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        let args: Args = decode_checked(NAME, &args)?;
        let limits = Limits::resolve(&args, total_memory)?;
        self.consumer.next.set(args.output);
        self.consumer.soft_limit.store(limits.soft_limit(), Ordering::Relaxed);
        *self.interval.lock().unwrap_or_else(|e| e.into_inner()) = limits.check_interval;
        Ok(())
    }

    fn run(self: Arc<Self>, shutdown: CancellationToken) -> BoxFuture<Result<(), ComponentError>> {
        Box::pin(async move {
            loop {
                if let Some(rss) = crate::process::resident_bytes() {
                    self.consumer.check(rss);
                }
                let interval = *self.interval.lock().unwrap_or_else(|e| e.into_inner());
                tokio::select! {
                    _ = shutdown.cancelled() => return Ok(()),
                    _ = tokio::time::sleep(interval) => {}
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otelcol::consumer::tests::sink_handle;
    use crate::otelcol::pdata::{tests::traces, Signal};
    use eval::Object;

    fn args(pairs: &[(&str, Value)]) -> Value {
        let mut o = Object::new();
        for (k, v) in pairs {
            o.insert(*k, v.clone());
        }
        analyzer::args::with_defaults(NAME, &Value::object(o))
    }

    #[test]
    fn limits_validate_and_default_the_spike_to_a_fifth() {
        let l = Limits::decode(&args(&[("check_interval", Value::string("1s")), ("limit", Value::string("100MiB"))]), || None).unwrap();
        assert_eq!((l.limit, l.spike, l.soft_limit()), (100 << 20, 20 << 20, 80 << 20));
        let p = Limits::decode(
            &args(&[("check_interval", Value::string("1s")), ("limit_percentage", Value::int(50)), ("spike_limit_percentage", Value::int(10))]),
            || Some(1000),
        )
        .unwrap();
        assert_eq!((p.limit, p.spike), (500, 100));
        assert!(Limits::decode(&args(&[("limit", Value::string("1MiB"))]), || None).unwrap_err().0.contains("check_interval"));
        assert!(Limits::decode(&args(&[("check_interval", Value::string("1s"))]), || None).unwrap_err().0.contains("limit_percentage"));
        let spike_too_big = args(&[("check_interval", Value::string("1s")), ("limit", Value::string("10MiB")), ("spike_limit", Value::string("10MiB"))]);
        assert!(Limits::decode(&spike_too_big, || None).is_err());
    }

    #[tokio::test]
    async fn refuses_above_the_soft_limit_and_recovers_below_it() {
        let (sink, handle) = sink_handle();
        let mut out = Object::new();
        out.insert("traces", Value::array(vec![handle.to_value()]));
        let a = args(&[("check_interval", Value::string("1s")), ("limit", Value::string("100MiB")), ("output", Value::object(out))]);
        let m = MemoryLimiter::new(crate::otelcol::detached_context("otelcol.processor.memory_limiter.t"), &a).unwrap();
        let c = &m.consumer;
        assert!(!c.check(79 << 20));
        c.consume(Payload::from_traces(&traces(1, 2))).await.unwrap();
        assert!(c.check(81 << 20));
        let r = c.consume(Payload::from_traces(&traces(1, 3))).await;
        assert!(matches!(r, Err(ConsumeError::Unavailable(_))));
        assert_eq!(c.refused.get(Signal::Traces), 3);
        assert!(!c.check(10 << 20));
        c.consume(Payload::from_traces(&traces(1, 1))).await.unwrap();
        assert_eq!(sink.items(), 3);
    }
}
