//! OTLP exponential histograms as Prometheus native histograms. The schemas are the same
//! numbers (OTLP scale = native schema); scales above 8 are merged down to 8, scales below -4
//! have no native form. OTLP bucket `i` covers `(base^i, base^(i+1)]`, native bucket `i`
//! `(base^(i-1), base^i]`, hence the `+ 1` on every index.

use opentelemetry_proto::tonic::metrics::v1::exponential_histogram_data_point::Buckets;
use opentelemetry_proto::tonic::metrics::v1::ExponentialHistogramDataPoint;
use prom::sample::{BucketSpan, Histogram, ResetHint, STALE_NAN};

/// Upstream's zero threshold: the data point's own is not used.
pub const ZERO_THRESHOLD: f64 = 1e-128;
const NO_RECORDED_VALUE: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NativeError {
    #[error("cannot convert exponential to native histogram. Scale must be >= -4, was {0}")]
    Scale(i32),
}

/// A run of buckets becomes spans; gaps of up to two empty buckets are filled with zeros
/// rather than starting a new span (as client_golang lays buckets out).
fn layout(buckets: Option<&Buckets>, scale_down: i32) -> (Vec<BucketSpan>, Vec<f64>) {
    let Some(b) = buckets else { return (Vec::new(), Vec::new()) };
    // Merged counts by native index, in index order (i64: extreme offsets must not overflow).
    let mut merged: Vec<(i64, f64)> = Vec::new();
    for (i, &count) in b.bucket_counts.iter().enumerate() {
        let idx = ((i64::from(b.offset) + i as i64) >> scale_down.min(63)) + 1;
        match merged.last_mut() {
            Some((last, c)) if *last == idx => *c += count as f64,
            _ => merged.push((idx, count as f64)),
        }
    }
    merged.retain(|(_, c)| *c != 0.0);
    let (mut spans, mut counts) = (Vec::<BucketSpan>::new(), Vec::new());
    let mut next = 0i64;
    let clamp = |x: i64| x.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
    for (idx, c) in merged {
        match spans.last_mut() {
            Some(span) if idx - next <= 2 => {
                counts.resize(counts.len() + (idx - next) as usize, 0.0);
                span.length += (idx - next) as u32 + 1;
            }
            Some(_) => spans.push(BucketSpan { offset: clamp(idx - next), length: 1 }),
            None => spans.push(BucketSpan { offset: clamp(idx), length: 1 }),
        }
        counts.push(c);
        next = idx + 1;
    }
    (spans, counts)
}

pub fn to_native(p: &ExponentialHistogramDataPoint) -> Result<Histogram, NativeError> {
    if p.scale < -4 {
        return Err(NativeError::Scale(p.scale));
    }
    let (schema, scale_down) = if p.scale > 8 { (8, p.scale - 8) } else { (p.scale, 0) };
    let (positive_spans, positive) = layout(p.positive.as_ref(), scale_down);
    let (negative_spans, negative) = layout(p.negative.as_ref(), scale_down);
    let stale = p.flags & NO_RECORDED_VALUE != 0;
    Ok(Histogram {
        schema,
        zero_threshold: ZERO_THRESHOLD,
        zero_count: p.zero_count as f64,
        count: if stale { STALE_NAN } else { p.count as f64 },
        sum: if stale { STALE_NAN } else { p.sum.unwrap_or(0.0) },
        positive_spans,
        positive,
        negative_spans,
        negative,
        is_float: false,
        reset_hint: ResetHint::Unknown,
        custom_values: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(scale: i32, offset: i32, counts: &[u64]) -> ExponentialHistogramDataPoint {
        ExponentialHistogramDataPoint {
            scale,
            count: counts.iter().sum::<u64>() + 2,
            sum: Some(12.5),
            zero_count: 2,
            positive: Some(Buckets { offset, bucket_counts: counts.to_vec() }),
            ..Default::default()
        }
    }

    #[test]
    fn buckets_shift_by_one_and_small_gaps_are_filled() {
        let h = to_native(&point(0, 0, &[1, 0, 2, 0, 0, 0, 3])).expect("converts");
        assert_eq!(h.schema, 0);
        assert_eq!((h.count, h.sum, h.zero_count, h.zero_threshold), (8.0, 12.5, 2.0, ZERO_THRESHOLD));
        // Indexes 1 and 3 share a span (one zero between), index 7 is three away: a new span.
        assert_eq!(h.positive_spans, [BucketSpan { offset: 1, length: 3 }, BucketSpan { offset: 3, length: 1 }]);
        assert_eq!(h.positive, [1.0, 0.0, 2.0, 3.0]);
        assert!(h.negative_spans.is_empty());
    }

    #[test]
    fn scales_above_eight_merge_down_and_below_minus_four_fail() {
        // Scale 9 → 8: OTLP buckets 0,1 → native 1; 2,3 → 2.
        let h = to_native(&point(9, 0, &[1, 2, 3, 4])).expect("converts");
        assert_eq!(h.schema, 8);
        assert_eq!(h.positive_spans, [BucketSpan { offset: 1, length: 2 }]);
        assert_eq!(h.positive, [3.0, 7.0]);
        assert_eq!(to_native(&point(-5, 0, &[1])), Err(NativeError::Scale(-5)));
        assert_eq!(NativeError::Scale(-5).to_string(), "cannot convert exponential to native histogram. Scale must be >= -4, was -5");
    }

    #[test]
    fn extreme_offsets_and_scales_do_not_overflow() {
        let mut p = point(8, i32::MAX, &[1, 1]);
        assert_eq!(to_native(&p).expect("converts").positive.len(), 2);
        p.scale = i32::MAX;
        p.positive = Some(Buckets { offset: i32::MIN, bucket_counts: vec![1, 1] });
        assert_eq!(to_native(&p).expect("converts").positive, [2.0]);
    }

    #[test]
    fn a_point_without_recorded_value_is_a_stale_histogram() {
        let mut p = point(0, -2, &[1]);
        p.flags = 1;
        let h = to_native(&p).expect("converts");
        assert!(prom::sample::is_stale(h.count) && prom::sample::is_stale(h.sum));
        assert_eq!(h.positive_spans, [BucketSpan { offset: -1, length: 1 }]);
    }
}
