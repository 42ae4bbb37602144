//! A stream's labels as text: `{a="b", c="d"}`, names sorted, values quoted as Go's `%q` does
//! (Prometheus' `LabelSet.String()`, which Loki uses as a stream's key), and the reverse: a
//! PromQL-style selector with `=` matchers only, as the push API's `labels` field holds.

use prom::Labels;

/// Why label-set text did not parse; `at` is a byte offset into it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid stream labels at byte {at}: {message}")]
pub struct LabelsTextError {
    pub at: usize,
    pub message: String,
}

/// `{a="b", c="d"}` from pairs in any order (sorted here).
pub fn format_labels<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let mut pairs: Vec<(&str, &str)> = pairs.collect();
    pairs.sort();
    let mut out = String::from("{");
    for (i, (n, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(n);
        out.push('=');
        out.push_str(&syntax::quote::go_quote(v));
    }
    out.push('}');
    out
}

/// Labels from `{a="b", c='d'}` (values in double quotes, single quotes or backticks, with
/// Go's escapes); an empty value drops the label, as everywhere else.
pub fn parse_labels(text: &str) -> Result<Labels, LabelsTextError> {
    let mut p = Parser { s: text.as_bytes(), at: 0 };
    p.space();
    p.expect(b'{')?;
    let mut pairs: Vec<(String, String)> = Vec::new();
    loop {
        p.space();
        if p.eat(b'}') {
            break;
        }
        let name = p.name()?;
        p.space();
        p.expect(b'=')?;
        if matches!(p.peek(), Some(b'~' | b'=')) {
            return Err(p.error("only `=` matchers are allowed in stream labels"));
        }
        p.space();
        let value = p.string()?;
        if pairs.iter().any(|(n, _)| *n == name) {
            return Err(p.error(&format!("duplicate label name {name:?}")));
        }
        pairs.push((name, value));
        p.space();
        if p.eat(b',') {
            continue;
        }
        p.space();
        p.expect(b'}')?;
        break;
    }
    p.space();
    if p.at < p.s.len() {
        return Err(p.error("unexpected text after `}`"));
    }
    Ok(Labels::new(pairs))
}

struct Parser<'a> {
    s: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn error(&self, message: &str) -> LabelsTextError {
        LabelsTextError { at: self.at, message: message.to_string() }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }

    fn space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, b: u8) -> Result<(), LabelsTextError> {
        if self.eat(b) {
            Ok(())
        } else {
            Err(self.error(&format!("expected `{}`", b as char)))
        }
    }

    fn name(&mut self) -> Result<String, LabelsTextError> {
        let start = self.at;
        while matches!(self.peek(), Some(b'a'..=b'z' | b'A'..=b'Z' | b'_')) || (self.at > start && self.peek().is_some_and(|b| b.is_ascii_digit())) {
            self.at += 1;
        }
        if self.at == start {
            return Err(self.error("expected a label name"));
        }
        Ok(String::from_utf8_lossy(&self.s[start..self.at]).into_owned())
    }

    fn string(&mut self) -> Result<String, LabelsTextError> {
        let quote = match self.peek() {
            Some(q @ (b'"' | b'\'' | b'`')) => q,
            _ => return Err(self.error("expected a quoted label value")),
        };
        self.at += 1;
        let mut bytes = Vec::new();
        loop {
            let Some(b) = self.peek() else { return Err(self.error("unterminated label value")) };
            self.at += 1;
            match b {
                _ if b == quote => break,
                b'\\' if quote != b'`' => self.escape(quote, &mut bytes)?,
                b'\n' if quote != b'`' => return Err(self.error("newline in a quoted label value")),
                _ => bytes.push(b),
            }
        }
        String::from_utf8(bytes).map_err(|_| self.error("label value is not valid UTF-8"))
    }

    fn escape(&mut self, quote: u8, out: &mut Vec<u8>) -> Result<(), LabelsTextError> {
        let Some(b) = self.peek() else { return Err(self.error("unterminated escape")) };
        self.at += 1;
        let simple = match b {
            b'a' => Some(7),
            b'b' => Some(8),
            b'f' => Some(12),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            b'v' => Some(11),
            b'\\' => Some(b'\\'),
            _ if b == quote => Some(b),
            _ => None,
        };
        if let Some(c) = simple {
            out.push(c);
            return Ok(());
        }
        match b {
            b'x' => {
                let v = self.hex(2)?;
                out.push(v as u8);
            }
            b'u' | b'U' => {
                let v = self.hex(if b == b'u' { 4 } else { 8 })?;
                let c = char::from_u32(v).ok_or_else(|| self.error("escape is not a Unicode scalar value"))?;
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
            b'0'..=b'7' => {
                let mut v = u32::from(b - b'0');
                for _ in 0..2 {
                    match self.peek() {
                        Some(d @ b'0'..=b'7') => {
                            self.at += 1;
                            v = v * 8 + u32::from(d - b'0');
                        }
                        _ => return Err(self.error("an octal escape has three digits")),
                    }
                }
                let byte = u8::try_from(v).map_err(|_| self.error("octal escape above \\377"))?;
                out.push(byte);
            }
            _ => return Err(self.error(&format!("unknown escape `\\{}`", b as char))),
        }
        Ok(())
    }

    fn hex(&mut self, digits: usize) -> Result<u32, LabelsTextError> {
        let mut v = 0u32;
        for _ in 0..digits {
            let d = self.peek().and_then(|b| (b as char).to_digit(16)).ok_or_else(|| self.error("expected a hexadecimal digit"))?;
            self.at += 1;
            v = v * 16 + d;
        }
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_go_label_set_string() {
        assert_eq!(format_labels([("job", "a"), ("env", "p\"q\n\u{1}é")].into_iter()), "{env=\"p\\\"q\\n\\x01é\", job=\"a\"}");
        assert_eq!(format_labels(std::iter::empty()), "{}");
    }

    #[test]
    fn parses_selectors_with_go_escapes() {
        let l = parse_labels(r#" { job = "a" , env='p\'q', path=`C:\x`, u="\u00e9\x41\101" } "#).expect("parses");
        assert_eq!(l, Labels::new([("job", "a"), ("env", "p'q"), ("path", "C:\\x"), ("u", "éAA")]));
        assert_eq!(parse_labels("{}"), Ok(Labels::empty()));
        assert_eq!(parse_labels(r#"{a="1",}"#), Ok(Labels::new([("a", "1")])));
    }

    #[test]
    fn formatted_text_parses_back() {
        let pairs = [("a", "x\"\\\n\t\u{7f}\u{200b}z"), ("b", "ü")];
        assert_eq!(parse_labels(&format_labels(pairs.into_iter())), Ok(Labels::new(pairs)));
    }

    #[test]
    fn bad_text_says_where() {
        let e = |t: &str| parse_labels(t).expect_err("refused").to_string();
        assert_eq!(e(r#"job="a""#), "invalid stream labels at byte 0: expected `{`");
        assert_eq!(e(r#"{job=~"a"}"#), "invalid stream labels at byte 5: only `=` matchers are allowed in stream labels");
        assert_eq!(e(r#"{job="a"#), "invalid stream labels at byte 7: unterminated label value");
        assert_eq!(e(r#"{a="1", a="2"}"#), "invalid stream labels at byte 13: duplicate label name \"a\"");
        assert_eq!(e(r#"{a="1"} x"#), "invalid stream labels at byte 8: unexpected text after `}`");
    }
}
