//! The numbers of OpenTelemetry consistent probability sampling: 56-bit randomness values
//! and rejection thresholds (an item is kept when its randomness is at least the
//! threshold), their `rv`/`th` encodings, and the legacy FNV-1a hash of `hash_seed` mode.

/// 2^56: the threshold that rejects everything.
pub const MAX: u64 = 1 << 56;
const HEX_DIGITS: u32 = 14;
/// The hash-seed method keeps 14 bits of the hash.
const HASH_BUCKETS_LG2: u32 = 14;
const HASH_BUCKETS: u32 = 1 << HASH_BUCKETS_LG2;

/// A rejection threshold in `[0, 2^56]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Threshold(pub u64);

impl Threshold {
    pub const ALWAYS: Threshold = Threshold(0);
    pub const NEVER: Threshold = Threshold(MAX);

    pub fn should_sample(self, randomness: u64) -> bool {
        randomness >= self.0
    }

    pub fn probability(self) -> f64 {
        (MAX - self.0) as f64 / MAX as f64
    }

    /// The threshold of a probability with `precision` significant hex digits (more near
    /// 0 and 1, as upstream adds them there); `None` outside `[2^-56, 1]`.
    pub fn from_probability(p: f64, precision: u32) -> Option<Threshold> {
        let min = 1.0 / MAX as f64;
        if !(min..=1.0).contains(&p) {
            return None;
        }
        if p == 1.0 {
            return Some(Threshold::ALWAYS);
        }
        let precision = if precision == 0 { HEX_DIGITS } else { precision } as i32;
        let extra = |x: f64| frexp_exponent(x) / -4;
        let precision = (precision + extra(p)).max(precision + extra(1.0 - p)).min(HEX_DIGITS as i32) as u32;
        let mut t = MAX - (p * MAX as f64).round() as u64;
        let shift = 4 * (HEX_DIGITS - precision);
        if shift != 0 {
            t = ((t + (1 << (shift - 1))) >> shift) << shift;
        }
        Some(Threshold(t.min(MAX)))
    }

    /// The `th` encoding: hex digits without trailing zeros (`0` for always); `None` for never.
    pub fn tvalue(self) -> Option<String> {
        match self.0 {
            0 => Some("0".into()),
            MAX.. => None,
            t => Some(format!("{t:014x}").trim_end_matches('0').to_string()),
        }
    }

    pub fn parse_tvalue(s: &str) -> Option<Threshold> {
        if s.is_empty() || s.len() > HEX_DIGITS as usize || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let v = u64::from_str_radix(s, 16).ok()?;
        Some(Threshold(v << (4 * (HEX_DIGITS as usize - s.len()))))
    }
}

/// The binary exponent `e` of `x = f * 2^e` with `f` in `[0.5, 1)` (Go's `math.Frexp`).
fn frexp_exponent(x: f64) -> i32 {
    if x == 0.0 || !x.is_finite() {
        return 0;
    }
    let biased = ((x.to_bits() >> 52) & 0x7ff) as i32;
    if biased == 0 {
        // Subnormal: normalise first.
        return frexp_exponent(x * (1u64 << 54) as f64) - 54;
    }
    biased - 1022
}

/// The `rv` encoding: exactly 14 hex digits.
pub fn rvalue(randomness: u64) -> String {
    format!("{:014x}", randomness & (MAX - 1))
}

pub fn parse_rvalue(s: &str) -> Option<u64> {
    (s.len() == HEX_DIGITS as usize && s.bytes().all(|b| b.is_ascii_hexdigit())).then(|| u64::from_str_radix(s, 16).ok()).flatten()
}

