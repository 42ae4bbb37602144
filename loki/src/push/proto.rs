//! `logproto.PushRequest` (Loki's `pkg/push/push.proto`), encoded and decoded with prost.

use prost::Message;

use super::{PushError, WireEntry, WireStream};

#[derive(Clone, PartialEq, prost::Message)]
struct PushRequest {
    #[prost(message, repeated, tag = "1")]
    streams: Vec<StreamAdapter>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct StreamAdapter {
    #[prost(string, tag = "1")]
    labels: String,
    #[prost(message, repeated, tag = "2")]
    entries: Vec<EntryAdapter>,
    #[prost(uint64, tag = "3")]
    hash: u64,
}

#[derive(Clone, PartialEq, prost::Message)]
struct EntryAdapter {
    #[prost(message, optional, tag = "1")]
    timestamp: Option<Timestamp>,
    #[prost(string, tag = "2")]
    line: String,
    #[prost(message, repeated, tag = "3")]
    structured_metadata: Vec<LabelPairAdapter>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct LabelPairAdapter {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(string, tag = "2")]
    value: String,
}

/// `google.protobuf.Timestamp`.
#[derive(Clone, PartialEq, prost::Message)]
struct Timestamp {
    #[prost(int64, tag = "1")]
    seconds: i64,
    #[prost(int32, tag = "2")]
    nanos: i32,
}

fn timestamp(ns: i64) -> Timestamp {
    Timestamp { seconds: ns.div_euclid(1_000_000_000), nanos: ns.rem_euclid(1_000_000_000) as i32 }
}

fn nanos(t: Option<&Timestamp>) -> i64 {
    t.map_or(0, |t| t.seconds.saturating_mul(1_000_000_000).saturating_add(i64::from(t.nanos)))
}

/// The snappy-compressed request body `loki.write` sends.
pub fn encode_request(streams: &[WireStream]) -> Vec<u8> {
    let req = PushRequest {
        streams: streams
            .iter()
            .map(|s| StreamAdapter {
                labels: s.labels.clone(),
                entries: s
                    .entries
                    .iter()
                    .map(|e| EntryAdapter {
                        timestamp: Some(timestamp(e.timestamp_ns)),
                        line: e.line.clone(),
                        structured_metadata: e.structured_metadata.iter().map(|(n, v)| LabelPairAdapter { name: n.clone(), value: v.clone() }).collect(),
                    })
                    .collect(),
                hash: 0,
            })
            .collect(),
    };
    let raw = req.encode_to_vec();
    snap::raw::Encoder::new().compress_vec(&raw).unwrap_or_default()
}

/// A snappy-compressed (block format) protobuf request body.
pub fn decode_request(body: &[u8]) -> Result<Vec<WireStream>, PushError> {
    let raw = snap::raw::Decoder::new().decompress_vec(body).map_err(|e| PushError::Snappy(e.to_string()))?;
    let req = PushRequest::decode(raw.as_slice()).map_err(|e| PushError::Protobuf(e.to_string()))?;
    Ok(req
        .streams
        .into_iter()
        .map(|s| WireStream {
            labels: s.labels,
            entries: s
                .entries
                .into_iter()
                .map(|e| WireEntry {
                    timestamp_ns: nanos(e.timestamp.as_ref()),
                    line: e.line,
                    structured_metadata: e.structured_metadata.into_iter().map(|p| (p.name, p.value)).collect(),
                })
                .collect(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_with_timestamps_before_and_after_the_epoch() {
        let streams = vec![
            WireStream {
                labels: r#"{job="a"}"#.into(),
                entries: vec![
                    WireEntry { timestamp_ns: 1_700_000_000_123_456_789, line: "hello".into(), structured_metadata: vec![("trace_id".into(), "abc".into())] },
                    WireEntry { timestamp_ns: -1_500_000_000, line: "before".into(), structured_metadata: vec![] },
                ],
            },
            WireStream { labels: r#"{job="b"}"#.into(), entries: vec![] },
        ];
        assert_eq!(decode_request(&encode_request(&streams)), Ok(streams));
    }

    #[test]
    fn bad_bodies_are_errors() {
        assert!(matches!(decode_request(b"\xff\xff\xff\xff\xff"), Err(PushError::Snappy(_))));
        let not_proto = snap::raw::Encoder::new().compress_vec(b"\x0a\xff\xff\xff\xff\x0f").unwrap_or_default();
        assert!(matches!(decode_request(&not_proto), Err(PushError::Protobuf(_))));
    }
}
