//! A scrape loop's series cache (upstream's scrape cache): the exposition's series text →
//! the final label set and series ref, so a known series costs one hash lookup and no label
//! parsing. It also remembers which series the last successful scrape had, for staleness.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use prom::labels::Labels;
use prom::sample::SeriesRef;
use rustc_hash::FxHasher;

pub type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

#[derive(Clone, Debug)]
pub struct Entry {
    /// `None`: the series is dropped (its labels are invalid or relabelled away).
    pub series: Option<(SeriesRef, Labels)>,
    /// The scrape (iteration) that last saw it.
    pub seen: u64,
    /// The scrape that first saw it.
    pub first_seen: u64,
    /// It carried its own timestamp: no stale marker unless `track_timestamps_staleness`.
    pub explicit_timestamp: bool,
}

#[derive(Default)]
pub struct SeriesCache {
    entries: FxMap<Box<[u8]>, Entry>,
    iteration: u64,
}

/// A series the last scrape had and this one lacks.
pub struct Gone {
    pub series: SeriesRef,
    pub labels: Labels,
    pub explicit_timestamp: bool,
}

impl SeriesCache {
    /// Starts a scrape; returns its iteration number.
    pub fn begin(&mut self) -> u64 {
        self.iteration += 1;
        self.iteration
    }

    /// Loads every entry's key and labels ahead of a scrape, which looks each of them up in
    /// turn: a sequential pass whose loads overlap (see `prom::labels::warm`).
    pub fn warm(&self) {
        let mut acc = 0u8;
        for (k, e) in &self.entries {
            acc ^= k.first().copied().unwrap_or(0) ^ k.last().copied().unwrap_or(0);
            if let Some((_, l)) = &e.series {
                acc ^= l.touch();
            }
        }
        std::hint::black_box(acc);
    }

    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut Entry> {
        self.entries.get_mut(key)
    }

    pub fn insert(&mut self, key: &[u8], entry: Entry) {
        self.entries.insert(key.into(), entry);
    }

    /// After a successful scrape: forgets every series it did not see and returns them.
    pub fn finish(&mut self) -> Vec<Gone> {
        let now = self.iteration;
        let mut gone = Vec::new();
        self.entries.retain(|_, e| {
            if e.seen == now {
                return true;
            }
            if let Some((series, labels)) = e.series.take() {
                gone.push(Gone { series, labels, explicit_timestamp: e.explicit_timestamp });
            }
            false
        });
        gone
    }

    /// After a failed scrape: forgets everything the last scrape had and returns it.
    pub fn fail(&mut self) -> Vec<Gone> {
        let now = self.iteration;
        let gone = self
            .entries
            .drain()
            // A series first seen by the failed scrape was never sent.
            .filter(|(_, e)| e.first_seen != now)
            .filter_map(|(_, e)| e.series.map(|(series, labels)| Gone { series, labels, explicit_timestamp: e.explicit_timestamp }))
            .collect();
        gone
    }

    /// Every series the cache holds (at the end of a loop).
    pub fn all(&mut self) -> Vec<Gone> {
        self.entries.drain().filter_map(|(_, e)| e.series.map(|(series, labels)| Gone { series, labels, explicit_timestamp: e.explicit_timestamp })).collect()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
