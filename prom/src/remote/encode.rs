//! A direct protobuf encoder for outgoing requests. Field numbers are those of
//! [`super::proto`]; a test decodes what this writes with those messages.

use std::collections::HashMap;
use std::sync::Arc;

use crate::labels::Labels;
use crate::sample::{Exemplar, Histogram, Metadata, ResetHint};

use super::proto::metric_type_number;

/// One series' data in a request.
#[derive(Clone, Debug, Default)]
pub struct SeriesBatch {
    pub labels: Labels,
    /// `(timestamp ms, value)`, oldest first.
    pub samples: Vec<(i64, f64)>,
    pub exemplars: Vec<Exemplar>,
    pub histograms: Vec<(i64, Arc<Histogram>)>,
    /// Sent inline by 2.0; 1.0 sends metadata in separate requests.
    pub metadata: Option<Arc<Metadata>>,
}

const LEN: u8 = 2;
const I64: u8 = 1;
const VARINT: u8 = 0;

fn key(field: u32, wire: u8) -> u64 {
    u64::from(field << 3 | u32::from(wire))
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

fn zigzag32(v: i32) -> u64 {
    u64::from(((v << 1) ^ (v >> 31)) as u32)
}

fn zigzag64(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn bytes_len(field_len: usize) -> usize {
    if field_len == 0 {
        0
    } else {
        1 + varint_len(field_len as u64) + field_len
    }
}

fn put_bytes(out: &mut Vec<u8>, field: u32, b: &[u8]) {
    if !b.is_empty() {
        varint(out, key(field, LEN));
        varint(out, b.len() as u64);
        out.extend_from_slice(b);
    }
}

fn put_double(out: &mut Vec<u8>, field: u32, v: f64) {
    if v.to_bits() != 0 {
        varint(out, key(field, I64));
        out.extend_from_slice(&v.to_le_bytes());
    }
}

fn double_len(v: f64) -> usize {
    if v.to_bits() != 0 {
        9
    } else {
        0
    }
}

fn put_int(out: &mut Vec<u8>, field: u32, v: u64) {
    if v != 0 {
        varint(out, key(field, VARINT));
        varint(out, v);
    }
}

fn int_len(v: u64) -> usize {
    if v != 0 {
        1 + varint_len(v)
    } else {
        0
    }
}

fn put_message_header(out: &mut Vec<u8>, field: u32, len: usize) {
    varint(out, key(field, LEN));
    varint(out, len as u64);
}

/// The series' labels with the external labels it lacks, sorted by name.
fn merged<'a>(labels: &'a Labels, external: &'a Labels, into: &mut Vec<(&'a str, &'a str)>) {
    into.clear();
    let mut ext = external.iter();
    let mut next_ext = ext.next();
    for (n, v) in labels.iter() {
        // External labels sort in; on a name both have, the series' own label wins.
        while let Some((en, ev)) = next_ext {
            if en > n {
                break;
            }
            if en < n {
                into.push((en, ev));
            }
            next_ext = ext.next();
        }
        into.push((n, v));
    }
    while let Some(e) = next_ext {
        into.push(e);
        next_ext = ext.next();
    }
}

fn label_len(n: &str, v: &str) -> usize {
    bytes_len(n.len()) + bytes_len(v.len())
}

fn sample_len(t: i64, v: f64) -> usize {
    double_len(v) + int_len(t as u64)
}

fn put_sample(out: &mut Vec<u8>, field: u32, t: i64, v: f64) {
    put_message_header(out, field, sample_len(t, v));
    put_double(out, 1, v);
    put_int(out, 2, t as u64);
}

fn histogram_bytes(t: i64, h: &Histogram) -> Vec<u8> {
    let mut out = Vec::new();
    if h.is_float {
        varint(&mut out, key(2, I64));
        out.extend_from_slice(&h.count.to_le_bytes());
    } else {
        varint(&mut out, key(1, VARINT));
        varint(&mut out, h.count as u64);
    }
    put_double(&mut out, 3, h.sum);
    put_int(&mut out, 4, zigzag32(h.schema));
    put_double(&mut out, 5, h.zero_threshold);
    if h.is_float {
        varint(&mut out, key(7, I64));
        out.extend_from_slice(&h.zero_count.to_le_bytes());
    } else {
        varint(&mut out, key(6, VARINT));
        varint(&mut out, h.zero_count as u64);
    }
    let spans = |out: &mut Vec<u8>, field: u32, spans: &[crate::sample::BucketSpan]| {
        for s in spans {
            put_message_header(out, field, int_len(zigzag32(s.offset)) + int_len(u64::from(s.length)));
            put_int(out, 1, zigzag32(s.offset));
            put_int(out, 2, u64::from(s.length));
        }
    };
    let counts = |out: &mut Vec<u8>, delta_field: u32, count_field: u32, counts: &[f64]| {
        if counts.is_empty() {
            return;
        }
        let mut packed = Vec::new();
        if h.is_float {
            for c in counts {
                packed.extend_from_slice(&c.to_le_bytes());
            }
            put_bytes(out, count_field, &packed);
        } else {
            let mut prev = 0i64;
            for c in counts {
                let c = *c as i64;
                varint(&mut packed, zigzag64(c.wrapping_sub(prev)));
                prev = c;
            }
            put_bytes(out, delta_field, &packed);
        }
    };
    spans(&mut out, 8, &h.negative_spans);
    counts(&mut out, 9, 10, &h.negative);
    spans(&mut out, 11, &h.positive_spans);
    counts(&mut out, 12, 13, &h.positive);
    let hint = match h.reset_hint {
        ResetHint::Unknown => 0,
        ResetHint::Yes => 1,
        ResetHint::No => 2,
        ResetHint::Gauge => 3,
    };
    put_int(&mut out, 14, hint);
    put_int(&mut out, 15, t as u64);
    if !h.custom_values.is_empty() {
        let packed: Vec<u8> = h.custom_values.iter().flat_map(|c| c.to_le_bytes()).collect();
        put_bytes(&mut out, 16, &packed);
    }
    out
}

/// Appends a `prometheus.WriteRequest` (uncompressed) to `out`. `external` labels are added
/// to series that lack them; `metadata` goes in field 3 (1.0 sends it in requests of its own).
pub fn encode_v1(out: &mut Vec<u8>, series: &[SeriesBatch], external: &Labels, metadata: &[Metadata]) {
    let mut labels = Vec::new();
    for s in series {
        merged(&s.labels, external, &mut labels);
        let histograms: Vec<Vec<u8>> = s.histograms.iter().map(|(t, h)| histogram_bytes(*t, h)).collect();
        let exemplar_len = |e: &Exemplar| {
            e.labels.iter().map(|(n, v)| 1 + varint_len(label_len(n, v) as u64) + label_len(n, v)).sum::<usize>() + double_len(e.value) + int_len(e.t as u64)
        };
        let size = labels.iter().map(|(n, v)| 1 + varint_len(label_len(n, v) as u64) + label_len(n, v)).sum::<usize>()
            + s.samples.iter().map(|(t, v)| 1 + varint_len(sample_len(*t, *v) as u64) + sample_len(*t, *v)).sum::<usize>()
            + s.exemplars.iter().map(|e| 1 + varint_len(exemplar_len(e) as u64) + exemplar_len(e)).sum::<usize>()
            + histograms.iter().map(|h| 1 + varint_len(h.len() as u64) + h.len()).sum::<usize>();
        put_message_header(out, 1, size);
        for (n, v) in &labels {
            put_message_header(out, 1, label_len(n, v));
            put_bytes(out, 1, n.as_bytes());
            put_bytes(out, 2, v.as_bytes());
        }
        for (t, v) in &s.samples {
            put_sample(out, 2, *t, *v);
        }
        for e in &s.exemplars {
            put_message_header(out, 3, exemplar_len(e));
            for (n, v) in e.labels.iter() {
                put_message_header(out, 1, label_len(n, v));
                put_bytes(out, 1, n.as_bytes());
                put_bytes(out, 2, v.as_bytes());
            }
            put_double(out, 2, e.value);
            put_int(out, 3, e.t as u64);
        }
        for h in &histograms {
            put_bytes(out, 4, h);
        }
    }
    for m in metadata {
        let t = metric_type_number(m.metric_type) as u64;
        let size = int_len(t) + bytes_len(m.metric_family.len()) + bytes_len(m.help.len()) + bytes_len(m.unit.len());
        put_message_header(out, 3, size);
        put_int(out, 1, t);
        put_bytes(out, 2, m.metric_family.as_bytes());
        put_bytes(out, 4, m.help.as_bytes());
        put_bytes(out, 5, m.unit.as_bytes());
    }
}

/// The symbol table of a 2.0 request; index 0 is the empty string.
#[derive(Default)]
struct Symbols<'a> {
    index: HashMap<&'a str, u32>,
    list: Vec<&'a str>,
}

