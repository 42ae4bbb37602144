//! Label sets: sorted, unique names, no empty values, cheap to clone (one shared allocation),
//! and interned through a [`Store`] so every component that holds a series shares one copy
//! and refers to it by a stable [`SeriesRef`].

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use smol_str::SmolStr;

use crate::sample::SeriesRef;

/// The label that holds the metric name.
pub const METRIC_NAME: &str = "__name__";

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label {
    pub name: SmolStr,
    pub value: SmolStr,
}

/// A label set. Invariants (kept by every constructor): sorted by name, names unique, values
/// non-empty. Equality, ordering and hashing are those of the sorted pairs.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Labels(Arc<[Label]>);

impl Default for Labels {
    fn default() -> Self {
        Labels(Arc::from(Vec::new()))
    }
}

impl Labels {
    pub fn empty() -> Self {
        Labels::default()
    }

    /// From pairs in any order; a later pair overrides an earlier one of the same name, and
    /// an empty value deletes the name.
    pub fn new<N: Into<SmolStr>, V: Into<SmolStr>>(pairs: impl IntoIterator<Item = (N, V)>) -> Self {
        let mut b = LabelsBuilder::default();
        for (n, v) in pairs {
            b.set(n, v);
        }
        b.labels()
    }

    /// From labels already sorted by name with unique names and non-empty values
    /// (checked in debug builds).
    pub fn from_sorted(labels: Vec<Label>) -> Self {
        debug_assert!(labels.windows(2).all(|w| w[0].name < w[1].name), "labels not sorted and unique");
        debug_assert!(labels.iter().all(|l| !l.value.is_empty()), "empty label value");
        Labels(Arc::from(labels))
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        self.0.iter().map(|l| (l.name.as_str(), l.value.as_str()))
    }

    pub fn as_slice(&self) -> &[Label] {
        &self.0
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.binary_search_by(|l| l.name.as_str().cmp(name)).ok().map(|i| self.0[i].value.as_str())
    }

    /// The value of `__name__`.
    pub fn metric_name(&self) -> Option<&str> {
        self.get(METRIC_NAME)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn builder(&self) -> LabelsBuilder {
        LabelsBuilder { labels: self.0.to_vec() }
    }

    /// A hash that is the same for equal label sets in every process (FNV-1a over names and
    /// values with separators): for sharding and scrape offsets.
    pub fn stable_hash(&self) -> u64 {
        let mut h = Fnv64::default();
        for l in self.0.iter() {
            h.write(l.name.as_bytes());
            h.write(&[0xff]);
            h.write(l.value.as_bytes());
            h.write(&[0xff]);
        }
        h.finish()
    }

    /// Approximate heap bytes held by this set (for memory accounting).
    pub fn heap_size(&self) -> usize {
        let inline = std::mem::size_of::<Label>() * self.0.len() + 16;
        let spilled: usize = self.0.iter().map(|l| heap_len(&l.name) + heap_len(&l.value)).sum();
        inline + spilled
    }

    /// True when no other clone of this set exists (the interning store uses it to forget
    /// series nobody holds any more).
    fn is_unique(this: &mut Labels) -> bool {
        Arc::get_mut(&mut this.0).is_some()
    }
}

fn heap_len(s: &SmolStr) -> usize {
    if s.is_heap_allocated() {
        s.len() + 16
    } else {
        0
    }
}

/// Prometheus' form: `{__name__="up", instance="a:1"}`.
impl fmt::Display for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, (n, v)) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{n}=")?;
            write_quoted(f, v)?;
        }
        f.write_str("}")
    }
}

impl fmt::Debug for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A double-quoted string with `\\`, `\"` and `\n` escaped, as label values are printed.
pub fn write_quoted(out: &mut impl fmt::Write, v: &str) -> fmt::Result {
    out.write_char('"')?;
    for c in v.chars() {
        match c {
            '\\' => out.write_str("\\\\")?,
            '"' => out.write_str("\\\"")?,
            '\n' => out.write_str("\\n")?,
            c => out.write_char(c)?,
        }
    }
    out.write_char('"')
}

/// A mutable label set, kept sorted; [`LabelsBuilder::labels`] freezes it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelsBuilder {
    labels: Vec<Label>,
}

impl LabelsBuilder {
    pub fn with_capacity(n: usize) -> Self {
        LabelsBuilder { labels: Vec::with_capacity(n) }
    }

    fn find(&self, name: &str) -> Result<usize, usize> {
        self.labels.binary_search_by(|l| l.name.as_str().cmp(name))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.find(name).ok().map(|i| self.labels[i].value.as_str())
    }

    /// Sets a label; an empty value deletes it.
    pub fn set(&mut self, name: impl Into<SmolStr>, value: impl Into<SmolStr>) {
        let (name, value) = (name.into(), value.into());
        match (self.find(&name), value.is_empty()) {
            (Ok(i), true) => {
                self.labels.remove(i);
            }
            (Ok(i), false) => self.labels[i].value = value,
            (Err(_), true) => {}
            (Err(i), false) => self.labels.insert(i, Label { name, value }),
        }
    }

    pub fn del(&mut self, name: &str) {
        if let Ok(i) = self.find(name) {
            self.labels.remove(i);
        }
    }

    /// Keeps the labels whose name passes `keep`.
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.labels.retain(|l| keep(&l.name));
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        self.labels.iter().map(|l| (l.name.as_str(), l.value.as_str()))
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn clear(&mut self) {
        self.labels.clear();
    }

