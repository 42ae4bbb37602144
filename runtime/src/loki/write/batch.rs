//! A batch of entries for one tenant: streams keyed by their label set, sized as upstream
//! counts (line plus structured metadata bytes), turned into a push request when sent (streams
//! in the order of their label text).

use std::time::Instant;

use loki::push::{format_labels, WireEntry, WireStream};
use loki::Entry;
use prom::Labels;
use rustc_hash::FxHashMap;
use tokio::sync::OwnedSemaphorePermit;

use super::wal::{Ack, Acks};

pub struct Batch {
    streams: FxHashMap<Labels, Vec<WireEntry>>,
    /// The entries' share of the endpoint's queue capacity, released once the batch is sent
    /// or dropped.
    permits: Vec<OwnedSemaphorePermit>,
    /// With the WAL: the records the entries came from, acknowledged once the batch is sent
    /// or dropped (not when it is given up at shutdown: then the WAL sends it again).
    acks: Acks,
    bytes: u64,
    entries: u64,
    created: Instant,
}

/// The bytes an entry counts for in `batch_size`.
pub fn entry_size(e: &Entry) -> u64 {
    (e.line.len() + e.structured_metadata.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>()) as u64
}

impl Batch {
    pub fn new() -> Self {
        Batch { streams: FxHashMap::default(), permits: Vec::new(), acks: Acks::default(), bytes: 0, entries: 0, created: Instant::now() }
    }

    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    pub fn entries(&self) -> u64 {
        self.entries
    }

    pub fn age(&self) -> std::time::Duration {
        self.created.elapsed()
    }

    /// Whether `labels` would open a stream this batch does not have.
    pub fn is_new_stream(&self, labels: &Labels) -> bool {
        !self.streams.contains_key(labels)
    }

    pub fn streams(&self) -> usize {
        self.streams.len()
    }

    pub fn add(&mut self, e: Entry) {
        self.bytes += entry_size(&e);
        self.entries += 1;
        let Entry { labels, timestamp_ns, line, structured_metadata } = e;
        self.streams.entry(labels).or_default().push(WireEntry { timestamp_ns, line, structured_metadata });
    }

    pub fn hold(&mut self, permit: OwnedSemaphorePermit) {
        self.permits.push(permit);
    }

    /// Notes that the entry just added came from the WAL record of `ack`.
    pub fn ack(&mut self, ack: &Ack) {
        self.acks.add(ack, 1);
    }

    /// What the batch holds besides its entries: its capacity permits and WAL acks.
    pub fn take_holds(&mut self) -> (Vec<OwnedSemaphorePermit>, Acks) {
        (std::mem::take(&mut self.permits), std::mem::take(&mut self.acks))
    }

    pub fn into_streams(self) -> Vec<WireStream> {
        let mut streams: Vec<WireStream> =
            self.streams.into_iter().map(|(labels, entries)| WireStream { labels: format_labels(labels.iter()), entries }).collect();
        streams.sort_unstable_by(|a, b| a.labels.cmp(&b.labels));
        streams
    }
}
