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
///
/// Packed into one shared allocation: the number of labels, then per label its name and its
/// value, each a LEB128 length and the bytes. A typical series' set fits in two cache lines
/// (a `Vec` of string pairs would take five and a pointer per string), which is what every
/// per-sample step that touches labels pays for.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Labels(Arc<[u8]>);

fn put_len(out: &mut Vec<u8>, mut v: usize) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads a length [`put_len`] wrote; `at` moves past it.
fn get_len(b: &[u8], at: &mut usize) -> usize {
    let mut v = 0usize;
    let mut shift = 0;
    while let Some(&byte) = b.get(*at) {
        *at += 1;
        v |= usize::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            break;
        }
        shift += 7;
    }
    v
}

impl Labels {
    pub fn empty() -> Self {
        Labels::default()
    }

    /// Packs pairs already sorted by name with unique names and non-empty values.
    fn pack<'a>(pairs: impl ExactSizeIterator<Item = (&'a str, &'a str)> + Clone) -> Self {
        let size: usize = pairs.clone().map(|(n, v)| n.len() + v.len() + 2).sum::<usize>() + 1;
        let mut out = Vec::with_capacity(size);
        put_len(&mut out, pairs.len());
        for (n, v) in pairs {
            put_len(&mut out, n.len());
            out.extend_from_slice(n.as_bytes());
            put_len(&mut out, v.len());
            out.extend_from_slice(v.as_bytes());
        }
        Labels(Arc::from(out))
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
        Labels::pack(labels.iter().map(|l| (l.name.as_str(), l.value.as_str())))
    }

    /// From pairs sorted by name with unique names and non-empty values (a `BTreeMap`'s order;
    /// checked in debug builds), without the sort and the copies [`Labels::new`] makes.
    pub fn from_sorted_pairs(pairs: &[(&str, &str)]) -> Self {
        debug_assert!(pairs.windows(2).all(|w| w[0].0 < w[1].0), "labels not sorted and unique");
        debug_assert!(pairs.iter().all(|p| !p.1.is_empty()), "empty label value");
        Labels::pack(pairs.iter().copied())
    }

    pub fn iter(&self) -> Iter<'_> {
        let mut at = 0;
        let left = get_len(&self.0, &mut at);
        Iter { bytes: &self.0, at, left }
    }

    /// Loads the set's memory (its start, middle and end) without touching the reference
    /// count. Code that clones or reads many sets one after another waits for each cache miss
    /// in turn (a clone is an atomic increment); reading them all first lets the loads, which
    /// do not depend on each other, overlap. See [`warm`].
    #[inline]
    pub fn touch(&self) -> u8 {
        let b = &self.0;
        b[0] ^ b[b.len() / 2] ^ b[b.len() - 1]
    }

    /// True when both are the same allocation (interned sets: equal by address).
    pub fn ptr_eq(a: &Labels, b: &Labels) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// The value of `__name__`.
    pub fn metric_name(&self) -> Option<&str> {
        self.get(METRIC_NAME)
    }

    pub fn len(&self) -> usize {
        get_len(&self.0, &mut 0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn builder(&self) -> LabelsBuilder {
        LabelsBuilder { labels: self.iter().map(|(n, v)| Label { name: n.into(), value: v.into() }).collect() }
    }

    /// A hash that is the same for equal label sets in every process (FNV-1a over names and
    /// values with separators): for sharding and scrape offsets.
    pub fn stable_hash(&self) -> u64 {
        let mut h = Fnv64::default();
        for (n, v) in self.iter() {
            h.write(n.as_bytes());
            h.write(&[0xff]);
            h.write(v.as_bytes());
            h.write(&[0xff]);
        }
        h.finish()
    }

    /// Approximate heap bytes held by this set (for memory accounting).
    pub fn heap_size(&self) -> usize {
        self.0.len() + 16
    }

    /// True when no other clone of this set exists (the interning store uses it to forget
    /// series nobody holds any more).
    fn is_unique(this: &mut Labels) -> bool {
        Arc::get_mut(&mut this.0).is_some()
    }
}

/// [`Labels::touch`] for every set, ahead of a loop that clones or reads them one by one.
pub fn warm<'a>(sets: impl Iterator<Item = &'a Labels>) {
    let mut acc = 0u8;
    for l in sets {
        acc ^= l.touch();
    }
    std::hint::black_box(acc);
}

impl Default for Labels {
    fn default() -> Self {
        Labels(Arc::from(&[0u8][..]))
    }
}

impl PartialOrd for Labels {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// The order of the sorted pairs (not of the packed bytes, whose lengths come first).
impl Ord for Labels {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.iter().cmp(other.iter())
    }
}

/// The pairs of a [`Labels`], in name order.
#[derive(Clone)]
pub struct Iter<'a> {
    bytes: &'a [u8],
    at: usize,
    left: usize,
}

impl<'a> Iter<'a> {
    fn text(&mut self) -> &'a str {
        let len = get_len(self.bytes, &mut self.at);
        let end = (self.at + len).min(self.bytes.len());
        let b = &self.bytes[self.at..end];
        self.at = end;
        // SAFETY: `Labels::pack` is the only writer of these bytes and copies each name and
        // value whole from a `&str` right after its length; the allocation is never mutated
        // afterwards (shared `Arc<[u8]>`). So `b`, cut at exactly those boundaries, is one of
        // those strings and valid UTF-8.
        unsafe { std::str::from_utf8_unchecked(b) }
    }
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let name = self.text();
        let value = self.text();
        Some((name, value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Iter<'_> {}

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
        Labels::pack(self.labels.iter().map(|l| (l.name.as_str(), l.value.as_str())))
    }

    pub fn into_labels(self) -> Labels {
        self.labels()
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

    proptest::proptest! {
        /// The packed form gives back the pairs it was built from, and equality and order
        /// are those of the pairs.
        #[test]
        fn packing_keeps_pairs_and_their_order(
            a in proptest::collection::btree_map("[a-z_]{1,8}", "\\PC{1,200}", 0..12),
            b in proptest::collection::btree_map("[a-z_]{1,8}", "\\PC{1,200}", 0..12),
        ) {
            let (la, lb) = (Labels::new(a.clone()), Labels::new(b.clone()));
            let pa: Vec<(&str, &str)> = a.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            let pb: Vec<(&str, &str)> = b.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            proptest::prop_assert_eq!(la.iter().collect::<Vec<_>>(), pa.clone());
            proptest::prop_assert_eq!(la.len(), pa.len());
            proptest::prop_assert_eq!(la.cmp(&lb), pa.cmp(&pb));
            proptest::prop_assert_eq!(la == lb, pa == pb);
            for (n, v) in &pa {
                proptest::prop_assert_eq!(la.get(n), Some(*v));
            }
            proptest::prop_assert_eq!(la.builder().labels(), la.clone());
        }
    }

    #[test]
    fn stable_hash_differs_by_boundaries() {
        assert_ne!(Labels::new([("ab", "c")]).stable_hash(), Labels::new([("a", "bc")]).stable_hash());
    }
}