    pub fn labels(&self) -> Labels {
        Labels(Arc::from(self.labels.as_slice()))
    }

    pub fn into_labels(self) -> Labels {
        Labels(Arc::from(self.labels))
    }
}

impl From<Labels> for LabelsBuilder {
    fn from(l: Labels) -> Self {
        l.builder()
    }
}

/// FNV-1a, 64 bits.
#[derive(Clone, Copy)]
pub struct Fnv64(u64);

impl Default for Fnv64 {
    fn default() -> Self {
        Fnv64(0xcbf29ce484222325)
    }
}

impl Fnv64 {
    pub fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x100000001b3);
        }
    }

    pub fn finish(self) -> u64 {
        self.0
    }
}

/// Interns label sets: equal sets become one shared allocation with one [`SeriesRef`] for
/// as long as anybody holds them. Refs are never reused within a process.
///
/// Every scraped and relabelled series passes through here, so a set is hashed once (FxHash)
/// and that hash both picks the shard and indexes the shard's table.
pub struct Store {
    shards: Vec<Mutex<Shard>>,
    next: std::sync::atomic::AtomicU64,
}

/// A set with its hash, which is all the table hashes.
struct Hashed {
    hash: u64,
    labels: Labels,
}

impl std::hash::Hash for Hashed {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl PartialEq for Hashed {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && self.labels == other.labels
    }
}

impl Eq for Hashed {}

/// Passes a [`Hashed`]'s precomputed hash through.
#[derive(Default)]
struct PassThrough(u64);

impl std::hash::Hasher for PassThrough {
    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is called (see `Hashed`); fold anything else in regardless.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[derive(Default)]
struct Shard {
    refs: HashMap<Hashed, SeriesRef, std::hash::BuildHasherDefault<PassThrough>>,
}

const SHARDS: usize = 16;

impl Default for Store {
    fn default() -> Self {
        Store { shards: (0..SHARDS).map(|_| Mutex::default()).collect(), next: std::sync::atomic::AtomicU64::new(1) }
    }
}

fn fx_hash(labels: &Labels) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    labels.hash(&mut h);
    h.finish()
}

impl Store {
    fn shard(&self, hash: u64) -> std::sync::MutexGuard<'_, Shard> {
        // The table indexes by the low bits and tags by the top seven: pick shards by others.
        let i = ((hash >> 32) as usize) % SHARDS;
        self.shards[i].lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The shared copy of `labels` and its ref.
    pub fn intern(&self, labels: Labels) -> (SeriesRef, Labels) {
        let hash = fx_hash(&labels);
        let mut shard = self.shard(hash);
        let key = Hashed { hash, labels };
        if let Some((k, r)) = shard.refs.get_key_value(&key) {
            return (*r, k.labels.clone());
        }
        let r = SeriesRef(self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        let labels = key.labels.clone();
        shard.refs.insert(key, r);
        (r, labels)
    }

    /// The ref of `labels` if interned.
    pub fn get(&self, labels: &Labels) -> Option<SeriesRef> {
        let hash = fx_hash(labels);
        self.shard(hash).refs.get(&Hashed { hash, labels: labels.clone() }).copied()
    }

    /// Forgets the sets only the store still holds; returns how many were forgotten.
    pub fn collect_garbage(&self) -> usize {
        let mut removed = 0;
        for shard in &self.shards {
            let mut shard = shard.lock().unwrap_or_else(|e| e.into_inner());
            let before = shard.refs.len();
            // Rebuilding keeps the check safe: a key is moved out before asking whether it
            // is the last holder.
            let old = std::mem::take(&mut shard.refs);
            for (mut k, r) in old {
                if !Labels::is_unique(&mut k.labels) {
                    shard.refs.insert(k, r);
                }
            }
            removed += before - shard.refs.len();
        }
        removed
    }

    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).refs.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_unique_and_empty_values_deleted() {
        let l = Labels::new([("b", "2"), ("a", "1"), ("c", ""), ("b", "3")]);
        assert_eq!(l.iter().collect::<Vec<_>>(), vec![("a", "1"), ("b", "3")]);
        assert_eq!(l.get("b"), Some("3"));
        assert_eq!(l.get("c"), None);
        assert_eq!(l.to_string(), r#"{a="1", b="3"}"#);
    }

    #[test]
    fn builder_set_and_delete() {
        let mut b = Labels::new([("x", "1")]).builder();
        b.set("a", "q\"\n");
        b.set("x", "");
        assert_eq!(b.labels().to_string(), r#"{a="q\"\n"}"#);
    }

    #[test]
    fn store_interns_and_forgets_unheld_sets() {
        let store = Store::default();
        let (r1, a) = store.intern(Labels::new([("a", "1")]));
        let (r2, b) = store.intern(Labels::new([("a", "1")]));
        assert_eq!(r1, r2);
        assert!(Arc::ptr_eq(&a.0, &b.0));
        let (r3, _) = store.intern(Labels::new([("a", "2")]));
        assert_ne!(r1, r3);
        assert_eq!(store.collect_garbage(), 1, "the a=2 set is held by nobody");
        assert_eq!(store.len(), 1);
        drop((a, b));
        assert_eq!(store.collect_garbage(), 1);
        let (r4, _) = store.intern(Labels::new([("a", "1")]));
        assert_ne!(r4, r1, "refs are not reused");
    }

    #[test]
    fn stable_hash_differs_by_boundaries() {
        assert_ne!(Labels::new([("ab", "c")]).stable_hash(), Labels::new([("a", "bc")]).stable_hash());
    }
}
