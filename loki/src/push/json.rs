//! The JSON push body: `{"streams":[{"stream":{"label":"value"},"values":[["<unix ns>","line",{"k":"v"}?]]}]}`.

use serde_json::Value;

use super::{format_labels, PushError, WireEntry, WireStream};

fn err(msg: impl Into<String>) -> PushError {
    PushError::Json(msg.into())
}

/// Streams of a JSON push body; the stream's label map becomes label-set text, as the
/// protobuf form carries it.
pub fn decode_json(body: &[u8]) -> Result<Vec<WireStream>, PushError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| err(e.to_string()))?;
    let streams = v.get("streams").and_then(Value::as_array).ok_or_else(|| err("no \"streams\" array"))?;
    streams.iter().enumerate().map(|(i, s)| stream(i, s)).collect()
}

fn stream(i: usize, s: &Value) -> Result<WireStream, PushError> {
    let labels = match s.get("stream") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| match v {
                Value::String(v) => Ok((k.clone(), v.clone())),
                other => Err(err(format!("streams[{i}].stream.{k}: a label value must be a string, not {other}"))),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => return Err(err(format!("streams[{i}].stream must be an object, not {other}"))),
    };
    let values = s.get("values").and_then(Value::as_array).ok_or_else(|| err(format!("streams[{i}]: no \"values\" array")))?;
    let entries = values.iter().enumerate().map(|(j, v)| entry(i, j, v)).collect::<Result<_, _>>()?;
    Ok(WireStream { labels: format_labels(labels.iter().map(|(k, v): &(String, String)| (k.as_str(), v.as_str()))), entries })
}

fn entry(i: usize, j: usize, v: &Value) -> Result<WireEntry, PushError> {
    let at = || format!("streams[{i}].values[{j}]");
    let items = v.as_array().ok_or_else(|| err(format!("{}: an entry is an array [\"<unix ns>\", \"line\"]", at())))?;
    if !(2..=3).contains(&items.len()) {
        return Err(err(format!("{}: an entry has 2 or 3 elements, not {}", at(), items.len())));
    }
    let timestamp_ns = match &items[0] {
        Value::String(s) => s.parse::<i64>().map_err(|_| err(format!("{}: timestamp {s:?} is not a number of nanoseconds", at())))?,
        other => return Err(err(format!("{}: the timestamp must be a string, not {other}", at()))),
    };
    let line = items[1].as_str().ok_or_else(|| err(format!("{}: the line must be a string", at())))?.to_string();
    let structured_metadata = match items.get(2) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())).ok_or_else(|| err(format!("{}: structured metadata {k:?} must be a string", at()))))
            .collect::<Result<_, _>>()?,
        Some(other) => return Err(err(format!("{}: structured metadata must be an object, not {other}", at()))),
    };
    Ok(WireEntry { timestamp_ns, line, structured_metadata })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_values_and_structured_metadata() {
        let body = br#"{"streams":[{"stream":{"job":"a","env":"p"},"values":[["1700000000000000001","one"],["2","two",{"trace_id":"x"}]]}]}"#;
        let got = decode_json(body).expect("decodes");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].labels, r#"{env="p", job="a"}"#);
        assert_eq!(got[0].entries[0], WireEntry { timestamp_ns: 1_700_000_000_000_000_001, line: "one".into(), structured_metadata: vec![] });
        assert_eq!(got[0].entries[1].structured_metadata, vec![("trace_id".to_string(), "x".to_string())]);
    }

    #[test]
    fn malformed_bodies_say_where() {
        let e = |b: &str| decode_json(b.as_bytes()).expect_err("refused").to_string();
        assert!(e("{").starts_with("malformed JSON push request: "));
        assert_eq!(
            e(r#"{"streams":[{"stream":{},"values":[[1,"x"]]}]}"#),
            "malformed JSON push request: streams[0].values[0]: the timestamp must be a string, not 1"
        );
        assert_eq!(
            e(r#"{"streams":[{"stream":{},"values":[["x","y"]]}]}"#),
            "malformed JSON push request: streams[0].values[0]: timestamp \"x\" is not a number of nanoseconds"
        );
        assert_eq!(
            e(r#"{"streams":[{"stream":{"a":1},"values":[]}]}"#),
            "malformed JSON push request: streams[0].stream.a: a label value must be a string, not 1"
        );
    }
}
