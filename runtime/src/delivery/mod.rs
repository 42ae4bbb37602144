//! Building blocks for components that send data somewhere: the `sending_queue`
//! ([`queue`]), `retry_on_failure` with exponential backoff ([`retry`]) and the body
//! compressions collectors and remote-write endpoints speak ([`compression`]). They know
//! nothing of OTLP: a family plugs in its request type (`QueueItem`).

#[cfg(feature = "compression")]
pub mod compression;
pub mod queue;
pub mod retry;
pub mod storage;
