//! `sending_queue`: a bounded in-memory queue between a pipeline and its senders, for any
//! request type that counts its items and bytes ([`QueueItem`]).
//!
//! A full queue refuses new data (the caller gets a retryable error and the refusal is
//! counted as `otelcol_exporter_enqueue_failed_*`); nothing already queued is evicted.

use std::collections::VecDeque;
use std::sync::Mutex;

use eval::Value;
use tokio::sync::Notify;

use crate::component::{Arguments, Reader};
use crate::metrics::Gauge;

/// What the queue's capacity counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sizer {
    #[default]
    Requests,
    Items,
    Bytes,
}

/// What a queue holds: a request that knows how many items and bytes it carries.
pub trait QueueItem: Send + 'static {
    fn items(&self) -> usize;
    fn bytes(&self) -> usize;
}

impl Sizer {
    fn size_of<T: QueueItem>(self, p: &T) -> usize {
        match self {
            Sizer::Requests => 1,
            Sizer::Items => p.items(),
            Sizer::Bytes => p.bytes(),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueueConfig {
    pub enabled: bool,
    pub num_consumers: usize,
    pub queue_size: usize,
    pub sizer: Sizer,
    pub block_on_overflow: bool,
    /// Where queued requests are kept across restarts (`otelcol.storage.file`).
    pub storage: Option<super::storage::StorageDir>,
}

impl eval::Decode for Sizer {
    fn decode(v: &Value) -> Result<Self, eval::ValueError> {
        match String::decode(v)?.as_str() {
            "requests" => Ok(Sizer::Requests),
            "items" => Ok(Sizer::Items),
            "bytes" => Ok(Sizer::Bytes),
            other => Err(eval::ValueError::message(format!("invalid sizer {other:?}: expected \"requests\", \"items\" or \"bytes\""))),
        }
    }
}

/// The `sending_queue` block.
impl Arguments for QueueConfig {
    fn decode(r: &mut Reader<'_>) -> Self {
        // Batching in the queue is not built.
        r.unsupported(&["wait_for_result", "batch"]);
        QueueConfig {
            storage: if r.has("storage") { r.opt("storage") } else { None },
            enabled: r.get("enabled"),
            num_consumers: r.get("num_consumers"),
            queue_size: r.get("queue_size"),
            sizer: r.get("sizer"),
            block_on_overflow: r.get("block_on_overflow"),
        }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        r.check(!self.enabled || self.queue_size > 0, &["queue_size"], "queue_size must be positive");
        r.check(!self.enabled || self.num_consumers > 0, &["num_consumers"], "num_consumers must be positive");
    }
}

struct State<T> {
    items: VecDeque<T>,
    used: usize,
    closed: bool,
}

pub struct Queue<T> {
    capacity: usize,
    sizer: Sizer,
    state: Mutex<State<T>>,
    /// Wakes consumers when data arrives or the queue closes.
    readable: Notify,
    /// Wakes blocked producers when room frees up.
    writable: Notify,
    size_gauge: Gauge,
}

impl<T: QueueItem> Queue<T> {
    pub fn new(capacity: usize, sizer: Sizer, size_gauge: Gauge) -> Self {
        Queue {
            capacity,
            sizer,
            state: Mutex::new(State { items: VecDeque::new(), used: 0, closed: false }),
            readable: Notify::new(),
            writable: Notify::new(),
            size_gauge,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues the payload, or hands it back when there is no room (or the queue closed).
    pub fn try_push(&self, p: T) -> Result<(), T> {
        let size = self.sizer.size_of(&p);
        let mut st = self.lock();
        // One oversized element may enter an empty queue, or it could never be sent.
        if st.closed || (st.used + size > self.capacity && !st.items.is_empty()) {
            return Err(p);
        }
        st.used += size;
        st.items.push_back(p);
        self.size_gauge.set(st.used as f64);
        drop(st);
        self.readable.notify_one();
        Ok(())
    }

    /// Waits for room (block_on_overflow), handing the payload back if the queue closes.
    pub async fn push_blocking(&self, mut p: T) -> Result<(), T> {
        loop {
            let notified = self.writable.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.try_push(p) {
                Ok(()) => return Ok(()),
                Err(back) if self.lock().closed => return Err(back),
                Err(back) => p = back,
            }
            notified.await;
        }
    }

    /// The next payload; `None` once the queue is closed and empty.
    pub async fn pop(&self) -> Option<T> {
        loop {
            let notified = self.readable.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut st = self.lock();
                if let Some(p) = st.items.pop_front() {
                    st.used -= self.sizer.size_of(&p);
                    self.size_gauge.set(st.used as f64);
                    drop(st);
                    self.writable.notify_one();
                    return Some(p);
                }
                if st.closed {
                    return None;
                }
            }
            notified.await;
        }
    }

    /// Stops accepting data; consumers drain what is left.
    pub fn close(&self) {
        self.lock().closed = true;
        self.readable.notify_waiters();
        self.writable.notify_waiters();
    }

    /// Removes everything still queued (after the drain deadline).
    pub fn take_all(&self) -> Vec<T> {
        let mut st = self.lock();
        st.used = 0;
        self.size_gauge.set(0.0);
        st.items.drain(..).collect()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A request of `.0` items.
    #[derive(Clone, Debug)]
    struct Req(usize);

    impl QueueItem for Req {
        fn items(&self) -> usize {
            self.0
        }

        fn bytes(&self) -> usize {
            self.0 * 10
        }
    }

    /// The block's catalogue defaults.
    pub(crate) fn defaults() -> QueueConfig {
        crate::component::args::block_defaults("otelcol.exporter.otlp", &["sending_queue"]).unwrap()
    }

    #[tokio::test]
    async fn refuses_when_full_and_drains_after_close() {
        let g = Gauge::default();
        let q = Queue::new(2, Sizer::Requests, g.clone());
        let p = Req(1);
        q.try_push(p.clone()).unwrap();
        q.try_push(p.clone()).unwrap();
        assert!(q.try_push(p.clone()).is_err());
        assert_eq!(g.get(), 2.0);
        assert!(q.pop().await.is_some());
        q.try_push(p.clone()).unwrap();
        q.close();
        assert!(q.try_push(p).is_err());
        assert!(q.pop().await.is_some());
        assert!(q.pop().await.is_some());
        assert!(q.pop().await.is_none());
        assert_eq!(g.get(), 0.0);
    }

    #[test]
    fn sizers_count_items_or_bytes_and_admit_one_oversized_request() {
        let q = Queue::new(5, Sizer::Items, Gauge::default());
        q.try_push(Req(8)).unwrap();
        assert!(q.try_push(Req(1)).is_err());
        let by_bytes = Queue::new(25, Sizer::Bytes, Gauge::default());
        by_bytes.try_push(Req(2)).unwrap();
        assert!(by_bytes.try_push(Req(1)).is_err(), "20 + 10 bytes exceed 25");
    }
}
