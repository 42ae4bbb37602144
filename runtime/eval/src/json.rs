//! JSON: a decoder with Go's `encoding/json` error texts, Go's `json.Marshal` output (for
//! `encoding.to_json`), and the value JSON (`{"type": T, "value": V}`, see `value_json`) used by the HTTP API.

use crate::gofmt::{format_float, FloatFmt};
use crate::number::Number;
use crate::value::{Object, Str, Value};

/// Decodes JSON text into a value. All numbers become floats unless `ints` is set (then
/// integral numbers that fit become ints, as the JSONPath library does).
pub fn decode(src: &[u8], ints: bool) -> Result<Value, String> {
    let mut p = Parser { s: src, i: 0, ints, range_error: None, fields: Vec::new(), depth: 0 };
    p.ws();
    let v = p.value()?;
    p.ws();
    if p.i < p.s.len() {
        return Err(format!("invalid character {} after top-level value", quote_char(p.s[p.i])));
    }
    if let Some(e) = p.range_error {
        return Err(e);
    }
    Ok(v)
}

const EOF: &str = "unexpected end of JSON input";

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    ints: bool,
    range_error: Option<String>,
    fields: Vec<String>,
    /// Arrays and objects open around the current position.
    depth: usize,
}

/// Nesting beyond this is refused with Go's message (Go allows 10 000 levels; a value this
/// deep would overflow the stack of the threads that evaluate, compare and print it).
pub const MAX_DEPTH: usize = 500;