impl<'a> Symbols<'a> {
    fn new() -> Self {
        let mut s = Symbols::default();
        s.get("");
        s
    }

    fn get(&mut self, v: &'a str) -> u32 {
        if let Some(i) = self.index.get(v) {
            return *i;
        }
        let i = self.list.len() as u32;
        self.list.push(v);
        self.index.insert(v, i);
        i
    }
}

fn packed_refs(out: &mut Vec<u8>, field: u32, refs: &[u32]) {
    if refs.is_empty() {
        return;
    }
    let len: usize = refs.iter().map(|r| varint_len(u64::from(*r))).sum();
    put_message_header(out, field, len);
    for r in refs {
        varint(out, u64::from(*r));
    }
}

fn packed_refs_len(refs: &[u32]) -> usize {
    bytes_len(refs.iter().map(|r| varint_len(u64::from(*r))).sum())
}

/// Appends an `io.prometheus.write.v2.Request` (uncompressed) to `out`, metadata inline.
pub fn encode_v2(out: &mut Vec<u8>, series: &[SeriesBatch], external: &Labels) {
    let mut symbols = Symbols::new();
    let mut labels = Vec::new();
    struct Refs {
        labels: Vec<u32>,
        exemplars: Vec<Vec<u32>>,
        metadata: Option<(u64, u32, u32)>,
    }
    let refs: Vec<Refs> = series
        .iter()
        .map(|s| {
            merged(&s.labels, external, &mut labels);
            let label_refs = labels.iter().flat_map(|(n, v)| [symbols.get(n), symbols.get(v)]).collect();
            let exemplars = s.exemplars.iter().map(|e| e.labels.iter().flat_map(|(n, v)| [symbols.get(n), symbols.get(v)]).collect()).collect();
            let metadata = s.metadata.as_ref().map(|m| (metric_type_number(m.metric_type) as u64, symbols.get(&m.help), symbols.get(&m.unit)));
            Refs { labels: label_refs, exemplars, metadata }
        })
        .collect();
    for s in &symbols.list {
        // Every symbol is written, the empty first one included.
        varint(out, key(4, LEN));
        varint(out, s.len() as u64);
        out.extend_from_slice(s.as_bytes());
    }
    for (s, r) in series.iter().zip(&refs) {
        let histograms: Vec<Vec<u8>> = s.histograms.iter().map(|(t, h)| histogram_bytes(*t, h)).collect();
        let exemplar_len = |e: &Exemplar, refs: &[u32]| packed_refs_len(refs) + double_len(e.value) + int_len(e.t as u64);
        let metadata_len = r.metadata.map(|(t, h, u)| int_len(t) + int_len(u64::from(h)) + int_len(u64::from(u)));
        let size = packed_refs_len(&r.labels)
            + s.samples.iter().map(|(t, v)| 1 + varint_len(sample_len(*t, *v) as u64) + sample_len(*t, *v)).sum::<usize>()
            + histograms.iter().map(|h| 1 + varint_len(h.len() as u64) + h.len()).sum::<usize>()
            + s.exemplars.iter().zip(&r.exemplars).map(|(e, refs)| 1 + varint_len(exemplar_len(e, refs) as u64) + exemplar_len(e, refs)).sum::<usize>()
            + metadata_len.map_or(0, |l| 1 + varint_len(l as u64) + l);
        put_message_header(out, 5, size);
        packed_refs(out, 1, &r.labels);
        for (t, v) in &s.samples {
            put_sample(out, 2, *t, *v);
        }
        for h in &histograms {
            put_bytes(out, 3, h);
        }
        for (e, refs) in s.exemplars.iter().zip(&r.exemplars) {
            put_message_header(out, 4, exemplar_len(e, refs));
            packed_refs(out, 1, refs);
            put_double(out, 2, e.value);
            put_int(out, 3, e.t as u64);
        }
        if let (Some((t, h, u)), Some(len)) = (r.metadata, metadata_len) {
            put_message_header(out, 5, len);
            put_int(out, 1, t);
            put_int(out, 3, u64::from(h));
            put_int(out, 4, u64::from(u));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::proto::{decode_v1, decode_v2};
    use crate::sample::{is_stale, BucketSpan, MetricType, STALE_NAN};

    proptest::proptest! {
        /// External labels sort in among a series' own; on a shared name the series wins.
        #[test]
        fn external_labels_merge_like_a_map(
            own in proptest::collection::btree_map("[a-e]{1,2}", "[x-z]{1,3}", 0..6),
            ext in proptest::collection::btree_map("[a-e]{1,2}", "[0-2]{1,3}", 0..4),
        ) {
            let mut want = ext.clone();
            want.extend(own.clone());
            let (l, e) = (Labels::new(own), Labels::new(ext));
            let mut got = Vec::new();
            merged(&l, &e, &mut got);
            let want: Vec<(&str, &str)> = want.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            proptest::prop_assert_eq!(got, want);
        }
    }

    fn series() -> Vec<SeriesBatch> {
        vec![
            SeriesBatch {
                labels: Labels::new([("__name__", "up"), ("job", "j"), ("region", "own")]),
                samples: vec![(1_700_000_000_000, 1.0), (1_700_000_015_000, STALE_NAN), (-5, 0.0)],
                exemplars: vec![Exemplar { labels: Labels::new([("trace_id", "abc")]), value: 0.5, t: 1_700_000_000_001 }],
                histograms: vec![],
                metadata: Some(Arc::new(Metadata { metric_family: "up".into(), metric_type: MetricType::Gauge, help: "Up.".into(), unit: String::new() })),
            },
            SeriesBatch {
                labels: Labels::new([("__name__", "lat"), ("ü", "ß")]),
                samples: vec![],
                exemplars: vec![],
                histograms: vec![(
                    7,
                    Arc::new(Histogram {
                        schema: -2,
                        zero_threshold: 0.001,
                        zero_count: 2.0,
                        count: 9.0,
                        sum: 18.5,
                        positive_spans: vec![BucketSpan { offset: -1, length: 3 }],
                        positive: vec![1.0, 4.0, 2.0],
                        negative_spans: vec![],
                        negative: vec![],
                        is_float: false,
                        reset_hint: ResetHint::No,
                        custom_values: vec![],
                    }),
                )],
                metadata: None,
            },
        ]
    }

    #[test]
    fn v1_round_trips_through_the_published_messages() {
        let external = Labels::new([("region", "ext"), ("cluster", "c1")]);
        let meta = [Metadata { metric_family: "up".into(), metric_type: MetricType::Counter, help: "h".into(), unit: "s".into() }];
        let mut out = Vec::new();
        encode_v1(&mut out, &series(), &external, &meta);
        let batch = decode_v1(&out).expect("decodes");
        assert_eq!(batch.samples.len(), 3);
        assert_eq!(batch.samples[0].labels.to_string(), r#"{__name__="up", cluster="c1", job="j", region="own"}"#, "the series' own value wins");
        assert!(is_stale(batch.samples[1].v), "StaleNaN bits survive");
        assert_eq!((batch.samples[2].t, batch.samples[2].v), (-5, 0.0));
        assert_eq!(batch.exemplars[0].exemplar, series()[0].exemplars[0]);
        assert_eq!(batch.histograms[0].t, 7);
        assert_eq!(*batch.histograms[0].histogram, *series()[1].histograms[0].1);
        assert_eq!(batch.histograms[0].labels.get("ü"), Some("ß"));
        assert_eq!(batch.metadata[0].metadata.as_ref(), &meta[0]);
    }

    #[test]
    fn v2_round_trips_with_symbols_and_inline_metadata() {
        let mut out = Vec::new();
        encode_v2(&mut out, &series(), &Labels::new([("cluster", "c1")]));
        let batch = decode_v2(&out).expect("decodes");
        assert_eq!(batch.samples[0].labels.get("cluster"), Some("c1"));
        assert!(is_stale(batch.samples[1].v));
        assert_eq!(batch.metadata[0].metadata.help, "Up.");
        assert_eq!(batch.metadata[0].metadata.metric_type, MetricType::Gauge);
        assert_eq!(*batch.histograms[0].histogram, *series()[1].histograms[0].1);
        assert_eq!(batch.exemplars[0].exemplar.labels.get("trace_id"), Some("abc"));
    }

    #[test]
    fn varint_lengths() {
        for v in [0u64, 1, 127, 128, 16383, 16384, u64::MAX] {
            let mut out = Vec::new();
            varint(&mut out, v);
            assert_eq!(out.len(), varint_len(v), "{v}");
        }
    }
}
