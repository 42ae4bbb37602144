//! A GELF message: decompressed (gzip, zlib or plain, told apart by their first bytes as the
//! GELF library upstream uses does), decoded from JSON, and written back as the line upstream
//! forwards: Go's `json.Marshal` of the library's message struct (`version`, `host`,
//! `short_message`, `full_message` when not empty, `timestamp`, `level` when not 0, `facility`
//! when not empty) followed by the `_`-prefixed additional fields, sorted. Other fields are not
//! kept, as upstream does not keep them.

use std::collections::BTreeMap;
use std::io::Read;

use eval::json::{encode_go, json_float, json_string};
use eval::{Number, Value};

/// The most a message may decompress to.
pub const MAX_MESSAGE: usize = 32 << 20;

const SEVERITIES: [&str; 8] = ["emergency", "alert", "critical", "error", "warning", "notice", "informational", "debug"];

#[derive(Clone, Debug, Default)]
pub struct Message {
    pub version: String,
    pub host: String,
    pub short: String,
    pub full: String,
    /// Seconds since the epoch (0 when absent).
    pub timestamp: f64,
    pub level: i32,
    pub facility: String,
    /// The `_`-prefixed fields.
    pub extra: BTreeMap<String, Value>,
}

/// The payload decompressed: gzip (`1f 8b`), zlib (`78`, with a valid header checksum) or as is.
pub fn decompress(payload: &[u8]) -> Result<Vec<u8>, String> {
    let limit = MAX_MESSAGE as u64 + 1;
    let mut out = Vec::new();
    let read = if payload.starts_with(&[0x1f, 0x8b]) {
        flate2::read::GzDecoder::new(payload).take(limit).read_to_end(&mut out)
    } else if payload.len() >= 2 && payload[0] == 0x78 && (u16::from(payload[0]) * 256 + u16::from(payload[1])) % 31 == 0 {
        flate2::read::ZlibDecoder::new(payload).take(limit).read_to_end(&mut out)
    } else {
        return Ok(payload.to_vec());
    };
    read.map_err(|e| format!("decompressing: {e}"))?;
    if out.len() > MAX_MESSAGE {
        return Err(format!("the message decompresses to more than {MAX_MESSAGE} bytes"));
    }
    Ok(out)
}

fn text(key: &str, v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.to_string_lossy().into_owned()),
        _ => Err(format!("invalid type for field {key}")),
    }
}

fn number(key: &str, v: &Value) -> Result<f64, String> {
    match v {
        Value::Number(Number::Float(f)) => Ok(*f),
        Value::Number(Number::Int(i)) => Ok(*i as f64),
        Value::Number(Number::Uint(u)) => Ok(*u as f64),
        _ => Err(format!("invalid type for field {key}")),
    }
}

/// A datagram's (or reassembled message's) payload as a message.
pub fn decode(payload: &[u8]) -> Result<Message, String> {
    let json = decompress(payload)?;
    // Go's decoder reads the first value and ignores what follows; senders that end messages
    // with a NUL or a newline (the TCP framing) are read the same way here.
    let end = json.iter().rposition(|&b| !matches!(b, 0 | b' ' | b'\t' | b'\n' | b'\r')).map_or(0, |n| n + 1);
    let value = eval::json::decode(&json[..end], false).map_err(|e| format!("json.Unmarshal: {e}"))?;
    let Value::Object(fields) = value else {
        return Err("json.Unmarshal: json: cannot unmarshal non-object into Go value of type map[string]interface {}".into());
    };
    let mut m = Message::default();
    for (k, v) in fields.iter() {
        let k = k.as_str();
        if k.starts_with('_') {
            m.extra.insert(k.to_string(), v.clone());
            continue;
        }
        match k {
            "version" => m.version = text(k, v)?,
            "host" => m.host = text(k, v)?,
            "short_message" => m.short = text(k, v)?,
            "full_message" => m.full = text(k, v)?,
            "timestamp" => m.timestamp = number(k, v)?,
            // Go converts the float to int32, truncating.
            "level" => m.level = number(k, v)? as i32,
            "facility" => m.facility = text(k, v)?,
            _ => {}
        }
    }
    Ok(m)
}

impl Message {
    /// `__gelf_message_level`: the syslog severity name of `level`, empty outside 0-7 (a
    /// missing level is 0, `emergency`, as upstream reads it).
    pub fn level_name(&self) -> &'static str {
        usize::try_from(self.level).ok().and_then(|l| SEVERITIES.get(l)).copied().unwrap_or_default()
    }

    /// Nanoseconds since the epoch of `timestamp` (Go's `int64(seconds * 1e9)`).
    pub fn timestamp_ns(&self) -> i64 {
        (self.timestamp * 1e9) as i64
    }

    /// The line upstream forwards.
    pub fn to_line(&self) -> String {
        let mut out = String::from("{\"version\":");
        json_string(self.version.as_bytes(), &mut out);
        out.push_str(",\"host\":");
        json_string(self.host.as_bytes(), &mut out);
        out.push_str(",\"short_message\":");
        json_string(self.short.as_bytes(), &mut out);
        if !self.full.is_empty() {
            out.push_str(",\"full_message\":");
            json_string(self.full.as_bytes(), &mut out);
        }
        out.push_str(",\"timestamp\":");
        // JSON numbers are finite.
        out.push_str(&json_float(self.timestamp).unwrap_or_else(|_| "0".into()));
        if self.level != 0 {
            out.push_str(&format!(",\"level\":{}", self.level));
        }
        if !self.facility.is_empty() {
            out.push_str(",\"facility\":");
            json_string(self.facility.as_bytes(), &mut out);
        }
        for (k, v) in &self.extra {
            out.push(',');
            json_string(k.as_bytes(), &mut out);
            out.push(':');
            out.push_str(&encode_go(v).unwrap_or_else(|_| "null".into()));
        }
        out.push('}');
        out
    }
}