/// A byte as Go's JSON errors quote it (`'x'`).
fn quote_char(c: u8) -> String {
    crate::gofmt::quote_rune(char::from(c))
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn peek(&self) -> Result<u8, String> {
        self.s.get(self.i).copied().ok_or_else(|| EOF.to_string())
    }

    fn value(&mut self) -> Result<Value, String> {
        let c = self.peek()?;
        match c {
            b'{' | b'[' if self.depth >= MAX_DEPTH => Err("exceeded max depth".to_string()),
            b'{' => {
                self.depth += 1;
                let v = self.object();
                self.depth -= 1;
                v
            }
            b'[' => {
                self.depth += 1;
                let v = self.array();
                self.depth -= 1;
                v
            }
            b'"' => self.string().map(|b| Value::String(Str::from(b))),
            b'-' | b'0'..=b'9' => self.number(),
            b't' => self.literal("true", Value::Bool(true)),
            b'f' => self.literal("false", Value::Bool(false)),
            b'n' => self.literal("null", Value::Null),
            _ => Err(format!("invalid character {} looking for beginning of value", quote_char(c))),
        }
    }

    fn literal(&mut self, word: &str, v: Value) -> Result<Value, String> {
        for (k, &w) in word.as_bytes().iter().enumerate() {
            let c = self.peek()?;
            if c != w {
                return Err(format!("invalid character {} in literal {word} (expecting {})", quote_char(c), quote_char(w)));
            }
            let _ = k;
            self.i += 1;
        }
        Ok(v)
    }

    fn object(&mut self) -> Result<Value, String> {
        self.i += 1;
        let mut o = Object::new();
        self.ws();
        if self.peek()? == b'}' {
            self.i += 1;
            return Ok(Value::object(o));
        }
        loop {
            self.ws();
            let c = self.peek()?;
            if c != b'"' {
                return Err(format!("invalid character {} looking for beginning of object key string", quote_char(c)));
            }
            let key = String::from_utf8_lossy(&self.string()?).into_owned();
            self.ws();
            let c = self.peek()?;
            if c != b':' {
                return Err(format!("invalid character {} after object key", quote_char(c)));
            }
            self.i += 1;
            self.ws();
            self.fields.push(key.clone());
            let v = self.value()?;
            self.fields.pop();
            o.insert(key, v);
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Ok(Value::object(o));
                }
                c => return Err(format!("invalid character {} after object key:value pair", quote_char(c))),
            }
        }
    }

    fn array(&mut self) -> Result<Value, String> {
        self.i += 1;
        let mut items = Vec::new();
        self.ws();
        if self.peek()? == b']' {
            self.i += 1;
            return Ok(Value::array(items));
        }
        loop {
            self.ws();
            items.push(self.value()?);
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    return Ok(Value::array(items));
                }
                c => return Err(format!("invalid character {} after array element", quote_char(c))),
            }
        }
    }

    fn string(&mut self) -> Result<Vec<u8>, String> {
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let c = self.peek()?;
            self.i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let e = self.peek()?;
                    self.i += 1;
                    match e {
                        b'"' | b'\\' | b'/' => out.push(e),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let mut cp = self.hex4()?;
                            if (0xd800..0xdc00).contains(&cp) && self.s.get(self.i..self.i + 2) == Some(b"\\u") {
                                let save = self.i;
                                self.i += 2;
                                let lo = self.hex4()?;
                                if (0xdc00..0xe000).contains(&lo) {
                                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                                } else {
                                    self.i = save;
                                }
                            }
                            let ch = char::from_u32(cp).unwrap_or('\u{fffd}');
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        }
                        _ => return Err(format!("invalid character {} in string escape code", quote_char(e))),
                    }
                }
                c if c < 0x20 => return Err(format!("invalid character {} in string literal", quote_char(c))),
                c => out.push(c),
            }
        }
        // Invalid UTF-8 becomes U+FFFD, as Go's decoder does.
        Ok(String::from_utf8_lossy(&out).into_owned().into_bytes())
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let mut v = 0;
        for _ in 0..4 {
            let c = self.peek()?;
            let d = (c as char).to_digit(16).ok_or_else(|| format!("invalid character {} in \\u hexadecimal character escape", quote_char(c)))?;
            v = v * 16 + d;
            self.i += 1;
        }
        Ok(v)
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while self.i < self.s.len() && self.s[self.i].is_ascii_digit() {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> Result<Value, String> {
        let start = self.i;
        if self.s[self.i] == b'-' {
            self.i += 1;
            let c = self.peek()?;
            if !c.is_ascii_digit() {
                return Err(format!("invalid character {} in numeric literal", quote_char(c)));
            }
        }
        if self.s[self.i] == b'0' {
            self.i += 1;
        } else {
            self.digits();
        }
        let mut integral = true;
        if self.s.get(self.i) == Some(&b'.') {
            integral = false;
            self.i += 1;
            let c = self.peek()?;
            if !c.is_ascii_digit() {
                return Err(format!("invalid character {} after decimal point in numeric literal", quote_char(c)));
            }
            self.digits();
        }
        if matches!(self.s.get(self.i), Some(b'e' | b'E')) {
            integral = false;
            self.i += 1;
            if matches!(self.s.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            let c = self.peek()?;
            if !c.is_ascii_digit() {
                return Err(format!("invalid character {} in exponent of numeric literal", quote_char(c)));
            }
            self.digits();
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("0");
        if self.ints && integral {
            if let Ok(i) = text.parse::<i64>() {
                return Ok(Value::int(i));
            }
        }
        let f: f64 = text.parse().unwrap_or(f64::INFINITY);
        if f.is_infinite() {
            if self.range_error.is_none() {
                let target = if self.fields.is_empty() { "Go value".to_string() } else { format!("Go struct field .{}", self.fields.join(".")) };
                self.range_error = Some(format!("json: cannot unmarshal number {text} into {target} of type float64"));
            }
            return Ok(Value::Null);
        }
        Ok(Value::float(f))
    }
}

// ---- Go json.Marshal ----

/// Go's `json.Marshal` of a decoded-to-any value: compact, keys sorted, HTML-safe escaping.
/// Secrets are written as their text, as upstream does.
pub fn encode_go(v: &Value) -> Result<String, String> {
    let mut out = String::new();
    encode_go_into(v, &mut out)?;
    Ok(out)
}

fn encode_go_into(v: &Value, out: &mut String) -> Result<(), String> {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(Number::Int(i)) => out.push_str(&i.to_string()),
        Value::Number(Number::Uint(u)) => out.push_str(&u.to_string()),
        Value::Number(Number::Float(f)) => out.push_str(&json_float(*f)?),
        Value::String(s) => json_string(s.as_bytes(), out),
        Value::Bytes(b) => {
            out.push('"');
            out.push_str(&crate::stdlib::base64_encode(b, false));
            out.push('"');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, it) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                encode_go_into(it, out)?;
            }
            out.push(']');
        }
        Value::Object(o) => {
            out.push('{');
            for (i, (k, v)) in o.entries().into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_string(k.as_bytes(), out);
                out.push(':');
                encode_go_into(v, out)?;
            }
            out.push('}');
        }
        Value::Function(f) => return Err(format!("json: unsupported type: {}", f.go_type())),
        Value::Secret(s) => json_string(s.expose().as_bytes(), out),
        Value::OptionalSecret(os) => {
            out.push_str(&format!("{{\"IsSecret\":{},\"Value\":", os.is_secret));
            json_string(os.expose().as_bytes(), out);
            out.push('}');
        }
        Value::Capsule(c) => match c.0.to_object() {
            Some(o) => encode_go_into(&Value::object(o), out)?,
            None => out.push_str("{}"),
        },
    }
    Ok(())
}

/// Go's JSON float text: plain decimal for 1e-6 ≤ |x| < 1e21, else a minimal exponent.
pub fn json_float(f: f64) -> Result<String, String> {
    if f.is_nan() || f.is_infinite() {
        let s = if f.is_nan() {
            "NaN"
        } else if f > 0.0 {
            "+Inf"
        } else {
            "-Inf"
        };
        return Err(format!("json: unsupported value: {s}"));
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = format_float(f, FloatFmt::E, None);
        // Go trims a leading zero of a two-digit negative exponent: 1e-07 → 1e-7.
        let b = s.as_bytes();
        let n = b.len();
        if n >= 4 && b[n - 4] == b'e' && b[n - 3] == b'-' && b[n - 2] == b'0' {
            return Ok(format!("{}{}", &s[..n - 2], &s[n - 1..]));
        }
        return Ok(s);
    }
    Ok(format_float(f, FloatFmt::F, None))
}

