//! Reassembling chunked GELF messages. A chunk is `1e 0f`, an 8-byte message ID, its sequence
//! number and the sequence count (at most 128), then its part of the message. Parts may come in
//! any order and more than once (the first copy counts); a message whose parts have not all
//! arrived 5 seconds after its first one is dropped, as the GELF specification says. What is held
//! is bounded: past `MAX_PENDING_BYTES` or `MAX_PENDING` messages the oldest incomplete ones go.

use std::collections::HashMap;
use std::time::{Duration, Instant};

pub const MAGIC: [u8; 2] = [0x1e, 0x0f];
const HEADER: usize = 12;
pub const MAX_CHUNKS: usize = 128;
pub const TIMEOUT: Duration = Duration::from_secs(5);
const MAX_PENDING_BYTES: usize = 64 << 20;
const MAX_PENDING: usize = 4096;

struct Pending {
    started: Instant,
    parts: Vec<Option<Vec<u8>>>,
    received: usize,
    bytes: usize,
}

/// What one chunk did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The last missing part: the whole message.
    Complete(Vec<u8>),
    /// More parts to come (or a duplicate).
    Incomplete,
    /// A chunk that cannot be used, and why.
    Invalid(String),
}

#[derive(Default)]
pub struct Assembler {
    pending: HashMap<[u8; 8], Pending>,
    bytes: usize,
    /// Incomplete messages dropped (expired or evicted) since the last `take_dropped`.
    dropped: u64,
}

impl Assembler {
    pub fn is_chunk(datagram: &[u8]) -> bool {
        datagram.starts_with(&MAGIC)
    }

    /// Adds one chunk (a datagram starting with the magic bytes) received at `now`.
    pub fn add(&mut self, chunk: &[u8], now: Instant) -> Outcome {
        self.expire(now);
        if chunk.len() <= HEADER {
            return Outcome::Invalid(format!("chunked message size must be greater than {HEADER}"));
        }
        let mut id = [0u8; 8];
        id.copy_from_slice(&chunk[2..10]);
        let (seq, count) = (usize::from(chunk[10]), usize::from(chunk[11]));
        if count == 0 || count > MAX_CHUNKS {
            return Outcome::Invalid(format!("message must be split into 1 to {MAX_CHUNKS} chunks, got {count}"));
        }
        if seq >= count {
            return Outcome::Invalid(format!("chunk sequence number {seq} is not below the sequence count {count}"));
        }
        let body = &chunk[HEADER..];
        let p = self.pending.entry(id).or_insert_with(|| Pending { started: now, parts: vec![None; count], received: 0, bytes: 0 });
        if p.parts.len() != count {
            return Outcome::Invalid(format!("chunk sequence count {count} differs from the message's {}", p.parts.len()));
        }
        if p.parts[seq].is_some() {
            return Outcome::Incomplete;
        }
        p.parts[seq] = Some(body.to_vec());
        p.received += 1;
        p.bytes += body.len();
        self.bytes += body.len();
        if p.received == count {
            let p = self.pending.remove(&id).expect("present");
            self.bytes -= p.bytes;
            return Outcome::Complete(p.parts.into_iter().flatten().flatten().collect());
        }
        self.evict(id);
        Outcome::Incomplete
    }

    /// Drops incomplete messages older than [`TIMEOUT`].
    pub fn expire(&mut self, now: Instant) {
        let before = self.pending.len();
        let mut freed = 0;
        self.pending.retain(|_, p| {
            let keep = now.saturating_duration_since(p.started) <= TIMEOUT;
            if !keep {
                freed += p.bytes;
            }
            keep
        });
        self.bytes -= freed;
        self.dropped += (before - self.pending.len()) as u64;
    }

    /// Keeps within the bounds by dropping the oldest messages other than `keep`.
    fn evict(&mut self, keep: [u8; 8]) {
        while self.bytes > MAX_PENDING_BYTES || self.pending.len() > MAX_PENDING {
            let oldest = self.pending.iter().filter(|(id, _)| **id != keep).min_by_key(|(_, p)| p.started).map(|(id, _)| *id);
            let Some(id) = oldest else { break };
            if let Some(p) = self.pending.remove(&id) {
                self.bytes -= p.bytes;
                self.dropped += 1;
            }
        }
    }

    /// How many incomplete messages were dropped since the last call.
    pub fn take_dropped(&mut self) -> u64 {
        std::mem::take(&mut self.dropped)
    }

    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    pub fn pending_bytes(&self) -> usize {
        self.bytes
    }
}
