//! The consistent hash ring that maps a routing key to a backend, placed as upstream places
//! it so that a mixed fleet sends a trace to the same backend: 36 000 positions (a circle in
//! hundredths of a degree), each endpoint at up to 100 of them (CRC-32 of the endpoint
//! followed by the point's index byte; a position already taken is skipped), and a key at
//! CRC-32 of its bytes, served by the first endpoint at or after it, wrapping around.

const POSITIONS: u32 = 36_000;
const POINTS_PER_ENDPOINT: usize = 100;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ring {
    /// (position, index into `endpoints`), sorted by position, positions unique.
    points: Vec<(u32, usize)>,
    endpoints: Vec<String>,
}

impl Ring {
    /// The ring of `endpoints`, taken in sorted order (as upstream's resolvers report them),
    /// so the same set always makes the same ring.
    pub fn new(endpoints: &[String]) -> Ring {
        let mut endpoints = endpoints.to_vec();
        endpoints.sort();
        endpoints.dedup();
        let mut taken = std::collections::HashSet::new();
        let mut points = Vec::with_capacity(endpoints.len() * POINTS_PER_ENDPOINT);
        for (i, e) in endpoints.iter().enumerate() {
            for n in 0..POINTS_PER_ENDPOINT {
                let mut h = crc32fast::Hasher::new();
                h.update(e.as_bytes());
                h.update(&[n as u8]);
                let pos = h.finalize() % POSITIONS;
                if taken.insert(pos) {
                    points.push((pos, i));
                }
            }
        }
        points.sort_unstable();
        Ring { points, endpoints }
    }

    pub fn endpoints(&self) -> &[String] {
        &self.endpoints
    }

    /// The index in [`Ring::endpoints`] of the endpoint serving `key`; `None` when there is
    /// no endpoint.
    pub fn index_for(&self, key: &[u8]) -> Option<usize> {
        let pos = crc32fast::hash(key) % POSITIONS;
        let at = self.points.partition_point(|(p, _)| *p < pos);
        self.points.get(at).or_else(|| self.points.first()).map(|(_, i)| *i)
    }

    /// The endpoint serving `key`; `None` when there is no endpoint.
    #[cfg(test)]
    pub fn endpoint_for(&self, key: &[u8]) -> Option<&str> {
        Some(&self.endpoints[self.index_for(key)?])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(names: &[&str]) -> Ring {
        Ring::new(&names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn a_key_goes_to_the_first_point_at_or_after_it_wrapping_around() {
        let r = ring(&["a:4317", "b:4317"]);
        for key in [&b"x"[..], b"trace-1", &[0u8; 16], &[0xff; 16]] {
            let pos = crc32fast::hash(key) % POSITIONS;
            let want = r.points.iter().find(|(p, _)| *p >= pos).or(r.points.first()).map(|(_, i)| r.endpoints[*i].as_str());
            assert_eq!(r.endpoint_for(key), want);
        }
        assert!(r.points.windows(2).all(|w| w[0].0 < w[1].0), "positions sorted and unique");
        assert!(r.points.len() > 190, "about 100 points per endpoint: {}", r.points.len());
    }

    #[test]
    fn adding_an_endpoint_moves_only_the_keys_it_takes_over() {
        let before = ring(&["a:4317", "b:4317"]);
        let after = ring(&["a:4317", "b:4317", "c:4317"]);
        let mut moved = 0;
        for k in 0u32..3000 {
            let key = k.to_be_bytes();
            let (x, y) = (before.endpoint_for(&key), after.endpoint_for(&key));
            if x != y {
                assert_eq!(y, Some("c:4317"), "a key only ever moves to the new endpoint");
                moved += 1;
            }
        }
        // Roughly a third of the keys move to the new endpoint.
        assert!((500..1500).contains(&moved), "{moved} of 3000 keys moved");
    }

    #[test]
    fn no_endpoint_serves_nothing() {
        assert_eq!(ring(&[]).endpoint_for(b"k"), None);
    }
}
