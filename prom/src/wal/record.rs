//! Record bodies. A record is a type byte (see the `TYPE_*` constants) and a body that is a
//! run of entries up to its end (no count, so the writer can cut a record at any entry).
//! Integers are LEB128 varints (signed ones zigzag), floats are their 8 raw bits little
//! endian (so StaleNaN and every other NaN survive), strings are a varint length and UTF-8.
//!
//! * series: `ref, n, (name, value) × n`: the WAL ref a data record uses for a label set;
//! * samples: `ref, t, v` for the first entry, then `Δref, Δt, v` (signed deltas from the
//!   previous entry: consecutive series and equal timestamps cost a byte each);
//! * histograms: `ref, t, schema, zero_threshold, zero_count, count, sum, positive spans,
//!   positive buckets, negative spans, negative buckets, flags, reset hint, custom values`;
//! * exemplars: `ref, t, value, labels`;
//! * metadata: `ref, type, family, help, unit`;
//! * watermark (checkpoints only): the next ref the writer will hand out, so refs are never
//!   reused after the series holding the highest ones were dropped;
//! * last timestamps (checkpoints only): `ref, t`, so a reopened writer keeps the keepalive
//!   state of series that have no data left in the segments.

use smol_str::SmolStr;

use super::Corruption;
use crate::labels::{Label, Labels};
use crate::sample::{BucketSpan, Exemplar, Histogram, Metadata, MetricType, ResetHint};

pub(crate) const TYPE_SERIES: u8 = 1;
pub(crate) const TYPE_SAMPLES: u8 = 2;
pub(crate) const TYPE_HISTOGRAMS: u8 = 3;
pub(crate) const TYPE_EXEMPLARS: u8 = 4;
pub(crate) const TYPE_METADATA: u8 = 5;
pub(crate) const TYPE_WATERMARK: u8 = 6;
pub(crate) const TYPE_LAST_T: u8 = 7;

pub fn put_uvarint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

pub fn put_varint(buf: &mut Vec<u8>, v: i64) {
    put_uvarint(buf, ((v << 1) ^ (v >> 63)) as u64);
}

fn put_f64(buf: &mut Vec<u8>, v: f64) {
    buf.extend_from_slice(&v.to_bits().to_le_bytes());
}

pub fn put_str(buf: &mut Vec<u8>, s: &str) {
    put_uvarint(buf, s.len() as u64);
    buf.extend_from_slice(s.as_bytes());
}

pub fn put_labels(buf: &mut Vec<u8>, labels: &Labels) {
    put_uvarint(buf, labels.len() as u64);
    for (n, v) in labels.iter() {
        put_str(buf, n);
        put_str(buf, v);
    }
}

pub(crate) fn put_series(buf: &mut Vec<u8>, r: u64, labels: &Labels) {
    put_uvarint(buf, r);
    put_labels(buf, labels);
}

/// The previous entry of a samples record (deltas are taken from it).
#[derive(Default)]
pub(crate) struct SampleDelta {
    prev: Option<(u64, i64)>,
}

impl SampleDelta {
    pub(crate) fn reset(&mut self) {
        self.prev = None;
    }
}

pub(crate) fn put_sample(buf: &mut Vec<u8>, d: &mut SampleDelta, r: u64, t: i64, v: f64) {
    match d.prev {
        None => {
            put_uvarint(buf, r);
            put_varint(buf, t);
        }
        Some((pr, pt)) => {
            put_varint(buf, r.wrapping_sub(pr) as i64);
            put_varint(buf, t.wrapping_sub(pt));
        }
    }
    put_f64(buf, v);
    d.prev = Some((r, t));
}

fn put_spans(buf: &mut Vec<u8>, spans: &[BucketSpan]) {
    put_uvarint(buf, spans.len() as u64);
    for s in spans {
        put_varint(buf, i64::from(s.offset));
        put_uvarint(buf, u64::from(s.length));
    }
}

fn put_floats(buf: &mut Vec<u8>, vs: &[f64]) {
    put_uvarint(buf, vs.len() as u64);
    for v in vs {
        put_f64(buf, *v);
    }
}

pub(crate) fn put_histogram(buf: &mut Vec<u8>, r: u64, t: i64, h: &Histogram) {
    put_uvarint(buf, r);
    put_varint(buf, t);
    put_varint(buf, i64::from(h.schema));
    put_f64(buf, h.zero_threshold);
    put_f64(buf, h.zero_count);
    put_f64(buf, h.count);
    put_f64(buf, h.sum);
    put_spans(buf, &h.positive_spans);
    put_floats(buf, &h.positive);
    put_spans(buf, &h.negative_spans);
    put_floats(buf, &h.negative);
    buf.push(u8::from(h.is_float));
    buf.push(match h.reset_hint {
        ResetHint::Unknown => 0,
        ResetHint::Yes => 1,
        ResetHint::No => 2,
        ResetHint::Gauge => 3,
    });
    put_floats(buf, &h.custom_values);
}

