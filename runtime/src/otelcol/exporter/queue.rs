//! `sending_queue`: a bounded in-memory queue between the pipeline and the senders.
//!
//! A full queue refuses new data (the caller gets a retryable error and the refusal is
//! counted as `otelcol_exporter_enqueue_failed_*`); nothing already queued is evicted.

use std::collections::VecDeque;
use std::sync::Mutex;

use eval::decode::StructDecoder;
use eval::Value;
use tokio::sync::Notify;

use crate::component::ComponentError;
use crate::metrics::Gauge;
use crate::otelcol::pdata::Payload;

/// What the queue's capacity counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sizer {
    Requests,
    Items,
    Bytes,
}

impl Sizer {
    fn size_of(self, p: &Payload) -> usize {
        match self {
            Sizer::Requests => 1,
            Sizer::Items => p.items(),
            Sizer::Bytes => p.bytes().len(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct QueueConfig {
    pub enabled: bool,
    pub num_consumers: usize,
    pub queue_size: usize,
    pub sizer: Sizer,
    pub block_on_overflow: bool,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig { enabled: true, num_consumers: 10, queue_size: 1000, sizer: Sizer::Requests, block_on_overflow: false }
    }
}

impl QueueConfig {
    /// Decodes the block; absent means the defaults (queue on).
    pub fn decode(v: Option<&Value>) -> Result<QueueConfig, ComponentError> {
        let def = QueueConfig::default();
        let Some(v) = v else { return Ok(def) };
        let mut d = StructDecoder::new(v)?;
        let sizer = match d.optional::<String>("sizer")?.as_deref() {
            None | Some("requests") => Sizer::Requests,
            Some("items") => Sizer::Items,
            Some("bytes") => Sizer::Bytes,
            Some(other) => return Err(ComponentError(format!("invalid sending_queue sizer {other:?}: expected \"requests\", \"items\" or \"bytes\""))),
        };
        let c = QueueConfig {
            enabled: d.optional("enabled")?.unwrap_or(def.enabled),
            num_consumers: d.optional("num_consumers")?.unwrap_or(def.num_consumers),
            queue_size: d.optional("queue_size")?.unwrap_or(def.queue_size),
            sizer,
            block_on_overflow: d.optional("block_on_overflow")?.unwrap_or(def.block_on_overflow),
        };
        if c.enabled && c.queue_size == 0 {
            return Err(ComponentError("sending_queue: queue_size must be positive".into()));
        }
        if c.enabled && c.num_consumers == 0 {
            return Err(ComponentError("sending_queue: num_consumers must be positive".into()));
        }
        Ok(c)
    }
}

struct State {
    items: VecDeque<Payload>,
    used: usize,
    closed: bool,
}

pub struct Queue {
    capacity: usize,
    sizer: Sizer,
    state: Mutex<State>,
    /// Wakes consumers when data arrives or the queue closes.
    readable: Notify,
    /// Wakes blocked producers when room frees up.
    writable: Notify,
    size_gauge: Gauge,
}

impl Queue {
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

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues the payload, or hands it back when there is no room (or the queue closed).
    pub fn try_push(&self, p: Payload) -> Result<(), Payload> {
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
    pub async fn push_blocking(&self, mut p: Payload) -> Result<(), Payload> {
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
    pub async fn pop(&self) -> Option<Payload> {
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
    pub fn take_all(&self) -> Vec<Payload> {
        let mut st = self.lock();
        st.used = 0;
        self.size_gauge.set(0.0);
        st.items.drain(..).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otelcol::pdata::tests::traces;

    #[tokio::test]
    async fn refuses_when_full_and_drains_after_close() {
        let g = Gauge::default();
        let q = Queue::new(2, Sizer::Requests, g.clone());
        let p = Payload::from_traces(&traces(1, 1));
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
    fn item_sizer_counts_items_and_admits_one_oversized_payload() {
        let q = Queue::new(5, Sizer::Items, Gauge::default());
        q.try_push(Payload::from_traces(&traces(1, 8))).unwrap();
        assert!(q.try_push(Payload::from_traces(&traces(1, 1))).is_err());
    }
}
