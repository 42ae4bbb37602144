//! The remote-write wire formats: 1.0 (`prometheus.WriteRequest`) and 2.0
//! (`io.prometheus.write.v2.Request`), Snappy block compressed.
//!
//! Sending encodes straight from [`Labels`] with a hand-written encoder ([`encode`]): no
//! intermediate message objects, so a request of 2 000 samples costs one buffer. Receiving
//! (and the tests) decode with the prost messages in [`proto`].

pub mod encode;
pub mod proto;

pub use encode::{encode_v1, encode_v2, SeriesBatch};

/// The `protobuf_message` names an endpoint accepts.
pub const MESSAGE_V1: &str = "prometheus.WriteRequest";
pub const MESSAGE_V2: &str = "io.prometheus.write.v2.Request";

/// Request headers per version (besides auth and the user's own).
pub const CONTENT_TYPE_V1: &str = "application/x-protobuf";
pub const CONTENT_TYPE_V2: &str = "application/x-protobuf;proto=io.prometheus.write.v2.Request";
pub const VERSION_HEADER: &str = "X-Prometheus-Remote-Write-Version";
pub const VERSION_V1: &str = "0.1.0";
pub const VERSION_V2: &str = "2.0.0";

/// Which wire message an endpoint speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Message {
    V1,
    V2,
}

impl Message {
    pub fn parse(name: &str) -> Option<Message> {
        match name {
            MESSAGE_V1 => Some(Message::V1),
            MESSAGE_V2 => Some(Message::V2),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Message::V1 => CONTENT_TYPE_V1,
            Message::V2 => CONTENT_TYPE_V2,
        }
    }

    pub fn version(self) -> &'static str {
        match self {
            Message::V1 => VERSION_V1,
            Message::V2 => VERSION_V2,
        }
    }
}

/// Snappy block format (not framed), as remote write requires.
pub fn compress(body: &[u8]) -> Vec<u8> {
    snap::raw::Encoder::new().compress_vec(body).unwrap_or_default()
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("snappy: {0}")]
    Snappy(String),
    #[error("protobuf: {0}")]
    Protobuf(String),
    #[error("{0}")]
    Invalid(String),
}

/// The body of a request, decompressed. `limit` caps the decompressed size.
pub fn decompress(body: &[u8], limit: usize) -> Result<Vec<u8>, DecodeError> {
    let len = snap::raw::decompress_len(body).map_err(|e| DecodeError::Snappy(e.to_string()))?;
    if len > limit {
        return Err(DecodeError::Snappy(format!("decompressed size {len} exceeds the limit of {limit} bytes")));
    }
    snap::raw::Decoder::new().decompress_vec(body).map_err(|e| DecodeError::Snappy(e.to_string()))
}