/// The randomness of a trace ID: its last 7 bytes (W3C trace context level 2).
pub fn trace_id_randomness(trace_id: &[u8]) -> Option<u64> {
    if trace_id.len() != 16 || trace_id.iter().all(|b| *b == 0) {
        return None;
    }
    Some(trace_id[9..].iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
}

/// FNV-1a (32 bits) of the seed's four little-endian bytes followed by `data`.
pub fn fnv1a(seed: u32, data: &[u8]) -> u32 {
    seed.to_le_bytes().iter().chain(data).fold(0x811c_9dc5u32, |h, b| (h ^ u32::from(*b)).wrapping_mul(0x0100_0193))
}

/// The randomness the hash-seed method gives `data`: the 14 hash bits it compares, placed
/// so that the threshold comparison decides as the legacy `hash < rate` test did.
pub fn hash_randomness(data: &[u8], seed: u32) -> u64 {
    let h = fnv1a(seed, data);
    let hashed = u64::from(h & (HASH_BUCKETS - 1));
    let top = u64::from(HASH_BUCKETS) - 1 - hashed;
    let unused = u64::from(h >> (32 - HASH_BUCKETS_LG2));
    let mixed = unused ^ (unused << 10);
    (top << 42) | (mixed << 14) | hashed
}

/// The threshold of the hash-seed method for a percentage: upstream's 14-bit rate,
/// computed in 32-bit floating point and truncated.
pub fn hash_seed_threshold(percent: f32) -> Threshold {
    let rate = (percent.min(100.0) * (HASH_BUCKETS as f32 / 100.0)) as u32;
    if rate == 0 {
        return Threshold::NEVER;
    }
    Threshold(u64::from(HASH_BUCKETS - rate.min(HASH_BUCKETS)) << 42)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_reference_vectors() {
        // FNV-1a 32 of "" is the offset basis; with a zero seed four zero bytes come first.
        assert_eq!(fnv1a(0, b""), 0x4b95f515);
        let plain = b"a".iter().fold(0x811c_9dc5u32, |h, b| (h ^ u32::from(*b)).wrapping_mul(0x0100_0193));
        assert_eq!(plain, 0xe40c292c, "the published FNV-1a vector for \"a\"");
    }

    #[test]
    fn hash_randomness_decides_like_the_legacy_comparison() {
        for seed in [0u32, 22, 0xdead_beef] {
            for pct in [1.0f32, 25.0, 50.0, 99.0] {
                let th = hash_seed_threshold(pct);
                let rate = (pct * (16384.0 / 100.0)) as u32;
                for i in 0u32..500 {
                    let id = i.to_be_bytes().repeat(4);
                    let legacy = fnv1a(seed, &id) & 0x3fff < rate;
                    assert_eq!(th.should_sample(hash_randomness(&id, seed)), legacy, "seed {seed} pct {pct} id {i}");
                }
            }
        }
    }

    #[test]
    fn probability_thresholds_round_to_the_precision() {
        assert_eq!(Threshold::from_probability(1.0, 4), Some(Threshold::ALWAYS));
        assert_eq!(Threshold::from_probability(0.5, 4).and_then(Threshold::tvalue).as_deref(), Some("8"));
        assert_eq!(Threshold::from_probability(0.25, 4).and_then(Threshold::tvalue).as_deref(), Some("c"));
        // 1/3 at 4 digits: 0xaaab (rounded); at full precision the f64 product (as in Go) ends in c.
        assert_eq!(Threshold::from_probability(1.0 / 3.0, 4).and_then(Threshold::tvalue).as_deref(), Some("aaab"));
        assert_eq!(Threshold::from_probability(1.0 / 3.0, 14).and_then(Threshold::tvalue).as_deref(), Some("aaaaaaaaaaaaac"));
        // Near 0 more digits are kept: 0.1% needs leading f's plus four digits.
        assert_eq!(Threshold::from_probability(0.001, 4).and_then(Threshold::tvalue).as_deref(), Some("ffbe77"));
        assert_eq!(Threshold::from_probability(0.0, 4), None);
        assert_eq!(Threshold::from_probability(1.5, 4), None);
    }

    #[test]
    fn encodings_round_trip() {
        assert_eq!(Threshold::parse_tvalue("8"), Some(Threshold(1 << 55)));
        assert_eq!(Threshold::parse_tvalue("0"), Some(Threshold::ALWAYS));
        assert_eq!(Threshold::parse_tvalue("xyz"), None);
        assert_eq!(Threshold::parse_tvalue("123456789abcdef"), None);
        assert_eq!(Threshold::NEVER.tvalue(), None);
        assert_eq!(parse_rvalue(&rvalue(0x1234)), Some(0x1234));
        assert_eq!(parse_rvalue("123"), None);
        let mut id = [0u8; 16];
        id[9..].copy_from_slice(&[1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(trace_id_randomness(&id), Some(0x01020304050607));
        assert_eq!(trace_id_randomness(&[0; 16]), None);
    }
}
