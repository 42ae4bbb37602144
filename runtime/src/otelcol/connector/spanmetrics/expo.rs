//! A base-2 exponential histogram of positive values with at most `max_size` buckets, as the
//! collector's (`lightstep/go-expohisto`) keeps it: it starts at scale 20 and, when a value
//! falls outside the buckets it can hold, lowers the scale (merging pairs of buckets) just
//! enough for the range to fit. Zero goes to the zero count. Durations are never negative,
//! so there are no negative buckets.

use opentelemetry_proto::tonic::metrics::v1::exponential_histogram_data_point::Buckets;
use opentelemetry_proto::tonic::metrics::v1::ExponentialHistogramDataPoint;

const MAX_SCALE: i32 = 20;
const MIN_SCALE: i32 = -10;
/// The fewest buckets a histogram may be limited to.
const MIN_SIZE: usize = 2;
const SIGNIFICAND_MASK: u64 = (1 << 52) - 1;

#[derive(Clone, Debug)]
pub struct Expo {
    max_size: usize,
    scale: i32,
    offset: i32,
    counts: Vec<u64>,
    zero_count: u64,
    count: u64,
    sum: f64,
    min: f64,
    max: f64,
}

/// The bucket of `v` (positive, finite) at `scale`: bucket `i` holds (2^(i/2^scale), 2^((i+1)/2^scale)].
pub fn index(v: f64, scale: i32) -> i32 {
    let bits = v.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32 - 1023;
    let exact = bits & SIGNIFICAND_MASK == 0;
    if scale <= 0 {
        // An exact power of two belongs to the bucket below.
        return (exp - i32::from(exact)) >> -scale;
    }
    if exact {
        return (exp << scale) - 1;
    }
    let factor = std::f64::consts::LOG2_E * f64::from(1u32 << scale);
    (v.ln() * factor).floor() as i32
}

impl Expo {
    pub fn new(max_size: usize) -> Self {
        Expo { max_size: max_size.max(MIN_SIZE), scale: MAX_SCALE, offset: 0, counts: Vec::new(), zero_count: 0, count: 0, sum: 0.0, min: 0.0, max: 0.0 }
    }

    pub fn observe(&mut self, v: f64) {
        if !v.is_finite() || v < 0.0 {
            return;
        }
        if self.count == 0 || v < self.min {
            self.min = v;
        }
        if self.count == 0 || v > self.max {
            self.max = v;
        }
        self.count += 1;
        self.sum += v;
        if v == 0.0 {
            self.zero_count += 1;
            return;
        }
        let mut i = index(v, self.scale);
        if !self.counts.is_empty() {
            let low = i.min(self.offset);
            let high = i.max(self.offset + self.counts.len() as i32 - 1);
            let change = self.change_for(high, low);
            if change > 0 {
                self.downscale(change);
                i = index(v, self.scale);
            }
        }
        self.increment(i);
    }

    /// How many halvings bring `low..=high` within `max_size` buckets.
    fn change_for(&self, mut high: i32, mut low: i32) -> i32 {
        let mut change = 0;
        while (i64::from(high) - i64::from(low)) >= self.max_size as i64 && self.scale - change > MIN_SCALE {
            high >>= 1;
            low >>= 1;
            change += 1;
        }
        change
    }

    fn downscale(&mut self, change: i32) {
        let offset = self.offset >> change;
        let mut counts: Vec<u64> = Vec::new();
        for (j, c) in self.counts.iter().enumerate() {
            let at = (((self.offset + j as i32) >> change) - offset) as usize;
            if counts.len() <= at {
                counts.resize(at + 1, 0);
            }
            counts[at] += c;
        }
        self.offset = offset;
        self.counts = counts;
        self.scale -= change;
    }

    fn increment(&mut self, i: i32) {
        if self.counts.is_empty() {
            self.offset = i;
            self.counts.push(1);
            return;
        }
        if i < self.offset {
            let grow = (self.offset - i) as usize;
            let mut counts = vec![0; grow];
            counts.append(&mut self.counts);
            self.counts = counts;
            self.offset = i;
        }
        let at = (i - self.offset) as usize;
        if self.counts.len() <= at {
            self.counts.resize(at + 1, 0);
        }
        self.counts[at] += 1;
    }

    /// The data point's histogram fields (attributes, times and exemplars are the caller's).
    pub fn point(&self) -> ExponentialHistogramDataPoint {
        let has = self.count > 0;
        ExponentialHistogramDataPoint {
            count: self.count,
            sum: Some(self.sum),
            scale: self.scale,
            zero_count: self.zero_count,
            positive: Some(Buckets { offset: self.offset, bucket_counts: self.counts.clone() }),
            negative: Some(Buckets::default()),
            min: has.then_some(self.min),
            max: has.then_some(self.max),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_follow_the_spec_boundaries() {
        // Scale 0: bucket i holds (2^i, 2^(i+1)].
        assert_eq!(index(1.0, 0), -1);
        assert_eq!(index(1.5, 0), 0);
        assert_eq!(index(2.0, 0), 0);
        assert_eq!(index(3.0, 0), 1);
        // Scale -1: buckets twice as wide.
        assert_eq!(index(3.0, -1), 0);
        assert_eq!(index(5.0, -1), 1);
        // Scale 1: (2^(i/2), 2^((i+1)/2)].
        assert_eq!(index(2.0, 1), 1);
        assert_eq!(index(1.2, 1), 0);
        assert_eq!(index(1.5, 1), 1);
    }

    #[test]
    fn starts_fine_and_downscales_to_fit_max_size() {
        let mut h = Expo::new(4);
        h.observe(1.5);
        let p = h.point();
        assert_eq!((p.scale, p.positive.as_ref().unwrap().bucket_counts.len()), (20, 1));
        h.observe(0.0);
        h.observe(100.0);
        let p = h.point();
        // 1.5 .. 100 spans about 6 powers of two: four buckets need scale -1 (width 4x).
        assert_eq!(p.scale, -1);
        let b = p.positive.unwrap();
        assert_eq!((b.offset, b.bucket_counts.iter().sum::<u64>()), (index(1.5, -1), 2));
        assert!(b.bucket_counts.len() <= 4);
        assert_eq!(*b.bucket_counts.last().unwrap(), 1);
        assert_eq!((p.count, p.zero_count, p.min, p.max, p.sum), (3, 1, Some(0.0), Some(100.0), Some(101.5)));
    }

    #[test]
    fn values_below_the_offset_grow_the_buckets_downwards() {
        let mut h = Expo::new(160);
        h.observe(10.0);
        h.observe(9.0);
        let p = h.point();
        let b = p.positive.unwrap();
        assert_eq!(b.offset, index(9.0, p.scale));
        assert_eq!(b.bucket_counts.first(), Some(&1));
        assert_eq!(b.bucket_counts.last(), Some(&1));
    }
}
