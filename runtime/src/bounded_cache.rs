//! A map bounded by its number of entries, for the relabel components' per-series caches.
//!
//! When an insert takes it past its bound it drops a random tenth at once, rather than the
//! least recently used entries: a scrape (or a tailed file) visits its series in the same
//! order every time, so when more series cycle through than fit, LRU evicts each entry just
//! before it is asked for and never hits, while random eviction keeps a share of them. A bound
//! of 0 means unbounded.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash};

use rustc_hash::FxHasher;

pub struct BoundedCache<K, V> {
    entries: HashMap<K, V, BuildHasherDefault<FxHasher>>,
    /// xorshift state for picking what to evict.
    rng: u64,
}

impl<K, V> Default for BoundedCache<K, V> {
    fn default() -> Self {
        BoundedCache { entries: HashMap::default(), rng: 0x9e37_79b9_7f4a_7c15 }
    }
}

impl<K: Hash + Eq, V> BoundedCache<K, V> {
    pub fn get(&self, key: &K) -> Option<&V> {
        self.entries.get(key)
    }

    /// Inserts, then evicts if the cache now holds more than `max` entries.
    pub fn insert(&mut self, key: K, value: V, max: usize) {
        self.entries.insert(key, value);
        self.evict(max);
    }

    pub fn remove(&mut self, key: &K) -> Option<V> {
        self.entries.remove(key)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn evict(&mut self, max: usize) {
        while max > 0 && self.entries.len() > max {
            let len = self.entries.len();
            let target = (len - max).max(max / 10).max(1);
            // Drop each entry with probability target/len (in 1/65536ths).
            let threshold = ((target as u64) << 16) / len as u64;
            let rng = &mut self.rng;
            self.entries.retain(|_, _| {
                *rng ^= *rng << 13;
                *rng ^= *rng >> 7;
                *rng ^= *rng << 17;
                (*rng & 0xffff) >= threshold
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_within_its_bound_and_zero_is_unbounded() {
        let mut c = BoundedCache::default();
        for i in 0..1000u32 {
            c.insert(i, i, 100);
            assert!(c.len() <= 100);
        }
        let mut u = BoundedCache::default();
        for i in 0..1000u32 {
            u.insert(i, i, 0);
        }
        assert_eq!(u.len(), 1000);
    }

    #[test]
    fn a_cycle_longer_than_the_bound_still_hits() {
        let mut c = BoundedCache::default();
        let mut hits = 0;
        for _ in 0..20 {
            for i in 0..200u32 {
                if c.get(&i).is_some() {
                    hits += 1;
                } else {
                    c.insert(i, (), 100);
                }
            }
        }
        // LRU would never hit here; random eviction keeps a share.
        assert!(hits > 20 * 200 / 10, "{hits} hits");
    }
}