/// A Go JSON string with HTML escaping; invalid UTF-8 becomes `\ufffd`.
pub fn json_string(b: &[u8], out: &mut String) {
    out.push('"');
    for c in String::from_utf8_lossy(b).chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

// ---- value JSON ----

/// Options for [`value_json`].
#[derive(Clone, Copy, Debug, Default)]
pub struct JsonOptions {
    /// Writes secrets' text instead of `(secret)`. Off unless a caller explicitly asks.
    pub unredact_secrets: bool,
}

/// The `{"type": T, "value": V}` encoding the HTTP API uses for arguments and exports.
pub fn value_json(v: &Value, opts: JsonOptions) -> Result<String, String> {
    let mut out = String::new();
    value_json_into(v, opts, &mut out)?;
    Ok(out)
}

fn typed(out: &mut String, ty: &str) {
    out.push_str("{\"type\":\"");
    out.push_str(ty);
    out.push_str("\",\"value\":");
}

fn value_json_into(v: &Value, opts: JsonOptions, out: &mut String) -> Result<(), String> {
    match v {
        Value::Null => out.push_str("{\"type\":\"null\",\"value\":null"),
        Value::Number(n) => {
            typed(out, "number");
            out.push_str(&json_float(n.as_f64())?);
        }
        Value::String(s) => {
            typed(out, "string");
            json_string(s.as_bytes(), out);
        }
        Value::Bool(b) => {
            typed(out, "bool");
            out.push_str(if *b { "true" } else { "false" });
        }
        Value::Array(_) | Value::Bytes(_) => {
            typed(out, "array");
            out.push('[');
            for (i, it) in v.items().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                value_json_into(&it, opts, out)?;
            }
            out.push(']');
        }
        Value::Object(o) => object_json(o, opts, out)?,
        Value::Function(_) => {
            typed(out, "function");
            out.push_str("\"function\"");
        }
        Value::Secret(s) => {
            typed(out, "capsule");
            if opts.unredact_secrets {
                json_string(syntax::quote::go_quote_bytes(s.expose().as_bytes()).as_bytes(), out);
            } else {
                out.push_str("\"(secret)\"");
            }
        }
        Value::OptionalSecret(os) => {
            typed(out, "capsule");
            if os.is_secret && !opts.unredact_secrets {
                out.push_str("\"(secret)\"");
            } else {
                json_string(syntax::quote::go_quote_bytes(os.expose().as_bytes()).as_bytes(), out);
            }
        }
        Value::Capsule(c) => {
            if let Some(o) = c.0.to_object() {
                return object_json(&o, opts, out);
            }
            typed(out, "capsule");
            match c.0.display().filter(|s| !s.is_empty()) {
                Some(s) => json_string(s.as_bytes(), out),
                None => json_string(format!("capsule({})", syntax::quote::go_quote(c.type_name())).as_bytes(), out),
            }
        }
    }
    out.push('}');
    Ok(())
}

fn object_json(o: &Object, opts: JsonOptions, out: &mut String) -> Result<(), String> {
    typed(out, "object");
    out.push('[');
    for (i, (k, v)) in o.entries().into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"key\":");
        json_string(k.as_bytes(), out);
        out.push_str(",\"value\":");
        value_json_into(v, opts, out)?;
        out.push('}');
    }
    out.push(']');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_errors() {
        assert_eq!(decode(b"", false).unwrap_err(), "unexpected end of JSON input");
        assert_eq!(decode(b"{", false).unwrap_err(), "unexpected end of JSON input");
        assert_eq!(decode(b"1 2", false).unwrap_err(), "invalid character '2' after top-level value");
        assert_eq!(decode(b"x", false).unwrap_err(), "invalid character 'x' looking for beginning of value");
        assert_eq!(decode(br#"{"a":1e400}"#, false).unwrap_err(), "json: cannot unmarshal number 1e400 into Go struct field .a of type float64");
    }

    #[test]
    fn deep_nesting_is_an_error_even_on_a_small_stack() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        // A tokio worker's stack is 2 MiB; half of that must do.
        let result = std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(move || (decode(deep(MAX_DEPTH).as_bytes(), false).is_ok(), decode(deep(100_000).as_bytes(), false)))
            .unwrap()
            .join()
            .expect("no stack overflow");
        assert!(result.0, "{MAX_DEPTH} levels are accepted");
        assert_eq!(result.1.unwrap_err(), "exceeded max depth");
        assert_eq!(decode(format!("{}1{}", "{\"a\":".repeat(MAX_DEPTH + 1), "}".repeat(MAX_DEPTH + 1)).as_bytes(), false).unwrap_err(), "exceeded max depth");
    }

    #[test]
    fn floats() {
        assert_eq!(json_float(1e-7).unwrap(), "1e-7");
        assert_eq!(json_float(1e21).unwrap(), "1e+21");
        assert_eq!(json_float(100.0).unwrap(), "100");
        assert_eq!(json_float(-0.0).unwrap(), "-0");
        assert_eq!(json_float(9223372036854775807.0).unwrap(), "9223372036854776000");
    }
}
