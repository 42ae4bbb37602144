//! The bytes of an encoded export request, as one buffer or as a run of buffers that, written
//! one after the other, are the request. Protobuf concatenates repeated fields, so a batch of
//! requests is the run of their buffers: batching keeps the received buffers instead of copying
//! them, and the OTLP/gRPC exporter writes them to the connection as they are. A consumer that
//! needs one contiguous buffer gets a joined copy, which it owns: a copy kept beside the run
//! would double a batch's memory for as long as it waits in a queue.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};

/// Parts smaller than this are copied together rather than kept apart: a batch of tiny
/// requests would otherwise become thousands of tiny writes.
const MIN_SEGMENT: usize = 4096;

#[derive(Clone, Debug, Default)]
pub struct Encoded(Repr);

#[derive(Clone, Debug)]
enum Repr {
    One(Bytes),
    /// Shared, so clones (fan-out) do not copy the list.
    Many(Arc<Run>),
}

impl Default for Repr {
    fn default() -> Self {
        Repr::One(Bytes::new())
    }
}

#[derive(Debug)]
struct Run {
    parts: Vec<Bytes>,
    len: usize,
}

impl From<Bytes> for Encoded {
    fn from(b: Bytes) -> Self {
        Encoded(Repr::One(b))
    }
}

impl Encoded {
    /// The total length in bytes.
    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::One(b) => b.len(),
            Repr::Many(r) => r.len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The buffers, in order.
    pub fn segments(&self) -> &[Bytes] {
        match &self.0 {
            Repr::One(b) => std::slice::from_ref(b),
            Repr::Many(r) => &r.parts,
        }
    }

    /// One contiguous buffer: the buffer itself, or a run copied into one.
    pub fn contiguous(&self) -> Bytes {
        match &self.0 {
            Repr::One(b) => b.clone(),
            Repr::Many(r) => {
                let mut out = BytesMut::with_capacity(r.len);
                for p in &r.parts {
                    out.extend_from_slice(p);
                }
                out.freeze()
            }
        }
    }

    /// The parts one after the other. Buffers of at least [`MIN_SEGMENT`] bytes are kept as
    /// they are; smaller ones between them are copied together.
    pub fn concat<'a>(parts: impl IntoIterator<Item = &'a Encoded>) -> Encoded {
        let mut out: Vec<Bytes> = Vec::new();
        let mut small = BytesMut::new();
        let mut len = 0;
        for seg in parts.into_iter().flat_map(Encoded::segments) {
            len += seg.len();
            if seg.len() >= MIN_SEGMENT {
                if !small.is_empty() {
                    out.push(small.split().freeze());
                }
                out.push(seg.clone());
            } else {
                small.extend_from_slice(seg);
            }
        }
        if !small.is_empty() {
            out.push(small.freeze());
        }
        match out.len() {
            0 => Encoded::default(),
            1 => Encoded(Repr::One(out.swap_remove(0))),
            _ => Encoded(Repr::Many(Arc::new(Run { parts: out, len }))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(len: usize, byte: u8) -> Encoded {
        Encoded::from(Bytes::from(vec![byte; len]))
    }

    #[test]
    fn large_parts_are_kept_small_ones_copied_together() {
        let (a, b, c, d) = (filled(MIN_SEGMENT, 1), filled(10, 2), filled(20, 3), filled(MIN_SEGMENT + 1, 4));
        let all = Encoded::concat([&a, &b, &c, &d]);
        assert_eq!(all.len(), 2 * MIN_SEGMENT + 31);
        let segs = all.segments();
        assert_eq!(segs.len(), 3);
        assert_eq!(segs[0].as_ptr(), a.segments()[0].as_ptr(), "not copied");
        assert_eq!(segs[1].as_ref(), [vec![2; 10], vec![3; 20]].concat());
        assert_eq!(segs[2].as_ptr(), d.segments()[0].as_ptr(), "not copied");
        let joined = all.contiguous();
        assert_eq!(joined.len(), all.len());
        assert_eq!(joined.as_ref(), segs.concat());
        // A single buffer is handed out as it is.
        assert_eq!(a.contiguous().as_ptr(), a.segments()[0].as_ptr());
        // A run of runs is flattened.
        assert_eq!(Encoded::concat([&all, &a]).segments().len(), 4);
    }

    #[test]
    fn one_part_and_no_parts() {
        let a = filled(5, 7);
        let one = Encoded::concat([&a]);
        assert_eq!((one.segments().len(), one.contiguous().as_ref()), (1, &[7u8; 5][..]));
        let none = Encoded::concat([]);
        assert!(none.is_empty());
        assert_eq!(none.segments().len(), 1);
    }
}
