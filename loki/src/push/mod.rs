//! The Loki push API's wire formats: the snappy-compressed protobuf `PushRequest` that
//! `loki.write` sends and `loki.source.api` accepts, the JSON form `loki.source.api` also
//! accepts, and the label-set text both use for a stream's labels (`{a="b", c="d"}`).

mod json;
mod labels_text;
mod proto;

pub use json::decode_json;
pub use labels_text::{format_labels, parse_labels, LabelsTextError};
pub use proto::{decode_request, encode_request};

/// A stream as the wire carries it: the label-set text and its entries.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WireStream {
    pub labels: String,
    pub entries: Vec<WireEntry>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct WireEntry {
    /// Nanoseconds since the Unix epoch.
    pub timestamp_ns: i64,
    pub line: String,
    pub structured_metadata: Vec<(String, String)>,
}

/// Why a push body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    #[error("malformed snappy block: {0}")]
    Snappy(String),
    #[error("malformed protobuf push request: {0}")]
    Protobuf(String),
    #[error("malformed JSON push request: {0}")]
    Json(String),
}
