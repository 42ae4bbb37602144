//! A batch of entries for one tenant: streams keyed by their label text, sized as upstream
//! counts (line plus structured metadata bytes), turned into a push request when sent.

use std::collections::BTreeMap;
use std::time::Instant;

use loki::push::{format_labels, WireEntry, WireStream};
use loki::Entry;

pub struct Batch {
    streams: BTreeMap<String, Vec<WireEntry>>,
    /// The entries' share of the endpoint's queue capacity, released with the batch.
    permits: Vec<tokio::sync::OwnedSemaphorePermit>,
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
        Batch { streams: BTreeMap::new(), permits: Vec::new(), bytes: 0, entries: 0, created: Instant::now() }
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
    pub fn is_new_stream(&self, labels: &str) -> bool {
        !self.streams.contains_key(labels)
    }

    pub fn streams(&self) -> usize {
        self.streams.len()
    }

    pub fn add(&mut self, labels: String, e: &Entry) {
        self.bytes += entry_size(e);
        self.entries += 1;
        self.streams.entry(labels).or_default().push(WireEntry {
            timestamp_ns: e.timestamp_ns,
            line: e.line.clone(),
            structured_metadata: e.structured_metadata.clone(),
        });
    }

    pub fn hold(&mut self, permit: tokio::sync::OwnedSemaphorePermit) {
        self.permits.push(permit);
    }

    pub fn into_streams(self) -> Vec<WireStream> {
        self.streams.into_iter().map(|(labels, entries)| WireStream { labels, entries }).collect()
    }
}

/// The stream key of an entry: its labels as text.
pub fn stream_key(e: &Entry) -> String {
    format_labels(e.labels.iter())
}
