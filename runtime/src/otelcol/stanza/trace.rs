//! `trace_parser` and the parsers' `trace` sub-block: hex `trace_id` (16 bytes), `span_id`
//! (8 bytes) and `trace_flags` (1 byte) read from their `parse_from` fields (defaults
//! `attributes.trace_id`, `attributes.span_id`, `attributes.trace_flags`); a missing field is
//! skipped, a malformed one is an error.

use super::config::Conf;
use super::entry::{Entry, Field};
use super::{standalone, Apply, Operator};

pub struct TraceParser {
    trace_id: Field,
    span_id: Field,
    trace_flags: Field,
}

fn decode_hex(text: &str, bytes: usize, what: &str) -> Result<Vec<u8>, String> {
    let bad = || format!("{what} {text:?} is not {bytes} bytes of hex");
    if text.len() != bytes * 2 || !text.is_ascii() {
        return Err(bad());
    }
    (0..bytes).map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).map_err(|_| bad())).collect()
}

impl TraceParser {
    pub fn read(c: &mut Conf<'_>) -> TraceParser {
        let mut part = |key: &'static str, default: &str| c.nested(key, |sub| sub.field("parse_from")).flatten().unwrap_or_else(|| Field::attribute(default));
        TraceParser { trace_id: part("trace_id", "trace_id"), span_id: part("span_id", "span_id"), trace_flags: part("trace_flags", "trace_flags") }
    }
}

impl Apply for TraceParser {
    fn apply(&self, e: &mut Entry) -> Result<(), String> {
        let text = |f: &Field, e: &Entry| f.get(e).and_then(|v| v.to_text());
        if let Some(t) = text(&self.trace_id, e) {
            e.trace_id = decode_hex(&t, 16, "trace_id")?;
        }
        if let Some(t) = text(&self.span_id, e) {
            e.span_id = decode_hex(&t, 8, "span_id")?;
        }
        if let Some(t) = text(&self.trace_flags, e) {
            e.trace_flags = decode_hex(&t, 1, "trace_flags")?;
        }
        Ok(())
    }
}

pub fn build(c: &mut Conf<'_>) -> Box<dyn Operator> {
    standalone(TraceParser::read(c))
}