pub(crate) fn put_exemplar(buf: &mut Vec<u8>, r: u64, e: &Exemplar) {
    put_uvarint(buf, r);
    put_varint(buf, e.t);
    put_f64(buf, e.value);
    put_labels(buf, &e.labels);
}

const METRIC_TYPES: [MetricType; 8] = [
    MetricType::Unknown,
    MetricType::Counter,
    MetricType::Gauge,
    MetricType::Histogram,
    MetricType::GaugeHistogram,
    MetricType::Summary,
    MetricType::Info,
    MetricType::StateSet,
];

pub(crate) fn put_metadata(buf: &mut Vec<u8>, r: u64, m: &Metadata) {
    put_uvarint(buf, r);
    buf.push(METRIC_TYPES.iter().position(|t| *t == m.metric_type).unwrap_or(0) as u8);
    put_str(buf, &m.metric_family);
    put_str(buf, &m.help);
    put_str(buf, &m.unit);
}

pub(crate) fn put_watermark(buf: &mut Vec<u8>, next_ref: u64) {
    put_uvarint(buf, next_ref);
}

pub(crate) fn put_last_t(buf: &mut Vec<u8>, r: u64, t: i64) {
    put_uvarint(buf, r);
    put_varint(buf, t);
}

/// Reads a body; every read is bounds-checked, so bad bytes (that passed the checksum, or a
/// bug) are a [`Corruption`], never a panic or a huge allocation.
pub struct Dec<'a> {
    b: &'a [u8],
    what: &'static str,
}

impl<'a> Dec<'a> {
    pub fn new(b: &'a [u8], what: &'static str) -> Self {
        Dec { b, what }
    }

    pub fn is_empty(&self) -> bool {
        self.b.is_empty()
    }

    fn err(&self, why: &'static str) -> Corruption {
        Corruption::Decode(self.what, why)
    }

    pub fn uvarint(&mut self) -> Result<u64, Corruption> {
        let mut v = 0u64;
        let mut shift = 0u32;
        for (i, &byte) in self.b.iter().enumerate() {
            if shift == 63 && byte > 1 {
                return Err(self.err("varint overflows 64 bits"));
            }
            v |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                self.b = &self.b[i + 1..];
                return Ok(v);
            }
            shift += 7;
        }
        Err(self.err("cut short"))
    }

    pub fn varint(&mut self) -> Result<i64, Corruption> {
        let u = self.uvarint()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    fn u8(&mut self) -> Result<u8, Corruption> {
        let (&b, rest) = self.b.split_first().ok_or_else(|| self.err("cut short"))?;
        self.b = rest;
        Ok(b)
    }

    fn f64(&mut self) -> Result<f64, Corruption> {
        let Some((head, rest)) = self.b.split_first_chunk::<8>() else {
            return Err(self.err("cut short"));
        };
        self.b = rest;
        Ok(f64::from_bits(u64::from_le_bytes(*head)))
    }

    /// A count of items at least `min_size` bytes each, checked against what is left.
    pub fn count(&mut self, min_size: usize) -> Result<usize, Corruption> {
        let n = self.uvarint()?;
        if n > (self.b.len() / min_size.max(1)) as u64 {
            return Err(self.err("count larger than the record"));
        }
        Ok(n as usize)
    }

    pub fn str(&mut self) -> Result<&'a str, Corruption> {
        let n = self.count(1)?;
        let (s, rest) = self.b.split_at(n);
        self.b = rest;
        std::str::from_utf8(s).map_err(|_| self.err("string is not UTF-8"))
    }

    pub fn labels(&mut self) -> Result<Labels, Corruption> {
        let n = self.count(2)?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            let name = SmolStr::new(self.str()?);
            let value = SmolStr::new(self.str()?);
            v.push(Label { name, value });
        }
        let canonical = v.windows(2).all(|w| w[0].name < w[1].name) && v.iter().all(|l| !l.value.is_empty());
        Ok(if canonical { Labels::from_sorted(v) } else { Labels::new(v.into_iter().map(|l| (l.name, l.value))) })
    }

    fn spans(&mut self) -> Result<Vec<BucketSpan>, Corruption> {
        let n = self.count(2)?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            let offset = i32::try_from(self.varint()?).map_err(|_| self.err("span offset out of range"))?;
            let length = u32::try_from(self.uvarint()?).map_err(|_| self.err("span length out of range"))?;
            v.push(BucketSpan { offset, length });
        }
        Ok(v)
    }

    fn floats(&mut self) -> Result<Vec<f64>, Corruption> {
        let n = self.count(8)?;
        (0..n).map(|_| self.f64()).collect()
    }
}

pub(crate) fn decode_series(body: &[u8], mut f: impl FnMut(u64, Labels)) -> Result<(), Corruption> {
    let mut d = Dec::new(body, "series");
    while !d.is_empty() {
        let r = d.uvarint()?;
        f(r, d.labels()?);
    }
    Ok(())
}

