//! A map that forgets its least recently used entries beyond a bound, as the caches of
//! upstream's connectors do (`golang-lru`). Each entry carries the tick of its last use;
//! eviction scans for the oldest, which is cheap at the bounds these caches have (about a
//! thousand) and happens only when a new key arrives at a full cache.

use std::collections::HashMap;
use std::hash::Hash;

pub struct Lru<K, V> {
    entries: HashMap<K, (V, u64)>,
    tick: u64,
    /// 0: unbounded.
    max: usize,
}

impl<K: Hash + Eq + Clone, V> Lru<K, V> {
    pub fn new(max: usize) -> Self {
        Lru { entries: HashMap::new(), tick: 0, max }
    }

    pub fn set_max(&mut self, max: usize) {
        self.max = max;
        self.evict();
    }

    /// The entry for `key`, created with `make` when absent (evicting the oldest if full);
    /// either way it becomes the most recently used.
    pub fn get_or_insert_with(&mut self, key: &K, make: impl FnOnce() -> V) -> &mut V {
        self.tick += 1;
        let tick = self.tick;
        if !self.entries.contains_key(key) {
            // Room for the new entry first, so that it is never the one evicted.
            self.evict_to(self.max.saturating_sub(1));
        }
        let e = self.entries.entry(key.clone()).or_insert_with(|| (make(), tick));
        e.1 = tick;
        &mut e.0
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        self.entries.get(key).map(|(v, _)| v)
    }

    /// Marks `key` as used and returns it.
    pub fn touch(&mut self, key: &K) -> Option<&mut V> {
        self.tick += 1;
        let tick = self.tick;
        self.entries.get_mut(key).map(|e| {
            e.1 = tick;
            &mut e.0
        })
    }

    pub fn insert(&mut self, key: K, value: V) {
        self.tick += 1;
        self.entries.insert(key, (value, self.tick));
        self.evict();
    }

    pub fn remove(&mut self, key: &K) -> Option<V> {
        self.entries.remove(key).map(|(v, _)| v)
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        self.entries.retain(|k, (v, _)| keep(k, v));
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries from the least to the most recently used.
    pub fn iter_by_age(&self) -> Vec<(&K, &V)> {
        let mut all: Vec<_> = self.entries.iter().map(|(k, (v, t))| (k, v, *t)).collect();
        all.sort_by_key(|(_, _, t)| *t);
        all.into_iter().map(|(k, v, _)| (k, v)).collect()
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.entries.values_mut().map(|(v, _)| v)
    }

    fn evict(&mut self) {
        self.evict_to(self.max);
    }

    fn evict_to(&mut self, len: usize) {
        while self.max > 0 && self.entries.len() > len {
            let oldest = self.entries.iter().min_by_key(|(_, (_, t))| *t).map(|(k, _)| k.clone());
            match oldest {
                Some(k) => {
                    self.entries.remove(&k);
                }
                None => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_the_least_recently_used() {
        let mut l = Lru::new(2);
        *l.get_or_insert_with(&"a", || 0) += 1;
        l.get_or_insert_with(&"b", || 0);
        l.touch(&"a");
        l.get_or_insert_with(&"c", || 0);
        assert!(l.get(&"b").is_none(), "b was used least recently");
        assert_eq!(l.get(&"a"), Some(&1));
        assert_eq!(l.iter_by_age().into_iter().map(|(k, _)| *k).collect::<Vec<_>>(), ["a", "c"]);
        let mut unbounded = Lru::new(0);
        for i in 0..100 {
            unbounded.insert(i, i);
        }
        assert_eq!(unbounded.len(), 100);
    }
}
