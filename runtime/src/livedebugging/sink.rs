//! One debug stream's end of the hub: which records it wants, how many it may take, and the
//! bounded buffer between publishers and the HTTP response.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::DataType;

/// Records a stream buffers between two flushes (upstream's per-connection buffer); more are
/// dropped.
pub const STREAM_BUFFER: usize = 1000;

/// Records per second one stream takes at most (with a burst of as many); the rest are
/// dropped before they are rendered, so a busy pipeline costs a watcher little.
pub const DEFAULT_RATE_LIMIT: u32 = 1000;

/// A record longer than this is cut (a dump of a huge batch would otherwise hold the buffer's
/// memory hostage).
pub const MAX_RECORD_BYTES: usize = 1 << 20;

/// What a stream asks for (`?sampleProb=P&types=a,b`).
#[derive(Clone, Debug, PartialEq)]
pub struct Filter {
    /// Probability that a record is kept, in [0, 1].
    pub sample: f64,
    /// Only these types; every type when `None`.
    pub types: Option<Vec<DataType>>,
}

impl Default for Filter {
    fn default() -> Self {
        Filter { sample: 1.0, types: None }
    }
}

/// A token bucket: `rate` tokens per second, holding at most `rate`.
struct Bucket {
    rate: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.rate);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// A debug stream's listener for one component.
pub struct DebugSink {
    component_id: String,
    filter: Filter,
    tx: mpsc::Sender<Arc<str>>,
    bucket: Mutex<Bucket>,
    /// splitmix64 state for sampling; quality beyond "uniform enough" is not needed.
    rng: AtomicU64,
    overflowed: AtomicU64,
    limited: AtomicU64,
    warned: AtomicBool,
    /// Cancelled when the hub drops the stream (live debugging turned off by a reload).
    closed: CancellationToken,
}

impl DebugSink {
    /// A sink for `component_id` and the receiving end of its buffer.
    pub fn new(component_id: &str, filter: Filter, rate_limit: u32) -> (Arc<DebugSink>, mpsc::Receiver<Arc<str>>) {
        let (tx, rx) = mpsc::channel(STREAM_BUFFER);
        let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
        let sink = DebugSink {
            component_id: component_id.to_string(),
            filter,
            tx,
            bucket: Mutex::new(Bucket { rate: f64::from(rate_limit), tokens: f64::from(rate_limit), last: Instant::now() }),
            rng: AtomicU64::new(seed),
            overflowed: AtomicU64::new(0),
            limited: AtomicU64::new(0),
            warned: AtomicBool::new(false),
            closed: CancellationToken::new(),
        };
        (Arc::new(sink), rx)
    }

    pub fn component_id(&self) -> &str {
        &self.component_id
    }

    /// Whether records of this component and type are for this stream.
    pub(super) fn wants(&self, component_id: &str, ty: DataType) -> bool {
        component_id == self.component_id && self.filter.types.as_ref().is_none_or(|t| t.contains(&ty))
    }

    /// Sampling, then the rate limit: whether the next record is taken (and worth rendering).
    pub(super) fn admit(&self) -> bool {
        self.admit_at(Instant::now())
    }

    fn admit_at(&self, now: Instant) -> bool {
        if !self.sampled() {
            return false;
        }
        if self.bucket.lock().unwrap_or_else(|e| e.into_inner()).take(now) {
            return true;
        }
        self.limited.fetch_add(1, Ordering::Relaxed);
        false
    }

    fn sampled(&self) -> bool {
        let p = self.filter.sample;
        if p >= 1.0 {
            return true;
        }
        if p <= 0.0 || p.is_nan() {
            return false;
        }
        let mut z = self.rng.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed).wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        // The top 53 bits as a float in [0, 1).
        ((z >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    /// Buffers a record; a full buffer drops it, with one warning per stream.
    pub(super) fn deliver(&self, record: Arc<str>) {
        if let Err(mpsc::error::TrySendError::Full(_)) = self.tx.try_send(record) {
            self.overflowed.fetch_add(1, Ordering::Relaxed);
            if !self.warned.swap(true, Ordering::Relaxed) {
                tracing::warn!(component_id = %self.component_id, "live debugging stream buffer is full; dropping records until the client catches up");
            }
        }
    }

    /// Records dropped so far: (buffer full, over the rate limit).
    pub fn dropped(&self) -> (u64, u64) {
        (self.overflowed.load(Ordering::Relaxed), self.limited.load(Ordering::Relaxed))
    }

    /// Resolves when the hub has dropped this stream.
    pub async fn closed(&self) {
        self.closed.cancelled().await
    }

    pub(super) fn close(&self) {
        self.closed.cancel();
    }

    pub fn is_closed(&self) -> bool {
        self.closed.is_cancelled()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn sampling_keeps_about_the_asked_share() {
        let (all, _) = DebugSink::new("a", Filter::default(), u32::MAX);
        assert!((0..100).all(|_| all.sampled()));
        let (none, _) = DebugSink::new("a", Filter { sample: 0.0, types: None }, u32::MAX);
        assert!((0..100).all(|_| !none.sampled()));
        let (some, _) = DebugSink::new("a", Filter { sample: 0.25, types: None }, u32::MAX);
        let kept = (0..10_000).filter(|_| some.sampled()).count();
        assert!((2_000..3_000).contains(&kept), "{kept} of 10000 at 0.25");
    }

    #[test]
    fn the_rate_limit_takes_a_burst_then_refills_with_time() {
        let (s, _) = DebugSink::new("a", Filter::default(), 10);
        let t0 = Instant::now();
        let first: usize = (0..25).filter(|_| s.admit_at(t0)).count();
        assert_eq!(first, 10, "a burst of one second's worth");
        assert_eq!(s.dropped().1, 15);
        let later = t0 + Duration::from_millis(500);
        assert_eq!((0..25).filter(|_| s.admit_at(later)).count(), 5, "half a second refills half");
    }

    #[test]
    fn a_full_buffer_drops_and_counts() {
        let (s, mut rx) = DebugSink::new("a", Filter::default(), u32::MAX);
        for i in 0..STREAM_BUFFER + 5 {
            s.deliver(Arc::from(i.to_string()));
        }
        assert_eq!(s.dropped().0, 5);
        assert_eq!(rx.try_recv().ok().as_deref(), Some("0"), "the oldest records are kept");
    }

    #[test]
    fn types_filter_records() {
        let (s, _) = DebugSink::new("a", Filter { sample: 1.0, types: Some(vec![DataType::OtelLog]) }, 1);
        assert!(s.wants("a", DataType::OtelLog));
        assert!(!s.wants("a", DataType::OtelTrace));
        assert!(!s.wants("b", DataType::OtelLog));
    }
}