pub(crate) fn decode_samples(body: &[u8], mut f: impl FnMut(u64, i64, f64)) -> Result<(), Corruption> {
    let mut d = Dec::new(body, "samples");
    let mut prev: Option<(u64, i64)> = None;
    while !d.is_empty() {
        let (r, t) = match prev {
            None => (d.uvarint()?, d.varint()?),
            Some((pr, pt)) => (pr.wrapping_add(d.varint()? as u64), pt.wrapping_add(d.varint()?)),
        };
        f(r, t, d.f64()?);
        prev = Some((r, t));
    }
    Ok(())
}

pub(crate) fn decode_histograms(body: &[u8], mut f: impl FnMut(u64, i64, Histogram)) -> Result<(), Corruption> {
    let mut d = Dec::new(body, "histograms");
    while !d.is_empty() {
        let r = d.uvarint()?;
        let t = d.varint()?;
        let schema = i32::try_from(d.varint()?).map_err(|_| d.err("schema out of range"))?;
        let zero_threshold = d.f64()?;
        let zero_count = d.f64()?;
        let count = d.f64()?;
        let sum = d.f64()?;
        let positive_spans = d.spans()?;
        let positive = d.floats()?;
        let negative_spans = d.spans()?;
        let negative = d.floats()?;
        let is_float = match d.u8()? {
            0 => false,
            1 => true,
            _ => return Err(d.err("bad flags")),
        };
        let reset_hint = match d.u8()? {
            0 => ResetHint::Unknown,
            1 => ResetHint::Yes,
            2 => ResetHint::No,
            3 => ResetHint::Gauge,
            _ => return Err(d.err("bad reset hint")),
        };
        let custom_values = d.floats()?;
        let h = Histogram {
            schema,
            zero_threshold,
            zero_count,
            count,
            sum,
            positive_spans,
            positive,
            negative_spans,
            negative,
            is_float,
            reset_hint,
            custom_values,
        };
        f(r, t, h);
    }
    Ok(())
}

pub(crate) fn decode_exemplars(body: &[u8], mut f: impl FnMut(u64, Exemplar)) -> Result<(), Corruption> {
    let mut d = Dec::new(body, "exemplars");
    while !d.is_empty() {
        let r = d.uvarint()?;
        let t = d.varint()?;
        let value = d.f64()?;
        let labels = d.labels()?;
        f(r, Exemplar { labels, value, t });
    }
    Ok(())
}

pub(crate) fn decode_metadata(body: &[u8], mut f: impl FnMut(u64, Metadata)) -> Result<(), Corruption> {
    let mut d = Dec::new(body, "metadata");
    while !d.is_empty() {
        let r = d.uvarint()?;
        let metric_type = *METRIC_TYPES.get(usize::from(d.u8()?)).ok_or_else(|| d.err("bad metric type"))?;
        let metric_family = d.str()?.to_owned();
        let help = d.str()?.to_owned();
        let unit = d.str()?.to_owned();
        f(r, Metadata { metric_family, metric_type, help, unit });
    }
    Ok(())
}

pub(crate) fn decode_watermark(body: &[u8]) -> Result<u64, Corruption> {
    Dec::new(body, "watermark").uvarint()
}

pub(crate) fn decode_last_t(body: &[u8], mut f: impl FnMut(u64, i64)) -> Result<(), Corruption> {
    let mut d = Dec::new(body, "last timestamps");
    while !d.is_empty() {
        let r = d.uvarint()?;
        f(r, d.varint()?);
    }
    Ok(())
}

/// The timestamp-bearing entries of a data record, for the writer's replay at open (which
/// needs only refs and times).
pub(crate) fn decode_refs(ty: u8, body: &[u8], mut f: impl FnMut(u64, Option<i64>)) -> Result<(), Corruption> {
    match ty {
        TYPE_SAMPLES => decode_samples(body, |r, t, _| f(r, Some(t))),
        TYPE_HISTOGRAMS => decode_histograms(body, |r, t, _| f(r, Some(t))),
        TYPE_EXEMPLARS => decode_exemplars(body, |r, e| f(r, Some(e.t))),
        TYPE_METADATA => decode_metadata(body, |r, _| f(r, None)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_at_the_edges() {
        for v in [0u64, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX - 1, u64::MAX] {
            let mut b = Vec::new();
            put_uvarint(&mut b, v);
            let mut d = Dec::new(&b, "t");
            assert_eq!(d.uvarint(), Ok(v));
            assert!(d.is_empty());
        }
        for v in [0i64, -1, 1, i64::MIN, i64::MAX, -300] {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            assert_eq!(Dec::new(&b, "t").varint(), Ok(v));
        }
        // Eleven continuation bytes overflow rather than wrap.
        assert!(Dec::new(&[0xff; 11], "t").uvarint().is_err());
        assert!(Dec::new(&[0x80], "t").uvarint().is_err());
    }

    #[test]
    fn huge_counts_are_refused_without_allocating() {
        let mut b = Vec::new();
        put_uvarint(&mut b, 7);
        put_uvarint(&mut b, u64::MAX / 2);
        assert!(decode_series(&b, |_, _| {}).is_err());
    }
}
